/*
 * gradebook_int.h - helpers shared by the gradebook*.c files only
 * (not a public header: other modules use include/grader/gradebook.h).
 */
#ifndef GRADER_GRADEBOOK_INT_H
#define GRADER_GRADEBOOK_INT_H

#include "grader/gradebook.h"

/* Store "where.key: message" as a GR_EINVAL error; returns GR_EINVAL. */
int gb_bad(struct gr_err *err, const char *where, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* JSON field readers: absent or null gives NULL / dflt; errors name where.key. */
int gb_json_object(json_t *j, const char *where, const char *key, struct gr_err *err);
int gb_json_keys(json_t *o, const char *where, const char *const *allowed, struct gr_err *err);
int gb_json_str(json_t *o, const char *key, const char *where, bool required, char **out,
		struct gr_err *err);
int gb_json_num(json_t *o, const char *key, const char *where, double dflt, bool nullable,
		double *out, struct gr_err *err);
int gb_json_bool(json_t *o, const char *key, const char *where, bool *out, struct gr_err *err);
int gb_json_array(json_t *o, const char *key, const char *where, json_t **out, struct gr_err *err);
int gb_json_time(json_t *o, const char *key, const char *where, char **out, struct gr_err *err);

/* JSON builders: NULL / NAN become null; gb_jput and gb_jappend steal v, clear *ok on failure. */
json_t *gb_jstr(const char *s);
json_t *gb_jnum(double x);
void gb_jput(json_t *o, const char *key, json_t *v, bool *ok);
void gb_jappend(json_t *a, json_t *v, bool *ok);

#define OOM(err) gr_err_set(err, GR_ENOMEM, "out of memory")
#define TRY(expr)                                                                                  \
	do {                                                                                       \
		if ((rc = (expr)) < 0)                                                             \
			goto done;                                                                 \
	} while (0)

json_t *gb_assignment_to_json(const struct gb_assignment *a);
json_t *gb_student_to_json(const struct gb_student *s);
int gb_assignment_from_json(struct gb_gradebook *gb, json_t *j, const char *where,
			    struct gr_err *err);
int gb_student_from_json(struct gb_gradebook *gb, json_t *j, const char *where, struct gr_err *err);

/* Read format, assignments and students (not submissions) and check them. */
int gb_header_from_json(struct gb_gradebook **out, json_t *j, struct gr_err *err);
/* Unique names, known cell types, max scores that add up, valid dates. */
int gb_check_header(const struct gb_gradebook *gb, struct gr_err *err);

/* The set of (assignment, student) pairs already seen, to refuse duplicates. */
struct gb_seen;
int gb_seen_new(struct gb_seen **out, struct gr_err *err);
int gb_seen_add(struct gb_seen *seen, const struct gb_submission *sub, const char *where,
		struct gr_err *err);
void gb_seen_free(struct gb_seen *seen);

/* Statuses back from their JSON names; -1 when unknown. */
int gb_status_parse(const char *name);
int gb_cell_status_parse(const char *name);

bool gb_submission_has_flag(const struct gb_submission *sub, const char *flag);

/*
 * One submission back from its JSON object (*out): shapes and types only;
 * `where` prefixes the field path in messages ("submissions[3]"). GR_EINVAL
 * names the bad field.
 */
int gb_submission_from_json(struct gb_submission **out, json_t *j, const char *where,
			    struct gr_err *err);

/*
 * Check one submission against the gradebook's assignments and students:
 * names resolve, grades belong to grade/task cells, scores add up.
 */
int gb_submission_validate(const struct gb_gradebook *gb, const struct gb_submission *sub,
			   const char *where, struct gr_err *err);

/* Submission i of the file as its JSON object (*out, json_decref it). */
int gb_reader_get_json(struct gb_reader *r, size_t i, json_t **out, struct gr_err *err);

/*
 * jansson flags of every gradebook line we write: 17 significant digits, so
 * that every score reads back as the very double it was (exporters then print
 * Python's shortest repr of it, as nbgrader does).
 */
#define GB_DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))

#endif
