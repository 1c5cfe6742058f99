/* log.h - the daemon's log lines: one line each on stderr, which journald
 * or launchd's StandardErrorPath captures. Levels are a word at the start
 * ("error:", "warning:"); everything else is informational. */
#ifndef SM_API_LOG_H
#define SM_API_LOG_H

void sm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
