/*
 * notebook_read.c - open a notebook file of either format: nbformat JSON
 * (notebook.c) or a percent-format script (notebook_script.c), chosen by the
 * extension, else by the content.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notebook_int.h"

/* Does the path end with `ext` (case-insensitive, ext includes the dot)? */
static int has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);

	return n > e && !strcasecmp(path + n - e, ext);
}

/* For unknown extensions: JSON notebooks start with '{' after blanks (and a BOM). */
static int looks_like_json(const char *data, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && strchr(" \t\r\n", data[i]) && data[i])
		i++;
	return i < len && data[i] == '{';
}

int nb_read_file(struct nb_notebook **out, const char *path, struct gr_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if ((rc = gr_read_file(&data, &len, path, NB_MAX_FILE, err)))
		return rc;
	if (has_ext(path, ".ipynb"))
		rc = nb_parse(out, data, len, path, err);
	else if (has_ext(path, ".py"))
		rc = nb_parse_script(out, data, len, path, err);
	else if (looks_like_json(data, len))
		rc = nb_parse(out, data, len, path, err);
	else
		rc = nb_parse_script(out, data, len, path, err);
	free(data);
	return nb_err_one_line(rc, err);
}
