/* forkbomb.c - fork forever; every child forks too (expect containment, TO). */
#include <unistd.h>
int main(void)
{
	for (;;)
		fork();
}
