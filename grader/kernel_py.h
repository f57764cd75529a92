/*
 * kernel_py.h - internals of the notebook engine that touch CPython; only the
 * zygote and its children use them (the caller's process never loads Python).
 */
#ifndef GRADER_KERNEL_PY_H
#define GRADER_KERNEL_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>

#include "kernel_int.h"

/* The Python helper module's source: grader/kernel_helper.py, embedded by the build. */
extern const char kernel_py_source[];

/* State of the audit hook; `armed` is set in the child before student code. */
struct kaudit {
	int armed;
	int allow_ctypes;      /* the course needs ctypes (scipy): weaker, documented */
	int allow_fork;	       /* set in the child once forked processes cannot use the channel */
	char blocked[160];     /* the last refused event of student code, for the cell's note */
	char lib_blocked[160]; /* the last refused of a library (which may fall back): noted
				  only when the cell failed */
	struct kwatch *watch;  /* told of object.__setattr__ events */
	/*
	 * The code objects of hidden-test cells and the code nested in them
	 * (owned, so that an address is never reused): no student code may read
	 * them, their constants being the expected values.
	 */
	PyObject **hidden;
	size_t nhidden, caphidden;
	int in_hidden;	/* a cell holding hidden tests is running */
	int has_hidden; /* the run has cells holding hidden tests */
};

/*
 * The notebook's event loop (kernel_loop.c): the class and its
 * run_until_complete are the zygote's references, the loop is made in the
 * child at its first use.
 */
struct kloop {
	PyObject *cls;	       /* asyncio.SelectorEventLoop */
	PyObject *run;	       /* its run_until_complete (a function of the class) */
	PyObject *close;       /* its close */
	PyObject *set_running; /* asyncio.events._set_running_loop */
	PyObject *set_loop;    /* asyncio.events.set_event_loop */
	PyObject *loop;	       /* the notebook's loop, or NULL */
	PyTypeObject *type;    /* its class when made */
	PyObject *snap;	       /* a copy of its attributes when made */
};

/* The zygote: an initialised interpreter, inherited by every child. */
struct kzy {
	const struct kernel_opts *opts;
	PyObject *ns;	   /* globals of the helper module: only the zygote's code and
			      _prepare() (before student code) run with them */
	PyObject *pub;	   /* globals of the helper's second copy, whose functions and
			      classes the notebook gets (display, get_ipython): student
			      code can reach and rebind them; nothing that decides a
			      result reads them */
	PyObject *io_open; /* io.open, held from before any student code */
	/*
	 * The helper's hooks around a cell, held from before any student code:
	 * student code can rebind names in the helper's dict (a helper
	 * function's __globals__ is that dict), never these references.
	 */
	PyObject *pre_cell, *post_cell;
	struct kloop loop;
	PyObject *out, *err; /* stream objects on fds 1 and 2, made once for every child */
	struct kwatch *watch;
	struct kaudit audit;
	json_t *cells;	    /* kernel_cells.c: the rubric's cells as prepared before */
	size_t cells_bytes; /* what they hold */
};

/*
 * One cell as the zygote prepared it, in C memory only: no cell exists as a
 * Python object in the child before its turn (student code could find it).
 */
struct kcell {
	char *code;		   /* the text run (IPython syntax transformed), for tracebacks */
	char *body;		   /* its statements, compiled as 'exec' */
	char *expr;		   /* its trailing expression, compiled as 'eval', or NULL */
	char *note;		   /* or NULL */
	char *ename, *evalue, *tb; /* a syntax error found in the zygote, or NULL */
	char *imports;		   /* what its import statements bind: "NAME MODULE NATURAL\n"
				      lines (kernel_helper.py's _imports), or NULL */
};

/* One run: built by the zygote, copied into the child by fork. */
struct krun {
	struct kzy *z;
	unsigned char key[KCHAN_KEY_LEN];
	struct kcell *cells;
	size_t ncells;
	double timeout_cell, timeout, grace;
	long seed;
	size_t cap;
	int ipython;
	unsigned char *grade; /* grade[i]: bit 0, cell i is a grade cell; bit 1, it holds hidden
				 tests; bit 2, it is locked (NULL: none is) */
};

/* The child's stdout and stderr capture (kernel_capture.c). */
struct kcap_stream {
	int rfd;
	char *buf;
	size_t len, size, dropped;
};

