/*
 * serve.h - `grader serve`: the autograding service.
 *
 * One course config (JSON, docs/serve.md) names the assignments (rubric,
 * which repositories belong to it and how to clone them), the roster, the
 * webhook secrets and the instructor token. The service is two processes:
 * an HTTP side (libmicrohttpd) that verifies webhooks, answers queries and
 * writes jobs into the state database, running as an unprivileged user; and
 * the grading side (root, for the sandbox) that takes jobs from that
 * database, fetches the exact commit with fetch_git_run, grades it with
 * batch_run into the assignment's gradebook (journal included, so `grader
 * export` reads it unchanged) and stores the result. The state database
 * (SQLite, WAL) is the only channel between them.
 */
#ifndef GRADER_SERVE_H
#define GRADER_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "grader/util.h"

/* The forges whose push webhooks are understood. */
enum srv_forge { SRV_GITHUB, SRV_GITLAB, SRV_GITEA, SRV_NFORGES };

/* Where a push's commit status goes (the forge's statuses API), or api NULL. */
struct srv_status {
	enum srv_forge forge;
	char *api;     /* "https://api.github.com", "https://gitlab.example.org/api/v4" */
	char *token;   /* the forge token allowed to set statuses */
	char *context; /* the status's name, "grader" by default */
};

struct srv_assignment {
	char *name;	  /* a safe folder name; the rubric's assignment */
	char *rubric;	  /* absolute path of the rubric JSON */
	char *repository; /* forge repository name with "{student}": "course/ps1-{student}" */
	char *clone;	  /* clone URL or path with "{student}" */
	char *branch;	  /* the branch graded; pushes to others are ignored */
	struct srv_status status;
};

/* A student's token for uploads and their own results. */
struct srv_token {
	char *student;
	char *token;
};

struct srv_config {
	char *path;		   /* the config file as given */
	char *listen;		   /* "127.0.0.1:8080" */
	char *state;		   /* state folder (absolute) */
	char *roster;		   /* absolute path of the roster CSV, or NULL */
	char *secret[SRV_NFORGES]; /* webhook secret of each forge, or NULL (disabled) */
	char *admin_token;	   /* instructor token, or NULL */
	size_t queue_max;	   /* jobs waiting at most; beyond: 429 */
	size_t per_student;	   /* jobs one student may have waiting */
	size_t workers;		   /* grading workers (default: the number of CPUs) */
	size_t request_seconds;	   /* a request's whole time at most, headers to body (120) */
	size_t header_seconds;	   /* a connection's time to a complete request's headers (10) */
	size_t per_ip;		   /* connections of one client address at most (64) */
	size_t buffer_mib;	   /* upload bytes held in memory across requests at most (256) */
	size_t hook_ip_mib;	   /* webhook body bytes held for one client address at most (2) */
	size_t fetch_mib;	   /* bytes one push's fetch may receive, and a student's cache
				      hold, at most (64) */
	size_t nassignments;
	struct srv_assignment *assignments;
	size_t ntokens;
	struct srv_token *tokens; /* from "student_tokens": lines "STUDENT_ID TOKEN" */
	char *callback_url;	  /* a JSON POST after every job, or NULL */
	char *callback_secret;	  /* its HMAC-SHA256 key */
};

/* Called with one line (no newline) per problem found in a config. */
typedef void (*srv_problem_fn)(void *payload, const char *line);

/*
 * Read and check a course config. Relative paths are taken from the config's
 * folder; secrets are read from the environment ({"env": NAME}) or a file
 * ({"file": PATH}), never from the config itself. Every problem is reported
 * through `problem` (when not NULL) as "FILE: what is wrong"; with any
 * problem the result is GR_EINVAL (err holds the first one). `state`, when
 * not NULL, overrides the config's state folder. *out: srv_config_free.
 */
int srv_config_load(struct srv_config **out, const char *path, const char *state,
		    srv_problem_fn problem, void *payload, struct gr_err *err);
void srv_config_free(struct srv_config *c);

/* ---- the client (libcurl) ---------------------------------------------- */

/*
 * POST the files to SERVER/api/v1/submissions as `assignment` (for `student`
 * when not NULL: the instructor's token), with the token; a folder goes as a zip of
 * its regular, non-hidden files (FOLDER.zip), less the names the service
 * refuses (timestamp.txt, .grader-*: its own), each said to `left_out` in one
 * line. *out is the server's JSON reply (json_decref it), *status its HTTP
 * status. GR_EIO when the server cannot be reached.
 */
int srv_client_submit(json_t **out, long *status, const char *server, const char *token,
		      const char *assignment, const char *student, char *const *files,
		      size_t nfiles, srv_problem_fn left_out, void *payload, struct gr_err *err);

/* GET SERVER/PATH with the token; the reply as above. */
int srv_client_get(json_t **out, long *status, const char *server, const char *token,
		   const char *path, struct gr_err *err);

/* ---- running ------------------------------------------------------------- */

struct srv_opts {
	const char *listen;   /* overrides the config's */
	const char *user;     /* unprivileged user of the HTTP side, or NULL */
	int allow_weaker;     /* grade with a sandbox protection missing */
	const char *git_user; /* https credentials for fetching (fetch_opts) */
	const char *git_token;
};

/*
 * Run the service until SIGTERM or SIGINT: the HTTP side in a child process
 * (as opts->user when given), the grading side in this one and its
 * cfg->workers worker processes. SIGTERM lets the running jobs finish; queued
 * jobs stay queued. Logs one line per request and
 * per job on stderr. Returns 0 after a clean stop.
 */
int srv_run(const struct srv_config *cfg, const struct srv_opts *opts, struct gr_err *err);

#endif
