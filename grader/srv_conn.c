/*
 * srv_conn.c - the HTTP side's shares, so that one party cannot take from
 * everyone what the service has for all: every connection and the client
 * address it comes from (the webhook body bytes each address holds are
 * capped, since a body's signature can be checked only once it is whole),
 * the uploads in flight (one per student token at a time), and the
 * connection slots: a connection that has produced no complete request
 * within header_s is closed whatever it trickles, and past
 * SRV_CONN_MAX - SRV_CONN_RESERVE a new connection evicts one that holds a
 * slot for nothing (no complete request, or an unproved body) from the
 * address holding the most, so slow clients from several addresses cannot
 * hold every slot while a forge's delivery waits.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "srv_http_int.h"

void srv_conns_init(struct srv_conns *cs, double header_s)
{
	pthread_condattr_t ca;

	memset(cs, 0, sizeof(*cs));
	cs->header_s = header_s;
	pthread_mutex_init(&cs->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cs->wake, &ca);
	pthread_condattr_destroy(&ca);
}

void srv_conns_release(struct srv_conns *cs)
{
	/* the daemon has stopped: every connection was closed and told */
	while (cs->head) {
		struct srv_conn *k = cs->head;

		cs->head = k->next;
		free(k);
	}
	while (cs->addrs) {
		struct srv_addr *a = cs->addrs;

		cs->addrs = a->next;
		free(a);
	}
	pthread_cond_destroy(&cs->wake);
	pthread_mutex_destroy(&cs->lock);
}

/*
 * Close `k` (lock held): its thread sees the socket shut and ends it. The
 * descriptor is still the connection's: libmicrohttpd tells us of the
 * cleanup (under this lock) before it closes it.
 */
