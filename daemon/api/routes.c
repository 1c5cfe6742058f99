/* routes.c - the API's route table: every path the daemon serves.
 *
 * docs/api.md documents each of these; tests/api/t-routes-doc.sh compares
 * this table (supermachined --print-routes) with the document. Literal
 * paths come before captures that would also match them.
 */
#include <stdio.h>

#include "daemon/api/api.h"
#include "daemon/api/handlers.h"
#include "daemon/api/router.h"

const struct route api_routes[] = {
	{ "GET",    "/v1/version",         BODY_NONE, h_version },
	{ "GET",    "/v1/info",            BODY_NONE, h_info },
	{ "GET",    "/metrics",            BODY_NONE, h_metrics },
	{ "GET",    "/v1/events",          BODY_NONE, h_events },
	{ "POST",   "/v1/images/pull",     BODY_JSON, h_images_pull },
	{ "POST",   "/v1/images/import",   BODY_JSON_OR_TAR, h_images_import },
	{ "GET",    "/v1/images",          BODY_NONE, h_images_list },
	{ "GET",    "/v1/images/{name*}",  BODY_NONE, h_images_inspect },
	{ "DELETE", "/v1/images/{name*}",  BODY_NONE, h_images_delete },
	{ "POST",   "/v1/vms",             BODY_JSON, h_vms_create },
	{ "GET",    "/v1/vms",             BODY_NONE, h_vms_list },
	{ "GET",    "/v1/vms/{id}",        BODY_NONE, h_vms_inspect },
	{ "DELETE", "/v1/vms/{id}",        BODY_NONE, h_vms_delete },
	{ "POST",   "/v1/vms/{id}/stop",   BODY_NONE, h_vms_stop },
	{ "POST",   "/v1/vms/{id}/snapshot", BODY_JSON, h_vms_snapshot },
	{ "POST",   "/v1/vms/{id}/fork",   BODY_JSON, h_vms_fork },
	{ "GET",    "/v1/vms/{id}/logs",   BODY_NONE, h_vms_logs },
	{ "POST",   "/v1/vms/{id}/main",   BODY_NONE, h_vms_main },
	{ "POST",   "/v1/vms/{id}/wait",   BODY_NONE, h_vms_wait },
	{ "GET",    "/v1/vms/{id}/stats",  BODY_NONE, h_vms_stats },
	{ "POST",   "/v1/vms/{id}/exec",   BODY_JSON, h_vms_exec },
	{ "POST",   "/v1/vms/{id}/exec/tty", BODY_JSON, h_vms_exec_tty },
	{ "POST",   "/v1/vms/{id}/exec/{exec}/signal", BODY_JSON, h_vms_exec_signal },
	{ "POST",   "/v1/vms/{id}/exec/{exec}/resize", BODY_JSON, h_vms_exec_resize },
	{ "GET",    "/v1/vms/{id}/files",  BODY_NONE, h_vms_files_get },
	{ "PUT",    "/v1/vms/{id}/files",  BODY_RAW, h_vms_files_put },
	{ "GET",    "/v1/snapshots",       BODY_NONE, h_snapshots_list },
	{ "GET",    "/v1/snapshots/{name}", BODY_NONE, h_snapshots_inspect },
	{ "DELETE", "/v1/snapshots/{name}", BODY_NONE, h_snapshots_delete },
	{ "GET",    "/v1/pools",           BODY_NONE, h_pools_list },
	{ "GET",    "/v1/pools/{image*}",  BODY_NONE, h_pools_inspect },
	{ "PUT",    "/v1/pools/{image*}",  BODY_JSON, h_pools_set },
	{ "DELETE", "/v1/pools/{image*}",  BODY_NONE, h_pools_delete },
	{ "POST",   "/v1/volumes",         BODY_JSON, h_volumes_create },
	{ "GET",    "/v1/volumes",         BODY_NONE, h_volumes_list },
	{ "GET",    "/v1/volumes/{name}",  BODY_NONE, h_volumes_inspect },
	{ "DELETE", "/v1/volumes/{name}",  BODY_NONE, h_volumes_delete },
	{ "POST",   "/v1/system/gc",       BODY_NONE, h_system_gc },
};
const size_t api_n_routes = sizeof api_routes / sizeof api_routes[0];

void api_print_routes(FILE *out)
{
	for (size_t i = 0; i < api_n_routes; i++)
		fprintf(out, "%s %s\n", api_routes[i].method, api_routes[i].pattern);
}
