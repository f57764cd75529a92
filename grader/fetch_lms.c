/*
 * fetch_lms.c - what an archive entry's name says: the bulk-download names
 * of Canvas, Moodle and Blackboard, nbgrader's student/assignment/ tree, and
 * instructor regexes (fetch_regex.c).
 */
#include "fetch_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void fetch_name_release(struct fetch_name *n)
{
	if (!n)
		return;
	free(n->lms_id);
	free(n->display_name);
	free(n->path);
	free(n->original);
	memset(n, 0, sizeof(*n));
}

/* Read digits at *p into *v; returns the count read. */
static size_t read_digits(const char **p, uint64_t *v)
{
	size_t n = 0;

	*v = 0;
	while (isdigit((unsigned char)(*p)[n]) && n < 19)
		*v = *v * 10 + (uint64_t)((*p)[n++] - '0');
	if (isdigit((unsigned char)(*p)[n]))
		return 0;
	*p += n;
	return n;
}

static const char *basename_of(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

/*
 * Canvas renames a re-uploaded file "ps1.ipynb" to "ps1-1.ipynb": the logical
 * name drops "-N" before the extension and N orders the versions.
 */
static int strip_resubmission(struct fetch_name *out, const char *file)
{
	const char *dot = strrchr(file, '.'), *end = dot && dot != file ? dot : file + strlen(file);
	const char *q = end;

	while (q > file && isdigit((unsigned char)q[-1]))
		q--;
	if (q == end || q - 1 <= file || q[-1] != '-' || end - q > 3) {
		out->path = strdup(file);
		return out->path ? 0 : GR_ENOMEM;
	}
	out->version[1] = strtoull(q, NULL, 10);
	out->original = strdup(file);
	if (asprintf(&out->path, "%.*s%s", (int)(q - 1 - file), file, end) < 0)
		out->path = NULL;
	return out->path && out->original ? 0 : GR_ENOMEM;
}

/* `name[_LATE]_userid_attachmentid_file`, `anon_id[_LATE]_attachmentid_file`,
 * and text/link entries `name[_LATE]_userid_text.html`. */
static int parse_canvas(struct fetch_name *out, const char *full)
{
	const char *b = basename_of(full);
	int anon = !strncmp(b, "anon_", 5);

	for (const char *u = anon ? b + 4 : strchr(b, '_'); u; u = strchr(u + 1, '_')) {
		const char *q = u + 1, *id_start = q, *id_end = q;
		uint64_t uid = 0, att = 0;
		int late = 0;
		if (u == b)
			continue;
		if (anon) {
			id_start = q;
			while (isalnum((unsigned char)*q))
				q++;
			id_end = q;
			if (id_end == id_start || *q != '_')
				return GR_ENOTFOUND;
			q++;
		}
		if (!strncmp(q, "LATE_", 5) || !strncmp(q, "late_", 5)) {
			late = 1;
			q += 5;
		}
		if (!anon) {
			id_start = q;
			if (!read_digits(&q, &uid) || *q != '_')
				goto next;
			id_end = q;
			q++;
			if (!strcmp(q, "text.html") || !strcmp(q, "link.html")) {
				att = 0;
				goto found;
			}
		}
		if (!read_digits(&q, &att) || *q != '_' || !q[1])
			goto next;
		q++;
	found:
		/* Canvas keeps the letters of any script (Ruby's [[:word:]]) */
		for (const char *c = b; c < u; c++)
			if (!isalnum((unsigned char)*c) && *c != '_' && (unsigned char)*c < 0x80)
				return GR_ENOTFOUND;
		out->layout = FETCH_LAYOUT_CANVAS;
		out->late = late;
		out->version[0] = att;
		out->lms_id = anon ? strndup(b, (size_t)(id_end - b)) /* "anon_ID" */
				   : strndup(id_start, (size_t)(id_end - id_start));
		out->display_name = anon ? NULL : strndup(b, (size_t)(u - b));
		if (!out->lms_id || (!anon && !out->display_name))
			return GR_ENOMEM;
		return strip_resubmission(out, q);
	next:
		if (anon)
			return GR_ENOTFOUND;
	}
	return GR_ENOTFOUND;
}

/* `Full Name_participantid_assignsubmission_plugin_/path` (folder mode) or
 * `..._assignsubmission_plugin_file` (flat mode). */
static int parse_moodle(struct fetch_name *out, const char *full)
{
	const char *mark = strstr(full, "_assignsubmission_"), *start, *us, *q, *plugin_end;
	uint64_t id;

	if (!mark)
		return GR_ENOTFOUND;
	for (start = mark; start > full && start[-1] != '/'; start--)
		;
	for (us = mark - 1; us > start && *us != '_'; us--)
		;
	q = us + 1;
	if (us <= start || !read_digits(&q, &id) || q != mark)
		return GR_ENOTFOUND;
	q = mark + strlen("_assignsubmission_");
	plugin_end = strchr(q, '_');
	if (!plugin_end || plugin_end == q)
		return GR_ENOTFOUND;
	q = plugin_end + 1;
	if (*q == '/')
		q++;
	if (!*q)
		return GR_ENOTFOUND;
	out->layout = FETCH_LAYOUT_MOODLE;
	/* the online text is a string Moodle zips with the time of the download */
	size_t pl = (size_t)(plugin_end - (mark + strlen("_assignsubmission_")));
	size_t ql = strlen(q);
	out->made_at_download = pl == 10 &&
				!strncmp(mark + strlen("_assignsubmission_"), "onlinetext", 10) &&
				!strchr(q, '/') && ql > 5 && !strcasecmp(q + ql - 5, ".html");
	out->lms_id = strndup(us + 1, (size_t)(mark - us - 1));
	out->display_name = strndup(start, (size_t)(us - start));
	out->path = strdup(q);
	return out->lms_id && out->display_name && out->path ? 0 : GR_ENOMEM;
}

/* `Assignment_username_attempt_YYYY-MM-DD-HH-MM-SS_file` and the receipt
 * `..._attempt_YYYY-MM-DD-HH-MM-SS.txt`. */
static int parse_blackboard(struct fetch_name *out, const char *full)
{
	const char *b = basename_of(full), *mark = b, *us, *q;
	char ts[20];

	while ((mark = strstr(mark, "_attempt_"))) {
		q = mark + 9;
		if (strlen(q) >= 19) {
			memcpy(ts, q, 19);
			ts[19] = '\0';
			if (ts[4] == '-' && ts[10] == '-' &&
			    gr_time_parse(&out->time.sec, &out->time.usec, ts, GR_TIME_LENIENT,
					  NULL) == 0) {
				out->time_naive = 1; /* the server's local time */
				break;
			}
		}
		mark++;
	}
	if (!mark || mark == b)
		return GR_ENOTFOUND;
	q = mark + 9 + 19;
	if (!strcmp(q, ".txt")) {
		out->kind = FETCH_NAME_RECEIPT;
	} else if (q[0] == '_' && q[1]) {
		q++;
	} else {
		return GR_ENOTFOUND;
	}
	for (us = mark - 1; us > b && *us != '_'; us--)
		;
	if (*us == '_')
		us++;
	if (us == mark)
		return GR_ENOTFOUND;
	out->layout = FETCH_LAYOUT_BLACKBOARD;
	out->has_time = 1;
	out->lms_id = strndup(us, (size_t)(mark - us));
	/* the whole "Assignment_username" part: usernames may hold underscores */
	out->display_name = strndup(b, (size_t)(mark - b));
	out->path = strdup(out->kind == FETCH_NAME_RECEIPT ? "" : q);
	return out->lms_id && out->display_name && out->path ? 0 : GR_ENOMEM;
}

/* `[anything/]student/assignment/path`. */
static int parse_nbgrader(struct fetch_name *out, const char *full, const char *assignment)
{
	size_t alen = assignment ? strlen(assignment) : 0;
	const char *prev = NULL, *comp = full;

	if (!alen)
		return GR_ENOTFOUND;
	while (comp) {
		const char *slash = strchr(comp, '/');
		if (!slash)
			break;
		if (prev && (size_t)(slash - comp) == alen && !strncmp(comp, assignment, alen) &&
		    slash[1]) {
			out->layout = FETCH_LAYOUT_NBGRADER;
			out->lms_id = strndup(prev, (size_t)(comp - 1 - prev));
			out->path = strdup(slash + 1);
			if (!out->lms_id || !out->path)
				return GR_ENOMEM;
			if (!strcmp(out->path, FETCH_TIMESTAMP_NAME))
				out->kind = FETCH_NAME_TIMESTAMP;
			return out->lms_id[0] ? 0 : GR_ENOTFOUND;
		}
		prev = comp;
		comp = slash + 1;
	}
	return GR_ENOTFOUND;
}

int fetch_name_parse(struct fetch_name *out, const char *name, enum fetch_layout layout,
		     const struct fetch_regex *re, const char *assignment)
{
	static const enum fetch_layout order[] = {FETCH_LAYOUT_MOODLE, FETCH_LAYOUT_BLACKBOARD,
						  FETCH_LAYOUT_NBGRADER, FETCH_LAYOUT_CANVAS};
	int rc = GR_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && rc == GR_ENOTFOUND; i++) {
		enum fetch_layout l = layout == FETCH_LAYOUT_AUTO ? order[i] : layout;
		switch (l) {
		case FETCH_LAYOUT_CANVAS:
			rc = parse_canvas(out, name);
			break;
		case FETCH_LAYOUT_MOODLE:
			rc = parse_moodle(out, name);
			break;
		case FETCH_LAYOUT_BLACKBOARD:
			rc = parse_blackboard(out, name);
			break;
		case FETCH_LAYOUT_NBGRADER:
			rc = parse_nbgrader(out, name, assignment);
			break;
		case FETCH_LAYOUT_REGEX:
			rc = re ? fetch_regex_match_name(re, name, out) : GR_ENOTFOUND;
			break;
		case FETCH_LAYOUT_AUTO:
			break;
		}
		if (rc)
			fetch_name_release(out);
		if (layout != FETCH_LAYOUT_AUTO)
			break;
	}
	return rc;
}
