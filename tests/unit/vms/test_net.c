/* test_net.c - a VM's network settings (daemon/vms/vm_net.h): the merge of
 * a request with the daemon's defaults (mode, ports, the order of the
 * rules, the default, what a config forbids), the merged policy deciding
 * real frames through daemon/net's egress policy, the egress JSON both
 * ways and its errors, a record's fields and a previous run's row,
 * overlapping ports, the published-port check against live records and
 * a real listener on the host, and passt's words for the ports. No VM.
 */
#include "../check_main.h"
#include "daemon/vms/vms_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *no_strs[] = { NULL };
static char digest[] = "sha256:0000";
static char blank[] = "";
static char data_dir[] = "/tmp/sm-test-net";
static struct sm_image_config image_cfg = {
	.manifest_digest = digest, .workdir = blank, .user = blank, .entrypoint = no_strs,
	.cmd = no_strs, .env = no_strs, .layers = no_strs,
};

static void add_rule(struct vm_egress *e, bool allow, const char *text)
{
	char err[256];
	ck_assert_msg(egress_rule_parse(text, allow, &e->rules[e->n_rules], err, sizeof err) == 0,
		      "%s", err);
	e->n_rules++;
}

/* The rules of e as "deny A,deny C,allow D". */
static void rules_text(const struct vm_egress *e, char *buf, size_t len)
{
	buf[0] = 0;
	for (size_t i = 0; i < e->n_rules; i++) {
		char t[EGRESS_RULE_TEXT_MAX];
		egress_rule_format(&e->rules[i], t, sizeof t);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s %s", i ? "," : "",
			 e->rules[i].allow ? "allow" : "deny", t);
	}
}

static struct passt_port port(const char *ip, uint16_t host, uint16_t guest, bool udp)
{
	struct passt_port p = { .udp = udp, .host_port = host, .guest_port = guest };
	snprintf(p.host_ip, sizeof p.host_ip, "%s", ip);
	return p;
}

START_TEST(defaults_and_mode)
{
	struct vm_net_defaults d;
	struct vm_net_request req = { 0 };
	struct vm_net n;
	char err[256] = "";
	vm_net_defaults_init(&d);
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	ck_assert_int_eq(n.mode, VM_NETWORK_OUTBOUND);
	ck_assert(n.egress.default_allow);
	ck_assert_uint_eq(n.egress.n_rules, 0);
	req.mode_given = true;
	req.mode = VM_NETWORK_NONE;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	ck_assert_int_eq(n.mode, VM_NETWORK_NONE);
	req.n_ports = 1;
	req.ports[0] = port("127.0.0.1", 8080, 80, false);
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_INVALID);
	ck_assert_str_eq(err, "field \"ports\": a VM with network \"none\" cannot publish ports");
	/* the config's none, the request silent on it */
	d.mode = VM_NETWORK_NONE;
	req.mode_given = false;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "the daemon's default network is \"none\""));
	req.n_ports = 0;
	req.egress_given = true;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "field \"egress\": a VM with network \"none\""));
	req.egress_given = false;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	ck_assert_int_eq(n.mode, VM_NETWORK_NONE);
	req.mode_given = true;
	req.mode = VM_NETWORK_OUTBOUND;
	req.n_ports = 1;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	ck_assert_int_eq(n.mode, VM_NETWORK_OUTBOUND);
	ck_assert_uint_eq(n.n_ports, 1);
	ck_assert_str_eq(n.ports[0].host_ip, "127.0.0.1");
}
END_TEST

START_TEST(rule_order_and_default)
{
	struct vm_net_defaults d;
	struct vm_net_request req = { .egress_given = true };
	struct vm_net n;
	char err[256], text[1024];
	vm_net_defaults_init(&d);
	add_rule(&d.egress, true, "192.168.0.0/16");
	add_rule(&d.egress, false, "10.0.0.0/8");
	add_rule(&req.egress, true, "10.1.2.3:443/tcp");
	add_rule(&req.egress, false, "any:25/tcp");
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	rules_text(&n.egress, text, sizeof text);
	ck_assert_str_eq(text, "deny 10.0.0.0/8,deny any:25/tcp,allow 10.1.2.3/32:443/tcp,"
			       "allow 192.168.0.0/16");
	ck_assert(n.egress.default_allow);   /* the config's */
	req.default_given = true;
	req.egress.default_allow = false;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	ck_assert(!n.egress.default_allow);  /* the request's */
	d.egress.default_allow = false;
	req.egress.default_allow = true;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	ck_assert(n.egress.default_allow);   /* allow_override */
}
END_TEST

