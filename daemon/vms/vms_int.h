/* vms_int.h - what daemon/vms's files share: the registry and a record. */
#ifndef SM_VMS_INT_H
#define SM_VMS_INT_H

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/un.h>

#include "daemon/store/store.h"
#include "daemon/vms/vms.h"
#include "daemon/vms/worker.h"

#define VM_ID_LEN 16

struct vms {
	struct vms_config cfg;     /* strings copied */
	char *data_dir, *vmm_path, *kernel, *initrd;
	pthread_mutex_t mu;        /* the list and every record's state */
	struct vm_rec **recs;
	size_t n, cap;
	sqlite3 *db;               /* under mu */
};

struct vm_rec {
	int refs;                  /* under vms->mu */
	struct vms *v;
	char id[VM_ID_LEN + 1];
	char *image, *image_id;
	int vcpus;
	unsigned memory_mib;
	json_t *labels;            /* object */
	char **env;                /* overrides, NULL-terminated */
	char **cmd;                /* NULL: the image's */
	char *workdir, *user;      /* "" when not overridden */
	bool auto_remove;
	struct sm_image_config *cfg;  /* copy of the image's (NULL when gone) */
	enum vm_state state;
	time_t created, started, exited;
	int outcome;               /* enum vm_outcome, -1 none */
	char why[256];
	char dir[PATH_MAX];
	char vsock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char console[PATH_MAX + 16];
	struct worker *w;
	int pid;
	bool removed;
	char *text;                /* the JSON as compact text, NULL: not made
				      since the last change (rec_changed) */
	size_t text_len;
};

/* vms_rec.c */
struct vm_rec *rec_new(struct vms *v, const struct vm_spec *spec, char *err, size_t errlen);
void rec_free(struct vm_rec *r);
json_t *rec_json_locked(struct vm_rec *r);
/* r's JSON as compact text (cached until rec_changed), or NULL. */
const char *rec_text_locked(struct vm_rec *r, size_t *len);
/* Any field rec_json_locked shows changed: drop the cached text. */
void rec_changed(struct vm_rec *r);
struct vm_rec *rec_from_json(struct vms *v, json_t *j);
int rec_paths(struct vm_rec *r, char *err, size_t errlen);
void rmtree(const char *dir);

/* vms_db.c (callers hold vms->mu) */
int db_open(struct vms *v, char *err, size_t errlen);
void db_save(struct vms *v, struct vm_rec *r);
void db_delete(struct vms *v, const char *id);
/* Loads the previous run's rows as gone records (their files removed). */
int db_load_previous(struct vms *v, char *err, size_t errlen);
int vms_add_rec(struct vms *v, struct vm_rec *r);

/* vms_boot.c */
int boot_start(struct vms *v, struct vm_rec *r, char *err, size_t errlen);
int boot_wait_agent(struct vms *v, struct vm_rec *r, char *err, size_t errlen);

/* vms.c */
void vms_publish(struct vms *v, struct vm_rec *r, const char *type);
void vms_on_exit(struct vm_rec *r, const struct worker_exit *ex);

#endif
