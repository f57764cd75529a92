/*
 * cmd_submit.c - `grader submit`: upload files to a `grader serve`, wait for
 * the grade and print the per-question table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "grader/serve.h"

static const char usage_text[] =
    "usage: grader submit --server URL --assignment NAME [--no-wait] [--timeout S] FILE...\n"
    "\n"
    "Upload FILE... (the notebook and any files it needs) to a grading service\n"
    "started with 'grader serve', wait until it is graded and print the score of\n"
    "each question. FILE may also be one .zip, or one folder (sent as a zip of\n"
    "its files; hidden files, links and special files are left out, and so are\n"
    "names the service refuses, such as timestamp.txt, which it writes itself:\n"
    "those are named on stderr). The token comes from GRADER_TOKEN (the\n"
    "student's own, or the instructor's with --student).\n"
    "\n"
    "  --server URL        the service, e.g. https://grader.example.org\n"
    "  --assignment NAME   the assignment (required)\n"
    "  --student ID        with the instructor's token: submit for this student\n"
    "  --no-wait           print the job id and exit once the upload is accepted\n"
    "  --timeout S         wait at most S seconds for the grade (default 600)\n"
    "  --help              show this help\n"
    "\n"
    "Exit status: 0 graded (or accepted with --no-wait), 1 refused, failed or\n"
    "timed out, 2 usage error.\n";

static void left_out(void *payload, const char *line)
{
	(void)payload;
	fprintf(stderr, "grader submit: %s\n", line);
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void print_table(json_t *sub)
{
	json_t *nr, *gr;
	size_t i, k;

	printf("%-28s %7s %7s  %s\n", "question", "score", "max", "status");
	json_array_foreach(json_object_get(sub, "notebooks"), i, nr)
	{
		const char *msg = json_string_value(json_object_get(nr, "message"));

		if (msg)
			printf("%-28s %7s %7s  %s\n",
			       json_string_value(json_object_get(nr, "name")), "", "", msg);
		json_array_foreach(json_object_get(nr, "grades"), k, gr)
		{
			json_t *auto_score = json_object_get(gr, "auto_score");
			char score[32];

			if (json_is_number(auto_score))
				snprintf(score, sizeof(score), "%g", json_number_value(auto_score));
			else
				snprintf(score, sizeof(score), "-");
			printf("%-28s %7s %7g  %s%s\n",
			       json_string_value(json_object_get(gr, "grade_id")), score,
			       num(gr, "max_score"),
			       json_string_value(json_object_get(gr, "status")),
			       json_is_true(json_object_get(gr, "hidden_tests")) ? " (hidden tests)"
										 : "");
		}
	}
	printf("\nscore %g of %g", num(sub, "score"), num(sub, "max_score"));
	if (num(sub, "late_submission_penalty") > 0)
		printf(" (late: %g points off)", num(sub, "late_submission_penalty"));
	printf("\n");
}

/* Poll the job until it is done or failed; 0 graded, 1 otherwise. */
static int wait_job(const char *server, const char *token, long long id, int timeout)
{
	char path[64];
	struct gr_err err = {0};

	snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
	for (int waited = 0; waited <= timeout; waited++) {
		json_t *j = NULL;
		long status = 0;
		const char *state;

		if (srv_client_get(&j, &status, server, token, path, &err) < 0) {
			fprintf(stderr, "grader submit: %s\n", err.msg);
			return 1;
		}
		state = json_string_value(json_object_get(j, "state"));
		if (status != 200 || !state) {
			const char *e = json_string_value(json_object_get(j, "error"));
			fprintf(stderr, "grader submit: job %lld: %s\n", id, e ? e : "no state");
			json_decref(j);
			return 1;
		}
		if (!strcmp(state, "done") || !strcmp(state, "failed") ||
		    !strcmp(state, "superseded")) {
			int rc = strcmp(state, "done") != 0;

			if (!rc)
				print_table(json_object_get(j, "submission"));
			else
				fprintf(stderr, "grader submit: job %lld %s%s%s\n", id, state,
					json_object_get(j, "error") ? ": " : "",
					json_object_get(j, "error")
					    ? json_string_value(json_object_get(j, "error"))
					    : "");
			json_decref(j);
			return rc;
		}
		json_decref(j);
		sleep(1);
	}
	fprintf(stderr, "grader submit: job %lld not graded after %d s\n", id, timeout);
	return 1;
}

int cmd_submit(int argc, char **argv)
{
	static const struct cmd_opt table[] = {
	    {"server", 0, 1, 's'},
	    {"assignment", 0, 1, CMD_KEY_ASSIGNMENT},
	    {"student", 0, 1, CMD_KEY_STUDENT},
	    {"no-wait", 0, 0, 'n'},
	    {"timeout", 0, 1, 't'},
	    {"help", 0, 0, 'h'},
	    {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	const char *server = NULL;
	const char *token = getenv("GRADER_TOKEN");
	struct gr_err err = {0};
	int nowait = 0, timeout = 600, c, rc;
	json_t *reply = NULL;
	long status = 0;
	long long id;

	cmd_opts_init(&p, table, argc, argv, CMD_OPTS_GETOPT_ERRORS);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case 's':
			server = p.arg;
			break;
		case 'n':
			nowait = 1;
			break;
		case 't':
			timeout = atoi(p.arg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "See 'grader submit --help'.\n");
			return 2;
		}
	}
	if (!server || !p.assignment || p.ind >= argc || timeout < 0) {
		fprintf(stderr, "grader submit: --server, --assignment and a FILE are required\n"
				"See 'grader submit --help'.\n");
		return 2;
	}
	if (!token || !token[0]) {
		fprintf(stderr, "grader submit: set GRADER_TOKEN to your token\n");
		return 2;
	}
	rc = srv_client_submit(&reply, &status, server, token, p.assignment, p.student,
			       argv + p.ind, (size_t)(argc - p.ind), left_out, NULL, &err);
	if (rc) {
		fprintf(stderr, "grader submit: %s\n", err.msg);
		return 1;
	}
	if (status != 202) {
		const char *e = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "grader submit: refused (%ld): %s\n", status, e ? e : "?");
		json_decref(reply);
		return 1;
	}
	id = json_integer_value(json_object_get(reply, "job"));
	json_decref(reply);
	fprintf(stderr, "grader submit: accepted as job %lld\n", id);
	if (nowait) {
		printf("%lld\n", id);
		return 0;
	}
	return wait_job(server, token, id, timeout);
}
