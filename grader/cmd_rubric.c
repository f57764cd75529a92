/* cmd_rubric.c - `grader rubric` (placeholder until its module lands). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cmd_rubric(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: grader rubric (not yet available)\n");
		return 0;
	}
	fprintf(stderr, "grader rubric: not yet available in this build\n");
	return 2;
}
