/* test_fetch.c - unit tests for LMS names, regex translation, times, paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "grader/fetch.h"
#include "grader/roster.h"
#include "grader/util.h"
#include "../grader/fetch_int.h"

static void parse_ok(struct fetch_name *n, const char *name, enum fetch_layout layout,
		     enum fetch_layout want, const char *lms_id, const char *path)
{
	int rc = fetch_name_parse(n, name, layout, NULL, "ps1");
	if (rc)
		fail_msg("'%s' did not parse (%d)", name, rc);
	assert_int_equal(n->layout, want);
	assert_string_equal(n->lms_id, lms_id);
	assert_string_equal(n->path, path);
}

static void test_fetch__canvas_names(void **state)
{
	struct fetch_name n;
	(void)state;

	parse_ok(&n, "smithjohn_12345_678901_ps1.ipynb", FETCH_LAYOUT_AUTO, FETCH_LAYOUT_CANVAS,
		 "12345", "ps1.ipynb");
	assert_string_equal(n.display_name, "smithjohn");
	assert_false(n.late);
	assert_int_equal(n.version[0], 678901);
	assert_null(n.original);
	fetch_name_release(&n);

	parse_ok(&n, "smithjohn_LATE_12345_678901_my_file_2.ipynb", FETCH_LAYOUT_CANVAS,
		 FETCH_LAYOUT_CANVAS, "12345", "my_file_2.ipynb");
	assert_true(n.late);
	fetch_name_release(&n);

	parse_ok(&n, "smithjohn_late_12345_678901_ps1.ipynb", FETCH_LAYOUT_CANVAS,
		 FETCH_LAYOUT_CANVAS, "12345", "ps1.ipynb");
	assert_true(n.late);
	fetch_name_release(&n);

	/* resubmission suffix: logical name without -N, N kept as version */
	parse_ok(&n, "smithjohn_12345_678902_ps1-2.ipynb", FETCH_LAYOUT_CANVAS, FETCH_LAYOUT_CANVAS,
		 "12345", "ps1.ipynb");
	assert_string_equal(n.original, "ps1-2.ipynb");
	assert_int_equal(n.version[1], 2);
	fetch_name_release(&n);

	parse_ok(&n, "anon_aB3dE_678903_ps1.ipynb", FETCH_LAYOUT_CANVAS, FETCH_LAYOUT_CANVAS,
		 "anon_aB3dE", "ps1.ipynb");
	assert_null(n.display_name);
	fetch_name_release(&n);

	parse_ok(&n, "anon_aB3dE_LATE_678903_ps1.ipynb", FETCH_LAYOUT_CANVAS, FETCH_LAYOUT_CANVAS,
		 "anon_aB3dE", "ps1.ipynb");
	assert_true(n.late);
	fetch_name_release(&n);

	parse_ok(&n, "o_brien_777_text.html", FETCH_LAYOUT_CANVAS, FETCH_LAYOUT_CANVAS, "777",
		 "text.html");
	assert_string_equal(n.display_name, "o_brien");
	fetch_name_release(&n);

	assert_int_equal(fetch_name_parse(&n, "readme.txt", FETCH_LAYOUT_CANVAS, NULL, "ps1"),
			 GR_ENOTFOUND);
	assert_int_equal(fetch_name_parse(&n, "smith_12_34_", FETCH_LAYOUT_CANVAS, NULL, "ps1"),
			 GR_ENOTFOUND);
	assert_int_equal(
	    fetch_name_parse(&n, "John Smith_12_34_a.py", FETCH_LAYOUT_CANVAS, NULL, "ps1"),
	    GR_ENOTFOUND);
}

