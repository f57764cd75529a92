/* fetch_time.c - deadlines and submission times as struct fetch_time (UTC). */
#include "grader/fetch.h"

#include <time.h>

int fetch_time_parse(struct fetch_time *out, const char *s, struct gr_err *err)
{
	return gr_time_parse(&out->sec, &out->usec, s, GR_TIME_LENIENT, err);
}

void fetch_time_iso(char out[32], const struct fetch_time *t)
{
	gr_time_format(out, 32, t->sec, t->usec, GR_TIME_ISO);
}

void fetch_time_nbgrader(char out[40], const struct fetch_time *t)
{
	gr_time_format(out, 40, t->sec, t->usec, GR_TIME_NBGRADER);
}

void fetch_time_now(struct fetch_time *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	out->sec = ts.tv_sec;
	out->usec = (int32_t)(ts.tv_nsec / 1000);
}
