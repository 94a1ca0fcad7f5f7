/* SPDX-License-Identifier: MIT */
/*
 * Logging for kvmgrid programs: one line per call on stderr,
 * "<UTC time> <program>[pid] <level>: message", or under systemd's journal
 * "<N>program[pid] level: message" (the journal adds its own timestamps), filtered
 * by level. kg_complain/kg_complain_release rate-limit one repeated failure the way
 * collectd's c_complain/c_release do. This is not a logging framework: no files,
 * no rotation, no syslog socket. One mutex keeps lines whole across threads and
 * guards the kg_complain structs passed in.
 */
#include "kvmgrid/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "log_private.h"

#define KG_LOG_LINE_MAX 2048

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *log_program = "kvmgrid";
static enum kg_log_level log_level = KG_LOG_INFO;
static int log_journal = -1; /* -1: not decided yet; detected on first use */
static uint64_t (*log_now_ns)(void) = kg_clock_mono_ns;
static void (*log_sink)(enum kg_log_level, const char *, void *);
static void *log_sink_arg;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
/* syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int level_prio[] = { 3, 4, 6, 7 };

void kg_log__set_clock(uint64_t (*now_ns)(void))
{
    pthread_mutex_lock(&log_lock);
    log_now_ns = now_ns ? now_ns : kg_clock_mono_ns;
    pthread_mutex_unlock(&log_lock);
}

void kg_log__set_sink(void (*sink)(enum kg_log_level, const char *, void *), void *arg)
{
    pthread_mutex_lock(&log_lock);
    log_sink = sink;
    log_sink_arg = arg;
    pthread_mutex_unlock(&log_lock);
}

void kg_log_init(const char *program)
{
    pthread_mutex_lock(&log_lock);
    log_program = program && *program ? program : "kvmgrid";
    pthread_mutex_unlock(&log_lock);
}

void kg_log_set_level(enum kg_log_level level)
{
    if (level > KG_LOG_DEBUG)
        level = KG_LOG_DEBUG;
    pthread_mutex_lock(&log_lock);
    log_level = level;
    pthread_mutex_unlock(&log_lock);
}

enum kg_log_level kg_log_get_level(void)
{
    pthread_mutex_lock(&log_lock);
    enum kg_log_level l = log_level;
    pthread_mutex_unlock(&log_lock);
    return l;
}

int kg_log_level_parse(const char *name, enum kg_log_level *out)
{
    if (!name || !out)
        return KG_EINVAL;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum kg_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = KG_LOG_WARN;
        return 0;
    }
    return KG_EINVAL;
}

void kg_log_set_journal(bool on)
{
    pthread_mutex_lock(&log_lock);
    log_journal = on ? 1 : 0;
    pthread_mutex_unlock(&log_lock);
}

/* Is stderr the journal's stream? systemd sets JOURNAL_STREAM="<dev>:<inode>" of
 * that stream; a child whose stderr was redirected (a script run by a service,
 * `prog 2>file`) inherits the variable, so its value must match stderr itself
 * (systemd.exec(5) says testing that it is set is not enough). */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char tail;
    struct stat st;

    if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void kg_log__detect_journal(void)
{
    pthread_mutex_lock(&log_lock);
    log_journal = -1;
    pthread_mutex_unlock(&log_lock);
}

/* Called with log_lock held. */
static bool journal_mode(void)
{
    if (log_journal < 0)
        log_journal = stderr_is_journal() ? 1 : 0;
    return log_journal == 1;
}

/* Formats and emits one line; called with log_lock held. suffix may be NULL. */
static void emit_locked(enum kg_log_level level, const char *suffix, const char *fmt,
                        va_list ap) __attribute__((format(printf, 3, 0)));
static void emit_locked(enum kg_log_level level, const char *suffix, const char *fmt,
                        va_list ap)
{
    char line[KG_LOG_LINE_MAX];
    size_t n = 0;
    int r;

    if (level > KG_LOG_DEBUG)
        level = KG_LOG_DEBUG;
    if (journal_mode()) {
        r = snprintf(line, sizeof line, "<%d>%s[%ld] %s: ", level_prio[level], log_program,
                     (long)getpid(), level_names[level]);
    } else {
        char ts[32];
        kg_clock_format_utc(kg_clock_real_ms(), ts, sizeof ts);
        r = snprintf(line, sizeof line, "%s %s[%ld] %s: ", ts, log_program, (long)getpid(),
                     level_names[level]);
    }
    if (r > 0)
        n = (size_t)r < sizeof line ? (size_t)r : sizeof line - 1;
    r = vsnprintf(line + n, sizeof line - n, fmt, ap);
    if (r > 0)
        n = n + (size_t)r < sizeof line ? n + (size_t)r : sizeof line - 1;
    if (suffix) {
        r = snprintf(line + n, sizeof line - n, "%s", suffix);
        if (r > 0)
            n = n + (size_t)r < sizeof line ? n + (size_t)r : sizeof line - 1;
    }
    /* A message must stay one line: a newline inside would forge a second entry. */
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    if (log_sink) {
        log_sink(level, line, log_sink_arg);
    } else {
        fputs(line, stderr);
        fputc('\n', stderr);
        fflush(stderr);
    }
}

void kg_log(enum kg_log_level level, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&log_lock);
    if (level <= log_level) {
        va_start(ap, fmt);
        emit_locked(level, NULL, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&log_lock);
}

void kg_complain(struct kg_complain *c, enum kg_log_level level, const char *fmt, ...)
{
    va_list ap;
    char suffix[64];
    const char *sfx = NULL;
    bool emit = false;

    if (!c)
        return;
    pthread_mutex_lock(&log_lock);
    uint64_t now = log_now_ns();
    if (!c->active) {
        c->active = true;
        c->last_ns = now;
        c->interval_ns = KG_COMPLAIN_FIRST_NS;
        c->suppressed = 0;
        emit = true;
    } else if (now - c->last_ns >= c->interval_ns) {
        if (c->suppressed > 0) {
            snprintf(suffix, sizeof suffix, " (%" PRIu64 " more since last report)",
                     c->suppressed);
            sfx = suffix;
        }
        c->last_ns = now;
        c->interval_ns = c->interval_ns >= KG_COMPLAIN_MAX_NS / 2 ? KG_COMPLAIN_MAX_NS
                                                                 : c->interval_ns * 2;
        c->suppressed = 0;
        emit = true;
    } else {
        c->suppressed++;
    }
    if (emit && level <= log_level) {
        va_start(ap, fmt);
        emit_locked(level, sfx, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&log_lock);
}

void kg_complain_release(struct kg_complain *c, const char *fmt, ...)
{
    va_list ap;

    if (!c)
        return;
    pthread_mutex_lock(&log_lock);
    if (c->active) {
        if (KG_LOG_INFO <= log_level) {
            va_start(ap, fmt);
            emit_locked(KG_LOG_INFO, NULL, fmt, ap);
            va_end(ap);
        }
        c->active = false;
        c->last_ns = 0;
        c->interval_ns = 0;
        c->suppressed = 0;
    }
    pthread_mutex_unlock(&log_lock);
}
