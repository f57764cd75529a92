/* cmd_fetch.c - `grader fetch git|archive`: options, help, exit codes. */
#include <errno.h>
#include <iconv.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "grader/fetch.h"

static const char usage_text[] =
    "usage: grader fetch git --roster FILE --assignment NAME --dest DIR [options]\n"
    "       grader fetch archive FILE... --assignment NAME --dest DIR [options]\n"
    "\n"
    "Collect submissions into DEST/{student_id}/{assignment}/ (nbgrader's layout)\n"
    "with timestamp.txt and .grader-provenance.json in each folder.\n"
    "\n"
    "common options:\n"
    "  --assignment NAME      assignment folder name (required)\n"
    "  --dest DIR             destination, e.g. submitted/ (required; created)\n"
    "  --roster FILE          roster CSV: student_id plus repo, first_name, last_name,\n"
    "                         email, branch, subdir, lms_id columns (required for git)\n"
    "  --deadline TIME        ISO 8601, e.g. 2026-10-30T10:00:00Z or ...+02:00, or\n"
    "                         with a tz name: \"2026-10-30 17:00 Europe/London\"\n"
    "                         (git: newest commit at or before it; archive: sets late)\n"
    "  -j, --jobs N           parallel workers (default 1)\n"
    "  --manifest FILE        also write a CSV of every file, skip and failure\n"
    "  --max-file-size SIZE   skip larger files (default 100M; K, M, G suffixes)\n"
    "  --max-total-size SIZE  fail a submission above this (default 1G)\n"
    "  --max-files N          fail a submission with more files (default 5000)\n"
    "  -v, --verbose          one line per fetched student on stderr\n"
    "  --help                 show this help\n"
    "\n"
    "git options:\n"
    "  --branch B             branch when the roster has none (default: remote HEAD)\n"
    "  --subdir PATH          take this folder of each repository (e.g. ps1) when\n"
    "                         the roster row has no subdir (default: the root)\n"
    "  environment: GRADER_GIT_TOKEN (https token), GRADER_GIT_USER (its user name,\n"
    "  default x-access-token); ssh URLs use the ssh agent\n"
    "\n"
    "archive options:\n"
    "  --layout L             auto (default), canvas, moodle, blackboard, nbgrader,\n"
    "                         or regex:PATTERN with (?P<student_id>..) (?P<file_id>..)\n"
    "                         and optional (?P<timestamp>..) groups\n"
    "  --lms-timezone ZONE    the tz database zone of LMS times written without one\n"
    "                         (Blackboard attempts, regex timestamps, zip entry\n"
    "                         times as Moodle writes them), e.g. America/Chicago\n"
    "                         (default: UTC; zip entry times: this machine's zone)\n"
    "  --zip-charset CP       code page of zip entry names without the UTF-8 flag\n"
    "                         that are not UTF-8 (default CP437; CP866 for a zip\n"
    "                         made on a Russian Windows, CP850, CP737, ...)\n"
    "  --max-entries N        refuse an archive with more entries (default 100000)\n"
    "  --max-archive-size S   refuse an archive unpacking to more (default 8G)\n"
    "  --max-ratio N          refuse an archive expanding more than N:1 (default 200)\n"
    "  --max-depth N          archives inside archives (default 3)\n"
    "\n"
    "Exit status: 0 all fetched, 1 some student or archive failed or an entry's\n"
    "name could not be read, 2 usage error.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "grader fetch: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nSee 'grader fetch --help'.\n");
	return 2;
}

static void log_line(void *payload, const char *line)
{
	(void)payload;
	fprintf(stderr, "fetch: %s\n", line);
}

struct args {
	const char *roster, *manifest, *deadline, *layout;
	char **files;
	size_t nfiles;
};

enum {
	F_ASSIGNMENT = 256,
	F_DEST,
	F_ROSTER,
	F_DEADLINE,
	F_MANIFEST,
	F_MAX_FILE_SIZE,
	F_MAX_TOTAL_SIZE,
	F_MAX_FILES,
	F_BRANCH,
	F_SUBDIR,
	F_LAYOUT,
	F_LMS_TZ,
	F_ZIP_CHARSET,
	F_MAX_ENTRIES,
	F_MAX_ARCHIVE_SIZE,
	F_MAX_RATIO,
	F_MAX_DEPTH,
};

