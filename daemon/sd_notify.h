/* sd_notify.h - tell systemd (Type=notify) that the daemon is ready or
 * stopping: one datagram to $NOTIFY_SOCKET, nothing when it is unset. */
#ifndef SM_DAEMON_SD_NOTIFY_H
#define SM_DAEMON_SD_NOTIFY_H

void sd_notify_send(const char *state);

#endif
