/* cmd_merge.c - `grader merge`: put the gradebooks of `grade --shard` together. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "grader/gradebook.h"
#include "grader/roster.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: grader merge PART.json... -o GRADEBOOK.json [--roster ROSTER.csv]\n"
		   "                    [--allow-missing]\n"
		   "\n"
		   "Write one gradebook from the parts written by grader grade --shard K/N.\n"
		   "The parts must hold the same assignment (the same rubric) and come from\n"
		   "the same grader version; a student in two parts is refused. Students and\n"
		   "submissions are written sorted by student id, as one grade run writes\n"
		   "them, whatever the parts' order: merging again writes the same file. The\n"
		   "parts are read as streams, one submission at a time.\n"
		   "\n"
		   "  -o, --output FILE   the gradebook to write (atomically)\n"
		   "  --roster FILE       every student of the roster must be in a part: those\n"
		   "                      that are not are named, and nothing is written\n"
		   "  --allow-missing     with --roster: name them but write the gradebook\n"
		   "\n"
		   "SIGTERM or SIGINT stops the merge: nothing is written, the output is left\n"
		   "as it was.\n"
		   "\n"
		   "Exit status: 0 when the gradebook was written, 1 when it was not, 2 on a\n"
		   "usage error, 128 + the signal's number (143, 130) when stopped by one.\n");
}

int cmd_merge(int argc, char **argv)
{
	static const struct cmd_opt table[] = {
	    {"output", 'o', 1, CMD_KEY_OUTPUT},
	    {"roster", 0, 1, 'R'},
	    {"allow-missing", 0, 0, 'm'},
	    {"help", 'h', 0, 0},
	    {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	const char *output, *roster_path = NULL;
	const char **expected = NULL;
	struct roster *roster = NULL;
	struct gr_err err = {0};
	const volatile sig_atomic_t *stop = cmd_catch_stop();
	size_t missing = 0;
	int c, allow_missing = 0, code = 1;

	cmd_opts_init(&p, table, argc, argv, CMD_OPTS_GETOPT_ERRORS);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case 'R':
			roster_path = p.arg;
			break;
		case 'm':
			allow_missing = 1;
			break;
		default:
			return cmd_opts_other(&p, c, "grader merge", usage);
		}
	}
	output = p.output;
	if (p.ind >= argc || !output)
		return cmd_usage_error(usage,
				       "grader merge: at least one part and -o are required");
	if (roster_path) {
		if (roster_load(&roster, roster_path, &err) < 0) {
			fprintf(stderr, "grader merge: %s\n", err.msg);
			goto done;
		}
		expected = calloc(roster->count + 1, sizeof(*expected));
		if (!expected) {
			fprintf(stderr, "grader merge: out of memory\n");
			goto done;
		}
		for (size_t i = 0; i < roster->count; i++)
			expected[i] = roster->students[i].student_id;
	}
	if (gb_merge(output, (const char *const *)argv + p.ind, (size_t)(argc - p.ind), expected,
		     allow_missing, stderr, &missing, stop, &err) < 0) {
		if (*stop) {
			fprintf(stderr, "grader merge: stopped by %s: nothing written to '%s'\n",
				cmd_stop_name(*stop), output);
			code = 128 + *stop;
		} else {
			fprintf(stderr, "grader merge: %s\n", err.msg);
		}
		goto done;
	}
	fprintf(stderr, "grader merge: %d parts -> %s%s\n", argc - p.ind, output,
		missing ? " (with students missing)" : "");
	code = 0;
done:
	free(expected);
	roster_free(roster);
	return code;
}
