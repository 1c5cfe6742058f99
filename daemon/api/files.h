/* files.h - what the files routes share: h_vms_files.c (single files)
 * and h_vms_files_tar.c (folders as tar streams). */
#ifndef SM_API_FILES_H
#define SM_API_FILES_H

#include "daemon/api/server.h"

struct agent_client;
struct vm_rec;

#define FILE_TIMEOUT_MS 120000

/* 0 if path (the query's) is absolute and clean, else -1 after a 400. */
int files_check_path(struct api_req *r, const char *path);

/* The VM (running) and an agent connection to it, or NULL after replying. */
struct agent_client *files_open_agent(struct api_req *r, struct vm_rec **vm_out);

/* GET of a folder: c answered that path is a directory. Replies. */
void files_get_dir(struct api_req *r, struct agent_client *c, const char *path);

/* PUT with a tar body: extracts it into the folder path. Replies. */
void files_put_tar(struct api_req *r, const char *path);

#endif
