/* vm_image.c - load and check the kernel and initrd (vm_image.h). */
#include "vm_image.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_initrd(struct vm_image *img, const char *path, struct vm_err *err)
{
	snprintf(img->initrd_path, sizeof(img->initrd_path), "%s", path);
	img->initrd_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->initrd_fd < 0)
		return vm_errno(err, "initrd %s", path);
	struct stat st;
	if (fstat(img->initrd_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return vm_errf(err, "initrd %s: not a regular file", path);
	if (st.st_size == 0)
		return vm_errf(err, "initrd %s: empty file", path);
	img->initrd_size = st.st_size;
	return 0;
}

struct vm_image *vm_image_load(const char *kernel, const char *initrd, struct vm_err *err)
{
	struct vm_image *img = calloc(1, sizeof(*img));
	if (!img) {
		vm_errno(err, "image");
		return NULL;
	}
	img->initrd_fd = -1;
	if (!kernel) {
		vm_errf(err, "no kernel given");
		goto fail;
	}
	if (bzimage_load_file(kernel, &img->kernel, &img->kernel_len, &img->info, err) < 0)
		goto fail;
	if (initrd && open_initrd(img, initrd, err) < 0)
		goto fail;
	return img;
fail:
	vm_image_free(img);
	return NULL;
}

void vm_image_free(struct vm_image *img)
{
	if (!img)
		return;
	free(img->kernel);
	if (img->initrd_fd >= 0)
		close(img->initrd_fd);
	free(img);
}
