/*
 * srv_config.c - the course config of `grader serve`: reading it, checking
 * it with one line per problem, and matching forge repositories to
 * assignments and students.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "grader/fetch.h"
#include "grader/roster.h"
#include "grader/rubric.h"
#include "srv_int.h"

#define SECRET_MAX 4096
#define STUDENT_MARK "{student}"

/* What the checker is working on: problems are counted, the first one kept. */
struct check {
	const char *path;
	srv_problem_fn fn;
	void *payload;
	struct gr_err *err;
	unsigned problems;
};

static void problem(struct check *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct check *ck, const char *fmt, ...)
{
	char line[GR_ERR_MAX];
	int n;
	va_list ap;

	n = snprintf(line, sizeof(line), "%s: ", ck->path);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (ck->problems++ == 0)
		gr_err_set(ck->err, GR_EINVAL, "%s", line);
	if (ck->fn)
		ck->fn(ck->payload, line);
}

const char *srv_forge_name(enum srv_forge f)
{
	static const char *const names[] = {"github", "gitlab", "gitea"};

	return (unsigned)f < SRV_NFORGES ? names[f] : NULL;
}

/* A path from the config, made absolute against the config's folder. */
static char *config_path(const char *dir, const char *p)
{
	return p[0] == '/' ? strdup(p) : gr_path_join(dir, p);
}

/*
 * `obj` must be an object (else a problem, and 0), and its keys outside
 * `known` (NULL-terminated) are problems: typos are caught. 1 for an object.
 */
static int object_keys(struct check *ck, json_t *obj, const char *where, const char *const *known)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		problem(ck, "%s: must be an object", where);
		return 0;
	}
	json_object_foreach(obj, key, v)
	{
		size_t i;

		for (i = 0; known[i] && strcmp(known[i], key); i++)
			;
		if (!known[i])
			problem(ck, "%s: unknown key '%s'", where, key);
	}
	return 1;
}

/*
 * A secret: {"env": NAME} or {"file": PATH}; a secret written into the
 * config itself is refused (configs get committed and shared). The value is
 * never put into a message.
 */
static char *read_secret(struct check *ck, json_t *spec, const char *where, const char *dir)
{
	const char *env = json_string_value(json_object_get(spec, "env"));
	const char *file = json_string_value(json_object_get(spec, "file"));
	char *val = NULL, *path;
	size_t len = 0;
	struct gr_err e = {0};

	if (!json_is_object(spec) || !!env == !!file || json_object_size(spec) != 1) {
		problem(ck, "%s: must be {\"env\": NAME} or {\"file\": PATH}", where);
		return NULL;
	}
	if (env) {
		const char *v = getenv(env);

		if (!v || !v[0]) {
			problem(ck, "%s: environment variable '%s' is not set", where, env);
			return NULL;
		}
		val = strdup(v);
	} else {
		path = config_path(dir, file);
		if (path && gr_read_file(&val, &len, path, SECRET_MAX, &e) < 0) {
			problem(ck, "%s: %s", where, e.msg);
			val = NULL;
		}
		free(path);
		/* a trailing newline of `echo secret >file` is not part of it */
		while (val && len > 0 && (val[len - 1] == '\n' || val[len - 1] == '\r'))
			val[--len] = '\0';
		if (val && !val[0]) {
			problem(ck, "%s: file '%s' is empty", where, file);
			free(val);
			val = NULL;
		}
	}
	return val;
}

/* An optional positive integer, or `def`. */
static size_t get_count(struct check *ck, json_t *obj, const char *key, const char *where,
			size_t def)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return def;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000) {
		problem(ck, "%s.%s: must be an integer from 1 to 1000000", where, key);
		return def;
	}
	return (size_t)json_integer_value(v);
}

/* One "{student}" exactly, anywhere in the text. */
static int has_one_mark(const char *s)
{
	const char *m = s ? strstr(s, STUDENT_MARK) : NULL;

	return m && !strstr(m + 1, STUDENT_MARK);
}

