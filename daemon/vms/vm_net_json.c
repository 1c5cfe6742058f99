/* vm_net_json.c - a VM's network settings as JSON (see vm_net.h): the
 * egress object a request and the config file give, and what a VM's
 * record shows and stores ("network", "ports", "egress"), read back from
 * a previous run's row. */
#include "daemon/vms/vm_net.h"

#include <stdio.h>
#include <string.h>

static bool listed(const char *key, const char *const *keys)
{
	for (size_t i = 0; keys && keys[i]; i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* Every key of obj is allow, deny, default or in extra; the types. */
static int check_egress_keys(json_t *obj, const char *field, const char *const *extra,
			     char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	if (!json_is_object(obj))
		return snprintf(err, errlen, "field \"%s\" must be an object {\"allow\": [RULE...], "
				"\"deny\": [RULE...], \"default\": \"allow\"|\"deny\"}", field), -1;
	json_object_foreach(obj, key, v) {
		bool list = !strcmp(key, "allow") || !strcmp(key, "deny");
		if (!list && strcmp(key, "default") && !listed(key, extra))
			return snprintf(err, errlen, "field \"%s\": unknown field \"%s\"", field,
					key), -1;
		if (list && !json_is_array(v))
			return snprintf(err, errlen, "field \"%s\".%s must be an array of rules",
					field, key), -1;
	}
	json_t *def = json_object_get(obj, "default");
	const char *d = json_string_value(def);
	if (def && (!d || (strcmp(d, "allow") && strcmp(d, "deny"))))
		return snprintf(err, errlen, "field \"%s\".default must be \"allow\" or \"deny\"",
				field), -1;
	return 0;
}

/* obj[key]'s rules appended to e (allow says which list it is). */
static int add_rules(json_t *obj, const char *field, bool allow, size_t max,
		     struct vm_egress *e, char *err, size_t errlen)
{
	const char *key = allow ? "allow" : "deny";
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(obj, key), i, v) {
		char why[256];
		const char *text = json_string_value(v);
		if (!text || strlen(text) != json_string_length(v))
			return snprintf(err, errlen, "field \"%s\".%s[%zu] must be a rule string",
					field, key, i), -1;
		if (e->n_rules >= max)
			return snprintf(err, errlen, "field \"%s\": at most %zu rules (allow and "
					"deny together)", field, max), -1;
		if (egress_rule_parse(text, allow, &e->rules[e->n_rules], why, sizeof why) < 0)
			return snprintf(err, errlen, "field \"%s\".%s[%zu]: %s", field, key, i,
					why), -1;
		e->n_rules++;
	}
	return 0;
}

int vm_egress_from_json(json_t *obj, const char *field, const char *const *extra, size_t max,
			struct vm_egress *e, bool *default_given, char *err, size_t errlen)
{
	if (max > VM_NET_MAX_RULES)
		max = VM_NET_MAX_RULES;
	if (check_egress_keys(obj, field, extra, err, errlen) < 0)
		return -1;
	const char *d = json_string_value(json_object_get(obj, "default"));
	*default_given = d != NULL;
	if (d)
		e->default_allow = !strcmp(d, "allow");
	if (add_rules(obj, field, false, max, e, err, errlen) < 0 ||
	    add_rules(obj, field, true, max, e, err, errlen) < 0)
		return -1;
	return 0;
}

json_t *vm_egress_json(const struct vm_egress *e)
{
	json_t *lists[2] = { json_array(), json_array() };   /* deny, allow */
	for (size_t i = 0; lists[0] && lists[1] && i < e->n_rules; i++) {
		char text[EGRESS_RULE_TEXT_MAX];
		egress_rule_format(&e->rules[i], text, sizeof text);
		json_array_append_new(lists[e->rules[i].allow], json_string(text));
	}
	return json_pack("{s:s,s:o,s:o}", "default", e->default_allow ? "allow" : "deny",
			 "deny", lists[0] ? lists[0] : json_array(),
			 "allow", lists[1] ? lists[1] : json_array());
}

json_t *vm_port_json(const struct passt_port *p)
{
	return json_pack("{s:s,s:i,s:i,s:s}", "host_ip", p->host_ip[0] ? p->host_ip : "0.0.0.0",
			 "host_port", (int)p->host_port, "guest_port", (int)p->guest_port,
			 "protocol", p->udp ? "udp" : "tcp");
}

void vm_net_to_json(const struct vm_net *n, json_t *obj)
{
	json_t *ports = json_array();
	for (size_t i = 0; ports && i < n->n_ports; i++)
		json_array_append_new(ports, vm_port_json(&n->ports[i]));
	json_object_set_new(obj, "network", json_string(vm_network_name(n->mode)));
	json_object_set_new(obj, "ports", ports ? ports : json_array());
	json_object_set_new(obj, "egress", n->mode == VM_NETWORK_NONE ? json_null()
								      : vm_egress_json(&n->egress));
}

/* One stored port, or false when it is not one. */
static bool port_from_json(json_t *o, struct passt_port *p)
{
	const char *ip = json_string_value(json_object_get(o, "host_ip"));
	const char *proto = json_string_value(json_object_get(o, "protocol"));
	json_int_t hp = json_integer_value(json_object_get(o, "host_port"));
	json_int_t gp = json_integer_value(json_object_get(o, "guest_port"));
	if (!ip || strlen(ip) >= sizeof p->host_ip || !proto || hp < 1 || hp > 65535 || gp < 1 ||
	    gp > 65535)
		return false;
	memset(p, 0, sizeof *p);
	snprintf(p->host_ip, sizeof p->host_ip, "%s", ip);
	p->host_port = (uint16_t)hp;
	p->guest_port = (uint16_t)gp;
	p->udp = !strcmp(proto, "udp");
	return true;
}

void vm_net_from_json(json_t *obj, struct vm_net *n)
{
	size_t i;
	json_t *v;
	char err[256];
	bool given;
	memset(n, 0, sizeof *n);
	n->egress.default_allow = true;
	if (vm_network_parse(json_string_value(json_object_get(obj, "network")), &n->mode) < 0 ||
	    n->mode == VM_NETWORK_NONE)
		return;
	json_array_foreach(json_object_get(obj, "ports"), i, v)
		if (n->n_ports < VM_NET_MAX_PORTS && port_from_json(v, &n->ports[n->n_ports]))
			n->n_ports++;
	json_t *eg = json_object_get(obj, "egress");
	if (json_is_object(eg) &&
	    vm_egress_from_json(eg, "egress", NULL, VM_NET_MAX_RULES, &n->egress, &given, err,
				sizeof err) < 0)
		n->egress.n_rules = 0;   /* a row we did not write: shown without rules */
}
