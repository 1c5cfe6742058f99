/* egress_peers.h - the recent peers of a VM's served UDP ports (issue 13),
 * so a UDP server behind a published port can answer under any egress
 * policy without letting the guest send UDP anywhere from that port.
 *
 * TCP answers are told apart without state (egress_policy.h, step 7); a
 * UDP datagram is not: one from a served port is an answer only to a peer
 * that sent to that port lately. So the device records, for every
 * datagram passt gives the guest whose destination port is a served UDP
 * port (unfragmented, with its UDP header): the peer's address and port
 * and the served port, with the time. A datagram the guest sends from
 * that served port to that peer address and port within EGRESS_PEER_TTL_NS
 * is an answer (step 7). Anything else from the port is decided by the
 * rules like any datagram; a later fragment, having no ports, never is
 * an answer.
 *
 * A fixed table of EGRESS_PEERS_MAX entries, plain data (no pointers):
 * a peer seen again is refreshed in place, a new one takes an empty
 * entry, else replaces the oldest (expired ones are the oldest). Times are a monotonic clock's
 * nanoseconds, passed in. The table need not survive a snapshot: cleared,
 * it only makes answers wait for the peer's next datagram.
 */
#ifndef SM_NET_EGRESS_PEERS_H
#define SM_NET_EGRESS_PEERS_H

#include "daemon/net/egress_policy.h"
#include "daemon/net/net_frame.h"

#include <stdbool.h>
#include <stdint.h>

#define EGRESS_PEERS_MAX 128
#define EGRESS_PEER_TTL_NS (120LL * 1000000000LL)

struct egress_peer {
	bool used;
	uint8_t ip_version;  /* 4 or 6 */
	uint16_t peer_port, served_port;
	uint8_t addr[16];    /* the peer's, in net_frame.h's 16-byte form */
	int64_t seen_ns;     /* its last datagram to served_port */
};

struct egress_peers {
	struct egress_peer e[EGRESS_PEERS_MAX];
};

void egress_peers_clear(struct egress_peers *t);

/* A frame passt gives the guest (parsed, f): if it is a UDP datagram to
 * one of p's served UDP ports, record its source. Whether it recorded. */
bool egress_peers_note(struct egress_peers *t, const struct egress_policy *p,
                       const struct net_frame *f, int64_t now_ns);

/* Whether f, a frame the guest sends, is a UDP datagram from one of p's
 * served UDP ports to a peer recorded for that port within the TTL. */
bool egress_peers_match(const struct egress_peers *t, const struct egress_policy *p,
                        const struct net_frame *f, int64_t now_ns);

#endif
