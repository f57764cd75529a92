/*
 * sbx_int.h - internals shared by the files of the sandbox library
 * (not installed, not part of the contract in include/grader/sandbox.h).
 */
#ifndef GRADER_SBX_INT_H
#define GRADER_SBX_INT_H

#include <limits.h>
#include <linux/filter.h>
#include <sys/types.h>

#include "grader/sandbox.h"

#define SBX_UID_BASE 61000 /* box uid/gid = base + slot when running as root */
#define SBX_MAX_KEEP 32	   /* keep_fds honoured per run */

/* One cgroup controller directory we created for this sandbox's slot. */
struct sbx_cg {
	int version;	     /* 0 none, 1, 2 */
	char mem[PATH_MAX];  /* memory (v1) or the unified dir (v2); "" when absent */
	char pids[PATH_MAX]; /* pids (v1); "" when absent or v2 */
	int mem_procs_fd;    /* tasks (v1) or cgroup.procs (v2) of each, O_WRONLY|O_CLOEXEC */
	int pids_procs_fd;
	char cpu[PATH_MAX]; /* cpuacct (v1); "" when absent or v2 (cpu.stat of mem) */
	int cpu_procs_fd;
	int has_mem, has_pids, has_cpu;
	long long cpu_before; /* CPU ns charged before the current run */
	long oom_before;      /* oom_kill counter before the current run */
	long usage_before;    /* bytes charged before the current run */
	long limit;	      /* memory limit set, bytes (0: none) */
	unsigned procs;	      /* pids.max set */
};

struct sbx {
	const struct sbx_config *cfg;
	struct sbx_probe probe;
	struct sock_fprog prog; /* compiled seccomp filter */
	struct sbx_cg cg;
	int root; /* euid 0: per-slot uid, no user namespace */
	uid_t host_uid, box_uid;
	gid_t host_gid, box_gid;
	char workdir[PATH_MAX]; /* realpath of cfg->workdir */
	char **envp;		/* the whitelisted environment, built once */
	int ns_flags;		/* CLONE_NEW* flags this host lets us use */
	int netns_fd;		/* a network namespace reused by every run (root), or -1 */
	pid_t setup_pid;	/* last run's setup child, reaped at the next run or sbx_free */
};

/* What the run-time child code needs; lives on the parent's stack, copied by fork. */
struct sbx_job {
	const sbx *s;
	char *const *argv;    /* cmd mode */
	int (*fn)(void *arg); /* fn mode */
	void *arg;
	int out_w, err_w, rep_w; /* pipe write ends */
	int out_r, err_r, rep_r; /* their read ends, closed at once in the child */
	pid_t parent;		 /* the caller's pid */
	int asan_fn;		 /* skip the address-space rlimit (sanitized fn mode) */
	const char *workdir;	 /* realpath of the work directory for this run */
};

/* Messages on the report pipe (each one write(), < PIPE_BUF, atomic). */
enum { SBX_MSG_ERR = 'E', SBX_MSG_PID = 'P', SBX_MSG_STATUS = 'S' };
struct sbx_msg {
	char type;
	int value;	/* pid of init (P, sent by init), wait status of the worker (S) */
	char text[200]; /* setup failure (E) */
};

/* sbx_probe.c: complete a probe from namespace bits; the fast path of sbx_new. */
void sbx_probe_finish(struct sbx_probe *out, int bits);
int sbx_probe_fast(int *netns_fd);

/* sbx_child.c: the code after fork; never returns. */
void sbx_child_main(const struct sbx_job *job) __attribute__((noreturn));

/* sbx_seccomp.c: compile the policy into s->prog (heap); W^X unless allow_jit. */
int sbx_seccomp_compile(struct sock_fprog *prog, int allow_jit, struct gr_err *err);

/* sbx_cgroup.c */
int sbx_cg_create(struct sbx_cg *cg, const struct sbx_limits *lim, unsigned slot,
		  struct gr_err *err);
void sbx_cg_before_run(struct sbx_cg *cg, const struct sbx_limits *lim);
/* After a run: memory peak (kB, -1 unknown), whether the OOM killer fired. */
void sbx_cg_after_run(struct sbx_cg *cg, long *peak_kb, int *oom);
void sbx_cg_destroy(struct sbx_cg *cg);
/* CPU time (ns) of every process of the current run so far; -1 when unknown. */
long long sbx_cg_cpu_ns(const struct sbx_cg *cg);
/* Which cgroup version this host uses and whether we can create groups. */
void sbx_cg_probe(struct sbx_probe *p);

#endif
