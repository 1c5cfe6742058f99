/* pool.c - warm pools (pool.h): the list, acquire, and each pool's thread.
 *
 * One mutex (pools->mu) guards every pool's counters and lists; each pool
 * has a condition variable its thread sleeps on. Lock order: pools->mu,
 * then daemon/vms's mutex (vm_state); daemon/vms never calls in here while
 * it holds its own. Anything slow - restoring, discarding, asking the
 * store - runs without pools->mu.
 *
 * A pool is freed by its own (detached) thread once it is stopped, after
 * taking it out of the list (pools_remove already has), so the thread
 * alone still knows it. pools_close waits for every thread to be gone.
 */
#include "daemon/pool/pool.h"
#include "daemon/pool/pool_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/store/digest.h"
#include "daemon/store/ref.h"
#include "daemon/store/store.h"
#include "daemon/vms/vms.h"

#define RESOLVE_EVERY_MS 10000    /* a tag may move to another image */
#define RESOLVE_MISSING_MS 2000   /* a pool waiting for its image */
#define TICK_MS 500               /* look at the VMs at least this often */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* --- settings ------------------------------------------------------------ */

static int get_uint(json_t *obj, const char *key, unsigned long lo, unsigned long hi,
		    unsigned long *out, bool *given, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	*given = v != NULL;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
	    json_integer_value(v) > (json_int_t)hi) {
		snprintf(err, errlen, "field \"%s\" must be an integer from %lu to %lu", key, lo, hi);
		return -1;
	}
	*out = (unsigned long)json_integer_value(v);
	return 0;
}

int pool_settings_parse(json_t *obj, struct pool_settings *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "min", "max", "idle_timeout", "vcpus", "memory", NULL };
	const char *k;
	json_t *v;
	unsigned long min = 0, max = 0, idle = POOL_DEFAULT_IDLE_S, vcpus = 0, mem = 0;
	bool has_min, has_max, given;
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "expected an object of pool settings");
		return -1;
	}
	json_object_foreach(obj, k, v) {
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k))
			i++;
		if (!keys[i]) {
			snprintf(err, errlen, "unknown field \"%s\"", k);
			return -1;
		}
	}
	if (get_uint(obj, "min", 0, POOL_MAX_VMS, &min, &has_min, err, errlen) < 0 ||
	    get_uint(obj, "max", 1, POOL_MAX_VMS, &max, &has_max, err, errlen) < 0 ||
	    get_uint(obj, "idle_timeout", 0, POOL_MAX_IDLE_S, &idle, &given, err, errlen) < 0 ||
	    get_uint(obj, "vcpus", 1, 64, &vcpus, &given, err, errlen) < 0 ||
	    get_uint(obj, "memory", 64, 1u << 20, &mem, &given, err, errlen) < 0)
		return -1;
	if (!has_min || !has_max) {
		snprintf(err, errlen, "missing required field \"%s\"", has_min ? "max" : "min");
		return -1;
	}
	if (min > max) {
		snprintf(err, errlen, "field \"min\" (%lu) must not be above \"max\" (%lu)", min, max);
		return -1;
	}
	*out = (struct pool_settings){ .min = (unsigned)min, .max = (unsigned)max,
				       .idle_timeout_s = (unsigned)idle, .vcpus = (int)vcpus,
				       .memory_mib = (unsigned)mem };
	return 0;
}

/* --- keys ---------------------------------------------------------------- */

static bool looks_like_id(const char *name)
{
	size_t n = strlen(name);
	return !strncmp(name, "sha256:", 7) ||
	       (n >= 12 && n <= 64 && strspn(name, "0123456789abcdef") == n);
}

int pools_key(struct pools *p, const char *name, char *key, size_t len, char *err,
	      size_t errlen)
{
	if (looks_like_id(name)) {
		struct sm_image_config *cfg;
		if (sm_store_inspect(p->cfg.store, name, &cfg, err, errlen) < 0) {
			if (!sm_digest_valid(name))
				return -1;
			snprintf(key, len, "%s", name);   /* a whole id: it may come */
			return 0;
		}
		snprintf(key, len, "%s", cfg->manifest_digest);
		sm_image_config_free(cfg);
		return 0;
	}
	struct sm_ref ref;
	if (sm_ref_parse(name, &ref, err, errlen) < 0)
		return -1;
	sm_ref_name(&ref, key, len);
	return 0;
}

