/* harness.c - the test side of the FUSE server: building requests,
 * checking replies, and the temporary folder (see harness.h).
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void th_put(struct th_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void th_puts(struct th_buf *b, const char *s)
{
	th_put(b, s, strlen(s) + 1);
}

void th_buf_free(struct th_buf *b)
{
	free(b->p);
	*b = (struct th_buf){ 0 };
}

void th_setup_dirs(struct th *t)
{
	memset(t, 0, sizeof(*t));
	t->rootfd = -1;
	snprintf(t->base, sizeof(t->base), "/tmp/sm-fuse-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->base));
	snprintf(t->root, sizeof(t->root), "%s/root", t->base);
	snprintf(t->outside, sizeof(t->outside), "%s/outside", t->base);
	ck_assert_int_eq(mkdir(t->root, 0755), 0);
	ck_assert_int_eq(mkdir(t->outside, 0755), 0);
	th_host_write(t, "outside/secret", "secret");
	t->rootfd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(t->rootfd, 0);
}

void th_setup(struct th *t, const struct fs_server_opts *opts)
{
	th_setup_dirs(t);
	struct fs_err err = { "" };
	t->srv = fs_server_new_opts(t->rootfd, opts, &err);
	ck_assert_msg(t->srv != NULL, "fs_server_new: %s", err.msg);
	struct fuse_init_out o;
	ck_assert_int_eq(th_init(t, 7, FUSE_KERNEL_MINOR_VERSION, 0xffffffffu, &o), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void th_teardown(struct th *t)
{
	if (!t->base[0])
		return; /* not set up, or torn down already */
	if (t->srv)
		fs_server_free(t->srv);
	if (t->rootfd >= 0)
		close(t->rootfd);
	nftw(t->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	memset(t, 0, sizeof(*t));
}

/* iovecs over buf[len], each of at most k bytes (k 0: one iovec). */
static struct iovec *cut(uint8_t *buf, size_t len, size_t k, int *n)
{
	if (k == 0 || len == 0)
		k = len ? len : 1;
	size_t cnt = (len + k - 1) / k;
	struct iovec *v = calloc(cnt ? cnt : 1, sizeof(*v));
	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < cnt; i++) {
		v[i].iov_base = buf + i * k;
		v[i].iov_len = len - i * k < k ? len - i * k : k;
	}
	*n = (int)cnt;
	return v;
}

size_t th_raw(struct th *t, const void *req, size_t len, void *out, size_t outcap)
{
	uint8_t *in = malloc(len ? len : 1);
	uint8_t *ob = calloc(1, outcap ? outcap : 1);
	ck_assert(in && ob);
	if (len)
		memcpy(in, req, len);
	int nin, nout;
	struct iovec *vi = cut(in, len, t->split, &nin);
	struct iovec *vo = cut(ob, outcap, t->split, &nout);
	size_t got = fs_server_handle(t->srv, vi, nin, vo, nout);
	ck_assert_uint_le(got, outcap);
	memcpy(out, ob, got);
	free(vi);
	free(vo);
	free(in);
	free(ob);
	return got;
}

void th_request(struct th *t, struct th_buf *b, uint32_t opcode, uint64_t nodeid,
		const void *args, size_t alen)
{
	struct fuse_in_header h = {
		.len = (uint32_t)(sizeof(h) + alen), .opcode = opcode,
		.unique = ++t->unique, .nodeid = nodeid, .pid = 1,
	};
	th_put(b, &h, sizeof(h));
	th_put(b, args, alen);
}

