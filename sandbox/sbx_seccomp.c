/*
 * sbx_seccomp.c - the seccomp policy of the box, compiled once with
 * libseccomp into raw BPF so that the child only has to load it (no
 * allocation after fork).
 *
 * Default allow; the filter removes the kernel surface a student program has
 * no business touching (debugging other processes, mounts, namespaces, keys,
 * bpf, perf, io_uring, non-local sockets, terminal injection, watching files,
 * ...). Foreign ABIs (x32, and i386 through `int 0x80`) hit the bad-arch
 * action, which kills the whole process.
 *
 * W^X (unless cfg->allow_jit): no memory is ever both writable and
 * executable, and nothing becomes executable after being mapped. With the
 * writable mounts noexec (sbx_child.c), the only executable memory is a file
 * of the read-only system root, mapped as it is: native code a student
 * wrote cannot run inside the box's processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbx_int.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Refused with EPERM whatever their arguments. */
static const char *const denied[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "lookup_dcookie",
    "open_by_handle_at",
    "name_to_handle_at",
    "syslog",
    "vhangup",
    "uselib",
    "_sysctl",
    "nfsservctl",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "setsid",
    "setpgid",
    "fanotify_init",
    "inotify_init",
    "inotify_init1",
    "pidfd_getfd",
    "memfd_create", /* an anonymous file on no mount of ours: executable */
    "memfd_secret",
    "remap_file_pages", /* rewires a shared mapping's pages in place */
};

/* Answered with ENOSYS so that libraries fall back (clone3 -> clone). */
static const char *const nosys[] = {
    "clone3",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
};

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
	       const struct scmp_arg_cmp *cmp, struct gr_err *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	if (nr == __NR_SCMP_ERROR)
		return 0; /* unknown to this libseccomp/arch: nothing to filter */
	rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (rc < 0)
		return gr_err_sys(err, GR_ESYS, -rc, "cannot add seccomp rule for '%s'", name);
	return 0;
}

/*
 * personality() may only query (0xffffffff) or set PER_LINUX (0): one masked
 * comparison per rule covers every other 32-bit value as prefix blocks.
 */
static int add_personality(scmp_filter_ctx ctx, struct gr_err *err)
{
	for (unsigned k = 0; k < 31; k++) {
		uint64_t mask = (~((1ull << k) - 1)) & 0xffffffffull;
		struct scmp_arg_cmp lo = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, 1ull << k);
		struct scmp_arg_cmp hi = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, mask & ~(1ull << k));
		int rc;

		if ((rc = add(ctx, SCMP_ACT_ERRNO(EPERM), "personality", 1, &lo, err)) < 0 ||
		    (rc = add(ctx, SCMP_ACT_ERRNO(EPERM), "personality", 1, &hi, err)) < 0)
			return rc;
	}
	return 0;
}

/*
 * W^X with masked comparisons on the protection and flag bits: anonymous
 * executable mappings, mappings both writable and executable (a private
 * copy of a system library's pages would do), PROT_EXEC added later by
 * mprotect/pkey_mprotect, and System V segments attached SHM_EXEC.
 * File-backed read+exec mappings (ld.so, dlopen) stay allowed; noexec on
 * every writable mount makes those system files only.
 */
static int add_wx(scmp_filter_ctx ctx, struct gr_err *err)
{
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	struct scmp_arg_cmp anon_x[] = {
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),
	    SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS),
	};
	struct scmp_arg_cmp wx =
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC);
	struct scmp_arg_cmp x = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC);
	struct scmp_arg_cmp shm_x = SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC);
	int rc;

	if ((rc = add(ctx, eperm, "mmap", 2, anon_x, err)) < 0 ||
	    (rc = add(ctx, eperm, "mmap", 1, &wx, err)) < 0 ||
	    (rc = add(ctx, eperm, "mprotect", 1, &x, err)) < 0 ||
	    (rc = add(ctx, eperm, "pkey_mprotect", 1, &x, err)) < 0 ||
	    (rc = add(ctx, eperm, "shmat", 1, &shm_x, err)) < 0)
		return rc;
	return 0;
}

