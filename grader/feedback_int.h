/* feedback_int.h - helpers shared by the feedback renderers (private). */
#ifndef GRADER_FEEDBACK_INT_H
#define GRADER_FEEDBACK_INT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "grader/feedback.h"

/*
 * Render the feedback of one notebook result `r` of submission `sub` into
 * `out`; `nb` is the autograded notebook, or NULL for a page from the
 * gradebook alone. GR_EIO when the stream fails.
 */
int fb_render(FILE *out, enum fb_format fmt, const struct gb_gradebook *gb,
	      const struct gb_submission *sub, const struct gb_nbresult *r,
	      const struct nb_notebook *nb, struct gr_err *err);

/*
 * Heap copy of a cell's source with every BEGIN/END HIDDEN TESTS region
 * (nbgrader's markers, on lines of their own; an unterminated region runs
 * to the end) replaced by one "# hidden tests" line. NULL on ENOMEM.
 */
char *fb_strip_hidden(const char *source);

/* What a page shows about its notebook and student. */
struct fb_page {
	const struct gb_gradebook *gb;
	const struct gb_submission *sub;
	const struct gb_nbresult *r;
	const struct nb_notebook *nb; /* or NULL */
	const struct gb_assignment *a;
	const struct gb_notebook *def;	  /* the notebook's definition, or NULL */
	const struct gb_student *student; /* or NULL */
};

/* A score with at most two decimals, trailing zeros dropped: 2.5, 3, 0.33. */
void fb_num(char out[32], double x);

/* Human name of a cell status: "passed", "partly passed", "waiting for a marker"... */
const char *fb_status_text(enum gb_cell_status s);

/* The grade's comment written by a marker (from the gradebook or the db), or NULL. */
const char *fb_manual_comment(const struct gb_nbresult *r, const char *grade_id);

/* Does the cell `grade_id` of this notebook hold hidden tests (definition or source)? */
bool fb_is_hidden(const struct fb_page *p, const char *grade_id, const char *source);

/* A notebook field that is a string or a list of strings, joined (heap copy, never NULL on
 * success). */
char *fb_join_text(const json_t *v);

int fb_render_html(FILE *out, const struct fb_page *p);
int fb_render_markdown(FILE *out, const struct fb_page *p);

#endif
