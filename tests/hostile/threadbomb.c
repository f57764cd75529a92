/* threadbomb.c - create threads forever, each sleeping (expect containment, TO). */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *idle(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}
int main(void)
{
	unsigned long n = 0, fails = 0;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, &a, idle, NULL) == 0)
			n++;
		else if (++fails == 1)
			fprintf(stderr, "thread limit reached after %lu threads\n", n);
	}
}
