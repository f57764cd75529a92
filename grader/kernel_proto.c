/*
 * kernel_proto.c - messages between the caller and its zygote over a
 * socketpair: a 12-byte header (magic, type, length), two payload parts, and
 * optionally one descriptor passed with SCM_RIGHTS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kernel_int.h"

#define KZ_MAGIC 0x47525a59u /* "GRZY" */
#define KZ_MAX (256u << 20)

static int send_all(int sock, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(sock, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return GR_EIO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int sock, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = recv(sock, c, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return GR_EIO;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int kz_send(int sock, uint32_t type, const void *a, size_t alen, const void *b, size_t blen,
	    int pass_fd)
{
	uint32_t hdr[3] = {KZ_MAGIC, type, (uint32_t)(alen + blen)};
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t w;

	if (alen + blen > KZ_MAX)
		return GR_ELIMIT;
	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	do
		w = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)sizeof(hdr))
		return GR_EIO;
	if (alen && send_all(sock, a, alen) < 0)
		return GR_EIO;
	if (blen && send_all(sock, b, blen) < 0)
		return GR_EIO;
	return 0;
}

int kz_recv(int sock, uint32_t *type, char **data, size_t *len, int *fd)
{
	uint32_t hdr[3];
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	ssize_t r;
	char *buf;

	*fd = -1;
	*data = NULL;
	do
		r = recvmsg(sock, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	for (cm = CMSG_FIRSTHDR(&msg); r > 0 && cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if (r != (ssize_t)sizeof(hdr) || hdr[0] != KZ_MAGIC || hdr[2] > KZ_MAX)
		goto fail;
	buf = malloc((size_t)hdr[2] + 1);
	if (!buf)
		goto fail;
	if (hdr[2] && recv_all(sock, buf, hdr[2]) < 0) {
		free(buf);
		goto fail;
	}
	buf[hdr[2]] = 0;
	*type = hdr[1];
	*data = buf;
	*len = hdr[2];
	return 0;
fail:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return GR_EIO;
}
