/*
 * cmd.h - the subcommands of the `grader` CLI, one cmd_<name>.c each.
 *
 * Each takes argv with argv[0] set to the subcommand's name, prints its own
 * usage on `--help`, and returns the process exit code: 0 ok, 1 failure,
 * 2 usage error.
 */
#ifndef GRADER_CMD_H
#define GRADER_CMD_H

#include <stdint.h>

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

#endif
