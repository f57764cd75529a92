/* util_html.c - escaping text for HTML pages (feedback, course report). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "grader/util.h"

/* Length of the ANSI escape sequence at s (s[0] == ESC). */
static size_t ansi_len(const char *s)
{
	size_t i = 2;

	if (s[1] == '[') {
		while (s[i] && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x3F)
			i++;
		return s[i] && (unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7E ? i + 1
											  : i;
	}
	if (s[1] == ']') {
		while (s[i] && s[i] != '\a' && !(s[i] == '\x1b' && s[i + 1] == '\\'))
			i++;
		return s[i] == '\a' ? i + 1 : s[i] ? i + 2 : i;
	}
	return s[1] ? 2 : 1;
}

void gr_html_text(FILE *f, const char *s)
{
	const char *end;

	if (!s)
		return;
	end = s + strlen(s);
	while (*s) {
		unsigned char c = (unsigned char)*s;
		uint32_t cp;
		size_t n;

		if (c == 0x1b) {
			s += ansi_len(s);
			continue;
		}
		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		case '\t':
		case '\n':
		case '\r':
			fputc(c, f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fputs("\xEF\xBF\xBD", f);
				break;
			}
			n = gr_utf8_seq(s, (size_t)(end - s), &cp);
			if (!n) {
				fputs("\xEF\xBF\xBD", f);
				break;
			}
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
	}
}
