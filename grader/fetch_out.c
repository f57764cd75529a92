/*
 * fetch_out.c - writing one submission folder safely: path validation,
 * case-fold collisions, caps, openat/O_NOFOLLOW/O_EXCL writes under a
 * directory fd, and the atomic swap into DEST/{student}/{assignment}.
 */
#include "fetch_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_MAX_BYTES 1024
#define COMPONENT_MAX 255

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int fetch_name_is_safe(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= COMPONENT_MAX && name[0] != '.' && !strchr(name, '/') &&
	       !strchr(name, '\\') && !has_control(name) && gr_utf8_valid(name, n);
}

int fetch_path_check(const char *path, char *why, size_t whylen)
{
	const char *p = path, *why_s = NULL;
	size_t n = strlen(path);

	if (n == 0)
		why_s = "empty name";
	else if (path[0] == '/')
		why_s = "absolute path";
	else if (n > PATH_MAX_BYTES)
		why_s = "path too long";
	else if (!gr_utf8_valid(path, n))
		why_s = "name is not valid UTF-8";
	else if (has_control(path))
		why_s = "control character in name";
	else if (strchr(path, '\\'))
		why_s = "backslash in name";
	while (!why_s) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0)
			why_s = "empty path component";
		else if (len > COMPONENT_MAX)
			why_s = "path component too long";
		else if (len == 1 && p[0] == '.')
			why_s = "'.' path component";
		else if (len == 2 && !memcmp(p, "..", 2))
			why_s = "'..' escapes the destination";
		else if (len == 4 && !strncasecmp(p, ".git", 4))
			why_s = "'.git' path component";
		if (!slash)
			break;
		p = slash + 1;
	}
	if (!why_s)
		return 0;
	snprintf(why, whylen, "%s", why_s);
	return GR_EDENIED;
}

void fetch_limits_init(struct fetch_limits *l)
{
	l->max_file_size = 100ull << 20;
	l->max_total_size = 1ull << 30;
	l->max_files = 5000;
	l->max_entries = 100000;
	l->max_archive_size = 8ull << 30;
	l->max_ratio = 200;
	l->max_depth = 3;
	l->max_fetch_size = 0;
}

void fetch_opts_init(struct fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	fetch_limits_init(&o->limits);
	o->jobs = 1;
	o->layout = FETCH_LAYOUT_AUTO;
}

const char *fetch_layout_name(enum fetch_layout l)
{
	static const char *const names[] = {"auto",	  "canvas",   "moodle",
					    "blackboard", "nbgrader", "regex"};
	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : NULL;
}

void fetch_log(const struct fetch_opts *o, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (!o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->log(o->log_payload, line);
}

struct fetch_result *fetch_result_new(const char *student_id)
{
	struct fetch_result *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->student_id = strdup(student_id);
	if (!r->student_id) {
		free(r);
		return NULL;
	}
	r->time_source = "fetch";
	gr_time_now(&r->fetched_at);
	return r;
}

void fetch_result_free(struct fetch_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		free(r->files[i].origin);
	}
	for (size_t i = 0; i < r->nskips; i++) {
		free(r->skips[i].path);
		free(r->skips[i].reason);
	}
	free(r->files);
	free(r->skips);
	free(r->student_id);
	free(r->error);
	json_decref(r->source);
	free(r);
}

int fetch_result_fail(struct fetch_result *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->failed)
		return 0;
	r->failed = 1;
	va_start(ap, fmt);
	n = vasprintf(&r->error, fmt, ap);
	va_end(ap);
	if (n < 0) {
		r->error = NULL;
		return GR_ENOMEM;
	}
	return 0;
}

int fetch_result_skip(struct fetch_result *r, const char *path, const char *fmt, ...)
{
	struct fetch_skip *ns, *s;
	va_list ap;
	int n;

	if ((r->nskips & (r->nskips - 1)) == 0) {
		ns = realloc(r->skips, (r->nskips ? r->nskips * 2 : 4) * sizeof(*ns));
		if (!ns)
			return GR_ENOMEM;
		r->skips = ns;
	}
	s = &r->skips[r->nskips];
	s->path = strdup(path);
	s->unreadable = 0;
	va_start(ap, fmt);
	n = vasprintf(&s->reason, fmt, ap);
	va_end(ap);
	if (n < 0 || !s->path) {
		free(s->path);
		if (n >= 0)
			free(s->reason);
		return GR_ENOMEM;
	}
	r->nskips++;
	return 0;
}

