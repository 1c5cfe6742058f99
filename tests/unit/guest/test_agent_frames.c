/* test_agent_frames.c - the agent answers bad input with ERROR and closes
 * only that connection: garbage, an oversized header, a truncated frame, a
 * wrong first message or protocol version, a message only the guest may
 * send. After each, a fresh connection still pings. A version-1 host is
 * still served (SYNC, new in version 2, is refused on its connection).
 * Runs natively and in the VM like test_agent_exec.c. */
#include "agent_target.h"

#include <check.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../check_main.h"

/* Reads until EOF (or 10 s); returns bytes read into buf. */
static size_t read_all(int fd, uint8_t *buf, size_t size)
{
	size_t n = 0;
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ck_assert_msg(poll(&pf, 1, 10000) == 1, "agent did not close the connection");
		ssize_t r = read(fd, buf + n, size - n);
		if (r <= 0)
			return n;
		n += (size_t)r;
		ck_assert_uint_lt(n, size);
	}
}

static void send_hello(int fd, uint32_t version)
{
	struct sm_wbuf b = { 0 };
	struct sm_hello h = { .version = version, .max_payload = SM_AGENT_MAX_PAYLOAD };
	sm_hello_encode(&b, &h, false);
	ck_assert_int_eq(write(fd, b.data, b.len), (ssize_t)b.len);
	sm_wbuf_free(&b);
}

/* Expects (after an optional HELLO reply) one ERROR with id 0 mentioning
 * `want`, then EOF. */
static void expect_error_close(int fd, bool hello_first, const char *want)
{
	uint8_t buf[4096];
	size_t n = read_all(fd, buf, sizeof(buf)), off = 0;
	struct sm_hdr h;
	const char *why;
	if (hello_first) {
		ck_assert_uint_ge(n, 12);
		ck_assert_int_eq(sm_hdr_decode(buf, &h, &why), 0);
		ck_assert_uint_eq(h.type, SM_MSG_HELLO);
		off = 12 + h.len;
	}
	ck_assert_uint_ge(n - off, 12);
	ck_assert_int_eq(sm_hdr_decode(buf + off, &h, &why), 0);
	ck_assert_uint_eq(h.type, SM_MSG_ERROR);
	ck_assert_uint_eq(h.id, 0);
	ck_assert_uint_eq(n - off, 12 + h.len); /* nothing after the ERROR */
	int32_t err;
	char *msg;
	ck_assert_int_eq(sm_error_decode(buf + off + 12, h.len, &err, &msg), 0);
	ck_assert_msg(strstr(msg, want), "error '%s' lacks '%s'", msg, want);
	free(msg);
	close(fd);
	/* the agent still serves others */
	struct agent_client *c = target_connect();
	ck_assert_int_eq(agent_client_ping(c, 10000), 0);
	agent_client_close(c);
}

START_TEST(garbage)
{
	int fd = target_connect_raw();
	ck_assert_int_eq(write(fd, "GET / HTTP/1.1\r\n\r\n", 18), 18);
	expect_error_close(fd, false, "");
}
END_TEST

START_TEST(oversized_header)
{
	int fd = target_connect_raw();
	uint8_t raw[12];
	struct sm_hdr h = { .len = SM_AGENT_MAX_PAYLOAD + 1, .type = SM_MSG_HELLO };
	sm_hdr_encode(raw, &h);
	ck_assert_int_eq(write(fd, raw, 12), 12);
	expect_error_close(fd, false, "oversized");
}
END_TEST

START_TEST(truncated_frame)
{
	int fd = target_connect_raw();
	send_hello(fd, SM_AGENT_VERSION);
	uint8_t raw[20];
	struct sm_hdr h = { .len = 100, .type = SM_MSG_EXEC, .id = 1 };
	sm_hdr_encode(raw, &h);
	memset(raw + 12, 'x', 8);
	ck_assert_int_eq(write(fd, raw, 20), 20);
	shutdown(fd, SHUT_WR);
	expect_error_close(fd, true, "truncated");
}
END_TEST

START_TEST(first_message_not_hello)
{
	int fd = target_connect_raw();
	struct sm_wbuf b = { 0 };
	sm_data_frame(&b, SM_MSG_PING, 1, NULL, 0);
	ck_assert_int_eq(write(fd, b.data, b.len), (ssize_t)b.len);
	sm_wbuf_free(&b);
	expect_error_close(fd, false, "HELLO");
}
END_TEST

