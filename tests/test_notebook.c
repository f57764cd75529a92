/* test_notebook.c - unit tests for reading notebooks and scripts (notebook.h). */
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

#include "grader/notebook.h"
#include "notebook_fixture.h"

static void parse_fails(const char *text, int code, const char *msg)
{
	size_t len = strlen(text);
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	assert_int_equal(nb_parse(&nb, text, len, "ps1.ipynb", &err), code);
	assert_null(nb);
	assert_string_equal(err.msg, msg);
	assert_null(strchr(err.msg, '\n'));
}

/* Parse must fail with `code` and a message starting with `prefix`. */
static void parse_fails_prefix(const char *text, int code, const char *prefix)
{
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	assert_int_equal(nb_parse(&nb, text, strlen(text), "ps1.ipynb", &err), code);
	assert_null(nb);
	if (strncmp(err.msg, prefix, strlen(prefix)))
		fail_msg("message '%s' does not start with '%s'", err.msg, prefix);
	assert_null(strchr(err.msg, '\n'));
}

static void test_notebook__string_and_list_sources(void **state)
{
	struct nb_notebook *nb;
	(void)state;
	nb = parse_ok("{\"nbformat\": 4, \"nbformat_minor\": 2, \"metadata\": {}, \"cells\": ["
		      "{\"cell_type\": \"code\", \"metadata\": {}, \"outputs\": [],"
		      " \"execution_count\": null, \"source\": \"x = 1\\ny = 2\"},"
		      "{\"cell_type\": \"markdown\", \"metadata\": {},"
		      " \"source\": [\"# T\\n\", \"\\n\", \"text\"]},"
		      "{\"cell_type\": \"raw\", \"metadata\": {}, \"source\": []}]}");
	assert_int_equal(nb->ncells, 3);
	assert_int_equal(nb->nbformat_minor, 2);
	assert_int_equal(nb->from_script, 0);
	assert_string_equal(nb->path, "t.ipynb");
	assert_int_equal(nb->cells[0].type, NB_CELL_CODE);
	assert_string_equal(nb->cells[0].source, "x = 1\ny = 2");
	assert_int_equal(nb->cells[1].type, NB_CELL_MARKDOWN);
	assert_string_equal(nb->cells[1].source, "# T\n\ntext");
	assert_int_equal(nb->cells[2].type, NB_CELL_RAW);
	assert_string_equal(nb->cells[2].source, "");
	assert_ptr_equal(nb->cells[1].json, json_array_get(json_object_get(nb->root, "cells"), 1));
	assert_null(nb->cells[0].id);
	assert_int_equal(nb->cells[0].nbgrader.present, 0);
	nb_free(nb);
	nb_free(NULL);
}

static void test_notebook__minor_versions(void **state)
{
	char text[512];
	struct nb_notebook *nb;
	int minor;
	(void)state;
	for (minor = 0; minor <= 5; minor++) {
		snprintf(text, sizeof(text),
			 "{\"nbformat\": 4, \"nbformat_minor\": %d, \"metadata\": {}, \"cells\": ["
			 "{\"cell_type\": \"code\", \"metadata\": {}, \"outputs\": [],"
			 " \"execution_count\": null, %s \"source\": \"pass\"}]}",
			 minor, minor >= 5 ? "\"id\": \"abc-1_x\"," : "");
		nb = parse_ok(text);
		assert_int_equal(nb->nbformat_minor, minor);
		assert_int_equal(nb->ncells, 1);
		if (minor >= 5)
			assert_string_equal(nb->cells[0].id, "abc-1_x");
		else
			assert_null(nb->cells[0].id);
		nb_free(nb);
	}
	/* nbformat_minor may be missing (treated as 0); a later minor is fine too */
	nb = parse_ok("{\"nbformat\": 4, \"cells\": []}");
	assert_int_equal(nb->nbformat_minor, 0);
	nb_free(nb);
	nb = parse_ok("{\"nbformat\": 4, \"nbformat_minor\": 9, \"cells\": []}");
	assert_int_equal(nb->nbformat_minor, 9);
	nb_free(nb);
}

