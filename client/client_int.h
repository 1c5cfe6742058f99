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
	const char *body;        /* or upload: */
	size_t body_len;
	FILE *upload;
	long upload_len;
	http_line_fn on_line;    /* NULL: a single JSON answer into *answer */
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

/* vms.c: a VM from its JSON (0, or -1 without an id). */
int vm_from_json(json_t *j, struct sm_vm *out);

/* vms.c: /v1/vms/ID/files?path=P[&mode=M] (mode 0: none), malloc'd. */
char *vm_files_path(sm_client *c, const char *vm, const char *path, unsigned mode);

/* exec.c: POST a JSON body to /v1/vms/VM/exec/EXEC/ROUTE. */
int exec_post(sm_client *c, const char *vm, const char *exec_id, const char *route,
	      const char *body);

/* base64.c */
char *b64_encode(const void *data, size_t n);
int b64_decode(const char *s, unsigned char *out, size_t *n);

/* json helpers (json_out.c) */
char *jdup(json_t *obj, const char *key);
char **jstrv(json_t *obj, const char *key, size_t *n);
void strv_free(char **v);
int image_from_json(json_t *j, struct sm_image *out);

#endif
