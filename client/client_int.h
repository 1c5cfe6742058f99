/* client_int.h - what libsupermachine's files share: the handle, the
 * error setters, and one HTTP exchange over the socket (http.c). */
#ifndef SM_CLIENT_INT_H
#define SM_CLIENT_INT_H

#include <jansson.h>
#include <stdio.h>

#include "client/supermachine.h"

struct sm_client {
	char *socket;
	long connect_timeout_ms, timeout_ms;
	void *curl;              /* CURL *, reused across calls */
	char errmsg[1024];
	char errcode[64];
};

int sm_fail(sm_client *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sm_clear_error(sm_client *c);

/* An NDJSON line of a 200 stream; non-zero stops the transfer. */
typedef int (*http_line_fn)(json_t *line, void *ud);

struct http_call {
	const char *method;
	const char *path;        /* already escaped, with the query */
	const char *content_type;
	const char *accept;      /* an Accept header, or NULL */
	const char *body;        /* or upload: */
	size_t body_len;
	FILE *upload;
	long upload_len;
	http_line_fn on_line;    /* NULL: a single JSON answer into *answer */
	/* Optional, before on_line: a stream line as text (no '\n'); 1 when
	 * it took the line, 0 to have it parsed for on_line, else an SM_E_*. */
	int (*on_raw_line)(const char *p, size_t n, void *ud);
	/* A 200 body as raw bytes (files, logs) instead; non-zero stops. */
	int (*on_bytes)(const char *p, size_t n, void *ud);
	void *ud;
};

/* SM_OK with *answer (if wanted, caller decrefs), or an error with the
 * daemon's message set. */
int http_call(sm_client *c, const struct http_call *call, json_t **answer);

/* Appends name to buf, percent-escaping what a path segment cannot hold
 * (slashes and colons stay). NULL when it does not fit. */
char *http_escape_path(const char *prefix, const char *name, const char *suffix);

/* The error of a non-2xx answer read by other means (tty.c). */
int http_answer_error(sm_client *c, long http, const char *body, size_t len);

/* A query-string value, percent-escaped (http.c); malloc'd or NULL. */
char *curl_escape_query(sm_client *c, const char *s);

/* json_calls.c: METHOD path (malloc'd, freed here; NULL: out of memory)
 * with body as its JSON (NULL: no body; decref'd here). */
int http_json(sm_client *c, const char *method, char *path, json_t *body, json_t **answer);

/* How one kind of result struct (struct sm_vm, sm_snapshot, ...) comes
 * out of the daemon's JSON. */
struct json_kind {
	const char *array;       /* a list answer's array: "vms" */
	size_t size;             /* sizeof the struct */
	int (*from_json)(json_t *j, void *out);   /* 0, or -1 */
	void (*free_one)(void *one);
	const char *noun, *lacks;                 /* "a VM without an id" */
};

/* One struct into out (if not NULL) from an answer j (decref'd here) of
 * a call that returned st; the status. */
int take_one(sm_client *c, int st, json_t *j, const struct json_kind *k, void *out);
/* The structs of answer j's array (j decref'd here) in a calloc'd *list
 * of *n; NULL and 0 on an error ("a HOW NOUN without LACKS": one is bad). */
int take_list(sm_client *c, int st, json_t *j, const struct json_kind *k, const char *how,
	      void **list, size_t *n);
/* take_list of GET path, with how "listed". */
int get_list(sm_client *c, const char *path, const struct json_kind *k, void **list, size_t *n);
/* Frees n structs of a list and the list. */
void free_list(const struct json_kind *k, void *list, size_t n);

/* vms.c: a VM from its JSON (forks answer them). */
extern const struct json_kind vm_kind;

/* vms.c: /v1/vms/ID/files?path=P[&mode=M] (mode 0: none), malloc'd. */
char *vm_files_path(sm_client *c, const char *vm, const char *path, unsigned mode);

/* exec.c: POST a JSON body to /v1/vms/VM/exec/EXEC/ROUTE. */
/* One exec's reading state (exec.c, exec_frames.c). */
struct exec_state {
	sm_client *c;
	const struct sm_exec_opts *o;
	struct sm_exec_result *res;
	int got_exit;
	size_t cap[2];
	char *fbuf;             /* frames form: an incomplete frame */
	size_t flen, fcap;
	int failed;             /* an error frame or a bad frame: its status, */
	char why[512], code[64]; /* message and code (set on the client after) */
};

/* Output bytes to the caller's callback, or kept in the result. */
int exec_deliver(struct exec_state *x, int fd, const char *p, size_t n);
/* The frames form's http_call on_bytes (ud: the exec_state). */
int exec_frames_bytes(const char *p, size_t n, void *ud);
#define EXEC_FRAMES_TYPE "application/vnd.supermachine.exec-frames"

int exec_post(sm_client *c, const char *vm, const char *exec_id, const char *route,
	      const char *body);

/* base64.c */
char *b64_encode(const void *data, size_t n);
int b64_decode(const char *s, unsigned char *out, size_t *n);
int b64_decode_n(const char *s, size_t len, unsigned char *out, size_t *n);

/* json helpers (json_out.c) */
char *jdup(json_t *obj, const char *key);
char **jstrv(json_t *obj, const char *key, size_t *n);
void strv_free(char **v);
/* A non-negative integer (else 0). */
uint64_t juint(json_t *obj, const char *key);
int image_from_json(json_t *j, struct sm_image *out);
extern const struct json_kind image_kind;

#endif