/* The options of both sources; F_BRANCH.. F_SUBDIR are git's, F_LAYOUT and after the archives'. */
static const struct cmd_opt table[] = {
    {"help", 'h', 0, 0},
    {"verbose", 'v', 0, 0},
    {"assignment", 0, 1, F_ASSIGNMENT},
    {"dest", 0, 1, F_DEST},
    {"roster", 0, 1, F_ROSTER},
    {"deadline", 0, 1, F_DEADLINE},
    {"manifest", 0, 1, F_MANIFEST},
    {"jobs", 'j', 1, 0},
    {"max-file-size", 0, 1, F_MAX_FILE_SIZE},
    {"max-total-size", 0, 1, F_MAX_TOTAL_SIZE},
    {"max-files", 0, 1, F_MAX_FILES},
    {"branch", 0, 1, F_BRANCH},
    {"subdir", 0, 1, F_SUBDIR},
    {"layout", 0, 1, F_LAYOUT},
    {"lms-timezone", 0, 1, F_LMS_TZ},
    {"zip-charset", 0, 1, F_ZIP_CHARSET},
    {"max-entries", 0, 1, F_MAX_ENTRIES},
    {"max-archive-size", 0, 1, F_MAX_ARCHIVE_SIZE},
    {"max-ratio", 0, 1, F_MAX_RATIO},
    {"max-depth", 0, 1, F_MAX_DEPTH},
    {NULL, 0, 0, 0},
};

/* One option (key c, value val) into opts/args; 0, or 2 after a usage error. */
static int set_option(int c, const char *val, struct fetch_opts *o, struct args *a)
{
	uint64_t n;

	switch (c) {
	case F_ASSIGNMENT:
		o->assignment = val;
		break;
	case F_DEST:
		o->dest = val;
		break;
	case F_ROSTER:
		a->roster = val;
		break;
	case F_DEADLINE:
		a->deadline = val;
		break;
	case F_MANIFEST:
		a->manifest = val;
		break;
	case 'j':
		if (cmd_parse_size(val, &n) < 0 || n < 1 || n > 256)
			return usage_error("invalid job count '%s' (1..256)", val);
		o->jobs = (unsigned)n;
		break;
	case F_MAX_FILE_SIZE:
		if (cmd_parse_size(val, &o->limits.max_file_size) < 0)
			return usage_error("invalid size '%s'", val);
		break;
	case F_MAX_TOTAL_SIZE:
		if (cmd_parse_size(val, &o->limits.max_total_size) < 0)
			return usage_error("invalid size '%s'", val);
		break;
	case F_MAX_FILES:
		if (cmd_parse_size(val, &n) < 0)
			return usage_error("invalid count '%s'", val);
		o->limits.max_files = (size_t)n;
		break;
	case F_BRANCH:
		o->branch = val;
		break;
	case F_SUBDIR:
		o->subdir = val;
		break;
	case F_LAYOUT:
		a->layout = val;
		break;
	case F_LMS_TZ: {
		int64_t utc;
		struct gr_err zerr = {0};
		if (gr_time_zone_to_utc(&utc, 0, val, &zerr) < 0)
			return usage_error("--lms-timezone: %s", zerr.msg);
		o->lms_zone = val;
		/*
		 * libarchive turns a zip's DOS times into seconds with mktime in
		 * TZ, and fetch turns them back to read them in ZONE: in UTC
		 * that is exact (no hour of this machine's own DST change lost).
		 * Still one thread here.
		 */
		setenv("TZ", "UTC0", 1);
		tzset();
		break;
	}
	case F_ZIP_CHARSET: {
		iconv_t cd = iconv_open("UTF-8", val);
		if (cd == (iconv_t)-1)
			return usage_error(
			    "--zip-charset: unknown code page '%s' (iconv -l lists them)", val);
		iconv_close(cd);
		o->zip_charset = val;
		break;
	}
	case F_MAX_ENTRIES:
		if (cmd_parse_size(val, &n) < 0)
			return usage_error("invalid count '%s'", val);
		o->limits.max_entries = (size_t)n;
		break;
	case F_MAX_ARCHIVE_SIZE:
		if (cmd_parse_size(val, &o->limits.max_archive_size) < 0)
			return usage_error("invalid size '%s'", val);
		break;
	case F_MAX_RATIO:
		if (cmd_parse_size(val, &n) < 0 || n < 1 || n > 1000000)
			return usage_error("invalid ratio '%s'", val);
		o->limits.max_ratio = (unsigned)n;
		break;
	case F_MAX_DEPTH:
		if (cmd_parse_size(val, &n) < 0 || n > 16)
			return usage_error("invalid depth '%s' (0..16)", val);
		o->limits.max_depth = (unsigned)n;
		break;
	}
	return 0;
}

