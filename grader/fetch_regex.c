/*
 * fetch_regex.c - nbgrader zip_collect-style patterns: PCRE-like named
 * groups translated to POSIX extended regexes (regcomp has no named groups),
 * keeping the name -> group number mapping ourselves.
 */
#include "fetch_int.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_NAMES_MAX 32

struct fetch_regex {
	regex_t re;
	int compiled;
	size_t ngroups; /* capturing groups in the POSIX pattern */
	size_t nnames;
	char *names[GROUP_NAMES_MAX];
	size_t index[GROUP_NAMES_MAX]; /* 1-based group numbers */
};

/* util's gr_buf, with an out-of-memory that sticks until the end */
struct pattern_out {
	struct gr_buf b;
	int oom;
};

static void put(struct pattern_out *b, const char *s, size_t n)
{
	if (!b->oom && gr_buf_put(&b->b, s, n) < 0)
		b->oom = 1;
}

static void puts_(struct pattern_out *b, const char *s)
{
	put(b, s, strlen(s));
}

/* One piece of a bracket expression at p; returns what follows it. */
static const char *put_in_bracket(struct pattern_out *b, const char *p, int *in_bracket)
{
	if (*p == '\\' && p[1]) {
		switch (p[1]) {
		case 'd':
			puts_(b, "0-9");
			break;
		case 'w':
			puts_(b, "[:alnum:]_");
			break;
		case 's':
			puts_(b, "[:space:]");
			break;
		default:
			put(b, p + 1, 1);
			break;
		}
		return p + 2;
	}
	if (*p == '[' && p[1] == ':') {
		const char *end = strstr(p + 2, ":]");
		if (end) {
			put(b, p, (size_t)(end + 2 - p));
			return end + 2;
		}
	}
	if (*p == ']')
		*in_bracket = 0;
	put(b, p, 1);
	return p + 1;
}

/* The escape p[0..2) outside brackets: Perl's classes as POSIX brackets, the rest kept. */
static void put_escape(struct pattern_out *b, const char *p)
{
	switch (p[1]) {
	case 'd':
		puts_(b, "[0-9]");
		break;
	case 'D':
		puts_(b, "[^0-9]");
		break;
	case 'w':
		puts_(b, "[[:alnum:]_]");
		break;
	case 'W':
		puts_(b, "[^[:alnum:]_]");
		break;
	case 's':
		puts_(b, "[[:space:]]");
		break;
	case 'S':
		puts_(b, "[^[:space:]]");
		break;
	default:
		put(b, p, 2);
		break;
	}
}

/* Record group `name[0..len)` as number `group` in re (when not NULL); GR_EINVAL/GR_ENOMEM. */
static int add_name(struct fetch_regex *re, size_t *nnames, const char *name, size_t len,
		    size_t group, const char *pat, struct gr_err *err)
{
	if (!re)
		return 0;
	for (size_t k = 0; k < *nnames; k++)
		if (strlen(re->names[k]) == len && !strncmp(re->names[k], name, len))
			return gr_err_set(err, GR_EINVAL, "regex '%s': group '%s' named twice", pat,
					  re->names[k]);
	if (*nnames == GROUP_NAMES_MAX)
		return gr_err_set(err, GR_EINVAL, "regex '%s': too many named groups", pat);
	re->names[*nnames] = strndup(name, len);
	if (!re->names[*nnames])
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	re->index[*nnames] = group;
	re->nnames = ++*nnames;
	return 0;
}

/*
 * The extension group at *pp ("(?"): a named group becomes a plain one (its
 * name recorded), "(?:" a plain one too; anything else is refused. *pp moves
 * past the group's opening, *groups counts it.
 */
static int put_group(struct pattern_out *b, struct fetch_regex *re, const char *pat,
		     const char **pp, size_t *groups, size_t *nnames, struct gr_err *err)
{
	const char *p = *pp, *name = NULL, *end;
	int rc;

	if (p[2] == 'P' && p[3] == '<')
		name = p + 4;
	else if (p[2] == '<' && p[3] != '=' && p[3] != '!')
		name = p + 3;
	else if (p[2] == ':') {
		++*groups;
		puts_(b, "(");
		*pp = p + 3;
		return 0;
	} else {
		return gr_err_set(err, GR_EINVAL,
				  "regex '%s': only (?P<name>...), (?<name>...) and "
				  "(?:...) groups are supported",
				  pat);
	}
	end = name;
	while (isalnum((unsigned char)*end) || *end == '_')
		end++;
	if (*end != '>' || end == name || isdigit((unsigned char)*name))
		return gr_err_set(err, GR_EINVAL, "regex '%s': bad group name", pat);
	++*groups;
	if ((rc = add_name(re, nnames, name, (size_t)(end - name), *groups, pat, err)) < 0)
		return rc;
	puts_(b, "(");
	*pp = end + 1;
	return 0;
}

/*
 * Translate; when re is not NULL, record the group names into it. Group
 * numbers count the wrapping "^(" added in front, so the first group of the
 * pattern is number 2.
 */
