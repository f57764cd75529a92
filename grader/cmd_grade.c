/* cmd_grade.c - `grader grade` (placeholder until its module lands). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cmd_grade(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: grader grade (not yet available)\n");
		return 0;
	}
	fprintf(stderr, "grader grade: not yet available in this build\n");
	return 2;
}
