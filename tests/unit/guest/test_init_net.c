/* test_init_net.c - guest/init_net.c against the real kernel: each test
 * runs in a network namespace of its own (root needed) with a veth pair
 * v0/v1 made by iproute2, and reads back what init_net set through the
 * kernel's own views (interface flags and MTU, getifaddrs, /proc/net). */
#include "init_net.h"

#include "agent_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include "../check_main.h"

static char err[256];

static void setup(void)
{
	ck_assert_msg(geteuid() == 0, "needs root: a network namespace of its own");
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	ck_assert_msg(system("ip link add v0 type veth peer name v1 && ip link set v1 up") == 0,
		      "iproute2 could not make a veth pair");
}

static struct ifreq ifreq_of(const char *ifname, unsigned long req)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(ioctl(fd, req, &ifr) == 0, "ioctl on %s: %s", ifname, strerror(errno));
	close(fd);
	return ifr;
}

static bool is_up(const char *ifname)
{
	return ifreq_of(ifname, SIOCGIFFLAGS).ifr_flags & IFF_UP;
}

/* Whether ifname has address text with this prefix length. */
static bool has_address(const char *ifname, const char *text, int prefix)
{
	struct ifaddrs *all, *a;
	bool found = false;
	ck_assert_int_eq(getifaddrs(&all), 0);
	for (a = all; a && !found; a = a->ifa_next) {
		if (!a->ifa_addr || strcmp(a->ifa_name, ifname) != 0)
			continue;
		int fam = a->ifa_addr->sa_family;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		char buf[INET6_ADDRSTRLEN];
		const void *addr = fam == AF_INET ?
			(const void *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
		const uint8_t *mask = fam == AF_INET ?
			(const uint8_t *)&((struct sockaddr_in *)a->ifa_netmask)->sin_addr :
			(const uint8_t *)&((struct sockaddr_in6 *)a->ifa_netmask)->sin6_addr;
		int bits = 0;
		for (int i = 0; i < (fam == AF_INET ? 4 : 16); i++)
			bits += __builtin_popcount(mask[i]);
		inet_ntop(fam, addr, buf, sizeof(buf));
		found = !strcmp(buf, text) && bits == prefix;
	}
	freeifaddrs(all);
	return found;
}

/* The lines of a /proc/net file that contain every one of the words. */
static int lines_with(const char *path, const char *w1, const char *w2, const char *w3)
{
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "open %s", path);
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, w1) && strstr(line, w2) && strstr(line, w3);
	fclose(f);
	return n;
}

static struct init_net_cfg v4_cfg(const char *addr, const char *gw)
{
	struct init_net_cfg c = { .ifname = "v0", .mtu = 65520, .has_v4 = true, .prefix4 = 24,
				  .has_gw4 = true };
	ck_assert_int_eq(inet_pton(AF_INET, addr, c.addr4), 1);
	ck_assert_int_eq(inet_pton(AF_INET, gw, c.gw4), 1);
	return c;
}

START_TEST(loopback_up)
{
	ck_assert(!is_up("lo"));
	ck_assert_int_eq(init_net_link_up("lo", 0, err, sizeof(err)), 0);
	ck_assert(is_up("lo"));
	ck_assert(has_address("lo", "127.0.0.1", 8));
}
END_TEST

