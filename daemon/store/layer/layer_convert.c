/* layer_convert.c - one OCI layer blob in, one erofs image out.
 *
 * Reads the blob with libarchive (tar, plain or gzip/zstd, detected from
 * the bytes; a zero-byte blob is an empty layer) from a file or any
 * readable fd (a pipe: conversion can run while a download streams in),
 * hands each entry to
 * layer_entry.c, then lets the erofs writer lay out the tree. The image is
 * written under a temporary name beside out_path, fsynced and renamed, so
 * a failure or crash never leaves a partial image at out_path.
 */
#include "layer_convert.h"
#include "layer_entry.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct out_files {
	char *tmp;              /* temp image path */
	char *dir;              /* directory of out_path */
	int fd, spool_fd;
};

static void limits_fill(struct layer_limits *l, const struct layer_limits *in)
{
	*l = in ? *in : (struct layer_limits){ 0 };
	if (!l->max_file_size)
		l->max_file_size = LAYER_DEFAULT_MAX_FILE_SIZE;
	if (!l->max_total_size)
		l->max_total_size = LAYER_DEFAULT_MAX_TOTAL_SIZE;
	if (!l->max_entries)
		l->max_entries = LAYER_DEFAULT_MAX_ENTRIES;
}

/* Spool for inline tails: an unnamed file in the output directory. */
static int open_spool(const char *dir)
{
	char path[4096];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT))
		return fd;
	snprintf(path, sizeof(path), "%s/.layer-spool-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static int out_open(struct out_files *o, const char *out_path,
		    char *err, size_t errlen)
{
	char *copy = strdup(out_path);

	o->fd = o->spool_fd = -1;
	o->dir = copy ? strdup(dirname(copy)) : NULL;
	free(copy);
	if (!o->dir || asprintf(&o->tmp, "%s.tmp-XXXXXX", out_path) < 0) {
		o->tmp = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		snprintf(err, errlen, "creating %s: %s", o->tmp, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	o->spool_fd = open_spool(o->dir);
	if (o->spool_fd < 0) {
		snprintf(err, errlen, "creating spool in %s: %s", o->dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* fsync, rename into place, fsync the directory. */
static int out_commit(struct out_files *o, const char *out_path,
		      char *err, size_t errlen)
{
	int dfd;

	if (fchmod(o->fd, 0644) < 0 || fsync(o->fd) < 0 ||
	    rename(o->tmp, out_path) < 0) {
		snprintf(err, errlen, "finishing %s: %s", out_path, strerror(errno));
		return -1;
	}
	free(o->tmp);
	o->tmp = NULL;
	dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void out_close(struct out_files *o)
{
	if (o->tmp)
		unlink(o->tmp);
	if (o->fd >= 0)
		close(o->fd);
	if (o->spool_fd >= 0)
		close(o->spool_fd);
	free(o->tmp);
	free(o->dir);
}

static struct archive *open_archive(int fd, const char *name,
				    char *err, size_t errlen)
{
	struct archive *a = archive_read_new();

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s: %s", name, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int read_entries(struct layer_ctx *c)
{
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(c->a, &e)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			snprintf(c->err, c->errlen, "reading archive: %s",
				 archive_error_string(c->a));
			return -1;
		}
		if (++c->st->entries > c->lim.max_entries) {
			snprintf(c->err, c->errlen, "more than %llu entries",
				 (unsigned long long)c->lim.max_entries);
			return -1;
		}
		if (layer_apply_entry(c, e) < 0)
			return -1;
	}
	return 0;
}

static int convert(struct layer_ctx *c, struct out_files *o, const char *out_path)
{
	struct ew_result res;

	if (read_entries(c) < 0)
		return -1;
	c->st->bytes_in = (uint64_t)archive_filter_bytes(c->a, 0);
	if (ew_finish(&c->w, &c->tree, &res, c->err, c->errlen) < 0)
		return -1;
	c->st->inodes = res.inodes;
	c->st->image_bytes = res.blocks * 4096;
	return out_commit(o, out_path, c->err, c->errlen);
}

int layer_convert_fd(int in_fd, const char *name, const char *out_path,
		     const struct layer_limits *limits,
		     struct layer_stats *stats, char *err, size_t errlen)
{
	struct layer_stats local;
	struct layer_ctx c = { .err = err, .errlen = errlen };
	struct out_files o = { .fd = -1, .spool_fd = -1 };
	int rc = -1;

	c.st = stats ? stats : &local;
	memset(c.st, 0, sizeof(*c.st));
	limits_fill(&c.lim, limits);
	c.a = open_archive(in_fd, name, err, errlen);
	if (!c.a)
		goto out;
	if (lt_tree_init(&c.tree, 0) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (out_open(&o, out_path, err, errlen) < 0)
		goto out;
	ew_init(&c.w, o.fd, o.spool_fd);
	rc = convert(&c, &o, out_path);
out:
	out_close(&o);
	lt_tree_free(&c.tree);
	if (c.a)
		archive_read_free(c.a);
	return rc;
}

int layer_convert_ex(const char *blob_path, const char *out_path,
		     const struct layer_limits *limits,
		     struct layer_stats *stats, char *err, size_t errlen)
{
	int fd = open(blob_path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		snprintf(err, errlen, "opening %s: %s", blob_path, strerror(errno));
		return -1;
	}
	rc = layer_convert_fd(fd, blob_path, out_path, limits, stats, err, errlen);
	close(fd);
	return rc;
}

int layer_convert(const char *blob_path, const char *out_path,
		  struct layer_stats *stats, char *err, size_t errlen)
{
	return layer_convert_ex(blob_path, out_path, NULL, stats, err, errlen);
}
