/* ref.h - image reference parsing with Docker Hub's defaults.
 *
 * "busybox" -> docker.io/library/busybox:latest; "host:5000/a/b@sha256:..."
 * keeps the digest (which wins over a tag for fetching). The first path
 * component is a registry host when it has a '.', a ':' or is "localhost".
 */
#ifndef SM_STORE_REF_H
#define SM_STORE_REF_H

#include <stddef.h>

struct sm_ref {
	char domain[256];   /* "docker.io", "ghcr.io", "127.0.0.1:5000" */
	char repo[256];     /* "library/busybox" */
	char tag[129];      /* "" when only a digest was given */
	char digest[72];    /* "sha256:<64 hex>" or "" */
};

int sm_ref_parse(const char *s, struct sm_ref *r, char *err, size_t errlen);

/* "domain/repo:tag" (tag form) or "domain/repo@digest" when no tag. */
void sm_ref_name(const struct sm_ref *r, char *buf, size_t len);

/* Host to contact: docker.io is served by registry-1.docker.io. */
const char *sm_ref_registry_host(const struct sm_ref *r);

/* The manifest reference to request: the digest if any, else the tag. */
const char *sm_ref_target(const struct sm_ref *r);

#endif
