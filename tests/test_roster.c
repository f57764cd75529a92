/* test_roster.c - unit tests for the roster CSV reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grader/roster.h"

static struct roster *parse_ok(const char *text)
{
	struct roster *r = NULL;
	struct gr_err err = {0};

	assert_int_equal(roster_parse(&r, text, strlen(text), "r.csv", &err), 0);
	assert_non_null(r);
	return r;
}

static void test_roster__all_columns_any_order(void **state)
{
	struct roster *r = parse_ok("email,Student_ID,last_name,first_name,repo,branch,lms_id,x\n"
				    "a@x,alice,A,Al,https://h/a.git,dev,101,ignored\n"
				    "b@x,bob,B,Bo,repos/bob,,102,\n");
	(void)state;
	assert_int_equal(r->count, 2);
	assert_string_equal(r->students[0].student_id, "alice");
	assert_string_equal(r->students[0].repo, "https://h/a.git");
	assert_string_equal(r->students[0].first_name, "Al");
	assert_string_equal(r->students[0].last_name, "A");
	assert_string_equal(r->students[0].email, "a@x");
	assert_string_equal(r->students[0].branch, "dev");
	assert_string_equal(r->students[0].lms_id, "101");
	assert_string_equal(r->students[1].branch, "");
	assert_int_equal(r->students[1].line, 3);
	assert_true(roster_has(r, ROSTER_REPO));
	assert_true(roster_has(r, ROSTER_LMS_ID));
	assert_ptr_equal(roster_find(r, "bob"), &r->students[1]);
	assert_ptr_equal(roster_find_lms(r, "101"), &r->students[0]);
	assert_null(roster_find(r, "carol"));
	assert_null(roster_find_lms(r, ""));
	assert_ptr_equal(roster_find_email(r, "B@X"), &r->students[1]);
	assert_null(roster_find_email(r, "bob"));
	roster_free(r);
	/* two rows with one address: neither */
	r = parse_ok("student_id,email\na,same@x\nb,Same@X\nc,\n");
	assert_null(roster_find_email(r, "same@x"));
	assert_null(roster_find_email(r, ""));
	roster_free(r);
}

static void test_roster__quotes_bom_crlf(void **state)
{
	const char text[] = "\xEF\xBB\xBFstudent_id,first_name,last_name\r\n"
			    "\"o'neil\",\"Mary, Jo\",\"says \"\"hi\"\"\"\r\n"
			    "\r\n"
			    "x2,\"two\nlines\",Z\r\n"
			    "x3,Three";
	struct roster *r = parse_ok(text);
	(void)state;
	assert_int_equal(r->count, 3);
	assert_string_equal(r->students[0].student_id, "o'neil");
	assert_string_equal(r->students[0].first_name, "Mary, Jo");
	assert_string_equal(r->students[0].last_name, "says \"hi\"");
	assert_string_equal(r->students[1].first_name, "two\nlines");
	assert_int_equal(r->students[1].line, 4);
	assert_int_equal(r->students[2].line, 6);
	/* a short row: missing trailing fields are empty */
	assert_string_equal(r->students[2].last_name, "");
	assert_false(roster_has(r, ROSTER_REPO));
	assert_string_equal(r->students[2].repo, "");
	roster_free(r);
}

static void expect_error(const char *text, const char *needle)
{
	struct roster *r = NULL;
	struct gr_err err = {0};

	assert_int_equal(roster_parse(&r, text, strlen(text), "bad.csv", &err), GR_EINVAL);
	assert_null(r);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
	assert_non_null(strstr(err.msg, "bad.csv"));
}

static void test_roster__errors(void **state)
{
	(void)state;
	expect_error("name,repo\nalice,x\n", "no 'student_id' column");
	/* spreadsheets: Excel's ';' in locales with a decimal comma, tabs, a spaced name */
	expect_error("student_id;first_name\r\nalice;Alice\r\n",
		     "no 'student_id' column (its header is separated by ';', not commas: save it "
		     "as comma-separated CSV)");
	expect_error("student_id\tfirst_name\nalice\tAlice\n", "separated by tabs");
	expect_error("Student ID,Name\nalice,Alice\n",
		     "no 'student_id' column (rename its column 'Student ID' to student_id)");
	expect_error("", "empty file");
	expect_error("student_id\n\"alice\n", "unterminated quoted field");
	expect_error("student_id\n\"alice\"x\n", "text after a closing quote");
	expect_error("student_id,repo\nalice,a,extra\n", "line 2: 3 fields, header has 2");
	expect_error("student_id,repo\n,a\n", "line 2: empty student_id");
	expect_error("student_id\nalice\nbob\nalice\n",
		     "line 4: student 'alice' already on line 2");
	expect_error("student_id,STUDENT_ID\na,b\n", "appears twice");
	expect_error("student_id,lms_id\na,101\nb,102\nc,101\n",
		     "line 4: lms_id '101' already on line 2 (student 'a')");
	expect_error("student_id,first_name\na,Chlo\xe9\n",
		     "line 2: column 'first_name' is not UTF-8");
}

