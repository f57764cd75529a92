/*
 * notebook.h - the notebook model: reading and writing nbformat 4 notebooks
 * (any 4.x minor) and percent-format Python scripts (`# %%` cells).
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
	int present;      /* the cell has metadata.nbgrader */
	int grade, solution, locked, task;
	const char *grade_id; /* borrowed; NULL when absent */
	double points;    /* 0 when absent */
	int has_points;
	const char *checksum; /* borrowed; NULL when absent */
	int schema_version;
};

struct nb_cell {
	enum nb_cell_type type;
	const char *id;     /* borrowed; NULL for nbformat < 4.5 */
	char *source;       /* owned, joined from string or list of strings */
	json_t *json;       /* borrowed cell object inside the notebook's root */
	struct nb_grader_meta nbgrader;
};

struct nb_notebook {
	char *path;         /* owned; as given to nb_read_file, or the name passed to nb_parse */
	json_t *root;       /* owned reference */
	int nbformat_minor;
	int from_script;    /* read from a percent-format script */
	size_t ncells;
	struct nb_cell *cells; /* owned array */
};

/* Limits applied while reading (untrusted files). */
#define NB_MAX_FILE (64u * 1024 * 1024)

/*
 * Read a notebook (`.ipynb`) or percent-format script (`.py`) from disk.
 * Malformed input fails with GR_EINVAL and a one-line message naming the file
 * and what is wrong; a too-large file with GR_ELIMIT.
 */
int nb_read_file(struct nb_notebook **out, const char *path, struct gr_err *err);

/* Parse notebook JSON text; `name` is used in messages and stored as path. */
int nb_parse(struct nb_notebook **out, const char *data, size_t len, const char *name,
	     struct gr_err *err);

/* Parse a percent-format script into a notebook of code (and markdown) cells. */
int nb_parse_script(struct nb_notebook **out, const char *data, size_t len, const char *name,
		    struct gr_err *err);

void nb_free(struct nb_notebook *nb);

/* Replace a cell's source (keeps root and cells[i].source in sync). */
int nb_cell_set_source(struct nb_cell *cell, const char *source, struct gr_err *err);

/* Serialize (nbformat 4, one-space indent as Jupyter writes it); caller frees. */
int nb_dump(char **out, const struct nb_notebook *nb, struct gr_err *err);
int nb_write_file(const struct nb_notebook *nb, const char *path, struct gr_err *err);

/* Re-read `cells` from `root` after the caller edited root's "cells" array. */
int nb_reindex(struct nb_notebook *nb, struct gr_err *err);

#endif