static void test_notebook__nbgrader_meta(void **state)
{
	struct nb_notebook *nb;
	const struct nb_grader_meta *m;
	(void)state;
	nb = parse_ok(jupyter_nb);
	assert_int_equal(nb->ncells, 3);
	assert_string_equal(nb->cells[0].id, "a1b2c3d4");
	assert_int_equal(nb->cells[0].nbgrader.present, 0);
	m = &nb->cells[1].nbgrader;
	assert_int_equal(m->present, 1);
	assert_int_equal(m->grade, 1);
	assert_int_equal(m->solution, 0);
	assert_int_equal(m->locked, 1);
	assert_int_equal(m->task, 0);
	assert_string_equal(m->grade_id, "test_add");
	assert_int_equal(m->has_points, 1);
	assert_true(m->points == 2.5);
	assert_string_equal(m->checksum, "8f0e6e3b3a1b6c1f0d0c7b5d2f7a9e11");
	assert_int_equal(m->schema_version, 3);
	assert_ptr_equal(nb_find_cell(nb, "test_add"), &nb->cells[1]);
	assert_null(nb_find_cell(nb, "nope"));
	nb_free(nb);

	/* missing booleans default to false; integer points; no checksum */
	nb = parse_ok("{\"nbformat\": 4, \"nbformat_minor\": 4, \"cells\": ["
		      "{\"cell_type\": \"code\", \"metadata\": {\"nbgrader\": {\"solution\": true,"
		      " \"grade_id\": \"q1\", \"points\": 3}}, \"source\": \"\"}]}");
	m = &nb->cells[0].nbgrader;
	assert_int_equal(m->present, 1);
	assert_int_equal(m->solution, 1);
	assert_int_equal(m->grade + m->locked + m->task, 0);
	assert_true(m->points == 3.0);
	assert_null(m->checksum);
	assert_int_equal(m->schema_version, 0);
	nb_free(nb);
}

static void test_notebook__malformed_json(void **state)
{
	(void)state;
	parse_fails_prefix("{\n \"nbformat\": 4,\n \"cells\": [,]\n}", GR_EINVAL,
			   "cannot read 'ps1.ipynb': not valid JSON at line 3 column ");
	parse_fails_prefix("", GR_EINVAL, "cannot read 'ps1.ipynb': not valid JSON at line ");
	parse_fails_prefix("print('hi')", GR_EINVAL,
			   "cannot read 'ps1.ipynb': not valid JSON at line 1 column ");
	parse_fails_prefix("{\"nbformat\": 4, \"cells\": []} trailing", GR_EINVAL,
			   "cannot read 'ps1.ipynb': not valid JSON at line 1 column ");
}

static void test_notebook__not_nbformat4(void **state)
{
	(void)state;
	parse_fails("{\"cells\": []}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': not an nbformat 4 notebook (no nbformat field)");
	parse_fails("{\"nbformat\": 2, \"worksheets\": []}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': not an nbformat 4 notebook (nbformat is 2)");
	parse_fails("{\"nbformat\": 3, \"nbformat_minor\": 0, \"worksheets\": 7}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': nbformat 3 notebook whose worksheets is not a list");
	parse_fails("{\"nbformat\": \"4\", \"cells\": []}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': not an nbformat 4 notebook "
		    "(nbformat is not an integer)");
	parse_fails("[1, 2]", GR_EINVAL,
		    "cannot read 'ps1.ipynb': not a notebook (the top level is not an object)");
	parse_fails("{\"nbformat\": 4, \"nbformat_minor\": -1, \"cells\": []}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': nbformat_minor is not a small integer");
}

