/*
 * feedback.h - feedback for students: per submitted notebook, one page the
 * student can read, from the gradebook (gradebook.h), the autograded notebook
 * in nbgrader's layout (autograded/{student}/{assignment}/{notebook}.ipynb)
 * and, when given, the marker's work in nbgrader's gradebook.db.
 *
 * HTML pages are self-contained (inline CSS, images as data: URIs, no script,
 * nothing fetched; a Content Security Policy forbids the rest): the notebook
 * with its outputs, each graded cell's score, points, status, captured output
 * and traceback, the late penalty, the totals and manual comments. Hidden
 * tests never appear: their regions are cut out of the source and a failing
 * hidden test shows its error line, not the traceback (which quotes the
 * source). Everything from the notebook is escaped as text: student code,
 * outputs and names are never read as HTML; HTML outputs show their plain
 * text form. Markdown (`FB_MARKDOWN`) gives the scores, statuses, outputs and
 * comments without the notebook, for an LMS comment box.
 */
#ifndef GRADER_FEEDBACK_H
#define GRADER_FEEDBACK_H

#include <stdio.h>

#include "grader/gradebook.h"
#include "grader/notebook.h"

enum fb_format { FB_HTML, FB_MARKDOWN };

struct fb_opts {
	const char *autograded; /* autograded/ folder; NULL: pages from the gradebook alone */
	const char *assignment; /* only this assignment (NULL: all) */
	const char *student;	/* only this student (NULL: all) */
	enum fb_format format;
};

struct fb_stats {
	size_t written;	    /* files written */
	size_t no_notebook; /* of which without the autograded notebook (scores only) */
	size_t failed;	    /* notebooks whose feedback could not be written */
};

/*
 * Overlay the marker's work from nbgrader's gradebook.db at `db` (opened
 * read-only) on gb in memory: manual scores, extra credit and manual
 * comments of the submissions gb has, then the sums again. Rows of other
 * students or assignments are ignored. GR_EIO / GR_EINVAL naming the file.
 */
int fb_apply_db(struct gb_gradebook *gb, const char *db, struct gr_err *err);

/*
 * Write out_dir/{student}/{assignment}/{notebook}.html (or .md) for every
 * selected submission that was received (missing ones get none), each
 * atomically. A notebook that cannot be read costs only its own page: a
 * warning naming the file goes to `log` (may be NULL) and the page is made
 * from the gradebook alone; a page that cannot be written is counted in
 * st->failed. GR_ENOTFOUND for a selection matching nothing, GR_EIO when
 * out_dir cannot be made.
 */
int fb_write_all(const char *out_dir, const struct gb_gradebook *gb, const struct fb_opts *o,
		 FILE *log, struct fb_stats *st, struct gr_err *err);

#endif
