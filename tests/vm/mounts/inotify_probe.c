/* inotify_probe.c - what a watcher in the guest sees: inotify on one
 * folder, one line per event on stdout (or appended to OUTFILE, one
 * write(2) per line: a file in another shared folder lets the host read
 * the events without the exec stream's delays), at once:
 *
 *     MASK[,MASK...] NAME COOKIE MS
 *
 * (MASK as in inotify(7) without the IN_ prefix: CREATE, MODIFY, ATTRIB,
 * CLOSE_WRITE, DELETE, MOVED_FROM, MOVED_TO, DELETE_SELF, MOVE_SELF, ISDIR,
 * Q_OVERFLOW; NAME "." for the folder itself; MS the guest's
 * CLOCK_REALTIME in milliseconds when it read the event). "ready" comes
 * first, once
 * the watch is in place. Static: the busybox image has no libc, and no
 * inotifyd (Debian's busybox-static lacks it). tests/vm/mounts copies it
 * into the guest. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static const struct {
	unsigned bit;
	const char *name;
} masks[] = {
	{ IN_CREATE, "CREATE" }, { IN_MODIFY, "MODIFY" }, { IN_ATTRIB, "ATTRIB" },
	{ IN_CLOSE_WRITE, "CLOSE_WRITE" }, { IN_DELETE, "DELETE" },
	{ IN_MOVED_FROM, "MOVED_FROM" }, { IN_MOVED_TO, "MOVED_TO" },
	{ IN_DELETE_SELF, "DELETE_SELF" }, { IN_MOVE_SELF, "MOVE_SELF" },
	{ IN_ISDIR, "ISDIR" }, { IN_Q_OVERFLOW, "Q_OVERFLOW" }, { IN_IGNORED, "IGNORED" },
};

static void print_event(int out, const struct inotify_event *ev, long long ms)
{
	char line[512];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++)
		if (ev->mask & masks[i].bit)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", n ? "," : "",
					      masks[i].name);
	n += (size_t)snprintf(line + n, sizeof(line) - n, " %s %u %lld\n",
			      ev->len ? ev->name : ".", ev->cookie, ms);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (write(out, line, n) != (ssize_t)n)
		_exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: inotify-probe FOLDER [OUTFILE]\n");
		return 2;
	}
	int out = argc == 3 ? open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : 1;
	if (out < 0) {
		perror(argv[2]);
		return 1;
	}
	int fd = inotify_init1(IN_CLOEXEC);
	unsigned want = IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE |
			IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;
	if (fd < 0 || inotify_add_watch(fd, argv[1], want) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (write(out, "ready\n", 6) != 6)
		return 1;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		long long ms = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			print_event(out, ev, ms);
			p += sizeof(*ev) + ev->len;
		}
	}
}
