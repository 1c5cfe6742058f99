/* listen.h - the API's listening Unix socket.
 *
 * Either systemd hands it over (socket activation: LISTEN_PID names us and
 * LISTEN_FDS >= 1, the socket is fd 3) - or, on macOS, launchd does
 * (launch_activate_socket) - or the daemon creates it itself:
 *
 *   1. the parent directory is created (0755) if missing;
 *   2. "<socket>.lock" is locked with flock() for the daemon's lifetime, so
 *      two daemons starting at once cannot both take the path;
 *   3. an existing socket is probed with connect(): if somebody accepts, it
 *      is live and never stolen (error); if the connection is refused it
 *      is stale (a crashed daemon's) and is replaced; a path that is not a
 *      socket is left alone (error);
 *   4. bind() under a umask that keeps it private, then chmod 0660 and
 *      chgrp to group "supermachine" when that group exists.
 */
#ifndef SM_DAEMON_LISTEN_H
#define SM_DAEMON_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

struct sm_listener {
	int fd;
	bool activated;    /* from systemd: not ours to unlink */
	bool replaced_stale;
	int lock_fd;
	char *path;        /* socket path we created, or NULL */
};

/* 1 and l filled when systemd passed a socket, 0 when not, -1 on error. */
int listener_from_systemd(struct sm_listener *l, char *err, size_t errlen);

int listener_create(struct sm_listener *l, const char *path, char *err, size_t errlen);

/* Closes the socket and removes the path if this daemon created it. */
void listener_close(struct sm_listener *l);

#endif
