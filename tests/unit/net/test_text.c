/* test_text.c - a VM's policy as text (daemon/net/egress_text*.c) and
 * MACs as text (net_mac.c): the writer's text parses back into an equal
 * policy (a full one, and the largest one the calls can build), the
 * reader's tolerance (comments, blanks, tabs, no final newline), and
 * every directive given wrong in each way, each error naming its line. */
#include "../check_main.h"
#include "daemon/net/egress_text.h"
#include "daemon/net/net_mac.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static char err[512];

static void ok(int r)
{
	ck_assert_msg(r == 0, "%s", err);
}

/* A policy using every directive. */
static void full_policy(struct egress_policy *p)
{
	egress_policy_init(p, mac, true, EGRESS_RULES_OVERRIDE_BUILTIN | EGRESS_ALLOW_DHCP);
	ok(egress_policy_set_vm_address(p, "10.0.2.15", err, sizeof err));
	ok(egress_policy_set_vm_address(p, "2001:db8:1::/64", err, sizeof err));
	ok(egress_policy_add_host_block(p, "192.168.1.10", err, sizeof err));
	ok(egress_policy_add_host_block(p, "2001:db8::1", err, sizeof err));
	ok(egress_policy_add_host_block(p, "10.0.0.0/8", err, sizeof err));
	ok(egress_policy_add_host_block(p, "any", err, sizeof err));
	ok(egress_policy_add_served(p, "tcp", "80", err, sizeof err));
	ok(egress_policy_add_served(p, "udp", "65535", err, sizeof err));
	ok(egress_policy_add_served(p, "tcp", "80", err, sizeof err)); /* once is enough */
	static const char *const rules[] = { "10.0.0.0/8:443", "10.0.0.0/8:8000-8100/tcp",
		"192.168.1.5", "[2001:db8::]/32:443", "::/0", "any", "any:53/udp",
		"10.0.0.0/8/icmp", "[::1]:1-65535" };
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		ok(egress_policy_add_rule(p, i % 2, rules[i], err, sizeof err));
}

/* Parse text; the policy must equal want (byte for byte). */
static void parses_to(const char *text, const struct egress_policy *want)
{
	static struct egress_policy got;
	ok(egress_text_parse(text, strlen(text), &got, err, sizeof err));
	ck_assert_mem_eq(&got, want, sizeof got);
}

START_TEST(round_trip)
{
	static struct egress_policy p, back;
	static char text[EGRESS_TEXT_MAX], again[EGRESS_TEXT_MAX];
	full_policy(&p);
	size_t n = egress_text_write(&p, text, sizeof text);
	ck_assert_uint_eq(n, strlen(text));
	ck_assert_msg(strstr(text, "mac 52:54:00:ab:cd:ef\ndefault allow\n"
			     "vm-address 10.0.2.15/32\nvm-address 2001:db8:1::/64\n"
			     "override-builtin\nallow-dhcp\nhost-block 192.168.1.10/32\n"
			     "host-block 2001:db8::1/128\nhost-block 10.0.0.0/8\nhost-block any\n"
			     "serve tcp 80\nserve udp 65535\n"
			     "deny 10.0.0.0/8:443\nallow 10.0.0.0/8:8000-8100/tcp\n") == text,
		      "%s", text);
	ck_assert_msg(strstr(text, "\ndeny any:53/udp\nallow 10.0.0.0/8/icmp\n"
			     "deny [::1]/128:1-65535\n"), "%s", text);
	parses_to(text, &p);
	ok(egress_text_parse(text, n, &back, err, sizeof err));
	ck_assert_uint_eq(egress_text_write(&back, again, sizeof again), n);
	ck_assert_str_eq(again, text);
}
END_TEST

/* Each field on its own: a policy that differs only there writes text
 * that parses back to it (so the writer drops no field). */
