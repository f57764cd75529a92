/* test_util_copy.c - unit tests for gr_copy_tree, the one folder copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grader/util.h"

struct trees {
	char from[32], to[32];
};

static int setup(void **state)
{
	struct trees *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->from, "/tmp/test_copy_from.XXXXXX");
	strcpy(t->to, "/tmp/test_copy_to.XXXXXX");
	if (!mkdtemp(t->from) || !mkdtemp(t->to)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct trees *t = *state;

	gr_rm_rf(t->from, NULL);
	gr_rm_rf(t->to, NULL);
	free(t);
	return 0;
}

/* root/rel with `len` bytes of text, mode `mode` (the folders on the way made). */
static void put(const char *root, const char *rel, size_t len, mode_t mode)
{
	char path[512], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static bool there(const char *root, const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return lstat(path, &st) == 0;
}

static mode_t mode_of(const char *root, const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* `grader nb run`'s rules: nothing hidden, two folder levels, exec bits kept, errors ignored. */
static void test_util__copy_tree_box_rules(void **state)
{
	struct trees *t = *state;
	const struct gr_copy_opts o = {
	    .max_depth = 2, .skip_hidden = true, .keep_exec = true, .best_effort = true};
	struct gr_copy_stats st;
	char path[512];

	put(t->from, "a.txt", 3, 0600);
	put(t->from, "run.sh", 2, 0755);
	put(t->from, ".secret", 1, 0644);
	put(t->from, ".git/config", 1, 0644);
	put(t->from, "sub/b.txt", 4, 0644);
	put(t->from, "sub/deeper/c.txt", 5, 0644);
	put(t->from, "sub/deeper/deepest/d.txt", 6, 0644);
	snprintf(path, sizeof(path), "%s/link", t->from);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", t->from);
	assert_int_equal(mkfifo(path, 0644), 0);
	/* already in the box: that one file fails, the rest is still copied */
	put(t->from, "taken.txt", 7, 0644);
	put(t->to, "taken.txt", 1, 0644);

	assert_int_equal(gr_copy_tree(t->from, t->to, &o, &st, NULL), 0);
	assert_true(there(t->to, "a.txt"));
	assert_int_equal(mode_of(t->to, "a.txt"), 0644);
	assert_int_equal(mode_of(t->to, "run.sh"), 0755);
	assert_true(there(t->to, "sub/deeper/c.txt"));
	assert_false(there(t->to, "sub/deeper/deepest"));
	assert_false(there(t->to, ".secret"));
	assert_false(there(t->to, ".git"));
	assert_false(there(t->to, "link"));
	assert_false(there(t->to, "fifo"));
	assert_int_equal(st.files, 4);
	assert_int_equal(st.bytes, 3 + 2 + 4 + 5);
	assert_false(st.capped);
}

/* Past a cap files are left out, and said to be; a smaller later one may still fit. */
static void test_util__copy_tree_caps(void **state)
{
	struct trees *t = *state;
	struct gr_copy_opts o = {.max_depth = 1, .max_files = 3, .best_effort = true};
	struct gr_copy_stats st;
	char to2[] = "/tmp/test_copy_to2.XXXXXX";

	for (int i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		put(t->from, name, 10, 0644);
	}
	assert_int_equal(gr_copy_tree(t->from, t->to, &o, &st, NULL), 0);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.bytes, 30);
	assert_true(st.capped);

	o.max_files = 0;
	o.max_bytes = 25;
	assert_non_null(mkdtemp(to2));
	assert_int_equal(gr_copy_tree(t->from, to2, &o, &st, NULL), 0);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.bytes, 20);
	assert_true(st.capped);
	gr_rm_rf(to2, NULL);
}

/* A graded submission's rules: hidden files too, but not the grader's notes; errors fail. */
static void test_util__copy_tree_strict(void **state)
{
	struct trees *t = *state;
	const struct gr_copy_opts o = {.max_depth = 32, .skip_prefix = ".grader-"};
	struct gr_err err = {0};
	struct gr_copy_stats st;

	put(t->from, ".config/x", 1, 0644);
	put(t->from, ".grader-timestamp", 1, 0644);
	put(t->from, "sub/.grader-kept", 1, 0755);
	assert_int_equal(gr_copy_tree(t->from, t->to, &o, &st, &err), 0);
	assert_true(there(t->to, ".config/x"));
	assert_false(there(t->to, ".grader-timestamp"));
	/* only `from`'s own entries are the grader's; modes are 0644 */
	assert_int_equal(mode_of(t->to, "sub/.grader-kept"), 0644);
	assert_int_equal(st.files, 2);

	/* the same again: every file is already there */
	assert_int_equal(gr_copy_tree(t->from, t->to, &o, NULL, &err), GR_EIO);
	assert_non_null(strstr(err.msg, "cannot create '"));
}

static void test_util__copy_tree_too_deep(void **state)
{
	struct trees *t = *state;
	const struct gr_copy_opts o = {.max_depth = 32};
	struct gr_err err = {0};
	char rel[256] = "", want[128];

	for (int i = 0; i < 32; i++)
		strcat(rel, "d/");
	strcat(rel, "f");
	put(t->from, rel, 1, 0644);
	/* 32 folders below `from`: copied */
	assert_int_equal(gr_copy_tree(t->from, t->to, &o, NULL, &err), 0);
	assert_true(there(t->to, rel));
	gr_rm_rf(t->to, NULL);
	assert_int_equal(mkdir(t->to, 0700), 0);
	/* 33: refused, naming the folder copied from */
	memmove(rel + 2, rel, strlen(rel) + 1);
	memcpy(rel, "e/", 2);
	put(t->from, rel, 1, 0644);
	assert_int_equal(gr_copy_tree(t->from, t->to, &o, NULL, &err), GR_ELIMIT);
	snprintf(want, sizeof(want), "'%s': folders nested too deep", t->from);
	assert_string_equal(err.msg, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_util__copy_tree_box_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_util__copy_tree_caps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_util__copy_tree_strict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_util__copy_tree_too_deep, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
