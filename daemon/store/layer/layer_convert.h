/* layer_convert.h - turn one OCI layer blob into one read-only erofs image.
 *
 * The blob is a tar, plain or gzip/zstd compressed (detected from its
 * bytes). OCI whiteouts become overlayfs whiteouts (0/0 character devices)
 * and opaque-directory markers become the trusted.overlay.opaque xattr, so
 * the guest can stack one erofs image per layer with overlayfs. Hostile
 * entries (absolute or ../ paths, writes through symlinks, hard links to
 * outside targets, absurd sizes, bad names) are refused or neutralised.
 * Output is written to a temp name, fsynced and renamed to out_path.
 */
#ifndef SM_LAYER_CONVERT_H
#define SM_LAYER_CONVERT_H

#include <stddef.h>
#include <stdint.h>

struct layer_stats {
	uint64_t entries;        /* archive entries read */
	uint64_t bytes_in;       /* uncompressed tar payload bytes */
	uint64_t image_bytes;    /* size of the erofs image written */
	uint64_t neutralised;    /* hostile entries dropped or rewritten */
	uint64_t inodes;         /* inodes in the image */
	uint64_t whiteouts;      /* .wh.NAME turned into 0/0 char devices */
	uint64_t opaque_dirs;    /* .wh..wh..opq turned into the opaque xattr */
};

/* Caps against absurd archives; 0 in a field means its default. Going over
 * a cap fails the whole conversion with the entry named in the message. */
struct layer_limits {
	uint64_t max_file_size;  /* one regular file */
	uint64_t max_total_size; /* all regular files together */
	uint64_t max_entries;    /* archive entries */
};

#define LAYER_DEFAULT_MAX_FILE_SIZE  (64ull << 30)
#define LAYER_DEFAULT_MAX_TOTAL_SIZE (256ull << 30)
#define LAYER_DEFAULT_MAX_ENTRIES    (2ull << 20)

/* 0 on success; -1 with a message naming the entry or cause in err. */
int layer_convert(const char *blob_path, const char *out_path,
		  struct layer_stats *stats, char *err, size_t errlen);

/* The same with explicit limits (NULL: defaults). stats may be NULL. */
int layer_convert_ex(const char *blob_path, const char *out_path,
		     const struct layer_limits *limits,
		     struct layer_stats *stats, char *err, size_t errlen);

/* The same reading the blob from in_fd (a file, pipe or socket, read to
 * its end; left open); name is used in messages. */
int layer_convert_fd(int in_fd, const char *name, const char *out_path,
		     const struct layer_limits *limits,
		     struct layer_stats *stats, char *err, size_t errlen);

#endif
