/* cmd_ci.c - `grader ci` (placeholder until its module lands). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cmd_ci(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: grader ci (not yet available)\n");
		return 0;
	}
	fprintf(stderr, "grader ci: not yet available in this build\n");
	return 2;
}