START_TEST(config_forbids_loosening)
{
	struct vm_net_defaults d;
	struct vm_net_request req = { .egress_given = true };
	struct vm_net n;
	char err[256];
	vm_net_defaults_init(&d);
	d.allow_override = false;
	d.egress.default_allow = false;
	add_rule(&d.egress, true, "192.168.0.0/16");
	add_rule(&req.egress, false, "192.168.1.0/24");
	req.default_given = true;
	req.egress.default_allow = false;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	req.egress.default_allow = true;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_FORBIDDEN);
	ck_assert_ptr_nonnull(strstr(err, "field \"egress\".default: \"allow\" is refused"));
	req.default_given = false;
	add_rule(&req.egress, true, "1.1.1.1:53/udp");
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_FORBIDDEN);
	ck_assert_ptr_nonnull(strstr(err, "field \"egress\".allow: rule \"1.1.1.1/32:53/udp\" is "
					  "refused"));
	ck_assert_ptr_nonnull(strstr(err, "\"allow_override\": false"));
	/* a config that allows by default has nothing a request could loosen */
	d.egress.default_allow = true;
	req.default_given = true;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	d.egress.default_allow = false;
	d.allow_override = true;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
}
END_TEST

/* A SYN from the VM (10.0.2.15) to dst:dport, decided by n's policy. */
static enum egress_verdict syn_to(const struct vm_net *n, const char *dst, uint16_t dport)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	static struct egress_policy p;
	char err[256];
	egress_policy_init(&p, mac, true, 0);
	ck_assert(egress_policy_set_vm_address(&p, "10.0.2.15", err, sizeof err) == 0);
	ck_assert_msg(vm_net_egress_policy(n, &p, err, sizeof err) == 0, "%s", err);
	struct net_frame f = { .kind = NET_FRAME_IPV4, .ethertype = NET_ETHERTYPE_IPV4,
			       .ip_version = 4, .hop_limit = 64, .l4_proto = NET_PROTO_TCP,
			       .has_l4_header = true, .l4_hdr_len = 20, .src_port = 40000,
			       .dst_port = dport, .tcp_flags = NET_TCP_SYN };
	memcpy(f.src_mac, mac, 6);
	memset(f.dst_mac, 0xaa, 6);
	f.src_ip[10] = f.src_ip[11] = f.dst_ip[10] = f.dst_ip[11] = 0xff;
	inet_pton(AF_INET, "10.0.2.15", f.src_ip + 12);
	ck_assert(inet_pton(AF_INET, dst, f.dst_ip + 12) == 1);
	return egress_policy_decide(&p, &f).verdict;
}

START_TEST(merged_policy_decides)
{
	struct vm_net_defaults d;
	struct vm_net_request req = { .egress_given = true };
	struct vm_net n;
	char err[256];
	vm_net_defaults_init(&d);
	add_rule(&d.egress, false, "10.0.0.0/8");
	add_rule(&d.egress, true, "192.168.0.0/16");
	add_rule(&req.egress, true, "10.1.2.3:443");      /* cannot beat the config's deny */
	add_rule(&req.egress, false, "192.168.7.0/24");   /* beats the config's allow */
	add_rule(&req.egress, true, "203.0.113.5:443/tcp");
	req.default_given = true;
	req.egress.default_allow = false;
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	ck_assert_int_eq(syn_to(&n, "10.1.2.3", 443), EGRESS_REJECT);
	ck_assert_int_eq(syn_to(&n, "192.168.7.9", 80), EGRESS_REJECT);
	ck_assert_int_eq(syn_to(&n, "192.168.8.9", 80), EGRESS_ALLOW);
	ck_assert_int_eq(syn_to(&n, "203.0.113.5", 443), EGRESS_ALLOW);
	ck_assert_int_eq(syn_to(&n, "203.0.113.5", 80), EGRESS_REJECT);   /* the default */
	ck_assert_int_eq(syn_to(&n, "198.51.100.1", 443), EGRESS_REJECT);
	req.default_given = false;   /* the config's default: allow */
	ck_assert_int_eq(vm_net_merge(&d, &req, &n, err, sizeof err), VM_NET_OK);
	ck_assert_int_eq(syn_to(&n, "198.51.100.1", 443), EGRESS_ALLOW);
	ck_assert_int_eq(syn_to(&n, "10.9.9.9", 443), EGRESS_REJECT);
}
END_TEST

