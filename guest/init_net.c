/* init_net.c - set the guest's interfaces with rtnetlink (init_net.h).
 *
 * Each change is one request on a NETLINK_ROUTE socket, sent with
 * NLM_F_ACK and answered by the kernel's ack or error before the next one:
 *   RTM_NEWLINK   IFF_UP, and IFLA_MTU when one is given
 *   RTM_NEWADDR   IFA_LOCAL/IFA_ADDRESS with its prefix
 *   RTM_NEWROUTE  the default route via the gateway, out of the interface
 *                 (NLM_F_REPLACE: a VM given a new address keeps one route)
 *   RTM_DELADDR   an address set before that the new setting does not keep
 * Requests are built in a fixed buffer; nothing is allocated.
 */
#include "init_net.h"

#include "agent_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nl_req {
	union {
		struct nlmsghdr h;
		uint8_t buf[256];
	};
};

static void req_start(struct nl_req *r, uint16_t type, uint16_t flags, const void *body,
		      size_t len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h.nlmsg_len = NLMSG_LENGTH(len);
	memcpy(NLMSG_DATA(&r->h), body, len);
}

static void req_attr(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(r->buf + NLMSG_ALIGN(r->h.nlmsg_len));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Send r and wait for its ack: 0 or the kernel's errno. */
static int nl_call(int fd, struct nl_req *r)
{
	static uint32_t seq;
	r->h.nlmsg_seq = ++seq;
	if (send(fd, r, r->h.nlmsg_len, 0) != (ssize_t)r->h.nlmsg_len)
		return errno ? errno : EIO;
	for (;;) {
		uint8_t reply[512];
		ssize_t got = recv(fd, reply, sizeof(reply), 0);
		if (got < 0)
			return errno;
		int n = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return EPROTO;
			return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
}

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int link_up(int fd, int index, uint32_t mtu, const uint8_t *mac)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nl_req r;
	req_start(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (mtu)
		req_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	if (mac) /* virtio-net takes a new address while up */
		req_attr(&r, IFLA_ADDRESS, mac, 6);
	return nl_call(fd, &r);
}

static int add_address(int fd, int index, int family, const uint8_t *addr, uint8_t prefix)
{
	size_t len = family == AF_INET ? 4 : 16;
	struct ifaddrmsg ifa = { .ifa_family = (uint8_t)family, .ifa_prefixlen = prefix,
				 .ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0,
				 .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (uint32_t)index };
	struct nl_req r;
	req_start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
	req_attr(&r, IFA_LOCAL, addr, len);
	req_attr(&r, IFA_ADDRESS, addr, len);
	return nl_call(fd, &r);
}

static int del_address(int fd, int index, int family, const uint8_t *addr, uint8_t prefix)
{
	struct ifaddrmsg ifa = { .ifa_family = (uint8_t)family, .ifa_prefixlen = prefix,
				 .ifa_index = (uint32_t)index };
	struct nl_req r;
	req_start(&r, RTM_DELADDR, 0, &ifa, sizeof(ifa));
	req_attr(&r, IFA_LOCAL, addr, family == AF_INET ? 4 : 16);
	int e = nl_call(fd, &r);
	return e == EADDRNOTAVAIL ? 0 : e;
}

static int add_default_route(int fd, int index, int family, const uint8_t *gw)
{
	struct rtmsg rtm = { .rtm_family = (uint8_t)family, .rtm_table = RT_TABLE_MAIN,
			     .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE,
			     .rtm_type = RTN_UNICAST };
	uint32_t oif = (uint32_t)index;
	struct nl_req r;
	req_start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rtm, sizeof(rtm));
	req_attr(&r, RTA_GATEWAY, gw, family == AF_INET ? 4 : 16);
	req_attr(&r, RTA_OIF, &oif, sizeof(oif));
	return nl_call(fd, &r);
}

/* One step: on failure, err names it; returns e. */
static int step(int e, const char *what, const char *ifname, char *err, size_t errlen)
{
	if (e)
		snprintf(err, errlen, "%s %s: %s", what, ifname, strerror(e));
	return e;
}

int init_net_link_up(const char *ifname, uint32_t mtu, char *err, size_t errlen)
{
	int index = (int)if_nametoindex(ifname);
	if (!index)
		return step(errno ? errno : ENODEV, "no interface", ifname, err, errlen);
	int fd = nl_open();
	if (fd < 0)
		return step(errno, "netlink socket for", ifname, err, errlen);
	int e = step(link_up(fd, index, mtu, NULL), "link up", ifname, err, errlen);
	close(fd);
	return e;
}

int init_net_configure(const struct init_net_cfg *c, char *err, size_t errlen)
{
	int index = (int)if_nametoindex(c->ifname);
	if (!index)
		return step(errno ? errno : ENODEV, "no interface", c->ifname, err, errlen);
	int fd = nl_open();
	if (fd < 0)
		return step(errno, "netlink socket for", c->ifname, err, errlen);
	int e = step(link_up(fd, index, c->mtu, c->has_mac ? c->mac : NULL), "link up", c->ifname,
		     err, errlen);
	if (!e && c->has_v4)
		e = step(add_address(fd, index, AF_INET, c->addr4, c->prefix4), "IPv4 address on",
			 c->ifname, err, errlen);
	if (!e && c->has_v4 && c->has_gw4)
		e = step(add_default_route(fd, index, AF_INET, c->gw4), "IPv4 default route via",
			 c->ifname, err, errlen);
	if (!e && c->has_v6)
		e = step(add_address(fd, index, AF_INET6, c->addr6, c->prefix6), "IPv6 address on",
			 c->ifname, err, errlen);
	if (!e && c->has_v6 && c->has_gw6)
		e = step(add_default_route(fd, index, AF_INET6, c->gw6), "IPv6 default route via",
			 c->ifname, err, errlen);
	close(fd);
	return e;
}

/* What the last NET_CONFIG set: init is the agent, the same process
 * before and after a snapshot, so a restored VM knows what to replace. */
static struct init_net_cfg applied;

static void cfg_from_req(const struct sm_net_req *req, struct init_net_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->ifname, sizeof(c->ifname), "%s", req->ifname);
	c->mtu = req->mtu;
	c->has_mac = req->flags & SM_NET_MAC;
	memcpy(c->mac, req->mac, 6);
	c->has_v4 = req->flags & SM_NET_V4;
	c->has_gw4 = req->flags & SM_NET_GW4;
	c->has_v6 = req->flags & SM_NET_V6;
	c->has_gw6 = req->flags & SM_NET_GW6;
	memcpy(c->addr4, req->addr4, 4);
	memcpy(c->gw4, req->gw4, 4);
	memcpy(c->addr6, req->addr6, 16);
	memcpy(c->gw6, req->gw6, 16);
	c->prefix4 = (uint8_t)req->prefix4;
	c->prefix6 = (uint8_t)req->prefix6;
}

