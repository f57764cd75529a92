/*
 * sbx_child.c - everything that happens after fork(), in three processes:
 *
 *   setup  forked by the caller; joins the cgroups, unshares the namespaces,
 *          builds the private root, then clones `init` as a sibling
 *          (CLONE_PARENT: the caller waits on init directly) sharing its
 *          memory, stays stopped until init exits (vfork-like), and exits;
 *   init   pid 1 of the new pid namespace: reports its pid, mounts /proc,
 *          forks the worker,
 *          reaps everything, and when the worker ends reports its wait
 *          status and exits, which makes the kernel kill whatever is left in
 *          the namespace (setsid, double fork: nothing survives);
 *   worker rlimits, unprivileged uid, setsid, closed fds, clean environment,
 *          no_new_privs, seccomp; then execve() or fn().
 *
 * Setup failures are reported to the parent over the CLOEXEC report pipe and
 * the process _exit()s (isolate style). Nothing here allocates: the caller may
 * be a multi-threaded interpreter, and only async-signal-safe work is sound
 * after fork. Every exit is _exit(), so LeakSanitizer never runs here.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "sbx_int.h"

#define EXIT_SETUP 125 /* exit code of a process whose setup failed (reported) */

extern char **environ;

/* Send one message on the report pipe; a short write cannot be helped. */
static void send_msg(int fd, char type, int value, const char *text)
{
	struct sbx_msg m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.value = value;
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	n = write(fd, &m, sizeof(m));
	(void)n;
}

/* Report "<what>: <strerror(e)>" (e = 0: no suffix) and _exit(). */
static void __attribute__((noreturn, format(printf, 3, 4)))
die(const struct sbx_job *job, int e, const char *fmt, ...)
{
	char text[200];
	const char *desc;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* strerrordesc_np: no locale, no allocation. */
	desc = e ? strerrordesc_np(e) : NULL;
	if (desc && n >= 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - n, ": %s", desc);
	send_msg(job->rep_w, SBX_MSG_ERR, e, text);
	_exit(EXIT_SETUP);
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		rc = -1;
	close(fd);
	return rc;
}

/* mkdir -p into a stack buffer; the leaf is a directory, or an empty file when `file`. */
static int make_target(const char *path, int file)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (file) {
		int fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno == EROFS || errno == EEXIST ? 0 : -1;
		close(fd);
		return 0;
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST && errno != EROFS)
		return -1;
	return 0;
}

/*
 * The mount flags a user namespace may not drop (they are locked), so a
 * remount must repeat them.
 */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* How bind() mounts: writable (else read-only), and whether nothing may run from it. */
enum { BIND_RW = 1, BIND_NOEXEC = 2 };

/*
 * Bind `src` (under /oldroot) at `dst`, read-only unless BIND_RW, always
 * nosuid and nodev, noexec with BIND_NOEXEC. As root the bind is not
 * recursive (mounts below `src` stay hidden); in a user namespace the kernel
 * refuses that when the host has mounts below `src`, so the bind is recursive
 * and its flags are set recursively.
 */
static void bind(const struct sbx_job *job, const char *src, const char *dst, int how)
{
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | locked_flags(src);
	int rec = !job->s->root, rw = how & BIND_RW;

	if (mount(src, dst, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
		die(job, errno, "cannot bind '%s'", src + strlen("/oldroot"));
	if (!rw)
		flags |= MS_RDONLY;
	if (how & BIND_NOEXEC)
		flags |= MS_NOEXEC;
	if (rec) {
		struct {
			unsigned long long set, clr, prop, userns;
		} attr = {0x1 /* RDONLY */ | 0x2 /* NOSUID */ | 0x4 /* NODEV */, 0, 0, 0};
		if (rw)
			attr.set &= ~0x1ull;
		if (how & BIND_NOEXEC)
			attr.set |= 0x8ull; /* NOEXEC */
		if (syscall(SYS_mount_setattr, AT_FDCWD, dst, 0x8000 /* AT_RECURSIVE */, &attr,
			    sizeof(attr)) == 0)
			return;
	}
	if (mount(NULL, dst, NULL, flags, NULL) < 0)
		die(job, errno, "cannot remount '%s' read-only", dst);
}

static void tmpfs(const struct sbx_job *job, const char *dst, const char *opts, unsigned long fl)
{
	if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | fl, opts) < 0)
		die(job, errno, "cannot mount a tmpfs on '%s'", dst);
}

