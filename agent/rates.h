/* SPDX-License-Identifier: MIT */
/*
 * Rate math: turns raw counter samples (sample.h) taken at measured monotonic
 * times into the published figures (struct kg_vm, struct kg_host). A rate is a
 * counter delta over the measured elapsed time. The first sample, a counter that
 * went backwards (a restarted VM, a reset interface) and cpu.* of a domain that
 * is not running give no rate (KG_NA), never a spike or a stale value.
 *
 * struct rates keeps each domain's previous counters (by UUID) across cycles
 * and its last complete figures, so that a domain whose stats did not come back
 * in time is reported stale with its age instead of vanishing or showing zeros.
 * Pure module: no I/O, never logs. Not thread-safe on one object.
 */
#ifndef AGENT_RATES_H
#define AGENT_RATES_H
#include <stddef.h>
#include <stdint.h>

#include "kvmgrid/schema.h"
#include "sample.h"

/* One VM from two samples of the same domain. prev may be NULL (first sample:
 * gauges only). elapsed_ns is the monotonic time between the samples; host_cpus
 * the host's CPU count (0: cpu_host_pct stays NA). out is fully overwritten
 * (kg_vm_init first); host and ts_ms are left for the caller. */
void rates_vm(const struct sample_dom *prev, const struct sample_dom *cur,
              uint64_t elapsed_ns, double host_cpus, struct kg_vm *out);

/* The host's figures from the node sample (may be NULL) and two /proc samples
 * (prev may be NULL: gauges only; cur may be NULL when /proc is not read).
 * out is overwritten with kg_host_init first; name, ts, version, interval,
 * libvirt_ok and collect_path are left for the caller to fill afterwards. */
void rates_host(const struct sample_proc *prev, const struct sample_proc *cur,
                uint64_t elapsed_ns, const struct sample_node *node,
                struct kg_host *out);

struct rates;

/* 0 and *out (free with rates_free), or KG_ENOMEM. */
int rates_create(struct rates **out);
void rates_free(struct rates *r);

/* Computes the figures of each cur[i] (n of them, any order; UUIDs unique,
 * non-empty) taken at monotonic time mono_ns (epoch real_ms), against the previous
 * call's samples of the same UUIDs, and keeps them in cur's order for rates_get.
 * A sample marked incomplete yields the domain's last complete figures with
 * stale = true and age_s = their age (or, with none yet, NA figures marked
 * stale); its previous sample is kept so the next complete one gets a rate over
 * the whole gap. Domains absent from cur are forgotten. Per domain only compact
 * state is kept (counters and figures of the devices it has, not KG_DEV_MAX-long
 * arrays); nothing is allocated for a domain whose device counts stay the same.
 * Returns 0 or KG_ENOMEM (then rates_count is 0 until the next update). */
int rates_update(struct rates *r, const struct sample_dom *cur, size_t n,
                 uint64_t mono_ns, int64_t real_ms, double host_cpus);

/* Number of VMs of the last update (less any forgotten since). */
size_t rates_count(const struct rates *r);

/* The i-th VM (i < rates_count) into *out: ts, host (borrowed, copied), name,
 * uuid, figures and the first n_disks/n_nets devices; the devices past those are
 * left as they were (the encoder never reads them), so one scratch struct can be
 * reused for every VM without clearing its 4 kB each time. */
void rates_get(const struct rates *r, size_t i, const char *host, struct kg_vm *out);

/* libvirt gave nothing this cycle: every VM of the last update goes out stale,
 * with the age of its last complete figures and timestamp real_ms. */
void rates_mark_stale(struct rates *r, uint64_t mono_ns, int64_t real_ms);

/* Forgets one domain (e.g. undefined); no-op when unknown. */
void rates_forget(struct rates *r, const char *uuid);

#endif