/* nbformat 3 is read as nbgrader reads it: upgraded to 4 by nbformat's rules. */
static void test_notebook__nbformat3_upgraded(void **state)
{
	static const char v3[] =
	    "{\"nbformat\": 3, \"nbformat_minor\": 0, \"metadata\": {\"name\": \"ps1\"},"
	    " \"worksheets\": [{\"cells\": ["
	    "{\"cell_type\": \"heading\", \"level\": 2, \"metadata\": {}, \"source\": "
	    "[\"Part\\n\", \"one\\n\"]},"
	    "{\"cell_type\": \"code\", \"language\": \"python\", \"collapsed\": false,"
	    " \"input\": [\"x = 1\\n\", \"x\"], \"prompt_number\": 3, \"metadata\": {\"nbgrader\":"
	    " {\"grade\": true, \"grade_id\": \"t\", \"locked\": true, \"points\": 1, "
	    "\"schema_version\": 3,"
	    " \"solution\": false}},"
	    " \"outputs\": [{\"output_type\": \"pyout\", \"prompt_number\": 3, \"text\": [\"1\"], "
	    "\"metadata\": {}},"
	    "  {\"output_type\": \"stream\", \"stream\": \"stdout\", \"text\": [\"hi\"]}]}]},"
	    " {\"cells\": [{\"cell_type\": \"markdown\", \"metadata\": {}, \"source\": "
	    "\"more\"}]}]}";
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	json_t *c, *o;
	(void)state;

	assert_int_equal(nb_parse(&nb, v3, strlen(v3), "old.ipynb", &err), 0);
	assert_int_equal(nb->orig_nbformat, 3);
	assert_int_equal(nb->ncells, 3);
	assert_int_equal(nb->cells[0].type, NB_CELL_MARKDOWN);
	assert_string_equal(nb->cells[0].source, "## Part one");
	assert_int_equal(nb->cells[1].type, NB_CELL_CODE);
	assert_string_equal(nb->cells[1].source, "x = 1\nx");
	assert_true(nb->cells[1].nbgrader.grade);
	assert_string_equal(nb->cells[1].nbgrader.grade_id, "t");
	c = nb->cells[1].json;
	assert_int_equal(json_integer_value(json_object_get(c, "execution_count")), 3);
	assert_null(json_object_get(c, "input"));
	assert_null(json_object_get(c, "language"));
	assert_true(json_is_false(json_object_get(json_object_get(c, "metadata"), "collapsed")));
	o = json_array_get(json_object_get(c, "outputs"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "output_type")), "execute_result");
	assert_non_null(json_object_get(json_object_get(o, "data"), "text/plain"));
	o = json_array_get(json_object_get(c, "outputs"), 1);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "stdout");
	assert_string_equal(nb->cells[2].source, "more"); /* the second worksheet follows */
	assert_int_equal(json_integer_value(json_object_get(nb->root, "nbformat")), 4);
	assert_null(json_object_get(nb->root, "worksheets"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(nb->root, "metadata"),
							    "orig_nbformat")),
			 3);
	assert_null(json_object_get(json_object_get(nb->root, "metadata"), "name"));
	nb_free(nb);
}

static void test_notebook__python_nonfinite_floats(void **state)
{
	struct nb_notebook *nb;
	const json_t *a;
	(void)state;
	/* Python writes NaN/Infinity for non-finite floats: read as null */
	nb = parse_ok(
	    "{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", \"source\":"
	    " \"x = 'NaN \\\" Infinity'\", \"outputs\": [{\"output_type\": \"display_data\","
	    " \"data\": {\"application/json\": [NaN, -Infinity, Infinity, 1.5]}}]}]}");
	assert_string_equal(nb->cells[0].source, "x = 'NaN \" Infinity'");
	a = json_object_get(
	    json_object_get(json_array_get(json_object_get(nb->cells[0].json, "outputs"), 0),
			    "data"),
	    "application/json");
	assert_int_equal(json_array_size(a), 4);
	assert_true(json_is_null(json_array_get(a, 0)));
	assert_true(json_is_null(json_array_get(a, 2)));
	assert_true(json_real_value(json_array_get(a, 3)) == 1.5);
	nb_free(nb);
	/* another syntax error is still reported where it is */
	parse_fails_prefix("{\"nbformat\": 4, \"x\": NaN,\n\"cells\": [}", GR_EINVAL,
			   "cannot read 'ps1.ipynb': not valid JSON at line 1 column ");
}

static void test_notebook__cells_array(void **state)
{
	struct nb_notebook *nb;
	(void)state;
	parse_fails("{\"nbformat\": 4, \"nbformat_minor\": 5}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': no cells array");
	parse_fails("{\"nbformat\": 4, \"cells\": {}}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': cells is not an array");
	nb = parse_ok("{\"nbformat\": 4, \"nbformat_minor\": 5, \"metadata\": {}, \"cells\": []}");
	assert_int_equal(nb->ncells, 0);
	assert_null(nb->cells);
	nb_free(nb);
}

#define NB_HEAD                                                                                    \
	"{\"nbformat\": 4, \"nbformat_minor\": 4, \"cells\": ["                                    \
	"{\"cell_type\": \"markdown\", \"source\": \"ok\"}, "

