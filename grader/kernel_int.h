/*
 * kernel_int.h - internals shared by the files of the notebook engine
 * (not part of the contract in include/grader/kernel.h).
 *
 *   kernel.c         caller side: starts the zygote, sends runs, verifies records
 *   kernel_json.c    results: names, JSON, free
 *   kernel_chan.c    the result channel: record framing and HMAC
 *   kernel_proto.c   the zygote protocol: messages (and a passed fd) over a socketpair
 *   kernel_zygote.c  the zygote process: request loop, sandbox, fork per run
 *   kernel_py.c      CPython set-up; runs the helper (kernel_helper.py, embedded)
 *   kernel_cells.c   the zygote's cache of the rubric's prepared cells
 *   kernel_guard.c   right before a grade cell: signal handlers, timers, shadowed names
 *                    and modules
 *   kernel_grade.c   a grade cell's own builtins, a fresh copy checked by its version
 *   kernel_child.c   the child: runs the cells, watchdog, sends the records
 *   kernel_child_rec.c  what a cell's record says: capped texts, traceback, displays, notes
 *   kernel_capture.c the child's stdout and stderr: pipes drained by a thread
 *   kernel_audit.c   the PEP 578 audit hook
 *   kernel_trace.c   checkpoints inside a grade cell: what its instructions read
 *   kernel_trace_attr.c  their view of modules' and system classes' attributes, imports
 *   kernel_frames.c  its refusals of a hidden test's code objects (frames, gc)
 *   kernel_watch.c   the monkeypatch watcher: snapshots, checks, threads
 *   kernel_watch_mods.c  its view of modules: system or not, sys.modules, the box
 *   kernel_keys.c    its removal of keys that are not plain strs (kguard_keys)
 *   kernel_loop.c    the event loop of top-level await, held by C
 *
 * kernel_py.h holds what only the zygote and its children share (CPython).
 */
#ifndef GRADER_KERNEL_INT_H
#define GRADER_KERNEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "grader/kernel.h"
#include "grader/util.h"

/* ---- result channel (kernel_chan.c) ---- */

#define KCHAN_KEY_LEN 32
#define KCHAN_MAC_LEN 32
#define KCHAN_HDR_LEN 16
#define KCHAN_MAGIC 0x4752524bu /* "GRRK" */
#define KCHAN_MAX_PAYLOAD (64u << 20)
/* the code one cell, and all cells of a run, may hold (request_body in kernel.c) */
#define KERNEL_CELL_MAX (512u << 10)
#define KERNEL_SOURCE_MAX (4u << 20)

enum kchan_type {
	KREC_CELL = 1,	 /* one cell's result (JSON) */
	KREC_KILLED = 2, /* the watchdog kills the run: {"i", "reason"} */
	KREC_DONE = 3,	 /* the run finished: {"replaced", "timed_out", "message"} */
};

/* Bytes of a framed record with a payload of `len` bytes. */
size_t kchan_size(size_t len);

/*
 * Frame a record into `out` (kchan_size(len) bytes): header (magic, seq, type,
 * len, big-endian), payload, HMAC-SHA256(key, header || payload).
 */
int kchan_encode(unsigned char *out, const unsigned char key[KCHAN_KEY_LEN], uint32_t seq,
		 uint32_t type, const void *payload, size_t len);

/* The verifying side: a byte stream in, records out. */
struct kchan_reader {
	unsigned char key[KCHAN_KEY_LEN];
	uint32_t next_seq;
	unsigned char *buf;
	size_t len, cap, off;
	int broken; /* once set, stays set: nothing more is believed */
	char why[128];
};

struct kchan_rec {
	uint32_t seq, type;
	const char *payload; /* NUL-terminated copy inside the reader; valid until next call */
	size_t len;
};

void kchan_reader_init(struct kchan_reader *r, const unsigned char key[KCHAN_KEY_LEN]);
void kchan_reader_release(struct kchan_reader *r);
/* Append bytes read from the channel; GR_ENOMEM. */
int kchan_reader_feed(struct kchan_reader *r, const void *data, size_t n);
/*
 * Next verified record: 1 (rec filled), 0 (need more bytes), GR_EDENIED when
 * the stream is not a valid continuation (bad magic, size, MAC or sequence).
 */