/* --- the list ------------------------------------------------------------ */

static struct pool *find_locked(struct pools *p, const char *key)
{
	for (struct pool *q = p->list; q; q = q->next)
		if (!strcmp(q->key, key))
			return q;
	return NULL;
}

static void unlink_locked(struct pools *p, struct pool *q)
{
	for (struct pool **at = &p->list; *at; at = &(*at)->next)
		if (*at == q) {
			*at = q->next;
			return;
		}
}

/* The size a pool's VMs have: its own, else the daemon's defaults. */
static void effective_size(const struct pools *p, const struct pool_settings *s, int *vcpus,
			   unsigned *mem)
{
	*vcpus = s->vcpus ? s->vcpus : p->cfg.default_vcpus;
	*mem = s->memory_mib ? s->memory_mib : p->cfg.default_memory_mib;
}

/* Handed-out VMs still alive (under mu). */
static unsigned alive_out_locked(struct pool *q)
{
	unsigned n = 0;
	for (size_t i = 0; i < q->n_out; i++) {
		enum vm_state s = vm_state(q->out[i]);
		n += s == VM_STARTING || s == VM_RUNNING || s == VM_STOPPING;
	}
	return n;
}

/* After the pool grew: its high-water mark of VMs alive at once. */
static void note_peak_locked(struct pool *q)
{
	unsigned alive = (unsigned)q->n_ready + q->restoring + alive_out_locked(q);
	if (alive > q->peak)
		q->peak = alive;
}

static json_t *pool_json_locked(struct pool *q)
{
	int vcpus;
	unsigned mem;
	effective_size(q->owner, &q->set, &vcpus, &mem);
	double avg = q->acquires ? q->acquire_ms_total / (double)q->acquires : 0.0;
	return json_pack("{s:s,s:s?,s:i,s:i,s:i,s:i,s:i,s:s,s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I,"
			 "s:I,s:I,s:f,s:s?}",
		"image", q->key, "image_id", q->image_id[0] ? q->image_id : NULL,
		"min", (int)q->set.min, "max", (int)q->set.max,
		"idle_timeout", (int)q->set.idle_timeout_s, "vcpus", vcpus, "memory_mib", (int)mem,
		"source", q->from_config ? "config" : "api",
		"ready", (int)q->n_ready, "in_use", (int)alive_out_locked(q),
		"restoring", (int)q->restoring, "target", (int)q->want, "peak", (int)q->peak,
		"hits", (json_int_t)q->hits, "misses", (json_int_t)q->misses,
		"restores", (json_int_t)q->restores, "evictions", (json_int_t)q->evictions,
		"failures", (json_int_t)q->failures, "acquires", (json_int_t)q->acquires,
		"acquire_ms_avg", avg, "error", q->last_error[0] ? q->last_error : NULL);
}

json_t *pools_json(struct pools *p)
{
	json_t *a = json_array();
	pthread_mutex_lock(&p->mu);
	for (struct pool *q = p->list; a && q; q = q->next)
		json_array_append_new(a, pool_json_locked(q));
	pthread_mutex_unlock(&p->mu);
	return a;
}

json_t *pool_json(struct pools *p, const char *key)
{
	pthread_mutex_lock(&p->mu);
	struct pool *q = find_locked(p, key);
	json_t *j = q ? pool_json_locked(q) : NULL;
	pthread_mutex_unlock(&p->mu);
	return j;
}

/* --- VM lists -------------------------------------------------------------- */

/* VMs to discard (and drop), or only to drop (put: references to VMs
 * that are no longer the pool's), once the mutex is let go: the last
 * reference to a VM joins its worker's thread, which may be publishing an
 * event, which takes the mutex (pools_kick). */
struct trash {
	struct vm_rec **v;
	size_t n, cap;
	bool put;
};

