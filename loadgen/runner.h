/* SPDX-License-Identifier: MIT */
/*
 * The runner: executes a plan (a scenario; a single command is a one-step
 * plan) on its own thread, step after step, each load for its own duration,
 * and measures what was achieved: CPU time of the workers over wall time,
 * resident bytes of the memory loads (mincore), bytes written and read over
 * time. A new run stops the current one first; stop ends every load at once
 * and removes disk files before it returns. runner_start, runner_stop and
 * runner_free are called from one controlling thread; the other functions are
 * safe from any thread.
 */
#ifndef LOADGEN_RUNNER_H
#define LOADGEN_RUNNER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "kvmgrid/schema.h"
#include "scenario.h"

struct runner;

/* Figures over a whole run (for the CLI summary, tests and benchmarks). */
struct runner_totals {
    double elapsed_s;                 /* wall time the run lasted */
    double cpu_s;                     /* CPU time consumed by the workers */
    double cpu_requested_s;           /* sum over time of duty x workers */
    double cpu_worker_s;              /* sum over time of running workers */
    double mem_peak_mib;              /* highest resident MiB seen */
    double mem_requested_mib;         /* highest MiB requested at once */
    uint64_t written_bytes, read_bytes;
    double disk_wr_s, disk_rd_s;      /* time a write/read load ran */
    bool completed;                   /* ran to its end (not stopped, no error) */
    char error[200];                  /* why a run ended early on its own, "" if not */
};

/* caps borrowed (disk_dir, rate cap, file sizes); must outlive the runner. */
int runner_create(const struct caps *caps, struct runner **out);

/* Stops the current run, then starts plan (already checked with
 * scenario_apply_caps; ownership taken, also on failure). id and scenario name
 * (may be NULL) are copied into the state. Waits until the first step's loads
 * are started: returns 0, or KG_EIO/KG_ENOMEM with errmsg when a load could not
 * be started (nothing keeps running then). */
int runner_start(struct runner *r, struct scenario *plan, const char *id,
                 const char *scenario_name, char *errmsg, size_t errlen);

/* Ends every load at once, joins the threads, removes disk files. Idempotent. */
void runner_stop(struct runner *r);

bool runner_running(struct runner *r);

/* Waits until the run ends by itself or timeout_ms passes (UINT32_MAX: no
 * limit). 0 when not running any more, KG_ETIMEDOUT. */
int runner_wait(struct runner *r, uint32_t timeout_ms);

/* Fills the run part of a state: status, id, scenario, step/steps, spec (the
 * step's first load), elapsed, progress and the figures of the last second
 * (NA for kinds not running). Leaves ts, node and the reject fields alone. */
void runner_fill_state(struct runner *r, struct kg_load_state *st);

/* Totals of the current or last run. */
void runner_totals(struct runner *r, struct runner_totals *out);

/* Generation counter: increases whenever a run starts or ends (so a publisher
 * can tell that the state changed). */
uint64_t runner_generation(struct runner *r);

void runner_free(struct runner *r);

#endif
