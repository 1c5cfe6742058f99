/* init_etc.c - the files docker gives every container: /etc/hosts,
 * /etc/resolv.conf and /etc/hostname.
 *
 * At boot, once the image's root is mounted (its overlay's upper layer
 * takes the writes), /etc/hosts and /etc/resolv.conf are written unless
 * the image has its own (any entry there, a symlink too, is the image's:
 * it is left alone); /etc/hostname is always ours, as docker's is. The
 * hostname is not known yet at boot: the host's SYNC brings it (every VM
 * gets one once its agent answers, a restored or pooled VM its own), and
 * then /etc/hostname and our /etc/hosts are written again with it:
 *   127.0.0.1  localhost
 *   ::1        localhost ip6-localhost ip6-loopback
 *   127.0.1.1  HOSTNAME
 * /etc/resolv.conf names no server while the VM has no network (the
 * resolver then tries none); a NET_CONFIG fills it with its name servers. The agent is this
 * same process, so what was written at boot is remembered across
 * snapshots and restores.
 */
#include "init_steps.h"

#include "agent_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAG "supermachine-init: "

static bool on_disk;     /* the image's root is mounted: /etc is its */
static bool hosts_ours;  /* /etc/hosts was written by us */
static bool resolv_ours; /* /etc/resolv.conf was written by us */

/* Writes path whole (a temporary file renamed over it): 0 or an errno. */
static int write_file(const char *path, const char *text)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.sm-new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return errno;
	size_t n = strlen(text);
	int e = write(fd, text, n) == (ssize_t)n ? 0 : (errno ? errno : EIO);
	if (close(fd) && !e)
		e = errno;
	if (!e && rename(tmp, path))
		e = errno;
	if (e)
		unlink(tmp);
	return e;
}

static int write_hosts(const char *hostname)
{
	char text[256];
	snprintf(text, sizeof text, "127.0.0.1\tlocalhost\n"
		 "::1\tlocalhost ip6-localhost ip6-loopback\n%s%s%s",
		 hostname[0] ? "127.0.1.1\t" : "", hostname, hostname[0] ? "\n" : "");
	return write_file("/etc/hosts", text);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void report(const char *what, int e)
{
	if (e)
		fprintf(stderr, TAG "writing %s: %s\n", what, strerror(e));
}

void etc_files_boot(void)
{
	on_disk = true;
	if (mkdir("/etc", 0755) && errno != EEXIST) {
		report("/etc", errno);
		return;
	}
	if (!exists("/etc/hosts")) {
		int e = write_hosts("");
		hosts_ours = e == 0;
		report("/etc/hosts", e);
	}
	if (!exists("/etc/resolv.conf")) {
		int e = write_file("/etc/resolv.conf", "# supermachine: this VM has no network "
				   "yet, so no name server\n");
		resolv_ours = e == 0;
		report("/etc/resolv.conf", e);
	}
}

int etc_hostname_set(const char *hostname, char *err, size_t errlen)
{
	char line[80];
	int e = 0;
	if (!on_disk)
		return 0;
	snprintf(line, sizeof line, "%s\n", hostname);
	if ((e = write_file("/etc/hostname", line)))
		snprintf(err, errlen, "writing /etc/hostname");
	else if (hosts_ours && (e = write_hosts(hostname)))
		snprintf(err, errlen, "writing /etc/hosts");
	return e;
}

int etc_resolv_conf_set(const struct sm_net_req *req, char *err, size_t errlen)
{
	char text[1024] = "# supermachine: the VM's network\n";
	if (!on_disk || !resolv_ours)
		return 0;
	for (uint32_t i = 0; i < req->ndns; i++) {
		char addr[INET6_ADDRSTRLEN];
		int family = req->dns[i].family == 4 ? AF_INET : AF_INET6;
		inet_ntop(family, req->dns[i].addr, addr, sizeof(addr));
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "nameserver %s\n", addr);
	}
	if (req->search[0])
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "search %s\n",
			 req->search);
	int e = write_file("/etc/resolv.conf", text);
	if (e)
		snprintf(err, errlen, "writing /etc/resolv.conf");
	return e;
}
