/*
 * cmd_rubric.c - `grader rubric import|release|public|check`: build a rubric
 * from nbgrader instructor notebooks, hand out the student version, publish
 * the tests students may see, and validate rubrics.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grader/batch.h"
#include "grader/rubric.h"

static const char USAGE[] =
    "usage: grader rubric import SOURCE.ipynb... --assignment NAME [options] [-o RUBRIC.json]\n"
    "       grader rubric release RUBRIC.json -o DIR\n"
    "       grader rubric public RUBRIC.json [-o PUBLIC.json]\n"
    "       grader rubric check [--validate] RUBRIC.json...\n"
    "\n"
    "import: build a rubric from nbgrader source notebooks (schema 3 metadata,\n"
    "### BEGIN/END SOLUTION, ### BEGIN/END HIDDEN TESTS), checked with nbgrader's rules.\n"
    "  --assignment NAME         assignment name (letters, digits, _ or -; required)\n"
    "  --duedate TIME            due date with a zone: 2026-10-30T10:00:00Z, ...+02:00,\n"
    "                            or a tz name: \"2026-10-30 17:00:00 Europe/London\";\n"
    "                            default: none (never late)\n"
    "  --late-policy P           none (default), zero, or PCT%/hour|day[,cap=PCT%]\n"
    "                            (e.g. 10%/day,cap=50%: 10% per started day, at most 50%)\n"
    "  --extension STUDENT=DUR   per-student extension (36h, 2d, 1d12h); repeatable\n"
    "  --preload MOD,...         modules imported once per worker (e.g. numpy,matplotlib);\n"
    "                            default: the system modules the notebooks import\n"
    "  --no-auto-preload         without --preload, preload nothing\n"
    "  --data FILE               data file placed beside the notebooks; repeatable\n"
    "  --seed N                  random seed set before every run (default 0)\n"
    "  --allow-ctypes            let notebooks load the real ctypes/cffi (only for code that\n"
    "                            calls C itself; pandas and scipy run without it); student\n"
    "                            code can then reach memory and forge results (default off)\n"
    "  --allow-jit               let a JIT (numba) make memory executable; code the box\n"
    "                            wrote can then run, weakening the same guarantee (off)\n"
    "  --cell-timeout SEC        per cell (default 30)\n"
    "  --notebook-timeout SEC    per notebook (default 600)\n"
    "  --memory MB               per notebook (default 4096)\n"
    "  --processes N             per notebook (default 64)\n"
    "  --output-limit BYTES      output kept per cell (default 1048576)\n"
    "  -o, --output FILE         write the rubric here (default: stdout)\n"
    "  --no-validate             write the rubric without proving it on the solution\n"
    "  Before writing, import proves the rubric on the solution, as nbgrader validate:\n"
    "  each source notebook (solutions in place, hidden tests included) runs in the\n"
    "  sandbox as grade runs a submission (limits, preloads, data, seed, switches).\n"
    "  A test cell short of full points, a failing import, a flag or a time limit hit\n"
    "  is an error: exit 1, nothing written. A cell or notebook using more than a\n"
    "  third of its time limit gets a suggested --cell-timeout / --notebook-timeout.\n"
    "  Needs the sandbox (root, user namespaces); elsewhere use --no-validate.\n"
    "release: write the student notebooks (solutions stubbed, hidden tests removed,\n"
    "  outputs cleared) and the data files into DIR.\n"
    "public: write the rubric without hidden tests and solutions, for students' CI.\n"
    "check: validate rubrics and print a one-line summary of each; warn about preload\n"
    "  modules that cannot be imported. --validate also proves each on its own\n"
    "  solution, as import does.\n";

struct list {
	const char **v;
	size_t n;
};

static int list_add(struct list *l, const char *s)
{
	const char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -1;
	l->v = v;
	v[l->n++] = s;
	return 0;
}

static int number(const char *flag, const char *s, double *out)
{
	double v;

	if (cmd_parse_double(s, 0, HUGE_VAL, &v) < 0 || v == 0) {
		fprintf(stderr, "grader rubric: %s expects a positive number, not '%s'\n", flag, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int write_rubric(const struct rubric *r, const char *out, struct gr_err *err)
{
	char *s = NULL;
	int rc;

	if (out)
		return rubric_write_file(r, out, err);
	if ((rc = rubric_dump(&s, r, err)))
		return rc;
	fputs(s, stdout);
	free(s);
	return 0;
}

/*
 * No --preload: preload the system modules the notebooks import, and say
 * which. The rubric is imported again with them (import is deterministic).
 * A host where Python cannot run keeps the rubric without preloads, loudly.
 */
