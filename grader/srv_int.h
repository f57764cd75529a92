/*
 * srv_int.h - private to the service (grader/srv_*.c): the state database,
 * the HTTP side and the grading side.
 */
#ifndef GRADER_SRV_INT_H
#define GRADER_SRV_INT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "grader/serve.h"

/* Largest request body accepted (webhooks and uploads alike). */
#define SRV_BODY_MAX ((size_t)1 << 20)
#define SRV_DB_NAME "db/grader.sqlite"
/* Below this much free space in the state folder nothing new is accepted or started. */
#define SRV_MIN_FREE ((unsigned long long)2 << 20)
/* Tries of a job the host (not the student) failed, before it is marked failed. */
#define SRV_ATTEMPTS_MAX 5

/* ---- the course config (srv_config.c) ------------------------------------ */

/* "github", "gitlab", "gitea" (NULL when out of range). */
const char *srv_forge_name(enum srv_forge f);

/* The student whose token `token` is (every token compared in constant time), or NULL. */
const char *srv_config_token_student(const struct srv_config *c, const char *token);

/* The assignment named `name`, or NULL. */
const struct srv_assignment *srv_config_assignment(const struct srv_config *c, const char *name);

/*
 * Match a forge repository name against the assignments' patterns: on a
 * match *a is the assignment and student (heap, caller frees) the id that
 * took the place of "{student}". GR_ENOTFOUND when no assignment matches.
 */
int srv_config_match(const struct srv_assignment **a, char **student, const struct srv_config *c,
		     const char *repository);

/* ---- webhooks ------------------------------------------------------------ */

/* A verified push. Strings are heap copies (srv_push_release). */
struct srv_push {
	enum srv_forge forge;
	char *delivery;	   /* the forge's delivery id (replays are refused by it) */
	char *event;	   /* "push", "ping", "Push Hook", ... */
	char *repository;  /* "course/ps1-alice" */
	char *ref;	   /* "refs/heads/main" */
	char *after;	   /* the new tip (40 hex) */
	char *commit_time; /* head commit timestamp as sent, or NULL */
	int deleted;	   /* the push deleted the branch */
};

/*
 * Check a delivery's authenticity before looking at its body: the forge's
 * header (X-Hub-Signature-256 "sha256=HEX", X-Gitlab-Token, X-Gitea-Signature
 * "HEX") against `secret` in constant time over the raw body. GR_EDENIED
 * with the reason when missing or wrong.
 */
int srv_hook_verify(enum srv_forge forge, const char *secret, const char *signature,
		    const void *body, size_t len, struct gr_err *err);

/*
 * Parse a verified push body and its headers (event, delivery). GR_EINVAL
 * for malformed JSON or a push without the fields we need.
 */
int srv_hook_parse(struct srv_push *out, enum srv_forge forge, const char *event,
		   const char *delivery, const void *body, size_t len, struct gr_err *err);
void srv_push_release(struct srv_push *p);

/* Whether `event` names a push on that forge ("push", GitLab's "Push Hook"). */
int srv_hook_is_push(enum srv_forge forge, const char *event);

/* Lowercase hex HMAC-SHA256 of data keyed by key (out: 65 bytes). */
void srv_hmac_sha256_hex(char out[65], const char *key, const void *data, size_t len);

/* ---- the state database (srv_store.c) ------------------------------------ */

struct srv_store;

/*
 * Open (creating) STATE/db/grader.sqlite in WAL mode, with the schema.
 * Both sides open their own connection; SQLite's locks order them.
 */
int srv_store_open(struct srv_store **out, const char *state, struct gr_err *err);
void srv_store_close(struct srv_store *s);

/* A job to enqueue: strings borrowed. */
struct srv_job_in {
	const char *assignment, *student;
	const char *kind;     /* "push" or "upload" */
	const char *forge;    /* or NULL */
	const char *delivery; /* forge delivery id (unique per forge), or NULL */
	const char *repository;
	const char *commit; /* or NULL for uploads */
	const char *commit_time;
	double received; /* wall clock, seconds since the epoch */
};

/* Outcomes of srv_store_enqueue besides 0 (queued) and GR_E* errors. */
enum {
	SRV_REPLAY = 1,	      /* the delivery id was seen before */
	SRV_QUEUE_FULL = 2,   /* queue_max jobs wait already */
	SRV_STUDENT_FULL = 3, /* this student has per_student jobs waiting */
};