START_TEST(round_trip_each_field)
{
	static struct egress_policy p;
	static char text[EGRESS_TEXT_MAX];
	egress_policy_init(&p, mac, false, 0);
	egress_text_write(&p, text, sizeof text);
	ck_assert_str_eq(text, "mac 52:54:00:ab:cd:ef\ndefault deny\n");
	parses_to(text, &p);
	for (unsigned flags = 1; flags < 4; flags++) {
		egress_policy_init(&p, mac, false, flags);
		egress_text_write(&p, text, sizeof text);
		parses_to(text, &p);
	}
	egress_policy_init(&p, mac, false, 0);
	ok(egress_policy_set_vm_address(&p, "fd00::5", err, sizeof err));
	egress_text_write(&p, text, sizeof text);
	parses_to(text, &p);
	ck_assert(!p.has_vm_ipv4);
	egress_policy_init(&p, mac, false, 0);
	ok(egress_policy_add_served(&p, "udp", "1", err, sizeof err));
	egress_text_write(&p, text, sizeof text);
	ck_assert_str_eq(text, "mac 52:54:00:ab:cd:ef\ndefault deny\nserve udp 1\n");
	parses_to(text, &p);
	ck_assert_uint_eq(p.n_served, 1);
}
END_TEST

/* The largest policy the calls build: 256 rules of the longest form,
 * 64 host blocks of the longest address, both addresses, 64 served ports
 * of the longest form. */
START_TEST(largest_policy_fits)
{
	static struct egress_policy p;
	static char text[EGRESS_TEXT_MAX];
	egress_policy_init(&p, mac, true, EGRESS_RULES_OVERRIDE_BUILTIN | EGRESS_ALLOW_DHCP);
	const char *v6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0";
	char a[128];
	ok(egress_policy_set_vm_address(&p, "255.255.255.255", err, sizeof err));
	snprintf(a, sizeof a, "%s/124", v6);
	ok(egress_policy_set_vm_address(&p, a, err, sizeof err));
	for (int i = 0; i < EGRESS_MAX_HOST_BLOCKS; i++)
		ok(egress_policy_add_host_block(&p, a, err, sizeof err));
	snprintf(a, sizeof a, "[%s]/124:65534-65535/icmp", v6);
	ck_assert_int_eq(egress_policy_add_rule(&p, true, a, err, sizeof err), -1); /* ports+icmp */
	snprintf(a, sizeof a, "[%s]/124:65534-65535/tcp", v6);
	for (int i = 0; i < EGRESS_MAX_RULES; i++)
		ok(egress_policy_add_rule(&p, i & 1, a, err, sizeof err));
	for (int i = 0; i < EGRESS_MAX_SERVED; i++) {
		snprintf(a, sizeof a, "%d", 65535 - i);
		ok(egress_policy_add_served(&p, "udp", a, err, sizeof err));
	}
	size_t n = egress_text_write(&p, text, sizeof text);
	ck_assert_uint_lt(n, EGRESS_TEXT_MAX);
	parses_to(text, &p);
}
END_TEST

START_TEST(write_truncates_like_snprintf)
{
	static struct egress_policy p;
	static char full[EGRESS_TEXT_MAX];
	char small[40];
	full_policy(&p);
	size_t n = egress_text_write(&p, full, sizeof full);
	ck_assert_uint_eq(egress_text_write(&p, small, sizeof small), n);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
	ck_assert(!strncmp(small, full, sizeof small - 1));
	ck_assert_uint_eq(egress_text_write(&p, NULL, 0), n);
}
END_TEST

/* Comments, blank lines, tabs, leading and trailing blanks, no final
 * newline, directives in any order. */
START_TEST(reader_tolerates_layout)
{
	static struct egress_policy want;
	egress_policy_init(&want, mac, false, EGRESS_ALLOW_DHCP);
	ok(egress_policy_add_rule(&want, true, "10.0.0.0/8:443", err, sizeof err));
	ok(egress_policy_set_vm_address(&want, "10.0.2.15", err, sizeof err));
	parses_to("# policy of vm x\n\n  \t\n\tallow\t10.0.0.0/8:443  \n"
		  "   # indented comment\nvm-address 10.0.2.15\n"
		  "allow-dhcp\t\ndefault deny\nmac 52:54:00:AB:cd:EF", &want);
}
END_TEST

struct bad_text {
	const char *text, *error;
};

