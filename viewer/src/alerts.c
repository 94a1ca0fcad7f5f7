/* SPDX-License-Identifier: MIT */
/*
 * Alerts for the wall (alerts.h): the rules as written in the config, and one
 * small state machine per VM and kind. It decides only whether a VM is in
 * alert, for what and since when; it does not notify anyone, keep a log of
 * alerts or look at hosts (the model counts and orders what this says).
 */
#include "alerts.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/config.h"
#include "kvmgrid/error.h"

#define BIT(k) (1u << (k))

static char *format_number(double v, char *buf, size_t size);

void alerts_rules_default(struct alerts_rules *r)
{
    memset(r, 0, sizeof(*r));
    r->r[ALERTS_CPU] = (struct alerts_rule){true, 90, 85, 60000};
    r->r[ALERTS_MEM] = (struct alerts_rule){true, 95, 90, 0};
    r->r[ALERTS_STEAL] = (struct alerts_rule){true, 10, 5, 0};
    r->r[ALERTS_DISK_LAT] = (struct alerts_rule){true, 50, 40, 0};
    r->stale = true;
    r->offline = true;
}

/* ---- rules as written ------------------------------------------------- */

/* a percentage or milliseconds: anything larger is a typing error */
#define THRESHOLD_MAX 1e9
#define RULE_FORM "expected \"off\" or OVER [for DURATION] [clear CLEAR], e.g. \"90 for 60s clear 85\""

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (why != NULL && whylen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return KG_EINVAL;
}

/* The next word of *s (up to whitespace) into w; false at the end. */
static bool next_word(const char **s, char *w, size_t size)
{
    const char *p = *s;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = 0;
    while (*p && !isspace((unsigned char)*p)) {
        if (n + 1 < size)
            w[n++] = *p;
        p++;
    }
    w[n] = '\0';
    *s = p;
    return n > 0;
}

static bool is_unit(const char *u)
{
    return strcmp(u, "%") == 0 || strcmp(u, "ms") == 0;
}

/* A threshold: digits with an optional fraction, optionally followed by a unit
 * ("90", "90%", "12.5ms"); the unit may also be the next word ("90 %"). */
static int parse_threshold(const char **s, const char *what, double *out, char *why,
                           size_t whylen)
{
    char w[64];
    if (!next_word(s, w, sizeof(w)))
        return fail(why, whylen, "%s is missing: " RULE_FORM, what);
    const char *p = w;
    if (*p == '-' || *p == '+')
        return fail(why, whylen, "%s \"%s\": a threshold has no sign and is not negative", what, w);
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return fail(why, whylen, "%s \"%s\" is not a number: " RULE_FORM, what, w);
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (*p != '\0' && !is_unit(p))
        return fail(why, whylen, "%s \"%s\" is not a number (a unit after it is %% or ms)",
                    what, w);
    double v = strtod(w, NULL); /* digits and a fraction only: checked above */
    if (!(v <= THRESHOLD_MAX))
        return fail(why, whylen, "%s \"%s\" is too large (at most %.0f)", what, w, THRESHOLD_MAX);
    if (*p == '\0') {
        /* a unit as the next word */
        const char *q = *s;
        char u[8];
        if (next_word(&q, u, sizeof(u)) && is_unit(u))
            *s = q;
    }
    *out = v;
    return 0;
}

