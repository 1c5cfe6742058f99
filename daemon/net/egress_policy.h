/* egress_policy.h - which frames a guest may send out (issue 13). The VMM
 * parses every frame of virtio-net's tx queue (net_frame.h) and asks the
 * policy before it hands the frame on to passt: ALLOW, DROP (silently) or
 * REJECT (drop it and answer the guest at once, see net_reply.h), so a
 * refused connect fails fast instead of timing out.
 *
 * A policy holds the VM's own MAC and addresses, built-in denies, the
 * user's rules in order (the first that matches decides) and a default.
 * A frame is decided in this order:
 *   1. malformed (net_frame.h): DROP.
 *   2. a source MAC that is not the VM's: DROP (anti-spoofing).
 *   3. ARP: ALLOW a request or reply whose sender is the VM's MAC and
 *      IPv4 address (or 0.0.0.0 in a request: an address probe); else DROP.
 *      Any other ethertype than IPv4 and IPv6: DROP.
 *   4. IPv6 neighbour discovery (ICMPv6 133-136, code 0, hop limit 255 so
 *      it cannot have been routed, unfragmented) from the VM's address, a
 *      link-local one, or :: (router and neighbour solicitations), to a
 *      link-local or link-scope multicast (ff02::/16) address: ALLOW.
 *      With EGRESS_ALLOW_DHCP, a DHCP request (UDP 68 -> 255.255.255.255:67
 *      from the VM or 0.0.0.0; UDP 546 -> [ff02::1:2]:547 from the VM or a
 *      link-local address): ALLOW.
 *   5. a source address that is not the VM's (or none is set for that
 *      family): DROP (anti-spoofing).
 *   6. a destination that is never valid on a wire (unspecified, loopback,
 *      IPv4 0.0.0.0/8, IPv4-mapped IPv6), or a protocol other than TCP,
 *      UDP, ICMP (IPv4) and ICMPv6 (IPv6): DROP.
 *   7. a reply from a published port: a TCP segment from one of the VM's
 *      served TCP ports (egress_policy_add_served) with ACK or RST set
 *      (so never a connect: SYN without ACK): ALLOW, whatever its
 *      destination, even a host address (a client on the host may be
 *      shown to the guest as one). Safe without state: passt is
 *      socket-based, a segment that is not a SYN never opens a connection
 *      through it. UDP from a served port is no reply by itself: only a
 *      datagram back to a peer that sent to that port lately is, which
 *      needs the device's table of peers (egress_peers.h, passed to
 *      egress_policy_check_peers): ALLOW; without one, UDP from a served
 *      port is decided like any other datagram.
 *   8. the built-in denies: 169.254.0.0/16 (link-local, cloud metadata
 *      services such as 169.254.169.254), fe80::/10, and the host blocks
 *      the caller added (the host's own addresses). They come before the
 *      user's rules, or after them with EGRESS_RULES_OVERRIDE_BUILTIN.
 *   9. the user's rules, first match wins; then the default.
 *
 * A rule matches the destination address (a CIDR of one family, or any
 * address of both), optionally a protocol (tcp, udp, icmp: ICMP for IPv4,
 * ICMPv6 for IPv6) and optionally a destination port range; a rule with
 * ports only ever matches TCP and UDP. A later fragment carries no ports:
 * an allow rule with ports never matches it, a deny rule with ports whose
 * address and protocol match does. So a fragment passes only where the
 * address-level rules or the default allow it, and is never let through
 * where a port rule would deny its first fragment.
 *
 * What a refused (denied in 8 or 9) packet gets:
 *   - TCP with SYN alone (a connect): REJECT, answered with RST+ACK.
 *   - UDP, and ICMP/ICMPv6 echo requests: REJECT, answered with an ICMP
 *     destination unreachable, administratively prohibited.
 *   - everything else: DROP. So: no answer to an answer (any TCP segment
 *     with ACK or RST, echo replies, ICMP errors), to a fragment, or to a
 *     multicast or broadcast destination (RFC 1122 3.2.2), and none to a
 *     malformed or spoofed frame (1-6): its source cannot be trusted.
 *     A SYN alone from a served port is refused like any connect.
 * The caller should still rate-limit its replies.
 */
#ifndef SM_NET_EGRESS_POLICY_H
#define SM_NET_EGRESS_POLICY_H

#include "daemon/net/net_frame.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EGRESS_MAX_RULES 256
#define EGRESS_MAX_HOST_BLOCKS 64
#define EGRESS_MAX_SERVED 64
#define EGRESS_RULE_TEXT_MAX 96 /* egress_rule_format's longest output + 1 */

enum egress_verdict {
	EGRESS_ALLOW,
	EGRESS_DROP,
	EGRESS_REJECT,
};

enum egress_proto {
	EGRESS_PROTO_ANY,
	EGRESS_PROTO_TCP,
	EGRESS_PROTO_UDP,
	EGRESS_PROTO_ICMP, /* ICMP for IPv4, ICMPv6 for IPv6 */
};

/* A block of addresses in the 16-byte form net_frame.h uses: IPv4 ones
 * are v4-mapped, their prefix counted from bit 0 of that form (so an IPv4
 * /8 is prefix_len 104). family 0 is every address of both families. */