/* "status": {"forge", "api", "token": SECRET, "context"}: commit statuses of pushes. */
static void load_status(struct check *ck, struct srv_status *st, json_t *j, const char *where,
			const char *dir)
{
	static const char *const known[] = {"forge", "api", "token", "context", NULL};
	const char *forge = json_string_value(json_object_get(j, "forge"));
	const char *api = json_string_value(json_object_get(j, "api"));
	const char *context = json_string_value(json_object_get(j, "context"));
	char w[96];
	int f;

	snprintf(w, sizeof(w), "%s.status", where);
	if (!object_keys(ck, j, w, known))
		return;
	for (f = 0; f < SRV_NFORGES && (!forge || strcmp(forge, srv_forge_name(f))); f++)
		;
	if (f == SRV_NFORGES)
		problem(ck, "%s.forge: must be github, gitlab or gitea", w);
	if (!api || (strncmp(api, "https://", 8) && strncmp(api, "http://", 7)))
		problem(ck, "%s.api: must be the forge's API URL", w);
	snprintf(w, sizeof(w), "%s.status.token", where);
	st->token = read_secret(ck, json_object_get(j, "token"), w, dir);
	st->forge = f == SRV_NFORGES ? SRV_GITHUB : (enum srv_forge)f;
	st->api = api ? strndup(api, strlen(api) - (api[strlen(api) - 1] == '/')) : NULL;
	st->context = strdup(context ? context : "grader");
}

static int load_assignment(struct check *ck, struct srv_assignment *a, json_t *j, size_t i,
			   const char *dir)
{
	static const char *const known[] = {"name",   "rubric", "repository", "clone",
					    "branch", "status", NULL};
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *rubric = json_string_value(json_object_get(j, "rubric"));
	const char *repo = json_string_value(json_object_get(j, "repository"));
	const char *clone = json_string_value(json_object_get(j, "clone"));
	const char *branch = json_string_value(json_object_get(j, "branch"));
	struct rubric *r = NULL;
	struct gr_err e = {0};
	char where[64];

	snprintf(where, sizeof(where), "assignments[%zu]", i);
	if (!object_keys(ck, j, where, known))
		return 0;
	if (!name || !fetch_name_is_safe(name) || !rubric_is_grade_id(name))
		problem(ck, "%s.name: missing or not a valid assignment name", where);
	if (!rubric)
		problem(ck, "%s.rubric: missing", where);
	if (!has_one_mark(repo))
		problem(ck, "%s.repository: must name the repository with one '{student}'", where);
	if (!has_one_mark(clone))
		problem(ck, "%s.clone: must be a URL or path with one '{student}'", where);
	if (branch && (!branch[0] || strchr(branch, ' ')))
		problem(ck, "%s.branch: not a branch name", where);
	a->name = name ? strdup(name) : NULL;
	a->rubric = rubric ? config_path(dir, rubric) : NULL;
	a->repository = repo ? strdup(repo) : NULL;
	a->clone = clone ? (strstr(clone, "://") || clone[0] == '/' ? strdup(clone)
								    : config_path(dir, clone))
			 : NULL;
	a->branch = strdup(branch ? branch : "main");
	if (!a->branch || (name && !a->name) || (rubric && !a->rubric) ||
	    (repo && !a->repository) || (clone && !a->clone))
		return GR_ENOMEM;
	if (json_object_get(j, "status"))
		load_status(ck, &a->status, json_object_get(j, "status"), where, dir);
	if (a->rubric) {
		if (rubric_load(&r, a->rubric, &e) < 0)
			problem(ck, "%s.rubric: %s", where, e.msg);
		else if (name && strcmp(r->assignment, name))
			problem(ck, "%s.rubric: rubric is for assignment '%s', not '%s'", where,
				r->assignment, name);
		rubric_free(r);
	}
	return 0;
}

