/*
 * export_pseudo.c - a gradebook without personal data, for research
 * exports: each student id becomes HMAC-SHA256(key, id), its first
 * EXPORT_PSEUDONYM_HEX hex digits; names, emails and LMS ids are dropped,
 * and so is every free text that may carry a student's words or name
 * (captured outputs, tracebacks, comments, messages) and every pointer back
 * to the student's work (source location, commit, checksum).
 *
 * The same key gives the same pseudonyms in every export and assignment;
 * without the key the pseudonyms cannot be linked back to the ids. The work
 * is done on the gradebook's JSON form, so the result is validated like any
 * gradebook read from a file.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "export_int.h"

/* Keys shorter than this are refused: a guessable key undoes the pseudonyms. */
#define KEY_MIN 16
#define KEY_MAX 4096

void export_pseudonym(char out[EXPORT_PSEUDONYM_HEX + 1], const void *key, size_t keylen,
		      const char *id)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)id, strlen(id), md, &n);
	for (size_t i = 0; i < EXPORT_PSEUDONYM_HEX / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int set_null(json_t *o, const char *key)
{
	return json_object_get(o, key) ? json_object_set_new(o, key, json_null()) : 0;
}

/* Replace every student id in j (students, submissions) by its pseudonym. */
static int rename_ids(json_t *j, const void *key, size_t keylen, struct gr_err *err)
{
	static const char *const personal[] = {"first_name", "last_name", "email", "lms_user_id"};
	json_t *seen = json_object(), *v;
	char p[EXPORT_PSEUDONYM_HEX + 1];
	size_t i;
	int rc = 0;

	if (!seen)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	json_array_foreach(json_object_get(j, "students"), i, v)
	{
		const char *id = json_string_value(json_object_get(v, "id"));

		if (!id)
			continue;
		export_pseudonym(p, key, keylen, id);
		/* 64 bits make a collision unheard of; never merge two students if one happens. */
		if (json_object_get(seen, p)) {
			rc = gr_err_set(err, GR_EINVAL, "two students share the pseudonym '%s'", p);
			goto done;
		}
		json_object_set_new(seen, p, json_true());
		json_object_set_new(v, "id", json_string(p));
		for (size_t k = 0; k < sizeof(personal) / sizeof(*personal); k++)
			set_null(v, personal[k]);
	}
	json_array_foreach(json_object_get(j, "submissions"), i, v)
	{
		const char *id = json_string_value(json_object_get(v, "student_id"));

		if (!id)
			continue;
		export_pseudonym(p, key, keylen, id);
		json_object_set_new(v, "student_id", json_string(p));
	}
done:
	json_decref(seen);
	return rc;
}

/* Drop the free texts and provenance of one submission's JSON object. */
static void drop_texts(json_t *sub)
{
	json_t *nb, *g, *src = json_object_get(sub, "source");
	size_t i, k;

	set_null(sub, "message");
	set_null(src, "location");
	set_null(src, "commit");
	set_null(src, "checksum");
	json_array_foreach(json_object_get(sub, "notebooks"), i, nb)
	{
		set_null(nb, "message");
		json_array_foreach(json_object_get(nb, "grades"), k, g)
		{
			json_t *o = json_object_get(g, "output");

			set_null(o, "stdout");
			set_null(o, "stderr");
			set_null(o, "traceback");
			if (o)
				json_object_set_new(o, "truncated", json_false());
			set_null(g, "auto_comment");
		}
		json_array_foreach(json_object_get(nb, "comments"), k, g)
		{
			set_null(g, "auto_comment");
			set_null(g, "manual_comment");
		}
	}
}

int export_pseudo_key(char **key, size_t *keylen, const char *keyfile, struct gr_err *err)
{
	int rc = gr_read_file(key, keylen, keyfile, KEY_MAX, err);

	if (rc < 0)
		return rc;
	if (*keylen < KEY_MIN) {
		rc = gr_err_set(err, GR_EINVAL,
				"key file '%s' is too short: %zu bytes, at least %d wanted "
				"(head -c 32 /dev/urandom > KEYFILE)",
				keyfile, *keylen, KEY_MIN);
		export_pseudo_key_free(*key, *keylen);
		*key = NULL;
	}
	return rc;
}

void export_pseudo_key_free(char *key, size_t keylen)
{
	if (key)
		OPENSSL_cleanse(key, keylen);
	free(key);
}

int export_pseudo_copy(struct gb_gradebook **out, const struct gb_gradebook *gb, const void *key,
		       size_t keylen, struct gr_err *err)
{
	json_t *j = NULL, *sub;
	size_t i;
	int rc;

	/* Done on the JSON form, so the result is checked like a gradebook read from a file. */
	rc = gb_to_json(&j, gb, err);
	if (rc == 0)
		rc = rename_ids(j, key, keylen, err);
	if (rc == 0) {
		json_array_foreach(json_object_get(j, "submissions"), i, sub) drop_texts(sub);
		rc = gb_from_json(out, j, err);
	}
	json_decref(j);
	return rc;
}

/* The same as rename_ids and drop_texts do to a submission's JSON. */
int export_pseudo_submission(struct gb_submission *sub, const void *key, size_t keylen)
{
	char p[EXPORT_PSEUDONYM_HEX + 1];

	export_pseudonym(p, key, keylen, sub->student_id);
	if (gb_set_str(&sub->student_id, p) < 0)
		return GR_ENOMEM;
	gb_set_str(&sub->message, NULL);
	gb_set_str(&sub->source.location, NULL);
	gb_set_str(&sub->source.commit, NULL);
	gb_set_str(&sub->source.checksum, NULL);
	for (size_t i = 0; i < sub->n_notebooks; i++) {
		struct gb_nbresult *nb = sub->notebooks[i];

		gb_set_str(&nb->message, NULL);
		for (size_t k = 0; k < nb->n_grades; k++) {
			struct gb_grade *g = nb->grades[k];

			gb_set_str(&g->output.stdout_text, NULL);
			gb_set_str(&g->output.stderr_text, NULL);
			gb_set_str(&g->output.traceback, NULL);
			g->output.truncated = false;
			gb_set_str(&g->auto_comment, NULL);
		}
		for (size_t k = 0; k < nb->n_comments; k++) {
			gb_set_str(&nb->comments[k]->auto_comment, NULL);
			gb_set_str(&nb->comments[k]->manual_comment, NULL);
		}
	}
	return 0;
}

int export_pseudonymise(struct gb_gradebook **gb, const char *keyfile, struct gr_err *err)
{
	struct gb_gradebook *out = NULL;
	char *key = NULL;
	size_t keylen = 0;
	int rc;

	rc = export_pseudo_key(&key, &keylen, keyfile, err);
	if (rc == 0)
		rc = export_pseudo_copy(&out, *gb, key, keylen, err);
	if (rc == 0) {
		gb_free(*gb);
		*gb = out;
	}
	export_pseudo_key_free(key, keylen);
	return rc;
}
