/* cmd_feedback.c - `grader feedback GRADEBOOK.json --autograded DIR -o feedback/`. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "grader/feedback.h"
#include "grader/gradebook.h"

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: grader feedback GRADEBOOK.json -o DIR [--autograded DIR] [--db FILE]\n"
	       "                       [--to html|markdown] [--assignment NAME] [--student ID]\n"
	       "\n"
	       "Write feedback for students: DIR/{student}/{assignment}/{notebook}.html, the\n"
	       "layout nbgrader releases. Each page stands alone (inline CSS and images, no\n"
	       "script, nothing fetched): the student's notebook with its outputs, each graded\n"
	       "cell's score, points, status, captured output and traceback, the late penalty,\n"
	       "the totals and the marker's comments. Hidden tests are never shown (their name\n"
	       "and result are); student code and outputs are shown as text, never as HTML.\n"
	       "\n"
	       "options:\n"
	       "  -o, --output DIR     the feedback folder (required)\n"
	       "  --autograded DIR     nbgrader's autograded/ folder: DIR/{student}/{assignment}/\n"
	       "                       {notebook}.ipynb (without it: scores and outputs only)\n"
	       "  --db FILE            nbgrader's gradebook.db: the marker's manual scores, extra\n"
	       "                       credit and comments (read only)\n"
	       "  --to FORMAT          html (default) or markdown (.md, for LMS comments)\n"
	       "  --assignment NAME    only this assignment (default: all)\n"
	       "  --student ID         only this student (default: all)\n"
	       "  -h, --help           show this help\n"
	       "\n"
	       "A notebook that cannot be read costs only its own page, made from the gradebook\n"
	       "alone, with a warning naming the file. Exit status: 0 when every page was\n"
	       "written, 1 when the gradebook or the db cannot be read or a page could not be\n"
	       "written, 2 on a usage error.\n");
}

int cmd_feedback(int argc, char **argv)
{
	enum { OPT_AUTOGRADED = 256, OPT_DB, OPT_TO };
	static const struct cmd_opt table[] = {
	    {"output", 'o', 1, CMD_KEY_OUTPUT},
	    {"autograded", 0, 1, OPT_AUTOGRADED},
	    {"db", 0, 1, OPT_DB},
	    {"to", 0, 1, OPT_TO},
	    {"assignment", 0, 1, CMD_KEY_ASSIGNMENT},
	    {"student", 0, 1, CMD_KEY_STUDENT},
	    {"help", 'h', 0, 0},
	    {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	struct fb_opts o = {0};
	struct fb_stats st = {0};
	struct gb_gradebook *gb = NULL;
	struct gr_err err = {0};
	const char *db = NULL, *in;
	int c, rc, status = 1;

	cmd_opts_init(&p, table, argc, argv, 0);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case OPT_AUTOGRADED:
			o.autograded = p.arg;
			break;
		case OPT_DB:
			db = p.arg;
			break;
		case OPT_TO:
			if (!strcmp(p.arg, "markdown") || !strcmp(p.arg, "md")) {
				o.format = FB_MARKDOWN;
			} else if (strcmp(p.arg, "html")) {
				fprintf(stderr,
					"grader feedback: unknown format '%s' (known: html, "
					"markdown)\n",
					p.arg);
				return 2;
			}
			break;
		default:
			return cmd_opts_other(&p, c, "grader feedback", usage);
		}
	}
	if (!p.output)
		return cmd_usage_error(usage, "grader feedback: missing -o DIR");
	o.assignment = p.assignment;
	o.student = p.student;
	in = cmd_opts_one_operand(&p, "grader feedback", "GRADEBOOK.json", usage);
	if (!in)
		return 2;
	if (gb_read_file(&gb, in, &err) < 0 || (db && fb_apply_db(gb, db, &err) < 0))
		goto done;
	rc = fb_write_all(p.output, gb, &o, stderr, &st, &err);
	if (rc < 0) {
		status = rc == GR_ENOTFOUND ? 2 : 1;
		goto done;
	}
	fprintf(stderr, "grader feedback: %zu page%s written to '%s'", st.written,
		st.written == 1 ? "" : "s", p.output);
	if (st.no_notebook)
		fprintf(stderr, " (%zu without a notebook)", st.no_notebook);
	if (st.failed)
		fprintf(stderr, ", %zu failed", st.failed);
	fputc('\n', stderr);
	status = st.failed ? 1 : 0;
	gb_free(gb);
	return status;
done:
	fprintf(stderr, "grader feedback: %s\n", err.msg);
	gb_free(gb);
	return status;
}
