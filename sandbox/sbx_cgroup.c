/*
 * sbx_cgroup.c - memory and process-count limits for a whole run through
 * cgroups: v1 (memory and pids hierarchies under /sys/fs/cgroup/<ctrl>) or
 * v2 (one unified hierarchy). One group per sandbox slot, created by
 * sbx_new() below the grader's own group, reused by every run of the slot and
 * removed by sbx_free(). The child joins it before it unshares anything, so
 * every process of the run is charged to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "sbx_int.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_ROOT "/sys/fs/cgroup"

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 64];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	ok = ok ? 0 : -errno;
	close(fd);
	return ok;
}

static int read_str(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The value after `key ` in a "key value" file (memory.events, memory.oom_control). */
static long read_key(const char *dir, const char *file, const char *key)
{
	char buf[2048], *p;
	size_t k = strlen(key);

	if (read_str(dir, file, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, k) && p[k] == ' ')
			return strtol(p + k + 1, NULL, 10);
	return -1;
}

/*
 * Our own group in hierarchy `ctrl` ("memory", "pids", or "" for v2) from
 * /proc/self/cgroup, as an absolute directory under CG_ROOT.
 */
static int own_dir(char *out, size_t size, const char *ctrl)
{
	char buf[4096], *line, *save = NULL;
	int found = -1;

	if (read_str("/proc/self", "cgroup", buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c = strchr(line, ':'), *path;
		if (!c || !(path = strchr(c + 1, ':')))
			continue;
		*path++ = '\0';
		c++;
		if (*ctrl == '\0') {
			if (*c == '\0')
				found = 0;
		} else {
			/* a comma-separated list such as "cpu,cpuacct" */
			char *tok, *s2 = NULL;
			for (tok = strtok_r(c, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
				if (!strcmp(tok, ctrl))
					found = 0;
		}
		if (!found) {
			if (strcmp(path, "/") == 0)
				path = "";
			snprintf(out, size, "%s%s%s%s", CG_ROOT, *ctrl ? "/" : "", ctrl, path);
			return 0;
		}
	}
	return -1;
}

static int is_v2(void)
{
	struct statfs sf;

	return statfs(CG_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Describe what this host offers (for `grader doctor` and sbx_new). */
void sbx_cg_probe(struct sbx_probe *p)
{
	char dir[PATH_MAX], list[512];

	p->cgroup_version = 0;
	p->cg_memory = p->cg_pids = p->cg_cpu = 0;
	if (is_v2()) {
		p->cgroup_version = 2;
		if (own_dir(dir, sizeof(dir), "") == 0 && access(dir, W_OK) == 0 &&
		    read_str(dir, "cgroup.controllers", list, sizeof(list)) == 0) {
			p->cg_memory = has_word(list, "memory");
			p->cg_pids = has_word(list, "pids");
			p->cg_cpu = has_word(list, "cpu");
		}
		return;
	}
	if (access(CG_ROOT "/memory/tasks", F_OK) == 0 || access(CG_ROOT "/pids/tasks", F_OK) == 0)
		p->cgroup_version = 1;
	if (own_dir(dir, sizeof(dir), "memory") == 0 && access(dir, W_OK) == 0)
		p->cg_memory = 1;
	if (own_dir(dir, sizeof(dir), "pids") == 0 && access(dir, W_OK) == 0)
		p->cg_pids = 1;
	if (own_dir(dir, sizeof(dir), "cpuacct") == 0 && access(dir, W_OK) == 0)
		p->cg_cpu = 1;
}

static int make_group(char *out, size_t size, const char *parent, unsigned slot)
{
	/*
	 * The hierarchy may be shared with other containers (other pid
	 * namespaces): a random part keeps the name ours alone.
	 */
	unsigned rnd = 0;
	int n;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (unsigned)(gr_now() * 1e6);
	n = snprintf(out, size, "%s/grader-%ld-%u-%08x", parent, (long)getpid(), slot, rnd);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (mkdir(out, 0755) < 0) {
		out[0] = '\0';
		return -errno;
	}
	return 0;
}

/*
 * The file the setup child writes "0" to, to join the group. On v1 it is
 * `tasks`, which moves one thread: the setup child is single-threaded (made
 * by fork()), so that is the whole process, and every process of the run
 * forks from it. Moving the calling thread alone spares the kernel the
 * global write lock a `cgroup.procs` move takes (cgroup_threadgroup_rwsem),
 * which waits for an RCU grace period: 5-20 ms per run on a v1 host, the
 * biggest single cost of a run. v2 has no such file for a domain group.
 */
static int open_procs(const char *dir, int version)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, version == 1 ? "tasks" : "cgroup.procs");
	return open(path, O_WRONLY | O_CLOEXEC);
}

/*
 * Set pids.max and the memory limit to `lim` where they differ from what is
 * set (the caller may change its limits between runs). A controller whose
 * limit cannot be written is given up: rlimits take over.
 */
static void apply_limits(struct sbx_cg *cg, const struct sbx_limits *lim)
{
	const char *pids_dir = cg->version == 1 ? cg->pids : cg->mem;
	long want = lim->mem_kb ? (long)lim->mem_kb * 1024 : 0;
	char val[64];
	int rc;

	if (cg->has_pids && lim->procs != cg->procs) {
		if (lim->procs)
			snprintf(val, sizeof(val), "%u", lim->procs);
		else
			snprintf(val, sizeof(val), "max");
		if (write_str(pids_dir, "pids.max", val) == 0)
			cg->procs = lim->procs;
		else
			cg->has_pids = 0;
	}
	if (!cg->has_mem || want == cg->limit)
		return;
	if (want)
		snprintf(val, sizeof(val), "%ld", want);
	else
		snprintf(val, sizeof(val), cg->version == 1 ? "-1" : "max");
	if (cg->version == 2) {
		rc = write_str(cg->mem, "memory.max", val);
	} else if (!want || (cg->limit && want > cg->limit)) {
		/* v1 wants memsw >= limit at every step (memsw may not exist) */
		write_str(cg->mem, "memory.memsw.limit_in_bytes", val);
		rc = write_str(cg->mem, "memory.limit_in_bytes", val);
	} else {
		rc = write_str(cg->mem, "memory.limit_in_bytes", val);
		write_str(cg->mem, "memory.memsw.limit_in_bytes", val);
	}
	if (rc == 0)
		cg->limit = want;
	else
		cg->has_mem = 0;
}

static int create_v2(struct sbx_cg *cg, const struct sbx_limits *lim, unsigned slot)
{
	char parent[PATH_MAX], list[512];

	if (own_dir(parent, sizeof(parent), "") < 0 ||
	    make_group(cg->mem, sizeof(cg->mem), parent, slot) < 0)
		return -1;
	if (read_str(cg->mem, "cgroup.controllers", list, sizeof(list)) < 0)
		list[0] = '\0';
	if (!has_word(list, "memory") || !has_word(list, "pids")) {
		/* Fails when our own group holds processes (no internal processes in v2). */
		write_str(parent, "cgroup.subtree_control", "+memory +pids");
		if (read_str(cg->mem, "cgroup.controllers", list, sizeof(list)) < 0)
			list[0] = '\0';
	}
	cg->version = 2;
	cg->mem_procs_fd = open_procs(cg->mem, cg->version);
	if (cg->mem_procs_fd >= 0) {
		cg->has_mem = has_word(list, "memory");
		cg->has_pids = has_word(list, "pids");
		cg->has_cpu = 1; /* cpu.stat exists in every v2 group */
	}
	if (cg->has_mem)
		write_str(cg->mem, "memory.swap.max", "0");
	apply_limits(cg, lim);
	return 0;
}

static void create_v1(struct sbx_cg *cg, const struct sbx_limits *lim, unsigned slot)
{
	char parent[PATH_MAX];

	cg->version = 1;
	if (own_dir(parent, sizeof(parent), "memory") == 0 &&
	    make_group(cg->mem, sizeof(cg->mem), parent, slot) == 0) {
		cg->mem_procs_fd = open_procs(cg->mem, cg->version);
		cg->has_mem = cg->mem_procs_fd >= 0;
	}
	if (own_dir(parent, sizeof(parent), "pids") == 0 &&
	    make_group(cg->pids, sizeof(cg->pids), parent, slot) == 0) {
		cg->pids_procs_fd = open_procs(cg->pids, cg->version);
		cg->has_pids = cg->pids_procs_fd >= 0;
	}
	/* cpuacct only measures: the whole run's CPU time, watched by the caller */
	if (own_dir(parent, sizeof(parent), "cpuacct") == 0 &&
	    make_group(cg->cpu, sizeof(cg->cpu), parent, slot) == 0) {
		cg->cpu_procs_fd = open_procs(cg->cpu, cg->version);
		cg->has_cpu = cg->cpu_procs_fd >= 0;
	}
	apply_limits(cg, lim);
}

/*
 * Create the slot's groups and set their limits. Never fails hard: what
 * cannot be created is reported as absent (has_mem/has_pids = 0) and the
 * caller falls back to rlimits. Returns 0.
 */
int sbx_cg_create(struct sbx_cg *cg, const struct sbx_limits *lim, unsigned slot,
		  struct gr_err *err)
{
	struct sbx_probe p;

	(void)err;
	memset(cg, 0, sizeof(*cg));
	cg->mem_procs_fd = cg->pids_procs_fd = cg->cpu_procs_fd = -1;
	sbx_cg_probe(&p);
	if (p.cgroup_version == 2 && (p.cg_memory || p.cg_pids || access(CG_ROOT, W_OK) == 0))
		create_v2(cg, lim, slot);
	else if (p.cgroup_version == 1)
		create_v1(cg, lim, slot);
	return 0;
}

static const char *mem_counter_file(const struct sbx_cg *cg)
{
	return cg->version == 2 ? "memory.events" : "memory.oom_control";
}

static long read_long(const char *dir, const char *file)
{
	char buf[64];

	if (read_str(dir, file, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/*
 * Before a run: uncharge what earlier runs left (page cache of files they
 * wrote) when it is a sizeable part of the limit, reset the peak, and
 * remember the usage and OOM-kill counters so the run is measured alone.
 */
void sbx_cg_before_run(struct sbx_cg *cg, const struct sbx_limits *lim)
{
	const char *usage = cg->version == 1 ? "memory.usage_in_bytes" : "memory.current";

	apply_limits(cg, lim);
	cg->cpu_before = 0;
	cg->cpu_before = sbx_cg_cpu_ns(cg);
	if (!cg->has_mem)
		return;
	cg->usage_before = read_long(cg->mem, usage);
	if (cg->version == 1 && cg->limit && cg->usage_before > cg->limit / 4) {
		/* costs about a millisecond, so only when it matters */
		write_str(cg->mem, "memory.force_empty", "0");
		cg->usage_before = read_long(cg->mem, usage);
	}
	if (cg->version == 1)
		write_str(cg->mem, "memory.max_usage_in_bytes", "0");
	else
		write_str(cg->mem, "memory.peak", "0"); /* resets on kernels >= 6.12 */
	cg->oom_before = read_key(cg->mem, mem_counter_file(cg), "oom_kill");
}

/* After a run: the memory it added at its peak (kB, -1 unknown), and whether the OOM killer fired.
 */
void sbx_cg_after_run(struct sbx_cg *cg, long *peak_kb, int *oom)
{
	long peak;

	*peak_kb = -1;
	*oom = 0;
	if (!cg->has_mem)
		return;
	peak = read_long(cg->mem, cg->version == 1 ? "memory.max_usage_in_bytes" : "memory.peak");
	if (peak >= 0)
		*peak_kb = (peak - (cg->usage_before > 0 ? cg->usage_before : 0)) / 1024;
	*oom = read_key(cg->mem, mem_counter_file(cg), "oom_kill") > cg->oom_before;
}

long long sbx_cg_cpu_ns(const struct sbx_cg *cg)
{
	long long now;

	if (!cg->has_cpu)
		return -1;
	if (cg->version == 1) {
		now = read_long(cg->cpu, "cpuacct.usage");
	} else {
		now = read_key(cg->mem, "cpu.stat", "usage_usec");
		now = now < 0 ? -1 : now * 1000;
	}
	if (now < 0 || cg->cpu_before < 0)
		return -1;
	return now - cg->cpu_before;
}

static void remove_dir(const char *dir)
{
	struct timespec ts = {0, 2000000};

	/* The last processes of a run may still be leaving the group. */
	for (int i = 0; i < 500; i++) {
		if (rmdir(dir) == 0 || errno != EBUSY)
			return;
		nanosleep(&ts, NULL);
	}
}

void sbx_cg_destroy(struct sbx_cg *cg)
{
	if (cg->mem_procs_fd >= 0)
		close(cg->mem_procs_fd);
	if (cg->pids_procs_fd >= 0)
		close(cg->pids_procs_fd);
	if (cg->cpu_procs_fd >= 0)
		close(cg->cpu_procs_fd);
	cg->mem_procs_fd = cg->pids_procs_fd = cg->cpu_procs_fd = -1;
	if (cg->mem[0])
		remove_dir(cg->mem);
	if (cg->pids[0])
		remove_dir(cg->pids);
	if (cg->cpu[0])
		remove_dir(cg->cpu);
	cg->mem[0] = cg->pids[0] = cg->cpu[0] = '\0';
	cg->has_mem = cg->has_pids = cg->has_cpu = 0;
}
