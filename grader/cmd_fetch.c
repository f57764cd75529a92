/* cmd_fetch.c - `grader fetch` (placeholder until its module lands). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cmd_fetch(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: grader fetch (not yet available)\n");
		return 0;
	}
	fprintf(stderr, "grader fetch: not yet available in this build\n");
	return 2;
}