static void trash_add(struct trash *t, struct vm_rec *vm)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct vm_rec **grown = realloc(t->v, cap * sizeof *grown);
		if (!grown) {   /* cannot defer it: let it leak rather than block */
			fprintf(stderr, "supermachined: pool: out of memory discarding a VM\n");
			return;
		}
		t->v = grown;
		t->cap = cap;
	}
	t->v[t->n++] = vm;
}

/* Without the mutex: discards and drops each. */
static void trash_empty(struct pools *p, struct trash *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!t->put)
			vms_discard(p->cfg.vms, t->v[i]);
		vm_put(t->v[i]);
	}
	free(t->v);
	*t = (struct trash){ .put = t->put };
}

static void ready_remove_locked(struct pool *q, size_t i)
{
	memmove(&q->ready[i], &q->ready[i + 1], (q->n_ready - i - 1) * sizeof *q->ready);
	q->n_ready--;
}

/* vm was restored as vcpus/mem of image_id. */
static int ready_push_locked(struct pool *q, struct vm_rec *vm, long now, int vcpus,
			     unsigned mem, const char *image_id)
{
	if (q->n_ready == q->cap_ready) {
		size_t cap = q->cap_ready ? q->cap_ready * 2 : 8;
		struct ready_vm *grown = realloc(q->ready, cap * sizeof *grown);
		if (!grown)
			return -1;
		q->ready = grown;
		q->cap_ready = cap;
	}
	q->ready[q->n_ready++] = (struct ready_vm){ .vm = vm, .since_ms = now, .vcpus = vcpus,
						    .memory_mib = mem };
	snprintf(q->ready[q->n_ready - 1].image_id, sizeof q->ready[0].image_id, "%s", image_id);
	return 0;
}

static int out_push_locked(struct pool *q, struct vm_rec *vm)
{
	if (q->n_out == q->cap_out) {
		size_t cap = q->cap_out ? q->cap_out * 2 : 8;
		struct vm_rec **grown = realloc(q->out, cap * sizeof *grown);
		if (!grown)
			return -1;
		q->out = grown;
		q->cap_out = cap;
	}
	q->out[q->n_out++] = vm;
	return 0;
}

/* A ready VM that still fits the pool: same image, same size. */
static bool fits_locked(struct pool *q, const struct ready_vm *r)
{
	int vcpus;
	unsigned mem;
	effective_size(q->owner, &q->set, &vcpus, &mem);
	return r->vcpus == vcpus && r->memory_mib == mem && !strcmp(r->image_id, q->image_id);
}

/* Drops what is over: handed-out VMs that ended (their reference only),
 * ready VMs that stopped or no longer fit, ready VMs beyond max, and,
 * once nothing was acquired for idle_timeout (the target is back at min),
 * ready VMs beyond the target that have been ready that long, oldest
 * first. */
static void reap_locked(struct pool *q, long now, struct trash *t, struct trash *drop)
{
	for (size_t i = 0; i < q->n_out;) {
		enum vm_state s = vm_state(q->out[i]);
		if (s == VM_STARTING || s == VM_RUNNING || s == VM_STOPPING) {
			i++;
			continue;
		}
		trash_add(drop, q->out[i]);   /* no longer alive: not the pool's business */
		memmove(&q->out[i], &q->out[i + 1], (q->n_out - i - 1) * sizeof *q->out);
		q->n_out--;
	}
	for (size_t i = 0; i < q->n_ready;) {
		if (vm_state(q->ready[i].vm) == VM_RUNNING && fits_locked(q, &q->ready[i])) {
			i++;
			continue;
		}
		trash_add(t, q->ready[i].vm);
		ready_remove_locked(q, i);
	}
	unsigned alive = alive_out_locked(q);
	while (q->n_ready > 0 && q->n_ready + q->restoring + alive > q->set.max) {
		trash_add(t, q->ready[0].vm);   /* the oldest */
		ready_remove_locked(q, 0);
	}
	long idle_ms = (long)q->set.idle_timeout_s * 1000;
	if (q->want > q->set.min && now - q->last_acquire >= idle_ms)
		q->want = q->set.min;   /* the demand that raised it is over */
	while (q->n_ready > q->want && now - q->ready[0].since_ms >= idle_ms) {
		trash_add(t, q->ready[0].vm);
		ready_remove_locked(q, 0);
		q->evictions++;
	}
}