static int translate(char **out, struct fetch_regex *re, const char *pat, struct gr_err *err)
{
	struct pattern_out b = {0};
	size_t groups = 1, nnames = 0;
	int in_bracket = 0, after_quant = 0, rc = 0;
	const char *p = pat;

	puts_(&b, "^(");
	while (*p) {
		char c = *p;
		if (in_bracket) {
			p = put_in_bracket(&b, p, &in_bracket);
			continue;
		}
		if (c == '?' && after_quant) {
			/* lazy quantifiers do not exist in POSIX: treat as greedy */
			p++;
			after_quant = 0;
			continue;
		}
		after_quant = c == '*' || c == '+' || c == '?' || c == '}';
		if (c == '\\' && p[1]) {
			put_escape(&b, p);
			p += 2;
			continue;
		}
		if (c == '[') {
			in_bracket = 1;
			put(&b, p++, 1);
			if (*p == '^')
				put(&b, p++, 1);
			if (*p == ']')
				put(&b, p++, 1);
			continue;
		}
		if (c == '(' && p[1] == '?') {
			if ((rc = put_group(&b, re, pat, &p, &groups, &nnames, err)) < 0)
				goto done;
			continue;
		}
		if (c == '(')
			groups++;
		put(&b, p++, 1);
	}
	puts_(&b, ")");
	if (b.oom) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (re)
		re->ngroups = groups;
	*out = b.b.p;
	b.b.p = NULL;
done:
	free(b.b.p);
	return rc;
}

int fetch_regex_translate(char **out, const char *pattern, struct gr_err *err)
{
	return translate(out, NULL, pattern, err);
}

size_t fetch_regex_group(const struct fetch_regex *re, const char *name)
{
	for (size_t i = 0; re && i < re->nnames; i++)
		if (!strcmp(re->names[i], name))
			return re->index[i];
	return 0;
}

int fetch_regex_new(struct fetch_regex **out, const char *pattern, struct gr_err *err)
{
	struct fetch_regex *re = calloc(1, sizeof(*re));
	char *posix = NULL;
	int rc, e;

	if (!re)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	rc = translate(&posix, re, pattern, err);
	if (rc)
		goto done;
	e = regcomp(&re->re, posix, REG_EXTENDED);
	if (e) {
		char msg[160];
		regerror(e, &re->re, msg, sizeof(msg));
		rc = gr_err_set(err, GR_EINVAL, "regex '%s': %s", pattern, msg);
		goto done;
	}
	re->compiled = 1;
	if (!fetch_regex_group(re, "student_id") || !fetch_regex_group(re, "file_id")) {
		rc = gr_err_set(err, GR_EINVAL,
				"regex '%s': needs groups (?P<student_id>...) and (?P<file_id>...)",
				pattern);
		goto done;
	}
	*out = re;
	re = NULL;
done:
	free(posix);
	fetch_regex_free(re);
	return rc;
}

void fetch_regex_free(struct fetch_regex *re)
{
	if (!re)
		return;
	if (re->compiled)
		regfree(&re->re);
	for (size_t i = 0; i < re->nnames; i++)
		free(re->names[i]);
	free(re);
}

static char *group_dup(const struct fetch_regex *re, const regmatch_t *m, const char *s,
		       const char *name)
{
	size_t g = fetch_regex_group(re, name);

	if (!g || m[g].rm_so < 0)
		return NULL;
	return strndup(s + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
}

/* Used by fetch_name_parse for FETCH_LAYOUT_REGEX. */
int fetch_regex_match_name(const struct fetch_regex *re, const char *s, struct fetch_name *out)
{
	regmatch_t m[GROUP_NAMES_MAX * 4];
	size_t nm = re->ngroups + 1 < GROUP_NAMES_MAX * 4 ? re->ngroups + 1 : GROUP_NAMES_MAX * 4;
	char *ts = NULL, *first = NULL, *last = NULL;
	int rc = 0;

	if (regexec(&re->re, s, nm, m, 0) != 0)
		return GR_ENOTFOUND;
	out->layout = FETCH_LAYOUT_REGEX;
	out->lms_id = group_dup(re, m, s, "student_id");
	out->path = group_dup(re, m, s, "file_id");
	if (!out->lms_id || !out->path)
		return GR_ENOMEM;
	if (!out->lms_id[0] || !out->path[0])
		return GR_ENOTFOUND;
	ts = group_dup(re, m, s, "timestamp");
	if (ts && gr_time_parse(&out->time.sec, &out->time.usec, ts, GR_TIME_LENIENT, NULL) == 0) {
		int64_t sec;
		out->has_time = 1;
		/* no zone in the name: read as UTC unless --lms-timezone says */
		out->time_naive =
		    gr_time_parse(&sec, NULL, ts, GR_TIME_LENIENT & ~GR_TIME_NAIVE_UTC, NULL) < 0;
	}
	first = group_dup(re, m, s, "first_name");
	last = group_dup(re, m, s, "last_name");
	if (first || last) {
		if (asprintf(&out->display_name, "%s%s%s", first ? first : "",
			     first && last ? " " : "", last ? last : "") < 0) {
			out->display_name = NULL;
			rc = GR_ENOMEM;
		}
	}
	free(ts);
	free(first);
	free(last);
	return rc;
}
