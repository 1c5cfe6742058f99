/* auth.c - challenge parsing and Docker config credentials (see auth.h). */
#include "auth.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Reads key=value or key="value" at *p; advances past a trailing comma. */
static int next_param(const char **p, char *key, size_t klen, char *val, size_t vlen)
{
	const char *s = *p;
	size_t k = 0, v = 0;

	while (*s == ' ' || *s == ',' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	while (*s && *s != '=' && *s != ' ' && k + 1 < klen)
		key[k++] = *s++;
	key[k] = '\0';
	if (*s != '=')
		return -1;
	s++;
	if (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1])
				s++;
			if (v + 1 < vlen)
				val[v++] = *s;
		}
		if (*s != '"')
			return -1;
		s++;
	} else {
		while (*s && *s != ',' && *s != ' ' && v + 1 < vlen)
			val[v++] = *s++;
	}
	val[v] = '\0';
	*p = s;
	return 1;
}

int sm_auth_parse_challenge(const char *hdr, struct sm_challenge *c)
{
	char key[64], val[512];
	const char *p = hdr;
	int r;

	memset(c, 0, sizeof *c);
	while (*p == ' ')
		p++;
	size_t n = strcspn(p, " ");
	if (!n || n >= sizeof c->scheme)
		return -1;
	snprintf(c->scheme, sizeof c->scheme, "%.*s", (int)n, p);
	p += n;
	while ((r = next_param(&p, key, sizeof key, val, sizeof val)) == 1) {
		if (!strcasecmp(key, "realm"))
			snprintf(c->realm, sizeof c->realm, "%s", val);
		else if (!strcasecmp(key, "service"))
			snprintf(c->service, sizeof c->service, "%s", val);
		else if (!strcasecmp(key, "scope"))
			snprintf(c->scope, sizeof c->scope, "%s", val);
	}
	if (r < 0)
		return -1;
	if (!strcasecmp(c->scheme, "Bearer"))
		return c->realm[0] ? 0 : -1;
	return strcasecmp(c->scheme, "Basic") ? -1 : 0;
}

/* Host part of an auths key: "https://host:5000/v1/" -> "host:5000". */
static void key_host(const char *key, char *out, size_t len)
{
	const char *s = strstr(key, "://");
	s = s ? s + 3 : key;
	snprintf(out, len, "%.*s", (int)strcspn(s, "/"), s);
}

static int key_matches(const char *key, const char *domain)
{
	char host[256];

	key_host(key, host, sizeof host);
	if (!strcmp(host, domain))
		return 1;
	if (!strcmp(domain, "docker.io"))
		return !strcmp(host, "index.docker.io") || !strcmp(host, "registry-1.docker.io");
	return 0;
}

static int decode_auth(const char *b64, char *user, size_t ulen, char *pass, size_t plen,
		       char *err, size_t errlen)
{
	size_t n = strlen(b64);
	unsigned char *out = malloc(n + 4);
	if (!out)
		return sm_err(err, errlen, "out of memory");
	int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(out);
		return sm_err(err, errlen, "invalid base64 in \"auth\"");
	}
	while (n && b64[n - 1] == '=' && len > 0)
		n--, len--;
	out[len] = '\0';
	char *colon = strchr((char *)out, ':');
	if (!colon) {
		free(out);
		return sm_err(err, errlen, "\"auth\" is not base64 of user:password");
	}
	*colon = '\0';
	snprintf(user, ulen, "%s", (char *)out);
	snprintf(pass, plen, "%s", colon + 1);
	free(out);
	return 1;
}

static int entry_creds(json_t *e, char *user, size_t ulen, char *pass, size_t plen,
		       char *err, size_t errlen)
{
	const char *a = json_string_value(json_object_get(e, "auth"));
	const char *u = json_string_value(json_object_get(e, "username"));
	const char *p = json_string_value(json_object_get(e, "password"));

	if (a && *a)
		return decode_auth(a, user, ulen, pass, plen, err, errlen);
	if (u && p) {
		snprintf(user, ulen, "%s", u);
		snprintf(pass, plen, "%s", p);
		return 1;
	}
	return 0;
}

static void default_path(char *buf, size_t len)
{
	const char *dc = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (dc && *dc)
		snprintf(buf, len, "%s/config.json", dc);
	else
		snprintf(buf, len, "%s/.docker/config.json", home ? home : "/root");
}

int sm_auth_docker_creds(const char *config_path, const char *domain,
			 char *user, size_t ulen, char *pass, size_t plen,
			 char *err, size_t errlen)
{
	char path[1024];
	json_error_t je;
	const char *key;
	json_t *e;
	int rc = 0;

	if (config_path)
		snprintf(path, sizeof path, "%s", config_path);
	else
		default_path(path, sizeof path);
	if (access(path, F_OK) < 0)
		return config_path ? sm_err(err, errlen, "%s: %s", path, strerror(errno)) : 0;
	json_t *root = json_load_file(path, 0, &je);
	if (!root)
		return sm_err(err, errlen, "%s: invalid JSON (line %d: %s)", path, je.line, je.text);
	const char *helper = NULL;
	json_object_foreach(json_object_get(root, "credHelpers"), key, e)
		if (key_matches(key, domain) && json_is_string(e))
			helper = json_string_value(e);
	if (!helper)
		helper = json_string_value(json_object_get(root, "credsStore"));
	if (helper) {
		const char *server = strcmp(domain, "docker.io") ? domain
				     : "https://index.docker.io/v1/";
		rc = sm_cred_helper_get(helper, server, user, ulen, pass, plen, err, errlen);
	} else {
		json_object_foreach(json_object_get(root, "auths"), key, e) {
			if (key_matches(key, domain)) {
				rc = entry_creds(e, user, ulen, pass, plen, err, errlen);
				if (rc != 0)
					break;
			}
		}
	}
	json_decref(root);
	if (rc < 0)
		return sm_err_prefix(err, errlen, "%s: credentials for %s: ", path, domain);
	return rc;
}
