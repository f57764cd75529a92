/* batch_plan.c - which submissions to grade, and the key that says if one changed. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch_int.h"

struct names {
	char **v;
	size_t n, cap;
};

static int names_push(struct names *ns, const char *s)
{
	if (ns->n == ns->cap) {
		size_t ncap = ns->cap ? ns->cap * 2 : 64;
		char **nv = realloc(ns->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		ns->v = nv;
		ns->cap = ncap;
	}
	ns->v[ns->n] = strdup(s);
	if (!ns->v[ns->n])
		return -1;
	ns->n++;
	return 0;
}

static void names_release(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = ns->cap = 0;
}

/* s in NFC (a folder copied from macOS has an NFD name), or as it is when not UTF-8. */
static int names_push_nfc(struct names *ns, const char *s)
{
	char *nfc = NULL;
	int rc;

	if (gr_utf8_nfc(&nfc, s) == GR_ENOMEM)
		return -1;
	rc = names_push(ns, nfc ? nfc : s);
	free(nfc);
	return rc;
}

/*
 * The folder under dir of student `id` (NFC): dir/id when it exists, else
 * the listed folder whose name is id in another normalisation (zoë written
 * decomposed), else dir/id. Heap; NULL when out of memory.
 */
static char *student_folder(const char *dir, const char *id, const struct names *folders,
			    const struct names *nfcs)
{
	char *path = gr_path_join(dir, id);
	struct stat st;

	if (!path || lstat(path, &st) == 0)
		return path;
	for (size_t i = 0; i < folders->n; i++)
		if (!strcmp(nfcs->v[i], id) && strcmp(folders->v[i], id)) {
			free(path);
			return gr_path_join(dir, folders->v[i]);
		}
	return path;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Collect "rel/path" of every regular file below dir/rel into `out`,
 * skipping symlinks and anything else that is not a plain file or folder.
 */
static int walk(struct names *out, const char *dir, const char *rel, int depth, struct gr_err *err)
{
	char *path = NULL;
	DIR *d = NULL;
	struct dirent *e;
	int rc = 0;

	if (depth > 32)
		return gr_err_set(err, GR_ELIMIT, "'%s': folders nested too deep", dir);
	path = rel[0] ? gr_path_join(dir, rel) : strdup(dir);
	if (!path) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	d = opendir(path);
	if (!d) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", path);
		goto done;
	}
	while ((e = readdir(d))) {
		char *sub = NULL, *full = NULL;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = rel[0] ? gr_path_join(rel, e->d_name) : strdup(e->d_name);
		full = sub ? gr_path_join(dir, sub) : NULL;
		if (!full) {
			free(sub);
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
		if (lstat(full, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = walk(out, dir, sub, depth + 1, err);
			else if (S_ISREG(st.st_mode) && names_push(out, sub) < 0)
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		}
		free(sub);
		free(full);
		if (rc)
			goto done;
	}
done:
	if (d)
		closedir(d);
	free(path);
	return rc;
}

int batch_list_files(char ***out, size_t *n, const char *dir, struct gr_err *err)
{
	struct names files = {0};
	int rc;

	rc = walk(&files, dir, "", 0, err);
	if (rc) {
		names_release(&files);
		return rc;
	}
	if (files.n)
		qsort(files.v, files.n, sizeof(*files.v), cmp_str);
	*out = files.v;
	*n = files.n;
	return 0;
}

void batch_files_free(char **files, size_t n)
{
	struct names ns = {files, n, n};
	names_release(&ns);
}

int batch_hash_tree(char out[65], const char *dir, struct gr_err *err)
{
	struct names files = {0};
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	rc = batch_list_files(&files.v, &files.n, dir, err);
	if (rc)
		goto done;
	for (size_t i = 0; i < files.n; i++) {
		char fh[65], *full = gr_path_join(dir, files.v[i]);
		size_t need = strlen(files.v[i]) + 1 + 64 + 1;

		if (!full) {
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
		rc = gr_sha256_file(fh, full, err);
		free(full);
		if (rc)
			goto done;
		if (len + need + 1 > cap) {
			size_t ncap = (cap + need + 1) * 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				goto done;
			}
			buf = nb;
			cap = ncap;
		}
		/* path NUL digest LF: unambiguous whatever the names contain */
		memcpy(buf + len, files.v[i], strlen(files.v[i]) + 1);
		len += strlen(files.v[i]) + 1;
		memcpy(buf + len, fh, 64);
		len += 64;
		buf[len++] = '\n';
	}
	gr_sha256_hex(out, buf ? buf : "", len);
done:
	free(buf);
	names_release(&files);
	return rc;
}

static int item_key(struct batch_item *it, const char *rubric_sha, struct gr_err *err)
{
	char joined[64 * 2 + 16];
	int rc = 0;

	strcpy(it->tree, "none");
	if (it->path) {
		rc = batch_hash_tree(it->tree, it->path, err);
		if (rc)
			return rc;
	}
	snprintf(joined, sizeof(joined), "%s/%s", rubric_sha, it->tree);
	gr_sha256_hex(it->key, joined, strlen(joined));
	return 0;
}

int batch_plan_build(struct batch_plan *plan, const char *dir, const char *assignment,
		     const char *const *only, const char *rubric_sha, struct gr_err *err)
{
	struct names ids = {0}, folders = {0}, nfcs = {0};
	struct batch_item *items = NULL;
	DIR *d = NULL;
	struct dirent *e;
	size_t n = 0;
	int rc = 0;

	/* student ids are NFC, as the roster's and fetch's are, whatever the folder's bytes */
	if (only) {
		for (size_t i = 0; only[i]; i++)
			if (names_push_nfc(&ids, only[i]) < 0) {
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				goto done;
			}
	}
	d = opendir(dir);
	if (!d && !only) {
		rc = gr_err_sys(err, errno == ENOENT ? GR_ENOTFOUND : GR_EIO, errno,
				"cannot read submissions folder '%s'", dir);
		goto done;
	}
	if (d) {
		while ((e = readdir(d))) {
			char *sub;
			struct stat st;
			int ok;

			if (e->d_name[0] == '.')
				continue;
			sub = gr_path_join(dir, e->d_name);
			if (!sub) {
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				goto done;
			}
			ok = lstat(sub, &st) == 0 && S_ISDIR(st.st_mode);
			free(sub);
			if (ok && (names_push(&folders, e->d_name) < 0 ||
				   names_push_nfc(&nfcs, e->d_name) < 0 ||
				   (!only && names_push_nfc(&ids, e->d_name) < 0))) {
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				goto done;
			}
		}
	}
	if (ids.n)
		qsort(ids.v, ids.n, sizeof(*ids.v), cmp_str);
	items = calloc(ids.n ? ids.n : 1, sizeof(*items));
	if (!items) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < ids.n; i++) {
		struct batch_item *it = &items[n];
		char *student_dir;
		struct stat st;

		if (n > 0 && !strcmp(ids.v[i], items[n - 1].student_id))
			continue; /* named twice in --student */
		it->journal_off = -1;
		it->student_id = ids.v[i];
		ids.v[i] = NULL;
		n++;
		student_dir = student_folder(dir, it->student_id, &folders, &nfcs);
		it->path = student_dir ? gr_path_join(student_dir, assignment) : NULL;
		free(student_dir);
		if (!it->path) {
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
		if (lstat(it->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(it->path);
			it->path = NULL;
		}
		rc = item_key(it, rubric_sha, err);
		if (rc) {
			/* an unreadable folder is that student's problem, not the batch's */
			free(it->path);
			it->path = NULL;
			rc = item_key(it, rubric_sha, NULL);
			if (rc)
				goto done;
		}
	}
	plan->items = items;
	plan->n = n;
	items = NULL;
done:
	if (items) {
		for (size_t i = 0; i < n; i++) {
			free(items[i].student_id);
			free(items[i].path);
		}
		free(items);
	}
	if (d)
		closedir(d);
	names_release(&ids);
	names_release(&folders);
	names_release(&nfcs);
	return rc;
}

void batch_plan_release(struct batch_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->items[i].student_id);
		free(plan->items[i].path);
	}
	free(plan->items);
	plan->items = NULL;
	plan->n = 0;
}

unsigned batch_shard_of(const char *id, unsigned n)
{
	char hex[65];
	unsigned long long v = 0;

	if (n <= 1)
		return 1;
	gr_sha256_hex(hex, id, strlen(id));
	for (int i = 0; i < 16; i++) {
		char c = hex[i];
		v = v << 4 | (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return (unsigned)(v % n) + 1;
}

void batch_plan_shard(struct batch_plan *plan, unsigned k, unsigned n)
{
	size_t kept = 0;

	for (size_t i = 0; i < plan->n; i++) {
		struct batch_item *it = &plan->items[i];

		if (batch_shard_of(it->student_id, n) != k) {
			free(it->student_id);
			free(it->path);
			continue;
		}
		plan->items[kept++] = *it;
	}
	plan->n = kept;
}
