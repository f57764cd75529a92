/*
 * util_text.c - UTF-8: the one decoder (validation, cleaning), NFC normalisation and the folding
 * used to compare people's names. Unicode tables come from utf8proc, never
 * from us.
 */
#include "grader/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

size_t gr_utf8_seq(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c, need, min;
	uint32_t v;

	if (!n)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0)
		need = 1, min = 0x80, v = c & 0x1F;
	else if ((c & 0xF0) == 0xE0)
		need = 2, min = 0x800, v = c & 0x0F;
	else if ((c & 0xF8) == 0xF0)
		need = 3, min = 0x10000, v = c & 0x07;
	else
		return 0;
	if (n <= need)
		return 0;
	for (unsigned i = 1; i <= need; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return need + 1;
}

size_t gr_utf8_prefix(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n && (k = gr_utf8_seq(s + i, n - i, &cp)))
		i += k;
	return i;
}

int gr_utf8_valid(const char *s, size_t n)
{
	return gr_utf8_prefix(s, n) == n;
}

/*
 * Whether p[0..n) is the start of a sequence the end of the text cut off: a
 * lead byte whose continuation bytes would run past the end, followed by
 * continuation bytes only.
 */
static int cut_at_end(const unsigned char *p, size_t n)
{
	size_t need = p[0] >= 0xc2 && p[0] <= 0xdf   ? 1
		      : p[0] >= 0xe0 && p[0] <= 0xef ? 2
		      : p[0] >= 0xf0 && p[0] <= 0xf4 ? 3
						     : 0;

	if (!need || n > need)
		return 0;
	for (size_t j = 1; j < n; j++)
		if ((p[j] & 0xc0) != 0x80)
			return 0;
	return 1;
}

char *gr_utf8_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(n * 3 + 1), *o = out;
	size_t i = 0, k;
	uint32_t cp;

	if (!out)
		return NULL;
	while (i < n) {
		k = p[i] ? gr_utf8_seq(s + i, n - i, &cp) : 0;
		if (k) {
			memcpy(o, p + i, k);
			o += k;
			i += k;
			continue;
		}
		if (cut_at_end(p + i, n - i))
			break;
		memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
		o += 3;
		i++;
	}
	*o = 0;
	return out;
}

int gr_utf8_nfc(char **out, const char *s)
{
	utf8proc_uint8_t *r = NULL;
	utf8proc_ssize_t n;

	if (!gr_utf8_valid(s, strlen(s)))
		return GR_EINVAL;
	n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &r,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (n < 0)
		return n == UTF8PROC_ERROR_NOMEM ? GR_ENOMEM : GR_EINVAL;
	*out = (char *)r;
	return 0;
}

int gr_utf8_casefold(char **out, const char *s, size_t n)
{
	utf8proc_uint8_t *r = NULL;
	utf8proc_ssize_t len;

	if (!gr_utf8_valid(s, n))
		return GR_EINVAL;
	len = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &r,
			   UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
	if (len < 0)
		return len == UTF8PROC_ERROR_NOMEM ? GR_ENOMEM : GR_EINVAL;
	*out = (char *)r;
	return 0;
}

int gr_utf8_name_key(char **out, const char *s)
{
	utf8proc_uint8_t *folded = NULL;
	utf8proc_ssize_t n;
	char *key = NULL;
	size_t k = 0;

	if (!gr_utf8_valid(s, strlen(s)))
		return GR_EINVAL;
	/* compatibility forms, case and invisible marks (RLM, ZWJ) fold away */
	n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &folded,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
			     UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
	if (n < 0)
		return n == UTF8PROC_ERROR_NOMEM ? GR_ENOMEM : GR_EINVAL;
	key = malloc((size_t)n + 1);
	if (!key) {
		free(folded);
		return GR_ENOMEM;
	}
	for (utf8proc_ssize_t i = 0; i < n;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(folded + i, n - i, &cp);
		utf8proc_category_t cat;
		if (len <= 0)
			break;
		cat = utf8proc_category(cp);
		/* letters, marks and digits; spaces, '_', '-', '.', ',' are not */
		if ((cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ME) ||
		    (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO)) {
			memcpy(key + k, folded + i, (size_t)len);
			k += (size_t)len;
		}
		i += len;
	}
	key[k] = '\0';
	free(folded);
	*out = key;
	return 0;
}
