/* SPDX-License-Identifier: MIT */
/*
 * libvirt -> raw samples. One bulk virConnectGetAllDomainStats per cycle for the
 * groups the driver supports; per-domain calls only for the groups it refuses
 * (libvirt's test driver refuses all but "state"). A sample goes in steps: list
 * the domains (or reuse the last listing), fill each sample from its bulk record,
 * make the per-domain calls (and set the balloon period), point the samples at
 * their devices, then the node's figures. The events (events.c) and the device
 * names from the domain XML (domcache.c) have rooms of their own; libvirt is
 * included by these three files only.
 */
#include "collect.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domcache.h"
#include "events.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"

#define LIST_EVERY 30 /* samples at most between two listings of the domains */

enum { G_CPU, G_BALLOON, G_VCPU, G_NET, G_BLOCK, G_COUNT };
static const unsigned group_bits[G_COUNT] = {
    VIR_DOMAIN_STATS_CPU_TOTAL, VIR_DOMAIN_STATS_BALLOON, VIR_DOMAIN_STATS_VCPU,
    VIR_DOMAIN_STATS_INTERFACE, VIR_DOMAIN_STATS_BLOCK,
};
static const char *const group_names[G_COUNT] = {"cpu", "balloon", "vcpu", "interface", "block"};

struct collect {
    virConnectPtr conn;
    struct events ev;        /* lifecycle events and the close flag; must not move */
    bool bulk[G_COUNT];      /* group supported by the bulk call */
    unsigned bulk_flags;     /* NOWAIT when accepted */
    int balloon_period_s;
    char path[16];
    bool (*progress)(void *ctx, const char *uuid, const char *name);
    void *progress_ctx;
    char skip[COLLECT_SKIP_MAX][KG_UUID_LEN + 1];
    size_t n_skip;
    atomic_bool rss_seen;    /* see collect_reports_rss */

    struct domcache cache;   /* device names and balloon state per domain */
    struct sample_dom *doms;
    size_t cap_doms;
    /* the devices of every sample, packed; grown, never shrunk (no allocation
     * per cycle once the host is steady) */
    struct sample_disk *disk_pool;
    struct sample_net *net_pool;
    size_t n_disk_pool, cap_disk_pool, n_net_pool, cap_net_pool;
    size_t *disk_off, *net_off;  /* per sample: where its devices start in the pools */
    /* the last listing's records: the samples' names point into their domains */
    virDomainStatsRecordPtr *recs;
    virDomainPtr *domp;          /* per sample: its domain (owned by recs) */
    /* Every group on per-domain calls and lifecycle events working: the list of
     * domains (records, UUIDs) is reused between events instead of asking the
     * bulk call again, whose records cost ~25 k instructions per domain to make
     * and free (libvirt formats each UUID for its debug log). */
    size_t n_listed;             /* domains in recs/domp/uuids */
    char (*uuids)[KG_UUID_LEN + 1];
    unsigned reused;             /* samples since the last listing */
};

static void set_err(char *errmsg, size_t errlen, const char *what)
{
    snprintf(errmsg, errlen, "%s: %s", what, virGetLastErrorMessage());
}

bool collect_next_event(struct collect *c, struct collect_event *ev)
{
    if (!events_next(&c->ev, ev))
        return false;
    /* a redefined domain may have new devices: read its XML again */
    if (ev->type == COLLECT_EV_DEFINED)
        domcache_redefined(&c->cache, ev->uuid);
    return true;
}

/* ---- open / probe / close ----------------------------------------------- */

