/* ticker.c - PID 1 of bench/restore's QEMU comparison guest (static; the
 * only program in its initramfs).
 *
 * QEMU's vhost-vsock hangs the emulated KVM host after a few restores, so
 * that comparison cannot reach our agent, and without vsock our init
 * powers off. This init writes "~" to the kernel log (/dev/kmsg, at
 * KERN_ERR so that `quiet` still prints it; boot with printk.devkmsg=on so
 * that it is not rate-limited) every 10 ms, forever. The kernel prints it
 * on the serial console with polled writes, so the first '~' on the host
 * after a restore is the first thing a guest process did once the
 * restored VM ran, timed the same way for both VMMs (sm-restore-bench's
 * `console` target). (Not the console tty: with supermachine-vmm, user
 * space writes to ttyS0 stall for seconds at a time.)
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	static const char hello[] = "<3>sm-bench-ticker: ticking\n";
	static const char tick[] = "<3>~\n";
	const struct timespec period = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
	mknod("/dev/kmsg", S_IFCHR | 0600, makedev(1, 11)); /* no devtmpfs here */
	int fd = open("/dev/kmsg", O_WRONLY);
	/* PID 1 exiting panics the guest: a clear failure on both VMMs. */
	if (fd < 0 || write(fd, hello, sizeof(hello) - 1) < 0)
		return 1;
	for (;;) {
		if (write(fd, tick, sizeof(tick) - 1) < 0)
			return 1;
		nanosleep(&period, NULL);
	}
}
