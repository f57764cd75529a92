/* clock.c - the monotonic clock every module times durations with (base.h). */
#include <time.h>

#include "grader/base.h"

double gr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
