/*
 * kernel_chan.c - the result channel between a notebook child and the caller:
 * records framed with a sequence number and an HMAC-SHA256 under a per-run
 * key that exists only in C memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "kernel_int.h"

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t kchan_size(size_t len)
{
	return KCHAN_HDR_LEN + len + KCHAN_MAC_LEN;
}

static int mac(unsigned char out[KCHAN_MAC_LEN], const unsigned char key[KCHAN_KEY_LEN],
	       const unsigned char *data, size_t len)
{
	unsigned int olen = KCHAN_MAC_LEN;

	if (!HMAC(EVP_sha256(), key, KCHAN_KEY_LEN, data, len, out, &olen) || olen != KCHAN_MAC_LEN)
		return GR_ESYS;
	return 0;
}

int kchan_encode(unsigned char *out, const unsigned char key[KCHAN_KEY_LEN], uint32_t seq,
		 uint32_t type, const void *payload, size_t len)
{
	if (len > KCHAN_MAX_PAYLOAD)
		return GR_ELIMIT;
	put32(out, KCHAN_MAGIC);
	put32(out + 4, seq);
	put32(out + 8, type);
	put32(out + 12, (uint32_t)len);
	if (len)
		memcpy(out + KCHAN_HDR_LEN, payload, len);
	return mac(out + KCHAN_HDR_LEN + len, key, out, KCHAN_HDR_LEN + len);
}

void kchan_reader_init(struct kchan_reader *r, const unsigned char key[KCHAN_KEY_LEN])
{
	memset(r, 0, sizeof(*r));
	memcpy(r->key, key, KCHAN_KEY_LEN);
}

void kchan_reader_release(struct kchan_reader *r)
{
	if (!r)
		return;
	OPENSSL_cleanse(r->key, sizeof(r->key));
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = r->off = 0;
}

int kchan_reader_feed(struct kchan_reader *r, const void *data, size_t n)
{
	if (r->off && r->off == r->len)
		r->off = r->len = 0;
	if (r->len + n + 1 > r->cap) {
		size_t ncap = r->cap ? r->cap : 65536;
		unsigned char *nb;

		if (r->off) { /* compact before growing */
			memmove(r->buf, r->buf + r->off, r->len - r->off);
			r->len -= r->off;
			r->off = 0;
		}
		while (ncap < r->len + n + 1)
			ncap *= 2;
		if (ncap > r->cap) {
			nb = realloc(r->buf, ncap);
			if (!nb)
				return GR_ENOMEM;
			r->buf = nb;
			r->cap = ncap;
		}
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return 0;
}

size_t kchan_reader_pending(const struct kchan_reader *r)
{
	return r->len - r->off;
}

static int broken(struct kchan_reader *r, const char *why)
{
	if (!r->broken)
		snprintf(r->why, sizeof(r->why), "%s", why);
	r->broken = 1;
	return GR_EDENIED;
}

int kchan_reader_next(struct kchan_reader *r, struct kchan_rec *rec)
{
	unsigned char want[KCHAN_MAC_LEN];
	const unsigned char *p;
	size_t avail, len;

	if (r->broken)
		return GR_EDENIED;
	avail = r->len - r->off;
	p = r->buf + r->off;
	/* Judge the magic as soon as its bytes arrive: garbage fails fast. */
	for (size_t i = 0; i < 4 && i < avail; i++)
		if (p[i] != (unsigned char)(KCHAN_MAGIC >> (24 - 8 * i)))
			return broken(r, "bad record header");
	if (avail < KCHAN_HDR_LEN)
		return 0;
	len = get32(p + 12);
	if (len > KCHAN_MAX_PAYLOAD)
		return broken(r, "record too large");
	if (avail < kchan_size(len))
		return 0;
	if (mac(want, r->key, p, KCHAN_HDR_LEN + len) < 0)
		return broken(r, "cannot compute MAC");
	if (CRYPTO_memcmp(want, p + KCHAN_HDR_LEN + len, KCHAN_MAC_LEN))
		return broken(r, "bad record MAC");
	if (get32(p + 4) != r->next_seq)
		return broken(r, "record out of sequence");
	r->next_seq++;
	rec->seq = get32(p + 4);
	rec->type = get32(p + 8);
	/*
	 * NUL-terminate in place: the MAC byte after the payload is overwritten,
	 * which is fine since the record has been verified and is consumed.
	 */
	((unsigned char *)p)[KCHAN_HDR_LEN + len] = 0;
	rec->payload = (const char *)p + KCHAN_HDR_LEN;
	rec->len = len;
	r->off += kchan_size(len);
	return 1;
}
