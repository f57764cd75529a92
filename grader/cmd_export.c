/* cmd_export.c - `grader export` (placeholder until its module lands). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cmd_export(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: grader export (not yet available)\n");
		return 0;
	}
	fprintf(stderr, "grader export: not yet available in this build\n");
	return 2;
}
