/* test_agent_net.c - NET_CONFIG, the guest's network setting (issue 13):
 * its coding (round trip, every truncation, trailing bytes) and every
 * field the agent must refuse, refused by the host's encoder too; and
 * agent_client_net_config() against the agent served natively
 * (agent-unix, whose hook records the setting instead of applying it). */
#include "agent_target.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check_main.h"

static struct sm_net_req sample(void)
{
	struct sm_net_req r = { .ifname = "eth0", .mtu = 65520,
				.flags = SM_NET_V4 | SM_NET_GW4 | SM_NET_V6 | SM_NET_GW6 | SM_NET_MAC,
				.mac = { 0x02, 0x53, 0x4d, 1, 2, 3 },
				.addr4 = { 10, 0, 2, 15 }, .prefix4 = 24, .gw4 = { 10, 0, 2, 2 },
				.addr6 = { 0xfd, 0, [15] = 0x15 }, .prefix6 = 64,
				.gw6 = { 0xfe, 0x80, [15] = 1 }, .ndns = 2,
				.search = "example.test corp.example" };
	r.dns[0] = (struct sm_net_dns){ .family = 4, .addr = { 10, 0, 2, 3 } };
	r.dns[1] = (struct sm_net_dns){ .family = 6, .addr = { 0xfd, 0, [15] = 3 } };
	return r;
}

START_TEST(round_trip)
{
	struct sm_wbuf b = { 0 };
	struct sm_net_req in = sample(), out;
	struct sm_hdr h;
	const char *why = NULL;
	ck_assert_int_eq(sm_net_req_encode(&b, 9, &in), 0);
	ck_assert_int_eq(sm_hdr_decode(b.data, &h, &why), 0);
	ck_assert_uint_eq(h.type, SM_MSG_NET_CONFIG);
	ck_assert_str_eq(sm_msg_type_name(h.type), "NET_CONFIG");
	ck_assert_uint_eq(h.id, 9);
	ck_assert_int_eq(sm_net_req_decode(b.data + 12, h.len, &out, &why), 0);
	ck_assert_mem_eq(&out, &in, sizeof(in));
	sm_wbuf_free(&b);
	/* no address, no name server: what --network none would never send,
	 * but a link with only its MTU is a valid setting */
	struct sm_net_req bare = { .ifname = "eth0" };
	ck_assert_int_eq(sm_net_req_encode(&b, 1, &bare), 0);
	ck_assert_int_eq(sm_net_req_decode(b.data + 12, b.len - 12, &out, &why), 0);
	ck_assert_mem_eq(&out, &bare, sizeof(bare));
	sm_wbuf_free(&b);
}
END_TEST

START_TEST(truncated_and_trailing)
{
	struct sm_wbuf b = { 0 };
	struct sm_net_req in = sample(), out;
	const char *why;
	ck_assert_int_eq(sm_net_req_encode(&b, 1, &in), 0);
	size_t plen = b.len - 12;
	for (size_t n = 0; n < plen; n++) {
		why = NULL;
		ck_assert_int_eq(sm_net_req_decode(b.data + 12, n, &out, &why), -1);
		ck_assert_msg(why != NULL, "length %zu", n);
	}
	sm_put_bytes(&b, "x", 1);
	ck_assert_int_eq(sm_net_req_decode(b.data + 12, plen + 1, &out, &why), -1);
	ck_assert_str_eq(why, "malformed NET_CONFIG");
	sm_wbuf_free(&b);
}
END_TEST

/* r encoded field by field as a hostile host could, without the encoder's
 * checks; ndns as given, followed by at most 4 entries. */
static int decode_raw(const struct sm_net_req *r, const char *ifname, const char **why)
{
	struct sm_wbuf b = { 0 };
	struct sm_net_req out;
	sm_put_str(&b, ifname);
	sm_put_u32(&b, r->mtu);
	sm_put_u32(&b, r->flags);
	sm_put_bytes(&b, r->mac, 6);
	sm_put_bytes(&b, r->addr4, 4);
	sm_put_u32(&b, r->prefix4);
	sm_put_bytes(&b, r->gw4, 4);
	sm_put_bytes(&b, r->addr6, 16);
	sm_put_u32(&b, r->prefix6);
	sm_put_bytes(&b, r->gw6, 16);
	sm_put_u32(&b, r->ndns);
	for (uint32_t i = 0; i < r->ndns && i <= SM_NET_DNS_MAX; i++) { /* a count, few entries */
		sm_put_u32(&b, i < SM_NET_DNS_MAX ? r->dns[i].family : 4);
		sm_put_bytes(&b, i < SM_NET_DNS_MAX ? r->dns[i].addr : r->addr4, 16);
	}
	sm_put_str(&b, r->search);
	int rc = sm_net_req_decode(b.data, b.len, &out, why);
	sm_wbuf_free(&b);
	return rc;
}

