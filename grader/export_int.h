/*
 * export_int.h - shared by the grader/export_*.c files only (not a public
 * header: other modules use include/grader/export.h).
 */
#ifndef GRADER_EXPORT_INT_H
#define GRADER_EXPORT_INT_H

#include "grader/export.h"

/*
 * An ISO 8601 time as UTC "YYYY-MM-DD HH:MM:SS[.ffffff]": python=true prints
 * like str(datetime) (microseconds only when non-zero), python=false like
 * SQLAlchemy stores DATETIME in SQLite (always 6 digits). GR_EINVAL if bad.
 */
int export_utc_time(char out[40], const char *iso, bool python);
/* Seconds since the epoch as SQLAlchemy stores an Interval in SQLite. */
void export_db_interval(char out[40], double seconds);

/*
 * The note every export carries for a submission whose time is unreadable
 * or unknown (flags bad_timestamp, time_unknown): its message, else a
 * default; NULL when its time is known. Points into sub.
 */
const char *export_time_note(const struct gb_submission *sub);

/*
 * What of a cell's traceback students may see: all of it, or, when the grade
 * is withheld (`withheld`: why, from gb_grade_withheld), only the exception's
 * name and that note (the lines above quote a hidden test's source, and its
 * message may carry values a hidden test handed the notebook's code).
 * Heap string or NULL.
 */
char *export_traceback(const char *traceback, const char *withheld);

/* One RFC 4180 field: quoted when it holds a comma, quote, CR or LF. */
void export_csv_field(FILE *f, const char *s);
/* The same for text people type (names, emails): a leading = + - @ (a
 * spreadsheet formula) gets a ' before it, as the fetch manifest does. */
void export_csv_text(FILE *f, const char *s);
/* n such fields, comma-separated (a NULL one is empty); no line end. */
void export_csv_fields(FILE *f, const char *const *fields, size_t n);

/*
 * Write s escaped for XML 1.0 text (attr=false) or a double-quoted attribute
 * (attr=true): markup characters become entities, ANSI escapes are dropped
 * and characters XML 1.0 forbids (C0 controls but tab/LF/CR) become U+FFFD.
 */
void export_xml_text(FILE *f, const char *s, bool attr);

/*
 * What one export covers (export_sorted): the selected assignments, sorted
 * as nbgrader lists them (due date, name), the selected students, sorted as
 * nbgrader lists them (last name, first name, NULL first, then id), and where
 * their submissions come from: the gradebook's own (in memory) or a file read
 * as a stream, one submission at a time, so that an exporter holds only the
 * lists and the submission it is writing.
 */
struct export_sel {
	const struct gb_gradebook *gb; /* assignments and students */
	struct gb_reader *reader;      /* submissions from the file, or NULL: gb's */
	const void *key;	       /* pseudonymise what is read from the file, or NULL */
	size_t keylen;
	const struct gb_assignment **as;
	size_t *ai; /* as[i] is gb->assignments[ai[i]] */
	size_t na;
	const struct gb_student **ss;
	size_t *si; /* ss[j] is gb->students[si[j]] */
	size_t ns;
	struct gb_submission *held; /* the submission last read from the file */
};

/*
 * Fill *sel for the selection `o` (NULL: everything) over gb, whose
 * submissions come from `reader` when not NULL (gb is then the reader's
 * header, or a pseudonymised copy of it, with the same students in the same
 * order). GR_ENOTFOUND names an --assignment or --student not in gb.
 * Release with export_sel_release.
 */
int export_sorted(struct export_sel *sel, const struct gb_gradebook *gb, struct gb_reader *reader,
		  const struct export_opts *o, struct gr_err *err);
void export_sel_release(struct export_sel *sel);

/*
 * The submission of (sel->as[i], sel->ss[j]), or NULL when there is none;
 * valid until the next export_sel_sub or export_sel_nth.
 */
int export_sel_sub(struct export_sel *sel, size_t i, size_t j, const struct gb_submission **out,
		   struct gr_err *err);
/* Every submission in the file's order, whatever the selection: their count, the k-th. */
size_t export_sel_count(const struct export_sel *sel);
/* Assignment of the k-th submission, without reading it. */
const char *export_sel_nth_assignment(const struct export_sel *sel, size_t k);
int export_sel_nth(struct export_sel *sel, size_t k, const struct gb_submission **out,
		   struct gr_err *err);

/* The exporters over a selection (export.h has the same over a whole gradebook). */
int export_csv_sel(FILE *out, struct export_sel *sel, const struct export_opts *o,
		   struct gr_err *err);
int export_junit_sel(FILE *out, struct export_sel *sel, const struct export_opts *o,
		     struct gr_err *err);
int export_markdown_sel(FILE *out, struct export_sel *sel, const struct export_opts *o,
			struct gr_err *err);
int export_items_sel(FILE *out, struct export_sel *sel, const struct export_opts *o,
		     struct gr_err *err);
int export_gradescope_sel(const char *path, struct export_sel *sel, const struct export_opts *o,
			  struct gr_err *err);
int export_nbgrader_db_sel(const char *path, struct export_sel *sel, const struct export_opts *o,
			   struct gr_err *err);

/*
 * Run one of the above over a whole gradebook in memory (export_csv and the
 * like); a write error on out fails it as "cannot write the WHAT export".
 * The text writers leave that check to their callers (this, and
 * export_src_write, which names the file).
 */
typedef int export_text_fn(FILE *out, struct export_sel *sel, const struct export_opts *o,
			   struct gr_err *err);
int export_over(export_text_fn *fn, const char *what, FILE *out, const struct gb_gradebook *gb,
		const struct export_opts *o, struct gr_err *err);

/*
 * Pseudonymisation in pieces (export_pseudo.c): read and check the key file
 * (*key, free it with export_pseudo_key_free), make a pseudonymised copy of a
 * gradebook (*out, gb_free it) and pseudonymise one submission in place.
 */
int export_pseudo_key(char **key, size_t *keylen, const char *keyfile, struct gr_err *err);
void export_pseudo_key_free(char *key, size_t keylen);
int export_pseudo_copy(struct gb_gradebook **out, const struct gb_gradebook *gb, const void *key,
		       size_t keylen, struct gr_err *err);
int export_pseudo_submission(struct gb_submission *sub, const void *key, size_t keylen);

#endif