static int add_file(struct fetch_result *r, const char *path, uint64_t size, const char *sha,
		    const char *origin)
{
	struct fetch_file *nf, *f;

	if ((r->nfiles & (r->nfiles - 1)) == 0) {
		nf = realloc(r->files, (r->nfiles ? r->nfiles * 2 : 4) * sizeof(*nf));
		if (!nf)
			return GR_ENOMEM;
		r->files = nf;
	}
	f = &r->files[r->nfiles];
	f->path = strdup(path);
	f->origin = strdup(origin ? origin : "");
	f->name_encoding = NULL;
	if (!f->path || !f->origin) {
		free(f->path);
		free(f->origin);
		return GR_ENOMEM;
	}
	f->size = size;
	memcpy(f->sha256, sha, 65);
	r->nfiles++;
	return 0;
}

int fetch_dest_open(int *out, const char *dest, struct gr_err *err)
{
	int rc, fd;

	rc = gr_mkdir_p(dest, 0755, err);
	if (rc)
		return rc;
	fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", dest);
	*out = fd;
	return 0;
}

/* Remove leftovers `.{assignment}.tmp-*` of interrupted runs. */
static void remove_stale(int student_fd, const char *assignment)
{
	char prefix[300];
	struct dirent *e;
	DIR *d;
	int fd;

	snprintf(prefix, sizeof(prefix), ".%s.tmp-", assignment);
	fd = openat(student_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			gr_rm_rf_at(student_fd, e->d_name, NULL);
	closedir(d);
}

int fetch_out_begin(struct fetch_out *o, struct fetch_result *res, int dest_fd,
		    const char *assignment, const struct fetch_limits *lim, struct gr_err *err)
{
	const char *sid = res->student_id;

	memset(o, 0, sizeof(*o));
	o->res = res;
	o->lim = lim;
	o->assignment = assignment;
	o->student_fd = o->dir_fd = -1;
	if (!fetch_name_is_safe(sid))
		return gr_err_set(err, GR_EDENIED, "unsafe student id '%s'", sid);
	if (mkdirat(dest_fd, sid, 0755) < 0 && errno != EEXIST)
		return gr_err_sys(err, GR_EIO, errno, "cannot create folder '%s'", sid);
	o->student_fd = openat(dest_fd, sid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (o->student_fd < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot open folder '%s'", sid);
	remove_stale(o->student_fd, assignment);
	for (unsigned attempt = 0;; attempt++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(o->tmpname, sizeof(o->tmpname), ".%.40s.tmp-%ld-%lx-%u", assignment,
			 (long)getpid(), (unsigned long)ts.tv_nsec, attempt);
		if (mkdirat(o->student_fd, o->tmpname, 0755) == 0)
			break;
		if (errno != EEXIST || attempt > 100) {
			int e = errno;
			o->tmpname[0] = '\0';
			return gr_err_sys(err, GR_EIO, e, "cannot create a folder in '%s'", sid);
		}
	}
	o->dir_fd =
	    openat(o->student_fd, o->tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (o->dir_fd < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot open a folder in '%s'", sid);
	return 0;
}

/* kind ("f:" or "d:") and the first n bytes of path, Unicode case folded */
static char *folded(const char *kind, const char *path, size_t n)
{
	char *f = NULL, *s;
	size_t len;

	if (gr_utf8_casefold(&f, path, n) == GR_ENOMEM)
		return NULL;
	len = f ? strlen(f) : n;
	s = malloc(len + 3);
	if (s) {
		memcpy(s, kind, 2);
		if (f) {
			memcpy(s + 2, f, len + 1);
		} else {
			/* not UTF-8 (refused before we get here): ASCII folding */
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)path[i];
				s[i + 2] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
			s[n + 2] = '\0';
		}
	}
	free(f);
	return s;
}

static int folded_push(struct fetch_out *o, char *s)
{
	if (o->nfolded == o->capfolded) {
		size_t ncap = o->capfolded ? o->capfolded * 2 : 32;
		char **nf = realloc(o->folded, ncap * sizeof(*nf));
		if (!nf) {
			free(s);
			return GR_ENOMEM;
		}
		o->folded = nf;
		o->capfolded = ncap;
	}
	o->folded[o->nfolded++] = s;
	return 0;
}

/*
 * Whether `path` collides with a file or folder already written, comparing
 * Unicode case-insensitively (as macOS and Windows would when a marker
 * copies the tree). Returns 1 on collision, 0 if free, GR_ENOMEM.
 */
static int collides(struct fetch_out *o, const char *path, char *why, size_t whylen)
{
	size_t n = strlen(path), fn;
	char *f = folded("f:", path, n);

	if (!f)
		return GR_ENOMEM;
	fn = strlen(f + 2); /* folding may change the length ("ß" -> "ss") */
	for (size_t i = 0; i < o->nfolded; i++) {
		const char *g = o->folded[i];
		size_t gl = strlen(g + 2);
		/* the same name, or a file used where a folder is needed, or the reverse */
		if (!strcmp(g + 2, f + 2) ||
		    (g[0] == 'f' && gl < fn && f[2 + gl] == '/' && !memcmp(g + 2, f + 2, gl))) {
			snprintf(why, whylen,
				 "name collides with an earlier entry "
				 "(same name ignoring case)");
			free(f);
			return 1;
		}
	}
	/* folders of this path, and the path itself */
	for (size_t i = 0; i < n; i++) {
		if (path[i] != '/')
			continue;
		char *d = folded("d:", path, i);
		int seen = 0;
		if (!d) {
			free(f);
			return GR_ENOMEM;
		}
		for (size_t k = 0; k < o->nfolded && !seen; k++)
			seen = !strcmp(o->folded[k], d);
		if (seen) {
			free(d);
		} else if (folded_push(o, d) < 0) {
			free(f);
			return GR_ENOMEM;
		}
	}
	return folded_push(o, f) < 0 ? GR_ENOMEM : 0;
}

/*
 * Validate `path` and open its parent folder, creating folders one component
 * at a time with O_NOFOLLOW. *leaf points into path. Returns the parent fd,
 * -1 with the reason in why (skip), or a negative GR_E* - 1000 on I/O error.
 */
static int open_parent(struct fetch_out *o, const char *path, const char **leaf, char *why,
		       size_t whylen)
{
	char comp[COMPONENT_MAX + 1];
	const char *p = path;
	int fd, next;

	fd = dup(o->dir_fd);
	if (fd < 0)
		return -1000 + GR_EIO;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len;
		if (!slash)
			break;
		len = (size_t)(slash - p);
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			snprintf(why, whylen, "cannot create folder: %s", strerror(errno));
			close(fd);
			return -1;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0) {
			snprintf(why, whylen, "cannot open folder: %s", strerror(errno));
			return -1;
		}
		fd = next;
		p = slash + 1;
	}
	*leaf = p;
	return fd;
}

/* The checks shared by write and place; 0 = go on, 1 = skipped, <0 fatal. */
static int admit(struct fetch_out *o, const char *path, uint64_t size, struct gr_err *err)
{
	char why[160];
	int rc;

	if (fetch_path_check(path, why, sizeof(why)) < 0)
		goto skip;
	if (!strcmp(path, FETCH_TIMESTAMP_NAME) || !strcmp(path, FETCH_PROVENANCE_NAME)) {
		snprintf(why, sizeof(why), "reserved name");
		goto skip;
	}
	if (size > o->lim->max_file_size) {
		snprintf(why, sizeof(why), "file of %llu bytes is over the cap of %llu",
			 (unsigned long long)size, (unsigned long long)o->lim->max_file_size);
		goto skip;
	}
	if (o->res->nfiles + 1 > o->lim->max_files)
		return gr_err_set(err, GR_ELIMIT, "more than %zu files (cap)", o->lim->max_files);
	if (o->total + size > o->lim->max_total_size)
		return gr_err_set(err, GR_ELIMIT, "more than %llu bytes in the submission (cap)",
				  (unsigned long long)o->lim->max_total_size);
	rc = collides(o, path, why, sizeof(why));
	if (rc < 0)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	if (rc == 1)
		goto skip;
	return 0;
skip:
	if (fetch_result_skip(o->res, path, "%s", why) < 0)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	return 1;
}

int fetch_out_write(struct fetch_out *o, const char *path, const void *data, size_t len,
		    const char *origin, struct gr_err *err)
{
	char why[160], sha[65];
	const char *leaf;
	int parent = -1, fd = -1, rc;

	rc = admit(o, path, len, err);
	if (rc)
		return rc < 0 ? rc : GR_EDENIED;
	parent = open_parent(o, path, &leaf, why, sizeof(why));
	if (parent < -1)
		return gr_err_set(err, GR_EIO, "cannot write '%s'", path);
	if (parent < 0) {
		rc = fetch_result_skip(o->res, path, "%s", why) < 0 ? GR_ENOMEM : GR_EDENIED;
		goto done;
	}
	fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = fetch_result_skip(o->res, path, "cannot create: %s", strerror(errno)) < 0
			 ? GR_ENOMEM
			 : GR_EDENIED;
		goto done;
	}
	if (gr_write_all(fd, data, len) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", path);
		goto done;
	}
	gr_sha256_hex(sha, data, len);
	o->total += len;
	if (add_file(o->res, path, len, sha, origin) < 0)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
done:
	if (fd >= 0)
		close(fd);
	if (parent >= 0)
		close(parent);
	return rc;
}

int fetch_out_place(struct fetch_out *o, const char *path, int stage_fd, const char *stage_name,
		    uint64_t size, const char sha256[65], const char *origin, struct gr_err *err)
{
	char why[160];
	const char *leaf;
	int parent, rc;

	rc = admit(o, path, size, err);
	if (rc)
		return rc < 0 ? rc : GR_EDENIED;
	parent = open_parent(o, path, &leaf, why, sizeof(why));
	if (parent < -1)
		return gr_err_set(err, GR_EIO, "cannot write '%s'", path);
	if (parent < 0)
		return fetch_result_skip(o->res, path, "%s", why) < 0 ? GR_ENOMEM : GR_EDENIED;
	if (renameat2(stage_fd, stage_name, parent, leaf, RENAME_NOREPLACE) < 0) {
		rc = fetch_result_skip(o->res, path, "cannot create: %s", strerror(errno)) < 0
			 ? GR_ENOMEM
			 : GR_EDENIED;
		close(parent);
		return rc;
	}
	close(parent);
	o->total += size;
	if (add_file(o->res, path, size, sha256, origin) < 0)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	return 0;
}

static int write_at(int dir_fd, const char *name, const char *data, size_t len, struct gr_err *err)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot create '%s'", name);
	if (gr_write_all(fd, data, len) < 0) {
		int e = errno;

		close(fd);
		return gr_err_sys(err, GR_EIO, e, "cannot write '%s'", name);
	}
	if (close(fd) < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", name);
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct fetch_file *)a)->path, ((const struct fetch_file *)b)->path);
}

