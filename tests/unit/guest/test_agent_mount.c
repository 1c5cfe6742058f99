/* test_agent_mount.c - the shared-folder requests. MOUNT_FS (protocol
 * version 3): its coding (round
 * trip, every truncation, trailing bytes), the rules on tags, paths and
 * flags (refused by the host's encoder as by the agent's decoder), bad
 * requests sent raw to the agent (relative path, "..", unknown flag, a
 * 37-byte tag, a version-2 connection) answered ERROR with the request's
 * id while the connection lives on, agent_client_mount_fs() against the
 * agent served natively (agent-unix's hook records instead of mounting),
 * and a host whose agent is older: connect falls back to version 2 and
 * mount_fs fails saying so. The raw checks also run against the agent in
 * a VM (tests/vm/fs sets SM_AGENT_TARGET); the real mount is tested
 * there. FS_EVENTS (version 4): coding, the path rules (leading, doubled
 * and trailing '/', '.' and '..', only renames have two paths, only
 * modify/attrib/rescan name the root), raw bad requests and a version-3
 * connection answered ERROR, and agent_client_fs_events() against
 * agent-unix (records reach its hook in order; ENOTSUP comes back as is).
 * Raising the events is tested in a VM (tests/vm/mounts). */
#include "agent_target.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "../check_main.h"

START_TEST(round_trip)
{
	struct sm_wbuf b = { 0 };
	struct sm_mount_req in = { .tag = "sm0", .path = "/srv/a/b", .flags = SM_MOUNT_READONLY };
	struct sm_mount_req out;
	struct sm_hdr h;
	const char *why = NULL;
	ck_assert_int_eq(sm_mount_req_encode(&b, 9, &in), 0);
	ck_assert_int_eq(sm_hdr_decode(b.data, &h, &why), 0);
	ck_assert_uint_eq(h.type, SM_MSG_MOUNT_FS);
	ck_assert_uint_eq(h.type, 50);
	ck_assert_str_eq(sm_msg_type_name(h.type), "MOUNT_FS");
	ck_assert_uint_eq(h.id, 9);
	ck_assert_uint_eq(h.len, 4 + 3 + 4 + 8 + 4);
	ck_assert_int_eq(sm_mount_req_decode(b.data + 12, h.len, &out, &why), 0);
	ck_assert_str_eq(out.tag, "sm0");
	ck_assert_str_eq(out.path, "/srv/a/b");
	ck_assert_uint_eq(out.flags, SM_MOUNT_READONLY);
	sm_mount_req_free(&out);
	ck_assert_ptr_null(out.tag);
	/* every truncation and a trailing byte are malformed */
	for (size_t n = 0; n < h.len; n++) {
		ck_assert_int_eq(sm_mount_req_decode(b.data + 12, n, &out, &why), -1);
		ck_assert_str_eq(why, "malformed MOUNT_FS");
		sm_mount_req_free(&out);
	}
	sm_put_bytes(&b, "x", 1);
	ck_assert_int_eq(sm_mount_req_decode(b.data + 12, h.len + 1, &out, &why), -1);
	ck_assert_str_eq(why, "malformed MOUNT_FS");
	ck_assert_str_eq(out.path, "/srv/a/b"); /* kept for the error message */
	sm_mount_req_free(&out);
	sm_wbuf_free(&b);
}
END_TEST

/* The payload a hostile host could send. */
static int decode_raw(const char *tag, const char *path, uint32_t flags, const char **why)
{
	struct sm_wbuf b = { 0 };
	struct sm_mount_req out;
	sm_put_str(&b, tag);
	sm_put_str(&b, path);
	sm_put_u32(&b, flags);
	int rc = sm_mount_req_decode(b.data, b.len, &out, why);
	sm_mount_req_free(&out);
	sm_wbuf_free(&b);
	return rc;
}

