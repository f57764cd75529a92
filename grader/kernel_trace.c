/*
 * kernel_trace.c - checkpoints inside a grade cell. Student code can run
 * while a test runs (a student function the test calls, a finalizer or a
 * weakref callback fired by a refcount inside the test, an __eq__ the test
 * triggers), change a name the rest of the test reads or an attribute of a
 * module the test reads, and put it back before the check after the cell.
 * A comparison after the cell cannot see that; so, while a grade cell runs, a
 * C trace function gets an opcode event before each instruction of the
 * cell's own code objects (its frames, its functions, comprehensions and
 * lambdas). Whenever the namespace or the builtins were written since the
 * last event, the names the cell's code uses are compared with what the test
 * itself stored there (read from the value stack at its store instruction) or
 * what was there when the cell started; before an attribute read on a module,
 * the attribute with its value when the cell started. Other code runs
 * untraced (a frame evaluator of ours switches tracing off for its frames).
 * CPython 3.11 only: the instruction, the value stack and the tracing switch
 * are read from the interpreter's own structures (internal headers). What
 * concerns modules' and classes' attributes and imports is kernel_trace_attr.c.
 */
#define PY_SSIZE_T_CLEAN
#include <patchlevel.h>

/* the interpreter's frame layout is 3.11's: elsewhere no checkpoints (documented) */
#if PY_VERSION_HEX >= 0x030b0000 && PY_VERSION_HEX < 0x030c0000
#define Py_BUILD_CORE 1
#include <Python.h>
#include <opcode.h>

#include "internal/pycore_dict.h"
#include "internal/pycore_frame.h"
#undef Py_BUILD_CORE
#endif

#include <stdlib.h>
#include <string.h>

#include "kernel_py.h"

#ifdef KTRACE_ON

int ktrace_tool(PyObject *v)
{
	return v && (PyCallable_Check(v) || PyModule_Check(v));
}

/*
 * A dict's value under the exact str `name` (borrowed) without running any
 * code: the trace function must not give student code a moment inside it (a
 * frame's f_lineno can be set from a trace event). A dict with a key that is
 * not an exact str (its __eq__ could be the notebook's) is searched entry by
 * entry instead.
 */
PyObject *ktrace_get(PyObject *d, PyObject *name)
{
	PyObject *k, *v;
	Py_ssize_t pos = 0;

	if (!d || !PyDict_Check(d))
		return NULL;
	if (DK_IS_UNICODE(((PyDictObject *)d)->ma_keys)) {
		v = PyDict_GetItemWithError(d, name);
		PyErr_Clear();
		return v;
	}
	while (PyDict_Next(d, &pos, &k, &v))
		if (k == name || (PyUnicode_CheckExact(k) && PyUnicode_Compare(k, name) == 0))
			return v;
	PyErr_Clear();
	return NULL;
}

/*
 * Drop a reference the tracer held. When it is the last one the object's
 * finalizer would run inside the trace function, where no event is seen:
 * such references are kept until the cell ends.
 */
void ktrace_drop(struct ktrace *t, PyObject *v)
{
	if (!v)
		return;
	if (Py_REFCNT(v) == 1 && t->grave && PyList_Append(t->grave, v) < 0)
		PyErr_Clear();
	Py_DECREF(v);
}

static void set_ref(struct ktrace *t, PyObject **slot, PyObject *v)
{
	PyObject *old = *slot;

	Py_XINCREF(v);
	*slot = v;
	ktrace_drop(t, old);
}

static int find_code(const struct ktrace *t, const PyCodeObject *co)
{
	for (int i = 0; i < t->ncodes; i++)
		if (t->codes[i].code == co)
			return i;
	return -1;
}