static void test_fetch__moodle_names(void **state)
{
	struct fetch_name n;
	(void)state;

	parse_ok(&n, "John Smith_1234_assignsubmission_file_/sub/ps1.ipynb", FETCH_LAYOUT_AUTO,
		 FETCH_LAYOUT_MOODLE, "1234", "sub/ps1.ipynb");
	assert_string_equal(n.display_name, "John Smith");
	fetch_name_release(&n);
	parse_ok(&n, "John Smith_1234_assignsubmission_file_ps1.ipynb", FETCH_LAYOUT_MOODLE,
		 FETCH_LAYOUT_MOODLE, "1234", "ps1.ipynb");
	fetch_name_release(&n);
	parse_ok(&n, "Ann Lee_99_assignsubmission_onlinetext_onlinetext.html", FETCH_LAYOUT_AUTO,
		 FETCH_LAYOUT_MOODLE, "99", "onlinetext.html");
	fetch_name_release(&n);
	parse_ok(&n, "Participant_5_assignsubmission_file_/a.py", FETCH_LAYOUT_AUTO,
		 FETCH_LAYOUT_MOODLE, "5", "a.py");
	assert_string_equal(n.display_name, "Participant");
	fetch_name_release(&n);
	assert_int_equal(fetch_name_parse(&n, "John_x_assignsubmission_file_/a",
					  FETCH_LAYOUT_MOODLE, NULL, "ps1"),
			 GR_ENOTFOUND);
	assert_int_equal(fetch_name_parse(&n, "John Smith_12_assignsubmission_file_/",
					  FETCH_LAYOUT_MOODLE, NULL, "ps1"),
			 GR_ENOTFOUND);
}

static void test_fetch__blackboard_names(void **state)
{
	struct fetch_name n;
	char iso[32];
	(void)state;

	parse_ok(&n, "Homework 1_jdoe_attempt_2026-10-30-09-15-00_ps1.ipynb", FETCH_LAYOUT_AUTO,
		 FETCH_LAYOUT_BLACKBOARD, "jdoe", "ps1.ipynb");
	assert_true(n.has_time);
	gr_time_format(iso, sizeof(iso), n.time.sec, n.time.usec, GR_TIME_ISO);
	assert_string_equal(iso, "2026-10-30T09:15:00Z");
	assert_int_equal(n.kind, FETCH_NAME_FILE);
	assert_string_equal(n.display_name, "Homework 1_jdoe");
	fetch_name_release(&n);
	parse_ok(&n, "Homework 1_jdoe_attempt_2026-10-30-09-15-00.txt", FETCH_LAYOUT_BLACKBOARD,
		 FETCH_LAYOUT_BLACKBOARD, "jdoe", "");
	assert_int_equal(n.kind, FETCH_NAME_RECEIPT);
	fetch_name_release(&n);
	assert_int_equal(fetch_name_parse(&n, "HW_jdoe_attempt_2026-13-30-09-15-00_a.py",
					  FETCH_LAYOUT_BLACKBOARD, NULL, "ps1"),
			 GR_ENOTFOUND);
	assert_int_equal(fetch_name_parse(&n, "HW_jdoe_attempt_2026-10-30-09-15-00",
					  FETCH_LAYOUT_BLACKBOARD, NULL, "ps1"),
			 GR_ENOTFOUND);
}

static void test_fetch__nbgrader_names(void **state)
{
	struct fetch_name n;
	(void)state;

	parse_ok(&n, "submitted/alice/ps1/sub/a.ipynb", FETCH_LAYOUT_AUTO, FETCH_LAYOUT_NBGRADER,
		 "alice", "sub/a.ipynb");
	fetch_name_release(&n);
	parse_ok(&n, "bob/ps1/timestamp.txt", FETCH_LAYOUT_NBGRADER, FETCH_LAYOUT_NBGRADER, "bob",
		 "timestamp.txt");
	assert_int_equal(n.kind, FETCH_NAME_TIMESTAMP);
	fetch_name_release(&n);
	assert_int_equal(fetch_name_parse(&n, "ps1/a.ipynb", FETCH_LAYOUT_NBGRADER, NULL, "ps1"),
			 GR_ENOTFOUND);
	assert_int_equal(
	    fetch_name_parse(&n, "bob/ps2/a.ipynb", FETCH_LAYOUT_NBGRADER, NULL, "ps1"),
	    GR_ENOTFOUND);
}

