/* copy_in.c - sm_copy_to_vm: a host file or folder into a running VM.
 *
 * A file is sent as it is (PUT /v1/vms/{id}/files, its mode kept). A
 * folder is first written as a tar to an anonymous temporary file with
 * libarchive - names under the folder's basename, symlinks stored as
 * symlinks, modes kept; sockets, fifos and devices left out - and that
 * tar is sent with Content-Type application/x-tar, so the daemon
 * extracts it into the destination folder.
 */
#include "client/client_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies one entry's data from the disk reader to the tar writer. */
static int copy_data(struct archive *disk, struct archive *tar)
{
	char buf[65536];
	la_ssize_t n;
	while ((n = archive_read_data(disk, buf, sizeof buf)) > 0)
		if (archive_write_data(tar, buf, (size_t)n) != n)
			return -1;
	return n < 0 ? -1 : 0;
}

/* Adds the entries below dir (its own included) as base/... to tar. */
static int walk(sm_client *c, struct archive *disk, struct archive *tar, const char *dir,
		const char *base)
{
	struct archive_entry *e = archive_entry_new();
	size_t dlen = strlen(dir);
	char name[PATH_MAX + 256];
	int rc = SM_OK, r;
	while ((r = archive_read_next_header2(disk, e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *p = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		archive_read_disk_descend(disk);
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
			continue;
		snprintf(name, sizeof name, "%s%s", base, p + (strncmp(p, dir, dlen) ? 0 : dlen));
		archive_entry_set_pathname(e, name);
		if (archive_write_header(tar, e) != ARCHIVE_OK ||
		    (type == AE_IFREG && copy_data(disk, tar) < 0)) {
			rc = sm_fail(c, SM_E_FAILED, "taring %s: %s", p,
				     archive_error_string(tar) ? archive_error_string(tar)
				     : archive_error_string(disk));
			break;
		}
	}
	if (rc == SM_OK && r != ARCHIVE_EOF)
		rc = sm_fail(c, SM_E_FAILED, "reading %s: %s", dir, archive_error_string(disk));
	archive_entry_free(e);
	return rc;
}

/* A tar of dir (names under its basename) in *out, rewound. */
static int tar_dir(sm_client *c, const char *dir, FILE **out)
{
	char copy[PATH_MAX], trimmed[PATH_MAX];
	snprintf(trimmed, sizeof trimmed, "%s", dir);
	for (size_t n = strlen(trimmed); n > 1 && trimmed[n - 1] == '/'; n--)
		trimmed[n - 1] = 0;
	snprintf(copy, sizeof copy, "%s", trimmed);
	const char *base = basename(copy);
	if (!strcmp(trimmed, "/"))
		return sm_fail(c, SM_E_INVALID, "copying the host's whole / is not supported");
	FILE *f = tmpfile();
	struct archive *disk = archive_read_disk_new(), *tar = archive_write_new();
	int rc = SM_OK;
	if (!f || !disk || !tar)
		rc = sm_fail(c, SM_E_NOMEM, "a temporary tar: %s", strerror(errno));
	else if (archive_read_disk_set_standard_lookup(disk) != ARCHIVE_OK ||
		 archive_read_disk_set_symlink_physical(disk) != ARCHIVE_OK ||
		 archive_write_set_format_pax_restricted(tar) != ARCHIVE_OK ||
		 archive_write_open_fd(tar, fileno(f)) != ARCHIVE_OK ||
		 archive_read_disk_open(disk, trimmed) != ARCHIVE_OK)
		rc = sm_fail(c, SM_E_FAILED, "%s: %s", dir, archive_error_string(disk) ?
			     archive_error_string(disk) : archive_error_string(tar));
	else
		rc = walk(c, disk, tar, trimmed, base);
	if (rc == SM_OK && archive_write_close(tar) != ARCHIVE_OK)
		rc = sm_fail(c, SM_E_FAILED, "writing the tar: %s", archive_error_string(tar));
	archive_read_free(disk);
	archive_write_free(tar);
	if (rc == SM_OK && fseek(f, 0, SEEK_SET) == 0) {
		*out = f;
		return SM_OK;
	}
	if (f)
		fclose(f);
	return rc == SM_OK ? sm_fail(c, SM_E_FAILED, "rewinding the tar") : rc;
}

/* PUT of f (length len) to vm_path. */
static int put_file(sm_client *c, const char *vm, const char *vm_path, FILE *f, long len,
		    unsigned mode, const char *ctype)
{
	char *p = vm_files_path(c, vm, vm_path, mode);
	if (!p)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct http_call call = { .method = "PUT", .path = p, .content_type = ctype,
				  .upload = f, .upload_len = len };
	int st = http_call(c, &call, NULL);
	free(p);
	return st;
}

int sm_copy_to_vm(sm_client *c, const char *vm, const char *host_path, const char *vm_path)
{
	struct stat st;
	FILE *f = NULL;
	if (!c || !vm || !*vm || !host_path || !vm_path || strchr(vm, '/'))
		return SM_E_INVALID;
	sm_clear_error(c);
	if (stat(host_path, &st) < 0)
		return sm_fail(c, SM_E_INVALID, "%s: %s", host_path, strerror(errno));
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return sm_fail(c, SM_E_INVALID, "%s: not a file or a folder", host_path);
	if (S_ISREG(st.st_mode)) {
		if (!(f = fopen(host_path, "rb")))
			return sm_fail(c, SM_E_INVALID, "%s: %s", host_path, strerror(errno));
		int rc = put_file(c, vm, vm_path, f, (long)st.st_size, st.st_mode & 07777,
				  "application/octet-stream");
		fclose(f);
		return rc;
	}
	int rc = tar_dir(c, host_path, &f);
	if (rc != SM_OK)
		return rc;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	rc = put_file(c, vm, vm_path, f, len, 0, "application/x-tar");
	fclose(f);
	return rc;
}