/* --- the pool's thread ----------------------------------------------------- */

/* Looks the image up again (without the mutex); the ready VMs of another
 * id go at the next reap. */
static void resolve(struct pools *p, struct pool *q)
{
	struct sm_image_config *cfg = NULL;
	char err[512], key[512];
	snprintf(key, sizeof key, "%s", q->key);
	pthread_mutex_unlock(&p->mu);
	int rc = sm_store_inspect(p->cfg.store, key, &cfg, err, sizeof err);
	pthread_mutex_lock(&p->mu);
	long now = mono_ms();
	if (rc < 0) {
		if (q->image_id[0] || !q->last_error[0])
			fprintf(stderr, "supermachined: pool %s: %s\n", q->key, err);
		q->image_id[0] = 0;
		snprintf(q->last_error, sizeof q->last_error, "image %s: %s", q->key, err);
		q->resolve_at = now + RESOLVE_MISSING_MS;
		cfg = NULL;
	} else {
		if (strcmp(q->image_id, cfg->manifest_digest) && q->image_id[0])
			fprintf(stderr, "supermachined: pool %s: the image is now %s\n", q->key,
				cfg->manifest_digest);
		snprintf(q->image_id, sizeof q->image_id, "%s", cfg->manifest_digest);
		if (!strncmp(q->last_error, "image ", 6))
			q->last_error[0] = 0;
		q->resolve_at = now + RESOLVE_EVERY_MS;
	}
	/* The thread alone reads q->cfg without the mutex; swap it here. */
	if (q->cfg)
		sm_image_config_free(q->cfg);
	q->cfg = cfg;
}

/* Restores one VM for q (the mutex is let go meanwhile). */
static void refill_one(struct pools *p, struct pool *q, struct trash *t)
{
	int vcpus;
	unsigned mem;
	effective_size(p, &q->set, &vcpus, &mem);
	struct vm_spec spec = { .image = q->key, .image_cfg = q->cfg, .vcpus = vcpus,
				.memory_mib = mem, .kind = VM_KIND_POOL };
	struct vm_rec *vm = NULL;
	char id[32] = "", err[1024] = "", image_id[80];
	snprintf(image_id, sizeof image_id, "%s", q->image_id);
	q->restoring++;
	note_peak_locked(q);
	pthread_mutex_unlock(&p->mu);
	/* A pool VM that fails to start is removed by vms_create itself. */
	int rc = vms_create(p->cfg.vms, &spec, &vm, id, sizeof id, err, sizeof err);
	pthread_mutex_lock(&p->mu);
	q->restoring--;
	long now = mono_ms();
	if (rc < 0) {
		q->failures++;
		snprintf(q->last_error, sizeof q->last_error, "restoring a VM: %s", err);
		q->backoff_ms = q->backoff_ms ? q->backoff_ms * 2 : BACKOFF_FIRST_MS;
		if (q->backoff_ms > BACKOFF_MAX_MS)
			q->backoff_ms = BACKOFF_MAX_MS;
		q->backoff_until = now + q->backoff_ms;
		if (!p->stopping)
			fprintf(stderr, "supermachined: pool %s: %s (next try in %u s)\n", q->key,
				err, q->backoff_ms / 1000);
		return;
	}
	q->restores++;
	q->backoff_ms = 0;
	if (!strncmp(q->last_error, "restoring", 9))
		q->last_error[0] = 0;
	if (q->stop || ready_push_locked(q, vm, now, vcpus, mem, image_id) < 0)
		trash_add(t, vm);
}

/* Until the next thing to do: the target falling back, an idle
 * eviction, or a tick (retries and handed-out VMs are looked at then). */
static void sleep_locked(struct pools *p, struct pool *q, long now)
{
	long until = now + TICK_MS, idle_ms = (long)q->set.idle_timeout_s * 1000;
	if (q->want > q->set.min && q->last_acquire + idle_ms < until)
		until = q->last_acquire + idle_ms;
	if (q->n_ready > q->want && q->ready[0].since_ms + idle_ms < until)
		until = q->ready[0].since_ms + idle_ms;
	if (until <= now)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	long ms = until - now;
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&q->cv, &p->mu, &ts);
}

