/*
 * escape.c SECONDS - double-fork a grandchild that tries setsid() and then
 * execs `sleep SECONDS`, meant to outlive the run; the parent exits at once.
 * The test then looks for that sleep on the host.
 */
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	pid_t p;
	if (argc < 2)
		return 2;
	p = fork();
	if (p == 0) {
		if (fork() == 0) {
			if (setsid() < 0)
				perror("setsid");
			close(0);
			execl("/bin/sleep", "sleep", argv[1], (char *)NULL);
			_exit(1);
		}
		_exit(0);
	}
	usleep(100000); /* let the grandchild exec */
	return 0;
}