/* The system directories: symlinks copied as symlinks, directories bound read-only. */
static void system_dirs(const struct sbx_job *job)
{
	static const char *const names[] = {"usr",   "bin",   "sbin",	"lib",
					    "lib32", "lib64", "libx32", "etc"};
	char src[64], target[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(src, sizeof(src), "/oldroot/%s", names[i]);
		if (lstat(src, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(src, target, sizeof(target) - 1);
			if (n < 0)
				die(job, errno, "cannot read link '/%s'", names[i]);
			target[n] = '\0';
			if (symlink(target, src + strlen("/oldroot")) < 0)
				die(job, errno, "cannot link '/%s'", names[i]);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdir(src + strlen("/oldroot"), 0755) < 0)
				die(job, errno, "cannot create '/%s'", names[i]);
			bind(job, src, src + strlen("/oldroot"), 0);
		}
	}
}

static void extra_paths(const struct sbx_job *job)
{
	const char *const *p = job->s->cfg->ro_paths;
	char src[PATH_MAX];
	struct stat st;

	for (; p && *p; p++) {
		if ((*p)[0] != '/' ||
		    snprintf(src, sizeof(src), "/oldroot%s", *p) >= (int)sizeof(src))
			die(job, 0, "read-only path '%s' is not absolute", *p);
		if ((*p)[strspn(*p, "/")] == '\0')
			die(job, 0, "read-only path '%s' would show the whole host", *p);
		if (stat(src, &st) < 0)
			die(job, errno, "cannot see read-only path '%s'", *p);
		if (make_target(*p, !S_ISDIR(st.st_mode)) < 0)
			die(job, errno, "cannot create mount point '%s'", *p);
		bind(job, src, *p, 0);
	}
}