static bool wants_one_locked(struct pool *q, long now)
{
	unsigned alive = alive_out_locked(q);
	return q->cfg && q->image_id[0] && now >= q->backoff_until &&
	       q->n_ready + q->restoring < q->want &&
	       q->n_ready + q->restoring + alive < q->set.max;
}

static void pool_free(struct pool *q)
{
	if (q->cfg)
		sm_image_config_free(q->cfg);
	pthread_cond_destroy(&q->cv);
	free(q->ready);
	free(q->out);
	free(q);
}

static void *pool_main(void *arg)
{
	struct pool *q = arg;
	struct pools *p = q->owner;
	struct trash t = { 0 }, drop = { .put = true };
	pthread_mutex_lock(&p->mu);
	while (!q->stop) {
		long now = mono_ms();
		if (now >= q->resolve_at) {
			resolve(p, q);
			continue;
		}
		reap_locked(q, now, &t, &drop);
		if (t.n || drop.n) {
			pthread_mutex_unlock(&p->mu);
			trash_empty(p, &t);
			trash_empty(p, &drop);
			pthread_mutex_lock(&p->mu);
			continue;
		}
		if (wants_one_locked(q, now)) {
			refill_one(p, q, &t);
			continue;
		}
		sleep_locked(p, q, now);
	}
	unlink_locked(p, q);   /* pools_stop leaves it listed */
	for (size_t i = 0; i < q->n_ready; i++)
		trash_add(&t, q->ready[i].vm);
	q->n_ready = 0;
	for (size_t i = 0; i < q->n_out; i++)
		trash_add(&drop, q->out[i]);
	q->n_out = 0;
	pthread_mutex_unlock(&p->mu);
	trash_empty(p, &t);
	trash_empty(p, &drop);
	pool_free(q);
	pthread_mutex_lock(&p->mu);
	p->threads--;
	pthread_cond_broadcast(&p->threads_cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* A new pool in the list with its thread (under mu). */
/* cfg (NULL: unknown yet) becomes the pool's. */
static struct pool *pool_start_locked(struct pools *p, const char *key,
				      const struct pool_settings *s, bool from_config,
				      struct sm_image_config *cfg, char *err, size_t errlen)
{
	struct pool *q = calloc(1, sizeof *q);
	if (!q) {
		snprintf(err, errlen, "out of memory");
		if (cfg)
			sm_image_config_free(cfg);
		return NULL;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	q->owner = p;
	snprintf(q->key, sizeof q->key, "%s", key);
	q->set = *s;
	q->want = s->min;
	q->from_config = from_config;
	if (cfg) {   /* known now: the pool matches requests at once */
		q->cfg = cfg;
		snprintf(q->image_id, sizeof q->image_id, "%s", cfg->manifest_digest);
		q->resolve_at = mono_ms() + RESOLVE_EVERY_MS;
	}
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&th, &at, pool_main, q);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		snprintf(err, errlen, "no thread for the pool: %s", strerror(rc));
		pool_free(q);
		return NULL;
	}
	p->threads++;
	q->next = p->list;
	p->list = q;
	return q;
}

int pools_set(struct pools *p, const char *key, const struct pool_settings *s,
	      const struct sm_image_config *cfg, json_t **out, char *err, size_t errlen)
{
	struct sm_image_config *copy = NULL;
	char e[256];
	if (pool_db_save(p, key, s, err, errlen) < 0)
		return -1;
	if (cfg && sm_store_inspect(p->cfg.store, cfg->manifest_digest, &copy, e, sizeof e) < 0)
		copy = NULL;   /* the pool's thread looks it up */
	pthread_mutex_lock(&p->mu);
	struct pool *q = find_locked(p, key);
	int created = !q;
	if (p->stopping) {
		snprintf(err, errlen, "the daemon is stopping");
		created = -1;
	} else if (q) {
		q->set = *s;
		q->want = s->min;     /* demand starts over; surplus leaves when idle */
		q->from_config = false;
		q->backoff_until = 0;
		pthread_cond_signal(&q->cv);
	} else if (!(q = pool_start_locked(p, key, s, false, copy, err, errlen))) {
		created = -1;
	} else {
		copy = NULL;   /* the new pool's */
	}
	if (q && out)
		*out = pool_json_locked(q);
	pthread_mutex_unlock(&p->mu);
	if (copy)
		sm_image_config_free(copy);
	if (created >= 0)
		fprintf(stderr, "supermachined: pool %s %s: min %u, max %u, idle %u s\n", key,
			created ? "created" : "changed", s->min, s->max, s->idle_timeout_s);
	return created;
}

int pools_remove(struct pools *p, const char *key, json_t **out)
{
	struct trash t = { 0 };
	pthread_mutex_lock(&p->mu);
	struct pool *q = find_locked(p, key);
	if (!q) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	if (out)
		*out = pool_json_locked(q);
	unlink_locked(p, q);
	q->stop = true;
	for (size_t i = 0; i < q->n_ready; i++)
		trash_add(&t, q->ready[i].vm);
	q->n_ready = 0;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&p->mu);
	trash_empty(p, &t);
	pool_db_delete(p, key);
	fprintf(stderr, "supermachined: pool %s removed\n", key);
	return 0;
}

