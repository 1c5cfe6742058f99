/* import.c - sm_store_import: OCI layout directories, tars of them and
 * `docker save` tars, without a registry.
 *
 * A tar is first extracted with libarchive's secure flags (no "..", no
 * absolute paths, no writing through symlinks) into tmp/import-XXXXXX,
 * which is removed afterwards. Blobs are then copied into the store with
 * their sha256 checked, exactly like downloads, and go through the same
 * ingest as a pull.
 */
#include "import.h"
#include "err.h"
#include "ref.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *sm_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	struct stat sb;
	FILE *f = fopen(path, "rb");

	if (!f) {
		sm_err(err, errlen, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) < 0 || (uint64_t)sb.st_size > max) {
		fclose(f);
		sm_err(err, errlen, "%s: larger than %zu bytes", path, max);
		return NULL;
	}
	char *buf = malloc((size_t)sb.st_size + 1);
	*len = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
	fclose(f);
	if (!buf) {
		sm_err(err, errlen, "out of memory");
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

int sm_safe_join(const char *root, const char *rel, char *out, size_t len,
		 char *err, size_t errlen)
{
	char real_root[PATH_MAX], real[PATH_MAX], joined[PATH_MAX * 2];

	if (rel[0] == '/' || !strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
	    strstr(rel, "/../") || (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/..")))
		return sm_err(err, errlen, "refusing path \"%s\" outside the archive", rel);
	snprintf(joined, sizeof joined, "%s/%s", root, rel);
	if (!realpath(root, real_root) || !realpath(joined, real))
		return sm_err(err, errlen, "%s: %s", rel, strerror(errno));
	size_t n = strlen(real_root);
	if (strncmp(real, real_root, n) || real[n] != '/')
		return sm_err(err, errlen, "refusing \"%s\": it leads outside the archive", rel);
	snprintf(out, len, "%s", real);
	return 0;
}

static int copy_fd(int in, int out, struct sm_hash *h, uint64_t *total, uint64_t max,
		   char *err, size_t errlen)
{
	static __thread char buf[1 << 16];
	ssize_t n;

	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (*total + (uint64_t)n > max)
			return sm_err(err, errlen, "larger than its descriptor says");
		for (ssize_t done = 0, w; done < n; done += w) {
			w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				return sm_err(err, errlen, "write: %s", w < 0 ? strerror(errno)
					      : "no progress");
		}
		sm_hash_update(h, buf, (size_t)n);
		*total += (uint64_t)n;
	}
	return n < 0 ? sm_err(err, errlen, "read: %s", strerror(errno)) : 0;
}

static int source_path(struct sm_file_source *s, const struct sm_desc *d, char *out,
		       size_t len, char *err, size_t errlen)
{
	char rel[128];

	for (size_t i = 0; i < s->n_files; i++)
		if (!strcmp(s->files[i].digest, d->digest)) {
			snprintf(out, len, "%s", s->files[i].path);
			return 0;
		}
	snprintf(rel, sizeof rel, "blobs/sha256/%s", sm_digest_hex(d->digest));
	return sm_safe_join(s->root, rel, out, len, err, errlen);
}

int sm_file_fetch(void *ctx, const struct sm_desc *d, const char *partial,
		  sm_progress_fn progress, void *ud, char *err, size_t errlen)
{
	char path[PATH_MAX], got[SM_DIGEST_LEN];
	struct sm_hash h;
	uint64_t total = 0;
	int in = -1, out = -1, rc = -1;

	if (source_path(ctx, d, path, sizeof path, err, errlen) < 0)
		return sm_err_prefix(err, errlen, "blob %s: ", d->digest);
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (out = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		sm_err(err, errlen, "open %s: %s", in < 0 ? path : partial, strerror(errno));
		goto out;
	}
	if (sm_hash_init(&h) < 0) {
		sm_err(err, errlen, "sha256 init failed");
		goto out;
	}
	rc = copy_fd(in, out, &h, &total, d->size, err, errlen);
	sm_hash_final(&h, got);
	sm_hash_free(&h);
	if (rc == 0 && (total != d->size || strcmp(got, d->digest)))
		rc = sm_err(err, errlen, "digest mismatch for blob %s: expected %s (%llu bytes), "
			    "got %s (%llu bytes)", d->digest, d->digest, (unsigned long long)d->size,
			    got, (unsigned long long)total);
	if (rc == 0 && fsync(out) < 0)
		rc = sm_err(err, errlen, "fsync %s: %s", partial, strerror(errno));
	if (rc < 0)
		unlink(partial);
	if (rc == 0 && progress) {
		struct sm_progress ev = { d->digest, "download", total, d->size };
		progress(&ev, ud);
	}
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static int extract_entries(struct archive *a, struct archive *w, char *err, size_t errlen)
{
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		mode_t type = archive_entry_filetype(e);
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
			continue; /* devices, fifos: never part of an image archive */
		archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
		if (archive_write_header(w, e) != ARCHIVE_OK)
			return sm_err(err, errlen, "entry \"%s\": %s",
				      archive_entry_pathname(e), archive_error_string(w));
		const void *buf;
		size_t size;
		la_int64_t off;
		while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(w, buf, size, off) != ARCHIVE_OK)
				return sm_err(err, errlen, "%s", archive_error_string(w));
		if (r != ARCHIVE_EOF)
			return sm_err(err, errlen, "%s", archive_error_string(a));
		archive_write_finish_entry(w);
	}
	return r == ARCHIVE_EOF ? 0 : sm_err(err, errlen, "%s", archive_error_string(a));
}

static int extract_tar(const char *path, const char *dest, char *err, size_t errlen)
{
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	int flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	int rc = -1;

	if (!a || !w) {
		sm_err(err, errlen, "out of memory");
		goto out;
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	archive_write_disk_set_options(w, flags);
	/* Open before chdir: path may be relative to the caller's cwd. */
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK)
		sm_err(err, errlen, "%s", archive_error_string(a));
	else if (chdir(dest) < 0)
		sm_err(err, errlen, "chdir %s: %s", dest, strerror(errno));
	else
		rc = extract_entries(a, w, err, errlen);
out:
	archive_read_free(a);
	archive_write_free(w);
	return rc;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	remove(p);
	return 0;
}

static int import_dir(struct sm_store *st, const char *dir, const char *tag, const char *source,
		      const struct sm_pull_opts *o, char *id_out, char *err, size_t errlen);

/* Extraction needs a cwd; run it in a child so the daemon's cwd and its
 * other threads are untouched. */
static int extract_in_child(const char *path, const char *dest, char *err, size_t errlen)
{
	int pipefd[2];

	if (pipe(pipefd) < 0)
		return sm_err(err, errlen, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		return sm_err(err, errlen, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(pipefd[0]);
		int rc = extract_tar(path, dest, err, errlen);
		if (rc < 0 && write(pipefd[1], err, strlen(err)) < 0)
			_exit(2);
		_exit(rc < 0 ? 1 : 0);
	}
	close(pipefd[1]);
	char msg[1024];
	ssize_t n = read(pipefd[0], msg, sizeof msg - 1);
	close(pipefd[0]);
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (w < 0)
		return sm_err(err, errlen, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	return sm_err(err, errlen, "%s", *msg ? msg : "extracting the archive failed");
}

static int import_tar(struct sm_store *st, const char *path, const char *tag,
		      const struct sm_pull_opts *o, char *id_out, char *err, size_t errlen)
{
	char tmp[PATH_MAX];

	sm_abspath(st, "tmp/import-XXXXXX", tmp, sizeof tmp);
	if (!mkdtemp(tmp))
		return sm_err(err, errlen, "mkdtemp %s: %s", tmp, strerror(errno));
	int rc = extract_in_child(path, tmp, err, errlen);
	if (rc == 0)
		rc = import_dir(st, tmp, tag, o->source_name ? o->source_name : path, o, id_out,
				err, errlen);
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* A repository name from a file name: "My App.tar.gz" -> "my-app". */
static void name_from_source(const char *source, char *out, size_t len)
{
	static const char *const exts[] = { ".tar.gz", ".tar.zst", ".tar", ".tgz", ".oci", NULL };
	size_t n = strlen(source), k = 0;

	while (n > 1 && source[n - 1] == '/')
		n--;
	const char *base = source + n;
	while (base > source && base[-1] != '/')
		base--;
	n -= (size_t)(base - source);
	for (const char *const *e = exts; *e; e++)
		if (n > strlen(*e) && !strncasecmp(base + n - strlen(*e), *e, strlen(*e))) {
			n -= strlen(*e);
			break;
		}
	for (size_t i = 0; i < n && k + 1 < len; i++) {
		char c = (char)tolower((unsigned char)base[i]);
		if (!isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-')
			c = '-';
		if (k || isalnum((unsigned char)c))
			out[k++] = c;
	}
	out[k] = '\0';
}

/* The name to tag with: the caller's, else one found in the archive, else
 * for a bare ref the source's file name with the ref as tag (a name that
 * does not parse leaves the image untagged). */
static int pick_name(const char *tag, const struct sm_found *f, const char *source,
		     char *out, size_t len, char *err, size_t errlen)
{
	struct sm_ref r;
	char made[700], base[256];
	const char *n = tag && *tag ? tag : f->name;

	out[0] = '\0';
	if ((!n || !*n) && *f->ref) {
		name_from_source(source, base, sizeof base);
		snprintf(made, sizeof made, "%s:%s", base, f->ref);
		if (*base && sm_ref_parse(made, &r, err, errlen) == 0 && r.tag[0])
			sm_ref_name(&r, out, len);
		err[0] = '\0';
		return 0;
	}
	if (!n || !*n)
		return 0;
	if (sm_ref_parse(n, &r, err, errlen) < 0)
		return sm_err_prefix(err, errlen, "image name: ");
	if (r.tag[0])
		sm_ref_name(&r, out, len);
	return 0;
}

static int exists_in(const char *dir, const char *name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static int import_dir(struct sm_store *st, const char *dir, const char *tag, const char *source,
		      const struct sm_pull_opts *o, char *id_out, char *err, size_t errlen)
{
	struct sm_file_source src = { .root = dir };
	struct sm_found f = { 0 };
	char name[700];
	int rc;

	if (exists_in(dir, "index.json"))
		rc = sm_import_oci(dir, o, tag, &f, err, errlen);
	else if (exists_in(dir, "manifest.json"))
		rc = sm_import_docker(dir, tag, &src, &f, err, errlen);
	else
		rc = sm_err(err, errlen, "neither an OCI image layout (index.json) nor a "
			    "docker save archive (manifest.json)");
	if (rc == 0)
		rc = pick_name(tag, &f, source, name, sizeof name, err, errlen);
	if (rc == 0) {
		struct sm_ingest in = {
			.manifest_digest = f.digest, .manifest_mt = f.media_type,
			.manifest = f.manifest, .manifest_len = f.manifest_len, .m = &f.m,
			.tag = name[0] ? name : NULL, .parallel = o->parallel,
			.progress = o->progress, .progress_ud = o->progress_ud,
			.cancel = o->cancel,
		};
		struct sm_source s = { sm_file_fetch, &src };
		rc = sm_ingest_image(st, &in, &s, err, errlen);
	}
	if (rc == 0 && id_out)
		snprintf(id_out, SM_DIGEST_LEN, "%s", f.digest);
	sm_manifest_free(&f.m);
	free(f.manifest);
	free(src.files);
	return rc;
}

int sm_store_import(struct sm_store *st, const char *path, const char *tag,
		    const struct sm_pull_opts *opts, char *id_out, char *err, size_t errlen)
{
	static const struct sm_pull_opts defaults;
	const struct sm_pull_opts *o = opts ? opts : &defaults;
	struct stat sb;
	int rc;

	if (stat(path, &sb) < 0)
		return sm_err(err, errlen, "import %s: %s", path, strerror(errno));
	sm_begin_work(st);
	if (S_ISDIR(sb.st_mode))
		rc = import_dir(st, path, tag, o->source_name ? o->source_name : path, o, id_out,
				err, errlen);
	else if (S_ISREG(sb.st_mode))
		rc = import_tar(st, path, tag, o, id_out, err, errlen);
	else
		rc = sm_err(err, errlen, "not a directory or a tar file");
	sm_end_work(st);
	return rc < 0 ? sm_err_prefix(err, errlen, "import %s: ", path) : 0;
}
