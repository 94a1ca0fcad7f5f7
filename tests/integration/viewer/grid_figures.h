/* SPDX-License-Identifier: MIT */
/*
 * The figures of kg-wall-gridpub's grid, one VM or host at a time, for the
 * publisher and for the wall's in-process benchmark (bench/wall), so that both
 * encode the same payloads. Header only: two small programs, no library.
 */
#ifndef KG_TEST_GRID_FIGURES_H
#define KG_TEST_GRID_FIGURES_H
#include <stdio.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/schema.h"

/* VM name of host, state st, CPU cpu % (memory, disk and network follow it),
 * stamped now. */
static inline void grid_vm(struct kg_vm *v, const char *host, const char *name, double cpu,
                           enum kg_vm_state st)
{
    kg_vm_init(v);
    v->ts_ms = kg_clock_real_ms();
    snprintf(v->host, sizeof(v->host), "%s", host);
    snprintf(v->name, sizeof(v->name), "%s", name);
    v->state = st;
    v->vcpus = 2;
    if (st == KG_VM_RUNNING || st == KG_VM_PAUSED) {
        v->cpu_pct = cpu;
        v->cpu_host_pct = cpu / 4;
        v->steal_pct = cpu / 10;
        v->mem_cur_kib = 2097152;
        v->mem_max_kib = 4194304;
        v->mem_used_pct = cpu;
        v->mem_used_kib = 2097152 * cpu / 100;
        v->mem_rss_kib = 1500000;
        v->disk_rd_bytes_per_s = cpu * 1e6;
        v->disk_wr_bytes_per_s = 0;
        v->net_rx_bytes_per_s = cpu * 1e5;
        v->net_tx_bytes_per_s = 0;
    }
}

/* Host name with interval_s and cpu_pct, 16 CPUs, stamped now. */
static inline void grid_host(struct kg_host *h, const char *name, double interval_s,
                             double cpu_pct)
{
    kg_host_init(h);
    h->ts_ms = kg_clock_real_ms();
    snprintf(h->name, sizeof(h->name), "%s", name);
    snprintf(h->agent_version, sizeof(h->agent_version), "0.1.0");
    snprintf(h->collect_path, sizeof(h->collect_path), "bulk");
    h->libvirt_ok = true;
    h->interval_s = interval_s;
    h->cpus = 16;
    h->cpu_pct = cpu_pct;
}

#endif