#define HEAD "mac 52:54:00:ab:cd:ef\ndefault deny\n"

static const struct bad_text bad_texts[] = {
	/* mac */
	{ "default deny\n", "no \"mac\" line: the policy must name the VM's MAC" },
	{ "", "no \"mac\" line" },
	{ "# only a comment\n\n", "no \"mac\" line" },
	{ "default deny\nmac\n", "line 2: \"mac\" wants one word after it" },
	{ "mac 52:54:00:ab:cd:ef 1\ndefault deny\n",
	  "line 1: \"mac\" takes one word, but more follow \"52:54:00:ab:cd:ef\": \"1\"" },
	{ "mac 52-54-00-ab-cd-ef\n", "line 1: MAC \"52-54-00-ab-cd-ef\": want six hex pairs" },
	{ "mac 52:54:00:ab:cd\n", "line 1: MAC \"52:54:00:ab:cd\": want six hex pairs" },
	{ "mac 52:54:00:ab:cd:eg\n", "line 1: MAC \"52:54:00:ab:cd:eg\": want six hex pairs" },
	{ "mac 52:54:00:ab:cd:ef0\n", "line 1: MAC \"52:54:00:ab:cd:ef0\": want six hex" },
	{ "mac 53:54:00:ab:cd:ef\n", "line 1: MAC \"53:54:00:ab:cd:ef\": a multicast address" },
	{ "mac 00:16:3e:ab:cd:ef\n", "line 1: MAC \"00:16:3e:ab:cd:ef\": not locally administered" },
	{ "mac 00:00:00:00:00:00\n", "line 1: MAC \"00:00:00:00:00:00\": not locally" },
	{ HEAD "mac 52:54:00:ab:cd:ef\n", "line 3: a second \"mac\" (the first is on line 1)" },
	/* default */
	{ "mac 52:54:00:ab:cd:ef\n", "no \"default\" line: the policy must say allow or deny" },
	{ "mac 52:54:00:ab:cd:ef\ndefault\n", "line 2: \"default\" wants one word after it" },
	{ "mac 52:54:00:ab:cd:ef\ndefault reject\n",
	  "line 2: default \"reject\": want allow or deny" },
	{ "mac 52:54:00:ab:cd:ef\ndefault Allow\n", "line 2: default \"Allow\": want allow or deny" },
	{ "mac 52:54:00:ab:cd:ef\ndefault allow deny\n", "line 2: \"default\" takes one word" },
	{ HEAD "\ndefault allow\n", "line 4: a second \"default\" (the first is on line 2)" },
	/* vm-address */
	{ HEAD "vm-address\n", "line 3: \"vm-address\" wants one word after it" },
	{ HEAD "vm-address 10.0.2.256\n", "line 3: address \"10.0.2.256\": \"10.0.2.256\" is not an IPv4" },
	{ HEAD "vm-address 10.0.2.15/33\n", "line 3: address \"10.0.2.15/33\": prefix /33 too long" },
	{ HEAD "vm-address 10.0.2.15/24\n", "line 3: address \"10.0.2.15/24\": address has bits set" },
	{ HEAD "vm-address any\n", "line 3: VM address \"any\": give the VM's own address" },
	{ HEAD "vm-address [2001:db8::1]\n", "line 3: address \"[2001:db8::1]\": " },
	{ HEAD "vm-address 10.0.2.15 10.0.2.16\n", "line 3: \"vm-address\" takes one word" },
	{ HEAD "vm-address 10.0.2.15\nvm-address 2001:db8::1\nvm-address 10.0.2.15\n",
	  "line 5: a second \"vm-address (IPv4)\" (the first is on line 3)" },
	{ HEAD "vm-address fd00::1\n#\nvm-address fd00::2\n",
	  "line 5: a second \"vm-address (IPv6)\" (the first is on line 3)" },
	/* host-block */
	{ HEAD "host-block\n", "line 3: \"host-block\" wants one word after it" },
	{ HEAD "host-block 1.2.3\n", "line 3: address \"1.2.3\": \"1.2.3\" is not an IPv4 address" },
	{ HEAD "host-block 10.0.0.1/8\n", "line 3: address \"10.0.0.1/8\": address has bits set" },
	{ HEAD "host-block ::ffff:1.2.3.4\n", "line 3: address \"::ffff:1.2.3.4\": IPv4-mapped" },
	{ HEAD "host-block 10.0.0.1 x\n", "line 3: \"host-block\" takes one word" },
	/* allow, deny */
	{ HEAD "allow\n", "line 3: \"allow\" wants one word after it" },
	{ HEAD "deny \t \n", "line 3: \"deny\" wants one word after it" },
	{ HEAD "allow 10.0.0.0/8:0\n", "line 3: rule \"10.0.0.0/8:0\": port 0 is not a port" },
	{ HEAD "deny 10.0.0.0/8:443/sctp\n", "line 3: rule \"10.0.0.0/8:443/sctp\": unknown protocol" },
	{ HEAD "allow example.com:443\n", "line 3: rule \"example.com:443\": \"example.com\" is not" },
	{ HEAD "allow 10.0.0.0/8 443\n", "line 3: \"allow\" takes one word, but more follow" },
	{ HEAD "deny 10.0.0.0/8 # comment\n", "line 3: \"deny\" takes one word, but more follow" },
	/* serve */
	{ HEAD "serve\n", "line 3: \"serve\" wants two words after it" },
	{ HEAD "serve tcp\n", "line 3: \"serve\" wants two words after it: tcp|udp PORT" },
	{ HEAD "serve 80\n", "line 3: \"serve\" wants two words after it" },
	{ HEAD "serve sctp 80\n", "line 3: served port \"sctp 80\": protocol \"sctp\", want tcp or udp" },
	{ HEAD "serve TCP 80\n", "line 3: served port \"TCP 80\": protocol \"TCP\"" },
	{ HEAD "serve any 80\n", "line 3: served port \"any 80\": protocol" },
	{ HEAD "serve 80 tcp\n", "line 3: served port \"80 tcp\": protocol \"80\"" },
	{ HEAD "serve tcp 0\n", "line 3: served port \"tcp 0\": port \"0\", want 1 to 65535" },
	{ HEAD "serve udp 65536\n", "line 3: served port \"udp 65536\": port \"65536\"" },
	{ HEAD "serve udp 65537\n", "line 3: served port \"udp 65537\": port \"65537\"" },
	{ HEAD "serve tcp 99999\n", "line 3: served port \"tcp 99999\": port" },
	{ HEAD "serve tcp 100000\n", "line 3: served port \"tcp 100000\": port" },
	{ HEAD "serve tcp -1\n", "line 3: served port \"tcp -1\": port" },
	{ HEAD "serve tcp +80\n", "line 3: served port \"tcp +80\": port" },
	{ HEAD "serve tcp 80x\n", "line 3: served port \"tcp 80x\": port" },
	{ HEAD "serve tcp 8000-8100\n", "line 3: served port \"tcp 8000-8100\": port" },
	{ HEAD "serve tcp 80 81\n", "line 3: \"serve\" takes two words, but more follow \"tcp 80\": \"81\"" },
	{ HEAD "serve tcp 80/tcp\n", "line 3: served port \"tcp 80/tcp\": port" },
	/* flags */
	{ HEAD "override-builtin yes\n", "line 3: \"override-builtin\" takes no argument, not \"yes\"" },
	{ HEAD "allow-dhcp 1\n", "line 3: \"allow-dhcp\" takes no argument, not \"1\"" },
	{ HEAD "override-builtin\noverride-builtin\n",
	  "line 4: a second \"override-builtin\" (the first is on line 3)" },
	{ HEAD "allow-dhcp\n\nallow-dhcp\n", "line 5: a second \"allow-dhcp\" (the first is on line 3)" },
	/* lines */
	{ HEAD "permit any\n", "line 3: unknown directive \"permit\" (mac, default, vm-address" },
	{ HEAD "Allow any\n", "line 3: unknown directive \"Allow\"" },
	{ HEAD "allow any\r\n", "line 3: rule \"any\r\": " },
	{ "mac 52:54:00:ab:cd:ef\r\n", "line 1: MAC \"52:54:00:ab:cd:ef\r\": want six hex pairs" },
	{ HEAD "allow-dhcp\nx\n", "line 4: unknown directive \"x\"" },
};

