/* init_modules.c - load the initramfs's kernel modules with finit_module.
 *
 * mkinitramfs resolved dependencies from the kernel's modules.dep and wrote
 * MODULES_ORDER with dependencies first, so loading is a straight pass.
 * A module the kernel already has (EEXIST) counts as loaded.
 */
#include "init_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int load_one(const char *name, char *err, size_t errlen)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", MODULES_DIR, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	long rc = syscall(SYS_finit_module, fd, "", 0);
	int e = errno;
	close(fd);
	if (rc == 0 || e == EEXIST)
		return 0;
	snprintf(err, errlen, "finit_module %s: %s", name, strerror(e));
	return -1;
}

int modules_load(int *loaded, int verbose, char *err, size_t errlen)
{
	FILE *f = fopen(MODULES_ORDER, "re");
	char line[256];
	int rc = 0;
	*loaded = 0;
	if (!f) {
		if (errno == ENOENT)
			return 0; /* an initramfs without modules */
		snprintf(err, errlen, "open %s: %s", MODULES_ORDER, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		if (load_one(line, err, errlen) == 0) {
			++*loaded;
			if (verbose)
				fprintf(stderr, "supermachine-init: loaded %s\n", line);
		} else {
			fprintf(stderr, "supermachine-init: %s\n", err);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}
