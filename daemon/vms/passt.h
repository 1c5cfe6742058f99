/* passt.h - one VM's passt: its user-mode network (issue 13).
 *
 * passt (Debian's package; the network back end of podman and QEMU's
 * user networking successor) turns the guest's Ethernet frames into
 * ordinary sockets of the host, so a VM reaches the network with no TAP
 * device, no bridge and no root in the data path. Each VM with a network
 * gets its own passt, started here on one end of a socketpair (--fd); the
 * other end is the VM's link, handed to its VMM's virtio-net device. The
 * two speak QEMU's stream framing: a 4-byte big-endian length, then the
 * frame. passt answers the guest's ARP, DHCP and NDP itself, forwards the
 * host ports it is given (-t/-u) to the guest, logs to a file of the VM's
 * (never syslog), and exits when the VMM's end closes (--one-off).
 */
#ifndef SM_VMS_PASST_H
#define SM_VMS_PASST_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define PASST_MAX_PORTS 64
#define PASST_MAX_DNS 3
#define PASST_ADDR_MAX 46 /* INET6_ADDRSTRLEN */

/* A published port: the host's host_ip:host_port to the guest's
 * guest_port (host_ip "" = passt's default, all addresses). */
struct passt_port {
	bool udp;
	char host_ip[PASST_ADDR_MAX];
	uint16_t host_port, guest_port;
};

struct passt_cfg {
	const char *bin;      /* NULL: "passt" on PATH */
	const char *log_path; /* required: passt's own log */
	const char *ifname;   /* -i: the host interface to take routes from;
				 NULL: the one with the default route */
	char addr4[PASST_ADDR_MAX]; /* the guest's IPv4 address ("" = the host's) */
	uint8_t prefix4;
	char gw4[PASST_ADDR_MAX];   /* the guest's gateway ("" = the host's) */
	uint32_t mtu;               /* 0: passt's default, 65520 */
	char dns[PASST_MAX_DNS][PASST_ADDR_MAX]; /* -D; none: the host's resolv.conf */
	int ndns;
	/* --dns-forward: DNS queries the guest sends to this address go to
	 * the host's resolver ("" = none) */
	char dns_forward[PASST_ADDR_MAX];
	/* --no-map-gw: the gateway address is not the host's loopback (a
	 * guest must not reach the host's local services through it) */
	bool no_map_gw;
	struct passt_port ports[PASST_MAX_PORTS];
	int nports;
};

/* One running passt. A thread of its own forks it (so passt's
 * PR_SET_PDEATHSIG is tied to a thread that lives as long as passt does,
 * not to whichever thread asked for it) and waits for its end. */
struct passt {
	pid_t pid;  /* 0 when not running */
	int vmm_fd; /* the VM's end of the link, for its virtio-net; -1 once taken */
	/* Set before passt_start, or NULL: called once, from the supervising
	 * thread, when passt has ended (stopped: passt_stop asked for it;
	 * else it died or exited, and the VM's network is down). */
	void (*on_exit)(void *ud, bool stopped, int wait_status);
	void *ud;
	/* The supervisor's; see passt.c. */
	pthread_t thread;
	bool started, stopping;
	int phase; /* 0 starting, 1 running, 2 ended */
	int wait_status;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct passt_cfg *cfg; /* during passt_start only */
	char err[256];
};

/* Fill argv (at most PASST_ARGV_MAX entries, NULL-terminated, strings in
 * store of store_size bytes) for passt serving fd. 0, or -1 with err
 * (a port without a host port, no room). Pure: for tests too. */
#define PASST_ARGV_MAX (32 + 2 * PASST_MAX_PORTS + 2 * PASST_MAX_DNS)
int passt_argv(const struct passt_cfg *c, int fd, const char **argv, char *store,
	       size_t store_size, char *err, size_t errlen);

/* Whether every published TCP/UDP host port can be bound now (each is
 * bound and released): 0, or -1 with err naming the first one taken
 * ("host port 8080/tcp on 127.0.0.1 is in use"). Run before a VM starts,
 * so a clash is an error then and not a guest that never gets its port. */
int passt_ports_free(const struct passt_cfg *c, char *err, size_t errlen);

/* Start passt for c (p's on_exit and ud as the caller set them; the rest
 * is filled): p->pid and p->vmm_fd set. 0, or -1 with err (then nothing
 * runs and passt_stop is not needed). */
int passt_start(const struct passt_cfg *c, struct passt *p, char *err, size_t errlen);

/* Whether the passt of a successful passt_start has ended, waiting up to
 * wait_ms for it (0: not at all); its wait status in *wait_status (if
 * not NULL) when it has. */
bool passt_ended(struct passt *p, int wait_ms, int *wait_status);

/* SIGTERM, then SIGKILL after a second; waits for the supervising thread
 * (on_exit has run when this returns); closes vmm_fd if still ours.
 * Nothing if p never started; once more is nothing too. Never from
 * on_exit itself. */
void passt_stop(struct passt *p);

#endif
