/*
 * fetch_collect.c - `grader fetch archive`: after every archive has been read
 * into the staging folder, map LMS ids to student ids (roster), keep the
 * newest of duplicate files (Canvas resubmissions, Blackboard attempts,
 * zip_collect timestamps), and write each submission (in parallel).
 */
#include "fetch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct slot {
	size_t item;
	const char *sid; /* student id, or NULL when unknown */
};

struct group {
	const char *sid;
	size_t first, count; /* range in the sorted slots */
	struct fetch_result *res;
};

struct writer {
	struct fetch_collect *c;
	struct slot *slots;
	struct group *groups;
};

/* The student id of an LMS id; NULL when a roster is given and has no match. */
static const char *student_of(const struct fetch_opts *o, const struct fetch_name *n)
{
	const struct roster_student *st;

	if (!o->roster)
		return n->lms_id;
	st = roster_find_lms(o->roster, n->lms_id);
	if (!st)
		st = roster_find(o->roster, n->lms_id);
	if (!st && n->layout == FETCH_LAYOUT_BLACKBOARD)
		st = roster_find_email(o->roster, n->lms_id); /* usernames that are emails */
	if (!st && n->layout == FETCH_LAYOUT_BLACKBOARD && n->display_name) {
		/* "Assignment_user_name": the username may hold underscores */
		for (const char *p = n->display_name; !st && (p = strchr(p, '_')); p++) {
			st = roster_find_lms(o->roster, p + 1);
			if (!st)
				st = roster_find(o->roster, p + 1);
			if (!st)
				st = roster_find_email(o->roster, p + 1);
		}
	}
	if (!st && n->display_name && n->layout != FETCH_LAYOUT_BLACKBOARD)
		st = roster_find_name(o->roster, n->display_name);
	return st ? st->student_id : NULL;
}

static const struct fetch_item *slot_item(const struct writer *w, size_t i)
{
	return &w->c->items[w->slots[i].item];
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

/* Student, then path, then newest first. Unknown students (NULL) last. */
static int cmp_slot_items(const struct fetch_item *items, const struct slot *a,
			  const struct slot *b)
{
	const struct fetch_item *x = &items[a->item], *y = &items[b->item];
	int c;

	if (!a->sid || !b->sid) {
		if (a->sid || b->sid)
			return a->sid ? -1 : 1;
		c = strcmp(x->name.lms_id, y->name.lms_id);
	} else {
		c = strcmp(a->sid, b->sid);
	}
	if (c)
		return c;
	if ((c = strcmp(x->name.path, y->name.path)))
		return c;
	if ((c = cmp_u64_desc(x->name.version[0], y->name.version[0])))
		return c;
	if ((c = cmp_u64_desc(x->name.version[1], y->name.version[1])))
		return c;
	if (x->name.has_time != y->name.has_time)
		return x->name.has_time ? -1 : 1;
	if (x->name.time.sec != y->name.time.sec)
		return x->name.time.sec > y->name.time.sec ? -1 : 1;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

static int cmp_slot(const void *a, const void *b, void *items)
{
	return cmp_slot_items(items, a, b);
}

/* Read nbgrader's timestamp.txt from the staging folder. */
/* 0 read, 1 empty (nbgrader's "no time"), -1 unreadable (why in err). */
static int read_stage_time(struct fetch_collect *c, const char *stage, struct gr_time *t,
			   struct gr_err *err)
{
	char buf[128];
	ssize_t n;
	int fd = openat(c->stage_fd, stage, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot open it");
	n = gr_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot read it");
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[strspn(buf, " \t")])
		return 1;
	return gr_time_parse(&t->sec, &t->usec, buf, GR_TIME_LENIENT, err) < 0 ? -1 : 0;
}

static int add_archive(json_t *arr, const struct fetch_collect *c, size_t idx)
{
	const char *path = c->archives[idx];
	size_t n = json_array_size(arr);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(arr, i), "path")),
			    path))
			return 0;
	return json_array_append_new(
	    arr, json_pack("{s:s, s:s}", "path", path, "sha256", c->archive_sha[idx]));
}

