/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr (or syslog-style to stderr under systemd, which adds its own
 * timestamps): "<time> <program>[pid] <level>: message". Levels filter. Repeated
 * failures go through a kg_complain: logged once, then at a falling rate, then a
 * single line on recovery (collectd's c_complain/c_release).
 * Lines are cut at 2047 bytes; CR/LF inside a message become spaces (one entry per
 * line). The timestamp is UTC, "2026-11-29T23:22:14.123Z"; the journal priorities
 * are <3> error, <4> warn, <6> info, <7> debug. Default level: info.
 * Pure modules never log; programs and the MQTT session do. Thread-safe.
 */
#ifndef KVMGRID_LOG_H
#define KVMGRID_LOG_H
#include <stdbool.h>
#include <stdint.h>

enum kg_log_level { KG_LOG_ERROR = 0, KG_LOG_WARN, KG_LOG_INFO, KG_LOG_DEBUG };

/* Sets the program name shown in each line (borrowed; must outlive logging). */
void kg_log_init(const char *program);
void kg_log_set_level(enum kg_log_level level);
enum kg_log_level kg_log_get_level(void);
/* Parses "error", "warn", "info", "debug" (case-insensitive). 0 or KG_EINVAL. */
int kg_log_level_parse(const char *name, enum kg_log_level *out);
/* When true, lines carry "<N>" priority prefixes instead of a timestamp. The
 * default is true when stderr is systemd's journal stream: JOURNAL_STREAM is set
 * and names stderr's own device and inode (a process whose stderr was redirected
 * elsewhere, but which inherited the variable, keeps timestamps). */
void kg_log_set_journal(bool on);

void kg_log(enum kg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define kg_error(...) kg_log(KG_LOG_ERROR, __VA_ARGS__)
#define kg_warn(...)  kg_log(KG_LOG_WARN, __VA_ARGS__)
#define kg_info(...)  kg_log(KG_LOG_INFO, __VA_ARGS__)
#define kg_debug(...) kg_log(KG_LOG_DEBUG, __VA_ARGS__)

/* Rate limiter for one repeated failure. Zero-initialise (KG_COMPLAIN_INIT). */
struct kg_complain {
    uint64_t last_ns;      /* monotonic time of the last line logged */
    uint64_t interval_ns;  /* current quiet interval; doubles up to 1 h */
    uint64_t suppressed;   /* failures not logged since the last line */
    bool active;           /* a failure is in progress */
};
#define KG_COMPLAIN_INIT {0, 0, 0, false}

/* Records one failure: logs it now if it is the first, or if the quiet interval
 * has passed (then "... (N more since last report)" when N > 0); otherwise counts
 * it silently. The quiet interval starts at 10 s after the first line and doubles
 * after each line, up to 1 h. The struct is guarded by the log's lock, so one
 * kg_complain may be shared by threads. */
void kg_complain(struct kg_complain *c, enum kg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records recovery: if a failure was active, logs fmt once at INFO and resets c
 * (the next failure is logged at once again); otherwise does nothing. */
void kg_complain_release(struct kg_complain *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
