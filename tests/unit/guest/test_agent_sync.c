/* test_agent_sync.c - SYNC, the host's first request after a restore:
 * its coding (round trip, every truncation, out-of-range fields and bad
 * hostnames refused on both sides), the host's fresh request (the clock
 * now, new random bytes each time), and agent_client_sync() against the
 * agent served natively (agent-unix, whose hook records the request
 * instead of touching this host's clock, RNG or hostname). */
#include "agent_target.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../check_main.h"

static struct sm_sync_req sample(void)
{
	struct sm_sync_req r = { .sec = 1700000000, .nsec = 999999999, .hostname = "clone-7.example" };
	for (int i = 0; i < SM_SYNC_ENTROPY; i++)
		r.entropy[i] = (uint8_t)(i * 37 + 1);
	return r;
}

START_TEST(round_trip)
{
	struct sm_wbuf b = { 0 };
	struct sm_sync_req in = sample(), out;
	struct sm_hdr h;
	const char *why = NULL;
	ck_assert_int_eq(sm_sync_req_encode(&b, 5, &in), 0);
	ck_assert_int_eq(sm_hdr_decode(b.data, &h, &why), 0);
	ck_assert_uint_eq(h.type, SM_MSG_SYNC);
	ck_assert_str_eq(sm_msg_type_name(h.type), "SYNC");
	ck_assert_uint_eq(h.id, 5);
	ck_assert_uint_eq(h.len, 8 + 4 + SM_SYNC_ENTROPY + 4 + strlen(in.hostname));
	ck_assert_int_eq(sm_sync_req_decode(b.data + 12, h.len, &out, &why), 0);
	ck_assert_uint_eq(out.sec, in.sec);
	ck_assert_uint_eq(out.nsec, in.nsec);
	ck_assert_mem_eq(out.entropy, in.entropy, SM_SYNC_ENTROPY);
	ck_assert_str_eq(out.hostname, in.hostname);
	/* no hostname: "" on the wire, "" decoded */
	sm_wbuf_free(&b);
	in.hostname[0] = 0;
	ck_assert_int_eq(sm_sync_req_encode(&b, 6, &in), 0);
	ck_assert_int_eq(sm_sync_req_decode(b.data + 12, b.len - 12, &out, &why), 0);
	ck_assert_str_eq(out.hostname, "");
	sm_wbuf_free(&b);
}
END_TEST

START_TEST(truncated_and_trailing)
{
	struct sm_wbuf b = { 0 };
	struct sm_sync_req in = sample(), out;
	const char *why;
	ck_assert_int_eq(sm_sync_req_encode(&b, 1, &in), 0);
	size_t plen = b.len - 12;
	for (size_t n = 0; n < plen; n++) {
		why = NULL;
		ck_assert_int_eq(sm_sync_req_decode(b.data + 12, n, &out, &why), -1);
		ck_assert_str_eq(why, "malformed SYNC");
	}
	sm_put_bytes(&b, "x", 1);
	ck_assert_int_eq(sm_sync_req_decode(b.data + 12, plen + 1, &out, &why), -1);
	sm_wbuf_free(&b);
}
END_TEST

/* A payload as a hostile host could send it, field by field. */
static int decode_raw(uint64_t sec, uint32_t nsec, const char *host, const char **why)
{
	struct sm_wbuf b = { 0 };
	struct sm_sync_req out;
	uint8_t zero[SM_SYNC_ENTROPY] = { 0 };
	sm_put_u64(&b, sec);
	sm_put_u32(&b, nsec);
	sm_put_bytes(&b, zero, sizeof(zero));
	sm_put_str(&b, host);
	int rc = sm_sync_req_decode(b.data, b.len, &out, why);
	sm_wbuf_free(&b);
	return rc;
}

