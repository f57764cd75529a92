/*
 * notebook_int.h - helpers shared by the notebook_*.c files (not public).
 */
#ifndef GRADER_NOTEBOOK_INT_H
#define GRADER_NOTEBOOK_INT_H

#include "grader/util.h"

/*
 * Keep a failure message on one line: control characters that came from
 * the input (a grade_id, a file name, jansson's "near" token) become '?'.
 * Returns rc unchanged.
 */
int nb_err_one_line(int rc, struct gr_err *err);

#endif
