/*
 * kernel_frames.c - a hidden test's code and frames out of student code's
 * reach. A student function that a hidden test calls runs with the test's
 * frame on the stack: sys._getframe(1).f_code (or a traceback's frame, a
 * generator's code, gc.get_referents of the test's function) would hand it
 * the code object of the test, whose constants are the expected values, and
 * the frame's f_back leads to the test's own frame and its locals, to save
 * and print in a later visible cell. The child tells the audit hook which
 * code objects are a hidden test's (compiled by C right before the cell
 * runs, with every code object nested in them); in a run with hidden tests
 * the hook then refuses student code:
 *   - reading f_code, gi_code, cr_code, ag_code or __code__ when it is a
 *     hidden test's code;
 *   - a frame (sys._getframe, a traceback's tb_frame) from which f_back
 *     leads to a hidden test's frame or to a generator's or coroutine's
 *     frame (which f_back leaves the moment it is resumed, possibly by a
 *     student function a hidden test calls); gi_frame, cr_frame, ag_frame;
 *     sys._current_frames while a hidden test runs;
 *   - gc.get_referents reaching a hidden test's code (or, while one runs,
 *     anything); gc.get_objects and gc.get_referrers once one exists (they
 *     list the containers of its constants).
 *
 * Honest readers keep working: logging, warnings, inspect's file and line
 * look-ups (pandas' find_stack_level), traceback's stack summaries and
 * asyncio's reprs read only the file, the name and the line of the code they
 * are given, so these functions of the system's library, and only they, may
 * read a hidden test's code; a frame asked for by the system's code (not by
 * a library function that hands frames back to the student code calling it,
 * such as inspect.stack()) is given.
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

/*
 * Frame `f` runs with a system module's own namespace as its globals, one
 * the import system loaded (kernel_watch.c): not a system file's code lent
 * to globals of the notebook's (types.FunctionType(code, mine)), which could
 * hand what the code takes to a function of the student's.
 */
static int system_globals(const struct kaudit *a, PyFrameObject *f)
{
	PyObject *g, *id;
	int r;

	if (!a->watch)
		return 1;
	g = PyFrame_GetGlobals(f);
	id = g ? PyLong_FromVoidPtr(g) : NULL;
	r = id && PySet_Contains(a->watch->seen, id) == 1;
	Py_XDECREF(id);
	Py_XDECREF(g);
	PyErr_Clear();
	return r;
}

/*
 * The functions of the system's library that read a code object only for
 * its file, name, flags, line or signature, never handing it back.
 */
static int honest_reader(const struct kaudit *a)
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
	PyFrameObject *f = PyEval_GetFrame(); /* borrowed */
	PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
	const char *file = co ? kwatch_str(co->co_filename) : "";
	const char *name = co ? kwatch_str(co->co_name) : "";
	int r = 0;

	for (size_t i = 0; !r && kwatch_trusted(file) && readers[i][0]; i++)
		r = ends(file, readers[i][0]) && !strcmp(name, readers[i][1]);
	Py_XDECREF(co);
	return r && system_globals(a, f);
}

/* Library functions that hand the frames they take back to their caller. */
static int hands_frames(PyCodeObject *co)
{
	static const char *const handers[][2] = {
	    {"/inspect.py", "currentframe"},
	    {"/inspect.py", "stack"},
	    {"/inspect.py", "trace"},
	    {"/inspect.py", "getouterframes"},
	    {"/inspect.py", "getinnerframes"},
	    {"/inspect.py", "getgeneratorlocals"},
	    {"/inspect.py", "getcoroutinelocals"},
	    {"/traceback.py", "walk_stack"},
	    {"/traceback.py", "walk_tb"},
	    {"/traceback.py", "extract"},
	    {"/traceback.py", "_extract_from_extended_frame_gen"},
	    {"/traceback.py", "extended_frame_gen"},
	    {"/logging/__init__.py", "<lambda>"},
	    {"/asyncio/base_tasks.py", "_task_get_stack"},
	    {NULL, NULL}};
	const char *file = kwatch_str(co->co_filename), *name = kwatch_str(co->co_name);

	for (size_t i = 0; kwatch_trusted(file) && handers[i][0]; i++)
		if (ends(file, handers[i][0]) && !strcmp(name, handers[i][1]))
			return 1;
	return 0;
}

/*
 * The frame that asks (a new reference; NULL when none): the innermost
 * Python frame past the library functions that hand frames back to their
 * caller and, with `past_system`, past all of the system's own code too.
 */
static PyFrameObject *asker(const struct kaudit *a, int past_system)
{
	PyFrameObject *f = PyEval_GetFrame(), *back; /* borrowed */

	Py_XINCREF(f);
	while (f) {
		PyCodeObject *co = PyFrame_GetCode(f);
		int skip = hands_frames(co) ||
			   (past_system && kwatch_trusted(kwatch_str(co->co_filename)) &&
			    system_globals(a, f));

		Py_DECREF(co);
		if (!skip)
			break;
		back = PyFrame_GetBack(f);
		Py_DECREF(f);
		f = back;
	}
	return f;
}

