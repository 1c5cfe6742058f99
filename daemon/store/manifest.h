/* manifest.h - OCI / Docker schema-2 manifests, indexes and image configs.
 *
 * Pure JSON handling shared by the registry pull and the offline import:
 * classify a document, pick a platform from an index, read a manifest's
 * config and layer descriptors (refusing media types we cannot unpack),
 * and turn an image config into the public struct sm_image_config.
 */
#ifndef SM_STORE_MANIFEST_H
#define SM_STORE_MANIFEST_H

#include "digest.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define SM_MT_OCI_INDEX     "application/vnd.oci.image.index.v1+json"
#define SM_MT_DOCKER_LIST   "application/vnd.docker.distribution.manifest.list.v2+json"
#define SM_MT_OCI_MANIFEST  "application/vnd.oci.image.manifest.v1+json"
#define SM_MT_DOCKER_V2     "application/vnd.docker.distribution.manifest.v2+json"
#define SM_MT_OCI_CONFIG    "application/vnd.oci.image.config.v1+json"
#define SM_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define SM_MANIFEST_ACCEPT  SM_MT_OCI_INDEX ", " SM_MT_DOCKER_LIST ", " \
			    SM_MT_OCI_MANIFEST ", " SM_MT_DOCKER_V2

#define SM_MANIFEST_MAX (4u << 20)   /* bytes; larger documents are refused */
#define SM_CONFIG_MAX   (8u << 20)

struct sm_desc {
	char media_type[128];
	char digest[SM_DIGEST_LEN];
	uint64_t size;
};

struct sm_manifest {
	char media_type[128];
	struct sm_desc config;
	struct sm_desc *layers;
	size_t nlayers;
};

enum sm_doc_kind { SM_DOC_INDEX, SM_DOC_MANIFEST };

/* Classify by the document's mediaType, else content_type, else shape. */
int sm_doc_kind(const char *body, size_t len, const char *content_type,
		enum sm_doc_kind *kind, char *mt_out, size_t mt_len,
		char *err, size_t errlen);

/* Pick os/arch[/variant] from an index; error lists what is available. */
int sm_index_select(const char *body, size_t len, const char *os,
		    const char *arch, const char *variant, struct sm_desc *out,
		    char *err, size_t errlen);

/* How well a platform (pos/parch/pvar, any may be NULL) fits the wanted
 * one: 2 exact, 1 acceptable (a variant where none was asked), 0 not. */
int sm_platform_score(const char *pos, const char *parch, const char *pvar,
		      const char *os, const char *arch, const char *variant);

int sm_manifest_parse(const char *body, size_t len, struct sm_manifest *m,
		      char *err, size_t errlen);
void sm_manifest_free(struct sm_manifest *m);

/* Number of rootfs.diff_ids in an image config, -1 when absent. */
long sm_config_diff_ids(const char *body, size_t len);

/* Fills entrypoint, cmd, env, workdir, user, exposed ports, os, arch. */
int sm_config_parse(const char *body, size_t len, struct sm_image_config *c,
		    char *err, size_t errlen);

#endif
