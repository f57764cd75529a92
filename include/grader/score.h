/*
 * score.h - nbgrader's scoring rules, late penalties and submission times.
 *
 * The module knows nothing of files, processes, kernels or rubrics: callers
 * describe what happened to each cell with plain structs and get numbers
 * back. Every number is a double; nothing is rounded here (round only when
 * printing). No score is ever negative. See docs/scoring.md.
 */
#ifndef GRADER_SCORE_H
#define GRADER_SCORE_H

#include <stddef.h>

#include "grader/util.h"

/* What happened when an autograder test cell ran. */
struct score_run {
	int ran;	  /* the cell ran (0: never reached: earlier timeout, crash, ...) */
	int raised;	  /* it raised (an `error` output) or was killed while running */
	int wrote_stderr; /* it wrote to stderr (a `stream` output named stderr) */
	/*
	 * nbgrader looks at outputs in order and the first error, stderr or
	 * execute_result decides. Set when the execute_result came before any
	 * error/stderr output; leave 0 (the strict default) when unknown.
	 */
	int result_first;
	const char *result_text; /* text/plain of the first execute_result; NULL when none */
};

/* Why a cell got its score (comment strings are static). */
enum score_reason {
	SCORE_PASSED,	   /* full points: no error, no numeric result */
	SCORE_PARTIAL,	   /* the cell's numeric result, 0 <= x <= points */
	SCORE_FAILED,	   /* 0: raised, wrote to stderr or never ran */
	SCORE_NO_RESPONSE, /* 0: answer cell left as released */
	SCORE_MANUAL,	   /* needs a human (manual-graded answer that was changed) */
	SCORE_BAD_PARTIAL, /* 0 + needs a human: result above points or infinite */
};

struct score_cell {
	double score;	  /* auto score, 0 <= score <= max (0 when needs_manual) */
	double max;	  /* the cell's points */
	int needs_manual; /* nbgrader's needs_manual_grade */
	enum score_reason reason;
	const char *comment; /* static: "No response." or NULL */
};

/*
 * Score an autograder test cell worth `points` from what happened when it
 * ran, following nbgrader's determine_grade. Returns 0, or GR_EINVAL when
 * points is negative or not finite.
 */
int score_test_cell(struct score_cell *out, double points, const struct score_run *run,
		    struct gr_err *err);

/*
 * Score an answer cell. A manually graded answer (grade + solution, worth
 * `points`) scores 0 with "No response." when `unchanged` (its checksum equals
 * the released one), otherwise it needs manual grading. A plain autograded
 * answer (solution only, `graded` = 0) carries no points: it only gets the
 * "No response." comment when unchanged.
 */
int score_answer_cell(struct score_cell *out, int graded, double points, int unchanged,
		      struct gr_err *err);

/*
 * Parse the text of a partial-credit result the way Python's float() does
 * (surrounding whitespace, sign, digits with single underscores, exponent,
 * "nan", "inf", "infinity", any case). Returns 1 and sets *out on success,
 * 0 when the text is not a Python float.
 */
int score_parse_pyfloat(double *out, const char *text);

enum score_late_method { SCORE_LATE_NONE, SCORE_LATE_ZERO, SCORE_LATE_PERCENT };

struct score_late_policy {
	enum score_late_method method;
	double percent; /* PERCENT: percent of the score lost per started period */
	double period;	/* PERCENT: period length in seconds (3600 or 86400) */
	double cap;	/* PERCENT: at most this percent in total (0-100) */
};

/*
 * max(0, submitted - (due + extension)) in seconds: the lateness of a
 * submission, from the two instants (to the microsecond) and an extension
 * in seconds.
 */
double score_seconds_late(const struct gr_time *submitted, const struct gr_time *due,
			  double extension);

/*
 * Late penalty for a notebook scoring `score` submitted `seconds_late`
 * seconds late: none -> 0; zero -> the whole score when late at all;
 * percent -> score * min(cap, percent * ceil(seconds_late / period)) / 100.
 * Always clamped to [0, score].
 */
double score_late_penalty(const struct score_late_policy *policy, double score,
			  double seconds_late);

/*
 * Parse a duration such as "36h", "1d12h", "90m", "2.5d", "3600s" or a bare
 * number of seconds into seconds. GR_EINVAL on anything else.
 */
int score_parse_duration(double *out, const char *text, struct gr_err *err);

#endif
