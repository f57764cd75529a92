/*
 * score_time.c - submission times and durations: nbgrader's timestamp.txt
 * format, ISO 8601, and "1d12h" style durations. Our own parser (no
 * strptime): the accepted grammar is exactly the one documented in score.h.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/score.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(long long y, unsigned m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* Read exactly n digits. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/*
 * Abbreviations that strftime's %Z writes into timestamp.txt on common
 * setups, limited to unambiguous ones (CST is US Central here).
 */
static const struct {
	const char *name;
	int minutes;
} ZONES[] = {
    {"UTC", 0},	   {"GMT", 0},	  {"Z", 0},	  {"z", 0},	  {"WET", 0},	 {"WEST", 60},
    {"BST", 60},   {"CET", 60},	  {"CEST", 120},  {"EET", 120},	  {"EEST", 180}, {"MSK", 180},
    {"JST", 540},  {"KST", 540},  {"AEST", 600},  {"AEDT", 660},  {"NZST", 720}, {"NZDT", 780},
    {"EST", -300}, {"EDT", -240}, {"CST", -360},  {"CDT", -300},  {"MST", -420}, {"MDT", -360},
    {"PST", -480}, {"PDT", -420}, {"AKST", -540}, {"AKDT", -480}, {"HST", -600},
};

/* Parse a zone at p (after optional spaces); *off in seconds east of UTC. */
static int parse_zone(const char *p, int *off, int *has)
{
	int sign, hh, mm = 0;

	while (*p == ' ')
		p++;
	*has = 1;
	*off = 0;
	if (!*p) {
		*has = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(ZONES) / sizeof(ZONES[0]); i++)
		if (!strcmp(p, ZONES[i].name)) {
			*off = ZONES[i].minutes * 60;
			return 0;
		}
	if ((!strncmp(p, "UTC", 3) || !strncmp(p, "GMT", 3)) && (p[3] == '+' || p[3] == '-'))
		p += 3;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &hh))
		return -1;
	if (*p == ':')
		p++;
	if (*p && digits(&p, 2, &mm))
		return -1;
	if (*p || hh > 23 || mm > 59)
		return -1;
	*off = sign * (hh * 3600 + mm * 60);
	return 0;
}

int score_parse_time(double *out, const char *text, int naive_utc, struct gr_err *err)
{
	char buf[128];
	const char *p;
	size_t n;
	int y, mo, d, h, mi, s = 0, off = 0, has_zone = 0;
	double frac = 0, scale = 0.1;

	if (!text)
		return gr_err_set(err, GR_EINVAL, "missing time");
	while (isspace((unsigned char)*text))
		text++;
	n = strlen(text);
	while (n && isspace((unsigned char)text[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return gr_err_set(err, GR_EINVAL, "invalid time '%.*s'", (int)(n > 64 ? 64 : n),
				  text);
	memcpy(buf, text, n);
	buf[n] = '\0';
	p = buf;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
		goto bad;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &s))
			goto bad;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p)) {
				frac += (*p++ - '0') * scale;
				scale /= 10;
			}
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo) || h > 23 || mi > 59 ||
	    s > 59)
		goto bad;
	if (parse_zone(p, &off, &has_zone))
		return gr_err_set(
		    err, GR_EINVAL,
		    "invalid time '%s': unknown time zone (use UTC, Z, +HH:MM or EST, CET, ...)",
		    buf);
	if (!has_zone && !naive_utc)
		return gr_err_set(err, GR_EINVAL, "invalid time '%s': missing time zone", buf);
	*out = (double)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600LL +
			mi * 60LL + s - off) +
	       frac;
	return 0;
bad:
	return gr_err_set(err, GR_EINVAL,
			  "invalid time '%s': expected YYYY-MM-DD HH:MM[:SS[.ffffff]] and a zone",
			  buf);
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
	long long secs = (long long)t, days, rem, y;
	unsigned m, d;

	if ((double)secs > t)
		secs--; /* floor for negative times */
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d, rem / 3600,
		 rem / 60 % 60, rem % 60);
}
