/* SPDX-License-Identifier: MIT */
/*
 * Alerts: "too much for too long", per VM, as a small state machine per kind.
 *
 * A metric kind (CPU %, memory %, steal %, disk latency ms) is *over* from the
 * first sample whose figure is above `over`; it stays over while samples stay
 * above `clear` (hysteresis: clear <= over); it becomes *active* (the VM is in
 * alert for it) once it has been over for `for_ms`, measured from that first
 * sample. A sample at or below `clear` (or without the figure: NaN) ends it,
 * pending or active. When the wall starts, a VM already over counts from the
 * first sample the wall receives: nothing before it is assumed.
 * Stale and offline are kinds too: active while the VM is stale (or its host
 * offline), since the moment that was first seen; while a VM is stale or offline
 * its metric kinds keep their state (no sample says otherwise) but a pending one
 * does not become active (there is no evidence it stayed over).
 * A VM that vanishes takes its state with it (alerts_vm_reset on the slot).
 * Times are the wall's monotonic ms (when a sample arrived, when a state was
 * seen), so durations do not depend on the agents' clocks.
 * Pure module: no SDL, no logging, no locking (the model's lock covers it).
 */
#ifndef KG_WALL_ALERTS_H
#define KG_WALL_ALERTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum alerts_kind {
    ALERTS_CPU = 0,   /* cpu_pct */
    ALERTS_MEM,       /* mem_used_pct */
    ALERTS_STEAL,     /* steal_pct */
    ALERTS_DISK_LAT,  /* the larger of disk read and write latency, ms */
    ALERTS_METRICS,   /* the kinds above have figures */
    ALERTS_STALE = ALERTS_METRICS,
    ALERTS_OFFLINE,
    ALERTS_KINDS
};

struct alerts_rule {
    bool on;
    double over;      /* enter above this ... */
    double clear;     /* ... leave at or below this (<= over) */
    uint64_t for_ms;  /* ... once over for this long (0: at once) */
};

struct alerts_rules {
    struct alerts_rule r[ALERTS_METRICS];
    bool stale, offline;
};

/* One VM's alert state (zeroed: nothing over). */
struct alerts_vm {
    uint64_t since_ms[ALERTS_KINDS]; /* when the kind went over (pending or active); 0 not */
    uint8_t active;                  /* bit (1u << kind) per active kind */
};

/* The defaults: CPU over 90 % for 60 s (clear at 85), memory over 95 % (clear
 * 90), steal over 10 % (clear 5), disk latency over 50 ms (clear 40), stale and
 * offline on. */
void alerts_rules_default(struct alerts_rules *r);

/* Parses a rule as written in the config: "off", or "OVER [for DURATION] [clear
 * CLEAR]" (e.g. "90 for 60s clear 85"; DURATION as kvmgrid/config.h durations;
 * CLEAR defaults to OVER; a unit word "%" or "ms" after a number is allowed).
 * 0 or KG_EINVAL with why ("clear 95 is above 90"...). */
int alerts_rule_parse(const char *s, struct alerts_rule *out, char *why, size_t whylen);
/* Writes a rule back in that form ("90 for 1m clear 85", "off"). Returns buf. */
char *alerts_rule_format(const struct alerts_rule *r, char *buf, size_t size);

/* A sample arrived at now_ms with fig[kind] for the metric kinds (NaN: none).
 * A kind over with for_ms 0 is active at once (unless the VM is in alert as stale
 * or offline); a longer one is promoted by alerts_vm_state. The stale and offline
 * kinds are alerts_vm_state's alone. Returns true when a->active changed. */
bool alerts_vm_sample(struct alerts_vm *a, const struct alerts_rules *r,
                      const double fig[ALERTS_METRICS], uint64_t now_ms);
/* At each tick: stale / offline as the model sees them at now_ms, and pending
 * metric kinds whose for_ms has run out become active (not while stale or
 * offline). A VM of an offline host is in alert as offline, not also as stale
 * (unless the offline rule is off). Returns true when a->active changed. */
bool alerts_vm_state(struct alerts_vm *a, const struct alerts_rules *r, bool stale, bool offline,
                     uint64_t now_ms);
/* Forgets everything (the VM vanished, its slot is reused). */
void alerts_vm_reset(struct alerts_vm *a);

/* The earliest since_ms of the active kinds (how long the VM has been in alert),
 * 0 when none is active. */
uint64_t alerts_vm_since(const struct alerts_vm *a);
/* The active kind shown first (offline, stale, then the metric kinds in enum
 * order), or -1 when none. */
int alerts_vm_first(const struct alerts_vm *a);

/* The i-th kind (0 <= i < ALERTS_KINDS) in the order screens list them:
 * offline, stale, then the metric kinds in enum order. */
enum alerts_kind alerts_kind_shown(int i);

/* Writes the active kinds in alerts_vm_first's order, joined by sep ("OFFLINE",
 * "CPU+MEM"); "" when none. Returns buf. */
char *alerts_vm_kinds(const struct alerts_vm *a, const char *sep, char *buf, size_t size);

/* Short name for screens and logs: "CPU", "MEM", "STEAL", "DISK", "STALE", "OFFLINE". */
const char *alerts_kind_name(enum alerts_kind k);
/* The config key of a metric kind's rule: "alert_cpu", "alert_mem", "alert_steal",
 * "alert_disk_latency". */
const char *alerts_kind_key(enum alerts_kind k);

/* Formats a duration for the header: "45s", "12m", "3h05m", "2d04h". Returns buf. */
char *alerts_format_duration(uint64_t ms, char *buf, size_t size);

#endif
