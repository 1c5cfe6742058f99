/* deadline.h - the absolute CLOCK_REALTIME time ms milliseconds from now,
 * as pthread_cond_timedwait wants it (its condition variables use the
 * realtime clock by default). Header only: the daemon's waits on a
 * worker, a VM's main process and a passt use it. */
#ifndef SM_COMMON_CLOCK_DEADLINE_H
#define SM_COMMON_CLOCK_DEADLINE_H

#include <time.h>

static inline struct timespec deadline_after_ms(int ms)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

#endif