START_TEST(bad_text_refused)
{
	const struct bad_text *b = &bad_texts[_i];
	static struct egress_policy p;
	err[0] = 0;
	ck_assert_int_eq(egress_text_parse(b->text, strlen(b->text), &p, err, sizeof err), -1);
	ck_assert_msg(strstr(err, b->error) == err, "\"%s\": error \"%s\", want \"%s...\"",
		      b->text, err, b->error);
}
END_TEST

/* Text of a head and n lines "word i" built by line(i), into a buffer. */
static char *repeat(const char *head, int n, void (*line)(char *, size_t, int), size_t *len)
{
	size_t cap = strlen(head) + (size_t)n * 128 + 1, pos = strlen(head);
	char *t = malloc(cap);
	ck_assert_ptr_nonnull(t);
	memcpy(t, head, pos);
	for (int i = 0; i < n; i++) {
		line(t + pos, cap - pos, i);
		pos += strlen(t + pos);
	}
	*len = pos;
	return t;
}

static void rule_line(char *b, size_t cap, int i)
{
	snprintf(b, cap, "%s 10.%d.%d.0/24\n", i % 2 ? "allow" : "deny", i / 256, i % 256);
}

static void block_line(char *b, size_t cap, int i)
{
	snprintf(b, cap, "host-block 192.168.%d.1\n", i);
}

