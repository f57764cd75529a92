/*
 * srv_gradebook.c - the grading side writes each assignment's gradebook
 * (STATE/gradebooks/ASSIGNMENT.json, read by `grader export` unchanged)
 * from the journal the workers append to, at most once a second while
 * jobs finish, at once when the HTTP side asks for it (its gradebook and
 * export answers), and when the service stops. A result is durable once
 * its journal line and its database row are; the file catches up.
 *
 * The file is written by batch_run over every student's folder (and the
 * roster's students without one, who are listed as missing), reusing the
 * journal's entries, so it is the file `grader grade` would write. A
 * student whose folder a worker may be replacing (a job running, or one
 * queued again after a worker took it) is left out of a write and keeps
 * their row: the workers wait for the lock beside the gradebook before
 * they touch a folder, and the write takes it before it asks the database
 * who is busy, so a write never reads a folder its journal entry does not
 * match.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grader/batch.h"
#include "grader/roster.h"
#include "srv_int.h"

/* Seconds between two writes of one assignment's gradebook while jobs finish. */
#define GB_PERIOD 1.0

int srv_gbooks_init(struct srv_gbooks *g, const struct srv_config *cfg, struct gr_err *err)
{
	g->n = 0;
	g->a = calloc(cfg->nassignments + 1, sizeof(*g->a));
	if (!g->a)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < cfg->nassignments; i++) {
		g->a[i].assignment = strdup(cfg->assignments[i].name);
		if (!g->a[i].assignment || batch_jindex_new(&g->a[i].jindex, err)) {
			free(g->a[i].assignment);
			srv_gbooks_release(g);
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		}
		g->n++;
	}
	return 0;
}

void srv_gbooks_release(struct srv_gbooks *g)
{
	for (size_t i = 0; g->a && i < g->n; i++) {
		free(g->a[i].assignment);
		batch_jindex_free(g->a[i].jindex);
	}
	free(g->a);
	g->a = NULL;
	g->n = 0;
}