START_TEST(ipv4_address_route_mtu)
{
	struct init_net_cfg c = v4_cfg("10.0.2.15", "10.0.2.2");
	ck_assert_msg(init_net_configure(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert(is_up("v0"));
	ck_assert_int_eq(ifreq_of("v0", SIOCGIFMTU).ifr_mtu, 65520);
	ck_assert(has_address("v0", "10.0.2.15", 24));
	/* /proc/net/route: "v0 00000000 0202000A ..." (little-endian hex) */
	ck_assert_int_eq(lines_with("/proc/net/route", "v0\t00000000\t0202000A", "", ""), 1);
}
END_TEST

START_TEST(ipv4_again_replaces_the_default_route)
{
	struct init_net_cfg c = v4_cfg("10.0.2.15", "10.0.2.2");
	ck_assert_msg(init_net_configure(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(init_net_configure(&c, err, sizeof(err)) == 0, "same again: %s", err);
	c = v4_cfg("10.0.3.20", "10.0.3.1");
	ck_assert_msg(init_net_configure(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert(has_address("v0", "10.0.3.20", 24));
	ck_assert_int_eq(lines_with("/proc/net/route", "v0\t00000000\t0103000A", "", ""), 1);
	ck_assert_int_eq(lines_with("/proc/net/route", "v0\t00000000\t", "", ""), 1); /* one default route */
}
END_TEST

START_TEST(ipv6_address_and_link_local_gateway)
{
	struct init_net_cfg c = { .ifname = "v0", .has_v6 = true, .prefix6 = 64, .has_gw6 = true };
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:5::15", c.addr6), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "fe80::1", c.gw6), 1);
	ck_assert_msg(init_net_configure(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert(has_address("v0", "fd00:5::15", 64));
	/* /proc/net/ipv6_route: dst ::/0, next hop fe80::1, device v0 */
	ck_assert_int_eq(lines_with("/proc/net/ipv6_route",
				    "00000000000000000000000000000000 00 ",
				    "fe800000000000000000000000000001", " v0\n"), 1);
}
END_TEST

START_TEST(missing_interface_named)
{
	struct init_net_cfg c = v4_cfg("10.0.2.15", "10.0.2.2");
	strcpy(c.ifname, "eth9");
	ck_assert_int_eq(init_net_configure(&c, err, sizeof(err)), ENODEV);
	ck_assert_msg(strstr(err, "eth9") != NULL, "%s", err);
	ck_assert_int_eq(init_net_link_up("eth9", 0, err, sizeof(err)), ENODEV);
}
END_TEST

START_TEST(gateway_off_link_refused)
{
	struct init_net_cfg c = v4_cfg("10.0.2.15", "192.0.2.1");
	int e = init_net_configure(&c, err, sizeof(err));
	ck_assert_int_ne(e, 0);
	ck_assert_msg(strstr(err, "IPv4 default route via v0") != NULL, "%s", err);
}
END_TEST

/* NET_CONFIG is the whole setting: a second one removes what the first
 * added and it does not keep. */
START_TEST(apply_replaces_the_previous_setting)
{
	struct sm_net_req a = { .ifname = "v0", .mtu = 1500,
				.flags = SM_NET_V4 | SM_NET_GW4 | SM_NET_V6,
				.addr4 = { 10, 0, 2, 15 }, .prefix4 = 24, .gw4 = { 10, 0, 2, 2 },
				.addr6 = { 0xfd, 0, 0, 5, [15] = 0x15 }, .prefix6 = 64 };
	ck_assert_msg(init_net_apply(&a, err, sizeof(err)) == 0, "%s", err);
	ck_assert(has_address("v0", "10.0.2.15", 24));
	ck_assert(has_address("v0", "fd00:5::15", 64));
	ck_assert_int_eq(ifreq_of("v0", SIOCGIFMTU).ifr_mtu, 1500);
	ck_assert_msg(init_net_apply(&a, err, sizeof(err)) == 0, "the same again: %s", err);
	struct sm_net_req b = { .ifname = "v0", .flags = SM_NET_V4 | SM_NET_GW4 | SM_NET_MAC,
				.mac = { 0x02, 0x53, 0x4d, 0xaa, 0xbb, 0xcc },
				.addr4 = { 10, 0, 3, 20 }, .prefix4 = 24, .gw4 = { 10, 0, 3, 1 } };
	ck_assert_msg(init_net_apply(&b, err, sizeof(err)) == 0, "%s", err);
	struct ifreq hw = ifreq_of("v0", SIOCGIFHWADDR);
	ck_assert_mem_eq(hw.ifr_hwaddr.sa_data, b.mac, 6); /* taken while up */
	ck_assert(is_up("v0"));
	ck_assert(has_address("v0", "10.0.3.20", 24));
	ck_assert(!has_address("v0", "10.0.2.15", 24));
	ck_assert(!has_address("v0", "fd00:5::15", 64));
	ck_assert_int_eq(lines_with("/proc/net/route", "v0\t00000000\t0103000A", "", ""), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("init-net");
	TCase *c = tcase_create("rtnetlink");
	tcase_add_checked_fixture(c, setup, NULL);
	tcase_add_test(c, loopback_up);
	tcase_add_test(c, ipv4_address_route_mtu);
	tcase_add_test(c, ipv4_again_replaces_the_default_route);
	tcase_add_test(c, ipv6_address_and_link_local_gateway);
	tcase_add_test(c, missing_interface_named);
	tcase_add_test(c, gateway_off_link_refused);
	tcase_add_test(c, apply_replaces_the_previous_setting);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	return check_run(suite(), CK_FORK_GETENV);
}
