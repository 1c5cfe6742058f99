/* init_steps.h - the boot steps of guest/init, one file each.
 *
 * init_sys.c      early mounts, console, CPU and memory counts, power off
 * init_modules.c  kernel modules in the order the initramfs builder wrote
 * init_rootfs.c   root disk under overlayfs, switch root
 * init_sync.c     the agent's SYNC after a restore: entropy, clock, hostname
 * init_mount.c    the agent's MOUNT_FS: mkdir -p, mount a virtio-fs share
 * init_fsev.c     the agent's FS_EVENTS: host changes to our guest kernel
 * init_volumes.c  named volumes (sm.vol=): ext4 disks mounted in the root
 * init_etc.c      /etc/hosts, /etc/resolv.conf, /etc/hostname (docker's)
 * Each step returns 0 or -1 with a message in err (init.c prints it);
 * sys_sync and sys_mount_fs return an errno value instead (the agent
 * sends it back).
 */
#ifndef SM_INIT_STEPS_H
#define SM_INIT_STEPS_H

#include <stddef.h>
#include <stdint.h>

/* List of modules (file names under MODULES_DIR), one per line, in load
 * order; written by mkinitramfs. */
#define MODULES_DIR   "/lib/modules"
#define MODULES_ORDER "/lib/modules/load-order"

int sys_early_mounts(char *err, size_t errlen);
void sys_console(void);          /* fds 0-2 on /dev/console if closed */
unsigned sys_cpus_online(void);
uint64_t sys_mem_kib(void);      /* MemTotal */
void sys_power_off(void);        /* sync + power off (or reset without ACPI) */

/* Loads every module listed; *loaded counts successes. A module that
 * fails is reported in err (the last failure) and the rest still load. */
int modules_load(int *loaded, int verbose, char *err, size_t errlen);

/* Mounts dev (erofs or ext4, read-only) under an overlay and makes it the
 * root; /proc, /sys, /dev move along. With layers > 0, dev is ignored:
 * /dev/vda.. are that many image layers, lowest first, all stacked as the
 * overlay's lower dirs. The upper is the ext4 on /dev/<upper> ("vdb"...),
 * or a tmpfs when upper is "". */
int rootfs_switch(const char *dev, unsigned layers, const char *upper, char *err,
		  size_t errlen);

/* Once the image's root is mounted: /etc/hosts and /etc/resolv.conf
 * unless the image has its own (failures are logged, not fatal). */
void etc_files_boot(void);
/* After the hostname changed (SYNC): /etc/hostname, and /etc/hosts when
 * it is ours. 0, or an errno with what failed in err. Nothing without an
 * image root. */
int etc_hostname_set(const char *hostname, char *err, size_t errlen);
struct sm_net_req;
/* After NET_CONFIG: /etc/resolv.conf lists its name servers and search
 * list, when that file is ours. 0, or an errno with err. Nothing without
 * an image root. */
int etc_resolv_conf_set(const struct sm_net_req *req, char *err, size_t errlen);

struct sm_sync_req;
/* Credits req's entropy to the kernel and reseeds its RNG, sets
 * CLOCK_REALTIME, sets the hostname if given: 0, or the first failure's
 * errno with every failed step named in err. */
int sys_sync(const struct sm_sync_req *req, char *err, size_t errlen);

/* mkdir -p (mode 0755 whatever the umask): 0, or an errno with at (atlen
 * bytes) the prefix that failed. */
int sys_make_dirs(const char *path, char *at, size_t atlen);

struct init_opts;
/* Mounts each sm.vol= volume (ext4; nosuid, nodev; read-only with :ro) at
 * its path in the new root, creating the path: 0, or -1 with the last
 * failure in err (the rest are still tried). */
int volumes_mount(const struct init_opts *o, char *err, size_t errlen);
/* At power off, once every process was killed: unmounts each volume
 * (retrying while the killed processes still hold files), else remounts
 * it read-only, so it is left clean (a read-only attach cannot replay a
 * journal). */
void volumes_unmount(const struct init_opts *o);

struct sm_mount_req;
/* Creates req->path and its parents (0755) and mounts the virtio-fs
 * device req->tag there (nosuid, nodev, read-only with the flag): 0, or
 * an errno (EBUSY: that tag is already mounted there) with a message
 * naming the path in err. */
int sys_mount_fs(const struct sm_mount_req *req, char *err, size_t errlen);

struct sm_fsev_req;
/* Hands each record to /proc/sm-fsnotify (records whose path is gone are
 * skipped): 0, or an errno (ENOTSUP: not our kernel) with a message. */
int sys_fs_events(const struct sm_fsev_req *req, char *err, size_t errlen);

#endif
