/* fetch_time.c - parsing and printing deadlines and submission times (UTC). */
#include "grader/fetch.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's method). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

/* Read exactly n digits; returns -1 when absent. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

int fetch_time_parse(struct fetch_time *out, const char *s, struct gr_err *err)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0, usec = 0, off = 0, blackboard = 0;

	while (*p == ' ')
		p++;
	if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 0)
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ' || *p == '-') {
		blackboard = *p == '-';
		p++;
		if ((h = digits(&p, 2)) < 0)
			goto bad;
		if (*p != (blackboard ? '-' : ':'))
			goto bad;
		p++;
		if ((mi = digits(&p, 2)) < 0)
			goto bad;
		if (*p == (blackboard ? '-' : ':')) {
			p++;
			if ((se = digits(&p, 2)) < 0)
				goto bad;
			if (*p == '.' || *p == ',') {
				int scale = 100000;
				p++;
				if (!isdigit((unsigned char)*p))
					goto bad;
				for (; isdigit((unsigned char)*p); p++, scale /= 10)
					usec += (*p - '0') * scale;
			}
		} else if (blackboard) {
			goto bad;
		}
		if (h > 24 || mi > 59 || se > 60 || (h == 24 && (mi || se || usec)))
			goto bad;
		if (se == 60)
			se = 59; /* a leap second is clamped */
	}
	while (*p == ' ')
		p++;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (!strcmp(p, "UTC") || !strcmp(p, "GMT")) {
		p += 3;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if ((oh = digits(&p, 2)) < 0)
			goto bad;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p) && (om = digits(&p, 2)) < 0)
			goto bad;
		if (oh > 23 || om > 59)
			goto bad;
		off = sign * (oh * 3600 + om * 60);
	}
	while (*p == ' ')
		p++;
	if (*p)
		goto bad;
	out->sec =
	    days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
	out->usec = usec;
	return 0;
bad:
	return gr_err_set(err, GR_EINVAL,
			  "invalid time '%s': expected ISO 8601 like 2026-10-30T10:00:00Z", s);
}

static void split(const struct fetch_time *t, int *y, unsigned *mo, unsigned *d, int *h, int *mi,
		  int *se)
{
	int64_t days = t->sec / 86400, rem = t->sec % 86400;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, y, mo, d);
	*h = (int)(rem / 3600);
	*mi = (int)(rem % 3600 / 60);
	*se = (int)(rem % 60);
}

void fetch_time_iso(char out[32], const struct fetch_time *t)
{
	int y, h, mi, se;
	unsigned mo, d;

	split(t, &y, &mo, &d, &h, &mi, &se);
	snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, mo, d, h, mi, se);
}

void fetch_time_nbgrader(char out[40], const struct fetch_time *t)
{
	int y, h, mi, se;
	unsigned mo, d;

	split(t, &y, &mo, &d, &h, &mi, &se);
	snprintf(out, 40, "%04d-%02u-%02u %02d:%02d:%02d.%06d UTC", y, mo, d, h, mi, se,
		 (int)t->usec);
}

void fetch_time_now(struct fetch_time *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	out->sec = ts.tv_sec;
	out->usec = (int32_t)(ts.tv_nsec / 1000);
}
