/*
 * kernel_py.c - CPython start-up in the zygote: an isolated configuration on
 * Debian's /usr prefix (no environment variable, no user site, no PATH or
 * pyenv lookup), the helper module, preloads, the monkeypatch watcher and the
 * audit hook.
 */
#include <stdio.h>
#include <string.h>

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
	PyConfig config;
	PyStatus st;

	PyConfig_InitIsolatedConfig(&config);
	config.site_import = 1;           /* Debian's dist-packages and .pth files */
	config.user_site_directory = 0;
	config.write_bytecode = 0;        /* never write __pycache__ into /usr or /box */
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
	PyObject *mod = NULL, *code = NULL, *r = NULL, *names = NULL, *io = NULL;
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
		snprintf(msg, msglen, "%s", PyUnicode_Check(r) ? PyUnicode_AsUTF8(r) : "preload failed");
		rc = GR_ENOTFOUND;
		goto done;
	}
	/* made here once rather than in every child (about 1 ms each) */
	z->out = PyObject_CallFunction(z->io_open, "isissOO", 1, "w", 1, "utf-8", "backslashreplace",
				       Py_None, Py_False);
	z->err = PyObject_CallFunction(z->io_open, "isissOO", 2, "w", 1, "utf-8", "backslashreplace",
				       Py_None, Py_False);
	PyErr_Clear();
	if (kwatch_start(&z->watch, &z->audit.armed) < 0) {
		snprintf(msg, msglen, "cannot watch the system's modules");
		rc = GR_ESYS;
		goto done;
	}
	if (kaudit_install(&z->audit, opts->allow_ctypes) < 0)
		goto pyfail;
	z->audit.watch = z->watch;
	goto done;
pyfail:
	kpy_exc_message(msg, msglen);
	rc = GR_ESYS;
done:
	Py_XDECREF(r);
	Py_XDECREF(code);
	Py_XDECREF(names);
	Py_XDECREF(io);
	Py_XDECREF(mod);
	return rc;
}

void kpy_maybe_ipython(struct kzy *z, PyObject *sources)
{
	PyObject *needs, *r = NULL;

	if (!z->opts->ipython)
		return;
	needs = PyDict_GetItemString(z->ns, "_needs_ipython");
	if (needs)
		r = PyObject_CallOneArg(needs, sources);
	if (r && PyObject_IsTrue(r) == 1) {
		PyObject *load = PyDict_GetItemString(z->ns, "_load_ipython");

		Py_DECREF(r);
		r = load ? PyObject_CallNoArgs(load) : NULL;
	}
	Py_XDECREF(r);
	PyErr_Clear();
}
