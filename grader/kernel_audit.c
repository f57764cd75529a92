/*
 * kernel_audit.c - what student code may not do from Python, and what it
 * did to shared names:
 *   - a PEP 578 audit hook, installed from C by the zygote (it cannot be
 *     removed) and armed in the child just before the first cell, refuses
 *     the real ctypes/cffi (student code gets an inert ctypes, see
 *     kernel_helper.py), SQLite extensions and Tcl/Tk (both load native
 *     code), direct memory access through /proc/<pid>/mem and friends, new
 *     audit hooks, tracing (which can move a test cell's frame past an
 *     assert), fork until forked processes cannot use the result channel,
 *     code-object construction, and symlink games;
 *   - it refuses student code the code objects of hidden tests
 *     (kernel_frames.c);
 *   - it hands object.__setattr__ events to the monkeypatch watcher
 *     (kernel_watch.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>

#include "kernel_py.h"

/* ---- audit hook ---- */

static int starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* A path that gives direct access to memory, or a /proc directory usable as dir_fd. */
static int bad_path(const char *path)
{
	static const char *const names[] = {"mem", "kmem", "pagemap", "kcore", "port", NULL};
	char real[PATH_MAX];
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(base, names[i]))
			return 1;
	if (!realpath(path, real))
		return 0; /* does not exist (yet): nothing to read through it */
	base = strrchr(real, '/') + 1;
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(base, names[i]) && (starts(real, "/proc/") || starts(real, "/dev/")))
			return 1;
	if (!strcmp(real, "/proc") || !strcmp(real, "/"))
		return 1;
	if (starts(real, "/proc/")) {
		/* /proc/<pid>, /proc/<pid>/task, /proc/<pid>/task/<tid>: dir_fd bases */
		const char *p = real + 6;
		size_t n = strspn(p, "0123456789");

		if (n && (!p[n] || !strcmp(p + n, "/task") ||
			  (starts(p + n, "/task/") &&
			   strspn(p + n + 6, "0123456789") == strlen(p + n + 6))))
			return 1;
	}
	return 0;
}

static int path_arg(PyObject *arg, char *out, size_t len)
{
	PyObject *bytes = NULL;
	int rc = 0;

	if (!arg || arg == Py_None || PyLong_Check(arg))
		return 0;
	if (!PyUnicode_FSConverter(arg, &bytes)) {
		PyErr_Clear();
		return -1; /* not a path we can judge */
	}
	snprintf(out, len, "%s", PyBytes_AS_STRING(bytes));
	rc = 1;
	Py_DECREF(bytes);
	return rc;
}

/* File name of the innermost Python frame: who called the audited builtin. */
static const char *caller_file(char *buf, size_t len)
{
	PyFrameObject *f = PyEval_GetFrame(); /* borrowed */
	PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
	const char *s = co ? PyUnicode_AsUTF8(co->co_filename) : NULL;

	snprintf(buf, len, "%s", s ? s : "");
	Py_XDECREF(co);
	PyErr_Clear();
	return buf;
}

/* Where Debian keeps Python packages and extension modules. */
static int trusted_dir(const char *f)
{
	return starts(f, "/usr/lib/") || starts(f, "/usr/local/lib/");
}

static int trusted_file(const char *f)
{
	return starts(f, "/usr/lib/python3") || starts(f, "/usr/local/lib/python3");
}

/* compile(source, "/usr/...") must be that file's own source, not a disguise. */
static int is_file_source(PyObject *source, const char *path)
{
	const char *data = NULL;
	Py_ssize_t len = 0;
	char *file = NULL;
	size_t flen = 0;
	int same;

	if (PyBytes_Check(source)) {
		data = PyBytes_AS_STRING(source);
		len = PyBytes_GET_SIZE(source);
	} else if (PyUnicode_Check(source)) {
		data = PyUnicode_AsUTF8AndSize(source, &len);
	}
	if (!data) {
		PyErr_Clear();
		return 0;
	}
	if (gr_read_file(&file, &flen, path, 16u << 20, NULL) < 0)
		return 0;
	same = flen == (size_t)len && !memcmp(file, data, flen);
	free(file);
	return same;
}

