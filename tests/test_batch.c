/* test_batch.c - unit tests for the batch grader's plan, journal, pool and progress. */
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

#include "../grader/batch_int.h"
#include "grader/rubric.h"
#include "grader/sandbox.h"
#include "test_skip.h"

static char *tmpdir(void)
{
	char *d = strdup("/tmp/test_batch.XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void put(const char *dir, const char *rel, const char *text)
{
	char *p = gr_path_join(dir, rel), *slash;
	struct gr_err err = {0};

	slash = strrchr(p, '/');
	*slash = '\0';
	assert_int_equal(gr_mkdir_p(p, 0755, &err), 0);
	*slash = '/';
	assert_int_equal(gr_write_file_atomic(p, text, strlen(text), &err), 0);
	free(p);
}

static void test_batch__hash_tree_sees_content_and_names(void **state)
{
	char *d = tmpdir(), h1[65], h2[65], h3[65];
	struct gr_err err = {0};
	(void)state;

	put(d, "a/x.ipynb", "one");
	put(d, "a/b/y.csv", "two");
	assert_int_equal(batch_hash_tree(h1, d, &err), 0);
	put(d, "a/x.ipynb", "One");
	assert_int_equal(batch_hash_tree(h2, d, &err), 0);
	assert_string_not_equal(h1, h2);
	put(d, "a/x.ipynb", "one");
	assert_int_equal(batch_hash_tree(h3, d, &err), 0);
	assert_string_equal(h1, h3);
	/* a symlink is not followed and does not count */
	{
		char *l = gr_path_join(d, "a/link");
		assert_int_equal(symlink("/etc/passwd", l), 0);
		free(l);
	}
	assert_int_equal(batch_hash_tree(h3, d, &err), 0);
	assert_string_equal(h1, h3);
	gr_rm_rf(d, NULL);
	free(d);
}

static void test_batch__plan_lists_students_and_missing(void **state)
{
	char *d = tmpdir();
	struct batch_plan plan = {0};
	struct gr_err err = {0};
	const char *only[] = {"zoe", "bob", "nobody", NULL};
	(void)state;

	put(d, "zoe/ps1/ps1.ipynb", "{}");
	put(d, "bob/ps1/ps1.ipynb", "{}");
	put(d, "amy/other/x", "{}");
	assert_int_equal(batch_plan_build(&plan, d, "ps1", NULL, "r", &err), 0);
	assert_int_equal(plan.n, 3);
	assert_string_equal(plan.items[0].student_id, "amy");
	assert_null(plan.items[0].path); /* no ps1 folder */
	assert_string_equal(plan.items[1].student_id, "bob");
	assert_non_null(plan.items[1].path);
	batch_plan_release(&plan);

	assert_int_equal(batch_plan_build(&plan, d, "ps1", only, "r", &err), 0);
	assert_int_equal(plan.n, 3);
	assert_string_equal(plan.items[1].student_id, "nobody");
	assert_null(plan.items[1].path);
	batch_plan_release(&plan);

	assert_int_equal(batch_plan_build(&plan, "/nonexistent/x", "ps1", NULL, "r", &err),
			 GR_ENOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/x"));
	gr_rm_rf(d, NULL);
	free(d);
}

static void test_batch__journal_resumes_and_ignores_torn_line(void **state)
{
	char *d = tmpdir(), *jp = gr_path_join(d, "gb.json.journal");
	struct batch_plan plan = {0};
	struct batch_journal j;
	struct gr_err err = {0};
	json_t *sub = json_pack("{s:f}", "score", 7.5), *back = NULL;
	int fd;
	(void)state;

	put(d, "subs/a/ps1/n.ipynb", "1");
	put(d, "subs/b/ps1/n.ipynb", "2");
	{
		char *subs = gr_path_join(d, "subs");
		assert_int_equal(batch_plan_build(&plan, subs, "ps1", NULL, "r", &err), 0);
		free(subs);
	}
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_append(&j, &plan.items[0], sub, 1, &err), 0);
	batch_journal_close(&j);
	/* a run killed mid-write leaves a torn line */
	fd = open(jp, O_WRONLY | O_APPEND);
	assert_true(write(fd, "{\"key\":\"", 8) == 8);
	close(fd);

	plan.items[0].done = 0;
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_match(&j, &plan, &err), 0);
	assert_true(plan.items[0].done);
	assert_false(plan.items[1].done);
	assert_int_equal(batch_journal_read(&j, &plan.items[0], &back, &err), 0);
	assert_true(json_equal(back, sub));
	json_decref(back);
	batch_journal_close(&j);

	/* a changed key (edited submission) is not a match */
	plan.items[0].done = 0;
	plan.items[0].key[0] = plan.items[0].key[0] == 'a' ? 'b' : 'a';
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_match(&j, &plan, &err), 0);
	assert_false(plan.items[0].done);
	batch_journal_close(&j);

	/* a non-final entry (the grader failed, not the student) is graded again */
	plan.items[1].done = 0;
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_append(&j, &plan.items[1], sub, 0, &err), 0);
	batch_journal_close(&j);
	plan.items[1].done = 0;
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_match(&j, &plan, &err), 0);
	assert_false(plan.items[1].done);
	batch_journal_close(&j);

	/* --force truncates */
	assert_int_equal(batch_journal_open(&j, jp, 1, &err), 0);
	assert_int_equal(j.size, 0);
	batch_journal_close(&j);

	json_decref(sub);
	batch_plan_release(&plan);
	gr_rm_rf(d, NULL);
	free(jp);
	free(d);
}

