/* test_notebook.c - unit tests for the notebook model (notebook.h). */
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

/* A notebook exactly as Jupyter writes it (nbformat 4.5, indent 1, sorted keys). */
static const char jupyter_nb[] =
    "{\n"
    " \"cells\": [\n"
    "  {\n"
    "   \"cell_type\": \"markdown\",\n"
    "   \"id\": \"a1b2c3d4\",\n"
    "   \"metadata\": {},\n"
    "   \"source\": [\n"
    "    \"# Problem set 1\\n\",\n"
    "    \"\\n\",\n"
    "    \"Caf\xc3\xa9 \xe2\x80\x94 na\xc3\xafve \\\"quotes\\\" and \\\\ backslash\"\n"
    "   ]\n"
    "  },\n"
    "  {\n"
    "   \"cell_type\": \"code\",\n"
    "   \"execution_count\": 1,\n"
    "   \"id\": \"e5f60718\",\n"
    "   \"metadata\": {\n"
    "    \"nbgrader\": {\n"
    "     \"cell_type\": \"code\",\n"
    "     \"checksum\": \"8f0e6e3b3a1b6c1f0d0c7b5d2f7a9e11\",\n"
    "     \"grade\": true,\n"
    "     \"grade_id\": \"test_add\",\n"
    "     \"locked\": true,\n"
    "     \"points\": 2.5,\n"
    "     \"schema_version\": 3,\n"
    "     \"solution\": false,\n"
    "     \"task\": false\n"
    "    }\n"
    "   },\n"
    "   \"outputs\": [\n"
    "    {\n"
    "     \"name\": \"stdout\",\n"
    "     \"output_type\": \"stream\",\n"
    "     \"text\": [\n"
    "      \"ok\\n\",\n"
    "      \"\\u001b[31mred\\u001b[0m\\n\"\n"
    "     ]\n"
    "    },\n"
    "    {\n"
    "     \"data\": {\n"
    "      \"application/json\": {\n"
    "       \"a\": [\n"
    "        1,\n"
    "        0.1,\n"
    "        1e-05,\n"
    "        1e+20,\n"
    "        -0.0\n"
    "       ]\n"
    "      },\n"
    "      \"text/plain\": [\n"
    "       \"3\"\n"
    "      ]\n"
    "     },\n"
    "     \"execution_count\": 1,\n"
    "     \"metadata\": {},\n"
    "     \"output_type\": \"execute_result\"\n"
    "    }\n"
    "   ],\n"
    "   \"source\": [\n"
    "    \"assert add(1, 2) == 3\\n\",\n"
    "    \"add(1, 2)\"\n"
    "   ]\n"
    "  },\n"
    "  {\n"
    "   \"cell_type\": \"code\",\n"
    "   \"execution_count\": null,\n"
    "   \"id\": \"0a0b0c0d\",\n"
    "   \"metadata\": {},\n"
    "   \"outputs\": [],\n"
    "   \"source\": []\n"
    "  }\n"
    " ],\n"
    " \"metadata\": {\n"
    "  \"kernelspec\": {\n"
    "   \"display_name\": \"Python 3\",\n"
    "   \"language\": \"python\",\n"
    "   \"name\": \"python3\"\n"
    "  },\n"
    "  \"language_info\": {\n"
    "   \"name\": \"python\",\n"
    "   \"version\": \"3.11.2\"\n"
    "  }\n"
    " },\n"
    " \"nbformat\": 4,\n"
    " \"nbformat_minor\": 5\n"
    "}\n";

static struct nb_notebook *parse_ok(const char *text)
{
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	int rc = nb_parse(&nb, text, strlen(text), "t.ipynb", &err);
	if (rc)
		fail_msg("parse failed: %s", err.msg);
	assert_non_null(nb);
	return nb;
}

/* Parse must fail with `code` and a message equal to `msg` (exact). */
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

