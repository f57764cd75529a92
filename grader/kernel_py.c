/*
 * kernel_py.c - CPython start-up in the zygote: an isolated configuration on
 * Debian's /usr prefix (no environment variable, no user site, no PATH or
 * pyenv lookup), the helper module, preloads, the monkeypatch watcher and the
 * audit hook.
 */
#include <locale.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "kernel_py.h"

/* Debian's interpreter lives under /usr whatever python3 PATH finds first. */
#define KPY_HOME L"/usr"
#define KPY_PROGRAM L"/usr/bin/python3"

void kpy_exc_message(char *buf, size_t len)
{
	PyObject *type = NULL, *value = NULL, *tb = NULL, *s = NULL;
	const char *msg = NULL;

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (value)
		s = PyObject_Str(value);
	if (s)
		msg = PyUnicode_AsUTF8(s);
	PyErr_Clear();
	snprintf(buf, len, "%s: %s", type ? ((PyTypeObject *)type)->tp_name : "error",
		 msg ? msg : "?");
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

static int init_interpreter(char *msg, size_t msglen)
{
	PyPreConfig pre;
	PyConfig config;
	PyStatus st;

	/*
	 * A kernel reads and writes UTF-8 whatever the caller's locale: PEP 540's
	 * UTF-8 mode (open(), the filesystem encoding, the standard streams), and
	 * a UTF-8 LC_CTYPE for the C library (mbstowcs, extensions, subprocesses).
	 */
	setlocale(LC_CTYPE, "C.UTF-8");
	PyPreConfig_InitIsolatedConfig(&pre);
	pre.utf8_mode = 1;
	st = Py_PreInitialize(&pre);
	if (PyStatus_Exception(st)) {
		snprintf(msg, msglen, "cannot start Python: %s",
			 st.err_msg ? st.err_msg : "unknown error");
		return GR_ESYS;
	}
	PyConfig_InitIsolatedConfig(&config);
	config.site_import = 1; /* Debian's dist-packages and .pth files */
	config.user_site_directory = 0;
	config.write_bytecode = 0; /* never write __pycache__ into /usr or /box */
	config.install_signal_handlers = 0;
	config.parse_argv = 0;
	config.buffered_stdio = 1;
	st = PyConfig_SetString(&config, &config.home, KPY_HOME);
	if (!PyStatus_Exception(st))
		st = PyConfig_SetString(&config, &config.program_name, KPY_PROGRAM);
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st)) {
		snprintf(msg, msglen, "cannot start Python: %s",
			 st.err_msg ? st.err_msg : "unknown error");
		return GR_ESYS;
	}
	return 0;
}

