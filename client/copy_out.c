/* copy_out.c - sm_copy_from_vm: a file or folder out of a running VM.
 *
 * GET /v1/vms/{id}/files answers a file's bytes, or for a folder a tar
 * (Content-Type application/x-tar) with names under the folder's
 * basename. The body is spooled to an anonymous temporary file; a tar is
 * then checked whole (client/tar_check.c: the guest is not trusted, so
 * absolute names, "..", links out of the folder and device nodes refuse
 * the whole copy before anything is written) and extracted with
 * libarchive into the destination folder, modes kept without set-id bits,
 * owned by the caller.
 */
#include "client/client_int.h"
#include "common/tar/tar_check.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int spool(const char *p, size_t n, void *ud)
{
	return fwrite(p, 1, n, ud) == n ? 0 : 1;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *s = buf + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		char was = *s;
		*s = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		if (!(*s = was))
			break;
	}
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
}

/* Points e's names (already checked) below dir. */
static int rebase(struct archive_entry *e, const char *dir)
{
	char name[PATH_MAX], full[2 * PATH_MAX], why[256];
	const char *hard = archive_entry_hardlink(e);
	if (tar_check_name(archive_entry_pathname(e), name, sizeof name, why, sizeof why) < 0)
		return -1;
	snprintf(full, sizeof full, "%s%s%s", dir, name[0] ? "/" : "", name);
	archive_entry_set_pathname(e, full);
	if (hard) {
		if (tar_check_name(hard, name, sizeof name, why, sizeof why) < 0)
			return -1;
		snprintf(full, sizeof full, "%s/%s", dir, name);
		archive_entry_set_hardlink(e, full);
	}
	archive_entry_set_perm(e, archive_entry_perm(e) & 01777);
	return 0;
}

static int copy_blocks(struct archive *in, struct archive *out)
{
	const void *p;
	size_t n;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(in, &p, &n, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(out, p, n, off) != ARCHIVE_OK)
			return -1;
	return r == ARCHIVE_EOF ? 0 : -1;
}

static int extract(sm_client *c, int fd, const char *dir)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *e;
	int rc = SM_OK, r = ARCHIVE_EOF;
	archive_read_support_format_tar(in);
	archive_read_support_format_empty(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM);
	if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK)
		rc = sm_fail(c, SM_E_PROTOCOL, "reading the VM's tar: %s", archive_error_string(in));
	while (rc == SM_OK && ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK ||
			       r == ARCHIVE_WARN)) {
		if (rebase(e, dir) < 0 || archive_write_header(out, e) < ARCHIVE_WARN ||
		    (archive_entry_size(e) > 0 && copy_blocks(in, out) < 0) ||
		    archive_write_finish_entry(out) < ARCHIVE_WARN)
			rc = sm_fail(c, SM_E_FAILED, "%s: %s", archive_entry_pathname(e),
				     archive_error_string(out) ? archive_error_string(out)
				     : archive_error_string(in));
	}
	if (rc == SM_OK && r != ARCHIVE_EOF)
		rc = sm_fail(c, SM_E_PROTOCOL, "reading the VM's tar: %s", archive_error_string(in));
	if (archive_write_close(out) != ARCHIVE_OK && rc == SM_OK)
		rc = sm_fail(c, SM_E_FAILED, "%s: %s", dir, archive_error_string(out));
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}

/* A file's bytes from f to host_path (or into it, when it is a folder). */
static int write_file(sm_client *c, FILE *f, const char *host_path, const char *vm_path)
{
	char path[2 * PATH_MAX], copy[PATH_MAX], buf[65536];
	struct stat st;
	snprintf(path, sizeof path, "%s", host_path);
	if (stat(host_path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(copy, sizeof copy, "%s", vm_path);
		snprintf(path, sizeof path, "%s/%s", host_path, basename(copy));
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return sm_fail(c, SM_E_FAILED, "%s: %s", path, strerror(errno));
	size_t n;
	bool ok = true;
	while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
		for (size_t off = 0; ok && off < n;) {
			ssize_t w = write(fd, buf + off, n - off);
			ok = w > 0 || (w < 0 && errno == EINTR);
			off += w > 0 ? (size_t)w : 0;
		}
	if (close(fd) < 0 || !ok || ferror(f))
		return sm_fail(c, SM_E_FAILED, "writing %s: %s", path, strerror(errno));
	return SM_OK;
}

int sm_copy_from_vm(sm_client *c, const char *vm, const char *vm_path, const char *host_path)
{
	char why[1024];
	const char *ctype = NULL;
	if (!c || !vm || !*vm || !vm_path || !host_path || !*host_path || strchr(vm, '/'))
		return SM_E_INVALID;
	FILE *f = tmpfile();
	char *p = vm_files_path(c, vm, vm_path, 0);
	int st = !f || !p ? sm_fail(c, SM_E_NOMEM, "a temporary file: %s", strerror(errno))
			  : SM_OK;
	struct http_call call = { .method = "GET", .path = p, .on_bytes = spool, .ud = f };
	if (st == SM_OK)
		st = http_call(c, &call, NULL);
	if (st == SM_E_STOPPED)
		st = sm_fail(c, SM_E_FAILED, "spooling %s: %s", vm_path, strerror(errno));
	if (st == SM_OK && (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0))
		st = sm_fail(c, SM_E_FAILED, "spooling %s: %s", vm_path, strerror(errno));
	curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ctype);
	bool tar = ctype && !strncasecmp(ctype, "application/x-tar", 17);
	if (st == SM_OK && !tar)
		st = write_file(c, f, host_path, vm_path);
	else if (st == SM_OK && tar_check_fd(fileno(f), why, sizeof why) < 0)
		st = sm_fail(c, SM_E_PROTOCOL, "refusing the VM's tar of %s: %s", vm_path, why);
	else if (st == SM_OK && make_dirs(host_path) < 0)
		st = sm_fail(c, SM_E_FAILED, "%s: %s", host_path, strerror(errno));
	else if (st == SM_OK)
		st = extract(c, fileno(f), host_path);
	free(p);
	if (f)
		fclose(f);
	return st;
}
