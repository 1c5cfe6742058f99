/* vms_link.c - a running VM's network link (issue 13): its passt, the
 * VMM's NET_ATTACH, the guest's NET_CONFIG.
 *
 * Every VM the daemon starts has a virtio-net card (supermachine-vmm
 * --net MAC), so bakes, snapshots and warm pools hold one device list.
 * Once the guest's agent answers - after a boot or a restore, or when a
 * pool hands the VM out - vm_link_up gives the card what the VM's
 * settings (vm_net.h) ask for:
 *   outbound  a passt of its own on a socketpair (passt.h), with the VM's
 *             published ports; the VMM gets the other end and the VM's
 *             egress policy as text (NET_ATTACH, daemon/net/egress_text.h)
 *             and the guest its address, route, MTU, MAC and name servers
 *             (NET_CONFIG);
 *   none      no passt, no back end: the card's frames go nowhere, and the
 *             guest lets go of its interface (NET_CONFIG SM_NET_NONE).
 * Each VM is alone on its passt's link, behind the same gateway, like
 * QEMU's user network; yet its guest address (vms_link_addr.c) and its MAC
 * (from its id) are its own. A passt that cannot start or ends takes the
 * VM's network down, not the VM: its "network_status" says why.
 */
#include "daemon/vms/vms_int.h"
#include "common/agent_client/agent_client.h"
#include "daemon/net/egress_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define AGENT_MS 5000
#define ATTACH_MS 10000
#define NET_CONFIG_MS 10000
#define PASST_GONE_MS 2000   /* a refused link: how long passt may take to be reaped */

/* The VM's MAC: locally administered, unicast, from its id's first bytes. */
void vm_link_mac(const struct vm_rec *r, uint8_t mac[6])
{
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++) {
		unsigned byte = 0;
		sscanf(r->id + 2 * (i - 1), "%2x", &byte);
		mac[i] = (uint8_t)byte;
	}
}

