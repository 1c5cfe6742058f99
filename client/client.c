/* client.c - the handle: which socket, timeouts, and the last error.
 *
 * The default socket follows the daemon's: $SUPERMACHINE_SOCKET, then the
 * system socket for root, then the user's $XDG_RUNTIME_DIR socket - or the
 * system socket when the user has none but the system one exists (a user
 * in group "supermachine" driving the system daemon).
 */
#include "client/client_int.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSTEM_SOCKET "/run/supermachine/supermachined.sock"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *default_socket(void)
{
	const char *env = getenv("SUPERMACHINE_SOCKET");
	if (env && *env)
		return strdup(env);
	const char *run = getenv("XDG_RUNTIME_DIR");
	if (geteuid() == 0 || !run || run[0] != '/')
		return strdup(SYSTEM_SOCKET);
	char *user;
	struct stat st;
	if (asprintf(&user, "%s/supermachine/supermachined.sock", run) < 0)
		return NULL;
	if (stat(user, &st) < 0 && stat(SYSTEM_SOCKET, &st) == 0) {
		free(user);
		return strdup(SYSTEM_SOCKET);
	}
	return user;
}

int sm_client_new(const struct sm_client_opts *opts, sm_client **out)
{
	struct sm_client_opts zero = { 0 };
	if (!out)
		return SM_E_INVALID;
	*out = NULL;
	if (!opts)
		opts = &zero;
	pthread_once(&curl_once, curl_init_once);
	sm_client *c = calloc(1, sizeof *c);
	if (!c)
		return SM_E_NOMEM;
	c->socket = opts->socket_path ? strdup(opts->socket_path) : default_socket();
	c->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 5000;
	c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 0;
	c->curl = curl_easy_init();
	if (!c->socket || !c->curl) {
		sm_client_free(c);
		return SM_E_NOMEM;
	}
	*out = c;
	return SM_OK;
}

void sm_client_free(sm_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->socket);
	free(c);
}

const char *sm_client_socket(const sm_client *c)
{
	return c->socket;
}

const char *sm_errmsg(const sm_client *c)
{
	return c ? c->errmsg : "no client";
}

const char *sm_errcode(const sm_client *c)
{
	return c ? c->errcode : "";
}

void sm_clear_error(sm_client *c)
{
	c->errmsg[0] = 0;
	c->errcode[0] = 0;
}

int sm_fail(sm_client *c, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
	va_end(ap);
	return status;
}

const char *sm_strerror(int status)
{
	switch (status) {
	case SM_OK: return "success";
	case SM_E_CONNECT: return "cannot reach supermachined";
	case SM_E_PROTOCOL: return "unexpected answer from supermachined";
	case SM_E_BAD_REQUEST: return "bad request";
	case SM_E_NOT_FOUND: return "not found";
	case SM_E_CONFLICT: return "conflict";
	case SM_E_TOO_LARGE: return "request too large";
	case SM_E_UNPROCESSABLE: return "unprocessable";
	case SM_E_UNAVAILABLE: return "KVM is not usable";
	case SM_E_SERVER: return "daemon error";
	case SM_E_FAILED: return "operation failed";
	case SM_E_INVALID: return "invalid argument";
	case SM_E_NOMEM: return "out of memory";
	case SM_E_STOPPED: return "stopped by the callback";
	case SM_E_FORBIDDEN: return "forbidden";
	}
	return "unknown status";
}
