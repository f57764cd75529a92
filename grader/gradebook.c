/* gradebook.c - the gradebook model: allocation, builders, sums, lookups. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradebook_int.h"

int gb_set_str(char **field, const char *value)
{
	char *copy = NULL;

	if (value) {
		copy = strdup(value);
		if (!copy)
			return GR_ENOMEM;
	}
	free(*field);
	*field = copy;
	return 0;
}

/* Grow a pointer array by one slot; the caller stores the element. */
static int grow(void *arrayp, size_t n)
{
	void ***array = arrayp;
	void **bigger = realloc(*array, (n + 1) * sizeof(void *));

	if (!bigger)
		return GR_ENOMEM;
	*array = bigger;
	return 0;
}

static void cell_free(struct gb_cell *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->cell_type);
	free(c->checksum);
	free(c->source);
	free(c);
}

static void notebook_free(struct gb_notebook *nb)
{
	if (!nb)
		return;
	for (size_t i = 0; i < nb->n_cells; i++)
		cell_free(nb->cells[i]);
	free(nb->cells);
	free(nb->name);
	free(nb->kernelspec);
	free(nb);
}

static void assignment_free(struct gb_assignment *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_notebooks; i++)
		notebook_free(a->notebooks[i]);
	free(a->notebooks);
	free(a->name);
	free(a->duedate);
	free(a);
}

static void student_free(struct gb_student *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->first_name);
	free(s->last_name);
	free(s->email);
	free(s->lms_user_id);
	free(s);
}

static void grade_free(struct gb_grade *g)
{
	if (!g)
		return;
	free(g->grade_id);
	free(g->output.stdout_text);
	free(g->output.stderr_text);
	free(g->output.traceback);
	free(g->auto_comment);
	free(g);
}

static void comment_free(struct gb_comment *c)
{
	if (!c)
		return;
	free(c->grade_id);
	free(c->auto_comment);
	free(c->manual_comment);
	free(c);
}

static void nbresult_free(struct gb_nbresult *nb)
{
	if (!nb)
		return;
	for (size_t i = 0; i < nb->n_grades; i++)
		grade_free(nb->grades[i]);
	for (size_t i = 0; i < nb->n_comments; i++)
		comment_free(nb->comments[i]);
	free(nb->grades);
	free(nb->comments);
	free(nb->name);
	free(nb->message);
	free(nb);
}

void gb_submission_free(struct gb_submission *sub)
{
	if (!sub)
		return;
	for (size_t i = 0; i < sub->n_notebooks; i++)
		nbresult_free(sub->notebooks[i]);
	for (size_t i = 0; i < sub->n_flags; i++)
		free(sub->flags[i]);
	free(sub->notebooks);
	free(sub->flags);
	for (size_t i = 0; i < sub->n_flag_reasons; i++) {
		free(sub->flag_reasons[i].flag);
		free(sub->flag_reasons[i].reason);
	}
	free(sub->flag_reasons);
	free(sub->assignment);
	free(sub->student_id);
	free(sub->timestamp);
	free(sub->source.kind);
	free(sub->source.location);
	free(sub->source.commit);
	free(sub->source.checksum);
	free(sub->message);
	free(sub);
}

/*
 * Open-addressing hash sets of pointers, keyed by student id or by
 * (assignment, student id): lookups stay O(1) over 10 000 submissions.
 */
struct gb_index {
	size_t cap, n; /* cap is a power of two, kept at most half full */
	void **slots;
};

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0x1f) * 1099511628211ULL; /* separator between key parts */
}

static uint64_t key_hash(const char *a, const char *b)
{
	uint64_t h = hash_str(14695981039346656037ULL, a);

	return b ? hash_str(h, b) : h;
}

/* The key parts of an indexed element: a student (id) or a submission. */
static void keys(const void *el, bool is_sub, const char **a, const char **b)
{
	if (is_sub) {
		*a = ((const struct gb_submission *)el)->assignment;
		*b = ((const struct gb_submission *)el)->student_id;
	} else {
		*a = ((const struct gb_student *)el)->id;
		*b = NULL;
	}
}

