/*
 * fetch_git.c - `grader fetch git`: one bare cache per student, incremental
 * fetches, the deadline rule, and materializing a commit's regular files by
 * walking its tree (no working-tree checkout, nothing followed).
 */
#include "fetch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#define TREE_DEPTH_MAX 64
#define LINK_TARGET_MAX 200

struct git_batch {
	const struct fetch_opts *o;
	int dest_fd;
	struct fetch_result **results;
	const struct roster_student **students;
};

struct cred_state {
	const struct fetch_opts *o;
	unsigned calls;
	int asked; /* the server asked for credentials */
	int over;  /* the fetch was stopped at limits.max_fetch_size */
};

/* libgit2's transfer progress: past the cap on bytes received, the fetch stops. */
static int transfer_progress(const git_indexer_progress *stats, void *payload)
{
	struct cred_state *cs = payload;
	uint64_t cap = cs->o->limits.max_fetch_size;

	if (cap && stats->received_bytes > cap) {
		cs->over = 1;
		return -1;
	}
	return 0;
}

/* Bytes the folder `path` takes on disk (0 when it cannot be read). */
static uint64_t disk_bytes(const char *path)
{
	char *roots[] = {(char *)path, NULL};
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	FTSENT *f;
	uint64_t n = 0;

	while (fts && (f = fts_read(fts)))
		if (f->fts_info == FTS_F)
			n += (uint64_t)f->fts_statp->st_blocks * 512;
	if (fts)
		fts_close(fts);
	return n;
}

/*
 * libgit2 asks again after a refused credential: answer a few times (ssh asks
 * for a username first, then a key), then give up so a bad token fails fast.
 */
static int credentials(git_credential **out, const char *url, const char *user_from_url,
		       unsigned int allowed, void *payload)
{
	struct cred_state *cs = payload;
	const char *user = user_from_url && user_from_url[0] ? user_from_url : NULL;

	(void)url;
	cs->asked = 1;
	if (cs->calls++ >= 3)
		return GIT_EAUTH;
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && cs->o->https_token)
		return git_credential_userpass_plaintext_new(out,
							     cs->o->https_user ? cs->o->https_user
							     : user	       ? user
									       : "x-access-token",
							     cs->o->https_token);
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return git_credential_ssh_key_from_agent(out, user ? user : "git");
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user ? user : "git");
	return GIT_PASSTHROUGH;
}

/* The reason of a failed connection, worded for the instructor. */
static void fail_remote(struct fetch_result *res, const char *verb, const char *shown,
			const struct cred_state *cs)
{
	const git_error *e = git_error_last();

	if (cs->asked && cs->o->https_token)
		fetch_result_fail(res,
				  "cannot %s '%s': authentication failed (token in "
				  "GRADER_GIT_TOKEN refused)",
				  verb, shown);
	else if (cs->asked && !strncmp(shown, "http", 4))
		fetch_result_fail(res,
				  "cannot %s '%s': authentication required (set "
				  "GRADER_GIT_TOKEN)",
				  verb, shown);
	else if (cs->asked)
		fetch_result_fail(res, "cannot %s '%s': authentication failed (ssh agent)", verb,
				  shown);
	else
		fetch_result_fail(res, "cannot %s '%s': %s", verb, shown,
				  e && e->message ? e->message : "unknown libgit2 error");
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

/* Whether a roster's repo is a URL (scheme:// or scp-like user@host:path). */
static int is_url(const char *repo)
{
	const char *colon = strchr(repo, ':'), *slash = strchr(repo, '/');

	return strstr(repo, "://") ||
	       (colon && (!slash || colon < slash) && repo[0] != '.' && colon != repo);
}

/* The URL libgit2 should use: URLs as given, local paths made absolute
 * against base_dir (the roster's folder). */
static char *resolve_repo(const char *repo, const char *base_dir)
{
	char *joined, *abs;

	if (is_url(repo))
		return strdup(repo);
	joined = repo[0] == '/' || !base_dir ? strdup(repo) : gr_path_join(base_dir, repo);
	if (!joined)
		return NULL;
	abs = realpath(joined, NULL);
	if (!abs)
		return joined;
	free(joined);
	return abs;
}

/* The URL without user:password@ for provenance and messages. */
static char *redact(const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *slash;
	char *out;

	if (!scheme)
		return strdup(url);
	at = strchr(scheme + 3, '@');
	slash = strchr(scheme + 3, '/');
	if (!at || (slash && slash < at))
		return strdup(url);
	if (asprintf(&out, "%.*s%s", (int)(scheme + 3 - url), url, at + 1) < 0)
		return NULL;
	return out;
}

static void oid_str(char out[GIT_OID_HEXSZ + 1], const git_oid *id)
{
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, id);
}