static void test_fetch__regex_translation(void **state)
{
	char *out = NULL;
	struct gr_err err = {0};
	(void)state;

	assert_int_equal(fetch_regex_translate(&out, "(?P<student_id>\\w+)_(?:x|y)\\d+", &err), 0);
	assert_string_equal(out, "^(([[:alnum:]_]+)_(x|y)[0-9]+)");
	free(out);
	assert_int_equal(fetch_regex_translate(&out, "(?<a>[\\d_-]+)\\.(?<b>.*?)\\s", &err), 0);
	assert_string_equal(out, "^(([0-9_-]+)\\.(.*)[[:space:]])");
	free(out);
	/* parentheses inside brackets and escaped ones are not groups */
	assert_int_equal(fetch_regex_translate(&out, "[(]\\((?P<z>[]a])", &err), 0);
	assert_string_equal(out, "^([(]\\(([]a]))");
	free(out);
	assert_int_equal(fetch_regex_translate(&out, "(?=x)", &err), GR_EINVAL);
	assert_int_equal(fetch_regex_translate(&out, "(?P<1a>x)", &err), GR_EINVAL);
}

static void test_fetch__regex_groups_and_match(void **state)
{
	struct fetch_regex *re = NULL;
	struct fetch_name n;
	struct gr_err err = {0};
	char iso[32];
	(void)state;

	assert_int_equal(fetch_regex_new(&re,
					 "(x)(?P<student_id>[a-z]+)-(?:[0-9]+)-"
					 "(?P<timestamp>[0-9T:-]+Z)-(?P<file_id>.+)",
					 &err),
			 0);
	assert_int_equal(fetch_regex_group(re, "student_id"), 3);
	assert_int_equal(fetch_regex_group(re, "timestamp"), 5);
	assert_int_equal(fetch_regex_group(re, "file_id"), 6);
	assert_int_equal(fetch_regex_group(re, "nope"), 0);
	assert_int_equal(fetch_name_parse(&n, "xalice-42-2026-10-30T10:00:00Z-sub/a.py",
					  FETCH_LAYOUT_REGEX, re, "ps1"),
			 0);
	assert_string_equal(n.lms_id, "alice");
	assert_string_equal(n.path, "sub/a.py");
	assert_true(n.has_time);
	gr_time_format(iso, sizeof(iso), n.time.sec, n.time.usec, GR_TIME_ISO);
	assert_string_equal(iso, "2026-10-30T10:00:00Z");
	fetch_name_release(&n);
	/* anchored at the start like re.match */
	assert_int_equal(
	    fetch_name_parse(&n, "yxalice-1-2026-10-30T10:00:00Z-a", FETCH_LAYOUT_REGEX, re, "ps1"),
	    GR_ENOTFOUND);
	fetch_regex_free(re);
	re = NULL;

	assert_int_equal(fetch_regex_new(&re, "(?P<student_id>.+)", &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "file_id"));
	assert_int_equal(fetch_regex_new(&re, "(?P<student_id>a)(?P<student_id>b)", &err),
			 GR_EINVAL);
	assert_non_null(strstr(err.msg, "named twice"));
	assert_int_equal(fetch_regex_new(&re, "(?P<student_id>a)(?P<file_id>[b)", &err), GR_EINVAL);
	assert_null(re);
	fetch_regex_free(NULL);
}

static void expect_time(const char *in, const char *iso_want, int usec)
{
	struct gr_time t;
	struct gr_err err = {0};
	char iso[32];

	if (gr_time_parse(&t.sec, &t.usec, in, GR_TIME_LENIENT, &err))
		fail_msg("'%s': %s", in, err.msg);
	gr_time_format(iso, sizeof(iso), t.sec, t.usec, GR_TIME_ISO);
	assert_string_equal(iso, iso_want);
	assert_int_equal(t.usec, usec);
}

