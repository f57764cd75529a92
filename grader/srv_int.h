/*
 * srv_int.h - private to the service (grader/srv_*.c): the state database,
 * the HTTP side and the grading side.
 */
#ifndef GRADER_SRV_INT_H
#define GRADER_SRV_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "grader/serve.h"

/* Largest request body accepted (webhooks and uploads alike). */
#define SRV_BODY_MAX ((size_t)1 << 20)
#define SRV_DB_NAME "db/grader.sqlite"
/* Below this much free space in the state folder nothing new is accepted or started. */
#define SRV_MIN_FREE ((unsigned long long)2 << 20)
/*
 * What a push may put in the state folder, in all and per file, and how
 * many files: a few MB pushed can be a GiB checked out (zeros compress),
 * and every gradebook write reads every folder. A larger file is skipped;
 * a larger submission fails its job with the reason.
 */
#define SRV_PUSH_MAX ((uint64_t)16 << 20)
#define SRV_PUSH_FILES 1000
/* What an uploaded zip may unpack to, in all and per file. */
#define SRV_UNPACKED_MAX ((uint64_t)64 << 20)
/* Grading workers at most (config "workers"). */
#define SRV_WORKERS_MAX 64
/* Tries of a call (commit status, callback) before it is marked failed. */
#define SRV_CALL_TRIES 10
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
 * What srv_hook_verify checks without the body: the forge on, the header
 * there and well formed (GitLab's token compared whole): a delivery failing
 * it is refused before its body is read.
 */
int srv_hook_precheck(enum srv_forge forge, const char *secret, const char *signature,
		      struct gr_err *err);

/*
 * Parse a verified push body and its headers (event, delivery). GR_EINVAL
 * for malformed JSON or a push without the fields we need.
 */
int srv_hook_parse(struct srv_push *out, enum srv_forge forge, const char *event,
		   const char *delivery, const void *body, size_t len, struct gr_err *err);
void srv_push_release(struct srv_push *p);

/* Whether `event` names a push on that forge ("push", GitLab's "Push Hook"). */
int srv_hook_is_push(enum srv_forge forge, const char *event);
/* Whether s is a full commit id as the forges send it: 40 lowercase hex digits. */
int srv_is_commit_id(const char *s);

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
	SRV_REPLAY = 1,	    /* the delivery id was seen before */
	SRV_QUEUE_FULL = 2, /* queue_max jobs wait already (or per_student, for a commit seen) */
	SRV_KNOWN = 4,	    /* the push's commit is the student's newest push's */
};

/* One uploaded file: a plain name and its bytes. */
struct srv_file {
	char *name;
	struct gr_buf data;
};

/* Free n files and the array. */
void srv_files_free(struct srv_file *f, size_t n);

/*
 * In one transaction: refuse a replayed delivery, a push of the commit of
 * the student's newest push (SRV_KNOWN) or a full queue when the student
 * has nothing waiting; a student at per_student waiting jobs, or with jobs
 * waiting in a full queue, has those superseded by this newer one, unless
 * its commit is one a job of theirs had (a force push back or a replay:
 * SRV_QUEUE_FULL, it takes no one's place). Else record the delivery,
 * the job (*id) and, for an upload, its files. GR_ELIMIT when the disk is full.
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

/*
 * Put jobs left running by a dead grading side back in the queue; *n of
 * them. With `runner` not 0, only the jobs of that worker (its pid).
 */
int srv_store_recover(struct srv_store *s, long long runner, int *n, struct gr_err *err);

/* The HTTP side's connection: it never runs a WAL checkpoint (the grading side does). */
void srv_store_http_side(struct srv_store *s);

/*
 * Take the oldest queued job whose student and assignment has no job
 * running, and mark it running by `runner` (a worker's pid), in one
 * transaction: two workers never take the same student and assignment at
 * once. When the same student has newer jobs for the same assignment, the
 * newest is taken instead and the older ones are marked superseded
 * (*superseded of them). GR_ENOTFOUND when nothing waits.
 */
int srv_store_take(struct srv_store *s, long long runner, struct srv_job *out, int *superseded,
		   struct gr_err *err);

/* A call a finished job owes: its body and the grading side's MAC of it (strings borrowed). */
struct srv_call_in {
	const char *kind; /* "status" (the forge's commit status) or "callback" */
	const char *body;
	char mac[65];
};

/*
 * Finish a job, in one transaction with the calls it owes: "done" with the
 * submission JSON (and the student's view of it, hidden tests' output
 * removed) and score, or "failed" with why.
 */
