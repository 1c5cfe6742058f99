/* vms_req_net.c - POST /v1/vms "network", "ports" and "egress": each
 * checked with a 400 naming the field, merged with the daemon's defaults
 * (daemon/vms/vm_net.h: a loosening the config forbids is a 403), and the
 * published host ports checked free (409) before the VM starts. */
#include "daemon/api/vms_req.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/reply.h"
#include "daemon/vms/vm_net.h"
#include "daemon/vms/vms.h"

#define MSGLEN 512

/* An address of either family as inet_ntop writes it: 0, or -1. */
static int normal_ip(const char *text, char out[PASST_ADDR_MAX])
{
	unsigned char buf[16];
	int af = inet_pton(AF_INET, text, buf) == 1 ? AF_INET
	       : inet_pton(AF_INET6, text, buf) == 1 ? AF_INET6 : 0;
	return af && inet_ntop(af, buf, out, PASST_ADDR_MAX) ? 0 : -1;
}

/* A port number field of item: 1..65535 into *out; 0, or -1 with msg. */
static int port_number(json_t *item, const char *key, uint16_t *out, char *msg, size_t len)
{
	json_t *v = json_object_get(item, key);
	if (!v)
		return snprintf(msg, len, "missing \"%s\"", key), -1;
	json_int_t n = json_integer_value(v);
	if (!json_is_integer(v) || n < 1 || n > 65535)
		return snprintf(msg, len, "\"%s\" must be a port number from 1 to 65535", key), -1;
	*out = (uint16_t)n;
	return 0;
}

/* One item of "ports" into p; 0, or -1 with msg. */
static int parse_port(json_t *item, struct passt_port *p, char *msg, size_t len)
{
	const char *key;
	json_t *v;
	memset(p, 0, sizeof *p);
	if (!json_is_object(item))
		return snprintf(msg, len, "expected an object {host_port, guest_port, protocol, "
				"host_ip}"), -1;
	json_object_foreach(item, key, v)
		if (strcmp(key, "host_port") && strcmp(key, "guest_port") &&
		    strcmp(key, "protocol") && strcmp(key, "host_ip"))
			return snprintf(msg, len, "unknown field \"%s\"", key), -1;
	if (port_number(item, "host_port", &p->host_port, msg, len) < 0 ||
	    port_number(item, "guest_port", &p->guest_port, msg, len) < 0)
		return -1;
	json_t *proto = json_object_get(item, "protocol");
	const char *ps = proto ? json_string_value(proto) : "tcp";
	if (!ps || (strcmp(ps, "tcp") && strcmp(ps, "udp")))
		return snprintf(msg, len, "\"protocol\" must be \"tcp\" or \"udp\""), -1;
	p->udp = !strcmp(ps, "udp");
	json_t *ip = json_object_get(item, "host_ip");
	const char *is = ip ? json_string_value(ip) : "127.0.0.1";
	if (!is || normal_ip(is, p->host_ip) < 0)
		return snprintf(msg, len, "\"host_ip\" must be an IPv4 or IPv6 address (such as "
				"127.0.0.1, 0.0.0.0 or ::1)"), -1;
	return 0;
}

/* "ports" into req; 0, or -1 after replying 400. */
static int parse_ports(struct api_req *r, json_t *arr, struct vm_net_request *req)
{
	char msg[MSGLEN];
	size_t n = json_array_size(arr);
	if (n > VM_NET_MAX_PORTS) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", "field \"ports\": at most %d "
			    "published ports, not %zu", VM_NET_MAX_PORTS, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = parse_port(json_array_get(arr, i), &req->ports[i], msg, sizeof msg);
		for (size_t j = 0; rc == 0 && j < i; j++) {
			if (!vm_port_overlaps(&req->ports[i], &req->ports[j]))
				continue;
			char a[80], b[80];
			vm_port_format(&req->ports[i], a, sizeof a);
			vm_port_format(&req->ports[j], b, sizeof b);
			snprintf(msg, sizeof msg, strcmp(a, b) ? "host port %s overlaps \"ports\"[%zu] "
				 "(%s)" : "host port %s is given twice (\"ports\"[%zu])", a, j, b);
			rc = -1;
		}
		if (rc < 0) {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", "field \"ports\"[%zu]: %s",
				    i, msg);
			return -1;
		}
	}
	req->n_ports = n;
	return 0;
}

/* The body's fields into req; 0, or -1 after replying 400. */
static int parse_request(struct api_req *r, json_t *b, struct vm_net_request *req)
{
	char msg[MSGLEN];
	json_t *mode = json_object_get(b, "network"), *eg = json_object_get(b, "egress");
	req->egress.default_allow = true;
	if (mode && vm_network_parse(json_string_value(mode), &req->mode) < 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"network\" must be \"outbound\" or \"none\"");
		return -1;
	}
	req->mode_given = mode != NULL;
	if (parse_ports(r, json_object_get(b, "ports"), req) < 0)
		return -1;
	req->egress_given = eg != NULL;
	if (eg && vm_egress_from_json(eg, "egress", NULL, VM_NET_MAX_REQ_RULES, &req->egress,
				      &req->default_given, msg, sizeof msg) < 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", "%s", msg);
		return -1;
	}
	return 0;
}

struct vm_net *req_net(struct api_req *r, json_t *b)
{
	char msg[MSGLEN];
	struct vm_net_request *req = calloc(1, sizeof *req);
	struct vm_net *out = calloc(1, sizeof *out);
	struct vm_net_defaults dflt;
	const struct vm_net_defaults *d = r->srv->cfg.net_defaults;
	if (!d) {
		vm_net_defaults_init(&dflt);
		d = &dflt;
	}
	if (!req || !out) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		goto fail;
	}
	if (parse_request(r, b, req) < 0)
		goto fail;
	enum vm_net_status st = vm_net_merge(d, req, out, msg, sizeof msg);
	if (st == VM_NET_FORBIDDEN) {
		reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden", "%s", msg);
		goto fail;
	}
	if (st != VM_NET_OK) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", "%s", msg);
		goto fail;
	}
	free(req);
	return out;
fail:
	free(req);
	free(out);
	return NULL;
}

int req_ports_free(struct api_req *r, const struct vm_net *n)
{
	char err[MSGLEN];
	if (vms_ports_check(r->srv->vms, n, NULL, err, sizeof err) == 0)
		return 0;
	reply_error(r, MHD_HTTP_CONFLICT, "port_in_use", "%s", err);
	return -1;
}
