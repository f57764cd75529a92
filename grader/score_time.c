/*
 * score_time.c - submission times and durations: times in seconds as double
 * on top of util's gr_time_parse, and our own "1d12h" style durations.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/score.h"

int score_parse_time(double *out, const char *text, int naive_utc, struct gr_err *err)
{
	int64_t sec;
	int32_t usec;
	int rc = gr_time_parse(&sec, &usec, text, naive_utc ? GR_TIME_NAIVE_UTC : 0, err);

	if (rc < 0)
		return rc;
	*out = (double)sec + usec / 1e6;
	return 0;
}

int score_parse_duration(double *out, const char *text, struct gr_err *err)
{
	const char *p = text;
	double total = 0;
	char *end;
	int parts = 0;

	if (!text || !*text)
		return gr_err_set(err, GR_EINVAL, "invalid duration ''");
	while (*p) {
		double v;

		if (!isdigit((unsigned char)*p))
			goto bad;
		v = strtod(p, &end);
		if (end == p || !isfinite(v) || v < 0)
			goto bad;
		p = end;
		switch (*p) {
		case 'd':
			v *= 86400;
			p++;
			break;
		case 'h':
			v *= 3600;
			p++;
			break;
		case 'm':
			v *= 60;
			p++;
			break;
		case 's':
			p++;
			break;
		case '\0':
			if (parts)
				goto bad;
			break;
		default:
			goto bad;
		}
		total += v;
		parts++;
	}
	*out = total;
	return 0;
bad:
	return gr_err_set(err, GR_EINVAL,
			  "invalid duration '%s': expected e.g. 36h, 1d12h, 90m or seconds", text);
}

void score_format_time(char out[32], double t)
{
	int64_t secs = (int64_t)t;
	long long usec;

	if ((double)secs > t)
		secs--; /* floor for negative times */
	/* a double holds today's times to well below a microsecond: keep them (nbgrader does) */
	usec = (long long)((t - (double)secs) * 1e6 + 0.5);

	if (usec >= 1000000) {
		secs++;
		usec -= 1000000;
	}
	gr_time_format(out, 32, secs, (int32_t)usec, GR_TIME_ISO_FRAC);
}
