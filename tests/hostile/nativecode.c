/*
 * nativecode.c [jit] - try every way we know to run machine code the box
 * wrote: an ELF and a shared object copied to /box, /tmp and /dev/shm then
 * exec'd, dlopen'ed, mapped executable (also through /proc/self/fd);
 * anonymous executable memory, writable+executable file mappings,
 * mprotect/pkey_mprotect adding PROT_EXEC, SysV SHM_EXEC, /dev/zero mapped
 * executable, a write through /proc/self/mem, memfd_create; and the file
 * watchers (inotify on /etc, fanotify). Controls: system libraries still map
 * and dlopen, /bin/true still runs, plain RW memory still works.
 * With "jit" (run under --allow-jit) the W^X checks expect success instead,
 * and everything else must still be refused.
 * Every line is printed; exit 0 when every expectation held.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIBM "/usr/lib/x86_64-linux-gnu/libm.so.6"

static int bad;

/* rc < 0 with errno in {want, want2} is a refusal. */
static void refused(const char *what, long rc, int want, int want2)
{
	int e = errno;
	if (rc >= 0 || (e != want && e != want2)) {
		printf("%-40s rc=%ld errno=%s: NOT REFUSED\n", what, rc,
		       rc < 0 ? strerrorname_np(e) : "-");
		bad = 1;
	} else {
		printf("%-40s refused (%s)\n", what, strerrorname_np(e));
	}
}

static void works(const char *what, long rc)
{
	if (rc < 0) {
		printf("%-40s FAILED (%s)\n", what, strerrorname_np(errno));
		bad = 1;
	} else {
		printf("%-40s works\n", what);
	}
}

/* dlopen must fail; dlerror() says why. */
static void no_dlopen(const char *what, const char *path)
{
	void *h = dlopen(path, RTLD_NOW);

	if (h) {
		printf("%-40s NOT REFUSED\n", what);
		bad = 1;
	} else {
		printf("%-40s refused (%s)\n", what, dlerror());
	}
}

static long map_rc(void *p)
{
	return p == MAP_FAILED ? -1 : 0;
}

static int copy(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	close(out);
	return 0;
}

