/* SPDX-License-Identifier: MIT */
/*
 * The grid as the wall knows it: hosts (status, a few host figures), VMs (state
 * and the figures the wall colours by or shows in its tooltip), load-generator
 * states, and counters of malformed input.
 *
 * Threads: model_apply() runs on the MQTT thread; everything else on the main
 * thread. Every access to the structures below happens with the model's mutex
 * held (model_lock/model_unlock) — the MQTT thread holds it only to store decoded
 * figures (decoding happens outside), the main thread while it reads what
 * changed. Changes are announced by generation counters and a deduplicated list of
 * dirty VMs, so the main thread's work follows what changed, not how many
 * messages arrived.
 *
 * Memory: a VM costs one struct model_vm (136 bytes) plus its name, its alert
 * state (struct alerts_vm, 56 bytes) and, when trends are kept, its history
 * (history.h: 724 bytes at 15 minutes in 5 s steps); the full struct kg_vm
 * (with device arrays) is never kept, nor is a summary.
 * Never logs (malformed input is counted, with the last reason kept).
 */
#ifndef KG_WALL_MODEL_H
#define KG_WALL_MODEL_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "colour.h"
#include "history.h"

enum model_fig {
    MODEL_FIG_CPU_PCT = 0, MODEL_FIG_CPU_HOST_PCT, MODEL_FIG_STEAL_PCT,
    MODEL_FIG_VCPUS,
    MODEL_FIG_MEM_USED_PCT, MODEL_FIG_MEM_USED_KIB, MODEL_FIG_MEM_CUR_KIB,
    MODEL_FIG_MEM_MAX_KIB, MODEL_FIG_MEM_RSS_KIB,
    MODEL_FIG_DISK_RD_BPS, MODEL_FIG_DISK_WR_BPS, MODEL_FIG_DISK_RD_IOPS,
    MODEL_FIG_DISK_WR_IOPS, MODEL_FIG_DISK_RD_LAT_MS, MODEL_FIG_DISK_WR_LAT_MS,
    MODEL_FIG_NET_RX_BPS, MODEL_FIG_NET_TX_BPS, MODEL_FIG_NET_RX_PPS,
    MODEL_FIG_NET_TX_PPS, MODEL_FIG_NET_ERRS_PS, MODEL_FIG_NET_DROP_PS,
    MODEL_FIG_AGE_S,
    /* what the tiles, alerts and trends read: from a VM payload, its figures
     * reduced as kg_summary_vm_of does; from a summary, its row's cells */
    MODEL_FIG_DISK_BPS,     /* read + write bytes/s */
    MODEL_FIG_NET_BPS,      /* rx + tx bytes/s */
    MODEL_FIG_DISK_LAT_MS,  /* the larger of read and write latency */
    MODEL_FIG_COUNT
};

/* model_vm.flags */
#define MODEL_VM_LIVE        0x01u /* slot in use */
#define MODEL_VM_DIRTY       0x02u /* on the dirty list */
#define MODEL_VM_STALE       0x04u /* not updated for stale_intervals intervals */
#define MODEL_VM_AGENT_STALE 0x08u /* the agent itself said "stale" */
#define MODEL_VM_ALERTS      0x10u /* its alert state holds a kind (over or active):
                                      model_tick reads only these, and stale ones */
#define MODEL_VM_LISTED      0x20u /* named by the summary being applied (only while
                                      model_apply applies one) */

struct model_vm {
    char *name;             /* owned; raw bytes + NUL */
    uint32_t host;          /* index into model.hosts */
    int32_t pos;            /* index in the host's tile order (layout_grid_order) */
    int64_t ts_ms;          /* sample time, epoch ms */
    uint64_t seen_ms;       /* monotonic ms when it was last updated */
    float fig[MODEL_FIG_COUNT]; /* NaN = not available */
    uint16_t name_len;
    uint8_t state;          /* enum kg_vm_state */
    uint8_t flags;
};

/* Where VMs and host figures come from (model_set_source); status and load
 * states are read in both. */
enum model_source {
    MODEL_SOURCE_VMS = 0,   /* <prefix>/<host>/vm/<vm> and .../metrics; summaries ignored */
    MODEL_SOURCE_SUMMARIES, /* <prefix>/<host>/summary; VM and metrics topics ignored */
    MODEL_SOURCE_COUNT
};
const char *model_source_name(enum model_source s); /* "vms" "summaries" */

enum model_host_status { MODEL_HOST_UNKNOWN = 0, MODEL_HOST_ONLINE, MODEL_HOST_OFFLINE };

