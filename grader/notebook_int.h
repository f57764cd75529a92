/*
 * notebook_int.h - helpers shared by the notebook_*.c files (not public).
 */
#ifndef GRADER_NOTEBOOK_INT_H
#define GRADER_NOTEBOOK_INT_H

#include <stddef.h>
#include <jansson.h>

#include "grader/notebook.h"
#include "grader/util.h"

/*
 * Keep a failure message on one line: control characters that came from
 * the input (a grade_id, a file name, jansson's "near" token) become '?'.
 * Returns rc unchanged.
 */
int nb_err_one_line(int rc, struct gr_err *err);

/*
 * Fill `m` from cell object `cell`'s metadata.nbgrader (strings borrowed
 * from `cell`); wrong types fail with GR_EINVAL naming `name` and cell
 * idx + 1 (and its grade_id).
 */
int nb_grader_read(struct nb_grader_meta *m, const json_t *cell, const char *name, size_t idx,
		   struct gr_err *err);

/*
 * The checks every notebook or script text goes through before parsing:
 * over NB_MAX_FILE fails with GR_ELIMIT naming `name`; a UTF-8 byte order
 * mark (editors on Windows write one) is skipped by moving *data and *len.
 */
int nb_text_prepare(const char **data, size_t *len, const char *name, struct gr_err *err);

/*
 * A notebook around `root`, which it takes over (even on failure): checks
 * nbformat 4 and reads the cells. `name` is copied as path.
 */
int nb_from_root(struct nb_notebook **out, json_t *root, const char *name, struct gr_err *err);

/*
 * Upgrade an nbformat 3 document (worksheets) to nbformat 4.0 in place, as
 * nbformat's converter does (notebook_v3.c). GR_EINVAL / GR_ENOMEM naming `name`.
 */
int nb_upgrade_v3(json_t *root, const char *name, struct gr_err *err);

#endif
