/* clone_probe.c - what run-vm-clones-tests asks of each VM restored from
 * one snapshot: 16 bytes from getrandom(2) as hex on one line, then the
 * guest's wall clock (CLOCK_REALTIME) as SECONDS.NANOSECONDS on the next.
 * Copied into the VM before its snapshot; static, since the guest image
 * has no libc of ours (and busybox date has no %N). */
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

int main(void)
{
	unsigned char b[16];
	struct timespec now;
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		perror("getrandom");
		return 1;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		printf("%02x", b[i]);
	clock_gettime(CLOCK_REALTIME, &now);
	printf("\n%lld.%09ld\n", (long long)now.tv_sec, now.tv_nsec);
	return 0;
}