static void test_fetch__deadline_parsing(void **state)
{
	struct gr_time t;
	struct gr_err err = {0};
	char nb[40];
	(void)state;

	expect_time("2026-10-30T10:00:00Z", "2026-10-30T10:00:00Z", 0);
	expect_time("2026-10-30T10:00:00+02:00", "2026-10-30T08:00:00Z", 0);
	expect_time("2026-10-30T10:00:00-0530", "2026-10-30T15:30:00Z", 0);
	expect_time("2026-10-30T23:30-05", "2026-10-31T04:30:00Z", 0);
	expect_time("2026-10-30 10:00:00.250000 UTC", "2026-10-30T10:00:00Z", 250000);
	expect_time("2026-10-30T10:00:00.5", "2026-10-30T10:00:00Z", 500000);
	expect_time("2026-10-30", "2026-10-30T00:00:00Z", 0);
	expect_time("2026-10-30-09-15-00", "2026-10-30T09:15:00Z", 0);
	expect_time("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z", 0);
	expect_time("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z", 0);
	assert_int_equal(
	    gr_time_parse(&t.sec, &t.usec, "1970-01-01T00:00:01Z", GR_TIME_LENIENT, &err), 0);
	assert_int_equal(t.sec, 1);
	const char *bad[] = {"tomorrow",
			     "2026-13-01",
			     "2026-02-30",
			     "2025-02-29T00:00Z",
			     "2026-10-30T25:00",
			     "2026-10-30T10:00:00+25:00",
			     "2026-10-30T10",
			     "2026-10-30T10:00:00Zjunk",
			     ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gr_time_parse(&t.sec, &t.usec, bad[i], GR_TIME_LENIENT, &err) != GR_EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	}
	assert_non_null(strstr(err.msg, "invalid time"));
	t.sec = 1793354400;
	t.usec = 42;
	gr_time_format(nb, sizeof(nb), t.sec, t.usec, GR_TIME_NBGRADER);
	assert_string_equal(nb, "2026-10-30 10:00:00.000042 UTC");
}

static void test_fetch__path_checks(void **state)
{
	char why[128];
	(void)state;

	assert_int_equal(fetch_path_check("a/b/c.ipynb", why, sizeof(why)), 0);
	assert_int_equal(fetch_path_check("caf\xc3\xa9.txt", why, sizeof(why)), 0);
	assert_int_equal(fetch_path_check(".gitignore", why, sizeof(why)), 0);
	const struct {
		const char *path, *why;
	} bad[] = {
	    {"../x", "'..' escapes"},
	    {"a/../../x", "'..' escapes"},
	    {"/etc/passwd", "absolute"},
	    {"a//b", "empty path component"},
	    {"a/./b", "'.'"},
	    {".git/config", "'.git'"},
	    {"a/.GIT/x", "'.git'"},
	    {"caf\xe9", "not valid UTF-8"},
	    {"\xc0\xaf", "not valid UTF-8"},
	    {"a\nb", "control character"},
	    {"a\\..\\b", "backslash"},
	    {"", "empty name"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fetch_path_check(bad[i].path, why, sizeof(why)), GR_EDENIED);
		if (!strstr(why, bad[i].why))
			fail_msg("'%s': reason '%s' lacks '%s'", bad[i].path, why, bad[i].why);
	}
	assert_true(fetch_name_is_safe("alice.b-1@x"));
	assert_false(fetch_name_is_safe(".hidden"));
	assert_false(fetch_name_is_safe("a/b"));
	assert_false(fetch_name_is_safe(".."));
	assert_false(fetch_name_is_safe(""));
}