START_TEST(rules)
{
	const char *why;
	static char tag37[38], tag36[37], name256[300], longpath[SM_MOUNT_PATH_MAX + 2];
	memset(tag37, 't', 37);
	memcpy(tag36, tag37, 36);
	name256[0] = '/';
	memset(name256 + 1, 'n', 256);
	for (size_t i = 0; i < SM_MOUNT_PATH_MAX; i += 2)
		memcpy(longpath + i, "/x", 2);
	const char *bad_tags[] = { "", tag37, "a b", "a\tb", "t\x7f", "\xc3\xa4" };
	for (size_t i = 0; i < sizeof(bad_tags) / sizeof(bad_tags[0]); i++) {
		ck_assert_ptr_nonnull(sm_mount_tag_check(bad_tags[i]));
		ck_assert_int_eq(decode_raw(bad_tags[i], "/mnt", 0, &why), -1);
		ck_assert_msg(!strncmp(why, "tag ", 4), "%s", why);
	}
	const char *bad_paths[] = { "", "mnt", "./mnt", "/", "//", "/a/../b", "/a/..", "/./a",
				    "/a/.", "/a\nb", name256, longpath };
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		ck_assert_msg(sm_mount_path_check(bad_paths[i]), "'%s' passed", bad_paths[i]);
		ck_assert_int_eq(decode_raw("sm0", bad_paths[i], 0, &why), -1);
		ck_assert_msg(!strncmp(why, "path ", 5), "%s", why);
	}
	ck_assert_ptr_null(sm_mount_tag_check(tag36));
	ck_assert_ptr_null(sm_mount_tag_check("sm0"));
	ck_assert_ptr_null(sm_mount_tag_check("a-b_c.d:1"));
	const char *good[] = { "/app", "/srv/a/b", "/a//b/", "/..a/.b/...", "/with space" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(!sm_mount_path_check(good[i]), "'%s' refused", good[i]);
		ck_assert_int_eq(decode_raw("sm0", good[i], SM_MOUNT_READONLY, &why), 0);
	}
	name256[256] = 0; /* a 255-byte name is the limit */
	ck_assert_ptr_null(sm_mount_path_check(name256));
	longpath[SM_MOUNT_PATH_MAX - 1] = 0; /* 4095 bytes is the limit */
	ck_assert_ptr_null(sm_mount_path_check(longpath));
	ck_assert_int_eq(decode_raw("sm0", "/mnt", 0x2, &why), -1);
	ck_assert_str_eq(why, "unknown MOUNT_FS flags");
	ck_assert_int_eq(decode_raw("sm0", "/mnt", 0x80000001u, &why), -1);
	/* the encoder refuses what the decoder would, queueing nothing */
	struct sm_wbuf b = { 0 };
	struct sm_mount_req r = { .tag = "sm0", .path = "rel" };
	ck_assert_int_eq(sm_mount_req_encode(&b, 1, &r), -1);
	r = (struct sm_mount_req){ .tag = tag37, .path = "/mnt" };
	ck_assert_int_eq(sm_mount_req_encode(&b, 1, &r), -1);
	r = (struct sm_mount_req){ .tag = "sm0", .path = "/mnt", .flags = 4 };
	ck_assert_int_eq(sm_mount_req_encode(&b, 1, &r), -1);
	r = (struct sm_mount_req){ .tag = NULL, .path = "/mnt" };
	ck_assert_int_eq(sm_mount_req_encode(&b, 1, &r), -1);
	ck_assert_uint_eq(b.len, 0);
	sm_wbuf_free(&b);
}
END_TEST

/* ---- raw requests to the agent ---- */

static void send_buf(int fd, struct sm_wbuf *b)
{
	ck_assert(!b->err);
	ck_assert_int_eq(write(fd, b->data, b->len), (ssize_t)b->len);
	sm_wbuf_free(b);
}