static void dev_dir(const struct sbx_job *job, const char *tmp_opts)
{
	static const char *const nodes[] = {"null", "zero", "full", "random", "urandom"};
	static const char *const links[][2] = {
	    {"/proc/self/fd", "/dev/fd"},
	    {"/proc/self/fd/0", "/dev/stdin"},
	    {"/proc/self/fd/1", "/dev/stdout"},
	    {"/proc/self/fd/2", "/dev/stderr"},
	};
	char src[64], dst[64];

	if (mkdir("/dev", 0755) < 0)
		die(job, errno, "cannot create '/dev'");
	tmpfs(job, "/dev", "mode=0755,size=64k,nr_inodes=64", MS_NOEXEC);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		int fd;
		snprintf(src, sizeof(src), "/oldroot/dev/%s", nodes[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", nodes[i]);
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0)
			die(job, errno, "cannot create '%s'", dst);
		close(fd);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			die(job, errno, "cannot bind '%s'", dst);
		/*
		 * Each node is a mount of its own: without noexec, a
		 * PROT_EXEC mapping of /dev/zero would be writable memory
		 * turned executable (nodev would break the node itself).
		 * Read-only, so that the box cannot change the host's inode
		 * (its times: a channel between boxes); writing to the
		 * device itself still works.
		 */
		if (mount(NULL, dst, NULL,
			  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOEXEC | MS_NOSUID |
			      locked_flags(src),
			  NULL) < 0)
			die(job, errno, "cannot remount '%s' noexec", dst);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			die(job, errno, "cannot link '%s'", links[i][1]);
	if (mkdir("/dev/shm", 01777) < 0)
		die(job, errno, "cannot create '/dev/shm'");
	tmpfs(job, "/dev/shm", tmp_opts, MS_NOEXEC);
	if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		die(job, errno, "cannot remount '/dev' read-only");
}

/*
 * Build the box's file system: a small tmpfs becomes the root (the host's
 * root is pivoted to /oldroot, used as the source of the binds, then
 * detached), with /usr, /etc, ... read-only, the work directory at /box
 * writable, fresh size-capped tmpfs on /tmp and /dev/shm, a minimal /dev and
 * an empty /proc for init to mount. The root itself ends read-only.
 */
static void build_root(const struct sbx_job *job)
{
	const struct sbx_limits *lim = &job->s->cfg->limits;
	char tmp_opts[96], src[PATH_MAX];

	snprintf(tmp_opts, sizeof(tmp_opts), "mode=1777,size=%zuk,nr_inodes=%zu",
		 lim->tmp_kb ? lim->tmp_kb : 65536, lim->tmp_kb ? lim->tmp_kb / 4 + 64 : 16384);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die(job, errno, "cannot make the mount tree private");
	tmpfs(job, "/tmp", "mode=0755,size=256k,nr_inodes=256", 0);
	if (chdir("/tmp") < 0 || mkdir("oldroot", 0700) < 0)
		die(job, errno, "cannot prepare the new root");
	if (syscall(SYS_pivot_root, ".", "oldroot") < 0)
		die(job, errno, "cannot pivot to the new root");
	if (chdir("/") < 0)
		die(job, errno, "cannot enter the new root");
	system_dirs(job);
	if (mkdir("/box", 0755) < 0 ||
	    snprintf(src, sizeof(src), "/oldroot%s", job->workdir) >= (int)sizeof(src))
		die(job, errno, "cannot create '/box'");
	bind(job, src, "/box", BIND_RW | BIND_NOEXEC);
	if (mkdir("/tmp", 01777) < 0)
		die(job, errno, "cannot create '/tmp'");
	tmpfs(job, "/tmp", tmp_opts, MS_NOEXEC);
	dev_dir(job, tmp_opts);
	extra_paths(job); /* last: a path under /tmp must not be hidden by the tmpfs */
	if (mkdir("/proc", 0555) < 0)
		die(job, errno, "cannot create '/proc'");
}

/*
 * Run by init once /proc is mounted: a user namespace may only mount a proc
 * while the host's is still visible (in /oldroot), so the host's root is
 * detached last. The root tmpfs then becomes read-only.
 */
static void finish_root(const struct sbx_job *job)
{
	if (umount2("/oldroot", MNT_DETACH) < 0 || rmdir("/oldroot") < 0)
		die(job, errno, "cannot detach the host's root");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		die(job, errno, "cannot remount the root read-only");
}

static void set_limit(const struct sbx_job *job, int res, const char *name, rlim_t soft,
		      rlim_t hard)
{
	struct rlimit rl = {soft, hard};

	if (setrlimit(res, &rl) < 0)
		die(job, errno, "cannot set %s", name);
}

static void limits(const struct sbx_job *job)
{
	const sbx *s = job->s;
	const struct sbx_limits *lim = &s->cfg->limits;

	if (lim->cpu_s > 0) {
		rlim_t sec = (rlim_t)lim->cpu_s;
		if ((double)sec < lim->cpu_s)
			sec++;
		set_limit(job, RLIMIT_CPU, "RLIMIT_CPU", sec, sec + 1);
	}
	/*
	 * Memory: the cgroup when we have one (it sees the whole tree and lets
	 * us report ML); otherwise the address space of each process. A
	 * sanitized (ASan) caller in fn mode reserves terabytes of shadow
	 * memory, so there the address-space limit would break the worker
	 * itself: it is skipped and only the cgroup applies.
	 */
	if (lim->mem_kb && !s->cg.has_mem && !job->asan_fn)
		set_limit(job, RLIMIT_AS, "RLIMIT_AS", (rlim_t)lim->mem_kb * 1024,
			  (rlim_t)lim->mem_kb * 1024);
	if (lim->fsize_kb)
		set_limit(job, RLIMIT_FSIZE, "RLIMIT_FSIZE", (rlim_t)lim->fsize_kb * 1024,
			  (rlim_t)lim->fsize_kb * 1024);
	if (lim->nofile)
		set_limit(job, RLIMIT_NOFILE, "RLIMIT_NOFILE", lim->nofile, lim->nofile);
	if (lim->procs && !s->cg.has_pids)
		set_limit(job, RLIMIT_NPROC, "RLIMIT_NPROC", lim->procs, lim->procs);
	set_limit(job, RLIMIT_CORE, "RLIMIT_CORE", 0, 0);
	set_limit(job, RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 0, 0);
}

/* No capabilities left, not even in the bounding set; then the box uid. */
static void drop_privileges(const struct sbx_job *job)
{
	const sbx *s = job->s;
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break;
	if (s->root) {
		if (setgroups(0, NULL) < 0)
			die(job, errno, "cannot drop supplementary groups");
		if (setresgid(s->box_gid, s->box_gid, s->box_gid) < 0)
			die(job, errno, "cannot switch to gid %d", (int)s->box_gid);
		if (setresuid(s->box_uid, s->box_uid, s->box_uid) < 0)
			die(job, errno, "cannot switch to uid %d", (int)s->box_uid);
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		die(job, errno, "cannot drop capabilities");
}

static void close_range_or_loop(unsigned lo, unsigned hi)
{
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	for (unsigned fd = lo; fd <= hi && fd < 65536; fd++)
		close((int)fd);
}

static int cmp_int(const int *a, const int *b)
{
	return (*a > *b) - (*a < *b);
}

/* Close every fd but 0, 1, 2, the kept ones and (until exec/fn) the report pipe. */
static void close_fds(const struct sbx_job *job)
{
	int keep[SBX_MAX_KEEP + 1], n = 0;
	unsigned lo = 3;
	const int *k = job->s->cfg->keep_fds;

	keep[n++] = job->rep_w;
	for (; k && *k >= 0 && n < SBX_MAX_KEEP + 1; k++)
		if (*k > 2)
			keep[n++] = *k;
	/* insertion sort: no qsort after fork, a handful of entries */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cmp_int(&keep[j - 1], &keep[j]) > 0; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		if ((unsigned)keep[i] < lo)
			continue;
		if ((unsigned)keep[i] > lo)
			close_range_or_loop(lo, keep[i] - 1);
		lo = keep[i] + 1;
	}
	close_range_or_loop(lo, ~0u);
	for (k = job->s->cfg->keep_fds; k && *k >= 0; k++) {
		int fl = fcntl(*k, F_GETFD);
		if (fl >= 0)
			fcntl(*k, F_SETFD, fl & ~FD_CLOEXEC);
	}
}

static void __attribute__((noreturn)) worker_main(const struct sbx_job *job)
{
	const sbx *s = job->s;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (s->root)
		write_file("/proc/self/oom_score_adj", "0");
	/*
	 * From here on /proc is read-only: a write through /proc/self/mem
	 * ignores page protections, which would undo W^X (read-only code
	 * pages patched in place). The bind remount changes only this mount.
	 */
	if ((s->ns_flags & (CLONE_NEWNS | CLONE_NEWPID)) == (CLONE_NEWNS | CLONE_NEWPID) &&
	    mount(NULL, "/proc", NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die(job, errno, "cannot remount '/proc' read-only");
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(job->out_w, 1) < 0 || dup2(job->err_w, 2) < 0)
		die(job, errno, "cannot set up standard streams");
	if (chdir((s->ns_flags & CLONE_NEWNS) ? "/box" : job->workdir) < 0)
		die(job, errno, "cannot enter the work directory");
	limits(job);
	drop_privileges(job);
	if (setsid() < 0)
		die(job, errno, "cannot start a session");
	close_fds(job);
	environ = s->envp;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(job, errno, "cannot set no_new_privs");
	if (s->prog.filter && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &s->prog) < 0)
		die(job, errno, "cannot load the seccomp filter");
	if (job->fn) {
		int rc;
		close(job->rep_w); /* the student may not forge a report */
		rc = job->fn(job->arg);
		_exit(rc & 0xff);
	}
	/* A program starts with default signal dispositions and nothing blocked. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(job->argv[0], job->argv);
	die(job, errno, "cannot run '%s'", job->argv[0]);
}

static void __attribute__((noreturn)) init_main(const struct sbx_job *job, pid_t self)
{
	const sbx *s = job->s;
	pid_t worker, w;
	int st;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/*
	 * Our parent is the caller (CLONE_PARENT), outside this pid namespace:
	 * getppid() says 0. Did it die before the line above? Then nobody
	 * reads the report pipe any more.
	 */
	{
		struct pollfd pf = {job->rep_w, POLLOUT, 0};
		if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLERR | POLLHUP)))
			_exit(EXIT_SETUP);
	}
	/* the caller waits for this pid (ours as it sees it) before anything else */
	send_msg(job->rep_w, SBX_MSG_PID, self, NULL);
	if ((s->ns_flags & (CLONE_NEWNS | CLONE_NEWPID)) == (CLONE_NEWNS | CLONE_NEWPID) &&
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die(job, errno, "cannot mount '/proc'");
	if (s->ns_flags & CLONE_NEWNS)
		finish_root(job);
	/* The OOM killer should pick the student's processes, never init. */
	if (s->root)
		write_file("/proc/self/oom_score_adj", "-1000");
	worker = fork();
	if (worker < 0)
		die(job, errno, "cannot fork the worker");
	if (worker == 0)
		worker_main(job);
	close(job->out_w);
	close(job->err_w);
	for (;;) {
		w = waitpid(-1, &st, 0);
		if (w == worker) {
			send_msg(job->rep_w, SBX_MSG_STATUS, st, NULL);
			_exit(0);
		}
		if (w < 0 && errno == ECHILD)
			_exit(EXIT_SETUP);
	}
}

