/*
 * sbx_probe.c - which protections this host gives: namespaces (tried in a
 * throw-away child), cgroups, seccomp, uid switching.
 */
#include <errno.h>
#include <fcntl.h>
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
    {CLONE_NEWUSER, "user"},   {CLONE_NEWPID, "pid"}, {CLONE_NEWNS, "mount"},
    {CLONE_NEWNET, "network"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
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
			if (p2 > 0 && waitpid(p2, &st, 0) == p2 && WIFEXITED(st) &&
			    !WEXITSTATUS(st))
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

#define LINE(...)                                                                                  \
	do {                                                                                       \
		size_t used_ = strlen(p->detail);                                                  \
		snprintf(p->detail + used_, sizeof(p->detail) - used_, __VA_ARGS__);               \
	} while (0)

/*
 * Complete a probe whose namespace bits (bit i: ns_list[i]) are known: the
 * other protections, the report and `complete`.
 */
void sbx_probe_finish(struct sbx_probe *out, int bits)
{
	struct sbx_probe probe, *p = &probe;
	int root = geteuid() == 0;
	int *fields[] = {&p->userns, &p->pidns, &p->mntns, &p->netns, &p->ipcns, &p->utsns};
	char missing[256] = "";

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < sizeof(ns_list) / sizeof(ns_list[0]); i++) {
		*fields[i] = !!(bits & (1 << i));
		LINE("%-12s%-10s %s%s\n", "namespace", ns_list[i].name, *fields[i] ? "yes" : "NO",
		     i == 0 && root ? " (not needed as root)" : "");
		if (!*fields[i] && (i > 0 || !root))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s namespace", missing[0] ? ", " : "", ns_list[i].name);
	}
	sbx_cg_probe(p);
	LINE("%-22s %s\n", "cgroups",
	     p->cgroup_version ? (p->cgroup_version == 1 ? "v1" : "v2") : "NO");
	LINE("%-22s %s\n", "cgroup memory",
	     p->cg_memory ? "yes" : "NO (rlimit on address space instead)");
	LINE("%-22s %s\n", "cgroup pids", p->cg_pids ? "yes" : "NO (RLIMIT_NPROC instead)");
	LINE("%-22s %s\n", "cgroup cpu",
	     p->cg_cpu ? "yes (CPU time of the whole run)" : "no (RLIMIT_CPU per process only)");
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
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%sseccomp",
			 missing[0] ? ", " : "");
	p->complete = missing[0] == '\0';
	if (p->complete)
		LINE("%-22s %s\n", "sandbox", "complete");
	else
		LINE("%-22s WEAKER: missing %s\n", "sandbox", missing);
	*out = probe;
}

/*
 * Fill `out` with what this host offers and a human report (one line per
 * protection, as `grader doctor` prints it). `complete` is set when every
 * protection needed for untrusted code is present. Always returns 0.
 */
int sbx_probe_host(struct sbx_probe *out, struct gr_err *err)
{
	(void)err;
	sbx_probe_finish(out, try_namespaces());
	return 0;
}

/*
 * The fast path of sbx_new() as root: one child unshares every namespace at
 * once; when that works, its (empty) network namespace is kept open in
 * *netns_fd and reused by every run of the sandbox, since creating a network
 * namespace is the most expensive step of a run. Returns the namespace bits,
 * or -1 when the combined unshare failed (then probe each one).
 */
int sbx_probe_fast(int *netns_fd)
{
	int go[2] = {-1, -1}, ack[2] = {-1, -1}, st, bits = -1;
	char c = 0, path[64];
	pid_t pid;

	*netns_fd = -1;
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ack, O_CLOEXEC) < 0)
		goto done;
	pid = fork();
	if (pid < 0)
		goto done;
	if (pid == 0) {
		close(go[1]);
		char ok = unshare(CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC |
				  CLONE_NEWUTS) == 0
			      ? 'y'
			      : 'n';
		if (write(ack[1], &ok, 1) != 1 || read(go[0], &ok, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ack[1]);
	ack[1] = -1;
	if (read(ack[0], &c, 1) == 1 && c == 'y') {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		*netns_fd = open(path, O_RDONLY | O_CLOEXEC);
		bits = 0x3e; /* pid, mount, network, ipc, uts; user is not needed as root */
		if (access("/proc/self/ns/user", F_OK) == 0)
			bits |= 1;
	}
	close(go[1]);
	go[1] = -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
done:
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (ack[i] >= 0)
			close(ack[i]);
	}
	return *netns_fd >= 0 ? bits : -1;
}
