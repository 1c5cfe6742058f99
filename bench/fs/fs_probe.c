/* fs_probe.c - bench/fs's measuring tool (static, never sanitized): the
 * same binary runs in the guest (copied in over the shared folder) and in
 * the emulated host.
 *
 * Guest side (what is timed runs there, so no exec or stream latency is in
 * a figure):
 *   time CMD [ARGS...]        run CMD, print "elapsed_us=N status=S"
 *                             (CLOCK_MONOTONIC around fork..wait)
 *   statall DIR               lstat every entry beneath DIR (readdir +
 *                             fstatat(AT_SYMLINK_NOFOLLOW), depth first),
 *                             print "entries=N files=F dirs=D bytes=B
 *                             elapsed_us=T"
 *   watch FILE SEC READY      inotify on FILE (every event but access,
 *                             open and close-nowrite), create READY (on
 *                             the share: the host's editor waits for it),
 *                             then for SEC seconds: on each read of events
 *                             take CLOCK_REALTIME, stat FILE, keep
 *                             "event t_ns=T size=S mask=M"; printed at the
 *                             end (printing while measuring would add exec
 *                             stream traffic); ends early once READY.stop
 *                             exists (looked up at most every 500 ms)
 *   poll FILE SEC MS READY [sync]
 *                             stat FILE every MS ms for SEC seconds; keep
 *                             "event t_ns=T size=S" whenever its size or
 *                             mtime changes; printed at the end (the
 *                             FUSE attr-timeout fallback; READY.stop as
 *                             for watch). With sync: statx with
 *                             AT_STATX_FORCE_SYNC (a FUSE GETATTR each
 *                             time, never the attribute cache): the host
 *                             -> guest half of bench/fs's clock check
 *   clockping DIR N MS        N times, MS apart: t = CLOCK_REALTIME, create
 *                             DIR/ping.K (O_EXCL) holding t
 * Host side:
 *   edit FILE N MS READY SEC  wait up to SEC s for READY to exist, then N
 *                             times, MS apart: t = CLOCK_REALTIME, append a
 *                             16-byte line to FILE (open O_APPEND, write,
 *                             close), print "edit i=I t_ns=T size=S"
 *   clockseen DIR N SEC       inotify on DIR: for each ping.K created, the
 *                             CLOCK_REALTIME of its IN_CREATE; after N
 *                             IN_CLOSE_WRITEs or SEC s, print "ping k=K
 *                             h_ns=H g_ns=G" (G read from the file)
 *   now                       print CLOCK_REALTIME in ns
 * Exit status 0, 1 on an error (said on stderr), 2 usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 100000
#define MAX_PINGS 1000

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sm-fs-probe: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static long num(const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("bad number %s (want %ld..%ld)", s, min, max);
	return v;
}

static int cmd_time(char **argv)
{
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "sm-fs-probe: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	int64_t t1 = now_ns(CLOCK_MONOTONIC);
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("elapsed_us=%" PRId64 " status=%d\n", (t1 - t0) / 1000, code);
	return code;
}

struct walk {
	uint64_t entries, files, dirs, bytes;
};

static void walk_dir(int dfd, const char *path, struct walk *w)
{
	DIR *d = fdopendir(dfd);
	if (!d)
		die("fdopendir %s: %s", path, strerror(errno));
	struct dirent *e;
	while ((errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("stat %s/%s: %s", path, e->d_name, strerror(errno));
		w->entries++;
		if (S_ISDIR(st.st_mode)) {
			w->dirs++;
			char sub[PATH_MAX];
			snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
			int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				die("open %s: %s", sub, strerror(errno));
			walk_dir(fd, sub, w);
		} else {
			if (S_ISREG(st.st_mode))
				w->files++;
			w->bytes += (uint64_t)st.st_size;
		}
	}
	if (errno)
		die("readdir %s: %s", path, strerror(errno));
	closedir(d);
}

static int cmd_statall(const char *dir)
{
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	struct walk w = { 0 };
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", dir, strerror(errno));
	walk_dir(fd, dir, &w);
	int64_t t1 = now_ns(CLOCK_MONOTONIC);
	printf("entries=%" PRIu64 " files=%" PRIu64 " dirs=%" PRIu64 " bytes=%" PRIu64
	       " elapsed_us=%" PRId64 "\n", w.entries, w.files, w.dirs, w.bytes, (t1 - t0) / 1000);
	return 0;
}

struct ev {
	int64_t t;
	int64_t size;
	uint32_t mask;
};
static struct ev evs[MAX_EVENTS];
static int nev;

static void keep(int64_t t, int64_t size, uint32_t mask)
{
	if (nev < MAX_EVENTS)
		evs[nev++] = (struct ev){ t, size, mask };
}

static void touch_ready(const char *ready)
{
	int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create %s: %s", ready, strerror(errno));
	close(fd);
}

/* READY.stop, made by the host when it is done: checked at most every
 * 500 ms (a missing name is a FUSE LOOKUP each time: negative dentries
 * are not cached), so a pass ends soon after its last edit. */
