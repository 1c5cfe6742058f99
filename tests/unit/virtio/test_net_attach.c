/* test_net_attach.c - NET_ATTACH (daemon/vm/net_attach.h, worker_proto.h)
 * sent over a SOCK_SEQPACKET pair to the real worker channel thread,
 * served on the virtio-net card of net_harness.c (the VMM's event loop
 * in a thread, a guest driver, passt as the far end of a socketpair).
 * The policy goes as text in a memfd written by egress_text_write, as
 * supermachined sends it. Frames come from tests/unit/net/frames.c.
 *
 * Covered: an attach brings the link up with its policy (an allowed
 * connect reaches the new passt, a denied one does not, passt's frames
 * reach the guest); a policy with another MAC puts it in the config
 * space with a config change of its own, makes the old MAC a spoofed
 * source, and a snapshot of the card records it; a second attach
 * replaces socket and policy (the old passt sees EOF); every bad request
 * (no card, missing or extra descriptors, bad value, bad or oversized
 * policy, descriptors that are not what they should be, a closed passt)
 * is answered -1 with its reason, leaves no descriptor behind and
 * changes nothing, as does a failure inside the device (a descriptor
 * epoll refuses); and a worker in the VMM's seccomp jail serves it.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../net/frames.h"
#include "daemon/net/egress_text.h"
#include "daemon/vm/jail.h"
#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/vm_control.h"
#include "daemon/vm/worker_channel.h"
#include "daemon/vm/worker_proto.h"
#include "net_harness.h"
#include "../check_main.h"
#include "../worker_request.h"

static const uint8_t new_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static uint8_t got[NET_MAX_FRAME + 64];
static struct vm vm;
static struct vm_control ctl;
static struct worker_channel *ch;
static int daemon_end = -1, worker_end = -1;

static void setup(void)
{
	nh_setup(NULL);
	memset(&vm, 0, sizeof vm);
	ck_assert_int_eq(vm_control_init(&ctl), 0);
	vm.ctl = &ctl;
	ch = worker_test_channel(&vm, NULL, nh_dev, &daemon_end, &worker_end);
}

static void teardown(void)
{
	worker_test_channel_stop(ch, daemon_end, worker_end);
	vm_control_destroy(&ctl);
	nh_teardown();
}

/* ---- the daemon's side ---- */

/* The policy text for a VM with mac at 10.0.2.15: default deny, allow
 * TCP to 10.0.0.0/8 port `port`. Written as the daemon writes it. */
static size_t policy_text(const uint8_t mac[6], int port, char *buf, size_t size)
{
	struct egress_policy p;
	char err[160], rule[64];
	egress_policy_init(&p, mac, false, 0);
	ck_assert_int_eq(egress_policy_set_vm_address(&p, VM_IP4, err, sizeof err), 0);
	snprintf(rule, sizeof rule, "10.0.0.0/8:%d/tcp", port);
	ck_assert_int_eq(egress_policy_add_rule(&p, true, rule, err, sizeof err), 0);
	size_t n = egress_text_write(&p, buf, size);
	ck_assert_uint_lt(n, size);
	return n;
}

/* A memfd holding len bytes of text, its offset left at the end. */
static int memfd_with(const char *text, size_t len)
{
	int fd = memfd_create("policy", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	return fd;
}

static int policy_file(const uint8_t mac[6], int port)
{
	char text[1024];
	size_t n = policy_text(mac, port, text, sizeof text);
	return memfd_with(text, n);
}

/* NET_ATTACH with nfds fds on sock; the answer's value, its text in msg. */
static int send_attach(int sock, int32_t value, const int *fds, int nfds, char *msg, size_t len)
{
	return worker_request(sock, WORKER_NET_ATTACH, value, fds, nfds, WORKER_NET_ATTACH_DONE,
			      msg, len);
}

/* Attach a new passt with a policy file; returns passt's end (nh_passt
 * becomes it, the old one is closed), the answer's text in msg. */
static int attach_new(const uint8_t mac[6], int port, char *msg, size_t len)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int pf = policy_file(mac, port);
	ck_assert_msg(send_attach(daemon_end, 0, (int[]){ sv[0], pf }, 2, msg, len) == 0, "%s",
		      msg);
	close(sv[0]);
	close(pf);
	if (nh_passt >= 0)
		close(nh_passt);
	nh_passt = sv[1];
	return sv[1];
}