/* vm_egress_from_json of text: 0 or -1, the message in err. */
static int egress_json(const char *text, size_t max, struct vm_egress *e, char *err,
		       size_t errlen)
{
	static const char *const extra[] = { "allow_override", NULL };
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	bool given;
	ck_assert_msg(j != NULL, "%s: %s", text, jerr.text);
	memset(e, 0, sizeof *e);
	int rc = vm_egress_from_json(j, "egress", extra, max, e, &given, err, errlen);
	json_decref(j);
	return rc;
}

static void bad_egress(const char *text, const char *want)
{
	static struct vm_egress e;
	char err[512];
	ck_assert_int_eq(egress_json(text, VM_NET_MAX_REQ_RULES, &e, err, sizeof err), -1);
	ck_assert_msg(strstr(err, want), "%s: %s lacks %s", text, err, want);
}

START_TEST(egress_object)
{
	static struct vm_egress e;
	char err[512], text[1024];
	ck_assert_int_eq(egress_json("{\"allow\": [\"10.0.0.0/8:443\", \"[2001:db8::]/32\"], "
				     "\"deny\": [\"any:25/tcp\"], \"default\": \"deny\", "
				     "\"allow_override\": false}", 8, &e, err, sizeof err), 0);
	rules_text(&e, text, sizeof text);
	ck_assert_str_eq(text, "deny any:25/tcp,allow 10.0.0.0/8:443,allow [2001:db8::]/32");
	ck_assert(!e.default_allow);
	json_t *j = vm_egress_json(&e);
	char *dump = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(dump, "{\"default\":\"deny\",\"deny\":[\"any:25/tcp\"],\"allow\":"
			       "[\"10.0.0.0/8:443\",\"[2001:db8::]/32\"]}");
	free(dump);
	json_decref(j);
	bad_egress("[]", "field \"egress\" must be an object");
	bad_egress("{\"allowed\": []}", "field \"egress\": unknown field \"allowed\"");
	bad_egress("{\"allow\": \"10.0.0.0/8\"}", "field \"egress\".allow must be an array");
	bad_egress("{\"deny\": [1]}", "field \"egress\".deny[0] must be a rule string");
	bad_egress("{\"deny\": [\"10.0.0.0/8\", \"10.0.0.1/8\"]}",
		   "field \"egress\".deny[1]: rule \"10.0.0.1/8\"");
	bad_egress("{\"allow\": [\"1.2.3.4:0\"]}", "field \"egress\".allow[0]: rule \"1.2.3.4:0\"");
	bad_egress("{\"allow\": [\"1.2.3.4/sctp\"]}", "rule \"1.2.3.4/sctp\"");
	bad_egress("{\"default\": \"reject\"}", "field \"egress\".default must be \"allow\" or "
						"\"deny\"");
	bad_egress("{\"default\": true}", "field \"egress\".default must be");
	char many[8192] = "{\"deny\": [";
	for (int i = 0; i <= VM_NET_MAX_REQ_RULES; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"10.0.%d.0/24\"",
			 i ? "," : "", i);
	strcat(many, "]}");
	bad_egress(many, "field \"egress\": at most 64 rules");
}
END_TEST

START_TEST(record_fields_and_row)
{
	struct vms v = { .data_dir = data_dir };
	static struct vm_net n;
	memset(&n, 0, sizeof n);
	n.mode = VM_NETWORK_OUTBOUND;
	n.n_ports = 2;
	n.ports[0] = port("127.0.0.1", 18080, 80, false);
	n.ports[1] = port("::1", 5353, 53, true);
	add_rule(&n.egress, false, "10.0.0.0/8");
	add_rule(&n.egress, true, "10.1.0.0/16:443/tcp");
	struct vm_spec spec = { .image = "img", .image_cfg = &image_cfg, .vcpus = 1,
				.memory_mib = 64, .net = &n };
	char err[256];
	struct vm_rec *r = rec_new(&v, &spec, err, sizeof err);
	ck_assert_ptr_nonnull(r);
	json_t *j = rec_json_locked(r);
	json_t *want = json_loads("{\"network\":\"outbound\",\"ports\":["
		"{\"host_ip\":\"127.0.0.1\",\"host_port\":18080,\"guest_port\":80,\"protocol\":\"tcp\"},"
		"{\"host_ip\":\"::1\",\"host_port\":5353,\"guest_port\":53,\"protocol\":\"udp\"}],"
		"\"egress\":{\"default\":\"deny\",\"deny\":[\"10.0.0.0/8\"],"
		"\"allow\":[\"10.1.0.0/16:443/tcp\"]}}", 0, NULL);
	ck_assert_ptr_nonnull(want);   /* default_allow false: "deny" */
	const char *key;
	json_t *val;
	json_object_foreach(want, key, val)
		ck_assert_msg(json_equal(json_object_get(j, key), val), "field %s", key);
	struct vm_rec *back = rec_from_json(&v, j);
	ck_assert_ptr_nonnull(back);
	ck_assert_mem_eq(&back->net, &r->net, sizeof r->net);
	json_decref(want);
	json_decref(j);
	rec_free(back);
	rec_free(r);
	/* no spec net: none; an old row without "network": none */
	spec.net = NULL;
	r = rec_new(&v, &spec, err, sizeof err);
	j = rec_json_locked(r);
	ck_assert_str_eq(json_string_value(json_object_get(j, "network")), "none");
	ck_assert(json_is_null(json_object_get(j, "egress")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "ports")), 0);
	json_object_del(j, "network");
	back = rec_from_json(&v, j);
	ck_assert_int_eq(back->net.mode, VM_NETWORK_NONE);
	json_decref(j);
	rec_free(back);
	rec_free(r);
}
END_TEST

