/* SPDX-License-Identifier: MIT */
/*
 * Time: CLOCK_MONOTONIC for intervals, rates and timeouts, CLOCK_REALTIME only for
 * the timestamps that go into payloads and log lines, and an interruptible sleep.
 * This module keeps no state; it does not smooth or correct the clocks.
 */
#include "kvmgrid/clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

uint64_t kg_clock_mono_ns(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t kg_clock_mono_ms(void)
{
    return kg_clock_mono_ns() / 1000000u;
}

int64_t kg_clock_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kg_clock_sleep_ns(uint64_t ns, const volatile int *stop)
{
    const uint64_t slice_ns = 50u * 1000000u;
    uint64_t start = kg_clock_mono_ns();
    /* A huge ns (e.g. UINT64_MAX for "until stopped") must not wrap the deadline. */
    uint64_t deadline = ns > UINT64_MAX - start ? UINT64_MAX : start + ns;

    for (;;) {
        if (stop && *stop)
            return;
        uint64_t now = kg_clock_mono_ns();
        if (now >= deadline)
            return;
        uint64_t left = deadline - now;
        /* Without a stop flag we sleep to the deadline in one go; with one, in
         * slices so the flag is seen within 50 ms. */
        if (stop && left > slice_ns)
            left = slice_ns;
        struct timespec ts = { .tv_sec = (time_t)(left / 1000000000u),
                               .tv_nsec = (long)(left % 1000000000u) };
        /* EINTR: loop and recompute from the monotonic deadline. */
        (void)clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    }
}

char *kg_clock_format_utc(int64_t epoch_ms, char *buf, unsigned long size)
{
    if (!buf || size == 0)
        return buf;
    /* Floor division, so that times before 1970 format correctly too. */
    int64_t sec = epoch_ms / 1000;
    int64_t ms = epoch_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, size, "invalid-time");
        return buf;
    }
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
    return buf;
}