/* "STUDENT_ID TOKEN" a line; blank lines and '#' comments skipped. Tokens are never printed. */
static int parse_tokens(struct check *ck, struct srv_config *c, char *text)
{
	size_t n = 1, line = 0;
	char *save = NULL, *l;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	c->tokens = calloc(n, sizeof(*c->tokens));
	if (!c->tokens)
		return GR_ENOMEM;
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char id[256], tok[256], extra;
		int k;

		line++;
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#' || *l == '\r')
			continue;
		k = sscanf(l, "%255s %255s %c", id, tok, &extra);
		if (k != 2 || !fetch_name_is_safe(id) || strlen(tok) < 16) {
			problem(ck,
				"student_tokens: line %zu: must be 'STUDENT_ID TOKEN' with a "
				"token of 16 characters or more",
				line);
			continue;
		}
		for (size_t i = 0; i < c->ntokens; i++)
			if (!strcmp(c->tokens[i].token, tok) || !strcmp(c->tokens[i].student, id))
				problem(ck,
					"student_tokens: line %zu: student '%s' or the token is "
					"listed twice",
					line, id);
		c->tokens[c->ntokens].student = strdup(id);
		c->tokens[c->ntokens].token = strdup(tok);
		explicit_bzero(tok, sizeof(tok));
		if (!c->tokens[c->ntokens].student || !c->tokens[c->ntokens].token) {
			free(c->tokens[c->ntokens].student);
			free(c->tokens[c->ntokens].token);
			return GR_ENOMEM;
		}
		c->ntokens++;
	}
	return 0;
}

const char *srv_config_token_student(const struct srv_config *c, const char *token)
{
	const char *who = NULL;
	size_t n = strlen(token);

	/* no early exit: the time does not tell which token matched */
	for (size_t i = 0; i < c->ntokens; i++) {
		const char *t = c->tokens[i].token;

		if (strlen(t) == n && CRYPTO_memcmp(t, token, n) == 0)
			who = c->tokens[i].student;
	}
	return who;
}