START_TEST(port_overlaps)
{
	struct passt_port a = port("127.0.0.1", 8080, 80, false);
	struct passt_port b = port("127.0.0.1", 8080, 81, false);
	ck_assert(vm_port_overlaps(&a, &b));
	b.udp = true;
	ck_assert(!vm_port_overlaps(&a, &b));
	b = port("127.0.0.2", 8080, 80, false);
	ck_assert(!vm_port_overlaps(&a, &b));
	b = port("0.0.0.0", 8080, 80, false);
	ck_assert(vm_port_overlaps(&a, &b));
	ck_assert(vm_port_overlaps(&b, &a));
	b = port("::", 8080, 80, false);
	ck_assert(vm_port_overlaps(&a, &b));
	b = port("127.0.0.1", 8081, 80, false);
	ck_assert(!vm_port_overlaps(&a, &b));
	char text[80];
	vm_port_format(&a, text, sizeof text);
	ck_assert_str_eq(text, "127.0.0.1:8080/tcp");
	b = port("::1", 53, 53, true);
	vm_port_format(&b, text, sizeof text);
	ck_assert_str_eq(text, "[::1]:53/udp");
}
END_TEST

/* A TCP listener on 127.0.0.1 at a free port (the kernel's choice). */
static int listener(uint16_t *port_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	*port_out = ntohs(a.sin_port);
	return fd;
}

START_TEST(ports_check)
{
	static struct vm_net mine, theirs;
	struct vms v = { .data_dir = data_dir };
	char err[512];
	uint16_t held;
	int fd = listener(&held);
	close(fd);   /* now free: the kernel hands it out again rarely */
	memset(&theirs, 0, sizeof theirs);
	theirs.mode = VM_NETWORK_OUTBOUND;
	theirs.n_ports = 1;
	theirs.ports[0] = port("0.0.0.0", held, 80, false);
	mine = theirs;
	mine.ports[0] = port("127.0.0.1", held, 8080, false);
	struct vm_spec spec = { .image = "img", .image_cfg = &image_cfg, .vcpus = 1,
				.memory_mib = 64, .net = &theirs };
	struct vm_rec *other = rec_new(&v, &spec, err, sizeof err);
	struct vm_rec *list[1] = { other };
	v.recs = list;
	v.n = 1;
	other->state = VM_STARTING;   /* its passt has not bound anything */
	ck_assert_int_eq(ports_check_locked(&v, &mine, NULL, err, sizeof err), -1);
	char want[256];
	snprintf(want, sizeof want, "host port 127.0.0.1:%u/tcp overlaps 0.0.0.0:%u/tcp, "
		 "published by VM %s", held, held, other->id);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(ports_check_locked(&v, &mine, other, err, sizeof err), 0);  /* self */
	other->state = VM_EXITED;
	ck_assert_int_eq(ports_check_locked(&v, &mine, NULL, err, sizeof err), 0);
	other->state = VM_RUNNING;
	mine.ports[0].udp = true;
	ck_assert_int_eq(ports_check_locked(&v, &mine, NULL, err, sizeof err), 0);
	/* something else on the host holds it */
	v.n = 0;
	fd = listener(&held);
	mine.ports[0] = port("127.0.0.1", held, 80, false);
	ck_assert_int_eq(ports_check_locked(&v, &mine, NULL, err, sizeof err), -1);
	snprintf(want, sizeof want, "host port %u/tcp on 127.0.0.1 is in use", held);
	ck_assert_msg(strstr(err, want), "%s", err);
	mine.mode = VM_NETWORK_NONE;   /* no network: nothing published */
	ck_assert_int_eq(ports_check_locked(&v, &mine, NULL, err, sizeof err), 0);
	close(fd);
	rec_free(other);
}
END_TEST