static void probe(struct collect *c)
{
    virDomainStatsRecordPtr *recs = NULL;
    int n = virConnectGetAllDomainStats(c->conn, VIR_DOMAIN_STATS_STATE, &recs,
                                        VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
    if (n >= 0) {
        c->bulk_flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
        virDomainStatsRecordListFree(recs);
    }
    char bulk_list[128] = "", fb_list[128] = "";
    unsigned n_bulk = 0;
    for (int g = 0; g < G_COUNT; g++) {
        recs = NULL;
        /* NOWAIT too: a domain busy in a hanging call (the reason a new
         * connection may be opened) must not hold up the probe */
        n = virConnectGetAllDomainStats(c->conn, group_bits[g], &recs,
                                        VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS |
                                            c->bulk_flags);
        c->bulk[g] = n >= 0;
        if (n >= 0)
            virDomainStatsRecordListFree(recs);
        char *list = c->bulk[g] ? bulk_list : fb_list;
        size_t l = strlen(list);
        snprintf(list + l, 128 - l, "%s%s", l ? "," : "", group_names[g]);
        n_bulk += c->bulk[g];
    }
    snprintf(c->path, sizeof c->path, "%s",
             n_bulk == G_COUNT ? "bulk" : n_bulk == 0 ? "fallback" : "mixed");
    kg_info("libvirt connected: stats path %s (bulk: %s%s; per-domain: %s)", c->path,
            bulk_list[0] ? bulk_list : "state only",
            c->bulk_flags ? ", nowait" : "", fb_list[0] ? fb_list : "none");
}

int collect_open(const struct collect_options *opt, struct collect **out,
                 char *errmsg, size_t errlen)
{
    *out = NULL;
    int rc = events_loop_start(errmsg, errlen);
    if (rc)
        return rc;
    struct collect *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(errmsg, errlen, "out of memory");
        return KG_ENOMEM;
    }
    events_init(&c->ev);
    c->balloon_period_s = opt->read_only ? 0 : opt->balloon_period_s;
    c->progress = opt->progress;
    c->progress_ctx = opt->progress_ctx;
    atomic_store(&c->rss_seen, opt->expect_rss);
    c->conn = opt->read_only ? virConnectOpenReadOnly(opt->uri) : virConnectOpen(opt->uri);
    if (!c->conn) {
        set_err(errmsg, errlen, "cannot connect to libvirt");
        collect_close(c);
        return KG_ENOTCONN;
    }
    events_register(&c->ev, c->conn);
    probe(c);
    if (opt->force_fallback) {
        memset(c->bulk, 0, sizeof c->bulk);
        snprintf(c->path, sizeof c->path, "fallback");
    }
    *out = c;
    return 0;
}

void collect_close(struct collect *c)
{
    if (!c)
        return;
    if (c->recs)
        virDomainStatsRecordListFree(c->recs);
    if (c->conn) {
        events_deregister(&c->ev);
        virConnectClose(c->conn);
    }
    events_destroy(&c->ev);
    domcache_clear(&c->cache);
    free(c->doms);
    free(c->disk_pool);
    free(c->net_pool);
    free(c->disk_off);
    free(c->net_off);
    free(c->domp);
    free(c->uuids);
    free(c);
}

bool collect_alive(struct collect *c)
{
    return c && c->conn && !atomic_load(&c->ev.closed) && virConnectIsAlive(c->conn) == 1;
}

bool collect_domain_exists(struct collect *c, const char *uuid)
{
    if (!c || !c->conn)
        return false;
    virDomainPtr d = virDomainLookupByUUIDString(c->conn, uuid);
    if (!d)
        return false;
    virDomainFree(d);
    return true;
}

const char *collect_path(const struct collect *c)
{
    return c ? c->path : "none";
}

void collect_skip(struct collect *c, const char (*uuids)[KG_UUID_LEN + 1], size_t n)
{
    c->n_skip = n < COLLECT_SKIP_MAX ? n : COLLECT_SKIP_MAX;
    for (size_t i = 0; i < c->n_skip; i++)
        memcpy(c->skip[i], uuids[i], sizeof c->skip[i]);
}

bool collect_reports_rss(struct collect *c)
{
    return c && atomic_load(&c->rss_seen);
}

/* ---- bulk records -> samples -------------------------------------------- */

static enum kg_vm_state map_state(int s)
{
    switch (s) {
    case VIR_DOMAIN_RUNNING: return KG_VM_RUNNING;
    case VIR_DOMAIN_BLOCKED: return KG_VM_BLOCKED;
    case VIR_DOMAIN_PAUSED: return KG_VM_PAUSED;
    case VIR_DOMAIN_SHUTDOWN: return KG_VM_SHUTDOWN;
    case VIR_DOMAIN_SHUTOFF: return KG_VM_SHUTOFF;
    case VIR_DOMAIN_CRASHED: return KG_VM_CRASHED;
    case VIR_DOMAIN_PMSUSPENDED: return KG_VM_PMSUSPENDED;
    default: return KG_VM_NOSTATE;
    }
}

