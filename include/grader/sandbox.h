/*
 * sandbox.h - run untrusted code (a command, or a function after fork) in a
 * child process confined by namespaces, a private mount view, rlimits and
 * cgroups, a per-slot uid, and a seccomp filter; report an isolate-style result.
 *
 * The sandbox knows nothing of notebooks, rubrics or Python.
 *
 * Lifecycle: sbx_config_init() fills defaults; sbx_new() probes the host and
 * precompiles the seccomp filter once; sbx_run_cmd()/sbx_run_fn() may then be
 * called many times (each run is independent); sbx_free() releases it.
 *
 * One run at a time per sandbox (use one sandbox, and one slot, per worker).
 * cfg->workdir is read at every run, so a worker may point one sandbox at a
 * new work directory before each run. As root, sbx_new() creates the slot's
 * cgroups and one empty network namespace that its runs share (runs of one
 * sandbox never overlap, so nothing can pass between them through it).
 * The caller must not reap children it did not create (no SIGCHLD handler
 * calling waitpid(-1), SIGCHLD not ignored). Guarantees: docs/sandbox.md.
 */
#ifndef GRADER_SANDBOX_H
#define GRADER_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "grader/base.h"

enum sbx_status {
	SBX_OK = 0, /* exited 0 */
	SBX_RE,	    /* non-zero exit */
	SBX_SG,	    /* killed by a signal */
	SBX_TO,	    /* CPU or wall time limit */
	SBX_ML,	    /* memory limit */
	SBX_OL,	    /* output limit */
	SBX_XX,	    /* sandbox failure (setup failed, host refused) */
};

/* Limits; 0 means "no limit" except where a default is given by sbx_config_init(). */
struct sbx_limits {
	double cpu_s;	  /* CPU seconds (soft; hard = soft + 1) */
	double wall_s;	  /* wall-clock seconds, enforced by the parent */
	size_t mem_kb;	  /* memory (cgroup when available, else RLIMIT_AS/DATA) */
	unsigned procs;	  /* processes+threads (cgroup pids, else RLIMIT_NPROC per uid) */
	size_t fsize_kb;  /* largest file the box may write (RLIMIT_FSIZE) */
	size_t output_kb; /* captured stdout and stderr, each; the rest is dropped */
	size_t tmp_kb;	  /* size of the fresh tmpfs on /tmp and /dev/shm */
	unsigned nofile;  /* open files (RLIMIT_NOFILE) */
};

/* What the parent does with the child's stdout/stderr. */
enum sbx_output {
	SBX_OUT_CAPTURE, /* collect into sbx_result.out/err (capped) */
	SBX_OUT_PASS,	 /* copy to our own stdout/stderr (capped) */
	SBX_OUT_DISCARD, /* read and drop */
};

struct sbx_config {
	struct sbx_limits limits;
	const char *workdir;	     /* the only writable host directory; appears at /box, the cwd
					(as root it is chown'ed to the slot's uid at each run) */
	const char *const *ro_paths; /* extra host paths visible read-only at the same path
				      (NULL-terminated) */
	unsigned slot;	  /* worker slot: selects the uid/gid (61000 + slot) and cgroup */
	int allow_weaker; /* run even if a protection is missing on this host */
	enum sbx_output output;
	const int *keep_fds;	/* fds (besides 0/1/2) kept open in the child, -1-terminated */
	const char *const *env; /* extra "K=V" environment entries (NULL-terminated) */
	int allow_jit;		/* lift W^X (for a JIT such as numba's): memory may then be
				   made writable and executable, so code the box wrote can
				   run in its processes. Off by default; read by sbx_new() */
};

struct sbx_result {
	enum sbx_status status;
	int exitcode;
	int signal;
	double time; /* CPU seconds, user + system, of the whole process tree */
	double wall; /* wall-clock seconds */
	long max_rss_kb;
	int killed;			 /* the parent killed the tree (timeout, limit) */
	size_t out_dropped, err_dropped; /* bytes dropped past the output cap */
	char *out, *err; /* captured output (SBX_OUT_CAPTURE), NUL-terminated, owned */
	size_t out_len, err_len;
	char message[256]; /* human-readable reason, empty when OK */
};

/* One line per protection, as `grader doctor` prints them. */
struct sbx_probe {
	int userns, pidns, mntns, netns, ipcns, utsns;
	int cgroup_version; /* 0 none, 1, 2 */
	int cg_memory, cg_pids, cg_cpu;
	int seccomp;
	int uid_switch;	   /* running as root: per-slot uids available */
	int complete;	   /* every protection needed for untrusted code is present */
	char detail[1024]; /* multi-line human report */
};

typedef struct sbx sbx;

/* Fill `cfg` with safe defaults (see `grader run --help`). No allocation. */
void sbx_config_init(struct sbx_config *cfg);

/* Probe this host's protections without building a sandbox. */
int sbx_probe_host(struct sbx_probe *out, struct gr_err *err);

/*
 * Create a sandbox factory: probes the host and compiles the seccomp filter.
 * Fails with GR_ESYS when a protection is missing and !cfg->allow_weaker.
 * The config (and the strings it points to) must outlive the sandbox.
 */
int sbx_new(sbx **out, const struct sbx_config *cfg, struct gr_err *err);
void sbx_free(sbx *s);

/* Run argv (argv[0] looked up in PATH of the whitelisted environment). */
int sbx_run_cmd(sbx *s, struct sbx_result *res, char *const argv[], struct gr_err *err);

/*
 * fork(), confine the child exactly as for a command, then call fn(arg) in it;
 * its return value is the exit code. fn runs in a copy of the caller's memory
 * (this is how the notebook zygote hands a preloaded interpreter to the box).
 * Returns 0 when a result was produced (whatever its status), negative on a
 * failure of the parent itself. Safe from a multi-threaded caller: the first
 * child is made by glibc's fork(). The worker is not pid 1 (a tiny init is),
 * its stdin is /dev/null, stdout/stderr go to cfg->output, every other fd is
 * closed except cfg->keep_fds. Built with ASan, fn mode sets no address-space
 * rlimit (ASan reserves terabytes): the memory cgroup is the only memory limit.
 */
int sbx_run_fn(sbx *s, struct sbx_result *res, int (*fn)(void *arg), void *arg, struct gr_err *err);

/* Free the captured buffers of a result (not the struct). */
void sbx_result_release(struct sbx_result *res);

/* "OK", "RE", ... */
const char *sbx_status_name(enum sbx_status st);

/* The result as an isolate-style JSON object text (heap, caller frees). */
char *sbx_result_json(const struct sbx_result *res);

#endif