/*
 * Start init: a child of the caller (CLONE_PARENT) that shares this setup
 * process's memory (CLONE_VM) while setup waits, stopped, until init exits
 * (CLONE_VFORK). Init never needs an address space of its own, only the
 * worker it forks does: sharing spares each run one copy of the caller's
 * address space and one teardown of it (about 2 ms of CPU with a preloaded
 * interpreter). Setup is single-threaded and stopped, so init is the only
 * user of this memory, and the worker's fork copies a consistent state.
 *
 * Like vfork(), init runs on this stack, below this frame, and never
 * returns here (init_main() ends in _exit()). Hence the syscall is issued
 * in place rather than through a libc function, whose return address the
 * child would overwrite, and this function is never inlined into a frame
 * the parent still needs. The kernel stores init's pid, as the caller sees
 * it, in `pid` before init runs (CLONE_PARENT_SETTID). x86-64 only, like
 * the seccomp filter. Returns init's pid in setup once init has exited,
 * -errno on failure.
 */
static __attribute__((noinline)) long start_init(const struct sbx_job *job)
{
	volatile pid_t pid = 0;
	register long r10 __asm__("r10") = 0; /* child_tid */
	register long r8 __asm__("r8") = 0;   /* tls */
	long r;

	__asm__ volatile(
	    "syscall"
	    : "=a"(r)
	    : "0"((long)SYS_clone),
	      "D"((long)(CLONE_VM | CLONE_VFORK | CLONE_PARENT | CLONE_PARENT_SETTID | SIGCHLD)),
	      "S"(0L), "d"(&pid), "r"(r10), "r"(r8)
	    : "rcx", "r11", "memory");
	if (r == 0)
		init_main(job, pid);
	return r;
}