/* Match plan's items through index x on a fresh open of jp; how many are done. */
static size_t jindex_done(struct batch_jindex *x, const char *jp, struct batch_plan *plan,
			  int truncate)
{
	struct batch_journal j;
	struct gr_err err = {0};
	size_t n = 0;

	for (size_t i = 0; i < plan->n; i++)
		plan->items[i].done = 0;
	assert_int_equal(batch_journal_open(&j, jp, truncate, &err), 0);
	assert_int_equal(batch_jindex_match(x, &j, plan, &err), 0);
	for (size_t i = 0; i < plan->n; i++)
		n += plan->items[i].done != 0;
	batch_journal_close(&j);
	return n;
}

static void test_batch__jindex_reads_only_what_was_appended(void **state)
{
	char *d = tmpdir(), *jp = gr_path_join(d, "gb.json.journal"),
	     *subs = gr_path_join(d, "subs");
	struct batch_plan plan = {0};
	struct batch_jindex *x = NULL;
	struct batch_journal j;
	struct gr_err err = {0};
	json_t *sub = json_pack("{s:f}", "score", 2.5), *back = NULL;
	int fd;
	(void)state;

	put(d, "subs/a/ps1/n.ipynb", "1");
	put(d, "subs/b/ps1/n.ipynb", "2");
	assert_int_equal(batch_plan_build(&plan, subs, "ps1", NULL, "r", &err), 0);
	assert_int_equal(batch_jindex_new(&x, &err), 0);
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_append(&j, &plan.items[0], sub, 1, &err), 0);
	batch_journal_close(&j);
	assert_int_equal(jindex_done(x, jp, &plan, 0), 1);
	assert_true(plan.items[0].done);

	/* b's entry comes after; a's line is then spoilt in place: the index read it already */
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_append(&j, &plan.items[1], sub, 1, &err), 0);
	batch_journal_close(&j);
	fd = open(jp, O_WRONLY);
	assert_true(pwrite(fd, "#", 1, 0) == 1);
	close(fd);
	assert_int_equal(jindex_done(x, jp, &plan, 0), 2);
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_read(&j, &plan.items[1], &back, &err), 0);
	assert_true(json_equal(back, sub));
	json_decref(back);
	/* the whole-journal reader sees the spoilt line: a is not reused there */
	plan.items[0].done = plan.items[1].done = 0;
	assert_int_equal(batch_journal_match(&j, &plan, &err), 0);
	assert_false(plan.items[0].done);
	assert_true(plan.items[1].done);
	batch_journal_close(&j);

	/* a torn line, then an entry of a new key on the same line: neither counts */
	fd = open(jp, O_WRONLY | O_APPEND);
	assert_true(write(fd, "{\"key\":\"", 8) == 8);
	close(fd);
	assert_int_equal(jindex_done(x, jp, &plan, 0), 2);
	plan.items[1].key[0] = plan.items[1].key[0] == 'a' ? 'b' : 'a';
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_append(&j, &plan.items[1], sub, 1, &err), 0);
	batch_journal_close(&j);
	assert_int_equal(jindex_done(x, jp, &plan, 0), 1);
	assert_false(plan.items[1].done);
	/* the next entry of that key, on a line of its own, is found */
	assert_int_equal(batch_journal_open(&j, jp, 0, &err), 0);
	assert_int_equal(batch_journal_append(&j, &plan.items[1], sub, 1, &err), 0);
	batch_journal_close(&j);
	assert_int_equal(jindex_done(x, jp, &plan, 0), 2);

	/* truncated (--force): read from the start, nothing is done */
	assert_int_equal(jindex_done(x, jp, &plan, 1), 0);

	batch_jindex_free(x);
	json_decref(sub);
	batch_plan_release(&plan);
	gr_rm_rf(d, NULL);
	free(subs);
	free(jp);
	free(d);
}

