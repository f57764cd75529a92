/*
 * srv_serve.c - srv_run: the processes of `grader serve`. The parent is the
 * grading side (root: the sandbox needs it); it opens the listening socket,
 * forks the HTTP side, which drops to the unprivileged user before it reads
 * a byte from the network, the grading workers, which take jobs from the
 * state database, each keeping its warm zygotes across jobs, and the
 * gradebook writer, which writes the gradebook files from the journal. The
 * database is the only channel; a pipe only wakes idle workers early.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grader/fetch.h"
#include "grader/roster.h"
#include "grader/util.h"
#include "srv_int.h"

#define IDLE_POLL_MS 1000
/* The gradebook writer's slot in the table of the grading side's children, after the workers. */
#define WRITER SRV_WORKERS_MAX

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	reload_flag = 1;
}

void srv_log(const char *fmt, ...)
{
	char line[1024], when[32], *safe;
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/*
	 * A line holds text from requests (a path, a repository name, a git
	 * error): control and bidi characters are shown escaped, so none can
	 * start a forged line or reach the terminal of whoever reads the log.
	 */
	safe = gr_term_escape(line);
	/* one write per line: the two sides share stderr */
	fprintf(stderr, "grader serve: %s [%d] %s\n", when, (int)getpid(),
		safe ? safe : "(a log line lost: out of memory)");
	fflush(stderr);
	free(safe);
}

/* Bind "ADDR:PORT" ("[::1]:8080", "127.0.0.1:0"); *out is the listening socket. */
static int listen_on(int *out, const char *spec, struct gr_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
	char host[256], port[16], shown[300];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, one = 1, e;

	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host) ||
	    strlen(colon + 1) >= sizeof(port) || !colon[1])
		return gr_err_set(err, GR_EINVAL, "cannot listen on '%s': not ADDR:PORT", spec);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	e = getaddrinfo(host, port, &hints, &ai);
	if (e)
		return gr_err_set(err, GR_EINVAL, "cannot listen on '%s': %s", spec,
				  gai_strerror(e));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 256) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return gr_err_sys(err, GR_EIO, e, "cannot listen on '%s'", spec);
	}
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		snprintf(shown, sizeof(shown), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
		srv_log("listening on %s", shown);
	}
	*out = fd;
	return 0;
}

/*
 * The state folders, the database's owned by the HTTP side's user (it writes
 * jobs there). Students' work and grades are no other local account's: the
 * top folder may only be passed through, the others are their owner's alone,
 * but for the gradebooks the HTTP side's group reads to answer exports
 * (folders of an earlier run included).
 */
static int make_state(const struct srv_config *cfg, const struct passwd *pw, struct gr_err *err)
{
	static const char *const dirs[] = {"", "/db", "/submitted", "/gradebooks"};
	static const mode_t modes[] = {0711, 0700, 0700, 0750};
	char path[4096];
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", cfg->state, dirs[i]);
		rc = gr_mkdir_p(path, modes[i], err);
		if (!rc && chmod(path, modes[i]) < 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot set the mode of '%s'", path);
		if (!rc && pw && i == 3 && chown(path, (uid_t)-1, pw->pw_gid) < 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot hand '%s' to '%s'", path,
					pw->pw_name);
		if (!rc && pw && i == 1 && chown(path, pw->pw_uid, pw->pw_gid) < 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot hand '%s' to '%s'", path,
					pw->pw_name);
	}
	/*
	 * The database file exists before SQLite opens it, owned by the HTTP
	 * side's user; SQLite, running as root, gives the -wal and -shm files it
	 * creates the database's owner. Files of an earlier run are handed over too.
	 */
	for (int i = 0; !rc && pw && i < 3; i++) {
		static const char *const sfx[] = {"", "-wal", "-shm"};
		int fd;

		snprintf(path, sizeof(path), "%s/%s%s", cfg->state, SRV_DB_NAME, sfx[i]);
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (i == 0 ? O_CREAT : 0), 0600);
		if (fd < 0 && (i == 0 || errno != ENOENT))
			rc = gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", path);
		else if (fd >= 0 && fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot hand '%s' to '%s'", path,
					pw->pw_name);
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

/* Become `pw` for good: groups, gid, uid; no way back, no new privileges. */
static int drop_to(const struct passwd *pw, struct gr_err *err)
{
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return gr_err_sys(err, GR_EDENIED, errno, "cannot become user '%s'", pw->pw_name);
	if (setuid(0) == 0)
		return gr_err_set(err, GR_EDENIED, "still root after dropping to '%s'",
				  pw->pw_name);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return gr_err_sys(err, GR_EDENIED, errno, "cannot set no_new_privs");
	return 0;
}

/* Fork the HTTP side; it exits when this process dies. */
static int start_http(pid_t *out, const struct srv_config *cfg, const struct passwd *pw,
		      int listen_fd, int wake)
{
	pid_t parent = getpid(), pid;
	struct gr_err err = {0};

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		*out = pid;
		return 0;
	}
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* answers first: the HTTP side is ahead of the graders for the CPU (best effort) */
	if (setpriority(PRIO_PROCESS, 0, -5) < 0)
		errno = 0;
	if (pw && drop_to(pw, &err) < 0) {
		srv_log("%s", err.msg);
		_exit(1);
	}
	/* set after the uid change, which clears it */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(1);
	if (srv_http_main(cfg, listen_fd, wake, &err) < 0) {
		srv_log("http side: %s", err.msg);
		_exit(1);
	}
	_exit(0);
}