/* --- acquire ------------------------------------------------------------- */

static struct pool *match_locked(struct pools *p, const struct vm_spec *spec)
{
	/* A pool's VMs have the default writable layer (their bake's). */
	struct vm_spec dflt = { .storage_mib = 0 };
	if (vms_storage_mib(p->cfg.vms, spec) != vms_storage_mib(p->cfg.vms, &dflt))
		return NULL;
	for (struct pool *q = p->list; q; q = q->next) {
		int vcpus;
		unsigned mem;
		effective_size(p, &q->set, &vcpus, &mem);
		if (!q->stop && q->image_id[0] &&
		    !strcmp(q->image_id, spec->image_cfg->manifest_digest) &&
		    vcpus == spec->vcpus && mem == spec->memory_mib)
			return q;
	}
	return NULL;
}

static void count_acquire(struct pools *p, const char *key, long t0)
{
	pthread_mutex_lock(&p->mu);
	struct pool *q = find_locked(p, key);   /* it may be gone by now */
	if (q) {
		q->acquires++;
		q->acquire_ms_total += (double)(mono_ms() - t0);
	}
	pthread_mutex_unlock(&p->mu);
}

int pools_acquire(struct pools *p, const struct vm_spec *spec, struct vm_rec **vm,
		  char *id_out, size_t idlen, char *err, size_t errlen)
{
	long t0 = mono_ms();
	char key[512], e[512];
	pthread_mutex_lock(&p->mu);
	struct pool *q = match_locked(p, spec);
	if (!q) {
		pthread_mutex_unlock(&p->mu);
		return 1;
	}
	snprintf(key, sizeof key, "%s", q->key);
	q->last_acquire = t0;
	while (q && q->n_ready > 0) {
		struct vm_rec *r = q->ready[q->n_ready - 1].vm;   /* the newest */
		q->n_ready--;
		pthread_mutex_unlock(&p->mu);
		int rc = vms_adopt(p->cfg.vms, r, spec, e, sizeof e);
		pthread_mutex_lock(&p->mu);
		q = find_locked(p, key);
		if (rc == 0) {
			/* The out list takes a reference of its own (vm_ref may be
			 * called under the mutex, vm_put not); the ready list's goes
			 * to the caller. */
			if (q && out_push_locked(q, r) == 0)
				vm_ref(r);
			if (q) {
				note_peak_locked(q);
				q->hits++;
				pthread_cond_signal(&q->cv);
			}
			pthread_mutex_unlock(&p->mu);
			*vm = r;   /* the ready list's reference */
			snprintf(id_out, idlen, "%s", vm_id(r));
			count_acquire(p, key, t0);
			return 0;
		}
		pthread_mutex_unlock(&p->mu);   /* it ended meanwhile, or took no folders */
		snprintf(id_out, idlen, "%s", vm_id(r));
		vms_discard(p->cfg.vms, r);
		vm_put(r);
		if (rc == -2) {   /* its mounts failed: another VM's would as well */
			snprintf(err, errlen, "the pool's VM could not take its shared folders: %s",
				 e);
			count_acquire(p, key, t0);
			return -1;
		}
		if (rc == -3) {   /* a port another VM took meanwhile: no VM would do */
			snprintf(err, errlen, "%s", e);
			count_acquire(p, key, t0);
			return -3;
		}
		id_out[0] = 0;
		pthread_mutex_lock(&p->mu);
		q = find_locked(p, key);
	}
	if (q) {
		q->misses++;
		if (q->want < q->set.max)
			q->want++;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&p->mu);
	int rc = vms_create(p->cfg.vms, spec, vm, id_out, idlen, err, errlen);
	count_acquire(p, key, t0);
	return rc;
}