/* Remove the addresses the last setting added that c does not keep. */
static int drop_old_addresses(const struct init_net_cfg *c, char *err, size_t errlen)
{
	int index = (int)if_nametoindex(applied.ifname);
	if (!index)
		return 0; /* nothing applied, or the interface is gone */
	int fd = nl_open();
	if (fd < 0)
		return step(errno, "netlink socket for", applied.ifname, err, errlen);
	int e = 0;
	bool same4 = c->has_v4 && !strcmp(c->ifname, applied.ifname) &&
		     !memcmp(c->addr4, applied.addr4, 4) && c->prefix4 == applied.prefix4;
	bool same6 = c->has_v6 && !strcmp(c->ifname, applied.ifname) &&
		     !memcmp(c->addr6, applied.addr6, 16) && c->prefix6 == applied.prefix6;
	if (applied.has_v4 && !same4)
		e = step(del_address(fd, index, AF_INET, applied.addr4, applied.prefix4),
			 "remove the old IPv4 address of", applied.ifname, err, errlen);
	if (!e && applied.has_v6 && !same6)
		e = step(del_address(fd, index, AF_INET6, applied.addr6, applied.prefix6),
			 "remove the old IPv6 address of", applied.ifname, err, errlen);
	close(fd);
	return e;
}

int init_net_apply(const struct sm_net_req *req, char *err, size_t errlen)
{
	struct init_net_cfg c;
	cfg_from_req(req, &c);
	int e = drop_old_addresses(&c, err, errlen);
	if (!e)
		e = init_net_configure(&c, err, errlen);
	if (!e)
		applied = c;
	return e;
}

int init_net_remove(const char *ifname, char *err, size_t errlen)
{
	char path[128], target[256];
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : step(errno, "no device behind", ifname, err, errlen);
	target[n] = 0;
	const char *dev = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver/unbind", ifname);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return step(errno, "no driver to unbind for", ifname, err, errlen);
	int e = write(fd, dev, strlen(dev)) == (ssize_t)strlen(dev) ? 0 : errno;
	close(fd);
	return step(e, "unbinding the driver of", ifname, err, errlen);
}
