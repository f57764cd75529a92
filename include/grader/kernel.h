/*
 * kernel.h - the notebook engine: an embedded CPython interpreter that runs
 * the code cells of notebooks in the sandbox and reports per-cell results.
 *
 * kernel_new() forks a zygote process that initialises CPython once (isolated
 * configuration, Debian's /usr prefix), imports the modules to preload, and
 * then waits for requests. kernel_run() sends one notebook to the zygote; the
 * zygote forks a child that enters the sandbox and runs the cells in order in
 * one fresh `__main__` namespace, as a Jupyter kernel would. Nothing one child
 * does is visible to the next. The caller's process never loads Python.
 *
 * Cell results travel from the child over a pipe in records written by C
 * code only, each with a sequence number and an HMAC-SHA256 keyed with a
 * per-run random key; the caller's side verifies them, and anything else
 * (garbage, a missing record, an early end) marks the notebook `tampered`.
 * See docs/notebook-engine.md.
 *
 * The kernel knows nothing of rubrics or scores.
 */
#ifndef GRADER_KERNEL_H
#define GRADER_KERNEL_H

#include <stddef.h>
#include <jansson.h>

#include "grader/notebook.h"
#include "grader/util.h"

enum kernel_cell_status {
	KERNEL_CELL_OK = 0,  /* ran to the end without an exception */
	KERNEL_CELL_ERROR,   /* raised, failed to compile, crashed, or was tampered with */
	KERNEL_CELL_TIMEOUT, /* exceeded the per-cell or the notebook time limit */
	KERNEL_CELL_NOT_RUN, /* never started (an earlier cell ended the run) */
};

enum kernel_status {
	KERNEL_NB_OK = 0,   /* every cell ran (some may have raised) */
	KERNEL_NB_TIMEOUT,  /* a cell was killed or the notebook limit was hit */
	KERNEL_NB_CRASHED,  /* the process died (signal, memory limit, exit) */
	KERNEL_NB_TAMPERED, /* the result channel was corrupted or cut */
	KERNEL_NB_FAILED,   /* the engine or the sandbox failed; nothing is known */
};

struct kernel_opts {
	double timeout_cell; /* seconds per cell (default 30) */
	double timeout;	     /* seconds for the whole notebook (default 300) */
	double grace;	     /* seconds between the soft interrupt and the kill (default 2) */
	size_t mem_mb;	     /* memory limit of one run (default 1024; 0 none) */
	unsigned procs;	     /* processes + threads of one run (default 0: the
				sandbox's default, 64) */
	size_t output_cap;   /* bytes kept of stdout and of stderr per cell (default 65536) */
	const char *const
	    *preload;	  /* modules imported by the zygote (NULL-terminated, may be NULL) */
	long seed;	  /* random.seed / numpy.random.seed before each run (default 0) */
	int ipython;	  /* use IPython's input transformer when importable (default 1) */
	int allow_ctypes; /* let the real ctypes/cffi load (only code that calls C
			     itself needs it; pandas and scipy get an inert ctypes):
			     student code can then read and write interpreter memory,
			     so results become forgeable (default 0; docs/security.md) */
	int allow_jit;	  /* lift the sandbox's W^X for a JIT (numba): code the box
			     wrote can then run (default 0; docs/security.md) */
	unsigned slot;	  /* sandbox worker slot (uid, cgroup) */
	int allow_weaker; /* run even if a sandbox protection is missing */
	const char *const *ro_paths; /* extra read-only host paths for the sandbox */
};

struct kernel_cell_result {
	size_t index;  /* position of the cell in the notebook (or source list) */
	size_t number; /* execution count: 1-based among code cells; "<cell N>" */
	enum kernel_cell_status status;
	char *ename, *evalue;		 /* exception type name and str(); NULL when ok */
	char *traceback;		 /* the student's own frames only; NULL when ok */
	char *out, *err;		 /* captured stdout, stderr (each capped); never NULL */
	size_t out_dropped, err_dropped; /* bytes beyond the cap */
	char *result;	 /* text/plain repr of a trailing expression; NULL if none */
	char *note;	 /* e.g. IPython syntax replaced by no-ops; NULL if none */
	double time;	 /* seconds */
	json_t *outputs; /* the cell's outputs as nbformat 4 writes them, in order:
			    stream (stdout, stderr), display_data (display(), figures
			    left open, with images), execute_result, error; owned,
			    [] when the cell did not run */
};

/* A finding of the monkeypatch watcher, for the marker. */
struct kernel_flag {
	char *flag;   /* "replaced_builtins", "shadowed_module", "namespace_written", ... */
	char *reason; /* one line naming what was replaced, e.g.
			 "numpy.allclose rebound (cell 3)" */
};

struct kernel_result {
	enum kernel_status status;
	int tampered;  /* the result channel was not trustworthy */
	int timed_out; /* a time limit was hit */
	size_t ncells;
	struct kernel_cell_result *cells; /* one per code cell, in order */
	size_t nreplaced;
	char **replaced; /* builtins / preloaded module attributes student code rebound,
			    e.g. "builtins.len", "numpy.allclose" */
	size_t nflags;
	struct kernel_flag *flags; /* what student code did to the system's modules, or threads it
				      left running into a grade cell (no duplicates) */
	double wall;		   /* seconds, fork to exit */
	long max_rss_kb;	   /* -1 when unknown */
	char message[256];	   /* why the run ended early; "" when it did not */
};

typedef struct kernel kernel;

/* Fill `opts` with the defaults documented above. No allocation. */
void kernel_opts_init(struct kernel_opts *opts);

/*
 * Start the zygote: fork, initialise CPython, import opts->preload. Fails with
 * GR_ENOTFOUND naming a module that cannot be imported, GR_ESYS when Python or
 * the sandbox cannot start. `opts` (and what it points to) must outlive `*out`.
 */
int kernel_new(kernel **out, const struct kernel_opts *opts, struct gr_err *err);

/* Stop the zygote and free the kernel. NULL is a no-op. */
void kernel_free(kernel *k);

/*
 * Run the code cells of `nb` in a fresh child confined to `workdir` (which
 * appears at /box, the current directory; the caller fills it). Cells marked
 * as nbgrader autograder tests (grade, not solution) are grade cells: the
 * monkeypatch watcher checks right before each. On success
 * *out holds a result whatever happened to the student code (a crash or a
 * forgery is a result, not an error); returns negative only when the engine
 * itself failed. The caller frees *out with kernel_result_free().
 */
int kernel_run(kernel *k, struct kernel_result **out, const struct nb_notebook *nb,
	       const char *workdir, struct gr_err *err);

/* Same with plain cell sources (cell i has index i). */
int kernel_run_sources(kernel *k, struct kernel_result **out, const char *const *sources, size_t n,
		       const char *workdir, struct gr_err *err);

void kernel_result_free(struct kernel_result *res);

/* "ok", "error", "timeout", "not_run" / "ok", "timeout", "crashed", "tampered", "failed" */
const char *kernel_cell_status_name(enum kernel_cell_status st);
const char *kernel_status_name(enum kernel_status st);

/*
 * The result as a new jansson object (shape in docs/notebook-engine.md):
 * {"status", "tampered", "timed_out", "wall", "max_rss_kb", "message",
 *  "replaced": [..], "flags": [{"flag", "reason"}], "cells": [{"index", "number", "status",
 * "ename", "evalue", "traceback", "stdout", "stderr", "stdout_dropped", "stderr_dropped", "result",
 * "note", "time", "outputs"}]}. NULL on allocation failure.
 */
json_t *kernel_result_json(const struct kernel_result *res);

#endif
