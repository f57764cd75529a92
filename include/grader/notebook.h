/*
 * notebook.h - the notebook model: reading and writing nbformat 4 notebooks
 * (any 4.x minor; nbformat 3 is read by upgrading it, as nbgrader does) and
 * percent-format Python scripts (`# %%` cells).
 *
 * A notebook keeps its jansson document (`root`) so that writing it back
 * preserves every field we do not model; `cells[i].json` borrows the cell
 * object inside it. The model knows nothing of execution.
 */
#ifndef GRADER_NOTEBOOK_H
#define GRADER_NOTEBOOK_H

#include <stddef.h>
#include <jansson.h>

#include "grader/util.h"

enum nb_cell_type { NB_CELL_CODE, NB_CELL_MARKDOWN, NB_CELL_RAW };

/* nbgrader metadata of a cell (metadata.nbgrader, schema version 3). */
struct nb_grader_meta {
	int present; /* the cell has metadata.nbgrader */
	int grade, solution, locked, task;
	const char *grade_id; /* borrowed; NULL when absent */
	double points;	      /* 0 when absent */
	int has_points;
	const char *checksum; /* borrowed; NULL when absent */
	int schema_version;
};

struct nb_cell {
	enum nb_cell_type type;
	const char *id; /* borrowed; NULL for nbformat < 4.5 */
	char *source;	/* owned, joined from string or list of strings */
	json_t *json;	/* borrowed cell object inside the notebook's root */
	struct nb_grader_meta nbgrader;
};

struct nb_notebook {
	char *path;   /* owned; as given to nb_read_file, or the name passed to nb_parse */
	json_t *root; /* owned reference */
	int nbformat_minor;
	int from_script;   /* read from a percent-format script */
	int orig_nbformat; /* 3 when read from nbformat 3 (upgraded to 4 as nbgrader
			      does: worksheets to cells), else 0 */
	size_t ncells;
	struct nb_cell *cells; /* owned array */
};

/* Limits applied while reading (untrusted files). */
#define NB_MAX_FILE (64u * 1024 * 1024)
/*
 * At most this many JSON values (array items and object members) per file:
 * jansson spends ~40 bytes per value, so 64 MB of "0," would take 1.4 GB.
 */
#define NB_MAX_VALUES (4u * 1000 * 1000)
/* At most this many cells (a script of 64 MB of "# %%" lines would be 13 M). */
#define NB_MAX_CELLS 100000u

/*
 * Read a notebook (`.ipynb`) or percent-format script (`.py`) from disk.
 * Malformed input fails with GR_EINVAL and a one-line message naming the file
 * and what is wrong; a too-large file (or too many JSON values) with GR_ELIMIT.
 */
int nb_read_file(struct nb_notebook **out, const char *path, struct gr_err *err);

/* Parse notebook JSON text; `name` is used in messages and stored as path. */
int nb_parse(struct nb_notebook **out, const char *data, size_t len, const char *name,
	     struct gr_err *err);

/* Parse a percent-format script into a notebook of code (and markdown) cells. */
int nb_parse_script(struct nb_notebook **out, const char *data, size_t len, const char *name,
		    struct gr_err *err);

void nb_free(struct nb_notebook *nb);

/*
 * Replace a cell's source (keeps root and cells[i].source in sync). The JSON
 * source becomes one string; nb_dump writes it as a list of lines.
 * GR_EINVAL when `source` is not valid UTF-8 (the cell is then unchanged).
 */
int nb_cell_set_source(struct nb_cell *cell, const char *source, struct gr_err *err);

/* Serialize (nbformat 4, one-space indent as Jupyter writes it); caller frees. */
int nb_dump(char **out, const struct nb_notebook *nb, struct gr_err *err);
int nb_write_file(const struct nb_notebook *nb, const char *path, struct gr_err *err);

/*
 * Re-read `cells` from `root` after the caller edited root's "cells" array.
 * Every borrowed pointer in the old `cells` (json, id, grade_id, checksum) is
 * invalid afterwards. On failure `cells` is left as it was.
 */
int nb_reindex(struct nb_notebook *nb, struct gr_err *err);

/*
 * Additions beyond the first contract (used by the rubric and kernel modules).
 * Messages count cells from 1 ("cell 1" is root.cells[0]).
 */

/* "code", "markdown" or "raw". */
const char *nb_cell_type_name(enum nb_cell_type type);

/*
 * New, empty nbformat 4.5 notebook (python3 kernelspec, no cells); `name` is
 * stored as path. Caller frees with nb_free().
 */
int nb_new(struct nb_notebook **out, const char *name, struct gr_err *err);

/* Deep copy (root and cells); the copy shares nothing with `nb`. */
int nb_copy(struct nb_notebook **out, const struct nb_notebook *nb, struct gr_err *err);

/*
 * Build a new cell object as Jupyter writes it: cell_type, metadata (with
 * metadata.nbgrader from `meta` when meta && meta->present, plus nbgrader's
 * "cell_type" when meta has a checksum), source; code cells also get
 * "execution_count": null and "outputs": []. `id` may be NULL (no "id"
 * field). The caller owns the returned reference (json_decref).
 */
int nb_cell_new(json_t **out, enum nb_cell_type type, const char *source, const char *id,
		const struct nb_grader_meta *meta, struct gr_err *err);

/*
 * Insert a deep copy of `cell` (a cell object; the caller still owns `cell`)
 * before index `at` (at == ncells appends), then reindex. A cell without an
 * id gets a fresh one (8 hex digits, unique in the notebook, reproducible)
 * when the notebook is nbformat >= 4.5. An invalid cell fails like a
 * malformed notebook and leaves the notebook unchanged.
 */
int nb_insert_cell(struct nb_notebook *nb, size_t at, json_t *cell, struct gr_err *err);

/* Remove cell `at`, then reindex. */
int nb_remove_cell(struct nb_notebook *nb, size_t at, struct gr_err *err);

/*
 * Replace (or with meta == NULL or !meta->present, delete) a cell's
 * metadata.nbgrader and re-read cell->nbgrader from the new JSON. The
 * strings in `meta` are copied, so they may point into the cell itself.
 * Keys the struct does not model (e.g. nbgrader's "cell_type") are kept;
 * with a checksum, "cell_type" is set from the cell when missing, as
 * nbgrader does.
 */
int nb_cell_set_grader(struct nb_cell *cell, const struct nb_grader_meta *meta, struct gr_err *err);

/* metadata.nbgrader object for `meta` (fields as nbgrader writes them); caller owns it. */
int nb_grader_meta_to_json(json_t **out, const struct nb_grader_meta *meta, struct gr_err *err);

/* The cell whose nbgrader grade_id is `grade_id`, or NULL (the last one on duplicates). */
struct nb_cell *nb_find_cell(const struct nb_notebook *nb, const char *grade_id);

/*
 * Serialize any JSON value the way nbformat writes notebooks (indent 1, keys
 * sorted, UTF-8, Python's escapes and float repr), without the trailing
 * newline and without splitting strings into lines. Caller frees.
 */
int nb_json_dump(char **out, size_t *len, const json_t *value, struct gr_err *err);

#endif
