/* json_out.c - daemon JSON into the library's result structs. */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

char *jdup(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? strdup(s) : NULL;
}

uint64_t juint(json_t *obj, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(obj, key));
	return v > 0 ? (uint64_t)v : 0;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A NULL-terminated copy of a string array (NULL when the key is absent). */
char **jstrv(json_t *obj, const char *key, size_t *n)
{
	json_t *arr = json_object_get(obj, key);
	*n = 0;
	if (!json_is_array(arr))
		return NULL;
	char **v = calloc(json_array_size(arr) + 1, sizeof *v);
	size_t i;
	json_t *item;
	if (!v)
		return NULL;
	json_array_foreach(arr, i, item) {
		const char *s = json_string_value(item);
		if (s && !(v[(*n)++] = strdup(s))) {
			strv_free(v);
			*n = 0;
			return NULL;
		}
	}
	return v;
}

int image_from_json(json_t *j, struct sm_image *out)
{
	memset(out, 0, sizeof *out);
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "id")))
		return -1;
	out->id = jdup(j, "id");
	out->config_digest = jdup(j, "config_digest");
	out->tags = jstrv(j, "tags", &out->n_tags);
	out->size = (uint64_t)json_integer_value(json_object_get(j, "size"));
	out->created = jdup(j, "created");
	out->os = jdup(j, "os");
	out->arch = jdup(j, "arch");
	out->workdir = jdup(j, "workdir");
	out->user = jdup(j, "user");
	out->entrypoint = jstrv(j, "entrypoint", &out->n_entrypoint);
	out->cmd = jstrv(j, "cmd", &out->n_cmd);
	out->env = jstrv(j, "env", &out->n_env);
	out->exposed_ports = jstrv(j, "exposed_ports", &out->n_exposed_ports);
	out->layers = jstrv(j, "layers", &out->n_layers);
	out->json = json_dumps(j, JSON_COMPACT);
	return out->id && out->json ? 0 : -1;
}

void sm_image_free(struct sm_image *img)
{
	if (!img)
		return;
	free(img->id);
	free(img->config_digest);
	strv_free(img->tags);
	free(img->created);
	free(img->os);
	free(img->arch);
	free(img->workdir);
	free(img->user);
	strv_free(img->entrypoint);
	strv_free(img->cmd);
	strv_free(img->env);
	strv_free(img->exposed_ports);
	strv_free(img->layers);
	free(img->json);
	memset(img, 0, sizeof *img);
}

static int image_decode(json_t *j, void *out)
{
	return image_from_json(j, out);
}

static void image_free_one(void *img)
{
	sm_image_free(img);
}

const struct json_kind image_kind = { "images", sizeof(struct sm_image), image_decode,
				      image_free_one, "image", "an id" };

void sm_image_list_free(struct sm_image *list, size_t n)
{
	free_list(&image_kind, list, n);
}
