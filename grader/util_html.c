/* util_html.c - escaping text for HTML pages (feedback, course report). */
#include <stdio.h>

#include "grader/util.h"

/* Length of a valid UTF-8 sequence at s, 0 when the bytes are not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

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
	if (!s)
		return;
	while (*s) {
		unsigned char c = (unsigned char)*s;
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
			n = utf8_len((const unsigned char *)s);
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
