/*
 * kernel.c - the caller's side of the notebook engine: start and stop the
 * zygote, send one run, read and verify the child's records, and turn them
 * and the sandbox's verdict into a struct kernel_result. Python is never
 * loaded here.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "grader/rubric.h"
#include "kernel_int.h"

struct kernel {
	const struct kernel_opts *opts;
	pid_t pid;
	int sock;
};

void kernel_opts_init(struct kernel_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->timeout_cell = 30;
	opts->timeout = 300;
	opts->grace = 2;
	opts->mem_mb = 4096;
	opts->output_cap = 65536;
	opts->ipython = 1;
}

static void stop(kernel *k)
{
	int status;

	if (k->sock >= 0) {
		kz_send(k->sock, KZ_QUIT, NULL, 0, NULL, 0, -1);
		close(k->sock);
		k->sock = -1;
	}
	if (k->pid > 0) {
		for (int i = 0; i < 200; i++) {
			if (waitpid(k->pid, &status, WNOHANG) != 0)
				goto reaped;
			usleep(10000);
		}
		kill(k->pid, SIGKILL);
		waitpid(k->pid, &status, 0);
	reaped:
		k->pid = -1;
	}
}

static int start(kernel *k, struct gr_err *err)
{
	int sv[2] = {-1, -1}, fd, rc = 0;
	uint32_t type;
	char *data = NULL;
	size_t len;
	json_t *ready = NULL;
	pid_t pid, self = getpid();
	char **argv, **envp;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return gr_err_sys(err, GR_ESYS, errno, "cannot start the notebook engine");
	argv = kspawn_argv();
	envp = kspawn_envp();
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		free(argv);
		free(envp);
		close(sv[0]);
		close(sv[1]);
		return gr_err_sys(err, GR_ESYS, errno, "cannot start the notebook engine");
	}
	if (pid == 0) {
		close(sv[0]);
		kspawn_child(sv[1], k->opts, argv, envp, self);
	}
	free(argv);
	free(envp);
	close(sv[1]);
	k->pid = pid;
	k->sock = sv[0];
	if (kspawn_send_opts(k->sock, k->opts) < 0 ||
	    kz_recv(k->sock, &type, &data, &len, &fd) < 0 || type != KZ_READY) {
		rc = gr_err_set(err, GR_ESYS, "the notebook engine did not start");
		goto done;
	}
	if (fd >= 0)
		close(fd);
	ready = json_loadb(data, len, 0, NULL);
	if (!json_is_true(json_object_get(ready, "ok"))) {
		json_int_t code = json_integer_value(json_object_get(ready, "rc"));

		rc = gr_err_set(err, code < 0 ? (int)code : GR_ESYS, "%s",
				json_string_value(json_object_get(ready, "error"))
				    ? json_string_value(json_object_get(ready, "error"))
				    : "the notebook engine did not start");
	}
done:
	if (rc < 0)
		stop(k);
	free(data);
	json_decref(ready);
	return rc;
}

int kernel_new(kernel **out, const struct kernel_opts *opts, struct gr_err *err)
{
	kernel *k = calloc(1, sizeof(*k));
	int rc;

	if (!k)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	k->opts = opts;
	k->pid = -1;
	k->sock = -1;
	rc = start(k, err);
	if (rc < 0) {
		free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void kernel_free(kernel *k)
{
	if (!k)
		return;
	stop(k);
	free(k);
}

/* ---- assembling a result ---- */

struct asm_state {
	struct kernel_result *res;
	size_t next; /* first cell without a verified record */
	int done, killed, timed_out;
	char error[256];
	char killed_reason[16];
};

static char *jdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? strdup(s) : NULL;
}

static void tamper(struct asm_state *a, const char *why)
{
	if (!a->res->tampered)
		snprintf(a->res->message, sizeof(a->res->message), "result channel: %.200s", why);
	a->res->tampered = 1;
}