static int choose_preload(struct rubric **r, struct rubric_import_opts *o, char ***found)
{
	struct batch_preload_opts po = {.slot = 0, .log = stderr};
	struct rubric *again = NULL;
	struct gr_err err = {0};
	size_t n = 0;

	if (batch_detect_preload(found, *r, &po, &err) < 0) {
		fprintf(stderr, "grader rubric import: no preload chosen: %s\n", err.msg);
		return 0;
	}
	while ((*found)[n])
		n++;
	if (!n) {
		fprintf(stderr, "preload: none (the notebooks import no system module)\n");
		return 0;
	}
	o->preload = (const char *const *)*found;
	o->npreload = n;
	if (rubric_import(&again, o, &err) < 0) {
		fprintf(stderr, "grader rubric import: %s\n", err.msg);
		return -1;
	}
	rubric_free(*r);
	*r = again;
	fprintf(stderr, "preload:");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s %s", i ? "," : "", (*found)[i]);
	fprintf(stderr, " (imported by the notebooks; --preload chooses, --no-auto-preload "
			"turns this off)\n");
	return 0;
}

enum {
	O_CTYPES = 256,
	O_JIT,
	O_NO_AUTO,
	O_NO_VALIDATE,
	O_DUEDATE,
	O_LATE,
	O_EXTENSION,
	O_PRELOAD,
	O_DATA,
	O_SEED,
	O_CELL_TIMEOUT,
	O_NB_TIMEOUT,
	O_MEMORY,
	O_PROCESSES,
	O_OUTPUT_LIMIT,
};

static const struct cmd_opt import_table[] = {
    {"allow-ctypes", 0, 0, O_CTYPES},
    {"allow-jit", 0, 0, O_JIT},
    {"no-auto-preload", 0, 0, O_NO_AUTO},
    {"no-validate", 0, 0, O_NO_VALIDATE},
    {"assignment", 0, 1, CMD_KEY_ASSIGNMENT},
    {"duedate", 0, 1, O_DUEDATE},
    {"late-policy", 0, 1, O_LATE},
    {"extension", 0, 1, O_EXTENSION},
    {"preload", 0, 1, O_PRELOAD},
    {"data", 0, 1, O_DATA},
    {"seed", 0, 1, O_SEED},
    {"cell-timeout", 0, 1, O_CELL_TIMEOUT},
    {"notebook-timeout", 0, 1, O_NB_TIMEOUT},
    {"memory", 0, 1, O_MEMORY},
    {"processes", 0, 1, O_PROCESSES},
    {"output-limit", 0, 1, O_OUTPUT_LIMIT},
    {"output", 'o', 1, CMD_KEY_OUTPUT},
    {NULL, 0, 0, 0},
};

static const struct cmd_opt output_table[] = {
    {"output", 'o', 1, CMD_KEY_OUTPUT},
    {NULL, 0, 0, 0},
};

/* What `grader rubric import` is asked: the import's options and the lists they fill. */
struct import_args {
	struct rubric_import_opts o;
	struct list src, ext, pre, data;
	char **preload; /* the --preload list's memory */
	int auto_preload;
	int prove; /* prove the rubric on the solution before writing it */
};