/* Names of every script match the LMS's spelling of them. */
static void test_roster__find_name_unicode(void **state)
{
	/* Chloé written decomposed (e + U+0301), as a roster saved on macOS */
	struct roster *r = parse_ok("student_id,first_name,last_name\n"
				    "cs,Chloe\xcc\x81,Smith\nag,Ana,Garc\xc3\xad"
				    "a\nwm,\xe6\x98\x8e,\xe7\x8e\x8b\n"
				    "fa,\xd9\x81\xd8\xa7\xd8\xb7\xd9\x85\xd8\xa9,"
				    "\xd8\xb9\xd9\x84\xd9\x8a\nmj,Mary_Jo,Kent\n");
	(void)state;
	assert_string_equal(r->students[0].first_name, "Chlo\xc3\xa9"); /* stored NFC */
	assert_ptr_equal(roster_find_name(r, "Chlo\xc3\xa9 Smith"), &r->students[0]);
	assert_ptr_equal(roster_find_name(r, "smithchlo\xc3\xa9"), &r->students[0]);
	assert_ptr_equal(roster_find_name(r, "ANA GARC\xc3\x8d"
					     "A"),
			 &r->students[1]);
	assert_ptr_equal(roster_find_name(r, "garc\xc3\xad"
					     "aana"),
			 &r->students[1]);
	assert_null(roster_find_name(r, "Ana Garcia")); /* an accent is a letter */
	/* CJK family name first, as Moodle shows it */
	assert_ptr_equal(roster_find_name(r, "\xe7\x8e\x8b \xe6\x98\x8e"), &r->students[2]);
	/* Arabic, with a right-to-left mark the LMS left in */
	assert_ptr_equal(roster_find_name(r, "\xe2\x80\x8f\xd9\x81\xd8\xa7\xd8\xb7\xd9"
					     "\x85\xd8\xa9 \xd8\xb9\xd9\x84\xd9\x8a"),
			 &r->students[3]);
	/* Moodle writes "Mary Jo" for a "Mary_Jo" in its user table */
	assert_ptr_equal(roster_find_name(r, "Mary Jo Kent"), &r->students[4]);
	assert_null(roster_find_name(r, "\xff"));
	roster_free(r);
}

static void test_roster__find_name(void **state)
{
	struct roster *r = parse_ok("student_id,first_name,last_name\n"
				    "js,John,Smith\njd,Jane,Doe\nj2,Jane,Doe-Ray\n");
	(void)state;
	assert_ptr_equal(roster_find_name(r, "John Smith"), &r->students[0]);
	assert_ptr_equal(roster_find_name(r, "smithjohn"), &r->students[0]);
	assert_ptr_equal(roster_find_name(r, "Smith, John"), &r->students[0]);
	assert_ptr_equal(roster_find_name(r, "doerayjane"), &r->students[2]);
	assert_null(roster_find_name(r, "Nobody"));
	assert_null(roster_find_name(r, ""));
	roster_free(r);
}

/* Two students with one name: neither is found, and both are counted. */
static void test_roster__name_matches_same_name(void **state)
{
	struct roster *r = parse_ok("student_id,first_name,last_name\n"
				    "w1,Wei,Zhang\nmj,Mary-Jo,O'Neil\nw2,Wei,Zhang\n");
	const struct roster_student *m[2] = {NULL, NULL};
	(void)state;
	assert_null(roster_find_name(r, "Wei Zhang"));
	assert_int_equal(roster_name_matches(r, "zhangwei", m, 2), 2);
	assert_ptr_equal(m[0], &r->students[0]);
	assert_ptr_equal(m[1], &r->students[2]);
	assert_int_equal(roster_name_matches(r, "Wei Zhang", NULL, 0), 2);
	/* hyphen and apostrophe (typed or typographic) are not letters */
	assert_int_equal(roster_name_matches(r, "Mary-Jo O\xe2\x80\x99Neil", m, 1), 1);
	assert_ptr_equal(m[0], &r->students[1]);
	assert_ptr_equal(roster_find_name(r, "oneilmaryjo"), &r->students[1]);
	assert_int_equal(roster_name_matches(r, "Nobody", m, 2), 0);
	roster_free(r);
}

static void test_roster__load_file(void **state)
{
	char path[] = "/tmp/test_roster.XXXXXX";
	struct roster *r = NULL;
	struct gr_err err = {0};
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "student_id\na\n", 13), 13);
	close(fd);
	assert_int_equal(roster_load(&r, path, &err), 0);
	assert_string_equal(r->path, path);
	assert_int_equal(r->count, 1);
	roster_free(r);
	unlink(path);
	assert_int_equal(roster_load(&r, path, &err), GR_ENOTFOUND);
	roster_free(NULL);
}

/* Random CSV (fixed seed) parses or fails with a message, never crashes. */
static void test_roster__random_input_does_not_crash(void **state)
{
	static const char alphabet[] = "student_id,repo\"\r\n ,a\xEF\xBB\xBF";
	uint32_t x = 777;
	char text[96];
	(void)state;

	for (int i = 0; i < 20000; i++) {
		struct roster *r = NULL;
		struct gr_err err = {0};
		size_t n = 0, len;
		x = x * 1103515245u + 12345u;
		len = (x >> 16) % sizeof(text);
		if (i % 2)
			n = (size_t)snprintf(text, sizeof(text), "student_id,repo\n");
		for (; n < len; n++) {
			x = x * 1103515245u + 12345u;
			text[n] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		if (roster_parse(&r, text, n, "fuzz.csv", &err) == 0) {
			for (size_t k = 0; k < r->count; k++)
				assert_true(r->students[k].student_id[0] != '\0');
			roster_free(r);
		} else {
			assert_null(r);
			assert_non_null(strstr(err.msg, "fuzz.csv"));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roster__all_columns_any_order),
	    cmocka_unit_test(test_roster__quotes_bom_crlf),
	    cmocka_unit_test(test_roster__errors),
	    cmocka_unit_test(test_roster__find_name),
	    cmocka_unit_test(test_roster__find_name_unicode),
	    cmocka_unit_test(test_roster__name_matches_same_name),
	    cmocka_unit_test(test_roster__load_file),
	    cmocka_unit_test(test_roster__random_input_does_not_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