/* Walk one tree into the submission folder. Returns 0 or a fatal GR_E*. */
static int write_tree(struct fetch_out *out, git_repository *repo, git_odb *odb,
		      const git_tree *tree, const char *prefix, unsigned depth, struct gr_err *err)
{
	size_t n = git_tree_entrycount(tree);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const git_oid *id = git_tree_entry_id(e);
		char why[160], hex[GIT_OID_HEXSZ + 1], *path = NULL;
		git_object_t type;
		size_t size;

		if (asprintf(&path, "%s%s", prefix, git_tree_entry_name(e)) < 0)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		oid_str(hex, id);
		switch (git_tree_entry_filemode(e)) {
		case GIT_FILEMODE_TREE: {
			git_tree *sub = NULL;
			char *subprefix = NULL;
			if (fetch_path_check(path, why, sizeof(why)) < 0) {
				rc =
				    fetch_result_skip(out->res, path, "folder not copied: %s", why);
				break;
			}
			if (depth >= TREE_DEPTH_MAX) {
				rc = fetch_result_skip(out->res, path, "folder nested too deep");
				break;
			}
			if (git_tree_lookup(&sub, repo, id) < 0 ||
			    asprintf(&subprefix, "%s/", path) < 0) {
				git_tree_free(sub);
				rc = gr_err_set(err, GR_EIO, "cannot read tree '%s': %s", path,
						git_msg());
				break;
			}
			rc = write_tree(out, repo, odb, sub, subprefix, depth + 1, err);
			free(subprefix);
			git_tree_free(sub);
			break;
		}
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE: {
			git_blob *blob = NULL;
			char origin[GIT_OID_HEXSZ + 8];
			if (git_odb_read_header(&size, &type, odb, id) < 0) {
				rc = gr_err_set(err, GR_EIO, "cannot read '%s': %s", path,
						git_msg());
				break;
			}
			if (size > out->lim->max_file_size) {
				rc = fetch_result_skip(
				    out->res, path, "file of %zu bytes is over the cap of %llu",
				    size, (unsigned long long)out->lim->max_file_size);
				break;
			}
			if (git_blob_lookup(&blob, repo, id) < 0) {
				rc = gr_err_set(err, GR_EIO, "cannot read '%s': %s", path,
						git_msg());
				break;
			}
			snprintf(origin, sizeof(origin), "blob:%s", hex);
			rc = fetch_out_write(out, path, git_blob_rawcontent(blob),
					     (size_t)git_blob_rawsize(blob), origin, err);
			if (rc == GR_EDENIED)
				rc = 0;
			git_blob_free(blob);
			break;
		}
		case GIT_FILEMODE_LINK: {
			git_blob *blob = NULL;
			char target[LINK_TARGET_MAX + 1] = "?";
			if (git_blob_lookup(&blob, repo, id) == 0) {
				size_t len = (size_t)git_blob_rawsize(blob);
				const char *c = git_blob_rawcontent(blob);
				size_t k = 0;
				for (; k < len && k < LINK_TARGET_MAX; k++)
					target[k] = (unsigned char)c[k] < 0x20 ? '?' : c[k];
				target[k] = '\0';
				git_blob_free(blob);
			}
			rc = fetch_result_skip(out->res, path, "symlink to '%s' not followed",
					       target);
			break;
		}
		case GIT_FILEMODE_COMMIT:
			rc = fetch_result_skip(out->res, path,
					       "submodule (gitlink to %.12s) not fetched", hex);
			break;
		default:
			rc = fetch_result_skip(out->res, path, "unknown entry mode %o",
					       (unsigned)git_tree_entry_filemode(e));
			break;
		}
		free(path);
	}
	return rc;
}

