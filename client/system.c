/* system.c - the daemon itself: version, info, and the event feed. */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

int sm_version(sm_client *c, struct sm_version *out)
{
	json_t *j;
	if (!c || !out)
		return SM_E_INVALID;
	memset(out, 0, sizeof *out);
	struct http_call call = { .method = "GET", .path = "/v1/version" };
	int st = http_call(c, &call, &j);
	if (st != SM_OK)
		return st;
	out->version = jdup(j, "version");
	out->api_version = jdup(j, "api_version");
	out->os = jdup(j, "os");
	out->arch = jdup(j, "arch");
	out->json = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!out->version || !out->json) {
		sm_version_free(out);
		return sm_fail(c, SM_E_PROTOCOL, "version answer without \"version\"");
	}
	return SM_OK;
}

void sm_version_free(struct sm_version *v)
{
	if (!v)
		return;
	free(v->version);
	free(v->api_version);
	free(v->os);
	free(v->arch);
	free(v->json);
	memset(v, 0, sizeof *v);
}

int sm_info(sm_client *c, struct sm_info *out)
{
	json_t *j;
	if (!c || !out)
		return SM_E_INVALID;
	memset(out, 0, sizeof *out);
	struct http_call call = { .method = "GET", .path = "/v1/info" };
	int st = http_call(c, &call, &j);
	if (st != SM_OK)
		return st;
	json_t *kvm = json_object_get(j, "kvm");
	json_t *dflt = json_object_get(j, "defaults");
	json_t *images = json_object_get(j, "images");
	out->version = jdup(j, "version");
	out->socket = jdup(j, "socket");
	out->data_dir = jdup(j, "data_dir");
	out->kvm_usable = json_is_true(json_object_get(kvm, "usable"));
	out->kvm_reason = jdup(kvm, "reason");
	out->images = json_is_integer(images) ? (long)json_integer_value(images) : -1;
	out->default_vcpus = (int)json_integer_value(json_object_get(dflt, "vcpus"));
	out->default_memory_mib = (unsigned)json_integer_value(json_object_get(dflt, "memory_mib"));
	out->json = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!out->version || !out->json) {
		sm_info_free(out);
		return sm_fail(c, SM_E_PROTOCOL, "info answer without \"version\"");
	}
	return SM_OK;
}

void sm_info_free(struct sm_info *i)
{
	if (!i)
		return;
	free(i->version);
	free(i->socket);
	free(i->data_dir);
	free(i->kvm_reason);
	free(i->json);
	memset(i, 0, sizeof *i);
}

struct events_ctx {
	sm_event_fn fn;
	void *ud;
};

static int on_event(json_t *line, void *ud)
{
	struct events_ctx *e = ud;
	const char *type = json_string_value(json_object_get(line, "type"));
	char *text = json_dumps(line, JSON_COMPACT);
	int stop = text ? e->fn(type ? type : "", text, e->ud) : SM_E_NOMEM;
	free(text);
	return stop ? (stop == SM_E_NOMEM ? SM_E_NOMEM : SM_E_STOPPED) : 0;
}

int sm_events(sm_client *c, const struct sm_events_opts *opts, sm_event_fn fn, void *ud)
{
	if (!c || !fn)
		return SM_E_INVALID;
	const char *prefix = opts ? opts->type_prefix : NULL;
	char *path = prefix ? http_escape_path("/v1/events?type=", prefix, "")
			    : strdup("/v1/events");
	if (!path)
		return SM_E_NOMEM;
	struct events_ctx e = { fn, ud };
	struct http_call call = { .method = "GET", .path = path, .on_line = on_event, .ud = &e };
	int st = http_call(c, &call, NULL);
	free(path);
	return st;
}
