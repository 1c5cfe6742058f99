/* vms_ports.c - published host ports are this daemon's to hand out once:
 * a VM asking for a port that a live VM of ours already publishes (whose
 * passt may not have bound it yet), or that something on the host holds,
 * is refused before it starts (see vms_ports_check in vms.h). */
#include "daemon/vms/vms_int.h"

#include <stdio.h>
#include <string.h>

static bool live(const struct vm_rec *r)
{
	return !r->removed && (r->state == VM_STARTING || r->state == VM_RUNNING ||
			       r->state == VM_STOPPING);
}

/* A port of n that one of r's overlaps: its index, or -1. */
static int overlap(const struct vm_net *n, const struct vm_rec *r, size_t *theirs)
{
	for (size_t i = 0; i < n->n_ports; i++)
		for (size_t j = 0; j < r->net.n_ports; j++)
			if (vm_port_overlaps(&n->ports[i], &r->net.ports[j])) {
				*theirs = j;
				return (int)i;
			}
	return -1;
}

/* Each port bound and released on the host now. */
static int host_free(const struct vm_net *n, char *err, size_t errlen)
{
	struct passt_cfg c = { 0 };
	char why[256];
	vm_net_passt_ports(n, &c);
	if (passt_ports_free(&c, why, sizeof why) == 0)
		return 0;
	snprintf(err, errlen, "cannot publish a port: %s", why);
	return -1;
}

int ports_check_locked(struct vms *v, const struct vm_net *n, const struct vm_rec *self,
		       char *err, size_t errlen)
{
	if (!n || n->mode == VM_NETWORK_NONE || !n->n_ports)
		return 0;
	for (size_t k = 0; k < v->n; k++) {
		const struct vm_rec *r = v->recs[k];
		size_t j;
		int i = r != self && live(r) ? overlap(n, r, &j) : -1;
		if (i < 0)
			continue;
		char mine[80], theirs[80];
		vm_port_format(&n->ports[i], mine, sizeof mine);
		vm_port_format(&r->net.ports[j], theirs, sizeof theirs);
		if (strcmp(mine, theirs))
			snprintf(err, errlen, "host port %s overlaps %s, published by VM %s", mine,
				 theirs, r->id);
		else
			snprintf(err, errlen, "host port %s is published by VM %s", mine, r->id);
		return -1;
	}
	return host_free(n, err, errlen);
}

int vms_ports_check(struct vms *v, const struct vm_net *n, const struct vm_rec *self,
		    char *err, size_t errlen)
{
	pthread_mutex_lock(&v->mu);
	int rc = ports_check_locked(v, n, self, err, errlen);
	pthread_mutex_unlock(&v->mu);
	return rc;
}