static void test_fetch__manifest_quoting(void **state)
{
	struct fetch_file files[] = {{.path = "a,b \"c\".py", .size = 3, .origin = "x"},
				     {.path = "=cmd()", .size = 1, .origin = "y"}};
	struct fetch_skip skips[] = {{.path = "pw", .reason = "symlink to '/etc/passwd'"}};
	struct fetch_result ok = {.student_id = "alice",
				  .nfiles = 2,
				  .files = files,
				  .nskips = 1,
				  .skips = skips,
				  .late = 1,
				  .has_time = 1,
				  .time = {.sec = 1793354400}};
	struct fetch_result bad = {.student_id = "bob", .failed = 1, .error = "no branch 'main'"};
	struct fetch_result unknown = {
	    .student_id = "carol", .nfiles = 1, .files = files + 1, .late = 1}; /* Canvas */
	struct fetch_skip lost[] = {
	    {.path = "d.zip!#3", .reason = "name cannot be read", .unreadable = 1},
	    {.path = "d.zip!README.txt", .reason = "name matches no known layout"}};
	struct fetch_result nobody = {.student_id = "", .nskips = 2, .skips = lost};
	struct fetch_result *list[] = {&ok, &bad, &unknown};
	struct fetch_report rep = {.count = 3, .results = list, .orphans = &nobody};
	char path[] = "/tmp/test_fetch.XXXXXX", *text = NULL;
	struct gr_err err = {0};
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	strcpy(files[0].sha256, "aa");
	strcpy(files[1].sha256, "bb");
	assert_int_equal(fetch_manifest_write(&rep, "ps1", path, &err), 0);
	assert_int_equal(gr_read_file(&text, NULL, path, 0, &err), 0);
	assert_string_equal(text,
			    "student_id,assignment,status,late,timestamp,file,size,sha256,note\r\n"
			    "alice,ps1,ok,yes,2026-10-30T10:00:00Z,\"a,b \"\"c\"\".py\",3,aa,\r\n"
			    "alice,ps1,ok,yes,2026-10-30T10:00:00Z,'=cmd(),1,bb,\r\n"
			    "alice,ps1,skipped,yes,2026-10-30T10:00:00Z,pw,,,symlink to "
			    "'/etc/passwd'\r\n"
			    "bob,ps1,failed,,,,,,no branch 'main'\r\n"
			    "carol,ps1,ok,yes,,'=cmd(),1,bb,\r\n"
			    ",ps1,failed,,,d.zip!#3,,,name cannot be read\r\n"
			    ",ps1,skipped,,,d.zip!README.txt,,,name matches no known layout\r\n");
	free(text);
	unlink(path);
}

static void test_fetch__layout_names(void **state)
{
	(void)state;
	assert_string_equal(fetch_layout_name(FETCH_LAYOUT_CANVAS), "canvas");
	assert_string_equal(fetch_layout_name(FETCH_LAYOUT_REGEX), "regex");
	assert_null(fetch_layout_name((enum fetch_layout)99));
}

