/* egress_text.h - one VM's network policy as text (issue 13): what
 * supermachined writes into the file it sends with NET_ATTACH
 * (daemon/vm/worker_proto.h) and the VMM reads back into the struct
 * egress_policy its virtio-net device decides frames by. Both sides use
 * this code, so they agree on every byte.
 *
 * One directive per line, its words separated by spaces or tabs; blank
 * lines and lines whose first non-blank character is '#' are ignored:
 *   mac MAC               the VM's MAC (net_mac.h); required, once. The
 *                         device takes it (a VM restored from a shared
 *                         snapshot gets its own this way)
 *   default allow|deny    what a frame no rule decides gets; required, once
 *   vm-address ADDR[/LEN] the VM's own source address or block, at most
 *                         one per family (egress_policy_set_vm_address);
 *                         without one, that family's traffic is dropped
 *   host-block ADDR[/LEN] always denied, e.g. each of the host's own
 *                         addresses; up to EGRESS_MAX_HOST_BLOCKS
 *   serve tcp|udp PORT    a port the VM serves (a published port, its
 *                         port in the guest, 1 to 65535): its answers
 *                         pass (egress_policy_add_served); up to
 *                         EGRESS_MAX_SERVED
 *   allow RULE, deny RULE the user's rules in order, first match wins, up
 *                         to EGRESS_MAX_RULES in all (grammar: egress_rule_parse)
 *   override-builtin      the rules come before the built-in denies
 *                         (EGRESS_RULES_OVERRIDE_BUILTIN); at most once
 *   allow-dhcp            EGRESS_ALLOW_DHCP; at most once
 * A directive takes exactly the words shown (none for the flags). A line
 * is at most EGRESS_TEXT_LINE_MAX bytes without its '\n' (the last line
 * may lack one), the whole text at most EGRESS_TEXT_MAX bytes; NUL bytes
 * are refused. Errors name the line: "line 7: rule \"10.0.0.1/8\": ...".
 *
 * Build the text by building the policy with egress_policy.h's calls
 * (egress_policy_init, _set_vm_address, _add_host_block, _add_served,
 * _add_rule: the
 * same parsers the VMM runs) and writing it with egress_text_write().
 */
#ifndef SM_NET_EGRESS_TEXT_H
#define SM_NET_EGRESS_TEXT_H

#include <stddef.h>

#include "daemon/net/egress_policy.h"

#define EGRESS_TEXT_MAX      65536 /* a whole policy, bytes */
#define EGRESS_TEXT_LINE_MAX 255   /* one line, bytes without its '\n' */

/* Parse len bytes of text (no NUL needed at the end) into *p. 0, or -1
 * with the reason in err ("line N: ..."); *p is then unspecified. */
int egress_text_parse(const char *text, size_t len, struct egress_policy *p, char *err,
		      size_t errlen);

/* p as text egress_text_parse() reads back into an equal policy (mac,
 * default, vm-address per family, override-builtin, allow-dhcp,
 * host-block..., serve..., then the rules in order). Like snprintf: writes at most
 * size bytes, NUL-terminated if size > 0, and returns the length the
 * whole text has (without the NUL), which for any policy built by
 * egress_policy.h's calls is below EGRESS_TEXT_MAX. */
size_t egress_text_write(const struct egress_policy *p, char *buf, size_t size);

#endif