int kpy_start(struct kzy *z, const struct kernel_opts *opts, char *msg, size_t msglen)
{
	PyObject *mod = NULL, *pub = NULL, *code = NULL, *r = NULL, *names = NULL, *io = NULL;
	int rc = 0;

	z->opts = opts;
	rc = init_interpreter(msg, msglen);
	if (rc < 0)
		return rc;
	mod = PyModule_New("_grader_kernel");
	if (!mod)
		goto pyfail;
	z->ns = PyModule_GetDict(mod);
	Py_INCREF(z->ns);
	if (PyDict_SetItemString(z->ns, "__builtins__", PyEval_GetBuiltins()) < 0)
		goto pyfail;
	code = Py_CompileString(kernel_py_source, "<grader kernel>", Py_file_input);
	if (!code)
		goto pyfail;
	r = PyEval_EvalCode(code, z->ns, z->ns);
	if (!r)
		goto pyfail;
	Py_CLEAR(r);
	/*
	 * A second copy for what the notebook gets: a function's __globals__ (or a
	 * frame's f_globals in an event callback) then leads to this copy, never
	 * to the engine's.
	 */
	pub = PyModule_New("_grader_shell");
	if (!pub)
		goto pyfail;
	z->pub = PyModule_GetDict(pub);
	Py_INCREF(z->pub);
	if (PyDict_SetItemString(z->pub, "__builtins__", PyEval_GetBuiltins()) < 0 ||
	    PyDict_SetItemString(z->ns, "_PUB", z->pub) < 0)
		goto pyfail;
	r = PyEval_EvalCode(code, z->pub, z->pub);
	if (!r)
		goto pyfail;
	Py_CLEAR(r);
	z->pre_cell = PyDict_GetItemString(z->pub, "_pre_cell");
	z->post_cell = PyDict_GetItemString(z->pub, "_post_cell");
	if (!z->pre_cell || !z->post_cell) {
		snprintf(msg, msglen, "the Python helper lacks a cell hook");
		rc = GR_ESYS;
		goto done;
	}
	Py_INCREF(z->pre_cell);
	Py_INCREF(z->post_cell);
	io = PyImport_ImportModule("io");
	if (!io)
		goto pyfail;
	z->io_open = PyObject_GetAttrString(io, "open");
	if (!z->io_open)
		goto pyfail;

	names = PyList_New(0);
	if (!names)
		goto pyfail;
	for (const char *const *p = opts->preload; p && *p; p++) {
		PyObject *s = PyUnicode_FromString(*p);

		if (!s || PyList_Append(names, s) < 0) {
			Py_XDECREF(s);
			goto pyfail;
		}
		Py_DECREF(s);
	}
	r = PyObject_CallMethod(mod, "_preload", "Oi", names, opts->allow_ctypes);
	if (!r)
		goto pyfail;
	if (r != Py_None) {
		snprintf(msg, msglen, "%s",
			 PyUnicode_Check(r) ? PyUnicode_AsUTF8(r) : "preload failed");
		rc = GR_ENOTFOUND;
		goto done;
	}
	/* made here once rather than in every child (about 1 ms each) */
	z->out = PyObject_CallFunction(z->io_open, "isissOO", 1, "w", 1, "utf-8",
				       "backslashreplace", Py_None, Py_False);
	z->err = PyObject_CallFunction(z->io_open, "isissOO", 2, "w", 1, "utf-8",
				       "backslashreplace", Py_None, Py_False);
	PyErr_Clear();
	if (kwatch_start(&z->watch, &z->audit.armed) < 0) {
		snprintf(msg, msglen, "cannot watch the system's modules");
		rc = GR_ESYS;
		goto done;
	}
	if (kaudit_install(&z->audit, opts->allow_ctypes) < 0)
		goto pyfail;
	z->audit.watch = z->watch;
	kguard_keys_prime(z->watch);
	goto done;
pyfail:
	kpy_exc_message(msg, msglen);
	rc = GR_ESYS;
done:
	Py_XDECREF(r);
	Py_XDECREF(code);
	Py_XDECREF(names);
	Py_XDECREF(io);
	Py_XDECREF(pub);
	Py_XDECREF(mod);
	return rc;
}

/* Whether the cells of `list` need IPython's transformer (_needs_ipython). */
static int needs_ipython(struct kzy *z, PyObject *list)
{
	PyObject *needs = PyDict_GetItemString(z->ns, "_needs_ipython");
	PyObject *r = needs && PyList_GET_SIZE(list) ? PyObject_CallOneArg(needs, list) : NULL;
	int yes = r ? PyObject_IsTrue(r) == 1 : 0;

	Py_XDECREF(r);
	PyErr_Clear();
	return yes;
}

/*
 * Whether IPython's transformer is wanted for `list` and loaded (in the
 * zygote). A rubric's cell (cached, kernel_cells.c) is asked about once per
 * zygote, the others together.
 */