static void *index_get(const struct gb_index *ix, bool is_sub, const char *a, const char *b)
{
	size_t i = (size_t)key_hash(a, b) & (ix->cap - 1);

	for (; ix->slots[i]; i = (i + 1) & (ix->cap - 1)) {
		const char *ka, *kb;

		keys(ix->slots[i], is_sub, &ka, &kb);
		if (!strcmp(ka, a) && (!b || !strcmp(kb, b)))
			return ix->slots[i];
	}
	return NULL;
}

static void index_put_slot(struct gb_index *ix, bool is_sub, void *el)
{
	const char *a, *b;
	size_t i;

	keys(el, is_sub, &a, &b);
	i = (size_t)key_hash(a, b) & (ix->cap - 1);
	while (ix->slots[i])
		i = (i + 1) & (ix->cap - 1);
	ix->slots[i] = el;
	ix->n++;
}

/* Add el (first one wins on duplicate keys, as a linear scan would). */
static int index_add(struct gb_index **ixp, bool is_sub, void *el)
{
	struct gb_index *ix = *ixp;
	const char *a, *b;

	if (!ix) {
		ix = calloc(1, sizeof(*ix));
		if (!ix || !(ix->slots = calloc(16, sizeof(void *)))) {
			free(ix);
			return GR_ENOMEM;
		}
		ix->cap = 16;
		*ixp = ix;
	}
	keys(el, is_sub, &a, &b);
	if (index_get(ix, is_sub, a, b)) {
		ix->n++; /* counted, so the index still covers the array */
		return 0;
	}
	if (2 * (ix->n + 1) > ix->cap) {
		struct gb_index bigger = {.cap = ix->cap * 2};
		size_t n = ix->n;

		bigger.slots = calloc(bigger.cap, sizeof(void *));
		if (!bigger.slots)
			return GR_ENOMEM;
		for (size_t i = 0; i < ix->cap; i++)
			if (ix->slots[i])
				index_put_slot(&bigger, is_sub, ix->slots[i]);
		free(ix->slots);
		ix->slots = bigger.slots;
		ix->cap = bigger.cap;
		ix->n = n;
	}
	index_put_slot(ix, is_sub, el);
	return 0;
}

static void index_free(struct gb_index *ix)
{
	if (!ix)
		return;
	free(ix->slots);
	free(ix);
}

int gb_new(struct gb_gradebook **out)
{
	struct gb_gradebook *gb = calloc(1, sizeof(*gb));

	if (!gb)
		return GR_ENOMEM;
	gb->format_version = GB_FORMAT_VERSION;
	*out = gb;
	return 0;
}

void gb_free(struct gb_gradebook *gb)
{
	if (!gb)
		return;
	for (size_t i = 0; i < gb->n_assignments; i++)
		assignment_free(gb->assignments[i]);
	for (size_t i = 0; i < gb->n_students; i++)
		student_free(gb->students[i]);
	for (size_t i = 0; i < gb->n_submissions; i++)
		gb_submission_free(gb->submissions[i]);
	free(gb->assignments);
	free(gb->students);
	free(gb->submissions);
	free(gb->generator);
	index_free(gb->student_index);
	index_free(gb->submission_index);
	free(gb);
}

/*
 * Allocate a zeroed element of `size` bytes whose first member is its name,
 * append it to (*array, *n) and return it. Every element type here starts
 * with its `char *` name, which keeps the builders below one-liners.
 */
static int add_named(void *arrayp, size_t *n, size_t size, const char *name, void **out)
{
	void *el = NULL;
	char *copy = strdup(name ? name : "");

	if (!copy || grow(arrayp, *n) < 0) {
		free(copy);
		return GR_ENOMEM;
	}
	el = calloc(1, size);
	if (!el) {
		free(copy);
		return GR_ENOMEM;
	}
	*(char **)el = copy;
	(*(void ***)arrayp)[(*n)++] = el;
	*out = el;
	return 0;
}

int gb_add_assignment(struct gb_gradebook *gb, struct gb_assignment **out, const char *name)
{
	struct gb_assignment *a;
	int rc = add_named(&gb->assignments, &gb->n_assignments, sizeof(*a), name, (void **)&a);

	if (rc < 0)
		return rc;
	*out = a;
	return 0;
}

