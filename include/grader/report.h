/*
 * report.h - the course report: figures an instructor reads after a grading
 * run, computed from a gradebook (gradebook.h), written as one self-contained
 * HTML page (inline CSS and SVG charts, no script) or as JSON.
 *
 * Per assignment: the submissions received (graded or errored; missing ones
 * are counted apart), a histogram of final scores, per question (grade or
 * task cell) the mean, pass rate (full marks) and item analysis, Cronbach's
 * alpha over the questions, late / missing / error / flagged counts, the
 * flagged submissions with their reasons and the slowest notebooks.
 *
 * Item analysis, over the submissions received: difficulty = mean score /
 * max; discrimination = the corrected point-biserial (Pearson correlation of
 * the question's score with the rest score: the total of the other analysed
 * questions). A question nobody has a score for yet (waiting for manual
 * grading) is listed but left out of the analysis. Undefined figures (no
 * variance, fewer than two submissions or questions) are NAN, null in JSON.
 */
#ifndef GRADER_REPORT_H
#define GRADER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "grader/gradebook.h"

/* Number of histogram bins between 0 and the assignment's max score. */
#define REPORT_BINS 10
/* Slowest notebooks listed per assignment. */
#define REPORT_SLOWEST 10

struct report_item {
	const char *notebook, *grade_id; /* borrowed from the gradebook */
	double max_score;
	bool hidden_tests, manual; /* manual: a task or hand-graded answer */
	bool analysed;		   /* someone has a score: part of alpha and rest scores */
	size_t n;		   /* submissions counted */
	double mean;		   /* NAN when n == 0 or not analysed */
	double pass_rate;	   /* share with full marks; NAN like mean */
	double difficulty;	   /* mean / max; NAN when max is 0 */
	double discrimination;	   /* item-rest correlation; NAN when undefined */
};

struct report_flagged {
	const char *student_id; /* borrowed */
	char *reasons;		/* "tampered, modified_locked_cell: message" (owned) */
};

struct report_slow {
	const char *student_id, *notebook; /* borrowed */
	double seconds;			   /* sum of its cells' recorded times */
};

struct report_assignment {
	const struct gb_assignment *a; /* borrowed */
	size_t n_students, n_received, n_graded, n_missing, n_error, n_late, n_flagged;
	double mean, median, min, max, stdev; /* final scores received; NAN when none */
	double alpha;			      /* Cronbach's alpha; NAN when undefined */
	size_t hist[REPORT_BINS];	      /* final scores, bin i = [i, i+1) * max / BINS */
	size_t n_items;
	struct report_item *items;
	size_t n_flagged_list;
	struct report_flagged *flagged;
	size_t n_slow;
	struct report_slow slow[REPORT_SLOWEST];
};

struct report {
	const struct gb_gradebook *gb; /* borrowed: keep it alive while the report is */
	size_t n_assignments;
	struct report_assignment *assignments;
};

/*
 * Compute the report of `gb` (every assignment, or only the one named
 * `assignment` when not NULL: GR_ENOTFOUND when absent). *out borrows from
 * gb; free it with report_free. GR_ENOMEM.
 */
int report_compute(struct report **out, const struct gb_gradebook *gb, const char *assignment,
		   struct gr_err *err);
void report_free(struct report *r);

/* The figures as one JSON object (*out, json_decref it). GR_ENOMEM. */
int report_to_json(json_t **out, const struct report *r, struct gr_err *err);

/* The self-contained HTML page into `out` (owned by the caller). GR_EIO. */
int report_write_html(FILE *out, const struct report *r, struct gr_err *err);

#endif