static void shut(struct srv_conns *cs, struct srv_conn *k)
{
	if (k->closing || k->fd < 0)
		return;
	if (shutdown(k->fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
		return;
	k->closing = 1;
	cs->closing++;
}

/* Every second: the connections past header_s without a complete request go. */
static void *sweep(void *arg)
{
	struct srv_conns *cs = arg;
	struct timespec ts;
	size_t closed;

	pthread_mutex_lock(&cs->lock);
	while (!cs->stop) {
		double now = gr_now();

		closed = 0;
		for (struct srv_conn *k = cs->head; k; k = k->next)
			if (!k->closing && k->phase == SRV_WAITING &&
			    now - k->since > cs->header_s) {
				shut(cs, k);
				closed += k->closing;
			}
		if (closed)
			srv_log("closed %zu connection(s) without a complete request in %.0f s",
				closed, cs->header_s);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&cs->wake, &cs->lock, &ts);
	}
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

int srv_conns_start(struct srv_conns *cs)
{
	if (pthread_create(&cs->sweeper, NULL, sweep, cs))
		return -1;
	cs->started = 1;
	return 0;
}

void srv_conns_stop(struct srv_conns *cs)
{
	if (!cs->started)
		return;
	pthread_mutex_lock(&cs->lock);
	cs->stop = 1;
	pthread_cond_signal(&cs->wake);
	pthread_mutex_unlock(&cs->lock);
	pthread_join(cs->sweeper, NULL);
	cs->started = 0;
}

void srv_conns_phase(struct srv_conns *cs, struct srv_conn *k, enum srv_phase phase)
{
	if (!k)
		return;
	pthread_mutex_lock(&cs->lock);
	k->phase = phase;
	if (phase == SRV_WAITING)
		k->since = gr_now();
	pthread_mutex_unlock(&cs->lock);
}

/*
 * The slots are nearly all taken: close the connection that holds one for
 * nothing (no complete request yet, or a body nothing proved) from the
 * address with the most connections, its oldest. A forge's delivery has
 * its headers in within milliseconds and is proved when its body ends, so
 * it is neither old nor from the address holding most. Lock held.
 */
static void evict(struct srv_conns *cs)
{
	struct srv_conn *best = NULL;

	for (struct srv_conn *k = cs->head; k; k = k->next) {
		if (k->closing || k->phase == SRV_BUSY)
			continue;
		if (!best || k->addr->conns > best->addr->conns ||
		    (k->addr->conns == best->addr->conns && k->since < best->since))
			best = k;
	}
	if (best)
		shut(cs, best);
}

/*
 * The address as a key: the family and the address, an IPv6 one by its
 * first 64 bits (one host gets a whole /64), an IPv4-mapped one as IPv4.
 */
static void addr_key(unsigned char key[17], const struct sockaddr *sa)
{
	memset(key, 0, 17);
	if (sa && sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const unsigned char *b =
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (!memcmp(b, mapped, sizeof(mapped))) {
			key[0] = 4;
			memcpy(key + 1, b + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, b, 8);
		}
	}
}

/* The entry of the address of `c`, made when it is new (NULL: out of memory). Lock held. */
static struct srv_addr *addr_get(struct srv_conns *cs, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	unsigned char key[17];
	struct srv_addr *a;

	addr_key(key, ci ? ci->client_addr : NULL);
	for (a = cs->addrs; a; a = a->next)
		if (!memcmp(a->key, key, sizeof(key)))
			break;
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return NULL;
		memcpy(a->key, key, sizeof(key));
		atomic_init(&a->hook, 0);
		a->next = cs->addrs;
		cs->addrs = a;
	}
	a->conns++;
	return a;
}

/* A connection of `a` has gone: the entry goes with the last one. Lock held. */
static void addr_put(struct srv_conns *cs, struct srv_addr *a)
{
	struct srv_addr **p;

	if (!a || --a->conns)
		return;
	for (p = &cs->addrs; *p; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			break;
		}
	free(a);
}

/*
 * Called by libmicrohttpd's own thread when a connection is accepted (before
 * a byte is read from it) and when it is cleaned up (before its socket is
 * closed; its requests have ended).
 */
void srv_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		      enum MHD_ConnectionNotificationCode code)
{
	struct srv_conns *cs = cls;
	struct srv_conn *k = *socket_context;

	pthread_mutex_lock(&cs->lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (cs->n - cs->closing >= SRV_CONN_MAX - SRV_CONN_RESERVE)
			evict(cs);
		k = calloc(1, sizeof(*k));
		if (k && !(k->addr = addr_get(cs, c))) {
			free(k);
			k = NULL;
		}
		if (k) {
			k->fd = fd ? fd->connect_fd : -1;
			k->phase = SRV_WAITING;
			k->since = gr_now();
			k->next = cs->head;
			if (cs->head)
				cs->head->prev = k;
			cs->head = k;
			cs->n++;
		}
		*socket_context = k;
	} else if (k) {
		if (k->prev)
			k->prev->next = k->next;
		else
			cs->head = k->next;
		if (k->next)
			k->next->prev = k->prev;
		cs->n--;
		cs->closing -= k->closing;
		addr_put(cs, k->addr);
		free(k);
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&cs->lock);
}

int srv_conns_upload_begin(struct srv_conns *cs, const char *student)
{
	int rc = 0;

	pthread_mutex_lock(&cs->lock);
	if (!student) {
		if (cs->admin_uploading >= SRV_ADMIN_UPLOADS)
			rc = -1;
		else
			cs->admin_uploading++;
		goto done;
	}
	for (size_t i = 0; i < cs->nuploading; i++)
		if (!strcmp(cs->uploading[i], student)) {
			rc = -1;
			goto done;
		}
	/* at most one a connection: the array never fills, but refuse rather than overflow */
	if (cs->nuploading == SRV_CONN_MAX)
		rc = -1;
	else
		cs->uploading[cs->nuploading++] = student;
done:
	pthread_mutex_unlock(&cs->lock);
	return rc;
}

void srv_conns_upload_end(struct srv_conns *cs, const char *student)
{
	pthread_mutex_lock(&cs->lock);
	if (!student && cs->admin_uploading) {
		cs->admin_uploading--;
	} else if (student) {
		for (size_t i = 0; i < cs->nuploading; i++)
			if (!strcmp(cs->uploading[i], student)) {
				cs->uploading[i] = cs->uploading[--cs->nuploading];
				break;
			}
	}
	pthread_mutex_unlock(&cs->lock);
}
