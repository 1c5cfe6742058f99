/* init_sync.c - apply a SYNC request to the guest system (agent_proto.h).
 *
 * Every VM restored from one snapshot wakes with the same RNG state, the
 * clock of the moment the snapshot was taken and the same hostname; the
 * host's first request after a restore fixes all three:
 *   entropy   RNDADDENTROPY on /dev/urandom, crediting every bit (the
 *             host's getrandom output), then RNDRESEEDCRNG so the kernel's
 *             crng draws on it now rather than at its next timed reseed
 *             (the VM generation ID's reseed may not have happened yet)
 *   clock     clock_settime(CLOCK_REALTIME)
 *   hostname  sethostname, when the request carries one, and the /etc
 *             files that name it (init_etc.c)
 * Every step is tried even when an earlier one failed; the message names
 * each failure and the first one's errno is returned.
 */
#include "agent_proto.h"
#include "init_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Appends "what: strerror(e)" to err; remembers the first errno. */
static void failed(int *first, int e, char *err, size_t errlen, const char *what)
{
	size_t n = strlen(err);
	if (!*first)
		*first = e;
	snprintf(err + n, errlen - n, "%s%s: %s", n ? "; " : "", what, strerror(e));
}

static int add_entropy(const uint8_t *bytes, const char **what)
{
	struct rand_pool_info *info = malloc(sizeof(*info) + SM_SYNC_ENTROPY);
	int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC), e = 0;
	if (!info || fd < 0) {
		e = errno;
		*what = info ? "open /dev/urandom" : "entropy buffer";
	} else {
		info->entropy_count = SM_SYNC_ENTROPY * 8;
		info->buf_size = SM_SYNC_ENTROPY;
		memcpy(info->buf, bytes, SM_SYNC_ENTROPY);
		if (ioctl(fd, RNDADDENTROPY, info) < 0)
			e = errno, *what = "RNDADDENTROPY";
		else if (ioctl(fd, RNDRESEEDCRNG) < 0)
			e = errno, *what = "RNDRESEEDCRNG";
		explicit_bzero(info->buf, SM_SYNC_ENTROPY);
	}
	if (fd >= 0)
		close(fd);
	free(info);
	return e;
}

int sys_sync(const struct sm_sync_req *req, char *err, size_t errlen)
{
	int first = 0, e;
	const char *what = "";
	err[0] = 0;
	if ((e = add_entropy(req->entropy, &what)))
		failed(&first, e, err, errlen, what);
	struct timespec ts = { .tv_sec = (time_t)req->sec, .tv_nsec = (long)req->nsec };
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		failed(&first, errno, err, errlen, "clock_settime");
	if (req->hostname[0] && sethostname(req->hostname, strlen(req->hostname)) < 0)
		failed(&first, errno, err, errlen, "sethostname");
	else if (req->hostname[0]) {
		char step[128];
		if ((e = etc_hostname_set(req->hostname, step, sizeof step)))
			failed(&first, e, err, errlen, step);
	}
	return first;
}
