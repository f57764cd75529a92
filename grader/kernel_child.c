/*
 * kernel_child.c - one notebook run, inside the sandbox: a copy of the zygote
 * made by fork. C drives everything after _prepare(): it evaluates each
 * cell's code objects in the fresh __main__, captures fds 1 and 2 (pipes,
 * kernel_capture.c), formats tracebacks from the traceback objects themselves,
 * takes the repr of a trailing expression, and writes one MAC'd record per
 * cell on the channel. A watchdog thread (plain C, no Python) interrupts a
 * cell at its deadline and kills the run after the grace period.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "kernel_py.h"

#define KSIG_TIMEOUT SIGUSR2
#define KEXIT_KILLED 124
/* Most bytes kept of stdout or stderr per cell, whatever the cap asked for. */
#define KSTREAM_MAX (KCHAN_MAX_PAYLOAD / 16)

/* Frame and send one record; a failure to send ends the run (the caller sees a cut). */
static void send_record(struct kchild *c, uint32_t type, const char *payload, size_t len)
{
	unsigned char *buf;
	int ok;

	/* a process student code forked returned here: it has no key, it says nothing */
	if (getpid() != c->pid)
		_exit(0);
	buf = malloc(kchan_size(len));
	pthread_mutex_lock(&c->wlock);
	ok = buf && kchan_encode(buf, c->key, c->seq, type, payload, len) == 0 &&
	     gr_write_all(KFD_REC, buf, kchan_size(len)) == 0;
	c->seq++;
	pthread_mutex_unlock(&c->wlock);
	free(buf);
	if (!ok)
		_exit(3);
}

static void send_json(struct kchild *c, uint32_t type, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (!s)
		_exit(3);
	send_record(c, type, s, strlen(s));
	free(s);
}

/*
 * A cell's record, always within what the channel carries: an honest result
 * is never taken for tampering. Only escaped control characters (six bytes
 * each in JSON) can push the capped fields past it; they are cut further.
 */
static void send_cell(struct kchild *c, json_t *res)
{
	static const char *const keys[] = {"stdout",	"stderr", "result",
					   "traceback", "evalue", NULL};
	char *s = json_dumps(res, JSON_COMPACT);

	if (s && strlen(s) > KCHAN_MAX_PAYLOAD - 4096) {
		const char *old = json_string_value(json_object_get(res, "note"));
		char *note = NULL;

		free(s);
		for (size_t k = 0; keys[k]; k++) {
			const char *v = json_string_value(json_object_get(res, keys[k]));

			if (v && strlen(v) > 65536) {
				char *cut = gr_utf8_clean(v, 65536);

				json_object_set_new(res, keys[k], json_string(cut ? cut : ""));
				free(cut);
			}
		}
		if (asprintf(&note, "%s%srecord cut to fit the result channel", old ? old : "",
			     old ? "; " : "") >= 0)
			json_object_set_new(res, "note", json_string(note));
		free(note);
		s = json_dumps(res, JSON_COMPACT);
	}
	if (!s)
		_exit(3);
	send_record(c, KREC_CELL, s, strlen(s));
	free(s);
}

static void timespec_at(struct timespec *ts, double t)
{
	/* monotonic seconds to the condition variable's clock */
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - floor(t)) * 1e9);
}

static void *watchdog(void *arg)
{
	struct kchild *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		double t = gr_now(), next;

		if (c->cell < 0) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		if (!c->fired) {
			next = c->soft < c->nb_deadline ? c->soft : c->nb_deadline;
			if (t >= next) {
				c->fired = c->soft < c->nb_deadline ? 1 : 2;
				c->hard = t + c->run->grace;
				pthread_kill(c->main_thread, KSIG_TIMEOUT);
				continue;
			}
		} else {
			next = c->hard;
			if (t >= next) {
				char msg[128];
				int n = snprintf(msg, sizeof(msg), "{\"i\":%ld,\"reason\":\"%s\"}",
						 c->cell, c->fired == 2 ? "notebook" : "cell");

				send_record(c, KREC_KILLED, msg, (size_t)n);
				_exit(KEXIT_KILLED);
			}
		}
		{
			struct timespec ts;

			timespec_at(&ts, next);
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		}
	}
	return NULL;
}

