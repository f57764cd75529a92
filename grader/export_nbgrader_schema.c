/*
 * export_nbgrader_schema.c - nbgrader's gradebook.db schema for SQLite, as
 * SQLAlchemy (>= 1.4, which nbgrader requires) emits it from the models of
 * nbgrader/api.py: the same tables, column names and types, NOT NULL,
 * primary keys, unique constraints and foreign keys, so that nbgrader opens
 * the file without migrating. Enums become VARCHAR of their longest value
 * without CHECK constraints, Interval becomes DATETIME (SQLAlchemy stores it
 * as epoch + interval), Float becomes FLOAT. The alembic_version table is
 * created as nbgrader's Gradebook() creates it for a new database, stamped
 * with the head of nbgrader/alembic/versions (e43177bfe90b, "added course
 * table and relationships", after 282d30a0218e lms_user_id and 167914646830
 * task cells).
 */
#include "export_nbgrader.h"

/* nbgrader's grade_cells and task_cells have the same columns */
#define SCORED_CELLS(name)                                                                         \
	"CREATE TABLE " name " (\n"                                                                \
	"\tid VARCHAR(32) NOT NULL, \n"                                                            \
	"\tmax_score FLOAT NOT NULL, \n"                                                           \
	"\tcell_type VARCHAR(8) NOT NULL, \n"                                                      \
	"\tPRIMARY KEY (id), \n"                                                                   \
	"\tFOREIGN KEY(id) REFERENCES base_cell (id)\n"                                            \
	")"

const char *const export_nbgrader_ddl[] = {
    "CREATE TABLE course (\n"
    "\tid VARCHAR(128) NOT NULL, \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (id)\n"
    ")",

    "CREATE TABLE student (\n"
    "\tid VARCHAR(128) NOT NULL, \n"
    "\tfirst_name VARCHAR(128), \n"
    "\tlast_name VARCHAR(128), \n"
    "\temail VARCHAR(128), \n"
    "\tlms_user_id VARCHAR(128), \n"
    "\tPRIMARY KEY (id)\n"
    ")",

    "CREATE TABLE assignment (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tname VARCHAR(128) NOT NULL, \n"
    "\tduedate DATETIME, \n"
    "\tcourse_id VARCHAR(128) NOT NULL, \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (name), \n"
    "\tFOREIGN KEY(course_id) REFERENCES course (id)\n"
    ")",

    "CREATE TABLE notebook (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tname VARCHAR(128) NOT NULL, \n"
    "\tassignment_id VARCHAR(32), \n"
    "\tkernelspec VARCHAR(1024), \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (name, assignment_id), \n"
    "\tFOREIGN KEY(assignment_id) REFERENCES assignment (id)\n"
    ")",

    "CREATE TABLE base_cell (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tname VARCHAR(128) NOT NULL, \n"
    "\tnotebook_id VARCHAR(32) NOT NULL, \n"
    "\ttype VARCHAR(50), \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (name, notebook_id, type), \n"
    "\tFOREIGN KEY(notebook_id) REFERENCES notebook (id)\n"
    ")",

    "CREATE TABLE source_cell (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tname VARCHAR(128) NOT NULL, \n"
    "\tcell_type VARCHAR(8) NOT NULL, \n"
    "\tlocked BOOLEAN NOT NULL, \n"
    "\tsource TEXT, \n"
    "\tchecksum VARCHAR(128), \n"
    "\tnotebook_id VARCHAR(32), \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (name, notebook_id), \n"
    "\tFOREIGN KEY(notebook_id) REFERENCES notebook (id)\n"
    ")",

    "CREATE TABLE submitted_assignment (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tassignment_id VARCHAR(32), \n"
    "\tstudent_id VARCHAR(128), \n"
    "\ttimestamp DATETIME, \n"
    "\textension DATETIME, \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (assignment_id, student_id), \n"
    "\tFOREIGN KEY(assignment_id) REFERENCES assignment (id), \n"
    "\tFOREIGN KEY(student_id) REFERENCES student (id)\n"
    ")",

    SCORED_CELLS("grade_cells"),

    "CREATE TABLE solution_cells (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tPRIMARY KEY (id), \n"
    "\tFOREIGN KEY(id) REFERENCES base_cell (id)\n"
    ")",

    SCORED_CELLS("task_cells"),

    "CREATE TABLE submitted_notebook (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tassignment_id VARCHAR(32), \n"
    "\tnotebook_id VARCHAR(32), \n"
    "\tflagged BOOLEAN, \n"
    "\tlate_submission_penalty FLOAT, \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (notebook_id, assignment_id), \n"
    "\tFOREIGN KEY(assignment_id) REFERENCES submitted_assignment (id), \n"
    "\tFOREIGN KEY(notebook_id) REFERENCES notebook (id)\n"
    ")",

    "CREATE TABLE grade (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tnotebook_id VARCHAR(32), \n"
    "\tcell_id VARCHAR(32), \n"
    "\tauto_score FLOAT, \n"
    "\tmanual_score FLOAT, \n"
    "\textra_credit FLOAT, \n"
    "\tneeds_manual_grade BOOLEAN NOT NULL, \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (cell_id, notebook_id), \n"
    "\tFOREIGN KEY(notebook_id) REFERENCES submitted_notebook (id), \n"
    "\tFOREIGN KEY(cell_id) REFERENCES base_cell (id)\n"
    ")",

    "CREATE TABLE comment (\n"
    "\tid VARCHAR(32) NOT NULL, \n"
    "\tnotebook_id VARCHAR(32), \n"
    "\tcell_id VARCHAR(32), \n"
    "\tauto_comment TEXT, \n"
    "\tmanual_comment TEXT, \n"
    "\tPRIMARY KEY (id), \n"
    "\tUNIQUE (cell_id, notebook_id), \n"
    "\tFOREIGN KEY(notebook_id) REFERENCES submitted_notebook (id), \n"
    "\tFOREIGN KEY(cell_id) REFERENCES base_cell (id)\n"
    ")",

    /* Exactly as nbgrader.api.Gradebook creates it for a new database. */
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);",
    NULL,
};

/* Tables an existing gradebook.db must have before we write into it. */
const char *const export_nbgrader_tables[] = {
    "course",
    "student",
    "assignment",
    "notebook",
    "base_cell",
    "source_cell",
    "grade_cells",
    "solution_cells",
    "task_cells",
    "submitted_assignment",
    "submitted_notebook",
    "grade",
    "comment",
    "alembic_version",
    NULL,
};
