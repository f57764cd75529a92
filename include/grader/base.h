/*
 * base.h - the primitives every library of grader shares, the sandbox
 * included: error codes with a one-line message, and the monotonic clock.
 *
 * Link order: the sandbox library carries these (libsandbox.a links alone);
 * libgrader.a builds on it. Nothing here allocates or keeps state.
 *
 * Errors: functions return 0 on success or a negative GR_E* code, and fill a
 * caller-provided `struct gr_err` with a one-line message in git's style
 * ("cannot open 'ps1.ipynb': no such file"). A NULL `struct gr_err *` is
 * allowed everywhere: the message is then dropped.
 */
#ifndef GRADER_BASE_H
#define GRADER_BASE_H

enum {
	GR_OK = 0,
	GR_ENOMEM = -1,	   /* allocation failed */
	GR_EIO = -2,	   /* a file or system call failed */
	GR_EINVAL = -3,	   /* malformed input (notebook, rubric, archive, option) */
	GR_ENOTFOUND = -4, /* a named file, student, cell or repository is missing */
	GR_ELIMIT = -5,	   /* a size, count or time limit was exceeded */
	GR_EDENIED = -6,   /* refused for safety (path escape, weaker sandbox, ...) */
	GR_ESYS = -7,	   /* the host lacks something we need */
};

#define GR_ERR_MAX 512

struct gr_err {
	int code;
	char msg[GR_ERR_MAX];
};

/* Store a printf-style message in `err` (when not NULL); returns `code`. */
int gr_err_set(struct gr_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like gr_err_set, appending ": strerror(errno_value)". */
int gr_err_sys(struct gr_err *err, int code, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Seconds on the monotonic clock (CLOCK_MONOTONIC), for durations only. */
double gr_now(void);

#endif
