/*
 * fetch_names.c - archive entry names from their bytes: UTF-8, or the DOS
 * code page of the Windows that made a zip (CP437 unless --zip-charset says),
 * NFC, and escaped for messages.
 */
#include "fetch_int.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Show an entry name in a message: valid UTF-8 sequences as they are,
 * control bytes and bytes that are no UTF-8 as \xNN.
 */
void fetch_escape_name(char *out, size_t size, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t k = 0;

	while (*p && k + 5 < size) {
		size_t len = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
		if (*p >= 0x80 && strnlen((const char *)p, len) == len &&
		    gr_utf8_valid((const char *)p, len) && k + len < size) {
			memcpy(out + k, p, len);
			k += len;
			p += len;
		} else if (*p < 0x20 || *p >= 0x7f) {
			k += (size_t)snprintf(out + k, 5, "\\x%02x", *p++);
		} else {
			out[k++] = (char)*p++;
		}
	}
	out[k] = '\0';
}

/* Bytes in code page `charset` to UTF-8, with glibc's iconv. */
static int from_charset(char **out, const char *raw, const char *charset)
{
	size_t in_left = strlen(raw), out_left = in_left * 4 + 1;
	char *buf = malloc(out_left), *in = (char *)raw, *o = buf;
	iconv_t cd = iconv_open("UTF-8", charset);
	int rc = 0;

	if (!buf || cd == (iconv_t)-1) {
		rc = buf ? GR_ESYS : GR_ENOMEM;
		goto done;
	}
	if (iconv(cd, &in, &in_left, &o, &out_left) == (size_t)-1) {
		rc = GR_EINVAL;
		goto done;
	}
	*o = '\0';
	*out = buf;
	buf = NULL;
done:
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	free(buf);
	return rc;
}

/*
 * Whether a name read as CP437 looks like text of another DOS code page:
 * names of people and files written in CP437 use its accented letters
 * (0x80-0x9A, 0xA0-0xA7) and ß, not its currency signs, fractions,
 * box-drawing and Greek/maths symbols, where CP866 has Cyrillic letters,
 * CP737 Greek ones and CP850 more accented ones.
 */
static int cp437_looks_wrong(const char *raw)
{
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
		if ((*p >= 0x9B && *p <= 0x9F) || (*p >= 0xA8 && *p != 0xE1))
			return 1;
	return 0;
}

/*
 * Decode an entry name from its bytes: UTF-8 when it is valid UTF-8 (a zip's
 * UTF-8 flag, a pax or 7z name, or plain UTF-8 bytes), else the code page of
 * zips made on Windows (--zip-charset, CP437 by default); then NFC.
 * *encoding names the decoding for the provenance. GR_EINVAL when no
 * decoding applies.
 */
int fetch_decode_name(char **out, const char **encoding, const char *raw, int zip,
		      const char *charset, struct fetch_odd *odd)
{
	char *conv = NULL;
	const char *src = raw;
	int rc;

	*encoding = "utf-8";
	if (!gr_utf8_valid(raw, strlen(raw))) {
		if (!zip || from_charset(&conv, raw, charset ? charset : "CP437") < 0)
			return GR_EINVAL;
		*encoding = charset ? charset : "cp437";
		src = conv;
		/*
		 * Windows tools write "dir\file": libarchive turns those into
		 * folders only for names it could convert (UTF-8 ones), so names in
		 * a code page get the same rule here, after decoding (in CP932 a
		 * 0x5C byte can be half of a letter): no '/', '\' is the separator.
		 */
		if (!strchr(conv, '/'))
			for (char *q = conv; (q = strchr(q, '\\'));)
				*q++ = '/';
		if (!charset && cp437_looks_wrong(raw) && odd->n++ == 0) {
			char *alt = NULL;
			fetch_escape_name(odd->first, sizeof(odd->first), conv);
			if (from_charset(&alt, raw, "CP866") == 0)
				fetch_escape_name(odd->alt, sizeof(odd->alt), alt);
			free(alt);
		}
	}
	rc = gr_utf8_nfc(out, src);
	free(conv);
	return rc;
}
