/* cmd_doctor.c - `grader doctor` (placeholder until its module lands). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cmd_doctor(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: grader doctor (not yet available)\n");
		return 0;
	}
	fprintf(stderr, "grader doctor: not yet available in this build\n");
	return 2;
}