/*
 * The submission's time, from the best source there is: nbgrader's
 * timestamp.txt, the LMS's own time, the entries' times; none (unknown,
 * with why) for Canvas, whose entry times are the download's, and when the
 * archive's timestamp.txt is empty or unreadable (mtime < 0). `generated`:
 * some entry's time was the download's, left out. Late is also the time
 * being after the deadline.
 */
static void set_time(struct fetch_result *res, const struct fetch_opts *o, enum fetch_layout layout,
		     const struct gr_time *nbts, const struct gr_time *lms, int64_t mtime,
		     int generated)
{
	res->has_time = 1;
	if (nbts) {
		res->time = *nbts;
		res->time_source = "timestamp.txt";
	} else if (lms) {
		res->time = *lms;
		res->time_source = "lms";
	} else if (mtime < 0) {
		res->has_time = 0;
		res->time_note = "the archive's timestamp.txt is empty or unreadable";
	} else if (layout == FETCH_LAYOUT_CANVAS) {
		/* rubyzip's get_output_stream stamps entries with the zip's making */
		res->has_time = 0;
		res->time_note = "Canvas stamps every entry with the time the download was made, "
				 "not the submission time; late comes from Canvas's LATE flag";
	} else if (mtime > 0) {
		res->time.sec = mtime;
		res->time_source = "archive-entry";
	} else {
		res->has_time = 0;
		res->time_note = generated ? "Moodle stamps the online text with the time the "
					     "download was made, not the submission time, and no "
					     "other file holds a time"
					   : "the archive holds no time for this submission";
	}
	if (res->has_time && o->has_deadline &&
	    (res->time.sec > o->deadline.sec ||
	     (res->time.sec == o->deadline.sec && res->time.usec > o->deadline.usec)))
		res->late = 1;
}

/*
 * The LMS time of res happens twice in --lms-timezone (written in the hour
 * a DST end repeats): it was read as the first instant, as nbgrader reads
 * such a time; say so, naming the student, since it may decide lateness.
 */
static void warn_twice(const struct fetch_result *res, const struct fetch_opts *o, int64_t later)
{
	char first[32], second[32];

	if (!res->has_time || !later)
		return;
	gr_time_format(first, sizeof(first), res->time.sec, 0, GR_TIME_ISO);
	gr_time_format(second, sizeof(second), later, 0, GR_TIME_ISO);
	fetch_log(o,
		  "student '%s': warning: the %s time is in the hour that happens twice in %s "
		  "(clocks go back): read as the first, %s, not %s",
		  res->student_id, !strcmp(res->time_source, "lms") ? "LMS" : "archive entry",
		  o->lms_zone, first, second);
}

/*
 * The time of a group's latest Blackboard attempt that holds a file, into
 * *out: 1 when it has one. An attempt with only its receipt (a comment) does
 * not take the files of the one before away; a line says so.
 */
static int latest_blackboard(struct gr_time *out, const struct writer *w, const struct group *g,
			     const struct fetch_opts *o)
{
	struct gr_time receipt = {0};
	int has = 0;

	for (size_t i = 0; i < g->count; i++) {
		const struct fetch_item *it = slot_item(w, g->first + i);

		if (it->name.layout != FETCH_LAYOUT_BLACKBOARD || it->kind != ITEM_FILE)
			continue;
		if (it->name.kind == FETCH_NAME_RECEIPT) {
			if (it->name.time.sec > receipt.sec)
				receipt = it->name.time;
		} else if (!has || it->name.time.sec > out->sec) {
			*out = it->name.time;
			has = 1;
		}
	}
	if (has && receipt.sec > out->sec) {
		char newer[32], taken[32];
		gr_time_format(newer, sizeof(newer), receipt.sec, 0, GR_TIME_ISO);
		gr_time_format(taken, sizeof(taken), out->sec, 0, GR_TIME_ISO);
		fetch_log(
		    o,
		    "student '%s': warning: the newest Blackboard attempt (%s) holds no file, "
		    "only its receipt; the files of the attempt of %s are taken",
		    g->res->student_id, newer, taken);
	}
	return has;
}

