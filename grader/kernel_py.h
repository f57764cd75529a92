/*
 * kernel_py.h - internals of the notebook engine that touch CPython; only the
 * zygote and its children use them (the caller's process never loads Python).
 */
#ifndef GRADER_KERNEL_PY_H
#define GRADER_KERNEL_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <jansson.h>

#include "kernel_int.h"

/* The Python helper module's source: grader/kernel_helper.py, embedded by the build. */
extern const char kernel_py_source[];

/* Identities of preloaded names, taken by the zygote (kernel_audit.c). */
struct ksnap_dict {
	PyObject *dict;     /* a module's or a class's namespace (owned reference) */
	char *prefix;       /* "numpy", "pandas.DataFrame" (heap) */
	uint64_t version;   /* dict version tag when taken */
	size_t first, count; /* its entries in ksnap.ents */
};

struct ksnap_ent {
	PyObject *key, *val; /* owned references */
};

struct ksnap {
	struct ksnap_dict *dicts;
	size_t ndicts, capd;
	struct ksnap_ent *ents;
	size_t nents, cape;
};

/* State of the audit hook; `armed` is set in the child before student code. */
struct kaudit {
	int armed;
	int allow_ctypes;   /* the course needs ctypes (scipy): weaker, documented */
	char blocked[160];  /* the last refused event, for the cell's note */
};

/* The zygote: an initialised interpreter, inherited by every child. */
struct kzy {
	const struct kernel_opts *opts;
	PyObject *ns;       /* globals of the helper module */
	PyObject *io_open;  /* io.open, held from before any student code */
	PyObject *out, *err; /* stream objects on fds 1 and 2, made once for every child */
	struct ksnap snap;
	struct kaudit audit;
};

/* One run: built by the zygote, copied into the child by fork. */
struct krun {
	struct kzy *z;
	unsigned char key[KCHAN_KEY_LEN];
	PyObject *sources;  /* list of str */
	double timeout_cell, timeout, grace;
	long seed;
	size_t cap;
	int ipython;
};

/* kernel_py.c */
int kpy_start(struct kzy *z, const struct kernel_opts *opts, char *msg, size_t msglen);
/* Import IPython's transformer into the zygote when these sources need it. */
void kpy_maybe_ipython(struct kzy *z, PyObject *sources);
/* The current Python exception as "Type: message" (cleared). */
void kpy_exc_message(char *buf, size_t len);

/* kernel_audit.c */
int ksnap_take(struct ksnap *s);
/* Add to `names` (a JSON array, no duplicates) every snapshot name rebound since. */
void ksnap_check(struct ksnap *s, json_t *names);
int kaudit_install(struct kaudit *a, int allow_ctypes);

/* kernel_child.c: sbx_run_fn's function; arg is a struct krun. */
int kernel_child_main(void *arg);

#endif
