/*
 * gradebook_merge.c - put the partial gradebooks of a sharded run together.
 *
 * Every part is opened as a gb_reader (checked whole, its submissions
 * indexed, none held), so memory is the parts' headers and indexes whatever
 * the course size. Students and submissions are then written in the order a
 * plain `grade` run writes them, by student id, each submission read again
 * from its part and streamed through gb_writer: the result depends on the
 * parts alone, and merging it again gives the same file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradebook_int.h"

/* One submission of one part, by its keys. */
struct item {
	const char *student, *assignment; /* point into the part's header */
	uint32_t part, k;
};

struct merge {
	struct gb_reader **parts;
	const char *const *paths;
	size_t n;
	struct item *items;
	size_t n_items;
	const volatile sig_atomic_t *stop;
	struct gr_err *err;
};

/* Whether a signal asked the merge to stop (then GR_ELIMIT, nothing written). */
static int stopped(const struct merge *m)
{
	return m->stop && *m->stop &&
	       gr_err_set(m->err, GR_ELIMIT, "stopped: nothing written to the output") < 0;
}

static int cmp_item(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int c = strcmp(a->student, b->student);

	if (!c)
		c = strcmp(a->assignment, b->assignment);
	return c ? c : (a->part > b->part) - (a->part < b->part);
}

/* One student of one part; the first part naming a student gives its fields. */
struct who {
	const struct gb_student *s;
	size_t part, i;
};

