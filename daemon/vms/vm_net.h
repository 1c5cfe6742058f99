/* vm_net.h - a VM's network settings (issue 13): whether it has a network,
 * the host ports published to it, and its effective egress policy; the
 * daemon's defaults for them (its config file's "network" and "egress");
 * and the one merge of the two that every VM's settings come from.
 *
 * network  "none" (no NIC) or "outbound" (a virtio-net NIC on a passt of
 *          its own: see passt.h).
 * ports    host_ip:host_port -> guest_port, TCP or UDP (passt's -t/-u),
 *          kept as passt.h's struct passt_port with every default filled
 *          (host_ip "127.0.0.1" unless given; never "" here).
 * egress   the user's part of daemon/net/egress_policy.h's policy: rules
 *          (egress_rule_parse's text) and a default. The VMM's built-in
 *          denies (link-local, the host's own addresses) are not here:
 *          they come before these rules whatever they say.
 *
 * The merge (vm_net_merge): the request's "network" else the config's;
 * with "none", no ports and no egress may be asked for. The effective
 * rules are every deny (the config's, then the request's) before every
 * allow (the request's, then the config's): a deny from either side
 * beats any allow, and an allow beats the default. The default is the
 * request's when it gives one, else the config's. The request may
 * tighten the config's policy in any way; it may loosen it (allow rules,
 * "default": "allow") only when the config's "allow_override" is true or
 * the config's own default is allow (whose rules the request cannot
 * loosen anyway: the config's denies come first). Otherwise
 * VM_NET_FORBIDDEN (the API's 403).
 */
#ifndef SM_VMS_VM_NET_H
#define SM_VMS_VM_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/net/egress_policy.h"
#include "daemon/vms/passt.h"

#define VM_NET_MAX_PORTS 32       /* per VM (passt's command line fits them) */
#define VM_NET_MAX_REQ_RULES 64   /* a request's allow + deny rules */
#define VM_NET_MAX_CFG_RULES 128  /* the config's allow + deny rules */
#define VM_NET_MAX_RULES (VM_NET_MAX_REQ_RULES + VM_NET_MAX_CFG_RULES)
_Static_assert(VM_NET_MAX_RULES <= EGRESS_MAX_RULES, "rules fit a policy");
_Static_assert(VM_NET_MAX_PORTS <= PASST_MAX_PORTS, "ports fit passt");

enum vm_network { VM_NETWORK_NONE, VM_NETWORK_OUTBOUND };

/* Rules (each with its allow flag) and a default. */
struct vm_egress {
	bool default_allow;
	size_t n_rules;
	struct egress_rule rules[VM_NET_MAX_RULES];
};

/* A VM's settings, effective (after the merge). */
struct vm_net {
	enum vm_network mode;
	size_t n_ports;
	struct passt_port ports[VM_NET_MAX_PORTS];
	struct vm_egress egress;   /* every deny rule before every allow rule;
				      empty (default allow) with mode none */
};

/* The daemon's defaults (config file "network" and "egress"). */
struct vm_net_defaults {
	enum vm_network mode;      /* default outbound */
	bool allow_override;       /* default true */
	struct vm_egress egress;   /* default: allow, no rules; at most
				      VM_NET_MAX_CFG_RULES rules */
	/* "dns": the name servers VMs are told of (their resolv.conf), IPv4
	 * or IPv6 addresses; none: passt forwards the guest's queries to
	 * VM_LINK_DNS4 on to the host's own resolver. */
	int ndns;
	char dns[PASST_MAX_DNS][PASST_ADDR_MAX];
};

/* What a create request asks for (the API fills it; "given" flags say
 * which fields it had). */
struct vm_net_request {
	bool mode_given;
	enum vm_network mode;
	size_t n_ports;
	struct passt_port ports[VM_NET_MAX_PORTS];
	bool egress_given;         /* an "egress" object */
	bool default_given;        /* its "default" */
	struct vm_egress egress;   /* its rules (at most VM_NET_MAX_REQ_RULES) */
};

enum vm_net_status { VM_NET_OK = 0, VM_NET_INVALID = -1, VM_NET_FORBIDDEN = -2 };

/* The built-in defaults: outbound, allow_override, default allow, no rules. */
void vm_net_defaults_init(struct vm_net_defaults *d);

/* "none"/"outbound" <-> mode; -1 for another name. */
int vm_network_parse(const char *s, enum vm_network *out);
const char *vm_network_name(enum vm_network m);

/* The effective settings of a VM asking for req under d (see the top);
 * VM_NET_OK, or VM_NET_INVALID / VM_NET_FORBIDDEN with err naming the
 * field ("field \"ports\": ..."). */
enum vm_net_status vm_net_merge(const struct vm_net_defaults *d,
				const struct vm_net_request *req, struct vm_net *out,
				char *err, size_t errlen);

/* An {"allow": [RULE...], "deny": [RULE...], "default": "allow"|"deny"}
 * object (more keys in extra, NULL-terminated: skipped here) into e,
 * appending at most max rules (denies first); *default_given says whether
 * it had "default". field names it in messages ("egress"). 0, or -1
 * with err ("field \"egress\".allow[2]: rule \"x\": ..."). */
int vm_egress_from_json(json_t *obj, const char *field, const char *const *extra, size_t max,
			struct vm_egress *e, bool *default_given, char *err, size_t errlen);
/* {"default": ..., "deny": [...], "allow": [...]} (rules as
 * egress_rule_format writes them). */
json_t *vm_egress_json(const struct vm_egress *e);

/* Two published ports that cannot both be bound: the same protocol and
 * host port, and the same host address or either one a wildcard
 * (0.0.0.0 or ::). */
bool vm_port_overlaps(const struct passt_port *a, const struct passt_port *b);
/* "127.0.0.1:8080/tcp" ("[::1]:8080/tcp" for IPv6). */
void vm_port_format(const struct passt_port *p, char *buf, size_t len);
/* {"host_ip", "host_port", "guest_port", "protocol"}. */
json_t *vm_port_json(const struct passt_port *p);

/* The VM's "network", "ports" and "egress" (null with network none) set
 * in obj; and back from such an object (a previous run's row): a row
 * without "network" (older than networking) has none. */
void vm_net_to_json(const struct vm_net *n, json_t *obj);
void vm_net_from_json(json_t *obj, struct vm_net *n);

/* For the glue that starts a VM's network: its ports into c (replacing
 * c's), and its rules and default into p (after egress_policy_init and
 * the VM's addresses; p's rules replaced). 0, or -1 with err. */
void vm_net_passt_ports(const struct vm_net *n, struct passt_cfg *c);
int vm_net_egress_policy(const struct vm_net *n, struct egress_policy *p, char *err,
			 size_t errlen);

#endif