static void serve_line(char *b, size_t cap, int i)
{
	snprintf(b, cap, "serve %s %d\n", i % 2 ? "udp" : "tcp", 1000 + i);
}

static void expect_error(const char *text, size_t len, const char *want)
{
	static struct egress_policy p;
	ck_assert_int_eq(egress_text_parse(text, len, &p, err, sizeof err), -1);
	ck_assert_msg(strstr(err, want) == err, "error \"%s\", want \"%s...\"", err, want);
}

START_TEST(too_many_rules_blocks_and_served)
{
	static struct egress_policy p;
	size_t len;
	char *t = repeat(HEAD, EGRESS_MAX_RULES, rule_line, &len);
	ok(egress_text_parse(t, len, &p, err, sizeof err));
	ck_assert_uint_eq(p.n_rules, EGRESS_MAX_RULES);
	free(t);
	t = repeat(HEAD, EGRESS_MAX_RULES + 1, rule_line, &len);
	expect_error(t, len, "line 259: rule \"10.1.0.0/24\": more than 256 rules");
	free(t);
	t = repeat(HEAD, EGRESS_MAX_HOST_BLOCKS, block_line, &len);
	ok(egress_text_parse(t, len, &p, err, sizeof err));
	ck_assert_uint_eq(p.n_host_blocks, EGRESS_MAX_HOST_BLOCKS);
	free(t);
	t = repeat(HEAD, EGRESS_MAX_HOST_BLOCKS + 1, block_line, &len);
	expect_error(t, len, "line 67: host address \"192.168.64.1\": more than 64 host blocks");
	free(t);
	t = repeat(HEAD, EGRESS_MAX_SERVED, serve_line, &len);
	ok(egress_text_parse(t, len, &p, err, sizeof err));
	ck_assert_uint_eq(p.n_served, EGRESS_MAX_SERVED);
	ck_assert(egress_policy_serves(&p, EGRESS_PROTO_UDP, 1063));
	ck_assert(!egress_policy_serves(&p, EGRESS_PROTO_TCP, 1063));
	free(t);
	t = repeat(HEAD, EGRESS_MAX_SERVED + 1, serve_line, &len);
	expect_error(t, len, "line 67: served port \"tcp 1064\": more than 64 served ports");
	free(t);
}
END_TEST