int gb_assignment_add_notebook(struct gb_assignment *a, struct gb_notebook **out, const char *name)
{
	struct gb_notebook *nb;
	int rc = add_named(&a->notebooks, &a->n_notebooks, sizeof(*nb), name, (void **)&nb);

	if (rc < 0)
		return rc;
	*out = nb;
	return 0;
}

int gb_notebook_add_cell(struct gb_notebook *nb, struct gb_cell **out, const char *name)
{
	struct gb_cell *c;
	int rc = add_named(&nb->cells, &nb->n_cells, sizeof(*c), name, (void **)&c);

	if (rc < 0)
		return rc;
	c->max_score = NAN;
	if (gb_set_str(&c->cell_type, "code") < 0)
		return GR_ENOMEM; /* the cell stays in nb, freed with it */
	*out = c;
	return 0;
}

int gb_add_student(struct gb_gradebook *gb, struct gb_student **out, const char *id)
{
	struct gb_student *s;
	int rc = add_named(&gb->students, &gb->n_students, sizeof(*s), id, (void **)&s);

	if (rc < 0)
		return rc;
	/* Without an index entry the lookups fall back to scanning: slower, still right. */
	if (index_add(&gb->student_index, false, s) < 0) {
		index_free(gb->student_index);
		gb->student_index = NULL;
	}
	*out = s;
	return 0;
}

int gb_submission_new(struct gb_submission **out, const char *assignment, const char *student_id)
{
	struct gb_submission *sub = calloc(1, sizeof(*sub));

	if (!sub)
		return GR_ENOMEM;
	sub->extension_seconds = NAN;
	sub->status = GB_GRADED;
	if (gb_set_str(&sub->assignment, assignment ? assignment : "") < 0 ||
	    gb_set_str(&sub->student_id, student_id ? student_id : "") < 0) {
		gb_submission_free(sub);
		return GR_ENOMEM;
	}
	*out = sub;
	return 0;
}

int gb_submission_add_flag(struct gb_submission *sub, const char *flag)
{
	char *copy;

	if (gb_submission_has_flag(sub, flag))
		return 0;
	copy = strdup(flag);
	if (!copy || grow(&sub->flags, sub->n_flags) < 0) {
		free(copy);
		return GR_ENOMEM;
	}
	sub->flags[sub->n_flags++] = copy;
	return 0;
}

const char *gb_submission_flag_reason(const struct gb_submission *sub, const char *flag)
{
	for (size_t i = 0; i < sub->n_flag_reasons; i++)
		if (!strcmp(sub->flag_reasons[i].flag, flag))
			return sub->flag_reasons[i].reason;
	return NULL;
}

int gb_submission_add_flag_reason(struct gb_submission *sub, const char *flag, const char *reason)
{
	struct gb_flag_reason *r = NULL;
	const char *old;
	char *joined;
	size_t n;

	if (gb_submission_add_flag(sub, flag) < 0)
		return GR_ENOMEM;
	for (size_t i = 0; i < sub->n_flag_reasons && !r; i++)
		if (!strcmp(sub->flag_reasons[i].flag, flag))
			r = &sub->flag_reasons[i];
	if (!r) {
		struct gb_flag_reason *p =
		    realloc(sub->flag_reasons, (sub->n_flag_reasons + 1) * sizeof(*p));

		if (!p)
			return GR_ENOMEM;
		sub->flag_reasons = p;
		r = &p[sub->n_flag_reasons];
		r->flag = strdup(flag);
		r->reason = NULL;
		if (!r->flag)
			return GR_ENOMEM;
		sub->n_flag_reasons++;
	}
	old = r->reason;
	if (old && (strstr(old, reason) || strlen(old) >= 1000))
		return 0;
	n = (old ? strlen(old) + 2 : 0) + strlen(reason) + 1;
	if (n > 1001)
		n = 1001;
	joined = malloc(n);
	if (!joined)
		return GR_ENOMEM;
	snprintf(joined, n, "%s%s%s", old ? old : "", old ? "; " : "", reason);
	free(r->reason);
	r->reason = joined;
	return 0;
}

