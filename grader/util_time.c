/*
 * util_time.c - the one parser and printer of wall-clock times (UTC instants
 * as seconds since the epoch plus microseconds). Our own grammar, not
 * strptime: the accepted forms are exactly the ones documented in util.h.
 *
 * Named zones (Europe/London) come from the system's tz database through
 * GLib's GTimeZone, which reads the TZif files and is safe to share between
 * threads. The C library's only zone interface is the process-wide TZ
 * variable (setenv + tzset + mktime): not safe while fetch's writer threads
 * read timestamp.txt files, and setenv races every getenv in the process.
 */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "grader/util.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's method). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

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

static int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* Read exactly n digits at *p into *out; -1 (and *p unchanged) when absent. */
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

/* Whether p looks like a tz database name: "Europe/London", "Etc/GMT+5". */
static int is_zone_name(const char *p)
{
	const char *c = p;

	if (!isalpha((unsigned char)*p) || strlen(p) > 64 || strstr(p, ".."))
		return 0;
	for (; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c))
			return 0;
	return 1;
}

/*
 * Whether the tz database has a zone file for `name` (TZDIR, else
 * /usr/share/zoneinfo). Checked here because GLib, like TZ, would take an
 * unknown name for a POSIX rule ("ABC3") or for UTC.
 */
static int zone_file_exists(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;
	ok = read(fd, magic, 4) == 4 && !memcmp(magic, "TZif", 4);
	close(fd);
	return ok;
}

/*
 * Zones resolved so far, each kept referenced for the life of the process:
 * GLib keeps a zone cached only while someone holds it, and reading a TZif
 * file costs about 1.3 ms against 4 us for a parse with a held zone. The one
 * mutable state of util, behind its own lock; GTimeZone is immutable and its
 * reference count atomic, so a zone handed out is used without the lock.
 */
#define ZONE_CACHE_MAX 64
static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char name[65];
	GTimeZone *tz;
} zone_cache[ZONE_CACHE_MAX];
static size_t zone_cached;

/* A new reference to tz database zone `name`, or NULL when there is none. */
static GTimeZone *zone_get(const char *name)
{
	GTimeZone *tz = NULL;

	if (!is_zone_name(name))
		return NULL;
	pthread_mutex_lock(&zone_lock);
	for (size_t i = 0; i < zone_cached && !tz; i++)
		if (!strcmp(zone_cache[i].name, name))
			tz = g_time_zone_ref(zone_cache[i].tz);
	if (!tz && zone_file_exists(name) && (tz = g_time_zone_new_identifier(name)) &&
	    zone_cached < ZONE_CACHE_MAX) {
		snprintf(zone_cache[zone_cached].name, sizeof(zone_cache[0].name), "%s", name);
		zone_cache[zone_cached++].tz = g_time_zone_ref(tz);
	}
	pthread_mutex_unlock(&zone_lock);
	return tz;
}

static int32_t offset_at(GTimeZone *tz, int64_t utc)
{
	gint i = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, utc);

	return i < 0 ? 0 : g_time_zone_get_offset(tz, i);
}

/*
 * The UTC instant of wall-clock time `local` (seconds, as if it were UTC)
 * in zone `name`. A time that happens twice (clocks going back) is the
 * first, and *later (when not NULL) the second; a time that never happens
 * (clocks going forward) is read with the offset after the change: both as
 * nbgrader (dateutil, fold=0) reads them. *later is *utc for a time that
 * happens once.
 */
int gr_time_zone_to_utc_both(int64_t *utc, int64_t *later, int64_t local, const char *name,
			     struct gr_err *err)
{
	GTimeZone *tz = NULL;
	int32_t before, after;
	int64_t t1, t2;
	int ok1, ok2;

	if (!(tz = zone_get(name)))
		return gr_err_set(err, GR_EINVAL, "unknown time zone '%s' (not in the tz database)",
				  name);
	/* zones change their offset at most once within a day */
	before = offset_at(tz, local - 86400);
	after = offset_at(tz, local + 86400);
	t1 = local - before;
	t2 = local - after;
	ok1 = offset_at(tz, t1) == before;
	ok2 = offset_at(tz, t2) == after;
	if (ok1 && ok2)
		*utc = t1 < t2 ? t1 : t2;
	else if (ok1 || ok2)
		*utc = ok1 ? t1 : t2;
	else
		*utc = t2;
	if (later)
		*later = ok1 && ok2 ? (t1 < t2 ? t2 : t1) : *utc;
	g_time_zone_unref(tz);
	return 0;
}

int gr_time_zone_to_utc(int64_t *utc, int64_t local, const char *name, struct gr_err *err)
{
	return gr_time_zone_to_utc_both(utc, NULL, local, name, err);
}

/*
 * Parse the zone that ends the text at p: *off in seconds east of UTC, or
 * *named pointing at a tz database name (resolved by the caller).
 */