/* Reads exactly one frame (10 s at most); returns its payload (malloc). */
static uint8_t *read_frame(int fd, struct sm_hdr *h)
{
	uint8_t hdr[SM_AGENT_HDR_SIZE], *p;
	size_t n = 0;
	const char *why;
	while (n < sizeof(hdr)) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ck_assert_msg(poll(&pf, 1, 10000) == 1, "no reply from the agent");
		ssize_t r = read(fd, hdr + n, sizeof(hdr) - n);
		ck_assert_int_gt(r, 0);
		n += (size_t)r;
	}
	ck_assert_int_eq(sm_hdr_decode(hdr, h, &why), 0);
	p = malloc(h->len + 1);
	for (n = 0; n < h->len;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ck_assert_int_eq(poll(&pf, 1, 10000), 1);
		ssize_t r = read(fd, p + n, h->len - n);
		ck_assert_int_gt(r, 0);
		n += (size_t)r;
	}
	return p;
}

static int raw_hello(uint32_t version)
{
	int fd = target_connect_raw();
	struct sm_wbuf b = { 0 };
	struct sm_hello hello = { .version = version, .max_payload = SM_AGENT_MAX_PAYLOAD };
	struct sm_hdr h;
	sm_hello_encode(&b, &hello, false);
	send_buf(fd, &b);
	free(read_frame(fd, &h));
	ck_assert_uint_eq(h.type, SM_MSG_HELLO);
	return fd;
}

/* Sends MOUNT_FS (tag, path, flags) as given; expects ERROR for id with
 * errno `want` and a message containing `text`. */
static void expect_refused(int fd, uint32_t id, const char *tag, const char *path,
			   uint32_t flags, int want, const char *text)
{
	struct sm_wbuf b = { 0 };
	struct sm_hdr h;
	int32_t e;
	char *msg;
	size_t f = sm_frame_begin(&b, SM_MSG_MOUNT_FS, id);
	sm_put_str(&b, tag);
	sm_put_str(&b, path);
	sm_put_u32(&b, flags);
	ck_assert_int_eq(sm_frame_end(&b, f), 0);
	send_buf(fd, &b);
	uint8_t *p = read_frame(fd, &h);
	ck_assert_msg(h.type == SM_MSG_ERROR, "%s %s %#x: got %s", tag, path, flags,
		      sm_msg_type_name(h.type));
	ck_assert_uint_eq(h.id, id);
	ck_assert_int_eq(sm_error_decode(p, h.len, &e, &msg), 0);
	ck_assert_msg(e == want && strstr(msg, text), "%s %s %#x: errno %d '%s'", tag, path,
		      flags, e, msg);
	free(msg);
	free(p);
}

START_TEST(raw_bad_requests)
{
	int fd = raw_hello(3);
	expect_refused(fd, 1, "sm0", "srv/rel", 0, EINVAL, "mount srv/rel: path is not absolute");
	expect_refused(fd, 2, "sm0", "/srv/../etc", 0, EINVAL, "/srv/../etc: path has a '.' or '..'");
	expect_refused(fd, 3, "sm0", "/srv/x", 0x2, EINVAL, "/srv/x: unknown MOUNT_FS flags");
	expect_refused(fd, 4, "0123456789012345678901234567890123456", "/srv/x", 0, EINVAL,
		       "tag is not 1-36 bytes");
	expect_refused(fd, 5, "sm0", "/", 0, EINVAL, "path is the root");
	/* the connection lives on */
	struct sm_wbuf b = { 0 };
	struct sm_hdr h;
	sm_data_frame(&b, SM_MSG_PING, 6, NULL, 0);
	send_buf(fd, &b);
	free(read_frame(fd, &h));
	ck_assert_uint_eq(h.type, SM_MSG_PONG);
	ck_assert_uint_eq(h.id, 6);
	close(fd);
	/* a version-2 connection: MOUNT_FS is not part of it */
	fd = raw_hello(2);
	expect_refused(fd, 1, "sm0", "/srv/x", 0, EPROTO, "MOUNT_FS needs protocol version 3");
	close(fd);
}
END_TEST