/* The watcher's findings of a record: {"flag", "reason"} each, kept once. */
static void add_flags(struct kernel_result *r, json_t *flags)
{
	json_t *f;
	size_t i, k;

	json_array_foreach(flags, i, f)
	{
		const char *flag = json_string_value(json_object_get(f, "flag"));
		const char *reason = json_string_value(json_object_get(f, "reason"));
		struct kernel_flag *nf;

		if (!flag || !reason || r->nflags >= 200)
			continue;
		for (k = 0; k < r->nflags; k++)
			if (!strcmp(r->flags[k].flag, flag) && !strcmp(r->flags[k].reason, reason))
				break;
		if (k < r->nflags || !(nf = realloc(r->flags, (r->nflags + 1) * sizeof(*nf))))
			continue;
		r->flags = nf;
		nf[r->nflags].flag = strdup(flag);
		nf[r->nflags].reason = strdup(reason);
		if (nf[r->nflags].flag && nf[r->nflags].reason)
			r->nflags++;
		else {
			free(nf[r->nflags].flag);
			free(nf[r->nflags].reason);
		}
	}
}

static void on_record(struct asm_state *a, const struct kchan_rec *rec)
{
	json_t *o = json_loadb(rec->payload, rec->len, 0, NULL);
	struct kernel_cell_result *c;
	const char *st;

	if (!json_is_object(o) || a->done || a->killed) {
		tamper(a, "unexpected record");
		goto done;
	}
	switch (rec->type) {
	case KREC_CELL:
		if (a->next >= a->res->ncells ||
		    json_integer_value(json_object_get(o, "i")) != (json_int_t)a->next) {
			tamper(a, "record for the wrong cell");
			break;
		}
		c = &a->res->cells[a->next++];
		st = json_string_value(json_object_get(o, "status"));
		c->status = st && !strcmp(st, "ok")	   ? KERNEL_CELL_OK
			    : st && !strcmp(st, "timeout") ? KERNEL_CELL_TIMEOUT
							   : KERNEL_CELL_ERROR;
		if (c->status == KERNEL_CELL_TIMEOUT)
			a->timed_out = 1;
		c->ename = jdup(o, "ename");
		c->evalue = jdup(o, "evalue");
		c->traceback = jdup(o, "traceback");
		free(c->out);
		free(c->err);
		c->out = jdup(o, "stdout");
		c->err = jdup(o, "stderr");
		if (!c->out)
			c->out = strdup("");
		if (!c->err)
			c->err = strdup("");
		c->out_dropped = (size_t)json_integer_value(json_object_get(o, "stdout_dropped"));
		c->err_dropped = (size_t)json_integer_value(json_object_get(o, "stderr_dropped"));
		c->result = jdup(o, "result");
		c->note = jdup(o, "note");
		c->time = json_number_value(json_object_get(o, "time"));
		json_decref(c->outputs);
		c->outputs = kernel_cell_outputs(c, json_object_get(o, "displays"));
		add_flags(a->res, json_object_get(o, "flags"));
		break;
	case KREC_KILLED:
		a->killed = 1;
		snprintf(a->killed_reason, sizeof(a->killed_reason), "%s",
			 json_string_value(json_object_get(o, "reason"))
			     ? json_string_value(json_object_get(o, "reason"))
			     : "cell");
		break;
	case KREC_DONE: {
		json_t *rep = json_object_get(o, "replaced");
		size_t n = json_array_size(rep);

		a->done = 1;
		if (json_is_true(json_object_get(o, "timed_out")))
			a->timed_out = 1;
		if (json_string_value(json_object_get(o, "error")))
			snprintf(a->error, sizeof(a->error), "%s",
				 json_string_value(json_object_get(o, "error")));
		add_flags(a->res, json_object_get(o, "flags"));
		a->res->replaced = n ? calloc(n, sizeof(char *)) : NULL;
		for (size_t i = 0; a->res->replaced && i < n; i++) {
			const char *s = json_string_value(json_array_get(rep, i));

			if (s && (a->res->replaced[a->res->nreplaced] = strdup(s)))
				a->res->nreplaced++;
		}
		break;
	}
	default:
		tamper(a, "unknown record type");
	}
done:
	json_decref(o);
}

