/*
 * sockets.c [ABSTRACT] - try the network: AF_INET, AF_INET6, AF_VSOCK,
 * AF_NETLINK and AF_PACKET sockets, then connect to the abstract unix socket
 * ABSTRACT the test created on the host. Exit 0 when everything was refused.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
int main(int argc, char **argv)
{
	static const struct {
		int fam, type;
		const char *name;
	} tries[] = {
	    {AF_INET, SOCK_STREAM, "AF_INET"},	  {AF_INET, SOCK_DGRAM, "AF_INET/udp"},
	    {AF_INET6, SOCK_STREAM, "AF_INET6"},  {AF_VSOCK, SOCK_STREAM, "AF_VSOCK"},
	    {AF_NETLINK, SOCK_RAW, "AF_NETLINK"}, {AF_PACKET, SOCK_RAW, "AF_PACKET"},
	};
	int bad = 0, sv[2];
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		int fd = socket(tries[i].fam, tries[i].type, 0);
		if (fd >= 0) {
			printf("%s socket: ALLOWED\n", tries[i].name);
			bad = 1;
			close(fd);
		} else {
			printf("%s socket: refused (%s)\n", tries[i].name, strerror(errno));
		}
	}
	if (socketpair(AF_INET, SOCK_STREAM, 0, sv) == 0) {
		printf("AF_INET socketpair: ALLOWED\n");
		bad = 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		printf("AF_UNIX socketpair refused: %s (should work)\n", strerror(errno));
		bad = 1;
	}
	if (argc > 1) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		size_t n = strlen(argv[1]);
		memcpy(a.sun_path + 1, argv[1], n); /* leading NUL: abstract name */
		if (connect(fd, (struct sockaddr *)&a,
			    offsetof(struct sockaddr_un, sun_path) + 1 + n) == 0) {
			printf("abstract socket @%s: CONNECTED\n", argv[1]);
			bad = 1;
		} else {
			printf("abstract socket @%s: refused (%s)\n", argv[1], strerror(errno));
		}
	}
	return bad;
}