int fetch_out_commit(struct fetch_out *o, struct gr_err *err)
{
	char line[48];
	json_t *doc = NULL;
	char *text = NULL, *nl;
	size_t len;
	int rc = 0;

	if (o->res->nfiles > 1)
		qsort(o->res->files, o->res->nfiles, sizeof(*o->res->files), cmp_file);
	line[0] = '\0';
	if (!o->res->has_time) {
		/* an empty timestamp.txt: nbgrader reads it as no time, and so do we */
		o->res->time_source = "unknown";
	} else {
		gr_time_format(line, sizeof(line), o->res->time.sec, o->res->time.usec,
			       GR_TIME_NBGRADER);
		strcat(line, "\n");
	}
	rc = write_at(o->dir_fd, FETCH_TIMESTAMP_NAME, line, strlen(line), err);
	if (rc)
		goto done;
	doc = fetch_prov_json(o->res, o->assignment);
	text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (!text) {
		rc = gr_err_set(err, GR_ENOMEM, "cannot write provenance: out of memory");
		goto done;
	}
	len = strlen(text);
	nl = realloc(text, len + 2);
	if (!nl) {
		rc = gr_err_set(err, GR_ENOMEM, "cannot write provenance: out of memory");
		goto done;
	}
	text = nl;
	memcpy(text + len, "\n", 2);
	rc = write_at(o->dir_fd, FETCH_PROVENANCE_NAME, text, len + 1, err);
	if (rc)
		goto done;
	if (renameat2(o->student_fd, o->tmpname, o->student_fd, o->assignment, RENAME_NOREPLACE) ==
	    0) {
		o->tmpname[0] = '\0';
	} else if (errno == EEXIST && renameat2(o->student_fd, o->tmpname, o->student_fd,
						o->assignment, RENAME_EXCHANGE) == 0) {
		/* the old submission now sits under tmpname: abort removes it */
	} else {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot rename into '%s/%s'",
				o->res->student_id, o->assignment);
	}
done:
	free(text);
	json_decref(doc);
	fetch_out_abort(o);
	return rc;
}

void fetch_out_abort(struct fetch_out *o)
{
	if (o->dir_fd >= 0)
		close(o->dir_fd);
	o->dir_fd = -1;
	if (o->student_fd >= 0 && o->tmpname[0])
		gr_rm_rf_at(o->student_fd, o->tmpname, NULL);
	o->tmpname[0] = '\0';
	if (o->student_fd >= 0)
		close(o->student_fd);
	o->student_fd = -1;
	for (size_t i = 0; i < o->nfolded; i++)
		free(o->folded[i]);
	free(o->folded);
	o->folded = NULL;
	o->nfolded = o->capfolded = 0;
}
