/*
 * srv_http_int.h - private to the HTTP side (grader/srv_http*.c): the
 * per-process state, the per-request state and the reply helpers.
 */
#ifndef GRADER_SRV_HTTP_INT_H
#define GRADER_SRV_HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <microhttpd.h>

#include "srv_int.h"

struct roster;
struct srv_upload;

/* Database connections kept open for the connections' threads. */
#define SRV_STORE_POOL 16

/* How long an answer to /metrics or /healthz is reused (seconds). */
#define SRV_CACHE_S 1.0

/* One such answer: its text, when it was made and what that cost (seconds). */
struct srv_cache {
	pthread_mutex_t lock;
	char *text;
	double at, cost;
	int busy; /* a request is making the next one */
};

/*
 * Request body bytes held in memory by all webhooks together at most (their
 * own share, no upload's): bodies whose signature cannot be checked before
 * they are whole. One client address holds `hook_buffer_per_ip_mib` of it.
 */
#define SRV_HOOK_BUFFER_MAX ((unsigned long long)64 << 20)

/* Uploads the instructor's token has in flight at once at most (a student's: one). */
#define SRV_ADMIN_UPLOADS 4

/* Connections of all clients at most (libmicrohttpd's limit). */
#define SRV_CONN_MAX 512
/* Slots kept free: past SRV_CONN_MAX - SRV_CONN_RESERVE, a new connection evicts one. */
#define SRV_CONN_RESERVE 32

/* One client address (an IPv6 one by its /64) while it has connections. */
struct srv_addr {
	unsigned char key[17]; /* the family, then the address bytes */
	size_t conns;	       /* its connections open now */
	atomic_ullong hook;    /* webhook body bytes its requests hold */
	struct srv_addr *next;
};

/* Where a connection is: what makes it one an attacker may hold at no cost. */
enum srv_phase {
	SRV_WAITING, /* no complete request yet: headers (or nothing) since since */
	SRV_OPEN,    /* a request's body is read, nothing proved who sends it */
	SRV_BUSY     /* a complete or authenticated request is answered */
};

/* One connection, from its accept to its close (libmicrohttpd's socket context). */
struct srv_conn {
	struct srv_addr *addr;
	int fd;
	enum srv_phase phase;
	double since; /* gr_now() at its accept, or when its last request ended */
	int closing;  /* shut down by us, not yet cleaned up */
	struct srv_conn *prev, *next;
};

/* Every connection, every address and the uploads in flight (their tokens). */
struct srv_conns {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t sweeper;
	int started, stop;
	double header_s; /* a connection's time to a complete request at most */
	struct srv_conn *head;
	struct srv_addr *addrs;
	size_t n, closing;
	const char *uploading[SRV_CONN_MAX]; /* the student of each upload in flight */
	size_t nuploading, admin_uploading;
};

void srv_conns_init(struct srv_conns *cs, double header_s);
/* Start (stop) the thread closing connections past header_s without a request. */
int srv_conns_start(struct srv_conns *cs);
void srv_conns_stop(struct srv_conns *cs);
void srv_conns_release(struct srv_conns *cs);
/* `k` (a request's connection, or NULL) is now in `phase`. */
void srv_conns_phase(struct srv_conns *cs, struct srv_conn *k, enum srv_phase phase);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls: the srv_conns). */
void srv_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		      enum MHD_ConnectionNotificationCode code);
/*
 * Take the upload slot of `student` (NULL: the instructor): -1 when that
 * token has an upload in flight already (the instructor: SRV_ADMIN_UPLOADS).
 */
int srv_conns_upload_begin(struct srv_conns *cs, const char *student);
void srv_conns_upload_end(struct srv_conns *cs, const char *student);

/*
 * The HTTP side: one thread per connection (libmicrohttpd's), so a slow
 * answer (an upload unpacked, a gradebook waited for) never holds up a
 * webhook. Each call into a connection borrows a database connection of
 * its own from the pool (SQLite connections are not shared across threads).
 */