static int want_ipython(struct kzy *z, PyObject *list, json_t *sources, const unsigned char *grade)
{
	PyObject *rest, *r = NULL;
	int use = 0;

	if (!z->opts->ipython)
		return 0;
	rest = PyList_New(0);
	for (Py_ssize_t i = 0; rest && i < PyList_GET_SIZE(list); i++) {
		PyObject *item = PyList_GET_ITEM(list, i), *one;
		json_t *src = json_array_get(sources, (size_t)i);
		int known;

		if (!grade || !(grade[i] & 5) || (known = kcache_needs(z, src)) < 0) {
			if (!grade || !(grade[i] & 5) || !(one = PyList_New(1))) {
				PyList_Append(rest, item);
				continue;
			}
			PyList_SET_ITEM(one, 0, Py_NewRef(item));
			known = needs_ipython(z, one);
			Py_DECREF(one);
			kcache_set_needs(z, src, known);
		}
		use |= known == 1;
	}
	use |= rest && needs_ipython(z, rest) == 1;
	Py_XDECREF(rest);
	if (use) {
		PyObject *load = PyDict_GetItemString(z->ns, "_load_ipython");

		r = load ? PyObject_CallNoArgs(load) : NULL;
		use = r && PyObject_IsTrue(r) == 1;
	}
	Py_XDECREF(r);
	PyErr_Clear();
	return use;
}

/*
 * asyncio, imported by the zygote the first time a notebook's text mentions
 * async or await (before any student code, so that the loop's class is the
 * system's, and watched), and kept for every later child.
 */
static void want_asyncio(struct kzy *z, json_t *sources)
{
	PyObject *imp, *r;
	size_t i;
	json_t *s;

	if (z->loop.cls)
		return;
	json_array_foreach(sources, i, s)
	{
		const char *t = json_string_value(s);

		if (t && (strstr(t, "async") || strstr(t, "await")))
			break;
	}
	if (i == json_array_size(sources))
		return;
	imp = PyDict_GetItemString(z->ns, "_import_asyncio");
	r = imp ? PyObject_CallNoArgs(imp) : NULL;
	Py_XDECREF(r);
	PyErr_Clear();
	kloop_init(&z->loop); /* if it fails, a top-level await fails with a clear error */
}

/* A heap copy of str `o` (UTF-8), of None as NULL; -1 when `o` is neither. */
static int copy_text(char **out, PyObject *o)
{
	const char *s;

	*out = NULL;
	if (o == Py_None)
		return 0;
	if (!PyUnicode_Check(o) || !(s = PyUnicode_AsUTF8(o)))
		return -1;
	*out = strdup(s);
	return *out ? 0 : -1;
}

/* _transform()'s answer into `c`, its shape checked: (str, str|None, (str, str, str)|None, str,
 * str|None, str|None). */
static int take_cell(struct kcell *c, PyObject *t)
{
	PyObject *e;

	if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 6 ||
	    !PyUnicode_Check(PyTuple_GET_ITEM(t, 0)) || !PyUnicode_Check(PyTuple_GET_ITEM(t, 3)))
		return -1;
	e = PyTuple_GET_ITEM(t, 2);
	if (e != Py_None && (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 3))
		return -1;
	if (copy_text(&c->code, PyTuple_GET_ITEM(t, 0)) < 0 ||
	    copy_text(&c->note, PyTuple_GET_ITEM(t, 1)) < 0 ||
	    copy_text(&c->body, PyTuple_GET_ITEM(t, 3)) < 0 ||
	    copy_text(&c->expr, PyTuple_GET_ITEM(t, 4)) < 0 ||
	    copy_text(&c->imports, PyTuple_GET_ITEM(t, 5)) < 0)
		return -1;
	if (e != Py_None && (copy_text(&c->ename, PyTuple_GET_ITEM(e, 0)) < 0 || !c->ename ||
			     copy_text(&c->evalue, PyTuple_GET_ITEM(e, 1)) < 0 || !c->evalue ||
			     copy_text(&c->tb, PyTuple_GET_ITEM(e, 2)) < 0 || !c->tb))
		return -1;
	return 0;
}