static void stop_http(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
}

/* Wait for a wake-up byte or the idle timeout; drain what came. */
static void idle(int wake_rd)
{
	struct pollfd p = {.fd = wake_rd, .events = POLLIN};
	char buf[256];

	if (poll(&p, 1, IDLE_POLL_MS) > 0)
		while (read(wake_rd, buf, sizeof(buf)) > 0)
			;
}

/*
 * The row of a taken job is the HTTP side's writing: check what the
 * grading side takes from it, and judge lateness by a received time no
 * earlier than SRV_SEEN_SLACK before the grading side first saw the job.
 * 1 when the job is refused (marked failed with why, no call made).
 */
static int refuse_row(const struct srv_config *cfg, const struct roster *ro, struct srv_store *st,
		      struct srv_worker *w, struct srv_job *job)
{
	struct gr_err err = {0};
	const char *why = srv_job_check(cfg, ro, job);
	double seen = srv_wall_now(), was = job->received;
	char msg[200];

	if (why) {
		snprintf(msg, sizeof(msg), "job refused: %s", why);
		if (srv_store_finish(st, job->id, "failed", msg, NULL, NULL, 0, 0, NULL, 0, &err))
			srv_log("%s", err.msg);
		/* the row's own text is not logged: the check is what it failed */
		srv_log("job %lld: %s", job->id, msg);
		return 1;
	}
	if (!srv_store_seen_at(st, w->key, job->id, &seen))
		seen = srv_wall_now();
	job->received = srv_job_received(job->received, seen);
	if (job->received != was)
		srv_log("job %lld: received time %.3f out of bounds: judged by when the grading "
			"side saw it, %.3f",
			job->id, was, job->received);
	return 0;
}

/* Run one queued job if there is one: 1 ran, 0 none waits, negative on a store error. */
static int run_one(const struct srv_config *cfg, const struct roster *ro, struct srv_store *st,
		   const struct srv_opts *opts, struct srv_worker *w, int wake_wr)
{
	struct srv_job job = {0};
	struct gr_err err = {0};
	int superseded = 0, rc;

	if (srv_store_stamp(st, w->key, srv_wall_now(), &err) < 0)
		srv_log("%s", err.msg);
	rc = srv_store_take(st, (long long)getpid(), &job, &superseded, &err);
	if (rc == GR_ENOTFOUND)
		return 0;
	if (rc) {
		srv_log("%s", err.msg);
		return rc;
	}
	if (refuse_row(cfg, ro, st, w, &job)) {
		srv_job_release(&job);
		return 1;
	}
	/* more may wait: wake another idle worker (each take passes one wake-up on) */
	if (write(wake_wr, "j", 1) < 0 && errno != EAGAIN)
		srv_log("cannot wake a worker: %s", strerror(errno));
	if (superseded)
		srv_log("job %lld: %s %s: %d older push(es) superseded", job.id, job.assignment,
			job.student, superseded);
	srv_log("job %lld: %s %s: running (attempt %d)", job.id, job.assignment, job.student,
		job.attempts);
	rc = srv_work_job(cfg, st, &job, opts, w, &err);
	if (rc)
		srv_log("job %lld: %s", job.id, err.msg);
	srv_job_release(&job);
	return rc ? rc : 1;
}