struct kcap {
	pthread_mutex_t lock;
	pthread_t thread;
	size_t cap; /* bytes kept of each stream per cell */
	struct kcap_stream s[2];
};

/* Pipes on KFD_OUT/KFD_ERR (write) and KFD_OUT_R/KFD_ERR_R (read), and the thread; GR_ESYS. */
int kcap_start(struct kcap *k, size_t cap);
void kcap_reset(struct kcap *k);
/* Stream i's (0 stdout, 1 stderr) output since the last reset or take, as a JSON string. */
json_t *kcap_take(struct kcap *k, int i, size_t *dropped);
/* Bytes of stream i kept since the last reset or take (what a display() follows). */
size_t kcap_pos(struct kcap *k, int i);

/* kernel_py.c */
int kpy_start(struct kzy *z, const struct kernel_opts *opts, char *msg, size_t msglen);
/*
 * Prepare the cells of a run from `sources` (a JSON array of strings) in the
 * zygote: run->cells, run->ncells, run->ipython. No Python object of them
 * survives the call. GR_ENOMEM, GR_ESYS with `err` set.
 */
int kpy_prepare_cells(struct kzy *z, struct krun *run, json_t *sources, struct gr_err *err);
/*
 * kernel_cells.c: the zygote's cache of the rubric's cells (run->grade bits
 * 1 and 4), by text, position and IPython use. kcache_get fills `c` from a
 * cached preparation: 1, or 0 when there is none. kcache_needs: whether the
 * text needs IPython's transformer, -1 when not known.
 */
int kcache_get(struct kzy *z, size_t n, int ipython, json_t *src, struct kcell *c);
void kcache_put(struct kzy *z, size_t n, int ipython, json_t *src, const struct kcell *c);
int kcache_needs(struct kzy *z, json_t *src);
void kcache_set_needs(struct kzy *z, json_t *src, int needs);
void kpy_cells_free(struct kcell *cells, size_t n);
/* Free one cell's texts (in the child, once it ran). */
void kpy_cell_clear(struct kcell *c);
/* The current Python exception as "Type: message" (cleared). */
void kpy_exc_message(char *buf, size_t len);

/* kernel_loop.c: the zygote's references (0, or -1 when asyncio is unusable) */
int kloop_init(struct kloop *l);
/* Mark the loop running in this thread (`on`) or not, making it at its first use. */
void kloop_mark(struct kloop *l, int on);
/*
 * Run a top-level-await cell's coroutine to its end; a changed loop is flagged
 * and replaced. A grade cell's (`grade`) runs on a loop of its own.
 */
PyObject *kloop_run(struct kloop *l, struct kwatch *w, PyObject *coro, int grade);

/* kernel_audit.c */
int kaudit_install(struct kaudit *a, int allow_ctypes);
/* Code object `code` (and the code nested in it) is a hidden test's: refused to student code. */
void kaudit_hide(struct kaudit *a, PyObject *code);
/* kernel_frames.c: the audit events that reach code objects; 0, or -1 refused (error set). */
int kaudit_frames(struct kaudit *a, const char *event, PyObject *args);

/* ---- the monkeypatch watcher's state (kernel_watch.c, kernel_watch_mods.c) ---- */

#define KW_DEPTH 64

struct kw_rec {
	PyObject *owner;    /* the module or the class (owned) */
	PyObject *dict;	    /* its namespace (owned) */
	PyObject *snap;	    /* the namespace as last accepted (owned copy) */
	PyTypeObject *type; /* modules: the type when accepted */
	uint64_t version;
	uint64_t keys_version; /* the version when its keys were last found plain strs */
	char *name;	       /* "numpy", "pandas.DataFrame" (heap) */
	int is_class;
};

struct kw_wrap {
	PyObject *fn, *wrapped; /* owned */
	char *name;
	PyObject *dict;	  /* fn's __dict__ when last compared (only compared, never read) */
	uint64_t version; /* its version then */
};

/* A dict as last found unchanged: the same object at the same version (only compared). */
struct kw_seen {
	PyObject *dict;
	uint64_t version;
};

