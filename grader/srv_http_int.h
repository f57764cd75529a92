/*
 * srv_http_int.h - private to the HTTP side (grader/srv_http*.c): the
 * per-process state, the per-request state and the reply helpers.
 */
#ifndef GRADER_SRV_HTTP_INT_H
#define GRADER_SRV_HTTP_INT_H

#include <microhttpd.h>

#include "srv_int.h"

struct roster;

struct srv_http {
	const struct srv_config *cfg;
	struct srv_store *store;
	struct roster *roster; /* or NULL */
	int wake;	       /* write end of the grading side's wake-up pipe */
};

/* One request while it is read and answered. */
struct srv_req {
	struct gr_buf body;
	int too_big;
	unsigned status; /* answered with this (0: not yet) */
	long long job;	 /* the job it queued, for the log line */
	double start;	 /* gr_now() when it arrived */
	double received; /* wall clock when it arrived (lateness is judged by it) */
	char method[16];
	char url[160];
};

/* Queue `body` (stolen, JSON) with `status`; Retry-After when not NULL. */
int srv_reply(struct srv_req *r, struct MHD_Connection *c, unsigned status, json_t *body,
	      const char *retry_after);
/* {"error": message}. */
int srv_reply_error(struct srv_req *r, struct MHD_Connection *c, unsigned status,
		    const char *message);
/* A heap text (stolen) of the given Content-Type. */
int srv_reply_text(struct srv_req *r, struct MHD_Connection *c, unsigned status,
		   const char *type, char *text);
/* The answer to srv_store_enqueue's outcome `rc` (202, 409, 429, 503, 500). */
int srv_reply_enqueued(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c, int rc,
		       long long id, const struct gr_err *err);
/* Whether the request carries the instructor token. */
int srv_is_admin(const struct srv_http *h, struct MHD_Connection *c);

#endif