/* One uploaded file: a plain name and its bytes. */
struct srv_file {
	char *name;
	struct gr_buf data;
};

/* Free n files and the array. */
void srv_files_free(struct srv_file *f, size_t n);

/*
 * In one transaction: refuse a replayed delivery, a full queue or a
 * student over their limit; else record the delivery, the job (*id) and,
 * for an upload, its files. GR_ELIMIT when the disk is full.
 */
int srv_store_enqueue(struct srv_store *s, const struct srv_job_in *in,
		      const struct srv_file *files, size_t nfiles, size_t queue_max,
		      size_t per_student, long long *id, struct gr_err *err);

/* The files of upload job `id` (*out: srv_files_free). */
int srv_store_files(struct srv_store *s, long long id, struct srv_file **out, size_t *n,
		    struct gr_err *err);

/* Record a delivery that queued nothing (ignored push): replays still refused. */
int srv_store_delivery(struct srv_store *s, const char *forge, const char *delivery,
		       double received, struct gr_err *err);

/* A job taken by the grading side (heap strings; srv_job_release). */
struct srv_job {
	long long id;
	char *assignment, *student, *kind, *repository, *commit, *commit_time;
	double received;
	int attempts;
};
void srv_job_release(struct srv_job *j);

/* Put one taken job back in the queue (the host failed it). */
int srv_store_requeue(struct srv_store *s, long long id, struct gr_err *err);

/* Put jobs left running by a dead grading side back in the queue; *n of them. */
int srv_store_recover(struct srv_store *s, int *n, struct gr_err *err);

/*
 * Take the oldest queued job and mark it running; when the same student has
 * newer jobs for the same assignment, the newest is taken instead and the
 * older ones are marked superseded (*superseded of them). GR_ENOTFOUND when
 * nothing waits.
 */
int srv_store_take(struct srv_store *s, struct srv_job *out, int *superseded, struct gr_err *err);

/*
 * Finish a job: "done" with the submission JSON (and the student's view of
 * it, hidden tests' output removed) and score, or "failed" with why.
 */
int srv_store_finish(struct srv_store *s, long long id, const char *state, const char *error,
		     const char *result, const char *student_result, double score, double max_score,
		     struct gr_err *err);

/*
 * GET helpers: new JSON objects, or GR_ENOTFOUND. With student_view the
 * submission is the student's view. The result is the student's newest done job.
 */
int srv_store_job_json(struct srv_store *s, long long id, int student_view, json_t **out,
		       struct gr_err *err);
int srv_store_result_json(struct srv_store *s, const char *assignment, const char *student,
			  int student_view, json_t **out, struct gr_err *err);
/* Counts of jobs by state {"queued": n, ...} and the recent jobs, for / and /metrics. */
int srv_store_stats(struct srv_store *s, json_t **out, size_t recent, struct gr_err *err);

/*
 * A cumulative histogram of `expr` (a column expression of ours, e.g.
 * "finished-started") over the done jobs: counts[i] jobs at or under le[i].
 */
int srv_store_histogram(struct srv_store *s, const char *expr, const double *le, size_t n,
			unsigned long long *counts, double *sum, unsigned long long *total,
			struct gr_err *err);

/* ---- the sides (srv_http.c, srv_work.c) ---------------------------------- */

/* Serve HTTP on `listen_fd` until SIGTERM; `wake` gets a byte per job queued. */
int srv_http_main(const struct srv_config *cfg, int listen_fd, int wake, struct gr_err *err);

/* Grade one taken job; stores its outcome. */
int srv_work_job(const struct srv_config *cfg, struct srv_store *st, const struct srv_job *job,
		 const struct srv_opts *opts, struct gr_err *err);

/* Whether the folder's file system has less than SRV_MIN_FREE bytes free. */
int srv_low_space(const char *dir);

/*
 * After a job ("done" or "failed"): the commit status on the forge when the
 * assignment has one, and the course's signed JSON POST when configured.
 * Best effort: failures are logged.
 */
void srv_callback_job(const struct srv_config *cfg, const struct srv_job *job, const char *state,
		      const char *error, double score, double max);

/* One log line on stderr: "grader serve: ..." with the time. */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