/* Random names (fixed seed) must parse or be refused, never crash. */
static void test_fetch__random_names_do_not_crash(void **state)
{
	static const char alphabet[] = "ab_Z09-./ LATEanon_assignsubmission_attempt_2026-10-30";
	struct fetch_regex *re = NULL;
	struct gr_err err = {0};
	uint32_t x = 12345;
	char name[64], why[128];
	(void)state;

	assert_int_equal(fetch_regex_new(&re, "(?P<student_id>[a-z]+)_(?P<file_id>.*)", &err), 0);
	for (int i = 0; i < 20000; i++) {
		size_t n = 0, len;
		x = x * 1103515245u + 12345u;
		len = (x >> 16) % (sizeof(name) - 1);
		for (; n < len; n++) {
			x = x * 1103515245u + 12345u;
			name[n] = (x >> 24) % 7 == 0 ? (char)(x >> 8)
						     : alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		name[n] = '\0';
		for (int l = FETCH_LAYOUT_AUTO; l <= FETCH_LAYOUT_REGEX; l++) {
			struct fetch_name fn;
			if (fetch_name_parse(&fn, name, (enum fetch_layout)l, re, "ps1") == 0) {
				assert_non_null(fn.lms_id);
				assert_non_null(fn.path);
				fetch_name_release(&fn);
			}
		}
		(void)fetch_path_check(name, why, sizeof(why));
	}
	fetch_regex_free(re);
}

/* Provenance is read back through fetch, whatever else the file holds. */
static void test_fetch__origin_read(void **state)
{
	char dir[] = "/tmp/test-fetch-origin.XXXXXX", *path;
	struct fetch_origin o = {0};
	struct gr_err err = {0};
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(fetch_origin_read(&o, dir, &err), GR_ENOTFOUND);
	assert_null(o.kind);
	path = gr_path_join(dir, FETCH_PROVENANCE_NAME);
	f = fopen(path, "w");
	fputs("{\"source\": 3}", f);
	fclose(f);
	assert_int_equal(fetch_origin_read(&o, dir, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "not a provenance file"));
	f = fopen(path, "w");
	fputs("{\"source\": {\"kind\": \"git\", \"url\": \"https://h/r.git\", "
	      "\"commit\": \"abc\"}, \"files\": []}",
	      f);
	fclose(f);
	assert_int_equal(fetch_origin_read(&o, dir, &err), 0);
	assert_string_equal(o.kind, "git");
	assert_string_equal(o.location, "https://h/r.git");
	assert_string_equal(o.commit, "abc");
	fetch_origin_release(&o);
	f = fopen(path, "w");
	fputs("{\"source\": {\"kind\": \"archive\", \"archive\": \"c.zip\"}}", f);
	fclose(f);
	assert_int_equal(fetch_origin_read(&o, dir, &err), 0);
	assert_string_equal(o.location, "c.zip");
	assert_null(o.commit);
	fetch_origin_release(&o);
	fetch_origin_release(NULL);
	unlink(path);
	free(path);
	assert_int_equal(rmdir(dir), 0);
}

/* A commit of one file ps1.ipynb holding `text` on `ref` (NULL: on no ref), after `parent`. */
static void make_commit(git_oid *out, git_repository *repo, const char *ref, const char *text,
			const git_oid *parent)
{
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_commit *p = NULL;
	git_tree *tree = NULL;
	git_oid blob, tid;

	assert_int_equal(git_blob_create_from_buffer(&blob, repo, text, strlen(text)), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "ps1.ipynb", &blob, GIT_FILEMODE_BLOB),
			 0);
	assert_int_equal(git_treebuilder_write(&tid, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tid), 0);
	assert_int_equal(git_signature_new(&sig, "t", "t@example.org", 1800000000, 0), 0);
	if (parent)
		assert_int_equal(git_commit_lookup(&p, repo, parent), 0);
	assert_int_equal(
	    git_commit_create_v(out, repo, ref, sig, sig, NULL, text, tree, p ? 1 : 0, p), 0);
	git_commit_free(p);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
}

/* Fetch commit `hex` of `repo` as the service does (it must be the tip); *text: the notebook. */
static struct fetch_report *fetch_tip(const char *dir, const char *repo, const char *hex,
				      char **text)
{
	struct roster_student st = {0};
	struct roster ro = {.path = "test", .count = 1, .students = &st};
	struct fetch_report *rep = NULL;
	struct fetch_opts o;
	struct gr_err err = {0};
	char empty[1] = "", *dest = NULL, *nb = NULL, id[] = "alice", repo_copy[512],
	     branch[] = "main";
	size_t len = 0;

	snprintf(repo_copy, sizeof(repo_copy), "%s", repo);
	st.student_id = id;
	st.repo = repo_copy;
	st.branch = branch;
	st.first_name = st.last_name = st.email = st.lms_id = empty;
	assert_true(asprintf(&dest, "%s/out", dir) > 0);
	fetch_opts_init(&o);
	o.dest = dest;
	o.assignment = "ps1";
	o.roster = &ro;
	o.commit = hex;
	o.commit_is_tip = true;
	o.branch = "main";
	assert_int_equal(fetch_git_run(&rep, &o, &err), 0);
	assert_int_equal(rep->count, 1);
	*text = NULL;
	assert_true(asprintf(&nb, "%s/alice/ps1/ps1.ipynb", dest) > 0);
	if (!rep->results[0]->failed)
		assert_int_equal(gr_read_file(text, &len, nb, 1 << 20, &err), 0);
	free(nb);
	free(dest);
	return rep;
}

