/* persist_check.h - shared checks for the snapshot save/restore tests.
 *
 * A device under test is seen through two small wrappers (save, restore).
 * "Unchanged" is checked by saving the device before and after a refused
 * restore and comparing the bytes: the saved form covers every field a
 * restore could have written. Field offsets below describe the transport
 * section of mmio_persist.c (with an empty fail_reason), so tests can
 * corrupt one field at a time.
 */
#ifndef SM_TEST_PERSIST_CHECK_H
#define SM_TEST_PERSIST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/vm/snapshot/snap_buf.h"

struct pc_dev {
	void *dev;
	void (*save)(void *dev, struct snap_writer *w);
	bool (*restore)(void *dev, struct snap_reader *r);
};

/* Defines pc_name_save and pc_name_restore, the wrappers struct pc_dev takes,
 * around a device's typed save(dev, w) and restore(dev, r). */
#define PC_WRAPPERS(name, save_fn, restore_fn)                               \
	static void pc_##name##_save(void *pc_d, struct snap_writer *pc_w)   \
	{                                                                    \
		save_fn(pc_d, pc_w);                                         \
	}                                                                    \
	static bool pc_##name##_restore(void *pc_d, struct snap_reader *pc_r) \
	{                                                                    \
		return restore_fn(pc_d, pc_r);                               \
	}

/* Section header: tag, version, length. */
#define PC_HDR       12
#define PC_VERSION   4
#define PC_LEN       8
/* Transport ("VMIO") fields, from the start of its section. */
#define PC_ID        12
#define PC_NQ        16
#define PC_FEAT      18
#define PC_STATUS    26
#define PC_NEEDS_RST 30
#define PC_REASON    31 /* u32 length of fail_reason (0 in these tests) */
#define PC_DEVSEL    35
#define PC_DRVSEL    39
#define PC_QSEL      43
#define PC_SHMSEL    47
#define PC_DRVFEAT   51
#define PC_ISR       59
#define PC_CFGGEN    63
#define PC_VQ(q)     (67 + 36 * (q))
#define PC_MMIO_BYTES(nq) PC_VQ(nq)
/* Within one queue. */
#define PC_VQ_SIZE   0
#define PC_VQ_READY  2
#define PC_VQ_EVIDX  3
#define PC_VQ_INDIR  4
#define PC_VQ_DESC   5
#define PC_VQ_AVAIL  13
#define PC_VQ_USED   21
#define PC_VQ_LAST   29
#define PC_VQ_UIDX   31
#define PC_VQ_SIGU   33
#define PC_VQ_SIGV   35

/* Save d into w (initialised here; the caller frees it). */
void pc_save(const struct pc_dev *d, struct snap_writer *w);
/* Restore buf into d: must succeed and use all of buf. */
void pc_restore_ok(const struct pc_dev *d, const uint8_t *buf, size_t len);
/* Save d again (after pc_restore_ok of buf): the same bytes as buf. */
void pc_resave_same(const struct pc_dev *d, const uint8_t *buf, size_t len);
/* Restore buf into d: must fail with want in the message and leave d as
 * it was. */
void pc_reject(const struct pc_dev *d, const uint8_t *buf, size_t len, const char *want);
/* Every proper prefix of buf is refused and changes nothing, both as cut
 * (the section's length runs past the end) and with the length fixed up
 * to the prefix (the fields inside run out). */
void pc_reject_truncations(const struct pc_dev *d, const uint8_t *buf, size_t len);
/* pc_reject of a copy of buf with the n-byte little-endian v at off. */
void pc_reject_patch(const struct pc_dev *d, const uint8_t *buf, size_t len, size_t off,
		     uint64_t v, int n, const char *want);
/* rm -rf dir (made by mkdtemp), and dir is its template ("...XXXXXX")
 * again, for the next test's mkdtemp. */
void pc_remove_tmpdir(char *dir);
/* Read / write an n-byte little-endian value in a buffer. */
uint64_t pc_get(const uint8_t *buf, size_t off, int n);
void pc_put(uint8_t *buf, size_t off, uint64_t v, int n);
/* The common corruptions of a section that starts at buf: wrong tag, a
 * future version, a length past the end, bytes left over. */
void pc_reject_framing(const struct pc_dev *d, const uint8_t *buf, size_t len);
/* pc_reject_truncations, then pc_reject_framing. */
void pc_reject_cuts_and_framing(const struct pc_dev *d, const uint8_t *buf, size_t len);

#endif
