/*
 * sbx_probe.c - which protections this host gives: namespaces (tried in a
 * throw-away child), cgroups, seccomp, uid switching.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx_int.h"

static const struct {
	int flag;
	const char *name;
} ns_list[] = {
	{ CLONE_NEWUSER, "user" }, { CLONE_NEWPID, "pid" }, { CLONE_NEWNS, "mount" },
	{ CLONE_NEWNET, "network" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },
};

/* Bit i of the exit code: namespace ns_list[i] could be created. */
static int try_namespaces(void)
{
	pid_t pid = fork();
	int st, bits = 0;

	if (pid < 0)
		return 0;
	if (pid == 0) {
		int root = geteuid() == 0;
		/* As root try the user namespace apart; otherwise it must come first. */
		if (root) {
			pid_t p2 = fork();
			if (p2 == 0)
				_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
			if (p2 > 0 && waitpid(p2, &st, 0) == p2 && WIFEXITED(st) && !WEXITSTATUS(st))
				bits |= 1;
		} else if (unshare(CLONE_NEWUSER) == 0) {
			bits |= 1;
		} else {
			_exit(0);
		}
		for (size_t i = 1; i < sizeof(ns_list) / sizeof(ns_list[0]); i++)
			if (unshare(ns_list[i].flag) == 0)
				bits |= 1 << i;
		_exit(bits);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 0;
}

static int have_seccomp(void)
{
	unsigned action = SECCOMP_RET_KILL_PROCESS;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
		return 0;
	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

#define LINE(...)                                                                  \
	do {                                                                       \
		size_t used_ = strlen(p->detail);                                  \
		snprintf(p->detail + used_, sizeof(p->detail) - used_, __VA_ARGS__); \
	} while (0)

/*
 * Fill `out` with what this host offers and a human report (one line per
 * protection, as `grader doctor` prints it). `complete` is set when every
 * protection needed for untrusted code is present. Always returns 0.
 */
int sbx_probe_host(struct sbx_probe *out, struct gr_err *err)
{
	struct sbx_probe probe, *p = &probe;
	int bits, root = geteuid() == 0;
	int *fields[] = { &p->userns, &p->pidns, &p->mntns, &p->netns, &p->ipcns, &p->utsns };
	char missing[256] = "";

	(void)err;
	memset(p, 0, sizeof(*p));
	bits = try_namespaces();
	for (size_t i = 0; i < sizeof(ns_list) / sizeof(ns_list[0]); i++) {
		*fields[i] = !!(bits & (1 << i));
		LINE("%-12s%-10s %s%s\n", "namespace", ns_list[i].name, *fields[i] ? "yes" : "NO",
		     i == 0 && root ? " (not needed as root)" : "");
		if (!*fields[i] && (i > 0 || !root))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s namespace", missing[0] ? ", " : "", ns_list[i].name);
	}
	sbx_cg_probe(p);
	LINE("%-22s %s\n", "cgroups", p->cgroup_version ? (p->cgroup_version == 1 ? "v1" : "v2") : "NO");
	LINE("%-22s %s\n", "cgroup memory", p->cg_memory ? "yes" : "NO (rlimit on address space instead)");
	LINE("%-22s %s\n", "cgroup pids", p->cg_pids ? "yes" : "NO (RLIMIT_NPROC instead)");
	LINE("%-22s %s\n", "cgroup cpu", p->cg_cpu ? "yes" : "no (not used)");
	p->seccomp = have_seccomp();
	LINE("%-22s %s\n", "seccomp filter", p->seccomp ? "yes" : "NO");
	p->uid_switch = root;
	LINE("%-22s %s\n", "uid switching",
	     root ? "yes (uid 61000 + slot)" : "no (not root: the box keeps your uid)");
	if (!p->cg_memory)
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
			 "%scgroup memory", missing[0] ? ", " : "");
	if (!p->cg_pids)
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
			 "%scgroup pids", missing[0] ? ", " : "");
	if (!p->seccomp)
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
			 "%sseccomp", missing[0] ? ", " : "");
	p->complete = missing[0] == '\0';
	if (p->complete)
		LINE("%-22s %s\n", "sandbox", "complete");
	else
		LINE("%-22s WEAKER: missing %s\n", "sandbox", missing);
	*out = probe;
	return 0;
}
