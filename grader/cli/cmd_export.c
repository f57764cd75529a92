/* cmd_export.c - `grader export GRADEBOOK.json --to FORMAT [-o OUT]`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grader/export.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: grader export GRADEBOOK.json --to FORMAT [-o OUT] [options]\n"
	    "\n"
	    "Export a gradebook written by 'grader grade' to another format.\n"
	    "\n"
	    "formats:\n"
	    "  nbgrader-db   nbgrader's SQLite gradebook.db (-o required): created with\n"
	    "                nbgrader's schema, or updated; marker's manual scores and\n"
	    "                comments are kept\n"
	    "  csv           the CSV of 'nbgrader export' (one row per assignment and student)\n"
	    "  gradescope    Gradescope results.json (-o DIR: DIR/STUDENT/results.json each;\n"
	    "                -o FILE.json or stdout: one student)\n"
	    "  junit         JUnit XML, a testsuite per student notebook, a testcase per cell\n"
	    "  markdown      per-question statistics and per-student table\n"
	    "  items         CSV, one row per student and question: score, max, status, time\n"
	    "\n"
	    "options:\n"
	    "  --to FORMAT          output format (required)\n"
	    "  -o, --output OUT     output file, folder or database; '-' or absent: stdout\n"
	    "  --assignment NAME    only this assignment (default: all)\n"
	    "  --student ID         only this student (default: all)\n"
	    "  --per-cell           csv: add one column per grade cell, named NOTEBOOK/CELL\n"
	    "  --course-id ID       nbgrader-db: course of a new assignment (default: "
	    "default_course)\n"
	    "  --pseudonymise KEY   any format: student ids become HMAC-SHA256(KEY file, id),\n"
	    "                       16 hex digits; names, emails, outputs, comments and\n"
	    "                       messages are dropped (the same key gives the same pseudonyms)\n"
	    "  -h, --help           show this help\n"
	    "\n"
	    "exit status: 0 ok, 1 unreadable or invalid gradebook or write failure,\n"
	    "2 usage error (unknown format, missing argument)\n");
}

int cmd_export(int argc, char **argv)
{
	enum { OPT_TO = 256, OPT_PER_CELL, OPT_COURSE, OPT_PSEUDO };
	static const struct cmd_opt table[] = {
	    {"to", 0, 1, OPT_TO},
	    {"output", 'o', 1, CMD_KEY_OUTPUT},
	    {"assignment", 0, 1, CMD_KEY_ASSIGNMENT},
	    {"student", 0, 1, CMD_KEY_STUDENT},
	    {"per-cell", 0, 0, OPT_PER_CELL},
	    {"course-id", 0, 1, OPT_COURSE},
	    {"pseudonymise", 0, 1, OPT_PSEUDO},
	    {"pseudonymize", 0, 1, OPT_PSEUDO},
	    {"help", 'h', 0, 0},
	    {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	struct export_opts o = {0};
	struct export_src *src = NULL;
	struct gr_err err = {0};
	const char *to = NULL, *out, *in, *key = NULL;
	int c, fmt, rc;

	cmd_opts_init(&p, table, argc, argv, 0);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case OPT_TO:
			to = p.arg;
			break;
		case OPT_PER_CELL:
			o.per_cell = true;
			break;
		case OPT_COURSE:
			o.course_id = p.arg;
			break;
		case OPT_PSEUDO:
			key = p.arg;
			break;
		default:
			return cmd_opts_other(&p, c, "grader export", usage);
		}
	}
	in = cmd_opts_one_operand(&p, "grader export", "GRADEBOOK.json", usage);
	if (!in)
		return 2;
	out = p.output;
	o.assignment = p.assignment;
	o.student = p.student;
	if (!to) {
		fprintf(stderr, "grader export: missing --to FORMAT (%s)\n", export_format_names());
		return 2;
	}
	fmt = export_format_parse(to);
	if (fmt < 0) {
		fprintf(stderr, "grader export: unknown format '%s' (known: %s)\n", to,
			export_format_names());
		return 2;
	}
	if (fmt == EXPORT_NBGRADER_DB && (!out || !strcmp(out, "-"))) {
		fprintf(stderr, "grader export: nbgrader-db needs -o PATH/gradebook.db\n");
		return 2;
	}
	if (o.per_cell && fmt != EXPORT_CSV) {
		fprintf(stderr, "grader export: --per-cell applies to --to csv only\n");
		return 2;
	}
	/* The gradebook is read as a stream: memory stays flat whatever the course size. */
	if (export_src_open(&src, in, key, &err) < 0) {
		fprintf(stderr, "grader export: %s\n", err.msg);
		return 1;
	}
	rc = export_src_write(src, fmt, out, &o, &err);
	export_src_free(src);
	if (rc < 0) {
		fprintf(stderr, "grader export: %s\n", err.msg);
		/* A selection that does not fit the gradebook is a usage error. */
		if (rc == GR_ENOTFOUND || (fmt == EXPORT_GRADESCOPE && rc == GR_EINVAL))
			return 2;
		return 1;
	}
	return 0;
}