int srv_gradebook_lock(int *fd, const char *gradebook, struct gr_err *err)
{
	char *lock = NULL;
	int rc = 0;

	*fd = -1;
	if (asprintf(&lock, "%s.lock", gradebook) < 0)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	*fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0 || flock(*fd, LOCK_EX) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot lock '%s'", lock);
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	free(lock);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_id(char ***ids, size_t *n, size_t *cap, const char *id)
{
	if (*n + 1 >= *cap) {
		char **more = realloc(*ids, (*cap = *cap ? 2 * *cap : 64) * sizeof(**ids));
		if (!more)
			return GR_ENOMEM;
		*ids = more;
	}
	if (!((*ids)[*n] = strdup(id)))
		return GR_ENOMEM;
	(*n)++;
	(*ids)[*n] = NULL;
	return 0;
}

static int is_busy(char **busy, size_t nbusy, const char *id)
{
	for (size_t i = 0; i < nbusy; i++)
		if (!strcmp(busy[i], id))
			return 1;
	return 0;
}

/*
 * The students of the write (sorted, unique, NULL-terminated): every folder
 * DEST/ID/ASSIGNMENT and the roster's ids, less the busy ones.
 */
static int write_list(char ***out, size_t *n, const struct srv_config *cfg, const char *dest,
		      const char *assignment, char **busy, size_t nbusy, struct gr_err *err)
{
	struct roster *ro = NULL;
	char **ids = NULL, path[4096];
	size_t k = 0, cap = 0, u = 0;
	struct dirent *de;
	DIR *d = NULL;
	int rc = 0;

	if (cfg->roster && (rc = roster_load(&ro, cfg->roster, err)))
		return rc;
	ids = calloc(cap = 1, sizeof(*ids));
	if (!ids)
		rc = GR_ENOMEM;
	d = rc ? NULL : opendir(dest);
	while (d && !rc && (de = readdir(d))) {
		if (de->d_name[0] == '.' || is_busy(busy, nbusy, de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dest, de->d_name, assignment);
		if (access(path, F_OK) == 0)
			rc = add_id(&ids, &k, &cap, de->d_name);
	}
	for (size_t i = 0; !rc && ro && i < ro->count; i++)
		if (!is_busy(busy, nbusy, ro->students[i].student_id))
			rc = add_id(&ids, &k, &cap, ro->students[i].student_id);
	if (d)
		closedir(d);
	roster_free(ro);
	if (rc) {
		srv_ids_free(ids, k);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	qsort(ids, k, sizeof(*ids), cmp_str);
	for (size_t i = 0; i < k; i++) {
		if (u && !strcmp(ids[u - 1], ids[i]))
			free(ids[i]);
		else
			ids[u++] = ids[i];
	}
	ids[u] = NULL;
	*out = ids;
	*n = u;
	return 0;
}

/*
 * Write one assignment's gradebook now; b->mark: jobs finished after it are
 * not in it. The journal is read from where the last write stopped (b->jindex).
 */
static int write_one(struct srv_gbook *b, const struct srv_config *cfg, const struct srv_opts *so,
		     struct srv_store *st, const struct srv_assignment *a, size_t *nbusy_out,
		     struct gr_err *err)
{
	char *dest = NULL, *gradebook = NULL, **busy = NULL, **ids = NULL;
	size_t nbusy = 0, n = 0;
	struct batch_summary sum;
	struct batch_opts bo;
	double t0, first;
	int rc, fd = -1;

	dest = gr_path_join(cfg->state, "submitted");
	if (!dest || asprintf(&gradebook, "%s/gradebooks/%s.json", cfg->state, a->name) < 0) {
		free(dest);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	rc = srv_gradebook_lock(&fd, gradebook, err);
	if (rc)
		goto done;
	/* after the lock: a worker that takes a job later waits for this write */
	t0 = first = srv_wall_now();
	rc = srv_store_gb_busy(st, a->name, &busy, &nbusy, &first, err);
	if (!rc)
		rc = write_list(&ids, &n, cfg, dest, a->name, busy, nbusy, err);
	if (rc)
		goto done;
	if (n || nbusy) {
		batch_opts_init(&bo);
		bo.rubric = a->rubric;
		bo.submissions = dest;
		bo.output = gradebook;
		bo.roster = cfg->roster;
		bo.students = (const char *const *)ids;
		bo.merge = 1;
		/* all reused but after a rubric change, when everyone is graded again */
		bo.jobs = (unsigned)cfg->workers;
		bo.allow_weaker = so->allow_weaker;
		bo.jindex = b->jindex;
		rc = batch_run(&bo, &sum, err);
		/* the HTTP side (another user) serves the gradebook; the journal stays private */
		if (!rc && chmod(gradebook, 0644) < 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot publish '%s'", gradebook);
	}
	if (!rc) {
		/* a busy student's job finishes after it started: the next write takes it */
		b->mark = first;
		*nbusy_out = nbusy;
		rc = srv_store_gb_written(st, a->name, t0, err);
	}
done:
	if (fd >= 0)
		close(fd);
	srv_ids_free(ids, n);
	srv_ids_free(busy, nbusy);
	free(gradebook);
	free(dest);
	return rc;
}

void srv_gbooks_flush(struct srv_gbooks *g, const struct srv_config *cfg, const struct srv_opts *so,
		      struct srv_store *st, int final)
{
	for (size_t i = 0; i < g->n; i++) {
		struct srv_gbook *b = &g->a[i];
		const struct srv_assignment *a = srv_config_assignment(cfg, b->assignment);
		double wanted = 0, written = 0, now = srv_wall_now(), t = gr_now();
		struct gr_err err = {0};
		int changed = 0, rc;
		size_t nbusy = 0;

		if (!a)
			continue;
		rc = srv_store_gb_state(st, a->name, &wanted, &written, &err);
		if (!rc)
			rc = srv_store_gb_changed(st, a->name, b->mark, &changed, &err);
		if (rc) {
			srv_log("gradebook %s: %s", a->name, err.msg);
			continue;
		}
		/*
		 * A request is the HTTP side's clock: one from the future (a
		 * side gone wrong) is answered once, not with a write a loop.
		 */
		if (wanted > written && wanted > now + GB_PERIOD) {
			srv_log("gradebook %s: a request from the future ignored", a->name);
			if (srv_store_gb_written(st, a->name, wanted, &err) < 0)
				srv_log("gradebook %s: %s", a->name, err.msg);
			continue;
		}
		/* a finished job waits for the period; a request (a read) does not */
		if (!(changed && (final || now - b->last >= GB_PERIOD)) && !(wanted > written))
			continue;
		if (!changed && b->mark > 0) {
			/* asked for, and nothing finished since the last write: it is current */
			if (srv_store_gb_written(st, a->name, now, &err) < 0)
				srv_log("gradebook %s: %s", a->name, err.msg);
			continue;
		}
		b->last = now;
		rc = write_one(b, cfg, so, st, a, &nbusy, &err);
		if (rc) {
			/* the next try reads the whole journal: the index may be what is wrong */
			batch_jindex_free(b->jindex);
			if (batch_jindex_new(&b->jindex, NULL) < 0)
				b->jindex = NULL;
			if (!b->failing)
				srv_log("gradebook %s: cannot write it (tried again): %s", a->name,
					err.msg);
			b->failing = 1;
			continue;
		}
		if (b->failing)
			srv_log("gradebook %s: written again", a->name);
		b->failing = 0;
		if (nbusy)
			srv_log("gradebook %s: written in %.2f s (%zu student(s) with a running "
				"job kept as they were)",
				a->name, gr_now() - t, nbusy);
		else
			srv_log("gradebook %s: written in %.2f s", a->name, gr_now() - t);
	}
}
