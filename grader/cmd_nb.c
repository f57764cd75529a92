/* cmd_nb.c - `grader nb` (placeholder until its module lands). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cmd_nb(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: grader nb (not yet available)\n");
		return 0;
	}
	fprintf(stderr, "grader nb: not yet available in this build\n");
	return 2;
}
