/* bzimage.c - validate a Linux bzImage before any VM exists.
 *
 * Checks, in order, so each failure names what is wrong: size of the boot
 * sector, the 0xAA55 boot flag, the "HdrS" magic, a boot protocol new
 * enough for the 64-bit entry point (2.12, XLF_KERNEL_64), LOADED_HIGH,
 * and that the file really holds setup_sects and syssize worth of code
 * (a truncated download fails here, not as a guest crash).
 */
#include "boot.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR_OFFSET 0x1f1
#define HDR_MAGIC  0x53726448 /* "HdrS" */
#define MIN_FILE   1024       /* boot sector + the header's sector */
#define DEFAULT_LOAD_ADDR 0x1000000ULL

static int check_header(const struct setup_header *h, size_t len, struct vm_err *err)
{
	if (h->boot_flag != 0xaa55)
		return vm_errf(err, "not a bzImage: boot flag is 0x%04x, want 0xaa55", h->boot_flag);
	if (h->header != HDR_MAGIC)
		return vm_errf(err, "not a bzImage: no \"HdrS\" magic in the setup header");
	if (h->version < BOOT_MIN_VERSION)
		return vm_errf(err, "boot protocol %u.%02u is too old: need 2.12 or later for the 64-bit entry",
			       h->version >> 8, h->version & 0xff);
	if (!(h->xloadflags & XLF_KERNEL_64))
		return vm_errf(err, "kernel has no 64-bit entry point (XLF_KERNEL_64 not set)");
	if (!(h->loadflags & LOADED_HIGH))
		return vm_errf(err, "not a bzImage: zImage (LOADED_HIGH not set) is not supported");
	size_t setup = ((size_t)(h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	size_t sys = (size_t)h->syssize * 16;
	if (sys == 0)
		return vm_errf(err, "corrupt bzImage: syssize is 0");
	if (len < setup + sys)
		return vm_errf(err, "truncated bzImage: %zu bytes, header says %zu", len, setup + sys);
	return 0;
}

int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *out, struct vm_err *err)
{
	if (len < MIN_FILE)
		return vm_errf(err, "not a bzImage: only %zu bytes", len);
	struct setup_header h;
	memcpy(&h, buf + HDR_OFFSET, sizeof(h));
	if (check_header(&h, len, err) < 0)
		return -1;
	out->hdr = h;
	out->version = h.version;
	out->setup_size = ((size_t)(h.setup_sects ? h.setup_sects : 4) + 1) * 512;
	out->kernel_offset = out->setup_size;
	out->kernel_size = len - out->setup_size;
	uint64_t load = h.pref_address;
	if (load < BOOT_HIGH_MEM_START || (h.kernel_alignment && load % h.kernel_alignment))
		load = DEFAULT_LOAD_ADDR;
	out->load_addr = load;
	out->entry64 = load + 0x200;
	out->init_size = h.init_size;
	if (out->init_size < out->kernel_size)
		return vm_errf(err, "corrupt bzImage: init_size %u smaller than the kernel (%zu)",
			       out->init_size, out->kernel_size);
	out->initrd_addr_max = h.initrd_addr_max ? h.initrd_addr_max : 0x37ffffff;
	out->cmdline_max = h.cmdline_size ? h.cmdline_size : 255;
	return 0;
}

static int read_all(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

int bzimage_load_file(const char *path, uint8_t **bufp, size_t *lenp,
		      struct bzimage_info *out, struct vm_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vm_errno(err, "kernel %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vm_errf(err, "kernel %s: not a regular file", path);
	}
	uint8_t *buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read_all(fd, buf, st.st_size) < 0) {
		int e = errno;
		free(buf);
		close(fd);
		errno = e ? e : EIO;
		return vm_errno(err, "kernel %s: read", path);
	}
	close(fd);
	if (bzimage_parse(buf, st.st_size, out, err) < 0) {
		free(buf);
		return vm_err_prefix(err, "kernel %s", path);
	}
	*bufp = buf;
	*lenp = st.st_size;
	return 0;
}