static void write_group(void *ctx, size_t gi)
{
	struct writer *w = ctx;
	struct fetch_collect *c = w->c;
	const struct fetch_opts *o = c->o;
	struct group *g = &w->groups[gi];
	struct fetch_result *res = g->res;
	struct fetch_out out = {.dir_fd = -1, .student_fd = -1};
	struct gr_err err = {0};
	const struct fetch_item *first = slot_item(w, g->first), *prev_kept = NULL;
	json_t *archives = json_array(), *receipts = json_array();
	struct gr_time latest_bb = {0}, nbts = {0}, lms = {0};
	int64_t mtime = 0, mtime_later = 0, lms_later = 0;
	int has_bb = 0, has_nbts = 0, has_lms = 0, bad_nbts = 0, generated = 0;

	if (!archives || !receipts) {
		fetch_result_fail(res, "out of memory");
		goto done;
	}
	has_bb = latest_blackboard(&latest_bb, w, g, o);
	if (fetch_out_begin(&out, res, c->dest_fd, o->assignment, &o->limits, &err) < 0) {
		fetch_result_fail(res, "%s", err.msg);
		goto done;
	}
	for (size_t i = 0; i < g->count; i++) {
		struct fetch_item *it = &c->items[w->slots[g->first + i].item];
		char ts[32];
		if (add_archive(archives, c, it->archive) < 0) {
			fetch_result_fail(res, "out of memory");
			goto done;
		}
		if (it->kind == ITEM_SKIP) {
			if (fetch_result_skip(res, it->origin, "%s", it->reason) == 0)
				res->skips[res->nskips - 1].unreadable = it->unreadable;
			continue;
		}
		if (it->name.kind == FETCH_NAME_RECEIPT) {
			json_array_append_new(
			    receipts,
			    json_pack("{s:s, s:s}", "origin", it->origin, "sha256", it->sha256));
			continue;
		}
		if (it->name.kind == FETCH_NAME_TIMESTAMP) {
			struct gr_err terr = {0};
			int t = read_stage_time(c, it->stage, &nbts, &terr);
			has_nbts = t == 0;
			bad_nbts = t != 0;
			if (t < 0) {
				/* never silently replaced by another time */
				fetch_log(o,
					  "student '%s': '%s': %s; the submission time is unknown",
					  res->student_id, it->origin, terr.msg);
				fetch_result_skip(res, it->origin, "unreadable timestamp.txt: %s",
						  terr.msg);
			}
			continue;
		}
		if (has_bb && it->name.layout == FETCH_LAYOUT_BLACKBOARD &&
		    it->name.time.sec < latest_bb.sec) {
			gr_time_format(ts, sizeof(ts), latest_bb.sec, latest_bb.usec, GR_TIME_ISO);
			fetch_result_skip(res, it->origin, "superseded by the attempt of %s", ts);
			continue;
		}
		if (prev_kept && !strcmp(prev_kept->name.path, it->name.path)) {
			fetch_result_skip(res, it->origin, "superseded by newer '%s'",
					  prev_kept->origin);
			continue;
		}
		if (fetch_out_place(&out, it->name.path, c->stage_fd, it->stage, it->size,
				    it->sha256, it->origin, &err) == 0) {
			it->stage[0] = '\0';
			res->files[res->nfiles - 1].name_encoding = it->name_encoding;
		} else if (err.code != 0 && err.code != GR_EDENIED) {
			fetch_result_fail(res, "%s", err.msg);
			goto done;
		}
		err.code = 0;
		prev_kept = it;
		res->late |= it->name.late;
		if (it->name.has_time && (!has_lms || it->name.time.sec > lms.sec)) {
			lms = it->name.time;
			lms_later = it->name.time_later;
			has_lms = 1;
		}
		generated |= it->name.made_at_download;
		if (it->mtime > mtime && !it->name.made_at_download) {
			mtime = it->mtime;
			mtime_later = it->mtime_later;
		}
	}
	set_time(res, o, first->name.layout, has_nbts ? &nbts : NULL, has_lms ? &lms : NULL,
		 bad_nbts ? -1 : mtime, generated);
	warn_twice(res, o,
		   !strcmp(res->time_source, "lms")		? lms_later
		   : !strcmp(res->time_source, "archive-entry") ? mtime_later
								: 0);
	res->source = json_pack("{s:s, s:s, s:s, s:s?, s:O, s:O}", "kind", "archive", "layout",
				fetch_layout_name(first->name.layout), "lms_id", first->name.lms_id,
				"display_name", first->name.display_name, "archives", archives,
				"receipts", receipts);
	if (!res->source) {
		fetch_result_fail(res, "out of memory");
		goto done;
	}
	if (fetch_out_commit(&out, &err) < 0) {
		fetch_result_fail(res, "%s", err.msg);
		goto done;
	}
	if (res->nfiles == 0 && res->nskips > 0)
		/* failed, not missing; the folder's provenance lists what was refused */
		fetch_result_fail(res, "every file was refused (%zu entr%s skipped)", res->nskips,
				  res->nskips == 1 ? "y" : "ies");
	if (o->verbose)
		fetch_log(o, "student '%s': %zu files, %zu skipped%s", res->student_id, res->nfiles,
			  res->nskips, res->late ? ", late" : "");
done:
	fetch_out_abort(&out);
	if (res->failed)
		fetch_log(o, "student '%s': %s", res->student_id, res->error);
	json_decref(archives);
	json_decref(receipts);
}

