/*
 * int80.c [x32] - make a syscall through the i386 entry (`int $0x80`,
 * getuid32) or, with "x32", through the x32 ABI. The filter must kill us
 * (SIGSYS): neither ABI may bypass the native-only policy.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv)
{
	long ret;
	if (argc > 1 && !strcmp(argv[1], "x32")) {
		ret = syscall(0x40000000L | SYS_getpid);
		printf("x32 syscall returned %ld: NOT KILLED\n", ret);
		return 0;
	}
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(199L) /* getuid32 */ : "memory");
	printf("int 0x80 returned %ld: NOT KILLED\n", ret);
	return 0;
}
