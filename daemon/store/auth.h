/* auth.h - registry authentication inputs: WWW-Authenticate challenges and
 * credentials from a Docker config.json (`credHelpers`, then `credsStore`,
 * then `auths` entries with base64 `auth` or username/password, the docker
 * CLI's order). The token exchange itself is in registry.c.
 */
#ifndef SM_STORE_AUTH_H
#define SM_STORE_AUTH_H

#include <stddef.h>

struct sm_challenge {
	char scheme[16];    /* "Bearer" or "Basic" */
	char realm[512];
	char service[512];
	char scope[512];
};

/* 0 on a recognised challenge, -1 otherwise. */
int sm_auth_parse_challenge(const char *hdr, struct sm_challenge *c);

/* Runs docker-credential-<helper> get for server: 1 found, 0 none, -1. */
int sm_cred_helper_get(const char *helper, const char *server, char *user, size_t ulen,
		       char *pass, size_t plen, char *err, size_t errlen);

/* Looks up domain in the config file (NULL path: $DOCKER_CONFIG/config.json
 * or $HOME/.docker/config.json). 1 found, 0 none, -1 unreadable/invalid. */
int sm_auth_docker_creds(const char *config_path, const char *domain,
			 char *user, size_t ulen, char *pass, size_t plen,
			 char *err, size_t errlen);

#endif
