/* cmd_run.c - `grader run`: run one command in the sandbox and report its result. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "grader/sandbox.h"
#include "grader/util.h"

#define MAX_LIST 64

struct run_opts {
	struct sbx_config cfg;
	const char *dir;
	const char *meta;
	const char *ro[MAX_LIST + 1];
	const char *env[MAX_LIST + 1];
	size_t n_ro, n_env;
};

static void usage(FILE *f, const struct sbx_limits *d)
{
	fprintf(
	    f,
	    "usage: grader run [options] -- CMD [ARGS...]\n"
	    "\n"
	    "Run CMD in the sandbox with DIR as its only writable directory (seen as /box,\n"
	    "the working directory). Its output is passed through, capped; the result is\n"
	    "written as JSON with --meta.\n"
	    "\n"
	    "options:\n"
	    "  --time S         CPU seconds per process; the whole run stops at S + 1 (default "
	    "%g)\n"
	    "  --wall S         wall-clock limit for the whole run, seconds (default %g)\n"
	    "  --mem MB         memory limit of the whole run, MiB (default %zu)\n"
	    "  --procs N        processes and threads (default %u)\n"
	    "  --fsize MB       largest file the run may write, MiB (default %zu)\n"
	    "  --output KB      stdout and stderr passed through, KiB each (default %zu)\n"
	    "  --tmp MB         size of the private /tmp and /dev/shm, MiB each (default %zu)\n"
	    "  --nofile N       open files per process (default %u)\n"
	    "  --dir DIR        work directory (default: a fresh empty one, removed after);\n"
	    "                   as root it is handed to the box uid (61000 + slot)\n"
	    "  --ro PATH        also show host PATH read-only at the same place (repeatable)\n"
	    "  --env K=V        add to the clean environment (repeatable)\n"
	    "  --slot N         worker slot 0-100000: box uid 61000 + N, own cgroups (default 0)\n"
	    "  --meta FILE      write the result as JSON to FILE ('-' for stdout)\n"
	    "  --allow-weaker   run even if this host lacks a protection (see grader doctor)\n"
	    "  --allow-jit      lift W^X for a JIT (numba, a JVM): memory may then be writable\n"
	    "                   and executable, so code the run wrote can run; off by default\n"
	    "  --help           show this help\n"
	    "\n"
	    "exit status: 0 when the command ran and exited 0 (status OK), 1 for any other\n"
	    "status (RE, SG, TO, ML, OL) or a sandbox failure (XX), 2 for a usage error.\n",
	    d->cpu_s, d->wall_s, d->mem_kb / 1024, d->procs, d->fsize_kb / 1024, d->output_kb,
	    d->tmp_kb / 1024, d->nofile);
}

enum {
	O_TIME = 256,
	O_WALL,
	O_MEM,
	O_PROCS,
	O_FSIZE,
	O_OUTPUT,
	O_TMP,
	O_NOFILE,
	O_DIR,
	O_RO,
	O_ENV,
	O_SLOT,
	O_META,
	O_WEAK,
	O_JIT,
	O_HELP
};

/* A number option (key c) into the limits: 0, or 1 when `arg` is not a number in its range. */
static int set_limit(int c, const char *arg, struct run_opts *o)
{
	struct sbx_limits *l = &o->cfg.limits;
	int bad = 0;
	double v;

	switch (c) {
	case O_TIME:
		bad = cmd_parse_double(arg, 0, 1e6, &l->cpu_s);
		break;
	case O_WALL:
		bad = cmd_parse_double(arg, 0, 1e6, &l->wall_s);
		break;
	case O_MEM:
		bad = cmd_parse_double(arg, 0, 1 << 30, &v);
		l->mem_kb = (size_t)(v * 1024);
		break;
	case O_PROCS:
		bad = cmd_parse_double(arg, 0, 1 << 20, &v);
		l->procs = (unsigned)v;
		break;
	case O_FSIZE:
		bad = cmd_parse_double(arg, 0, 1 << 30, &v);
		l->fsize_kb = (size_t)(v * 1024);
		break;
	case O_OUTPUT:
		bad = cmd_parse_double(arg, 0, 1 << 30, &v);
		l->output_kb = (size_t)v;
		break;
	case O_TMP:
		bad = cmd_parse_double(arg, 0, 1 << 20, &v);
		l->tmp_kb = (size_t)(v * 1024);
		break;
	case O_NOFILE:
		bad = cmd_parse_double(arg, 0, 1 << 20, &v);
		l->nofile = (unsigned)v;
		break;
	case O_SLOT:
		bad = cmd_parse_double(arg, 0, 100000, &v);
		o->cfg.slot = (unsigned)v;
		break;
	}
	return bad;
}