/* 0 when argv ran, -1 with errno from the exec otherwise. */
static long run(const char *path, int by_fd)
{
	int p[2], st, e = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char *argv[] = {(char *)path, NULL}, *envp[] = {NULL};
		if (by_fd) {
			char fdp[64];
			int fd = open(path, O_RDONLY);
			snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", fd);
			execve(fdp, argv, envp);
		} else {
			execve(path, argv, envp);
		}
		e = errno;
		if (write(p[1], &e, sizeof(e)) < 0)
			_exit(2);
		_exit(1);
	}
	close(p[1]);
	if (read(p[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	errno = e;
	return e ? -1 : 0;
}

/* An ELF and a library written into a writable place: none of it may run. */
static void writable_place(const char *dir)
{
	char elf[128], lib[128], what[128], fdp[64];
	void *m;
	int fd;

	snprintf(elf, sizeof(elf), "%s/true.elf", dir);
	snprintf(lib, sizeof(lib), "%s/libm-copy.so", dir);
	if (copy("/bin/true", elf) < 0 || copy(LIBM, lib) < 0) {
		printf("%-40s cannot write (%s)\n", dir, strerrorname_np(errno));
		bad = 1;
		return;
	}
	snprintf(what, sizeof(what), "execve %s", elf);
	refused(what, run(elf, 0), EACCES, EPERM);
	snprintf(what, sizeof(what), "execve /proc/self/fd of %s", elf);
	refused(what, run(elf, 1), EACCES, EPERM);
	fd = open(lib, O_RDONLY);
	snprintf(what, sizeof(what), "fexecve-style execveat %s", elf);
	refused(what,
		syscall(SYS_execveat, open(elf, O_RDONLY), "", (char *[]){elf, NULL},
			(char *[]){NULL}, AT_EMPTY_PATH),
		EACCES, EPERM);
	snprintf(what, sizeof(what), "mmap PROT_EXEC %s", lib);
	m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	refused(what, map_rc(m), EPERM, EACCES);
	snprintf(what, sizeof(what), "dlopen %s", lib);
	no_dlopen(what, lib);
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", fd);
	snprintf(what, sizeof(what), "dlopen /proc/self/fd of %s", lib);
	no_dlopen(what, fdp);
	close(fd);
}

/* Writable memory turned executable, by every route; `jit`: each must work. */
static void wx(int jit)
{
	void (*check)(const char *, long, int, int) = refused;
	long pg = sysconf(_SC_PAGESIZE), rc;
	int fd = open(LIBM, O_RDONLY), shm;
	void *m;

#define WX(what, rc)                                                                               \
	do {                                                                                       \
		long r_ = (rc);                                                                    \
		if (jit)                                                                           \
			works(what, r_);                                                           \
		else                                                                               \
			check(what, r_, EPERM, EACCES);                                            \
	} while (0)
	m = mmap(NULL, pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WX("mmap anonymous RWX", map_rc(m));
	m = mmap(NULL, pg, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WX("mmap anonymous RX", map_rc(m));
	m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	works("mmap anonymous RW (control)", map_rc(m));
	memset(m, 0xc3, 16); /* ret */
	WX("mprotect RW -> RX", mprotect(m, pg, PROT_READ | PROT_EXEC));
	WX("pkey_mprotect RW -> RX", syscall(SYS_pkey_mprotect, m, pg, PROT_READ | PROT_EXEC, -1));
	works("mprotect RW -> R (control)", mprotect(m, pg, PROT_READ));
	m = mmap(NULL, pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, fd, 0);
	WX("mmap libm private RWX", map_rc(m));
	m = mmap(NULL, pg, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	works("mmap libm RX (control)", map_rc(m));
	rc = mprotect(m, pg, PROT_READ | PROT_WRITE);
	works("mprotect libm RX -> RW (drops exec)", rc);
	WX("mprotect libm back to RX", mprotect(m, pg, PROT_READ | PROT_EXEC));
	shm = shmget(IPC_PRIVATE, pg, IPC_CREAT | 0700); /* x: SHM_EXEC needs it */
	m = shmat(shm, NULL, SHM_EXEC);
	WX("shmat SHM_EXEC", map_rc(m));
	m = shmat(shm, NULL, 0);
	works("shmat RW (control)", map_rc(m));
	shmctl(shm, IPC_RMID, NULL);
	close(fd);
#undef WX
}

static void always_refused(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open("/dev/zero", O_RDWR);
	void *m = mmap(NULL, pg, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);

	refused("mmap /dev/zero shared RX", map_rc(m), EPERM, EACCES);
	close(fd);
	refused("open /proc/self/mem for writing", open("/proc/self/mem", O_RDWR), EROFS, EACCES);
	refused("memfd_create", syscall(SYS_memfd_create, "x", 0), EPERM, EPERM);
	refused("memfd_secret", syscall(SYS_memfd_secret, 0), EPERM, ENOSYS);
	m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	refused("remap_file_pages", syscall(SYS_remap_file_pages, m, pg, 0, 1, 0), EPERM, EPERM);
	refused("inotify_init", syscall(SYS_inotify_init), EPERM, EPERM);
	refused("inotify_init1", inotify_init1(0), EPERM, EPERM);
	refused("fanotify_init", syscall(SYS_fanotify_init, 0, 0), EPERM, EPERM);
	refused("personality(READ_IMPLIES_EXEC)", personality(READ_IMPLIES_EXEC), EPERM, EPERM);
	refused("userfaultfd", syscall(SYS_userfaultfd, 0), EPERM, EPERM);
	works("dlopen libm.so.6 (control)", dlopen("libm.so.6", RTLD_NOW) ? 0 : -1);
	works("execve /bin/true (control)", run("/bin/true", 0));
}

int main(int argc, char **argv)
{
	int jit = argc > 1 && !strcmp(argv[1], "jit");

	setvbuf(stdout, NULL, _IOLBF, 0);
	writable_place("/box");
	writable_place("/tmp");
	writable_place("/dev/shm");
	wx(jit);
	always_refused();
	return bad;
}