static void set_cell(struct kernel_cell_result *c, enum kernel_cell_status st, const char *ename,
		     const char *evalue)
{
	c->status = st;
	c->ename = strdup(ename);
	c->evalue = strdup(evalue);
	c->traceback = malloc(strlen(ename) + strlen(evalue) + 3);
	if (c->traceback)
		sprintf(c->traceback, "%s: %s", ename, evalue);
}

/* Decide the notebook's status from the records and the sandbox's answer. */
static void conclude(struct asm_state *a, const struct kchan_reader *rd, json_t *ans,
		     const struct kernel_opts *o)
{
	struct kernel_result *r = a->res;
	struct kernel_cell_result *cur = a->next < r->ncells ? &r->cells[a->next] : NULL;
	const char *st = json_string_value(json_object_get(ans, "status"));
	char msg[256];

	r->wall = json_number_value(json_object_get(ans, "wall"));
	r->max_rss_kb = json_is_integer(json_object_get(ans, "max_rss_kb"))
			    ? (long)json_integer_value(json_object_get(ans, "max_rss_kb"))
			    : -1;
	if (rd->broken)
		tamper(a, rd->why);
	if (json_integer_value(json_object_get(ans, "rc")) < 0 || (st && !strcmp(st, "XX"))) {
		r->status = KERNEL_NB_FAILED;
		snprintf(r->message, sizeof(r->message), "%s",
			 json_string_value(json_object_get(ans, "error"))
			     ? json_string_value(json_object_get(ans, "error"))
			     : json_string_value(json_object_get(ans, "message")));
		return;
	}
	if (r->tampered) {
		r->status = KERNEL_NB_TAMPERED;
		if (cur)
			set_cell(cur, KERNEL_CELL_ERROR, "TamperingDetected",
				 "the result channel was written to by student code");
		return;
	}
	if (a->done && a->error[0]) {
		r->status = KERNEL_NB_FAILED;
		snprintf(r->message, sizeof(r->message), "engine error: %.200s", a->error);
		return;
	}
	if (a->done) {
		r->timed_out = a->timed_out;
		r->status = a->timed_out ? KERNEL_NB_TIMEOUT : KERNEL_NB_OK;
		if (a->timed_out) {
			/* a cell interrupted at its own limit, the rest ran: say which */
			const struct kernel_cell_result *late = NULL;

			for (size_t i = 0; i < r->ncells && !late; i++)
				if (r->cells[i].status == KERNEL_CELL_TIMEOUT)
					late = &r->cells[i];
			if (late && late->time + 0.05 >= o->timeout_cell)
				snprintf(r->message, sizeof(r->message),
					 "cell %zu exceeded the cell time limit of %g s",
					 late->number, o->timeout_cell);
			else
				snprintf(r->message, sizeof(r->message),
					 "notebook time limit of %g s exceeded", o->timeout);
		} else if (cur)
			tamper(a, "the run ended before every cell reported"),
			    r->status = KERNEL_NB_TAMPERED;
		return;
	}
	if (a->killed) {
		r->timed_out = 1;
		r->status = KERNEL_NB_TIMEOUT;
		snprintf(msg, sizeof(msg),
			 "%s time limit of %g s exceeded; the cell ignored the "
			 "interrupt and was killed after %g s",
			 strcmp(a->killed_reason, "notebook") ? "cell" : "notebook",
			 strcmp(a->killed_reason, "notebook") ? o->timeout_cell : o->timeout,
			 o->grace);
		snprintf(r->message, sizeof(r->message), "%s", msg);
		if (cur) {
			set_cell(cur, KERNEL_CELL_TIMEOUT, "TimeoutError", msg);
			cur->time = o->timeout_cell + o->grace;
		}
		return;
	}
	/* No final record: what ended the process? */
	if (st && !strcmp(st, "TO")) {
		r->timed_out = 1;
		r->status = KERNEL_NB_TIMEOUT;
		snprintf(msg, sizeof(msg), "notebook time limit of %g s exceeded", o->timeout);
		if (cur)
			set_cell(cur, KERNEL_CELL_TIMEOUT, "TimeoutError", msg);
	} else if (st && !strcmp(st, "ML")) {
		r->status = KERNEL_NB_CRASHED;
		snprintf(msg, sizeof(msg), "memory limit of %zu MB exceeded", o->mem_mb);
		if (cur)
			set_cell(cur, KERNEL_CELL_ERROR, "MemoryError", msg);
	} else if (st && (!strcmp(st, "SG") || !strcmp(st, "OL"))) {
		int sig = (int)json_integer_value(json_object_get(ans, "signal"));

		r->status = KERNEL_NB_CRASHED;
		if (!strcmp(st, "OL"))
			snprintf(msg, sizeof(msg), "output limit exceeded");
		else
			snprintf(msg, sizeof(msg), "the process was killed by signal %d (%s)", sig,
				 strsignal(sig));
		if (cur)
			set_cell(cur, KERNEL_CELL_ERROR, "DeadKernelError", msg);
	} else {
		snprintf(msg, sizeof(msg),
			 "the process exited with status %d without reporting "
			 "(os._exit?)",
			 (int)json_integer_value(json_object_get(ans, "exitcode")));
		tamper(a, msg);
		r->status = KERNEL_NB_TAMPERED;
		if (cur)
			set_cell(cur, KERNEL_CELL_ERROR, "DeadKernelError", msg);
		return;
	}
	snprintf(r->message, sizeof(r->message), "%s", msg);
}

