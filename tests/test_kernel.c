/*
 * test_kernel.c - unit tests for the notebook engine: the result channel's
 * framing and verification, UTF-8 cleaning, the result JSON, and one real
 * run through the zygote (which also checks that the caller's process stays
 * leak-free under ASan while a zygote embeds Python).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_skip.h"
#include "grader/kernel.h"
#include "grader/sandbox.h"
#include "../grader/kernel_int.h"

static const unsigned char key1[KCHAN_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key2[KCHAN_KEY_LEN] = "0123456789abcdef0123456789abcdeX";

/* Frame `payload` as record `seq` into a heap buffer. */
static unsigned char *frame(const unsigned char *key, uint32_t seq, const char *payload,
			    size_t *len)
{
	size_t n = strlen(payload);
	unsigned char *buf = malloc(kchan_size(n));

	assert_non_null(buf);
	assert_int_equal(kchan_encode(buf, key, seq, KREC_CELL, payload, n), 0);
	*len = kchan_size(n);
	return buf;
}

static void test_kernel__chan_roundtrip(void **state)
{
	struct kchan_reader r;
	struct kchan_rec rec;
	size_t l1, l2;
	unsigned char *a = frame(key1, 0, "{\"i\":0}", &l1), *b = frame(key1, 1, "second", &l2);
	(void)state;

	kchan_reader_init(&r, key1);
	assert_int_equal(kchan_reader_next(&r, &rec), 0);
	/* byte by byte: nothing before the record is complete */
	for (size_t i = 0; i < l1; i++) {
		assert_int_equal(kchan_reader_next(&r, &rec), 0);
		assert_int_equal(kchan_reader_feed(&r, a + i, 1), 0);
	}
	assert_int_equal(kchan_reader_next(&r, &rec), 1);
	assert_int_equal(rec.seq, 0);
	assert_int_equal(rec.type, KREC_CELL);
	assert_string_equal(rec.payload, "{\"i\":0}");
	assert_int_equal(kchan_reader_feed(&r, b, l2), 0);
	assert_int_equal(kchan_reader_next(&r, &rec), 1);
	assert_string_equal(rec.payload, "second");
	assert_int_equal(kchan_reader_next(&r, &rec), 0);
	assert_int_equal(kchan_reader_pending(&r), 0);
	kchan_reader_release(&r);
	free(a);
	free(b);
}

static void expect_denied(const unsigned char *key, const unsigned char *data, size_t len)
{
	struct kchan_reader r;
	struct kchan_rec rec;
	int rc;

	kchan_reader_init(&r, key);
	assert_int_equal(kchan_reader_feed(&r, data, len), 0);
	while ((rc = kchan_reader_next(&r, &rec)) == 1)
		;
	assert_int_equal(rc, GR_EDENIED);
	assert_true(r.broken);
	/* broken stays broken, even if a valid record follows */
	assert_int_equal(kchan_reader_next(&r, &rec), GR_EDENIED);
	kchan_reader_release(&r);
}

static void test_kernel__chan_rejects_forgeries(void **state)
{
	size_t l1, l2;
	unsigned char *a = frame(key1, 0, "{\"status\":\"ok\"}", &l1);
	unsigned char *b = frame(key1, 1, "{\"status\":\"ok\"}", &l2);
	unsigned char *both = malloc(l1 + l2);
	(void)state;

	assert_non_null(both);
	/* another key */
	expect_denied(key2, a, l1);
	/* a flipped payload byte, a flipped MAC byte, a changed sequence number */
	a[KCHAN_HDR_LEN + 3] ^= 1;
	expect_denied(key1, a, l1);
	a[KCHAN_HDR_LEN + 3] ^= 1;
	a[l1 - 1] ^= 0x80;
	expect_denied(key1, a, l1);
	a[l1 - 1] ^= 0x80;
	a[7] ^= 1;
	expect_denied(key1, a, l1);
	a[7] ^= 1;
	/* out of order, replayed, skipped */
	expect_denied(key1, b, l2);
	memcpy(both, a, l1);
	memcpy(both + l1, a, l1);
	expect_denied(key1, both, 2 * l1);
	/* garbage is judged on its first byte, without waiting for a header */
	expect_denied(key1, (const unsigned char *)"o", 1);
	/* an absurd length */
	memcpy(both, a, KCHAN_HDR_LEN);
	both[12] = 0xff;
	expect_denied(key1, both, KCHAN_HDR_LEN);
	free(a);
	free(b);
	free(both);
}

