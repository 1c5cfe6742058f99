/* snap_file.c - write and verify snapshot state files (snap_file.h). */
#include "daemon/vm/snapshot/snap_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SM_VMM_VERSION
#define SM_VMM_VERSION "unknown"
#endif

const char *snap_vmm_version(void)
{
	return SM_VMM_VERSION;
}

void snap_sha256(const void *p, size_t n, uint8_t out[SNAP_DIGEST_BYTES])
{
	unsigned int len = SNAP_DIGEST_BYTES;
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
		memset(out, 0, SNAP_DIGEST_BYTES); /* never matches a real digest */
}

void snap_crypto_warm_up(void)
{
	uint8_t d[SNAP_DIGEST_BYTES];
	snap_sha256("", 0, d);
}

int snap_sha256_file(const char *path, uint8_t out[SNAP_DIGEST_BYTES], struct vm_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vm_errno(err, "%s", path);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int rc = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 ? 0 : vm_errf(err, "sha256");
	static uint8_t buf[1 << 16];
	while (rc == 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = vm_errno(err, "%s: read", path);
		if (n <= 0)
			break;
		EVP_DigestUpdate(c, buf, (size_t)n);
	}
	unsigned int len = SNAP_DIGEST_BYTES;
	if (rc == 0 && EVP_DigestFinal_ex(c, out, &len) != 1)
		rc = vm_errf(err, "%s: sha256", path);
	EVP_MD_CTX_free(c);
	close(fd);
	return rc;
}

void snap_file_begin(struct snap_writer *w, const struct snap_header *h)
{
	snap_put_bytes(w, SNAP_MAGIC, 8);
	snap_put_u32(w, SNAP_FORMAT_VERSION);
	snap_put_str(w, snap_vmm_version());
	snap_put_bytes(w, h->kernel_digest, SNAP_DIGEST_BYTES);
	snap_put_bytes(w, h->initrd_digest, SNAP_DIGEST_BYTES);
	snap_put_u32(w, h->vcpus);
	snap_put_u64(w, h->mem_bytes);
}

static int write_all(int fd, const uint8_t *p, size_t n, struct vm_err *err)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = pwrite(fd, p + off, n - off, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return vm_errno(err, "writing the state file at byte %zu", off);
		off += (size_t)k;
	}
	return 0;
}

int snap_file_finish(struct snap_writer *w, int fd, struct vm_err *err)
{
	uint8_t sum[SNAP_DIGEST_BYTES];
	if (!w->oom)
		snap_sha256(w->buf, w->len, sum);
	snap_put_bytes(w, sum, sizeof(sum));
	if (w->oom)
		return vm_errf(err, "state file: out of memory");
	if (write_all(fd, w->buf, w->len, err) < 0)
		return -1;
	if (fdatasync(fd) < 0)
		return vm_errno(err, "state file: fdatasync");
	return 0;
}

static int parse_header(struct snap_file *f, struct vm_err *err)
{
	struct snap_reader *r = &f->r;
	struct snap_header *h = &f->hdr;
	char magic[8];
	if (!snap_get_bytes(r, magic, 8) || memcmp(magic, SNAP_MAGIC, 8) != 0)
		return vm_errf(err, "not a supermachine snapshot state file (bad magic)");
	if (!snap_get_u32(r, &h->format))
		return vm_errf(err, "header: %s", r->err);
	if (h->format != SNAP_FORMAT_VERSION)
		return vm_errf(err, "snapshot format version %u; this supermachine-vmm reads "
			       "version %u only", h->format, SNAP_FORMAT_VERSION);
	if (!snap_get_str(r, h->vmm_version, sizeof(h->vmm_version)) ||
	    !snap_get_bytes(r, h->kernel_digest, SNAP_DIGEST_BYTES) ||
	    !snap_get_bytes(r, h->initrd_digest, SNAP_DIGEST_BYTES) ||
	    !snap_get_u32(r, &h->vcpus) || !snap_get_u64(r, &h->mem_bytes))
		return vm_errf(err, "header: %s", r->err);
	if (strcmp(h->vmm_version, snap_vmm_version()) != 0)
		return vm_errf(err, "snapshot made by supermachine-vmm %s; this is %s",
			       h->vmm_version, snap_vmm_version());
	return 0;
}

int snap_file_parse(const uint8_t *buf, size_t len, struct snap_file *f, struct vm_err *err)
{
	memset(&f->hdr, 0, sizeof(f->hdr));
	if (len < 8 + SNAP_DIGEST_BYTES)
		return vm_errf(err, "state file too short (%zu bytes): truncated", len);
	uint8_t sum[SNAP_DIGEST_BYTES];
	snap_sha256(buf, len - SNAP_DIGEST_BYTES, sum);
	bool magic_ok = memcmp(buf, SNAP_MAGIC, 8) == 0;
	if (magic_ok && memcmp(sum, buf + len - SNAP_DIGEST_BYTES, SNAP_DIGEST_BYTES) != 0)
		return vm_errf(err, "state file checksum mismatch: truncated or damaged");
	snap_reader_init(&f->r, buf, len - SNAP_DIGEST_BYTES);
	return parse_header(f, err);
}

static int read_file(const char *path, struct snap_file *f, struct vm_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vm_errno(err, "%s", path);
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? vm_errno(err, "%s", path) : 0;
	if (rc == 0 && (!S_ISREG(st.st_mode) || st.st_size > SNAP_MAX_FILE))
		rc = vm_errf(err, "%s: not a regular file of at most %u MiB", path,
			     SNAP_MAX_FILE >> 20);
	if (rc == 0 && !(f->buf = malloc((size_t)st.st_size + 1)))
		rc = vm_errno(err, "%s", path);
	f->len = 0;
	while (rc == 0 && f->len < (size_t)st.st_size) {
		ssize_t n = read(fd, f->buf + f->len, (size_t)st.st_size - f->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = vm_errno(err, "%s: read", path);
		if (n <= 0)
			break;
		f->len += (size_t)n;
	}
	close(fd);
	return rc;
}

int snap_file_load(const char *path, struct snap_file *f, struct vm_err *err)
{
	memset(f, 0, sizeof(*f));
	if (read_file(path, f, err) < 0 || snap_file_parse(f->buf, f->len, f, err) < 0) {
		vm_err_prefix(err, "%s", path);
		snap_file_free(f);
		return -1;
	}
	return 0;
}

void snap_file_free(struct snap_file *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}