/* Whether the remote has a branch at all (connecting to it again). */
static int remote_has_heads(git_remote *remote, const git_remote_callbacks *cb)
{
	const git_remote_head **heads = NULL;
	size_t n = 0;
	int found = 0;

	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, cb, NULL, NULL) < 0)
		return 1; /* unknown: say no branch, not empty */
	if (git_remote_ls(&heads, &n, remote) == 0)
		for (size_t i = 0; i < n && !found; i++)
			found = !strncmp(heads[i]->name, "refs/heads/", 11);
	git_remote_disconnect(remote);
	return found;
}

/*
 * Bring the student's bare cache up to date with the remote's branch (the
 * one asked for, else the remote's default) and name it: *branch is set to
 * a heap string. Only that branch is fetched, and at most
 * limits.max_fetch_size bytes received.
 */
static int update_cache(git_repository **out, char **branch, const char *cache_path,
			const char *url, const char *want_branch, const struct fetch_opts *o,
			struct fetch_result *res)
{
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_fetch_options fopts;
	struct cred_state cs = {.o = o};
	git_buf head = {0};
	git_remote_create_options ropts;
	git_reference *ref = NULL;
	char *spec = NULL, *refname = NULL;
	git_strarray specs = {&spec, 1};
	char *shown = redact(url);
	int rc = -1;

	git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION);
	git_remote_create_options_init(&ropts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	if (git_repository_open_bare(&repo, cache_path) < 0 &&
	    git_repository_init(&repo, cache_path, 1) < 0) {
		fetch_result_fail(res, "cannot create cache '%s': %s", cache_path, git_msg());
		goto done;
	}
	/*
	 * An anonymous remote with explicit refspecs: nothing is read from or
	 * written to the cache's config (libgit2 1.5 leaks pcre2 match data on
	 * the config regex paths of git_remote_lookup/create and insteadOf).
	 */
	ropts.repository = repo;
	ropts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &ropts) < 0) {
		fetch_result_fail(res, "cannot use '%s': %s", shown ? shown : "", git_msg());
		goto done;
	}
	fopts.callbacks.credentials = credentials;
	fopts.callbacks.transfer_progress = transfer_progress;
	fopts.callbacks.payload = &cs;
	fopts.prune = GIT_FETCH_PRUNE;
	fopts.update_fetchhead = 0; /* it would store the URL, credentials included */
	fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if (!want_branch) {
		int e =
		    git_remote_connect(remote, GIT_DIRECTION_FETCH, &fopts.callbacks, NULL, NULL);
		if (e == 0)
			e = git_remote_default_branch(&head, remote);
		if (e < 0 && e != GIT_ENOTFOUND) {
			fail_remote(res, "reach", shown ? shown : "", &cs);
			goto done;
		}
		git_remote_disconnect(remote);
		cs.calls = 0;
		cs.asked = 0;
	}
	if (want_branch)
		*branch = strdup(want_branch);
	else if (head.ptr && !strncmp(head.ptr, "refs/heads/", 11))
		*branch = strdup(head.ptr + 11);
	else
		*branch = strdup("main");
	/*
	 * The graded branch only: the others (whatever a student pushes
	 * there) never reach the cache.
	 */
	if (!*branch ||
	    asprintf(&spec, "+refs/heads/%s:refs/remotes/origin/%s", *branch, *branch) < 0 ||
	    asprintf(&refname, "refs/remotes/origin/%s", *branch) < 0) {
		spec = refname = NULL;
		fetch_result_fail(res, "out of memory");
		goto done;
	}
	if (git_remote_fetch(remote, &specs, &fopts, "grader fetch") < 0) {
		if (cs.over)
			fetch_result_fail(
			    res, "cannot fetch '%s': more than %llu MiB to receive (the cap)",
			    shown ? shown : "",
			    (unsigned long long)(o->limits.max_fetch_size >> 20));
		else
			fail_remote(res, "fetch", shown ? shown : "", &cs);
		goto done;
	}
	/* no such branch: an empty repository has none at all */
	if (git_reference_lookup(&ref, repo, refname) < 0 &&
	    !remote_has_heads(remote, &fopts.callbacks)) {
		fetch_result_fail(res, "repository '%s' is empty", shown ? shown : "");
		goto done;
	}
	*out = repo;
	repo = NULL;
	rc = 0;
