/* export_nbgrader.h - shared by export_nbgrader_*.c only (not a public header). */
#ifndef GRADER_EXPORT_NBGRADER_H
#define GRADER_EXPORT_NBGRADER_H

#include "export_int.h"

/* CREATE TABLE statements of nbgrader's gradebook.db, NULL-terminated. */
extern const char *const export_nbgrader_ddl[];
/* Names of the tables an existing gradebook.db must hold, NULL-terminated. */
extern const char *const export_nbgrader_tables[];

#endif
