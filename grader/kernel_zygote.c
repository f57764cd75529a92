/*
 * kernel_zygote.c - the zygote: a process forked from the caller that owns
 * the interpreter. It starts CPython once, preloads, reports READY, then
 * serves KZ_RUN requests one at a time: each forks a sandboxed child
 * (sbx_run_fn) that runs the notebook, and answers with the sandbox's verdict.
 * The per-run key arrives with the request and is wiped once the child ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "grader/sandbox.h"
#include "kernel_py.h"

static void send_json(int sock, uint32_t type, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (!s || kz_send(sock, type, s, strlen(s), NULL, 0, -1) < 0)
		_exit(1);
	free(s);
}

/* A clean process: only the socket and stderr; the caller's environment dropped. */
static int tidy(int sock, pid_t parent)
{
	const char *home = getenv("HOME");
	char keep_home[4096];
	int null;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (sock != 3) {
		if (dup2(sock, 3) < 0)
			_exit(1);
		sock = 3;
	}
	close_range(4, ~0u, 0);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (null > 3)
			close(null);
	}
	snprintf(keep_home, sizeof(keep_home), "%s", home ? home : "/");
	clearenv();
	/* HOME only for matplotlib's font cache while preloading; children get /box. */
	setenv("HOME", keep_home, 1);
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	setenv("LANG", "C.UTF-8", 1);
	setenv("MPLBACKEND", "Agg", 1);
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	setenv("OMP_NUM_THREADS", "1", 1);
	setenv("MKL_NUM_THREADS", "1", 1);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	return sock;
}

static void set_limits(struct sbx_config *cfg, const struct kernel_opts *o)
{
	double wall = o->timeout + 2 * o->grace + 2;

	cfg->limits.wall_s = wall;
	cfg->limits.cpu_s = wall;
	cfg->limits.mem_kb = o->mem_mb * 1024;
	if (o->procs)
		cfg->limits.procs = o->procs;
	else if (cfg->limits.procs < 32)
		cfg->limits.procs = 32;
	cfg->slot = o->slot;
	cfg->allow_weaker = o->allow_weaker;
	cfg->allow_jit = o->allow_jit;
	cfg->ro_paths = o->ro_paths;
	cfg->output = SBX_OUT_CAPTURE;
}

static int place_fd(int fd, int at)
{
	int r = dup3(fd, at, O_CLOEXEC);

	close(fd);
	return r < 0 ? -1 : 0;
}

/*
 * Frame one record under a throwaway all-zero key and discard it: OpenSSL
 * reads its configuration, loads its provider and fetches HMAC and SHA-256
 * here, once, rather than in every child before its first record (0.17 ms a
 * notebook). No key of a run is involved.
 */
static void warm_mac(void)
{
	unsigned char key[KCHAN_KEY_LEN] = {0}, rec[KCHAN_HDR_LEN + KCHAN_MAC_LEN];

	kchan_encode(rec, key, 0, KREC_DONE, NULL, 0);
	OPENSSL_cleanse(rec, sizeof(rec));
}

