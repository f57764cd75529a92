/* sleeper.c - sleep far past any wall limit, using no CPU (expect TO, killed). */
#include <unistd.h>
int main(void)
{
	sleep(3600);
	return 0;
}
