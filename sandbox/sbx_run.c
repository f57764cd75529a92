/*
 * sbx_run.c - the parent side of the sandbox: sbx_new()/sbx_free(), and one
 * run: fork the setup child, wait for init's pid, then enforce the wall
 * clock while draining stdout/stderr (capped) until init is reaped, and turn
 * what happened into a result.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx_int.h"

/* Where one output stream goes. */
struct sink {
	int fd;	     /* read end */
	int pass_fd; /* SBX_OUT_PASS: copy here */
	enum sbx_output mode;
	size_t limit, kept, dropped;
	char *buf;
	size_t alloc;
};

static const char *const base_env[] = {
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "HOME=/box",
    "LANG=C.UTF-8",
    "TMPDIR=/tmp",
};

static int env_overridden(const char *const *extra, const char *entry)
{
	size_t k = strcspn(entry, "=") + 1;

	for (; extra && *extra; extra++)
		if (!strncmp(*extra, entry, k))
			return 1;
	return 0;
}

static char **build_env(const char *const *extra)
{
	size_t n = 0, i = 0;
	char **env;

	for (const char *const *e = extra; e && *e; e++)
		n++;
	env = calloc(n + sizeof(base_env) / sizeof(base_env[0]) + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t b = 0; b < sizeof(base_env) / sizeof(base_env[0]); b++)
		if (!env_overridden(extra, base_env[b]))
			env[i++] = (char *)base_env[b];
	for (const char *const *e = extra; e && *e; e++)
		if (strchr(*e, '='))
			env[i++] = (char *)*e;
	return env;
}

/* Reap a setup child; it may still be finishing its exit. */
static void reap(pid_t pid, int *status)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (status)
		*status = st;
}

static int flags_from_probe(const struct sbx_probe *p, int root)
{
	int f = 0;

	if (!root && p->userns)
		f |= CLONE_NEWUSER;
	/* Without a user namespace a non-root process cannot create the others. */
	if (root || p->userns) {
		f |= p->pidns ? CLONE_NEWPID : 0;
		f |= p->mntns ? CLONE_NEWNS : 0;
		f |= p->netns ? CLONE_NEWNET : 0;
		f |= p->ipcns ? CLONE_NEWIPC : 0;
		f |= p->utsns ? CLONE_NEWUTS : 0;
	}
	return f;
}

/*
 * Probe the host, refuse a weaker sandbox unless cfg->allow_weaker, compile
 * the seccomp filter and create the slot's cgroups. cfg->workdir is read at
 * each run, so one sandbox may serve many work directories.
 */
int sbx_new(sbx **out, const struct sbx_config *cfg, struct gr_err *err)
{
	sbx *s = NULL;
	int rc, bits;

	s = calloc(1, sizeof(*s));
	if (!s)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	s->cfg = cfg;
	s->cg.mem_procs_fd = s->cg.pids_procs_fd = s->cg.cpu_procs_fd = -1;
	s->netns_fd = -1;
	bits = geteuid() == 0 ? sbx_probe_fast(&s->netns_fd) : -1;
	if (bits >= 0)
		sbx_probe_finish(&s->probe, bits);
	else
		sbx_probe_host(&s->probe, err);
	if (!s->probe.complete && !cfg->allow_weaker) {
		const char *m = strstr(s->probe.detail, "WEAKER: ");
		char miss[256];
		snprintf(miss, sizeof(miss), "%s", m ? m + 8 : "unknown");
		miss[strcspn(miss, "\n")] = '\0';
		rc = gr_err_set(err, GR_ESYS,
				"refusing to run untrusted code: %s "
				"(see 'grader doctor'; --allow-weaker to accept)",
				miss);
		goto done;
	}
	s->root = geteuid() == 0;
	s->host_uid = getuid();
	s->host_gid = getgid();
	s->box_uid = s->root ? (uid_t)(SBX_UID_BASE + cfg->slot) : geteuid();
	s->box_gid = s->root ? (gid_t)(SBX_UID_BASE + cfg->slot) : getegid();
	s->ns_flags = flags_from_probe(&s->probe, s->root);
	if (s->probe.seccomp && (rc = sbx_seccomp_compile(&s->prog, cfg->allow_jit, err)) < 0)
		goto done;
	if (s->root && (rc = sbx_cg_create(&s->cg, &cfg->limits, cfg->slot, err)) < 0)
		goto done;
	s->envp = build_env(cfg->env);
	if (!s->envp) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	*out = s;
	s = NULL;
	rc = 0;
done:
	sbx_free(s);
	return rc;
}