/*
 * Who asks is the system's code: the asking frame is of a system file (a
 * cell, a file of the box or code compiled by the notebook is not) and runs
 * with a system module's globals.
 */
static int system_asks(const struct kaudit *a)
{
	PyFrameObject *f = asker(a, 0);
	PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
	int r = co && kwatch_trusted(kwatch_str(co->co_filename)) && system_globals(a, f);

	Py_XDECREF(co);
	Py_XDECREF(f);
	return r;
}

/*
 * Who asks, past all of the system's code, is a hidden test itself: for a
 * hidden test's own frame, which the system's code also reads on behalf of
 * student code (traceback.TracebackException(..., capture_locals=True) of
 * an exception that went through the test) and honestly for the test
 * (logging.exception in its own except block).
 */
static int test_asks(const struct kaudit *a)
{
	PyFrameObject *f = asker(a, 1);
	PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
	int r = co && is_hidden(a, co);

	Py_XDECREF(co);
	Py_XDECREF(f);
	return r;
}

/* Frame `f` runs a hidden test's code. */
static int hidden_frame(const struct kaudit *a, PyFrameObject *f)
{
	PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
	int r = co && is_hidden(a, co);

	Py_XDECREF(co);
	return r;
}

/*
 * From frame `f` outward (f_back), a frame running a hidden test's code, or
 * a generator's or coroutine's frame: f_back leaves it for whatever resumes
 * it next, a student function called by a hidden test perhaps.
 */
static int leads_on(struct kaudit *a, PyFrameObject *f)
{
	PyFrameObject *back;
	int r = 0;

	Py_XINCREF(f);
	for (int depth = 0; f && !r && depth < 10000; depth++) {
		PyCodeObject *co = PyFrame_GetCode(f);

		r = is_hidden(a, co) ||
		    (co->co_flags &
		     (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE));
		Py_DECREF(co);
		back = PyFrame_GetBack(f);
		Py_DECREF(f);
		f = back;
	}
	Py_XDECREF(f);
	return r;
}

/*
 * May `f` be handed to who asks: to the system's code (the test's own when
 * `f` is a hidden test's frame), unless it is student code and f_back leads
 * on to a hidden test's frame or a generator's.
 */
static int frame_ok(struct kaudit *a, PyFrameObject *f)
{
	if (hidden_frame(a, f))
		return test_asks(a);
	return system_asks(a) || !leads_on(a, f);
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
	if (!a->has_hidden)
		return 0;
	if (!strcmp(event, "object.__getattr__")) {
		PyObject *n = PyTuple_Size(args) > 1 ? PyTuple_GET_ITEM(args, 1) : NULL;
		const char *name = o && n && PyUnicode_Check(n) ? PyUnicode_AsUTF8(n) : NULL;

		PyErr_Clear();
		if (!name)
			return 0;
		if (is_hidden(a, code_of(o, name)) && !honest_reader(a))
			return refuse(a, "reading a hidden test's code");
		if (PyTraceBack_Check(o) && !strcmp(name, "tb_frame") &&
		    !frame_ok(a, ((PyTracebackObject *)o)->tb_frame))
			return refuse(a, "taking a frame that leads to a hidden test's");
		if ((!strcmp(name, "gi_frame") || !strcmp(name, "cr_frame") ||
		     !strcmp(name, "ag_frame")) &&
		    !system_asks(a))
			return refuse(a, "taking a generator's frame when grading hidden tests");
	} else if (!strcmp(event, "sys._getframe")) {
		if (o && PyFrame_Check(o) && !frame_ok(a, (PyFrameObject *)o))
			return refuse(a, "taking a frame that leads to a hidden test's");
	} else if (!strcmp(event, "sys._current_frames")) {
		if (a->in_hidden && !system_asks(a))
			return refuse(a, "sys._current_frames while hidden tests run");
	} else if (!strcmp(event, "gc.get_referents")) {
		if (a->in_hidden && !system_asks(a))
			return refuse(a, "gc.get_referents while hidden tests run");
		for (Py_ssize_t i = 0; o && PyTuple_Check(o) && i < PyTuple_GET_SIZE(o); i++)
			if (reaches_hidden(a, PyTuple_GET_ITEM(o, i)))
				return refuse(a, "gc.get_referents reaching a hidden test's code");
	} else if (a->nhidden &&
		   (!strcmp(event, "gc.get_objects") || !strcmp(event, "gc.get_referrers"))) {
		/* they list the containers of a hidden test's constants */
		return refuse(a, "listing objects with gc once hidden tests ran");
	}
	return 0;
}
