/* vm_net.c - a VM's network settings: the daemon's defaults, the merge of
 * a request with them (the rules are at the top of vm_net.h), published
 * ports compared and named, and the settings handed to passt and to the
 * VMM's egress policy. The JSON side is vm_net_json.c. */
#include "daemon/vms/vm_net.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 4, 5)))
static enum vm_net_status fail(enum vm_net_status st, char *err, size_t errlen,
			       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return st;
}

void vm_net_defaults_init(struct vm_net_defaults *d)
{
	memset(d, 0, sizeof *d);
	d->mode = VM_NETWORK_OUTBOUND;
	d->allow_override = true;
	d->egress.default_allow = true;
}

int vm_network_parse(const char *s, enum vm_network *out)
{
	if (s && !strcmp(s, "none"))
		*out = VM_NETWORK_NONE;
	else if (s && !strcmp(s, "outbound"))
		*out = VM_NETWORK_OUTBOUND;
	else
		return -1;
	return 0;
}

const char *vm_network_name(enum vm_network m)
{
	return m == VM_NETWORK_OUTBOUND ? "outbound" : "none";
}

/* With network none nothing else may be asked for. */
static enum vm_net_status merge_none(const struct vm_net_request *req, char *err, size_t errlen)
{
	const char *why = req->mode_given ? "" : " (the daemon's default network is \"none\": "
						 "give \"network\": \"outbound\")";
	if (req->n_ports)
		return fail(VM_NET_INVALID, err, errlen, "field \"ports\": a VM with network "
			    "\"none\" cannot publish ports%s", why);
	if (req->egress_given)
		return fail(VM_NET_INVALID, err, errlen, "field \"egress\": a VM with network "
			    "\"none\" has no egress to set%s", why);
	return VM_NET_OK;
}

/* Whether the request may loosen d's policy; VM_NET_FORBIDDEN if it tries
 * and may not. */
static enum vm_net_status check_loosening(const struct vm_net_defaults *d,
					  const struct vm_net_request *req, char *err,
					  size_t errlen)
{
	static const char why[] = "the daemon's egress policy denies by default and its "
				  "config does not let requests loosen it (\"egress\": "
				  "{\"allow_override\": false})";
	if (d->allow_override || d->egress.default_allow)
		return VM_NET_OK;
	if (req->default_given && req->egress.default_allow)
		return fail(VM_NET_FORBIDDEN, err, errlen, "field \"egress\".default: \"allow\" "
			    "is refused: %s", why);
	for (size_t i = 0; i < req->egress.n_rules; i++) {
		char text[EGRESS_RULE_TEXT_MAX];
		if (!req->egress.rules[i].allow)
			continue;
		egress_rule_format(&req->egress.rules[i], text, sizeof text);
		return fail(VM_NET_FORBIDDEN, err, errlen, "field \"egress\".allow: rule \"%s\" "
			    "is refused: %s", text, why);
	}
	return VM_NET_OK;
}

/* Appends src's rules whose allow flag is allow to dst. */
static int append_rules(struct vm_egress *dst, const struct vm_egress *src, bool allow)
{
	for (size_t i = 0; i < src->n_rules; i++) {
		if (src->rules[i].allow != allow)
			continue;
		if (dst->n_rules == VM_NET_MAX_RULES)
			return -1;
		dst->rules[dst->n_rules++] = src->rules[i];
	}
	return 0;
}

enum vm_net_status vm_net_merge(const struct vm_net_defaults *d,
				const struct vm_net_request *req, struct vm_net *out,
				char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->mode = req->mode_given ? req->mode : d->mode;
	out->egress.default_allow = true;
	if (out->mode == VM_NETWORK_NONE)
		return merge_none(req, err, errlen);
	if (req->n_ports > VM_NET_MAX_PORTS)
		return fail(VM_NET_INVALID, err, errlen, "field \"ports\": at most %d ports, not "
			    "%zu", VM_NET_MAX_PORTS, req->n_ports);
	if (req->egress.n_rules > VM_NET_MAX_REQ_RULES)
		return fail(VM_NET_INVALID, err, errlen, "field \"egress\": at most %d rules "
			    "(allow and deny together), not %zu", VM_NET_MAX_REQ_RULES,
			    req->egress.n_rules);
	enum vm_net_status st = check_loosening(d, req, err, errlen);
	if (st != VM_NET_OK)
		return st;
	out->n_ports = req->n_ports;
	memcpy(out->ports, req->ports, req->n_ports * sizeof req->ports[0]);
	out->egress.default_allow = req->default_given ? req->egress.default_allow
						       : d->egress.default_allow;
	/* Denies (the config's, the request's), then allows (the request's,
	 * the config's): a deny from either side wins. */
	if (append_rules(&out->egress, &d->egress, false) < 0 ||
	    append_rules(&out->egress, &req->egress, false) < 0 ||
	    append_rules(&out->egress, &req->egress, true) < 0 ||
	    append_rules(&out->egress, &d->egress, true) < 0)
		return fail(VM_NET_INVALID, err, errlen, "field \"egress\": more than %d rules "
			    "with the daemon's", VM_NET_MAX_RULES);
	return VM_NET_OK;
}

static bool wildcard(const char *ip)
{
	return !ip[0] || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::");
}

bool vm_port_overlaps(const struct passt_port *a, const struct passt_port *b)
{
	if (a->udp != b->udp || a->host_port != b->host_port)
		return false;
	return !strcmp(a->host_ip, b->host_ip) || wildcard(a->host_ip) || wildcard(b->host_ip);
}

void vm_port_format(const struct passt_port *p, char *buf, size_t len)
{
	bool v6 = strchr(p->host_ip, ':') != NULL;
	snprintf(buf, len, "%s%s%s:%u/%s", v6 ? "[" : "", p->host_ip[0] ? p->host_ip : "0.0.0.0",
		 v6 ? "]" : "", p->host_port, p->udp ? "udp" : "tcp");
}

void vm_net_passt_ports(const struct vm_net *n, struct passt_cfg *c)
{
	c->nports = n->mode == VM_NETWORK_NONE ? 0 : (int)n->n_ports;
	memcpy(c->ports, n->ports, (size_t)c->nports * sizeof c->ports[0]);
}

int vm_net_egress_policy(const struct vm_net *n, struct egress_policy *p, char *err,
			 size_t errlen)
{
	if (n->egress.n_rules > EGRESS_MAX_RULES) {
		snprintf(err, errlen, "%zu egress rules: a policy takes at most %d",
			 n->egress.n_rules, EGRESS_MAX_RULES);
		return -1;
	}
	p->default_allow = n->egress.default_allow;
	p->n_rules = n->egress.n_rules;
	memcpy(p->rules, n->egress.rules, n->egress.n_rules * sizeof p->rules[0]);
	return 0;
}
