/*
 * spinners.c [N] - N processes (default 4) burn CPU; each hands over to a
 * fresh child before it has used 0.5 s, so no single process ever reaches
 * RLIMIT_CPU. Only a limit on the whole run's CPU time stops them.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
static void spin(void)
{
	for (;;) {
		while (cpu() < 0.4)
			;
		if (fork() != 0)
			_exit(0); /* the child goes on with a fresh CPU count */
	}
}
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	for (int i = 0; i < n; i++)
		if (fork() == 0)
			spin();
	for (;;)
		pause();
}
