/*
 * util_text.c - UTF-8: the one validator, NFC normalisation and the folding
 * used to compare people's names. Unicode tables come from utf8proc, never
 * from us.
 */
#include "grader/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

int gr_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p, need, min;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			need = 1, min = 0x80, cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2, min = 0x800, cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return 0;
		}
		if ((size_t)(end - p) <= need)
			return 0;
		for (unsigned i = 1; i <= need; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		p += need + 1;
	}
	return 1;
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
