/* handlers.h - one handler per route; one file per resource (h_*.c). */
#ifndef SM_API_HANDLERS_H
#define SM_API_HANDLERS_H

#include "daemon/api/server.h"

/* h_system.c */
void h_version(struct api_req *r);
void h_info(struct api_req *r);
void h_metrics(struct api_req *r);
void h_system_gc(struct api_req *r);

/* h_events.c */
void h_events(struct api_req *r);

/* h_images.c */
void h_images_pull(struct api_req *r);
void h_images_import(struct api_req *r);
void h_images_list(struct api_req *r);
void h_images_inspect(struct api_req *r);
void h_images_delete(struct api_req *r);

/* h_vms.c */
void h_vms_create(struct api_req *r);
void h_vms_list(struct api_req *r);
void h_vms_inspect(struct api_req *r);
void h_vms_delete(struct api_req *r);
void h_vms_stop(struct api_req *r);

/* h_snapshots.c */
void h_vms_snapshot(struct api_req *r);
void h_vms_fork(struct api_req *r);
void h_snapshots_list(struct api_req *r);
void h_snapshots_inspect(struct api_req *r);
void h_snapshots_delete(struct api_req *r);

/* h_pools.c */
void h_pools_list(struct api_req *r);
void h_pools_inspect(struct api_req *r);
void h_pools_set(struct api_req *r);
void h_pools_delete(struct api_req *r);

/* h_volumes.c */
void h_volumes_create(struct api_req *r);
void h_volumes_list(struct api_req *r);
void h_volumes_inspect(struct api_req *r);
void h_volumes_delete(struct api_req *r);

/* h_vms_logs.c */
void h_vms_logs(struct api_req *r);
/* h_vms_logs_main.c: source=main (takes the reference to vm) */
struct vm_rec;
void h_vms_logs_main(struct api_req *r, struct vm_rec *vm, bool follow);

/* h_vms_main.c */
void h_vms_main(struct api_req *r);
void h_vms_wait(struct api_req *r);

/* h_vms_stats.c */
void h_vms_stats(struct api_req *r);

/* h_vms_exec.c */
void h_vms_exec(struct api_req *r);
void h_vms_exec_signal(struct api_req *r);
void h_vms_exec_resize(struct api_req *r);

/* h_vms_exec_tty.c */
void h_vms_exec_tty(struct api_req *r);

/* h_vms_files.c */
void h_vms_files_get(struct api_req *r);
void h_vms_files_put(struct api_req *r);

/* Images in the store, or -1 when it cannot tell. */
long h_images_count(struct api_server *srv);

/* The store's images changed (or may have): drop the cached count. */
void h_images_changed(struct api_server *srv);

#endif