static void arm(struct kchild *c, long cell)
{
	pthread_mutex_lock(&c->lock);
	c->cell = cell;
	c->fired = 0;
	c->soft = gr_now() + c->run->timeout_cell;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static int fired(struct kchild *c)
{
	int f;

	pthread_mutex_lock(&c->lock);
	f = c->fired;
	pthread_mutex_unlock(&c->lock);
	return f;
}

/* A usable stream object on `fd`: the one made before, unless student code closed it. */
static PyObject *stream(struct kchild *c, PyObject *cur, int fd)
{
	PyObject *closed, *kw, *args, *s = NULL;

	if (cur) {
		closed = PyObject_GetAttrString(cur, "closed");
		if (closed == Py_False) {
			Py_DECREF(closed);
			return cur;
		}
		Py_XDECREF(closed);
		PyErr_Clear();
		Py_DECREF(cur);
	}
	kw = Py_BuildValue("{s:O}", "closefd", Py_False);
	args = Py_BuildValue("(isiss)", fd, "w", 1, "utf-8", "backslashreplace");
	if (kw && args)
		s = PyObject_Call(c->run->z->io_open, args, kw);
	Py_XDECREF(kw);
	Py_XDECREF(args);
	PyErr_Clear();
	return s;
}

/*
 * Point fds 1 and 2 at fresh, empty captures and make sys.stdout/sys.stderr
 * our stream objects again (student code may have replaced or closed them).
 */
static void reset_streams(struct kchild *c)
{
	dup2(KFD_OUT, 1);
	dup2(KFD_ERR, 2);
	kcap_reset(&c->cap);
	c->out = stream(c, c->out, 1);
	c->err = stream(c, c->err, 2);
	if (c->out)
		PySys_SetObject("stdout", c->out);
	if (c->err)
		PySys_SetObject("stderr", c->err);
	PyErr_Clear();
}

static void flush_streams(struct kchild *c)
{
	PyObject *r;

	if (c->out && (r = PyObject_CallMethod(c->out, "flush", NULL)))
		Py_DECREF(r);
	PyErr_Clear();
	if (c->err && (r = PyObject_CallMethod(c->err, "flush", NULL)))
		Py_DECREF(r);
	PyErr_Clear();
}

/* Show the figures the cell left open, as IPython's inline backend does after a cell. */
static void flush_figures(struct kchild *c)
{
	PyObject *f = PyDict_GetItemString(c->run->z->pub, "_flush_figures"), *r;

	if (f && (r = PyObject_CallNoArgs(f)))
		Py_DECREF(r);
	PyErr_Clear();
}

/*
 * A helper function around the cell (_pre_cell, _post_cell): what IPython does
 * between cells. It runs as student code does (event handlers a notebook
 * registered run inside it) and decides nothing: its errors are dropped, its
 * output is the cell's. `f` is the zygote's own reference (struct kzy).
 */
static void call_hook(PyObject *f, PyObject *arg)
{
	PyObject *r = NULL;

	if (f)
		r = arg ? PyObject_CallOneArg(f, arg) : PyObject_CallNoArgs(f);
	Py_XDECREF(r);
	PyErr_Clear();
}

/* Evaluate one code object; a top-level-await cell's coroutine runs on the loop. */
static PyObject *eval_code(struct kchild *c, PyObject *code, PyObject *ns)
{
	PyObject *r = PyEval_EvalCode(code, ns, ns), *v;

	if (!r || !PyCode_Check(code) || !(((PyCodeObject *)code)->co_flags & CO_COROUTINE))
		return r;
	v = kloop_run(&c->run->z->loop, c->run->z->watch, r,
		      c->run->grade && c->cell >= 0 && c->run->grade[c->cell]);
	Py_DECREF(r);
	return v;
}

/*
 * Compile cell i's texts (C memory) now, right before it runs; NULL with an
 * exception set. *future holds the __future__ features of the cells before:
 * IPython's compiler keeps them for every later cell, and so do we.
 */
static PyObject *compile_cell(const struct kcell *k, long i, PyObject **expr, int *future)
{
	/* top-level await, as IPython's autoawait: eval_code runs the coroutine */
	PyCompilerFlags flags = {PyCF_ALLOW_TOP_LEVEL_AWAIT | *future, PY_MINOR_VERSION};
	char name[32];
	PyObject *body;

	snprintf(name, sizeof(name), "<cell %ld>", i + 1);
	*expr = NULL;
	body = Py_CompileStringExFlags(k->body ? k->body : "", name, Py_file_input, &flags, -1);
	if (body)
		*future |= flags.cf_flags & PyCF_MASK;
	if (body && k->expr) {
		*expr = Py_CompileStringExFlags(k->expr, name, Py_eval_input, &flags, -1);
		if (!*expr)
			Py_CLEAR(body);
	}
	return body;
}

/* Evaluate cell i in ns: 1 when it failed (res filled), else 0; *repr the trailing value's. */
static int eval_cell(struct kchild *c, PyObject *ns, const struct kcell *k, long i, json_t *res,
		     PyObject **repr)
{
	PyObject *body, *expr = NULL, *r = NULL, *v = NULL, *et, *ev, *etb;
	int failed = 0, uses_async, grade = c->run->grade ? c->run->grade[i] : 0;
	struct kgrade g = {0};

	*repr = NULL;
	if (k->ename) {
		json_object_set_new(res, "ename", json_string(k->ename));
		json_object_set_new(res, "evalue", json_string(k->evalue));
		json_object_set_new(res, "traceback", json_string(k->tb));
		kwatch_enter(c->run->z->watch, i + 1, 0); /* it does not run */
		return 1;
	}
	uses_async = k->code && (strstr(k->code, "async") || strstr(k->code, "await"));
	/* the loop counts as running from the first cell that uses asyncio on */
	if (uses_async || c->run->z->loop.loop)
		kloop_mark(&c->run->z->loop, 1);
	call_hook(c->run->z->pre_cell, uses_async ? Py_True : Py_False);
	/* compiling can run student code (a collector callback): before the checks */
	body = compile_cell(k, i, &expr, &c->future);
	if (grade & 2) {
		/* a hidden test's code objects: no student code may read them (kernel_frames.c) */
		kaudit_hide(&c->run->z->audit, body);
		kaudit_hide(&c->run->z->audit, expr);
	}
	PyErr_Fetch(&et, &ev, &etb);
	/*
	 * Right before a grade cell, after every piece of student code that runs
	 * ahead of it (the pre-cell events a notebook registered included): what
	 * student code changed, and threads still running; then the test at once.
	 */
	if (grade)
		kguard_signals(c->run->z->watch, c->sigmod, i + 1, KSIG_TIMEOUT, c->on_timeout, 1);
	kwatch_enter(c->run->z->watch, i + 1, 0);
	if (grade) {
		/* keys that are no plain str first: any later look-up would run their __eq__ */
		kguard_keys(c->run->z->watch, ns);
		kwatch_enter(c->run->z->watch, i + 1, grade);
	}
	if (body && grade) {
		kguard_shadowed(c->run->z->watch, body, ns, i + 1);
		kguard_shadowed(c->run->z->watch, expr, ns, i + 1);
	}
	if (grade) {
		/* once more after the checks (the box scan can be slow): then the test at once */
		kguard_signals(c->run->z->watch, c->sigmod, i + 1, KSIG_TIMEOUT, c->on_timeout, 0);
		kgrade_processes(c->run->z->watch, i + 1);
		kgrade_begin(&g, c->pristine, c->builtins, ns);
		kgrade_trace(&g, c->run->z->watch, &c->run->z->audit.armed, ns, body, expr, i + 1);
	}
	PyErr_Restore(et, ev, etb);
	c->run->z->audit.in_hidden = (grade & 2) != 0;
	if (body)
		r = eval_code(c, body, ns);
	if (r && expr) {
		v = eval_code(c, expr, ns);
		if (v && v != Py_None) {
			*repr = PyObject_Repr(v);
			if (*repr)
				PyDict_SetItemString(ns, "_", v);
		}
	}
	if (!r || (expr && (!v || (v != Py_None && !*repr)))) {
		failed = 1;
		kchild_exception(c, res);
	}
	c->run->z->audit.in_hidden = 0;
	if (grade)
		kgrade_end(&g, c->run->z->watch, c->builtins, ns, i + 1);
	call_hook(c->run->z->post_cell, NULL);
	Py_XDECREF(v);
	Py_XDECREF(r);
	Py_XDECREF(expr);
	Py_XDECREF(body);
	return failed;
}

/* Run cell i; its record goes out before the next cell starts. */
static void run_cell(struct kchild *c, PyObject *ns, struct kcell *kc, long i, json_t *replaced,
		     PyObject *notes)
{
	PyObject *repr = NULL;
	json_t *res = json_object();
	size_t dout, derr, dbytes = 0;
	double t0;
	int f, failed;

	reset_streams(c);
	if (PyDict_GetItemString(ns, "__builtins__") != c->builtins) {
		PyDict_SetItemString(ns, "__builtins__", c->builtins);
		json_array_append_new(replaced, json_string("__main__.__builtins__"));
	}
	c->run->z->audit.blocked[0] = 0;
	c->run->z->audit.lib_blocked[0] = 0;
	c->cut[0] = 0;
	c->src = kc->code;
	arm(c, i);
	/* an interrupt meant for the previous cell, delivered late, is dropped here */
	if (PyErr_CheckSignals() < 0)
		PyErr_Clear();
	t0 = gr_now();
	failed = eval_cell(c, ns, kc, i, res, &repr);
	if (!failed && repr)
		json_object_set_new(res, "result", kchild_text(c, repr, "result"));
	if (!kc->ename)
		flush_figures(c);
	flush_streams(c);
	/* a timeout signal that arrived as the cell ended must not hit the next one */
	if (PyErr_CheckSignals() < 0)
		PyErr_Clear();
	json_object_set_new(res, "time", json_real(gr_now() - t0));
	f = fired(c);
	if (f) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s time limit of %g s exceeded",
			 f == 2 ? "notebook" : "cell",
			 f == 2 ? c->run->timeout : c->run->timeout_cell);
		json_object_set_new(res, "status", json_string("timeout"));
		json_object_set_new(res, "ename", json_string("TimeoutError"));
		json_object_set_new(res, "evalue", json_string(msg));
		if (!json_object_get(res, "traceback"))
			json_object_set_new(res, "traceback", json_string(msg));
	} else {
		json_object_set_new(res, "status", json_string(failed ? "error" : "ok"));
	}
	json_object_set_new(res, "i", json_integer(i));
	json_object_set_new(res, "stdout", kcap_take(&c->cap, 0, &dout));
	json_object_set_new(res, "stderr", kcap_take(&c->cap, 1, &derr));
	json_object_set_new(res, "stdout_dropped", json_integer((json_int_t)dout));
	json_object_set_new(res, "stderr_dropped", json_integer((json_int_t)derr));
	json_object_set_new(res, "displays", kchild_displays(c, &dbytes));
	kchild_budget(c, res, dbytes,
		      KNB_BUDGET(c->run->cap < KSTREAM_MAX ? c->run->cap : KSTREAM_MAX));
	kchild_notes(c, res, kc->note, notes);
	kguard_note_imports(c->run->z->watch, kc->imports);
	kguard_keys(c->run->z->watch, ns);
	kwatch_check(c->run->z->watch, 0);
	kguard_note_ns(c->run->z->watch, ns, i + 1);
	kchild_flags(c, res, replaced);
	PyErr_Clear();
	send_cell(c, res);
	json_decref(res);
	Py_XDECREF(repr);
	c->src = NULL;
	kpy_cell_clear(kc);
}