static void check_cell_error(const char *cell2, const char *msg)
{
	char text[1024];
	snprintf(text, sizeof(text), "%s%s]}", NB_HEAD, cell2);
	parse_fails(text, GR_EINVAL, msg);
}

static void test_notebook__malformed_cells(void **state)
{
	(void)state;
	check_cell_error("{\"cell_type\": \"code\", \"metadata\": {}}",
			 "'ps1.ipynb': cell 2 has no source");
	check_cell_error("{\"cell_type\": \"heading\", \"source\": \"x\"}",
			 "'ps1.ipynb': cell 2 has unknown cell_type 'heading'");
	check_cell_error("{\"source\": \"x\"}", "'ps1.ipynb': cell 2 has no cell_type");
	check_cell_error("{\"cell_type\": 7, \"source\": \"x\"}",
			 "'ps1.ipynb': cell 2 cell_type is not a string");
	check_cell_error("{\"cell_type\": \"code\", \"source\": 12}",
			 "'ps1.ipynb': cell 2 source is not a string or a list of strings");
	check_cell_error("{\"cell_type\": \"code\", \"source\": [\"a\", null]}",
			 "'ps1.ipynb': cell 2 source is not a string or a list of strings");
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"a\\u0000b\"}",
			 "'ps1.ipynb': cell 2 source contains a NUL character");
	check_cell_error("42", "'ps1.ipynb': cell 2 is not an object");
	check_cell_error("{\"cell_type\": \"code\", \"id\": 5, \"source\": \"\"}",
			 "'ps1.ipynb': cell 2 id is not a string");
	check_cell_error("{\"cell_type\": \"code\", \"metadata\": [], \"source\": \"\"}",
			 "'ps1.ipynb': cell 2 metadata is not an object");
}

static void test_notebook__nbgrader_wrong_types(void **state)
{
	(void)state;
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " {\"grade\": true, \"grade_id\": \"q1\", \"points\": \"2\"}}}",
			 "'ps1.ipynb': cell 2 (grade_id 'q1'): nbgrader points is not a number");
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " {\"grade\": \"yes\", \"grade_id\": \"q2\"}}}",
			 "'ps1.ipynb': cell 2 (grade_id 'q2'): nbgrader grade is not a boolean");
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " {\"locked\": 1}}}",
			 "'ps1.ipynb': cell 2: nbgrader locked is not a boolean");
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " {\"grade_id\": 17}}}",
			 "'ps1.ipynb': cell 2: nbgrader grade_id is not a string");
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " {\"grade_id\": \"q3\", \"points\": -1}}}",
			 "'ps1.ipynb': cell 2 (grade_id 'q3'): nbgrader points is negative");
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " {\"grade_id\": \"q4\", \"checksum\": 5}}}",
			 "'ps1.ipynb': cell 2 (grade_id 'q4'): nbgrader checksum is not a string");
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " {\"grade_id\": \"q5\", \"schema_version\": \"3\"}}}",
			 "'ps1.ipynb': cell 2 (grade_id 'q5'): nbgrader schema_version is not "
			 "an integer");
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " true}}",
			 "'ps1.ipynb': cell 2 metadata.nbgrader is not an object");
}

static void test_notebook__non_utf8(void **state)
{
	static const char bad[] = "{\"nbformat\": 4, \"cells\": [\n"
				  "{\"cell_type\": \"code\", \"source\": \"caf\xe9\"}]}";
	(void)state;
	parse_fails_prefix(bad, GR_EINVAL, "cannot read 'ps1.ipynb': not valid UTF-8 at line 2 ");
}

static void test_notebook__messages_stay_one_line(void **state)
{
	struct nb_notebook *nb;
	(void)state;
	/* a grade_id with a newline cannot split the message */
	check_cell_error("{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"nbgrader\":"
			 " {\"grade_id\": \"a\\nb\", \"points\": true}}}",
			 "'ps1.ipynb': cell 2 (grade_id 'a?b'): nbgrader points is not a number");
	/* a raw NUL byte or control character outside strings is a JSON error */
	parse_fails_prefix("{\"nbformat\": 4,\n\x01 \"cells\": []}", GR_EINVAL,
			   "cannot read 'ps1.ipynb': not valid JSON at line 2 column ");
	assert_int_equal(nb_parse(&nb, "{\0}", 3, "z.ipynb", NULL), GR_EINVAL);
	/* a UTF-8 byte order mark is tolerated */
	nb = parse_ok("\xef\xbb\xbf{\"nbformat\": 4, \"cells\": []}");
	nb_free(nb);
}

