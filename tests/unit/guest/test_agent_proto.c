/* test_agent_proto.c - agent protocol encode/decode (guest/agent_proto*.c)
 * and the client's frame reassembler and hybrid vsock lines. */
#include "agent_client_proto.h"
#include "agent_proto.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../check_main.h"

static const char *const argv3[] = { "sh", "-c", "echo hi", NULL };
static const char *const env1[] = { "A=b", NULL };

static void encode_exec(struct sm_wbuf *b)
{
	struct sm_exec_req req = { .flags = SM_EXEC_STDIN, .uid = 1, .gid = 2,
				   .timeout_ms = 300, .rows = 24, .cols = 80, .cwd = "/tmp",
				   .argc = 3, .argv = (char **)argv3,
				   .envc = 1, .env = (char **)env1 };
	ck_assert_int_eq(sm_exec_req_encode(b, 9, &req), 0);
}

START_TEST(exec_round_trip)
{
	struct sm_wbuf b = { 0 };
	struct sm_hdr h;
	struct sm_exec_req r;
	const char *why = NULL;
	encode_exec(&b);
	ck_assert_int_eq(sm_hdr_decode(b.data, &h, &why), 0);
	ck_assert_uint_eq(h.type, SM_MSG_EXEC);
	ck_assert_uint_eq(h.id, 9);
	ck_assert_uint_eq(h.len, b.len - SM_AGENT_HDR_SIZE);
	ck_assert_int_eq(sm_exec_req_decode(b.data + SM_AGENT_HDR_SIZE, h.len, &r, &why), 0);
	ck_assert_uint_eq(r.flags, SM_EXEC_STDIN);
	ck_assert_uint_eq(r.uid, 1);
	ck_assert_uint_eq(r.gid, 2);
	ck_assert_uint_eq(r.timeout_ms, 300);
	ck_assert_uint_eq(r.rows, 24);
	ck_assert_uint_eq(r.cols, 80);
	ck_assert_str_eq(r.cwd, "/tmp");
	ck_assert_uint_eq(r.argc, 3);
	ck_assert_str_eq(r.argv[2], "echo hi");
	ck_assert_ptr_null(r.argv[3]);
	ck_assert_str_eq(r.env[0], "A=b");
	ck_assert_ptr_null(r.env[1]);
	sm_exec_req_free(&r);
	sm_wbuf_free(&b);
}
END_TEST

/* Version 5: supplementary groups after env (SM_EXEC_GROUPS), at most
 * SM_EXEC_MAX_GROUPS; EXEC_FAILED with its two kinds only. */
