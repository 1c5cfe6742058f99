/* images_json.c - store records to API JSON (see images_json.h). */
#include "daemon/api/images_json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/store/store.h"

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n && v && v[i]; i++)
		json_array_append_new(arr, json_string(v[i]));
	return arr;
}

static json_t *time_json(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
	return json_string(buf);
}

json_t *image_info_json(const struct sm_image_info *info)
{
	return json_pack("{s:s,s:s,s:o,s:I,s:o}", "id", info->id,
			 "config_digest", info->config_digest ? info->config_digest : "",
			 "tags", strv_json(info->tags, info->n_tags),
			 "size", (json_int_t)info->size, "created", time_json(info->created));
}

static json_t *config_json(const struct sm_image_config *c)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:o}",
			 "id", c->manifest_digest, "config_digest", c->config_digest,
			 "os", c->os ? c->os : "", "arch", c->arch ? c->arch : "",
			 "entrypoint", strv_json(c->entrypoint, c->n_entrypoint),
			 "cmd", strv_json(c->cmd, c->n_cmd), "env", strv_json(c->env, c->n_env),
			 "exposed_ports", strv_json(c->exposed_ports, c->n_exposed_ports),
			 "workdir", c->workdir ? c->workdir : "", "user", c->user ? c->user : "",
			 "layers", strv_json(c->layers, c->n_layers));
}

/* Adds tags, size and created from the listing entry with id. */
static int add_listing(struct sm_store *st, json_t *img, const char *id,
		       char *err, size_t errlen)
{
	struct sm_image_info *list;
	size_t n;
	if (sm_store_list(st, &list, &n, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].id, id) != 0)
			continue;
		json_object_set_new(img, "tags", strv_json(list[i].tags, list[i].n_tags));
		json_object_set_new(img, "size", json_integer((json_int_t)list[i].size));
		json_object_set_new(img, "created", time_json(list[i].created));
	}
	sm_image_list_free(list, n);
	return 0;
}

json_t *image_detail_json(struct sm_store *st, const char *name, char *err, size_t errlen)
{
	struct sm_image_config *c;
	if (sm_store_inspect(st, name, &c, err, errlen) < 0)
		return NULL;
	json_t *img = config_json(c);
	if (img && add_listing(st, img, c->manifest_digest, err, errlen) < 0) {
		json_decref(img);
		img = NULL;
	} else if (!img) {
		snprintf(err, errlen, "out of memory");
	}
	sm_image_config_free(c);
	return img;
}