static int cmp_nest(const void *a, const void *b, void *items)
{
	const struct fetch_item *x = &((struct fetch_item *)items)[*(const size_t *)a];
	const struct fetch_item *y = &((struct fetch_item *)items)[*(const size_t *)b];

	if (x->nest != y->nest)
		return x->nest < y->nest ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Students often zip a folder: when every file of a student's own archive
 * sits in one top folder, that folder is dropped (ps1.zip holding ps1/a.ipynb
 * gives a.ipynb).
 */
static int unwrap(struct fetch_collect *c)
{
	size_t *idx = calloc(c->nitems + 1, sizeof(*idx)), n = 0;

	if (!idx)
		return GR_ENOMEM;
	for (size_t i = 0; i < c->nitems; i++)
		if (c->items[i].nest && c->items[i].kind == ITEM_FILE)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_nest, c->items);
	for (size_t s = 0, e; s < n; s = e) {
		const struct fetch_item *f = &c->items[idx[s]];
		const char *rest = f->name.path + f->nest_prefix, *slash = strchr(rest, '/');
		size_t clen = slash ? (size_t)(slash - rest) : 0;
		int same = clen > 0;
		for (e = s + 1; e < n && c->items[idx[e]].nest == f->nest; e++)
			;
		for (size_t k = s; k < e && same; k++) {
			const struct fetch_item *g = &c->items[idx[k]];
			const char *r2 = g->name.path + g->nest_prefix;
			same = !strncmp(r2, rest, clen) && r2[clen] == '/';
		}
		for (size_t k = s; k < e && same; k++) {
			struct fetch_item *g = &c->items[idx[k]];
			char *r2 = g->name.path + g->nest_prefix;
			memmove(r2, r2 + clen + 1, strlen(r2 + clen + 1) + 1);
		}
	}
	free(idx);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Canvas renames a file uploaded again to "ps1-1.ipynb", and fetch_lms.c
 * reads it back as "ps1.ipynb"; but "lab-1.ipynb" is also what a course
 * calls its first lab. A "-N" is taken for Canvas's only when the name
 * without it is in the download as a file of its own (some student's
 * first upload) or is the assignment's ("ps1-1.ipynb" for ps1); otherwise
 * the file keeps its name. Students' own archives are not concerned.
 */
static int canvas_suffixes(struct fetch_collect *c)
{
	const char **names = calloc(c->nitems + 1, sizeof(*names));
	size_t n = 0, alen = strlen(c->o->assignment);

	if (!names)
		return GR_ENOMEM;
	for (size_t i = 0; i < c->nitems; i++) {
		const struct fetch_item *it = &c->items[i];
		if (it->kind == ITEM_FILE && !it->nest && it->name.layout == FETCH_LAYOUT_CANVAS)
			names[n++] = it->name.original ? it->name.original : it->name.path;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < c->nitems; i++) {
		struct fetch_item *it = &c->items[i];
		const char *p = it->name.path;
		if (it->kind != ITEM_FILE || it->nest || it->name.layout != FETCH_LAYOUT_CANVAS ||
		    !it->name.original || bsearch(&p, names, n, sizeof(*names), cmp_str) ||
		    (!strncmp(p, c->o->assignment, alen) && (!p[alen] || p[alen] == '.')))
			continue;
		free(it->name.path);
		it->name.path = it->name.original;
		it->name.original = NULL;
		it->name.version[1] = 0;
	}
	free(names);
	return 0;
}

/*
 * The items that belong to somebody as slots (item, student) in w->slots
 * (*nslots of them), sorted by student; the orphans into rep->orphans as
 * skips. GR_ENOMEM.
 */
static int take_slots(struct fetch_collect *c, struct writer *w, struct fetch_report *rep,
		      size_t *nslots, struct gr_err *err)
{
	for (size_t i = 0; i < c->nitems; i++) {
		const struct fetch_item *it = &c->items[i];
		if (it->orphan) {
			if (!rep->orphans && !(rep->orphans = fetch_result_new("")))
				return gr_err_set(err, GR_ENOMEM, "out of memory");
			if (fetch_result_skip(rep->orphans, it->origin, "%s", it->reason) < 0)
				return gr_err_set(err, GR_ENOMEM, "out of memory");
			rep->orphans->skips[rep->orphans->nskips - 1].unreadable = it->unreadable;
			continue;
		}
		w->slots[*nslots].item = i;
		w->slots[(*nslots)++].sid = student_of(c->o, &it->name);
	}
	qsort_r(w->slots, *nslots, sizeof(*w->slots), cmp_slot, c->items);
	return 0;
}

/*
 * Why a display name found nobody when several rows carry it (two students
 * called Wei Zhang): "; its name matches 'a', 'b': give them lms_id".
 */
static void same_name(const struct roster *r, const char *display, char *buf, size_t len)
{
	const struct roster_student *m[3];
	size_t n = display ? roster_name_matches(r, display, m, 3) : 0;

	if (n < 2)
		return;
	snprintf(buf, len, "; its name matches %zu students ('%.40s', '%.40s'%s): give them lms_id",
		 n, m[0]->student_id, m[1]->student_id, n > 2 ? ", ..." : "");
}

/*
 * One group per student (w->groups, *ngroups) from the sorted slots, each
 * with its result; an LMS id not in the roster, or an unsafe student id,
 * fails its group here. GR_ENOMEM.
 */
static int make_groups(struct fetch_collect *c, struct writer *w, size_t nslots, size_t *ngroups,
		       struct gr_err *err)
{
	const struct fetch_opts *o = c->o;

	for (size_t i = 0; i < nslots; i++) {
		const struct fetch_item *it = &c->items[w->slots[i].item];
		const char *key = w->slots[i].sid ? w->slots[i].sid : it->name.lms_id;
		struct group *g = *ngroups ? &w->groups[*ngroups - 1] : NULL;
		const char *gkey = g ? g->sid : NULL;
		if (g && !strcmp(gkey, key) && (!w->slots[g->first].sid == !w->slots[i].sid)) {
			g->count++;
			continue;
		}
		g = &w->groups[(*ngroups)++];
		g->sid = key;
		g->first = i;
		g->count = 1;
		g->res = fetch_result_new(key);
		if (!g->res)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		if (!w->slots[i].sid) {
			char same[200] = "";
			same_name(o->roster, it->name.display_name, same, sizeof(same));
			fetch_result_fail(g->res, "%s id '%s'%s%s%s is not in roster '%s'%s",
					  fetch_layout_name(it->name.layout), it->name.lms_id,
					  it->name.display_name ? " ('" : "",
					  it->name.display_name ? it->name.display_name : "",
					  it->name.display_name ? "')" : "", o->roster->path, same);
			fetch_log(o, "student '%s': %s", key, g->res->error);
		} else if (!fetch_name_is_safe(key)) {
			fetch_result_fail(g->res, "student id '%s' is not a safe folder name", key);
			fetch_log(o, "student '%s': %s", key, g->res->error);
		}
	}
	return 0;
}

/* Write the groups that did not fail, in the pool; failed groups stay in w->groups. */
static int write_good(struct writer *w, size_t ngroups, struct gr_err *err)
{
	struct group *good = calloc(ngroups + 1, sizeof(*good)), *all = w->groups;
	size_t ngood = 0;
	int rc;

	if (!good)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < ngroups; i++)
		if (!w->groups[i].res->failed)
			good[ngood++] = w->groups[i];
	w->groups = good;
	rc = fetch_pool_run(w->c->o->jobs, ngood, write_group, w, err);
	w->groups = all;
	free(good);
	return rc;
}