struct kwatch {
	struct kw_rec *recs;
	size_t nrecs, caprecs;
	struct kw_wrap *wraps;
	size_t nwraps, capwraps;
	PyObject *known;	 /* sys.modules name -> module, every entry seen */
	PyObject *seen;		 /* ids of the namespaces watched */
	PyObject *shadows;	 /* names to give back their system module before a grade cell */
	PyObject *forged;	 /* names whose sys.modules entry was put there by hand */
	PyObject *originals;	 /* name -> the system's module a forged entry replaced */
	PyObject *builtins;	 /* builtins.__dict__ */
	PyObject *stdlib;	 /* sys.stdlib_module_names */
	PyObject *syspath;	 /* the system's entries of sys.path (list) */
	PyObject *find_spec;	 /* importlib.machinery.PathFinder.find_spec */
	PyObject *from_spec;	 /* importlib.util.module_from_spec */
	PyObject *orig_load;	 /* the import system's own _find_and_load */
	PyObject *wrapped_key;	 /* "__wrapped__", interned */
	PyObject *nsmods;	 /* name -> the system module the notebook bound it to first */
	PyObject *nsbind;	 /* name -> (id of its value, cell that bound it) */
	PyObject *closures;	 /* [(closure, its cells' contents as accepted, name)] */
	PyObject *closure_seen;	 /* ids of the functions in closures */
	PyObject *base_hooks[3]; /* sys.meta_path, sys.path_hooks, gc.callbacks in the zygote */
	PyObject *nsimports;	 /* name -> (module's full name, natural): what the notebook's
				    import statements bound (kguard_note_imports) */
	PyObject *dropped;	 /* entries removed for keys that are not plain strs (kept: no
				    __del__ of theirs runs before the test) */
	/* kguard_keys: the dicts last found holding plain-str keys only */
	struct kw_seen keys_ns, keys_builtins, keys_modules, keys_types_of;
	struct kw_seen *keys_types; /* the builtin types' dicts, by keys_types_of's builtins */
	PyTypeObject **types;	    /* those types */
	size_t ntypes, captypes;
	int student_ran; /* code of the notebook's ran during the current import */
	int profiling;	 /* the watcher itself is setting its profile function */
	PyObject *stack[KW_DEPTH];
	int depth;
	unsigned long nonsys; /* modules loaded from outside the system so far */
	uint64_t modules_version;
	const int *armed; /* the audit hook's: student code may be running */
	long cell;	  /* 1-based cell being run, 0 before the first */
	json_t *flags;	  /* [{"flag", "reason", "name"}], every finding */
	size_t sent;	  /* flags[0..sent) already reported */
	struct stat box;  /* the working directory when last scanned */
};

/* kernel_watch.c, shared with kernel_watch_mods.c */
/* Record a finding (once; at most 200); control characters in the reason become '?'. */
/*
 * kernel_guard.c, right before a grade cell: Python signal handlers and
 * interval timers disarmed and flagged (first, so no handler runs during the
 * checks); then names the compiled test reads that the notebook bound over a
 * builtin, flagged.
 */
void kguard_signals(struct kwatch *w, PyObject *sigmod, long cell, int own_signal,
		    PyObject *own_handler, int collect);
void kguard_shadowed(struct kwatch *w, PyObject *code, PyObject *ns, long cell);
/*
 * Keys that are not exact strs (a str subclass with its own __eq__/__hash__
 * equal to 'abs', any other object) in the notebook's namespace, the
 * builtins, sys.modules and every watched namespace: flagged with the key,
 * and removed, so that a lookup by the test finds what the checks saw. Runs
 * after every cell and right before each grade cell, before any other check
 * looks a name up in those dicts (a crafted key's __eq__ would run).
 */
void kguard_keys(struct kwatch *w, PyObject *ns);
/*
 * In the zygote, once its modules are loaded: the dicts found clean now are
 * not walked again by a child's kguard_keys until they change (nothing is
 * flagged or removed here: a dict that is not clean is left to the child).
 */
void kguard_keys_prime(struct kwatch *w);
/* What a cell's import statements bound (kcell.imports' lines), for the module checks. */
void kguard_note_imports(struct kwatch *w, const char *lines);
/*
 * After each cell: which names of the notebook's namespace hold a system
 * module (what a test reading that name expects) and in which cell each name
 * got its current value (for the reasons).
 */
void kguard_note_ns(struct kwatch *w, PyObject *ns, long cell);
/*
 * Finders, path hooks or garbage-collector callbacks that are the notebook's
 * (not in the zygote's lists, no system object): 1 when there is one. With
 * `remove` (right before grade cell `cell`) each is flagged and removed, and
 * the finders they made for sys.path entries with them.
 */
