/* cmd_grade.c - `grader grade`: grade a folder of submissions into a gradebook. */
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
		"                    [--student ID,...] [--merge] [--roster ROSTER.csv] [-j N] "
		"[--force]\n"
		"                    [--late-unknown none|zero|flag] [--autograded DIR | "
		"--no-autograded]\n"
		"                    [--shard K/N] [--allow-weaker] [--quiet]\n"
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
		"  --merge             with --student: keep the other students' results already\n"
		"                      in the gradebook (without it such a gradebook is refused;\n"
		"                      a gradebook of another assignment always is)\n"
		"  --autograded DIR    also write nbgrader's DIR/{student}/{assignment}/*.ipynb:\n"
		"                      the notebooks as run, with outputs, and timestamp.txt\n"
		"                      (nbgrader generate_feedback and formgrader read them);\n"
		"                      the default when DIR/../nbgrader_config.py exists is\n"
		"                      the course's autograded/ folder beside submitted/\n"
		"  --no-autograded     write no autograded notebooks\n"
		"  --late-unknown HOW  under a due date and late policy, a submission whose\n"
		"                      time is unreadable, or unknown but marked late by the\n"
		"                      LMS (Canvas): flag (default: no penalty, flagged\n"
		"                      late_unknown for review), none (no penalty), or zero\n"
		"                      (the penalty takes the whole score); docs/scoring.md\n"
		"  --shard K/N         grade only part K (1 to N) of N: the students whose\n"
		"                      sha256(id) mod N is K-1, so the N parts never overlap;\n"
		"                      -o is that part's gradebook (and journal), put\n"
		"                      together with grader merge (docs/deploy/README.md)\n"
		"  --allow-weaker      run even when a sandbox protection is missing here\n"
		"  -q, --quiet         no progress output\n"
		"\n"
		"SIGTERM or SIGINT (scancel, a deleted pod, Ctrl-C) stops the run: the\n"
		"sandboxes are killed, the journal keeps what finished (the same command\n"
		"resumes), the work directories are removed, one line says what was kept.\n"
		"\n"
		"Exit status: 0 when the gradebook was written (a student's failure is\n"
		"recorded in their entry), 1 when it could not be, 2 on a usage error,\n"
		"128 + the signal's number (143, 130) when stopped by a signal.\n");
}

/*
 * Inside an nbgrader course folder (SUBMITTED/../nbgrader_config.py) the
 * autograded notebooks go where nbgrader puts them, beside submitted/.
 */
static char *course_autograded(const char *submissions)
{
	char *parent = NULL, *cfg = NULL, *out = NULL;
	size_t n = strlen(submissions);

	while (n > 1 && submissions[n - 1] == '/')
		n--;
	while (n > 0 && submissions[n - 1] != '/')
		n--;
	if (asprintf(&parent, "%.*s", n ? (int)n - (n > 1) : 1, n ? submissions : ".") < 0)
		return NULL;
	if (asprintf(&cfg, "%s/nbgrader_config.py", parent) >= 0 && access(cfg, F_OK) == 0 &&
	    asprintf(&out, "%s/autograded", parent) < 0)
		out = NULL;
	free(cfg);
	free(parent);
	return out;
}

/* "K/N", 1-based as Slurm's --array=1-N counts (Kubernetes' index is K-1). */
static int parse_shard(const char *arg, struct batch_opts *opts)
{
	const char *slash = strchr(arg, '/');
	char *k = NULL;
	long long kv, nv;
	int rc;

	if (!slash || asprintf(&k, "%.*s", (int)(slash - arg), arg) < 0)
		return -1;
	rc = cmd_parse_long(k, 1, 65536, &kv) < 0 || cmd_parse_long(slash + 1, 1, 65536, &nv) < 0 ||
		     kv > nv
		 ? -1
		 : 0;
	free(k);
	if (rc)
		return rc;
	opts->shard = (unsigned)kv;
	opts->shards = (unsigned)nv;
	return 0;
}