void sbx_free(sbx *s)
{
	if (!s)
		return;
	if (s->setup_pid > 0)
		reap(s->setup_pid, NULL);
	sbx_cg_destroy(&s->cg);
	if (s->netns_fd >= 0)
		close(s->netns_fd);
	free(s->prog.filter);
	free(s->envp);
	free(s);
}

/* Keep up to the cap, pass or store it, drop and count the rest. */
static int sink_feed(struct sink *k, const char *data, size_t n)
{
	size_t take = k->kept < k->limit ? k->limit - k->kept : 0;

	if (take > n)
		take = n;
	if (take && k->mode == SBX_OUT_CAPTURE) {
		if (k->kept + take + 1 > k->alloc) {
			size_t want = k->alloc ? k->alloc : 4096;
			char *p;
			while (want < k->kept + take + 1)
				want *= 2;
			p = realloc(k->buf, want);
			if (!p)
				return GR_ENOMEM;
			k->buf = p;
			k->alloc = want;
		}
		memcpy(k->buf + k->kept, data, take);
		k->buf[k->kept + take] = '\0';
	} else if (take && k->mode == SBX_OUT_PASS) {
		for (size_t off = 0; off < take;) {
			ssize_t w = write(k->pass_fd, data + off, take - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break; /* our own output is gone: keep draining */
			off += (size_t)w;
		}
	}
	k->kept += take;
	k->dropped += n - take;
	return 0;
}

/* Read what is there; 1 at EOF, 0 when it would block, negative on failure. */
static int sink_read(struct sink *k)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(k->fd, buf, sizeof(buf));
		if (n > 0) {
			if (sink_feed(k, buf, (size_t)n) < 0)
				return GR_ENOMEM;
			continue;
		}
		if (n == 0)
			return 1;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 0 : 1;
	}
}