int kguard_foreign_hooks(struct kwatch *w, long cell, int remove);
/* Remember the zygote's lists (kwatch_start). */
void kguard_hooks_base(struct kwatch *w);
/*
 * An object of the system's: a function of a system file, a builtin, a class
 * whose methods are all the system's or an instance of one with no function
 * of its own; no code of it runs.
 */
int kguard_system_object(PyObject *o);

void kwatch_flag(struct kwatch *w, const char *flag, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A str's UTF-8, or "?" (borrowed). */
const char *kwatch_str(PyObject *s);
/* A file of the system's Python (under /usr/lib/python3*, /usr/local/lib/python3*). */
int kwatch_trusted(const char *file);
uint64_t kwatch_dict_version(PyObject *d);
/* Watch a system module: its namespace, the classes it defines, its wrapped functions. */
void kwatch_add_module(struct kwatch *w, const char *mname, PyObject *mod);

/* kernel_watch_mods.c: which modules are the system's; sys.modules and the box */
/* 1 loaded from the system, 0 from elsewhere, -1 made in memory; no student code runs. */
int kwatch_module_origin(PyObject *mod);
int kwatch_system_module(PyObject *mod);
/* `name` is the name of a module the system has (whether loaded or not). */
int kwatch_system_name(struct kwatch *w, PyObject *name);
/* The module is still running its own import. */
int kwatch_initializing(PyObject *mod);
/*
 * `v` is a callable of the system's from the same top-level package as module
 * `mod` (a library's lazy set-up), read without running any of its code.
 */
int kwatch_own_callable(const char *mod, PyObject *v);
/* New or replaced sys.modules entries: watch the system's, flag hand-made or shadowing ones. */
void kwatch_check_modules(struct kwatch *w, int flagging);
/* Submission files in the working directory named like a system module. */
void kwatch_scan_box(struct kwatch *w);
/* The same in sys.path's entries that are neither the system's nor the working directory. */
void kwatch_scan_path(struct kwatch *w);
/* Make sys.modules[name] the system's module again. */
void kwatch_restore(struct kwatch *w, PyObject *name);

/* kernel_grade.c: a grade cell's builtins, a fresh copy, and writes to them while it runs */
struct kgrade {
	PyObject *fresh; /* the copy the grade cell reads, owned */
	uint64_t v_fresh, v_real;
	struct ktrace *trace; /* the checkpoints inside the cell (kernel_trace.c), or NULL */
	int *armed;	      /* the audit hook's flag (the trace function is set from C) */
};
/* A copy of the builtins' namespace, taken before student code runs (new reference or NULL). */
PyObject *kgrade_pristine(PyObject *builtins_mod);
/* Give the namespace a fresh copy of `pristine` as __builtins__; note both versions. */
void kgrade_begin(struct kgrade *g, PyObject *pristine, PyObject *builtins_mod, PyObject *ns);
/*
 * Processes of the box other than the notebook process and the box's init
 * still running (not zombies) when grade cell `cell` starts: flagged
 * `background_processes` (a child can signal the notebook while the test runs).
 */
void kgrade_processes(struct kwatch *w, long cell);
struct kchild;
/*
 * Last before the test's code runs: the checkpoints inside the cell (its code
 * objects `body` and `expr`, which may be NULL), kernel_trace.c.
 */
void kgrade_trace(struct kgrade *g, struct kchild *c, PyObject *ns, PyObject *body, PyObject *expr,
		  long cell);
/*
 * Stop the checkpoints and flag what they found; flag a write to the copy or
 * the real builtins since kgrade_begin; put the real ones back.
 */
void kgrade_end(struct kgrade *g, struct kwatch *w, PyObject *builtins_mod, PyObject *ns,
		long cell);

/*
 * kernel_trace.c: while grade cell `cell` runs, a C trace function with opcode
 * events for the cell's own code objects only; before each instruction that
 * reads a global name or a module's attribute, what it is about to read is
 * compared with what the test itself stored there or what was there when the
 * cell started. NULL when it cannot run (not CPython 3.11, no memory).
 */
struct ktrace;
/*
 * The code of functions earlier grade cells defined (a helper a later test
 * calls is checked as the test's own), as weak references: a hidden test's
 * code lives no longer than what it defined.
 */
struct ktrace_codes {
	PyObject **refs; /* owned weak references */
	size_t n, cap;
};
/* A function a locked cell defined, as it was made (references owned). */
struct kfunc {
	PyObject *fn, *code, *defaults, *kwdefaults, *closure, *cells;
	long cell, flagged; /* the cell that made it; the grade cell that last found it changed */
};
struct kfuncs {
	struct kfunc *f;
	size_t n, cap;
};
/*
 * The functions locked cell `cell` (its code `body`) bound in `ns`, noted;
 * kfuncs_check flags those whose code, defaults, keyword defaults or closure
 * cells are no longer what they were made with (`when`: where it was found).
 */
void kfuncs_note(struct kfuncs *fs, PyObject *ns, PyObject *body, long cell);
void kfuncs_check(struct kfuncs *fs, struct kwatch *w, const char *when, long cell);

/*
 * The checkpoints' state, shared by kernel_trace.c (the trace function, the
 * names) and kernel_trace_attr.c (attributes, imports). They run on CPython
 * 3.11 only (KTRACE_ON: its frame layout); elsewhere ktrace_start gives NULL.
 */
#if PY_VERSION_HEX >= 0x030b0000 && PY_VERSION_HEX < 0x030c0000
#define KTRACE_ON 1
#endif
/* Most code objects of one grade cell traced, modules looked into at its start, frames deep. */
#define KT_CODES 256
#define KT_MODS 64
#define KT_DEPTH 256

struct kt_code {
	PyCodeObject *code; /* borrowed: the cell's code objects live until kgrade_end */
	PyObject *bytes;    /* its instructions unspecialised (co_code), owned */
};

/* A global name the cell's code reads or writes; every reference owned. */
struct kt_name {
	PyObject *name;
	PyObject *start;   /* its value when the cell started (namespace, then builtins), or NULL */
	PyObject *stored;  /* what the test itself last stored (own), or NULL */
	PyObject *acc;	   /* the value as last seen, or NULL (unbound) */
	PyObject *foreign; /* the last value other code bound it to inside a call of the test's */
	int own;	   /* the test itself stored or deleted it */
	int flagged;
};

/* A frame of the cell's code running, and its last instruction (-1: none yet). */
struct kt_frame {
	PyFrameObject *f;
	int lastop;
};

struct ktrace {
	struct kwatch *w;
	PyObject *ns, *builtins; /* borrowed: the namespace and the builtins the test reads */
	long cell;
	struct kt_code codes[KT_CODES];
	int ncodes;
	struct kt_name *names;
	Py_ssize_t nnames;
	PyObject *index;	   /* name -> its index in names */
	PyObject *attrs;	   /* (id of a module, name) -> (module, the value last accepted) */
	PyObject *grave;	   /* references whose release could run code inside the tracer */
	PyObject *self;		   /* the capsule the trace function gets */
	uint64_t v_ns, v_builtins; /* their version tags at the last scan */
	struct kt_frame stack[KT_DEPTH];
	int depth;
	int resync; /* a `from m import *` of the test ran: accept what it bound */
	int off_flagged;
	int hooked;	   /* eval_frame below is the interpreter's frame evaluator */
	PyThreadState *ts; /* the thread the cell runs in */
	struct ktrace_codes *earlier;
	struct kfuncs *funcs; /* the locked cells' functions, checked at each checkpoint */
	int ncell;	      /* codes[0..ncell) are this cell's, the rest earlier cells' */
};
/* A callable or a module: a tool the test reads. */
int ktrace_tool(PyObject *v);
/* d's value under the exact str `name` (borrowed), found without running any code. */
PyObject *ktrace_get(PyObject *d, PyObject *name);
/* Release a reference; a last one is kept until the cell ends (its finalizer). */
void ktrace_drop(struct ktrace *t, PyObject *v);
/* What a global read of `name` finds now: the namespace's, else the builtins' (borrowed). */
PyObject *ktrace_lookup(const struct ktrace *t, PyObject *name);
/*
 * kernel_trace_attr.c. _note_modules, at the cell's start: the modules its
 * names lead to and their attributes (and system classes') it names.
 * _check_attr: before the test's instruction reads owner.name (flagged when
 * a tool was replaced); _own_attr: the test's own store (v) or deletion
 * (NULL); _check_import: before the test's `import name` (a forged
 * sys.modules entry flagged and the system's module put back).
 */
void ktrace_note_modules(struct ktrace *t);
void ktrace_check_attr(struct ktrace *t, PyObject *owner, PyObject *name);
void ktrace_own_attr(struct ktrace *t, PyObject *owner, PyObject *name, PyObject *v);
void ktrace_check_import(struct ktrace *t, PyObject *name);
struct ktrace *ktrace_start(struct kwatch *w, int *armed, struct ktrace_codes *earlier,
			    struct kfuncs *funcs, PyObject *ns, PyObject *builtins, PyObject *body,
			    PyObject *expr, long cell);
/* Remove the trace function and flag a tool that was faked and put back before the end. */
void ktrace_stop(struct ktrace *t, int *armed);
/* Free (stopping it first when `armed` is given); NULL is a no-op. */
void ktrace_free(struct ktrace *t, int *armed);

/* ---- the child (kernel_child.c, kernel_child_rec.c) ---- */

/* Most bytes kept of a result's repr, an exception's name or message, a traceback. */
#define KFIELD_MAX (1u << 20)

/* One run's state in the child, shared by its main thread and its watchdog. */
struct kchild {
	struct krun *run;
	uint32_t seq;
	pthread_mutex_t wlock; /* one record at a time on the channel */
	pthread_mutex_t lock;  /* the watchdog's state below */
	pthread_cond_t cond;
	pthread_t main_thread;
	long cell; /* cell being worked on, -1 before the first */
	double soft, hard, nb_deadline;
	int fired;	      /* 0, 1 cell limit, 2 notebook limit: for `cell` */
	const char *src;      /* the running cell's text, for traceback lines */
	PyObject *out, *err;  /* this cell's sys.stdout / sys.stderr */
	PyObject *builtins;   /* __main__'s __builtins__ as _prepare() set it */
	PyObject *sigmod;     /* the signal module, imported before student code */
	PyObject *pristine;   /* builtins' namespace before student code ran (kernel_grade.c) */
	PyObject *on_timeout; /* the engine's Python handler of KSIG_TIMEOUT (_prepare's) */
	struct kcap cap;      /* fds 1 and 2 */
	pid_t pid;	      /* this process: a process it forks sends nothing */
	unsigned char *key;   /* the run's key, on a page wiped in any forked process */
	size_t spent;	      /* output bytes the notebook's records carried (kchild_budget) */
	char cut[256];	      /* what of this cell's record was truncated, for its note */
	int future;	      /* __future__ features of the cells run so far (compile flags) */
	struct ktrace_codes test_codes; /* kernel_trace.c */
	struct kfuncs funcs;		/* kernel_grade.c */
};

/* kernel_child.c: sbx_run_fn's function; arg is a struct krun. */
int kernel_child_main(void *arg);

/* kernel_child_rec.c: the parts of a cell's record */
/* str `o` as JSON, cut to the output cap (noted in c->cut as `what`) when `what` is given. */
json_t *kchild_text(struct kchild *c, PyObject *o, const char *what);
/* Fill ename/evalue/traceback of `res` from the pending exception (cleared). */
void kchild_exception(struct kchild *c, json_t *res);
/* Give the helper _cap_pos(): the capture's positions, for display records. */
void kchild_expose_cap_pos(struct kchild *c);
/* The cell's display() calls and figures as a JSON array, then forgotten; *bytes their text. */
json_t *kchild_displays(struct kchild *c, size_t *bytes);
/* A notebook's output budget: 16 times the output cap (at most 4 MiB), at least 16 MiB. */
#define KNB_BUDGET(cap) ((cap)*16 > ((size_t)16 << 20) ? (cap)*16 : ((size_t)16 << 20))
/* Past `budget` bytes for the notebook, the cell's outputs are dropped from `res` (noted). */
void kchild_budget(struct kchild *c, json_t *res, size_t displays, size_t budget);
/* The watcher's new findings into res's "flags", the names they concern into `replaced`. */
void kchild_flags(struct kchild *c, json_t *res, json_t *replaced);
/* The cell's "note": the helper's `note`, IPython's `notes`, the audit hook's refusal, cuts. */
void kchild_notes(struct kchild *c, json_t *res, const char *note, PyObject *notes);

#endif