/* Returns 0, or 2 after printing a usage error. */
static int parse(int argc, char **argv, struct run_opts *o, int *first)
{
	static const struct cmd_opt table[] = {
	    {"time", 0, 1, O_TIME},
	    {"wall", 0, 1, O_WALL},
	    {"mem", 0, 1, O_MEM},
	    {"procs", 0, 1, O_PROCS},
	    {"fsize", 0, 1, O_FSIZE},
	    {"output", 0, 1, O_OUTPUT},
	    {"tmp", 0, 1, O_TMP},
	    {"nofile", 0, 1, O_NOFILE},
	    {"dir", 0, 1, O_DIR},
	    {"ro", 0, 1, O_RO},
	    {"env", 0, 1, O_ENV},
	    {"slot", 0, 1, O_SLOT},
	    {"meta", 0, 1, O_META},
	    {"allow-weaker", 0, 0, O_WEAK},
	    {"allow-jit", 0, 0, O_JIT},
	    {"help", 0, 0, O_HELP},
	    {NULL, 0, 0, 0},
	};
	struct cmd_opts p;
	struct sbx_limits *l = &o->cfg.limits;
	int c;

	cmd_opts_init(&p, table, argc, argv, CMD_OPTS_IN_ORDER);
	while ((c = cmd_opts_next(&p)) != -1) {
		int bad = 0;
		switch (c) {
		case O_TIME:
		case O_WALL:
		case O_MEM:
		case O_PROCS:
		case O_FSIZE:
		case O_OUTPUT:
		case O_TMP:
		case O_NOFILE:
		case O_SLOT:
			bad = set_limit(c, p.arg, o);
			break;
		case O_DIR:
			o->dir = p.arg;
			break;
		case O_META:
			o->meta = p.arg;
			break;
		case O_WEAK:
			o->cfg.allow_weaker = 1;
			break;
		case O_JIT:
			o->cfg.allow_jit = 1;
			break;
		case O_RO:
			if (o->n_ro == MAX_LIST || p.arg[0] != '/')
				bad = 1;
			else
				o->ro[o->n_ro++] = p.arg;
			break;
		case O_ENV:
			if (o->n_env == MAX_LIST || !strchr(p.arg, '='))
				bad = 1;
			else
				o->env[o->n_env++] = p.arg;
			break;
		case O_HELP:
			usage(stdout, &l[0]);
			return 1;
		default:
			fprintf(stderr, "grader run: unknown option '%s'\n", p.bad);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "grader run: bad value '%s' for '--%s'\n", p.arg,
				p.name ? p.name : "?");
			return 2;
		}
	}
	if (p.ind >= argc) {
		fprintf(stderr, "grader run: no command given (grader run [options] -- CMD)\n");
		return 2;
	}
	*first = p.ind;
	return 0;
}

static int write_meta(const char *meta, const struct sbx_result *res, struct gr_err *err)
{
	char *json = sbx_result_json(res);
	int rc = 0;

	if (!json)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	if (!strcmp(meta, "-")) {
		printf("%s\n", json);
		fflush(stdout);
	} else {
		size_t n = strlen(json);
		json[n] = '\n';
		rc = gr_write_file_atomic(meta, json, n + 1, err);
		json[n] = '\0';
	}
	free(json);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct sbx_result res = {0};
	struct gr_err err = {0};
	struct gr_workdir work = {.lock_fd = -1};
	char *box = NULL;
	int first = 0, rc, code = 1;
	sbx *s = NULL;

	memset(&o, 0, sizeof(o));
	sbx_config_init(&o.cfg);
	rc = parse(argc, argv, &o, &first);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (!o.dir) {
		/* the box is a folder of the work directory: its lock stays out of reach */
		if (gr_workdir_make(&work, "/tmp", "grader-run", &err) < 0) {
			fprintf(stderr, "grader run: %s\n", err.msg);
			return 1;
		}
		if (work.warning[0])
			fprintf(stderr, "grader run: warning: %s\n", work.warning);
		box = gr_path_join(work.path, "box");
		if (!box || mkdir(box, 0700) < 0) {
			fprintf(stderr, "grader run: cannot create a work directory: %s\n",
				box ? strerror(errno) : "out of memory");
			goto done;
		}
		o.dir = box;
	}
	o.cfg.workdir = o.dir;
	o.cfg.ro_paths = o.ro;
	o.cfg.env = o.env;
	o.cfg.output = SBX_OUT_PASS;
	fflush(stdout);
	/* A closed stdout must not kill us before the result is written. */
	signal(SIGPIPE, SIG_IGN);
	if (sbx_new(&s, &o.cfg, &err) < 0 || sbx_run_cmd(s, &res, argv + first, &err) < 0) {
		fprintf(stderr, "grader run: %s\n", err.msg);
		goto done;
	}
	if (o.meta && write_meta(o.meta, &res, &err) < 0) {
		fprintf(stderr, "grader run: %s\n", err.msg);
		goto done;
	}
	if (res.status != SBX_OK && !o.meta)
		fprintf(stderr, "grader run: %s: %s\n", sbx_status_name(res.status), res.message);
	code = res.status == SBX_OK ? 0 : 1;
done:
	sbx_result_release(&res);
	sbx_free(s);
	free(box);
	if (work.path && gr_workdir_remove(&work, &err) < 0) {
		fprintf(stderr, "grader run: %s\n", err.msg);
		code = 1;
	}
	return code;
}
