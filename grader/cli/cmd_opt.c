/*
 * cmd_opt.c - what every subcommand's options share (cmd.h): the table
 * reader over getopt_long, the values of the options several commands take,
 * and the number parsers (whole strings only, ranges checked, so `--mem 1e`
 * or `-j 0` is a usage error and not a surprise).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int cmd_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* written so that NaN fails too */
	if (errno || end == s || *end || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

int cmd_parse_long(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cmd_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		break;
	}
	if (shift) {
		if (v > (UINT64_MAX >> shift))
			return -1;
		v <<= shift;
		end++;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

void cmd_opts_init(struct cmd_opts *p, const struct cmd_opt *table, int argc, char **argv,
		   unsigned flags)
{
	size_t n = 0, k = 0;

	memset(p, 0, sizeof(*p));
	p->argc = argc;
	p->argv = argv;
	p->table = table;
	p->flags = flags;
	p->ind = 1;
	if (flags & CMD_OPTS_IN_ORDER)
		p->shorts[k++] = '+';
	/* a leading ':' tells a missing value from an unknown option (and silences getopt) */
	if (!(flags & CMD_OPTS_GETOPT_ERRORS))
		p->shorts[k++] = ':';
	for (; table[n].name && n < CMD_OPTS_MAX; n++) {
		int key = table[n].key ? table[n].key : table[n].letter;

		p->longs[n] = (struct option){
		    table[n].name, table[n].value ? required_argument : no_argument, NULL, key};
		if (table[n].letter) {
			p->shorts[k++] = (char)table[n].letter;
			if (table[n].value)
				p->shorts[k++] = ':';
		}
	}
	p->longs[n] = (struct option){NULL, 0, NULL, 0};
	p->shorts[k] = 0;
	optind = 1;
	opterr = (flags & CMD_OPTS_GETOPT_ERRORS) != 0;
}

/* A CMD_KEY_ option's value into its field: 1 when `key` is one, else 0. */
static int take_shared(struct cmd_opts *p, int key)
{
	switch (key) {
	case CMD_KEY_OUTPUT:
		p->output = p->arg;
		return 1;
	case CMD_KEY_ASSIGNMENT:
		p->assignment = p->arg;
		return 1;
	case CMD_KEY_STUDENT:
		p->student = p->arg;
		return 1;
	case CMD_KEY_RUBRIC:
		p->rubric = p->arg;
		return 1;
	case CMD_KEY_GRADEBOOK:
		p->gradebook = p->arg;
		return 1;
	default:
		return 0;
	}
}

/* The next option getopt_long reads, as its table key. */
static int next_key(struct cmd_opts *p)
{
	int li = -1, c = getopt_long(p->argc, p->argv, p->shorts, p->longs, &li);

	p->ind = optind;
	p->arg = optarg;
	p->name = li >= 0 ? p->longs[li].name : NULL;
	if (c == '?' || c == ':') {
		p->bad = p->argv[optind - 1];
		return c == ':' ? CMD_OPT_MISSING : CMD_OPT_UNKNOWN;
	}
	if (c == -1)
		return -1;
	/* a short letter gives the key of its table entry */
	for (size_t n = 0; li < 0 && p->table[n].name; n++)
		if (p->table[n].letter == c)
			return p->table[n].key ? p->table[n].key : c;
	return c;
}

int cmd_opts_next(struct cmd_opts *p)
{
	int c;

	while (take_shared(p, c = next_key(p)))
		;
	return c;
}

int cmd_opts_other(const struct cmd_opts *p, int key, const char *cmd, cmd_usage_fn *usage)
{
	if (key == 'h') {
		usage(stdout);
		return 0;
	}
	if (!(p->flags & CMD_OPTS_GETOPT_ERRORS))
		fprintf(stderr, "%s: unknown or incomplete option '%s'\n", cmd, p->bad);
	usage(stderr);
	return 2;
}

const char *cmd_opts_one_operand(const struct cmd_opts *p, const char *cmd, const char *what,
				 cmd_usage_fn *usage)
{
	if (p->ind == p->argc - 1)
		return p->argv[p->ind];
	cmd_usage_error(usage, "%s: %s %s", cmd, p->ind >= p->argc ? "missing" : "expected one",
			what);
	return NULL;
}

int cmd_usage_error(cmd_usage_fn *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

bool cmd_help_asked(int argc, char **argv, cmd_usage_fn *usage, int *code)
{
	if (argc < 2) {
		usage(stderr);
		*code = 2;
		return true;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		*code = 0;
		return true;
	}
	return false;
}
