/* net_attach.c - serve NET_ATTACH (net_attach.h): check everything first
 * (the card, both descriptors, the policy text, the socket), then hand
 * the lot to the device in one step. */
#include "daemon/vm/net_attach.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/net/egress_text.h"
#include "daemon/net/net_mac.h"

/* Up to cap bytes of fd from offset 0 (pread: wherever the daemon left
 * the file's offset after writing it): how many, or -1 with errno. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t r = pread(fd, buf + got, cap - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The policy file's text into *p. 0, or -1 with why in msg. */
static int load_policy(int fd, struct egress_policy *p, char *msg, size_t len)
{
	char err[200];
	char *text = malloc(EGRESS_TEXT_MAX + 1);
	if (!text) {
		snprintf(msg, len, "policy: out of memory");
		return -1;
	}
	ssize_t n = read_all(fd, text, EGRESS_TEXT_MAX + 1);
	int rc = -1;
	if (n < 0)
		snprintf(msg, len, "reading the policy file: %s (want a memfd or regular file)",
			 strerror(errno));
	else if (n > EGRESS_TEXT_MAX)
		snprintf(msg, len, "the policy file is over %d bytes", EGRESS_TEXT_MAX);
	else if (egress_text_parse(text, (size_t)n, p, err, sizeof err) < 0)
		snprintf(msg, len, "policy: %s", err);
	else
		rc = 0;
	free(text);
	return rc;
}

/* Is fd a socket passt still holds? recv with MSG_PEEK takes nothing
 * (and needs no getsockopt/fstat, which the jail forbids). */
static int check_socket(int fd, char *msg, size_t len)
{
	char c;
	ssize_t r;
	do
		r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
		return 0;
	if (r == 0)
		snprintf(msg, len, "passt's socket is closed already (end of file)");
	else if (errno == ENOTSOCK)
		snprintf(msg, len, "the first descriptor is not a socket (want passt's connected "
			 "stream socket, then the policy file)");
	else
		snprintf(msg, len, "passt's socket: %s", strerror(errno));
	return -1;
}

static void summary(const struct egress_policy *p, const uint8_t old_mac[6], bool changed,
		    char *msg, size_t len)
{
	char mac[NET_MAC_TEXT_LEN + 1], old[NET_MAC_TEXT_LEN + 1];
	net_mac_format(p->vm_mac, mac, sizeof mac);
	net_mac_format(old_mac, old, sizeof old);
	snprintf(msg, len, "passt attached, link up; policy: default %s, %zu rule(s), %zu host "
		 "block(s); MAC %s%s%s%s", p->default_allow ? "allow" : "deny", p->n_rules,
		 p->n_host_blocks, mac, changed ? " (was " : "", changed ? old : "",
		 changed ? ": config change sent)" : "");
}

/* Everything checked: hand it to the device. */
static int connect_device(struct virtio_net *n, int sock_fd, const struct egress_policy *p,
			  char *msg, size_t len)
{
	struct vm_err err = { "" };
	uint8_t old_mac[6];
	bool changed = false;
	pthread_mutex_lock(&n->t.lock);
	memcpy(old_mac, n->mac, 6);
	pthread_mutex_unlock(&n->t.lock);
	if (virtio_net_connect(n, sock_fd, p, &changed, &err) < 0) {
		snprintf(msg, len, "%s", err.msg);
		return -1;
	}
	summary(p, old_mac, changed, msg, len);
	return 0;
}

int net_attach_serve(struct virtio_net *n, int sock_fd, int policy_fd, char *msg, size_t len)
{
	struct egress_policy *p = NULL;
	if (!n)
		snprintf(msg, len, "this VM has no network card (started without --net)");
	else if (sock_fd < 0 || policy_fd < 0)
		snprintf(msg, len, "NET_ATTACH came without its two descriptors (passt's socket, "
			 "then the policy file)");
	else if (!(p = malloc(sizeof(*p))))
		snprintf(msg, len, "policy: out of memory");
	else if (load_policy(policy_fd, p, msg, len) == 0 && check_socket(sock_fd, msg, len) == 0) {
		int rc = connect_device(n, sock_fd, p, msg, len); /* takes sock_fd */
		free(p);
		return rc;
	}
	free(p);
	if (sock_fd >= 0)
		close(sock_fd);
	return -1;
}
