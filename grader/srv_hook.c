/*
 * srv_hook.c - push webhooks from GitHub, GitLab and Gitea: the signature
 * checked over the raw body in constant time before anything reads it, then
 * the few fields a job needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "srv_int.h"

void srv_hmac_sha256_hex(char out[65], const char *key, const void *data, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";

	if (!HMAC(EVP_sha256(), key, (int)strlen(key), data, len, mac, &n))
		n = 0;
	for (unsigned i = 0; i < n && i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[n ? 64 : 0] = '\0';
}

/* Equal strings, in time that depends on the lengths only. */
static int same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

int srv_hook_precheck(enum srv_forge forge, const char *secret, const char *signature,
		      struct gr_err *err)
{
	if (!secret)
		return gr_err_set(err, GR_EDENIED, "%s webhooks are not enabled",
				  srv_forge_name(forge));
	if (!signature || !signature[0])
		return gr_err_set(err, GR_EDENIED, "delivery is not signed");
	if (forge == SRV_GITLAB) {
		/* GitLab sends the secret itself */
		if (!same(signature, secret))
			return gr_err_set(err, GR_EDENIED, "wrong webhook token");
		return 0;
	}
	if (forge == SRV_GITHUB && strncmp(signature, "sha256=", 7))
		return gr_err_set(err, GR_EDENIED, "signature is not 'sha256=...'");
	if (forge == SRV_GITHUB)
		signature += 7;
	if (strlen(signature) != 64 || strspn(signature, "0123456789abcdefABCDEF") != 64)
		return gr_err_set(err, GR_EDENIED, "wrong signature");
	return 0;
}

int srv_hook_verify(enum srv_forge forge, const char *secret, const char *signature,
		    const void *body, size_t len, struct gr_err *err)
{
	char mac[65], given[65];
	size_t n;
	int rc = srv_hook_precheck(forge, secret, signature, err);

	if (rc || forge == SRV_GITLAB)
		return rc;
	if (forge == SRV_GITHUB)
		signature += 7;
	/* hex digits compare case-insensitively: normalise without branching on the MAC */
	n = strlen(signature);
	for (size_t i = 0; i < n; i++)
		given[i] =
		    (char)(signature[i] | (signature[i] >= 'A' && signature[i] <= 'F' ? 32 : 0));
	given[n] = '\0';
	srv_hmac_sha256_hex(mac, secret, body, len);
	if (!same(given, mac))
		return gr_err_set(err, GR_EDENIED, "wrong signature");
	return 0;
}

void srv_push_release(struct srv_push *p)
{
	free(p->delivery);
	free(p->event);
	free(p->repository);
	free(p->ref);
	free(p->after);
	free(p->commit_time);
	memset(p, 0, sizeof(*p));
}

int srv_hook_is_push(enum srv_forge forge, const char *event)
{
	return event && !strcmp(event, forge == SRV_GITLAB ? "Push Hook" : "push");
}

int srv_is_commit_id(const char *s)
{
	if (!s || strlen(s) != 40)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int srv_hook_parse(struct srv_push *out, enum srv_forge forge, const char *event,
		   const char *delivery, const void *body, size_t len, struct gr_err *err)
{
	struct srv_push p = {.forge = forge};
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *repo;
	const char *name, *after, *ref, *when;
	int rc = 0;

	if (!root || !json_is_object(root)) {
		rc = gr_err_set(err, GR_EINVAL, "malformed JSON body: %s",
				root ? "not an object" : jerr.text);
		goto done;
	}
	p.event = dup_or_null(event);
	p.delivery = dup_or_null(delivery);
	if (!event || !event[0]) {
		rc = gr_err_set(err, GR_EINVAL, "delivery without an event header");
		goto done;
	}
	if (!srv_hook_is_push(forge, event))
		goto fill; /* a ping or another event: acknowledged by the caller */
	repo = json_object_get(root, forge == SRV_GITLAB ? "project" : "repository");
	name = json_string_value(
	    json_object_get(repo, forge == SRV_GITLAB ? "path_with_namespace" : "full_name"));
	ref = json_string_value(json_object_get(root, "ref"));
	after = json_string_value(
	    json_object_get(root, forge == SRV_GITLAB ? "checkout_sha" : "after"));
	if (forge == SRV_GITLAB && !after)
		after = json_string_value(json_object_get(root, "after"));
	if (!name || !ref) {
		rc = gr_err_set(err, GR_EINVAL, "push without %s",
				!name ? "a repository name" : "'ref'");
		goto done;
	}
	p.deleted = json_is_true(json_object_get(root, "deleted")) ||
		    (after && strspn(after, "0") == 40) || (forge == SRV_GITLAB && !after);
	if (!p.deleted && !srv_is_commit_id(after)) {
		rc = gr_err_set(err, GR_EINVAL, "push without a commit id in 'after'");
		goto done;
	}
	when =
	    json_string_value(json_object_get(json_object_get(root, "head_commit"), "timestamp"));
	p.repository = strdup(name);
	p.ref = strdup(ref);
	p.after = dup_or_null(p.deleted ? NULL : after);
	p.commit_time = dup_or_null(when);
	if (!p.repository || !p.ref || (!p.deleted && !p.after)) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
fill:
	/*
	 * GitHub's body says when it was pushed (repository.pushed_at): the
	 * same bytes again are a replay. GitLab's token is sent in clear (any
	 * body can be written), and neither it nor Gitea is known to put a
	 * push time in the body: a genuine push back and forth between two
	 * commits could repeat a body byte for byte.
	 */
	if (forge == SRV_GITHUB) {
		unsigned char dig[EVP_MAX_MD_SIZE];
		unsigned int n = 0;

		if (!EVP_Digest(body, len, dig, &n, EVP_sha256(), NULL) || n != 32) {
			rc = gr_err_set(err, GR_ENOMEM, "cannot hash the body");
			goto done;
		}
		for (unsigned i = 0; i < n; i++)
			snprintf(p.body_sha + 2 * i, 3, "%02x", dig[i]);
	}
	*out = p;
	memset(&p, 0, sizeof(p));
done:
	srv_push_release(&p);
	json_decref(root);
	return rc;
}
