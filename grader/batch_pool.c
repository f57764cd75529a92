/*
 * batch_pool.c - N forked workers fed job indices over socketpairs.
 *
 * A worker is a plain fork of the grader; its init() typically starts a
 * notebook zygote. Frames: coordinator -> worker: u64 index; worker ->
 * coordinator: u64 index, i32 rc, u32 length, bytes (the result text, or the
 * error message when rc < 0). Each worker holds up to QUEUE jobs: the one it
 * runs and the next, already in its socket, so that it never waits for the
 * coordinator to read a reply and answer. A worker that dies mid-job costs
 * only that job: it is reported with text NULL, the jobs queued behind it go
 * to the other workers, and a fresh worker takes its place.
 *
 * SIGTERM and SIGINT reach the coordinator only while it waits (ppoll), so
 * that tick() sees a stop flag set by the caller's handler before the next
 * wait. Workers ignore both: the coordinator decides what a stop kills, and a
 * Ctrl-C sent to the whole process group must not be a student's crash.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch_int.h"

#define QUEUE 2

struct worker {
	pid_t pid;
	int fd;
	size_t job[QUEUE]; /* job[0] is being run, the others wait in order */
	unsigned njobs;
	int dead; /* a job could not be sent: only its replies are still read */
};

/* 1 when filled, 0 on clean EOF before any byte, -1 on error or torn frame. */
static int read_all(int fd, void *buf, size_t len)
{
	ssize_t n = gr_read_full(fd, buf, len);

	return n == (ssize_t)len ? 1 : n == 0 ? 0 : -1;
}

static void worker_main(const struct batch_worker_ops *ops, void *ctx, unsigned slot, int fd)
{
	struct gr_err err = {0};
	uint64_t index;
	int status = 0;

	sigset_t stopsigs;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigprocmask(SIG_UNBLOCK, &stopsigs, NULL);
	if (ops->init && ops->init(ctx, slot, &err) < 0) {
		/* answer every job with the reason, so each student gets the message */
		status = -1;
	}
	while (read_all(fd, &index, sizeof(index)) == 1) {
		char *text = NULL;
		const char *body;
		int32_t rc = 0;
		uint32_t len;
		struct gr_err jerr = {0};

		if (status < 0) {
			rc = -1;
			body = err.msg;
		} else {
			rc = ops->job(ctx, (size_t)index, &text, &jerr);
			body = rc < 0 ? jerr.msg : (text ? text : "");
		}
		len = (uint32_t)strlen(body);
		if (gr_write_all(fd, &index, sizeof(index)) < 0 ||
		    gr_write_all(fd, &rc, sizeof(rc)) < 0 ||
		    gr_write_all(fd, &len, sizeof(len)) < 0 || gr_write_all(fd, body, len) < 0) {
			free(text);
			break;
		}
		free(text);
	}
	if (ops->fini && status == 0)
		ops->fini(ctx);
}

static int spawn(struct worker *w, struct worker *all, unsigned n, unsigned slot,
		 const struct batch_worker_ops *ops, void *ctx, struct gr_err *err)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot create worker channel");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return gr_err_sys(err, GR_EIO, errno, "cannot start worker");
	}
	if (pid == 0) {
		close(sv[0]);
		for (unsigned i = 0; i < n; i++)
			if (all[i].fd >= 0)
				close(all[i].fd);
		worker_main(ops, ctx, slot, sv[1]);
		/* _exit: the coordinator owns every inherited resource */
		_exit(0);
	}
	close(sv[1]);
	w->pid = pid;
	w->fd = sv[0];
	w->njobs = 0;
	w->dead = 0;
	return 0;
}

/* Stop a worker: an idle one exits on EOF; a broken one is killed. */
static void reap(struct worker *w, int kill_it)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->pid > 0) {
		if (kill_it)
			kill(w->pid, SIGKILL);
		while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	w->pid = -1;
}

/* The pool's state in the coordinator. */
struct pool {
	const struct batch_worker_ops *ops;
	void *dctx;
	const size_t *indices;
	size_t count, next;
	size_t *retry; /* jobs queued on a worker that died, to hand out first */
	size_t nretry;
};

static size_t jobs_left(const struct pool *p)
{
	return p->nretry + (p->count - p->next);
}

static int has_job(const struct pool *p)
{
	return jobs_left(p) > 0;
}

/*
 * Fill a worker's queue. A job that cannot be sent (the worker died) is kept
 * for another; an idle dead worker is reaped, a busy one is read to its end.
 */
