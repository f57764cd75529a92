/* fdleak.c - exit 1 (listing them) when any fd above 2 is open. */
#include <fcntl.h>
#include <stdio.h>
int main(void)
{
	int bad = 0;
	for (int fd = 3; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0) {
			printf("fd %d is open\n", fd);
			bad = 1;
		}
	return bad;
}