/* The groups' results into rep, then a "missing" one for each roster student without any. */
static int collect_results(const struct fetch_opts *o, struct fetch_report *rep, struct writer *w,
			   size_t ngroups, struct gr_err *err)
{
	rep->results =
	    calloc(ngroups + (o->roster ? o->roster->count : 0) + 1, sizeof(*rep->results));
	if (!rep->results)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < ngroups; i++) {
		rep->results[i] = w->groups[i].res;
		w->groups[i].res = NULL;
	}
	rep->count = ngroups;
	for (size_t i = 0; o->roster && i < o->roster->count; i++) {
		const char *sid = o->roster->students[i].student_id;
		size_t k = 0;
		while (k < ngroups && strcmp(rep->results[k]->student_id, sid))
			k++;
		if (k < ngroups)
			continue;
		struct fetch_result *m = fetch_result_new(sid);
		if (!m)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		m->missing = 1;
		rep->results[rep->count++] = m;
	}
	return 0;
}

int fetch_collect_write(struct fetch_collect *c, struct fetch_report **out, struct gr_err *err)
{
	struct writer w = {.c = c};
	struct fetch_report *rep = NULL;
	size_t ngroups = 0, nslots = 0;
	int rc = 0;

	rep = calloc(1, sizeof(*rep));
	w.slots = calloc(c->nitems + 1, sizeof(*w.slots));
	w.groups = calloc(c->nitems + 1, sizeof(*w.groups));
	if (!rep || !w.slots || !w.groups) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (unwrap(c) < 0 || canvas_suffixes(c) < 0) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = take_slots(c, &w, rep, &nslots, err)) ||
	    (rc = make_groups(c, &w, nslots, &ngroups, err)) ||
	    (rc = write_good(&w, ngroups, err)) ||
	    (rc = collect_results(c->o, rep, &w, ngroups, err)))
		goto done;
	rep->archive_errors = c->archive_errors;
	fetch_report_finish(rep);
	*out = rep;
	rep = NULL;
