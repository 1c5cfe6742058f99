/* test_passt.c - daemon/vms/passt.c: passt's command line, the published
 * ports' check, and the real passt (Debian's) on a socketpair: it answers
 * the guest's ARP for its gateway, forwards a published host port to the
 * guest as a TCP SYN, and exits when the VMM's end closes. The tests that
 * run passt do so in a network namespace of their own (root needed) with
 * a veth pair, so nothing it does can reach any other network. */
#include "daemon/vms/passt.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../check_main.h"

static const uint8_t guest_mac[6] = { 0x02, 0, 0, 0, 0, 0x15 };
static char err[256], logpath[64];

static struct passt_cfg sample(void)
{
	struct passt_cfg c = { .log_path = "/tmp/p.log", .ifname = "v0", .addr4 = "10.0.2.15",
			       .prefix4 = 24, .gw4 = "10.0.2.2", .mtu = 65520, .ndns = 1,
			       .dns = { "10.0.2.3" }, .nports = 2 };
	c.ports[0] = (struct passt_port){ .host_ip = "127.0.0.1", .host_port = 18080,
					  .guest_port = 80 };
	c.ports[1] = (struct passt_port){ .udp = true, .host_port = 5353, .guest_port = 53 };
	return c;
}

static char *joined(const char **argv)
{
	static char line[1024];
	line[0] = 0;
	for (int i = 0; argv[i]; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", i ? " " : "",
			 argv[i]);
	return line;
}