static bool stop_asked(const char *ready, int64_t *next)
{
	int64_t t = now_ns(CLOCK_MONOTONIC);
	if (t < *next)
		return false;
	*next = t + 500000000;
	char stop[PATH_MAX];
	snprintf(stop, sizeof stop, "%s.stop", ready);
	return access(stop, F_OK) == 0;
}

static void print_events(bool with_mask)
{
	for (int i = 0; i < nev; i++) {
		if (with_mask)
			printf("event t_ns=%" PRId64 " size=%" PRId64 " mask=%#x\n", evs[i].t,
			       evs[i].size, evs[i].mask);
		else
			printf("event t_ns=%" PRId64 " size=%" PRId64 "\n", evs[i].t, evs[i].size);
	}
	if (nev == MAX_EVENTS)
		printf("events: more than %d, the rest not kept\n", MAX_EVENTS);
}

static int cmd_watch(const char *file, long sec, const char *ready)
{
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0)
		die("inotify_init1: %s", strerror(errno));
	uint32_t mask = IN_ALL_EVENTS & ~(IN_ACCESS | IN_OPEN | IN_CLOSE_NOWRITE);
	if (inotify_add_watch(in, file, mask) < 0)
		die("inotify_add_watch %s: %s", file, strerror(errno));
	touch_ready(ready);
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)sec * 1000000000;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	int64_t next_stop = 0;
	for (;;) {
		int64_t left = (end - now_ns(CLOCK_MONOTONIC)) / 1000000;
		if (left <= 0 || stop_asked(ready, &next_stop))
			break;
		struct pollfd p = { .fd = in, .events = POLLIN };
		int r = poll(&p, 1, (int)(left > 500 ? 500 : left));
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("read inotify: %s", strerror(errno));
		}
		int64_t t = now_ns(CLOCK_REALTIME);
		uint32_t m = 0;
		for (char *p2 = buf; p2 < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p2;
			m |= e->mask;
			p2 += sizeof *e + e->len;
		}
		struct stat st;
		keep(t, stat(file, &st) == 0 ? (int64_t)st.st_size : -1, m);
	}
	print_events(true);
	return 0;
}

/* stat, or with force_sync a statx that always asks the FUSE server. */
static int stat_file(const char *file, struct stat *st, bool force_sync)
{
	if (!force_sync)
		return stat(file, st);
	struct statx sx;
	if (statx(AT_FDCWD, file, AT_STATX_FORCE_SYNC, STATX_SIZE | STATX_MTIME, &sx) < 0)
		return -1;
	memset(st, 0, sizeof *st);
	st->st_size = (off_t)sx.stx_size;
	st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
	return 0;
}

static int cmd_poll(const char *file, long sec, long ms, const char *ready, bool force_sync)
{
	struct stat st;
	if (stat_file(file, &st, force_sync) < 0)
		die("stat %s: %s", file, strerror(errno));
	int64_t size = st.st_size;
	struct timespec mt = st.st_mtim;
	touch_ready(ready);
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)sec * 1000000000, next_stop = 0;
	while (now_ns(CLOCK_MONOTONIC) < end && !stop_asked(ready, &next_stop)) {
		if (ms)
			sleep_ms(ms);
		if (stat_file(file, &st, force_sync) < 0)
			die("stat %s: %s", file, strerror(errno));
		if (st.st_size != size || st.st_mtim.tv_sec != mt.tv_sec ||
		    st.st_mtim.tv_nsec != mt.tv_nsec) {
			keep(now_ns(CLOCK_REALTIME), st.st_size, 0);
			size = st.st_size;
			mt = st.st_mtim;
		}
	}
	print_events(false);
	return 0;
}

static int cmd_clockping(const char *dir, long n, long ms)
{
	for (long k = 1; k <= n; k++) {
		char path[PATH_MAX], line[64];
		snprintf(path, sizeof path, "%s/ping.%ld", dir, k);
		int64_t t = now_ns(CLOCK_REALTIME);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create %s: %s", path, strerror(errno));
		int len = snprintf(line, sizeof line, "%" PRId64 "\n", t);
		if (write(fd, line, (size_t)len) != len)
			die("write %s: %s", path, strerror(errno));
		close(fd);
		sleep_ms(ms);
	}
	return 0;
}