static void add_code(struct ktrace *t, PyObject *code, int depth)
{
	PyCodeObject *co = (PyCodeObject *)code;
	PyObject *names, *consts;

	if (!code || !PyCode_Check(code) || t->ncodes >= KT_CODES || find_code(t, co) >= 0)
		return;
	names = co->co_names;
	consts = co->co_consts;
	t->codes[t->ncodes].code = co;
	t->codes[t->ncodes].bytes = PyObject_GetAttrString(code, "co_code");
	if (!t->codes[t->ncodes].bytes || !PyBytes_Check(t->codes[t->ncodes].bytes)) {
		Py_CLEAR(t->codes[t->ncodes].bytes);
		PyErr_Clear();
		return;
	}
	/* code that names nothing (a comprehension over its locals) has nothing to check */
	if (names && PyTuple_GET_SIZE(names) > 0)
		t->ncodes++;
	else
		Py_CLEAR(t->codes[t->ncodes].bytes);
	for (Py_ssize_t i = 0; names && i < PyTuple_GET_SIZE(names); i++) {
		PyObject *n = PyTuple_GET_ITEM(names, i), *ix;

		if (!PyUnicode_CheckExact(n) || PyDict_GetItemWithError(t->index, n))
			continue;
		ix = PyLong_FromSsize_t(PyDict_GET_SIZE(t->index));
		if (!ix || PyDict_SetItem(t->index, n, ix) < 0)
			PyErr_Clear();
		Py_XDECREF(ix);
	}
	for (Py_ssize_t i = 0; depth < 32 && consts && i < PyTuple_GET_SIZE(consts); i++)
		if (PyCode_Check(PyTuple_GET_ITEM(consts, i)))
			add_code(t, PyTuple_GET_ITEM(consts, i), depth + 1);
}

/* What a global read of `name` finds now: the namespace's, else the builtins' (borrowed). */
PyObject *ktrace_lookup(const struct ktrace *t, PyObject *name)
{
	PyObject *v = ktrace_get(t->ns, name);

	return v ? v : ktrace_get(t->builtins, name);
}

static struct kt_name *entry(const struct ktrace *t, PyObject *name)
{
	PyObject *ix = PyDict_GetItemWithError(t->index, name);
	Py_ssize_t i = ix ? PyLong_AsSsize_t(ix) : -1;

	PyErr_Clear();
	return i >= 0 && i < t->nnames ? &t->names[i] : NULL;
}

/*
 * Instructions during which the test hands control to code it calls (a
 * function, a context manager, an iterator, an awaitable, an import, a
 * consumer of its generator): what that code binds is the notebook's, as in
 * nbgrader (a student function's `global count`). During any other
 * instruction (a store, a deletion, an operator) student code only runs
 * uninvited: a finalizer, a weakref callback, a special method.
 */
static int call_op(int op)
{
	switch (op) {
	case PRECALL:
	case CALL:
	case CALL_FUNCTION_EX:
	case BEFORE_WITH:
	case BEFORE_ASYNC_WITH:
	case WITH_EXCEPT_START:
	case GET_ITER:
	case FOR_ITER:
	case SEND:
	case GET_AWAITABLE:
	case YIELD_VALUE:
	case IMPORT_NAME:
		return 1;
	default:
		return 0;
	}
}

/*
 * The names the cell's code uses, compared with what they were last seen
 * holding: a name the test bound itself, or one holding a callable or a
 * module (a tool the test reads), rebound during an instruction that called
 * nothing (`uninvited`) is flagged; rebound inside a call to something else
 * than it was, it is noted for the check at the end.
 */
static void scan(struct ktrace *t, int uninvited)
{
	for (Py_ssize_t i = 0; i < t->nnames; i++) {
		struct kt_name *e = &t->names[i];
		PyObject *cur = ktrace_lookup(t, e->name);
		int watched;

		if (cur == e->acc)
			continue;
		watched = e->own || ktrace_tool(cur) || ktrace_tool(e->acc);
		if (watched && uninvited && !e->flagged) {
			e->flagged = 1;
			kwatch_flag(t->w, "namespace_written", kwatch_str(e->name),
				    "'%s', %s grade cell %ld%s, was rebound by code the test did "
				    "not call (a finalizer, a callback, a special method)",
				    kwatch_str(e->name), e->own ? "bound by" : "read by", t->cell,
				    e->own ? " itself" : "");
		} else if (watched && cur != (e->own ? e->stored : e->start)) {
			set_ref(t, &e->foreign, cur);
		}
		set_ref(t, &e->acc, cur);
	}
}