/* What _prepare() gave back has the shape C relies on: (dict, list). */
static int prepared_ok(PyObject *ret)
{
	return ret && PyTuple_Check(ret) && PyTuple_GET_SIZE(ret) == 2 &&
	       PyDict_Check(PyTuple_GET_ITEM(ret, 0)) && PyList_Check(PyTuple_GET_ITEM(ret, 1));
}

#if defined(__SANITIZE_ADDRESS__)
/*
 * A sanitized build's allocator answers an allocation over the data limit
 * (limit_data) with NULL, as glibc's does, rather than ending the process:
 * the notebook then sees its MemoryError in both builds.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

/* Private writable memory mapped now (VmData), in bytes; 0 when unknown. */
static unsigned long long data_now(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * A cell that asks for more memory than the run may have gets a MemoryError
 * in that cell, as on a machine that is full, and the notebook goes on: the
 * data limit (what malloc and numpy map) stops new memory a little under the
 * cgroup's limit, which stays the last resort (page cache, kernel memory).
 * Counted from what the child inherits, so a sanitizer's reservations or the
 * zygote's heap do not count.
 */
static void limit_data(size_t mem_mb)
{
	unsigned long long lim = (unsigned long long)mem_mb << 20, margin = lim / 8, base;
	struct rlimit rl;

	if (!mem_mb)
		return;
	if (margin < (32ull << 20))
		margin = 32ull << 20;
	base = data_now();
	if (!base || margin >= lim || getrlimit(RLIMIT_DATA, &rl) < 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= base + lim - margin)
		return;
	rl.rlim_cur = base + lim - margin;
	setrlimit(RLIMIT_DATA, &rl);
}

static void finish(struct kchild *c, json_t *replaced, int timed_out, const char *error)
{
	json_t *done = json_object();

	json_object_set(done, "replaced", replaced);
	json_object_set_new(done, "flags", kwatch_take(c->run->z->watch, 1));
	json_object_set_new(done, "timed_out", json_boolean(timed_out));
	if (error)
		json_object_set_new(done, "error", json_string(error));
	send_json(c, KREC_DONE, done);
	_exit(0);
}

/*
 * In any process forked from the child (os.fork, multiprocessing): the result
 * channel is closed, and so are the capture's read ends; the key's page was
 * wiped by the kernel (MADV_WIPEONFORK).
 */
static void forked(void)
{
	close(KFD_REC);
	close(KFD_OUT_R);
	close(KFD_ERR_R);
}

/* Move the key to its own page that no forked process gets; 0, or GR_ESYS (fork then refused). */
static int guard_key(struct kchild *c)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int rc = 0;

	if (p == MAP_FAILED) {
		c->key = c->run->key; /* no page: the key stays, and fork is refused */
		return GR_ESYS;
	}
	if (madvise(p, 4096, MADV_WIPEONFORK) < 0 || madvise(p, 4096, MADV_DONTDUMP) < 0)
		rc = GR_ESYS;
	c->key = p;
	memcpy(c->key, c->run->key, KCHAN_KEY_LEN);
	OPENSSL_cleanse(c->run->key, KCHAN_KEY_LEN);
	return rc;
}

