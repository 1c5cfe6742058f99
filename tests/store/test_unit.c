/* test_unit.c - check(1) unit tests for the store's pure parts: reference
 * parsing, WWW-Authenticate parsing, Docker config credentials, platform
 * selection in an index, manifest validation and config parsing; and
 * the store's schema, version check, process lock and empty-store queries.
 */
#include "auth.h"
#include "db.h"
#include "manifest.h"
#include "ref.h"
#include "store.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../unit/check_main.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_ref(const char *in, const char *domain, const char *repo,
		       const char *tag, const char *digest)
{
	struct sm_ref r;
	char err[256];

	ck_assert_msg(sm_ref_parse(in, &r, err, sizeof err) == 0, "%s: %s", in, err);
	ck_assert_str_eq(r.domain, domain);
	ck_assert_str_eq(r.repo, repo);
	ck_assert_str_eq(r.tag, tag);
	ck_assert_str_eq(r.digest, digest);
}

static void expect_bad_ref(const char *in, const char *needle)
{
	struct sm_ref r;
	char err[256] = "";

	ck_assert_msg(sm_ref_parse(in, &r, err, sizeof err) < 0, "%s accepted", in);
	ck_assert_msg(strstr(err, needle), "%s: error \"%s\" lacks \"%s\"", in, err, needle);
}

START_TEST(ref_forms)
{
	expect_ref("busybox", "docker.io", "library/busybox", "latest", "");
	expect_ref("library/busybox:1.36", "docker.io", "library/busybox", "1.36", "");
	expect_ref("user/app", "docker.io", "user/app", "latest", "");
	expect_ref("ghcr.io/org/app:tag", "ghcr.io", "org/app", "tag", "");
	expect_ref("host:5000/a/b@sha256:" D64, "host:5000", "a/b", "", "sha256:" D64);
	expect_ref("host:5000/a/b:v1@sha256:" D64, "host:5000", "a/b", "v1", "sha256:" D64);
	expect_ref("localhost/x", "localhost", "x", "latest", "");
	expect_ref("127.0.0.1:5000/x:y", "127.0.0.1:5000", "x", "y", "");
	expect_ref("index.docker.io/library/alpine", "docker.io", "library/alpine", "latest", "");
	expect_ref("docker.io/alpine:3", "docker.io", "library/alpine", "3", "");
	expect_ref("a/b-c__d.e/f", "docker.io", "a/b-c__d.e/f", "latest", "");
}
END_TEST

START_TEST(ref_errors)
{
	expect_bad_ref("", "empty");
	expect_bad_ref("Busybox", "invalid repository");
	expect_bad_ref("busybox:", "invalid tag");
	expect_bad_ref("busybox:-x", "invalid tag");
	expect_bad_ref("busybox@sha256:abc", "invalid digest");
	expect_bad_ref("busybox@md5:" D64, "invalid digest");
	expect_bad_ref("a//b", "invalid repository");
	expect_bad_ref("a/b/", "invalid repository");
	expect_bad_ref("a..b", "invalid repository");
}
END_TEST

START_TEST(ref_names)
{
	struct sm_ref r;
	char err[64], buf[600];

	ck_assert_int_eq(sm_ref_parse("busybox", &r, err, sizeof err), 0);
	sm_ref_name(&r, buf, sizeof buf);
	ck_assert_str_eq(buf, "docker.io/library/busybox:latest");
	ck_assert_str_eq(sm_ref_registry_host(&r), "registry-1.docker.io");
	ck_assert_str_eq(sm_ref_target(&r), "latest");
	ck_assert_int_eq(sm_ref_parse("h:1/x@sha256:" D64, &r, err, sizeof err), 0);
	sm_ref_name(&r, buf, sizeof buf);
	ck_assert_str_eq(buf, "h:1/x@sha256:" D64);
	ck_assert_str_eq(sm_ref_target(&r), "sha256:" D64);
}
END_TEST