done:
	if (rc && *branch) {
		free(*branch);
		*branch = NULL;
	}
	git_reference_free(ref);
	git_buf_dispose(&head);
	git_remote_free(remote);
	git_repository_free(repo);
	free(spec);
	free(refname);
	free(shown);
	return rc;
}

static json_t *time_json(int64_t sec)
{
	struct gr_time t = {.sec = sec};
	char s[32];

	gr_time_format(s, sizeof(s), t.sec, t.usec, GR_TIME_ISO);
	return json_string(s);
}

/*
 * Replace *tree by its folder `subdir` ("ps1", "course/ps1"): a repository
 * holding several assignments. The student fails when it is unsafe or absent.
 */
static int take_subdir(git_tree **tree, git_repository *repo, const char *subdir, const char *hex,
		       struct fetch_result *res)
{
	git_tree_entry *e = NULL;
	git_tree *sub = NULL;
	char why[128], *path = strdup(subdir);
	size_t n = path ? strlen(path) : 0;
	int rc = -1;

	if (!path) {
		fetch_result_fail(res, "out of memory");
		return -1;
	}
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	if (fetch_path_check(path, why, sizeof(why)) < 0) {
		fetch_result_fail(res, "unsafe subdir '%s': %s", subdir, why);
		goto done;
	}
	if (git_tree_entry_bypath(&e, *tree, path) < 0 ||
	    git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		fetch_result_fail(res, "no folder '%s' in commit %.12s", path, hex);
		goto done;
	}
	if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0) {
		fetch_result_fail(res, "cannot read '%s' in commit %.12s: %s", path, hex,
				  git_msg());
		goto done;
	}
	git_tree_free(*tree);
	*tree = sub;
	rc = 0;
done:
	git_tree_entry_free(e);
	free(path);
	return rc;
}

/*
 * *c: the commit graded on `branch` (tip `tip`): the one asked for, which
 * must be on the branch, or the newest of the first-parent walk at or before
 * the deadline (*skipped counts the newer ones). -1 with the student failed.
 */
static int pick_commit(git_commit **c, unsigned *skipped, git_repository *repo, git_commit *tip,
		       const char *branch, const struct fetch_opts *o, struct fetch_result *res)
{
	char dl[32];

	if (git_commit_dup(c, tip) < 0) {
		fetch_result_fail(res, "out of memory");
		return -1;
	}
	if (o->commit) {
		git_oid want;
		git_commit *exact = NULL;

		/* a pushed commit no longer on the branch (force-push) is refused */
		if (git_oid_fromstr(&want, o->commit) < 0 ||
		    git_commit_lookup(&exact, repo, &want) < 0 ||
		    (!git_oid_equal(&want, git_commit_id(tip)) &&
		     git_graph_descendant_of(repo, git_commit_id(tip), &want) != 1)) {
			git_commit_free(exact);
			fetch_result_fail(res, "commit %.12s is not on '%s'", o->commit, branch);
			return -1;
		}
		git_commit_free(*c);
		*c = exact;
		if (o->commit_is_tip && !git_oid_equal(&want, git_commit_id(tip))) {
			char hex[GIT_OID_HEXSZ + 1];

			git_oid_tostr(hex, sizeof(hex), git_commit_id(tip));
			res->moved_on = true;
			fetch_result_fail(res,
					  "commit %.12s is no longer the tip of '%s' (%.12s is)",
					  o->commit, branch, hex);
			return -1;
		}
	}
	while (!o->commit && o->has_deadline && git_commit_time(*c) > o->deadline.sec) {
		git_commit *parent = NULL;
		++*skipped;
		if (git_commit_parentcount(*c) == 0 || git_commit_parent(&parent, *c, 0) < 0) {
			gr_time_format(dl, sizeof(dl), o->deadline.sec, o->deadline.usec,
				       GR_TIME_ISO);
			fetch_result_fail(res, "no commit on '%s' before %s", branch, dl);
			return -1;
		}
		git_commit_free(*c);
		*c = parent;
	}
	return 0;
}