/* A group of hosts: the value of the prefix's "+" level (a site, when the
 * prefix is "+/kvmgrid" at a central broker, kvmgrid/topic.h). Group 0 is
 * none (""), the only one under a prefix without "+" (whose link state, at a
 * centre with prefix "site1/kvmgrid", is site1's). Groups stay until the
 * model is freed; at most MODEL_MAX_GROUPS (a message naming one more is
 * dropped and counted with the hosts). */
enum model_link { MODEL_LINK_UNKNOWN = 0, MODEL_LINK_UP, MODEL_LINK_DOWN };
struct model_group {
    char *name;             /* owned; raw bytes + NUL */
    uint16_t name_len;
    uint8_t link;           /* enum model_link: its site's bridge, from
                               <group's prefix>/$bridge/state ("1" up, "0" down) */
};
#define MODEL_MAX_GROUPS 4096u

struct model_host {
    char *name;             /* owned; raw bytes + NUL */
    uint32_t group;         /* index into model.groups; a host is its (group, name) */
    uint16_t name_len;
    uint8_t status;         /* enum model_host_status */
    bool stale;             /* metrics not updated for stale_intervals intervals */
    bool has_metrics;
    bool incomplete;        /* its last summary left VMs out (vms_omitted > 0) */
    bool libvirt_ok;
    int64_t ts_ms;
    uint64_t seen_ms;       /* monotonic ms of the last metrics */
    float interval_s;       /* agent interval, NaN when unknown */
    float cpu_pct, mem_used_pct, cpus, load1;
    uint32_t heard_sync;    /* model.sync_gen when a message last named it */
    uint32_t n_alert;       /* its VMs in alert (model_tick) */
    uint32_t *vms;          /* owned: indices into model.vms */
    uint32_t n_vms, cap_vms;
};

struct model_load {
    char *node;             /* owned */
    uint16_t node_len;
    uint8_t status;         /* enum kg_load_status */
    uint8_t kind;           /* enum kg_load_kind */
};

enum model_bad {
    MODEL_BAD_TOPIC = 0, MODEL_BAD_STATUS, MODEL_BAD_HOST, MODEL_BAD_VM, MODEL_BAD_LOAD,
    MODEL_BAD_OVERSIZED, MODEL_BAD_SUMMARY,
    MODEL_BAD_COUNT
};

struct model_counts {
    uint32_t hosts, hosts_online, hosts_offline, hosts_stale, hosts_unknown;
    uint32_t vms, vms_online, vms_offline, vms_stale;
    uint32_t vms_running, vms_paused, vms_shutoff, vms_other;
    uint32_t loads_running;
    uint32_t vms_alert;                  /* VMs with at least one active alert kind */
    uint32_t links_down;                 /* groups whose bridge link state is "0" */
    uint32_t alert_kinds[ALERTS_KINDS];  /* VMs per active kind */
};

#define MODEL_HOTTEST 3
#define MODEL_WORST 5   /* VMs in alert listed in the header */

/* Caps on what the model holds, whatever publishers send (model_set_caps):
 * sized for a region of a million VMs on 20,000 hypervisors with room to spare;
 * at about 200 bytes a VM the VM cap bounds the model near 400 MB. */
#define MODEL_DEFAULT_MAX_HOSTS 100000u
#define MODEL_DEFAULT_MAX_VMS 2000000u

struct model {
    pthread_mutex_t lock;
    char prefix[160];
    enum model_source source;    /* model_set_source; default MODEL_SOURCE_VMS */
    uint32_t stale_intervals;
    double default_interval_s;   /* used until a host tells its interval */

    struct model_group *groups;  /* [0] is none ("") */
    uint32_t n_groups, cap_groups;
    struct model_host *hosts;
    uint32_t n_hosts, cap_hosts;
    struct model_vm *vms;        /* slots; free ones linked through 'pos' */
    uint32_t n_vm_slots, cap_vm_slots, n_vms;
    int32_t free_vm;             /* head of the free list, -1 none */
    struct model_load *loads;
    uint32_t n_loads, cap_loads;

    /* hash tables (open addressing, index + 1, 0 empty, UINT32_MAX deleted) */
    uint32_t *host_tab, host_tab_cap, host_tab_used;
    uint32_t *vm_tab, vm_tab_cap, vm_tab_used;

    uint32_t *dirty;             /* VM slots with MODEL_VM_DIRTY */
    uint32_t n_dirty, cap_dirty;
    uint64_t structure_gen;      /* hosts/VMs added or removed, host status, loads */
    uint64_t values_gen;         /* any applied change */
    uint64_t hosts_removed;      /* hosts removed: host indices moved (the grid's order
                                    must be made again before it is read) */
    bool full_repaint;           /* too many dirty entries: repaint everything (taken
                                    with the dirty list by model_take_dirty) */

