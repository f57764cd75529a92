/*
 * cmd_nb.c - `grader nb run`: execute notebooks in the sandbox with the
 * embedded interpreter and print per-cell results (a table, or JSON).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "grader/kernel.h"
#include "grader/notebook.h"
#include "grader/util.h"

#define COPY_MAX_BYTES (256ull << 20)
#define COPY_MAX_FILES 2000
#define COPY_MAX_DEPTH 3

/*
 * What the box gets from the notebook's folder: its files and folders a few
 * levels down, nothing hidden, within caps; what cannot be copied is left out.
 */
static const struct gr_copy_opts box_copy = {
    .max_depth = COPY_MAX_DEPTH - 1,
    .max_files = COPY_MAX_FILES,
    .max_bytes = COPY_MAX_BYTES,
    .skip_hidden = true,
    .keep_exec = true,
    .best_effort = true,
};

static void usage(FILE *f)
{
	struct kernel_opts d;

	kernel_opts_init(&d);
	fprintf(f,
		"usage: grader nb run [options] NOTEBOOK...\n"
		"\n"
		"Run the code cells of each notebook (.ipynb, or a percent-format .py script)\n"
		"in the sandbox, in a fresh Python namespace per notebook, and print per-cell\n"
		"results. Each notebook runs in a new temporary directory (/box inside the\n"
		"sandbox) holding a copy of the files next to it (regular files in its folder\n"
		"and subfolders up to depth %d, no hidden ones, at most %llu MiB); the\n"
		"notebook files are never written.\n"
		"\n"
		"options:\n"
		"  --timeout-cell S  time limit per cell, seconds (default %g)\n"
		"  --timeout S       time limit per notebook, seconds (default %g)\n"
		"  --grace S         from a cell's interrupt to its kill, seconds (default %g)\n"
		"  --mem MB          memory limit per notebook, MiB (default %zu)\n"
		"  --preload MOD,... modules imported once, before any notebook (default none)\n"
		"  --seed N          random.seed / numpy.random.seed before each notebook (default "
		"%ld)\n"
		"  --output-cap N    bytes kept of stdout and of stderr per cell (default %zu)\n"
		"  --no-ipython      never use IPython's input transformer (IPython syntax\n"
		"                    becomes no-ops, as when IPython is not installed)\n"
		"  --allow-ctypes    let the real ctypes/cffi load (pandas and scipy run without\n"
		"                    it); student code can then forge results: trusted notebooks\n"
		"  --allow-jit       let a JIT (numba) make memory executable; weakens the same\n"
		"                    guarantee: trusted notebooks only\n"
		"  --slot N          sandbox worker slot (default 0)\n"
		"  --allow-weaker    run even if this host lacks a sandbox protection\n"
		"  --json            print one JSON document (see docs/notebook-engine.md)\n"
		"  --help            show this help\n"
		"\n"
		"Exit status: 0 when every notebook ran (whatever its cells did), 1 when a\n"
		"notebook could not be read or run, 2 on a usage error.\n",
		COPY_MAX_DEPTH, COPY_MAX_BYTES >> 20, d.timeout_cell, d.timeout, d.grace, d.mem_mb,
		d.seed, d.output_cap);
}

static char *dir_of(const char *path)
{
	char *copy = strdup(path), *slash;

	if (!copy)
		return NULL;
	slash = strrchr(copy, '/');
	if (!slash) {
		free(copy);
		return strdup(".");
	}
	if (slash == copy)
		slash[1] = 0;
	else
		*slash = 0;
	return copy;
}

static char *make_box(const char *nbpath, const char *parent, int n)
{
	char *box = NULL, *dir = dir_of(nbpath);
	struct gr_copy_stats st;

	if (!dir)
		return NULL;
	if (asprintf(&box, "%s/nb-%d", parent, n) < 0)
		box = NULL;
	if (box && mkdir(box, 0700) < 0) {
		free(box);
		box = NULL;
	}
	if (box && gr_copy_tree(dir, box, &box_copy, &st, NULL) == 0 && st.capped)
		fprintf(stderr,
			"grader nb: '%s': not every file copied into the box "
			"(limit %u files, %llu MiB)\n",
			dir, COPY_MAX_FILES, COPY_MAX_BYTES >> 20);
	free(dir);
	return box;
}