/* The provenance of a git submission (res->source): where, which commit, by which rule. */
static int git_source(struct fetch_result *res, const struct fetch_opts *o, const char *shown,
		      const char *branch, git_commit *c, git_commit *tip, unsigned skipped,
		      const char *subdir)
{
	char hex[GIT_OID_HEXSZ + 1], tiphex[GIT_OID_HEXSZ + 1], dl[32];

	oid_str(hex, git_commit_id(c));
	oid_str(tiphex, git_commit_id(tip));
	if (o->has_deadline)
		gr_time_format(dl, sizeof(dl), o->deadline.sec, o->deadline.usec, GR_TIME_ISO);
	res->source = json_pack(
	    "{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:i, s:s*, s:s}", "kind", "git", "url", shown,
	    "branch", branch, "commit", hex, "commit_time", time_json(git_commit_time(c)),
	    "author_time", time_json(git_commit_author(c)->when.time), "tip", tiphex, "tip_time",
	    time_json(git_commit_time(tip)), "commits_after_deadline", (int)skipped, "deadline",
	    o->has_deadline ? dl : NULL, "rule",
	    o->commit ? "the commit asked for"
		      : "newest first-parent commit with committer time <= deadline");
	if (res->source && subdir &&
	    json_object_set_new(res->source, "subdir", json_string(subdir)))
		json_decref(res->source), res->source = NULL;
	if (!res->source) {
		fetch_result_fail(res, "out of memory");
		return -1;
	}
	return 0;
}

static void fetch_one(void *ctx, size_t i)
{
	struct git_batch *b = ctx;
	const struct fetch_opts *o = b->o;
	const struct roster_student *st = b->students[i];
	struct fetch_result *res = b->results[i];
	struct fetch_out out = {.dir_fd = -1, .student_fd = -1};
	struct gr_err err = {0};
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_commit *tip = NULL, *c = NULL;
	git_tree *tree = NULL;
	git_odb *odb = NULL;
	char *url = NULL, *branch = NULL, *cache_path = NULL, *refname = NULL, *shown = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	const char *subdir = st->subdir && st->subdir[0] ? st->subdir : o->subdir;
	unsigned skipped_newer = 0;

	if (!st->repo[0]) {
		fetch_result_fail(res, "no repo in the roster");
		goto done;
	}
	url = resolve_repo(st->repo, o->base_dir);
	shown = url ? redact(url) : NULL;
	if (asprintf(&cache_path, "%s/%s/%s.git", o->dest, FETCH_CACHE_DIR, st->student_id) < 0)
		cache_path = NULL;
	if (!url || !shown || !cache_path) {
		fetch_result_fail(res, "out of memory");
		goto done;
	}
	if (!is_url(url) && access(url, F_OK) < 0) {
		fetch_result_fail(res, "cannot fetch '%s': %s", shown, strerror(errno));
		goto done;
	}
	if (update_cache(&repo, &branch, cache_path, url, st->branch[0] ? st->branch : o->branch, o,
			 res) < 0)
		goto done;
	if (asprintf(&refname, "refs/remotes/origin/%s", branch) < 0) {
		refname = NULL;
		fetch_result_fail(res, "out of memory");
		goto done;
	}
	if (git_reference_lookup(&ref, repo, refname) < 0 ||
	    git_commit_lookup(&tip, repo, git_reference_target(ref)) < 0) {
		fetch_result_fail(res, "no branch '%s' in '%s'", branch, shown);
		goto done;
	}
	/* first-parent walk from the tip: the newest commit at or before the deadline */
	if (pick_commit(&c, &skipped_newer, repo, tip, branch, o, res) < 0)
		goto done;
	oid_str(hex, git_commit_id(c));
	if (git_commit_tree(&tree, c) < 0 || git_repository_odb(&odb, repo) < 0) {
		fetch_result_fail(res, "cannot read commit %s: %s", hex, git_msg());
		goto done;
	}
	if (subdir && take_subdir(&tree, repo, subdir, hex, res) < 0)
		goto done;
	res->has_time = 1;
	res->time.sec = git_commit_time(c);
	res->time.usec = 0;
	res->time_source = "commit";
	if (git_source(res, o, shown, branch, c, tip, skipped_newer, subdir) < 0)
		goto done;
	if (fetch_out_begin(&out, res, b->dest_fd, o->assignment, &o->limits, &err) < 0 ||
	    write_tree(&out, repo, odb, tree, "", 0, &err) < 0 ||
	    fetch_out_commit(&out, &err) < 0) {
		fetch_result_fail(res, "commit %.12s: %s", hex, err.msg);
		goto done;
	}
	if (o->verbose)
		fetch_log(o, "student '%s': %.12s (%s), %zu files, %zu skipped", st->student_id,
			  hex, branch, res->nfiles, res->nskips);
done:
	fetch_out_abort(&out);
	if (res->failed)
		fetch_log(o, "student '%s': %s", st->student_id, res->error ? res->error : "");
	git_odb_free(odb);
	git_tree_free(tree);
	git_commit_free(c);
	git_commit_free(tip);
	git_reference_free(ref);
	git_repository_free(repo);
	/* a cache over the cap (a history grown past it) is dropped: fetched whole next time */
	if (cache_path && o->limits.max_fetch_size &&
	    disk_bytes(cache_path) > o->limits.max_fetch_size) {
		fetch_log(o, "student '%s': cache over %llu MiB dropped", st->student_id,
			  (unsigned long long)(o->limits.max_fetch_size >> 20));
		gr_rm_rf(cache_path, NULL);
	}
	free(url);
	free(shown);
	free(branch);
	free(cache_path);
	free(refname);
}

