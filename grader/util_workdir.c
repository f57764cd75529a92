/*
 * util_workdir.c - private work directories in /tmp that do not outlive a
 * dead owner (see include/grader/util.h).
 *
 * The owner holds an exclusive flock on <dir>/.lock for the directory's
 * whole life; the kernel drops it when the owner dies, whatever killed it.
 * The lock file appears already locked (made under a temporary name, locked,
 * then renamed), so a directory with a free lock file is a dead owner's. A
 * directory without one belongs to someone else (another program, an older
 * grader) and is never touched.
 */
#include "grader/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_NAME ".lock"

/* "<prefix>.XXXXXX" as mkdtemp makes it. */
static int is_family(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) || name[n] != '.' || strlen(name + n + 1) != 6)
		return 0;
	for (const char *p = name + n + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/*
 * Is `name` (in parent_fd) a dead owner's directory? Then return its lock,
 * held by us (a concurrent sweep skips it), else -1.
 */
static int claim(int parent_fd, const char *name)
{
	int dfd, fd;
	struct stat st;

	dfd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return -1;
	/* held: its owner lives; unlinked once we hold it: its owner is removing it */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 || st.st_nlink == 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int gr_workdir_sweep(const char *parent, const char *prefix, unsigned *removed, struct gr_err *err)
{
	DIR *d = NULL;
	struct dirent *e;
	int pfd, rc = 0;

	if (removed)
		*removed = 0;
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || !(d = fdopendir(pfd))) {
		if (pfd >= 0)
			close(pfd);
		return gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", parent);
	}
	while ((e = readdir(d))) {
		struct gr_err one = {0};
		char shown[PATH_MAX];
		int lock;

		if (!is_family(e->d_name, prefix) || (lock = claim(dirfd(d), e->d_name)) < 0)
			continue;
		snprintf(shown, sizeof(shown), "%s/%s", parent, e->d_name);
		if (gr_rm_rf_at(dirfd(d), e->d_name, &one) < 0) {
			if (!rc)
				rc = gr_err_set(err, GR_EIO,
						"cannot remove the stale work directory '%s': %s",
						shown, one.msg);
		} else if (removed) {
			(*removed)++;
		}
		close(lock);
	}
	closedir(d);
	return rc;
}

/* Lock file for a new directory: locked under a temporary name, then renamed. */
static int make_lock(int dfd, struct gr_err *err, const char *path)
{
	char pid[32];
	int fd = openat(dfd, LOCK_NAME ".new", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);

	if (fd < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot create a lock in '%s'", path);
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid()); /* for a reader; the lock decides */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || gr_write_all(fd, pid, strlen(pid)) < 0 ||
	    renameat(dfd, LOCK_NAME ".new", dfd, LOCK_NAME) < 0) {
		int e = errno;
		close(fd);
		return gr_err_sys(err, GR_EIO, e, "cannot lock '%s'", path);
	}
	return fd;
}

int gr_workdir_make(struct gr_workdir *w, const char *parent, const char *prefix,
		    struct gr_err *err)
{
	struct gr_err sweep = {0};
	int dfd = -1, rc;

	memset(w, 0, sizeof(*w));
	w->lock_fd = -1;
	if (gr_workdir_sweep(parent, prefix, NULL, &sweep) < 0)
		snprintf(w->warning, sizeof(w->warning), "%s", sweep.msg);
	if (asprintf(&w->path, "%s/%s.XXXXXX", parent, prefix) < 0) {
		w->path = NULL;
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	if (!mkdtemp(w->path)) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot create a work directory in '%s'",
				parent);
		goto fail;
	}
	dfd = open(w->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", w->path);
		goto fail;
	}
	rc = make_lock(dfd, err, w->path);
	close(dfd);
	if (rc < 0)
		goto fail;
	w->lock_fd = rc;
	return 0;
fail:
	if (w->path)
		gr_rm_rf(w->path, NULL); /* only what we just made */
	free(w->path);
	w->path = NULL;
	return rc;
}

int gr_workdir_remove(struct gr_workdir *w, struct gr_err *err)
{
	int rc = 0;

	if (w->path)
		rc = gr_rm_rf(w->path, err);
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	free(w->path);
	w->path = NULL;
	w->lock_fd = -1;
	return rc;
}