int th_call(struct th *t, uint32_t opcode, uint64_t nodeid, const void *args, size_t alen,
	    void *reply, size_t rcap, size_t *rlen)
{
	struct th_buf b = { 0 };
	th_request(t, &b, opcode, nodeid, args, alen);
	size_t cap = sizeof(struct fuse_out_header) + rcap;
	uint8_t *out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	size_t got = th_raw(t, b.p, b.len, out, cap);
	th_buf_free(&b);
	if (rlen)
		*rlen = 0;
	if (opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET || opcode == FUSE_INTERRUPT) {
		ck_assert_uint_eq(got, 0);
		free(out);
		return 0;
	}
	struct fuse_out_header oh;
	ck_assert_uint_ge(got, sizeof(oh));
	memcpy(&oh, out, sizeof(oh));
	ck_assert_uint_eq(oh.len, got);
	ck_assert_uint_eq(oh.unique, t->unique);
	ck_assert_int_le(oh.error, 0);
	if (oh.error)
		ck_assert_uint_eq(got, sizeof(oh));
	if (rlen)
		*rlen = got - sizeof(oh);
	if (reply)
		memcpy(reply, out + sizeof(oh), got - sizeof(oh));
	free(out);
	return oh.error;
}

int th_quick(struct fs_server *srv, uint32_t op, uint64_t nodeid, const void *args,
	     size_t alen, void *reply, size_t rcap, size_t *rlen)
{
	uint8_t in[4096], out[8192];
	if (alen > sizeof(in) - sizeof(struct fuse_in_header) ||
	    rcap > sizeof(out) - sizeof(struct fuse_out_header))
		return -9999;
	struct fuse_in_header h = { .len = (uint32_t)(sizeof(h) + alen), .opcode = op,
				    .unique = 1, .nodeid = nodeid };
	memcpy(in, &h, sizeof(h));
	if (alen)
		memcpy(in + sizeof(h), args, alen);
	struct iovec vi = { in, h.len }, vo = { out, sizeof(struct fuse_out_header) + rcap };
	size_t got = fs_server_handle(srv, &vi, 1, &vo, 1);
	if (rlen)
		*rlen = 0;
	if (got == 0)
		return 0;
	struct fuse_out_header oh;
	memcpy(&oh, out, sizeof(oh));
	if (got < sizeof(oh) || oh.len != got || oh.unique != 1 || (oh.error && got != sizeof(oh)))
		return -9999;
	if (rlen)
		*rlen = got - sizeof(oh);
	if (reply && oh.error == 0)
		memcpy(reply, out + sizeof(oh), got - sizeof(oh));
	return oh.error;
}

int th_init(struct th *t, uint32_t major, uint32_t minor, uint32_t flags, struct fuse_init_out *o)
{
	struct fuse_init_in in = { .major = major, .minor = minor, .max_readahead = 65536,
				   .flags = flags };
	size_t n;
	memset(o, 0, sizeof(*o));
	int e = th_call(t, FUSE_INIT, 0, &in, sizeof(in), o, sizeof(*o), &n);
	if (e == 0)
		ck_assert_uint_eq(n, sizeof(*o));
	return e;
}

/* A call whose reply must be exactly one struct of size n (or an error). */
static int call_fixed(struct th *t, uint32_t op, uint64_t id, struct th_buf *b, void *out, size_t n)
{
	size_t got;
	int e = th_call(t, op, id, b->p, b->len, out, n, &got);
	th_buf_free(b);
	if (e == 0)
		ck_assert_uint_eq(got, n);
	return e;
}

int th_lookup(struct th *t, uint64_t parent, const char *name, struct fuse_entry_out *eo)
{
	struct th_buf b = { 0 };
	th_puts(&b, name);
	return call_fixed(t, FUSE_LOOKUP, parent, &b, eo, sizeof(*eo));
}

void th_forget(struct th *t, uint64_t nodeid, uint64_t n)
{
	struct fuse_forget_in in = { .nlookup = n };
	th_call(t, FUSE_FORGET, nodeid, &in, sizeof(in), NULL, 0, NULL);
}

int th_getattr(struct th *t, uint64_t nodeid, struct fuse_attr *a)
{
	struct fuse_getattr_in in = { 0 };
	struct fuse_attr_out o;
	size_t n;
	int e = th_call(t, FUSE_GETATTR, nodeid, &in, sizeof(in), &o, sizeof(o), &n);
	if (e == 0) {
		ck_assert_uint_eq(n, sizeof(o));
		if (a)
			*a = o.attr;
	}
	return e;
}