START_TEST(exec_v5_fields)
{
	uint32_t groups[SM_EXEC_MAX_GROUPS + 1] = { 10, 2000 };
	struct sm_exec_req req = { .flags = SM_EXEC_GROUPS | SM_EXEC_MKCWD, .cwd = "/srv/w",
				   .argc = 3, .argv = (char **)argv3, .envc = 1,
				   .env = (char **)env1, .ngroups = 2, .groups = groups };
	struct sm_wbuf b = { 0 };
	struct sm_exec_req r;
	const char *why = NULL;
	ck_assert_int_eq(sm_exec_req_encode(&b, 3, &req), 0);
	ck_assert_int_eq(sm_exec_req_decode(b.data + SM_AGENT_HDR_SIZE,
					    b.len - SM_AGENT_HDR_SIZE, &r, &why), 0);
	ck_assert_uint_eq(r.flags, SM_EXEC_GROUPS | SM_EXEC_MKCWD);
	ck_assert_uint_eq(r.ngroups, 2);
	ck_assert_uint_eq(r.groups[1], 2000);
	sm_exec_req_free(&r);
	/* without the flag the groups would be trailing bytes */
	b.data[SM_AGENT_HDR_SIZE] &= (uint8_t)~SM_EXEC_GROUPS;
	ck_assert_int_eq(sm_exec_req_decode(b.data + SM_AGENT_HDR_SIZE,
					    b.len - SM_AGENT_HDR_SIZE, &r, &why), -1);
	sm_wbuf_free(&b);
	req.ngroups = SM_EXEC_MAX_GROUPS + 1;
	ck_assert_int_eq(sm_exec_req_encode(&b, 3, &req), -1);
	sm_wbuf_free(&b);

	uint32_t kind;
	char *msg;
	struct sm_wbuf f = { 0 };
	ck_assert_int_eq(sm_exec_failed_encode(&f, 4, SM_EXEC_NOT_FOUND, "exec: \"x\": nope"), 0);
	ck_assert_int_eq(sm_exec_failed_decode(f.data + SM_AGENT_HDR_SIZE,
					       f.len - SM_AGENT_HDR_SIZE, &kind, &msg), 0);
	ck_assert_uint_eq(kind, SM_EXEC_NOT_FOUND);
	ck_assert_str_eq(msg, "exec: \"x\": nope");
	free(msg);
	sm_wbuf_free(&f);
	ck_assert_int_eq(sm_exec_failed_encode(&f, 4, 7, "bad kind"), 0);
	ck_assert_int_eq(sm_exec_failed_decode(f.data + SM_AGENT_HDR_SIZE,
					       f.len - SM_AGENT_HDR_SIZE, &kind, &msg), -1);
	ck_assert_ptr_null(msg);
	sm_wbuf_free(&f);
	ck_assert_str_eq(sm_msg_type_name(SM_MSG_EXEC_FAILED), "EXEC_FAILED");
}
END_TEST

/* Every strict prefix of an EXEC payload is refused. */
START_TEST(exec_truncated_payloads)
{
	struct sm_wbuf b = { 0 };
	struct sm_exec_req r;
	const char *why;
	encode_exec(&b);
	size_t plen = b.len - SM_AGENT_HDR_SIZE;
	for (size_t n = 0; n < plen; n++) {
		why = NULL;
		ck_assert_int_eq(sm_exec_req_decode(b.data + SM_AGENT_HDR_SIZE, n, &r, &why), -1);
		ck_assert_ptr_nonnull(why);
	}
	sm_wbuf_free(&b);
}
END_TEST

START_TEST(exec_bad_fields)
{
	struct sm_wbuf b = { 0 };
	struct sm_exec_req r;
	const char *why;
	/* argc 0 */
	size_t f = sm_frame_begin(&b, SM_MSG_EXEC, 1);
	for (int i = 0; i < 4; i++)
		sm_put_u32(&b, 0);
	sm_put_u16(&b, 0);
	sm_put_u16(&b, 0);
	sm_put_str(&b, "");
	sm_put_u32(&b, 0);
	sm_put_u32(&b, 0);
	ck_assert_int_eq(sm_frame_end(&b, f), 0);
	ck_assert_int_eq(sm_exec_req_decode(b.data + 12, b.len - 12, &r, &why), -1);
	ck_assert_str_eq(why, "EXEC argc out of range");
	/* huge argc with no strings behind it must not allocate wildly */
	memset(b.data + b.len - 8, 0xff, 4);
	ck_assert_int_eq(sm_exec_req_decode(b.data + 12, b.len - 12, &r, &why), -1);
	/* a trailing byte is refused */
	sm_wbuf_free(&b);
	encode_exec(&b);
	sm_put_bytes(&b, "x", 1);
	ck_assert_int_eq(sm_exec_req_decode(b.data + 12, b.len - 12, &r, &why), -1);
	sm_wbuf_free(&b);
}
END_TEST

START_TEST(string_with_nul_refused)
{
	uint8_t p[8] = { 3, 0, 0, 0, 'a', 0, 'b' };
	struct sm_rbuf r;
	char *s;
	sm_rbuf_init(&r, p, 7);
	ck_assert_int_eq(sm_get_str(&r, &s), -1);
	ck_assert_ptr_null(s);
	/* length beyond the payload */
	p[0] = 200;
	sm_rbuf_init(&r, p, 7);
	ck_assert_int_eq(sm_get_str(&r, &s), -1);
}
END_TEST