static void test_kernel__result_json_shape(void **state)
{
	struct kernel_result *r = calloc(1, sizeof(*r));
	json_t *j, *c;
	(void)state;

	assert_non_null(r);
	r->status = KERNEL_NB_TAMPERED;
	r->tampered = 1;
	r->ncells = 2;
	r->cells = calloc(2, sizeof(*r->cells));
	r->cells[0].index = 3;
	r->cells[0].number = 1;
	r->cells[0].status = KERNEL_CELL_ERROR;
	r->cells[0].ename = strdup("ValueError");
	r->cells[0].out = strdup("x\n");
	r->cells[1].status = KERNEL_CELL_NOT_RUN;
	r->nreplaced = 1;
	r->replaced = calloc(1, sizeof(char *));
	r->replaced[0] = strdup("builtins.len");
	j = kernel_result_json(r);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "tampered");
	assert_true(json_is_true(json_object_get(j, "tampered")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "replaced"), 0)),
			    "builtins.len");
	c = json_array_get(json_object_get(j, "cells"), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "index")), 3);
	assert_string_equal(json_string_value(json_object_get(c, "status")), "error");
	assert_string_equal(json_string_value(json_object_get(c, "stdout")), "x\n");
	assert_true(json_is_null(json_object_get(c, "result")));
	c = json_array_get(json_object_get(j, "cells"), 1);
	assert_string_equal(json_string_value(json_object_get(c, "status")), "not_run");
	assert_string_equal(json_string_value(json_object_get(c, "stderr")), "");
	json_decref(j);
	kernel_result_free(r);
	kernel_result_free(NULL);
	kernel_free(NULL);
	assert_string_equal(kernel_cell_status_name(KERNEL_CELL_TIMEOUT), "timeout");
	assert_string_equal(kernel_status_name(KERNEL_NB_CRASHED), "crashed");
}

static int sandbox_available(void)
{
	struct sbx_probe p;

	return sbx_probe_host(&p, NULL) == 0 && p.complete;
}

static void test_kernel__run_through_zygote(void **state)
{
	static const char *const src[] = {
	    "x = 6 * 7\nprint('hi')", "x", "raise KeyError('k')", "import os\nos._exit(0)", "x",
	};
	char dir[] = "/tmp/test_kernel.XXXXXX";
	struct kernel_opts opts;
	struct gr_err err = {0};
	struct kernel_result *r = NULL;
	kernel *k = NULL;
	(void)state;

	SKIP_UNLESS_ROOT_HOST(sandbox_available(),
			      "this host cannot build the sandbox (root needed)");
	kernel_opts_init(&opts);
	assert_int_equal(kernel_new(&k, &opts, &err), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(kernel_run_sources(k, &r, src, 5, dir, &err), 0);
	assert_int_equal(r->ncells, 5);
	assert_int_equal(r->cells[0].status, KERNEL_CELL_OK);
	assert_string_equal(r->cells[0].out, "hi\n");
	assert_string_equal(r->cells[1].result, "42");
	assert_int_equal(r->cells[2].status, KERNEL_CELL_ERROR);
	assert_string_equal(r->cells[2].ename, "KeyError");
	assert_non_null(strstr(r->cells[2].traceback, "<cell 3>"));
	assert_int_equal(r->cells[3].status, KERNEL_CELL_ERROR);
	assert_int_equal(r->cells[4].status, KERNEL_CELL_NOT_RUN);
	assert_true(r->tampered);
	kernel_result_free(r);
	r = NULL;
	/* the same zygote serves the next run, from a clean state */
	assert_int_equal(kernel_run_sources(k, &r, src + 4, 1, dir, &err), 0);
	assert_int_equal(r->cells[0].status, KERNEL_CELL_ERROR);
	assert_string_equal(r->cells[0].ename, "NameError");
	assert_int_equal(r->status, KERNEL_NB_OK);
	kernel_result_free(r);
	kernel_free(k);
	assert_int_equal(gr_rm_rf(dir, &err), 0);
}

static const char *out_type(json_t *outs, size_t i)
{
	return json_string_value(json_object_get(json_array_get(outs, i), "output_type"));
}

/* Every output of a cell, in the order a Jupyter kernel sends them. */
static void test_kernel__outputs_in_order(void **state)
{
	static const char *const src[] = {
	    "import sys\nprint('before')\ndisplay(6 * 7)\nprint('w', file=sys.stderr)\n"
	    "print('after')\n'res'",
	    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
	    "plt.plot([1, 2])",
	    "print('x')\n1 / 0",
	    "pass",
	    "class H:\n    def _repr_html_(self):\n        return 'x' * (5 << 20)\n"
	    "display(H())\ndisplay(H())",
	};
	char dir[] = "/tmp/test_kernel.XXXXXX";
	struct kernel_opts opts;
	struct gr_err err = {0};
	struct kernel_result *r = NULL;
	kernel *k = NULL;
	json_t *o, *e;
	(void)state;

	SKIP_UNLESS_ROOT_HOST(sandbox_available(),
			      "this host cannot build the sandbox (root needed)");
	kernel_opts_init(&opts);
	assert_int_equal(kernel_new(&k, &opts, &err), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(kernel_run_sources(k, &r, src, 5, dir, &err), 0);
	o = r->cells[0].outputs;
	assert_int_equal(json_array_size(o), 5);
	assert_string_equal(out_type(o, 0), "stream");
	assert_string_equal(json_string_value(json_object_get(json_array_get(o, 0), "text")),
			    "before\n");
	assert_string_equal(out_type(o, 1), "display_data");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(o, 1), "data"), "text/plain")),
			    "42");
	assert_string_equal(json_string_value(json_object_get(json_array_get(o, 2), "text")),
			    "after\n");
	assert_string_equal(json_string_value(json_object_get(json_array_get(o, 3), "name")),
			    "stderr");
	assert_string_equal(out_type(o, 4), "execute_result");
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(o, 4), "execution_count")), 1);
	/* a figure left open is shown after the cell's result, as a PNG */
	o = r->cells[1].outputs;
	assert_int_equal(json_array_size(o), 2);
	assert_string_equal(out_type(o, 0), "execute_result");
	assert_string_equal(out_type(o, 1), "display_data");
	assert_true(strncmp(json_string_value(json_object_get(
				json_object_get(json_array_get(o, 1), "data"), "image/png")),
			    "iVBORw0KGgo", 11) == 0);
	o = r->cells[2].outputs;
	assert_int_equal(json_array_size(o), 2);
	e = json_array_get(o, 1);
	assert_string_equal(out_type(o, 1), "error");
	assert_string_equal(json_string_value(json_object_get(e, "ename")), "ZeroDivisionError");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(e, "traceback"),
					     json_array_size(json_object_get(e, "traceback")) - 1)),
	    "ZeroDivisionError: division by zero");
	assert_int_equal(json_array_size(r->cells[3].outputs), 0);
	/* displays past the cap are dropped with a word, never costing the run */
	o = r->cells[4].outputs;
	assert_false(r->tampered);
	assert_int_equal(json_array_size(o), 2);
	assert_int_equal(json_string_length(json_object_get(
			     json_object_get(json_array_get(o, 0), "data"), "text/html")),
			 5 << 20);
	assert_non_null(strstr(json_string_value(json_object_get(
				   json_object_get(json_array_get(o, 1), "data"), "text/html")),
			       "display dropped"));
	kernel_result_free(r);
	kernel_free(k);
	assert_int_equal(gr_rm_rf(dir, &err), 0);
}

