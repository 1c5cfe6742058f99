/* treecmp.c - compare two directory trees entry by entry (helpers.h).
 *
 * The reference tree (a tar extracted as root) is walked with nftw; each
 * path must exist in the other tree with the same type, permission bits,
 * owner, size, mtime, content, symlink target and device number, and the
 * other tree must have no extra paths. Flags add nanosecond mtimes, hard
 * link sharing (same inode where the reference shares one), directory
 * link counts and xattrs.
 */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct tc_link { ino_t ref_ino; ino_t other_ino; };

static struct {
	const char *a, *b;
	size_t alen;
	int flags;
	char *msg;
	size_t msglen;
	struct tc_link links[4096];
	size_t nlinks;
	bool reverse;           /* walking b, only checking existence */
} tc;

static int tc_fail(const char *rel, const char *what)
{
	snprintf(tc.msg, tc.msglen, "%s: %s differs", *rel ? rel : "/", what);
	return 1;
}

static int tc_same_content(const char *pa, const char *pb)
{
	char ba[65536], bb[65536];
	int fa = open(pa, O_RDONLY), fb = open(pb, O_RDONLY), same = 1;

	if (fa < 0 || fb < 0)
		same = 0;
	while (same) {
		ssize_t na = read(fa, ba, sizeof(ba));
		ssize_t nb = na > 0 ? read(fb, bb, (size_t)na) : read(fb, bb, 1);

		if (na != nb || na < 0 || memcmp(ba, bb, na > 0 ? (size_t)na : 0))
			same = 0;
		if (na <= 0)
			break;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

static int tc_same_xattrs(const char *pa, const char *pb)
{
	char la[4096], lb[4096], va[4096], vb[4096];
	ssize_t na = llistxattr(pa, la, sizeof(la));
	ssize_t nb = llistxattr(pb, lb, sizeof(lb));

	if (na < 0 || nb < 0 || na != nb)
		return 0;
	for (char *n = la; n < la + na; n += strlen(n) + 1) {
		ssize_t xa = lgetxattr(pa, n, va, sizeof(va));
		ssize_t xb = lgetxattr(pb, n, vb, sizeof(vb));

		if (xa < 0 || xa != xb || memcmp(va, vb, (size_t)xa))
			return 0;
	}
	return 1;
}

/* Where the reference shares an inode, the other tree must as well. */
static int tc_check_link(const struct stat *sa, const struct stat *sb)
{
	for (size_t i = 0; i < tc.nlinks; i++)
		if (tc.links[i].ref_ino == sa->st_ino)
			return tc.links[i].other_ino == sb->st_ino;
	if (tc.nlinks < sizeof(tc.links) / sizeof(tc.links[0]))
		tc.links[tc.nlinks++] = (struct tc_link){ sa->st_ino, sb->st_ino };
	return 1;
}

static int tc_compare_stat(const char *rel, const char *pa, const char *pb,
			   const struct stat *sa, const struct stat *sb)
{
	if ((sa->st_mode & S_IFMT) != (sb->st_mode & S_IFMT))
		return tc_fail(rel, "type");
	mode_t mask = 07777;

	if ((tc.flags & TC_CHOWN_CLEARS_SUGID) && !S_ISDIR(sa->st_mode))
		mask &= ~(mode_t)06000;
	if ((sa->st_mode & mask) != (sb->st_mode & mask))
		return tc_fail(rel, "mode");
	if (sa->st_uid != sb->st_uid || sa->st_gid != sb->st_gid)
		return tc_fail(rel, "owner");
	if (!S_ISDIR(sa->st_mode) && sa->st_size != sb->st_size)
		return tc_fail(rel, "size");
	if (!S_ISLNK(sa->st_mode) && sa->st_mtim.tv_sec != sb->st_mtim.tv_sec)
		return tc_fail(rel, "mtime");
	if ((tc.flags & TC_NSEC) && !S_ISLNK(sa->st_mode) &&
	    sa->st_mtim.tv_nsec != sb->st_mtim.tv_nsec)
		return tc_fail(rel, "mtime nsec");
	if ((S_ISCHR(sa->st_mode) || S_ISBLK(sa->st_mode)) &&
	    sa->st_rdev != sb->st_rdev)
		return tc_fail(rel, "rdev");
	if (!S_ISDIR(sa->st_mode) && sa->st_nlink != sb->st_nlink &&
	    (tc.flags & TC_LINKS))
		return tc_fail(rel, "nlink");
	if (S_ISDIR(sa->st_mode) && (tc.flags & TC_DIRNLINK) &&
	    sa->st_nlink != sb->st_nlink)
		return tc_fail(rel, "dir nlink");
	if ((tc.flags & TC_LINKS) && sa->st_nlink > 1 && !S_ISDIR(sa->st_mode) &&
	    !tc_check_link(sa, sb))
		return tc_fail(rel, "hard link sharing");
	return 0;
}

static int tc_compare_one(const char *rel, const char *pa, const char *pb,
			  const struct stat *sa)
{
	struct stat sb;
	char ta[4096], tb[4096];

	if (lstat(pb, &sb) < 0)
		return tc_fail(rel, "existence (missing)");
	if (tc_compare_stat(rel, pa, pb, sa, &sb))
		return 1;
	if (S_ISREG(sa->st_mode) && !tc_same_content(pa, pb))
		return tc_fail(rel, "content");
	if (S_ISLNK(sa->st_mode)) {
		ssize_t na = readlink(pa, ta, sizeof(ta));
		ssize_t nb = readlink(pb, tb, sizeof(tb));

		if (na != nb || na < 0 || memcmp(ta, tb, (size_t)na))
			return tc_fail(rel, "symlink target");
	}
	if ((tc.flags & TC_XATTRS) && !tc_same_xattrs(pa, pb))
		return tc_fail(rel, "xattrs");
	return 0;
}

static int tc_visit(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	const char *rel = path + tc.alen;
	char other[8192];

	while (*rel == '/')
		rel++;
	snprintf(other, sizeof(other), "%s/%s", tc.reverse ? tc.a : tc.b, rel);
	if (tc.reverse) {
		struct stat so;

		return lstat(other, &so) < 0 ? tc_fail(rel, "existence (extra)") : 0;
	}
	return tc_compare_one(rel, path, other, st);
}

int th_tree_compare(const char *a, const char *b, int flags,
		    char *msg, size_t msglen)
{
	int rc;

	memset(&tc, 0, sizeof(tc));
	tc.a = a;
	tc.b = b;
	tc.alen = strlen(a);
	tc.flags = flags;
	tc.msg = msg;
	tc.msglen = msglen;
	snprintf(msg, msglen, "ok");
	rc = nftw(a, tc_visit, 32, FTW_PHYS);
	if (rc == 0) {
		tc.reverse = true;
		tc.alen = strlen(b);
		rc = nftw(b, tc_visit, 32, FTW_PHYS);
	}
	if (rc < 0)
		snprintf(msg, msglen, "walk failed: %s", strerror(errno));
	return rc;
}