START_TEST(header_checks)
{
	uint8_t raw[12];
	struct sm_hdr h = { .len = SM_AGENT_MAX_PAYLOAD + 1, .type = SM_MSG_PING }, d;
	const char *why = NULL;
	sm_hdr_encode(raw, &h);
	ck_assert_int_eq(sm_hdr_decode(raw, &d, &why), -1);
	ck_assert_str_eq(why, "oversized frame");
	h.len = SM_AGENT_MAX_PAYLOAD;
	sm_hdr_encode(raw, &h);
	ck_assert_int_eq(sm_hdr_decode(raw, &d, &why), 0);
	h.type = 999;
	sm_hdr_encode(raw, &h);
	ck_assert_int_eq(sm_hdr_decode(raw, &d, &why), -1);
	ck_assert_str_eq(why, "unknown message type");
	h.type = SM_MSG_PING;
	h.flags = 1;
	sm_hdr_encode(raw, &h);
	ck_assert_int_eq(sm_hdr_decode(raw, &d, &why), -1);
	/* little-endian on the wire */
	h = (struct sm_hdr){ .len = 0x01020304, .type = 0x0a0b, .id = 0x11223344 };
	sm_hdr_encode(raw, &h);
	ck_assert_uint_eq(raw[0], 0x04);
	ck_assert_uint_eq(raw[4], 0x0b);
	ck_assert_uint_eq(raw[8], 0x44);
}
END_TEST

START_TEST(oversized_frame_not_built)
{
	struct sm_wbuf b = { 0 };
	char *big = calloc(1, SM_AGENT_MAX_PAYLOAD + 1);
	sm_data_frame(&b, SM_MSG_PING, 1, NULL, 0);
	size_t before = b.len;
	ck_assert_int_eq(sm_data_frame(&b, SM_MSG_STDIN, 1, big, SM_AGENT_MAX_PAYLOAD + 1), -1);
	ck_assert_uint_eq(b.len, before); /* the partial frame was removed */
	ck_assert_int_eq(sm_data_frame(&b, SM_MSG_STDIN, 1, big, SM_AGENT_MAX_PAYLOAD), 0);
	free(big);
	sm_wbuf_free(&b);
}
END_TEST

START_TEST(small_messages)
{
	struct sm_wbuf b = { 0 };
	struct sm_hello in = { .version = 1, .max_payload = 5, .cpus = 2, .mem_kib = 1ull << 33,
			       .name = "x" }, out;
	struct sm_exit_msg e = { .code = -1, .signal = 9, .flags = SM_EXIT_TIMED_OUT }, e2;
	int32_t err;
	char *msg;
	ck_assert_int_eq(sm_hello_encode(&b, &in, true), 0);
	ck_assert_int_eq(sm_hello_decode(b.data + 12, b.len - 12, &out, true), 0);
	ck_assert_uint_eq(out.mem_kib, 1ull << 33);
	ck_assert_str_eq(out.name, "x");
	free(out.name);
	/* a host HELLO is shorter: decoding it as a guest one fails */
	sm_wbuf_free(&b);
	ck_assert_int_eq(sm_hello_encode(&b, &in, false), 0);
	ck_assert_int_eq(sm_hello_decode(b.data + 12, b.len - 12, &out, true), -1);
	ck_assert_int_eq(sm_hello_decode(b.data + 12, b.len - 12, &out, false), 0);
	sm_wbuf_free(&b);
	ck_assert_int_eq(sm_exit_encode(&b, 3, &e), 0);
	ck_assert_int_eq(sm_exit_decode(b.data + 12, b.len - 12, &e2), 0);
	ck_assert_int_eq(e2.code, -1);
	ck_assert_int_eq(e2.signal, 9);
	ck_assert_uint_eq(e2.flags, SM_EXIT_TIMED_OUT);
	ck_assert_int_eq(sm_exit_decode(b.data + 12, b.len - 13, &e2), -1);
	sm_wbuf_free(&b);
	ck_assert_int_eq(sm_error_encode(&b, 0, 71, "bad thing"), 0);
	ck_assert_int_eq(sm_error_decode(b.data + 12, b.len - 12, &err, &msg), 0);
	ck_assert_int_eq(err, 71);
	ck_assert_str_eq(msg, "bad thing");
	free(msg);
	sm_wbuf_free(&b);
}
END_TEST

