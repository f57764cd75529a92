/*
 * cmd.h - the subcommands of the `grader` CLI, one cmd_<name>.c each.
 *
 * Each takes argv with argv[0] set to the subcommand's name, prints its own
 * usage on `--help`, and returns the process exit code: 0 ok, 1 failure,
 * 2 usage error.
 */
#ifndef GRADER_CMD_H
#define GRADER_CMD_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

int cmd_run(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_nb(int argc, char **argv);
int cmd_rubric(int argc, char **argv);
int cmd_grade(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_ci(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_feedback(int argc, char **argv);

/*
 * Stop signals (cmd_stop.c): catch SIGTERM and SIGINT into a flag (set to the
 * signal's number) and return it, for batch_opts.stop and gb_merge; the
 * command then exits with 128 + *flag. cmd_stop_name: "SIGTERM", "SIGINT".
 */
const volatile sig_atomic_t *cmd_catch_stop(void);
const char *cmd_stop_name(int sig);

/*
 * Option values (cmd_opt.c): the whole string must be the number. Each
 * returns 0 with *out set, or -1 (out untouched) for the caller to print a
 * usage error naming the flag.
 */
/* A decimal number in [min, max] (NaN and trailing text refused). */
int cmd_parse_double(const char *s, double min, double max, double *out);
/* A decimal integer in [min, max]. */
int cmd_parse_long(const char *s, long long min, long long max, long long *out);
/* A byte count with an optional k/M/G suffix (powers of 1024, "KiB"/"MB" accepted). */
int cmd_parse_size(const char *s, uint64_t *out);

/*
 * Options (cmd_opt.c): each subcommand describes its options in one table
 * and reads them with cmd_opts_next (getopt_long underneath: --name VALUE,
 * --name=VALUE, unambiguous abbreviations, -kVALUE, operands anywhere
 * unless CMD_OPTS_IN_ORDER). Each subcommand words its own errors.
 */
#define CMD_OPTS_MAX 40

struct cmd_opt {
	const char *name; /* long name, without "--" */
	int letter;	  /* its short form (-o), or 0 */
	int value;	  /* 1: takes a value */
	int key;	  /* what cmd_opts_next returns; 0: the letter */
};

enum {
	CMD_OPTS_IN_ORDER = 1,	    /* options end at the first operand (`grader run ... CMD`) */
	CMD_OPTS_GETOPT_ERRORS = 2, /* getopt prints its own message for a bad option (a
				       missing value is then CMD_OPT_UNKNOWN too) */
};

/*
 * Keys of the options several commands take: cmd_opts_next stores the value
 * of an entry with one of these keys in the field of struct cmd_opts named
 * after it (the last one given wins) and goes on to the next option, so a
 * command's switch holds only its own: {"output", 'o', 1, CMD_KEY_OUTPUT}.
 */
enum {
	CMD_KEY_OUTPUT = 0x10000, /* above any key of a command's own (letters, 256..) */
	CMD_KEY_ASSIGNMENT,
	CMD_KEY_STUDENT,
	CMD_KEY_RUBRIC,
	CMD_KEY_GRADEBOOK,
};

/* Returned by cmd_opts_next for an unknown option and for one missing its value. */
#define CMD_OPT_UNKNOWN '?'
#define CMD_OPT_MISSING ':'

struct cmd_opts {
	int argc;
	char **argv;
	char *arg;	  /* the value of the option just read (optarg) */
	const char *name; /* its long name when it was given long, else NULL */
	const char *bad;  /* the argument refused (CMD_OPT_UNKNOWN, CMD_OPT_MISSING) */
	int ind;	  /* after the last option: the first operand's index */
	/* the values of the CMD_KEY_ options, NULL when not given */
	const char *output, *assignment, *student, *rubric, *gradebook;
	/* private */
	const struct cmd_opt *table;
	unsigned flags;
	struct option longs[CMD_OPTS_MAX + 1];
	char shorts[2 * CMD_OPTS_MAX + 3];
};

/* Start reading argv (argv[0]: the subcommand's name) with `table` (ends with {NULL}). */
void cmd_opts_init(struct cmd_opts *p, const struct cmd_opt *table, int argc, char **argv,
		   unsigned flags);
/*
 * The next option's key, -1 after the last one (p->ind is then the first
 * operand), or CMD_OPT_UNKNOWN / CMD_OPT_MISSING with p->bad set.
 */
int cmd_opts_next(struct cmd_opts *p);

/* A command's usage printer: its help text to f (stdout for --help, stderr after an error). */
typedef void cmd_usage_fn(FILE *f);

/*
 * The last case of an option switch, for any key the command's own cases do
 * not take: -h/--help prints usage on stdout and gives exit code 0; anything
 * else is a usage error, worded "CMD: unknown or incomplete option 'X'"
 * (unless getopt worded it, CMD_OPTS_GETOPT_ERRORS), usage on stderr, code 2.
 */
int cmd_opts_other(const struct cmd_opts *p, int key, const char *cmd, cmd_usage_fn *usage);

/*
 * The single operand after the options, named `what` in the messages:
 * argv[p->ind], or NULL after "CMD: missing WHAT" / "CMD: expected one WHAT"
 * and usage on stderr (the caller returns 2).
 */
const char *cmd_opts_one_operand(const struct cmd_opts *p, const char *cmd, const char *what,
				 cmd_usage_fn *usage);

/* A usage error: the message line (printf-style) and usage on stderr; returns 2, the exit code. */
int cmd_usage_error(cmd_usage_fn *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The head of a command that dispatches on argv[1] (main, `grader nb`): with
 * no argument, usage on stderr and *code 2; with -h/--help, usage on stdout
 * and *code 0. Returns true when it answered (exit with *code), else false.
 */
bool cmd_help_asked(int argc, char **argv, cmd_usage_fn *usage, int *code);

#endif
