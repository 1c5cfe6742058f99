/* agent_client_net.c - NET_CONFIG from the host (agent_proto.h, version
 * 6): the guest's network interface gets its whole setting (address,
 * default route and MTU per family, name servers), checked here with the
 * agent's own rules before it is sent. The daemon sends it once a VM with
 * a network answers, and again to a VM restored from a snapshot or taken
 * from the pool, which gets an address of its own (issue 13).
 */
#include "agent_client_int.h"

#include <errno.h>

int agent_client_net_config(struct agent_client *c, const struct sm_net_req *req, int timeout_ms)
{
	const char *why;
	if (c->hello.version < 6) {
		ac_set_err(c, "net_config: the guest agent speaks protocol version %u, NET_CONFIG "
			   "needs 6 (an older guest image or snapshot)", c->hello.version);
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if ((why = sm_net_req_check(req))) {
		ac_set_err(c, "net_config: %s", why);
		errno = EINVAL;
		return -1;
	}
	uint32_t id = ++c->next_id;
	pthread_mutex_lock(&c->mu);
	int rc = sm_net_req_encode(&c->out, id, req);
	pthread_mutex_unlock(&c->mu);
	if (rc) {
		ac_set_err(c, "net_config: cannot encode the request");
		errno = ENOMEM;
		return -1;
	}
	return ac_wait_ok(c, id, timeout_ms, "net_config");
}