struct egress_cidr {
	uint8_t family; /* 0 (any), 4 or 6 */
	uint8_t prefix_len;
	uint8_t addr[16];
};

struct egress_rule {
	bool allow;
	struct egress_cidr dst;
	uint16_t port_min, port_max; /* both 0: no port range */
	enum egress_proto proto;
};

enum egress_flags {
	EGRESS_RULES_OVERRIDE_BUILTIN = 1 << 0, /* user rules before step 8 */
	EGRESS_ALLOW_DHCP = 1 << 1,
};

/* A port the VM serves (a published port): protocol TCP or UDP, and the
 * port in the guest. */
struct egress_served {
	enum egress_proto proto;
	uint16_t port;
};

struct egress_policy {
	uint8_t vm_mac[6];
	bool has_vm_ipv4, has_vm_ipv6;
	struct egress_cidr vm_ipv4, vm_ipv6; /* the VM's own source addresses */
	bool default_allow;
	unsigned flags; /* enum egress_flags */
	size_t n_rules;
	struct egress_rule rules[EGRESS_MAX_RULES];
	size_t n_host_blocks;
	struct egress_cidr host_blocks[EGRESS_MAX_HOST_BLOCKS];
	size_t n_served;
	struct egress_served served[EGRESS_MAX_SERVED];
};

struct egress_decision {
	enum egress_verdict verdict;
	const char *reason; /* a static string, for logs */
	int rule;           /* the user rule that decided, or -1 */
};

/* An empty policy for a VM with this MAC: no addresses, no rules. */
void egress_policy_init(struct egress_policy *p, const uint8_t vm_mac[6],
                        bool default_allow, unsigned flags);

/* The VM's own address of one family, as "10.0.2.15" or "2001:db8::5",
 * or a block it may use as sources ("2001:db8::/64"). Replaces the
 * previous one of that family. 0, or -1 with a message in err. */
int egress_policy_set_vm_address(struct egress_policy *p, const char *text,
                                 char *err, size_t errlen);

/* Add a block that is always denied (step 8), e.g. each of the host's own
 * addresses: "192.168.1.10", "2001:db8::1", "10.0.0.0/8". */
int egress_policy_add_host_block(struct egress_policy *p, const char *text,
                                 char *err, size_t errlen);

/* Add a port the VM serves (step 7): proto "tcp" or "udp", port 1 to
 * 65535 as text ("80"). Adding one twice is harmless. 0, or -1 with a
 * message naming the port in err. */
int egress_policy_add_served(struct egress_policy *p, const char *proto, const char *port,
                             char *err, size_t errlen);

/* Whether the VM serves port of proto (EGRESS_PROTO_TCP or _UDP). */
bool egress_policy_serves(const struct egress_policy *p, enum egress_proto proto,
                          uint16_t port);

/* Parse text (see egress_rule_parse) and append it as a rule. */
int egress_policy_add_rule(struct egress_policy *p, bool allow, const char *text,
                           char *err, size_t errlen);

/* Decide one parsed frame. */
struct egress_decision egress_policy_decide(const struct egress_policy *p,
                                            const struct net_frame *f);

/* Parse buf into *f and decide it. */
struct egress_decision egress_policy_check(const struct egress_policy *p,
                                           const uint8_t *buf, size_t len,
                                           struct net_frame *f);

/* The same, with the recent peers of the served UDP ports (NULL: none)
 * as they are at now_ns, a monotonic clock's: UDP answers (step 7). */
struct egress_peers;
struct egress_decision egress_policy_check_peers(const struct egress_policy *p,
                                                 const struct egress_peers *peers,
                                                 int64_t now_ns, const uint8_t *buf,
                                                 size_t len, struct net_frame *f);

/* "allow", "drop", "reject". */
const char *egress_verdict_name(enum egress_verdict v);

/* A rule as a CLI or API gives it: ADDRESS[:PORTS][/PROTO] where
 *   ADDRESS  any | IPV4[/LEN] | [IPV6][/LEN] | IPV6[/LEN] (ports only
 *            after a /LEN: in "2001:db8::1:443" all is the address)
 *   PORTS    PORT | PORT-PORT, 1 to 65535 (TCP and UDP only)
 *   PROTO    tcp | udp | icmp | any
 * e.g. "10.0.0.0/8:443", "10.0.0.0/8:8000-8100/tcp", "192.168.1.5",
 * "[2001:db8::]/32:443", "0.0.0.0/0", "::/0", "any:53/udp". A block with
 * bits set past its prefix ("10.0.0.1/8") is refused, to avoid guessing.
 * 0, or -1 with a message naming the rule in err. */
int egress_rule_parse(const char *text, bool allow, struct egress_rule *r,
                      char *err, size_t errlen);

/* A rule back as text egress_rule_parse reads (without allow/deny). */
void egress_rule_format(const struct egress_rule *r, char *buf, size_t size);

/* An address block: "any", IPV4[/LEN] or IPV6[/LEN] (no brackets). */
int egress_cidr_parse(const char *text, struct egress_cidr *c, char *err,
                      size_t errlen);

/* Whether addr (16-byte form) of a packet of ip_version is in c. */
bool egress_cidr_contains(const struct egress_cidr *c, const uint8_t addr[16],
                          uint8_t ip_version);

#endif