/* The test's own store (`v`) or deletion (NULL: a read then finds the builtin, if any). */
static void own_name(struct ktrace *t, PyObject *name, PyObject *v)
{
	struct kt_name *e = entry(t, name);

	if (!e)
		return;
	if (!v)
		v = ktrace_get(t->builtins, name);
	e->own = 1;
	set_ref(t, &e->acc, v);
	set_ref(t, &e->stored, v);
	ktrace_drop(t, e->foreign);
	e->foreign = NULL;
}

/* After the test's `from m import *`: what the namespace holds now is the test's. */
static void resync(struct ktrace *t)
{
	t->resync = 0;
	for (Py_ssize_t i = 0; i < t->nnames; i++)
		own_name(t, t->names[i].name, ktrace_lookup(t, t->names[i].name));
}

/* The instruction frame `f` (the cell's code k) is about to run. */
static void checkpoint(struct ktrace *t, PyFrameObject *f, int k)
{
	struct kt_frame *s = NULL;
	_PyInterpreterFrame *fr = f->f_frame;
	const _Py_CODEUNIT *code = (const _Py_CODEUNIT *)PyBytes_AS_STRING(t->codes[k].bytes);
	Py_ssize_t n = PyBytes_GET_SIZE(t->codes[k].bytes) / (Py_ssize_t)sizeof(_Py_CODEUNIT);
	Py_ssize_t i = fr->prev_instr - _PyCode_CODE(fr->f_code), sp = fr->stacktop;
	PyObject *names = fr->f_code->co_names, *name, *tos, *tos1;
	int op, arg = 0, module_level = fr->f_locals == fr->f_globals;

	if (fr->f_globals != t->ns || i < 0 || i >= n)
		return;
	for (int d = t->depth - 1; d >= 0 && !s; d--)
		if (t->stack[d].f == f)
			s = &t->stack[d];
	if (t->resync)
		resync(t);
	kfuncs_check(t->funcs, t->w, "during grade cell", t->cell);
	/*
	 * Something was written since the last checkpoint: during this frame's
	 * last instruction (none yet: its first, or the first after a resume,
	 * control was elsewhere and called it).
	 */
	if (kwatch_dict_version(t->ns) != t->v_ns ||
	    (t->builtins && kwatch_dict_version(t->builtins) != t->v_builtins)) {
		scan(t, s && s->lastop >= 0 && !call_op(s->lastop));
		t->v_ns = kwatch_dict_version(t->ns);
		t->v_builtins = t->builtins ? kwatch_dict_version(t->builtins) : 0;
	}
	/* EXTENDED_ARG: the instruction it extends gets no event of its own */
	while (i < n - 1 && _Py_OPCODE(code[i]) == EXTENDED_ARG)
		arg = (arg | _Py_OPARG(code[i++])) << 8;
	op = _Py_OPCODE(code[i]);
	arg |= _Py_OPARG(code[i]);
	if (s)
		s->lastop = op;
	if (op == LOAD_GLOBAL)
		arg >>= 1;
	if (op == IMPORT_STAR) {
		t->resync = 1;
		return;
	}
	if (!names || arg >= PyTuple_GET_SIZE(names))
		return;
	name = PyTuple_GET_ITEM(names, arg);
	tos = sp >= 1 && sp <= fr->f_code->co_nlocalsplus + fr->f_code->co_stacksize
		  ? fr->localsplus[sp - 1]
		  : NULL;
	tos1 = tos && sp >= 2 ? fr->localsplus[sp - 2] : NULL;
	switch (op) {
	case STORE_NAME:
	case DELETE_NAME:
		if (!module_level)
			break;
		/* fall through */
	case STORE_GLOBAL:
	case DELETE_GLOBAL:
		own_name(t, name, op == STORE_NAME || op == STORE_GLOBAL ? tos : NULL);
		break;
	case LOAD_ATTR:
	case LOAD_METHOD:
	case IMPORT_FROM:
		ktrace_check_attr(t, tos, name);
		break;
	case IMPORT_NAME:
		if (PyUnicode_CheckExact(name))
			ktrace_check_import(t, name);
		break;
	case STORE_ATTR:
		ktrace_own_attr(t, tos, name, tos1);
		break;
	case DELETE_ATTR:
		ktrace_own_attr(t, tos, name, NULL);
		break;
	default:
		break;
	}
}