static void feed(struct pool *p, struct worker *w, unsigned nworkers)
{
	/* a second job only while there are more than enough: the last ones go to whoever is free
	 */
	while (w->fd >= 0 && !w->dead && has_job(p) &&
	       (w->njobs == 0 || (w->njobs < QUEUE && jobs_left(p) > nworkers))) {
		size_t job = p->nretry ? p->retry[p->nretry - 1] : p->indices[p->next];
		uint64_t index = job;
		ssize_t sent;

		/* MSG_NOSIGNAL: a worker that died is not the coordinator's death */
		do
			sent = send(w->fd, &index, sizeof(index), MSG_NOSIGNAL);
		while (sent < 0 && errno == EINTR);
		if (sent != (ssize_t)sizeof(index)) {
			w->dead = 1;
			if (!w->njobs)
				reap(w, 1);
			return;
		}
		if (p->nretry)
			p->nretry--;
		else
			p->next++;
		w->job[w->njobs++] = job;
	}
}

/*
 * Read one reply frame and record it; on a broken worker report the job it
 * ran as crashed and give the ones queued behind it back. The worker's queue
 * is refilled before the result is recorded.
 */
static int collect(struct pool *p, struct worker *w, unsigned nworkers, int *broken)
{
	uint64_t index;
	int32_t rc;
	uint32_t len;
	char *body = NULL;
	int r;

	*broken = 0;
	if (read_all(w->fd, &index, sizeof(index)) != 1 || read_all(w->fd, &rc, sizeof(rc)) != 1 ||
	    read_all(w->fd, &len, sizeof(len)) != 1 || !(body = malloc((size_t)len + 1)) ||
	    read_all(w->fd, body, len) != 1) {
		free(body);
		*broken = 1;
		for (unsigned k = w->njobs; k > 1; k--)
			p->retry[p->nretry++] = w->job[k - 1];
		w->njobs = 0;
		return p->ops->done(p->dctx, w->job[0], NULL, "grading worker died");
	}
	body[len] = '\0';
	memmove(w->job, w->job + 1, (QUEUE - 1) * sizeof(w->job[0]));
	w->njobs--;
	feed(p, w, nworkers);
	r = p->ops->done(p->dctx, (size_t)index, rc < 0 ? NULL : body, rc < 0 ? body : NULL);
	free(body);
	return r;
}

int batch_pool_run(const struct batch_worker_ops *ops, void *ctx, void *dctx, unsigned n,
		   const size_t *indices, size_t count, struct gr_err *err)
{
	struct pool p = {ops, dctx, indices, count, 0, NULL, 0};
	struct worker *ws = NULL;
	struct pollfd *pfd = NULL;
	size_t finished = 0;
	int rc = 0, timeout = -1;
	sigset_t stopsigs, waiting;

	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigprocmask(SIG_BLOCK, &stopsigs, &waiting);

	if (n == 0)
		n = 1;
	if (n > count)
		n = count ? (unsigned)count : 1;
	ws = calloc(n, sizeof(*ws));
	pfd = calloc(n, sizeof(*pfd));
	p.retry = calloc((size_t)n * QUEUE, sizeof(*p.retry));
	if (!ws || !pfd || !p.retry) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	for (unsigned i = 0; i < n; i++)
		ws[i].fd = ws[i].pid = -1;
	for (unsigned i = 0; i < n && count > 0; i++) {
		rc = spawn(&ws[i], ws, n, i, ops, ctx, err);
		if (rc)
			goto done;
	}
	while (finished < count) {
		for (unsigned i = 0; i < n; i++) {
			feed(&p, &ws[i], n);
			if (ws[i].dead && !ws[i].njobs)
				reap(&ws[i], 1);
			if (ws[i].fd < 0 && has_job(&p)) {
				rc = spawn(&ws[i], ws, n, i, ops, ctx, err);
				if (rc)
					goto done;
				i--; /* hand it a job */
				continue;
			}
			pfd[i].fd = ws[i].njobs ? ws[i].fd : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (ops->tick) {
			int wait_ms = -1;

			rc = ops->tick(dctx, &wait_ms);
			if (rc) {
				gr_err_set(err, rc, "stopped: cannot record a result");
				goto done;
			}
			timeout = wait_ms;
		}
		struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000L};

		if (ppoll(pfd, n, timeout < 0 ? NULL : &ts, &waiting) < 0) {
			if (errno == EINTR)
				continue;
			rc = gr_err_sys(err, GR_EIO, errno, "cannot wait for workers");
			goto done;
		}
		/*
		 * A ppoll that found replies leaves a signal sent with them pending:
		 * let it in now, before a reply that may be its doing is recorded.
		 */
		sigprocmask(SIG_SETMASK, &waiting, NULL);
		sigprocmask(SIG_BLOCK, &stopsigs, NULL);
		for (unsigned i = 0; i < n; i++) {
			int broken;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			rc = collect(&p, &ws[i], n, &broken);
			finished++;
			if (broken)
				reap(&ws[i], 1);
			if (rc) {
				gr_err_set(err, rc, "stopped: cannot record a result");
				goto done;
			}
		}
	}
done:
	for (unsigned i = 0; ws && i < n; i++)
		reap(&ws[i], rc != 0);
	free(ws);
	free(pfd);
	free(p.retry);
	sigprocmask(SIG_SETMASK, &waiting, NULL);
	return rc;
}