/* The value of --late-unknown, -j or --shard (key c) into opts: 0, or 2 after a usage error. */
static int checked_option(int c, const char *arg, struct batch_opts *opts)
{
	long long jobs;

	switch (c) {
	case 'L':
		if (!strcmp(arg, "flag"))
			opts->late_unknown = BATCH_LATE_UNKNOWN_FLAG;
		else if (!strcmp(arg, "none"))
			opts->late_unknown = BATCH_LATE_UNKNOWN_NONE;
		else if (!strcmp(arg, "zero"))
			opts->late_unknown = BATCH_LATE_UNKNOWN_ZERO;
		else {
			fprintf(stderr,
				"grader grade: --late-unknown takes none, zero or flag, "
				"not '%s'\n",
				arg);
			return 2;
		}
		break;
	case 'j':
		if (cmd_parse_long(arg, 1, 256, &jobs) < 0) {
			fprintf(stderr, "grader grade: -j takes a number from 1 to 256, not '%s'\n",
				arg);
			return 2;
		}
		opts->jobs = (unsigned)jobs;
		break;
	case 'K':
		if (parse_shard(arg, opts) < 0) {
			fprintf(stderr,
				"grader grade: --shard takes K/N with 1 <= K <= N <= "
				"65536, not '%s'\n",
				arg);
			return 2;
		}
		break;
	}
	return 0;
}

int cmd_grade(int argc, char **argv)
{
	static const struct cmd_opt table[] = {
	    {"rubric", 0, 1, CMD_KEY_RUBRIC},
	    {"submissions", 0, 1, 's'},
	    {"output", 'o', 1, CMD_KEY_OUTPUT},
	    {"student", 0, 1, CMD_KEY_STUDENT},
	    {"roster", 0, 1, 'R'},
	    {"jobs", 'j', 1, 0},
	    {"force", 0, 0, 'f'},
	    {"merge", 0, 0, 'M'},
	    {"allow-weaker", 0, 0, 'w'},
	    {"late-unknown", 0, 1, 'L'},
	    {"quiet", 'q', 0, 0},
	    {"autograded", 0, 1, 'A'},
	    {"no-autograded", 0, 0, 'N'},
	    {"shard", 0, 1, 'K'},
	    {"help", 'h', 0, 0},
	    {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	struct batch_opts opts;
	struct batch_summary sum = {0};
	struct gr_err err = {0};
	char **ids = NULL;
	char *course_auto = NULL;
	int c, quiet = 0, code = 1, no_auto = 0;

	batch_opts_init(&opts);
	cmd_opts_init(&p, table, argc, argv, CMD_OPTS_GETOPT_ERRORS);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case 's':
			opts.submissions = p.arg;
			break;
		case 'R':
			opts.roster = p.arg;
			break;
		case 'f':
			opts.force = 1;
			break;
		case 'M':
			opts.merge = 1;
			break;
		case 'w':
			opts.allow_weaker = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'A':
			opts.autograded = p.arg;
			break;
		case 'N':
			no_auto = 1;
			break;
		case 'L':
		case 'j':
		case 'K':
			if (checked_option(c, p.arg, &opts))
				return 2;
			break;
		default:
			return cmd_opts_other(&p, c, "grader grade", usage);
		}
	}
	opts.rubric = p.rubric;
	opts.output = p.output;
	if (p.ind < argc || !opts.rubric || !opts.submissions || !opts.output)
		return cmd_usage_error(usage,
				       "grader grade: --rubric, --submissions and -o are required");
	if (no_auto && opts.autograded) {
		fprintf(stderr,
			"grader grade: --autograded and --no-autograded exclude each other\n");
		return 2;
	}
	if (!no_auto && !opts.autograded) {
		course_auto = course_autograded(opts.submissions);
		opts.autograded = course_auto;
	}
	if (p.student) {
		if (gr_split_list(&ids, p.student) < 0) {
			fprintf(stderr, "grader grade: out of memory\n");
			return 1;
		}
		opts.students = (const char *const *)ids;
	}
	opts.log = quiet ? NULL : stderr;
	opts.stop = cmd_catch_stop();
	if (batch_run(&opts, &sum, &err) < 0) {
		if (*opts.stop) {
			fprintf(stderr, "grader grade: stopped by %s: %s; run again to resume\n",
				cmd_stop_name(*opts.stop), err.msg);
			code = 128 + *opts.stop;
		} else {
			fprintf(stderr, "grader grade: %s\n", err.msg);
		}
		goto done;
	}
	if (!quiet) {
		/* the parts add up to the total: each submission is counted once */
		char kept[48] = "";

		if (sum.kept)
			snprintf(kept, sizeof(kept), ", %zu kept", sum.kept);
		fprintf(stderr,
			"grader grade: %zu submissions (%zu graded, %zu unchanged, %zu errors, "
			"%zu missing%s) in %.1f s -> %s\n",
			sum.total, sum.graded, sum.reused, sum.failed, sum.missing, kept, sum.wall,
			opts.output);
	}
	code = 0;
done:
	free(ids);
	free(course_auto);
	return code;
}