static char *tmpdir_new(void)
{
	char *dir = strdup("/tmp/test_notebook.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
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
	parse_fails("{\"nbformat\": 3, \"worksheets\": []}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': not an nbformat 4 notebook (nbformat is 3)");
	parse_fails("{\"nbformat\": \"4\", \"cells\": []}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': not an nbformat 4 notebook "
		    "(nbformat is not an integer)");
	parse_fails("[1, 2]", GR_EINVAL,
		    "cannot read 'ps1.ipynb': not a notebook (the top level is not an object)");
	parse_fails("{\"nbformat\": 4, \"nbformat_minor\": -1, \"cells\": []}", GR_EINVAL,
		    "cannot read 'ps1.ipynb': nbformat_minor is not a small integer");
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

static void test_notebook__roundtrip_jupyter_bytes(void **state)
{
	struct nb_notebook *nb = parse_ok(jupyter_nb), *again;
	char *dump = NULL, *dump2 = NULL;
	struct gr_err err = {0};
	size_t i;
	(void)state;

	assert_int_equal(nb_dump(&dump, nb, &err), 0);
	assert_string_equal(dump, jupyter_nb);
	again = parse_ok(dump);
	assert_int_equal(again->ncells, nb->ncells);
	for (i = 0; i < nb->ncells; i++) {
		assert_int_equal(again->cells[i].type, nb->cells[i].type);
		assert_string_equal(again->cells[i].source, nb->cells[i].source);
	}
	assert_int_equal(nb_dump(&dump2, again, &err), 0);
	assert_string_equal(dump, dump2);
	free(dump);
	free(dump2);
	nb_free(again);
	nb_free(nb);
}

static void test_notebook__dump_splits_lines(void **state)
{
	struct nb_notebook *nb;
	char *dump = NULL;
	struct gr_err err = {0};
	(void)state;
	/* string sources and text outputs are written as lists of lines (every
	 * Python line boundary), JSON mime data and other strings are not */
	nb = parse_ok(
	    "{\"nbformat\": 4, \"nbformat_minor\": 4, \"metadata\": {}, \"cells\": ["
	    "{\"cell_type\": \"code\", \"metadata\": {}, \"execution_count\": null,"
	    " \"source\": \"a\\r\\nb\\rc\\u2028d\\n\","
	    " \"outputs\": [{\"output_type\": \"stream\", \"name\": \"stderr\","
	    " \"text\": \"e\\nf\"}, {\"output_type\": \"display_data\", \"metadata\": {},"
	    " \"data\": {\"text/html\": \"<b>\\n</b>\", \"image/png\": \"AA\\nBB\","
	    " \"application/json\": \"x\\ny\"}}]},"
	    "{\"cell_type\": \"markdown\", \"metadata\": {\"k\": \"v\\nw\"}, \"source\": \"\","
	    " \"attachments\": {\"i.svg\": {\"image/svg+xml\": \"<s>\\n</s>\"}}}]}");
	assert_int_equal(nb_dump(&dump, nb, &err), 0);
	assert_non_null(strstr(dump, "   \"source\": [\n    \"a\\r\\n\",\n    \"b\\r\",\n"
				     "    \"c\xe2\x80\xa8\",\n    \"d\\n\"\n   ]"));
	assert_non_null(strstr(dump, "\"text\": [\n      \"e\\n\",\n      \"f\"\n     ]"));
	assert_non_null(strstr(dump, "\"text/html\": [\n       \"<b>\\n\",\n       \"</b>\"\n"));
	assert_non_null(strstr(dump, "\"image/png\": \"AA\\nBB\""));
	assert_non_null(strstr(dump, "\"application/json\": \"x\\ny\""));
	assert_non_null(strstr(dump, "\"k\": \"v\\nw\""));
	assert_non_null(strstr(dump, "\"source\": []"));
	assert_non_null(strstr(dump, "\"image/svg+xml\": [\n"));
	assert_int_equal(dump[strlen(dump) - 1], '\n');
	free(dump);
	nb_free(nb);
}

static void test_notebook__json_dump_python_style(void **state)
{
	json_t *v =
	    json_pack("{s:[f,f,f,f,f,f,f,f,f], s:s, s:I, s:{}, s:[]}", "f", 1.0, 0.1, 1e16, 1e15,
		      123456789.125, 1.5e-7, 0.0001, -2.0, 1e300, "s", "tab\there\x01\x7f/\xc3\xa9",
		      "i", (json_int_t)-9007199254740993LL, "o", "a");
	char *out = NULL;
	size_t len = 0;
	struct gr_err err = {0};
	(void)state;
	assert_non_null(v);
	assert_int_equal(nb_json_dump(&out, &len, v, &err), 0);
	assert_string_equal(out, "{\n \"a\": [],\n \"f\": [\n  1.0,\n  0.1,\n  1e+16,\n"
				 "  1000000000000000.0,\n  123456789.125,\n  1.5e-07,\n  0.0001,\n"
				 "  -2.0,\n  1e+300\n ],\n \"i\": -9007199254740993,\n \"o\": {},\n"
				 " \"s\": \"tab\\there\\u0001\x7f/\xc3\xa9\"\n}");
	assert_int_equal(len, strlen(out));
	free(out);
	json_decref(v);
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

static struct nb_notebook *script_ok(const char *text)
{
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	if (nb_parse_script(&nb, text, strlen(text), "hw.py", &err))
		fail_msg("script parse failed: %s", err.msg);
	assert_int_equal(nb->from_script, 1);
	return nb;
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

static void test_notebook__script_dumps_as_notebook(void **state)
{
	struct nb_notebook *nb = script_ok("# %% [markdown]\n# Hi\n# %%\nx = 1\nx\n"), *back;
	char *dump = NULL;
	struct gr_err err = {0};
	(void)state;
	assert_int_equal(nb_dump(&dump, nb, &err), 0);
	back = parse_ok(dump);
	assert_int_equal(back->ncells, 2);
	assert_int_equal(back->cells[0].type, NB_CELL_MARKDOWN);
	assert_string_equal(back->cells[1].source, "x = 1\nx");
	assert_string_equal(back->cells[1].id, "cell-1");
	assert_non_null(strstr(dump, "\"execution_count\": null,\n"));
	assert_non_null(strstr(dump, "\"outputs\": [],\n"));
	assert_non_null(strstr(dump, "\"name\": \"python3\""));
	free(dump);
	nb_free(back);
	nb_free(nb);
}

static void test_notebook__set_source(void **state)
{
	struct nb_notebook *nb = parse_ok(jupyter_nb), *back;
	struct gr_err err = {0};
	char *dump = NULL;
	(void)state;
	assert_int_equal(nb_cell_set_source(&nb->cells[2], "y = 2\nprint(y)\n", &err), 0);
	assert_string_equal(nb->cells[2].source, "y = 2\nprint(y)\n");
	assert_string_equal(json_string_value(json_object_get(nb->cells[2].json, "source")),
			    "y = 2\nprint(y)\n");
	assert_int_equal(nb_cell_set_source(&nb->cells[2], "bad \xff", &err), GR_EINVAL);
	assert_string_equal(nb->cells[2].source, "y = 2\nprint(y)\n");
	assert_int_equal(nb_dump(&dump, nb, &err), 0);
	assert_non_null(
	    strstr(dump, "\"source\": [\n    \"y = 2\\n\",\n    \"print(y)\\n\"\n   ]"));
	back = parse_ok(dump);
	assert_string_equal(back->cells[2].source, "y = 2\nprint(y)\n");
	nb_free(back);
	free(dump);
	nb_free(nb);
}

static void test_notebook__insert_and_reindex(void **state)
{
	struct nb_notebook *nb = parse_ok(jupyter_nb);
	struct nb_grader_meta meta = {0};
	struct gr_err err = {0};
	json_t *cell = NULL, *cells;
	const json_t *g;
	(void)state;

	meta.present = 1;
	meta.grade = meta.locked = 1;
	meta.grade_id = "hidden_test";
	meta.points = 3;
	meta.has_points = 1;
	assert_int_equal(nb_cell_new(&cell, NB_CELL_CODE, "assert f(2) == 4", NULL, &meta, &err),
			 0);
	assert_int_equal(nb_insert_cell(nb, 1, cell, &err), 0);
	json_decref(cell);
	assert_int_equal(nb->ncells, 4);
	assert_string_equal(nb->cells[1].source, "assert f(2) == 4");
	assert_string_equal(nb->cells[1].nbgrader.grade_id, "hidden_test");
	assert_true(nb->cells[1].nbgrader.points == 3.0);
	assert_non_null(nb->cells[1].id); /* nbformat 4.5: a fresh id */
	assert_int_equal(strlen(nb->cells[1].id), 8);
	assert_string_equal(nb->cells[2].nbgrader.grade_id, "test_add");
	g = json_object_get(json_object_get(nb->cells[1].json, "metadata"), "nbgrader");
	assert_int_equal(json_integer_value(json_object_get(g, "schema_version")), 3);
	assert_true(json_is_false(json_object_get(g, "solution")));
	assert_true(json_is_false(json_object_get(g, "task")));
	assert_true(json_is_integer(json_object_get(g, "points")));
	assert_null(json_object_get(g, "checksum"));
	assert_null(json_object_get(g, "cell_type"));
	assert_true(json_is_null(json_object_get(nb->cells[1].json, "execution_count")));
	/* with a checksum the new cell carries nbgrader's cell_type as well */
	meta.checksum = "ffeeddccbbaa99887766554433221100";
	assert_int_equal(nb_cell_new(&cell, NB_CELL_MARKDOWN, "x", NULL, &meta, &err), 0);
	g = json_object_get(json_object_get(cell, "metadata"), "nbgrader");
	assert_string_equal(json_string_value(json_object_get(g, "cell_type")), "markdown");
	json_decref(cell);

	/* the same cell again gets a different id */
	assert_int_equal(nb_cell_new(&cell, NB_CELL_CODE, "assert f(2) == 4", NULL, NULL, &err), 0);
	assert_int_equal(nb_insert_cell(nb, nb->ncells, cell, &err), 0);
	json_decref(cell);
	assert_int_equal(nb->ncells, 5);
	assert_string_not_equal(nb->cells[4].id, nb->cells[1].id);

	/* direct edits of root's cells array, then reindex */
	cells = json_object_get(nb->root, "cells");
	assert_int_equal(nb_cell_new(&cell, NB_CELL_MARKDOWN, "**new**", "md1", NULL, &err), 0);
	assert_int_equal(json_array_insert_new(cells, 0, cell), 0);
	assert_int_equal(nb_reindex(nb, &err), 0);
	assert_int_equal(nb->ncells, 6);
	assert_int_equal(nb->cells[0].type, NB_CELL_MARKDOWN);
	assert_string_equal(nb->cells[0].id, "md1");
	assert_null(json_object_get(nb->cells[0].json, "outputs"));
	assert_ptr_equal(nb_find_cell(nb, "test_add"), &nb->cells[3]);

	/* a bad edit fails reindex and leaves the cells as they were */
	assert_int_equal(json_array_append_new(cells, json_pack("{s:s}", "cell_type", "code")), 0);
	assert_int_equal(nb_reindex(nb, &err), GR_EINVAL);
	assert_string_equal(err.msg, "'t.ipynb': cell 7 has no source");
	assert_int_equal(nb->ncells, 6);
	assert_string_equal(nb->cells[0].source, "**new**");
	assert_int_equal(nb_remove_cell(nb, 6, &err), 0);
	assert_int_equal(nb_remove_cell(nb, 0, &err), 0);
	assert_int_equal(nb->ncells, 5);
	assert_int_equal(nb_remove_cell(nb, 5, &err), GR_ENOTFOUND);
	/* an invalid cell is refused by insert and not left behind */
	cell = json_pack("{s:s}", "cell_type", "code");
	assert_int_equal(nb_insert_cell(nb, 0, cell, &err), GR_EINVAL);
	json_decref(cell);
	assert_int_equal(json_array_size(cells), 5);
	assert_int_equal(nb_insert_cell(nb, 9, cells, &err), GR_EINVAL);
	nb_free(nb);
}

static void test_notebook__set_grader(void **state)
{
	struct nb_notebook *nb = parse_ok(jupyter_nb);
	struct nb_grader_meta meta;
	struct gr_err err = {0};
	const json_t *g;
	(void)state;

	/* copy from the cell's own metadata, change it, write it back */
	meta = nb->cells[1].nbgrader;
	meta.points = 0.5;
	meta.checksum = NULL;
	assert_int_equal(nb_cell_set_grader(&nb->cells[1], &meta, &err), 0);
	assert_true(nb->cells[1].nbgrader.points == 0.5);
	assert_string_equal(nb->cells[1].nbgrader.grade_id, "test_add");
	assert_null(nb->cells[1].nbgrader.checksum);
	g = json_object_get(json_object_get(nb->cells[1].json, "metadata"), "nbgrader");
	assert_null(json_object_get(g, "checksum"));
	/* nbgrader's own "cell_type" key is not modeled and survives */
	assert_string_equal(json_string_value(json_object_get(g, "cell_type")), "code");
	assert_true(json_is_real(json_object_get(g, "points")));
	/* a new checksum on a cell without one brings nbgrader's cell_type */
	memset(&meta, 0, sizeof(meta));
	meta.present = meta.locked = 1;
	meta.grade_id = "intro";
	meta.checksum = "00112233445566778899aabbccddeeff";
	assert_int_equal(nb_cell_set_grader(&nb->cells[0], &meta, &err), 0);
	g = json_object_get(json_object_get(nb->cells[0].json, "metadata"), "nbgrader");
	assert_string_equal(json_string_value(json_object_get(g, "cell_type")), "markdown");
	assert_string_equal(nb->cells[0].nbgrader.checksum, "00112233445566778899aabbccddeeff");
	assert_int_equal(json_object_size(g), 8);
	assert_int_equal(nb_cell_set_grader(&nb->cells[0], NULL, &err), 0);
	assert_null(json_object_get(json_object_get(nb->cells[0].json, "metadata"), "nbgrader"));
	meta = nb->cells[1].nbgrader;
	assert_int_equal(nb_cell_set_grader(&nb->cells[1], NULL, &err), 0);
	assert_int_equal(nb->cells[1].nbgrader.present, 0);
	meta.points = -1;
	meta.grade_id = "x";
	assert_int_equal(nb_cell_set_grader(&nb->cells[0], &meta, &err), GR_EINVAL);
	assert_int_equal(nb->cells[0].nbgrader.present, 0);
	nb_free(nb);
}

static void test_notebook__copy(void **state)
{
	struct nb_notebook *nb = parse_ok(jupyter_nb), *copy = NULL;
	struct gr_err err = {0};
	char *a = NULL, *b = NULL;
	(void)state;
	assert_int_equal(nb_copy(&copy, nb, &err), 0);
	assert_ptr_not_equal(copy->root, nb->root);
	assert_int_equal(copy->ncells, nb->ncells);
	assert_string_equal(copy->path, nb->path);
	assert_int_equal(nb_cell_set_source(&copy->cells[0], "changed", &err), 0);
	assert_string_not_equal(nb->cells[0].source, "changed");
	nb_free(nb);
	assert_int_equal(nb_dump(&a, copy, &err), 0);
	assert_non_null(strstr(a, "\"changed\""));
	nb = parse_ok(a);
	assert_int_equal(nb_dump(&b, nb, &err), 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	nb_free(copy);
	nb_free(nb);
}

static void test_notebook__new_notebook(void **state)
{
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	json_t *cell = NULL;
	char *dump = NULL;
	(void)state;
	assert_int_equal(nb_new(&nb, "fresh.ipynb", &err), 0);
	assert_int_equal(nb->ncells, 0);
	assert_int_equal(nb->nbformat_minor, 5);
	assert_int_equal(nb_cell_new(&cell, NB_CELL_RAW, "r", NULL, NULL, &err), 0);
	assert_int_equal(nb_insert_cell(nb, 0, cell, &err), 0);
	json_decref(cell);
	assert_int_equal(nb_dump(&dump, nb, &err), 0);
	assert_true(strncmp(dump, "{\n \"cells\": [\n  {\n   \"cell_type\": \"raw\",\n", 40) == 0);
	assert_string_equal(nb_cell_type_name(NB_CELL_MARKDOWN), "markdown");
	assert_int_equal(nb_cell_new(&cell, (enum nb_cell_type)9, "", NULL, NULL, &err), GR_EINVAL);
	free(dump);
	nb_free(nb);
}

/*
 * Cross-check against Python's json module with nbformat's own rules: a
 * notebook full of awkward values written by Python in Jupyter's style must
 * come back out of nb_dump byte for byte.
 */
static const char py_writer[] =
    "import json, sys\n"
    "def split(nb):\n"
    "    for c in nb['cells']:\n"
    "        if isinstance(c.get('source'), str): c['source'] = c['source'].splitlines(True)\n"
    "        for o in c.get('outputs', []):\n"
    "            if o['output_type'] == 'stream': o['text'] = o['text'].splitlines(True)\n"
    "            for k, v in o.get('data', {}).items():\n"
    "                if isinstance(v, str) and (k.startswith('text/') or k in\n"
    "                        ('application/javascript', 'image/svg+xml')):\n"
    "                    o['data'][k] = v.splitlines(True)\n"
    "    return nb\n"
    "weird = 'tab\\t nl\\n cr\\r ff\\f vt\\x0b fs\\x1c x85\\x85 ls\\u2028 ps\\u2029 esc\\x1b'\n"
    "weird += ' del\\x7f nul\\x00 quote\" bs\\\\ slash/ emoji\\U0001F600 \\u00e9\\n'\n"
    "floats = [0.1, 1/3, 2.5, 1e16, 1e15, 1e-5, 1e-4, 123456789012345678.0, -0.0,\n"
    "          5e-324, 1.7976931348623157e308, 100.0, 0.30000000000000004]\n"
    "nb = {'nbformat': 4, 'nbformat_minor': 5, 'metadata': {'z': 1, 'a': {'\\u00e9': 2,\n"
    "      'e': 3, 'E': 4}, 'floats': floats, 'ints': [0, -1, 2**62], 'n': None,\n"
    "      't': True, 'f': False, 'empty': {}, 'el': []},\n"
    "      'cells': [{'cell_type': 'code', 'id': 'x1', 'metadata': {'nbgrader': {\n"
    "        'grade': True, 'points': 1.5}}, 'execution_count': 3,\n"
    "        'source': weird.replace('\\x00', ''),\n"
    "        'outputs': [{'output_type': 'stream', 'name': 'stdout', 'text': weird},\n"
    "        {'output_type': 'execute_result', 'execution_count': 3, 'metadata': {},\n"
    "         'data': {'text/plain': weird, 'image/png': 'QUJD\\nREVG\\n',\n"
    "                  'application/json': {'k': [weird]}}}]},\n"
    "      {'cell_type': 'markdown', 'id': 'x2', 'metadata': {}, 'source': ''},\n"
    "      {'cell_type': 'raw', 'id': 'x3', 'metadata': {}, 'source': 'no newline'}]}\n"
    "s = json.dumps(split(nb), sort_keys=True, indent=1, ensure_ascii=False)\n"
    "open(sys.argv[1], 'w', encoding='utf-8').write(s + '\\n')\n";

static void test_notebook__matches_python_json(void **state)
{
	char *dir, *script, *nbpath, *cmd = NULL, *data = NULL, *dump = NULL;
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	size_t len;
	(void)state;
	if (access("/usr/bin/python3", X_OK))
		skip();
	dir = tmpdir_new();
	script = gr_path_join(dir, "w.py");
	nbpath = gr_path_join(dir, "py.ipynb");
	write_file(script, py_writer, strlen(py_writer));
	assert_true(asprintf(&cmd, "/usr/bin/python3 -S %s %s", script, nbpath) > 0);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(gr_read_file(&data, &len, nbpath, 0, &err), 0);
	assert_int_equal(nb_read_file(&nb, nbpath, &err), 0);
	assert_int_equal(nb->ncells, 3);
	assert_int_equal(nb_dump(&dump, nb, &err), 0);
	assert_int_equal(strlen(dump), len);
	assert_memory_equal(dump, data, len);
	free(dump);
	nb_free(nb);
	free(data);
	free(cmd);
	assert_int_equal(gr_rm_rf(dir, &err), 0);
	free(script);
	free(nbpath);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notebook__string_and_list_sources),
	    cmocka_unit_test(test_notebook__minor_versions),
	    cmocka_unit_test(test_notebook__nbgrader_meta),
	    cmocka_unit_test(test_notebook__malformed_json),
	    cmocka_unit_test(test_notebook__not_nbformat4),
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
	    cmocka_unit_test(test_notebook__roundtrip_jupyter_bytes),
	    cmocka_unit_test(test_notebook__dump_splits_lines),
	    cmocka_unit_test(test_notebook__json_dump_python_style),
	    cmocka_unit_test(test_notebook__write_and_read_file),
	    cmocka_unit_test(test_notebook__percent_script),
	    cmocka_unit_test(test_notebook__too_many_cells),
	    cmocka_unit_test(test_notebook__script_dumps_as_notebook),
	    cmocka_unit_test(test_notebook__set_source),
	    cmocka_unit_test(test_notebook__insert_and_reindex),
	    cmocka_unit_test(test_notebook__set_grader),
	    cmocka_unit_test(test_notebook__copy),
	    cmocka_unit_test(test_notebook__new_notebook),
	    cmocka_unit_test(test_notebook__matches_python_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
