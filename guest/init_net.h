/* init_net.h - the guest's network interfaces, set up by init (issue 13).
 *
 * No DHCP client runs in the guest: the host says which address, default
 * route and MTU the VM's virtio-net interface has, and init sets them with
 * rtnetlink (init_net.c). The loopback interface is brought up in every VM,
 * with a network or without.
 */
#ifndef SM_INIT_NET_H
#define SM_INIT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one interface gets; a family without has_* is left alone. */
struct init_net_cfg {
	char ifname[16];        /* "eth0" */
	uint32_t mtu;           /* 0: keep the driver's */
	bool has_mac;
	uint8_t mac[6];         /* the interface's new address (has_mac) */
	bool has_v4;
	uint8_t addr4[4], prefix4;
	bool has_gw4;
	uint8_t gw4[4];
	bool has_v6;
	uint8_t addr6[16], prefix6;
	bool has_gw6;
	uint8_t gw6[16];        /* may be link-local: the route names the interface */
};

/* Bring ifname up, with mtu if nonzero. 0, or an errno with err set. */
int init_net_link_up(const char *ifname, uint32_t mtu, char *err, size_t errlen);

/* Link up, MTU and MAC, then each family's address (added; the same address
 * again is no error) and default route through its gateway (replacing
 * the default route of that family). IPv6 addresses skip duplicate
 * address detection: the link has one other node, the host's. 0, or the
 * first errno with err naming the step. */
int init_net_configure(const struct init_net_cfg *c, char *err, size_t errlen);

struct sm_net_req;

/* A NET_CONFIG (agent_proto.h): the interface's whole setting. The
 * addresses the previous one added and this one does not keep are
 * removed first, then init_net_configure. 0, or an errno with err. */
int init_net_apply(const struct sm_net_req *req, char *err, size_t errlen);

/* Remove ifname from the guest: its device's driver lets go of it (sysfs
 * unbind), so only the interfaces without a device (lo) are left. The
 * host gives that device no back end either: this only tidies the
 * guest's view. 0, or an errno with err. */
int init_net_remove(const char *ifname, char *err, size_t errlen);

#endif