static bool is_active(enum kg_vm_state s)
{
    return s != KG_VM_SHUTOFF && s != KG_VM_NOSTATE && s != KG_VM_CRASHED;
}

static bool param_u64(const virTypedParameterPtr p, uint64_t *out)
{
    switch (p->type) {
    case VIR_TYPED_PARAM_ULLONG: *out = p->value.ul; return true;
    case VIR_TYPED_PARAM_LLONG: if (p->value.l < 0) return false; *out = (uint64_t)p->value.l; return true;
    case VIR_TYPED_PARAM_UINT: *out = p->value.ui; return true;
    case VIR_TYPED_PARAM_INT: if (p->value.i < 0) return false; *out = (uint64_t)p->value.i; return true;
    default: return false;
    }
}

/* "block.3.rd.bytes" -> idx 3, rest "rd.bytes" */
static bool split_indexed(const char *field, const char *prefix, unsigned *idx, const char **rest)
{
    size_t pl = strlen(prefix);
    if (strncmp(field, prefix, pl) != 0)
        return false;
    char *end;
    unsigned long v = strtoul(field + pl, &end, 10);
    if (end == field + pl || *end != '.' || v > 4096)
        return false;
    *idx = (unsigned)v;
    *rest = end + 1;
    return true;
}

/* Room for n more devices at the end of a pool: the offset of the first one
 * (zeroed), or SIZE_MAX when memory ran out. */
static size_t pool_take(void **pool, size_t *used, size_t *cap, size_t n, size_t size)
{
    if (*used + n > *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        while (nc < *used + n)
            nc *= 2;
        void *np = realloc(*pool, nc * size);
        if (!np)
            return SIZE_MAX;
        *pool = np;
        *cap = nc;
    }
    size_t off = *used;
    memset((char *)*pool + off * size, 0, n * size);
    *used += n;
    return off;
}

/* Fills s from a bulk record; its devices go to sd/sn (KG_DEV_MAX each, entries
 * zeroed as they are first used), s->disks/nets are left for the caller. */