static int refuse_as(struct kaudit *a, PyObject *type, const char *what)
{
	snprintf(a->blocked, sizeof(a->blocked), "%s", what);
	PyErr_Format(type, "%s is not allowed when grading", what);
	return -1;
}

static int refuse(struct kaudit *a, const char *what)
{
	return refuse_as(a, PyExc_PermissionError, what);
}

/* `name` is module `mod` or inside it, or its last part is: "x._ctypes" loads _ctypes too. */
static int names_module(const char *name, const char *mod)
{
	size_t n = strlen(mod);
	const char *last = strrchr(name, '.');

	if (!strncmp(name, mod, n) && (!name[n] || name[n] == '.'))
		return 1;
	return last && !strcmp(last + 1, mod);
}

/* The extension file's own module name: "_ctypes" for ".../_ctypes.cpython-311-....so". */
static int file_is_module(const char *path, const char *mod)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(mod);

	base = base ? base + 1 : path;
	return !strncmp(base, mod, n) && base[n] == '.';
}

static int on_import(struct kaudit *a, PyObject *args)
{
	static const char *const blocked[] = {"ctypes",
					      "_ctypes",
					      "cffi",
					      "_cffi_backend",
					      "_testcapi",
					      "_testinternalcapi",
					      "_testbuffer",
					      "_testmultiphase",
					      "_ctypes_test",
					      "_xxtestfuzz",
					      "_testimportmultiple",
					      "_xxsubinterpreters",
					      NULL};
	PyObject *m = PyTuple_Size(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;
	PyObject *file = PyTuple_Size(args) > 1 ? PyTuple_GET_ITEM(args, 1) : NULL;
	const char *name = m && PyUnicode_Check(m) ? PyUnicode_AsUTF8(m) : NULL;
	char path[PATH_MAX], real[PATH_MAX];
	int have_file = file && file != Py_None && path_arg(file, path, sizeof(path)) == 1;

	PyErr_Clear();
	/* native code (an extension module) only from the system's packages */
	if (have_file && (!realpath(path, real) || !trusted_dir(real)))
		return refuse_as(a, PyExc_ImportError, "loading native code from outside /usr");
	/* Tcl's `load` runs any shared object the notebook wrote */
	if ((name && names_module(name, "_tkinter")) ||
	    (have_file && file_is_module(path, "_tkinter")))
		return refuse_as(a, PyExc_ImportError,
				 "Tcl/Tk (_tkinter, which can load native code)");
	for (size_t i = a->allow_ctypes ? 4 : 0; blocked[i]; i++) {
		if (!(name && names_module(name, blocked[i])) &&
		    !(have_file && file_is_module(path, blocked[i])))
			continue;
		/*
		 * ImportError: libraries with an optional ctypes fall back (matplotlib
		 * does), so this is no news unless the cell then fails
		 */
		if (trusted_file(caller_file(path, sizeof(path))) || starts(path, "<frozen")) {
			snprintf(a->lib_blocked, sizeof(a->lib_blocked), "%s",
				 "ctypes/cffi (wanted by a library; see --allow-ctypes)");
			PyErr_Format(PyExc_ImportError, "%s is not allowed when grading",
				     a->lib_blocked);
			return -1;
		}
		return refuse_as(a, PyExc_ImportError, "importing ctypes, cffi or a test module");
	}
	return 0;
}

static int hook(const char *event, PyObject *args, void *data)
{
	struct kaudit *a = data;
	char path[PATH_MAX];
	int r;

	if (!a->armed)
		return 0;
	if (!strcmp(event, "object.__setattr__"))
		return kwatch_on_setattr(a->watch, args);
	/* a hidden test's code objects (kernel_frames.c) */
	if (!strcmp(event, "object.__getattr__") || starts(event, "sys._") ||
	    starts(event, "gc.get_"))
		return kaudit_frames(a, event, args);
	/* the watcher's own profile function around an import (kernel_watch.c) */
	if (!strcmp(event, "sys.setprofile") && a->watch && a->watch->profiling)
		return 0;
	if ((starts(event, "ctypes.") && !a->allow_ctypes) || !strcmp(event, "sys.addaudithook") ||
	    !strcmp(event, "sys.settrace") || !strcmp(event, "sys.setprofile") ||
	    (!a->allow_fork && (!strcmp(event, "os.fork") || !strcmp(event, "os.forkpty"))) ||
	    !strcmp(event, "os.symlink") || !strcmp(event, "os.link"))
		return refuse(a, event);
	if (!strcmp(event, "import"))
		return on_import(a, args);
	/* an SQLite extension is native code from any file (allow_ctypes opens that door anyway) */
	if (!a->allow_ctypes && (!strcmp(event, "sqlite3.enable_load_extension") ||
				 !strcmp(event, "sqlite3.load_extension")))
		return refuse(a, "loading an SQLite extension (native code)");
	if (!strcmp(event, "open")) {
		r = path_arg(PyTuple_Size(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL, path,
			     sizeof(path));
		if (r < 0 || (r == 1 && bad_path(path)))
			return refuse(a, "opening this path");
		if (r == 1 && strlen(path) > 4 && !strcmp(path + strlen(path) - 4, ".pyc")) {
			char real[PATH_MAX];

			/* bytecode comes from the system's packages only, never from the box */
			if (!realpath(path, real) || !trusted_file(real))
				return refuse(a, "loading bytecode from outside /usr");
		}
		return 0;
	}
	/*
	 * Hand-made bytecode is the classic route from Python to memory corruption:
	 * code objects may be built only by library code, bytecode read only by the
	 * import system, and no code may pretend to come from a system file.
	 */
	if (!strcmp(event, "code.__new__")) {
		/* the import system runs Cython's module set-up, which builds code objects */
		caller_file(path, sizeof(path));
		if (!trusted_file(path) && !starts(path, "<frozen importlib."))
			return refuse(a, event);
		return 0;
	}
	if (!strcmp(event, "marshal.loads") || !strcmp(event, "marshal.load")) {
		if (strcmp(caller_file(path, sizeof(path)),
			   "<frozen importlib._bootstrap_external>"))
			return refuse(a, event);
		return 0;
	}
	if (!strcmp(event, "compile")) {
		PyObject *fn = PyTuple_Size(args) > 1 ? PyTuple_GET_ITEM(args, 1) : NULL;
		const char *name = fn && PyUnicode_Check(fn) ? PyUnicode_AsUTF8(fn) : NULL;

		PyErr_Clear();
		if (name && starts(name, "<frozen"))
			return refuse(a, "compiling under a frozen module's name");
		if (name && starts(name, "/usr/") &&
		    !is_file_source(PyTuple_GET_ITEM(args, 0), name))
			return refuse(a, "compiling under a system file's name");
		return 0;
	}
	if (!strcmp(event, "os.rename")) {
		struct stat st;

		r = path_arg(PyTuple_Size(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL, path,
			     sizeof(path));
		if (r == 1 && !lstat(path, &st) && S_ISLNK(st.st_mode))
			return refuse(a, "renaming a symlink");
		return 0;
	}
	return 0;
}

int kaudit_install(struct kaudit *a, int allow_ctypes)
{
	a->armed = 0;
	a->allow_ctypes = allow_ctypes;
	a->allow_fork = 0;
	a->blocked[0] = 0;
	a->lib_blocked[0] = 0;
	a->hidden = NULL;
	a->nhidden = a->caphidden = 0;
	a->in_hidden = 0;
	return PySys_AddAuditHook(hook, a);
}