/*
 * One grading worker (root, forked by the grading side): takes jobs from
 * the store until SIGTERM, keeping its warm zygotes across jobs; dies with
 * the grading side (a service killed with kill -9 leaves no worker grading).
 */
static void worker_main(const struct srv_config *cfg, const struct srv_opts *opts, unsigned slot,
			const char *key, pid_t parent, int listen_fd, const int wake[2])
{
	struct srv_worker w = {.slot = slot, .key = key};
	struct srv_store *st = NULL;
	struct roster *ro = NULL;
	struct gr_err err = {0};
	int rc, n, full = 0, dirty = 0;

	signal(SIGHUP, SIG_IGN);
	close(listen_fd); /* the network is the HTTP side's alone */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	if (srv_store_open(&st, cfg->state, &err) < 0 ||
	    (cfg->roster && roster_load(&ro, cfg->roster, &err) < 0)) {
		srv_log("worker %u: %s", slot, err.msg);
		_exit(1);
	}
	srv_worker_prewarm(&w, cfg, opts);
	fetch_git_hold(); /* libgit2 set up once, not at every job's fetch */
	while (!stop_flag) {
		/*
		 * A job could not be finished or queued again (a full disk):
		 * this worker's running job goes back to the queue as soon as
		 * the store takes writes again.
		 */
		n = 0;
		if (dirty && srv_store_recover(st, (long long)getpid(), &n, &err) == 0) {
			dirty = 0;
			if (n)
				srv_log("%d unfinished job(s) queued again", n);
		}
		if (srv_low_space(cfg->state)) {
			/* jobs wait in the queue until there is room to grade them */
			if (!full)
				srv_log("state folder '%s' is full: grading paused", cfg->state);
			full = 1;
			idle(wake[0]);
			continue;
		}
		if (full)
			srv_log("state folder has room again: grading resumed");
		full = 0;
		rc = run_one(cfg, ro, st, opts, &w, wake[1]);
		if (rc < 0) {
			dirty = 1;
			sleep(1);
		} else if (rc == 0)
			idle(wake[0]);
	}
	fetch_git_release();
	srv_worker_release(&w);
	roster_free(ro);
	srv_store_close(st);
	_exit(0);
}

/*
 * The gradebook writer (root, forked by the grading side): writes each
 * assignment's gradebook from its journal when due (srv_gbooks_flush), in
 * a process of its own so that a long write (the roster's missing students
 * graded the first time, everyone after a rubric change) never holds up the
 * grading side's loop (calls, workers). It ignores SIGTERM and SIGINT: the
 * grading side sends SIGUSR1 once the workers have stopped, and it then
 * writes every gradebook with every job done and exits.
 */
static void writer_main(const struct srv_config *cfg, const struct srv_opts *opts, pid_t parent,
			int listen_fd)
{
	struct srv_gbooks gb = {0};
	struct srv_store *st = NULL;
	struct sigaction sa = {0};
	struct gr_err err = {0};

	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sa.sa_handler = on_stop;
	sigaction(SIGUSR1, &sa, NULL);
	close(listen_fd);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	if (srv_store_open(&st, cfg->state, &err) < 0 || srv_gbooks_init(&gb, cfg, &err) < 0) {
		srv_log("gradebook writer: %s", err.msg);
		_exit(1);
	}
	while (!stop_flag) {
		srv_gbooks_flush(&gb, cfg, opts, st, 0);
		poll(NULL, 0, IDLE_POLL_MS / 4);
	}
	srv_gbooks_flush(&gb, cfg, opts, st, 1);
	srv_gbooks_release(&gb);
	srv_store_close(st);
	_exit(0);
}

/* Fork a grading worker for `slot`, or the gradebook writer when slot < 0. */
static int start_child(pid_t *out, const struct srv_config *cfg, const struct srv_opts *opts,
		       int slot, const char *key, int listen_fd, const int wake[2])
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0 && slot < 0)
		writer_main(cfg, opts, parent, listen_fd);
	if (pid == 0)
		worker_main(cfg, opts, (unsigned)slot, key, parent, listen_fd, wake);
	*out = pid;
	return 0;
}