/* Kill our children (the zygote) as found in /proc. */
static int kill_children(void)
{
	char path[64];
	FILE *f;
	int n = 0, pid;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fscanf(f, "%d", &pid) == 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		n++;
	}
	fclose(f);
	return n;
}

static void test_kernel__restarts_a_dead_zygote(void **state)
{
	static const char *const src[] = {"6 * 7"};
	char dir[] = "/tmp/test_kernel.XXXXXX";
	struct kernel_opts opts;
	struct gr_err err = {0};
	struct kernel_result *r = NULL;
	kernel *k = NULL;
	(void)state;

	SKIP_UNLESS_ROOT_HOST(sandbox_available(),
			      "this host cannot build the sandbox (root needed)");
	kernel_opts_init(&opts);
	assert_int_equal(kernel_new(&k, &opts, &err), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(kill_children(), 1);
	assert_int_equal(kernel_run_sources(k, &r, src, 1, dir, &err), 0);
	assert_string_equal(r->cells[0].result, "42");
	kernel_result_free(r);
	kernel_free(k);
	assert_int_equal(gr_rm_rf(dir, &err), 0);
}

static void test_kernel__bad_preload_fails(void **state)
{
	static const char *const pre[] = {"no_such_module_xyz", NULL};
	struct kernel_opts opts;
	struct gr_err err = {0};
	kernel *k = NULL;
	(void)state;

	SKIP_UNLESS_ROOT_HOST(sandbox_available(),
			      "this host cannot build the sandbox (root needed)");
	kernel_opts_init(&opts);
	opts.preload = pre;
	assert_int_equal(kernel_new(&k, &opts, &err), GR_ENOTFOUND);
	assert_null(k);
	assert_non_null(strstr(err.msg, "cannot preload 'no_such_module_xyz'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kernel__chan_roundtrip),
	    cmocka_unit_test(test_kernel__chan_rejects_forgeries),
	    cmocka_unit_test(test_kernel__result_json_shape),
	    cmocka_unit_test(test_kernel__run_through_zygote),
	    cmocka_unit_test(test_kernel__outputs_in_order),
	    cmocka_unit_test(test_kernel__restarts_a_dead_zygote),
	    cmocka_unit_test(test_kernel__bad_preload_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