START_TEST(wrong_version)
{
	int fd = target_connect_raw();
	send_hello(fd, 99);
	expect_error_close(fd, false, "version 99");
}
END_TEST

/* Reads one whole frame (10 s at most) into buf; returns its header. */
static struct sm_hdr read_frame(int fd, uint8_t *buf, size_t size)
{
	size_t n = 0;
	struct sm_hdr h = { 0 };
	const char *why;
	while (n < 12 || n < 12 + h.len) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ck_assert_msg(poll(&pf, 1, 10000) == 1, "no frame from the agent");
		ssize_t r = read(fd, buf + n, (n < 12 ? 12 : 12 + h.len) - n);
		ck_assert_int_gt(r, 0);
		n += (size_t)r;
		if (n == 12)
			ck_assert_int_eq(sm_hdr_decode(buf, &h, &why), 0);
		ck_assert_uint_le(12 + h.len, size);
	}
	return h;
}

START_TEST(version_1_host)
{
	int fd = target_connect_raw();
	uint8_t buf[4096];
	struct sm_hello hello;
	struct sm_wbuf b = { 0 };
	struct sm_sync_req req = { .sec = 1 };
	send_hello(fd, 1);
	struct sm_hdr h = read_frame(fd, buf, sizeof(buf));
	ck_assert_uint_eq(h.type, SM_MSG_HELLO);
	ck_assert_int_eq(sm_hello_decode(buf + 12, h.len, &hello, true), 0);
	ck_assert_uint_eq(hello.version, 1);
	free(hello.name);
	sm_sync_req_encode(&b, 7, &req);
	sm_data_frame(&b, SM_MSG_PING, 8, NULL, 0);
	ck_assert_int_eq(write(fd, b.data, b.len), (ssize_t)b.len);
	sm_wbuf_free(&b);
	h = read_frame(fd, buf, sizeof(buf));
	ck_assert_uint_eq(h.type, SM_MSG_ERROR);
	ck_assert_uint_eq(h.id, 7);
	int32_t err;
	char *msg;
	ck_assert_int_eq(sm_error_decode(buf + 12, h.len, &err, &msg), 0);
	ck_assert_msg(strstr(msg, "SYNC needs protocol version 2"), "%s", msg);
	free(msg);
	h = read_frame(fd, buf, sizeof(buf)); /* the connection still serves */
	ck_assert_uint_eq(h.type, SM_MSG_PONG);
	ck_assert_uint_eq(h.id, 8);
	close(fd);
}
END_TEST

START_TEST(guest_only_message)
{
	int fd = target_connect_raw();
	struct sm_wbuf b = { 0 };
	send_hello(fd, SM_AGENT_VERSION);
	sm_data_frame(&b, SM_MSG_STDOUT, 1, "x", 1);
	ck_assert_int_eq(write(fd, b.data, b.len), (ssize_t)b.len);
	sm_wbuf_free(&b);
	expect_error_close(fd, true, "unexpected STDOUT");
}
END_TEST

START_TEST(bad_exec_keeps_connection)
{
	struct agent_client *c = target_connect();
	struct agent_exec_spec spec = { .argv = (const char *const[]){ "true", NULL },
					.cwd = "/no/such/dir", .stdin_fd = -1 };
	struct agent_exec_io io = { 0 };
	struct agent_exec_result res;
	ck_assert_int_eq(agent_client_exec(c, &spec, &io, &res), -1);
	ck_assert_msg(strstr(agent_client_error(c), "chdir /no/such/dir"), "%s",
		      agent_client_error(c));
	ck_assert_int_eq(agent_client_ping(c, 10000), 0);
	agent_client_close(c);
}
END_TEST

int main(void)
{
	target_setup();
	Suite *s = suite_create("agent_frames");
	TCase *t = tcase_create("frames");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, garbage);
	tcase_add_test(t, oversized_header);
	tcase_add_test(t, truncated_frame);
	tcase_add_test(t, first_message_not_hello);
	tcase_add_test(t, wrong_version);
	tcase_add_test(t, version_1_host);
	tcase_add_test(t, guest_only_message);
	tcase_add_test(t, bad_exec_keeps_connection);
	suite_add_tcase(s, t);
	int rc = check_run(s, CK_FORK_GETENV);
	target_teardown();
	return rc;
}