static int parse_zone(const char *p, int *off, int *has, const char **named)
{
	int sign, hh, mm = 0;

	while (*p == ' ')
		p++;
	*has = 1;
	*off = 0;
	*named = NULL;
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
	else if (is_zone_name(p)) {
		*named = p;
		return 0;
	}
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

/* Seconds and a fraction (any number of digits, truncated to microseconds). */
static int parse_seconds(const char **pp, int *se, int *usec)
{
	const char *p = *pp;
	int scale = 100000;

	if (digits(&p, 2, se))
		return -1;
	if (*p == '.' || *p == ',') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			*usec += (*p - '0') * scale;
	}
	*pp = p;
	return 0;
}

int gr_time_parse(int64_t *sec, int32_t *usec, const char *text, unsigned flags, struct gr_err *err)
{
	char buf[128];
	const char *p;
	size_t n;
	const char *named = NULL;
	int64_t local;
	int y, mo, d, h = 0, mi = 0, se = 0, us = 0, off = 0, has_zone = 0;

	if (!text)
		return gr_err_set(err, GR_EINVAL, "missing time");
	if (!strncmp(text, "\xef\xbb\xbf", 3))
		text += 3; /* a UTF-8 byte order mark: a timestamp.txt saved by Notepad */
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
	    digits(&p, 2, &d))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		goto bad;
	if (*p == '-' && (flags & GR_TIME_BLACKBOARD)) {
		p++;
		if (digits(&p, 2, &h) || *p++ != '-' || digits(&p, 2, &mi) || *p++ != '-' ||
		    parse_seconds(&p, &se, &us))
			goto bad;
	} else if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			goto bad;
		if (*p == ':') {
			p++;
			if (parse_seconds(&p, &se, &us))
				goto bad;
		}
	} else if (!(flags & GR_TIME_DATE_ONLY)) {
		goto bad;
	}
	if (h == 24 && (flags & GR_TIME_HOUR_24) && !mi && !se && !us)
		; /* the end of the day: the next day's midnight */
	else if (h > 23)
		goto bad;
	if (mi > 59 || se > 60)
		goto bad;
	if (se == 60)
		se = 59; /* a leap second is clamped */
	if (parse_zone(p, &off, &has_zone, &named))
		return gr_err_set(err, GR_EINVAL,
				  "invalid time '%s': unknown time zone (use UTC, Z, +HH:MM, a tz "
				  "database name such as Europe/London, or EST, CET, ...)",
				  buf);
	if (!has_zone && !(flags & GR_TIME_NAIVE_UTC))
		return gr_err_set(err, GR_EINVAL, "invalid time '%s': missing time zone", buf);
	local = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600LL + mi * 60LL + se;
	if (named) {
		int64_t utc;
		struct gr_err zerr = {0};
		if (gr_time_zone_to_utc(&utc, local, named, &zerr) < 0)
			return gr_err_set(err, GR_EINVAL, "invalid time '%s': %s", buf, zerr.msg);
		*sec = utc;
	} else {
		*sec = local - off;
	}
	if (usec)
		*usec = us;
	return 0;
bad:
	return gr_err_set(err, GR_EINVAL,
			  "invalid time '%s': expected YYYY-MM-DD HH:MM[:SS[.ffffff]] and a zone",
			  buf);
}

void gr_time_format(char *out, size_t size, int64_t sec, int32_t usec, enum gr_time_style style)
{
	int64_t days = sec / 86400, rem = sec % 86400, y;
	unsigned m, d;
	int h, mi, s;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	h = (int)(rem / 3600);
	mi = (int)(rem / 60 % 60);
	s = (int)(rem % 60);
	switch (style) {
	case GR_TIME_ISO:
		snprintf(out, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, h, mi,
			 s);
		break;
	case GR_TIME_ISO_FRAC:
		if (usec)
			snprintf(out, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ", (long long)y,
				 m, d, h, mi, s, (int)usec);
		else
			snprintf(out, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
				 h, mi, s);
		break;
	case GR_TIME_NBGRADER:
		snprintf(out, size, "%04lld-%02u-%02u %02d:%02d:%02d.%06d UTC", (long long)y, m, d,
			 h, mi, s, (int)usec);
		break;
	case GR_TIME_PYTHON:
	case GR_TIME_SQL:
		if (usec || style == GR_TIME_SQL)
			snprintf(out, size, "%04lld-%02u-%02u %02d:%02d:%02d.%06d", (long long)y, m,
				 d, h, mi, s, (int)usec);
		else
			snprintf(out, size, "%04lld-%02u-%02u %02d:%02d:%02d", (long long)y, m, d,
				 h, mi, s);
		break;
	}
}

void gr_time_now(struct gr_time *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	out->sec = ts.tv_sec;
	out->usec = (int32_t)(ts.tv_nsec / 1000);
}
