/* inotify_probe.c - what a watcher in the guest sees: inotify on one
 * folder, one line per event on stdout, flushed at once:
 *
 *     MASK[,MASK...] NAME COOKIE
 *
 * (MASK as in inotify(7) without the IN_ prefix: CREATE, MODIFY, ATTRIB,
 * CLOSE_WRITE, DELETE, MOVED_FROM, MOVED_TO, DELETE_SELF, MOVE_SELF, ISDIR,
 * Q_OVERFLOW; NAME "." for the folder itself). "ready" comes first, once
 * the watch is in place. Static: the busybox image has no libc, and no
 * inotifyd (Debian's busybox-static lacks it). tests/vm/mounts copies it
 * into the guest. */
#include <stdio.h>
#include <sys/inotify.h>
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

static void print_event(const struct inotify_event *ev)
{
	const char *sep = "";
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		if (ev->mask & masks[i].bit) {
			printf("%s%s", sep, masks[i].name);
			sep = ",";
		}
	}
	printf(" %s %u\n", ev->len ? ev->name : ".", ev->cookie);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: inotify-probe FOLDER\n");
		return 2;
	}
	int fd = inotify_init1(IN_CLOEXEC);
	unsigned want = IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE |
			IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;
	if (fd < 0 || inotify_add_watch(fd, argv[1], want) < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return 1;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			print_event(ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}