/*
 * The trace function. The cell's frames get opcode events (switched on again
 * at each of their lines and whenever code they called returns to them, so
 * student code holding one of their frames cannot keep them off); other
 * frames get none.
 */
static int on_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
	struct ktrace *t = PyCapsule_GetPointer(obj, "grader.ktrace");
	PyObject *type, *value, *tb;
	int k;

	(void)arg;
	if (!t || !f) {
		PyErr_Clear();
		return 0;
	}
	PyErr_Fetch(&type, &value, &tb);
	k = find_code(t, f->f_frame->f_code);
	switch (what) {
	case PyTrace_CALL:
		f->f_trace_lines = k >= 0;
		f->f_trace_opcodes = k >= 0;
		if (k >= 0 && t->depth < KT_DEPTH) {
			t->stack[t->depth].f = f;
			t->stack[t->depth++].lastop = -1;
		}
		break;
	case PyTrace_LINE:
		f->f_trace_opcodes = k >= 0;
		break;
	case PyTrace_RETURN:
		for (int d = t->depth - 1; k >= 0 && d >= 0; d--)
			if (t->stack[d].f == f) {
				t->depth = d;
				break;
			}
		if (k >= 0 && !f->f_trace_opcodes && !t->off_flagged) {
			t->off_flagged = 1;
			kwatch_flag(t->w, "namespace_written", NULL,
				    "the checks inside grade cell %ld were switched off by other "
				    "code while the test ran",
				    t->cell);
		} else if (k < 0 && f->f_frame->previous && f->f_frame->previous->frame_obj &&
			   find_code(t, f->f_frame->previous->f_code) >= 0) {
			f->f_frame->previous->frame_obj->f_trace_opcodes = 1;
		}
		break;
	case PyTrace_OPCODE:
		if (k >= 0)
			checkpoint(t, f, k);
		break;
	default:
		break;
	}
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
	return 0;
}

/*
 * The interpreter's frame evaluator while the cell runs (PEP 523): tracing
 * is switched off for the frames of other code the cell's code calls and on
 * again for the cell's own frames, whoever calls them, so that a student
 * function a test calls runs at full speed (3.11 runs every frame of a
 * traced thread unspecialised). Left on while a profile function is set (the
 * watcher's, during an import: it must see every call). Only a specialised
 * `__getitem__` call made by code running untraced does not come through
 * here: a cell's own `__getitem__` method called that way runs untraced
 * (what it changed is seen at the cell's next checkpoint).
 */
