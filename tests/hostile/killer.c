/* killer.c - kill(-1), kill(parent), kill(1) with SIGKILL; report what the kernel allowed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	pid_t pp = getppid();
	int a = kill(-1, SIGKILL), ea = errno;
	int b = kill(pp, SIGKILL), eb = errno;
	int c = kill(1, SIGKILL), ec = errno;
	printf("kill(-1)=%d %s; kill(ppid %d)=%d %s; kill(1)=%d %s\n", a, a ? strerror(ea) : "",
	       (int)pp, b, b ? strerror(eb) : "", c, c ? strerror(ec) : "");
	return 0;
}
