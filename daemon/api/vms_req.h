/* vms_req.h - what the VM handlers (h_vms*.c) share: finding the VM a
 * path names, the KVM gate, the no-command check, base64 (exec's stdin and output chunks) and
 * turning a user name into ids inside the guest. */
#ifndef SM_API_VMS_REQ_H
#define SM_API_VMS_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/api/server.h"

struct vm_rec;
struct agent_client;

/* POST /v1/vms with "from_snapshot" (h_snapshots.c), once the body has
 * passed h_vms.c's checks (net: its network settings, req_net): replies. */
struct json_t;
struct vm_net;
void vms_create_from_snapshot(struct api_req *r, struct json_t *b, const struct vm_net *net);

/* The VM named by the path's {id} (a reference), or NULL after 404/400. */
struct vm_rec *req_vm(struct api_req *r);

/* The VM must be running: 0, or -1 after replying 409. */
int req_vm_running(struct api_req *r, struct vm_rec *vm);

/* 0 when KVM can run guests; -1 after replying 503 kvm_unavailable. Waits
 * for the first probe if it is still running. */
int req_kvm_usable(struct api_req *r);

/* 0 when a VM made from spec has a command (daemon/vms/vms_command.c:
 * docker's merge of the request's entrypoint and cmd with the image's);
 * else -1 after replying 422 no_command, naming source ("image NAME",
 * "snapshot NAME") and whether the request gave the (empty) entrypoint. */
struct vm_spec;
int req_command_check(struct api_req *r, const struct vm_spec *spec, const char *source,
		      bool ep_given);

/* Every value of a repeatable query parameter: a malloc'd NULL-terminated
 * array (strings borrowed from the request), or NULL when there is none. */
const char **req_query_all(struct api_req *r, const char *name);

/* malloc'd, NUL-terminated; NULL on out of memory. */
char *b64_encode(const void *p, size_t n);
/* Writes the base64 of p (4 * ((n + 2) / 3) characters and a NUL) to out;
 * returns the characters written, without the NUL. */
size_t b64_encode_to(char *out, const void *p, size_t n);
/* malloc'd bytes in *out, length in *n; -1 if s is not base64. */
int b64_decode(const char *s, unsigned char **out, size_t *n);

/* A USER as docker (runc) resolves it in the guest's /etc/passwd and
 * /etc/group (read through c): "", "uid", "uid:gid", "name", "name:group",
 * "uid:group", "name:gid". The user (by name, or by uid when passwd has
 * it) gives the gid and home, and, without an explicit group, the
 * supplementary groups are those of /etc/group listing its name. A name
 * that is not there is an error; a uid that is not is used as it is,
 * with gid 0 and home "/". */
#define SM_USER_MAX_GROUPS 64
struct guest_user {
	uint32_t uid, gid;
	uint32_t groups[SM_USER_MAX_GROUPS];
	uint32_t ngroups;
	char home[256];
};
int resolve_user(struct agent_client *c, const char *user, struct guest_user *u,
		 char *err, size_t errlen);

/* POST /v1/vms "mounts" (NULL: none): every item {host_path, guest_path,
 * readonly, watch} checked - host_path absolute, existing, a folder, and
 * (by realpath) beneath one of the daemon's shared folders; guest_path
 * absolute, not "/", no empty, "." or ".." component, unique; at most
 * VM_MAX_MOUNTS. 0 with *out (malloc'd; host_path the realpath) and *n,
 * or -1 after replying 400 invalid_field. req_mounts_free frees *out. */
struct vm_mount;
/* NULL when p is absolute, not "/", has no empty, "." or ".." component
 * and fits PATH_MAX; else what is wrong ("must be absolute"...). */
const char *req_guest_path_problem(const char *p);
int req_mounts(struct api_req *r, struct json_t *arr, struct vm_mount **out, size_t *n);
void req_mounts_free(struct vm_mount *m, size_t n);

/* POST /v1/vms "volumes" (NULL: none), in vms_req_volumes.c: every item
 * {name, path, readonly} checked - the volume exists in the store (404
 * not_found otherwise), path as for mounts and only of letters, digits
 * and "/._-+@" (it goes on the guest's kernel command line), unique among
 * the volumes and mounts; at most VM_MAX_VOLUMES. 0 with *out (malloc'd,
 * disk: the volume's file) and *n, or -1 after replying. */
struct vm_volume;
int req_volumes(struct api_req *r, struct json_t *arr, const struct vm_mount *mounts,
		size_t n_mounts, struct vm_volume **out, size_t *n);
void req_volumes_free(struct vm_volume *v, size_t n);

/* POST /v1/vms "network", "ports" and "egress" (vms_req_net.c), checked
 * (400 invalid_field naming the field: a network other than "outbound" or
 * "none"; a port that is not 1-65535, a protocol other than "tcp" or
 * "udp", a host_ip that is not an address, a host port given twice or
 * overlapping another, more than VM_NET_MAX_PORTS; a rule
 * egress_rule_parse refuses, more than VM_NET_MAX_REQ_RULES; ports or
 * egress with network none) and merged with the daemon's defaults
 * (vm_net_merge; 403 forbidden when the request loosens a policy the
 * config does not let it). The effective settings (malloc'd), or NULL
 * after replying. */
struct vm_net *req_net(struct api_req *r, struct json_t *b);

/* 0 when n's published host ports are free (vms_ports_check: not a live
 * VM's, bindable on the host); else -1 after replying 409 port_in_use. */
int req_ports_free(struct api_req *r, const struct vm_net *n);

#endif