static PyObject *eval_frame(PyThreadState *ts, struct _PyInterpreterFrame *fr, int throwflag)
{
	struct ktrace *t = ts->c_tracefunc == on_trace && ts->c_traceobj
			       ? PyCapsule_GetPointer(ts->c_traceobj, "grader.ktrace")
			       : NULL;
	int own, on = ts->cframe->use_tracing != 0;
	_PyInterpreterFrame *back;
	PyObject *r;

	if (!t || ts != t->ts || ts->tracing || ts->c_profilefunc)
		return _PyEval_EvalFrameDefault(ts, fr, throwflag);
	own = find_code(t, fr->f_code) >= 0;
	if (own == on)
		return _PyEval_EvalFrameDefault(ts, fr, throwflag);
	ts->cframe->use_tracing = own ? 255 : 0;
	r = _PyEval_EvalFrameDefault(ts, fr, throwflag);
	/* back in the caller: traced again if it is the cell's (or a profile was set meanwhile) */
	ts->cframe->use_tracing = on || ts->c_profilefunc ? 255 : 0;
	back = ts->cframe->current_frame;
	if (on && back && back->frame_obj && find_code(t, back->f_code) >= 0) {
		back->frame_obj->f_trace_lines = 1;
		back->frame_obj->f_trace_opcodes = 1;
	}
	return r;
}

/* Keep weak references to the functions' code this cell compiled, for later grade cells. */
static void remember(struct ktrace *t)
{
	struct ktrace_codes *e = t->earlier;

	for (int i = 0; e && i < t->ncell; i++) {
		PyCodeObject *co = t->codes[i].code;
		PyObject *ref;

		/* the cell's own body and trailing expression are gone once it ran */
		if (!(co->co_flags & CO_OPTIMIZED))
			continue;
		if (e->n == e->cap) {
			size_t cap = e->cap ? e->cap * 2 : 16;
			PyObject **p = realloc(e->refs, cap * sizeof(*p));

			if (!p)
				return;
			e->refs = p;
			e->cap = cap;
		}
		ref = PyWeakref_NewRef((PyObject *)co, NULL);
		if (ref)
			e->refs[e->n++] = ref;
		PyErr_Clear();
	}
}

/* The earlier grade cells' functions still alive, checked as this cell's; dead ones dropped. */
static void add_earlier(struct ktrace *t)
{
	struct ktrace_codes *e = t->earlier;
	size_t k = 0;

	for (size_t i = 0; e && i < e->n; i++) {
		PyObject *co = PyWeakref_GetObject(e->refs[i]);

		if (co && PyCode_Check(co)) {
			add_code(t, co, 0);
			e->refs[k++] = e->refs[i];
		} else {
			Py_DECREF(e->refs[i]);
		}
	}
	if (e)
		e->n = k;
}

#endif /* KTRACE_ON */

struct ktrace *ktrace_start(struct kwatch *w, int *armed, struct ktrace_codes *earlier,
			    struct kfuncs *funcs, PyObject *ns, PyObject *builtins, PyObject *body,
			    PyObject *expr, long cell)
{
#ifdef KTRACE_ON
	struct ktrace *t = calloc(1, sizeof(*t));
	PyObject *key, *ix;
	Py_ssize_t pos = 0;
	int was;

	if (!t || !w || !ns || !PyDict_Check(ns))
		goto fail;
	t->w = w;
	t->ns = ns;
	t->builtins = builtins && PyDict_Check(builtins) ? builtins : NULL;
	t->cell = cell;
	t->index = PyDict_New();
	t->attrs = PyDict_New();
	t->grave = PyList_New(0);
	t->self = PyCapsule_New(t, "grader.ktrace", NULL);
	if (!t->index || !t->attrs || !t->grave || !t->self)
		goto fail;
	t->earlier = earlier;
	t->funcs = funcs;
	add_code(t, body, 0);
	add_code(t, expr, 0);
	t->ncell = t->ncodes;
	add_earlier(t);
	t->nnames = PyDict_GET_SIZE(t->index);
	t->names = calloc(t->nnames ? (size_t)t->nnames : 1, sizeof(*t->names));
	if (!t->names)
		goto fail;
	while (PyDict_Next(t->index, &pos, &key, &ix)) {
		struct kt_name *e = &t->names[PyLong_AsSsize_t(ix)];

		Py_INCREF(key);
		e->name = key;
		e->start = ktrace_lookup(t, key);
		Py_XINCREF(e->start);
		e->acc = e->start;
		Py_XINCREF(e->acc);
	}
	ktrace_note_modules(t);
	t->v_ns = kwatch_dict_version(ns);
	t->v_builtins = t->builtins ? kwatch_dict_version(t->builtins) : 0;
	PyErr_Clear();
	/* the audit hook refuses sys.settrace to student code; this one is the engine's */
	was = *armed;
	*armed = 0;
	PyEval_SetTrace(on_trace, t->self);
	*armed = was;
	PyErr_Clear();
	t->ts = PyThreadState_Get();
	if (_PyInterpreterState_GetEvalFrameFunc(t->ts->interp) == _PyEval_EvalFrameDefault) {
		_PyInterpreterState_SetEvalFrameFunc(t->ts->interp, eval_frame);
		t->hooked = 1;
	}
	return t;
fail:
	PyErr_Clear();
	ktrace_free(t, NULL);
	return NULL;
#else
	(void)w, (void)armed, (void)earlier, (void)funcs, (void)ns, (void)builtins, (void)body,
	    (void)expr, (void)cell;
	return NULL;
#endif
}

