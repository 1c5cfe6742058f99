/* guest_user.c - a USER (uid, gid, supplementary groups, home) resolved
 * the way docker's runtime does it, from the guest's own /etc/passwd and
 * /etc/group (read through the agent). See vms_req.h. */
#include "daemon/api/vms_req.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/agent_client/agent_client.h"

#define PASSWD_MAX (4u << 20)
#define FILE_MS 10000

static bool parse_id(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 0xfffffffful)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The guest's file as a string (NULL when it has none). */
static char *read_text(struct agent_client *c, const char *file)
{
	void *data;
	size_t len;
	if (agent_client_read_file(c, file, PASSWD_MAX, &data, &len, NULL, FILE_MS) < 0)
		return NULL;
	char *text = realloc(data, len + 1);
	if (!text) {
		free(data);
		return NULL;
	}
	text[len] = 0;
	return text;
}

/* Splits a passwd/group line into up to 7 ':' fields (in place). */
static int fields(char *line, char *f[7])
{
	int n = 0;
	for (char *p = line; p && n < 7; n++) {
		f[n] = p;
		p = strchr(p, ':');
		if (p)
			*p++ = 0;
	}
	return n;
}

/* The passwd entry of name (or of uid when name is NULL): 1 found (uid,
 * gid, home, *login), 0 not. */
static int passwd_find(char *text, const char *name, uint32_t uid, struct guest_user *u,
		       char *login, size_t loginlen)
{
	for (char *save, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f[7] = { 0 };
		uint32_t id, gid;
		if (fields(l, f) < 4 || !parse_id(f[2], &id) || !parse_id(f[3], &gid))
			continue;
		if (name ? strcmp(f[0], name) : id != uid)
			continue;
		u->uid = id;
		u->gid = gid;
		snprintf(u->home, sizeof u->home, "%s", f[5] && f[5][0] ? f[5] : "/");
		snprintf(login, loginlen, "%s", f[0]);
		return 1;
	}
	return 0;
}

/* Whether the comma-separated list holds name. */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p; ) {
		size_t k = strcspn(p, ",");
		if (k == n && !strncmp(p, name, n))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* group: by name into *gid (-1 when not there); login: every group
 * listing it into u->groups. */
static int group_scan(char *text, const char *group, uint32_t *gid, const char *login,
		      struct guest_user *u)
{
	int found = -1;
	for (char *save, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f[7] = { 0 };
		uint32_t id;
		if (fields(l, f) < 3 || !parse_id(f[2], &id))
			continue;
		if (group && found < 0 && !strcmp(f[0], group)) {
			*gid = id;
			found = 0;
		}
		if (login && f[3] && listed(f[3], login) && u->ngroups < SM_USER_MAX_GROUPS)
			u->groups[u->ngroups++] = id;
	}
	return found;
}

int resolve_user(struct agent_client *c, const char *user, struct guest_user *u,
		 char *err, size_t errlen)
{
	char spec[256], login[256] = "";
	memset(u, 0, sizeof *u);
	snprintf(u->home, sizeof u->home, "/");
	snprintf(spec, sizeof spec, "%s", user ? user : "");
	char *group = strchr(spec, ':');
	if (group)
		*group++ = 0;
	bool numeric = parse_id(spec, &u->uid) || !spec[0];
	char *passwd = read_text(c, "/etc/passwd");
	int found = passwd && passwd_find(passwd, numeric ? NULL : spec, u->uid, u, login,
					  sizeof login);
	free(passwd);
	if (!found && !numeric) {
		snprintf(err, errlen, "unable to find user %s: no user \"%s\" in the guest's "
			 "/etc/passwd", spec, spec);
		return -1;
	}
	bool want_groups = found && !group;
	bool named_group = group && !parse_id(group, &u->gid);
	if (!want_groups && !named_group)
		return 0;
	char *text = read_text(c, "/etc/group");
	int rc = text ? group_scan(text, named_group ? group : NULL, &u->gid,
				   want_groups ? login : NULL, u) : -1;
	free(text);
	if (named_group && rc < 0) {
		snprintf(err, errlen, "unable to find group %s: no group \"%s\" in the guest's "
			 "/etc/group", group, group);
		return -1;
	}
	return 0;
}
