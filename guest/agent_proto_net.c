/* agent_proto_net.c - NET_CONFIG coding and validation (agent_proto.h).
 *
 * The setting of the guest's network interface (issue 13), checked the
 * same on both sides: an interface name the kernel takes, an MTU an
 * Ethernet link can have, prefixes within their family, a gateway only
 * with an address of its family, at most three name servers of a known
 * family, a search list of domain-name characters, and a MAC that is
 * unicast (an interface cannot take another). The host's encoder
 * refuses what the agent's decoder would.
 */
#include "agent_proto.h"

#include <stdlib.h>
#include <string.h>

#define MTU_MIN 68 /* IPv4's minimum (RFC 791) */
#define MTU_MAX 65535

static bool ifname_valid(const char *s)
{
	size_t n = strnlen(s, SM_NET_IFNAME_MAX + 1);
	if (n == 0 || n > SM_NET_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]))
			return false;
	return true;
}

static bool search_valid(const char *s)
{
	size_t n = strnlen(s, SM_NET_SEARCH_MAX + 1);
	if (n > SM_NET_SEARCH_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.- ", s[i]))
			return false;
	return true;
}

const char *sm_net_req_check(const struct sm_net_req *req)
{
	if (!ifname_valid(req->ifname))
		return "NET_CONFIG interface name is not 1-15 letters, digits, '_', '.' or '-'";
	if (req->mtu && (req->mtu < MTU_MIN || req->mtu > MTU_MAX))
		return "NET_CONFIG MTU is not 0 or 68-65535";
	if (req->flags & ~SM_NET_FLAGS)
		return "NET_CONFIG has unknown flags";
	if ((req->flags & SM_NET_NONE) && (req->flags & ~SM_NET_NONE))
		return "NET_CONFIG without a network sets nothing else";
	if ((req->flags & SM_NET_MAC) && (req->mac[0] & 1))
		return "NET_CONFIG MAC is not a unicast address";
	if (((req->flags & SM_NET_GW4) && !(req->flags & SM_NET_V4)) ||
	    ((req->flags & SM_NET_GW6) && !(req->flags & SM_NET_V6)))
		return "NET_CONFIG gateway without an address of its family";
	if (req->prefix4 > 32 || req->prefix6 > 128)
		return "NET_CONFIG prefix longer than its family's addresses";
	if (req->ndns > SM_NET_DNS_MAX)
		return "NET_CONFIG has more than 3 name servers";
	for (uint32_t i = 0; i < req->ndns; i++)
		if (req->dns[i].family != 4 && req->dns[i].family != 6)
			return "NET_CONFIG name server of an unknown family";
	if (!search_valid(req->search))
		return "NET_CONFIG search list is not domain names";
	return NULL;
}

int sm_net_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_net_req *req)
{
	if (sm_net_req_check(req))
		return -1;
	size_t f = sm_frame_begin(b, SM_MSG_NET_CONFIG, id);
	sm_put_str(b, req->ifname);
	sm_put_u32(b, req->mtu);
	sm_put_u32(b, req->flags);
	sm_put_bytes(b, req->mac, 6);
	sm_put_bytes(b, req->addr4, 4);
	sm_put_u32(b, req->prefix4);
	sm_put_bytes(b, req->gw4, 4);
	sm_put_bytes(b, req->addr6, 16);
	sm_put_u32(b, req->prefix6);
	sm_put_bytes(b, req->gw6, 16);
	sm_put_u32(b, req->ndns);
	for (uint32_t i = 0; i < req->ndns; i++) {
		sm_put_u32(b, req->dns[i].family);
		sm_put_bytes(b, req->dns[i].addr, 16);
	}
	sm_put_str(b, req->search);
	return sm_frame_end(b, f);
}

/* A decoded string into a fixed field: false if it does not fit. */
static bool take_str(char *dst, size_t size, char *s)
{
	bool fits = s && strlen(s) < size;
	if (fits)
		memcpy(dst, s, strlen(s) + 1);
	free(s);
	return fits;
}

int sm_net_req_decode(const void *p, size_t len, struct sm_net_req *req, const char **why)
{
	struct sm_rbuf r;
	char *ifname = NULL, *search = NULL;
	memset(req, 0, sizeof(*req));
	sm_rbuf_init(&r, p, len);
	sm_get_str(&r, &ifname);
	sm_get_u32(&r, &req->mtu);
	sm_get_u32(&r, &req->flags);
	sm_get_bytes(&r, req->mac, 6);
	sm_get_bytes(&r, req->addr4, 4);
	sm_get_u32(&r, &req->prefix4);
	sm_get_bytes(&r, req->gw4, 4);
	sm_get_bytes(&r, req->addr6, 16);
	sm_get_u32(&r, &req->prefix6);
	sm_get_bytes(&r, req->gw6, 16);
	sm_get_u32(&r, &req->ndns);
	for (uint32_t i = 0; i < req->ndns && i < SM_NET_DNS_MAX; i++) {
		sm_get_u32(&r, &req->dns[i].family);
		sm_get_bytes(&r, req->dns[i].addr, 16);
	}
	if (req->ndns <= SM_NET_DNS_MAX)
		sm_get_str(&r, &search);
	bool names_fit = take_str(req->ifname, sizeof(req->ifname), ifname) &
			 take_str(req->search, sizeof(req->search), search);
	*why = NULL;
	if (req->ndns > SM_NET_DNS_MAX)
		*why = "NET_CONFIG has more than 3 name servers";
	else if (sm_rbuf_done(&r))
		*why = "malformed NET_CONFIG";
	else if (!names_fit)
		*why = "NET_CONFIG interface name or search list too long";
	else
		*why = sm_net_req_check(req);
	return *why ? -1 : 0;
}