/* Collect report messages; returns 1 at EOF. */
static int read_reports(int fd, struct sbx_msg *err_msg, pid_t *init, int *status, int *have)
{
	struct sbx_msg m;

	for (;;) {
		ssize_t n = read(fd, &m, sizeof(m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0;
		if (n != sizeof(m))
			continue;
		m.text[sizeof(m.text) - 1] = '\0';
		if (m.type == SBX_MSG_ERR && !err_msg->type)
			*err_msg = m;
		else if (m.type == SBX_MSG_PID && *init <= 0)
			*init = m.value; /* once, from the setup child */
		else if (m.type == SBX_MSG_STATUS) {
			*status = m.value;
			*have = 1;
		}
	}
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/* The box uid must own the work directory (root mode only). */
static int prepare_workdir(const sbx *s, char *real, struct gr_err *err)
{
	struct stat st;

	if (!s->cfg->workdir)
		return gr_err_set(err, GR_EINVAL, "no work directory given");
	if (!realpath(s->cfg->workdir, real) || stat(real, &st) < 0)
		return gr_err_sys(err, GR_ENOTFOUND, errno, "cannot open work directory '%s'",
				  s->cfg->workdir);
	if (!S_ISDIR(st.st_mode))
		return gr_err_set(err, GR_EINVAL, "work directory '%s' is not a directory",
				  s->cfg->workdir);
	if (s->root && (st.st_uid != s->box_uid || st.st_gid != s->box_gid) &&
	    chown(real, s->box_uid, s->box_gid) < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot give '%s' to the box uid", real);
	return 0;
}

static void classify(const sbx *s, struct sbx_result *res, int have_status, int wstatus, int oom,
		     int wall_hit, int cpu_hit, const struct sbx_msg *xx)
{
	const struct sbx_limits *lim = &s->cfg->limits;

	if (have_status && WIFEXITED(wstatus))
		res->exitcode = WEXITSTATUS(wstatus);
	else if (have_status && WIFSIGNALED(wstatus))
		res->signal = WTERMSIG(wstatus);
	if (xx->type) {
		res->status = SBX_XX;
		snprintf(res->message, sizeof(res->message), "%s", xx->text);
	} else if (wall_hit) {
		res->status = SBX_TO;
		res->signal = SIGKILL;
		snprintf(res->message, sizeof(res->message), "wall time limit exceeded (%.3g s)",
			 lim->wall_s);
	} else if (cpu_hit) {
		res->status = SBX_TO;
		res->signal = SIGKILL;
		snprintf(res->message, sizeof(res->message),
			 "time limit exceeded (%.3g s, all processes together)", lim->cpu_s);
	} else if (res->signal == SIGXCPU || (lim->cpu_s > 0 && res->time > lim->cpu_s)) {
		res->status = SBX_TO;
		snprintf(res->message, sizeof(res->message), "time limit exceeded (%.3g s)",
			 lim->cpu_s);
	} else if (oom) {
		res->status = SBX_ML;
		snprintf(res->message, sizeof(res->message), "memory limit exceeded (%zu kB)",
			 lim->mem_kb);
	} else if (!have_status) {
		res->status = SBX_XX;
		snprintf(res->message, sizeof(res->message), "sandbox init ended unexpectedly");
	} else if (res->signal == SIGXFSZ) {
		res->status = SBX_OL;
		snprintf(res->message, sizeof(res->message), "file size limit exceeded (%zu kB)",
			 lim->fsize_kb);
	} else if (res->out_dropped || res->err_dropped) {
		res->status = SBX_OL;
		snprintf(res->message, sizeof(res->message),
			 "output limit exceeded (%zu kB; %zu bytes dropped)", lim->output_kb,
			 res->out_dropped + res->err_dropped);
	} else if (res->signal) {
		res->status = SBX_SG;
		snprintf(res->message, sizeof(res->message), "killed by signal %d (%s)",
			 res->signal, strsignal(res->signal));
	} else if (res->exitcode) {
		res->status = SBX_RE;
		snprintf(res->message, sizeof(res->message), "exited with code %d", res->exitcode);
	} else {
		res->status = SBX_OK;
	}
}

/*
 * Wait until init reports its pid or the setup fails. Init reports first
 * thing; setup stays stopped until init exits (see start_init()), so it is
 * reaped here only when the setup failed, and otherwise after the run.
 * Returns 1 when setup is reaped.
 */
static int wait_setup(pid_t setup, int rep, struct sbx_msg *xx, pid_t *init, int *wst, int *have)
{
	struct pollfd pf = {rep, POLLIN, 0};
	int st = 0, eof = 0;

	while (*init <= 0 && !xx->type && !eof) {
		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			break;
		eof = read_reports(rep, xx, init, wst, have);
	}
	if (*init > 0 && !xx->type)
		return 0;
	/* a failure: setup reported it, or every writer is gone */
	reap(setup, &st);
	if (*init <= 0 && !xx->type) {
		xx->type = SBX_MSG_ERR;
		snprintf(xx->text, sizeof(xx->text), "sandbox setup failed (status %d)", st);
	}
	return 1;
}

/* One run as the parent follows it: the pipes from the box, init, what ended it. */
struct box_run {
	int out[2], errp[2], rep[2], pidfd;
	struct sink so, se;
	struct sbx_msg xx;
	struct rusage ru;
	pid_t init;
	int wstatus, have, wall_hit, cpu_hit, reaped, out_open, err_open, rep_open;
	long long cpu_cap; /* ns of CPU time for the whole run, 0 when not watched */
	double start, deadline;
};

/* The hard limit of RLIMIT_CPU (soft rounded up, + 1) for the whole run, in ns; 0: none. */
static long long cpu_cap_ns(const sbx *s)
{
	const struct sbx_limits *lim = &s->cfg->limits;
	long long sec;

	if (!(lim->cpu_s > 0 && s->cg.has_cpu))
		return 0;
	sec = (long long)lim->cpu_s;
	sec += (double)sec < lim->cpu_s ? 2 : 1;
	return sec * 1000000000LL;
}

/*
 * Until init is reaped: copy the box's output into the sinks, read the
 * reports, and kill the box at the wall deadline or when all its processes
 * together spent the CPU cap. 0, or GR_EIO when poll failed (the box is
 * killed and still waited for).
 */
static int supervise(sbx *s, struct box_run *b, struct gr_err *err)
{
	int rc = 0, ist;

	while (b->init > 0 && !b->reaped) {
		struct pollfd pf[4];
		int n = 0, timeout = -1, w;

		if (b->out_open)
			pf[n++] = (struct pollfd){b->out[0], POLLIN, 0};
		if (b->err_open)
			pf[n++] = (struct pollfd){b->errp[0], POLLIN, 0};
		if (b->rep_open)
			pf[n++] = (struct pollfd){b->rep[0], POLLIN, 0};
		if (b->pidfd >= 0)
			pf[n++] = (struct pollfd){b->pidfd, POLLIN, 0};
		if (b->deadline && !b->wall_hit) {
			double left = b->deadline - gr_now();
			timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
		}
		if (b->pidfd < 0 && (timeout < 0 || timeout > 10))
			timeout = 10; /* no pidfd: poll for init's exit */
		if (b->cpu_cap > 0 && !b->wall_hit && !b->cpu_hit && (timeout < 0 || timeout > 100))
			timeout = 100; /* watch the whole run's CPU time */
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			rc = gr_err_sys(err, GR_EIO, errno, "cannot poll the box");
			kill(b->init, SIGKILL);
		}
		if (b->out_open && sink_read(&b->so) != 0)
			b->out_open = 0;
		if (b->err_open && sink_read(&b->se) != 0)
			b->err_open = 0;
		if (b->rep_open && read_reports(b->rep[0], &b->xx, &b->init, &b->wstatus, &b->have))
			b->rep_open = 0;
		if (b->deadline && !b->wall_hit && gr_now() >= b->deadline) {
			/* Killing the namespace's init kills every process in it. */
			kill(b->init, SIGKILL);
			b->wall_hit = 1;
		}
		if (b->cpu_cap > 0 && !b->wall_hit && !b->cpu_hit &&
		    sbx_cg_cpu_ns(&s->cg) > b->cpu_cap) {
			/* many processes, each under RLIMIT_CPU, together over it */
			kill(b->init, SIGKILL);
			b->cpu_hit = 1;
		}
		w = wait4(b->init, &ist, WNOHANG, &b->ru);
		if (w == b->init || (w < 0 && errno == ECHILD))
			b->reaped = 1;
	}
	return rc;
}

/*
 * Every process of the box is gone: read what is left in the pipes (final
 * now) and fill the result: times, memory, drops, status. 0, or GR_ENOMEM
 * (the result released).
 */
static int conclude(sbx *s, struct sbx_result *res, struct box_run *b, struct gr_err *err)
{
	long long ns;
	long peak = -1;
	int oom = 0;

	if (b->out_open)
		sink_read(&b->so);
	if (b->err_open)
		sink_read(&b->se);
	read_reports(b->rep[0], &b->xx, &b->init, &b->wstatus, &b->have);
	res->time = b->ru.ru_utime.tv_sec + b->ru.ru_utime.tv_usec / 1e6 + b->ru.ru_stime.tv_sec +
		    b->ru.ru_stime.tv_usec / 1e6;
	/* Processes killed with the namespace are missing from rusage. */
	ns = sbx_cg_cpu_ns(&s->cg);
	if (ns >= 0 && ns / 1e9 > res->time)
		res->time = ns / 1e9;
	sbx_cg_after_run(&s->cg, &peak, &oom);
	res->max_rss_kb = b->ru.ru_maxrss > peak ? b->ru.ru_maxrss : peak;
	res->killed = b->wall_hit || b->cpu_hit;
	res->out_dropped = b->so.dropped;
	res->err_dropped = b->se.dropped;
	classify(s, res, b->have, b->wstatus, oom, b->wall_hit, b->cpu_hit, &b->xx);
	if (s->cfg->output == SBX_OUT_CAPTURE) {
		res->out = b->so.buf ? b->so.buf : calloc(1, 1);
		res->err = b->se.buf ? b->se.buf : calloc(1, 1);
		res->out_len = b->so.kept;
		res->err_len = b->se.kept;
		b->so.buf = b->se.buf = NULL;
		if (!res->out || !res->err) {
			sbx_result_release(res);
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* The parent's ends of the pipes, non-blocking, each drained into its sink. */
static void open_sinks(sbx *s, struct box_run *b)
{
	const struct sbx_limits *lim = &s->cfg->limits;

	close(b->out[1]);
	close(b->errp[1]);
	close(b->rep[1]);
	b->out[1] = b->errp[1] = b->rep[1] = -1;
	set_nonblock(b->out[0]);
	set_nonblock(b->errp[0]);
	set_nonblock(b->rep[0]);
	b->so = (struct sink){b->out[0], 1, s->cfg->output, lim->output_kb * 1024, 0, 0, NULL, 0};
	b->se = (struct sink){b->errp[0], 2, s->cfg->output, lim->output_kb * 1024, 0, 0, NULL, 0};
	if (!lim->output_kb)
		b->so.limit = b->se.limit = (size_t)-1;
}

static int run(sbx *s, struct sbx_result *res, struct sbx_job *job, struct gr_err *err)
{
	const struct sbx_limits *lim = &s->cfg->limits;
	struct box_run b = {.out = {-1, -1}, .errp = {-1, -1}, .rep = {-1, -1}, .pidfd = -1};
	char workdir[PATH_MAX];
	pid_t setup;
	int rc, rc2;

	b.init = -1;
	b.out_open = b.err_open = b.rep_open = 1;
	memset(res, 0, sizeof(*res));
	if (s->setup_pid > 0) {
		reap(s->setup_pid, NULL);
		s->setup_pid = -1;
	}
	if ((rc = prepare_workdir(s, workdir, err)) < 0)
		return rc;
	if (pipe2(b.out, O_CLOEXEC) < 0 || pipe2(b.errp, O_CLOEXEC) < 0 ||
	    pipe2(b.rep, O_CLOEXEC) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot create pipes");
		goto done;
	}
	job->s = s;
	job->out_w = b.out[1];
	job->err_w = b.errp[1];
	job->rep_w = b.rep[1];
	job->out_r = b.out[0];
	job->err_r = b.errp[0];
	job->rep_r = b.rep[0];
	job->parent = getpid();
	job->workdir = workdir;
	sbx_cg_before_run(&s->cg, lim);
	/* Unwritten stdio buffers would be copied into the box and flushed there. */
	fflush(NULL);
	b.cpu_cap = cpu_cap_ns(s);
	b.start = gr_now();
	b.deadline = lim->wall_s > 0 ? b.start + lim->wall_s : 0;
	setup = fork();
	if (setup < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot fork");
		goto done;
	}
	if (setup == 0)
		sbx_child_main(job);
	open_sinks(s, &b);
	if (wait_setup(setup, b.rep[0], &b.xx, &b.init, &b.wstatus, &b.have))
		setup = -1;
	if (b.init > 0)
		b.pidfd = (int)syscall(SYS_pidfd_open, b.init, 0);
	rc = supervise(s, &b, err);
	res->wall = gr_now() - b.start;
	/*
	 * Init is gone, so setup is leaving too; its exit tears down a copy of
	 * our address space: reap it now only if it is done, else later.
	 */
	if (setup > 0 && waitpid(setup, NULL, WNOHANG) == 0)
		s->setup_pid = setup;
	if ((rc2 = conclude(s, res, &b, err)) < 0)
		rc = rc2;
done:
	free(b.so.buf);
	free(b.se.buf);
	if (b.pidfd >= 0)
		close(b.pidfd);
	close_pair(b.out);
	close_pair(b.errp);
	close_pair(b.rep);
	return rc;
}

/* Run argv in a fresh box; see sandbox.h. */
int sbx_run_cmd(sbx *s, struct sbx_result *res, char *const argv[], struct gr_err *err)
{
	struct sbx_job job = {0};

	if (!argv || !argv[0])
		return gr_err_set(err, GR_EINVAL, "no command to run");
	job.argv = argv;
	return run(s, res, &job, err);
}

/* Fork and call fn(arg) in a fresh box; see sandbox.h. */
int sbx_run_fn(sbx *s, struct sbx_result *res, int (*fn)(void *arg), void *arg, struct gr_err *err)
{
	struct sbx_job job = {0};

	if (!fn)
		return gr_err_set(err, GR_EINVAL, "no function to run");
	job.fn = fn;
	job.arg = arg;
#if defined(__SANITIZE_ADDRESS__)
	job.asan_fn = 1; /* see limits() in sbx_child.c */
#endif
	return run(s, res, &job, err);
}