static int cmd_edit(const char *file, long n, long ms, const char *ready, long sec)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)sec * 1000000000;
	while (access(ready, F_OK) < 0) {
		if (now_ns(CLOCK_MONOTONIC) > end)
			die("%s did not appear within %ld s (the guest's probe did not start)", ready,
			    sec);
		sleep_ms(10);
	}
	sleep_ms(ms);
	for (long i = 1; i <= n; i++) {
		char line[32];
		snprintf(line, sizeof line, "edit %010ld\n", i);
		int64_t t = now_ns(CLOCK_REALTIME);
		int fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0)
			die("open %s: %s", file, strerror(errno));
		if (write(fd, line, 16) != 16)
			die("write %s: %s", file, strerror(errno));
		struct stat st;
		if (fstat(fd, &st) < 0)
			die("fstat %s: %s", file, strerror(errno));
		close(fd);
		printf("edit i=%ld t_ns=%" PRId64 " size=%lld\n", i, t, (long long)st.st_size);
		fflush(stdout);
		sleep_ms(ms);
	}
	return 0;
}

static int cmd_clockseen(const char *dir, long n, long sec)
{
	static int64_t h[MAX_PINGS + 1];
	if (n > MAX_PINGS)
		die("at most %d pings", MAX_PINGS);
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0 || inotify_add_watch(in, dir, IN_CREATE | IN_CLOSE_WRITE) < 0)
		die("inotify on %s: %s", dir, strerror(errno));
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)sec * 1000000000;
	long closed = 0;
	char buf[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (closed < n) {
		int64_t left = (end - now_ns(CLOCK_MONOTONIC)) / 1000000;
		if (left <= 0)
			break;
		struct pollfd p = { .fd = in, .events = POLLIN };
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		ssize_t len = read(in, buf, sizeof buf);
		if (len <= 0)
			continue;
		int64_t t = now_ns(CLOCK_REALTIME);
		for (char *q = buf; q < buf + len;) {
			const struct inotify_event *e = (const struct inotify_event *)q;
			long k;
			if (e->len && sscanf(e->name, "ping.%ld", &k) == 1 && k >= 1 && k <= n) {
				if ((e->mask & IN_CREATE) && !h[k])
					h[k] = t;
				if (e->mask & IN_CLOSE_WRITE)
					closed++;
			}
			q += sizeof *e + e->len;
		}
	}
	for (long k = 1; k <= n; k++) {
		char path[PATH_MAX];
		long long g = 0;
		snprintf(path, sizeof path, "%s/ping.%ld", dir, k);
		FILE *f = fopen(path, "r");
		if (!f || !h[k])
			continue;
		if (fscanf(f, "%lld", &g) == 1)
			printf("ping k=%ld h_ns=%" PRId64 " g_ns=%lld\n", k, h[k], g);
		fclose(f);
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: sm-fs-probe time CMD... | statall DIR | watch FILE SEC READY |\n"
			"       poll FILE SEC MS READY [sync] | clockping DIR N MS |\n"
			"       edit FILE N MS READY SEC | clockseen DIR N SEC | now\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	const char *c = argv[1];
	if (!strcmp(c, "time") && argc >= 3)
		return cmd_time(argv + 2);
	if (!strcmp(c, "statall") && argc == 3)
		return cmd_statall(argv[2]);
	if (!strcmp(c, "watch") && argc == 5)
		return cmd_watch(argv[2], num(argv[3], 1, 86400), argv[4]);
	if (!strcmp(c, "poll") && (argc == 6 || (argc == 7 && !strcmp(argv[6], "sync"))))
		return cmd_poll(argv[2], num(argv[3], 1, 86400), num(argv[4], 0, 60000), argv[5],
				argc == 7);
	if (!strcmp(c, "clockping") && argc == 5)
		return cmd_clockping(argv[2], num(argv[3], 1, MAX_PINGS), num(argv[4], 0, 60000));
	if (!strcmp(c, "edit") && argc == 7)
		return cmd_edit(argv[2], num(argv[3], 1, 1000000), num(argv[4], 0, 60000), argv[5],
				num(argv[6], 1, 86400));
	if (!strcmp(c, "clockseen") && argc == 5)
		return cmd_clockseen(argv[2], num(argv[3], 1, MAX_PINGS), num(argv[4], 1, 86400));
	if (!strcmp(c, "now") && argc == 2)
		return printf("%" PRId64 "\n", now_ns(CLOCK_REALTIME)) < 0;
	return usage();
}
