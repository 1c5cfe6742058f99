/* helpers.h - shared steps of the layer tests: scratch dirs, running
 * fsck.erofs and tar, loop-mounting images, and comparing trees.
 */
#ifndef SM_TEST_HELPERS_H
#define SM_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "layer_convert.h"

/* A fresh directory under $TMPDIR; removed by th_rmtree. */
char *th_tmpdir(void);

/* Around srunner_run_all in main(): the tests get a private mount
 * namespace (their loop and overlay mounts vanish with the process, even
 * when a failed check exits before teardown) and a scratch root set as
 * TMPDIR, removed at the end. */
void th_main_begin(void);
void th_main_end(void);
void th_rmtree(const char *dir);

/* Run a shell command line; returns its exit status (or -1). */
int th_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* path joined under dir, in a static rotating buffer: a result stays
 * valid for the next 63 calls, enough for one test case. */
const char *th_path(const char *dir, const char *rel);

bool th_exists(const char *path);

/* fsck.erofs the image; 0 when it is accepted. */
int th_fsck(const char *img);
/* fsck.erofs --extract into dir (created); 0 on success. */
int th_extract(const char *img, const char *dir);

/* Loop-mount img read-only at mnt; false if this machine cannot. */
bool th_mount_erofs(const char *img, const char *mnt);
void th_umount(const char *mnt);
/* Say on stderr that mount checks were skipped (fsck checks still ran). */
void th_note_no_mount(void);

/* nid of path inside img per dump.erofs; -1 if it does not exist. */
long long th_nid(const char *img, const char *path);

/* Names directly in dir, sorted, space separated (static buffer). */
const char *th_ls(const char *dir);

/* Files in dir whose name contains part (leftover temp files). */
int th_count_matching(const char *dir, const char *part);

/* TC_CHOWN_CLEARS_SUGID: b was made by chmod then chown (fsck.erofs 1.5
 * --extract), and chown drops setuid/setgid from non-directories; ignore
 * those two bits there (the erofs mount comparison still checks them). */
enum { TC_NSEC = 1, TC_LINKS = 2, TC_XATTRS = 4, TC_DIRNLINK = 8,
       TC_CHOWN_CLEARS_SUGID = 16 };

/* Compare trees a (reference) and b: types, modes, owners, sizes,
 * contents, symlink targets, devices, mtimes; optionally nanoseconds,
 * hard-link sharing, xattrs. 0 when equal; else the first difference is
 * in msg. */
int th_tree_compare(const char *a, const char *b, int flags,
		    char *msg, size_t msglen);

#endif