START_TEST(challenge_parse)
{
	struct sm_challenge c;

	ck_assert_int_eq(sm_auth_parse_challenge("Bearer realm=\"https://auth.docker.io/token\","
		"service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"", &c), 0);
	ck_assert_str_eq(c.scheme, "Bearer");
	ck_assert_str_eq(c.realm, "https://auth.docker.io/token");
	ck_assert_str_eq(c.service, "registry.docker.io");
	ck_assert_str_eq(c.scope, "repository:library/busybox:pull");
	ck_assert_int_eq(sm_auth_parse_challenge("Basic realm=\"Registry Realm\"", &c), 0);
	ck_assert_str_eq(c.scheme, "Basic");
	ck_assert_int_eq(sm_auth_parse_challenge("Bearer service=\"x\"", &c), -1);
	ck_assert_int_eq(sm_auth_parse_challenge("Bearer realm=\"unterminated", &c), -1);
	ck_assert_int_eq(sm_auth_parse_challenge("Negotiate", &c), -1);
}
END_TEST

START_TEST(docker_config)
{
	char path[] = "/tmp/sm-dockercfg-XXXXXX", user[64], pass[64], err[256];
	int fd = mkstemp(path);
	/* "alice:s3cr:et" and an https:// key with a path */
	const char *cfg = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":"
		"\"YWxpY2U6czNjcjpldA==\"},\"reg.example:5000\":{\"username\":\"bob\","
		"\"password\":\"pw\"},\"bad.example\":{\"auth\":\"bm9jb2xvbg==\"}}}";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, cfg, strlen(cfg)), (int)strlen(cfg));
	close(fd);
	ck_assert_int_eq(sm_auth_docker_creds(path, "docker.io", user, sizeof user, pass,
					      sizeof pass, err, sizeof err), 1);
	ck_assert_str_eq(user, "alice");
	ck_assert_str_eq(pass, "s3cr:et");
	ck_assert_int_eq(sm_auth_docker_creds(path, "reg.example:5000", user, sizeof user,
					      pass, sizeof pass, err, sizeof err), 1);
	ck_assert_str_eq(user, "bob");
	ck_assert_int_eq(sm_auth_docker_creds(path, "other.example", user, sizeof user, pass,
					      sizeof pass, err, sizeof err), 0);
	ck_assert_int_eq(sm_auth_docker_creds(path, "bad.example", user, sizeof user, pass,
					      sizeof pass, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "user:password"), "%s", err);
	unlink(path);
}
END_TEST

static const char *index_json =
	"{\"schemaVersion\":2,\"mediaType\":\"" SM_MT_OCI_INDEX "\",\"manifests\":["
	"{\"mediaType\":\"" SM_MT_OCI_MANIFEST "\",\"digest\":\"sha256:" D64 "\",\"size\":1,"
	"\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
	"{\"mediaType\":\"" SM_MT_OCI_MANIFEST "\",\"digest\":\"sha256:"
	"1111111111111111111111111111111111111111111111111111111111111111\",\"size\":2,"
	"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\",\"variant\":\"v3\"}},"
	"{\"mediaType\":\"" SM_MT_OCI_MANIFEST "\",\"digest\":\"sha256:"
	"2222222222222222222222222222222222222222222222222222222222222222\",\"size\":3,"
	"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";

START_TEST(index_platforms)
{
	struct sm_desc d;
	char err[512];
	size_t n = strlen(index_json);

	ck_assert_int_eq(sm_index_select(index_json, n, "linux", "amd64", NULL, &d, err,
					 sizeof err), 0);
	ck_assert_uint_eq(d.size, 3); /* no variant preferred when none asked */
	ck_assert_int_eq(sm_index_select(index_json, n, "linux", "amd64", "v3", &d, err,
					 sizeof err), 0);
	ck_assert_uint_eq(d.size, 2);
	ck_assert_int_eq(sm_index_select(index_json, n, "linux", "arm64", NULL, &d, err,
					 sizeof err), 0);
	ck_assert_uint_eq(d.size, 1);
	ck_assert_int_eq(sm_index_select(index_json, n, "linux", "s390x", NULL, &d, err,
					 sizeof err), -1);
	ck_assert_msg(strstr(err, "linux/s390x") && strstr(err, "linux/arm64/v8"), "%s", err);
}
END_TEST