static int load_all(struct check *ck, struct srv_config *c, json_t *root, const char *dir,
		    const char *state)
{
	static const char *const known[] = {
	    "listen",	   "state",	     "roster",	 "webhooks", "admin_token", "queue",
	    "assignments", "student_tokens", "callback", "workers",  "limits",	    NULL};
	static const char *const qknown[] = {"max", "per_student", NULL};
	static const char *const lknown[] = {"request_seconds",
					     "header_seconds",
					     "connections_per_ip",
					     "upload_buffer_mib",
					     "hook_buffer_per_ip_mib",
					     "fetch_mib",
					     NULL};
	json_t *hooks = json_object_get(root, "webhooks"), *q = json_object_get(root, "queue");
	json_t *lim = json_object_get(root, "limits");
	json_t *as = json_object_get(root, "assignments"), *v;
	const char *s;
	int rc = 0;

	object_keys(ck, root, "config", known);
	s = json_string_value(json_object_get(root, "listen"));
	c->listen = strdup(s ? s : "127.0.0.1:8080");
	s = state ? state : json_string_value(json_object_get(root, "state"));
	c->state = state ? strdup(state) : config_path(dir, s ? s : "grader-state");
	if (!c->listen || !c->state)
		return GR_ENOMEM;
	if ((v = json_object_get(root, "roster"))) {
		struct roster *ro = NULL;
		struct gr_err e = {0};

		c->roster = json_is_string(v) ? config_path(dir, json_string_value(v)) : NULL;
		if (!c->roster)
			problem(ck, "roster: must be the path of a roster CSV");
		else if (roster_load(&ro, c->roster, &e) < 0)
			problem(ck, "roster: %s", e.msg);
		roster_free(ro);
	}
	if (hooks && !json_is_object(hooks))
		problem(ck, "webhooks: must be an object of forges");
	for (int f = 0; hooks && f < SRV_NFORGES; f++) {
		char where[32];

		snprintf(where, sizeof(where), "webhooks.%s", srv_forge_name(f));
		if ((v = json_object_get(hooks, srv_forge_name(f))))
			c->secret[f] = read_secret(ck, v, where, dir);
	}
	/*
	 * GitLab sends its secret itself in a header: whoever sees one delivery
	 * (its log in GitLab, a proxy) has it, so it must sign nothing else.
	 */
	for (int f = 0; f < SRV_NFORGES; f++)
		if (f != SRV_GITLAB && c->secret[f] && c->secret[SRV_GITLAB] &&
		    !strcmp(c->secret[f], c->secret[SRV_GITLAB]))
			problem(ck,
				"webhooks.gitlab: the same secret as webhooks.%s; GitLab sends it "
				"in clear, so give each forge its own",
				srv_forge_name(f));
	if (json_is_object(hooks)) {
		static const char *const fknown[] = {"github", "gitlab", "gitea", NULL};
		object_keys(ck, hooks, "webhooks", fknown);
	}
	if ((v = json_object_get(root, "admin_token")))
		c->admin_token = read_secret(ck, v, "admin_token", dir);
	if ((v = json_object_get(root, "callback"))) {
		static const char *const cknown[] = {"url", "secret", NULL};
		const char *url = json_string_value(json_object_get(v, "url"));

		if (!json_is_object(v) || !url ||
		    (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)))
			problem(ck, "callback: must be {\"url\": URL, \"secret\": SECRET}");
		else
			object_keys(ck, v, "callback", cknown);
		c->callback_url = url ? strdup(url) : NULL;
		c->callback_secret =
		    read_secret(ck, json_object_get(v, "secret"), "callback.secret", dir);
	}
	if ((v = json_object_get(root, "student_tokens"))) {
		char *text = read_secret(ck, v, "student_tokens", dir);

		rc = text ? parse_tokens(ck, c, text) : 0;
		if (text)
			explicit_bzero(text, strlen(text));
		free(text);
		if (rc)
			return rc;
	}
	if (q)
		object_keys(ck, q, "queue", qknown);
	c->queue_max = get_count(ck, q, "max", "queue", 1000);
	c->per_student = get_count(ck, q, "per_student", "queue", 5);
	if (lim)
		object_keys(ck, lim, "limits", lknown);
	c->request_seconds = get_count(ck, lim, "request_seconds", "limits", 120);
	c->header_seconds = get_count(ck, lim, "header_seconds", "limits", 10);
	c->per_ip = get_count(ck, lim, "connections_per_ip", "limits", 64);
	c->buffer_mib = get_count(ck, lim, "upload_buffer_mib", "limits", 256);
	c->hook_ip_mib = get_count(ck, lim, "hook_buffer_per_ip_mib", "limits", 2);
	/* 64 MiB: the webhooks' whole share (SRV_HOOK_BUFFER_MAX) */
	if (c->hook_ip_mib > 64) {
		problem(ck, "limits.hook_buffer_per_ip_mib: must be an integer from 1 to 64");
		c->hook_ip_mib = 64;
	}
	c->fetch_mib = get_count(ck, lim, "fetch_mib", "limits", 64);
	{
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		c->workers =
		    get_count(ck, root, "workers", "config", cores > 0 ? (size_t)cores : 1);
		if (c->workers > SRV_WORKERS_MAX && json_object_get(root, "workers"))
			problem(ck, "workers: must be an integer from 1 to %d", SRV_WORKERS_MAX);
		if (c->workers > SRV_WORKERS_MAX)
			c->workers = SRV_WORKERS_MAX;
	}
	if (!json_is_array(as) || json_array_size(as) == 0) {
		problem(ck, "assignments: must be a non-empty array");
		return 0;
	}
	c->assignments = calloc(json_array_size(as), sizeof(*c->assignments));
	if (!c->assignments)
		return GR_ENOMEM;
	for (size_t i = 0; !rc && i < json_array_size(as); i++) {
		rc = load_assignment(ck, &c->assignments[i], json_array_get(as, i), i, dir);
		c->nassignments = i + 1;
		for (size_t k = 0; !rc && k < i; k++)
			if (c->assignments[i].name && c->assignments[k].name &&
			    !strcmp(c->assignments[i].name, c->assignments[k].name))
				problem(ck, "assignments[%zu].name: '%s' is listed twice", i,
					c->assignments[i].name);
	}
	return rc;
}