bool gb_submission_has_flag(const struct gb_submission *sub, const char *flag)
{
	for (size_t i = 0; i < sub->n_flags; i++)
		if (!strcmp(sub->flags[i], flag))
			return true;
	return false;
}

int gb_submission_add_notebook(struct gb_submission *sub, struct gb_nbresult **out,
			       const char *name)
{
	struct gb_nbresult *nb;
	int rc = add_named(&sub->notebooks, &sub->n_notebooks, sizeof(*nb), name, (void **)&nb);

	if (rc < 0)
		return rc;
	nb->status = GB_GRADED;
	*out = nb;
	return 0;
}

int gb_nbresult_add_grade(struct gb_nbresult *nb, struct gb_grade **out, const char *grade_id)
{
	struct gb_grade *g;
	int rc = add_named(&nb->grades, &nb->n_grades, sizeof(*g), grade_id, (void **)&g);

	if (rc < 0)
		return rc;
	g->auto_score = NAN;
	g->manual_score = NAN;
	g->extra_credit = NAN;
	g->time = NAN;
	g->status = GB_CELL_PASSED;
	*out = g;
	return 0;
}

int gb_nbresult_add_comment(struct gb_nbresult *nb, struct gb_comment **out, const char *grade_id)
{
	struct gb_comment *c;
	int rc = add_named(&nb->comments, &nb->n_comments, sizeof(*c), grade_id, (void **)&c);

	if (rc < 0)
		return rc;
	*out = c;
	return 0;
}

int gb_take_submission(struct gb_gradebook *gb, struct gb_submission *sub)
{
	if (grow(&gb->submissions, gb->n_submissions) < 0)
		return GR_ENOMEM;
	gb->submissions[gb->n_submissions++] = sub;
	if (index_add(&gb->submission_index, true, sub) < 0) {
		index_free(gb->submission_index);
		gb->submission_index = NULL;
	}
	return 0;
}