static void fill_from_record(const struct collect *c, const virDomainStatsRecord *r,
                             struct sample_dom *s, struct sample_disk *sd,
                             struct sample_net *sn)
{
    int state = VIR_DOMAIN_NOSTATE;
    /* bulk indices can exceed KG_DEV_MAX: only the first ones are detailed */
    uint64_t vcpu_delay = 0;
    bool any_delay = false;
    for (int i = 0; i < r->nparams; i++) {
        const virTypedParameterPtr p = &r->params[i];
        const char *f = p->field;
        uint64_t v = 0;
        unsigned idx;
        const char *rest;
        if (!strcmp(f, "state.state")) {
            if (p->type == VIR_TYPED_PARAM_INT)
                state = p->value.i;
        } else if (!strcmp(f, "cpu.time")) {
            if (param_u64(p, &v)) { s->cpu_time_ns = v; s->have_cpu = true; }
        } else if (!strcmp(f, "balloon.current")) {
            if (param_u64(p, &v)) { s->mem_cur_kib = v; s->have_mem_cur = true; }
        } else if (!strcmp(f, "balloon.maximum")) {
            if (param_u64(p, &v)) { s->mem_max_kib = v; s->have_mem_max = true; }
        } else if (!strcmp(f, "balloon.available")) {
            if (param_u64(p, &v)) { s->mem_avail_kib = v; s->have_mem_avail = true; }
        } else if (!strcmp(f, "balloon.usable")) {
            if (param_u64(p, &v)) { s->mem_usable_kib = v; s->have_mem_usable = true; }
        } else if (!strcmp(f, "balloon.rss")) {
            if (param_u64(p, &v)) { s->mem_rss_kib = v; s->have_mem_rss = true; }
        } else if (!strcmp(f, "vcpu.current")) {
            if (param_u64(p, &v)) { s->vcpus = (unsigned)v; s->have_vcpus = true; }
        } else if (split_indexed(f, "vcpu.", &idx, &rest)) {
            if (!strcmp(rest, "delay") && param_u64(p, &v)) {
                vcpu_delay += v;
                any_delay = true;
            }
        } else if (split_indexed(f, "block.", &idx, &rest)) {
            if (idx >= KG_DEV_MAX)
                continue;
            if (idx + 1 > s->n_disks) {
                memset(&sd[s->n_disks], 0, (idx + 1 - s->n_disks) * sizeof *sd);
                s->n_disks = idx + 1;
            }
            struct sample_disk *d = &sd[idx];
            if (!strcmp(rest, "name") && p->type == VIR_TYPED_PARAM_STRING)
                snprintf(d->name, sizeof d->name, "%s", p->value.s);
            else if (!param_u64(p, &v))
                continue;
            else if (!strcmp(rest, "rd.bytes")) { d->rd_bytes = v; d->have_bytes = true; }
            else if (!strcmp(rest, "wr.bytes")) { d->wr_bytes = v; d->have_bytes = true; }
            else if (!strcmp(rest, "rd.reqs")) { d->rd_reqs = v; d->have_reqs = true; }
            else if (!strcmp(rest, "wr.reqs")) { d->wr_reqs = v; d->have_reqs = true; }
            else if (!strcmp(rest, "rd.times")) { d->rd_times_ns = v; d->have_times = true; }
            else if (!strcmp(rest, "wr.times")) { d->wr_times_ns = v; d->have_times = true; }
        } else if (split_indexed(f, "net.", &idx, &rest)) {
            if (idx >= KG_DEV_MAX)
                continue;
            if (idx + 1 > s->n_nets) {
                memset(&sn[s->n_nets], 0, (idx + 1 - s->n_nets) * sizeof *sn);
                s->n_nets = idx + 1;
            }
            struct sample_net *d = &sn[idx];
            if (!strcmp(rest, "name") && p->type == VIR_TYPED_PARAM_STRING) {
                snprintf(d->name, sizeof d->name, "%s", p->value.s);
                continue;
            }
            if (!param_u64(p, &v))
                continue;
            d->have = true;
            if (!strcmp(rest, "rx.bytes")) d->rx_bytes = v;
            else if (!strcmp(rest, "rx.pkts")) d->rx_pkts = v;
            else if (!strcmp(rest, "rx.errs")) d->rx_errs = v;
            else if (!strcmp(rest, "rx.drop")) d->rx_drop = v;
            else if (!strcmp(rest, "tx.bytes")) d->tx_bytes = v;
            else if (!strcmp(rest, "tx.pkts")) d->tx_pkts = v;
            else if (!strcmp(rest, "tx.errs")) d->tx_errs = v;
            else if (!strcmp(rest, "tx.drop")) d->tx_drop = v;
        }
    }
    s->state = map_state(state);
    if (any_delay) {
        s->vcpu_delay_ns = vcpu_delay;
        s->have_vcpu_delay = true;
    }
    /* cpu.* of a domain that is not running is not the guest's (docs/PLATFORM.md) */
    if (!sample_state_running(s->state)) {
        s->have_cpu = false;
        s->have_vcpu_delay = false;
    }
    /* NOWAIT: a running domain whose job was busy comes back without its stats. */
    if (sample_state_running(s->state) && c->bulk[G_CPU] && !s->have_cpu)
        s->incomplete = true;
}

void collect_record_to_sample(const void *record, struct sample_dom *s,
                              struct sample_disk *sd, struct sample_net *sn)
{
    static const struct collect all_bulk = {.bulk = {true, true, true, true, true}};
    sample_dom_init(s);
    fill_from_record(&all_bulk, record, s, sd, sn);
    s->disks = s->n_disks ? sd : NULL;
    s->nets = s->n_nets ? sn : NULL;
}

/* ---- per-domain calls ----------------------------------------------------- */

/* virDomainGetInfo for the groups among cpu, balloon and vcpu that the bulk call
 * refused; it gives the state again too. 0; KG_ENOENT when the domain is gone;
 * KG_EIO when the call failed otherwise (a running domain is then incomplete). */