/* Refused by the decoder with a reason holding want, and by the encoder. */
static void refused(const struct sm_net_req *r, const char *ifname, const char *want)
{
	const char *why = NULL;
	ck_assert_int_eq(decode_raw(r, ifname, &why), -1);
	ck_assert_msg(why && strstr(why, want), "want '%s', got '%s'", want, why ? why : "");
	if (strlen(ifname) < sizeof(r->ifname) && r->ndns <= SM_NET_DNS_MAX) {
		struct sm_net_req e = *r;
		struct sm_wbuf b = { 0 };
		strcpy(e.ifname, ifname);
		ck_assert_int_eq(sm_net_req_encode(&b, 1, &e), -1);
		ck_assert_uint_eq(b.len, 0);
		sm_wbuf_free(&b);
	}
}

START_TEST(bad_fields)
{
	struct sm_net_req r = sample();
	const char *why;
	ck_assert_int_eq(decode_raw(&r, "eth0", &why), 0);
	refused(&r, "", "interface name");
	refused(&r, "eth0/x", "interface name");
	refused(&r, "..", "interface name");
	refused(&r, "eth 0", "interface name");
	refused(&r, "a123456789012345", "too long");
	r.mtu = 67;
	refused(&r, "eth0", "MTU");
	r.mtu = 65536;
	refused(&r, "eth0", "MTU");
	r = sample();
	r.flags |= 0x40;
	refused(&r, "eth0", "unknown flags");
	r = sample();
	r.flags |= SM_NET_NONE; /* no network, yet addresses */
	refused(&r, "eth0", "without a network sets nothing else");
	r.flags = SM_NET_NONE;
	ck_assert_int_eq(decode_raw(&r, "eth0", &why), 0);
	r = sample();
	r.mac[0] = 0x03; /* a multicast address */
	refused(&r, "eth0", "MAC is not a unicast");
	r.flags &= ~SM_NET_MAC; /* no MAC asked for: its bytes are not looked at */
	ck_assert_int_eq(decode_raw(&r, "eth0", &why), 0);
	r.flags = SM_NET_GW4;
	refused(&r, "eth0", "gateway without an address");
	r.flags = SM_NET_V4 | SM_NET_GW6;
	refused(&r, "eth0", "gateway without an address");
	r = sample();
	r.prefix4 = 33;
	refused(&r, "eth0", "prefix");
	r = sample();
	r.prefix6 = 129;
	refused(&r, "eth0", "prefix");
	r = sample();
	r.ndns = 4;
	refused(&r, "eth0", "more than 3 name servers");
	r.ndns = 0xffffffffu; /* never read past the frame for a huge count */
	refused(&r, "eth0", "more than 3 name servers");
	r = sample();
	r.dns[1].family = 5;
	refused(&r, "eth0", "unknown family");
	r = sample();
	strcpy(r.search, "a.example\nnameserver 192.0.2.66");
	refused(&r, "eth0", "search list");
	r = sample();
	memset(r.search, 'a', SM_NET_SEARCH_MAX);
	r.search[SM_NET_SEARCH_MAX] = 0; /* 255 is the limit */
	ck_assert_int_eq(decode_raw(&r, "eth0", &why), 0);
}
END_TEST

START_TEST(client_net_config)
{
	struct agent_client *c = target_connect();
	struct sm_net_req r = sample();
	ck_assert_uint_eq(agent_client_hello(c)->version, SM_AGENT_VERSION);
	ck_assert_msg(agent_client_net_config(c, &r, 10000) == 0, "%s", agent_client_error(c));
	char path[160], line[256] = "";
	snprintf(path, sizeof(path), "%s/agent.sock.net", target_tmp());
	FILE *f = fopen(path, "r");
	ck_assert_msg(f, "%s: the agent's hook never ran", path);
	ck_assert(fgets(line, sizeof(line), f));
	fclose(f);
	ck_assert_str_eq(line, "eth0 65520 0x1f 02:53:4d:01:02:03 24 2 example.test corp.example\n");
	/* the hook's failure comes back with its errno */
	strcpy(r.ifname, "eth9");
	ck_assert_int_eq(agent_client_net_config(c, &r, 10000), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_msg(strstr(agent_client_error(c), "net_config: no interface eth9"), "%s",
		      agent_client_error(c));
	/* refused before it is sent */
	r = sample();
	r.prefix4 = 40;
	ck_assert_int_eq(agent_client_net_config(c, &r, 10000), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(agent_client_ping(c, 10000), 0); /* the connection lives on */
	agent_client_close(c);
}
END_TEST

int main(void)
{
	target_setup();
	Suite *s = suite_create("agent-net");
	TCase *c = tcase_create("net");
	tcase_set_timeout(c, 60);
	tcase_add_test(c, round_trip);
	tcase_add_test(c, truncated_and_trailing);
	tcase_add_test(c, bad_fields);
	if (!target_is_vm()) /* in a VM it would set the guest's interface */
		tcase_add_test(c, client_net_config);
	suite_add_tcase(s, c);
	int rc = check_run(s, CK_FORK_GETENV);
	target_teardown();
	return rc;
}
