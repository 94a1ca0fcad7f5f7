/* SPDX-License-Identifier: MIT */
/*
 * Time. CLOCK_MONOTONIC for intervals, rates and timeouts; realtime only for the
 * timestamps that go into payloads. All functions are thread-safe.
 */
#ifndef KVMGRID_CLOCK_H
#define KVMGRID_CLOCK_H
#include <stdint.h>

/* Monotonic time in nanoseconds since an arbitrary point (CLOCK_MONOTONIC). */
uint64_t kg_clock_mono_ns(void);
/* Monotonic time in milliseconds. */
uint64_t kg_clock_mono_ms(void);
/* Wall-clock time in milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t kg_clock_real_ms(void);
/* Sleeps for ns nanoseconds, resuming after signals; returns early only if
 * *stop (may be NULL) becomes non-zero, checked at least every 50 ms. */
void kg_clock_sleep_ns(uint64_t ns, const volatile int *stop);
/* Formats epoch milliseconds as UTC ISO-8601 "2026-11-29T23:22:14.123Z" into buf
 * (at least 25 bytes). Returns buf. */
char *kg_clock_format_utc(int64_t epoch_ms, char *buf, unsigned long size);

#endif