/* One KZ_RUN: returns the JSON answer. */
static json_t *serve_run(struct kzy *z, sbx *s, struct sbx_config *cfg, char *data, size_t len,
			 int recfd)
{
	const struct kernel_opts *opts = z->opts;
	struct krun run;
	struct sbx_result res;
	struct gr_err err = {0};
	json_t *req = NULL, *ans = json_object(), *srcs;
	int rc = GR_EINVAL;

	memset(&run, 0, sizeof(run));
	memset(&res, 0, sizeof(res));
	if (len < KCHAN_KEY_LEN || recfd < 0) {
		gr_err_set(&err, GR_EINVAL, "malformed run request");
		goto done;
	}
	memcpy(run.key, data, KCHAN_KEY_LEN);
	/* one copy of the key goes into the child: run.key, moved there to a wiped-on-fork page */
	OPENSSL_cleanse(data, KCHAN_KEY_LEN);
	req = json_loadb(data + KCHAN_KEY_LEN, len - KCHAN_KEY_LEN, 0, NULL);
	srcs = json_object_get(req, "sources");
	if (!json_is_array(srcs) || !json_is_string(json_object_get(req, "workdir"))) {
		gr_err_set(&err, GR_EINVAL, "malformed run request");
		goto done;
	}
	for (size_t i = 0; i < json_array_size(srcs); i++)
		if (!json_is_string(json_array_get(srcs, i))) {
			gr_err_set(&err, GR_EINVAL, "malformed run request");
			goto done;
		}
	/* grade cells, by position: the watcher checks right before each */
	if (json_array_size(json_object_get(req, "grade"))) {
		json_t *g;
		size_t k;

		run.grade = calloc(json_array_size(srcs) + 1, 1);
		json_array_foreach(json_object_get(req, "grade"), k,
				   g) if (run.grade && json_integer_value(g) >= 0 &&
					  (size_t)json_integer_value(g) < json_array_size(srcs))
		    run.grade[json_integer_value(g)] = 1;
		/* the cells holding hidden tests among them */
		json_array_foreach(json_object_get(req, "hidden"), k,
				   g) if (run.grade && json_integer_value(g) >= 0 &&
					  (size_t)json_integer_value(g) < json_array_size(srcs) &&
					  run.grade[json_integer_value(g)])
		    run.grade[json_integer_value(g)] |= 2;
		/* locked cells (bit 2): the functions they define are watched (kernel_grade.c) */
		json_array_foreach(json_object_get(req, "locked"), k,
				   g) if (run.grade && json_integer_value(g) >= 0 &&
					  (size_t)json_integer_value(g) < json_array_size(srcs))
		    run.grade[json_integer_value(g)] |= 4;
	}

	if ((rc = kpy_prepare_cells(z, &run, srcs, &err)) < 0)
		goto done;
	rc = GR_EINVAL;
	if (place_fd(recfd, KFD_REC) < 0) {
		recfd = -1;
		gr_err_sys(&err, GR_ESYS, errno, "cannot set up the result channel");
		goto done;
	}
	recfd = -1;
	run.z = z;
	run.timeout_cell = opts->timeout_cell;
	run.timeout = opts->timeout;
	run.grace = opts->grace;
	run.seed = opts->seed;
	run.cap = opts->output_cap;
	/* the sandbox reads cfg->workdir at each run */
	cfg->workdir = json_string_value(json_object_get(req, "workdir"));
	PyOS_BeforeFork();
	rc = sbx_run_fn(s, &res, kernel_child_main, &run, &err);
	PyOS_AfterFork_Parent();
	cfg->workdir = NULL;
	if (rc == 0) {
		json_object_set_new(ans, "status", json_string(sbx_status_name(res.status)));
		json_object_set_new(ans, "exitcode", json_integer(res.exitcode));
		json_object_set_new(ans, "signal", json_integer(res.signal));
		json_object_set_new(ans, "wall", json_real(res.wall));
		json_object_set_new(ans, "max_rss_kb", json_integer(res.max_rss_kb));
		json_object_set_new(ans, "message", json_string(res.message));
		if (res.err && res.err_len) {
			char *clean =
			    gr_utf8_clean(res.err, res.err_len < 2000 ? res.err_len : 2000);

			json_object_set_new(ans, "stderr", json_string(clean ? clean : ""));
			free(clean);
		}
	}
done:
	OPENSSL_cleanse(run.key, sizeof(run.key));
	close(KFD_REC);
	if (recfd >= 0)
		close(recfd);
	sbx_result_release(&res);
	free(run.grade);
	kpy_cells_free(run.cells, run.ncells);
	json_decref(req);
	json_object_set_new(ans, "rc", json_integer(rc));
	if (rc < 0)
		json_object_set_new(ans, "error", json_string(err.msg));
	return ans;
}

void kernel_zygote_main(int sock, const struct kernel_opts *opts)
{
	static const int keep[] = {KFD_REC, -1};
	struct kzy z;
	struct sbx_config cfg;
	struct gr_err err = {0};
	sbx *s = NULL;
	char msg[512] = "";
	json_t *ready;
	int rc;

	sock = tidy(sock, getppid());
	memset(&z, 0, sizeof(z));
	sbx_config_init(&cfg);
	set_limits(&cfg, opts);
	cfg.keep_fds = keep;
	rc = sbx_new(&s, &cfg, &err);
	if (rc < 0)
		snprintf(msg, sizeof(msg), "%s", err.msg);
	else
		rc = kpy_start(&z, opts, msg, sizeof(msg));
	if (rc == 0)
		warm_mac();
	ready = json_pack("{s:b,s:i,s:s,s:s}", "ok", rc == 0, "rc", rc, "error", msg, "python",
			  Py_GetVersion());
	send_json(sock, KZ_READY, ready);
	json_decref(ready);
	if (rc < 0)
		_exit(1);
	for (;;) {
		uint32_t type;
		char *data;
		size_t len;
		int fd;
		json_t *ans;

		if (kz_recv(sock, &type, &data, &len, &fd) < 0)
			_exit(0);
		if (type != KZ_RUN) {
			free(data);
			if (fd >= 0)
				close(fd);
			_exit(0);
		}
		ans = serve_run(&z, s, &cfg, data, len, fd);
		OPENSSL_cleanse(data, len < KCHAN_KEY_LEN ? len : KCHAN_KEY_LEN);
		free(data);
		send_json(sock, KZ_RESULT, ans);
		json_decref(ans);
	}
}