static int fallback_info(const struct collect *c, virDomainPtr dom, struct sample_dom *s)
{
    virDomainInfo info;
    if (virDomainGetInfo(dom, &info) < 0) {
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
            return KG_ENOENT;
        s->incomplete = sample_state_running(s->state);
        return KG_EIO;
    }
    s->state = map_state(info.state);
    if (!c->bulk[G_CPU] && sample_state_running(s->state)) {
        s->cpu_time_ns = info.cpuTime;
        s->have_cpu = true;
    }
    if (!c->bulk[G_BALLOON]) {
        s->mem_max_kib = info.maxMem;
        s->have_mem_max = true;
        s->mem_cur_kib = info.memory;
        s->have_mem_cur = true;
    }
    if (!c->bulk[G_VCPU]) {
        s->vcpus = info.nrVirtCpu;
        s->have_vcpus = true;
    }
    return 0;
}

static void fallback_memory(virDomainPtr dom, struct sample_dom *s)
{
    virDomainMemoryStatStruct ms[VIR_DOMAIN_MEMORY_STAT_NR];
    int n = virDomainMemoryStats(dom, ms, VIR_DOMAIN_MEMORY_STAT_NR, 0);
    for (int i = 0; i < n; i++) {
        switch (ms[i].tag) {
        case VIR_DOMAIN_MEMORY_STAT_AVAILABLE:
            s->mem_avail_kib = ms[i].val; s->have_mem_avail = true; break;
        case VIR_DOMAIN_MEMORY_STAT_USABLE:
            s->mem_usable_kib = ms[i].val; s->have_mem_usable = true; break;
        case VIR_DOMAIN_MEMORY_STAT_RSS:
            s->mem_rss_kib = ms[i].val; s->have_mem_rss = true; break;
        case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
            s->mem_cur_kib = ms[i].val; s->have_mem_cur = true; break;
        default: break;
        }
    }
}

/* virDomainBlockStats of each disk named in the XML, into the disk pool (its
 * offset to *off). 0 or KG_ENOMEM. */
static int fallback_disks(struct collect *c, virDomainPtr dom, struct sample_dom *s,
                          const struct domcache_entry *di, size_t *off)
{
    size_t o = pool_take((void **)&c->disk_pool, &c->n_disk_pool, &c->cap_disk_pool,
                         di->n_disks, sizeof *c->disk_pool);
    if (o == SIZE_MAX)
        return KG_ENOMEM;
    *off = o;
    s->n_disks = di->n_disks;
    for (unsigned i = 0; i < di->n_disks; i++) {
        struct sample_disk *d = &c->disk_pool[o + i];
        memcpy(d->name, di->disks[i].name, sizeof d->name);
        virDomainBlockStatsStruct bs;
        if (virDomainBlockStats(dom, di->disks[i].key, &bs, sizeof bs) < 0)
            continue;
        if (bs.rd_bytes >= 0 && bs.wr_bytes >= 0) {
            d->rd_bytes = (uint64_t)bs.rd_bytes;
            d->wr_bytes = (uint64_t)bs.wr_bytes;
            d->have_bytes = true;
        }
        if (bs.rd_req >= 0 && bs.wr_req >= 0) {
            d->rd_reqs = (uint64_t)bs.rd_req;
            d->wr_reqs = (uint64_t)bs.wr_req;
            d->have_reqs = true;
        }
    }
    return 0;
}

/* virDomainInterfaceStats of each interface named in the XML, into the net pool
 * (its offset to *off). 0 or KG_ENOMEM. */