START_TEST(command_line)
{
	const char *argv[PASST_ARGV_MAX];
	char store[2048];
	struct passt_cfg c = sample();
	ck_assert_int_eq(passt_argv(&c, 3, argv, store, sizeof(store), err, sizeof(err)), 0);
	ck_assert_str_eq(joined(argv), "passt -f -q -1 -l /tmp/p.log --fd 3 -i v0 -a 10.0.2.15 "
			 "-n 24 -g 10.0.2.2 -m 65520 -D 10.0.2.3 -t 127.0.0.1/18080:80 -u 5353:53");
	struct passt_cfg bare = { .log_path = "/l", .bin = "/usr/bin/passt" };
	ck_assert_int_eq(passt_argv(&bare, 7, argv, store, sizeof(store), err, sizeof(err)), 0);
	ck_assert_str_eq(joined(argv), "/usr/bin/passt -f -q -1 -l /l --fd 7");
	struct passt_cfg fwd = { .log_path = "/l", .dns_forward = "10.0.2.3", .no_map_gw = true };
	ck_assert_int_eq(passt_argv(&fwd, 3, argv, store, sizeof(store), err, sizeof(err)), 0);
	ck_assert_str_eq(joined(argv), "passt -f -q -1 -l /l --fd 3 --dns-forward 10.0.2.3 --no-map-gw");
	c.ports[1].guest_port = 0;
	ck_assert_int_eq(passt_argv(&c, 3, argv, store, sizeof(store), err, sizeof(err)), -1);
	ck_assert_str_eq(err, "published port 2: a port is 0");
	c = sample();
	ck_assert_int_eq(passt_argv(&c, 3, argv, store, 40, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "passt's command line does not fit");
}
END_TEST

/* A port bound here, so passt_ports_free must see it taken. */
static int bound(int type, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (type == SOCK_STREAM)
		ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

START_TEST(ports_in_use_refused)
{
	struct passt_cfg c = { .nports = 1 };
	uint16_t tcp, udp;
	int t = bound(SOCK_STREAM, &tcp), u = bound(SOCK_DGRAM, &udp);
	c.ports[0] = (struct passt_port){ .host_ip = "127.0.0.1", .host_port = tcp, .guest_port = 80 };
	ck_assert_int_eq(passt_ports_free(&c, err, sizeof(err)), -1);
	char want[128];
	snprintf(want, sizeof(want), "host port %u/tcp on 127.0.0.1 is in use", tcp);
	ck_assert_str_eq(err, want);
	c.ports[0].udp = true;
	c.ports[0].host_port = udp;
	ck_assert_int_eq(passt_ports_free(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/udp on 127.0.0.1 is in use"), "%s", err);
	close(t);
	close(u);
	c.ports[0].udp = false;
	c.ports[0].host_port = tcp; /* released: free again */
	ck_assert_msg(passt_ports_free(&c, err, sizeof(err)) == 0, "%s", err);
	strcpy(c.ports[0].host_ip, "localhost");
	ck_assert_int_eq(passt_ports_free(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is not an address"), "%s", err);
}
END_TEST

static void netns_with_veth(void)
{
	ck_assert_msg(geteuid() == 0, "needs root: a network namespace of its own");
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	ck_assert_msg(system("ip link set lo up && ip link add v0 type veth peer name v1 && "
			     "ip link set v0 up && ip link set v1 up && "
			     "ip addr add 192.0.2.100/24 dev v0 && "
			     "ip route add default via 192.0.2.1") == 0,
		      "iproute2 could not set up the namespace");
	snprintf(logpath, sizeof(logpath), "/tmp/sm-passt-test.%d.log", getpid());
}

static void send_frame(int fd, const uint8_t *f, uint32_t len)
{
	uint8_t n[4] = { len >> 24, len >> 16, len >> 8, len };
	ck_assert_int_eq(write(fd, n, 4), 4);
	ck_assert_int_eq(write(fd, f, len), (ssize_t)len);
}

static void read_full(int fd, uint8_t *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ck_assert_msg(poll(&p, 1, 10000) == 1, "nothing from passt within 10 s");
		ssize_t n = read(fd, buf + got, len - got);
		ck_assert_msg(n > 0, "passt's end closed");
		got += (size_t)n;
	}
}

/* The next frame from passt; its length. */
static uint32_t recv_frame(int fd, uint8_t *buf, size_t size)
{
	uint8_t n[4];
	read_full(fd, n, 4);
	uint32_t len = (uint32_t)n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3];
	ck_assert_uint_le(len, size);
	read_full(fd, buf, len);
	return len;
}

/* Asks passt for the gateway's MAC (and so tells it ours). */
static void arp_for_gateway(int fd, uint8_t *reply, size_t size)
{
	uint8_t f[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	memcpy(f + 6, guest_mac, 6);
	memcpy(f + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, "\x0a\x00\x02\x0f", 4);   /* 10.0.2.15 */
	memcpy(f + 38, "\x0a\x00\x02\x02", 4);   /* who has 10.0.2.2? */
	send_frame(fd, f, sizeof(f));
	for (;;) {
		uint32_t len = recv_frame(fd, reply, size);
		if (len >= 42 && reply[12] == 0x08 && reply[13] == 0x06 && reply[21] == 2)
			return; /* an ARP reply */
	}
}

static int exit_calls, exit_status;
static bool exit_stopped;

static void on_passt_exit(void *ud, bool stopped, int wait_status)
{
	ck_assert_ptr_eq(ud, &exit_calls);
	exit_calls++;
	exit_stopped = stopped;
	exit_status = wait_status;
}

START_TEST(answers_arp_and_exits_with_its_link)
{
	netns_with_veth();
	struct passt_cfg c = sample();
	struct passt p = { .on_exit = on_passt_exit, .ud = &exit_calls };
	uint8_t f[65536];
	c.log_path = logpath;
	c.nports = 0;
	ck_assert_msg(passt_start(&c, &p, err, sizeof(err)) == 0, "%s", err);
	arp_for_gateway(p.vmm_fd, f, sizeof(f));
	ck_assert_mem_eq(f, guest_mac, 6);                       /* to us */
	ck_assert_mem_eq(f + 28, "\x0a\x00\x02\x02", 4);         /* from the gateway */
	ck_assert_mem_eq(f + 32, guest_mac, 6);
	close(p.vmm_fd); /* the VMM went: passt (-1) goes too */
	p.vmm_fd = -1;
	int status = -1, i;
	for (i = 0; i < 500 && !passt_ended(&p, 0, &status); i++)
		usleep(10000);
	ck_assert_msg(i < 500, "passt still runs 5 s after its link closed");
	ck_assert_int_eq(exit_calls, 1); /* its supervisor said so, once */
	ck_assert(!exit_stopped);
	ck_assert_int_eq(exit_status, status);
	passt_stop(&p);
	ck_assert_int_eq(exit_calls, 1);
	unlink(logpath);
}
END_TEST

START_TEST(published_port_reaches_the_guest)
{
	netns_with_veth();
	struct passt_cfg c = sample();
	struct passt p = { .on_exit = on_passt_exit, .ud = &exit_calls };
	uint8_t f[65536];
	c.log_path = logpath;
	c.nports = 1; /* 127.0.0.1:18080 -> guest 80 */
	ck_assert_msg(passt_ports_free(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(passt_start(&c, &p, err, sizeof(err)) == 0, "%s", err);
	arp_for_gateway(p.vmm_fd, f, sizeof(f));
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(18080),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int tries;
	for (tries = 0; tries < 100; tries++) { /* passt binds its ports as it starts */
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS)
			break;
		close(s);
		s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		usleep(50000);
	}
	ck_assert_msg(tries < 100, "connect to 127.0.0.1:18080: %s", strerror(errno));
	for (;;) { /* a SYN to the guest's port 80 */
		uint32_t len = recv_frame(p.vmm_fd, f, sizeof(f));
		if (len < 54 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6)
			continue;
		size_t tcp = 14 + (size_t)(f[14] & 0xf) * 4;
		ck_assert_mem_eq(f + 30, "\x0a\x00\x02\x0f", 4); /* to 10.0.2.15 */
		ck_assert_uint_eq((unsigned)f[tcp + 2] << 8 | f[tcp + 3], 80);
		ck_assert(f[tcp + 13] & 0x02); /* SYN */
		break;
	}
	close(s);
	passt_stop(&p);
	ck_assert_int_eq(p.pid, 0);
	ck_assert_int_eq(exit_calls, 1); /* on_exit ran before passt_stop returned */
	ck_assert(exit_stopped);
	passt_stop(&p); /* once more: nothing */
	unlink(logpath);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("passt");
	TCase *t = tcase_create("passt");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, command_line);
	tcase_add_test(t, ports_in_use_refused);
	tcase_add_test(t, answers_arp_and_exits_with_its_link);
	tcase_add_test(t, published_port_reaches_the_guest);
	suite_add_tcase(s, t);
	return check_run(s, CK_FORK_GETENV);
}
