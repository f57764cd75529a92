/* test_util.c - unit tests for the shared error and file helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grader/util.h"
#include "test_skip.h"

static void test_util__err_formats_message(void **state)
{
	struct gr_err err = {0};
	(void)state;
	assert_int_equal(gr_err_set(&err, GR_EINVAL, "cannot open '%s': %s", "a.ipynb", "bad"),
			 GR_EINVAL);
	assert_string_equal(err.msg, "cannot open 'a.ipynb': bad");
	assert_int_equal(gr_err_set(NULL, GR_EIO, "x"), GR_EIO);
}

static void test_util__write_read_roundtrip(void **state)
{
	char dir[] = "/tmp/test_util.XXXXXX";
	char *path, *sub, *data = NULL;
	size_t len = 0;
	struct gr_err err = {0};
	(void)state;

	assert_non_null(mkdtemp(dir));
	sub = gr_path_join(dir, "a/b/c");
	assert_int_equal(gr_mkdir_p(sub, 0755, &err), 0);
	path = gr_path_join(sub, "f.txt");
	assert_int_equal(gr_write_file_atomic(path, "hello", 5, &err), 0);
	assert_int_equal(gr_read_file(&data, &len, path, 0, &err), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	assert_int_equal(gr_read_file(&data, &len, path, 3, &err), GR_ELIMIT);
	assert_int_equal(gr_rm_rf(dir, &err), 0);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(gr_read_file(&data, &len, path, 0, &err), GR_ENOTFOUND);
	assert_non_null(strstr(err.msg, "f.txt"));
	free(path);
	free(sub);
}

static void test_util__atomic_write_keeps_devices(void **state)
{
	struct stat st;
	struct gr_err err = {0};
	(void)state;

	/* renaming over /dev/null would replace the device for the whole machine */
	assert_int_equal(gr_write_file_atomic("/dev/null", "x", 1, &err), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

static void test_util__digests(void **state)
{
	char sha[65], md5[33];
	(void)state;
	gr_sha256_hex(sha, "abc", 3);
	assert_string_equal(sha,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	gr_md5_hex(md5, "abc", 3);
	assert_string_equal(md5, "900150983cd24fb0d6963f7d28e17f72");
}

static void test_util__split_list(void **state)
{
	char **v = NULL;
	(void)state;

	assert_int_equal(gr_split_list(&v, "numpy,,matplotlib.pyplot,"), 0);
	assert_string_equal(v[0], "numpy");
	assert_string_equal(v[1], "matplotlib.pyplot");
	assert_null(v[2]);
	free(v);
	assert_int_equal(gr_split_list(&v, ""), 0);
	assert_null(v[0]);
	free(v);
}

static void test_util__path_join(void **state)
{
	char *p;
	(void)state;
	p = gr_path_join("a/", "b");
	assert_string_equal(p, "a/b");
	free(p);
	p = gr_path_join("a", "b");
	assert_string_equal(p, "a/b");
	free(p);
}

static void test_util__write_all_read_full(void **state)
{
	char dir[] = "/tmp/test_util.XXXXXX", *path, *big, *back;
	const size_t n = 300000; /* several read(2)/write(2) calls on a pipe */
	int fds[2], fd;
	pid_t pid;
	(void)state;

	big = malloc(n);
	back = malloc(n + 10);
	assert_non_null(big);
	assert_non_null(back);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(i * 7 + i / 251);
	/* a pipe larger than its buffer: the writer is a child, the reader loops */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(gr_write_all(fds[1], big, n) == 0 ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(gr_read_full(fds[0], back, n + 10), (ssize_t)n); /* short only at EOF */
	assert_memory_equal(back, big, n);
	assert_int_equal(gr_read_full(fds[0], back, 10), 0); /* EOF: 0 at once */
	close(fds[0]);
	assert_int_equal(waitpid(pid, &fd, 0), pid);
	assert_true(WIFEXITED(fd) && WEXITSTATUS(fd) == 0);
	/* a file: a torn frame reads as fewer bytes */
	assert_non_null(mkdtemp(dir));
	path = gr_path_join(dir, "f");
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(gr_write_all(fd, "abcde", 5), 0);
	assert_int_equal(gr_write_all(fd, "", 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(gr_read_full(fd, back, 4), 4);
	assert_int_equal(gr_read_full(fd, back, 4), 1);
	assert_int_equal(back[0], 'e');
	close(fd);
	/* errors keep errno */
	assert_int_equal(gr_write_all(-1, "x", 1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(gr_read_full(-1, back, 1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(gr_rm_rf(dir, NULL), 0);
	free(path);
	free(big);
	free(back);
}

static void test_util__copy_file_no_links(void **state)
{
	char dir[] = "/tmp/test_util.XXXXXX", *src, *dst, *lnk, *fifo, *data = NULL;
	struct gr_err err = {0};
	struct stat st;
	size_t len = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	src = gr_path_join(dir, "src");
	dst = gr_path_join(dir, "dst");
	lnk = gr_path_join(dir, "lnk");
	fifo = gr_path_join(dir, "fifo");
	assert_int_equal(gr_write_file_atomic(src, "data\n\0x", 7, &err), 0);
	assert_int_equal(gr_copy_file(src, dst, 0750, &err), 0);
	assert_int_equal(gr_read_file(&data, &len, dst, 0, &err), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(data, "data\n\0x", 7);
	free(data);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 0700, 0700);
	/* an existing target is not overwritten */
	assert_int_equal(gr_copy_file(src, dst, 0644, &err), GR_EIO);
	assert_non_null(strstr(err.msg, "cannot create"));
	/* a symlink is followed at neither end */
	assert_int_equal(symlink(src, lnk), 0);
	assert_int_equal(gr_copy_file(lnk, dst, 0644, &err), GR_EIO);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_int_equal(unlink(dst), 0);
	assert_int_equal(unlink(lnk), 0);
	assert_int_equal(symlink(dst, lnk), 0);
	assert_int_equal(gr_copy_file(src, lnk, 0644, &err), GR_EIO);
	assert_int_equal(access(dst, F_OK), -1);
	/* a FIFO or folder is refused without blocking */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(gr_copy_file(fifo, dst, 0644, &err), GR_EIO);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(gr_copy_file(dir, dst, 0644, &err), GR_EIO);
	assert_int_equal(access(dst, F_OK), -1);
	assert_int_equal(gr_copy_file("/nonexistent/x", dst, 0644, NULL), GR_EIO);
	assert_int_equal(gr_rm_rf(dir, NULL), 0);
	free(src);
	free(dst);
	free(lnk);
	free(fifo);
}

static void test_util__buf_put(void **state)
{
	struct gr_buf b = {0};
	char chunk[1000];
	(void)state;

	assert_int_equal(gr_buf_put(&b, "", 0), 0); /* empty still allocates "" */
	assert_non_null(b.p);
	assert_string_equal(b.p, "");
	assert_int_equal(b.len, 0);
	memset(chunk, 'a', sizeof(chunk));
	for (int i = 0; i < 100; i++)
		assert_int_equal(gr_buf_put(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(gr_buf_put(&b, "z\0y", 3), 0); /* bytes, NULs included */
	assert_int_equal(b.len, 100003);
	assert_true(b.cap > b.len);
	assert_int_equal(b.p[99999], 'a');
	assert_memory_equal(b.p + 100000, "z\0y", 4);
	/* a size that cannot fit fails and leaves the buffer as it was */
	assert_int_equal(gr_buf_put(&b, chunk, SIZE_MAX - 2), GR_ENOMEM);
	assert_int_equal(b.len, 100003);
	assert_int_equal(b.p[b.len], '\0');
	free(b.p);
}

/* Parse with flags; fail the test with the message when it does not parse. */
static int64_t parse_ok(const char *text, unsigned flags, int32_t usec_want)
{
	struct gr_err err = {0};
	int64_t sec = 0;
	int32_t usec = -1;

	if (gr_time_parse(&sec, &usec, text, flags, &err))
		fail_msg("'%s': %s", text, err.msg);
	assert_int_equal(usec, usec_want);
	return sec;
}

/* The ISO form of what `text` parses to. */
static void expect_iso(const char *text, unsigned flags, const char *want)
{
	char iso[GR_TIME_MAX];

	gr_time_format(iso, sizeof(iso), parse_ok(text, flags, 0), 0, GR_TIME_ISO);
	assert_string_equal(iso, want);
}

static void test_util__time_accepted_forms(void **state)
{
	/* 2026-10-30T10:00:00Z (date -u -d ... +%s) */
	const int64_t t = 1793354400;
	const char *same[] = {
	    "2026-10-30T10:00:00Z",
	    "2026-10-30t10:00:00z",
	    "2026-10-30 10:00:00Z",
	    "2026-10-30T10:00Z",
	    "2026-10-30 10:00:00.000000 UTC",
	    "2026-10-30 10:00:00 GMT",
	    " \t2026-10-30 10:00:00 UTC \r\n",
	    "2026-10-30T12:00:00+02:00",
	    "2026-10-30T12:00:00+0200",
	    "2026-10-30T12:00:00+02",
	    "2026-10-30T12:00:00 +02:00",
	    "2026-10-30T12:00:00+02:", /* accepted before, kept */
	    "2026-10-30T12:00:00UTC+02:00",
	    "2026-10-30T05:00:00 GMT-05",
	    "2026-10-30 05:30:00 -0430",
	    "2026-10-30 12:00:00.000000 CEST",
	    "2026-10-30 11:00:00 CET",
	    "2026-10-30 06:00:00 EDT",
	    "2026-10-30 04:00:00 CST",
	    "2026-10-30 02:00:00 PST",
	    "2026-10-30 19:00:00 JST",
	    "2026-10-30 23:00:00 NZDT",
	    "2026-10-30 00:00:00 HST",
	    "2026-10-30T09:59:60Z", /* a leap second reads as :59 */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		int64_t sec = parse_ok(same[i], 0, 0);

		if (sec != t - (i == sizeof(same) / sizeof(same[0]) - 1))
			fail_msg("'%s' gave %lld", same[i], (long long)sec);
	}
	assert_true(parse_ok("1970-01-01T00:00:00Z", 0, 0) == 0);
	assert_true(parse_ok("1970-01-01T00:00:01Z", 0, 0) == 1);
	assert_true(parse_ok("1969-12-31T23:59:59Z", 0, 0) == -1);
	assert_true(parse_ok("2026-10-31T09:30:00+02:00", 0, 0) == 1793431800);
	/* no zone: UTC only when asked */
	assert_true(parse_ok("2026-10-30 10:00:00", GR_TIME_NAIVE_UTC, 0) == t);
	assert_true(parse_ok("2026-10-30 10:00", GR_TIME_NAIVE_UTC, 0) == t);
}

static void test_util__time_fractions(void **state)
{
	(void)state;

	assert_true(parse_ok("2026-10-29 21:14:03.25 UTC", 0, 250000) == 1793308443);
	assert_true(parse_ok("2026-10-29 21:14:03,5Z", 0, 500000) == 1793308443);
	assert_true(parse_ok("2026-10-29 21:14:03.000042Z", 0, 42) == 1793308443);
	assert_true(parse_ok("2026-10-29 21:14:03.1234567Z", 0, 123456) == 1793308443);
	assert_true(parse_ok("2026-10-29 21:14:03.999999999Z", 0, 999999) == 1793308443);
	assert_true(parse_ok("1969-12-31T23:59:59.5Z", 0, 500000) == -1);
}

static void test_util__time_calendar(void **state)
{
	(void)state;

	/* leap years: every 4th, not every 100th, yet every 400th */
	assert_true(parse_ok("2024-02-29T00:00:00Z", 0, 0) == 1709164800);
	assert_true(parse_ok("2000-02-29T00:00:00Z", 0, 0) == 951782400);
	expect_iso("2024-12-31T23:59:59Z", 0, "2024-12-31T23:59:59Z");
	expect_iso("2024-02-28T23:59:59-00:01", 0, "2024-02-29T00:00:59Z");
	expect_iso("2100-03-01T00:00:00Z", 0, "2100-03-01T00:00:00Z");
	/* offsets that cross midnight, a month and a year */
	expect_iso("2026-10-30T23:30-05", 0, "2026-10-31T04:30:00Z");
	expect_iso("2026-10-31T01:00:00+02:00", 0, "2026-10-30T23:00:00Z");
	expect_iso("2026-11-01T00:30:00+01:00", 0, "2026-10-31T23:30:00Z");
	expect_iso("2027-01-01T00:30:00+01:00", 0, "2026-12-31T23:30:00Z");
	expect_iso("2026-12-31T20:00:00 AKST", 0, "2027-01-01T05:00:00Z");
	expect_iso("2024-03-01T00:00:00+00:01", 0, "2024-02-29T23:59:00Z");
	expect_iso("1970-01-01T00:30:00+01:00", 0, "1969-12-31T23:30:00Z");
}

static void test_util__time_flags(void **state)
{
	int64_t sec = 7;
	struct gr_err err = {0};
	(void)state;

	expect_iso("2026-10-30", GR_TIME_DATE_ONLY | GR_TIME_NAIVE_UTC, "2026-10-30T00:00:00Z");
	expect_iso("2026-10-30+02:00", GR_TIME_DATE_ONLY, "2026-10-29T22:00:00Z");
	expect_iso("2026-10-30-09-15-00", GR_TIME_BLACKBOARD | GR_TIME_NAIVE_UTC,
		   "2026-10-30T09:15:00Z");
	expect_iso("2026-10-30T24:00:00Z", GR_TIME_HOUR_24, "2026-10-31T00:00:00Z");
	expect_iso("2026-12-31 24:00 UTC", GR_TIME_HOUR_24, "2027-01-01T00:00:00Z");
	expect_iso("2026-10-30 10:00:00", GR_TIME_LENIENT, "2026-10-30T10:00:00Z");
	/* each form only with its flag */
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30", GR_TIME_NAIVE_UTC, &err),
			 GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30-09-15-00", GR_TIME_DATE_ONLY, &err),
			 GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30T24:00:00Z", 0, &err), GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30T24:00:01Z", GR_TIME_LENIENT, &err),
			 GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30T24:00:00.5Z", GR_TIME_LENIENT, &err),
			 GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30-09-15", GR_TIME_LENIENT, &err),
			 GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30-09:15:00", GR_TIME_LENIENT, &err),
			 GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30 UTC", GR_TIME_LENIENT, &err),
			 GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30 10:00:00", 0, &err), GR_EINVAL);
	assert_string_equal(err.msg, "invalid time '2026-10-30 10:00:00': missing time zone");
	assert_true(sec == 7); /* untouched on failure */
}

static void test_util__time_rejected_forms(void **state)
{
	const char *bad[] = {
	    "",
	    " \n",
	    "yesterday",
	    "2026-10-30T",
	    "2026-10-30T10",
	    "2026-10-30T10Z",
	    "2026-10-30T1:00Z",
	    "2026-1-30T10:00Z",
	    "26-10-30T10:00Z",
	    "2026/10/30 10:00Z",
	    "2026-10-30_10:00Z",
	    "2026-13-01 10:00:00 UTC",
	    "2026-00-01 10:00:00 UTC",
	    "2026-10-00 10:00:00 UTC",
	    "2026-10-32 10:00:00 UTC",
	    "2026-04-31 10:00:00 UTC",
	    "2026-02-29T00:00:00Z",
	    "2025-02-29 10:00:00 UTC",
	    "2100-02-29T00:00:00Z",
	    "1900-02-29T00:00:00Z",
	    "2026-10-30 24:00:00 UTC",
	    "2026-10-30T25:00:00Z",
	    "2026-10-30T10:60:00Z",
	    "2026-10-30T10:00:61Z",
	    "2026-10-30T10:00:00.Z",
	    "2026-10-30T10:00:00.5.5Z",
	    "2026-10-30T10:00:00Zjunk",
	    "2026-10-30T10:00:00 Europe/Atlantis", /* no such zone in the tz database */
	    "2026-10-30T10:00:00 europe/paris",
	    "2026-10-30T10:00:00 Europe/../../etc/passwd",
	    "2026-10-30T10:00:00 ABC3", /* a POSIX TZ rule, not a zone name */
	    "2026-10-30T10:00:00 utc",
	    "2026-10-30T10:00:00+25:00",
	    "2026-10-30T10:00:00+02:60",
	    "2026-10-30T10:00:00+2",
	    "2026-10-30T10:00:00+020",
	    "2026-10-30T10:00:00+02:00:00",
	    "2026-10-30T10:00:00 GMT+2",
	    "2026-10-30T10:00:00 Z Z",
	    "2026-10-30T10:00:00\n+02:00",
	};
	struct gr_err err = {0};
	int64_t sec;
	char big[300];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gr_time_parse(&sec, NULL, bad[i], GR_TIME_NAIVE_UTC, &err) != GR_EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	assert_int_equal(gr_time_parse(&sec, NULL, NULL, 0, &err), GR_EINVAL);
	assert_int_equal(gr_time_parse(&sec, NULL, "yesterday", 0, &err), GR_EINVAL);
	assert_string_equal(
	    err.msg,
	    "invalid time 'yesterday': expected YYYY-MM-DD HH:MM[:SS[.ffffff]] and a zone");
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30 10:00:00 Europe/Atlantis", 0, &err),
			 GR_EINVAL);
	assert_non_null(strstr(err.msg, "unknown time zone"));
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big + 100, "2026-10-30T10:00:00Z", 20);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(gr_time_parse(&sec, NULL, big, 0, &err), 0); /* spaces are trimmed */
	memset(big, 'x', sizeof(big) - 1);
	assert_int_equal(gr_time_parse(&sec, NULL, big, 0, &err), GR_EINVAL);
	assert_true(strlen(err.msg) < 100);
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30T10:00:00Z", 0, NULL), 0);
	assert_int_equal(gr_time_parse(&sec, NULL, "bad", 0, NULL), GR_EINVAL);
}

static void test_util__time_format(void **state)
{
	char out[GR_TIME_MAX], small[12];
	(void)state;

	gr_time_format(out, sizeof(out), 1793354400, 250000, GR_TIME_ISO);
	assert_string_equal(out, "2026-10-30T10:00:00Z");
	gr_time_format(out, sizeof(out), 1793354400, 42, GR_TIME_NBGRADER);
	assert_string_equal(out, "2026-10-30 10:00:00.000042 UTC");
	gr_time_format(out, sizeof(out), 1793354400, 0, GR_TIME_PYTHON);
	assert_string_equal(out, "2026-10-30 10:00:00");
	gr_time_format(out, sizeof(out), 1793354400, 250000, GR_TIME_PYTHON);
	assert_string_equal(out, "2026-10-30 10:00:00.250000");
	gr_time_format(out, sizeof(out), 1793354400, 0, GR_TIME_SQL);
	assert_string_equal(out, "2026-10-30 10:00:00.000000");
	gr_time_format(out, sizeof(out), -1, 0, GR_TIME_ISO);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	gr_time_format(out, sizeof(out), -86400, 0, GR_TIME_ISO);
	assert_string_equal(out, "1969-12-31T00:00:00Z");
	gr_time_format(out, sizeof(out), 1709164800 - 1, 0, GR_TIME_ISO);
	assert_string_equal(out, "2024-02-28T23:59:59Z");
	gr_time_format(out, sizeof(out), 951782400 + 86399, 0, GR_TIME_ISO);
	assert_string_equal(out, "2000-02-29T23:59:59Z");
	gr_time_format(small, sizeof(small), 1793354400, 0, GR_TIME_ISO);
	assert_string_equal(small, "2026-10-30T");
}

/* Python's repr() of a float, for every format we write (the cases Python itself prints). */
static void test_util__py_float_repr(void **state)
{
	static const struct {
		double x;
		const char *want;
	} cases[] = {
	    {0.0, "0.0"},
	    {-0.0, "-0.0"},
	    {1.0, "1.0"},
	    {7.5, "7.5"},
	    {10.0, "10.0"},
	    {-2.5, "-2.5"},
	    {0.1, "0.1"},
	    {0.5, "0.5"},
	    {1.0 / 3.0, "0.3333333333333333"},
	    {0.1 + 0.2, "0.30000000000000004"},
	    {32.0 / 15.0, "2.1333333333333333"},
	    {1e16, "1e+16"},
	    {1e15, "1000000000000000.0"},
	    {1e-5, "1e-05"},
	    {1.5e-5, "1.5e-05"},
	    {0.0001, "0.0001"},
	    {0.001, "0.001"},
	    {123.456, "123.456"},
	    {1e100, "1e+100"},
	    {7e22, "7e+22"},
	    {123456789012345678.0, "1.2345678901234568e+17"},
	    {1234567890123456.0, "1234567890123456.0"},
	    {2.675, "2.675"},
	    {100.25, "100.25"},
	    {2.5e-300, "2.5e-300"},
	    {1.7976931348623157e308, "1.7976931348623157e+308"},
	    {5e-324, "5e-324"},
	    {NAN, "nan"},
	    {INFINITY, "inf"},
	    {-INFINITY, "-inf"},
	};
	char out[32];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		gr_py_float_repr(out, cases[i].x);
		assert_string_equal(out, cases[i].want);
	}
}

static void test_util__utf8_valid(void **state)
{
	(void)state;
	assert_true(gr_utf8_valid("plain", 5));
	assert_true(gr_utf8_valid("Chlo\xc3\xa9 \xe7\x8e\x8b \xf0\x9f\x98\x80", 16));
	assert_false(gr_utf8_valid("\xc3", 1));		    /* truncated */
	assert_false(gr_utf8_valid("\xc0\xaf", 2));	    /* overlong '/' */
	assert_false(gr_utf8_valid("\xed\xa0\x80", 3));	    /* surrogate */
	assert_false(gr_utf8_valid("\xf4\x90\x80\x80", 4)); /* over U+10FFFF */
	assert_false(gr_utf8_valid("M\x81ller", 7));	    /* CP437 */
	assert_true(gr_utf8_valid("", 0));
}

static void test_util__utf8_clean(void **state)
{
	char *s;
	(void)state;

	s = gr_utf8_clean("h\xc3\xa9llo \xe2\x82\xac", 10);
	assert_string_equal(s, "h\xc3\xa9llo \xe2\x82\xac");
	free(s);
	s = gr_utf8_clean("a\xff"
			  "b",
			  3);
	assert_string_equal(s, "a\xef\xbf\xbd"
			       "b");
	free(s);
	s = gr_utf8_clean("a\0b", 3);
	assert_string_equal(s, "a\xef\xbf\xbd"
			       "b");
	free(s);
	/* a character cut by the output cap is dropped */
	s = gr_utf8_clean("ab\xe2\x82", 4);
	assert_string_equal(s, "ab");
	free(s);
	/* overlong encodings and surrogates are not UTF-8 */
	s = gr_utf8_clean("\xc0\xaf", 2);
	assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = gr_utf8_clean("\xed\xa0\x80x", 4);
	assert_non_null(strstr(s, "\xef\xbf\xbd"));
	assert_int_equal(s[strlen(s) - 1], 'x');
	free(s);
	/* continuation bytes a cut at the start left, lead bytes no sequence has */
	s = gr_utf8_clean("\x82\xacx\xf5\x80", 5);
	assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	/* a lead byte cut at the very end is dropped; one followed by ASCII is not */
	s = gr_utf8_clean("a\xf0\x9f\x98", 4);
	assert_string_equal(s, "a");
	free(s);
	s = gr_utf8_clean("\xe2\x82z", 3);
	assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbdz");
	free(s);
	s = gr_utf8_clean("", 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_util__utf8_prefix(void **state)
{
	(void)state;
	assert_int_equal(gr_utf8_prefix("plain", 5), 5);
	assert_int_equal(gr_utf8_prefix("", 0), 0);
	assert_int_equal(gr_utf8_prefix("a\0b", 3), 3);		     /* NUL is UTF-8 */
	assert_int_equal(gr_utf8_prefix("ab\xc3\xa9\xff", 5), 4);    /* stops at the bad byte */
	assert_int_equal(gr_utf8_prefix("ab\xe2\x82", 4), 2);	     /* a cut sequence */
	assert_int_equal(gr_utf8_prefix("\xed\xa0\x80ok", 5), 0);    /* surrogate */
	assert_int_equal(gr_utf8_prefix("x\xf4\x90\x80\x80", 5), 1); /* over U+10FFFF */
}

static void test_util__utf8_seq(void **state)
{
	uint32_t cp = 0;
	(void)state;

	assert_int_equal(gr_utf8_seq("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(gr_utf8_seq("\0", 1, &cp), 1);
	assert_int_equal(cp, 0);
	assert_int_equal(gr_utf8_seq("\xc3\xa9!", 3, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(gr_utf8_seq("\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(gr_utf8_seq("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(gr_utf8_seq("\xe2\x82\xac", 2, &cp), 0); /* cut */
	assert_int_equal(gr_utf8_seq("\xc1\xbf", 2, &cp), 0);	  /* overlong */
	assert_int_equal(gr_utf8_seq("\xed\xb0\x80", 3, &cp), 0); /* surrogate */
	assert_int_equal(gr_utf8_seq("\xf5\x80\x80\x80", 4, &cp), 0);
	assert_int_equal(gr_utf8_seq("\x80", 1, &cp), 0);
	assert_int_equal(gr_utf8_seq("", 0, &cp), 0);
}

static void test_util__utf8_nfc(void **state)
{
	char *out = NULL;
	(void)state;
	assert_int_equal(gr_utf8_nfc(&out, "Chloe\xcc\x81.txt"), 0); /* NFD from macOS */
	assert_string_equal(out, "Chlo\xc3\xa9.txt");
	free(out);
	assert_int_equal(gr_utf8_nfc(&out, "Chlo\xc3\xa9"), 0);
	assert_string_equal(out, "Chlo\xc3\xa9");
	free(out);
	/* NFC keeps compatibility forms: a full-width A stays one */
	assert_int_equal(gr_utf8_nfc(&out, "\xef\xbc\xa1"), 0);
	assert_string_equal(out, "\xef\xbc\xa1");
	free(out);
	out = NULL;
	assert_int_equal(gr_utf8_nfc(&out, "M\x81ller"), GR_EINVAL);
	assert_null(out);
}

static void test_util__utf8_casefold(void **state)
{
	char *a = NULL, *b = NULL;
	(void)state;
	assert_int_equal(gr_utf8_casefold(&a, "L\xc3\x96SUNG.txt", 11), 0);
	assert_int_equal(gr_utf8_casefold(&b, "lo\xcc\x88sung.TXT", 12), 0); /* NFD */
	assert_string_equal(a, "l\xc3\xb6sung.txt");
	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(gr_utf8_casefold(&a,
					  "Stra\xc3\x9f"
					  "e/x",
					  6),
			 0); /* first 6 bytes */
	assert_string_equal(a, "strass");
	free(a);
	a = NULL;
	assert_int_equal(gr_utf8_casefold(&a, "M\x81ller", 7), GR_EINVAL);
	assert_null(a);
}

static void test_util__utf8_name_key(void **state)
{
	char *a = NULL, *b = NULL;
	(void)state;
	assert_int_equal(gr_utf8_name_key(&a, "GARC\xc3\x8d"
					      "A, Ana-Mar\xc3\xad"
					      "a"),
			 0);
	assert_string_equal(a, "garc\xc3\xad"
			       "aanamar\xc3\xad"
			       "a");
	assert_int_equal(gr_utf8_name_key(&b, "garci\xcc\x81"
					      "a_ana mari\xcc\x81"
					      "a"),
			 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(gr_utf8_name_key(&a, "\xe2\x80\x8f\xd8\xb9\xd9\x84\xd9\x8a 2"), 0);
	assert_string_equal(a, "\xd8\xb9\xd9\x84\xd9\x8a"
			       "2"); /* RLM and space gone */
	free(a);
	a = NULL;
	assert_int_equal(gr_utf8_name_key(&a, "\xff"), GR_EINVAL);
	assert_null(a);
}

/* The UTC ISO form of a parse, or the error. */
static void expect_utc(const char *text, const char *want)
{
	char got[GR_TIME_MAX];
	int64_t sec = 0;
	int32_t usec = 0;
	struct gr_err err = {0};

	if (gr_time_parse(&sec, &usec, text, 0, &err))
		fail_msg("'%s': %s", text, err.msg);
	gr_time_format(got, sizeof(got), sec, usec, GR_TIME_PYTHON);
	if (strcmp(got, want))
		fail_msg("'%s' gave %s, want %s", text, got, want);
}

/* tz database names, with the figures nbgrader's parse_utc gives. */
static void test_util__time_zone_names(void **state)
{
	struct gr_err err = {0};
	int64_t sec;
	(void)state;

	if (access("/usr/share/zoneinfo/Europe/London", R_OK) != 0) {
		SKIP_BECAUSE("no tz database here (Debian's tzdata)");
		return;
	}
	/* nbgrader's user guide: submitted/hacker/ps1/timestamp.txt */
	expect_utc("2015-02-01 09:28:58.749302 America/Los_Angeles", "2015-02-01 17:28:58.749302");
	expect_utc("2026-07-01 10:00:00 America/Los_Angeles", "2026-07-01 17:00:00"); /* PDT */
	expect_utc("2026-10-20 10:00:00 Europe/London", "2026-10-20 09:00:00");	      /* BST */
	expect_utc("2026-10-30 10:00:00 Europe/London", "2026-10-30 10:00:00");	      /* GMT */
	expect_utc("2026-10-30T15:30:00 Asia/Kolkata", "2026-10-30 10:00:00");
	expect_utc("2026-10-30 10:00:00 Etc/GMT+5", "2026-10-30 15:00:00");
	/* clocks forward in London at 01:00 GMT: 01:30 never happens, read as BST */
	expect_utc("2026-03-29 00:30:00 Europe/London", "2026-03-29 00:30:00");
	expect_utc("2026-03-29 01:30:00 Europe/London", "2026-03-29 00:30:00");
	expect_utc("2026-03-29 02:30:00 Europe/London", "2026-03-29 01:30:00");
	/* clocks back at 02:00 BST: 01:30 happens twice, the first (BST) counts */
	expect_utc("2026-10-25 01:30:00 Europe/London", "2026-10-25 00:30:00");
	expect_utc("2026-10-25 02:30:00 Europe/London", "2026-10-25 02:30:00");
	/* a timestamp.txt saved by Notepad: a byte order mark, CRLF */
	expect_utc("\xef\xbb\xbf"
		   "2026-10-30 10:00:00.000000 UTC\r\n",
		   "2026-10-30 10:00:00");
	/* ... and the second instant is told, for a warning (fetch) */
	int64_t first, later, wall = 1792891800; /* 2026-10-25 01:30:00 as if UTC */
	assert_int_equal(gr_time_zone_to_utc_both(&first, &later, wall, "Europe/London", &err), 0);
	assert_int_equal(first, wall - 3600);
	assert_int_equal(later, wall);
	assert_int_equal(
	    gr_time_zone_to_utc_both(&first, &later, wall + 3600, "Europe/London", &err), 0);
	assert_int_equal(later, first); /* 02:30 happens once */
	assert_int_equal(
	    gr_time_zone_to_utc_both(&first, &later, wall - 86400 * 210, "Europe/London", &err), 0);
	assert_int_equal(later, first); /* March's skipped hour is no repeated one */
	/* a zone name never falls back to UTC */
	assert_int_equal(gr_time_parse(&sec, NULL, "2026-10-30 10:00 Mars/Olympus", 0, &err),
			 GR_EINVAL);
	assert_non_null(
	    strstr(err.msg, "unknown time zone 'Mars/Olympus' (not in the tz database)"));
}

struct zone_thread {
	int64_t sum;
};

static void *zone_worker(void *arg)
{
	struct zone_thread *z = arg;
	const char *text[] = {"2026-10-20 10:00:00 Europe/London",
			      "2026-07-01 10:00:00 America/Los_Angeles",
			      "2026-01-15 10:00:00 Australia/Sydney", "2026-10-30T10:00:00Z"};

	for (int i = 0; i < 2000; i++) {
		int64_t sec = 0;
		if (gr_time_parse(&sec, NULL, text[i % 4], 0, NULL) == 0)
			z->sum += sec;
	}
	return NULL;
}

/* Zones resolved from many threads at once give the one-thread answer. */
static void test_util__time_zone_threads(void **state)
{
	pthread_t th[4];
	struct zone_thread z[4] = {{0}}, one = {0};
	(void)state;

	if (access("/usr/share/zoneinfo/Europe/London", R_OK) != 0) {
		SKIP_BECAUSE("no tz database here (Debian's tzdata)");
		return;
	}
	zone_worker(&one);
	assert_true(one.sum != 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, zone_worker, &z[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(z[i].sum == one.sum);
	}
}

/* dir/d/d/.../d, n levels, each holding a file; one descriptor at a time. */
static void make_deep(const char *dir, unsigned n)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	for (unsigned i = 0; i < n; i++) {
		int sub, f;

		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		f = openat(fd, "f", O_WRONLY | O_CREAT, 0644);
		assert_true(f >= 0);
		close(f);
		sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(sub >= 0);
		close(fd);
		fd = sub;
	}
	close(fd);
}

static void test_util__rm_rf_deep_tree(void **state)
{
	/* tmpfs when there is one: 25 000 levels cost a minute on a busy ext4 */
	char dir[] = "/dev/shm/test_util.XXXXXX";
	struct gr_err err = {0};
	struct rlimit rl;
	(void)state;
	if (!mkdtemp(dir)) {
		memcpy(dir, "/tmp/test_util.XXXXXX", sizeof("/tmp/test_util.XXXXXX"));
		assert_non_null(mkdtemp(dir));
	}
	make_deep(dir, 25000);
	/* far more levels than descriptors: the old recursion needed one per level */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_true(rl.rlim_cur < 25000);
	assert_int_equal(gr_rm_rf(dir, &err), 0);
	assert_int_equal(access(dir, F_OK), -1);
}

static void test_util__rm_rf_wide_links_modes(void **state)
{
	char dir[] = "/tmp/test_util.XXXXXX", keep[] = "/tmp/test_util_keep.XXXXXX", p[512];
	struct gr_err err = {0};
	int fd;
	(void)state;
	assert_non_null(mkdtemp(dir));
	fd = mkstemp(keep);
	assert_true(fd >= 0);
	close(fd);
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "%s/sub%d", dir, i);
		assert_int_equal(mkdir(p, 0755), 0);
		snprintf(p, sizeof(p), "%s/sub%d/file", dir, i);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
		snprintf(p, sizeof(p), "%s/file%d", dir, i);
		fd = open(p, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	/* links out of the tree are removed, never followed */
	snprintf(p, sizeof(p), "%s/sub7/out", dir);
	assert_int_equal(symlink(keep, p), 0);
	snprintf(p, sizeof(p), "%s/sub8/up", dir);
	assert_int_equal(symlink("/tmp", p), 0);
	/* a folder left without permissions (mode 0) still goes */
	snprintf(p, sizeof(p), "%s/sub9", dir);
	assert_int_equal(chmod(p, 0), 0);
	assert_int_equal(gr_rm_rf(dir, &err), 0);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(access(keep, F_OK), 0);
	unlink(keep);
	/* a missing path is fine */
	assert_int_equal(gr_rm_rf(dir, &err), 0);
}

static void test_util__rm_rf_says_what_stayed(void **state)
{
	struct gr_err err = {0};
	(void)state;
	/* nothing in /proc can be removed: the message names where it stopped */
	assert_int_equal(gr_rm_rf("/proc/self/task", &err), GR_EIO);
	assert_non_null(strstr(err.msg, "cannot remove '/proc/self/task/"));
}

static void expect_escape(const char *in, const char *want)
{
	char *got = gr_term_escape(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_util__term_escape(void **state)
{
	(void)state;
	expect_escape("plain text, é, 漢字, 🙂", "plain text, é, 漢字, 🙂");
	/* a forged "ok" line: carriage return, cursor moves, colour, title, bell */
	expect_escape("x\r[1] ok\x1b[2K\x1b]0;pwned\x07", "x\\r[1] ok\\x1b[2K\\x1b]0;pwned\\x07");
	expect_escape("a\nb\tc\x7f\x01", "a\\nb\\tc\\x7f\\x01");
	/* C1 controls: CSI as UTF-8 (U+009B) and as a raw byte (not UTF-8) */
	expect_escape("\xc2\x9b"
		      "31m",
		      "\\u009b31m");
	expect_escape("\x9b"
		      "31m \xff \xc3",
		      "\\x9b31m \\xff \\xc3");
	/* overlong and surrogate encodings are not UTF-8 */
	expect_escape("\xc0\x8a\xed\xa0\x80", "\\xc0\\x8a\\xed\\xa0\\x80");
	/* bidi controls and other invisible format characters: a reversed "ok" */
	expect_escape("\xe2\x80\xae"
		      "ko]1[ \xe2\x81\xa6"
		      "x\xe2\x81\xa9 \xe2\x80\x8e\xe2\x80\x8f\xd8\x9c",
		      "\\u202eko]1[ \\u2066x\\u2069 \\u200e\\u200f\\u061c");
	expect_escape("a\xe2\x80\xaa"
		      "b\xe2\x80\xad"
		      "c\xe2\x80\x8b"
		      "d\xef\xbb\xbf\xe2\x80\xa8",
		      "a\\u202ab\\u202dc\\u200bd\\ufeff\\u2028");
	/* a tag character (plane 14) */
	expect_escape("\xf3\xa0\x80\x81", "\\U000e0001");
	expect_escape(NULL, "");
	expect_escape("", "");
}

static void test_util__time_now_and_frac(void **state)
{
	struct gr_time t = {0};
	char out[GR_TIME_MAX];
	int64_t before = (int64_t)time(NULL);
	(void)state;

	gr_time_now(&t);
	assert_true(t.sec >= before && t.sec <= before + 5);
	assert_true(t.usec >= 0 && t.usec < 1000000);
	gr_time_format(out, sizeof(out), 1422811738, 749302, GR_TIME_ISO_FRAC);
	assert_string_equal(out, "2015-02-01T17:28:58.749302Z");
	gr_time_format(out, sizeof(out), 1422811738, 0, GR_TIME_ISO_FRAC);
	assert_string_equal(out, "2015-02-01T17:28:58Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_util__py_float_repr),
	    cmocka_unit_test(test_util__err_formats_message),
	    cmocka_unit_test(test_util__write_read_roundtrip),
	    cmocka_unit_test(test_util__atomic_write_keeps_devices),
	    cmocka_unit_test(test_util__digests),
	    cmocka_unit_test(test_util__split_list),
	    cmocka_unit_test(test_util__path_join),
	    cmocka_unit_test(test_util__write_all_read_full),
	    cmocka_unit_test(test_util__copy_file_no_links),
	    cmocka_unit_test(test_util__buf_put),
	    cmocka_unit_test(test_util__utf8_valid),
	    cmocka_unit_test(test_util__utf8_seq),
	    cmocka_unit_test(test_util__utf8_prefix),
	    cmocka_unit_test(test_util__utf8_clean),
	    cmocka_unit_test(test_util__utf8_nfc),
	    cmocka_unit_test(test_util__utf8_casefold),
	    cmocka_unit_test(test_util__utf8_name_key),
	    cmocka_unit_test(test_util__time_accepted_forms),
	    cmocka_unit_test(test_util__time_fractions),
	    cmocka_unit_test(test_util__time_calendar),
	    cmocka_unit_test(test_util__time_flags),
	    cmocka_unit_test(test_util__time_rejected_forms),
	    cmocka_unit_test(test_util__time_zone_names),
	    cmocka_unit_test(test_util__time_zone_threads),
	    cmocka_unit_test(test_util__time_format),
	    cmocka_unit_test(test_util__time_now_and_frac),
	    cmocka_unit_test(test_util__term_escape),
	    cmocka_unit_test(test_util__rm_rf_deep_tree),
	    cmocka_unit_test(test_util__rm_rf_wide_links_modes),
	    cmocka_unit_test(test_util__rm_rf_says_what_stayed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
