/* test_serve.c - unit tests for the service: webhook signatures, the config, the queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../grader/srv_int.h"

#define TEST_DIR_MAX 512 /* a folder made in $TMPDIR */
#include "grader/serve.h"

/* RFC 4231 test case 2: key "Jefe". */
static void test_serve__hmac_known_vector(void **state)
{
	char mac[65];

	(void)state;
	srv_hmac_sha256_hex(mac, "Jefe", "what do ya want for nothing?", 28);
	assert_string_equal(mac,
			    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_serve__verify(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/main\"}";
	char mac[65], sig[80], upper[80];
	struct gr_err err = {0};

	(void)state;
	srv_hmac_sha256_hex(mac, "k", body, strlen(body));
	snprintf(sig, sizeof(sig), "sha256=%s", mac);
	assert_int_equal(srv_hook_verify(SRV_GITHUB, "k", sig, body, strlen(body), &err), 0);
	assert_int_equal(srv_hook_verify(SRV_GITEA, "k", mac, body, strlen(body), &err), 0);
	for (size_t i = 0; i <= strlen(mac); i++)
		upper[i] = (char)(mac[i] >= 'a' && mac[i] <= 'f' ? mac[i] - 32 : mac[i]);
	assert_int_equal(srv_hook_verify(SRV_GITEA, "k", upper, body, strlen(body), &err), 0);
	/* a body changed by one byte, the wrong key, no prefix, no signature, a prefix only */
	assert_int_equal(srv_hook_verify(SRV_GITHUB, "k", sig, body, strlen(body) - 1, &err),
			 GR_EDENIED);
	assert_int_equal(srv_hook_verify(SRV_GITHUB, "K", sig, body, strlen(body), &err),
			 GR_EDENIED);
	assert_int_equal(srv_hook_verify(SRV_GITHUB, "k", mac, body, strlen(body), &err),
			 GR_EDENIED);
	assert_int_equal(srv_hook_verify(SRV_GITHUB, "k", NULL, body, strlen(body), &err),
			 GR_EDENIED);
	assert_string_equal(err.msg, "delivery is not signed");
	sig[20] = '\0';
	assert_int_equal(srv_hook_verify(SRV_GITHUB, "k", sig, body, strlen(body), &err),
			 GR_EDENIED);
	assert_int_equal(srv_hook_verify(SRV_GITLAB, "tok", "tok", body, 3, &err), 0);
	assert_int_equal(srv_hook_verify(SRV_GITLAB, "tok", "tok2", body, 3, &err), GR_EDENIED);
	assert_int_equal(srv_hook_verify(SRV_GITLAB, "tok", "to", body, 3, &err), GR_EDENIED);
	assert_int_equal(srv_hook_verify(SRV_GITLAB, NULL, "tok", body, 3, &err), GR_EDENIED);
}

static void test_serve__parse(void **state)
{
	const char *gh = "{\"ref\":\"refs/heads/main\",\"after\":"
			 "\"0123456789abcdef0123456789abcdef01234567\","
			 "\"repository\":{\"full_name\":\"c/ps1-alice\"},"
			 "\"head_commit\":{\"timestamp\":\"2026-10-29T10:00:00Z\"}}";
	const char *gl = "{\"ref\":\"refs/heads/main\",\"checkout_sha\":null,\"after\":"
			 "\"0000000000000000000000000000000000000000\","
			 "\"project\":{\"path_with_namespace\":\"c/ps1-bob\"}}";
	struct srv_push p = {0};
	struct gr_err err = {0};

	(void)state;
	assert_int_equal(srv_hook_parse(&p, SRV_GITHUB, "push", "d1", gh, strlen(gh), &err), 0);
	assert_string_equal(p.repository, "c/ps1-alice");
	assert_string_equal(p.after, "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(p.commit_time, "2026-10-29T10:00:00Z");
	assert_false(p.deleted);
	srv_push_release(&p);
	assert_int_equal(srv_hook_parse(&p, SRV_GITLAB, "Push Hook", "d2", gl, strlen(gl), &err),
			 0);
	assert_true(p.deleted);
	assert_string_equal(p.repository, "c/ps1-bob");
	srv_push_release(&p);
	assert_int_equal(srv_hook_parse(&p, SRV_GITHUB, "push", "d3", gh, 30, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "malformed JSON"));
	assert_int_equal(srv_hook_parse(&p, SRV_GITHUB, "push", "d4", "{\"ref\":\"x\"}", 11, &err),
			 GR_EINVAL);
	assert_int_equal(srv_hook_parse(&p, SRV_GITHUB, "ping", "d5", "{}", 2, &err), 0);
	assert_false(srv_hook_is_push(SRV_GITHUB, p.event));
	srv_push_release(&p);
	assert_int_equal(srv_hook_parse(&p, SRV_GITHUB, NULL, "d6", gh, strlen(gh), &err),
			 GR_EINVAL);
}

static void rm_rf(const char *dir)
{
	char cmd[TEST_DIR_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A fresh folder in $TMPDIR (the suite gives each test its own), else /tmp. */
static void make_dir(char dir[TEST_DIR_MAX])
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, TEST_DIR_MAX, "%s/grader-test-serve.XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(dir));
}

/* A temporary folder with a config and a one-line rubric stand-in. */
static char *write_config(char dir[TEST_DIR_MAX], const char *json)
{
	char *path = NULL;
	FILE *f;

	make_dir(dir);
	assert_true(asprintf(&path, "%s/course.json", dir) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	return path;
}

static void problems(void *payload, const char *line)
{
	(*(int *)payload)++;
	assert_null(strstr(line, "hush-secret")); /* secrets never reach a message */
}

static void test_serve__config(void **state)
{
	char dir[TEST_DIR_MAX], *path, *student = NULL;
	struct srv_config *c = NULL;
	const struct srv_assignment *a = NULL;
	struct gr_err err = {0};
	int n = 0;

	(void)state;
	setenv("TEST_SERVE_SECRET", "hush-secret", 1);
	path = write_config(dir, "{\"webhooks\": {\"github\": {\"env\": \"TEST_SERVE_SECRET\"},"
				 " \"gitlab\": \"hush-secret\"},"
				 " \"queue\": {\"max\": 0}, \"colour\": 1,"
				 " \"assignments\": [{\"name\": \"ps1\", \"rubric\": \"none.json\","
				 " \"repository\": \"c/ps1\", \"clone\": \"r/{student}.git\"}]}");
	assert_int_equal(srv_config_load(&c, path, NULL, problems, &n, &err), GR_EINVAL);
	assert_null(c);
	/* the literal secret, max 0, 'colour', no {student} in repository, the rubric */
	assert_int_equal(n, 5);
	free(path);
	rm_rf(dir);
	{
		const char *root = getenv("ROOT");
		char rubric[4096], cwd[2048], *text = NULL;

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		snprintf(rubric, sizeof(rubric), "%s/rubrics/examples/ps1.json", root ? root : cwd);
		assert_true(
		    asprintf(&text,
			     "{\"webhooks\": {\"github\": {\"env\": \"TEST_SERVE_SECRET\"}},"
			     " \"assignments\": [{\"name\": \"ps1\", \"rubric\": \"%s\","
			     " \"repository\": \"c/ps1-{student}\","
			     " \"clone\": \"r/{student}.git\"}]}",
			     rubric) > 0);
		path = write_config(dir, text);
		free(text);
	}
	n = 0;
	assert_int_equal(srv_config_load(&c, path, NULL, problems, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_string_equal(c->secret[SRV_GITHUB], "hush-secret");
	assert_null(c->secret[SRV_GITLAB]);
	assert_int_equal(c->queue_max, 1000);
	assert_int_equal(srv_config_match(&a, &student, c, "c/ps1-alice"), 0);
	assert_string_equal(student, "alice");
	assert_string_equal(a->branch, "main");
	free(student);
	assert_int_equal(srv_config_match(&a, &student, c, "c/ps1-"), GR_ENOTFOUND);
	assert_int_equal(srv_config_match(&a, &student, c, "c/ps1-a/b"), GR_ENOTFOUND);
	assert_int_equal(srv_config_match(&a, &student, c, "c/ps1-.hidden"), GR_ENOTFOUND);
	assert_int_equal(srv_config_match(&a, &student, c, "d/ps1-alice"), GR_ENOTFOUND);
	srv_config_free(c);
	free(path);
	rm_rf(dir);
}

static long long push(struct srv_store *s, const char *student, const char *delivery, int *rc)
{
	/* one commit per delivery: a commit queued already is not queued again */
	char commit[41];
	struct srv_job_in in = {.assignment = "ps1",
				.student = student,
				.kind = "push",
				.forge = "github",
				.delivery = delivery,
				.repository = "c/r",
				.commit = commit,
				.received = 1.8e9};
	struct gr_err err = {0};
	long long id = 0;

	unsigned h = 2166136261u;

	for (const char *p = delivery; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(commit, sizeof(commit), "%040x", h);

	*rc = srv_store_enqueue(s, &in, NULL, 0, 4, 2, &id, &err);
	return id;
}

static void test_serve__queue(void **state)
{
	char dir[TEST_DIR_MAX];
	struct srv_store *s = NULL;
	struct srv_job j = {0};
	struct gr_err err = {0};
	long long a1, a2, a3, b1, b2, c1;
	int rc, sup = 0, n = 0;
	json_t *js = NULL;

	(void)state;
	make_dir(dir);
	assert_int_equal(srv_store_open(&s, dir, &err), 0);
	a1 = push(s, "alice", "d1", &rc);
	assert_int_equal(rc, 0);
	push(s, "alice", "d1", &rc);
	assert_int_equal(rc, SRV_REPLAY);
	{
		/* d1's commit under another delivery id: acknowledged, not queued */
		struct srv_job_in again = {.assignment = "ps1",
					   .student = "alice",
					   .kind = "push",
					   .forge = "gitea",
					   .delivery = "d1-again",
					   .repository = "c/r",
					   .received = 1.8e9};
		char commit[41];
		unsigned h = 2166136261u;
		long long none = 0;

		for (const char *p = "d1"; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		snprintf(commit, sizeof(commit), "%040x", h);
		again.commit = commit;
		assert_int_equal(srv_store_enqueue(s, &again, NULL, 0, 4, 2, &none, &err),
				 SRV_KNOWN);
		/* d1 itself, sent to another forge's endpoint: a replay */
		again.delivery = "d1";
		assert_int_equal(srv_store_enqueue(s, &again, NULL, 0, 4, 2, &none, &err),
				 SRV_REPLAY);
	}
	a2 = push(s, "alice", "d2", &rc);
	assert_int_equal(rc, 0);
	/* per_student 2: alice's newest is taken, her waiting ones make way for it */
	a3 = push(s, "alice", "d3", &rc);
	assert_int_equal(rc, 0);
	b1 = push(s, "bob", "d4", &rc);
	assert_int_equal(rc, 0);
	c1 = push(s, "carol", "d5", &rc);
	assert_int_equal(rc, 0);
	push(s, "dave", "d6", &rc);
	assert_int_equal(rc, 0);
	push(s, "erin", "d7", &rc);
	assert_int_equal(rc, SRV_QUEUE_FULL); /* max 4, and erin has nothing waiting */
	push(s, "erin", "d7", &rc);
	assert_int_equal(rc, SRV_QUEUE_FULL); /* a refused delivery may come again */
	/* a full queue still takes bob's newest: his waiting one makes way */
	b2 = push(s, "bob", "d8", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(srv_store_job_json(s, b2, 0, &js, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(js, "position")), 4);
	json_decref(js);
	assert_int_equal(srv_store_job_json(s, b1, 0, &js, &err), 0);
	assert_string_equal(json_string_value(json_object_get(js, "state")), "superseded");
	json_decref(js);
	assert_int_equal(srv_store_take(s, 1, &j, &sup, &err), 0);
	assert_int_equal(j.id, a3);
	assert_int_equal(sup, 0);
	assert_int_equal(j.attempts, 1);
	srv_job_release(&j);
	assert_int_equal(srv_store_job_json(s, a1, 0, &js, &err), 0);
	assert_string_equal(json_string_value(json_object_get(js, "state")), "superseded");
	json_decref(js);
	assert_int_equal(srv_store_job_json(s, a2, 0, &js, &err), 0);
	assert_string_equal(json_string_value(json_object_get(js, "state")), "superseded");
	json_decref(js);
	/* the grading side dies: the running job is queued again and taken next */
	srv_store_close(s);
	assert_int_equal(srv_store_open(&s, dir, &err), 0);
	assert_int_equal(srv_store_recover(s, 0, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(srv_store_take(s, 1, &j, &sup, &err), 0);
	assert_int_equal(j.id, a3);
	assert_int_equal(j.attempts, 2);
	assert_int_equal(
	    srv_store_finish(s, j.id, "done", NULL, "{\"score\":1}", "{}", 1, 2, NULL, 0, &err), 0);
	srv_job_release(&j);
	assert_int_equal(srv_store_result_json(s, "ps1", "alice", 0, &js, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(js, "id")), a3);
	assert_non_null(json_object_get(js, "submission"));
	json_decref(js);
	assert_int_equal(srv_store_result_json(s, "ps1", "bob", 0, &js, &err), GR_ENOTFOUND);
	assert_int_equal(srv_store_take(s, 1, &j, &sup, &err), 0);
	assert_int_equal(j.id, c1);
	srv_job_release(&j);
	assert_int_equal(srv_store_take(s, 1, &j, &sup, &err), 0); /* dave's */
	srv_job_release(&j);
	assert_int_equal(srv_store_take(s, 1, &j, &sup, &err), 0);
	assert_int_equal(j.id, b2);
	srv_job_release(&j);
	assert_int_equal(srv_store_take(s, 1, &j, &sup, &err), GR_ENOTFOUND);
	srv_store_close(s);
	rm_rf(dir);
}

/* Queue a push of `commit` (one letter, made 40 hex digits) for alice. */
static long long push_commit(struct srv_store *s, const char *delivery, char commit, int *rc)
{
	char hex[41];
	struct srv_job_in in = {.assignment = "ps1",
				.student = "alice",
				.kind = "push",
				.forge = "github",
				.delivery = delivery,
				.repository = "c/r",
				.commit = hex,
				.received = 1.8e9};
	struct gr_err err = {0};
	long long id = 0;

	memset(hex, commit, 40);
	hex[40] = '\0';
	*rc = srv_store_enqueue(s, &in, NULL, 0, 10, 5, &id, &err);
	return id;
}

static const char *job_state(struct srv_store *s, long long id, json_t **js)
{
	struct gr_err err = {0};

	json_decref(*js);
	*js = NULL;
	if (srv_store_job_json(s, id, 0, js, &err) < 0)
		return "?";
	return json_string_value(json_object_get(*js, "state"));
}

/* Take the next job (its id) and finish it in `state`. */
static long long take_finish(struct srv_store *s, const char *state, int *sup)
{
	struct srv_job j = {0};
	struct gr_err err = {0};
	long long id;

	if (srv_store_take(s, 1, &j, sup, &err) < 0)
		return 0;
	id = j.id;
	if (srv_store_finish(s, id, state, strcmp(state, "done") ? "why" : NULL,
			     strcmp(state, "done") ? NULL : "{\"score\":1}", "{}", 1, 2, NULL, 0,
			     &err) < 0)
		id = 0;
	srv_job_release(&j);
	return id;
}

/*
 * A push is ignored only when its commit is the student's newest job's: a
 * force push back to a commit graded before is queued; a replay of an old
 * commit taken before a newer push that waited, and then not graded, lets
 * the newer one wait again.
 */
static void test_serve__force_push(void **state)
{
	char dir[TEST_DIR_MAX];
	struct srv_store *s = NULL;
	struct gr_err err = {0};
	json_t *js = NULL;
	long long a1, b1, a2, c1, b2;
	int rc, sup = 0;

	(void)state;
	make_dir(dir);
	assert_int_equal(srv_store_open(&s, dir, &err), 0);
	a1 = push_commit(s, "d1", 'a', &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(take_finish(s, "done", &sup), a1);
	push_commit(s, "d1-again", 'a', &rc);
	assert_int_equal(rc, SRV_KNOWN); /* the newest job's commit */
	b1 = push_commit(s, "d2", 'b', &rc);
	assert_int_equal(rc, 0);
	push_commit(s, "d2-again", 'b', &rc);
	assert_int_equal(rc, SRV_KNOWN); /* queued: the newest */
	assert_int_equal(take_finish(s, "done", &sup), b1);
	/* back to a: a new delivery of a commit graded before, not the newest */
	a2 = push_commit(s, "d3", 'a', &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(take_finish(s, "done", &sup), a2);
	assert_int_equal(srv_store_result_json(s, "ps1", "alice", 0, &js, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(js, "id")), a2);
	/* a newer push c waits; replays of b come after it: c is taken first */
	c1 = push_commit(s, "d4", 'c', &rc);
	assert_int_equal(rc, 0);
	b2 = push_commit(s, "d2-replayed", 'b', &rc);
	assert_int_equal(rc, 0);
	push_commit(s, "d2-replayed-again", 'b', &rc);
	assert_int_equal(rc, SRV_KNOWN); /* the newest push's commit now */
	for (int i = 0; i < 3; i++) {
		char id[32];

		/* replays of older commits, one after the other */
		snprintf(id, sizeof(id), "d-flood-%d", i);
		push_commit(s, id, i % 2 ? 'b' : 'a', &rc);
		assert_int_equal(rc, 0);
	}
	/* per_student 5 wait: a commit seen before takes no one's place */
	push_commit(s, "d2-flood-3", 'b', &rc);
	assert_int_equal(rc, SRV_QUEUE_FULL);
	assert_int_equal(take_finish(s, "done", &sup), c1);
	assert_int_equal(sup, 0);
	assert_string_equal(job_state(s, b2, &js), "queued");
	/* then the newest replay, in place of the others */
	assert_int_equal(take_finish(s, "superseded", &sup), b2 + 3);
	assert_int_equal(sup, 3);
	/* it was not the branch's tip: the three its take superseded wait again */
	assert_string_equal(job_state(s, b2, &js), "queued");
	assert_int_equal(take_finish(s, "failed", &sup), b2 + 2);
	assert_int_equal(sup, 2);
	assert_int_equal(take_finish(s, "done", &sup), b2 + 1);
	assert_int_equal(sup, 1);
	assert_string_equal(job_state(s, b2, &js), "superseded");
	assert_int_equal(take_finish(s, "done", &sup), 0);
	/* a new commit e that arrives after d, out of order, is taken first */
	c1 = push_commit(s, "d5", 'd', &rc);
	b2 = push_commit(s, "d6", 'e', &rc);
	assert_int_equal(take_finish(s, "superseded", &sup), b2);
	assert_int_equal(sup, 1);
	/* e was not the tip: d waits again, and is graded */
	assert_int_equal(take_finish(s, "done", &sup), c1);
	/* a job superseded by one that was graded stays superseded */
	push_commit(s, "d7", 'f', &rc);
	b2 = push_commit(s, "d8", 'g', &rc);
	assert_int_equal(take_finish(s, "done", &sup), b2);
	assert_int_equal(sup, 1);
	assert_int_equal(take_finish(s, "done", &sup), 0);
	/* after an upload, the newest push's commit sent again is still known */
	{
		struct srv_job_in up = {
		    .assignment = "ps1", .student = "alice", .kind = "upload", .received = 1.8e9};
		long long uid = 0;

		assert_int_equal(srv_store_enqueue(s, &up, NULL, 0, 10, 5, &uid, &err), 0);
		assert_int_equal(take_finish(s, "done", &sup), uid);
		push_commit(s, "d8-again", 'g', &rc);
		assert_int_equal(rc, SRV_KNOWN);
	}
	json_decref(js);
	srv_store_close(s);
	rm_rf(dir);
}

/*
 * Two workers: while one grades alice, the other never takes alice's newer
 * push (it takes bob's); a dead worker's job goes back to the queue, the
 * other worker's stays running.
 */
static void test_serve__workers_never_share_a_student(void **state)
{
	char dir[TEST_DIR_MAX];
	struct srv_store *s = NULL;
	struct srv_job j1 = {0}, j2 = {0}, j3 = {0};
	struct gr_err err = {0};
	long long a1, a2, b1;
	int rc, sup = 0, n = 0;

	(void)state;
	make_dir(dir);
	assert_int_equal(srv_store_open(&s, dir, &err), 0);
	a1 = push(s, "alice", "w1", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(srv_store_take(s, 101, &j1, &sup, &err), 0);
	assert_int_equal(j1.id, a1);
	a2 = push(s, "alice", "w2", &rc);
	b1 = push(s, "bob", "w3", &rc);
	assert_int_equal(srv_store_take(s, 102, &j2, &sup, &err), 0);
	assert_int_equal(j2.id, b1);
	assert_int_equal(srv_store_take(s, 102, &j3, &sup, &err), GR_ENOTFOUND);
	/* worker 101 dies: only its job is queued again */
	assert_int_equal(srv_store_recover(s, 101, &n, &err), 0);
	assert_int_equal(n, 1);
	/* alice's newer push supersedes the one that was running */
	assert_int_equal(srv_store_take(s, 103, &j3, &sup, &err), 0);
	assert_int_equal(j3.id, a2);
	assert_int_equal(sup, 1);
	assert_int_equal(srv_store_recover(s, 101, &n, &err), 0);
	assert_int_equal(n, 0);
	srv_job_release(&j1);
	srv_job_release(&j2);
	srv_job_release(&j3);
	srv_store_close(s);
	rm_rf(dir);
}

/*
 * What the gradebook writer asks the database: a running job's student is
 * busy (their folder may be changing), a job queued again after a worker
 * took it too, a fresh queued one not; a job finished after the mark is a
 * change; a request for the gradebook waits until it is written after it.
 */
static void test_serve__gradebook_state(void **state)
{
	char dir[TEST_DIR_MAX];
	struct srv_store *s = NULL;
	struct srv_job j = {0};
	struct gr_err err = {0};
	double first = 1e18, wanted, written, mark;
	char **busy = NULL;
	size_t nbusy = 0;
	int rc, sup = 0, n = 0, changed = 1;

	(void)state;
	make_dir(dir);
	assert_int_equal(srv_store_open(&s, dir, &err), 0);
	push(s, "alice", "g1", &rc);
	push(s, "bob", "g2", &rc);
	assert_int_equal(srv_store_gb_busy(s, "ps1", &busy, &nbusy, &first, &err), 0);
	assert_int_equal(nbusy, 0); /* queued, never taken: their folders are as they were */
	srv_ids_free(busy, nbusy);
	assert_int_equal(srv_store_take(s, 7, &j, &sup, &err), 0);
	assert_string_equal(j.student, "alice");
	assert_int_equal(srv_store_gb_busy(s, "ps1", &busy, &nbusy, &first, &err), 0);
	assert_int_equal(nbusy, 1);
	assert_string_equal(busy[0], "alice");
	assert_true(first < 1e18 && first > 0); /* lowered to the running job's start */
	srv_ids_free(busy, nbusy);
	/* the worker dies: alice's job waits again, her folder may be half replaced */
	assert_int_equal(srv_store_recover(s, 7, &n, &err), 0);
	assert_int_equal(srv_store_gb_busy(s, "ps1", &busy, &nbusy, &first, &err), 0);
	assert_int_equal(nbusy, 1);
	srv_ids_free(busy, nbusy);
	srv_job_release(&j);
	mark = srv_wall_now();
	assert_int_equal(srv_store_gb_changed(s, "ps1", mark, &changed, &err), 0);
	assert_int_equal(changed, 0);
	usleep(20000); /* the database keeps times to the millisecond */
	assert_int_equal(srv_store_take(s, 7, &j, &sup, &err), 0);
	assert_int_equal(
	    srv_store_finish(s, j.id, "done", NULL, "{\"score\":1}", "{}", 1, 2, NULL, 0, &err), 0);
	srv_job_release(&j);
	assert_int_equal(srv_store_gb_changed(s, "ps1", mark, &changed, &err), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(srv_store_gb_changed(s, "ps2", mark, &changed, &err), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(srv_store_gb_busy(s, "ps1", &busy, &nbusy, &first, &err), 0);
	assert_int_equal(nbusy, 0);
	srv_ids_free(busy, nbusy);
	/* a read asks; the writer answers with the time its write holds */
	assert_int_equal(srv_store_gb_state(s, "ps1", &wanted, &written, &err), 0);
	assert_true(wanted == 0 && written == 0);
	assert_int_equal(srv_store_gb_want(s, "ps1", 100.0, &err), 0);
	assert_int_equal(srv_store_gb_want(s, "ps1", 50.0, &err), 0); /* never goes back */
	assert_int_equal(srv_store_gb_state(s, "ps1", &wanted, &written, &err), 0);
	assert_true(wanted == 100.0 && written < wanted);
	assert_int_equal(srv_store_gb_written(s, "ps1", 101.0, &err), 0);
	assert_int_equal(srv_store_gb_state(s, "ps1", &wanted, &written, &err), 0);
	assert_true(written == 101.0 && written >= wanted);
	srv_store_close(s);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_serve__hmac_known_vector),
	    cmocka_unit_test(test_serve__verify),
	    cmocka_unit_test(test_serve__parse),
	    cmocka_unit_test(test_serve__config),
	    cmocka_unit_test(test_serve__queue),
	    cmocka_unit_test(test_serve__force_push),
	    cmocka_unit_test(test_serve__workers_never_share_a_student),
	    cmocka_unit_test(test_serve__gradebook_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
