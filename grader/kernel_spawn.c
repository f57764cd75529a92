/*
 * kernel_spawn.c - how the zygote process comes to be.
 *
 * The grader binary links libgit2, libcurl, glib, sqlite, ... : 58 shared
 * objects, about 330 mappings. Every notebook forks the zygote twice (the
 * sandbox's setup child, then the worker) and tears both copies down, and
 * fork and exit cost per mapping, so a zygote that is a plain fork of the
 * grader paid for libraries no notebook uses. The build embeds a lean
 * program (build/grader-zygote: the engine, the sandbox, CPython and the
 * 10 shared objects they need; grader/zygote/main.c) in the grader binary:
 * the forked child writes it into a sealed memfd and executes it, so the
 * product stays one file. Its command line is the caller's own (a zygote is
 * found by the command that started it, as before); its options follow over
 * the socket as the first message (KZ_OPTS).
 *
 * The memfd is root's and mode 0555 before it runs: every box reaches it as
 * /proc/self/exe and must not write anything on it (xattrs, times), as it
 * cannot on an installed binary. Hence only as root, where a box has a uid
 * of its own. Without the image (a program linked with libgrader.a alone, as
 * the unit tests are), as non-root, or when the exec fails (a kernel
 * refusing executable memfds), the child runs the zygote in place, a fork of
 * the caller, as it always did.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "kernel_int.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;

/* The lean zygote's ELF image (build/gen/zygote_image.o); absent unless linked in. */
extern const unsigned char kernel_zygote_image[] __attribute__((weak));
extern const unsigned char kernel_zygote_image_end[] __attribute__((weak));

/* The caller's argv, from /proc/self/cmdline (one heap block); NULL if unreadable. */
char **kspawn_argv(void)
{
	char buf[16384], **argv = NULL, *p;
	size_t n = 0, count = 0;
	ssize_t r;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (!n || n >= sizeof(buf) - 1)
		return NULL; /* empty, or too long to copy whole */
	if (buf[n - 1] != '\0')
		buf[n++] = '\0';
	for (size_t i = 0; i < n; i++)
		count += buf[i] == '\0';
	argv = malloc((count + 1) * sizeof(*argv) + n);
	if (!argv)
		return NULL;
	p = (char *)(argv + count + 1);
	memcpy(p, buf, n);
	for (size_t i = 0, a = 0; a < count; a++) {
		argv[a] = p + i;
		i += strlen(p + i) + 1;
	}
	argv[count] = NULL;
	return argv;
}

/*
 * The zygote's environment: the caller's, and LD_BIND_NOW so that the
 * dynamic linker resolves every library's functions once, in the zygote:
 * lazily bound, each child would look up the ones it calls first
 * (pthread_create's, PyOS_AfterFork_Child's), about 30 page faults per
 * notebook. The zygote's tidy() drops the whole environment after its
 * start. NULL when out of memory.
 */
char **kspawn_envp(void)
{
	size_t n = 0;
	char **envp;

	while (environ && environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0, k = 0; i < n; i++)
		if (strncmp(environ[i], "LD_BIND_NOW=", 12))
			envp[k++] = environ[i];
	for (n = 0; envp[n];)
		n++;
	envp[n] = "LD_BIND_NOW=1";
	return envp;
}

static json_t *str_list(const char *const *l)
{
	json_t *a;

	if (!l)
		return json_null();
	a = json_array();
	for (; a && *l; l++)
		json_array_append_new(a, json_string(*l));
	return a;
}

/* Every field of struct kernel_opts, to the zygote. */
int kspawn_send_opts(int sock, const struct kernel_opts *o)
{
	json_t *j = json_object();
	char *s = NULL, comm[17] = "";
	int rc = GR_ENOMEM;

	if (!j)
		return rc;
	json_object_set_new(j, "timeout_cell", json_real(o->timeout_cell));
	json_object_set_new(j, "timeout", json_real(o->timeout));
	json_object_set_new(j, "grace", json_real(o->grace));
	json_object_set_new(j, "mem_mb", json_integer((json_int_t)o->mem_mb));
	json_object_set_new(j, "procs", json_integer(o->procs));
	json_object_set_new(j, "output_cap", json_integer((json_int_t)o->output_cap));
	json_object_set_new(j, "preload", str_list(o->preload));
	json_object_set_new(j, "seed", json_integer(o->seed));
	json_object_set_new(j, "ipython", json_integer(o->ipython));
	json_object_set_new(j, "allow_ctypes", json_integer(o->allow_ctypes));
	json_object_set_new(j, "allow_jit", json_integer(o->allow_jit));
	json_object_set_new(j, "slot", json_integer(o->slot));
	json_object_set_new(j, "allow_weaker", json_integer(o->allow_weaker));
	json_object_set_new(j, "ro_paths", str_list(o->ro_paths));
	/* not an option: the process name, which the exec would change */
	if (prctl(PR_GET_NAME, comm, 0, 0, 0) == 0)
		json_object_set_new(j, "comm", json_string(comm));
	s = json_dumps(j, JSON_COMPACT);
	if (s)
		rc = kz_send(sock, KZ_OPTS, s, strlen(s), NULL, 0, -1);
	free(s);
	json_decref(j);
	return rc;
}

