/* cmd_report.c - `grader report GRADEBOOK.json [-o report.html] [--json]`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grader/gradebook.h"
#include "grader/report.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: grader report GRADEBOOK.json [-o OUT] [--json] [--assignment NAME]\n"
	    "\n"
	    "The course report for the instructor: one self-contained HTML page (inline\n"
	    "SVG charts, no script, nothing fetched) with a score histogram, per-question\n"
	    "mean and pass rate, item analysis (difficulty = mean / max, discrimination =\n"
	    "corrected point-biserial with the rest score, Cronbach's alpha), late,\n"
	    "missing, error and flagged counts, the flagged submissions with their\n"
	    "reasons and the slowest notebooks.\n"
	    "\n"
	    "options:\n"
	    "  -o, --output OUT     the page (or JSON) to write atomically; '-' or absent: stdout\n"
	    "  --json               the same figures as JSON, for scripts\n"
	    "  --assignment NAME    only this assignment (default: all)\n"
	    "  -h, --help           show this help\n"
	    "\n"
	    "exit status: 0 ok, 1 unreadable or invalid gradebook or write failure,\n"
	    "2 usage error\n");
}

static int render(char **buf, size_t *len, const struct report *r, bool json, struct gr_err *err)
{
	FILE *f;
	json_t *j = NULL;
	int rc;

	if (json) {
		rc = report_to_json(&j, r, err);
		if (rc < 0)
			return rc;
		*buf = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
		json_decref(j);
		if (!*buf)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		*len = strlen(*buf);
		return 0;
	}
	f = open_memstream(buf, len);
	if (!f)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	rc = report_write_html(f, r, err);
	if (fclose(f) != 0 && rc == 0)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	return rc;
}

int cmd_report(int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct cmd_opt table[] = {
	    {"output", 'o', 1, CMD_KEY_OUTPUT},
	    {"json", 0, 0, OPT_JSON},
	    {"assignment", 0, 1, CMD_KEY_ASSIGNMENT},
	    {"help", 'h', 0, 0},
	    {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	struct gb_gradebook *gb = NULL;
	struct report *r = NULL;
	struct gr_err err = {0};
	const char *out, *in;
	char *buf = NULL;
	size_t len = 0;
	bool json = false;
	int c, rc, status = 1;

	cmd_opts_init(&p, table, argc, argv, 0);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		default:
			return cmd_opts_other(&p, c, "grader report", usage);
		}
	}
	in = cmd_opts_one_operand(&p, "grader report", "GRADEBOOK.json", usage);
	if (!in)
		return 2;
	out = p.output;
	if (gb_read_file(&gb, in, &err) < 0)
		goto done;
	rc = report_compute(&r, gb, p.assignment, &err);
	if (rc < 0) {
		if (rc == GR_ENOTFOUND)
			status = 2;
		goto done;
	}
	if (render(&buf, &len, r, json, &err) < 0)
		goto done;
	if (!out || !strcmp(out, "-")) {
		if (fwrite(buf, 1, len, stdout) != len || (json && fputc('\n', stdout) == EOF) ||
		    fflush(stdout) != 0) {
			gr_err_sys(&err, GR_EIO, errno, "cannot write to standard output");
			goto done;
		}
	} else if (gr_write_file_atomic(out, buf, len, &err) < 0) {
		goto done;
	}
	status = 0;
done:
	if (status)
		fprintf(stderr, "grader report: %s\n", err.msg);
	free(buf);
	report_free(r);
	gb_free(gb);
	return status;
}