/*
 * Thousands of corruptions of a real notebook (fixed seed): each one parses
 * or fails with a one-line message naming the file; never a crash (ASan).
 */
static void test_notebook__mutations_never_crash(void **state)
{
	size_t len = strlen(jupyter_nb), i, k;
	char *buf = malloc(len + 1), *dump;
	unsigned seed = 12345;
	struct nb_notebook *nb;
	struct gr_err err;
	int ok = 0, bad = 0;
	(void)state;
	assert_non_null(buf);
	for (i = 0; i < 3000; i++) {
		memcpy(buf, jupyter_nb, len + 1);
		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			buf[at] = (char)(i % 3 == 0 ? "{}[]\",:0\x00\xff"[(seed >> 16) % 10]
						    : (char)(seed >> 16));
		}
		nb = NULL;
		memset(&err, 0, sizeof(err));
		if (nb_parse(&nb, buf, len, "m.ipynb", &err) == 0) {
			ok++;
			dump = NULL;
			assert_int_equal(nb_dump(&dump, nb, &err), 0);
			free(dump);
			nb_free(nb);
		} else {
			bad++;
			assert_null(nb);
			assert_non_null(strstr(err.msg, "'m.ipynb'"));
			for (k = 0; err.msg[k]; k++)
				assert_true((unsigned char)err.msg[k] >= 0x20);
		}
	}
	print_message("mutations: %d parsed, %d refused\n", ok, bad);
	assert_true(ok > 0 && bad > 0);
	free(buf);
}

/* Random scripts from separator-like pieces: cell sources always add up. */
static void test_notebook__random_scripts(void **state)
{
	static const char *const pieces[] = {"# %%",	 "#%%", " [markdown]", " [raw]", "\n",
					     "\r\n",	 "# ",	"#",	       "x = 1",	 "  ",
					     "\xc3\xa9", "%%",	"[md]",	       "\t"};
	char buf[512];
	size_t i, k, n;
	unsigned seed = 777;
	struct nb_notebook *nb;
	struct gr_err err;
	(void)state;
	for (i = 0; i < 2000; i++) {
		n = 0;
		for (k = 0; k < 30; k++) {
			const char *p;
			seed = seed * 1103515245u + 12345u;
			p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(buf + n, p, strlen(p));
			n += strlen(p);
		}
		nb = NULL;
		assert_int_equal(nb_parse_script(&nb, buf, n, "r.py", &err), 0);
		for (k = 0; k < nb->ncells; k++) {
			assert_non_null(nb->cells[k].source);
			assert_null(strchr(nb->cells[k].source, '\r'));
		}
		nb_free(nb);
	}
}

static void test_notebook__deep_nesting(void **state)
{
	size_t depth = 100000, i, n = 0;
	char *text = malloc(2 * depth + 64);
	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text, "{\"nbformat\": 4, \"cells\": [], \"x\": ");
	for (i = 0; i < depth; i++)
		text[n++] = '[';
	for (i = 0; i < depth; i++)
		text[n++] = ']';
	text[n++] = '}';
	text[n] = '\0';
	parse_fails_prefix(text, GR_EINVAL, "cannot read 'ps1.ipynb': JSON nested too deeply");
	free(text);
}