START_TEST(reader_reassembles_split_frames)
{
	struct sm_wbuf b = { 0 };
	struct frame_reader r = { 0 };
	struct sm_hdr h;
	const uint8_t *p;
	const char *why;
	sm_data_frame(&b, SM_MSG_STDOUT, 5, "hello", 5);
	sm_data_frame(&b, SM_MSG_STDERR, 5, "", 0);
	for (size_t i = 0; i < b.len; i++) { /* one byte at a time */
		ck_assert_int_eq(frame_reader_feed(&r, b.data + i, 1), 0);
		if (i + 1 == 17) {
			ck_assert_int_eq(frame_reader_next(&r, &h, &p, &why), 1);
			ck_assert_uint_eq(h.type, SM_MSG_STDOUT);
			ck_assert_int_eq(memcmp(p, "hello", 5), 0);
		} else if (i + 1 < b.len) {
			ck_assert_int_eq(frame_reader_next(&r, &h, &p, &why), 0);
		}
	}
	ck_assert_int_eq(frame_reader_next(&r, &h, &p, &why), 1);
	ck_assert_uint_eq(h.type, SM_MSG_STDERR);
	ck_assert_uint_eq(frame_reader_pending(&r), 0);
	/* truncated: a header promising more than arrives stays pending */
	frame_reader_feed(&r, b.data, 14);
	ck_assert_int_eq(frame_reader_next(&r, &h, &p, &why), 0);
	ck_assert_uint_eq(frame_reader_pending(&r), 14);
	frame_reader_free(&r);
	/* garbage header */
	frame_reader_feed(&r, "GARBAGE GARBAGE!", 16);
	ck_assert_int_eq(frame_reader_next(&r, &h, &p, &why), -1);
	frame_reader_free(&r);
	sm_wbuf_free(&b);
}
END_TEST

START_TEST(hybrid_lines)
{
	char line[32];
	uint32_t port = 0;
	ck_assert_uint_eq(hv_connect_line(line, sizeof(line), 1024), 13);
	ck_assert_str_eq(line, "CONNECT 1024\n");
	ck_assert_int_eq(hv_parse_reply("OK 1073741824\n", &port), 0);
	ck_assert_uint_eq(port, 1073741824u);
	ck_assert_int_eq(hv_parse_reply("OK 5", &port), 0);
	ck_assert_int_eq(hv_parse_reply("OK \n", &port), -1);
	ck_assert_int_eq(hv_parse_reply("OK 99999999999\n", &port), -1);
	ck_assert_int_eq(hv_parse_reply("ERR refused\n", &port), -1);
	ck_assert_int_eq(hv_parse_reply("OK 12x\n", &port), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_proto");
	TCase *t = tcase_create("proto");
	tcase_add_test(t, exec_round_trip);
	tcase_add_test(t, exec_truncated_payloads);
	tcase_add_test(t, exec_bad_fields);
	tcase_add_test(t, exec_v5_fields);
	tcase_add_test(t, string_with_nul_refused);
	tcase_add_test(t, header_checks);
	tcase_add_test(t, oversized_frame_not_built);
	tcase_add_test(t, small_messages);
	tcase_add_test(t, reader_reassembles_split_frames);
	tcase_add_test(t, hybrid_lines);
	suite_add_tcase(s, t);
	return check_run(s, CK_FORK_GETENV);
}