int srv_config_load(struct srv_config **out, const char *path, const char *state, srv_problem_fn fn,
		    void *payload, struct gr_err *err)
{
	struct check ck = {.path = path, .fn = fn, .payload = payload, .err = err};
	struct srv_config *c = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	char *abs = NULL, *slash;
	int rc;

	abs = realpath(path, NULL);
	if (!abs)
		return gr_err_sys(err, errno == ENOENT ? GR_ENOTFOUND : GR_EIO, errno,
				  "cannot open config '%s'", path);
	root = json_load_file(abs, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		rc = gr_err_set(err, GR_EINVAL, "config '%s': line %d: %s", path, jerr.line,
				root ? "must be a JSON object" : jerr.text);
		if (fn)
			fn(payload, err ? err->msg : "config: malformed");
		goto done;
	}
	slash = strrchr(abs, '/');
	*slash = '\0';
	c = calloc(1, sizeof(*c));
	rc = c ? 0 : GR_ENOMEM;
	if (!rc && !(c->path = strdup(path)))
		rc = GR_ENOMEM;
	if (!rc)
		rc = load_all(&ck, c, root, slash == abs ? "/" : abs, state);
	if (rc) {
		rc = gr_err_set(err, rc, "out of memory");
		goto done;
	}
	if (ck.problems) {
		rc = GR_EINVAL;
		goto done;
	}
	*out = c;
	c = NULL;
done:
	srv_config_free(c);
	json_decref(root);
	free(abs);
	return rc;
}

void srv_config_free(struct srv_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nassignments; i++) {
		struct srv_assignment *a = &c->assignments[i];

		free(a->name);
		free(a->rubric);
		free(a->repository);
		free(a->clone);
		free(a->branch);
		free(a->status.api);
		free(a->status.context);
		if (a->status.token)
			explicit_bzero(a->status.token, strlen(a->status.token));
		free(a->status.token);
	}
	free(c->assignments);
	for (size_t i = 0; i < c->ntokens; i++) {
		explicit_bzero(c->tokens[i].token, strlen(c->tokens[i].token));
		free(c->tokens[i].token);
		free(c->tokens[i].student);
	}
	free(c->tokens);
	for (int f = 0; f < SRV_NFORGES; f++) {
		if (c->secret[f])
			explicit_bzero(c->secret[f], strlen(c->secret[f]));
		free(c->secret[f]);
	}
	if (c->admin_token)
		explicit_bzero(c->admin_token, strlen(c->admin_token));
	free(c->admin_token);
	if (c->callback_secret)
		explicit_bzero(c->callback_secret, strlen(c->callback_secret));
	free(c->callback_secret);
	free(c->callback_url);
	free(c->path);
	free(c->listen);
	free(c->state);
	free(c->roster);
	free(c);
}

const struct srv_assignment *srv_config_assignment(const struct srv_config *c, const char *name)
{
	for (size_t i = 0; name && i < c->nassignments; i++)
		if (!strcmp(c->assignments[i].name, name))
			return &c->assignments[i];
	return NULL;
}

int srv_config_match(const struct srv_assignment **a, char **student, const struct srv_config *c,
		     const char *repository)
{
	size_t rlen = strlen(repository);

	for (size_t i = 0; i < c->nassignments; i++) {
		const char *pat = c->assignments[i].repository;
		const char *mark = strstr(pat, STUDENT_MARK);
		size_t pre = (size_t)(mark - pat), post = strlen(mark + strlen(STUDENT_MARK));
		char *id;

		if (rlen <= pre + post || strncmp(repository, pat, pre) ||
		    strcmp(repository + rlen - post, mark + strlen(STUDENT_MARK)))
			continue;
		id = strndup(repository + pre, rlen - pre - post);
		if (!id)
			return GR_ENOMEM;
		if (!fetch_name_is_safe(id) || strchr(id, '/')) {
			free(id);
			continue;
		}
		*a = &c->assignments[i];
		*student = id;
		return 0;
	}
	return GR_ENOTFOUND;
}