    uint64_t applied;            /* messages applied (valid) */
    uint64_t removed;            /* VMs removed (empty payloads, model_sync_end) */
    uint64_t sync_from_ms;       /* model_sync_begin's now_ms; 0 none in progress */
    uint32_t sync_gen;           /* model_sync_begin calls */
    uint64_t ignored;            /* topics not ours (load/cmd, other) */
    uint64_t retained_seen;      /* messages flagged retained */
    uint64_t last_msg_ms;        /* monotonic ms of the last message */
    uint64_t last_retained_ms;
    uint64_t bad[MODEL_BAD_COUNT];
    uint32_t max_hosts, max_vms;  /* caps: a message that would add one more is dropped */
    uint64_t dropped_hosts;       /* messages dropped: they named a new host over max_hosts */
    uint64_t dropped_vms;         /* messages dropped: a new VM over max_vms */
    char last_bad[200];          /* printable reason of the last malformed message */
    int64_t newest_ts_ms;        /* newest sample time seen */

    /* filled by model_tick */
    uint64_t ticks;              /* model_tick calls: counts below are new */
    struct model_counts counts;
    int32_t hottest[MODEL_HOTTEST]; /* VM slots, -1 none */
    int32_t worst[MODEL_WORST];  /* VM slots in alert, longest in alert first, -1 none */

    /* trends and alerts (model_set_history, model_set_alert_rules) */
    struct history vm_hist;      /* per VM slot */
    struct history host_hist;    /* per host index (HISTORY_CPU, HISTORY_MEM) */
    struct alerts_rules rules;
    struct alerts_vm *alerts;    /* per VM slot (cap_vm_slots) */
};

/* Creates an empty model for topics under prefix (a reader's prefix: with a "+"
 * level every host is in the group that level names). stale_intervals: a VM or host
 * not updated for that many agent intervals turns stale (>= 1);
 * default_interval_s is assumed until a host's metrics give its interval.
 * Returns 0 and *out (free with model_free), KG_EINVAL, KG_ENOMEM. */
int model_create(const char *prefix, uint32_t stale_intervals, double default_interval_s,
                 struct model **out);
void model_free(struct model *m);

void model_lock(struct model *m);
void model_unlock(struct model *m);

/* Applies one MQTT message (takes the lock itself). topic/payload are borrowed;
 * payload need not be NUL-terminated. now_ms is monotonic ms. Never fails:
 * malformed input is counted in m->bad[] and m->last_bad. Out of memory drops
 * the message (counted as MODEL_BAD_VM/HOST).
 *
 * With MODEL_SOURCE_SUMMARIES a host's summary (up to KG_SUMMARY_MAX) sets the
 * host's figures as its metrics would, and each row its VM's: state, stale,
 * CPU, memory, steal, and the disk and network sums and disk latency
 * (MODEL_FIG_DISK_BPS...); figures a row lacks are NaN. Its rows are applied as
 * the decoder hands them out, with no copy of the summary. A VM of the host
 * not in the summary is removed, unless the summary says rows were left out
 * (vms_omitted: the host is marked incomplete and keeps them). An empty
 * summary takes the host's figures away and keeps its VMs, which turn stale as
 * any VM no longer updated. A summary that does not decode, or whose "host" is
 * not the topic's, is counted (MODEL_BAD_SUMMARY) and nothing of it is
 * applied. */
void model_apply(struct model *m, const char *topic, size_t topic_len, const void *payload,
                 size_t len, bool retained, uint64_t now_ms);

/* The session (re)connected: the broker sends its retained state again, from
 * now_ms (monotonic, the clock model_apply is given). Takes the lock. */
void model_sync_begin(struct model *m, uint64_t now_ms);
/* The broker has delivered all of it (the session's on_synced): of each host the
 * broker still knows (some message named it since model_sync_begin), every VM
 * not heard of since is no longer on the broker, i.e. removed while the wall was
 * away, and is removed here too (as an empty payload would). A host the broker
 * said nothing about keeps its VMs: the broker lost everything (a restart
 * without persistence) and its agent sends them again. Returns how many VMs
 * went; 0 when no sync is in progress. Takes the lock. */
uint32_t model_sync_end(struct model *m);
/* Sets the caps on hosts and VMs (each >= 1; defaults MODEL_DEFAULT_MAX_*). Hosts
 * and VMs already held stay; only new ones are refused. Lock held or before the
 * MQTT session starts. */