/*
 * The branch-tip rule of `grader serve` (commit_is_tip): the tip is
 * fetched; a commit the branch moved past fails with moved_on and one line
 * naming the tip; a commit not on the branch is refused, not moved_on.
 */
static void test_fetch__commit_is_tip(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512], repo_path[600], hex[3][GIT_OID_HEXSZ + 1], want[200], *text = NULL;
	git_repository *repo = NULL;
	struct fetch_report *rep;
	git_oid c[3];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_fetch.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(repo_path, sizeof(repo_path), "%s/alice.git", dir);
	git_libgit2_init();
	assert_int_equal(git_repository_init(&repo, repo_path, 1), 0);
	make_commit(&c[0], repo, "refs/heads/main", "old", NULL);
	make_commit(&c[1], repo, "refs/heads/main", "tip", &c[0]);
	/* on another branch: fetched into the cache, but not on main */
	make_commit(&c[2], repo, "refs/heads/other", "elsewhere", &c[0]);
	for (int i = 0; i < 3; i++)
		git_oid_tostr(hex[i], sizeof(hex[i]), &c[i]);
	git_repository_free(repo);

	rep = fetch_tip(dir, repo_path, hex[1], &text);
	assert_false(rep->results[0]->failed);
	assert_false(rep->results[0]->moved_on);
	assert_string_equal(text, "tip");
	free(text);
	fetch_report_free(rep);

	rep = fetch_tip(dir, repo_path, hex[0], &text);
	assert_true(rep->results[0]->failed);
	assert_true(rep->results[0]->moved_on);
	snprintf(want, sizeof(want), "commit %.12s is no longer the tip of 'main' (%.12s is)",
		 hex[0], hex[1]);
	assert_string_equal(rep->results[0]->error, want);
	assert_null(strchr(rep->results[0]->error, '\n'));
	fetch_report_free(rep);

	rep = fetch_tip(dir, repo_path, hex[2], &text);
	assert_true(rep->results[0]->failed);
	assert_false(rep->results[0]->moved_on);
	snprintf(want, sizeof(want), "commit %.12s is not on 'main'", hex[2]);
	assert_string_equal(rep->results[0]->error, want);
	fetch_report_free(rep);

	/* what the refused ones left: the tip's folder, as fetched first */
	{
		char *nb = NULL;
		size_t len = 0;
		struct gr_err err = {0};

		assert_true(asprintf(&nb, "%s/out/alice/ps1/ps1.ipynb", dir) > 0);
		assert_int_equal(gr_read_file(&text, &len, nb, 1 << 20, &err), 0);
		assert_string_equal(text, "tip");
		free(text);
		free(nb);
	}
	git_libgit2_shutdown();
	assert_int_equal(gr_rm_rf(dir, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fetch__canvas_names),
	    cmocka_unit_test(test_fetch__moodle_names),
	    cmocka_unit_test(test_fetch__blackboard_names),
	    cmocka_unit_test(test_fetch__nbgrader_names),
	    cmocka_unit_test(test_fetch__regex_translation),
	    cmocka_unit_test(test_fetch__regex_groups_and_match),
	    cmocka_unit_test(test_fetch__deadline_parsing),
	    cmocka_unit_test(test_fetch__path_checks),
	    cmocka_unit_test(test_fetch__manifest_quoting),
	    cmocka_unit_test(test_fetch__layout_names),
	    cmocka_unit_test(test_fetch__random_names_do_not_crash),
	    cmocka_unit_test(test_fetch__origin_read),
	    cmocka_unit_test(test_fetch__commit_is_tip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
