/* config_net.c - the config file's network defaults for VMs (see
 * daemon/vms/vm_net.h for how a create request is merged with them):
 *   "network": "outbound" | "none"   (default "outbound")
 *   "egress": { "default": "allow" | "deny",      (default "allow")
 *               "allow": [RULE...], "deny": [RULE...],
 *               "allow_override": true | false }  (default true)
 *   "dns": [ADDRESS...]   (at most 3 IPv4/IPv6 addresses; default none:
 *                          each VM's passt forwards to the host's resolver)
 * RULE is daemon/net/egress_policy.h's text (egress_rule_parse); at most
 * VM_NET_MAX_CFG_RULES rules, allow and deny together. With
 * "allow_override": false and "default": "deny", requests may not loosen
 * the policy (allow rules, "default": "allow"): the API answers 403. */
#include "daemon/config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int config_load_network(struct sm_config *c, json_t *v, char *err, size_t errlen)
{
	if (vm_network_parse(json_string_value(v), &c->net.mode) < 0)
		return snprintf(err, errlen, "\"network\": expected \"outbound\" or \"none\""), -1;
	return 0;
}

int config_load_egress(struct sm_config *c, json_t *v, char *err, size_t errlen)
{
	static const char *const extra[] = { "allow_override", NULL };
	struct vm_egress e = { .default_allow = true };
	bool default_given;
	if (vm_egress_from_json(v, "egress", extra, VM_NET_MAX_CFG_RULES, &e, &default_given,
				err, errlen) < 0)
		return -1;
	json_t *ov = json_object_get(v, "allow_override");
	if (ov && !json_is_boolean(ov))
		return snprintf(err, errlen, "\"egress\".allow_override: expected true or false"),
		       -1;
	c->net.allow_override = ov ? json_is_true(ov) : true;
	c->net.egress = e;
	return 0;
}

int config_load_dns(struct sm_config *c, json_t *v, char *err, size_t errlen)
{
	size_t i;
	json_t *a;
	uint8_t bin[16];
	if (!json_is_array(v) || json_array_size(v) > PASST_MAX_DNS)
		return snprintf(err, errlen, "\"dns\": expected at most %d addresses", PASST_MAX_DNS),
		       -1;
	json_array_foreach(v, i, a) {
		const char *s = json_string_value(a);
		if (!s || strlen(s) >= PASST_ADDR_MAX ||
		    (inet_pton(AF_INET, s, bin) != 1 && inet_pton(AF_INET6, s, bin) != 1))
			return snprintf(err, errlen, "\"dns\"[%zu]: not an IPv4 or IPv6 address", i),
			       -1;
		snprintf(c->net.dns[i], sizeof c->net.dns[i], "%s", s);
	}
	c->net.ndns = (int)json_array_size(v);
	return 0;
}