/* Each live VM's guest address is its own: 10.0.2.15 first, then the
 * next free one, never a .0 or .255, and a freed one is handed out again. */
START_TEST(link_addresses)
{
	enum { N = 242 };
	struct vms v = { .data_dir = data_dir };
	struct vm_rec **recs = calloc(N, sizeof *recs);
	char err[256];
	ck_assert_ptr_nonnull(recs);
	v.recs = recs;
	for (int i = 0; i < N; i++) {
		recs[i] = calloc(1, sizeof *recs[i]);
		ck_assert_ptr_nonnull(recs[i]);
	}
	v.n = 1;
	ck_assert_int_eq(link_addr_take_locked(&v, recs[0], err, sizeof err), 0);
	ck_assert_str_eq(recs[0]->addr4, "10.0.2.15");
	ck_assert_int_eq(link_addr_take_locked(&v, recs[0], err, sizeof err), 0);  /* kept */
	ck_assert_str_eq(recs[0]->addr4, "10.0.2.15");
	v.n = 2;
	ck_assert_int_eq(link_addr_take_locked(&v, recs[1], err, sizeof err), 0);
	ck_assert_str_eq(recs[1]->addr4, "10.0.2.16");
	recs[0]->addr4[0] = 0;   /* its link went down */
	v.n = 3;
	ck_assert_int_eq(link_addr_take_locked(&v, recs[2], err, sizeof err), 0);
	ck_assert_str_eq(recs[2]->addr4, "10.0.2.15");
	/* 10.0.2.15 to .254 taken (240 VMs): next is 10.0.3.1 */
	for (int i = 0; i < 240; i++)
		snprintf(recs[i]->addr4, sizeof recs[i]->addr4, "10.0.2.%d", 15 + i);
	v.n = N;
	ck_assert_int_eq(link_addr_take_locked(&v, recs[240], err, sizeof err), 0);
	ck_assert_str_eq(recs[240]->addr4, "10.0.3.1");
	ck_assert_int_eq(link_addr_take_locked(&v, recs[241], err, sizeof err), 0);
	ck_assert_str_eq(recs[241]->addr4, "10.0.3.2");
	for (int i = 0; i < N; i++)
		free(recs[i]);
	free(recs);
}
END_TEST

START_TEST(passt_words)
{
	static struct vm_net n;
	static struct passt_cfg c;
	const char *argv[PASST_ARGV_MAX];
	char store[4096], err[256], line[4096] = "";
	memset(&n, 0, sizeof n);
	n.mode = VM_NETWORK_OUTBOUND;
	n.n_ports = VM_NET_MAX_PORTS;
	for (int i = 0; i < VM_NET_MAX_PORTS; i++)   /* the longest addresses fit */
		n.ports[i] = port("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", (uint16_t)(60000 + i),
				  65535, i % 2);
	n.ports[0] = port("127.0.0.1", 18080, 80, false);
	n.ports[1] = port("::1", 5353, 53, true);
	c.log_path = "/tmp/passt.log";
	vm_net_passt_ports(&n, &c);
	ck_assert_int_eq(c.nports, VM_NET_MAX_PORTS);
	ck_assert_msg(passt_argv(&c, 3, argv, store, sizeof store, err, sizeof err) == 0, "%s",
		      err);
	for (int i = 0; argv[i]; i++)
		snprintf(line + strlen(line), sizeof line - strlen(line), " %s", argv[i]);
	ck_assert_msg(strstr(line, " -t 127.0.0.1/18080:80 -u ::1/5353:53 -t ffff:"), "%s", line);
	n.mode = VM_NETWORK_NONE;
	vm_net_passt_ports(&n, &c);
	ck_assert_int_eq(c.nports, 0);
}
END_TEST

static Suite *net_suite(void)
{
	Suite *s = suite_create("vms_net");
	TCase *tc = tcase_create("settings");
	tcase_add_test(tc, defaults_and_mode);
	tcase_add_test(tc, rule_order_and_default);
	tcase_add_test(tc, config_forbids_loosening);
	tcase_add_test(tc, merged_policy_decides);
	tcase_add_test(tc, egress_object);
	tcase_add_test(tc, record_fields_and_row);
	tcase_add_test(tc, port_overlaps);
	tcase_add_test(tc, ports_check);
	tcase_add_test(tc, passt_words);
	tcase_add_test(tc, link_addresses);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(net_suite)