static int fallback_nets(struct collect *c, virDomainPtr dom, struct sample_dom *s,
                         const struct domcache_entry *di, size_t *off)
{
    size_t o = pool_take((void **)&c->net_pool, &c->n_net_pool, &c->cap_net_pool,
                         di->n_nets, sizeof *c->net_pool);
    if (o == SIZE_MAX)
        return KG_ENOMEM;
    *off = o;
    s->n_nets = di->n_nets;
    for (unsigned i = 0; i < di->n_nets; i++) {
        struct sample_net *d = &c->net_pool[o + i];
        memcpy(d->name, di->nets[i].name, sizeof d->name);
        virDomainInterfaceStatsStruct is;
        if (virDomainInterfaceStats(dom, di->nets[i].key, &is, sizeof is) < 0)
            continue;
        /* -1 means "not supported" for a single field: read as 0 */
        d->rx_bytes = is.rx_bytes > 0 ? (uint64_t)is.rx_bytes : 0;
        d->rx_pkts = is.rx_packets > 0 ? (uint64_t)is.rx_packets : 0;
        d->rx_errs = is.rx_errs > 0 ? (uint64_t)is.rx_errs : 0;
        d->rx_drop = is.rx_drop > 0 ? (uint64_t)is.rx_drop : 0;
        d->tx_bytes = is.tx_bytes > 0 ? (uint64_t)is.tx_bytes : 0;
        d->tx_pkts = is.tx_packets > 0 ? (uint64_t)is.tx_packets : 0;
        d->tx_errs = is.tx_errs > 0 ? (uint64_t)is.tx_errs : 0;
        d->tx_drop = is.tx_drop > 0 ? (uint64_t)is.tx_drop : 0;
        d->have = true;
    }
    return 0;
}

/* Per-domain calls for the groups the bulk call refused; devices read here go
 * to the pools, their offsets to *disk_off / *net_off. */
static int fallback(struct collect *c, virDomainPtr dom, struct sample_dom *s,
                    const struct domcache_entry *di, size_t *disk_off, size_t *net_off)
{
    if (!c->bulk[G_CPU] || !c->bulk[G_BALLOON] || !c->bulk[G_VCPU]) {
        int rc = fallback_info(c, dom, s);
        if (rc)
            return rc == KG_ENOENT ? rc : 0; /* no further calls on a failed domain */
    }
    if (!is_active(s->state))
        return 0; /* stats calls fail with "domain is not running" */
    if (!c->bulk[G_BALLOON])
        fallback_memory(dom, s);
    if (!c->bulk[G_BLOCK] && di && di->n_disks && fallback_disks(c, dom, s, di, disk_off))
        return KG_ENOMEM;
    if (!c->bulk[G_NET] && di && di->n_nets && fallback_nets(c, dom, s, di, net_off))
        return KG_ENOMEM;
    return 0;
}

/* The balloon stats period lives in the QEMU process: set it once per process.
 * The domain ID changes with every start, also one between two samples that no
 * sample saw shut off. */
static void set_balloon_period(const struct collect *c, virDomainPtr dom,
                               const struct sample_dom *s, struct domcache_entry *di)
{
    unsigned id = virDomainGetID(dom);
    if (id != di->dom_id)
        di->balloon_set = false;
    di->dom_id = id;
    if (di->balloon_set)
        return;
    if (virDomainSetMemoryStatsPeriod(dom, c->balloon_period_s, VIR_DOMAIN_AFFECT_LIVE) < 0)
        kg_warn("libvirt: balloon stats period of %s: %s", s->name, virGetLastErrorMessage());
    di->balloon_set = true; /* tried once per process */
}

/* ---- one sample, step by step -------------------------------------------- */

/* Per-sample arrays, grown to n and kept (no allocation per cycle). */
static int ensure_cap(struct collect *c, size_t n)
{
    if (n <= c->cap_doms)
        return 0;
    struct sample_dom *d = realloc(c->doms, n * sizeof *d);
    if (d)
        c->doms = d;
    virDomainPtr *p = realloc(c->domp, n * sizeof *p);
    if (p)
        c->domp = p;
    size_t *o1 = realloc(c->disk_off, n * sizeof *o1);
    if (o1)
        c->disk_off = o1;
    size_t *o2 = realloc(c->net_off, n * sizeof *o2);
    if (o2)
        c->net_off = o2;
    char(*u)[KG_UUID_LEN + 1] = realloc(c->uuids, n * sizeof *u);
    if (u)
        c->uuids = u;
    if (!d || !p || !o1 || !o2 || !u)
        return KG_ENOMEM;
    c->cap_doms = n;
    return 0;
}