/* One line: `lead`, then `s` escaped (it comes from the notebook's code). */
static void put_escaped(const char *lead, const char *s)
{
	char *safe = gr_term_escape(s);

	printf("%s%s\n", lead, safe ? safe : "(out of memory)");
	free(safe);
}

static void print_table(const char *path, const struct kernel_result *r)
{
	char head[160];

	snprintf(head, sizeof(head), "%s%s (%zu cells, %.0f ms)%s", kernel_status_name(r->status),
		 r->tampered ? ", TAMPERED" : "", r->ncells, r->wall * 1000,
		 r->message[0] ? ": " : "");
	{
		char *p = gr_term_escape(path);

		printf("%s: ", p ? p : "?");
		free(p);
	}
	put_escaped(head, r->message);
	for (size_t i = 0; i < r->nreplaced; i++)
		put_escaped("  replaced: ", r->replaced[i]);
	for (size_t i = 0; i < r->nflags; i++) {
		char lead[64];

		snprintf(lead, sizeof(lead), "  flag %s: ", r->flags[i].flag);
		put_escaped(lead, r->flags[i].reason);
	}
	for (size_t i = 0; i < r->ncells; i++) {
		const struct kernel_cell_result *c = &r->cells[i];
		char detail[160] = "", lead[64];

		if (c->ename)
			snprintf(detail, sizeof(detail), "%s: %s", c->ename,
				 c->evalue ? c->evalue : "");
		else if (c->result)
			snprintf(detail, sizeof(detail), "%s", c->result);
		detail[strcspn(detail, "\n")] = 0;
		snprintf(lead, sizeof(lead), "  [%zu] %-8s %8.1f ms  ", c->number,
			 kernel_cell_status_name(c->status), c->time * 1000);
		put_escaped(lead, detail);
		if (c->note)
			put_escaped("       note: ", c->note);
	}
}

static const struct cmd_opt run_table[] = {
    {"timeout-cell", 0, 1, 'c'}, {"timeout", 0, 1, 't'},   {"grace", 0, 1, 'g'},
    {"mem", 0, 1, 'm'},		 {"preload", 0, 1, 'p'},   {"seed", 0, 1, 's'},
    {"output-cap", 0, 1, 'o'},	 {"slot", 0, 1, 'S'},	   {"no-ipython", 0, 0, 'I'},
    {"allow-ctypes", 0, 0, 'C'}, {"allow-jit", 0, 0, 'J'}, {"allow-weaker", 0, 0, 'W'},
    {"json", 0, 0, 'j'},	 {"help", 0, 0, 'h'},	   {NULL, 0, 0, 0},
};

/* A number option's value into opts: 0, or 2 after a usage error naming the flag. */
static int set_number(struct kernel_opts *opts, int c, const char *name, const char *arg)
{
	double v;

	if (cmd_parse_double(arg, 0, HUGE_VAL, &v) < 0 ||
	    (c != 'g' && c != 's' && c != 'S' && v == 0)) {
		fprintf(stderr, "grader nb: invalid value '%s' for --%s\n", arg, name);
		return 2;
	}
	if (c == 'c')
		opts->timeout_cell = v;
	else if (c == 't')
		opts->timeout = v;
	else if (c == 'g')
		opts->grace = v;
	else if (c == 'm')
		opts->mem_mb = (size_t)v;
	else if (c == 'o')
		opts->output_cap = (size_t)v;
	else if (c == 'S')
		opts->slot = (unsigned)v;
	else
		opts->seed = (long)v;
	return 0;
}

/*
 * `grader nb run`'s options into opts (*preload holds the preload list's
 * memory, *json the --json flag): -1 to go on with the notebooks at
 * argv[*first], or the exit code (--help, a usage error).
 */
static int parse_run(int argc, char **argv, struct kernel_opts *opts, char ***preload, int *json,
		     int *first)
{
	struct cmd_opts p;
	int c, rc;

	cmd_opts_init(&p, run_table, argc, argv, CMD_OPTS_GETOPT_ERRORS);
	while ((c = cmd_opts_next(&p)) != -1) {
		switch (c) {
		case 'c':
		case 't':
		case 'g':
		case 'm':
		case 'o':
		case 'S':
		case 's':
			if ((rc = set_number(opts, c, p.name, p.arg)))
				return rc;
			break;
		case 'p':
			free(*preload);
			*preload = NULL;
			if (gr_split_list(preload, p.arg) < 0) {
				fprintf(stderr, "grader nb: out of memory\n");
				return 1;
			}
			opts->preload = (const char *const *)*preload;
			break;
		case 'I':
			opts->ipython = 0;
			break;
		case 'C':
			opts->allow_ctypes = 1;
			break;
		case 'J':
			opts->allow_jit = 1;
			break;
		case 'W':
			opts->allow_weaker = 1;
			break;
		case 'j':
			*json = 1;
			break;
		default:
			return cmd_opts_other(&p, c, "grader nb run", usage);
		}
	}
	*first = p.ind;
	if (p.ind >= argc)
		return cmd_usage_error(usage, "grader nb run: no notebook given");
	return -1;
}

