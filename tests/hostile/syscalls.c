/*
 * syscalls.c - call what the seccomp policy refuses and check the answer:
 * EPERM for ptrace, mount, unshare, namespaced clone, keyctl, bpf,
 * perf_event_open, userfaultfd, personality changes, setsid, TIOCSTI,
 * process_vm_readv; ENOSYS for clone3 and io_uring_setup. Exit 0 when every
 * answer was a refusal; each one is printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int bad;

static void expect(const char *what, long rc, int want)
{
	int e = errno;
	if (rc >= 0 || e != want) {
		printf("%-28s rc=%ld errno=%s (want %s): NOT REFUSED\n", what, rc,
		       rc < 0 ? strerrorname_np(e) : "-", strerrorname_np(want));
		bad = 1;
	} else {
		printf("%-28s refused (%s)\n", what, strerrorname_np(e));
	}
}

int main(void)
{
	char buf[16] = "x";
	struct iovec l = {buf, 1}, r = {buf, 1};
	struct {
		unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		    stack_size, tls;
	} args = {0};
	pid_t child;

	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	errno = 0;
	expect("ptrace(ATTACH)", ptrace(PTRACE_ATTACH, child, 0, 0), EPERM);
	expect("ptrace(TRACEME)", ptrace(PTRACE_TRACEME, 0, 0, 0), EPERM);
	expect("process_vm_readv", process_vm_readv(child, &l, 1, &r, 1, 0), EPERM);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	expect("mount(tmpfs)", mount("none", "/tmp", "tmpfs", 0, NULL), EPERM);
	expect("umount(/proc)", umount2("/proc", MNT_DETACH), EPERM);
	expect("fsopen", syscall(SYS_fsopen, "tmpfs", 0), EPERM);
	expect("open_tree", syscall(SYS_open_tree, -100, "/", 1), EPERM);
	expect("unshare(NEWUSER)", unshare(CLONE_NEWUSER), EPERM);
	expect("unshare(NEWNET)", unshare(CLONE_NEWNET), EPERM);
	expect("setns", setns(0, 0), EPERM);
	expect("clone(NEWUSER)", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
	expect("clone(NEWPID)", syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0), EPERM);
	args.exit_signal = SIGCHLD;
	expect("clone3", syscall(SYS_clone3, &args, sizeof(args)), ENOSYS);
	expect("io_uring_setup", syscall(SYS_io_uring_setup, 8, buf), ENOSYS);
	expect("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM);
	expect("add_key", syscall(SYS_add_key, "user", "k", "v", 1, -3), EPERM);
	expect("bpf", syscall(SYS_bpf, 0, buf, 0), EPERM);
	expect("perf_event_open", syscall(SYS_perf_event_open, buf, 0, -1, -1, 0), EPERM);
	expect("userfaultfd", syscall(SYS_userfaultfd, 0), EPERM);
	expect("personality(NO_RANDOMIZE)", personality(ADDR_NO_RANDOMIZE), EPERM);
	expect("personality(PER_LINUX32)", personality(PER_LINUX32), EPERM);
	expect("setsid", setsid(), EPERM);
	expect("setpgid", setpgid(0, 0), EPERM);
	expect("ioctl(TIOCSTI)", ioctl(0, TIOCSTI, "x"), EPERM);
	/* high bits set: still TIOCSTI for the kernel, still refused */
	expect("ioctl(TIOCSTI|1<<32)", syscall(SYS_ioctl, 0, (1UL << 32) | TIOCSTI, "x"), EPERM);
	expect("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0), EPERM);
	expect("init_module", syscall(SYS_init_module, buf, 1, ""), EPERM);
	expect("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0), EPERM);
	expect("swapon", syscall(SYS_swapon, "/box", 0), EPERM);
	/* what must keep working */
	if (personality(0xffffffff) < 0) {
		printf("personality(query) refused: should work\n");
		bad = 1;
	}
	child = fork();
	if (child < 0) {
		printf("fork refused: should work\n");
		bad = 1;
	} else if (child == 0) {
		_exit(0);
	} else {
		waitpid(child, NULL, 0);
	}
	printf(bad ? "some calls were not refused\n" : "all refused\n");
	return bad;
}
