/*
 * cmd.h - the subcommands of the `grader` CLI, one cmd_<name>.c each.
 *
 * Each takes argv with argv[0] set to the subcommand's name, prints its own
 * usage on `--help`, and returns the process exit code: 0 ok, 1 failure,
 * 2 usage error.
 */
#ifndef GRADER_CMD_H
#define GRADER_CMD_H

int cmd_run(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_nb(int argc, char **argv);
int cmd_rubric(int argc, char **argv);
int cmd_grade(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_ci(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