void vm_link_mac_text(const struct vm_rec *r, char out[18])
{
	uint8_t m[6];
	vm_link_mac(r, m);
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* net_status = prefix + detail (cut to fit). */
static void set_status(struct vm_rec *r, const char *prefix, const char *detail)
{
	pthread_mutex_lock(&r->v->mu);
	snprintf(r->net_status, sizeof r->net_status, "%s%.*s", prefix,
		 (int)(sizeof r->net_status - 1 - strlen(prefix)), detail);
	rec_changed(r);
	pthread_mutex_unlock(&r->v->mu);
}

/* "starting" becomes "up"; a "down: ..." that on_passt_exit wrote
 * meanwhile (passt ended) stays. */
static void up_unless_down(struct vm_rec *r)
{
	pthread_mutex_lock(&r->v->mu);
	if (!strcmp(r->net_status, "starting")) {
		snprintf(r->net_status, sizeof r->net_status, "up");
		rec_changed(r);
	}
	pthread_mutex_unlock(&r->v->mu);
}

/* passt ended on its own: the VM's network is down, the VM runs on. */
static void on_passt_exit(void *ud, bool stopped, int st)
{
	struct vm_rec *r = ud;
	if (stopped)
		return;
	char why[PATH_MAX + 64];
	if (WIFEXITED(st))
		snprintf(why, sizeof why, "passt exited with status %d (see %s/passt.log)",
			 WEXITSTATUS(st), r->dir);
	else
		snprintf(why, sizeof why, "passt was killed by signal %d (see %s/passt.log)",
			 WTERMSIG(st), r->dir);
	fprintf(stderr, "supermachined: VM %s: network down: %s\n", r->id, why);
	set_status(r, "down: ", why);
}

/* Every address of the host's interfaces as a host block of p. */
static void add_host_blocks(struct egress_policy *p)
{
	struct ifaddrs *all, *a;
	if (getifaddrs(&all) < 0)
		return;
	for (a = all; a; a = a->ifa_next) {
		char text[INET6_ADDRSTRLEN], e[128];
		if (!a->ifa_addr || (a->ifa_addr->sa_family != AF_INET &&
				     a->ifa_addr->sa_family != AF_INET6))
			continue;
		const void *bin = a->ifa_addr->sa_family == AF_INET
			? (const void *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
		if (inet_ntop(a->ifa_addr->sa_family, bin, text, sizeof text))
			egress_policy_add_host_block(p, text, e, sizeof e); /* full: the rest */
	}
	freeifaddrs(all);
}

_Static_assert(VM_NET_MAX_PORTS <= EGRESS_MAX_SERVED, "published ports fit a policy");

/* Each of r's published ports as a served port of p: their answers pass
 * whatever the rules say (egress_policy.h, step 7). */
static int add_served_ports(const struct vm_rec *r, struct egress_policy *p, char *err,
			    size_t errlen)
{
	for (size_t i = 0; i < r->net.n_ports; i++) {
		const struct passt_port *pp = &r->net.ports[i];
		char port[8];
		snprintf(port, sizeof port, "%u", pp->guest_port);
		if (egress_policy_add_served(p, pp->udp ? "udp" : "tcp", port, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The VM's policy as text in a memory file: its fd, or -1 with err. */
static int policy_file(struct vm_rec *r, const char *addr4, char *err, size_t errlen)
{
	struct egress_policy *p = calloc(1, sizeof *p);
	char *text = malloc(EGRESS_TEXT_MAX);
	int fd = -1;
	uint8_t mac[6];
	if (!p || !text) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	vm_link_mac(r, mac);
	egress_policy_init(p, mac, r->net.egress.default_allow, 0);
	if (egress_policy_set_vm_address(p, addr4, err, errlen) < 0)
		goto out;
	add_host_blocks(p);
	if (add_served_ports(r, p, err, errlen) < 0 ||
	    vm_net_egress_policy(&r->net, p, err, errlen) < 0)
		goto out;
	size_t len = egress_text_write(p, text, EGRESS_TEXT_MAX);
	fd = memfd_create("sm-egress", MFD_CLOEXEC);
	if (fd < 0 || len >= EGRESS_TEXT_MAX || write(fd, text, len) != (ssize_t)len) {
		snprintf(err, errlen, "the egress policy's file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	free(p);
	free(text);
	return fd;
}

/* r's passt (r->passt set) and its NET_ATTACH: 0; -1 with err when the
 * VMM refused (ours to fix); 1 when passt could not start (network down,
 * status set). */
static int start_passt(struct vms *v, struct vm_rec *r, const char *addr4, char *err,
		       size_t errlen)
{
	struct passt_cfg pc = { .prefix4 = VM_LINK_PREFIX4,
				.gw4 = VM_LINK_GW4, .mtu = VM_LINK_MTU, .no_map_gw = true };
	char log[PATH_MAX + 16], why[256];
	snprintf(pc.addr4, sizeof pc.addr4, "%s", addr4);
	snprintf(log, sizeof log, "%s/passt.log", r->dir);
	pc.log_path = log;
	if (!v->cfg.net || v->cfg.net->ndns == 0)
		snprintf(pc.dns_forward, sizeof pc.dns_forward, "%s", VM_LINK_DNS4);
	vm_net_passt_ports(&r->net, &pc);
	struct passt *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->on_exit = on_passt_exit;
	p->ud = r;
	if (passt_start(&pc, p, why, sizeof why) < 0) {
		free(p);
		fprintf(stderr, "supermachined: VM %s: network down: %s\n", r->id, why);
		set_status(r, "down: ", why);
		return 1;
	}
	pthread_mutex_lock(&v->mu);
	r->passt = p;
	struct worker *w = r->w;
	pthread_mutex_unlock(&v->mu);
	int pfd = policy_file(r, addr4, err, errlen);
	if (pfd < 0)
		return -1;
	int rc = w ? worker_net_attach(w, p->vmm_fd, pfd, ATTACH_MS, why, sizeof why) : -1;
	close(pfd);
	close(p->vmm_fd); /* the VMM has its own now; passt keeps running with it */
	p->vmm_fd = -1;
	if (rc < 0 && w && passt_ended(p, PASST_GONE_MS, NULL)) {
		/* passt gave up after it started (its socket was closed when the
		 * VMM took it): down, as if it had not started (on_passt_exit) */
		fprintf(stderr, "supermachined: VM %s: passt ended before the VMM took its "
			"link: %s\n", r->id, why);
		return 1;
	}
	if (rc < 0)
		snprintf(err, errlen, "the VMM did not take the network: %.200s", w ? why : "no worker");
	return rc;
}

/* The NET_CONFIG r's settings make. */
static void net_req(struct vms *v, struct vm_rec *r, struct sm_net_req *q)
{
	memset(q, 0, sizeof *q);
	snprintf(q->ifname, sizeof q->ifname, "eth0");
	if (r->net.mode == VM_NETWORK_NONE) {
		q->flags = SM_NET_NONE;
		return;
	}
	q->flags = SM_NET_V4 | SM_NET_GW4 | SM_NET_MAC;
	q->mtu = VM_LINK_MTU;
	vm_link_mac(r, q->mac);
	pthread_mutex_lock(&v->mu);
	inet_pton(AF_INET, r->addr4, q->addr4);
	pthread_mutex_unlock(&v->mu);
	inet_pton(AF_INET, VM_LINK_GW4, q->gw4);
	q->prefix4 = VM_LINK_PREFIX4;
	int n = v->cfg.net ? v->cfg.net->ndns : 0;
	for (int i = 0; i < n && i < SM_NET_DNS_MAX; i++) {
		struct sm_net_dns *d = &q->dns[q->ndns];
		const char *s = v->cfg.net->dns[i];
		if (inet_pton(AF_INET, s, d->addr) == 1)
			d->family = 4;
		else if (inet_pton(AF_INET6, s, d->addr) == 1)
			d->family = 6;
		else
			continue;
		q->ndns++;
	}
	if (n == 0) {
		q->dns[0].family = 4;
		inet_pton(AF_INET, VM_LINK_DNS4, q->dns[0].addr);
		q->ndns = 1;
	}
}

static int configure_guest(struct vms *v, struct vm_rec *r, struct agent_client *c, char *err,
			   size_t errlen)
{
	char cerr[256] = "";
	struct sm_net_req q;
	struct agent_client *own = c ? NULL : agent_client_connect(r->vsock, SM_AGENT_PORT,
								     AGENT_MS, cerr, sizeof cerr);
	if (!c && !own) {
		snprintf(err, errlen, "connecting to the guest agent to set its network: %s", cerr);
		return -1;
	}
	net_req(v, r, &q);
	int rc = agent_client_net_config(c ? c : own, &q, NET_CONFIG_MS);
	if (rc != 0)
		snprintf(err, errlen, "setting the guest's network: %s (console: %s)",
			 agent_client_error(c ? c : own), r->console);
	if (own)
		agent_client_close(own);
	return rc == 0 ? 0 : -1;
}

int vm_link_up(struct vms *v, struct vm_rec *r, struct agent_client *c, char *err, size_t errlen)
{
	int rc = 0;
	if (r->net.mode == VM_NETWORK_OUTBOUND) {
		char addr4[sizeof r->addr4];
		pthread_mutex_lock(&v->mu);
		rc = link_addr_take_locked(v, r, err, errlen);
		snprintf(addr4, sizeof addr4, "%s", r->addr4);
		rec_changed(r);
		pthread_mutex_unlock(&v->mu);
		if (rc < 0)
			return -1;
		set_status(r, "starting", "");
		rc = start_passt(v, r, addr4, err, errlen);
		if (rc < 0)
			return -1;
	}
	if (configure_guest(v, r, c, err, errlen) < 0)
		return -1;
	if (r->net.mode == VM_NETWORK_NONE)
		set_status(r, "none", "");
	else if (rc == 0)
		up_unless_down(r);
	return 0;
}

void vm_link_down(struct vm_rec *r)
{
	pthread_mutex_lock(&r->v->mu);
	struct passt *p = r->passt;
	r->passt = NULL;
	r->addr4[0] = 0;
	rec_changed(r);
	pthread_mutex_unlock(&r->v->mu);
	if (!p)
		return;
	passt_stop(p);
	free(p);
}
