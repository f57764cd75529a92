/*
 * sbx_result.c - defaults of a sandbox configuration, and the result record:
 * status names, isolate-style JSON, release.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sbx_int.h"

/* The defaults documented in `grader run --help` and docs/sandbox.md. */
void sbx_config_init(struct sbx_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->limits.cpu_s = 10;
	cfg->limits.wall_s = 20;
	cfg->limits.mem_kb = 512 * 1024;
	cfg->limits.procs = 64;
	cfg->limits.fsize_kb = 64 * 1024;
	cfg->limits.output_kb = 1024;
	cfg->limits.tmp_kb = 64 * 1024;
	cfg->limits.nofile = 256;
	cfg->output = SBX_OUT_CAPTURE;
}

const char *sbx_status_name(enum sbx_status st)
{
	static const char *const names[] = {"OK", "RE", "SG", "TO", "ML", "OL", "XX"};

	if ((unsigned)st < sizeof(names) / sizeof(names[0]))
		return names[st];
	return "XX";
}

/*
 * {"status","exitcode","signal","time","wall","max_rss_kb","killed",
 *  "out_dropped","err_dropped","message"}; heap text, caller frees.
 */
char *sbx_result_json(const struct sbx_result *res)
{
	json_t *o;
	char *text;

	o = json_pack("{s:s, s:i, s:i, s:f, s:f, s:I, s:b, s:I, s:I, s:s}", "status",
		      sbx_status_name(res->status), "exitcode", res->exitcode, "signal",
		      res->signal, "time", res->time, "wall", res->wall, "max_rss_kb",
		      (json_int_t)res->max_rss_kb, "killed", res->killed, "out_dropped",
		      (json_int_t)res->out_dropped, "err_dropped", (json_int_t)res->err_dropped,
		      "message", res->message);
	if (!o)
		return NULL;
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	return text;
}

void sbx_result_release(struct sbx_result *res)
{
	if (!res)
		return;
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->out_len = res->err_len = 0;
}