static void test_notebook__too_large(void **state)
{
	char *dir = tmpdir_new(), *path;
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	int fd;
	(void)state;

	/* 100 MB of "outputs": refused by size before any parsing */
	path = gr_path_join(dir, "huge.ipynb");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"nbformat\": 4, \"cells\": [], \"x\": \"", 35), 35);
	assert_int_equal(ftruncate(fd, 100 * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(nb_read_file(&nb, path, &err), GR_ELIMIT);
	assert_null(nb);
	assert_non_null(strstr(err.msg, "huge.ipynb"));
	assert_non_null(strstr(err.msg, "larger than"));
	/* 10 MB of tiny values would cost jansson ~40 bytes each: refused */
	{
		size_t n = 10 * 1000 * 1000, k;
		char *bomb = malloc(n + 64);
		assert_non_null(bomb);
		k = (size_t)sprintf(bomb, "{\"nbformat\": 4, \"cells\": [], \"x\": [");
		while (k < n) {
			bomb[k++] = '0';
			bomb[k++] = ',';
		}
		strcpy(bomb + k, "0]}");
		assert_int_equal(nb_parse(&nb, bomb, strlen(bomb), "bomb.ipynb", &err), GR_ELIMIT);
		assert_string_equal(err.msg,
				    "cannot read 'bomb.ipynb': more than 4000000 JSON values");
		/* commas inside strings do not count */
		k = (size_t)sprintf(bomb, "{\"nbformat\": 4, \"cells\": [], \"x\": \"");
		memset(bomb + k, ',', n - k);
		strcpy(bomb + n, "\"}");
		assert_int_equal(nb_parse(&nb, bomb, strlen(bomb), "commas.ipynb", &err), 0);
		nb_free(nb);
		nb = NULL;
		free(bomb);
	}
	/* the in-memory entry point applies the same cap */
	assert_int_equal(nb_parse(&nb, "{}", (size_t)NB_MAX_FILE + 1, "big.ipynb", &err),
			 GR_ELIMIT);
	assert_string_equal(err.msg, "cannot read 'big.ipynb': larger than 67108864 bytes");
	assert_int_equal(gr_rm_rf(dir, &err), 0);
	free(path);
	free(dir);
}

/* A notebook of `ncells` code cells each with an output of `chunk` bytes. */
static char *big_notebook(size_t ncells, size_t chunk, size_t *len)
{
	size_t cap = ncells * (chunk + 256) + 256, n = 0, i;
	char *text = malloc(cap);
	assert_non_null(text);
	n += (size_t)sprintf(text, "{\"nbformat\": 4, \"nbformat_minor\": 5, \"metadata\": {},"
				   " \"cells\": [");
	for (i = 0; i < ncells; i++) {
		n += (size_t)sprintf(
		    text + n,
		    "%s{\"cell_type\": \"code\", \"id\": \"c%zu\", \"metadata\": {},"
		    " \"execution_count\": 1, \"source\": [\"print(%zu)\\n\", \"x\"],"
		    " \"outputs\": [{\"output_type\": \"stream\", \"name\": \"stdout\","
		    " \"text\": \"",
		    i ? ", " : "", i, i);
		memset(text + n, 'a', chunk);
		n += chunk;
		n += (size_t)sprintf(text + n, "\\n\"}]}");
	}
	n += (size_t)sprintf(text + n, "]}");
	*len = n;
	return text;
}

static void test_notebook__large_notebook(void **state)
{
	size_t len;
	char *text = big_notebook(2000, 10000, &len), *dump = NULL;
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	double t0, parse_s, dump_s;
	(void)state;

	assert_true(len > 20 * 1000 * 1000);
	t0 = gr_now();
	assert_int_equal(nb_parse(&nb, text, len, "big.ipynb", &err), 0);
	parse_s = gr_now() - t0;
	assert_int_equal(nb->ncells, 2000);
	assert_string_equal(nb->cells[1999].source, "print(1999)\nx");
	t0 = gr_now();
	assert_int_equal(nb_dump(&dump, nb, &err), 0);
	dump_s = gr_now() - t0;
	print_message("20 MB notebook: parse %.3f s, dump %.3f s\n", parse_s, dump_s);
	assert_true(parse_s < 10.0);
	assert_true(dump_s < 10.0);
	free(dump);
	nb_free(nb);
	free(text);

	/* 60 MB of outputs, just under the cap, is accepted in linear time */
	text = big_notebook(60, 1000000, &len);
	assert_true(len < NB_MAX_FILE);
	t0 = gr_now();
	assert_int_equal(nb_parse(&nb, text, len, "outputs.ipynb", &err), 0);
	print_message("60 MB of outputs: parse %.3f s\n", gr_now() - t0);
	assert_true(gr_now() - t0 < 15.0);
	nb_free(nb);
	free(text);
}

static void test_notebook__write_and_read_file(void **state)
{
	char *dir = tmpdir_new(), *path, *other, *data = NULL;
	struct nb_notebook *nb = parse_ok(jupyter_nb), *back = NULL;
	struct gr_err err = {0};
	size_t len;
	(void)state;

	path = gr_path_join(dir, "ps1.ipynb");
	assert_int_equal(nb_write_file(nb, path, &err), 0);
	assert_int_equal(gr_read_file(&data, &len, path, 0, &err), 0);
	assert_string_equal(data, jupyter_nb);
	assert_int_equal(nb_read_file(&back, path, &err), 0);
	assert_string_equal(back->path, path);
	assert_int_equal(back->ncells, 3);
	nb_free(back);
	back = NULL;
	/* unknown extension: content decides (JSON here) */
	other = gr_path_join(dir, "submission.txt");
	write_file(other, data, len);
	assert_int_equal(nb_read_file(&back, other, &err), 0);
	assert_int_equal(back->from_script, 0);
	assert_int_equal(back->ncells, 3);
	nb_free(back);
	back = NULL;
	free(other);
	/* unknown extension, not JSON: a percent script */
	other = gr_path_join(dir, "answer");
	write_file(other, "x = 1\n# %%\ny = 2\n", 17);
	assert_int_equal(nb_read_file(&back, other, &err), 0);
	assert_int_equal(back->from_script, 1);
	assert_int_equal(back->ncells, 2);
	nb_free(back);
	back = NULL;
	free(other);
	/* .ipynb that is a script is an error naming the file */
	other = gr_path_join(dir, "bad.ipynb");
	write_file(other, "x = 1\n", 6);
	assert_int_equal(nb_read_file(&back, other, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "bad.ipynb"));
	assert_non_null(strstr(err.msg, "not valid JSON at line 1 column"));
	free(other);
	/* a missing file */
	other = gr_path_join(dir, "missing.ipynb");
	assert_int_equal(nb_read_file(&back, other, &err), GR_ENOTFOUND);
	assert_non_null(strstr(err.msg, "missing.ipynb"));
	free(other);

	free(data);
	nb_free(nb);
	assert_int_equal(gr_rm_rf(dir, &err), 0);
	free(path);
	free(dir);
}

static void test_notebook__percent_script(void **state)
{
	struct nb_notebook *nb;
	struct nb_notebook *nb2 = NULL;
	struct gr_err err = {0};
	(void)state;

	/* leading text, code cells, markdown cells with '# ' stripped */
	nb = script_ok("import math\n\n# %% [markdown]\n# # Title\n#\n# Some *text*\n\n"
		       "# %%\ndef f(x):\n    return x\n\n\n# %% Question 2\nprint(f(2))\n"
		       "#%%\n# a comment stays\n# %%% not a separator\n");
	assert_int_equal(nb->ncells, 5);
	assert_int_equal(nb->cells[0].type, NB_CELL_CODE);
	assert_string_equal(nb->cells[0].source, "import math");
	assert_int_equal(nb->cells[1].type, NB_CELL_MARKDOWN);
	assert_string_equal(nb->cells[1].source, "# Title\n\nSome *text*");
	assert_string_equal(nb->cells[2].source, "def f(x):\n    return x");
	assert_string_equal(nb->cells[3].source, "print(f(2))");
	assert_string_equal(nb->cells[4].source, "# a comment stays\n# %%% not a separator");
	assert_string_equal(nb->cells[0].id, "cell-0");
	assert_string_equal(nb->cells[4].id, "cell-4");
	assert_int_equal(nb->nbformat_minor, 5);
	nb_free(nb);

	/* blank text before the first separator gives no cell; CRLF; [md], [raw] */
	nb = script_ok(
	    "\n  \n# %%\r\na = 1\r\nb = 2\r\n# %% [md]\r\n# hi\r\n# %% [raw]\nraw text\n");
	assert_int_equal(nb->ncells, 3);
	assert_string_equal(nb->cells[0].source, "a = 1\nb = 2");
	assert_int_equal(nb->cells[1].type, NB_CELL_MARKDOWN);
	assert_string_equal(nb->cells[1].source, "hi");
	assert_int_equal(nb->cells[2].type, NB_CELL_RAW);
	assert_string_equal(nb->cells[2].source, "raw text");
	nb_free(nb);

	/* no separator at all: one code cell; empty script: no cells */
	nb = script_ok("print('hello')");
	assert_int_equal(nb->ncells, 1);
	assert_string_equal(nb->cells[0].source, "print('hello')");
	nb_free(nb);
	nb = script_ok("");
	assert_int_equal(nb->ncells, 0);
	nb_free(nb);
	/* an empty cell between separators is kept */
	nb = script_ok("# %%\n# %%\nx\n");
	assert_int_equal(nb->ncells, 2);
	assert_string_equal(nb->cells[0].source, "");
	nb_free(nb);

	/* a separator on the last line without a newline still makes its cell */
	nb = script_ok("x = 1\n# %% [markdown]");
	assert_int_equal(nb->ncells, 2);
	assert_int_equal(nb->cells[1].type, NB_CELL_MARKDOWN);
	assert_string_equal(nb->cells[1].source, "");
	nb_free(nb);
	nb = script_ok("# %%\nlast line");
	assert_int_equal(nb->ncells, 1);
	assert_string_equal(nb->cells[0].source, "last line");
	nb_free(nb);

	/* invalid UTF-8 and NUL bytes are refused with the position */
	assert_int_equal(nb_parse_script(&nb2, "x = 1\ny = '\xff'\n", 13, "hw.py", &err),
			 GR_EINVAL);
	assert_string_equal(err.msg, "cannot read 'hw.py': not valid UTF-8 at line 2 column 6");
	assert_int_equal(nb_parse_script(&nb2, "x\0y", 3, "hw.py", &err), GR_EINVAL);
	assert_string_equal(err.msg, "cannot read 'hw.py': contains a NUL byte at line 1 column 2");
	assert_int_equal(nb_parse_script(&nb2, "\xe0\x80\x80", 3, "hw.py", &err), GR_EINVAL);
	assert_null(nb2);
}

static void test_notebook__too_many_cells(void **state)
{
	size_t n = (NB_MAX_CELLS + 1) * 5, k, i;
	char *text = malloc(n + 1), *json;
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	double t0 = gr_now();
	(void)state;
	assert_non_null(text);
	for (k = 0; k < n; k += 5)
		memcpy(text + k, "# %%\n", 5);
	assert_int_equal(nb_parse_script(&nb, text, n, "many.py", &err), GR_ELIMIT);
	assert_string_equal(err.msg, "cannot read 'many.py': more than 100000 cells");
	assert_null(nb);
	/* just under the limit is fine */
	assert_int_equal(nb_parse_script(&nb, text, n - 10, "many.py", &err), 0);
	assert_int_equal(nb->ncells, NB_MAX_CELLS - 1);
	nb_free(nb);
	nb = NULL;
	free(text);
	/* the same limit for JSON notebooks */
	json = malloc((NB_MAX_CELLS + 1) * 3 + 64);
	assert_non_null(json);
	k = (size_t)sprintf(json, "{\"nbformat\": 4, \"cells\": [");
	for (i = 0; i <= NB_MAX_CELLS; i++) {
		memcpy(json + k, i ? ",{}" : "{}", i ? 3 : 2);
		k += i ? 3 : 2;
	}
	strcpy(json + k, "]}");
	assert_int_equal(nb_parse(&nb, json, strlen(json), "many.ipynb", &err), GR_ELIMIT);
	assert_string_equal(err.msg, "cannot read 'many.ipynb': more than 100000 cells");
	free(json);
	print_message("100000 script cells: %.2f s\n", gr_now() - t0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notebook__string_and_list_sources),
	    cmocka_unit_test(test_notebook__minor_versions),
	    cmocka_unit_test(test_notebook__nbgrader_meta),
	    cmocka_unit_test(test_notebook__malformed_json),
	    cmocka_unit_test(test_notebook__not_nbformat4),
	    cmocka_unit_test(test_notebook__nbformat3_upgraded),
	    cmocka_unit_test(test_notebook__python_nonfinite_floats),
	    cmocka_unit_test(test_notebook__cells_array),
	    cmocka_unit_test(test_notebook__malformed_cells),
	    cmocka_unit_test(test_notebook__nbgrader_wrong_types),
	    cmocka_unit_test(test_notebook__non_utf8),
	    cmocka_unit_test(test_notebook__messages_stay_one_line),
	    cmocka_unit_test(test_notebook__mutations_never_crash),
	    cmocka_unit_test(test_notebook__random_scripts),
	    cmocka_unit_test(test_notebook__deep_nesting),
	    cmocka_unit_test(test_notebook__too_large),
	    cmocka_unit_test(test_notebook__large_notebook),
	    cmocka_unit_test(test_notebook__write_and_read_file),
	    cmocka_unit_test(test_notebook__percent_script),
	    cmocka_unit_test(test_notebook__too_many_cells),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