START_TEST(bad_fields)
{
	const char *why;
	char longname[80];
	memset(longname, 'a', 65);
	longname[65] = 0;
	ck_assert_int_eq(decode_raw(1, 1000000000u, "", &why), -1);
	ck_assert_str_eq(why, "SYNC nanoseconds out of range");
	ck_assert_int_eq(decode_raw(1ull << 63, 0, "", &why), -1);
	ck_assert_str_eq(why, "SYNC seconds out of range");
	const char *bad[] = { longname, "-x", ".x", "a b", "a/b", "a\n", "ä" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!sm_hostname_valid(bad[i]), "'%s' passed", bad[i]);
		ck_assert_int_eq(decode_raw(1, 0, bad[i], &why), -1);
		ck_assert_ptr_nonnull(strstr(why, "hostname"));
	}
	longname[64] = 0; /* 64 is the limit */
	ck_assert(sm_hostname_valid(longname));
	ck_assert(sm_hostname_valid("vm-0.local"));
	ck_assert_int_eq(decode_raw(1, 0, longname, &why), 0);
	/* the encoder refuses what the decoder would */
	struct sm_wbuf b = { 0 };
	struct sm_sync_req r = sample();
	r.nsec = 1000000000u;
	ck_assert_int_eq(sm_sync_req_encode(&b, 1, &r), -1);
	r = sample();
	strcpy(r.hostname, "a b");
	ck_assert_int_eq(sm_sync_req_encode(&b, 1, &r), -1);
	ck_assert_uint_eq(b.len, 0);
	sm_wbuf_free(&b);
}
END_TEST

START_TEST(fresh_request)
{
	struct sm_sync_req a, b;
	struct timespec now;
	ck_assert_int_eq(agent_sync_req_fresh(&a, "host-a"), 0);
	ck_assert_int_eq(agent_sync_req_fresh(&b, NULL), 0);
	clock_gettime(CLOCK_REALTIME, &now);
	ck_assert_uint_le(a.sec, (uint64_t)now.tv_sec);
	ck_assert_uint_ge(a.sec + 5, (uint64_t)now.tv_sec);
	ck_assert_uint_lt(a.nsec, 1000000000u);
	ck_assert_str_eq(a.hostname, "host-a");
	ck_assert_str_eq(b.hostname, "");
	ck_assert_mem_ne(a.entropy, b.entropy, SM_SYNC_ENTROPY);
	errno = 0;
	ck_assert_int_eq(agent_sync_req_fresh(&a, "bad name"), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* The last line agent-unix's hook recorded. */
static void last_sync(char *line, size_t size)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/agent.sock.sync", target_tmp());
	FILE *f = fopen(path, "r");
	ck_assert_msg(f, "%s: the agent's hook never ran", path);
	line[0] = 0;
	while (fgets(line, (int)size, f))
		;
	fclose(f);
}

START_TEST(client_sync)
{
	struct agent_client *c = target_connect();
	char line[512];
	struct sm_sync_req r = sample();
	ck_assert_uint_eq(agent_client_hello(c)->version, SM_AGENT_VERSION);
	ck_assert_msg(agent_client_sync_req(c, &r, 10000) == 0, "%s", agent_client_error(c));
	last_sync(line, sizeof(line));
	ck_assert_msg(!strncmp(line, "1700000000.999999999 clone-7.example 01264b", 43), "%s", line);
	ck_assert_msg(agent_client_sync(c, NULL, 10000) == 0, "%s", agent_client_error(c));
	last_sync(line, sizeof(line));
	long long sec = strtoll(line, NULL, 10), now = (long long)time(NULL);
	ck_assert_msg(sec <= now && sec + 5 >= now, "sent %lld at %lld", sec, now);
	ck_assert_msg(strstr(line, " - ") && strlen(strstr(line, " - ")) == 3 + 2 * SM_SYNC_ENTROPY + 1,
		      "%s", line);
	/* the hook's failure comes back with its errno's message */
	ck_assert_int_eq(agent_client_sync(c, "refuse", 10000), -1);
	ck_assert_msg(strstr(agent_client_error(c), "sync: sethostname: refused by agent-unix"), "%s",
		      agent_client_error(c));
	ck_assert_int_eq(agent_client_sync(c, "bad name", 10000), -1);
	ck_assert_str_eq(agent_client_error(c), "sync: invalid hostname 'bad name'");
	ck_assert_int_eq(agent_client_ping(c, 10000), 0); /* the connection lives on */
	agent_client_close(c);
}
END_TEST

int main(void)
{
	target_setup();
	Suite *s = suite_create("agent_sync");
	TCase *t = tcase_create("sync");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, round_trip);
	tcase_add_test(t, truncated_and_trailing);
	tcase_add_test(t, bad_fields);
	tcase_add_test(t, fresh_request);
	if (!target_is_vm()) /* in a VM it would set the clock: tests/vm/agent does */
		tcase_add_test(t, client_sync);
	suite_add_tcase(s, t);
	int rc = check_run(s, CK_FORK_GETENV);
	target_teardown();
	return rc;
}
