/* test_notebook_write.c - unit tests for writing and editing notebooks (notebook.h). */
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

#include "test_skip.h"
#include "grader/notebook.h"
#include "notebook_fixture.h"

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
		SKIP_BECAUSE("/usr/bin/python3 is not installed");
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
	    cmocka_unit_test(test_notebook__roundtrip_jupyter_bytes),
	    cmocka_unit_test(test_notebook__dump_splits_lines),
	    cmocka_unit_test(test_notebook__json_dump_python_style),
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