static int build(scmp_filter_ctx ctx, int allow_jit, struct gr_err *err)
{
	static const unsigned long ns_flags[] = {
	    CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,	  CLONE_NEWNET,
	    CLONE_NEWIPC, CLONE_NEWUTS,	 CLONE_NEWCGROUP, CLONE_NEWTIME,
	};
	static const unsigned long bad_ioctls[] = {TIOCSTI, TIOCLINUX};
	int rc;

	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if ((rc = add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0, NULL, err)) < 0)
			return rc;
	for (size_t i = 0; i < sizeof(nosys) / sizeof(nosys[0]); i++)
		if ((rc = add(ctx, SCMP_ACT_ERRNO(ENOSYS), nosys[i], 0, NULL, err)) < 0)
			return rc;
	/* clone(): threads and forks yes, new namespaces no (x86-64: flags in arg 0). */
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		if ((rc = add(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, &c, err)) < 0)
			return rc;
	}
	/* ioctl request numbers are 32-bit: compare the low half only. */
	for (size_t i = 0; i < sizeof(bad_ioctls) / sizeof(bad_ioctls[0]); i++) {
		struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffull, bad_ioctls[i]);
		if ((rc = add(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &c, err)) < 0)
			return rc;
	}
	/* Only local sockets; the fresh network namespace covers abstract AF_UNIX names. */
	{
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
		if ((rc = add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &c, err)) < 0 ||
		    (rc = add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketpair", 1, &c, err)) < 0)
			return rc;
	}
	if (!allow_jit && (rc = add_wx(ctx, err)) < 0)
		return rc;
	return add_personality(ctx, err);
}

/*
 * Compile the policy for the native ABI only. libseccomp sends every other
 * ABI (x32 syscall numbers, i386 `int 0x80`) to the bad-arch action, set to
 * kill the whole process. The BPF is exported through a memfd into a heap
 * array (`prog->filter`, freed by the caller).
 */
int sbx_seccomp_compile(struct sock_fprog *prog, int allow_jit, struct gr_err *err)
{
	scmp_filter_ctx ctx = NULL;
	int fd = -1, rc;
	struct stat st;
	struct sock_filter *code = NULL;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		rc = gr_err_set(err, GR_ESYS, "cannot initialise libseccomp");
		goto done;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc < 0) {
		rc = gr_err_sys(err, GR_ESYS, -rc, "cannot set the seccomp bad-arch action");
		goto done;
	}
	/* We set no_new_privs ourselves, just before loading. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/*
	 * The same policy laid out as a binary tree of syscall numbers instead
	 * of a list: loading it in every worker (the kernel emulates the filter
	 * for each syscall number to fill its cache) takes half the time, about
	 * 0.1 ms per run. A libseccomp without the attribute keeps the list.
	 */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if ((rc = build(ctx, allow_jit, err)) < 0)
		goto done;
	fd = memfd_create("sbx-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		rc =
		    gr_err_sys(err, GR_ESYS, errno, "cannot create a memfd for the seccomp filter");
		goto done;
	}
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		rc = gr_err_sys(err, GR_ESYS, -rc, "cannot export the seccomp filter");
		goto done;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof(*code) ||
	    st.st_size / sizeof(*code) > BPF_MAXINSNS) {
		rc = gr_err_set(err, GR_ESYS, "the exported seccomp filter has a bad size");
		goto done;
	}
	code = malloc(st.st_size);
	if (!code) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (pread(fd, code, st.st_size, 0) != st.st_size) {
		rc = gr_err_sys(err, GR_ESYS, errno, "cannot read back the seccomp filter");
		goto done;
	}
	prog->len = (unsigned short)(st.st_size / sizeof(*code));
	prog->filter = code;
	code = NULL;
	rc = 0;
done:
	free(code);
	if (fd >= 0)
		close(fd);
	if (ctx)
		seccomp_release(ctx);
	return rc;
}