START_TEST(doc_kinds)
{
	enum sm_doc_kind k;
	char mt[128], err[256];
	const char *v1 = "{\"schemaVersion\":1,\"mediaType\":"
		"\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}";

	ck_assert_int_eq(sm_doc_kind(index_json, strlen(index_json), NULL, &k, mt, sizeof mt,
				     err, sizeof err), 0);
	ck_assert_int_eq(k, SM_DOC_INDEX);
	ck_assert_int_eq(sm_doc_kind("{}", 2, SM_MT_DOCKER_V2 "; charset=utf-8", &k, mt,
				     sizeof mt, err, sizeof err), 0);
	ck_assert_int_eq(k, SM_DOC_MANIFEST);
	ck_assert_str_eq(mt, SM_MT_DOCKER_V2);
	ck_assert_int_eq(sm_doc_kind(v1, strlen(v1), NULL, &k, mt, sizeof mt, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "schema 1"), "%s", err);
	ck_assert_int_eq(sm_doc_kind("{\"mediaType\":\"text/html\"}", 25, NULL, &k, mt, sizeof mt,
				     err, sizeof err), -1);
	ck_assert_msg(strstr(err, "text/html"), "%s", err);
	ck_assert_int_eq(sm_doc_kind("[1]", 3, NULL, &k, mt, sizeof mt, err, sizeof err), -1);
	/* no mediaType and a generic Content-Type: the shape decides */
	ck_assert_int_eq(sm_doc_kind("{\"layers\":[]}", 13, "application/json", &k, mt, sizeof mt,
				     err, sizeof err), 0);
	ck_assert_int_eq(k, SM_DOC_MANIFEST);
	ck_assert_int_eq(sm_doc_kind("{\"manifests\":[]}", 16, "text/plain", &k, mt, sizeof mt,
				     err, sizeof err), 0);
	ck_assert_int_eq(k, SM_DOC_INDEX);
}
END_TEST

static const char *manifest_fmt =
	"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SM_MT_OCI_CONFIG "\","
	"\"digest\":\"sha256:" D64 "\",\"size\":10},\"layers\":[{\"mediaType\":\"%s\","
	"\"digest\":\"%s\",\"size\":5}]}";

static int parse_with(const char *mt, const char *digest, char *err, size_t errlen)
{
	char buf[1024];
	struct sm_manifest m;

	snprintf(buf, sizeof buf, manifest_fmt, mt, digest);
	int rc = sm_manifest_parse(buf, strlen(buf), &m, err, errlen);
	if (rc == 0) {
		ck_assert_uint_eq(m.nlayers, 1);
		ck_assert_uint_eq(m.layers[0].size, 5);
		sm_manifest_free(&m);
	}
	return rc;
}

START_TEST(manifest_validation)
{
	char err[512];

	ck_assert_int_eq(parse_with("application/vnd.oci.image.layer.v1.tar+zstd",
				    "sha256:" D64, err, sizeof err), 0);
	ck_assert_int_eq(parse_with("application/vnd.docker.image.rootfs.diff.tar.gzip",
				    "sha256:" D64, err, sizeof err), 0);
	ck_assert_int_eq(parse_with("application/vnd.cncf.helm.chart.content.v1.tar+gzip",
				    "sha256:" D64, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "unsupported media type") && strstr(err, "helm"), "%s", err);
	ck_assert_int_eq(parse_with("application/vnd.oci.image.layer.v1.tar",
				    "sha512:" D64, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "only sha256"), "%s", err);
}
END_TEST

START_TEST(config_fields)
{
	const char *cfg = "{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{"
		"\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"Env\":[\"A=1\",\"B=2\"],"
		"\"WorkingDir\":\"/srv\",\"User\":\"1000:1000\",\"ExposedPorts\":{\"80/tcp\":{}}}}";
	struct sm_image_config *c = calloc(1, sizeof *c);
	char err[256];

	ck_assert_int_eq(sm_config_parse(cfg, strlen(cfg), c, err, sizeof err), 0);
	ck_assert_uint_eq(c->n_entrypoint, 2);
	ck_assert_str_eq(c->entrypoint[1], "-c");
	ck_assert_ptr_null(c->entrypoint[2]);
	ck_assert_str_eq(c->cmd[0], "echo hi");
	ck_assert_uint_eq(c->n_env, 2);
	ck_assert_str_eq(c->workdir, "/srv");
	ck_assert_str_eq(c->user, "1000:1000");
	ck_assert_str_eq(c->exposed_ports[0], "80/tcp");
	ck_assert_str_eq(c->arch, "amd64");
	sm_image_config_free(c);
}
END_TEST

