/* cmd_doctor.c - `grader doctor`: which sandbox protections this host gives. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grader/sandbox.h"
#include "grader/util.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: grader doctor\n"
		   "\n"
		   "Print, one line each, the protections this host gives the sandbox (each\n"
		   "namespace, cgroup version and controllers, seccomp, uid switching), then\n"
		   "build a sandbox and run /bin/true in it.\n"
		   "\n"
		   "exit status: 0 when every protection is present and the test run is OK,\n"
		   "1 when one is missing (grader run then needs --allow-weaker) or the\n"
		   "sandbox cannot be built, 2 for a usage error.\n");
}

/* Build a (possibly weaker) sandbox and run /bin/true; 0 when the result is OK. */
static int smoke_test(void)
{
	char dir[] = "/tmp/grader-doctor.XXXXXX";
	char *argv[] = {"/bin/true", NULL};
	struct sbx_config cfg;
	struct sbx_result res = {0};
	struct gr_err err = {0};
	sbx *s = NULL;
	int rc = 1;

	if (!mkdtemp(dir)) {
		printf("%-22s FAILED: cannot create a work directory: %s\n", "test run",
		       strerror(errno));
		return 1;
	}
	sbx_config_init(&cfg);
	cfg.workdir = dir;
	cfg.allow_weaker = 1;
	if (sbx_new(&s, &cfg, &err) < 0 || sbx_run_cmd(s, &res, argv, &err) < 0) {
		printf("%-22s FAILED: %s\n", "test run", err.msg);
	} else if (res.status != SBX_OK) {
		printf("%-22s FAILED: %s %s\n", "test run", sbx_status_name(res.status),
		       res.message);
	} else {
		printf("%-22s ok (/bin/true in %.1f ms)\n", "test run", res.wall * 1000);
		rc = 0;
	}
	sbx_result_release(&res);
	sbx_free(s);
	if (gr_rm_rf(dir, &err) < 0) {
		printf("%-22s FAILED: %s\n", "clean-up", err.msg);
		rc = 1;
	}
	return rc;
}

int cmd_doctor(int argc, char **argv)
{
	struct sbx_probe p;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "grader doctor: unknown argument '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	sbx_probe_host(&p, NULL);
	fputs(p.detail, stdout);
	fflush(stdout);
	if (smoke_test() != 0)
		return 1;
	return p.complete ? 0 : 1;
}