/* Parse argv[2..] into opts/args; returns 0, 1 for --help, 2 on error. */
static int parse(int argc, char **argv, int git, struct fetch_opts *o, struct args *a)
{
	struct cmd_opts p;
	int c, rc;

	cmd_opts_init(&p, table, argc - 1, argv + 1, 0);
	while ((c = cmd_opts_next(&p)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 'v')
			o->verbose = 1;
		else if (c == CMD_OPT_MISSING)
			return usage_error("option '%s' needs a value", p.bad);
		else if (c == CMD_OPT_UNKNOWN)
			return usage_error("unknown option '%s'", p.bad);
		else if ((git && c >= F_LAYOUT) || (!git && (c == F_BRANCH || c == F_SUBDIR)))
			return usage_error("unknown option '--%s'", p.name);
		else if ((rc = set_option(c, p.arg, o, a)))
			return rc;
	}
	for (int i = p.ind + 1; i < argc; i++) {
		if (git)
			return usage_error("unexpected argument '%s'", argv[i]);
		a->files[a->nfiles++] = argv[i];
	}
	if (!o->assignment)
		return usage_error("%s", "--assignment is required");
	if (!o->dest)
		return usage_error("%s", "--dest is required");
	if (git && !a->roster)
		return usage_error("%s", "--roster is required for fetch git");
	if (!git && a->nfiles == 0)
		return usage_error("%s", "no archive given");
	return 0;
}

static int set_layout(struct fetch_opts *o, struct fetch_regex **re, const char *layout)
{
	struct gr_err err = {0};

	if (!layout)
		return 0;
	if (!strncmp(layout, "regex:", 6)) {
		if (fetch_regex_new(re, layout + 6, &err) < 0) {
			fprintf(stderr, "grader fetch: %s\n", err.msg);
			return 2;
		}
		o->layout = FETCH_LAYOUT_REGEX;
		o->regex = *re;
		return 0;
	}
	for (int l = FETCH_LAYOUT_AUTO; l < FETCH_LAYOUT_REGEX; l++) {
		if (!strcmp(layout, fetch_layout_name((enum fetch_layout)l))) {
			o->layout = (enum fetch_layout)l;
			return 0;
		}
	}
	return usage_error("unknown layout '%s'", layout);
}

int cmd_fetch(int argc, char **argv)
{
	struct fetch_opts o;
	struct args a = {0};
	struct roster *roster = NULL;
	struct fetch_regex *re = NULL;
	struct fetch_report *rep = NULL;
	struct gr_err err = {0};
	char *roster_dir = NULL;
	int git, rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "git") && strcmp(argv[1], "archive"))
		return usage_error("unknown source '%s' (git or archive)", argv[1]);
	git = !strcmp(argv[1], "git");
	fetch_opts_init(&o);
	o.log = log_line;
	a.files = calloc((size_t)argc, sizeof(*a.files));
	if (!a.files)
		return 1;
	rc = parse(argc, argv, git, &o, &a);
	if (rc == 1) {
		fputs(usage_text, stdout);
		rc = 0;
		goto done;
	}
	if (rc)
		goto done;
	rc = 2;
	if (a.deadline) {
		if (gr_time_parse(&o.deadline.sec, &o.deadline.usec, a.deadline, GR_TIME_LENIENT,
				  &err) < 0) {
			fprintf(stderr, "grader fetch: %s\n", err.msg);
			goto done;
		}
		o.has_deadline = 1;
	}
	if (!git && set_layout(&o, &re, a.layout))
		goto done;
	if (!fetch_name_is_safe(o.assignment)) {
		rc = usage_error("assignment name '%s' is not a plain folder name", o.assignment);
		goto done;
	}
	rc = 1;
	if (a.roster) {
		if (roster_load(&roster, a.roster, &err) < 0) {
			fprintf(stderr, "grader fetch: %s\n", err.msg);
			goto done;
		}
		o.roster = roster;
		roster_dir = strdup(a.roster);
		o.base_dir = roster_dir ? dirname(roster_dir) : NULL;
	}
	o.https_token = getenv("GRADER_GIT_TOKEN");
	o.https_user = getenv("GRADER_GIT_USER");
	if (git)
		rc = fetch_git_run(&rep, &o, &err);
	else
		rc = fetch_archive_run(&rep, &o, a.files, a.nfiles, &err);
	if (rc < 0) {
		fprintf(stderr, "grader fetch: %s\n", err.msg);
		rc = 1;
		goto done;
	}
	if (a.manifest && fetch_manifest_write(rep, o.assignment, a.manifest, &err) < 0) {
		fprintf(stderr, "grader fetch: %s\n", err.msg);
		rc = 1;
		goto done;
	}
	printf("%zu fetched, %zu failed", rep->fetched, rep->failed);
	if (!git && roster)
		printf(", %zu missing", rep->missing);
	if (rep->archive_errors)
		printf(", %zu archive%s refused", rep->archive_errors,
		       rep->archive_errors > 1 ? "s" : "");
	if (rep->skipped)
		printf(", %zu entr%s skipped", rep->skipped, rep->skipped > 1 ? "ies" : "y");
	if (rep->unreadable)
		printf(" (%zu with an unreadable name)", rep->unreadable);
	printf("\n");
	rc = rep->failed || rep->archive_errors || rep->unreadable ? 1 : 0;
done:
	fetch_report_free(rep);
	fetch_regex_free(re);
	roster_free(roster);
	free(roster_dir);
	free(a.files);
	return rc;
}
