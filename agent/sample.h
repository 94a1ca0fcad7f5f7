/* SPDX-License-Identifier: MIT */
/*
 * Raw samples: what the collector (libvirt) and the /proc readers hand to the rate
 * math. Plain structs of cumulative counters and gauges, each guarded by a have_*
 * flag, so that "not reported" never reads as zero. No libvirt types here: only
 * the collector (collect.c, events.c, domcache.c) includes libvirt.
 */
#ifndef AGENT_SAMPLE_H
#define AGENT_SAMPLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kvmgrid/schema.h"

/* A domain whose vCPUs run (or wait, idle, inside the guest): the states where
 * libvirt has CPU time, block and interface counters, and a balloon to ask. */
static inline bool sample_state_running(enum kg_vm_state s)
{
    return s == KG_VM_RUNNING || s == KG_VM_BLOCKED;
}

struct sample_disk {
    char name[KG_DEV_NAME_MAX];          /* target dev, e.g. "vda" */
    bool have_bytes, have_reqs, have_times;
    uint64_t rd_bytes, wr_bytes;         /* cumulative bytes */
    uint64_t rd_reqs, wr_reqs;           /* cumulative requests */
    uint64_t rd_times_ns, wr_times_ns;   /* cumulative time spent in requests */
};

struct sample_net {
    char name[KG_DEV_NAME_MAX];          /* interface name (target dev or MAC) */
    bool have;
    uint64_t rx_bytes, rx_pkts, rx_errs, rx_drop;
    uint64_t tx_bytes, tx_pkts, tx_errs, tx_drop;
};

struct sample_dom {
    const char *name;                    /* borrowed: valid as long as the sample */
    char uuid[KG_UUID_LEN + 1];
    enum kg_vm_state state;
    bool incomplete;                     /* stats expected but did not come back in time */
    bool have_cpu;
    uint64_t cpu_time_ns;                /* cumulative, running domains only */
    bool have_vcpus;
    unsigned vcpus;                      /* current vCPUs */
    bool have_vcpu_delay;
    uint64_t vcpu_delay_ns;              /* sum over vCPUs of vcpu.N.delay */
    bool have_mem_max, have_mem_cur, have_mem_avail, have_mem_usable, have_mem_rss;
    uint64_t mem_max_kib, mem_cur_kib, mem_avail_kib, mem_usable_kib, mem_rss_kib;
    /* Devices: n_disks/n_nets (at most KG_DEV_MAX) entries, borrowed like name.
     * Pointers rather than KG_DEV_MAX-long arrays: a sample of a VM with two
     * disks and one NIC is ~0.4 kB instead of 3.5 kB, and the agent holds one
     * per VM (thousands). NULL when the count is 0. */
    unsigned n_disks, n_nets;
    struct sample_disk *disks;
    struct sample_net *nets;
};

/* Host figures read through libvirt's node calls (any URI, also remote). */
struct sample_node {
    bool have_info;
    unsigned cpus;
    uint64_t mem_total_kib;
    unsigned vms_running, vms_defined;
};

/* Host figures read from /proc (only meaningful when the agent runs on the host). */
struct sample_proc {
    bool have_cpu;
    uint64_t cpu_total_ticks, cpu_idle_ticks; /* all CPUs; idle includes iowait */
    unsigned cpus;                            /* "cpuN" lines in /proc/stat */
    bool have_mem;
    uint64_t mem_total_kib, mem_avail_kib;
    bool have_load;
    double load1, load5, load15;
    bool have_disk;
    uint64_t disk_rd_bytes, disk_wr_bytes;    /* whole disks only, sectors * 512 */
    bool have_net;
    uint64_t net_rx_bytes, net_tx_bytes;      /* every interface but lo */
};

/* Sets a domain sample to "nothing reported" (all have_* false, state NOSTATE,
 * name NULL, no devices). */
static inline void sample_dom_init(struct sample_dom *s)
{
    memset(s, 0, sizeof *s);
    s->state = KG_VM_NOSTATE;
}

#endif