/* One option (key c, value p->arg) into a: 0, 2 after a usage error, GR_ENOMEM. */
static int import_option(struct import_args *a, int c, const struct cmd_opts *p)
{
	const char *v = p->arg;

	switch (c) {
	case O_CTYPES:
		a->o.allow_ctypes = 1;
		break;
	case O_JIT:
		a->o.allow_jit = 1;
		break;
	case O_NO_AUTO:
		a->auto_preload = 0;
		break;
	case O_NO_VALIDATE:
		a->prove = 0;
		break;
	case O_DUEDATE:
		a->o.duedate = v;
		break;
	case O_LATE:
		a->o.late_policy = v;
		break;
	case O_EXTENSION:
		if (list_add(&a->ext, v))
			return GR_ENOMEM;
		break;
	case O_PRELOAD:
		free(a->preload);
		a->preload = NULL;
		a->auto_preload = 0;
		if (gr_split_list(&a->preload, v) < 0)
			return GR_ENOMEM;
		a->pre.n = 0;
		for (char **m = a->preload; *m; m++)
			if (list_add(&a->pre, *m))
				return GR_ENOMEM;
		break;
	case O_DATA:
		if (list_add(&a->data, v))
			return GR_ENOMEM;
		break;
	case O_SEED: {
		long long seed;

		if (cmd_parse_long(v, LLONG_MIN, LLONG_MAX, &seed) == 0) {
			a->o.seed = seed;
		} else {
			fprintf(stderr, "grader rubric: --seed expects an integer, not '%s'\n", v);
			return 2;
		}
		break;
	}
	case O_CELL_TIMEOUT:
		if (number("--cell-timeout", v, &a->o.limits.cell_timeout))
			return 2;
		break;
	case O_NB_TIMEOUT:
		if (number("--notebook-timeout", v, &a->o.limits.notebook_timeout))
			return 2;
		break;
	case O_MEMORY:
		if (number("--memory", v, &a->o.limits.memory_mb))
			return 2;
		break;
	case O_PROCESSES:
		if (number("--processes", v, &a->o.limits.processes))
			return 2;
		break;
	case O_OUTPUT_LIMIT:
		if (number("--output-limit", v, &a->o.limits.output_bytes))
			return 2;
		break;
	case CMD_OPT_MISSING:
		fprintf(stderr, "grader rubric: %s needs a value\n", p->bad);
		return 2;
	default:
		fprintf(stderr, "grader rubric: unknown option '%s'\n%s", p->bad, USAGE);
		return 2;
	}
	return 0;
}

/*
 * Prove `r` on its own solution and print the findings: 0 when it passes,
 * -1 (told on stderr by `who`) when it fails or cannot be run here.
 */
static int validate(const struct rubric *r, const char *who, const char *fix)
{
	struct rubric_validation *v = NULL;
	struct gr_err err = {0};
	size_t errors;

	if (batch_validate(&v, r, &err) < 0) {
		fprintf(stderr, "%s: cannot prove the rubric on the solution: %s%s\n", who, err.msg,
			fix);
		return -1;
	}
	errors = rubric_validation_report(stderr, v);
	rubric_validation_free(v);
	if (!errors)
		return 0;
	fprintf(stderr, "%s: the solution fails its own rubric (%zu error%s)%s\n", who, errors,
		errors == 1 ? "" : "s", fix);
	return -1;
}

static int do_import(int argc, char **argv)
{
	struct cmd_opts p;
	struct import_args a = {.auto_preload = 1, .prove = 1};
	struct rubric *r = NULL;
	struct gr_err err = {0};
	char **found = NULL;
	int rc = 2, c;

	cmd_opts_init(&p, import_table, argc - 1, argv + 1, 0);
	while ((c = cmd_opts_next(&p)) != -1) {
		rc = import_option(&a, c, &p);
		if (rc == GR_ENOMEM)
			goto oom;
		if (rc)
			goto done;
	}
	rc = 2;
	a.o.assignment = p.assignment;
	a.o.output = p.output;
	for (int i = p.ind + 1; i < argc; i++)
		if (list_add(&a.src, argv[i]))
			goto oom;
	if (!a.src.n || !a.o.assignment) {
		fprintf(stderr, "grader rubric import: %s\n%s",
			!a.src.n ? "no source notebook given" : "--assignment is required", USAGE);
		goto done;
	}
	a.o.sources = a.src.v;
	a.o.nsources = a.src.n;
	a.o.extensions = a.ext.v;
	a.o.nextensions = a.ext.n;
	a.o.preload = a.pre.v;
	a.o.npreload = a.pre.n;
	a.o.data = a.data.v;
	a.o.ndata = a.data.n;
	rc = 1;
	if (rubric_import(&r, &a.o, &err)) {
		fprintf(stderr, "grader rubric import: %s\n", err.msg);
		goto done;
	}
	if (a.auto_preload && choose_preload(&r, &a.o, &found) < 0)
		goto done;
	if (a.prove &&
	    validate(r, "grader rubric import",
		     ": the rubric is not written (--no-validate writes it unproven)") < 0)
		goto done;
	if (write_rubric(r, a.o.output, &err)) {
		fprintf(stderr, "grader rubric import: %s\n", err.msg);
		goto done;
	}
	if (a.o.output) {
		double points = 0;

		for (size_t n = 0; n < r->nnotebooks; n++)
			points += r->notebooks[n].max_points;
		fprintf(stderr, "wrote '%s': %zu notebook(s), %g points\n", a.o.output,
			r->nnotebooks, points);
	}
	rc = 0;
	goto done;
oom:
	fprintf(stderr, "grader rubric: out of memory\n");
	rc = 1;
done:
	rubric_free(r);
	free(a.src.v);
	free(a.ext.v);
	free(a.pre.v);
	free(a.data.v);
	free(a.preload);
	free(found);
	return rc;
}

