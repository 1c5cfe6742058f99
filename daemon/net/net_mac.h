/* net_mac.h - a VM's MAC address as text, "52:54:00:12:34:56": six pairs
 * of hex digits (either case) joined by ':', nothing else. Shared by the
 * VMM's --net option and the policy text (egress_text.h), so both accept
 * and refuse the same addresses.
 *
 * A VM's MAC must be usable as a guest's own: unicast (bit 0 of the first
 * byte clear), locally administered (bit 1 set: no vendor's range, so it
 * cannot collide with real hardware) and, by that, never all zero.
 */
#ifndef SM_NET_MAC_H
#define SM_NET_MAC_H

#include <stddef.h>
#include <stdint.h>

#define NET_MAC_TEXT_LEN 17 /* "aa:bb:cc:dd:ee:ff" without its NUL */

/* Parse text into mac and check it is a VM's (above). 0, or -1 with why
 * in err, naming the text. */
int net_mac_parse(const char *text, uint8_t mac[6], char *err, size_t errlen);

/* NULL if mac may be a VM's, else why not ("multicast", ...). */
const char *net_mac_unusable(const uint8_t mac[6]);

/* "aa:bb:cc:dd:ee:ff" into buf (at least NET_MAC_TEXT_LEN + 1 bytes). */
void net_mac_format(const uint8_t mac[6], char *buf, size_t size);

#endif