/* Length of the longest prefix of s[0..n) that ends on a UTF-8 boundary. */
static size_t utf8_floor(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

int gb_output_set(struct gb_output *out, char **field, const char *data, size_t len)
{
	static const char cut_fmt[] = "\n[... %zu bytes cut ...]\n";
	char *copy;

	if (!data)
		return gb_set_str(field, NULL);
	if (len <= GB_OUTPUT_CAP) {
		copy = malloc(len + 1);
		if (!copy)
			return GR_ENOMEM;
		memcpy(copy, data, len);
		copy[len] = '\0';
	} else {
		/* Keep the head (what was printed first) and the tail (where tracebacks end). */
		size_t keep = (GB_OUTPUT_CAP - 64) / 2;
		size_t head = utf8_floor(data, keep);
		size_t tail_start = len - keep;
		size_t tail, at;

		while (tail_start < len && ((unsigned char)data[tail_start] & 0xC0) == 0x80)
			tail_start++;
		tail = len - tail_start;
		copy = malloc(head + tail + 64);
		if (!copy)
			return GR_ENOMEM;
		memcpy(copy, data, head);
		at = head + (size_t)snprintf(copy + head, 64, cut_fmt, len - head - tail);
		memcpy(copy + at, data + tail_start, tail);
		copy[at + tail] = '\0';
		out->truncated = true;
	}
	free(*field);
	*field = copy;
	return 0;
}

double gb_grade_score(const struct gb_grade *g)
{
	double s = 0.0;

	if (gb_isset(g->manual_score))
		s = g->manual_score;
	else if (gb_isset(g->auto_score))
		s = g->auto_score;
	if (gb_isset(g->extra_credit))
		s += g->extra_credit;
	return s;
}

void gb_assignment_sum(struct gb_assignment *a)
{
	a->max_score = 0.0;
	for (size_t i = 0; i < a->n_notebooks; i++) {
		struct gb_notebook *nb = a->notebooks[i];

		nb->max_score = 0.0;
		for (size_t j = 0; j < nb->n_cells; j++)
			if ((nb->cells[j]->grade || nb->cells[j]->task) &&
			    gb_isset(nb->cells[j]->max_score))
				nb->max_score += nb->cells[j]->max_score;
		a->max_score += nb->max_score;
	}
}

void gb_submission_sum(struct gb_submission *sub, const struct gb_assignment *a)
{
	sub->raw_score = 0.0;
	sub->late_submission_penalty = 0.0;
	sub->max_score = 0.0;
	for (size_t i = 0; i < sub->n_notebooks; i++) {
		struct gb_nbresult *nb = sub->notebooks[i];
		const struct gb_notebook *def = a ? gb_find_notebook(a, nb->name) : NULL;

		nb->score = 0.0;
		nb->max_score = 0.0;
		for (size_t j = 0; j < nb->n_grades; j++) {
			nb->score += gb_grade_score(nb->grades[j]);
			nb->max_score += nb->grades[j]->max_score;
		}
		if (def)
			nb->max_score = def->max_score;
		sub->raw_score += nb->score;
		sub->late_submission_penalty += nb->late_submission_penalty;
		sub->max_score += nb->max_score;
	}
	if (a)
		sub->max_score = a->max_score;
	sub->score = sub->raw_score - sub->late_submission_penalty;
	if (sub->score < 0.0)
		sub->score = 0.0;
}

struct gb_assignment *gb_find_assignment(const struct gb_gradebook *gb, const char *name)
{
	for (size_t i = 0; i < gb->n_assignments; i++)
		if (!strcmp(gb->assignments[i]->name, name))
			return gb->assignments[i];
	return NULL;
}

struct gb_student *gb_find_student(const struct gb_gradebook *gb, const char *id)
{
	if (gb->student_index && gb->student_index->n == gb->n_students)
		return index_get(gb->student_index, false, id, NULL);
	for (size_t i = 0; i < gb->n_students; i++)
		if (!strcmp(gb->students[i]->id, id))
			return gb->students[i];
	return NULL;
}

struct gb_submission *gb_find_submission(const struct gb_gradebook *gb, const char *assignment,
					 const char *student_id)
{
	if (gb->submission_index && gb->submission_index->n == gb->n_submissions)
		return index_get(gb->submission_index, true, assignment, student_id);
	for (size_t i = 0; i < gb->n_submissions; i++)
		if (!strcmp(gb->submissions[i]->assignment, assignment) &&
		    !strcmp(gb->submissions[i]->student_id, student_id))
			return gb->submissions[i];
	return NULL;
}

struct gb_notebook *gb_find_notebook(const struct gb_assignment *a, const char *name)
{
	for (size_t i = 0; i < a->n_notebooks; i++)
		if (!strcmp(a->notebooks[i]->name, name))
			return a->notebooks[i];
	return NULL;
}

struct gb_cell *gb_find_cell(const struct gb_notebook *nb, const char *name)
{
	for (size_t i = 0; i < nb->n_cells; i++)
		if (!strcmp(nb->cells[i]->name, name))
			return nb->cells[i];
	return NULL;
}

struct gb_nbresult *gb_find_nbresult(const struct gb_submission *sub, const char *name)
{
	for (size_t i = 0; i < sub->n_notebooks; i++)
		if (!strcmp(sub->notebooks[i]->name, name))
			return sub->notebooks[i];
	return NULL;
}

struct gb_grade *gb_find_grade(const struct gb_nbresult *nb, const char *grade_id)
{
	for (size_t i = 0; i < nb->n_grades; i++)
		if (!strcmp(nb->grades[i]->grade_id, grade_id))
			return nb->grades[i];
	return NULL;
}

static const char *const status_names[] = {"graded", "missing", "error"};
static const char *const cell_status_names[] = {"passed",  "partial", "failed", "error",
						"timeout", "manual",  "missing"};

static int parse_name(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

const char *gb_status_name(enum gb_status s)
{
	return (size_t)s < sizeof(status_names) / sizeof(*status_names) ? status_names[s] : "?";
}

int gb_status_parse(const char *name)
{
	return parse_name(status_names, sizeof(status_names) / sizeof(*status_names), name);
}

const char *gb_cell_status_name(enum gb_cell_status s)
{
	return (size_t)s < sizeof(cell_status_names) / sizeof(*cell_status_names)
		   ? cell_status_names[s]
		   : "?";
}

int gb_cell_status_parse(const char *name)
{
	return parse_name(cell_status_names, sizeof(cell_status_names) / sizeof(*cell_status_names),
			  name);
}