int srv_store_finish(struct srv_store *s, long long id, const char *state, const char *error,
		     const char *result, const char *student_result, double score, double max_score,
		     const struct srv_call_in *calls, size_t ncalls, struct gr_err *err);

/* A pending call, with its job's assignment, repository and commit (heap strings). */
struct srv_call {
	long long id, job;
	char *kind, *body, *mac, *assignment, *repository, *commit;
	int attempts;
};
void srv_calls_free(struct srv_call *c, size_t n);
/* The pending calls due at `now` (at most max), oldest first. */
int srv_store_calls_due(struct srv_store *s, double now, size_t max, struct srv_call **out,
			size_t *n, struct gr_err *err);
/* Record an attempt: state "sent", "pending" (next_try) or "failed", with the error. */
int srv_store_call_update(struct srv_store *s, long long id, const char *state, int attempts,
			  double next_try, const char *error, struct gr_err *err);

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

/* The histograms' bucket bounds (seconds), as /metrics shows them. */
#define SRV_HIST_N 11
#define SRV_HIST_LE                                                                                \
	{                                                                                          \
		0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300                                      \
	}

/*
 * A cumulative histogram over the done jobs, kept as jobs change:
 * `metric` "grading" (finished - started) or "push" (finished - received);
 * counts[i] (SRV_HIST_N of them) jobs at or under bound i.
 */
int srv_store_histogram(struct srv_store *s, const char *metric, unsigned long long *counts,
			double *sum, unsigned long long *total, struct gr_err *err);

/*
 * Each assignment's gradebook file, as the database knows it
 * (srv_store_gradebook.c): _want records that the HTTP side asked at `when`
 * for a current one; _written that the grading side wrote it holding
 * everything finished before `upto`; _state reads both (0 when never).
 * _changed: whether a job of the assignment finished (done or failed)
 * after `since`. _busy: the students (*out, srv_ids_free) whose folder a
 * worker may be replacing (a job running, or queued again after a worker
 * took it); *first_start is lowered to the earliest such job's start.
 */
int srv_store_gb_want(struct srv_store *s, const char *assignment, double when, struct gr_err *err);
int srv_store_gb_written(struct srv_store *s, const char *assignment, double upto,
			 struct gr_err *err);
int srv_store_gb_state(struct srv_store *s, const char *assignment, double *wanted, double *written,
		       struct gr_err *err);
int srv_store_gb_changed(struct srv_store *s, const char *assignment, double since, int *changed,
			 struct gr_err *err);
int srv_store_gb_busy(struct srv_store *s, const char *assignment, char ***out, size_t *n,
		      double *first_start, struct gr_err *err);
void srv_ids_free(char **ids, size_t n);

/*
 * The grading side's writer of the gradebook files (srv_gradebook.c), one
 * entry per assignment of the config: `mark`, every job finished after it
 * is not in the file yet; `last`, when it was last written; `jindex`, the
 * places of the journal's entries read so far, kept across writes.
 */
struct batch_jindex;
struct srv_gbook {
	char *assignment;
	double mark, last;
	int failing;
	struct batch_jindex *jindex; /* the journal as read so far: a write reads what is new */
};
struct srv_gbooks {
	size_t n;
	struct srv_gbook *a;
};
int srv_gbooks_init(struct srv_gbooks *g, const struct srv_config *cfg, struct gr_err *err);
void srv_gbooks_release(struct srv_gbooks *g);
/*
 * Write the gradebooks that are due: a job finished since the last write
 * and a second has passed (at once with `final`, the service stopping), or
 * the HTTP side asked for a current one. Problems are logged; a failed
 * write is tried again.
 */
void srv_gbooks_flush(struct srv_gbooks *g, const struct srv_config *cfg, const struct srv_opts *so,
		      struct srv_store *st, int final);
/*
 * Compact the journal at `path` (srv_journal.c) while no worker or writer
 * runs: of each student only the last final entry is kept (*kept of *total
 * lines), the file replaced atomically. A missing journal is nothing to do.
 */
int srv_journal_compact(const char *path, size_t *kept, size_t *total, struct gr_err *err);
/* Take the lock beside `gradebook` (*fd; close it to let go): writes and folder changes. */
int srv_gradebook_lock(int *fd, const char *gradebook, struct gr_err *err);

/* ---- the sides (srv_http.c, srv_work.c) ---------------------------------- */

/* Serve HTTP on `listen_fd` until SIGTERM; `wake` gets a byte per job queued. */
int srv_http_main(const struct srv_config *cfg, int listen_fd, int wake, struct gr_err *err);

