/*
 * sandbox_loop.c - the library's cost per run with a warm sandbox (what the
 * notebook engine pays): N rounds, each a bare fork+exec of the command and
 * the same command through sbx_run_cmd (interleaved), plus sbx_run_fn with a
 * function that returns at once. Prints medians in ms.
 * Built and run by bench/sandbox.sh; usage: sandbox_loop N CMD [ARGS...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grader/sandbox.h"
#include "grader/util.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2] * 1000;
}

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/grader-bench.XXXXXX";
	struct sbx_config cfg;
	struct gr_err err = {0};
	sbx *s = NULL;
	int n = argc > 2 ? atoi(argv[1]) : 0, bad = 0;
	double *bare, *boxed, *fn;

	if (n <= 0 || n > 100000 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: sandbox_loop N CMD [ARGS...]\n");
		return 2;
	}
	bare = calloc((size_t)n, sizeof(double));
	boxed = calloc((size_t)n, sizeof(double));
	fn = calloc((size_t)n, sizeof(double));
	sbx_config_init(&cfg);
	cfg.workdir = dir;
	cfg.output = SBX_OUT_DISCARD;
	cfg.allow_weaker = geteuid() != 0;
	if (!bare || !boxed || !fn || sbx_new(&s, &cfg, &err) < 0) {
		fprintf(stderr, "sandbox_loop: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct sbx_result res;
		double t = gr_now();
		pid_t pid = fork();

		if (pid == 0) {
			execv(argv[2], argv + 2);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
		bare[i] = gr_now() - t;
		t = gr_now();
		if (sbx_run_cmd(s, &res, argv + 2, &err) < 0 || res.status != SBX_OK)
			bad++;
		boxed[i] = gr_now() - t;
		sbx_result_release(&res);
		t = gr_now();
		if (sbx_run_fn(s, &res, nothing, NULL, &err) < 0 || res.status != SBX_OK)
			bad++;
		fn[i] = gr_now() - t;
		sbx_result_release(&res);
	}
	printf("%.2f %.2f %.2f %d\n", median(bare, n), median(boxed, n), median(fn, n), bad);
	sbx_free(s);
	gr_rm_rf(dir, NULL);
	free(bare);
	free(boxed);
	free(fn);
	return bad != 0;
}
