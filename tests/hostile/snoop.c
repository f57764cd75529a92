/*
 * snoop.c OTHER_BOX [GRADER_FILE] - try to read /etc/shadow, another box's
 * directory and a grader file, and to write outside the box. Exit 0 when all
 * of it failed; every success is printed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
static int bad;
static void no_read(const char *p)
{
	int fd = open(p, O_RDONLY);
	DIR *d = opendir(p);
	if (fd >= 0 || d) {
		printf("read %s: ALLOWED\n", p);
		bad = 1;
	}
	if (fd >= 0)
		close(fd);
	if (d)
		closedir(d);
}
static void no_write(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0) {
		printf("write %s: ALLOWED\n", p);
		bad = 1;
		close(fd);
	}
}
int main(int argc, char **argv)
{
	no_read("/etc/shadow");
	no_read("/root");
	no_read("/work");
	for (int i = 1; i < argc; i++)
		no_read(argv[i]);
	no_write("/escape");
	no_write("/etc/escape");
	no_write("/usr/escape");
	no_write("/proc/sys/kernel/hostname");
	no_write("/proc/sysrq-trigger");
	no_write("/dev/escape");
	if (argc > 1) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/escape", argv[1]);
		no_write(p);
	}
	printf(bad ? "something leaked\n" : "all refused\n");
	return bad;
}