/* ---- the guest's side ---- */

static uint32_t config_gen(void)
{
	return nh_rd(VIRTIO_MMIO_CONFIG_GENERATION);
}

/* Acknowledge every interrupt; the status it had. */
static uint32_t ack_irqs(void)
{
	uint32_t s = nh_rd(VIRTIO_MMIO_INTERRUPT_STATUS);
	nh_wr(VIRTIO_MMIO_INTERRUPT_ACK, s);
	return s;
}

static void config_mac(uint8_t mac[6])
{
	nh_config(0, mac, 6);
}

static uint16_t config_status(void)
{
	uint16_t s;
	nh_config(6, &s, 2);
	return s;
}

/* A TCP SYN from mac/10.0.2.15 to dst:port. */
static size_t syn_from(struct fb *b, const uint8_t mac[6], const char *dst, uint16_t port)
{
	fb_eth(b, mac, gw_mac, 0x0800);
	fb_ipv4(b, VM_IP4, dst, NULL, 0);
	fb_tcp(b, 40000, port, NET_TCP_SYN, 1000);
	return fb_finish(b);
}

/* The guest sends it; does passt (fd) get it, unchanged? */
static bool reaches(int fd, const struct fb *b, size_t len)
{
	nh_send(b->buf, (uint32_t)len);
	long n = nh_passt_recv(fd, got, sizeof got, 300);
	if (n < 0)
		return false;
	ck_assert_int_eq(n, (long)len);
	ck_assert_mem_eq(got, b->buf, len);
	return true;
}

/* passt (fd) sends a test frame; the guest must get it. */
static void guest_gets_from(int fd, uint32_t seq)
{
	uint8_t f[100];
	nh_frame(f, sizeof f, seq);
	nh_passt_send(fd, f, sizeof f);
	ck_assert_int_eq(nh_recv(got, sizeof got, 5, NULL), (long)sizeof f);
	ck_assert(nh_frame_is(got, sizeof f, seq));
}

/* Drain replies the policy sent the guest (RSTs for denied connects). */
static void drain_guest(void)
{
	while (nh_recv(got, sizeof got, 0.2, NULL) >= 0)
		;
}

/* ---- tests ---- */

