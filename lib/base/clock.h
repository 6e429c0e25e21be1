/*
 * clock.h — the monotonic clock in milliseconds, for deadlines and delays
 * (lib/adapt/http.c's request budget, lib/adapt/prefork.c's restart delay):
 * it never jumps with the wall clock.
 */
#ifndef POSTDESK_CLOCK_H
#define POSTDESK_CLOCK_H

#include <time.h>

static inline long long
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
