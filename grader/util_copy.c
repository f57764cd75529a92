/*
 * util_copy.c - the one folder copy (gr_copy_tree): what a notebook's box
 * gets from the folder it came from, for `grader nb run` (best effort,
 * within caps) and for a graded submission (all of it, or an error).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grader/util.h"

struct copy {
	const struct gr_copy_opts *o;
	struct gr_copy_stats *st;
	const char *root;
	struct gr_err *err;
};

/* Is name left out at this level (depth 0: `from` itself)? */
static bool left_out(const struct copy *c, const char *name, int depth)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return true;
	if (c->o->skip_hidden && name[0] == '.')
		return true;
	return depth == 0 && c->o->skip_prefix &&
	       !strncmp(name, c->o->skip_prefix, strlen(c->o->skip_prefix));
}

/* Copy one regular file if the caps leave room for it; over them, it is counted as left out. */
static int copy_file(struct copy *c, const char *src, const char *dst, const struct stat *st)
{
	const struct gr_copy_opts *o = c->o;
	uint64_t size = (uint64_t)st->st_size;
	int rc;

	if ((o->max_files && c->st->files >= o->max_files) ||
	    (o->max_bytes && c->st->bytes + size > o->max_bytes)) {
		c->st->capped = true;
		return 0;
	}
	rc = gr_copy_file(src, dst, o->keep_exec ? (st->st_mode & 0755) | 0644 : 0644,
			  o->best_effort ? NULL : c->err);
	if (rc == 0) {
		c->st->files++;
		c->st->bytes += size;
	}
	return o->best_effort ? 0 : rc;
}

static int copy_dir(struct copy *c, const char *from, const char *to, int depth);

/* One entry of `from` (its path src) into dst: a file, a folder, or nothing else. */
static int copy_entry(struct copy *c, const char *src, const char *dst, int depth)
{
	struct stat st;

	/* lstat: a symlink is neither, and is left out */
	if (lstat(src, &st) < 0)
		return 0;
	if (S_ISREG(st.st_mode))
		return copy_file(c, src, dst, &st);
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (depth >= c->o->max_depth) {
		if (c->o->best_effort)
			return 0;
		return gr_err_set(c->err, GR_ELIMIT, "'%s': folders nested too deep", c->root);
	}
	if (mkdir(dst, 0755) < 0) {
		if (c->o->best_effort)
			return 0;
		return gr_err_sys(c->err, GR_EIO, errno, "cannot create '%s'", dst);
	}
	return copy_dir(c, src, dst, depth + 1);
}

static int copy_dir(struct copy *c, const char *from, const char *to, int depth)
{
	DIR *d = opendir(from);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return c->o->best_effort
			   ? 0
			   : gr_err_sys(c->err, GR_EIO, errno, "cannot read '%s'", from);
	while (!rc && (e = readdir(d))) {
		char *src, *dst;

		if (left_out(c, e->d_name, depth))
			continue;
		src = gr_path_join(from, e->d_name);
		dst = gr_path_join(to, e->d_name);
		if (src && dst)
			rc = copy_entry(c, src, dst, depth);
		else if (!c->o->best_effort)
			rc = gr_err_set(c->err, GR_ENOMEM, "out of memory");
		free(src);
		free(dst);
	}
	closedir(d);
	return rc;
}

int gr_copy_tree(const char *from, const char *to, const struct gr_copy_opts *o,
		 struct gr_copy_stats *st, struct gr_err *err)
{
	struct gr_copy_stats local = {0};
	struct copy c = {o, st ? st : &local, from, err};

	*c.st = (struct gr_copy_stats){0};
	return copy_dir(&c, from, to, 0);
}