done:
	if (w.groups)
		for (size_t i = 0; i < ngroups; i++)
			fetch_result_free(w.groups[i].res);
	free(w.groups);
	free(w.slots);
	fetch_report_free(rep);
	return rc;
}

int fetch_archive_run(struct fetch_report **out, const struct fetch_opts *o, char *const *files,
		      size_t nfiles, struct gr_err *err)
{
	struct fetch_collect c = {
	    .o = o, .dest_fd = -1, .stage_fd = -1, .archives = files, .narchives = nfiles};
	int rc;

	if (!fetch_name_is_safe(o->assignment))
		return gr_err_set(err, GR_EINVAL, "unsafe assignment name '%s'", o->assignment);
	if (o->layout == FETCH_LAYOUT_REGEX && !o->regex)
		return gr_err_set(err, GR_EINVAL, "layout regex needs a pattern");
	rc = fetch_dest_open(&c.dest_fd, o->dest, err);
	if (rc)
		return rc;
	snprintf(c.stage_name, sizeof(c.stage_name), ".grader-stage-%ld", (long)getpid());
	gr_rm_rf_at(c.dest_fd, c.stage_name, NULL);
	if (mkdirat(c.dest_fd, c.stage_name, 0700) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot create '%s/%s'", o->dest, c.stage_name);
		c.stage_name[0] = '\0';
		goto done;
	}
	c.stage_fd =
	    openat(c.dest_fd, c.stage_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	c.archive_sha = calloc(nfiles + 1, sizeof(*c.archive_sha));
	if (c.stage_fd < 0 || !c.archive_sha) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot open '%s/%s'", o->dest, c.stage_name);
		goto done;
	}
	for (size_t i = 0; i < nfiles && rc == 0; i++)
		rc = fetch_archive_read(&c, i, err);
	if (rc == 0)
		rc = fetch_collect_write(&c, out, err);
done:
	for (size_t i = 0; i < c.nitems; i++)
		fetch_item_release(&c.items[i]);
	free(c.items);
	free(c.archive_sha);
	if (c.stage_fd >= 0)
		close(c.stage_fd);
	if (c.stage_name[0])
		gr_rm_rf_at(c.dest_fd, c.stage_name, NULL);
	close(c.dest_fd);
	return rc;
}