void model_set_caps(struct model *m, uint32_t max_hosts, uint32_t max_vms);
/* Reads VMs from source (see model_apply). Before the MQTT session starts. */
void model_set_source(struct model *m, enum model_source source);

/* Keeps window_ms of trends in steps of step_ms from now_ms on (window_ms 0:
 * none; the default is none); gaps of up to stale_intervals steps are filled.
 * Before the MQTT session starts. 0, KG_EINVAL (history_init's) or KG_ENOMEM. */
int model_set_history(struct model *m, uint64_t window_ms, uint64_t step_ms, uint64_t now_ms);
/* Keeps VM trends only while the model holds at most max_vms VM slots (0: no
 * cap): beyond, they are freed and off until the model is made again (the
 * hosts' stay: a region's wall keeps host trends, not a million VMs'). After
 * model_set_history, before the session starts. */
void model_set_history_max_vms(struct model *m, uint32_t max_vms);
/* The alert rules (default: alerts_rules_default). Before the session starts. */
void model_set_alert_rules(struct model *m, const struct alerts_rules *r);
/* The alert state of VM slot idx. Lock held. */
const struct alerts_vm *model_vm_alerts(const struct model *m, uint32_t idx);
/* True when VM slot idx has an active alert kind. Lock held. */
bool model_vm_in_alert(const struct model *m, uint32_t idx);

/* Messages dropped over the caps, hosts and VMs together. Lock held. */
uint64_t model_dropped_total(const struct model *m);

/* Main thread, lock held: re-evaluates staleness at now_ms (marking VMs whose
 * staleness changed dirty), recounts m->counts and the hottest VMs by metric. O(VMs).
 * Anything stamped later than now_ms (applied by the MQTT thread after the caller
 * read the clock) counts as age 0, never as a wrapped-around huge age. */
void model_tick(struct model *m, uint64_t now_ms, enum colour_metric metric);

/* Value of a VM for metric (NaN when not available). */
double model_vm_value(const struct model_vm *vm, enum colour_metric metric);
/* True when a load generator named like the VM is running. Lock held. */
bool model_vm_load_running(const struct model *m, const struct model_vm *vm);
/* Status (enum kg_load_status) of the load generator on node (raw, len bytes), or
 * -1 when none has reported. Lock held. */
int model_load_status(const struct model *m, const char *node, size_t len);
/* Host load used for sorting: its cpu_pct, or the mean of its VMs' cpu_pct. */
double model_host_load(const struct model *m, const struct model_host *h);

/* Lock held: takes the dirty list (VM slots; entries may repeat or be no longer
 * live) and clears MODEL_VM_DIRTY on them, and takes full_repaint into *all (may
 * be NULL) and clears it: everything changed since the last call. Returns the
 * count; *list stays valid until the next model call. */
uint32_t model_take_dirty(struct model *m, const uint32_t **list, bool *all);

/* Lookups, lock held. Return an index or -1. model_find_host looks in group 0
 * (a prefix without "+"); model_find_host_named by the group's name. */
int32_t model_find_group(const struct model *m, const char *name, size_t len);
int32_t model_find_host_in(const struct model *m, uint32_t group, const char *name, size_t len);
int32_t model_find_host(const struct model *m, const char *name, size_t len);
int32_t model_find_host_named(const struct model *m, const char *group, size_t group_len,
                              const char *name, size_t len);
int32_t model_find_vm(const struct model *m, uint32_t host, const char *name, size_t len);

/* Writes name in its topic escaping (one word of printable ASCII-safe text: '/',
 * spaces, '#', '%' and control bytes escaped) into buf, for logs and the layout
 * dump that scripts read. Returns buf. */
char *model_printable(const char *name, size_t len, char *buf, size_t size);
/* Writes name as people wrote it, for the screen: only control characters and
 * bytes that are not UTF-8 made visible (\xNN, kvmgrid/text.h). Returns buf. */
char *model_display(const char *name, size_t len, char *buf, size_t size);

/* A host's name as model_display and model_printable write it, after its
 * group's and a '/' when it has one ("paris/hv-01"). Lock held. Return buf. */
#define MODEL_HOST_LABEL_MAX (2 * KG_NAME_ESC_MAX + 2) /* either's buf suffices */
char *model_host_display(const struct model *m, const struct model_host *h, char *buf,
                         size_t size);
char *model_host_printable(const struct model *m, const struct model_host *h, char *buf,
                           size_t size);

uint64_t model_bad_total(const struct model *m);
const char *model_bad_name(enum model_bad b);

#endif