int th_setattr(struct th *t, uint64_t nodeid, const struct fuse_setattr_in *in, struct fuse_attr *a)
{
	struct fuse_attr_out o;
	size_t n;
	int e = th_call(t, FUSE_SETATTR, nodeid, in, sizeof(*in), &o, sizeof(o), &n);
	if (e == 0) {
		ck_assert_uint_eq(n, sizeof(o));
		if (a)
			*a = o.attr;
	}
	return e;
}

int th_mkdir(struct th *t, uint64_t parent, const char *name, uint32_t mode, struct fuse_entry_out *eo)
{
	struct fuse_mkdir_in in = { .mode = mode, .umask = 0 };
	struct th_buf b = { 0 };
	th_put(&b, &in, sizeof(in));
	th_puts(&b, name);
	return call_fixed(t, FUSE_MKDIR, parent, &b, eo, sizeof(*eo));
}

int th_mknod(struct th *t, uint64_t parent, const char *name, uint32_t mode, struct fuse_entry_out *eo)
{
	struct fuse_mknod_in in = { .mode = mode };
	struct th_buf b = { 0 };
	th_put(&b, &in, sizeof(in));
	th_puts(&b, name);
	return call_fixed(t, FUSE_MKNOD, parent, &b, eo, sizeof(*eo));
}

int th_create(struct th *t, uint64_t parent, const char *name, uint32_t flags, uint32_t mode,
	      struct fuse_entry_out *eo, uint64_t *fh)
{
	struct fuse_create_in in = { .flags = flags, .mode = mode };
	struct th_buf b = { 0 };
	th_put(&b, &in, sizeof(in));
	th_puts(&b, name);
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out;
	int e = call_fixed(t, FUSE_CREATE, parent, &b, &out, sizeof(out));
	if (e == 0) {
		if (eo)
			*eo = out.e;
		*fh = out.o.fh;
	}
	return e;
}

static int open_common(struct th *t, uint32_t op, uint64_t nodeid, uint32_t flags, uint64_t *fh)
{
	struct fuse_open_in in = { .flags = flags };
	struct th_buf b = { 0 };
	th_put(&b, &in, sizeof(in));
	struct fuse_open_out o;
	int e = call_fixed(t, op, nodeid, &b, &o, sizeof(o));
	if (e == 0)
		*fh = o.fh;
	return e;
}

int th_open(struct th *t, uint64_t nodeid, uint32_t flags, uint64_t *fh)
{
	return open_common(t, FUSE_OPEN, nodeid, flags, fh);
}

int th_opendir(struct th *t, uint64_t nodeid, uint64_t *fh)
{
	return open_common(t, FUSE_OPENDIR, nodeid, O_RDONLY, fh);
}

ssize_t th_write(struct th *t, uint64_t nodeid, uint64_t fh, uint64_t off, const void *p, size_t n)
{
	struct fuse_write_in in = { .fh = fh, .offset = off, .size = (uint32_t)n };
	struct th_buf b = { 0 };
	th_put(&b, &in, sizeof(in));
	th_put(&b, p, n);
	struct fuse_write_out o;
	int e = call_fixed(t, FUSE_WRITE, nodeid, &b, &o, sizeof(o));
	return e < 0 ? e : (ssize_t)o.size;
}

ssize_t th_read(struct th *t, uint64_t nodeid, uint64_t fh, uint64_t off, void *p, size_t n)
{
	struct fuse_read_in in = { .fh = fh, .offset = off, .size = (uint32_t)n };
	size_t got;
	int e = th_call(t, FUSE_READ, nodeid, &in, sizeof(in), p, n, &got);
	return e < 0 ? e : (ssize_t)got;
}

