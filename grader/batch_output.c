/*
 * batch_output.c - the gradebook a run writes, checked before anyone is
 * graded: -o must be a file we can create, a gradebook holds one
 * assignment, and grading some students (--student) never silently drops
 * the others' rows: it refuses, or with --merge carries them over. The old
 * gradebook is a gb_reader (header and index): the rows kept are streamed
 * from it into the new one, so memory does not grow with the course.
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

int batch_output_check(struct gb_reader **keep, const struct batch_opts *o, const char *assignment,
		       const struct batch_plan *plan, struct gr_err *err)
{
	struct gb_reader *old = NULL;
	const struct gb_gradebook *h;
	size_t others = 0;
	int rc;

	*keep = NULL;
	rc = check_path(o->output, err);
	if (rc || access(o->output, F_OK) < 0)
		return rc;
	rc = gb_reader_open(&old, o->output, err);
	if (rc) {
		char why[GR_ERR_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		return gr_err_set(err, rc, "will not replace '%s': %s", o->output, why);
	}
	h = gb_reader_header(old);
	for (size_t i = 0; i < h->n_assignments; i++)
		if (strcmp(h->assignments[i]->name, assignment)) {
			rc = gr_err_set(err, GR_EINVAL,
					"'%s' is the gradebook of assignment '%s', not '%s': one "
					"gradebook per assignment (choose another -o)",
					o->output, h->assignments[i]->name, assignment);
			goto done;
		}
	if (o->students)
		for (size_t i = 0; i < gb_reader_count(old); i++) {
			size_t a, st;

			gb_reader_keys(old, i, &a, &st);
			others += !planned(plan, h->students[st]->id);
		}
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
	gb_reader_free(old);
	return rc;
}

/* The student of the old gradebook's submission i. */
static const struct gb_student *student_of(const struct gb_reader *keep, size_t i)
{
	size_t a, st;

	gb_reader_keys(keep, i, &a, &st);
	return gb_reader_header(keep)->students[st];
}

int batch_output_keep_students(struct gb_gradebook *header, const struct gb_reader *keep,
			       const struct batch_plan *plan, struct gr_err *err)
{
	for (size_t i = 0; keep && i < gb_reader_count(keep); i++) {
		const struct gb_student *was = student_of(keep, i);
		struct gb_student *s;

		if (planned(plan, was->id) || gb_find_student(header, was->id))
			continue;
		if (gb_add_student(header, &s, was->id) ||
		    gb_set_str(&s->first_name, was->first_name) ||
		    gb_set_str(&s->last_name, was->last_name) ||
		    gb_set_str(&s->email, was->email) ||
		    gb_set_str(&s->lms_user_id, was->lms_user_id))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	return 0;
}

int batch_output_add_kept(struct gb_writer *w, struct gb_reader *keep,
			  const struct batch_plan *plan, size_t *kept, struct gr_err *err)
{
	int rc = 0;

	*kept = 0;
	for (size_t i = 0; !rc && keep && i < gb_reader_count(keep); i++) {
		const char *id = student_of(keep, i)->id;
		struct gb_submission *sub = NULL;

		if (planned(plan, id))
			continue;
		rc = gb_reader_get(keep, i, &sub, err);
		if (!rc)
			rc = gb_writer_add(w, sub, err);
		gb_submission_free(sub);
		if (rc) {
			char why[GR_ERR_MAX];

			snprintf(why, sizeof(why), "%s", err->msg);
			rc = gr_err_set(err, rc, "cannot keep the result of '%s' (--merge): %s", id,
					why);
		} else {
			(*kept)++;
		}
	}
	return rc;
}