/*
 * A child ended: the HTTP side (started again by the loop) or a worker.
 * A worker that did not stop cleanly leaves its running job to the queue.
 */
static void reaped(pid_t pid, int status, pid_t *http, pid_t *workers, size_t nworkers,
		   struct srv_store *st)
{
	struct gr_err err = {0};
	int n = 0;

	if (pid == *http) {
		if (!stop_flag)
			srv_log("the HTTP side exited; starting it again");
		*http = -1;
		return;
	}
	for (size_t i = 0; i < nworkers; i++) {
		if (workers[i] != pid)
			continue;
		workers[i] = -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return;
		if (srv_store_recover(st, (long long)pid, &n, &err) < 0)
			srv_log("%s", err.msg);
		if (i == WRITER)
			srv_log("the gradebook writer died%s%s; starting it again",
				WIFSIGNALED(status) ? " by signal " : "",
				WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "");
		else
			srv_log("worker %zu died%s%s; %d job(s) queued again", i,
				WIFSIGNALED(status) ? " by signal " : "",
				WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "", n);
	}
}

static void signal_workers(const pid_t *workers, size_t n, int sig)
{
	for (size_t i = 0; i < n; i++)
		if (workers[i] > 0)
			kill(workers[i], sig);
}

/* SIGHUP: read the config again; keep the old one when the new one is bad. */
static void reload(struct srv_config **cur, struct srv_config **owned)
{
	struct srv_config *c = NULL;
	struct gr_err err = {0};

	if (srv_config_load(&c, (*cur)->path, (*cur)->state, NULL, NULL, &err) < 0) {
		srv_log("reload refused, keeping the running config: %s", err.msg);
		return;
	}
	srv_config_free(*owned);
	*owned = *cur = c;
	srv_log("config '%s' reloaded", c->path);
}

/*
 * Before any worker or writer runs: each journal keeps the last result of
 * each student (srv_journal.c), so it does not grow with every push for
 * good. A journal that cannot be compacted is used as it is.
 */
static void compact_journals(const struct srv_config *cfg)
{
	for (size_t i = 0; i < cfg->nassignments; i++) {
		struct gr_err err = {0};
		size_t kept = 0, total = 0;
		char *path = NULL;
		double t = gr_now();

		if (asprintf(&path, "%s/gradebooks/%s.json.journal", cfg->state,
			     cfg->assignments[i].name) < 0)
			return;
		if (srv_journal_compact(path, &kept, &total, &err) < 0)
			srv_log("journal %s: left as it is: %s", cfg->assignments[i].name, err.msg);
		else if (kept < total)
			srv_log("journal %s: compacted to %zu of %zu line(s) in %.2f s (the last "
				"result of each student)",
				cfg->assignments[i].name, kept, total, gr_now() - t);
		free(path);
	}
}

/* Reap what ended, for up to `ms` milliseconds (any child; 0: do not wait). */
static void reap(int ms, pid_t *http, pid_t *workers, size_t n, struct srv_store *st)
{
	int status;
	pid_t pid;

	if (ms > 0)
		poll(NULL, 0, ms);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		reaped(pid, status, http, workers, n, st);
}

static int running(const pid_t *workers, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (workers[i] > 0)
			return 1;
	return 0;
}

/* Wait, reaping, until none of workers[first .. first + n) runs. */
static void reap_all(pid_t *workers, size_t first, size_t n, pid_t *http, struct srv_store *st)
{
	while (running(workers + first, n)) {
		int status;
		pid_t pid = wait(&status);

		if (pid < 0 && errno != EINTR)
			break;
		if (pid > 0)
			reaped(pid, status, http, workers, SRV_WORKERS_MAX + 1, st);
	}
}

