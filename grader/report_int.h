/*
 * report_int.h - private to the report module (grader/report*.c): the
 * statistics report.c computes, pure functions tested on their own.
 *
 *   report.c       the numbers: items, students, statistics, JSON
 *   report_html.c  the self-contained HTML page
 */
#ifndef GRADER_REPORT_INT_H
#define GRADER_REPORT_INT_H

#include <stddef.h>

#include "grader/report.h"

/* Pearson correlation of x and y (n values each); NAN when n < 2 or a variance is 0. */
double report_pearson(const double *x, const double *y, size_t n);

/*
 * Cronbach's alpha of n respondents over k items, scores[i * k + j] being
 * respondent i's score on item j; NAN when k < 2, n < 2 or the totals do
 * not vary.
 */
double report_cronbach_alpha(const double *scores, size_t n, size_t k);

#endif