START_TEST(attach_brings_link_up_with_policy)
{
	char msg[256];
	virtio_net_detach(nh_dev);
	ck_assert(!virtio_net_link(nh_dev));
	ack_irqs();
	uint32_t gen = config_gen();
	int passt = attach_new(nh_mac, 443, msg, sizeof msg);
	ck_assert_str_eq(msg, "passt attached, link up; policy: default deny, 1 rule(s), 0 host "
			 "block(s); MAC 52:54:00:12:34:56");
	ck_assert(virtio_net_link(nh_dev));
	ck_assert_uint_eq(config_status(), VIRTIO_NET_S_LINK_UP);
	ck_assert(ack_irqs() & VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(config_gen(), gen + 1); /* link up; the MAC stayed */
	struct fb b;
	size_t len = syn_from(&b, nh_mac, "10.1.2.3", 443);
	ck_assert(reaches(passt, &b, len));
	len = syn_from(&b, nh_mac, "192.0.2.1", 80);
	ck_assert(!reaches(passt, &b, len));
	ck_assert_uint_eq(nh_stats().tx_rejects, 1);
	drain_guest();
	guest_gets_from(passt, 7);
}
END_TEST

/* A policy whose mac differs: config space, its own config change, the
 * old MAC now spoofed, and the snapshot section records the new one. */
START_TEST(new_mac_reaches_config_and_snapshot)
{
	char msg[256];
	uint8_t mac[6];
	ack_irqs();
	uint32_t g0 = config_gen();
	attach_new(nh_mac, 443, msg, sizeof msg); /* same MAC: replaces the backend */
	uint32_t same = config_gen() - g0;
	ck_assert_uint_ge(same, 1);
	ack_irqs();
	uint32_t g1 = config_gen();
	int passt = attach_new(new_mac, 443, msg, sizeof msg);
	ck_assert_msg(strstr(msg, "; MAC 52:54:00:aa:bb:cc (was 52:54:00:12:34:56: config change "
			     "sent)"), "%s", msg);
	ck_assert_uint_eq(config_gen() - g1, same + 1); /* the MAC's own change */
	ck_assert(ack_irqs() & VIRTIO_MMIO_INT_CONFIG);
	config_mac(mac);
	ck_assert_mem_eq(mac, new_mac, 6);
	ck_assert_uint_eq(nh_stats().mac_changes, 1);

	struct fb b;
	uint64_t drops = nh_stats().tx_drop_policy;
	size_t len = syn_from(&b, nh_mac, "10.1.2.3", 443);
	ck_assert(!reaches(passt, &b, len)); /* the old MAC is not the VM's any more */
	ck_assert_uint_eq(nh_stats().tx_drop_policy, drops + 1);
	len = syn_from(&b, new_mac, "10.1.2.3", 443);
	ck_assert(reaches(passt, &b, len));

	struct snap_writer w;
	snap_writer_init(&w);
	pthread_mutex_lock(&nh_dev->t.lock);
	virtio_net_save(nh_dev, &w);
	pthread_mutex_unlock(&nh_dev->t.lock);
	ck_assert_ptr_nonnull(memmem(w.buf, w.len, new_mac, 6));
	ck_assert_ptr_null(memmem(w.buf, w.len, nh_mac, 6));
	snap_writer_free(&w);
}
END_TEST

/* passt restarted: the new socket and policy replace the old ones. */
START_TEST(second_attach_replaces_both)
{
	char msg[256];
	int first = attach_new(nh_mac, 443, msg, sizeof msg);
	nh_passt = -1; /* kept open here: only the replacement may close the card's end */
	int second = attach_new(nh_mac, 80, msg, sizeof msg);
	ck_assert_int_eq(read(first, got, 1), 0); /* the card's end of the old one: closed */
	close(first);
	struct fb b;
	size_t len = syn_from(&b, nh_mac, "10.1.2.3", 443);
	ck_assert(!reaches(second, &b, len)); /* the old policy's port */
	drain_guest();
	len = syn_from(&b, nh_mac, "10.1.2.3", 80);
	ck_assert(reaches(second, &b, len));
	guest_gets_from(second, 9);
	ck_assert_uint_eq(nh_stats().link_ups, 3); /* the harness's, then two */
}
END_TEST

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* What a refusal must leave as it was. */
struct card_state {
	bool link;
	int fd;
	struct egress_policy *policy;
	uint8_t mac[6];
	uint32_t gen, ups;
};

static struct card_state card_state(void)
{
	struct card_state s;
	memset(&s, 0, sizeof s); /* padding too: compared with memcmp */
	pthread_mutex_lock(&nh_dev->t.lock);
	s.link = nh_dev->link_up;
	s.fd = nh_dev->fd;
	s.policy = nh_dev->policy;
	memcpy(s.mac, nh_dev->mac, 6);
	s.gen = nh_dev->t.config_generation;
	s.ups = (uint32_t)nh_dev->stats.link_ups;
	pthread_mutex_unlock(&nh_dev->t.lock);
	return s;
}

/* fds (nfds of them) are sent and closed here after the answer. */
static void expect_refused(int sock, int32_t value, const int *fds, int nfds, const char *why)
{
	char msg[256];
	struct card_state before = card_state();
	int n_before = count_fds();
	ck_assert_int_eq(send_attach(sock, value, fds, nfds, msg, sizeof msg), -1);
	ck_assert_msg(strstr(msg, why) == msg, "refusal \"%s\", want \"%s...\"", msg, why);
	ck_assert_int_eq(count_fds(), n_before); /* the worker kept none */
	struct card_state after = card_state();
	ck_assert_mem_eq(&after, &before, sizeof after);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

START_TEST(bad_requests_change_nothing)
{
	char msg[256];
	int passt = attach_new(nh_mac, 443, msg, sizeof msg);
	int sv[2], pipefd[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int pf = policy_file(nh_mac, 80);
	expect_refused(daemon_end, 0, NULL, 0, "NET_ATTACH came without its two descriptors");
	expect_refused(daemon_end, 0, (int[]){ dup(sv[0]) }, 1, "NET_ATTACH came without");
	expect_refused(daemon_end, 1, (int[]){ dup(sv[0]), dup(pf) }, 2,
		       "NET_ATTACH: bad value 1 (want 0)");
	expect_refused(daemon_end, 0, (int[]){ dup(sv[0]), dup(pf), dup(pf) }, 3,
		       "NET_ATTACH takes two descriptors, not three");
	expect_refused(daemon_end, 0, (int[]){ dup(pf), dup(pf) }, 2,
		       "the first descriptor is not a socket");
	expect_refused(daemon_end, 0, (int[]){ dup(pf), dup(sv[0]) }, 2,
		       "reading the policy file: Illegal seek");
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	expect_refused(daemon_end, 0, (int[]){ dup(sv[0]), pipefd[0] }, 2,
		       "reading the policy file: Illegal seek");
	close(pipefd[1]);
	char path[] = "/tmp/sm-policy-XXXXXX";
	int rw = mkstemp(path), wo = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(rw, 0);
	ck_assert_int_ge(wo, 0);
	close(rw);
	unlink(path);
	expect_refused(daemon_end, 0, (int[]){ dup(sv[0]), wo }, 2,
		       "reading the policy file: Bad file descriptor");

	static const struct { const char *text, *why; } bad[] = {
		{ "default deny\n", "policy: no \"mac\" line" },
		{ "mac 52:54:00:12:34:56\ndefault maybe\n",
		  "policy: line 2: default \"maybe\": want allow or deny" },
		{ "mac 52:54:00:12:34:56\ndefault deny\nallow 10.0.0.0/8:0\n",
		  "policy: line 3: rule \"10.0.0.0/8:0\": port 0" },
		{ "mac 53:54:00:12:34:56\ndefault deny\n", "policy: line 1: MAC \"53:54:00:12:34:56\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_refused(daemon_end, 0,
			       (int[]){ dup(sv[0]), memfd_with(bad[i].text, strlen(bad[i].text)) },
			       2, bad[i].why);
	static char big[EGRESS_TEXT_MAX + 1];
	int head = snprintf(big, sizeof big, "mac 52:54:00:12:34:56\ndefault deny\n");
	memset(big + head, '\n', sizeof big - head);
	expect_refused(daemon_end, 0, (int[]){ dup(sv[0]), memfd_with(big, sizeof big) }, 2,
		       "the policy file is over 65536 bytes");
	close(sv[1]); /* passt gone before its socket arrived */
	expect_refused(daemon_end, 0, (int[]){ dup(sv[0]), dup(pf) }, 2,
		       "passt's socket is closed already");

	int ours, theirs;
	struct worker_channel *bare = worker_test_channel(&vm, NULL, NULL, &ours, &theirs);
	expect_refused(ours, 0, (int[]){ dup(sv[0]), dup(pf) }, 2,
		       "this VM has no network card (started without --net)");
	worker_test_channel_stop(bare, ours, theirs);
	close(sv[0]);
	close(pf);
	guest_gets_from(passt, 11); /* the backend from before still works */
	struct fb b;
	size_t len = syn_from(&b, nh_mac, "10.1.2.3", 443); /* and its policy */
	ck_assert(reaches(passt, &b, len));
}
END_TEST

/* Below the checks: a descriptor epoll refuses (a regular file) fails
 * the device's own attach, and the old backend, policy and MAC stay. */
START_TEST(device_attach_failure_keeps_old_backend)
{
	struct vm_err err = { "" };
	struct egress_policy p;
	egress_policy_init(&p, new_mac, true, 0);
	struct card_state before = card_state();
	bool changed = false;
	ck_assert_int_eq(virtio_net_connect(nh_dev, memfd_with("x", 1), &p, &changed, &err), -1);
	ck_assert_msg(strstr(err.msg, "virtio-net: watch the backend socket"), "%s", err.msg);
	ck_assert_int_eq(virtio_net_attach(nh_dev, memfd_with("x", 1), &err), -1);
	struct card_state after = card_state();
	ck_assert_mem_eq(&after, &before, sizeof after);
	ck_assert(!changed);
	guest_gets_from(nh_passt, 13);
}
END_TEST

/* ---- in the VMM's jail ---- */

/* The child: a card and a channel, then the jail (seccomp as the VMM
 * without shared folders; the loop thread too), then it serves what the
 * parent sends; on `go` it checks what the guest sees. */
static void jailed_child(int sock, int go)
{
	struct vm_err err = { "" };
	nh_setup(NULL);
	virtio_net_detach(nh_dev);
	if (vm_jail_enter(-1, NULL, &err) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		_exit(30);
	}
	struct worker_channel *c = worker_channel_start(sock, &vm, NULL, NULL, NULL, nh_dev, &err);
	char cmd;
	if (!c || read(go, &cmd, 1) != 1)
		_exit(31);
	uint8_t mac[6];
	config_mac(mac);
	if (!virtio_net_link(nh_dev) || memcmp(mac, new_mac, 6))
		_exit(32);
	if (nh_recv(got, sizeof got, 5, NULL) != 100 || !nh_frame_is(got, 100, 5))
		_exit(33);
	_exit(0);
}

START_TEST(served_in_the_jail)
{
	int sv[2], go[2], pair[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(pipe(go), 0);
	memset(&vm, 0, sizeof vm);
	ck_assert_int_eq(vm_control_init(&ctl), 0);
	vm.ctl = &ctl;
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		jailed_child(sv[1], go[0]);
	close(sv[1]);
	struct worker_msg m;
	ck_assert_int_eq(recv(sv[0], &m, sizeof m, 0), (ssize_t)sizeof m);
	ck_assert_uint_eq(m.type, WORKER_READY);
	char msg[256], bad[] = "mac 52:54:00:12:34:56\nallow nowhere\n";
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
	int bf = memfd_with(bad, strlen(bad));
	ck_assert_int_eq(send_attach(sv[0], 0, (int[]){ pair[0], bf }, 2, msg, sizeof msg), -1);
	ck_assert_msg(strstr(msg, "policy: line 2: rule \"nowhere\""), "%s", msg);
	int pf = policy_file(new_mac, 443);
	ck_assert_int_eq(send_attach(sv[0], 0, (int[]){ pair[0], pf }, 2, msg, sizeof msg), 0);
	ck_assert_msg(strstr(msg, "(was 52:54:00:12:34:56"), "%s", msg);
	uint8_t f[100];
	nh_frame(f, sizeof f, 5);
	nh_passt_send(pair[1], f, sizeof f);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: wait status 0x%x", st);
	int fds[] = { sv[0], go[0], go[1], pair[0], pair[1], bf, pf };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		close(fds[i]);
	vm_control_destroy(&ctl);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_net_attach");
	TCase *t = tcase_create("attach");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, attach_brings_link_up_with_policy);
	tcase_add_test(t, new_mac_reaches_config_and_snapshot);
	tcase_add_test(t, second_attach_replaces_both);
	tcase_add_test(t, bad_requests_change_nothing);
	tcase_add_test(t, device_attach_failure_keeps_old_backend);
	suite_add_tcase(s, t);
	TCase *j = tcase_create("jail");
	tcase_set_timeout(j, 60);
	tcase_add_test(j, served_in_the_jail);
	suite_add_tcase(s, j);
	return s;
}

CHECK_MAIN(suite)
