/* snap_file.h - the snapshot state file: header, sections, checksum.
 *
 *   "SMSNAPST"            8-byte magic
 *   u32 format version    SNAP_FORMAT_VERSION; any other is refused
 *   str vmm version       the supermachine-vmm that wrote it (must match)
 *   32 bytes              SHA-256 of the kernel the guest booted
 *   32 bytes              SHA-256 of its initramfs (zeros: none)
 *   u32 vcpus, u64 memory bytes
 *   sections ...          VM-wide KVM state, each vCPU, each device
 *   32 bytes              SHA-256 of everything before it
 *
 * snap_file_load() reads the whole file and checks magic, version,
 * checksum and VMM version before anything is parsed, so a truncated,
 * damaged or foreign file is refused with a clear message and nothing of
 * it is ever applied. The kernel/initrd check is the caller's (it knows
 * what it is about to restore with).
 *
 * Guest memory lives in a second file beside it (snap_mem.h).
 */
#ifndef SM_SNAP_FILE_H
#define SM_SNAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/vm_err.h"

#define SNAP_MAGIC "SMSNAPST"
#define SNAP_FORMAT_VERSION 1
#define SNAP_DIGEST_BYTES 32
#define SNAP_STATE_NAME "vm.state"
#define SNAP_MEM_NAME "vm.mem"
#define SNAP_MAX_FILE (64u << 20)

struct snap_header {
	uint32_t format;
	char vmm_version[64];
	uint8_t kernel_digest[SNAP_DIGEST_BYTES];
	uint8_t initrd_digest[SNAP_DIGEST_BYTES];
	uint32_t vcpus;
	uint64_t mem_bytes;
};

/* The version string this build writes and accepts. */
const char *snap_vmm_version(void);

/* Start a state file: the header (w must be fresh). */
void snap_file_begin(struct snap_writer *w, const struct snap_header *h);
/* Append the checksum and write it all to fd (from offset 0, then fsync).
 * 0, or -1 with err. */
int snap_file_finish(struct snap_writer *w, int fd, struct vm_err *err);

/* A loaded, verified state file: header parsed, r positioned at the first
 * section (its bytes stop before the checksum). */
struct snap_file {
	uint8_t *buf;
	size_t len;
	struct snap_header hdr;
	struct snap_reader r;
};

int snap_file_load(const char *path, struct snap_file *f, struct vm_err *err);
/* The same from a buffer (the caller keeps it alive; unit tests). */
int snap_file_parse(const uint8_t *buf, size_t len, struct snap_file *f, struct vm_err *err);
void snap_file_free(struct snap_file *f);

/* SHA-256 of a buffer / of a whole file (0 or -1 with err). */
void snap_sha256(const void *p, size_t n, uint8_t out[SNAP_DIGEST_BYTES]);
int snap_sha256_file(const char *path, uint8_t out[SNAP_DIGEST_BYTES], struct vm_err *err);
/* Make OpenSSL load what it needs now (it may open files; the jail would
 * not let it later). */
void snap_crypto_warm_up(void);

#endif
