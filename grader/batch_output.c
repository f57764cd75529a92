/*
 * batch_output.c - the gradebook a run writes, checked before anyone is
 * graded: -o must be a file we can create, a gradebook holds one
 * assignment, and grading some students (--student) never silently drops
 * the others' rows: it refuses, or with --merge carries them over.
 */
#include <errno.h>
#include <stdio.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch_int.h"
#include "grader/batch.h"
#include "grader/gradebook.h"

static int cmp_item(const void *key, const void *item)
{
	return strcmp(key, ((const struct batch_item *)item)->student_id);
}

/* Whether `student` is planned in this run (the plan is sorted by id). */
static int planned(const struct batch_plan *plan, const char *student)
{
	return bsearch(student, plan->items, plan->n, sizeof(*plan->items), cmp_item) != NULL;
}

/* -o names a file in an existing, writable folder. */
static int check_path(const char *output, struct gr_err *err)
{
	struct stat st;
	char *copy = strdup(output), *dir;
	int rc = 0;

	if (!copy)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	if (stat(output, &st) == 0 && S_ISDIR(st.st_mode))
		rc = gr_err_set(err, GR_EINVAL,
				"cannot write '%s': it is a folder (-o names the "
				"gradebook file)",
				output);
	dir = dirname(copy);
	if (!rc && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		rc =
		    gr_err_set(err, GR_ENOTFOUND, "cannot write '%s': no folder '%s'", output, dir);
	else if (!rc && access(dir, W_OK) < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", output);
	free(copy);
	return rc;
}

int batch_output_check(struct gb_gradebook **keep, const struct batch_opts *o,
		       const char *assignment, const struct batch_plan *plan, struct gr_err *err)
{
	struct gb_gradebook *old = NULL;
	size_t others = 0;
	int rc;

	*keep = NULL;
	rc = check_path(o->output, err);
	if (rc || access(o->output, F_OK) < 0)
		return rc;
	rc = gb_read_file(&old, o->output, err);
	if (rc) {
		char why[GR_ERR_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		return gr_err_set(err, rc, "will not replace '%s': %s", o->output, why);
	}
	for (size_t i = 0; i < old->n_assignments; i++)
		if (strcmp(old->assignments[i]->name, assignment)) {
			rc = gr_err_set(err, GR_EINVAL,
					"'%s' is the gradebook of assignment '%s', not '%s': one "
					"gradebook per assignment (choose another -o)",
					o->output, old->assignments[i]->name, assignment);
			goto done;
		}
	if (o->students)
		for (size_t i = 0; i < old->n_submissions; i++)
			others += !planned(plan, old->submissions[i]->student_id);
	if (others && !o->merge) {
		rc = gr_err_set(err, GR_EINVAL,
				"'%s' holds the results of %zu other student%s, which grading only "
				"--student would drop: add --merge to keep them",
				o->output, others, others > 1 ? "s" : "");
		goto done;
	}
	if (others) {
		*keep = old;
		old = NULL;
	}
done:
	gb_free(old);
	return rc;
}

int batch_output_keep_students(struct gb_gradebook *header, const struct gb_gradebook *keep,
			       const struct batch_plan *plan, struct gr_err *err)
{
	for (size_t i = 0; keep && i < keep->n_submissions; i++) {
		const char *id = keep->submissions[i]->student_id;
		const struct gb_student *was = gb_find_student(keep, id);
		struct gb_student *s;

		if (planned(plan, id) || gb_find_student(header, id))
			continue;
		if (gb_add_student(header, &s, id) ||
		    (was && (gb_set_str(&s->first_name, was->first_name) ||
			     gb_set_str(&s->last_name, was->last_name) ||
			     gb_set_str(&s->email, was->email) ||
			     gb_set_str(&s->lms_user_id, was->lms_user_id))))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	return 0;
}

int batch_output_add_kept(struct gb_writer *w, const struct gb_gradebook *keep,
			  const struct batch_plan *plan, size_t *kept, struct gr_err *err)
{
	int rc = 0;

	*kept = 0;
	for (size_t i = 0; !rc && keep && i < keep->n_submissions; i++) {
		if (planned(plan, keep->submissions[i]->student_id))
			continue;
		rc = gb_writer_add(w, keep->submissions[i], err);
		if (rc) {
			char why[GR_ERR_MAX];

			snprintf(why, sizeof(why), "%s", err->msg);
			rc = gr_err_set(err, rc, "cannot keep the result of '%s' (--merge): %s",
					keep->submissions[i]->student_id, why);
		} else {
			(*kept)++;
		}
	}
	return rc;
}