START_TEST(long_lines_nul_and_size)
{
	static char t[EGRESS_TEXT_MAX + 2];
	static struct egress_policy p;
	/* a comment of exactly EGRESS_TEXT_LINE_MAX bytes passes, one more does not */
	int n = snprintf(t, sizeof t, HEAD "#");
	memset(t + n, 'x', EGRESS_TEXT_LINE_MAX - 1);
	t[n + EGRESS_TEXT_LINE_MAX - 1] = 0;
	ok(egress_text_parse(t, strlen(t), &p, err, sizeof err));
	strcat(t, "x\n");
	expect_error(t, strlen(t), "line 3: 256 bytes long (at most 255)");
	/* a NUL inside a line */
	memcpy(t, HEAD "allow any\0 x\n", sizeof(HEAD "allow any\0 x\n"));
	expect_error(t, sizeof(HEAD "allow any\0 x\n") - 1, "line 3: a NUL byte");
	/* the whole text: blank lines up to the limit pass, one byte more does not */
	n = snprintf(t, sizeof t, HEAD);
	memset(t + n, '\n', EGRESS_TEXT_MAX - n);
	ok(egress_text_parse(t, EGRESS_TEXT_MAX, &p, err, sizeof err));
	t[EGRESS_TEXT_MAX] = '\n';
	expect_error(t, EGRESS_TEXT_MAX + 1, "the policy is 65537 bytes (at most 65536)");
}
END_TEST

/* The parsed length bounds the text: bytes past it are never read. */
START_TEST(length_bounds_the_text)
{
	static struct egress_policy p;
	const char *t = HEAD "allow any\ngarbage";
	ok(egress_text_parse(t, strlen(HEAD "allow any\n"), &p, err, sizeof err));
	ck_assert_uint_eq(p.n_rules, 1);
	expect_error(t, strlen(HEAD "allow an"), "line 3: rule \"an\"");
}
END_TEST

START_TEST(mac_text)
{
	uint8_t m[6];
	char s[NET_MAC_TEXT_LEN + 1];
	ok(net_mac_parse("02:00:00:00:00:01", m, err, sizeof err));
	net_mac_format(m, s, sizeof s);
	ck_assert_str_eq(s, "02:00:00:00:00:01");
	ok(net_mac_parse("FE:DC:BA:98:76:54", m, err, sizeof err));
	net_mac_format(m, s, sizeof s);
	ck_assert_str_eq(s, "fe:dc:ba:98:76:54");
	static const char *const bad[] = { "", "02:00:00:00:00", "02:00:00:00:00:01:", " 02:00:00:00:00:01",
		"02:00:00:00:00:1", "02.00.00.00.00.01", "020000000001", "02:00:00:00:00:0g",
		"03:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "00:16:3e:00:00:01" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(m, 0xaa, sizeof m);
		ck_assert_msg(net_mac_parse(bad[i], m, err, sizeof err) == -1, "%s", bad[i]);
		ck_assert_msg(strncmp(err, "MAC \"", 5) == 0, "%s", err);
		ck_assert_uint_eq(m[0], 0xaa); /* untouched */
	}
	ck_assert_ptr_null(net_mac_unusable((uint8_t[]){ 0x52, 0x54, 0, 0, 0, 1 }));
	ck_assert_ptr_nonnull(net_mac_unusable((uint8_t[]){ 0x53, 0x54, 0, 0, 0, 1 }));
	ck_assert_ptr_nonnull(net_mac_unusable((uint8_t[]){ 0x50, 0x54, 0, 0, 0, 1 }));
}
END_TEST

static Suite *text_suite(void)
{
	Suite *s = suite_create("egress_text");
	TCase *t = tcase_create("text");
	tcase_add_test(t, round_trip);
	tcase_add_test(t, round_trip_each_field);
	tcase_add_test(t, largest_policy_fits);
	tcase_add_test(t, write_truncates_like_snprintf);
	tcase_add_test(t, reader_tolerates_layout);
	tcase_add_loop_test(t, bad_text_refused, 0, sizeof bad_texts / sizeof bad_texts[0]);
	tcase_add_test(t, too_many_rules_blocks_and_served);
	tcase_add_test(t, long_lines_nul_and_size);
	tcase_add_test(t, length_bounds_the_text);
	tcase_add_test(t, mac_text);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(text_suite)
