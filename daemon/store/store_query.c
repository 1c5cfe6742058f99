/* store_query.c - list, inspect and delete (store.h), and freeing what
 * they return. Thin: the SQL is in catalog*.c, the JSON in manifest.c.
 */
#include "store_int.h"
#include "catalog.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void sm_image_config_free(struct sm_image_config *c)
{
	if (!c)
		return;
	free(c->manifest_digest);
	free(c->config_digest);
	free(c->os);
	free(c->arch);
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->env);
	strv_free(c->exposed_ports);
	free(c->workdir);
	free(c->user);
	strv_free(c->layers);
	free(c);
}

void sm_image_list_free(struct sm_image_info *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].id);
		free(list[i].config_digest);
		strv_free(list[i].tags);
	}
	free(list);
}

int sm_store_list(struct sm_store *st, struct sm_image_info **out, size_t *n,
		  char *err, size_t errlen)
{
	pthread_mutex_lock(&st->lock);
	int rc = sm_cat_list(st, out, n, err, errlen);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Layer relpaths become absolute paths in place. */
static int absolutize(const struct sm_store *st, char **v)
{
	for (size_t i = 0; v[i]; i++) {
		char *p = malloc(strlen(st->dir) + strlen(v[i]) + 2);
		if (!p)
			return -1;
		sm_abspath(st, v[i], p, strlen(st->dir) + strlen(v[i]) + 2);
		free(v[i]);
		v[i] = p;
	}
	return 0;
}

int sm_store_inspect(struct sm_store *st, const char *name, struct sm_image_config **out,
		     char *err, size_t errlen)
{
	char id[SM_DIGEST_LEN], cdig[SM_DIGEST_LEN], *cfg = NULL, **layers = NULL;
	size_t nl = 0;

	if (errlen)
		err[0] = '\0';
	pthread_mutex_lock(&st->lock);
	int rc = sm_cat_resolve(st, name, id, err, errlen);
	if (rc == 0)
		rc = sm_cat_image_detail(st, id, &cfg, cdig, &layers, &nl, err, errlen);
	pthread_mutex_unlock(&st->lock);
	if (rc < 0)
		return -1;
	struct sm_image_config *c = calloc(1, sizeof *c);
	if (!c || sm_config_parse(cfg, strlen(cfg), c, err, errlen) < 0 ||
	    absolutize(st, layers) < 0 || !(c->manifest_digest = strdup(id)) ||
	    !(c->config_digest = strdup(cdig))) {
		if (c)
			c->layers = layers;
		else
			strv_free(layers);
		sm_image_config_free(c);
		free(cfg);
		return err[0] ? -1 : sm_err(err, errlen, "out of memory");
	}
	free(cfg);
	c->layers = layers;
	c->n_layers = nl;
	*out = c;
	return 0;
}

int sm_store_delete(struct sm_store *st, const char *name, char *err, size_t errlen)
{
	pthread_mutex_lock(&st->lock);
	int rc = sm_cat_delete(st, name, err, errlen);
	pthread_mutex_unlock(&st->lock);
	return rc;
}