static void drain(int fd, struct kchan_reader *rd, struct asm_state *a, int *open_)
{
	char buf[65536];
	struct kchan_rec rec;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				*open_ = 0;
			return;
		}
		if (rd->broken)
			continue;
		if (kchan_reader_feed(rd, buf, (size_t)n) < 0) {
			tamper(a, "out of memory");
			continue;
		}
		while (kchan_reader_next(rd, &rec) == 1)
			on_record(a, &rec);
	}
}

/* A result of n cells not run yet, each with empty outputs; NULL on allocation failure. */
static struct kernel_result *result_new(const size_t *index, size_t n)
{
	struct kernel_result *res = calloc(1, sizeof(*res));

	if (!res || !(res->cells = calloc(n ? n : 1, sizeof(*res->cells)))) {
		free(res);
		return NULL;
	}
	res->ncells = n;
	res->max_rss_kb = -1;
	for (size_t i = 0; i < n; i++) {
		res->cells[i].index = index ? index[i] : i;
		res->cells[i].number = i + 1;
		res->cells[i].status = KERNEL_CELL_NOT_RUN;
		res->cells[i].out = strdup("");
		res->cells[i].err = strdup("");
	}
	return res;
}

/*
 * The run request the zygote reads: {"workdir", "sources", "grade"?, "hidden"?}, as
 * compact JSON; grade[i] has bit 0 for a grade cell, bit 1 for a cell holding hidden tests,
 * bit 2 for a locked cell.
 */