struct pool_results {
	char *text[8];
	char *msg[8];
	int calls;
};

static int fake_job(void *ctx, size_t index, char **text, struct gr_err *err)
{
	(void)ctx;
	if (index == 3)
		_exit(9); /* a worker crash on one submission */
	if (index == 5)
		return gr_err_set(err, GR_EINVAL, "bad notebook %zu", index);
	if (asprintf(text, "{\"i\":%zu,\"pid\":%d}", index, (int)getpid()) < 0)
		return GR_ENOMEM;
	return 0;
}

static int fake_done(void *dctx, size_t index, const char *text, const char *message)
{
	struct pool_results *r = dctx;
	r->calls++;
	if (text)
		r->text[index] = strdup(text);
	if (message)
		r->msg[index] = strdup(message);
	return 0;
}

static void test_batch__pool_survives_a_crashing_worker(void **state)
{
	const struct batch_worker_ops ops = {NULL, fake_job, NULL, fake_done, NULL};
	struct pool_results r = {0};
	size_t idx[] = {0, 1, 2, 3, 4, 5, 6, 7};
	struct gr_err err = {0};
	(void)state;

	assert_int_equal(batch_pool_run(&ops, NULL, &r, 2, idx, 8, &err), 0);
	assert_int_equal(r.calls, 8);
	for (int i = 0; i < 8; i++) {
		if (i == 3) {
			assert_null(r.text[i]);
			assert_string_equal(r.msg[i], "grading worker died");
		} else if (i == 5) {
			assert_null(r.text[i]);
			assert_string_equal(r.msg[i], "bad notebook 5");
		} else {
			char want[32];
			snprintf(want, sizeof(want), "{\"i\":%d,", i);
			assert_non_null(r.text[i]);
			assert_memory_equal(r.text[i], want, strlen(want));
		}
		free(r.text[i]);
		free(r.msg[i]);
	}
}

static void test_batch__progress_lines_when_not_a_tty(void **state)
{
	char buf[256] = {0};
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct batch_progress p;
	(void)state;

	batch_progress_init(&p, f, 2);
	batch_progress_step(&p, "graded alice");
	batch_progress_step(&p, "graded bob");
	batch_progress_finish(&p);
	fclose(f);
	assert_string_equal(buf, "graded alice\ngraded bob\n");
	assert_int_equal(p.done, 2);
}

/* Shards of one N split any plan into disjoint parts that cover it. */
static void test_batch__shards_partition_the_plan(void **state)
{
	char ids[200][16], *d = tmpdir();
	const char *only[201];
	struct gr_err err = {0};

	(void)state;
	for (int i = 0; i < 200; i++) {
		snprintf(ids[i], sizeof(ids[i]), "s%03d", i);
		only[i] = ids[i];
	}
	only[200] = NULL;
	for (unsigned n = 1; n <= 7; n++) {
		size_t total = 0;

		for (unsigned k = 1; k <= n; k++) {
			struct batch_plan plan = {0};

			assert_int_equal(batch_plan_build(&plan, d, "ps1", only, "r", &err), 0);
			batch_plan_shard(&plan, k, n);
			for (size_t i = 0; i < plan.n; i++)
				assert_int_equal(batch_shard_of(plan.items[i].student_id, n), k);
			assert_true(plan.n > 0); /* 200 ids leave no part empty */
			total += plan.n;
			batch_plan_release(&plan);
		}
		assert_int_equal(total, 200);
	}
	/* the documented formula, as Python's hashlib computes it */
	assert_int_equal(batch_shard_of("alice", 3), 3);
	assert_int_equal(batch_shard_of("dave", 3), 2);
	assert_int_equal(batch_shard_of("erin", 3), 1);
	assert_int_equal(batch_shard_of("anyone", 1), 1);
	rmdir(d);
	free(d);
}