/* Step 1, the listing: c->recs becomes a record of every domain from one bulk
 * call with every group the driver supports, or stays the last listing (*reuse).
 * Reused only when the bulk call brings nothing but the list and the states
 * (every group falls back: per-domain calls give the state again) and lifecycle
 * events tell when the list changes; still listed afresh every LIST_EVERY
 * samples, in case an event was missed. Returns the number of records, or -1
 * with errmsg set. */
static int list_domains(struct collect *c, bool *reuse, char *errmsg, size_t errlen)
{
    bool all_fallback = true;
    for (int g = 0; g < G_COUNT; g++)
        all_fallback &= !c->bulk[g];
    *reuse = all_fallback && c->ev.lifecycle_id >= 0 && c->recs && c->n_listed > 0 &&
             c->reused < LIST_EVERY && !atomic_exchange(&c->ev.list_dirty, false);
    if (*reuse) {
        c->reused++;
        return (int)c->n_listed;
    }
    /* the previous samples (and their borrowed names) end here */
    if (c->recs) {
        virDomainStatsRecordListFree(c->recs);
        c->recs = NULL;
        c->n_listed = 0;
    }
    atomic_store(&c->ev.list_dirty, false);
    c->reused = 0;
    unsigned stats = VIR_DOMAIN_STATS_STATE;
    for (int g = 0; g < G_COUNT; g++)
        if (c->bulk[g])
            stats |= group_bits[g];
    virDomainStatsRecordPtr *recs = NULL;
    int nr = virConnectGetAllDomainStats(c->conn, stats, &recs, c->bulk_flags);
    if (nr < 0) {
        set_err(errmsg, errlen, "virConnectGetAllDomainStats");
        return -1;
    }
    c->recs = recs;
    return nr;
}

/* With NOWAIT, a domain busy in another call (a hanging monitor) comes back
 * without the figures that need its monitor: once the driver has shown it gives
 * balloon.rss, a record without it is such a domain, published stale rather
 * than without figures. */
static void check_rss(struct collect *c, struct sample_dom *s)
{
    if (!c->bulk[G_BALLOON] || !sample_state_running(s->state))
        return;
    if (s->have_mem_rss)
        atomic_store(&c->rss_seen, true);
    else if (atomic_load(&c->rss_seen))
        s->incomplete = true;
}

/* n devices of size bytes from src to the end of a pool: their offset, or
 * SIZE_MAX when there are none or memory ran out (then *n becomes 0). */
static size_t pool_put(void **pool, size_t *used, size_t *cap, const void *src, unsigned *n,
                       size_t size)
{
    if (!*n)
        return SIZE_MAX;
    size_t off = pool_take(pool, used, cap, *n, size);
    if (off == SIZE_MAX)
        *n = 0;
    else
        memcpy((char *)*pool + off * size, src, *n * size);
    return off;
}

/* Step 2, the bulk fill: a sample of each of the nr records, its devices in the
 * pools. Returns the number of samples (a record without a UUID gives none). */
static size_t fill_samples(struct collect *c, int nr, bool reuse)
{
    c->n_disk_pool = c->n_net_pool = 0;
    struct sample_disk sd[KG_DEV_MAX];
    struct sample_net sn[KG_DEV_MAX];
    size_t k = 0;
    for (int i = 0; i < nr; i++) {
        virDomainPtr dom = c->recs[i]->dom;
        struct sample_dom *s = &c->doms[k];
        sample_dom_init(s);
        if (reuse) {
            memcpy(s->uuid, c->uuids[i], sizeof s->uuid); /* listed: i == k */
        } else {
            if (domcache_uuid(dom, s->uuid) < 0)
                continue;
            /* kept in listing order, the order of recs, for reuse */
            memmove(c->uuids[k], s->uuid, sizeof s->uuid);
        }
        const char *name = virDomainGetName(dom); /* lives as long as recs */
        s->name = name ? name : "";
        fill_from_record(c, c->recs[i], s, sd, sn);
        check_rss(c, s);
        c->disk_off[k] = pool_put((void **)&c->disk_pool, &c->n_disk_pool, &c->cap_disk_pool,
                                  sd, &s->n_disks, sizeof *sd);
        c->net_off[k] = pool_put((void **)&c->net_pool, &c->n_net_pool, &c->cap_net_pool, sn,
                                 &s->n_nets, sizeof *sn);
        c->domp[k++] = dom;
    }
    if (!reuse) {
        /* a record without a UUID was skipped: no reuse of this listing */
        if ((size_t)nr != k)
            atomic_store(&c->ev.list_dirty, true);
        c->n_listed = (size_t)nr == k ? k : 0;
    }
    return k;
}