static char *request_body(const char *workdir, const char *const *sources,
			  const unsigned char *grade, size_t n, struct gr_err *err)
{
	json_t *req, *srcs;
	char *body = NULL;
	size_t total = 0;

	/*
	 * The zygote parses every cell (IPython's transforms, an AST) before the
	 * box's limits apply, at some 500 bytes of its memory a byte of source:
	 * what an honest notebook holds is far below these caps.
	 */
	for (size_t i = 0; i < n; i++) {
		size_t len = sources[i] ? strlen(sources[i]) : 0;

		total += len;
		if (len > KERNEL_CELL_MAX) {
			gr_err_set(
			    err, GR_ELIMIT,
			    "cell %zu holds %zu KiB of code, over the %u KiB a cell may hold",
			    i + 1, len >> 10, KERNEL_CELL_MAX >> 10);
			return NULL;
		}
	}
	if (total > KERNEL_SOURCE_MAX) {
		gr_err_set(err, GR_ELIMIT,
			   "the cells hold %zu KiB of code, over the %u KiB a notebook may hold",
			   total >> 10, KERNEL_SOURCE_MAX >> 10);
		return NULL;
	}
	req = json_object();
	srcs = json_array();

	json_object_set_new(req, "workdir", json_string(workdir));
	json_object_set_new(req, "sources", srcs);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(srcs, json_string(sources[i] ? sources[i] : ""));
	if (grade) {
		json_t *g = json_array();

		json_t *h = json_array(), *l = json_array();

		for (size_t i = 0; g && h && l && i < n; i++) {
			if (grade[i] & 1)
				json_array_append_new(g, json_integer((json_int_t)i));
			if (grade[i] & 2)
				json_array_append_new(h, json_integer((json_int_t)i));
			if (grade[i] & 4)
				json_array_append_new(l, json_integer((json_int_t)i));
		}
		json_object_set_new(req, "grade", g ? g : json_array());
		json_object_set_new(req, "hidden", h ? h : json_array());
		json_object_set_new(req, "locked", l ? l : json_array());
	}
	body = json_dumps(req, JSON_COMPACT);
	if (body && json_array_size(srcs) != n) {
		free(body);
		body = NULL;
	}
	if (!body)
		gr_err_set(err, GR_EINVAL, "cannot encode the cells (invalid UTF-8?)");
	json_decref(req);
	return body;
}

/*
 * Open the result channel (*rfd, non-blocking), draw the run's key into the
 * reader and hand the request with the channel's write end to the zygote,
 * starting a new one when the last one died. The key leaves no copy here.
 */
static int send_run(kernel *k, const char *body, int *rfd, struct kchan_reader *rd,
		    struct gr_err *err)
{
	unsigned char key[KCHAN_KEY_LEN];
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) < 0)
		return gr_err_sys(err, GR_ESYS, errno, "cannot create the result channel");
	*rfd = p[0];
	fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	if (RAND_bytes(key, sizeof(key)) != 1) {
		close(p[1]);
		return gr_err_set(err, GR_ESYS, "cannot draw a random key");
	}
	kchan_reader_init(rd, key);
	rc = kz_send(k->sock, KZ_RUN, key, sizeof(key), body, strlen(body), p[1]);
	if (rc < 0) {
		/* the zygote died since the last run (killed, crashed): start a new one */
		stop(k);
		if (start(k, err) == 0)
			rc = kz_send(k->sock, KZ_RUN, key, sizeof(key), body, strlen(body), p[1]);
	}
	OPENSSL_cleanse(key, sizeof(key));
	close(p[1]);
	if (rc < 0) {
		stop(k);
		return gr_err_set(err, GR_ESYS, "the notebook engine is gone");
	}
	return 0;
}

/*
 * Read records from the channel `rfd` until the zygote sends the sandbox's
 * answer (*ans), then what is left in the channel. GR_ESYS when the engine
 * dies or stops responding (it is stopped).
 */
static int wait_answer(kernel *k, int rfd, struct kchan_reader *rd, struct asm_state *a,
		       json_t **ans, struct gr_err *err)
{
	double deadline = gr_now() + k->opts->timeout + 3 * k->opts->grace + 60;
	int pipe_open = 1, fd, rc = 0;
	char *data = NULL;

	while (!*ans) {
		struct pollfd pf[2] = {{.fd = pipe_open ? rfd : -1, .events = POLLIN},
				       {.fd = k->sock, .events = POLLIN}};
		double left = deadline - gr_now();
		uint32_t type;
		size_t len;

		if (left <= 0) {
			stop(k);
			rc = gr_err_set(err, GR_ESYS, "the notebook engine stopped responding");
			goto done;
		}
		if (poll(pf, 2, (int)(left * 1000) + 1) < 0 && errno != EINTR) {
			rc = gr_err_sys(err, GR_ESYS, errno, "poll");
			goto done;
		}
		if (pf[0].revents)
			drain(rfd, rd, a, &pipe_open);
		if (pf[1].revents) {
			free(data);
			data = NULL;
			if (kz_recv(k->sock, &type, &data, &len, &fd) < 0 || type != KZ_RESULT) {
				stop(k);
				rc = gr_err_set(err, GR_ESYS, "the notebook engine died");
				goto done;
			}
			if (fd >= 0)
				close(fd);
			*ans = json_loadb(data, len, 0, NULL);
			if (!*ans)
				*ans = json_object();
		}
	}
	/* The child is gone: what it wrote is in the pipe now. */
	if (pipe_open)
		drain(rfd, rd, a, &pipe_open);
done:
	free(data);
	return rc;
}