/* Two processes append to one journal: each entry is read back where it landed. */
static void test_batch__journal_two_writers_keep_their_offsets(void **state)
{
	char *d = tmpdir(), *jp = gr_path_join(d, "gb.json.journal"), *subs;
	struct batch_plan plan = {0};
	struct batch_journal j1, j2;
	struct gr_err err = {0};
	json_t *a = json_pack("{s:f}", "score", 1.0), *b = json_pack("{s:f}", "score", 2.0);
	json_t *back = NULL;
	(void)state;

	put(d, "subs/a/ps1/n.ipynb", "1");
	put(d, "subs/b/ps1/n.ipynb", "2");
	subs = gr_path_join(d, "subs");
	assert_int_equal(batch_plan_build(&plan, subs, "ps1", NULL, "r", &err), 0);
	assert_int_equal(batch_journal_open(&j1, jp, 0, &err), 0);
	assert_int_equal(batch_journal_open(&j2, jp, 0, &err), 0);
	assert_int_equal(batch_journal_append(&j2, &plan.items[1], b, 1, &err), 0);
	assert_int_equal(batch_journal_append(&j1, &plan.items[0], a, 1, &err), 0);
	assert_true(plan.items[0].journal_off > 0);
	assert_int_equal(batch_journal_read(&j2, &plan.items[0], &back, &err), 0);
	assert_true(json_equal(back, a));
	json_decref(back);
	assert_int_equal(batch_journal_read(&j1, &plan.items[1], &back, &err), 0);
	assert_true(json_equal(back, b));
	json_decref(back);
	batch_journal_close(&j1);
	batch_journal_close(&j2);
	batch_plan_release(&plan);
	json_decref(a);
	json_decref(b);
	gr_rm_rf(d, NULL);
	free(subs);
	free(jp);
	free(d);
}

static int sandbox_available(void)
{
	struct sbx_probe p;

	return sbx_probe_host(&p, NULL) == 0 && p.complete;
}

/*
 * One warm zygote grades two students one after the other; their entries
 * carry batch_run's keys, so batch_run reuses them and grades nothing.
 */
static void test_batch__warm_zygote_grades_for_batch_run(void **state)
{
	const char *root = getenv("ROOT");
	char cwd[2048], rubric_path[4096], *d = tmpdir(), *subs = NULL, *out = NULL, *text = NULL;
	const char *only[] = {"s1", "s2", NULL};
	struct rubric *r = NULL;
	struct batch_warm *w = NULL;
	struct batch_summary sum;
	struct batch_opts o;
	struct gr_err err = {0};
	(void)state;

	SKIP_UNLESS_ROOT_HOST(sandbox_available(),
			      "this host cannot build the sandbox (root needed)");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(rubric_path, sizeof(rubric_path), "%s/rubrics/examples/ps1.json",
		 root ? root : cwd);
	assert_int_equal(rubric_load(&r, rubric_path, &err), 0);
	assert_true(asprintf(&subs, "%s/subs", d) > 0 && asprintf(&out, "%s/gb.json", d) > 0);
	for (int i = 0; i < 2; i++) {
		char *dir = NULL;

		assert_true(asprintf(&dir, "%s/%s/ps1", subs, only[i]) > 0);
		assert_int_equal(rubric_release(r, dir, &err), 0);
		free(dir);
	}
	batch_opts_init(&o);
	o.rubric = rubric_path;
	assert_int_equal(batch_warm_new(&w, &o, 0, &err), 0);
	assert_false(batch_warm_stale(w));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(batch_warm_grade(w, subs, out, only[i], &text, &err), 0);
		assert_non_null(strstr(text, "\"status\":\"graded\""));
		free(text);
	}
	assert_int_equal(batch_warm_grade(w, subs, out, "nobody", &text, &err), GR_ENOTFOUND);
	assert_null(text);
	batch_warm_free(w);

	o.submissions = subs;
	o.output = out;
	o.students = only;
	assert_int_equal(batch_run(&o, &sum, &err), 0);
	assert_int_equal(sum.reused, 2);
	assert_int_equal(sum.graded, 0);
	rubric_free(r);
	gr_rm_rf(d, NULL);
	free(subs);
	free(out);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch__hash_tree_sees_content_and_names),
	    cmocka_unit_test(test_batch__plan_lists_students_and_missing),
	    cmocka_unit_test(test_batch__journal_resumes_and_ignores_torn_line),
	    cmocka_unit_test(test_batch__jindex_reads_only_what_was_appended),
	    cmocka_unit_test(test_batch__pool_survives_a_crashing_worker),
	    cmocka_unit_test(test_batch__progress_lines_when_not_a_tty),
	    cmocka_unit_test(test_batch__shards_partition_the_plan),
	    cmocka_unit_test(test_batch__journal_two_writers_keep_their_offsets),
	    cmocka_unit_test(test_batch__warm_zygote_grades_for_batch_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