int alerts_rule_parse(const char *s, struct alerts_rule *out, char *why, size_t whylen)
{
    struct alerts_rule r = {false, 0, 0, 0};
    char w[64];
    if (s == NULL)
        s = "";
    const char *p = s;
    if (!next_word(&p, w, sizeof(w)))
        return fail(why, whylen, "empty rule: " RULE_FORM);
    if (strcmp(w, "off") == 0) {
        if (next_word(&p, w, sizeof(w)))
            return fail(why, whylen, "\"%s\" after off: a rule that is off has nothing else", w);
        *out = r;
        return 0;
    }
    p = s;
    int rc = parse_threshold(&p, "OVER", &r.over, why, whylen);
    if (rc != 0)
        return rc;
    r.on = true;
    r.clear = r.over;
    bool have_for = false, have_clear = false;
    while (next_word(&p, w, sizeof(w))) {
        if (strcmp(w, "for") == 0) {
            if (have_for)
                return fail(why, whylen, "\"for\" is given twice");
            have_for = true;
            if (!next_word(&p, w, sizeof(w)))
                return fail(why, whylen, "\"for\" needs a duration, e.g. 60s or 2m");
            if (kg_config_parse_duration_ms(w, &r.for_ms) != 0)
                return fail(why, whylen,
                            "for \"%s\" is not a duration (e.g. 0s, 60s, 2m, 1h; no sign)", w);
        } else if (strcmp(w, "clear") == 0) {
            if (have_clear)
                return fail(why, whylen, "\"clear\" is given twice");
            have_clear = true;
            rc = parse_threshold(&p, "clear", &r.clear, why, whylen);
            if (rc != 0)
                return rc;
        } else {
            return fail(why, whylen, "unexpected \"%s\": " RULE_FORM, w);
        }
    }
    if (r.clear > r.over) {
        char a[32], b[32];
        return fail(why, whylen, "clear %s is above %s (an alert clears at or below its threshold)",
                    format_number(r.clear, a, sizeof(a)),
                    format_number(r.over, b, sizeof(b)));
    }
    *out = r;
    return 0;
}

static char *format_number(double v, char *buf, size_t size)
{
    /* fixed notation (the parser takes no exponent), trailing zeros cut */
    int n = snprintf(buf, size, "%.6f", v);
    if (n > 0 && (size_t)n < size && strchr(buf, '.') != NULL) {
        char *e = buf + n - 1;
        while (*e == '0')
            *e-- = '\0';
        if (*e == '.')
            *e = '\0';
    }
    return buf;
}

/* A duration as kg_config_parse_duration_ms reads it back exactly. */
static void format_config_duration(uint64_t ms, char *buf, size_t size)
{
    static const struct {
        uint64_t ms;
        const char *unit;
    } units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    size_t i = 0;
    while (ms % units[i].ms != 0)
        i++;
    snprintf(buf, size, "%llu%s", (unsigned long long)(ms / units[i].ms), units[i].unit);
}

char *alerts_rule_format(const struct alerts_rule *r, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (!r->on) {
        snprintf(buf, size, "off");
        return buf;
    }
    char over[32], clear[32], dur[32];
    format_number(r->over, over, sizeof(over));
    format_number(r->clear, clear, sizeof(clear));
    format_config_duration(r->for_ms, dur, sizeof(dur));
    bool show_clear = strcmp(clear, over) != 0; /* as written: the text parses back to itself */
    snprintf(buf, size, "%s%s%s%s%s", over, r->for_ms ? " for " : "", r->for_ms ? dur : "",
             show_clear ? " clear " : "", show_clear ? clear : "");
    return buf;
}

/* ---- the state machine ------------------------------------------------ */

static uint64_t stamp(uint64_t now_ms)
{
    return now_ms ? now_ms : 1; /* 0 means "not over" */
}

static void end_kind(struct alerts_vm *a, int k)
{
    a->since_ms[k] = 0;
    a->active &= (uint8_t)~BIT(k);
}

bool alerts_vm_sample(struct alerts_vm *a, const struct alerts_rules *r,
                      const double fig[ALERTS_METRICS], uint64_t now_ms)
{
    uint8_t before = a->active;
    /* no promotion of a timed kind here: alerts_vm_state knows whether the VM is
     * stale or offline; "at once" needs no evidence of a while */
    bool held = a->active & (BIT(ALERTS_STALE) | BIT(ALERTS_OFFLINE));
    for (int k = 0; k < ALERTS_METRICS; k++) {
        const struct alerts_rule *rule = &r->r[k];
        double x = fig[k];
        if (!rule->on || isnan(x)) {
            end_kind(a, k);
            continue;
        }
        if (a->since_ms[k] == 0) {
            if (x > rule->over)
                a->since_ms[k] = stamp(now_ms);
        } else if (x <= rule->clear) {
            end_kind(a, k);
        }
        if (a->since_ms[k] != 0 && rule->for_ms == 0 && !held)
            a->active |= (uint8_t)BIT(k);
    }
    return a->active != before;
}

