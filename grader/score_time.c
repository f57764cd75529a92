/*
 * score_time.c - durations: our own "1d12h" style (extensions, late
 * policies). Times themselves are util's struct gr_time.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/score.h"

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