/* Fields 26..51 of /proc/self/stat (1-based, as proc(5) counts them); 0 on failure. */
static int read_stat_fields(unsigned long long f[52])
{
	char buf[1024], *p;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p)
		return -1;
	p++;
	for (int i = 3; i < 52; i++) {
		char *end;
		while (*p == ' ')
			p++;
		f[i] = strtoull(p, &end, 10);
		if (end == p && i >= 26)
			return -1;
		p = end;
		while (*p && *p != ' ')
			p++; /* the state letter */
	}
	return 0;
}

/*
 * Init and a fn-mode worker are copies of the caller: /proc/1/cmdline and
 * /proc/1/environ would show the grader's command line and environment
 * (host paths, the rubric's). Make both ranges empty (as a kernel thread's)
 * instead of clearing the strings: the caller's argv strings are still in
 * use (the command to run, --env values). PR_SET_MM_MAP, unlike the single
 * fields, needs no CAP_SYS_RESOURCE; the other fields are set as they are.
 * Best effort: a kernel without it leaves the ranges (docs/sandbox.md).
 */
static void hide_cmdline(void)
{
	unsigned long long f[52];
	struct prctl_mm_map m;

	prctl(PR_SET_NAME, "init", 0, 0, 0);
	if (read_stat_fields(f) < 0)
		return;
	memset(&m, 0, sizeof(m));
	m.start_code = f[26];
	m.end_code = f[27];
	m.start_stack = f[28];
	m.start_data = f[45];
	m.end_data = f[46];
	m.start_brk = f[47];
	m.brk = (unsigned long)syscall(SYS_brk, 0);
	m.arg_start = m.arg_end = m.env_start = m.env_end = f[48];
	m.exe_fd = (unsigned)-1;
	prctl(PR_SET_MM, PR_SET_MM_MAP, &m, sizeof(m), 0);
}