static int release_common(struct th *t, uint32_t op, uint64_t nodeid, uint64_t fh)
{
	struct fuse_release_in in = { .fh = fh };
	return th_call(t, op, nodeid, &in, sizeof(in), NULL, 0, NULL);
}

int th_release(struct th *t, uint64_t nodeid, uint64_t fh)
{
	return release_common(t, FUSE_RELEASE, nodeid, fh);
}

int th_releasedir(struct th *t, uint64_t nodeid, uint64_t fh)
{
	return release_common(t, FUSE_RELEASEDIR, nodeid, fh);
}

static int name_op(struct th *t, uint32_t op, uint64_t parent, const char *name)
{
	struct th_buf b = { 0 };
	th_puts(&b, name);
	int e = th_call(t, op, parent, b.p, b.len, NULL, 0, NULL);
	th_buf_free(&b);
	return e;
}

int th_unlink(struct th *t, uint64_t parent, const char *name)
{
	return name_op(t, FUSE_UNLINK, parent, name);
}

int th_rmdir(struct th *t, uint64_t parent, const char *name)
{
	return name_op(t, FUSE_RMDIR, parent, name);
}

int th_symlink(struct th *t, uint64_t parent, const char *name, const char *target,
	       struct fuse_entry_out *eo)
{
	struct th_buf b = { 0 };
	th_puts(&b, name);
	th_puts(&b, target);
	return call_fixed(t, FUSE_SYMLINK, parent, &b, eo, sizeof(*eo));
}

int th_readlink(struct th *t, uint64_t nodeid, char *buf, size_t cap)
{
	size_t n;
	int e = th_call(t, FUSE_READLINK, nodeid, NULL, 0, buf, cap - 1, &n);
	buf[e == 0 ? n : 0] = '\0';
	return e;
}

int th_rename(struct th *t, uint64_t olddir, const char *oldname, uint64_t newdir,
	      const char *newname, uint32_t flags)
{
	struct th_buf b = { 0 };
	if (flags) {
		struct fuse_rename2_in in = { .newdir = newdir, .flags = flags };
		th_put(&b, &in, sizeof(in));
	} else {
		struct fuse_rename_in in = { .newdir = newdir };
		th_put(&b, &in, sizeof(in));
	}
	th_puts(&b, oldname);
	th_puts(&b, newname);
	int e = th_call(t, flags ? FUSE_RENAME2 : FUSE_RENAME, olddir, b.p, b.len, NULL, 0, NULL);
	th_buf_free(&b);
	return e;
}

int th_link(struct th *t, uint64_t oldnode, uint64_t newparent, const char *name,
	    struct fuse_entry_out *eo)
{
	struct fuse_link_in in = { .oldnodeid = oldnode };
	struct th_buf b = { 0 };
	th_put(&b, &in, sizeof(in));
	th_puts(&b, name);
	return call_fixed(t, FUSE_LINK, newparent, &b, eo, sizeof(*eo));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and join names[n] into out. */
static void join(char **names, size_t n, char *out, size_t cap)
{
	qsort(names, n, sizeof(*names), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(out, ",", cap - strlen(out) - 1);
		strncat(out, names[i], cap - strlen(out) - 1);
		free(names[i]);
	}
}

/* Parse one READDIR(PLUS) reply; returns the next offset, 0 at the end. */
static uint64_t parse_dir(struct th *t, const uint8_t *p, size_t len, bool plus,
			  char **names, size_t *n)
{
	uint64_t next = 0;
	size_t pos = 0;
	while (pos < len) {
		struct fuse_entry_out eo = { 0 };
		if (plus) {
			memcpy(&eo, p + pos, sizeof(eo));
			pos += sizeof(eo);
		}
		struct fuse_dirent d;
		memcpy(&d, p + pos, sizeof(d));
		ck_assert_uint_le(pos + FUSE_NAME_OFFSET + d.namelen, len);
		char *name = strndup((const char *)p + pos + FUSE_NAME_OFFSET, d.namelen);
		pos += FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + d.namelen);
		next = d.off;
		if (eo.nodeid)
			th_forget(t, eo.nodeid, 1);
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			ck_assert_uint_eq(eo.nodeid, 0);
			free(name);
			continue;
		}
		if (plus)
			ck_assert_msg(eo.nodeid != 0, "readdirplus %s: no node", name);
		ck_assert_uint_lt(*n, 4096);
		names[(*n)++] = name;
	}
	return next;
}