static int run(kernel *k, struct kernel_result **out, const char *const *sources,
	       const size_t *index, const unsigned char *grade, size_t n, const char *workdir,
	       struct gr_err *err)
{
	unsigned char nokey[KCHAN_KEY_LEN];
	struct kchan_reader rd;
	struct asm_state a;
	struct kernel_result *res = NULL;
	json_t *ans = NULL;
	char *body = NULL, *real = NULL;
	int rc = 0, rfd = -1;

	memset(&a, 0, sizeof(a));
	memset(nokey, 0, sizeof(nokey));
	kchan_reader_init(&rd, nokey);
	if (k->pid < 0 && (rc = start(k, err)) < 0)
		goto done;
	real = realpath(workdir, NULL);
	if (!real) {
		rc =
		    gr_err_sys(err, GR_ENOTFOUND, errno, "cannot use work directory '%s'", workdir);
		goto done;
	}
	res = result_new(index, n);
	if (!res) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	a.res = res;
	body = request_body(real, sources, grade, n, err);
	if (!body) {
		rc = err && err->code < 0 ? err->code : GR_EINVAL;
		goto done;
	}
	if ((rc = send_run(k, body, &rfd, &rd, err)) < 0 ||
	    (rc = wait_answer(k, rfd, &rd, &a, &ans, err)) < 0)
		goto done;
	if (kchan_reader_pending(&rd) && !rd.broken)
		tamper(&a, "a record was cut short");
	conclude(&a, &rd, ans, k->opts);
	for (size_t i = 0; i < res->ncells; i++)
		if (!res->cells[i].outputs)
			res->cells[i].outputs = kernel_cell_outputs(&res->cells[i], NULL);
	*out = res;
	res = NULL;
done:
	kchan_reader_release(&rd);
	if (rfd >= 0)
		close(rfd);
	kernel_result_free(res);
	json_decref(ans);
	free(body);
	free(real);
	return rc;
}

int kernel_run_sources(kernel *k, struct kernel_result **out, const char *const *sources, size_t n,
		       const char *workdir, struct gr_err *err)
{
	return run(k, out, sources, NULL, NULL, n, workdir, err);
}

int kernel_run(kernel *k, struct kernel_result **out, const struct nb_notebook *nb,
	       const char *workdir, struct gr_err *err)
{
	const char **src = calloc(nb->ncells ? nb->ncells : 1, sizeof(*src));
	size_t *index = calloc(nb->ncells ? nb->ncells : 1, sizeof(*index));
	unsigned char *grade = calloc(nb->ncells ? nb->ncells : 1, 1);
	size_t n = 0;
	int rc;

	if (!src || !index || !grade) {
		free(src);
		free(index);
		free(grade);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nb->ncells; i++) {
		const struct nb_grader_meta *m = &nb->cells[i].nbgrader;

		if (nb->cells[i].type != NB_CELL_CODE)
			continue;
		src[n] = nb->cells[i].source ? nb->cells[i].source : "";
		/* nbgrader's autograder tests: grade cells that are not answers */
		grade[n] = m->present && m->grade && !m->solution;
		/* their hidden tests: no student code may read the test's code objects */
		if (grade[n] && rubric_has_hidden_tests(src[n]))
			grade[n] |= 2;
		/* the instructor's cells: the functions they define are watched */
		if (m->present && m->locked && !m->solution)
			grade[n] |= 4;
		index[n++] = i;
	}
	rc = run(k, out, src, index, grade, n, workdir, err);
	free(src);
	free(index);
	free(grade);
	return rc;
}
