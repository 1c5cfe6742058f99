/* agent_client_sync.c - SYNC from the host: the first request to a VM
 * restored from a snapshot (agent_proto.h). Its clones share the
 * snapshot's RNG state, clock and hostname; SYNC gives each 64 fresh bytes
 * of the host's getrandom (credited to the guest's pool, which reseeds),
 * the host's CLOCK_REALTIME and, optionally, a hostname of its own.
 */
#include "agent_client_int.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int agent_sync_req_fresh(struct sm_sync_req *req, const char *hostname)
{
	struct timespec now;
	memset(req, 0, sizeof(*req));
	if (hostname && hostname[0]) {
		if (!sm_hostname_valid(hostname)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(req->hostname, hostname, strlen(hostname) + 1);
	}
	for (size_t got = 0; got < SM_SYNC_ENTROPY;) {
		ssize_t n = getrandom(req->entropy + got, SM_SYNC_ENTROPY - got, 0);
		if (n < 0 && errno != EINTR)
			return -1;
		got += n > 0 ? (size_t)n : 0;
	}
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return -1;
	req->sec = (uint64_t)now.tv_sec;
	req->nsec = (uint32_t)now.tv_nsec;
	return 0;
}

int agent_client_sync_req(struct agent_client *c, const struct sm_sync_req *req, int timeout_ms)
{
	uint32_t id = ++c->next_id;
	pthread_mutex_lock(&c->mu);
	int rc = sm_sync_req_encode(&c->out, id, req);
	pthread_mutex_unlock(&c->mu);
	if (rc) {
		ac_set_err(c, "sync: invalid request (hostname '%s', nsec %u)", req->hostname,
			   req->nsec);
		return -1;
	}
	return ac_wait_ok(c, id, timeout_ms, "sync");
}

int agent_client_sync(struct agent_client *c, const char *hostname, int timeout_ms)
{
	struct sm_sync_req req;
	int rc;
	if (agent_sync_req_fresh(&req, hostname) < 0) {
		int e = errno;
		if (e == EINVAL)
			ac_set_err(c, "sync: invalid hostname '%s'", hostname);
		else
			ac_set_err(c, "sync: getrandom or clock: %s", strerror(e));
		return -1;
	}
	rc = agent_client_sync_req(c, &req, timeout_ms);
	explicit_bzero(req.entropy, sizeof(req.entropy));
	return rc;
}
