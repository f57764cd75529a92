/* cmd_grade.c - `grader grade`: grade a folder of submissions into a gradebook. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "grader/batch.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: grader grade --rubric RUBRIC.json --submissions DIR -o GRADEBOOK.json\n"
		"                    [--student ID,...] [--roster ROSTER.csv] [-j N] [--force]\n"
		"                    [--late-unknown none|zero|flag] [--allow-weaker] [--quiet]\n"
		"\n"
		"Grade every DIR/{student_id}/{assignment}/ against the rubric, each notebook\n"
		"in the sandbox, and write the gradebook JSON (docs/gradebook.md).\n"
		"\n"
		"  --rubric FILE       the rubric (grader rubric import)\n"
		"  --submissions DIR   nbgrader's submitted/ folder (grader fetch writes one)\n"
		"  -o, --output FILE   the gradebook to write (atomically); finished submissions\n"
		"                      are journaled in FILE.journal, so a killed run resumes\n"
		"  --student IDS       grade only these students (comma-separated)\n"
		"  --roster FILE       names and emails; roster students without work are\n"
		"                      recorded as missing\n"
		"  -j, --jobs N        parallel workers, each with its own interpreter\n"
		"                      (default: the number of cores)\n"
		"  --force             regrade submissions unchanged since the last run\n"
		"  --late-unknown HOW  under a due date and late policy, a submission whose\n"
		"                      time is unreadable, or unknown but marked late by the\n"
		"                      LMS (Canvas): flag (default: no penalty, flagged\n"
		"                      late_unknown for review), none (no penalty), or zero\n"
		"                      (the penalty takes the whole score); docs/scoring.md\n"
		"  --allow-weaker      run even when a sandbox protection is missing here\n"
		"  -q, --quiet         no progress output\n"
		"\n"
		"Exit status: 0 when the gradebook was written (a student's failure is\n"
		"recorded in their entry), 1 when it could not be, 2 on a usage error.\n");
}

int cmd_grade(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rubric", required_argument, NULL, 'r' },
		{ "submissions", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "student", required_argument, NULL, 'S' },
		{ "roster", required_argument, NULL, 'R' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "allow-weaker", no_argument, NULL, 'w' },
		{ "late-unknown", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct batch_opts opts;
	struct batch_summary sum = { 0 };
	struct gr_err err = { 0 };
	char **ids = NULL;
	char *students = NULL;
	int c, quiet = 0, code = 1;
	long long jobs;

	batch_opts_init(&opts);
	while ((c = getopt_long(argc, argv, "o:j:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': opts.rubric = optarg; break;
		case 's': opts.submissions = optarg; break;
		case 'o': opts.output = optarg; break;
		case 'S': students = optarg; break;
		case 'R': opts.roster = optarg; break;
		case 'f': opts.force = 1; break;
		case 'w': opts.allow_weaker = 1; break;
		case 'q': quiet = 1; break;
		case 'L':
			if (!strcmp(optarg, "flag"))
				opts.late_unknown = BATCH_LATE_UNKNOWN_FLAG;
			else if (!strcmp(optarg, "none"))
				opts.late_unknown = BATCH_LATE_UNKNOWN_NONE;
			else if (!strcmp(optarg, "zero"))
				opts.late_unknown = BATCH_LATE_UNKNOWN_ZERO;
			else {
				fprintf(stderr, "grader grade: --late-unknown takes none, zero or flag, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'j':
			if (cmd_parse_long(optarg, 1, 256, &jobs) < 0) {
				fprintf(stderr, "grader grade: -j takes a number from 1 to 256, not '%s'\n", optarg);
				return 2;
			}
			opts.jobs = (unsigned)jobs;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !opts.rubric || !opts.submissions || !opts.output) {
		fprintf(stderr, "grader grade: --rubric, --submissions and -o are required\n");
		usage(stderr);
		return 2;
	}
	if (students) {
		if (gr_split_list(&ids, students) < 0) {
			fprintf(stderr, "grader grade: out of memory\n");
			return 1;
		}
		opts.students = (const char *const *)ids;
	}
	opts.log = quiet ? NULL : stderr;
	if (batch_run(&opts, &sum, &err) < 0) {
		fprintf(stderr, "grader grade: %s\n", err.msg);
		goto done;
	}
	if (!quiet)
		fprintf(stderr,
			"grader grade: %zu submissions (%zu graded, %zu unchanged, %zu errors, "
			"%zu missing) in %.1f s -> %s\n",
			sum.total, sum.graded, sum.reused, sum.failed, sum.missing, sum.wall,
			opts.output);
	code = 0;
done:
	free(ids);
	return code;
}