int fetch_git_run(struct fetch_report **out, const struct fetch_opts *o, struct gr_err *err)
{
	struct fetch_report *rep = NULL;
	struct git_batch b = {.o = o, .dest_fd = -1};
	int rc = 0, inited = 0;

	if (!o->roster)
		return gr_err_set(err, GR_EINVAL, "fetch git needs a roster");
	if (!fetch_name_is_safe(o->assignment))
		return gr_err_set(err, GR_EINVAL, "unsafe assignment name '%s'", o->assignment);
	rc = fetch_dest_open(&b.dest_fd, o->dest, err);
	if (rc)
		goto done;
	if (mkdirat(b.dest_fd, FETCH_CACHE_DIR, 0755) < 0 && errno != EEXIST) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot create '%s/%s'", o->dest,
				FETCH_CACHE_DIR);
		goto done;
	}
	rep = calloc(1, sizeof(*rep));
	b.results = calloc(o->roster->count + 1, sizeof(*b.results));
	b.students = calloc(o->roster->count + 1, sizeof(*b.students));
	if (!rep || !b.results || !b.students) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < o->roster->count; i++) {
		const struct roster_student *st = &o->roster->students[i];
		if (!fetch_name_is_safe(st->student_id)) {
			rc = gr_err_set(err, GR_EINVAL,
					"roster '%s': line %zu: student id '%s' is not a safe "
					"folder name",
					o->roster->path, st->line, st->student_id);
			goto done;
		}
		b.students[i] = st;
		b.results[i] = fetch_result_new(st->student_id);
		if (!b.results[i]) {
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
	}
	git_libgit2_init();
	inited = 1;
	rc = fetch_pool_run(o->jobs, o->roster->count, fetch_one, &b, err);
	if (rc)
		goto done;
	rep->results = b.results;
	rep->count = o->roster->count;
	b.results = NULL;
	fetch_report_finish(rep);
	*out = rep;
	rep = NULL;
done:
	if (inited)
		git_libgit2_shutdown();
	if (b.results)
		for (size_t i = 0; i < o->roster->count; i++)
			fetch_result_free(b.results[i]);
	free(b.results);
	free(b.students);
	fetch_report_free(rep);
	if (b.dest_fd >= 0)
		close(b.dest_fd);
	return rc;
}

void fetch_git_hold(void)
{
	git_libgit2_init();
}

void fetch_git_release(void)
{
	git_libgit2_shutdown();
}
