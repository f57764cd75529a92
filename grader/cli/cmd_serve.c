/* cmd_serve.c - `grader serve`: options, help, exit codes. */
#include <getopt.h>
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
    "Signals: SIGTERM/SIGINT finish the running jobs and exit (queued jobs stay\n"
    "queued); SIGHUP reloads the config. The config's 'workers' (default: the\n"
    "number of CPUs) grade at once, each with a warm zygote per assignment.\n"
    "\n"
    "Exit status: 0 clean stop or a good config, 1 failure or a bad config, 2 usage.\n";

static void print_problem(void *payload, const char *line)
{
	(void)payload;
	fprintf(stderr, "grader serve: %s\n", line);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'k'},
	    {"listen", required_argument, NULL, 'l'}, {"state", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},   {"allow-weaker", no_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct srv_opts opts = {0};
	struct srv_config *cfg = NULL;
	struct gr_err err = {0};
	const char *config = NULL, *state = NULL;
	int check = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'l':
			opts.listen = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'u':
			opts.user = optarg;
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
	if (optind < argc || !config) {
		fprintf(stderr, "grader serve: %s\nSee 'grader serve --help'.\n",
			optind < argc ? "unexpected argument" : "--config is required");
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
