/*
 * score.c - nbgrader's scoring rules for test and answer cells, and late
 * penalties. The rules and their edge cases are documented in docs/scoring.md.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grader/score.h"

static const char NO_RESPONSE[] = "No response.";

static int is_pyspace(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Case-insensitive match of a whole word. */
static int word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !strncasecmp(s, word, n);
}

/*
 * Copy digits from *p into buf (at *k), allowing single underscores between
 * digits as Python does. Returns the number of digits copied; -1 on a
 * misplaced underscore.
 */
static long copy_digits(const char **p, const char *end, char *buf, size_t *k)
{
	const char *s = *p;
	long n = 0;

	while (s < end && (isdigit((unsigned char)*s) || *s == '_')) {
		if (*s == '_') {
			if (n == 0 || s + 1 >= end || !isdigit((unsigned char)s[1]))
				return -1;
			s++;
			continue;
		}
		buf[(*k)++] = *s++;
		n++;
	}
	*p = s;
	return n;
}

int score_parse_pyfloat(double *out, const char *text)
{
	const char *s, *end;
	char *buf = NULL, *stop = NULL;
	size_t k = 0;
	long before, after = 0;
	int ok = 0, neg = 0;
	double v;

	if (!text)
		return 0;
	s = text;
	end = text + strlen(text);
	while (s < end && is_pyspace((unsigned char)*s))
		s++;
	while (end > s && is_pyspace((unsigned char)end[-1]))
		end--;
	if (s == end)
		return 0;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (word_is(s, (size_t)(end - s), "nan")) {
		*out = neg ? -NAN : NAN;
		return 1;
	}
	if (word_is(s, (size_t)(end - s), "inf") || word_is(s, (size_t)(end - s), "infinity")) {
		*out = neg ? -INFINITY : INFINITY;
		return 1;
	}
	buf = malloc((size_t)(end - s) + 3);
	if (!buf)
		return 0;
	if (neg)
		buf[k++] = '-';
	before = copy_digits(&s, end, buf, &k);
	if (before < 0)
		goto done;
	if (s < end && *s == '.') {
		buf[k++] = *s++;
		/* an underscore right after the point is not allowed */
		if (s < end && *s == '_')
			goto done;
		after = copy_digits(&s, end, buf, &k);
		if (after < 0)
			goto done;
	}
	if (before == 0 && after == 0)
		goto done;
	if (s < end && (*s == 'e' || *s == 'E')) {
		buf[k++] = *s++;
		if (s < end && (*s == '+' || *s == '-'))
			buf[k++] = *s++;
		if (s < end && *s == '_')
			goto done;
		if (copy_digits(&s, end, buf, &k) <= 0)
			goto done;
	}
	if (s != end)
		goto done;
	buf[k] = '\0';
	v = strtod(buf, &stop);
	if (stop != buf + k)
		goto done;
	*out = v;
	ok = 1;
done:
	free(buf);
	return ok;
}

static void set_cell(struct score_cell *out, double score, double max, enum score_reason reason,
		     int manual, const char *comment)
{
	/* adding 0.0 turns -0.0 into 0.0: a printed score never reads "-0" */
	out->score = score + 0.0;
	out->max = max;
	out->reason = reason;
	out->needs_manual = manual;
	out->comment = comment;
}

/* nbgrader's get_partial_grade, with our answer for results above points. */
static void partial(struct score_cell *out, double points, const char *text)
{
	double x;

	if (!score_parse_pyfloat(&x, text) || isnan(x) || x < 0.0) {
		set_cell(out, points, points, SCORE_PASSED, 0, NULL);
		return;
	}
	if (x > points) {
		/* nbgrader raises here and the notebook fails to autograde */
		set_cell(out, 0.0, points, SCORE_BAD_PARTIAL, 1, NULL);
		return;
	}
	set_cell(out, x, points, SCORE_PARTIAL, 0, NULL);
}

int score_test_cell(struct score_cell *out, double points, const struct score_run *run,
		    struct gr_err *err)
{
	if (!isfinite(points) || points < 0)
		return gr_err_set(err, GR_EINVAL, "points must be a finite number >= 0");
	if (!run || !run->ran) {
		set_cell(out, 0.0, points, SCORE_FAILED, 0, NULL);
		return 0;
	}
	if (run->result_text && run->result_first) {
		partial(out, points, run->result_text);
		return 0;
	}
	if (run->raised || run->wrote_stderr) {
		set_cell(out, 0.0, points, SCORE_FAILED, 0, NULL);
		return 0;
	}
	if (run->result_text) {
		partial(out, points, run->result_text);
		return 0;
	}
	set_cell(out, points, points, SCORE_PASSED, 0, NULL);
	return 0;
}

int score_answer_cell(struct score_cell *out, int graded, double points, int unchanged,
		      struct gr_err *err)
{
	if (!graded)
		points = 0;
	if (!isfinite(points) || points < 0)
		return gr_err_set(err, GR_EINVAL, "points must be a finite number >= 0");
	if (unchanged)
		set_cell(out, 0.0, points, SCORE_NO_RESPONSE, 0, NO_RESPONSE);
	else if (graded)
		set_cell(out, 0.0, points, SCORE_MANUAL, 1, NULL);
	else
		set_cell(out, 0.0, 0.0, SCORE_PASSED, 0, NULL);
	return 0;
}

/* ceil() for x > 0 without libm (the binaries do not link -lm). */
static double up(double x)
{
	double whole;

	if (x >= 1e15)
		return x;
	whole = (double)(long long)x;
	return whole < x ? whole + 1 : whole;
}

double score_seconds_late(const struct gr_time *submitted, const struct gr_time *due,
			  double extension)
{
	/* the whole seconds apart first: exact, whatever the epoch's distance */
	double late =
	    (double)(submitted->sec - due->sec) + (submitted->usec - due->usec) / 1e6 - extension;

	return late > 0 ? late : 0.0;
}

double score_late_penalty(const struct score_late_policy *policy, double score, double seconds_late)
{
	double penalty = 0, pct, periods;

	if (!policy || !(score > 0) || !(seconds_late > 0))
		return 0.0;
	switch (policy->method) {
	case SCORE_LATE_NONE:
		penalty = 0;
		break;
	case SCORE_LATE_ZERO:
		penalty = score;
		break;
	case SCORE_LATE_PERCENT:
		if (!(policy->period > 0))
			return 0.0;
		periods = up(seconds_late / policy->period);
		pct = policy->percent * periods;
		if (pct > policy->cap)
			pct = policy->cap;
		penalty = score * pct / 100.0;
		break;
	}
	if (!(penalty > 0))
		return 0.0;
	return penalty > score ? score : penalty;
}
