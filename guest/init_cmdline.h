/* init_cmdline.h - the kernel command-line keys guest/init understands.
 *
 * Pure parsing (no I/O) so tests/unit/guest can check it; init.c reads
 * /proc/cmdline and documents the keys at its top.
 */
#ifndef SM_INIT_CMDLINE_H
#define SM_INIT_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#define INIT_MAX_LAYERS 127 /* partitions of the one layers disk (blk_composite.h) */

#define INIT_MAX_VOLUMES 4
#define INIT_VOLUME_PATH_MAX 257

/* sm.vol=vdX:rw|ro:/path - a named volume's disk and where it goes. */
struct init_volume {
	char dev[16];     /* "vdc" */
	bool readonly;
	char path[INIT_VOLUME_PATH_MAX];
};

struct init_opts {
	bool poweroff;   /* sm.poweroff: power off right after the ready line */
	bool panic;      /* sm.panic: exit after the ready line (kernel panics) */
	bool debug;      /* sm.debug: log each step on the console */
	char root[64];   /* sm.root=DEV|none; "" = /dev/vda if present */
	uint32_t port;   /* sm.port=N: agent vsock port */
	uint32_t layers; /* sm.layers=N: /dev/vda1..vdaN are N image layers,
			    lowest first, stacked under overlayfs; 0 = one
			    root disk */
	struct init_volume vols[INIT_MAX_VOLUMES]; /* sm.vol=, in order */
	uint32_t n_vols;
	char upper[16];  /* sm.upper=vdX: the overlay's upper is the ext4 on
			    /dev/vdX; "" = a tmpfs */
};

/* Fills *o from a command line; unknown words are ignored (they belong to
 * the kernel). Returns 0, or -1 if an sm.* value is invalid (o keeps the
 * defaults for it). */
int init_parse_cmdline(const char *line, struct init_opts *o);

#endif
