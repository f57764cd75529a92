/* notebook_fixture.h - shared by tests/test_notebook*.c: a Jupyter-written notebook and helpers. */
/* Include after <cmocka.h>: the helpers assert. */
#ifndef TESTS_NOTEBOOK_FIXTURE_H
#define TESTS_NOTEBOOK_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/notebook.h"

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

static inline struct nb_notebook *parse_ok(const char *text)
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
static inline char *tmpdir_new(void)
{
	char *dir = strdup("/tmp/test_notebook.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static inline void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static inline struct nb_notebook *script_ok(const char *text)
{
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	if (nb_parse_script(&nb, text, strlen(text), "hw.py", &err))
		fail_msg("script parse failed: %s", err.msg);
	assert_int_equal(nb->from_script, 1);
	return nb;
}

#endif