static void set_state_kind(struct alerts_vm *a, int k, bool on, uint64_t now_ms)
{
    if (!on) {
        end_kind(a, k);
        return;
    }
    if (a->since_ms[k] == 0)
        a->since_ms[k] = stamp(now_ms);
    a->active |= (uint8_t)BIT(k);
}

bool alerts_vm_state(struct alerts_vm *a, const struct alerts_rules *r, bool stale, bool offline,
                     uint64_t now_ms)
{
    uint8_t before = a->active;
    set_state_kind(a, ALERTS_OFFLINE, r->offline && offline, now_ms);
    /* an offline host's VMs go stale too: that is said once, as offline */
    set_state_kind(a, ALERTS_STALE, r->stale && stale && !(r->offline && offline), now_ms);
    if (!stale && !offline) {
        for (int k = 0; k < ALERTS_METRICS; k++) {
            uint64_t since = a->since_ms[k];
            if (since != 0 && !(a->active & BIT(k)) && r->r[k].on &&
                (now_ms > since ? now_ms - since : 0) >= r->r[k].for_ms)
                a->active |= (uint8_t)BIT(k);
        }
    }
    return a->active != before;
}

void alerts_vm_reset(struct alerts_vm *a)
{
    memset(a, 0, sizeof(*a));
}

uint64_t alerts_vm_since(const struct alerts_vm *a)
{
    uint64_t since = 0;
    for (int k = 0; k < ALERTS_KINDS; k++)
        if ((a->active & BIT(k)) && (since == 0 || a->since_ms[k] < since))
            since = a->since_ms[k];
    return since;
}

/* The order kinds are shown in: what explains the others first */
static const int shown_order[ALERTS_KINDS] = {ALERTS_OFFLINE, ALERTS_STALE, ALERTS_CPU,
                                              ALERTS_MEM, ALERTS_STEAL, ALERTS_DISK_LAT};

enum alerts_kind alerts_kind_shown(int i)
{
    return (enum alerts_kind)shown_order[i >= 0 && i < ALERTS_KINDS ? i : 0];
}

int alerts_vm_first(const struct alerts_vm *a)
{
    for (int i = 0; i < ALERTS_KINDS; i++)
        if (a->active & BIT(shown_order[i]))
            return shown_order[i];
    return -1;
}

char *alerts_vm_kinds(const struct alerts_vm *a, const char *sep, char *buf, size_t size)
{
    size_t off = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (int i = 0; i < ALERTS_KINDS && off < size; i++) {
        int k = shown_order[i];
        if (a->active & BIT(k)) {
            int n = snprintf(buf + off, size - off, "%s%s", off ? sep : "",
                             alerts_kind_name((enum alerts_kind)k));
            off += n > 0 ? (size_t)n : 0;
        }
    }
    return buf;
}

const char *alerts_kind_name(enum alerts_kind k)
{
    static const char *const names[ALERTS_KINDS] = {"CPU", "MEM", "STEAL", "DISK", "STALE",
                                                    "OFFLINE"};
    return (unsigned)k < ALERTS_KINDS ? names[k] : "?";
}

const char *alerts_kind_key(enum alerts_kind k)
{
    static const char *const keys[ALERTS_METRICS] = {"alert_cpu", "alert_mem", "alert_steal",
                                                     "alert_disk_latency"};
    return (unsigned)k < ALERTS_METRICS ? keys[k] : "?";
}

char *alerts_format_duration(uint64_t ms, char *buf, size_t size)
{
    unsigned long long s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
    if (s < 60)
        snprintf(buf, size, "%llus", s);
    else if (m < 60)
        snprintf(buf, size, "%llum", m);
    else if (h < 24)
        snprintf(buf, size, "%lluh%02llum", h, m % 60);
    else
        snprintf(buf, size, "%llud%02lluh", d, h % 24);
    return buf;
}
