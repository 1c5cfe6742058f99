/* jail.h - the VMM's sandbox: what a guest that breaks out of a device
 * model can do with this process afterwards.
 *
 * vm_jail_enter() is called once everything the VM needs is open (KVM,
 * guest RAM, disks, console log, the vsock listener, eventfds) and before
 * the guest runs. It drops every capability (when there are any: a VMM run
 * as root), sets PR_SET_NO_NEW_PRIVS and loads a seccomp allowlist into
 * every thread of the process (TSYNC); any other system call kills the
 * whole process with SIGSYS, after a line that names the call
 * (jail_report.h). What stays allowed is the run-time work of the VMM: I/O on descriptors it holds, KVM ioctls, epoll/eventfd, futexes,
 * memory for malloc and thread stacks, new threads (not processes), signals
 * to its own threads, clocks, getrandom, and AF_UNIX sockets (hybrid vsock
 * connects to "<socket>_P" when the guest connects to host port P). It
 * cannot open, create or remove files, exec, fork or use the network -
 * unless it serves host folders (virtio-fs) or may bind some later
 * (--fs-allow, fs_bind.h): then it gets the file calls of the FUSE server
 * and of the Landlock narrowing at FS_SEAL, and Landlock (jail_files.h,
 * on every thread) keeps them inside those folders. jail.c holds the list
 * and why each entry is there.
 */
#ifndef SM_JAIL_H
#define SM_JAIL_H

#include "jail_files.h"
#include "vm_err.h"

/* 0, or -1 with err (then do not run the guest). A forbidden call is
 * reported on stderr and, when report_fd >= 0 (the worker channel), as a
 * WORKER_FORBIDDEN message; then the process dies by SIGSYS. folders: the
 * host folders the VM serves or may bind (NULL or none: no file access at
 * all). */
int vm_jail_enter(int report_fd, const struct jail_folders *folders, struct vm_err *err);

#endif