struct srv_http {
	const struct srv_config *cfg;
	struct roster *roster; /* or NULL; only read */
	int wake;	       /* write end of the grading side's wake-up pipe */
	pthread_mutex_t lock;  /* guards the pool */
	struct srv_store *pool[SRV_STORE_POOL];
	size_t npool;
	atomic_ullong requests[6];   /* answered, by status class (1xx..5xx) */
	atomic_ullong buffered;	     /* upload body bytes held in memory, all uploads */
	atomic_ullong hook_buffered; /* webhook body bytes held, all webhooks */
	struct srv_cache metrics, health;
	struct srv_conns conns;
};

/* One request while it is read and answered. */
struct srv_req {
	struct srv_store *store; /* borrowed for the call being answered */
	struct gr_buf body;	 /* webhooks: the raw body */
	size_t seen, cap;	 /* body bytes received, and the most accepted */
	int too_big, bad_form;
	int busy;	       /* the bodies held in memory were at their cap: 503 */
	size_t held;	       /* this request's part of *pool (and of addr->hook) */
	atomic_ullong *pool;   /* srv_http.buffered (uploads) or .hook_buffered */
	struct srv_conn *conn; /* its connection (NULL: not known) */
	struct srv_addr *addr; /* the client's address (its connection's) */
	int by_addr;	       /* what it holds counts in addr->hook too */
	int uploading;	       /* holds its token's upload slot */
	const char *uploader;  /* that token's student (NULL: the instructor) */
	unsigned status;       /* answered with this (0: not yet) */
	long long job;	       /* the job it queued, for the log line */
	double start;	       /* gr_now() when it arrived */
	double received; /* wall clock when its body was complete (lateness is judged by it) */
	char method[16];
	char url[160];
	struct MHD_PostProcessor *pp; /* uploads: multipart/form-data */
	struct srv_upload *upload;
};

/* Largest upload (all files together). */
#define SRV_UPLOAD_MAX ((size_t)16 << 20)

/* Start parsing an upload's form (-1: not a form libmicrohttpd can read). */
int srv_upload_begin(struct srv_req *r, struct MHD_Connection *c);
/* The whole form is in: check it and queue the job. */
int srv_upload_finish(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c);
void srv_upload_free(struct srv_req *r);

/*
 * GET /metrics (Prometheus text), GET /healthz (JSON), each made at most
 * once a second, and GET / (HTML for instructors).
 */
int srv_page_metrics(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c);
int srv_page_health(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c);
int srv_page_index(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c);
/* GET /api/v1/assignments/{a}/gradebook: the file, brought up to date first. */
int srv_page_gradebook(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c,
		       const char *name);
/* GET /api/v1/assignments/{a}/export?to=csv|nbgrader-db|junit|markdown|items. */
int srv_page_export(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c,
		    const char *assignment);

/*
 * Ask the grading side to bring the gradebook of `assignment` up to date
 * and wait (up to 20 s; GR_ELIMIT past that) until it has.
 */
int srv_gradebook_current(struct srv_req *r, const char *assignment, struct gr_err *err);
/* Answer 200 with the file open on `fd` (taken), sent as it is read. */
int srv_reply_fd(struct srv_req *r, struct MHD_Connection *c, const char *type, int fd);

/* Queue `body` (stolen, JSON) with `status`; Retry-After when not NULL. */
int srv_reply(struct srv_req *r, struct MHD_Connection *c, unsigned status, json_t *body,
	      const char *retry_after);
/* {"error": message}. */
int srv_reply_error(struct srv_req *r, struct MHD_Connection *c, unsigned status,
		    const char *message);
/* A heap text (stolen) of the given Content-Type. */
int srv_reply_text(struct srv_req *r, struct MHD_Connection *c, unsigned status, const char *type,
		   char *text);
/* The answer to srv_store_enqueue's outcome `rc` (202, 409, 429, 503, 500). */
int srv_reply_enqueued(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c, int rc,
		       long long id, const struct gr_err *err);
enum { SRV_AUTH_NONE, SRV_AUTH_STUDENT, SRV_AUTH_ADMIN };

/*
 * Who the request's "Authorization: Bearer TOKEN" is: the instructor, a
 * student (*student: their id, borrowed from the config) or nobody. A Basic
 * credential is nobody here: it opens the instructor's page (GET /) alone.
 */
int srv_auth(const struct srv_http *h, struct MHD_Connection *c, const char **student);

#endif
