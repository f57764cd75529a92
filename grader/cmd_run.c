/* cmd_run.c - `grader run` (placeholder until its module lands). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cmd_run(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: grader run (not yet available)\n");
		return 0;
	}
	fprintf(stderr, "grader run: not yet available in this build\n");
	return 2;
}
