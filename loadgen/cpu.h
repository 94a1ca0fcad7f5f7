/* SPDX-License-Identifier: MIT */
/*
 * CPU load: N worker threads, each busy for P % of every 100 ms period and
 * asleep for the rest, so that a monitoring interval of a few seconds sees a
 * steady P %. The busy part is measured on the thread's own CPU clock, so a
 * worker that is preempted still consumes the CPU time it was asked for (up to
 * the end of its period; what the scheduler withheld is owed to the next
 * period, at most one period's worth, never more than asked in total). An optional ramp moves P linearly from pct to
 * ramp_to_pct over the load's duration. Not a benchmark of the CPU: the work is
 * reading clocks.
 */
#ifndef LOADGEN_CPU_H
#define LOADGEN_CPU_H
#include <stdint.h>

#include "kvmgrid/schema.h"

#define CPU_PERIOD_NS 100000000ull   /* 100 ms */

struct cpu_load;

/* Starts spec->workers threads (spec resolved by caps_resolve_load; borrowed).
 * Returns 0 and *out (free with cpu_load_free), KG_EINVAL, KG_ENOMEM or KG_EIO
 * (thread creation failed; threads already started are stopped). */
int cpu_load_start(const struct kg_load_spec *spec, struct cpu_load **out);
/* Duty cycle the workers aim at now, in %. */
double cpu_load_target_pct(const struct cpu_load *c);
/* CPU time consumed by all workers since the start, ns. Thread-safe. */
uint64_t cpu_load_cpu_ns(const struct cpu_load *c);
unsigned cpu_load_workers(const struct cpu_load *c);
/* Stops every worker and waits for them (at most about one period). Idempotent. */
void cpu_load_stop(struct cpu_load *c);
/* Stops if needed and frees. Accepts NULL. */
void cpu_load_free(struct cpu_load *c);

#endif
