/* cmd_serve.c - `grader serve`: options, help, exit codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "grader/serve.h"

static const char usage_text[] =
    "usage: grader serve --config COURSE.json [--listen ADDR:PORT] [--state DIR]\n"
    "                    [--user NAME] [--allow-weaker]\n"
    "       grader serve --config COURSE.json --check-config\n"
    "\n"
    "Run the autograding service: push webhooks from GitHub, GitLab and Gitea\n"
    "(POST /hooks/github, /hooks/gitlab, /hooks/gitea) queue a job that fetches the\n"
    "pushed commit and grades it with the assignment's rubric; results are kept in\n"
    "the state folder (SQLite) and in STATE/gradebooks/ASSIGNMENT.json, which\n"
    "'grader export' reads. The config's format is in docs/serve.md.\n"
    "\n"
    "options:\n"
    "  --config FILE        the course config (required)\n"
    "  --check-config       check the config, one line per problem, and exit\n"
    "  --listen ADDR:PORT   listen here instead of the config's 'listen'\n"
    "  --state DIR          state folder instead of the config's 'state'\n"
    "  --user NAME          run the HTTP side as this unprivileged user (required\n"
    "                       when started as root)\n"
    "  --allow-weaker       grade even with a sandbox protection missing\n"
    "  --help               show this help\n"
    "\n"
    "environment: GRADER_GIT_TOKEN (https token for private repositories),\n"
    "GRADER_GIT_USER (its user name); the config's secrets by their names.\n"
    "\n"
    "Signals: SIGTERM/SIGINT finish the running job and exit (queued jobs stay\n"
    "queued); SIGHUP reloads the config.\n"
    "\n"
    "Exit status: 0 clean stop or a good config, 1 failure or a bad config, 2 usage.\n";

static void print_problem(void *payload, const char *line)
{
	(void)payload;
	fprintf(stderr, "grader serve: %s\n", line);
}

int cmd_serve(int argc, char **argv)
{
	static const struct cmd_opt table[] = {
	    {"config", 0, 1, 'c'}, {"check-config", 0, 0, 'k'},
	    {"listen", 0, 1, 'l'}, {"state", 0, 1, 's'},
	    {"user", 0, 1, 'u'},   {"allow-weaker", 0, 0, 'w'},
	    {"help", 0, 0, 'h'},   {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	struct srv_opts opts = {0};
	struct srv_config *cfg = NULL;
	struct gr_err err = {0};
	const char *config = NULL, *state = NULL;
	int check = 0, c, rc;

	cmd_opts_init(&p, table, argc, argv, CMD_OPTS_GETOPT_ERRORS);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case 'c':
			config = p.arg;
			break;
		case 'k':
			check = 1;
			break;
		case 'l':
			opts.listen = p.arg;
			break;
		case 's':
			state = p.arg;
			break;
		case 'u':
			opts.user = p.arg;
			break;
		case 'w':
			opts.allow_weaker = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "See 'grader serve --help'.\n");
			return 2;
		}
	}
	if (p.ind < argc || !config) {
		fprintf(stderr, "grader serve: %s\nSee 'grader serve --help'.\n",
			p.ind < argc ? "unexpected argument" : "--config is required");
		return 2;
	}
	rc = srv_config_load(&cfg, config, state, print_problem, NULL, &err);
	if (rc == GR_EINVAL)
		return 1; /* every problem was printed */
	if (rc) {
		fprintf(stderr, "grader serve: %s\n", err.msg);
		return 1;
	}
	if (check) {
		printf("config '%s' is valid: %zu assignment(s)\n", config, cfg->nassignments);
		srv_config_free(cfg);
		return 0;
	}
	if (geteuid() == 0 && !opts.user) {
		fprintf(stderr, "grader serve: the HTTP side does not run as root: give --user "
				"NAME (an unprivileged account)\n");
		srv_config_free(cfg);
		return 2;
	}
	opts.git_token = getenv("GRADER_GIT_TOKEN");
	opts.git_user = getenv("GRADER_GIT_USER");
	rc = srv_run(cfg, &opts, &err);
	if (rc)
		fprintf(stderr, "grader serve: %s\n", err.msg);
	srv_config_free(cfg);
	return rc ? 1 : 0;
}