int kchan_reader_next(struct kchan_reader *r, struct kchan_rec *rec);
/* Bytes received but not yet consumed as records. */
size_t kchan_reader_pending(const struct kchan_reader *r);

/*
 * The nbformat outputs of a cell from its fields and the child's display
 * records (`displays`, may be NULL: see kchild_displays in kernel_child_rec.c).
 * New reference; NULL on allocation failure.
 */
json_t *kernel_cell_outputs(const struct kernel_cell_result *c, const json_t *displays);

/* ---- zygote protocol (kernel.c <-> kernel_zygote.c) over a socketpair ---- */

enum kz_type {
	KZ_READY = 1,  /* zygote -> caller: JSON {"ok", "error", "python"} */
	KZ_RUN = 2,    /* caller -> zygote: key (32 bytes) + JSON; carries the record fd */
	KZ_RESULT = 3, /* zygote -> caller: JSON, the sandbox result */
	KZ_QUIT = 4,   /* caller -> zygote */
	KZ_OPTS = 5,   /* caller -> zygote, first: JSON, every field of struct kernel_opts */
};

/* Send one message (optionally passing fd `pass_fd` >= 0 with it). */
int kz_send(int sock, uint32_t type, const void *a, size_t alen, const void *b, size_t blen,
	    int pass_fd);
/*
 * Receive one message into a heap buffer (*data, NUL-terminated, caller frees);
 * *fd receives a passed descriptor or -1. GR_EIO on EOF or error.
 */
int kz_recv(int sock, uint32_t *type, char **data, size_t *len, int *fd);

/* The zygote's main; runs in the forked process and never returns. */
void kernel_zygote_main(int sock, const struct kernel_opts *opts) __attribute__((noreturn));

/* ---- how the zygote starts (kernel_spawn.c) ---- */

/* The caller's argv (one heap block, free() it), for the zygote's; NULL if unknown. */
char **kspawn_argv(void);
/* Its environment: the caller's and LD_BIND_NOW (free() the array only); NULL: no memory. */
char **kspawn_envp(void);
/* Caller: send the options (KZ_OPTS), the zygote's first message. 0 or GR_E*. */
int kspawn_send_opts(int sock, const struct kernel_opts *o);
/* The executed zygote: read them into *o (lists allocated for its lifetime). 0 or GR_EIO. */
int kspawn_recv_opts(int sock, struct kernel_opts *o);
/*
 * The child forked by kernel_new(): execute the embedded lean zygote (argv as
 * its command line, envp its environment), or else run kernel_zygote_main()
 * in place. Never returns.
 */
void kspawn_child(int sock, const struct kernel_opts *opts, char **argv, char **envp, pid_t parent)
    __attribute__((noreturn));

/* ---- the monkeypatch watcher (kernel_watch.c), in the zygote and its children ---- */

struct kwatch;

/*
 * Start watching (in the zygote, after the preloads): snapshot every system
 * module loaded so far and wrap the import system's loader so that each later
 * system module is snapshotted when its import completes. `armed` points at
 * the audit hook's flag: set while student code may run. 0, or -1 (Python
 * error left cleared) when the import system is not what we expect.
 */
int kwatch_start(struct kwatch **out, const int *armed);
/*
 * Cell `cell` (1-based) is about to run; a grade cell (`grade`) is checked
 * first (kwatch_check).
 */
void kwatch_enter(struct kwatch *w, long cell, int grade);
/*
 * Compare everything watched with its snapshot and record what changed.
 * `grade`: a grade cell is about to start, so also flag Python threads still
 * running and give shadowed names their system module.
 */
void kwatch_check(struct kwatch *w, int grade);
/* The audit event object.__setattr__ (args: a tuple): a function's code or defaults, a module's
 * class. */
int kwatch_on_setattr(struct kwatch *w, void *args);
/*
 * Findings as a new JSON array of {"flag", "reason", "name"?}: those not
 * taken before, or (`all`) every one. NULL on allocation failure.
 */
json_t *kwatch_take(struct kwatch *w, int all);

/* Fixed descriptor numbers inside the child (the zygote dup2()s onto them). */
#define KFD_REC 250
#define KFD_OUT 251 /* write ends of the capture pipes (kernel_capture.c) */
#define KFD_ERR 252
#define KFD_OUT_R 253 /* their read ends */
#define KFD_ERR_R 254

#endif
