/*
 * kernel_grade.c - a grade cell's own builtins. Student code can run during
 * a grade cell without a frame of its own on the stack when the pre-test
 * check runs (a garbage-collector callback, a finalizer fired by a refcount
 * inside the test) and undo what it did before the check after the cell: a
 * comparison of values cannot see that. So the grade cell's code reads its
 * builtins from a fresh copy of the builtins the child had before any student
 * code ran, and the dictionary's version tag (bumped by CPython on every
 * write) tells whether the copy or the real builtins were written while the
 * test ran, even when the write was undone.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_py.h"

PyObject *kgrade_pristine(PyObject *builtins_mod)
{
	PyObject *d = builtins_mod && PyModule_Check(builtins_mod) ? PyModule_GetDict(builtins_mod)
								   : builtins_mod;
	PyObject *copy = d && PyDict_Check(d) ? PyDict_Copy(d) : NULL;

	PyErr_Clear();
	return copy;
}

void kgrade_begin(struct kgrade *g, PyObject *pristine, PyObject *builtins_mod, PyObject *ns)
{
	PyObject *real =
	    builtins_mod && PyModule_Check(builtins_mod) ? PyModule_GetDict(builtins_mod) : NULL;

	g->fresh = pristine ? PyDict_Copy(pristine) : NULL;
	if (g->fresh && PyDict_SetItemString(ns, "__builtins__", g->fresh) < 0)
		Py_CLEAR(g->fresh);
	PyErr_Clear();
	g->v_fresh = g->fresh ? kwatch_dict_version(g->fresh) : 0;
	g->v_real = real ? kwatch_dict_version(real) : 0;
}

void kgrade_trace(struct kgrade *g, struct kchild *c, PyObject *ns, PyObject *body, PyObject *expr,
		  long cell)
{
	g->armed = &c->run->z->audit.armed;
	g->trace = ktrace_start(c->run->z->watch, g->armed, &c->test_codes, ns, g->fresh, body,
				expr, cell);
}

void kgrade_end(struct kgrade *g, struct kwatch *w, PyObject *builtins_mod, PyObject *ns, long cell)
{
	PyObject *real =
	    builtins_mod && PyModule_Check(builtins_mod) ? PyModule_GetDict(builtins_mod) : NULL;
	PyObject *type, *value, *tb;
	int written;

	PyErr_Fetch(&type, &value, &tb);
	ktrace_free(g->trace, g->armed);
	g->trace = NULL;
	/* no version tag (CPython 3.12+ reads 0): nothing to compare, the copy still holds */
	written = (g->fresh && kwatch_dict_version(g->fresh) != g->v_fresh) ||
		  (real && kwatch_dict_version(real) != g->v_real);
	if (w && written)
		kwatch_flag(w, "replaced_builtins", "builtins",
			    "builtins written during grade cell %ld", cell);
	if (g->fresh && PyDict_GetItemString(ns, "__builtins__") == g->fresh)
		PyDict_SetItemString(ns, "__builtins__", builtins_mod);
	Py_CLEAR(g->fresh);
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

void kgrade_processes(struct kwatch *w, long cell)
{
	struct dirent *e;
	pid_t self = getpid();
	long n = 0;
	DIR *d;

	if (!w || !(d = opendir("/proc")))
		return;
	while ((e = readdir(d))) {
		char path[64], buf[512], *p;
		long pid = strtol(e->d_name, &p, 10);
		ssize_t len;
		int fd;

		if (*p || pid <= 1 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue; /* gone meanwhile */
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* the state follows the command's closing parenthesis; a zombie runs nothing */
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X')
			n++;
	}
	closedir(d);
	if (n > 0)
		kwatch_flag(w, "background_processes", NULL,
			    "%ld other process%s of the box still running when grade cell %ld "
			    "started",
			    n, n > 1 ? "es" : "", cell);
}