static void mkstore(char *dir)
{
	strcpy(dir, "/tmp/sm-unit-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rmstore(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(store_schema_and_lock)
{
	char dir[64], path[128], err[512];
	struct sm_store *st, *st2;
	sqlite3 *db;
	sqlite3_stmt *s;

	mkstore(dir);
	ck_assert_msg(sm_store_open(dir, &st, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(sm_store_open(dir, &st2, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "in use"), "%s", err);
	sm_store_close(st);
	snprintf(path, sizeof path, "%s/store.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version),"
		" (SELECT journal_mode FROM pragma_journal_mode), (SELECT COUNT(*) FROM sqlite_master"
		" WHERE type = 'table')", -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(s, 0), 2);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 1), "wal");
	ck_assert_int_eq(sqlite3_column_int(s, 2), 7);
	sqlite3_finalize(s);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(sm_store_open(dir, &st, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "version 99 is newer"), "%s", err);
	rmstore(dir);
}
END_TEST

START_TEST(store_empty_queries)
{
	char dir[64], err[512];
	struct sm_store *st;
	struct sm_image_info *list;
	struct sm_image_config *c;
	struct sm_gc_stats g;
	size_t n = 99;

	mkstore(dir);
	ck_assert_msg(sm_store_open(dir, &st, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(sm_store_list(st, &list, &n, err, sizeof err), 0);
	ck_assert_uint_eq(n, 0);
	sm_image_list_free(list, n);
	ck_assert_int_eq(sm_store_inspect(st, "busybox", &c, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "no such image: busybox"), "%s", err);
	ck_assert_int_eq(sm_store_delete(st, "sha256:" D64, err, sizeof err), -1);
	ck_assert_int_eq(sm_store_inspect(st, "Bad Name", &c, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "invalid"), "%s", err);
	ck_assert_int_eq(sm_store_pull(st, "UPPER/case", NULL, NULL, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "invalid repository"), "%s", err);
	ck_assert_int_eq(sm_store_gc(st, &g, err, sizeof err), 0);
	ck_assert_uint_eq(g.files_removed, 0);
	sm_store_close(st);
	rmstore(dir);
}
END_TEST

/* The same SQL used while its cached statement is still out (a nested
 * query): a second, uncached statement, and both give correct rows. */
START_TEST(stmt_cache_nested_use)
{
	static const char sql[] = "SELECT ?1 * 2";
	struct sm_stmt_cache c = { .n = 0 };
	char err[256];
	sqlite3 *db;
	sqlite3_stmt *outer, *inner, *again;

	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_msg(sm_stmt_get(&c, db, sql, &outer, err, sizeof err) == 0, "%s", err);
	sqlite3_bind_int(outer, 1, 10);
	ck_assert_int_eq(sqlite3_step(outer), SQLITE_ROW);
	ck_assert_msg(sm_stmt_get(&c, db, sql, &inner, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_ne(inner, outer);
	sqlite3_bind_int(inner, 1, 21);
	ck_assert_int_eq(sqlite3_step(inner), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(inner, 0), 42);
	sm_stmt_put(&c, inner);
	ck_assert_int_eq(sqlite3_column_int(outer, 0), 20);
	sm_stmt_put(&c, outer);
	ck_assert_int_eq(c.n, 1);
	ck_assert_msg(sm_stmt_get(&c, db, sql, &again, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_eq(again, outer);
	ck_assert_int_eq(sqlite3_step(again), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_type(again, 0), SQLITE_NULL); /* bindings cleared */
	sm_stmt_put(&c, again);
	sm_stmt_cache_clear(&c);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store-unit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ref_forms);
	tcase_add_test(tc, ref_errors);
	tcase_add_test(tc, ref_names);
	tcase_add_test(tc, challenge_parse);
	tcase_add_test(tc, docker_config);
	tcase_add_test(tc, index_platforms);
	tcase_add_test(tc, doc_kinds);
	tcase_add_test(tc, manifest_validation);
	tcase_add_test(tc, config_fields);
	suite_add_tcase(s, tc);
	tc = tcase_create("store");
	tcase_add_test(tc, store_schema_and_lock);
	tcase_add_test(tc, store_empty_queries);
	tcase_add_test(tc, stmt_cache_nested_use);
	suite_add_tcase(s, tc);
	return check_run(s, CK_NOFORK);
}
