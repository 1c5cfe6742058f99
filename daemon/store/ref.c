/* ref.c - image reference parsing (see ref.h).
 *
 * Grammar follows the distribution/reference rules: path components are
 * lowercase alphanumerics joined by '.', '_', '__' or '-'; tags are
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; only sha256 digests are accepted.
 */
#include "ref.h"
#include "err.h"
#include "digest.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_domain(const char *comp, size_t len)
{
	if (len == 9 && !strncmp(comp, "localhost", 9))
		return true;
	return memchr(comp, '.', len) || memchr(comp, ':', len);
}

static bool valid_domain(const char *d)
{
	if (!*d)
		return false;
	for (; *d; d++)
		if (!isalnum((unsigned char)*d) && !strchr(".-:[]", *d))
			return false;
	return true;
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool valid_component(const char *c, size_t len)
{
	size_t i = 0;

	if (!len || (!islower((unsigned char)c[0]) && !isdigit((unsigned char)c[0])))
		return false;
	while (i < len) {
		if (islower((unsigned char)c[i]) || isdigit((unsigned char)c[i])) {
			i++;
			continue;
		}
		size_t s = i;
		if (c[i] == '.')
			i++;
		else if (c[i] == '_')
			i += (i + 1 < len && c[i + 1] == '_') ? 2 : 1;
		else if (c[i] == '-')
			while (i < len && c[i] == '-')
				i++;
		else
			return false;
		if (i == s || i >= len)
			return false;
		if (!islower((unsigned char)c[i]) && !isdigit((unsigned char)c[i]))
			return false;
	}
	return true;
}

static bool valid_repo(const char *repo)
{
	const char *p = repo;

	if (!*repo || strlen(repo) > 255)
		return false;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (!valid_component(p, len))
			return false;
		p += len;
		if (*p == '/')
			p++;
		if (slash && !*p)
			return false;
	}
	return true;
}

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);

	if (!n || n > 128 || t[0] == '.' || t[0] == '-')
		return false;
	for (; *t; t++)
		if (!isalnum((unsigned char)*t) && !strchr("_.-", *t))
			return false;
	return true;
}

/* Split "name[:tag][@digest]" after the domain was cut off. */
static int split_tag_digest(char *rest, struct sm_ref *r, char *err, size_t errlen)
{
	char *at = strchr(rest, '@');
	if (at) {
		*at = '\0';
		if (!sm_digest_valid(at + 1))
			return sm_err(err, errlen, "invalid digest \"%s\" (want sha256:<64 hex>)", at + 1);
		snprintf(r->digest, sizeof r->digest, "%s", at + 1);
	}
	char *slash = strrchr(rest, '/');
	char *colon = strrchr(slash ? slash : rest, ':');
	if (colon) {
		*colon = '\0';
		if (!valid_tag(colon + 1))
			return sm_err(err, errlen, "invalid tag \"%s\"", colon + 1);
		snprintf(r->tag, sizeof r->tag, "%s", colon + 1);
	}
	return 0;
}

int sm_ref_parse(const char *s, struct sm_ref *r, char *err, size_t errlen)
{
	char buf[1024], *rest;

	memset(r, 0, sizeof *r);
	if (!s || !*s)
		return sm_err(err, errlen, "empty image reference");
	if (strlen(s) >= sizeof buf)
		return sm_err(err, errlen, "image reference too long");
	snprintf(buf, sizeof buf, "%s", s);
	rest = buf;
	char *slash = strchr(buf, '/');
	if (slash && is_domain(buf, (size_t)(slash - buf))) {
		*slash = '\0';
		if (!valid_domain(buf) || strlen(buf) >= sizeof r->domain)
			return sm_err(err, errlen, "invalid registry host \"%s\" in \"%s\"", buf, s);
		snprintf(r->domain, sizeof r->domain, "%s", buf);
		rest = slash + 1;
	} else {
		snprintf(r->domain, sizeof r->domain, "docker.io");
	}
	if (!strcmp(r->domain, "index.docker.io") || !strcmp(r->domain, "registry-1.docker.io"))
		snprintf(r->domain, sizeof r->domain, "docker.io");
	if (split_tag_digest(rest, r, err, errlen) < 0)
		return sm_err_prefix(err, errlen, "reference \"%s\": ", s);
	if (!strcmp(r->domain, "docker.io") && !strchr(rest, '/')) {
		if (snprintf(r->repo, sizeof r->repo, "library/%s", rest) >= (int)sizeof r->repo)
			return sm_err(err, errlen, "reference \"%s\": name too long", s);
	} else {
		snprintf(r->repo, sizeof r->repo, "%s", rest);
	}
	if (!valid_repo(r->repo))
		return sm_err(err, errlen, "reference \"%s\": invalid repository name \"%s\" "
			      "(lowercase letters, digits and . _ - separators)", s, rest);
	if (!r->tag[0] && !r->digest[0])
		snprintf(r->tag, sizeof r->tag, "latest");
	return 0;
}

void sm_ref_name(const struct sm_ref *r, char *buf, size_t len)
{
	if (r->tag[0])
		snprintf(buf, len, "%s/%s:%s", r->domain, r->repo, r->tag);
	else
		snprintf(buf, len, "%s/%s@%s", r->domain, r->repo, r->digest);
}

const char *sm_ref_registry_host(const struct sm_ref *r)
{
	return strcmp(r->domain, "docker.io") ? r->domain : "registry-1.docker.io";
}

const char *sm_ref_target(const struct sm_ref *r)
{
	return r->digest[0] ? r->digest : r->tag;
}
