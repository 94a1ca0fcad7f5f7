/* SPDX-License-Identifier: MIT */
/*
 * Test hooks for log.c; not part of the public API and not installed. Unit tests
 * include this to drive kg_complain() with a fake clock and to capture lines.
 */
#ifndef KVMGRID_LOG_PRIVATE_H
#define KVMGRID_LOG_PRIVATE_H
#include <stdint.h>

#include "kvmgrid/log.h"

/* First quiet interval of a kg_complain after its first line; doubles up to the max. */
#define KG_COMPLAIN_FIRST_NS (10ull * 1000000000ull)
#define KG_COMPLAIN_MAX_NS (3600ull * 1000000000ull)

/* Replaces the monotonic clock used by kg_complain (NULL restores kg_clock_mono_ns). */
void kg_log__set_clock(uint64_t (*now_ns)(void));
/* Receives every emitted line (without the trailing newline) instead of stderr;
 * NULL restores stderr. line is borrowed for the duration of the call. */
void kg_log__set_sink(void (*sink)(enum kg_log_level level, const char *line, void *arg),
                      void *arg);

/* Forgets kg_log_set_journal() and detects the journal again on the next line, as
 * at start-up (from JOURNAL_STREAM and stderr). */
void kg_log__detect_journal(void);

#endif
