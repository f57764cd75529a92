/*
 * filldisk.c PATH [ignore] - write 1 MB blocks to PATH until something stops
 * us. Without "ignore", RLIMIT_FSIZE kills us with SIGXFSZ (expect OL); with
 * it, the write fails and we print how far we got and why.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static char block[1 << 20];
	long mb = 0;
	int fd;
	if (argc < 2)
		return 2;
	if (argc > 2)
		signal(SIGXFSZ, SIG_IGN);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open: %s\n", strerror(errno));
		return 1;
	}
	memset(block, 'x', sizeof(block));
	for (;;) {
		ssize_t n = write(fd, block, sizeof(block));
		if (n <= 0) {
			printf("stopped after %ld MB: %s\n", mb, n < 0 ? strerror(errno) : "short");
			return 0;
		}
		mb++;
	}
}
