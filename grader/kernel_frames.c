/*
 * kernel_frames.c - a hidden test's code out of student code's reach. A
 * student function that a hidden test calls runs with the test's frame on
 * the stack: sys._getframe(1).f_code (or a traceback's frame, a generator's
 * code, gc.get_referents of the test's function) would hand it the code
 * object of the test, whose constants are the expected values, to save and
 * print in a later visible cell. The child tells the audit hook which code
 * objects are a hidden test's (compiled by C right before the cell runs,
 * with every code object nested in them); the hook then refuses, to student
 * code, every audited way to them: f_code, gi_code, cr_code, ag_code and
 * __code__ reads, sys._getframe returning the test's frame,
 * sys._current_frames while such a test runs, gc.get_referents reaching one,
 * and gc.get_objects / gc.get_referrers once one exists (they list the
 * containers of its constants).
 *
 * Honest readers of a frame's code keep working: logging, warnings, inspect's
 * file and line look-ups (pandas' find_stack_level, inspect.stack()),
 * traceback's stack summaries and asyncio's reprs read only the file, the
 * name and the line of the code they are given, so these functions of the
 * system's library, and only they, may read a hidden test's code.
 */
#include <string.h>

#include "kernel_py.h"

static int ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

void kaudit_hide(struct kaudit *a, PyObject *code)
{
	PyCodeObject *co = (PyCodeObject *)code;

	if (!a || !code || !PyCode_Check(code))
		return;
	for (size_t i = 0; i < a->nhidden; i++)
		if (a->hidden[i] == code)
			return;
	if (a->nhidden == a->caphidden) {
		size_t ncap = a->caphidden ? a->caphidden * 2 : 32;
		PyObject **p = realloc(a->hidden, ncap * sizeof(*p));

		if (!p)
			return;
		a->hidden = p;
		a->caphidden = ncap;
	}
	a->hidden[a->nhidden++] = Py_NewRef(code);
	for (Py_ssize_t i = 0; co->co_consts && i < PyTuple_GET_SIZE(co->co_consts); i++)
		kaudit_hide(a, PyTuple_GET_ITEM(co->co_consts, i));
}

static int is_hidden(const struct kaudit *a, const void *code)
{
	for (size_t i = 0; code && i < a->nhidden; i++)
		if ((const void *)a->hidden[i] == code)
			return 1;
	return 0;
}

/* The code object behind attribute `name` of `o`, read without running any code (borrowed). */
static PyObject *code_of(PyObject *o, const char *name)
{
	if (PyFrame_Check(o) && !strcmp(name, "f_code")) {
		PyCodeObject *co = PyFrame_GetCode((PyFrameObject *)o);

		Py_XDECREF(co); /* the frame holds it */
		return (PyObject *)co;
	}
	if (PyFunction_Check(o) && !strcmp(name, "__code__"))
		return PyFunction_GET_CODE(o);
	if ((PyGen_Check(o) && !strcmp(name, "gi_code")) ||
	    (PyCoro_CheckExact(o) && !strcmp(name, "cr_code")) ||
	    (PyAsyncGen_CheckExact(o) && !strcmp(name, "ag_code")))
#if PY_VERSION_HEX < 0x030c0000
		return (PyObject *)((PyGenObject *)o)->gi_code;
#else
	{
		PyCodeObject *co = PyGen_GetCode((PyGenObject *)o);

		Py_XDECREF(co);
		return (PyObject *)co;
	}
#endif
	return NULL;
}

/* The innermost Python frame's code: who is asking (new reference or NULL). */
static PyCodeObject *caller(void)
{
	PyFrameObject *f = PyEval_GetFrame(); /* borrowed */

	return f ? PyFrame_GetCode(f) : NULL;
}

static int system_caller(void)
{
	PyCodeObject *co = caller();
	int r = co && kwatch_trusted(kwatch_str(co->co_filename));

	Py_XDECREF(co);
	return r;
}

/*
 * The functions of the system's library that read a code object only for
 * its file, name, flags, line or signature, never handing it back.
 */