/*
 * The CPU the zygote may spend preparing one run's cells. It runs as root
 * before the box's limits apply, and IPython's transformer reads a whole
 * cell again after each magic it rewrites: a cell of many `!cmd` lines
 * took minutes. Past it, SIGPROF raises PrepTimeout (kernel_helper.py).
 */
#define KPY_PREP_CPU_S 10

/* Arm (seconds > 0) or disarm (0) the preparation's CPU budget. */
static void prep_guard(struct kzy *z, int seconds)
{
	PyObject *g = PyDict_GetItemString(z->ns, "_prep_guard");
	struct itimerval it = {.it_value = {.tv_sec = seconds}};

	if (!seconds)
		setitimer(ITIMER_PROF, &it, NULL); /* disarmed first: nothing trips after */
	/* a trip still pending from before runs at the first call: the second restores */
	for (int tries = 0; g && tries < 2; tries++) {
		PyObject *r = PyObject_CallFunction(g, "i", seconds);

		Py_XDECREF(r);
		if (r)
			break;
		PyErr_Clear();
	}
	if (seconds)
		setitimer(ITIMER_PROF, &it, NULL);
}

int kpy_prepare_cells(struct kzy *z, struct krun *run, json_t *sources, struct gr_err *err)
{
	size_t n = json_array_size(sources);
	PyObject *list = PyList_New(0), *fn;
	int rc = 0;

	run->ncells = 0;
	run->cells = calloc(n ? n : 1, sizeof(*run->cells));
	if (!list || !run->cells) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_array_get(sources, i);
		PyObject *u = PyUnicode_DecodeUTF8(json_string_value(j),
						   (Py_ssize_t)json_string_length(j), "replace");

		if (!u || PyList_Append(list, u) < 0) {
			Py_XDECREF(u);
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
		Py_DECREF(u);
	}
	prep_guard(z, KPY_PREP_CPU_S);
	run->ipython = want_ipython(z, list, sources, run->grade);
	want_asyncio(z, sources);
	fn = PyDict_GetItemString(z->ns, "_transform");
	for (size_t i = 0; fn && i < n; i++) {
		int rubric = run->grade && (run->grade[i] & 5);
		json_t *src = json_array_get(sources, i);
		PyObject *t = NULL;
		int bad = 0;

		run->ncells = i + 1;
		if (rubric && kcache_get(z, i + 1, run->ipython, src, &run->cells[i]))
			continue;
		t = PyObject_CallFunction(fn, "Oni", PyList_GET_ITEM(list, i), (Py_ssize_t)(i + 1),
					  run->ipython);
		bad = !t || take_cell(&run->cells[i], t) < 0;
		Py_XDECREF(t);
		if (!bad && rubric)
			kcache_put(z, i + 1, run->ipython, src, &run->cells[i]);
		if (bad) {
			char msg[200];

			kpy_exc_message(msg, sizeof(msg));
			rc = gr_err_set(err, GR_ESYS, "cannot prepare cell %zu: %s", i + 1,
					t ? "the kernel helper answered a malformed cell" : msg);
			goto done;
		}
	}
	if (!fn)
		rc = gr_err_set(err, GR_ESYS, "the kernel helper has no _transform");
done:
	PyErr_Clear();
	prep_guard(z, 0);
	Py_XDECREF(list);
	PyErr_Clear();
	if (rc < 0) {
		kpy_cells_free(run->cells, run->ncells);
		run->cells = NULL;
		run->ncells = 0;
	}
	return rc;
}

void kpy_cell_clear(struct kcell *c)
{
	free(c->code);
	free(c->body);
	free(c->expr);
	free(c->note);
	free(c->ename);
	free(c->evalue);
	free(c->tb);
	free(c->imports);
	memset(c, 0, sizeof(*c));
}

void kpy_cells_free(struct kcell *cells, size_t n)
{
	for (size_t i = 0; cells && i < n; i++)
		kpy_cell_clear(&cells[i]);
	free(cells);
}