int th_list(struct th *t, uint64_t nodeid, bool plus, char *out, size_t cap)
{
	uint64_t fh;
	int e = th_opendir(t, nodeid, &fh);
	if (e < 0)
		return e;
	char **names = calloc(4096, sizeof(char *));
	size_t n = 0;
	uint8_t buf[4096];
	uint64_t off = 0;
	for (;;) {
		struct fuse_read_in in = { .fh = fh, .offset = off, .size = sizeof(buf) };
		size_t got;
		e = th_call(t, plus ? FUSE_READDIRPLUS : FUSE_READDIR, nodeid, &in, sizeof(in),
			    buf, sizeof(buf), &got);
		if (e < 0 || got == 0)
			break;
		off = parse_dir(t, buf, got, plus, names, &n);
	}
	join(names, n, out, cap);
	free(names);
	ck_assert_int_eq(th_releasedir(t, nodeid, fh), 0);
	return e;
}

static void host_path(struct th *t, const char *rel, char *p, size_t cap)
{
	snprintf(p, cap, "%s/%s", t->base, rel);
}

void th_host_write(struct th *t, const char *rel, const char *content)
{
	char p[PATH_MAX];
	host_path(t, rel, p, sizeof(p));
	FILE *f = fopen(p, "w");
	ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
	fputs(content, f);
	fclose(f);
}

char *th_host_read(struct th *t, const char *rel, bool *exists)
{
	static char content[65536];
	char p[PATH_MAX];
	host_path(t, rel, p, sizeof(p));
	content[0] = '\0';
	FILE *f = fopen(p, "r");
	*exists = f != NULL;
	if (f) {
		size_t n = fread(content, 1, sizeof(content) - 1, f);
		content[n] = '\0';
		fclose(f);
	}
	return content;
}

bool th_host_exists(struct th *t, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	host_path(t, rel, p, sizeof(p));
	return lstat(p, &st) == 0;
}

void th_host_list(struct th *t, const char *rel, char *out, size_t cap)
{
	char p[PATH_MAX];
	host_path(t, rel, p, sizeof(p));
	DIR *d = opendir(p);
	ck_assert_msg(d != NULL, "%s: %s", p, strerror(errno));
	char **names = calloc(4096, sizeof(char *));
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 4096)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[n++] = strdup(de->d_name);
	closedir(d);
	join(names, n, out, cap);
	free(names);
}

void th_host_symlink(struct th *t, const char *target, const char *rel)
{
	char p[PATH_MAX];
	host_path(t, rel, p, sizeof(p));
	ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p, strerror(errno));
}

void th_host_mkdir(struct th *t, const char *rel)
{
	char p[PATH_MAX];
	host_path(t, rel, p, sizeof(p));
	ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
}

void th_host_rename(struct th *t, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];
	host_path(t, from, a, sizeof(a));
	host_path(t, to, b, sizeof(b));
	ck_assert_msg(rename(a, b) == 0, "rename %s: %s", a, strerror(errno));
}

void th_host_lstat(struct th *t, const char *rel, struct stat *st)
{
	char p[PATH_MAX];
	host_path(t, rel, p, sizeof(p));
	ck_assert_msg(lstat(p, st) == 0, "lstat %s: %s", p, strerror(errno));
}

uint32_t th_nodes(struct th *t)
{
	struct fs_server_stats st;
	fs_server_get_stats(t->srv, &st);
	return st.nodes;
}

uint32_t th_handles(struct th *t)
{
	struct fs_server_stats st;
	fs_server_get_stats(t->srv, &st);
	return st.handles;
}