/*
 * A NULL-terminated copy of a JSON list of strings into *out (NULL for
 * null), never freed: it lives as long as the zygote. 0, or GR_ENOMEM.
 */
static int list_of(json_t *a, const char *const **out)
{
	size_t n = json_array_size(a);
	const char **l;

	*out = NULL;
	if (!json_is_array(a))
		return 0;
	l = calloc(n + 1, sizeof(*l));
	if (!l)
		return GR_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_array_get(a, i));

		if (!(l[i] = strdup(v ? v : "")))
			return GR_ENOMEM;
	}
	*out = l;
	return 0;
}

/* In the executed zygote: the options the caller sent. 0, or GR_EIO. */
int kspawn_recv_opts(int sock, struct kernel_opts *o)
{
	uint32_t type;
	char *data = NULL;
	size_t len;
	int fd, rc = GR_EIO;
	json_t *j = NULL;

	if (kz_recv(sock, &type, &data, &len, &fd) < 0)
		return GR_EIO;
	if (fd >= 0)
		close(fd);
	if (type != KZ_OPTS || !(j = json_loadb(data, len, 0, NULL)))
		goto done;
	if (json_string_value(json_object_get(j, "comm")))
		prctl(PR_SET_NAME, json_string_value(json_object_get(j, "comm")), 0, 0, 0);
	kernel_opts_init(o);
	o->timeout_cell = json_number_value(json_object_get(j, "timeout_cell"));
	o->timeout = json_number_value(json_object_get(j, "timeout"));
	o->grace = json_number_value(json_object_get(j, "grace"));
	o->mem_mb = (size_t)json_integer_value(json_object_get(j, "mem_mb"));
	o->procs = (unsigned)json_integer_value(json_object_get(j, "procs"));
	o->output_cap = (size_t)json_integer_value(json_object_get(j, "output_cap"));
	o->seed = (long)json_integer_value(json_object_get(j, "seed"));
	o->ipython = (int)json_integer_value(json_object_get(j, "ipython"));
	o->allow_ctypes = (int)json_integer_value(json_object_get(j, "allow_ctypes"));
	o->allow_jit = (int)json_integer_value(json_object_get(j, "allow_jit"));
	o->slot = (unsigned)json_integer_value(json_object_get(j, "slot"));
	o->allow_weaker = (int)json_integer_value(json_object_get(j, "allow_weaker"));
	if (list_of(json_object_get(j, "preload"), &o->preload) == 0 &&
	    list_of(json_object_get(j, "ro_paths"), &o->ro_paths) == 0)
		rc = 0;
done:
	json_decref(j);
	free(data);
	return rc;
}

/*
 * Execute the embedded image with the socket at fd 3, argv and envp built
 * before the fork (nothing here allocates); returns only when it
 * cannot (no image, no memfd, exec refused), with the socket's fd.
 */
static int exec_image(int sock, char **argv, char **envp)
{
	size_t n = kernel_zygote_image && kernel_zygote_image_end
		       ? (size_t)(kernel_zygote_image_end - kernel_zygote_image)
		       : 0;
	char *fallback[] = {"grader", NULL};
	int fd;

	/*
	 * Only as root: a box then has a uid of its own. Otherwise the box
	 * keeps the caller's uid, would own the memfd and could make it
	 * writable again; the zygote then runs in place.
	 */
	if (!n || geteuid() != 0)
		return sock;
	if (sock != 3) {
		if (dup2(sock, 3) < 0)
			return sock;
		close(sock);
		sock = 3;
	} else if (fcntl(sock, F_SETFD, 0) < 0) {
		return sock;
	}
	fd = memfd_create("grader-zygote", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL) /* a kernel before 6.3 knows no MFD_EXEC */
		fd = memfd_create("grader-zygote", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return sock;
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, kernel_zygote_image + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return sock;
		}
		off += (size_t)w;
	}
	/*
	 * Every box reaches this inode as /proc/self/exe. memfd_create() makes
	 * it 0777: a box uid could then set user.* xattrs and times on it,
	 * which outlive the box (a channel to the next student, kernel memory
	 * charged to the slot). Root's and 0555 it is read-only for any other
	 * uid, as an installed binary is; the seals pin its contents.
	 */
	if (fchmod(fd, 0555) == 0 &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0)
		fexecve(fd, argv ? argv : fallback, envp ? envp : environ);
	close(fd);
	return sock;
}

/*
 * The forked child of kernel_new(): become the lean zygote, or else run the
 * zygote here. Never returns.
 */
void kspawn_child(int sock, const struct kernel_opts *opts, char **argv, char **envp, pid_t parent)
{
	uint32_t type;
	char *data = NULL;
	size_t len;
	int fd;

	/* the exec keeps it: the zygote must not outlive its caller */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	sock = exec_image(sock, argv, envp);
	/* In place: the options are in our memory; drop the message that carries them. */
	if (kz_recv(sock, &type, &data, &len, &fd) < 0 || type != KZ_OPTS)
		_exit(1);
	free(data);
	if (fd >= 0)
		close(fd);
	kernel_zygote_main(sock, opts);
}