static int cmp_who(const void *pa, const void *pb)
{
	const struct who *a = pa, *b = pb;
	int c = strcmp(a->s->id, b->s->id);

	if (!c)
		c = a->part != b->part ? (a->part > b->part) - (a->part < b->part)
				       : (a->i > b->i) - (a->i < b->i);
	return c;
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* Part i holds the assignments of part 0 (the same rubric) and comes from the same grader. */
static int same_rubric(struct merge *m, size_t i)
{
	const struct gb_gradebook *a = gb_reader_header(m->parts[0]);
	const struct gb_gradebook *b = gb_reader_header(m->parts[i]);
	bool same = a->n_assignments == b->n_assignments;

	for (size_t k = 0; same && k < a->n_assignments; k++) {
		json_t *ja = gb_assignment_to_json(a->assignments[k]);
		json_t *jb = gb_assignment_to_json(b->assignments[k]);

		if (!ja || !jb) {
			json_decref(ja);
			json_decref(jb);
			return OOM(m->err);
		}
		same = json_equal(ja, jb);
		json_decref(ja);
		json_decref(jb);
	}
	if (!same)
		return gr_err_set(m->err, GR_EINVAL,
				  "'%s': assignments differ from '%s' (another rubric?)",
				  m->paths[i], m->paths[0]);
	if (strcmp(str_or_empty(a->generator), str_or_empty(b->generator)))
		return gr_err_set(m->err, GR_EINVAL, "'%s': made by '%s', '%s' by '%s'",
				  m->paths[i], str_or_empty(b->generator), m->paths[0],
				  str_or_empty(a->generator));
	return 0;
}

/* Every submission of every part, sorted by (student, assignment); an overlap is refused. */
static int collect(struct merge *m)
{
	size_t total = 0, at = 0;

	for (size_t i = 0; i < m->n; i++)
		total += gb_reader_count(m->parts[i]);
	m->items = calloc(total + 1, sizeof(*m->items));
	if (!m->items)
		return OOM(m->err);
	for (size_t i = 0; i < m->n; i++) {
		const struct gb_gradebook *h = gb_reader_header(m->parts[i]);

		for (size_t k = 0; k < gb_reader_count(m->parts[i]); k++) {
			size_t a, s;

			gb_reader_keys(m->parts[i], k, &a, &s);
			m->items[at++] = (struct item){.student = h->students[s]->id,
						       .assignment = h->assignments[a]->name,
						       .part = (uint32_t)i,
						       .k = (uint32_t)k};
		}
	}
	m->n_items = total;
	qsort(m->items, total, sizeof(*m->items), cmp_item);
	for (size_t k = 1; k < total; k++) {
		const struct item *p = &m->items[k - 1], *q = &m->items[k];

		if (!strcmp(p->student, q->student) && !strcmp(p->assignment, q->assignment))
			return gr_err_set(m->err, GR_EINVAL,
					  "student '%s' is in both '%s' and '%s'", q->student,
					  m->paths[p->part], m->paths[q->part]);
	}
	return 0;
}

static bool merged_has(const struct merge *m, const char *student, const char *assignment)
{
	struct item key = {.student = student, .assignment = assignment, .part = 0};
	size_t lo = 0, hi = m->n_items;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct item *it = &m->items[mid];
		int c = strcmp(key.student, it->student);

		if (!c)
			c = strcmp(key.assignment, it->assignment);
		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* Name on `log` every expected student without a submission in any part. */
static size_t report_missing(const struct merge *m, const char *const *expected, FILE *log)
{
	const struct gb_gradebook *h = gb_reader_header(m->parts[0]);
	size_t missing = 0;

	for (size_t k = 0; expected && k < h->n_assignments; k++)
		for (size_t i = 0; expected[i]; i++) {
			if (merged_has(m, expected[i], h->assignments[k]->name))
				continue;
			missing++;
			if (log)
				fprintf(log, "in no part: '%s' (%s)\n", expected[i],
					h->assignments[k]->name);
		}
	return missing;
}

static int copy_student(struct gb_gradebook *gb, const struct gb_student *from)
{
	struct gb_student *s;

	if (gb_add_student(gb, &s, from->id) || gb_set_str(&s->first_name, from->first_name) ||
	    gb_set_str(&s->last_name, from->last_name) || gb_set_str(&s->email, from->email) ||
	    gb_set_str(&s->lms_user_id, from->lms_user_id))
		return GR_ENOMEM;
	return 0;
}

/* The merged header: part 0's assignments, every part's students sorted by id. */
static int make_header(struct gb_gradebook **out, const struct merge *m, struct gr_err *err)
{
	const struct gb_gradebook *h0 = gb_reader_header(m->parts[0]);
	struct gb_gradebook *gb = NULL;
	struct who *all = NULL;
	size_t n = 0, at = 0;
	char where[64];
	int rc = 0;

	for (size_t i = 0; i < m->n; i++)
		n += gb_reader_header(m->parts[i])->n_students;
	all = calloc(n + 1, sizeof(*all));
	if (!all || gb_new(&gb) < 0 || gb_set_str(&gb->generator, h0->generator) < 0) {
		rc = OOM(err);
		goto done;
	}
	for (size_t k = 0; k < h0->n_assignments && !rc; k++) {
		json_t *j = gb_assignment_to_json(h0->assignments[k]);

		snprintf(where, sizeof(where), "assignments[%zu]", k);
		rc = j ? gb_assignment_from_json(gb, j, where, err) : OOM(err);
		json_decref(j);
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct gb_gradebook *h = gb_reader_header(m->parts[i]);

		for (size_t k = 0; k < h->n_students; k++)
			all[at++] = (struct who){.s = h->students[k], .part = i, .i = k};
	}
	qsort(all, n, sizeof(*all), cmp_who);
	for (size_t k = 0; k < n && !rc; k++)
		if ((k == 0 || strcmp(all[k - 1].s->id, all[k].s->id)) &&
		    copy_student(gb, all[k].s) < 0)
			rc = OOM(err);
	if (rc)
		goto done;
	*out = gb;
	gb = NULL;
done:
	free(all);
	gb_free(gb);
	return rc;
}

/* Stream every submission, in the items' order, from its part into the output. */
static int write_merged(struct merge *m, const char *out, const struct gb_gradebook *header)
{
	struct gb_writer *w = NULL;
	int rc = gb_writer_open(&w, out, header, m->err);

	for (size_t k = 0; k < m->n_items && !rc; k++) {
		struct gb_submission *sub = NULL;

		if (stopped(m)) {
			rc = GR_ELIMIT;
			break;
		}
		rc = gb_reader_get(m->parts[m->items[k].part], m->items[k].k, &sub, m->err);
		if (!rc)
			rc = gb_writer_add(w, sub, m->err);
		gb_submission_free(sub);
	}
	if (!rc && stopped(m))
		rc = GR_ELIMIT;
	if (!rc)
		rc = gb_writer_commit(w, m->err);
	gb_writer_free(w);
	return rc;
}

int gb_merge(const char *out, const char *const *paths, size_t n, const char *const *expected,
	     int allow_missing, FILE *log, size_t *n_missing, const volatile sig_atomic_t *stop,
	     struct gr_err *err)
{
	struct merge m = {.paths = paths, .n = n, .stop = stop, .err = err};
	struct gb_gradebook *header = NULL;
	size_t missing = 0;
	int rc = 0;

	if (n == 0)
		return gr_err_set(err, GR_EINVAL, "no part to merge");
	m.parts = calloc(n, sizeof(*m.parts));
	if (!m.parts)
		return OOM(err);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = stopped(&m) ? GR_ELIMIT : gb_reader_open(&m.parts[i], paths[i], err);
		if (!rc && i > 0)
			rc = same_rubric(&m, i);
	}
	if (!rc)
		rc = collect(&m);
	if (rc)
		goto done;
	missing = report_missing(&m, expected, log);
	if (n_missing)
		*n_missing = missing;
	if (missing && !allow_missing) {
		rc = gr_err_set(err, GR_ENOTFOUND, "%zu student%s in no part: not written '%s'",
				missing, missing == 1 ? "" : "s", out);
		goto done;
	}
	rc = make_header(&header, &m, err);
	if (!rc)
		rc = write_merged(&m, out, header);
done:
	for (size_t i = 0; i < n; i++)
		gb_reader_free(m.parts[i]);
	free(m.parts);
	free(m.items);
	gb_free(header);
	return rc;
}