/*
 * Run the notebook at `path` in a fresh box `n` under `parent`: its results
 * printed, or appended to `all` (--json). 0, or 1 when it could not be read
 * or run.
 */
static int run_one(kernel *k, const char *path, const char *parent, int n, json_t *all)
{
	struct nb_notebook *nb = NULL;
	struct kernel_result *res = NULL;
	struct gr_err err = {0};
	char *box = NULL;
	int rc = 0;

	if (nb_read_file(&nb, path, &err) < 0) {
		fprintf(stderr, "grader nb: %s\n", err.msg);
		return 1;
	}
	box = make_box(path, parent, n);
	if (!box) {
		fprintf(stderr, "grader nb: cannot create a box for '%s': %s\n", path,
			strerror(errno));
		rc = 1;
	} else if (kernel_run(k, &res, nb, box, &err) < 0) {
		fprintf(stderr, "grader nb: '%s': %s\n", path, err.msg);
		rc = 1;
	} else if (all) {
		json_t *o = kernel_result_json(res);

		if (o) {
			json_object_set_new(o, "notebook", json_string(path));
			json_array_append_new(all, o);
		}
	} else {
		print_table(path, res);
	}
	if (res && res->status == KERNEL_NB_FAILED) {
		fprintf(stderr, "grader nb: '%s': %s\n", path, res->message);
		rc = 1;
	}
	if (box && gr_rm_rf(box, &err) < 0)
		fprintf(stderr, "grader nb: %s\n", err.msg);
	free(box);
	kernel_result_free(res);
	nb_free(nb);
	return rc;
}

static int run_cmd(int argc, char **argv)
{
	struct kernel_opts opts;
	struct gr_err err = {0};
	kernel *k = NULL;
	char **preload = NULL;
	json_t *all = NULL;
	struct gr_workdir work = {.lock_fd = -1};
	const char *tmp = getenv("TMPDIR");
	int json = 0, rc, first = 1;

	kernel_opts_init(&opts);
	if ((rc = parse_run(argc, argv, &opts, &preload, &json, &first)) >= 0)
		goto done;
	rc = 0;
	if (kernel_new(&k, &opts, &err) < 0) {
		fprintf(stderr, "grader nb: %s\n", err.msg);
		rc = 1;
		goto done;
	}
	/* one locked work directory holds the boxes: a killed run's is swept later */
	if (gr_workdir_make(&work, tmp && *tmp ? tmp : "/tmp", "grader-nb", &err) < 0) {
		fprintf(stderr, "grader nb: %s\n", err.msg);
		rc = 1;
		goto done;
	}
	if (work.warning[0])
		fprintf(stderr, "grader nb: warning: %s\n", work.warning);
	all = json ? json_array() : NULL;
	for (int i = first; i < argc; i++)
		if (run_one(k, argv[i], work.path, i, all))
			rc = 1;
	if (json) {
		json_t *doc = json_pack("{s:O}", "notebooks", all);

		if (doc)
			json_dumpf(doc, stdout, JSON_INDENT(1));
		putchar('\n');
		json_decref(doc);
	}
done:
	kernel_free(k);
	if (work.path && gr_workdir_remove(&work, &err) < 0) {
		fprintf(stderr, "grader nb: %s\n", err.msg);
		rc = 1;
	}
	json_decref(all);
	free(preload);
	return rc;
}

int cmd_nb(int argc, char **argv)
{
	int code;

	if (cmd_help_asked(argc, argv, usage, &code))
		return code;
	if (!strcmp(argv[1], "run"))
		return run_cmd(argc - 1, argv + 1);
	return cmd_usage_error(usage, "grader nb: unknown subcommand '%s'", argv[1]);
}
