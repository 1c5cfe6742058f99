/* h_vms_stats.c - GET /v1/vms/{id}/stats: what a running VM uses, read
 * from its supermachine-vmm process and its directory:
 *   cpu_seconds       the VMM's user + system time (/proc/PID/stat): the
 *                     guest's vCPUs and the device threads together
 *   memory_bytes      the VMM's resident set (/proc/PID/status VmRSS): the
 *                     guest RAM touched so far, plus the VMM's own
 *   disk_bytes        the space the VM's directory takes (its writable
 *                     layer, logs, sockets; sparse files as allocated)
 *   disk_read_bytes, disk_write_bytes   the VMM's storage I/O
 *                     (/proc/PID/io read_bytes, write_bytes)
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api/handlers.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/vms_req.h"
#include "daemon/vms/vms.h"

/* A "Key: N" or "key: N" line's N from a /proc file, or -1. */
static int64_t proc_field(int pid, const char *file, const char *key)
{
	char path[64], line[256];
	int64_t v = -1;
	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	FILE *f = fopen(path, "re");
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

/* utime + stime in seconds, or -1. */
static double cpu_seconds(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');   /* the name may hold spaces */
	unsigned long long ut, st;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Allocated bytes of the files directly in dir (the VM's is flat). */
static int64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	int64_t total = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(sb.st_mode))
			total += (int64_t)sb.st_blocks * 512;
	closedir(d);
	return total;
}

void h_vms_stats(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	if (query_check(r, no_query))
		return;
	struct vm_rec *vm = req_vm(r);
	if (!vm || req_vm_running(r, vm) < 0) {
		vm_put(vm);
		return;
	}
	int pid = vm_worker_pid(vm);
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", vm_console_path(vm));
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	double cpu = pid > 0 ? cpu_seconds(pid) : -1;
	int64_t rss = pid > 0 ? proc_field(pid, "status", "VmRSS") : -1;
	if (cpu < 0 || rss < 0) {
		reply_error(r, MHD_HTTP_CONFLICT, "vm_not_running",
			    "VM %s: its VMM process is gone", vm_id(vm));
		vm_put(vm);
		return;
	}
	reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:f,s:I,s:I,s:I,s:I}", "id", vm_id(vm),
		"cpu_seconds", cpu, "memory_bytes", (json_int_t)rss * 1024,
		"disk_bytes", (json_int_t)dir_bytes(dir),
		"disk_read_bytes", (json_int_t)proc_field(pid, "io", "read_bytes"),
		"disk_write_bytes", (json_int_t)proc_field(pid, "io", "write_bytes")));
	vm_put(vm);
}