/* release / public: one rubric and -o. */
static int do_one(int argc, char **argv, int release)
{
	struct cmd_opts p;
	const char *in = NULL, *out;
	struct rubric *r = NULL, *pub = NULL;
	struct gr_err err = {0};
	int rc = 1;

	cmd_opts_init(&p, output_table, argc - 1, argv + 1, 0);
	if (cmd_opts_next(&p) != -1) {
		fprintf(stderr, "grader rubric %s: unexpected '%s'\n%s", argv[1], p.bad, USAGE);
		return 2;
	}
	out = p.output;
	for (int i = p.ind + 1; i < argc; i++) {
		if (in) {
			fprintf(stderr, "grader rubric %s: unexpected '%s'\n%s", argv[1], argv[i],
				USAGE);
			return 2;
		}
		in = argv[i];
	}
	if (!in || (release && !out)) {
		fprintf(stderr, "grader rubric %s: %s\n%s", argv[1],
			!in ? "no rubric given" : "-o DIR is required", USAGE);
		return 2;
	}
	if (rubric_load(&r, in, &err))
		goto fail;
	if (release) {
		if (rubric_release(r, out, &err))
			goto fail;
		fprintf(stderr, "released '%s' into '%s'\n", r->assignment, out);
	} else {
		if (rubric_public(&pub, r, &err) || write_rubric(pub, out, &err))
			goto fail;
	}
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "grader rubric %s: %s\n", argv[1], err.msg);
done:
	rubric_free(pub);
	rubric_free(r);
	return rc;
}

static int do_check(int argc, char **argv)
{
	int rc = 0, prove = 0, nrubrics = 0;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--validate"))
			prove = 1;
		else
			nrubrics++;
	}
	if (!nrubrics) {
		fprintf(stderr, "grader rubric check: no rubric given\n%s", USAGE);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		struct rubric *r = NULL;
		struct gr_err err = {0};
		size_t graded = 0;
		double points = 0;

		if (!strcmp(argv[i], "--validate"))
			continue;
		if (rubric_load(&r, argv[i], &err)) {
			fprintf(stderr, "%s\n", err.msg);
			rc = 1;
			continue;
		}
		for (size_t n = 0; n < r->nnotebooks; n++) {
			points += r->notebooks[n].max_points;
			for (size_t k = 0; k < r->notebooks[n].ncells; k++)
				graded +=
				    r->notebooks[n].cells[k].grade || r->notebooks[n].cells[k].task;
		}
		printf("ok %s: assignment %s, %zu notebook(s), %zu graded cell(s), %g points%s\n",
		       argv[i], r->assignment, r->nnotebooks, graded, points,
		       r->is_public ? " (public)" : "");
		{
			struct batch_preload_opts po = {.slot = 0, .log = stderr};

			if (batch_preload_check(r, &po) > 0)
				fprintf(stderr,
					"warning: %s: grading will fail until every preload "
					"module can be imported\n",
					argv[i]);
		}
		if (prove && validate(r, "grader rubric check", "") < 0)
			rc = 1;
		rubric_free(r);
	}
	return rc;
}

int cmd_rubric(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(USAGE, stdout);
			return 0;
		}
	if (!sub) {
		fputs(USAGE, stderr);
		return 2;
	}
	if (!strcmp(sub, "import"))
		return do_import(argc, argv);
	if (!strcmp(sub, "release"))
		return do_one(argc, argv, 1);
	if (!strcmp(sub, "public"))
		return do_one(argc, argv, 0);
	if (!strcmp(sub, "check"))
		return do_check(argc, argv);
	fprintf(stderr, "grader rubric: unknown subcommand '%s'\n%s", sub, USAGE);
	return 2;
}
