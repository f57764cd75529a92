/* util.c - errors and small file-system helpers (see include/grader/util.h). */
#include "grader/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <utf8proc.h>

int gr_read_file(char **out, size_t *len, const char *path, size_t max, struct gr_err *err)
{
	int fd = -1, rc = 0;
	char *buf = NULL;
	size_t cap = 0, used = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = gr_err_sys(err, errno == ENOENT ? GR_ENOTFOUND : GR_EIO, errno,
				"cannot open '%s'", path);
		goto done;
	}
	for (;;) {
		if (used + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = gr_err_set(err, GR_ENOMEM, "cannot read '%s': out of memory",
						path);
				goto done;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", path);
			goto done;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (max && used > max) {
			rc = gr_err_set(err, GR_ELIMIT, "cannot read '%s': larger than %zu bytes",
					path, max);
			goto done;
		}
	}
	buf[used] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = used;
done:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int gr_buf_put(struct gr_buf *b, const void *data, size_t n)
{
	if (n >= SIZE_MAX - b->len)
		return GR_ENOMEM;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
		p = realloc(b->p, cap);
		if (!p)
			return GR_ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int gr_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* no progress: do not spin */
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t gr_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int gr_copy_file(const char *src, const char *dst, unsigned mode, struct gr_err *err)
{
	char buf[65536];
	int in = -1, out = -1, rc = 0;
	struct stat st;
	ssize_t n;

	/* O_NONBLOCK: a FIFO planted in place of a file must not hang the open. */
	in = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", src);
		goto done;
	}
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = gr_err_set(err, GR_EIO, "cannot copy '%s': not a regular file", src);
		goto done;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (out < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot create '%s'", dst);
		goto done;
	}
	while ((n = gr_read_full(in, buf, sizeof(buf))) > 0)
		if (gr_write_all(out, buf, (size_t)n) < 0) {
			rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", dst);
			goto done;
		}
	if (n < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", src);
done:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && !rc)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", dst);
	return rc;
}

int gr_write_file_atomic(const char *path, const void *data, size_t len, struct gr_err *err)
{
	char *tmp = NULL;
	int fd = -1, rc = 0;
	struct stat st;

	/*
	 * A device or FIFO (-o /dev/stdout, /dev/null) is written in place:
	 * renaming a file over it would replace the device node itself.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", path);
		if (gr_write_all(fd, data, len) < 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", path);
		close(fd);
		return rc;
	}
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		rc = gr_err_set(err, GR_ENOMEM, "cannot write '%s': out of memory", path);
		goto done;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot create '%s'", tmp);
		goto done;
	}
	if (gr_write_all(fd, data, len) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", tmp);
		goto done;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot rename '%s' to '%s'", tmp, path);
		goto done;
	}
done:
	if (fd >= 0)
		close(fd);
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	return rc;
}

int gr_mkdir_p(const char *path, unsigned mode, struct gr_err *err)
{
	char *copy = strdup(path);
	int rc = 0;

	if (!copy)
		return gr_err_set(err, GR_ENOMEM, "cannot create '%s': out of memory", path);
	/*
	 * Usually only the last part is new (a box in the worker's folder): one
	 * mkdir then. A mkdir of an existing folder still takes its parent's
	 * lock, which every process creating files in /tmp contends for (about
	 * 0.3 ms per submission on a busy machine).
	 */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		goto done;
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			rc = gr_err_sys(err, GR_EIO, errno, "cannot create '%s'", copy);
			goto done;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
done:
	free(copy);
	return rc;
}

/*
 * rm -rf without a descriptor per level: one directory is open at a time,
 * going down by name and back up through "..", checked against the inode
 * recorded on the way down. Each level keeps only its position in its
 * parent (a telldir cookie) so that a wide directory is read once, not again
 * after each subfolder. A tree left by the box is dead by then (its
 * processes are gone), so nothing moves under us; the check refuses to go on
 * if something did.
 */
struct rm_level {
	dev_t dev;
	ino_t ino;
	long resume; /* where to read this directory again after a subfolder */
};

struct rm_walk {
	const char *top; /* for messages */
	struct rm_level *lv;
	size_t depth, cap;
	DIR *d; /* the directory at lv[depth] */
	struct gr_err *err;
};

static int rm_fail(struct rm_walk *w, int e, const char *name)
{
	if (w->depth == 0)
		return gr_err_sys(w->err, GR_EIO, e, "cannot remove '%s/%s'", w->top, name);
	return gr_err_sys(w->err, GR_EIO, e, "cannot remove '%s/.../%s' (%zu levels down)", w->top,
			  name, w->depth);
}

/* Unlink or rmdir `name` in the current directory; a read-only folder of ours is opened up. */
static int rm_unlink(struct rm_walk *w, const char *name, int flags)
{
	int fd = dirfd(w->d);

	if (unlinkat(fd, name, flags) == 0 || errno == ENOENT)
		return 0;
	if (errno == EACCES && fchmod(fd, 0700) == 0 && unlinkat(fd, name, flags) == 0)
		return 0;
	return -1;
}

/* Enter subfolder `name` of the current directory; `here` is where to resume. */
static int rm_down(struct rm_walk *w, const char *name, long here)
{
	int fd = openat(dirfd(w->d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	DIR *sub;

	if (fd < 0 && errno == EACCES && fchmodat(dirfd(w->d), name, 0700, 0) == 0)
		fd = openat(dirfd(w->d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0; /* gone meanwhile */
	if (fd < 0 || fstat(fd, &st) < 0 || !(sub = fdopendir(fd))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return rm_fail(w, e, name);
	}
	if (w->depth + 1 == w->cap) {
		size_t cap = w->cap * 2;
		struct rm_level *lv = realloc(w->lv, cap * sizeof(*lv));
		if (!lv) {
			closedir(sub);
			return gr_err_set(w->err, GR_ENOMEM, "cannot remove '%s': out of memory",
					  w->top);
		}
		w->lv = lv;
		w->cap = cap;
	}
	w->lv[w->depth].resume = here;
	w->depth++;
	w->lv[w->depth] = (struct rm_level){st.st_dev, st.st_ino, 0};
	closedir(w->d);
	w->d = sub;
	return 0;
}

/* Back to the parent through "..", which must be the folder we came from. */
static int rm_up(struct rm_walk *w)
{
	int fd = openat(dirfd(w->d), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const struct rm_level *up = &w->lv[w->depth - 1];
	struct stat st;
	DIR *parent;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_dev != up->dev || st.st_ino != up->ino ||
	    !(parent = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return gr_err_set(w->err, GR_EIO,
				  "cannot remove '%s': the tree moved while being removed", w->top);
	}
	closedir(w->d);
	w->d = parent;
	w->depth--;
	seekdir(w->d, w->lv[w->depth].resume); /* the folder we left is read again: now empty */
	return 0;
}

/* Empty the directory open in w->d (w->depth 0), however deep. */
static int rm_walk(struct rm_walk *w)
{
	for (;;) {
		long here = telldir(w->d);
		struct dirent *e;
		int rc, dir;

		errno = 0;
		e = readdir(w->d);
		if (!e) {
			if (errno)
				return rm_fail(w, errno, ".");
			if (w->depth == 0)
				return 0;
			if ((rc = rm_up(w)) < 0)
				return rc;
			continue;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		dir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(w->d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue;
				return rm_fail(w, errno, e->d_name);
			}
			dir = S_ISDIR(st.st_mode);
		}
		if (!dir) {
			if (rm_unlink(w, e->d_name, 0) < 0)
				return rm_fail(w, errno, e->d_name);
			continue;
		}
		if (rm_unlink(w, e->d_name, AT_REMOVEDIR) == 0)
			continue; /* empty, or emptied on an earlier visit */
		if (errno != ENOTEMPTY && errno != EEXIST)
			return rm_fail(w, errno, e->d_name);
		if ((rc = rm_down(w, e->d_name, here)) < 0)
			return rc;
	}
}

/* `again`: how many more passes an entry a reopened directory skipped may cost. */
static int rm_tree(int dir_fd, const char *name, int again, struct gr_err *err)
{
	struct rm_walk w = {name, NULL, 0, 16, NULL, err};
	struct stat st;
	int fd = -1, rc;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0
				       : gr_err_sys(err, GR_EIO, errno, "cannot remove '%s'", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
			return gr_err_sys(err, GR_EIO, errno, "cannot remove '%s'", name);
		return 0;
	}
	w.lv = malloc(w.cap * sizeof(*w.lv));
	if (!w.lv)
		return gr_err_set(err, GR_ENOMEM, "cannot remove '%s': out of memory", name);
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(dir_fd, name, 0700, 0) == 0)
		fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(w.d = fdopendir(fd))) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", name);
		if (fd >= 0)
			close(fd);
		goto done;
	}
	w.lv[0] = (struct rm_level){st.st_dev, st.st_ino, 0};
	rc = rm_walk(&w);
	closedir(w.d);
	/* A cookie that did not survive a reopen could have skipped an entry: once more. */
	if (!rc && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		if ((errno == ENOTEMPTY || errno == EEXIST) && again > 0) {
			free(w.lv);
			return rm_tree(dir_fd, name, again - 1, err);
		}
		rc = gr_err_sys(err, GR_EIO, errno, "cannot remove '%s'", name);
	}
done:
	free(w.lv);
	return rc;
}

int gr_rm_rf_at(int dir_fd, const char *name, struct gr_err *err)
{
	return rm_tree(dir_fd, name, 2, err);
}

int gr_rm_rf(const char *path, struct gr_err *err)
{
	return rm_tree(AT_FDCWD, path, 2, err);
}

int gr_split_list(char ***out, const char *list)
{
	size_t n = 2, len = strlen(list);
	char **v, *copy, *save = NULL, *tok;

	for (const char *p = list; *p; p++)
		n += *p == ',';
	v = malloc(n * sizeof(*v) + len + 1);
	if (!v)
		return GR_ENOMEM;
	copy = (char *)(v + n);
	memcpy(copy, list, len + 1);
	n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		v[n++] = tok;
	v[n] = NULL;
	*out = v;
	return 0;
}

/*
 * A character a terminal shows as nothing but that changes what is shown: the
 * bidi controls (U+202E turns "gnp.exe" around), zero-width and other format
 * characters (Cf), and the line and paragraph separators.
 */
static int invisible(uint32_t cp)
{
	utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);

	return c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

char *gr_term_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p);
	const unsigned char *end = p + len;
	char *out = malloc(len * 6 + 1), *o = out; /* \u0085 is the longest: 6 per byte at most */

	if (!out)
		return NULL;
	while (*p) {
		uint32_t cp = 0;
		size_t n = gr_utf8_seq((const char *)p, (size_t)(end - p), &cp);

		if (n == 0) {
			o += sprintf(o, "\\x%02x", *p++);
		} else if (cp == '\n' || cp == '\r' || cp == '\t') {
			*o++ = '\\';
			*o++ = cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't';
			p++;
		} else if (cp < 0x20 || cp == 0x7f) {
			o += sprintf(o, "\\x%02x", (unsigned)cp);
			p++;
		} else if ((cp >= 0x80 && cp <= 0x9f) || invisible(cp)) {
			o += sprintf(o, cp > 0xffff ? "\\U%08x" : "\\u%04x", (unsigned)cp);
			p += n;
		} else {
			memcpy(o, p, n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	return out;
}

char *gr_path_join(const char *a, const char *b)
{
	char *out = NULL;
	size_t la = strlen(a);
	int slash = la > 0 && a[la - 1] == '/';

	if (asprintf(&out, "%s%s%s", a, slash ? "" : "/", b) < 0)
		return NULL;
	return out;
}

static void digest_hex(char *out, const EVP_MD *md, const void *data, size_t len)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, d, &n, md, NULL);
	for (unsigned int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * n] = '\0';
}

void gr_sha256_hex(char out[65], const void *data, size_t len)
{
	digest_hex(out, EVP_sha256(), data, len);
}

void gr_md5_hex(char out[33], const void *data, size_t len)
{
	digest_hex(out, EVP_md5(), data, len);
}

int gr_sha256_file(char out[65], const char *path, struct gr_err *err)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char buf[65536], d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int fd = -1, rc = 0;
	ssize_t r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", path);
		goto done;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		rc = gr_err_set(err, GR_ENOMEM, "cannot hash '%s': out of memory", path);
		goto done;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", path);
			goto done;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	EVP_DigestFinal_ex(ctx, d, &n);
	for (unsigned int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * n] = '\0';
done:
	EVP_MD_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return rc;
}

void gr_py_float_repr(char out[32], double x)
{
	char buf[40], digits[24], *p = out;
	int exp10 = 0, nd = 0, decpt;

	if (isnan(x)) {
		strcpy(out, "nan");
		return;
	}
	if (isinf(x)) {
		strcpy(out, x < 0 ? "-inf" : "inf");
		return;
	}
	if (x == 0.0) {
		strcpy(out, signbit(x) ? "-0.0" : "0.0");
		return;
	}
	/* The shortest digit string that reads back as x, as Python's repr finds it. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	if (x < 0)
		*p++ = '-';
	for (const char *s = buf; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			digits[nd++] = *s;
	exp10 = atoi(strchr(buf, 'e') + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	decpt = exp10 + 1; /* x = 0.digits * 10^decpt */
	if (decpt <= -4 || decpt > 16) {
		*p++ = digits[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)nd - 1);
			p += nd - 1;
		}
		sprintf(p, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	} else if (decpt <= 0) {
		p += sprintf(p, "0.");
		for (int i = 0; i < -decpt; i++)
			*p++ = '0';
		strcpy(p, digits);
	} else if (decpt >= nd) {
		memcpy(p, digits, (size_t)nd);
		p += nd;
		for (int i = nd; i < decpt; i++)
			*p++ = '0';
		strcpy(p, ".0");
	} else {
		memcpy(p, digits, (size_t)decpt);
		p += decpt;
		*p++ = '.';
		strcpy(p, digits + decpt);
	}
}

void gr_num_short(char out[32], double x)
{
	char *p;

	snprintf(out, 32, "%.2f", x);
	p = out + strlen(out) - 1;
	while (*p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
	if (!strcmp(out, "-0"))
		strcpy(out, "0");
}