static bool skipped(const struct collect *c, const char *uuid)
{
    for (size_t i = 0; i < c->n_skip; i++)
        if (!strcmp(c->skip[i], uuid))
            return true;
    return false;
}

/* Step 3, the per-domain calls of the k samples (and the balloon period), each
 * announced to the progress callback; counts the running domains. Returns 0,
 * KG_ENOMEM, or KG_ESTATE when the progress callback stopped the sample. */
static int per_domain_calls(struct collect *c, size_t k, bool reuse,
                            struct sample_node *node)
{
    bool all_bulk = true;
    for (int g = 0; g < G_COUNT; g++)
        all_bulk &= c->bulk[g];
    bool calls = !all_bulk || c->balloon_period_s > 0;
    bool watched = false;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < k; i++) {
        struct sample_dom *s = &c->doms[i];
        if (sample_state_running(s->state))
            node->vms_running++;
        if (skipped(c, s->uuid)) {
            s->incomplete = true; /* a call on it hangs elsewhere: stale, no calls */
            continue;
        }
        struct domcache_entry *di = domcache_find(&c->cache, s->uuid);
        if (c->progress && calls) {
            watched = true;
            if (!c->progress(c->progress_ctx, s->uuid, s->name)) {
                rc = KG_ESTATE;
                break;
            }
        }
        if (fallback(c, c->domp[i], s, di, &c->disk_off[i], &c->net_off[i]) == KG_ENOENT &&
            reuse) {
            /* gone since the listing (its event not seen yet): list again next
             * time; this sample shows its last listed state */
            atomic_store(&c->ev.list_dirty, true);
        }
        if (c->balloon_period_s > 0 && di && sample_state_running(s->state))
            set_balloon_period(c, c->domp[i], s, di);
    }
    if (watched && rc != KG_ESTATE)
        c->progress(c->progress_ctx, NULL, NULL);
    return rc;
}

/* Step 4: the pools stopped moving, so the samples can point at their devices. */
static void point_devices(struct collect *c, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        struct sample_dom *s = &c->doms[i];
        s->disks = s->n_disks && c->disk_off[i] != SIZE_MAX ? &c->disk_pool[c->disk_off[i]] : NULL;
        s->nets = s->n_nets && c->net_off[i] != SIZE_MAX ? &c->net_pool[c->net_off[i]] : NULL;
        if (!s->disks)
            s->n_disks = 0;
        if (!s->nets)
            s->n_nets = 0;
    }
}

int collect_sample(struct collect *c, struct sample_dom **doms, size_t *n,
                   struct sample_node *node, char *errmsg, size_t errlen)
{
    *doms = NULL;
    *n = 0;
    memset(node, 0, sizeof *node);
    bool reuse;
    int nr = list_domains(c, &reuse, errmsg, errlen);
    if (nr < 0)
        return KG_ENOTCONN;
    if (ensure_cap(c, (size_t)nr) != 0) {
        snprintf(errmsg, errlen, "out of memory");
        return KG_ENOMEM;
    }
    size_t k = fill_samples(c, nr, reuse);
    int rc = reuse ? 0
                   : domcache_sync(&c->cache, c->domp, c->doms, k,
                                   !c->bulk[G_BLOCK] || !c->bulk[G_NET]);
    if (rc == 0)
        rc = per_domain_calls(c, k, reuse, node);
    if (rc) {
        snprintf(errmsg, errlen, "%s", rc == KG_ESTATE ? "sample abandoned" : "out of memory");
        return rc;
    }
    point_devices(c, k);
    node->vms_defined = (unsigned)k;
    virNodeInfo ni;
    if (virNodeGetInfo(c->conn, &ni) == 0) {
        node->cpus = ni.cpus;
        node->mem_total_kib = ni.memory;
        node->have_info = true;
    }
    *doms = c->doms;
    *n = k;
    return 0;
}
