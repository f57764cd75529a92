/* manyfiles.c DIR N - create N empty files in DIR; print how many were made. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char path[4096];
	long n, i;
	if (argc < 3)
		return 2;
	n = atol(argv[2]);
	for (i = 0; i < n; i++) {
		int fd;
		snprintf(path, sizeof(path), "%s/f%ld", argv[1], i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			printf("created %ld: %s\n", i, strerror(errno));
			return 0;
		}
		close(fd);
	}
	printf("created %ld\n", i);
	return 0;
}