/* --- the rest ------------------------------------------------------------ */

void pools_image_removed(struct pools *p, const char *image_id)
{
	struct trash t = { 0 };
	pthread_mutex_lock(&p->mu);
	for (struct pool *q = p->list; q; q = q->next) {
		if (strcmp(q->image_id, image_id))
			continue;
		for (size_t i = 0; i < q->n_ready; i++)
			trash_add(&t, q->ready[i].vm);
		q->n_ready = 0;
		q->image_id[0] = 0;    /* matches no request until found again */
		q->resolve_at = 0;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&p->mu);
	trash_empty(p, &t);
}

void pools_kick(struct pools *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	for (struct pool *q = p->list; q; q = q->next)
		pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&p->mu);
}

static int start_config_pools(struct pools *p, json_t *pools, char *err, size_t errlen)
{
	const char *name;
	json_t *obj;
	json_object_foreach(pools, name, obj) {
		struct pool_settings s;
		char key[512], e[512];
		if (pool_settings_parse(obj, &s, e, sizeof e) < 0) {
			snprintf(err, errlen, "pool %s: %s", name, e);
			return -1;
		}
		if (pools_key(p, name, key, sizeof key, e, sizeof e) < 0) {
			snprintf(err, errlen, "pool %s: %s", name, e);
			return -1;
		}
		pthread_mutex_lock(&p->mu);
		struct pool *q = find_locked(p, key);
		if (q) {   /* a saved one of the same image: the file wins */
			q->set = s;
			q->want = s.min;
			q->from_config = true;
		}
		int rc = q || pool_start_locked(p, key, &s, true, NULL, err, errlen) ? 0 : -1;
		pthread_mutex_unlock(&p->mu);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int pools_open(const struct pools_config *cfg, struct pools **out, char *err, size_t errlen)
{
	struct pools *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->cfg = *cfg;
	p->cfg.config_pools = NULL;   /* read below only */
	p->cfg.data_dir = NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->threads_cv, NULL);
	if (pool_db_open(p, cfg->data_dir, err, errlen) < 0) {
		pools_close(p);
		return -1;
	}
	int rc = pool_db_load(p, err, errlen);
	if (rc == 0 && cfg->config_pools)
		rc = start_config_pools(p, cfg->config_pools, err, errlen);
	if (rc < 0) {
		pools_stop(p);
		pools_close(p);
		return -1;
	}
	*out = p;
	return 0;
}

/* For pool_db.c: a saved pool, started as the API left it. */
int pools_start_saved(struct pools *p, const char *key, const struct pool_settings *s,
		      char *err, size_t errlen)
{
	pthread_mutex_lock(&p->mu);
	int rc = find_locked(p, key) || pool_start_locked(p, key, s, false, NULL, err, errlen)
		 ? 0 : -1;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void pools_stop(struct pools *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	for (struct pool *q = p->list; q; q = q->next) {
		q->stop = true;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void pools_close(struct pools *p)
{
	if (!p)
		return;
	pools_stop(p);
	pthread_mutex_lock(&p->mu);
	p->list = NULL;   /* each thread frees its own pool */
	while (p->threads > 0)
		pthread_cond_wait(&p->threads_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pool_db_close(p);
	pthread_cond_destroy(&p->threads_cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