int kernel_child_main(void *arg)
{
	struct kchild c;
	PyObject *prepare, *ret = NULL, *ns, *notes;
	json_t *replaced = json_array();
	pthread_t wd;
	pthread_condattr_t ca;
	char msg[300];

	memset(&c, 0, sizeof(c));
	c.run = arg;
	c.cell = -1;
	prctl(PR_SET_DUMPABLE, 0);
	PyOS_AfterFork_Child();
	c.pid = getpid();
	/* the sandbox hands KFD_REC over without FD_CLOEXEC: no program run from here gets it */
	fcntl(KFD_REC, F_SETFD, FD_CLOEXEC);
	c.run->z->audit.allow_fork = guard_key(&c) == 0 && pthread_atfork(NULL, NULL, forked) == 0;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	/* a crash is the child's death by that signal, even under a sanitizer's handler */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	pthread_mutex_init(&c.wlock, NULL);
	pthread_mutex_init(&c.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c.cond, &ca);
	c.main_thread = pthread_self();
	c.out = c.run->z->out;
	c.err = c.run->z->err;
	Py_XINCREF(c.out);
	Py_XINCREF(c.err);
	c.nb_deadline = gr_now() + c.run->timeout;
	if (kcap_start(&c.cap, c.run->cap < KSTREAM_MAX ? c.run->cap : KSTREAM_MAX) < 0)
		finish(&c, replaced, 0, "cannot set up the capture");
	kchild_expose_cap_pos(&c);
	reset_streams(&c);
	limit_data(c.run->z->opts->mem_mb);

	prepare = PyDict_GetItemString(c.run->z->ns, "_prepare");
	if (prepare)
		ret = PyObject_CallFunction(prepare, "ili", c.run->ipython, c.run->seed,
					    KSIG_TIMEOUT);
	if (!ret) {
		kpy_exc_message(msg, sizeof(msg));
		finish(&c, replaced, 0, msg);
	}
	if (!prepared_ok(ret))
		finish(&c, replaced, 0, "the kernel helper returned a malformed preparation");
	ns = PyTuple_GET_ITEM(ret, 0);
	notes = PyTuple_GET_ITEM(ret, 1);
	c.builtins = PyDict_GetItemString(ns, "__builtins__");
	c.pristine = kgrade_pristine(c.builtins);
	c.sigmod = PyImport_ImportModule("signal");
	c.on_timeout =
	    c.sigmod ? PyObject_CallMethod(c.sigmod, "getsignal", "i", KSIG_TIMEOUT) : NULL;
	PyErr_Clear();
	/* Without a watchdog the sandbox's wall clock still ends the run. */
	if (pthread_create(&wd, NULL, watchdog, &c) != 0)
		fprintf(stderr, "grader: no watchdog thread\n");
	for (size_t i = 0; c.run->grade && i < c.run->ncells; i++)
		c.run->z->audit.has_hidden |= (c.run->grade[i] & 2) != 0;
	c.run->z->audit.armed = 1;
	for (long i = 0; i < (long)c.run->ncells; i++) {
		if (gr_now() >= c.nb_deadline)
			finish(&c, replaced, 1, NULL);
		run_cell(&c, ns, &c.run->cells[i], i, replaced, notes);
		if (fired(&c) == 2)
			finish(&c, replaced, 1, NULL);
	}
	finish(&c, replaced, 0, NULL);
	return 0;
}
