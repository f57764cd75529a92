/*
 * kernel_capture.c - the child's stdout and stderr: pipes, drained by a C
 * thread into capped buffers. A pipe cannot be mapped, so student code cannot
 * turn what it prints into executable memory (`dlopen("/proc/self/fd/1")`),
 * as it could with a memfd: MFD_NOEXEC_SEAL only stops execve(), and
 * Debian 12's kernel (6.1) does not have it anyway.
 *
 * The write ends sit on KFD_OUT/KFD_ERR (dup2()ed onto fds 1 and 2 at each
 * cell), the read ends on KFD_OUT_R/KFD_ERR_R. The main thread takes a cell's
 * output after flushing: it drains the pipes itself, without blocking, under
 * the same lock, so every byte the cell wrote is counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_py.h"

/* Pipe buffer asked for: fewer wake-ups of the thread when a cell prints a lot. */
#define KCAP_PIPE_SIZE (1 << 20)

static int place(int fd, int at)
{
	if (fd == at)
		return 0;
	if (dup3(fd, at, O_CLOEXEC) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Read what is in stream i's pipe now, keeping up to cap bytes; 1 at the end
 * of the stream (every write end closed), else 0. Caller holds the lock.
 */
static int drain(struct kcap *k, int i)
{
	struct kcap_stream *s = &k->s[i];
	char tmp[65536];

	for (;;) {
		ssize_t n = read(s->rfd, tmp, sizeof(tmp));
		size_t keep;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0;
		keep = s->len < k->cap ? k->cap - s->len : 0;
		if (keep > (size_t)n)
			keep = (size_t)n;
		if (keep && s->len + keep > s->size) {
			size_t want = s->size ? s->size : 65536;
			char *nb;

			while (want < s->len + keep)
				want *= 2;
			if (want > k->cap)
				want = k->cap;
			nb = realloc(s->buf, want);
			if (!nb)
				keep = s->size - s->len;
			else
				s->buf = nb, s->size = want;
		}
		if (keep)
			memcpy(s->buf + s->len, tmp, keep);
		s->len += keep;
		s->dropped += (size_t)n - keep;
	}
}

static void *drainer(void *arg)
{
	struct kcap *k = arg;
	struct pollfd pf[2] = {{.fd = k->s[0].rfd, .events = POLLIN},
			       {.fd = k->s[1].rfd, .events = POLLIN}};

	/* a stream that ended or whose read end student code closed is left to the main thread */
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		pthread_mutex_lock(&k->lock);
		for (int i = 0; i < 2; i++) {
			if ((pf[i].revents & (POLLIN | POLLHUP)) && drain(k, i))
				pf[i].fd = -1;
			if (pf[i].revents & (POLLNVAL | POLLERR))
				pf[i].fd = -1;
		}
		pthread_mutex_unlock(&k->lock);
	}
	return NULL;
}

int kcap_start(struct kcap *k, size_t cap)
{
	static const int wfd[2] = {KFD_OUT, KFD_ERR}, rfd[2] = {KFD_OUT_R, KFD_ERR_R};

	memset(k, 0, sizeof(*k));
	k->cap = cap;
	pthread_mutex_init(&k->lock, NULL);
	for (int i = 0; i < 2; i++) {
		int p[2];

		k->s[i].rfd = -1;
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			return GR_ESYS;
		fcntl(p[1], F_SETPIPE_SZ, KCAP_PIPE_SIZE);
		/* writers block as on a file; only the reading end never waits */
		fcntl(p[1], F_SETFL, 0);
		if (place(p[0], rfd[i]) < 0) {
			close(p[1]);
			return GR_ESYS;
		}
		if (place(p[1], wfd[i]) < 0)
			return GR_ESYS;
		k->s[i].rfd = rfd[i];
	}
	return pthread_create(&k->thread, NULL, drainer, k) == 0 ? 0 : GR_ESYS;
}

/* Forget everything written so far (between cells). */
void kcap_reset(struct kcap *k)
{
	pthread_mutex_lock(&k->lock);
	for (int i = 0; i < 2; i++) {
		drain(k, i);
		k->s[i].len = 0;
		k->s[i].dropped = 0;
	}
	pthread_mutex_unlock(&k->lock);
}

json_t *kcap_take(struct kcap *k, int i, size_t *dropped)
{
	struct kcap_stream *s = &k->s[i];
	char *clean;
	json_t *j;

	pthread_mutex_lock(&k->lock);
	drain(k, i);
	clean = gr_utf8_clean(s->buf ? s->buf : "", s->len);
	*dropped = s->dropped;
	s->len = 0;
	s->dropped = 0;
	pthread_mutex_unlock(&k->lock);
	j = json_string(clean ? clean : "");
	free(clean);
	return j;
}

size_t kcap_pos(struct kcap *k, int i)
{
	size_t n;

	pthread_mutex_lock(&k->lock);
	drain(k, i);
	n = k->s[i].len;
	pthread_mutex_unlock(&k->lock);
	return n;
}