static int honest_reader(void)
{
	static const char *const readers[][2] = {
	    {"/logging/__init__.py", "_is_internal_frame"},
	    {"/logging/__init__.py", "findCaller"},
	    {"/logging/__init__.py", "handleError"},
	    {"/warnings.py", "_is_internal_frame"},
	    {"/warnings.py", "warn"},
	    {"/inspect.py", "_has_code_flag"},
	    {"/inspect.py", "isawaitable"},
	    {"/inspect.py", "getfile"},
	    {"/inspect.py", "findsource"},
	    {"/inspect.py", "getsourcelines"},
	    {"/inspect.py", "_get_code_position_from_tb"},
	    {"/inspect.py", "getframeinfo"},
	    {"/inspect.py", "_signature_is_functionlike"},
	    {"/inspect.py", "_signature_from_function"},
	    {"/traceback.py", "_walk_tb_with_full_positions"},
	    {"/traceback.py", "_extract_from_extended_frame_gen"},
	    {"/asyncio/base_tasks.py", "_task_print_stack"},
	    {"/asyncio/coroutines.py", "_format_coroutine"},
	    {"/asyncio/format_helpers.py", "_get_function_source"},
	    {NULL, NULL}};
	PyCodeObject *co = caller();
	const char *file = co ? kwatch_str(co->co_filename) : "";
	const char *name = co ? kwatch_str(co->co_name) : "";
	int r = 0;

	for (size_t i = 0; !r && kwatch_trusted(file) && readers[i][0]; i++)
		r = ends(file, readers[i][0]) && !strcmp(name, readers[i][1]);
	Py_XDECREF(co);
	return r;
}

static int refuse(struct kaudit *a, const char *what)
{
	snprintf(a->blocked, sizeof(a->blocked), "%s", what);
	PyErr_Format(PyExc_PermissionError, "%s is not allowed when grading", what);
	return -1;
}

static int visit(PyObject *o, void *arg)
{
	return is_hidden(arg, o);
}

/* `o` is a hidden test's code, or refers to one directly (a function, a finished frame). */
static int reaches_hidden(struct kaudit *a, PyObject *o)
{
	traverseproc trav = Py_TYPE(o)->tp_traverse;

	if (is_hidden(a, o))
		return 1;
	return PyObject_IS_GC(o) && trav && trav(o, visit, a) != 0;
}

int kaudit_frames(struct kaudit *a, const char *event, PyObject *args)
{
	PyObject *o = PyTuple_Size(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;

	PyErr_Clear();
	if (!a->nhidden)
		return 0;
	if (!strcmp(event, "object.__getattr__")) {
		PyObject *n = PyTuple_Size(args) > 1 ? PyTuple_GET_ITEM(args, 1) : NULL;
		const char *name = o && n && PyUnicode_Check(n) ? PyUnicode_AsUTF8(n) : NULL;

		PyErr_Clear();
		if (name && is_hidden(a, code_of(o, name)) && !honest_reader())
			return refuse(a, "reading a hidden test's code");
	} else if (!strcmp(event, "sys._getframe")) {
		if (o && PyFrame_Check(o) && is_hidden(a, code_of(o, "f_code")) && !system_caller())
			return refuse(a, "taking a hidden test's frame");
	} else if (!strcmp(event, "sys._current_frames")) {
		if (a->in_hidden && !system_caller())
			return refuse(a, "sys._current_frames while hidden tests run");
	} else if (!strcmp(event, "gc.get_referents")) {
		for (Py_ssize_t i = 0; o && PyTuple_Check(o) && i < PyTuple_GET_SIZE(o); i++)
			if (reaches_hidden(a, PyTuple_GET_ITEM(o, i)))
				return refuse(a, "gc.get_referents reaching a hidden test's code");
	} else if (!strcmp(event, "gc.get_objects") || !strcmp(event, "gc.get_referrers")) {
		/* they list the containers of a hidden test's constants */
		return refuse(a, "listing objects with gc once hidden tests ran");
	}
	return 0;
}
