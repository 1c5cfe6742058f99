/* vms_command.c - a VM's default command, merged as docker merges it.
 *
 * The command is entrypoint + cmd, each the VM's own when it was given
 * one, else the image's, with docker's two rules on top (moby's
 * mergeAndVerifyConfig): an entrypoint given (even an empty one) replaces
 * the image's and drops the image's cmd, so only a cmd given with it
 * follows; and an entrypoint of exactly [""] is none (what `docker run
 * --entrypoint ""` sends, and what some images carry). Exec without argv,
 * run -d's main process and the create-time check (no command: 422) all
 * take it from here.
 */
#include "daemon/vms/vms_int.h"

#include <stdlib.h>

struct strv_part {
	const char *const *v;
	size_t n;
};

/* The two halves: entrypoint (ep: the VM's, NULL: the image's) and cmd. */
static void command_parts(const struct sm_image_config *cfg, const char *const *ep,
			  const char *const *cmd, struct strv_part *e, struct strv_part *c)
{
	*e = ep ? (struct strv_part){ ep, strv_len(ep) }
		: (struct strv_part){ (const char *const *)cfg->entrypoint, cfg->n_entrypoint };
	if (cmd)
		*c = (struct strv_part){ cmd, strv_len(cmd) };
	else if (ep)
		*c = (struct strv_part){ NULL, 0 };   /* the image's cmd is dropped */
	else
		*c = (struct strv_part){ (const char *const *)cfg->cmd, cfg->n_cmd };
	if (e->n == 1 && !e->v[0][0])
		e->n = 0;
}

/* entrypoint + cmd, NULL-terminated (strings borrowed); NULL when empty
 * or out of memory. */
static const char **command_merge(const struct sm_image_config *cfg, const char *const *ep,
				  const char *const *cmd)
{
	struct strv_part e, c;
	command_parts(cfg, ep, cmd, &e, &c);
	if (e.n + c.n == 0)
		return NULL;
	const char **argv = calloc(e.n + c.n + 1, sizeof *argv);
	for (size_t i = 0; argv && i < e.n; i++)
		argv[i] = e.v[i];
	for (size_t i = 0; argv && i < c.n; i++)
		argv[e.n + i] = c.v[i];
	return argv;
}

const char **vm_command(const struct vm_rec *r)
{
	if (!r->cfg)
		return NULL;
	return command_merge(r->cfg, (const char *const *)r->entrypoint,
			     (const char *const *)r->cmd);
}

bool vm_spec_has_command(const struct vm_spec *spec)
{
	struct strv_part e, c;
	command_parts(spec->image_cfg, spec->entrypoint, spec->cmd, &e, &c);
	return e.n + c.n > 0;
}