void ktrace_stop(struct ktrace *t, int *armed)
{
#ifdef KTRACE_ON
	int was;

	if (!t)
		return;
	if (t->hooked)
		_PyInterpreterState_SetEvalFrameFunc(t->ts->interp, _PyEval_EvalFrameDefault);
	t->hooked = 0;
	remember(t);
	t->earlier = NULL;
	was = *armed;
	*armed = 0;
	PyEval_SetTrace(NULL, NULL);
	*armed = was;
	PyErr_Clear();
	/*
	 * A tool the test read that code it called had bound is back to what it
	 * was when the cell started: a fake put in place for the test and taken
	 * away before the check after the cell.
	 */
	for (Py_ssize_t i = 0; i < t->nnames; i++) {
		struct kt_name *e = &t->names[i];
		PyObject *base = e->own ? e->stored : e->start, *cur = ktrace_lookup(t, e->name);

		if (!e->foreign || e->flagged)
			continue;
		if (e->foreign != base && cur == base)
			kwatch_flag(t->w, "namespace_written", kwatch_str(e->name),
				    "'%s', %s grade cell %ld%s, was bound by other code while "
				    "the test ran and put back before it ended",
				    kwatch_str(e->name), e->own ? "bound by" : "read by", t->cell,
				    e->own ? " itself" : "");
		/* a callable left over a builtin: the next grade cell's check may never come */
		else if (!e->own && base && cur != base && ktrace_tool(cur) &&
			 base == ktrace_get(t->builtins, e->name))
			kwatch_flag(t->w, "replaced_builtins", kwatch_str(e->name),
				    "the notebook binds '%s' over builtins.%s while grade cell %ld "
				    "runs, from code the test called",
				    kwatch_str(e->name), kwatch_str(e->name), t->cell);
		PyErr_Clear();
	}
#else
	(void)t, (void)armed;
#endif
}

void ktrace_free(struct ktrace *t, int *armed)
{
	if (!t)
		return;
	if (armed)
		ktrace_stop(t, armed);
#ifdef KTRACE_ON
	for (int i = 0; i < t->ncodes; i++)
		Py_CLEAR(t->codes[i].bytes);
	for (Py_ssize_t i = 0; t->names && i < t->nnames; i++) {
		Py_CLEAR(t->names[i].name);
		Py_CLEAR(t->names[i].start);
		Py_CLEAR(t->names[i].acc);
		Py_CLEAR(t->names[i].stored);
		Py_CLEAR(t->names[i].foreign);
	}
#endif
	free(t->names);
	Py_CLEAR(t->index);
	Py_CLEAR(t->attrs);
	Py_CLEAR(t->grave);
	Py_CLEAR(t->self);
	free(t);
	PyErr_Clear();
}
