/*
 * notebook_script.c - percent-format Python scripts as notebooks.
 *
 * A line starting with `# %%` (or `#%%`) starts a cell; `[markdown]` (or
 * `[md]`) on that line makes it a markdown cell whose lines lose their
 * leading `# ` (or a lone `#`), `[raw]` a raw cell; anything else on the line
 * (a title, jupytext metadata) is ignored. Text before the first separator is
 * a code cell when it is not blank. Blank lines at either end of a cell are
 * dropped (the separator line's neighbours in the script), CRLF becomes LF.
 */
#include "grader/notebook.h"
#include "notebook_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
			return 0;
	return 1;
}

/* Is this line a cell separator? Sets *type from its `[markdown]`/`[raw]` tag. */
static int is_separator(const char *s, size_t n, enum nb_cell_type *type)
{
	size_t skip;
	const char *rest, *end = s + n;

	if (n >= 4 && !memcmp(s, "# %%", 4))
		skip = 4;
	else if (n >= 3 && !memcmp(s, "#%%", 3))
		skip = 3;
	else
		return 0;
	rest = s + skip;
	/* `# %%%` or `# %%x` is a comment, not a separator. */
	if (rest < end && *rest != ' ' && *rest != '\t' && *rest != '\r')
		return 0;
	*type = NB_CELL_CODE;
	if (memmem(rest, (size_t)(end - rest), "[markdown]", 10) ||
	    memmem(rest, (size_t)(end - rest), "[md]", 4))
		*type = NB_CELL_MARKDOWN;
	else if (memmem(rest, (size_t)(end - rest), "[raw]", 5))
		*type = NB_CELL_RAW;
	return 1;
}

/*
 * Append the cell made of the script's bytes [from, to) (whole lines). Two
 * passes: find the first and last non-blank lines, then copy the lines
 * between them, so nothing is stored per line.
 */
static int add_cell(json_t *cells, enum nb_cell_type type, const char *data, size_t from, size_t to,
		    int preamble)
{
	struct gr_buf t = {0};
	json_t *cell = NULL;
	const char *nl;
	char id[32];
	size_t pos, end, first = (size_t)-1, last_end = 0;
	int rc = 0;

	for (pos = from; pos < to; pos = end + 1) {
		nl = memchr(data + pos, '\n', to - pos);
		end = nl ? (size_t)(nl - data) : to;
		if (!is_blank(data + pos, end - pos)) {
			if (first == (size_t)-1)
				first = pos;
			last_end = end;
		}
	}
	if (first == (size_t)-1 && preamble)
		return 0; /* blank text before the first separator */
	for (pos = first; first != (size_t)-1 && pos <= last_end && !rc; pos = end + 1) {
		const char *l = data + pos;
		size_t n;
		nl = memchr(l, '\n', last_end - pos);
		end = nl ? (size_t)(nl - data) : last_end;
		n = end - pos;
		if (n && l[n - 1] == '\r')
			n--;
		if (type == NB_CELL_MARKDOWN && n >= 2 && l[0] == '#' && l[1] == ' ') {
			l += 2;
			n -= 2;
		} else if (type == NB_CELL_MARKDOWN && n == 1 && l[0] == '#') {
			n = 0;
		}
		rc = gr_buf_put(&t, l, n);
		if (!rc && end < last_end)
			rc = gr_buf_put(&t, "\n", 1);
	}
	if (!rc && !t.p)
		rc = gr_buf_put(&t, "", 0);
	/* Reproducible ids: the same script always gives the same notebook. */
	snprintf(id, sizeof(id), "cell-%zu", json_array_size(cells));
	if (!rc && (rc = nb_cell_new(&cell, type, t.p, id, NULL, NULL)) == 0)
		rc = json_array_append_new(cells, cell) ? GR_ENOMEM : 0;
	free(t.p);
	return rc;
}

int nb_parse_script(struct nb_notebook **out, const char *data, size_t len, const char *name,
		    struct gr_err *err)
{
	struct nb_notebook *nb = NULL;
	size_t i, pos, end, bad, line, col, seg_from = 0;
	enum nb_cell_type type = NB_CELL_CODE, next = NB_CELL_CODE;
	const char *nl;
	json_t *cells;
	int rc = 0, preamble = 1;

	if (!name)
		name = "<script>";
	if (nb_text_prepare(&data, &len, name, err))
		return GR_ELIMIT;
	nl = memchr(data, '\0', len);
	bad = nl ? (size_t)(nl - data) : len;
	i = gr_utf8_prefix(data, len);
	if (i < len || bad < len) {
		bad = i < bad ? i : bad;
		line = 1;
		col = 1;
		for (pos = 0; pos < bad; pos++) {
			if (data[pos] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		return gr_err_set(err, GR_EINVAL, "cannot read '%s': %s at line %zu column %zu",
				  name, data[bad] ? "not valid UTF-8" : "contains a NUL byte", line,
				  col);
	}
	if ((rc = nb_new(&nb, name, err)))
		goto done;
	nb->from_script = 1;
	cells = json_object_get(nb->root, "cells");
	for (pos = 0;; pos = end + 1) {
		if (pos > len)
			pos = len; /* the last line had no newline: still close the cell */
		nl = pos < len ? memchr(data + pos, '\n', len - pos) : NULL;
		end = nl ? (size_t)(nl - data) : len;
		if (pos < len && !is_separator(data + pos, end - pos, &next))
			continue;
		/* a separator line, or the end of the script: close the open cell */
		if (json_array_size(cells) >= NB_MAX_CELLS) {
			rc = gr_err_set(err, GR_ELIMIT, "cannot read '%s': more than %u cells",
					name, NB_MAX_CELLS);
			goto done;
		}
		if ((rc = add_cell(cells, type, data, seg_from, pos < len ? pos : len, preamble))) {
			rc = gr_err_set(err, rc, "cannot read '%s': out of memory", name);
			goto done;
		}
		preamble = 0;
		type = next;
		seg_from = end + 1;
		if (pos >= len)
			break;
	}
	if ((rc = nb_reindex(nb, err)))
		goto done;
	*out = nb;
	nb = NULL;
done:
	nb_free(nb);
	return rc;
}
