/* init_sys.c - PID 1 housekeeping: early mounts, console, counts, power.
 * See init_steps.h. */
#include "init_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static int mount_one(const char *src, const char *dir, const char *type,
		     unsigned long flags, const char *data, char *err, size_t errlen)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, data) == 0 || errno == EBUSY)
		return 0;
	snprintf(err, errlen, "mount %s on %s: %s", type, dir, strerror(errno));
	return -1;
}

int sys_early_mounts(char *err, size_t errlen)
{
	const unsigned long nosx = MS_NOSUID | MS_NOEXEC | MS_NODEV;
	if (mount_one("proc", "/proc", "proc", nosx, NULL, err, errlen) ||
	    mount_one("sysfs", "/sys", "sysfs", nosx, NULL, err, errlen) ||
	    mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", err, errlen))
		return -1;
	mkdir("/dev/pts", 0755);
	mkdir("/dev/shm", 01777);
	if (mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		      "ptmxmode=0666,mode=0620,gid=5", err, errlen))
		return -1;
	return 0;
}

void sys_console(void)
{
	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
		return;
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

unsigned sys_cpus_online(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n > 0)
		return (unsigned)n;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return (unsigned)CPU_COUNT(&set);
	return 1;
}

uint64_t sys_mem_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kib = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Without ACPI (a minimal kernel booted with reboot=k) a power off would
 * only halt the CPUs; a reset is what such a VMM treats as the end. */
void sys_power_off(void)
{
	struct stat st;
	sync();
	if (stat("/sys/firmware/acpi", &st) == 0)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
}
