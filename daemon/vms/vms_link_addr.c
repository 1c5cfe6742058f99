/* vms_link_addr.c - each live VM's guest address is its own (issue 13:
 * two clones of one snapshot never share a MAC or an address).
 *
 * Every VM sits alone on its passt's link, so nothing would break if all
 * had one address; but a user comparing VMs, their logs or their policies
 * should never see two at once with the same one. The guest network is
 * VM_LINK_NET4/VM_LINK_PREFIX4 with gateway VM_LINK_GW4 and passt's name
 * server VM_LINK_DNS4; the first VM gets VM_LINK_FIRST4 (10.0.2.15, as in
 * QEMU's user network), the next ones the following addresses, skipping
 * those whose last byte is 0 or 255 and the gateway's and name server's.
 * An address is taken by vm_link_up and given back by vm_link_down.
 */
#include "daemon/vms/vms_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static bool reserved(uint32_t host)
{
	uint32_t gw = 0, dns = 0;
	inet_pton(AF_INET, VM_LINK_GW4, &gw);
	inet_pton(AF_INET, VM_LINK_DNS4, &dns);
	uint32_t a = htonl(host);
	return (host & 0xff) == 0 || (host & 0xff) == 0xff || a == gw || a == dns;
}

static bool taken_locked(const struct vms *v, const char *text)
{
	for (size_t k = 0; k < v->n; k++)
		if (!strcmp(v->recs[k]->addr4, text))
			return true;
	return false;
}

int link_addr_take_locked(struct vms *v, struct vm_rec *r, char *err, size_t errlen)
{
	uint32_t net, first;
	if (r->addr4[0])
		return 0;
	inet_pton(AF_INET, VM_LINK_NET4, &net);
	inet_pton(AF_INET, VM_LINK_FIRST4, &first);
	uint32_t lo = ntohl(net), hi = lo + (1u << (32 - VM_LINK_PREFIX4)) - 1;
	for (uint32_t host = ntohl(first); host < hi; host++) {
		struct in_addr a = { .s_addr = htonl(host) };
		char text[INET_ADDRSTRLEN];
		if (reserved(host) || !inet_ntop(AF_INET, &a, text, sizeof text) ||
		    taken_locked(v, text))
			continue;
		snprintf(r->addr4, sizeof r->addr4, "%s", text);
		return 0;
	}
	snprintf(err, errlen, "every guest address of %s/%d is taken by a running VM",
		 VM_LINK_NET4, VM_LINK_PREFIX4);
	return -1;
}
