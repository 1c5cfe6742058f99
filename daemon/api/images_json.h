/* images_json.h - how an image looks in the API.
 *
 * Listed: {"id","config_digest","tags":[...],"size","created"}.
 * Inspected: the same plus the runtime config the VM will use
 * ("os","arch","entrypoint","cmd","env","exposed_ports","workdir","user")
 * and "layers" (the erofs image of each layer, lowest first).
 * "created" is when the image entered this store, RFC 3339 UTC.
 */
#ifndef SM_API_IMAGES_JSON_H
#define SM_API_IMAGES_JSON_H

#include <jansson.h>
#include <stddef.h>

struct sm_image_info;
struct sm_store;

json_t *image_info_json(const struct sm_image_info *info);

/* The inspected image, or NULL with the store's message in err. */
json_t *image_detail_json(struct sm_store *st, const char *name, char *err, size_t errlen);

#endif
