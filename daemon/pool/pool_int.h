/* pool_int.h - what daemon/pool's files share: the pools and one pool. */
#ifndef SM_POOL_INT_H
#define SM_POOL_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "daemon/pool/pool.h"

/* A ready VM and what it was restored as. */
struct ready_vm {
	struct vm_rec *vm;         /* a reference */
	long since_ms;             /* ready since (CLOCK_MONOTONIC) */
	int vcpus;
	unsigned memory_mib;
	char image_id[80];
};

struct pool {
	struct pool *next;
	struct pools *owner;
	char key[512];             /* canonical image name or id (pools_key) */
	struct pool_settings set;
	bool from_config;          /* the config file's (not saved) */
	/* The image as last looked up; the pool's thread alone replaces cfg
	 * and reads it without the mutex. image_id "": unknown or gone. */
	struct sm_image_config *cfg;
	char image_id[80];
	long resolve_at;           /* next look-up (ms, monotonic) */
	struct ready_vm *ready;    /* oldest first */
	size_t n_ready, cap_ready;
	struct vm_rec **out;       /* handed out (references), maybe ended */
	size_t n_out, cap_out;
	unsigned restoring;
	unsigned peak;             /* most VMs alive at once (ready, restoring, out) */
	unsigned want;             /* ready target: min, raised by misses */
	long last_acquire;         /* ms, monotonic; 0: never */
	uint64_t hits, misses, restores, evictions, failures, acquires;
	double acquire_ms_total;
	char last_error[1600];
	unsigned backoff_ms;
	long backoff_until;
	bool stop;
	pthread_cond_t cv;         /* wakes the pool's thread */
};

struct pools {
	struct pools_config cfg;
	pthread_mutex_t mu;
	struct pool *list;
	int threads;               /* pool threads alive (detached) */
	pthread_cond_t threads_cv;
	bool stopping;
	sqlite3 *db;               /* DATA/vms.db, table pools */
	pthread_mutex_t db_mu;
};

/* pool.c: a saved pool (pool_db_load). */
int pools_start_saved(struct pools *p, const char *key, const struct pool_settings *s,
		      char *err, size_t errlen);

/* pool_db.c */
int pool_db_open(struct pools *p, const char *data_dir, char *err, size_t errlen);
int pool_db_load(struct pools *p, char *err, size_t errlen);
int pool_db_save(struct pools *p, const char *key, const struct pool_settings *s, char *err,
		 size_t errlen);
void pool_db_delete(struct pools *p, const char *key);
void pool_db_close(struct pools *p);

#endif