/* ---- the client against agent-unix ---- */

static void last_mount(char *line, size_t size)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/agent.sock.mount", target_tmp());
	FILE *f = fopen(path, "r");
	ck_assert_msg(f, "%s: the agent's hook never ran", path);
	line[0] = 0;
	while (fgets(line, (int)size, f))
		;
	fclose(f);
}

START_TEST(client_mount)
{
	struct agent_client *c = target_connect();
	char line[512];
	ck_assert_uint_eq(agent_client_hello(c)->version, SM_AGENT_VERSION);
	ck_assert_msg(agent_client_mount_fs(c, "sm0", "/srv/a/b", false, 10000) == 0, "%s",
		      agent_client_error(c));
	last_mount(line, sizeof(line));
	ck_assert_str_eq(line, "sm0 /srv/a/b 0\n");
	ck_assert_msg(agent_client_mount_fs(c, "sm1", "/ro", true, 10000) == 0, "%s",
		      agent_client_error(c));
	last_mount(line, sizeof(line));
	ck_assert_str_eq(line, "sm1 /ro 1\n");
	/* the agent's errno and message */
	errno = 0;
	ck_assert_int_eq(agent_client_mount_fs(c, "busy", "/srv/a/b", false, 10000), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_str_eq(agent_client_error(c), "mount_fs: mount /srv/a/b: busy is already mounted there");
	/* refused before sending */
	ck_assert_int_eq(agent_client_mount_fs(c, "sm0", "rel/x", false, 10000), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(agent_client_error(c), "mount_fs: rel/x (tag sm0): path is not absolute");
	ck_assert_int_eq(agent_client_mount_fs(c, "", "/x", false, 10000), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_nonnull(strstr(agent_client_error(c), "tag is not 1-36 bytes"));
	last_mount(line, sizeof(line));
	ck_assert_str_eq(line, "sm1 /ro 1\n"); /* nothing reached the hook */
	ck_assert_int_eq(agent_client_ping(c, 10000), 0);
	agent_client_close(c);
}
END_TEST

/* ---- an older agent: speaks 1..2, refuses 3 as such an agent does ---- */

struct old_agent {
	int lfd;
	int conns;
};

static void *old_agent_main(void *arg)
{
	struct old_agent *o = arg;
	for (;;) {
		int fd = accept(o->lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		o->conns++;
		char line[64];
		size_t n = 0;
		while (n + 1 < sizeof(line) && read(fd, line + n, 1) == 1 && line[n++] != '\n')
			;
		ck_assert_int_eq(write(fd, "OK 1\n", 5), 5);
		struct sm_hdr h;
		struct sm_hello in, out = { .max_payload = SM_AGENT_MAX_PAYLOAD, .cpus = 1,
					    .mem_kib = 1, .name = "old" };
		struct sm_wbuf b = { 0 };
		uint8_t *p = read_frame(fd, &h);
		ck_assert_int_eq(sm_hello_decode(p, h.len, &in, false), 0);
		free(p);
		if (in.version > 2) {
			char msg[80];
			snprintf(msg, sizeof(msg), "unsupported protocol version %u (agent speaks 1..2)",
				 in.version);
			sm_error_encode(&b, 0, EPROTONOSUPPORT, msg);
			send_buf(fd, &b);
			close(fd);
			continue;
		}
		out.version = in.version;
		sm_hello_encode(&b, &out, true);
		send_buf(fd, &b);
		char sink[256]; /* the client closes without a request */
		while (read(fd, sink, sizeof(sink)) > 0)
			;
		close(fd);
		return NULL;
	}
}

START_TEST(older_agent)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct old_agent o = { 0 };
	pthread_t t;
	char err[256];
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/sm-oldagent.%d", getpid());
	unlink(sa.sun_path);
	o.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(o.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(o.lfd, 4), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, old_agent_main, &o), 0);
	struct agent_client *c = agent_client_connect(sa.sun_path, SM_AGENT_PORT, 10000, err,
						      sizeof(err));
	ck_assert_msg(c, "%s", err);
	ck_assert_uint_eq(agent_client_hello(c)->version, 2);
	/* SM_AGENT_VERSION down to 3 refused, then 2, each on a new connection */
	ck_assert_int_eq(o.conns, SM_AGENT_VERSION - 1);
	errno = 0;
	ck_assert_int_eq(agent_client_mount_fs(c, "sm0", "/srv/a", false, 10000), -1);
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
	ck_assert_str_eq(agent_client_error(c),
			 "mount_fs: /srv/a: the guest agent speaks protocol version 2, MOUNT_FS "
			 "needs 3 (an older guest image or snapshot)");
	agent_client_close(c);
	pthread_join(t, NULL);
	close(o.lfd);
	unlink(sa.sun_path);
}
END_TEST


/* ---- FS_EVENTS ---- */

START_TEST(fsev_round_trip)
{
	struct sm_wbuf b = { 0 };
	struct sm_fsev ev[] = {
		{ .kind = SM_FSEV_CREATE, .flags = SM_FSEV_DIR, .path = "a/b", .path2 = "" },
		{ .kind = SM_FSEV_RENAME, .path = "x", .path2 = "d/y" },
		{ .kind = SM_FSEV_RESCAN, .path = "", .path2 = "" },
	};
	struct sm_fsev_req in = { .root = "/app", .n = 3, .ev = ev }, out;
	struct sm_hdr h;
	const char *why;
	ck_assert_int_eq(sm_fsev_req_encode(&b, 7, &in), 0);
	ck_assert_int_eq(sm_hdr_decode(b.data, &h, &why), 0);
	ck_assert_uint_eq(h.type, 51);
	ck_assert_str_eq(sm_msg_type_name(h.type), "FS_EVENTS");
	ck_assert_int_eq(sm_fsev_req_decode(b.data + 12, h.len, &out, &why), 0);
	ck_assert_str_eq(out.root, "/app");
	ck_assert_uint_eq(out.n, 3);
	ck_assert_uint_eq(out.ev[0].flags, SM_FSEV_DIR);
	ck_assert_str_eq(out.ev[1].path2, "d/y");
	ck_assert_uint_eq(out.ev[2].kind, SM_FSEV_RESCAN);
	sm_fsev_req_free(&out);
	for (size_t n = 0; n < h.len; n++) {
		ck_assert_int_eq(sm_fsev_req_decode(b.data + 12, n, &out, &why), -1);
		sm_fsev_req_free(&out);
	}
	sm_put_bytes(&b, "x", 1);
	ck_assert_int_eq(sm_fsev_req_decode(b.data + 12, h.len + 1, &out, &why), -1);
	ck_assert_str_eq(why, "malformed FS_EVENTS");
	sm_fsev_req_free(&out);
	sm_wbuf_free(&b);
}
END_TEST

/* One record as a hostile host could send it: 0, or -1 with why. */
static int fsev_raw(const char *root, uint32_t n, uint32_t kind, uint32_t flags,
		    const char *path, const char *path2, const char **why)
{
	struct sm_wbuf b = { 0 };
	struct sm_fsev_req out;
	sm_put_str(&b, root);
	sm_put_u32(&b, n);
	sm_put_u32(&b, kind);
	sm_put_u32(&b, flags);
	sm_put_str(&b, path);
	sm_put_str(&b, path2);
	int rc = sm_fsev_req_decode(b.data, b.len, &out, why);
	sm_fsev_req_free(&out);
	sm_wbuf_free(&b);
	return rc;
}

START_TEST(fsev_rules)
{
	const char *why;
	static char longname[300];
	memset(longname, 'n', 256);
	const char *bad[] = { "/a", "a/", "a//b", "..", "a/../b", ".", "a/.", longname };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(sm_fsev_relpath_check("/app", bad[i]), "'%s' passed", bad[i]);
		ck_assert_int_eq(fsev_raw("/app", 1, SM_FSEV_MODIFY, 0, bad[i], "", &why), -1);
		ck_assert_msg(!strncmp(why, "path ", 5), "%s", why);
	}
	const char *good[] = { "", "a", "a/b c/.d", "...", "new\nline" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_int_eq(fsev_raw("/app", 1, SM_FSEV_MODIFY, 0, good[i], "", &why), 0);
	ck_assert_int_eq(fsev_raw("app", 1, SM_FSEV_MODIFY, 0, "a", "", &why), -1);
	ck_assert_str_eq(why, "path is not absolute");
	ck_assert_int_eq(fsev_raw("/app", 0, SM_FSEV_MODIFY, 0, "a", "", &why), -1);
	ck_assert_int_eq(fsev_raw("/app", SM_FSEV_MAX + 1, SM_FSEV_MODIFY, 0, "a", "", &why), -1);
	ck_assert_str_eq(why, "FS_EVENTS holds no record or too many");
	ck_assert_int_eq(fsev_raw("/app", 1, 0, 0, "a", "", &why), -1);
	ck_assert_int_eq(fsev_raw("/app", 1, SM_FSEV_RESCAN + 1, 0, "a", "", &why), -1);
	ck_assert_str_eq(why, "unknown FS_EVENTS kind");
	ck_assert_int_eq(fsev_raw("/app", 1, SM_FSEV_CREATE, 2, "a", "", &why), -1);
	ck_assert_str_eq(why, "unknown FS_EVENTS flags");
	ck_assert_int_eq(fsev_raw("/app", 1, SM_FSEV_RENAME, 0, "a", "", &why), -1);
	ck_assert_int_eq(fsev_raw("/app", 1, SM_FSEV_DELETE, 0, "a", "b", &why), -1);
	ck_assert_str_eq(why, "only a rename has a second path");
	ck_assert_int_eq(fsev_raw("/app", 1, SM_FSEV_RENAME, 0, "a", "../b", &why), -1);
	ck_assert_int_eq(fsev_raw("/app", 1, SM_FSEV_CREATE, 0, "", "", &why), -1);
	ck_assert_str_eq(why, "a create, delete or rename names the mount root");
	/* the encoder refuses what the decoder would, queueing nothing */
	struct sm_wbuf b = { 0 };
	struct sm_fsev ev = { .kind = SM_FSEV_DELETE, .path = "", .path2 = "" };
	struct sm_fsev_req r = { .root = "/app", .n = 1, .ev = &ev };
	ck_assert_int_eq(sm_fsev_req_encode(&b, 1, &r), -1);
	ev.path = "ok";
	r.n = 0;
	ck_assert_int_eq(sm_fsev_req_encode(&b, 1, &r), -1);
	ck_assert_uint_eq(b.len, 0);
	sm_wbuf_free(&b);
}
END_TEST

/* Sends FS_EVENTS (one MODIFY of path under root); expects ERROR for id
 * with errno want and a message containing text. */
static void fsev_refused(int fd, uint32_t id, const char *root, const char *path, int want,
			 const char *text)
{
	struct sm_wbuf b = { 0 };
	struct sm_hdr h;
	int32_t e;
	char *msg;
	size_t f = sm_frame_begin(&b, SM_MSG_FS_EVENTS, id);
	sm_put_str(&b, root);
	sm_put_u32(&b, 1);
	sm_put_u32(&b, SM_FSEV_MODIFY);
	sm_put_u32(&b, 0);
	sm_put_str(&b, path);
	sm_put_str(&b, "");
	ck_assert_int_eq(sm_frame_end(&b, f), 0);
	send_buf(fd, &b);
	uint8_t *p = read_frame(fd, &h);
	ck_assert_uint_eq(h.type, SM_MSG_ERROR);
	ck_assert_uint_eq(h.id, id);
	ck_assert_int_eq(sm_error_decode(p, h.len, &e, &msg), 0);
	ck_assert_msg(e == want && strstr(msg, text), "%s %s: errno %d '%s'", root, path, e, msg);
	free(msg);
	free(p);
}

START_TEST(fsev_raw_bad_requests)
{
	int fd = raw_hello(4);
	fsev_refused(fd, 1, "/app", "../etc/passwd", EINVAL, "path has a '.' or '..'");
	fsev_refused(fd, 2, "rel", "x", EINVAL, "FS_EVENTS for rel: path is not absolute");
	fsev_refused(fd, 3, "/app", "/etc", EINVAL, "path has an empty component");
	close(fd);
	fd = raw_hello(3);
	fsev_refused(fd, 1, "/app", "x", EPROTO, "FS_EVENTS needs protocol version 4");
	close(fd);
}
END_TEST

static void fsev_lines(char *out, size_t size)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/agent.sock.fsev", target_tmp());
	FILE *f = fopen(path, "r");
	ck_assert_msg(f, "%s: the agent's hook never ran", path);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = 0;
	fclose(f);
}

START_TEST(client_fs_events)
{
	struct agent_client *c = target_connect();
	char lines[1024];
	struct sm_fsev ev[] = {
		{ .kind = SM_FSEV_CREATE, .flags = SM_FSEV_DIR, .path = "d", .path2 = "" },
		{ .kind = SM_FSEV_RENAME, .path = "a", .path2 = "d/b" },
		{ .kind = SM_FSEV_MODIFY, .path = "", .path2 = "" },
	};
	struct sm_fsev_req req = { .root = "/srv/app", .n = 3, .ev = ev };
	ck_assert_msg(agent_client_fs_events(c, &req, 10000) == 0, "%s", agent_client_error(c));
	fsev_lines(lines, sizeof(lines));
	ck_assert_str_eq(lines, "/srv/app 1 1 d\n/srv/app 5 0 a d/b\n/srv/app 2 0 \n");
	req.root = "/nokernel";
	errno = 0;
	ck_assert_int_eq(agent_client_fs_events(c, &req, 10000), -1);
	ck_assert_int_eq(errno, ENOTSUP);
	ck_assert_ptr_nonnull(strstr(agent_client_error(c), "/proc/sm-fsnotify"));
	ev[0].path = "../x";   /* refused before sending */
	req.root = "/srv/app";
	ck_assert_int_eq(agent_client_fs_events(c, &req, 10000), -1);
	ck_assert_int_eq(errno, EINVAL);
	fsev_lines(lines, sizeof(lines));
	ck_assert_str_eq(lines, "/srv/app 1 1 d\n/srv/app 5 0 a d/b\n/srv/app 2 0 \n");
	ck_assert_int_eq(agent_client_ping(c, 10000), 0);
	agent_client_close(c);
}
END_TEST

int main(void)
{
	target_setup();
	Suite *s = suite_create("agent_mount");
	TCase *t = tcase_create("mount");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, round_trip);
	tcase_add_test(t, rules);
	tcase_add_test(t, raw_bad_requests);
	tcase_add_test(t, fsev_round_trip);
	tcase_add_test(t, fsev_rules);
	tcase_add_test(t, fsev_raw_bad_requests);
	if (!target_is_vm()) { /* in a VM these would mount: tests/vm/fs does */
		tcase_add_test(t, client_mount);
		tcase_add_test(t, client_fs_events);
		tcase_add_test(t, older_agent);
	}
	suite_add_tcase(s, t);
	int rc = check_run(s, CK_FORK_GETENV);
	target_teardown();
	return rc;
}
