/* main.c - `grader` entry point: dispatches subcommands from one table. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"fetch", cmd_fetch, "collect submissions from git repositories or archives"},
    {"rubric", cmd_rubric, "build, release and publish rubrics from nbgrader notebooks"},
    {"grade", cmd_grade, "grade a folder of submissions into a gradebook"},
    {"merge", cmd_merge, "merge the gradebooks of a sharded grade run (grade --shard)"},
    {"export", cmd_export,
     "export a gradebook (nbgrader-db, csv, gradescope, junit, markdown, items)"},
    {"feedback", cmd_feedback, "write feedback pages for students (HTML or Markdown)"},
    {"report", cmd_report, "the course report: score histogram, item analysis, flagged work"},
    {"ci", cmd_ci, "grade one working tree in a student's CI job"},
    {"serve", cmd_serve, "run the autograding service (webhooks, queue, results)"},
    {"submit", cmd_submit, "upload work to a grading service and print its grade"},
    {"nb", cmd_nb, "run notebooks in the sandbox and report per-cell results"},
    {"run", cmd_run, "run one command in the sandbox"},
    {"doctor", cmd_doctor, "report which sandbox protections this host provides"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: grader [--version] [--help] <command> [<args>]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee 'grader help <command>' for a command's options.\n");
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *c;
	int code;

	if (cmd_help_asked(argc, argv, usage, &code))
		return code;
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("grader %s\n", GRADER_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		c = find(argv[2]);
		if (!c) {
			fprintf(stderr, "grader: unknown command '%s'\n", argv[2]);
			return 2;
		}
		char *help_argv[] = {argv[2], "--help", NULL};
		return c->fn(2, help_argv);
	}
	c = find(argv[1]);
	if (!c)
		return cmd_usage_error(usage, "grader: unknown command '%s'", argv[1]);
	return c->fn(argc - 1, argv + 1);
}