int srv_run(const struct srv_config *cfg0, const struct srv_opts *opts, struct gr_err *err)
{
	struct srv_config *cfg = (struct srv_config *)cfg0, *owned = NULL;
	struct passwd *pw = NULL;
	struct srv_store *st = NULL;
	struct sigaction sa = {0};
	int listen_fd = -1, wake[2] = {-1, -1}, rc, n = 0, restarting = 0;
	char key[65] = "";
	size_t nworkers = cfg->workers ? cfg->workers : 1;
	pid_t http = -1, *workers = NULL;

	if (opts->user && !(pw = getpwnam(opts->user)))
		return gr_err_set(err, GR_ENOTFOUND, "no user '%s'", opts->user);
	if (pw && pw->pw_uid == 0)
		return gr_err_set(err, GR_EDENIED, "--user '%s' is root", opts->user);
	workers = calloc(SRV_WORKERS_MAX + 1, sizeof(*workers));
	if (!workers)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i <= SRV_WORKERS_MAX; i++)
		workers[i] = -1;
	rc = make_state(cfg, pw, err);
	if (!rc)
		rc = srv_callback_key(key, cfg->state, err);
	if (!rc)
		rc = srv_store_open(&st, cfg->state, err);
	if (!rc)
		rc = srv_store_recover(st, 0, &n, err);
	if (rc)
		goto done;
	if (n)
		srv_log("%d job(s) left running by an earlier run queued again", n);
	compact_journals(cfg);
	rc = listen_on(&listen_fd, opts->listen ? opts->listen : cfg->listen, err);
	if (rc)
		goto done;
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot make a pipe");
		goto done;
	}
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stop_flag) {
		if (http <= 0 && start_http(&http, cfg, pw, listen_fd, wake[1]) < 0) {
			rc = gr_err_sys(err, GR_EIO, errno, "cannot start the HTTP side");
			goto done;
		}
		if (reload_flag) {
			reload_flag = 0;
			reload(&cfg, &owned);
			stop_http(&http); /* started again with the new config */
			/* the workers finish their job and are started again with it */
			signal_workers(workers, nworkers, SIGTERM);
			if (workers[WRITER] > 0)
				kill(workers[WRITER], SIGUSR1);
			restarting = 1;
			nworkers = cfg->workers ? cfg->workers : 1;
			continue;
		}
		if (restarting && running(workers, SRV_WORKERS_MAX + 1)) {
			reap(IDLE_POLL_MS / 4, &http, workers, SRV_WORKERS_MAX + 1, st);
			continue;
		}
		restarting = 0;
		for (size_t i = 0; i < nworkers && i < SRV_WORKERS_MAX; i++)
			if (workers[i] <= 0 &&
			    start_child(&workers[i], cfg, opts, (int)i, key, listen_fd, wake) < 0) {
				rc = gr_err_sys(err, GR_EIO, errno, "cannot start a worker");
				goto done;
			}
		if (workers[WRITER] <= 0 &&
		    start_child(&workers[WRITER], cfg, opts, -1, key, listen_fd, wake) < 0) {
			rc = gr_err_sys(err, GR_EIO, errno, "cannot start the gradebook writer");
			goto done;
		}
		/* the jobs queued since the last turn: seen now (their received time is bounded by
		 * it) */
		srv_store_stamp(st, key, srv_wall_now(), NULL);
		/* the calls finished jobs owe, those of an earlier run too */
		srv_callback_send_due(cfg, key, st);
		reap(IDLE_POLL_MS / 4, &http, workers, SRV_WORKERS_MAX + 1, st);
		if (http <= 0 && !stop_flag)
			sleep(1);
	}
	rc = 0;
	srv_log("stopping: queued jobs stay queued");
done:
	/* SIGTERM: a worker finishes its job and exits */
	signal_workers(workers, SRV_WORKERS_MAX, SIGTERM);
	if (workers)
		reap_all(workers, 0, SRV_WORKERS_MAX, &http, st);
	/* the workers are done: the gradebook files catch up with every job finished */
	if (workers && workers[WRITER] > 0)
		kill(workers[WRITER], SIGUSR1);
	if (workers)
		reap_all(workers, WRITER, 1, &http, st);
	stop_http(&http);
	if (listen_fd >= 0)
		close(listen_fd);
	if (wake[0] >= 0)
		close(wake[0]);
	if (wake[1] >= 0)
		close(wake[1]);
	free(workers);
	explicit_bzero(key, sizeof(key));
	srv_store_close(st);
	srv_config_free(owned);
	return rc;
}