/* A grading worker's own: its sandbox slot and its warm zygotes. */
#define SRV_WARM_MAX 4
struct batch_warm;
struct srv_worker {
	unsigned slot;
	const char *key; /* the calls' MAC key (srv_callback_key) */
	size_t nwarm;
	struct {
		char *assignment;
		struct batch_warm *warm;
	} warm[SRV_WARM_MAX]; /* most recently used first */
};
void srv_worker_release(struct srv_worker *w);
/* Start the zygotes of the config's first SRV_WARM_MAX assignments before any job. */
void srv_worker_prewarm(struct srv_worker *w, const struct srv_config *cfg,
			const struct srv_opts *so);

/*
 * Grade one taken job in worker w (a warm zygote per assignment and rubric,
 * made on first use and kept across jobs); stores its outcome.
 */
int srv_work_job(const struct srv_config *cfg, struct srv_store *st, const struct srv_job *job,
		 const struct srv_opts *opts, struct srv_worker *w, struct gr_err *err);

/* Whether the folder's file system has less than SRV_MIN_FREE bytes free. */
int srv_low_space(const char *dir);

/*
 * The calls a finished job ("done" or "failed") owes: the commit status on
 * the forge when the assignment has one, the course's signed JSON POST when
 * configured. out[] gets up to two (bodies on the heap: srv_callback_free),
 * each with its MAC under `key` (the grading side's own, STATE/calls.key) so
 * that a row the HTTP side wrote is never sent.
 */
int srv_callback_build(const struct srv_config *cfg, const char *key, const struct srv_job *job,
		       const char *state, const char *error, double score, double max,
		       struct srv_call_in out[2], size_t *n);
void srv_callback_free(struct srv_call_in *c, size_t n);

/*
 * Send the calls that are due, a few at a time: a 2xx answer marks one
 * sent; otherwise it is tried again after 4, 8, 16 ... seconds (at most 5
 * minutes) until SRV_CALL_TRIES tries, then marked failed. Logged.
 */
void srv_callback_send_due(const struct srv_config *cfg, const char *key, struct srv_store *st);

/* The grading side's key for the calls' MACs: STATE/calls.key (root's, 0600), made once. */
int srv_callback_key(char key[65], const char *state, struct gr_err *err);

/*
 * An uploaded zip (srv_archive.c): _is_zip by its name. _unpack: the zip
 * `zip` of `student`, read by fetch's archive code, into
 * DEST/STUDENT/ASSIGNMENT (dest NULL: into a temporary folder, removed, to
 * check it). 1 with `why` (one line) when the zip is refused: corrupt, over
 * a limit, an unsafe or linked entry, nothing in it.
 */
int srv_archive_is_zip(const char *name);
int srv_archive_unpack(const struct srv_file *zip, const char *dest, const char *assignment,
		       const char *student, char *why, size_t whylen, struct gr_err *err);

/* ---- what the grading side takes from a job row (srv_check.c) --------- */

struct roster;

/*
 * Whether `name` may be the name of an uploaded file: a plain, safe name
 * (fetch_name_is_safe), not one of the files the grading side writes beside
 * a submission (timestamp.txt, .grader-*). Both sides use this one rule.
 */
int srv_file_name_ok(const char *name);

/*
 * Why a job row the grading side took must not be graded (NULL: it may):
 * a student id that is not a safe name or not in the roster (when there is
 * one), a kind not push or upload, a push whose commit is not 40 hex digits
 * or whose repository is not its assignment's and student's, an upload
 * naming a commit or repository.
 */
const char *srv_job_check(const struct srv_config *cfg, const struct roster *roster,
			  const struct srv_job *job);

/* How long before the grading side first saw a job its received time may be (seconds). */
#define SRV_SEEN_SLACK 60.0
/*
 * A job's received time as the grading side takes it: the row's when it is
 * at most SRV_SEEN_SLACK seconds before `seen` (when the grading side first
 * saw the job) and not after it; `seen` otherwise.
 */
double srv_job_received(double received, double seen);

/*
 * srv_store_seen.c: _stamp records `now` as the time the grading side first
 * saw each queued job it has not seen yet, with an HMAC under `key` (the
 * grading side's own); _seen_at reads job's stamp into *at: 1 when there is
 * one and its MAC holds, 0 otherwise.
 */
int srv_store_stamp(struct srv_store *s, const char *key, double now, struct gr_err *err);
int srv_store_seen_at(struct srv_store *s, const char *key, long long job, double *at);

/* Seconds since the epoch (CLOCK_REALTIME), as the database keeps times. */
double srv_wall_now(void);

/* One log line on stderr: "grader serve: ..." with the time. */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
