/*
 * rubric_int.h - internals shared by the files of the rubric module
 * (not part of the contract in include/grader/rubric.h).
 *
 *   rubric.c         load and validate a rubric
 *   rubric_text.c    source transforms (solutions, hidden tests, mark schemes), checksums
 *   rubric_import.c  build a rubric from nbgrader instructor notebooks
 *   rubric_release.c the student version of the notebooks; the public rubric
 *   rubric_splice.c  a student's notebook with the rubric's tests spliced in
 */
#ifndef GRADER_RUBRIC_INT_H
#define GRADER_RUBRIC_INT_H

#include "grader/rubric.h"

/*
 * nbgrader's compute_checksum: md5 of the UTF-8 source, the cell type,
 * "True"/"False" for grade, solution and locked (a solution cell is never
 * locked, a grade cell always is), the grade_id, and for grade cells
 * Python's str(float(points)).
 */
void rubric_checksum(char out[33], const char *source, enum nb_cell_type type, int grade,
		     int solution, int locked, const char *grade_id, double points);

/* The source a student receives for a cell (all three transforms applied). */
int rubric_released_source(char **out, const struct rubric_cell *cell, struct gr_err *err);

/*
 * A notebook cell object for rubric cell `c` holding `source`, with the
 * rubric's metadata, nbgrader's locks and metadata.nbgrader (checksum of
 * `source` when `release`, else the rubric's grading checksum). Caller owns it.
 */
int rubric_cell_json(json_t **out, const struct rubric_cell *c, const char *source, int release,
		     struct gr_err *err);

#endif
