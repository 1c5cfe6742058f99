/* vm_image.h - the kernel and initrd files a VM boots, checked up front.
 *
 * vm_image_load() reads and validates the bzImage and opens the initrd, so
 * every file problem is reported before KVM is touched; vm_boot() later
 * copies them into guest RAM.
 */
#ifndef SM_VM_IMAGE_H
#define SM_VM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "boot.h"

struct vm_image {
	uint8_t *kernel;
	size_t kernel_len;
	struct bzimage_info info;
	int initrd_fd;        /* -1: none */
	uint64_t initrd_size;
	char initrd_path[256];
};

struct vm_image *vm_image_load(const char *kernel, const char *initrd, struct vm_err *err);
void vm_image_free(struct vm_image *img);

#endif