/* Map our own uid/gid into the new user namespace (non-root hosts). */
static void map_ids(const struct sbx_job *job)
{
	char buf[64];

	if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		die(job, errno, "cannot deny setgroups");
	snprintf(buf, sizeof(buf), "%d %d 1\n", (int)job->s->box_uid, (int)job->s->host_uid);
	if (write_file("/proc/self/uid_map", buf) < 0)
		die(job, errno, "cannot write uid_map");
	snprintf(buf, sizeof(buf), "%d %d 1\n", (int)job->s->box_gid, (int)job->s->host_gid);
	if (write_file("/proc/self/gid_map", buf) < 0)
		die(job, errno, "cannot write gid_map");
}

void sbx_child_main(const struct sbx_job *job)
{
	const sbx *s = job->s;
	long r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != job->parent)
		_exit(EXIT_SETUP); /* the caller is already gone */
	/* Only the caller reads: its death must show as a broken pipe. */
	close(job->out_r);
	close(job->err_r);
	close(job->rep_r);
	/*
	 * Join the slot's cgroups first: every later process is charged to
	 * them. This process has a single thread, so moving it (v1: `tasks`)
	 * moves the whole process.
	 */
	if (s->cg.mem_procs_fd >= 0 && write(s->cg.mem_procs_fd, "0", 1) != 1)
		die(job, errno, "cannot join the memory cgroup");
	if (s->cg.pids_procs_fd >= 0 && write(s->cg.pids_procs_fd, "0", 1) != 1)
		die(job, errno, "cannot join the pids cgroup");
	if (s->cg.cpu_procs_fd >= 0 && write(s->cg.cpu_procs_fd, "0", 1) != 1)
		die(job, errno, "cannot join the cpuacct cgroup");
	if (s->netns_fd >= 0) {
		if (setns(s->netns_fd, CLONE_NEWNET) < 0)
			die(job, errno, "cannot enter the network namespace");
		if (unshare(s->ns_flags & ~CLONE_NEWNET) < 0)
			die(job, errno, "cannot create namespaces");
	} else if (s->ns_flags && unshare(s->ns_flags) < 0) {
		die(job, errno, "cannot create namespaces");
	}
	if (s->ns_flags & CLONE_NEWUSER)
		map_ids(job);
	hide_cmdline(); /* before build_root: it reads the host's /proc/self */
	if (s->ns_flags & CLONE_NEWUTS)
		if (sethostname("box", 3) < 0)
			die(job, errno, "cannot set the host name");
	if (s->ns_flags & CLONE_NEWNS)
		build_root(job);
	/*
	 * This process is single-threaded and was made by glibc's fork(), so
	 * its memory is consistent; init only uses glibc's fork() from here on.
	 * We are back once init has exited (it reported its pid itself).
	 */
	r = start_init(job);
	if (r < 0)
		die(job, (int)-r, "cannot start init");
	_exit(0);
}
