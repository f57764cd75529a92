/*
 * sandbox_alone.c - proof that the sandbox is a leaf library: this program
 * links with libsandbox.a and the system's libseccomp and jansson only, and
 * runs one command through it. Exit 0 when `echo` ran confined and printed
 * its word; 77 when this host cannot build a sandbox at all; 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grader/sandbox.h"

int main(void)
{
	struct sbx_config cfg;
	struct sbx_result res = {0};
	struct gr_err err = {0};
	char dir[] = "/tmp/sbx-alone.XXXXXX";
	char *const argv[] = {"echo", "confined", NULL};
	sbx *s = NULL;
	int rc = 1;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	sbx_config_init(&cfg);
	cfg.workdir = dir;
	cfg.allow_weaker = geteuid() != 0; /* as root, the full sandbox or nothing */
	if (sbx_new(&s, &cfg, &err) < 0) {
		fprintf(stderr, "sandbox_alone: %s\n", err.msg);
		rc = geteuid() == 0 ? 1 : 77;
		goto done;
	}
	if (sbx_run_cmd(s, &res, argv, &err) < 0) {
		fprintf(stderr, "sandbox_alone: %s\n", err.msg);
		goto done;
	}
	if (res.status != SBX_OK || !res.out || strcmp(res.out, "confined\n") != 0) {
		fprintf(stderr, "sandbox_alone: status %s, output '%s'\n",
			sbx_status_name(res.status), res.out ? res.out : "");
		goto done;
	}
	printf("sandbox_alone: ran in %.1f ms\n", res.wall * 1e3);
	rc = 0;
done:
	sbx_result_release(&res);
	sbx_free(s);
	rmdir(dir);
	return rc;
}
