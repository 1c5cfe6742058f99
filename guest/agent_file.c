/* agent_file.c - WRITE and READ requests: staging files in and out.
 *
 * WRITE creates/truncates the path with the given mode (applied with
 * fchmod, so the umask does not interfere), then takes DATA frames until
 * an empty one and answers OK (after close) or ERROR. READ answers INFO
 * (mode, size) and streams DATA chunks whenever the connection's output
 * queue has room, ending with an empty DATA. Regular file I/O does not
 * block for long, so it is done synchronously in the loop.
 */
#include "agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fileop *file_add(struct conn *c, uint32_t id, int fd, bool reading)
{
	struct fileop *f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		conn_error(c, id, ENOMEM, "out of memory");
		return NULL;
	}
	f->id = id;
	f->fd = fd;
	f->reading = reading;
	f->next = c->files;
	c->files = f;
	return f;
}

static void file_remove(struct conn *c, struct fileop *f)
{
	for (struct fileop **p = &c->files; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	file_abandon(f);
}

void file_abandon(struct fileop *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

void file_write_start(struct conn *c, uint32_t id, const void *payload, size_t len)
{
	struct sm_rbuf r;
	uint32_t mode = 0;
	char *path = NULL;
	sm_rbuf_init(&r, payload, len);
	sm_get_u32(&r, &mode);
	sm_get_str(&r, &path);
	if (sm_rbuf_done(&r) || !path[0]) {
		conn_error(c, id, EINVAL, "malformed WRITE");
		free(path);
		return;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
	if (fd < 0 || fchmod(fd, mode & 07777)) {
		conn_error(c, id, errno, "open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		file_add(c, id, fd, false);
	}
	free(path);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void file_data(struct conn *c, uint32_t id, const uint8_t *p, size_t n)
{
	struct fileop *f;
	for (f = c->files; f; f = f->next)
		if (f->id == id && !f->reading)
			break;
	if (!f)
		return;
	if (n > 0 && write_all(f->fd, p, n) == 0)
		return;
	if (n == 0) {
		int fd = f->fd;
		f->fd = -1;
		if (close(fd) == 0) {
			conn_send(c, SM_MSG_OK, id, NULL, 0);
			file_remove(c, f);
			return;
		}
	}
	conn_error(c, id, errno, "write: %s", strerror(errno));
	file_remove(c, f);
}

static void send_info(struct conn *c, uint32_t id, const struct stat *st)
{
	size_t fr = sm_frame_begin(&c->out, SM_MSG_INFO, id);
	sm_put_u32(&c->out, st->st_mode & 07777);
	sm_put_u64(&c->out, (uint64_t)st->st_size);
	if (sm_frame_end(&c->out, fr))
		c->dead = true;
}

void file_read_start(struct conn *c, uint32_t id, const void *payload, size_t len)
{
	struct sm_rbuf r;
	char *path = NULL;
	struct stat st;
	sm_rbuf_init(&r, payload, len);
	sm_get_str(&r, &path);
	if (sm_rbuf_done(&r) || !path[0]) {
		conn_error(c, id, EINVAL, "malformed READ");
		free(path);
		return;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || S_ISDIR(st.st_mode)) {
		int err = fd < 0 || !S_ISDIR(st.st_mode) ? errno : EISDIR;
		conn_error(c, id, err, "open %s: %s", path, strerror(err));
		if (fd >= 0)
			close(fd);
	} else if (file_add(c, id, fd, true)) {
		send_info(c, id, &st);
	}
	free(path);
}

void file_pump(struct conn *c)
{
	uint8_t buf[SM_AGENT_DATA_CHUNK];
	struct fileop *f = c->files, *next;
	for (; f && !c->dead; f = next) {
		next = f->next;
		if (!f->reading)
			continue;
		while (!conn_congested(c)) {
			ssize_t n = read(f->fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				conn_error(c, f->id, errno, "read: %s", strerror(errno));
			else
				conn_send(c, SM_MSG_DATA, f->id, buf, (size_t)n);
			if (n <= 0) {
				file_remove(c, f);
				break;
			}
		}
	}
}
