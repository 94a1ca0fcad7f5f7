/* SPDX-License-Identifier: MIT */
/*
 * Counter samples -> rates. Every division is by the measured monotonic elapsed
 * time (collectd's cpu_util divides by the configured interval; that reads wrong
 * whenever a cycle runs late). Anything that cannot be a truthful rate is KG_NA.
 */
#include "rates.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "uuid_index.h"

/* Per-second rate of a cumulative counter, or NA when it went backwards. */
static double rate(uint64_t prev, uint64_t cur, double elapsed_s)
{
    if (cur < prev || !(elapsed_s > 0))
        return KG_NA;
    return (double)(cur - prev) / elapsed_s;
}

/* Adds v to *sum, where NA + x = x and NA + NA = NA. */
static void add_na(double *sum, double v)
{
    if (kg_na(v))
        return;
    *sum = kg_na(*sum) ? v : *sum + v;
}

static const struct sample_disk *find_disk(const struct sample_dom *s, const char *name)
{
    for (unsigned i = 0; s && i < s->n_disks; i++)
        if (!strcmp(s->disks[i].name, name))
            return &s->disks[i];
    return NULL;
}

static const struct sample_net *find_net(const struct sample_dom *s, const char *name)
{
    for (unsigned i = 0; s && i < s->n_nets; i++)
        if (!strcmp(s->nets[i].name, name))
            return &s->nets[i];
    return NULL;
}

static void vm_disks(const struct sample_dom *prev, const struct sample_dom *cur,
                     double el, struct kg_vm *out)
{
    uint64_t sum_rd_reqs = 0, sum_wr_reqs = 0, sum_rd_ns = 0, sum_wr_ns = 0;
    bool lat_ok = cur->n_disks > 0;
    out->n_disks = cur->n_disks > KG_DEV_MAX ? KG_DEV_MAX : cur->n_disks;
    for (unsigned i = 0; i < out->n_disks; i++) {
        const struct sample_disk *c = &cur->disks[i];
        const struct sample_disk *p = find_disk(prev, c->name);
        struct kg_disk *d = &out->disks[i];
        memcpy(d->name, c->name, sizeof d->name);
        d->name[sizeof d->name - 1] = '\0';
        d->rd_bytes_per_s = d->wr_bytes_per_s = d->rd_iops = d->wr_iops = KG_NA;
        d->rd_lat_ms = d->wr_lat_ms = d->rd_bytes = d->wr_bytes = KG_NA;
        if (c->have_bytes) {
            d->rd_bytes = (double)c->rd_bytes;
            d->wr_bytes = (double)c->wr_bytes;
        }
        if (p && p->have_bytes && c->have_bytes) {
            d->rd_bytes_per_s = rate(p->rd_bytes, c->rd_bytes, el);
            d->wr_bytes_per_s = rate(p->wr_bytes, c->wr_bytes, el);
        }
        bool reqs_ok = p && p->have_reqs && c->have_reqs && c->rd_reqs >= p->rd_reqs &&
                       c->wr_reqs >= p->wr_reqs;
        if (reqs_ok) {
            d->rd_iops = rate(p->rd_reqs, c->rd_reqs, el);
            d->wr_iops = rate(p->wr_reqs, c->wr_reqs, el);
        }
        bool times_ok = reqs_ok && p->have_times && c->have_times &&
                        c->rd_times_ns >= p->rd_times_ns && c->wr_times_ns >= p->wr_times_ns;
        if (times_ok) {
            uint64_t drq = c->rd_reqs - p->rd_reqs, dwq = c->wr_reqs - p->wr_reqs;
            uint64_t drt = c->rd_times_ns - p->rd_times_ns, dwt = c->wr_times_ns - p->wr_times_ns;
            /* No request in the interval: no latency to report (not 0 ms). */
            d->rd_lat_ms = drq ? (double)drt / (double)drq / 1e6 : (double)KG_NA;
            d->wr_lat_ms = dwq ? (double)dwt / (double)dwq / 1e6 : (double)KG_NA;
            sum_rd_reqs += drq;
            sum_wr_reqs += dwq;
            sum_rd_ns += drt;
            sum_wr_ns += dwt;
        } else {
            lat_ok = false;
        }
        add_na(&out->disk_rd_bytes_per_s, d->rd_bytes_per_s);
        add_na(&out->disk_wr_bytes_per_s, d->wr_bytes_per_s);
        add_na(&out->disk_rd_iops, d->rd_iops);
        add_na(&out->disk_wr_iops, d->wr_iops);
    }
    if (lat_ok) {
        out->disk_rd_lat_ms = sum_rd_reqs ? (double)sum_rd_ns / (double)sum_rd_reqs / 1e6 : (double)KG_NA;
        out->disk_wr_lat_ms = sum_wr_reqs ? (double)sum_wr_ns / (double)sum_wr_reqs / 1e6 : (double)KG_NA;
    }
}

static void vm_nets(const struct sample_dom *prev, const struct sample_dom *cur,
                    double el, struct kg_vm *out)
{
    out->n_nets = cur->n_nets > KG_DEV_MAX ? KG_DEV_MAX : cur->n_nets;
    for (unsigned i = 0; i < out->n_nets; i++) {
        const struct sample_net *c = &cur->nets[i];
        const struct sample_net *p = find_net(prev, c->name);
        struct kg_net *d = &out->nets[i];
        memcpy(d->name, c->name, sizeof d->name);
        d->name[sizeof d->name - 1] = '\0';
        d->rx_bytes_per_s = d->tx_bytes_per_s = d->rx_pkts_per_s = d->tx_pkts_per_s = KG_NA;
        d->rx_errs_per_s = d->tx_errs_per_s = d->rx_drop_per_s = d->tx_drop_per_s = KG_NA;
        d->rx_bytes = c->have ? (double)c->rx_bytes : (double)KG_NA;
        d->tx_bytes = c->have ? (double)c->tx_bytes : (double)KG_NA;
        if (p && p->have && c->have) {
            d->rx_bytes_per_s = rate(p->rx_bytes, c->rx_bytes, el);
            d->tx_bytes_per_s = rate(p->tx_bytes, c->tx_bytes, el);
            d->rx_pkts_per_s = rate(p->rx_pkts, c->rx_pkts, el);
            d->tx_pkts_per_s = rate(p->tx_pkts, c->tx_pkts, el);
            d->rx_errs_per_s = rate(p->rx_errs, c->rx_errs, el);
            d->tx_errs_per_s = rate(p->tx_errs, c->tx_errs, el);
            d->rx_drop_per_s = rate(p->rx_drop, c->rx_drop, el);
            d->tx_drop_per_s = rate(p->tx_drop, c->tx_drop, el);
        }
        add_na(&out->net_rx_bytes_per_s, d->rx_bytes_per_s);
        add_na(&out->net_tx_bytes_per_s, d->tx_bytes_per_s);
        add_na(&out->net_rx_pkts_per_s, d->rx_pkts_per_s);
        add_na(&out->net_tx_pkts_per_s, d->tx_pkts_per_s);
        add_na(&out->net_errs_per_s, d->rx_errs_per_s);
        add_na(&out->net_errs_per_s, d->tx_errs_per_s);
        add_na(&out->net_drop_per_s, d->rx_drop_per_s);
        add_na(&out->net_drop_per_s, d->tx_drop_per_s);
    }
}

/* rates_vm's figures, from state to the devices, into an out whose figures
 * from state to n_nets are those of kg_vm_init (NA); the rest of out is left
 * as it was but for the first n_disks/n_nets devices, which are overwritten. */
static void vm_figures(const struct sample_dom *prev, const struct sample_dom *cur,
                       uint64_t elapsed_ns, double host_cpus, struct kg_vm *out)
{
    out->state = cur->state;
    double el = (double)elapsed_ns / 1e9;
    if (cur->have_vcpus)
        out->vcpus = cur->vcpus;

    /* cpu.* only between two samples of a running domain: under qemu:///system a
     * shut-off domain reports libvirtd's own CPU time (docs/PLATFORM.md). */
    if (prev && prev->have_cpu && cur->have_cpu && sample_state_running(prev->state) &&
        sample_state_running(cur->state)) {
        double ns_per_s = rate(prev->cpu_time_ns, cur->cpu_time_ns, el);
        if (!kg_na(ns_per_s)) {
            if (cur->have_vcpus && cur->vcpus > 0)
                out->cpu_pct = ns_per_s / 1e9 / cur->vcpus * 100.0;
            if (host_cpus > 0)
                out->cpu_host_pct = ns_per_s / 1e9 / host_cpus * 100.0;
        }
        if (prev->have_vcpu_delay && cur->have_vcpu_delay && cur->have_vcpus &&
            cur->vcpus > 0) {
            double d = rate(prev->vcpu_delay_ns, cur->vcpu_delay_ns, el);
            if (!kg_na(d))
                out->steal_pct = d / 1e9 / cur->vcpus * 100.0;
        }
    }

    if (cur->have_mem_max)
        out->mem_max_kib = (double)cur->mem_max_kib;
    if (cur->have_mem_cur)
        out->mem_cur_kib = (double)cur->mem_cur_kib;
    if (cur->have_mem_rss)
        out->mem_rss_kib = (double)cur->mem_rss_kib;
    if (cur->have_mem_avail && cur->have_mem_usable && cur->mem_avail_kib > 0 &&
        cur->mem_usable_kib <= cur->mem_avail_kib) {
        out->mem_used_kib = (double)(cur->mem_avail_kib - cur->mem_usable_kib);
        out->mem_used_pct = out->mem_used_kib / (double)cur->mem_avail_kib * 100.0;
    }

    /* A restarted domain may come back with counters below the previous ones;
     * rate() turns each of those into NA. */
    const struct sample_dom *p = prev && sample_state_running(prev->state) ? prev : NULL;
    vm_disks(p, cur, el, out);
    vm_nets(p, cur, el, out);
}

void rates_vm(const struct sample_dom *prev, const struct sample_dom *cur,
              uint64_t elapsed_ns, double host_cpus, struct kg_vm *out)
{
    kg_vm_init(out);
    snprintf(out->name, sizeof out->name, "%s", cur->name ? cur->name : "");
    memcpy(out->uuid, cur->uuid, sizeof out->uuid);
    vm_figures(prev, cur, elapsed_ns, host_cpus, out);
}

void rates_host(const struct sample_proc *prev, const struct sample_proc *cur,
                uint64_t elapsed_ns, const struct sample_node *node,
                struct kg_host *out)
{
    kg_host_init(out);
    double el = (double)elapsed_ns / 1e9;
    if (node && node->have_info) {
        out->cpus = node->cpus;
        out->mem_total_kib = (double)node->mem_total_kib;
    }
    if (node) {
        out->vms_running = node->vms_running;
        out->vms_defined = node->vms_defined;
    }
    if (!cur)
        return;
    if (cur->have_cpu && cur->cpus > 0 && kg_na(out->cpus))
        out->cpus = cur->cpus;
    if (prev && prev->have_cpu && cur->have_cpu && cur->cpu_total_ticks > prev->cpu_total_ticks &&
        cur->cpu_idle_ticks >= prev->cpu_idle_ticks) {
        double dt = (double)(cur->cpu_total_ticks - prev->cpu_total_ticks);
        double di = (double)(cur->cpu_idle_ticks - prev->cpu_idle_ticks);
        double pct = (1.0 - di / dt) * 100.0;
        out->cpu_pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
    }
    if (cur->have_mem) {
        out->mem_total_kib = (double)cur->mem_total_kib;
        out->mem_used_kib = (double)(cur->mem_total_kib - cur->mem_avail_kib);
        if (cur->mem_total_kib > 0)
            out->mem_used_pct = out->mem_used_kib / (double)cur->mem_total_kib * 100.0;
    }
    if (cur->have_load) {
        out->load1 = cur->load1;
        out->load5 = cur->load5;
        out->load15 = cur->load15;
    }
    if (prev && prev->have_disk && cur->have_disk) {
        out->disk_rd_bytes_per_s = rate(prev->disk_rd_bytes, cur->disk_rd_bytes, el);
        out->disk_wr_bytes_per_s = rate(prev->disk_wr_bytes, cur->disk_wr_bytes, el);
    }
    if (prev && prev->have_net && cur->have_net) {
        out->net_rx_bytes_per_s = rate(prev->net_rx_bytes, cur->net_rx_bytes, el);
        out->net_tx_bytes_per_s = rate(prev->net_tx_bytes, cur->net_tx_bytes, el);
    }
}

/* ---- the per-domain memory across cycles -------------------------------- */

/* A struct kg_vm is ~4 kB, almost all of it the KG_DEV_MAX-long device arrays
 * and the host and name strings; kept per VM that is 4 MB per 1000 VMs. The
 * tracker keeps instead the figures between `state` and `disks` as they are
 * (FIG_BYTES, ~200 bytes), and only the devices the VM has. */
#define FIG_OFF offsetof(struct kg_vm, state)
#define FIG_BYTES (offsetof(struct kg_vm, disks) - offsetof(struct kg_vm, state))

/* The packed range must hold every figure: struct kg_vm is the identity (ts_ms,
 * host, name, uuid, copied one by one), then the figures from state to n_nets
 * (copied as bytes), then the device arrays (copied by count). A field added
 * among the identity or after the devices would be silently lost on its way to
 * the wire, so the layout is checked: each of those follows the one before it
 * with no room between but the next field's alignment padding. */
#define VM_END(field) (offsetof(struct kg_vm, field) + sizeof(((struct kg_vm *)0)->field))
#define VM_NEXT(a, b, type_b)                                                              \
    (offsetof(struct kg_vm, b) >= VM_END(a) &&                                             \
     offsetof(struct kg_vm, b) - VM_END(a) < _Alignof(type_b))
_Static_assert(offsetof(struct kg_vm, ts_ms) == 0 && VM_NEXT(ts_ms, host, char) &&
                   VM_NEXT(host, name, char) && VM_NEXT(name, uuid, char) &&
                   VM_NEXT(uuid, state, enum kg_vm_state),
               "struct kg_vm: only the identity may come before the figures (rates.c FIG_OFF)");
_Static_assert(VM_NEXT(disks, nets, struct kg_net) &&
                   sizeof(struct kg_vm) - VM_END(nets) < _Alignof(struct kg_vm),
               "struct kg_vm: the device arrays must close it (rates.c FIG_BYTES)");

struct figs {
    unsigned char scalars[FIG_BYTES]; /* struct kg_vm from state to n_nets */
    struct kg_disk *disks;            /* the VM's disks (n_disks), malloc'd */
    struct kg_net *nets;
    unsigned nd, nn;                  /* lengths of disks and nets */
};

struct rates_entry {
    char uuid[KG_UUID_LEN + 1];
    bool seen;                   /* present in the current update */
    char *name;                  /* current name, malloc'd */
    size_t name_len;             /* strlen(name), at most KG_NAME_MAX */
    bool have_sample;
    struct sample_dom sample; /* last complete sample: name NULL, devices own */
    uint64_t sample_ns;
    bool have_good;
    struct figs good;            /* figures from the last complete sample (NA before one) */
    uint64_t good_ns;
    /* this cycle's sample was incomplete (or libvirt gave nothing): good's
     * figures go out stale, with this age and state */
    bool stale;
    double age_s;
    enum kg_vm_state state;
    int64_t ts_ms;
};
_Static_assert(offsetof(struct rates_entry, uuid) == 0, "uuid_index.h: the UUID comes first");

struct rates {
    struct rates_entry **e;      /* e[0..n) sorted by uuid; pointers, so sorting is cheap */
    size_t n, cap;
    struct rates_entry **order;  /* the last update's order (what rates_get indexes) */
    size_t n_order, cap_order;
    unsigned char blank[FIG_BYTES]; /* kg_vm_init's figures, state to n_nets: each VM's
                                     * starting point, instead of clearing 4 kB per VM */
};

/* *dst (holding *have elements) becomes a copy of src's n elements; memory is
 * only (re)allocated when the count changes, so a steady VM allocates nothing
 * per cycle. 0 or KG_ENOMEM (then *dst and *have are unchanged). */
static int copy_into(void **dst, unsigned *have, const void *src, unsigned n, size_t size)
{
    if (n != *have) {
        void *d = NULL;
        if (n && !(d = malloc(n * size)))
            return KG_ENOMEM;
        free(*dst);
        *dst = d;
        *have = n;
    }
    if (n)
        memcpy(*dst, src, n * size);
    return 0;
}

static unsigned clip(unsigned n)
{
    return n > KG_DEV_MAX ? KG_DEV_MAX : n;
}

/* A field inside the packed range, by its offset. */
#define FIG_AT(f, field) ((f)->scalars + offsetof(struct kg_vm, field) - FIG_OFF)

static int figs_pack(struct figs *f, const struct kg_vm *vm)
{
    unsigned nd = clip(vm->n_disks), nn = clip(vm->n_nets);
    if (copy_into((void **)&f->disks, &f->nd, vm->disks, nd, sizeof *vm->disks) ||
        copy_into((void **)&f->nets, &f->nn, vm->nets, nn, sizeof *vm->nets))
        return KG_ENOMEM;
    memcpy(f->scalars, (const unsigned char *)vm + FIG_OFF, FIG_BYTES);
    memcpy(FIG_AT(f, n_disks), &nd, sizeof nd);
    memcpy(FIG_AT(f, n_nets), &nn, sizeof nn);
    return 0;
}

static void figs_clear(struct figs *f)
{
    free(f->disks);
    free(f->nets);
    memset(f, 0, sizeof *f);
}

static void entry_free(struct rates_entry *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->sample.disks);
    free(e->sample.nets);
    figs_clear(&e->good);
    free(e);
}

int rates_create(struct rates **out)
{
    *out = calloc(1, sizeof **out);
    struct kg_vm *blank = malloc(sizeof *blank);
    if (!*out || !blank) {
        free(*out);
        free(blank);
        *out = NULL;
        return KG_ENOMEM;
    }
    kg_vm_init(blank);
    memcpy((*out)->blank, (const unsigned char *)blank + FIG_OFF, FIG_BYTES);
    free(blank);
    return 0;
}

void rates_free(struct rates *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        entry_free(r->e[i]);
    free(r->e);
    free(r->order);
    free(r);
}

static struct rates_entry *find_entry(struct rates_entry **e, size_t n, const char *uuid)
{
    size_t i = uuid_index_find_ptr(e, n, uuid);
    return i == UUID_INDEX_NONE ? NULL : e[i];
}

/* The entry of uuid, the i-th domain of an update, among e[0..n): the collector
 * lists the domains in the same order every cycle, so the last update's i-th
 * entry is nearly always it (r->order[i] is read before this update rewrites it). */
static struct rates_entry *find_hinted(const struct rates *r, size_t i, size_t n,
                                       const char *uuid)
{
    if (i < r->n_order && !strcmp(r->order[i]->uuid, uuid))
        return r->order[i];
    return find_entry(r->e, n, uuid);
}

/* Keeps c as the entry's previous sample, with its own copy of the devices. */
static int keep_sample(struct rates_entry *e, const struct sample_dom *c)
{
    struct sample_dom *k = &e->sample;
    unsigned nd = k->disks ? k->n_disks : 0, nn = k->nets ? k->n_nets : 0;
    struct sample_disk *d = k->disks;
    struct sample_net *n = k->nets;
    if (copy_into((void **)&d, &nd, c->disks, clip(c->n_disks), sizeof *d)) {
        k->disks = d;
        k->n_disks = nd;
        return KG_ENOMEM;
    }
    int rc = copy_into((void **)&n, &nn, c->nets, clip(c->n_nets), sizeof *n);
    *k = *c;
    k->name = NULL;
    k->disks = d;
    k->n_disks = nd;
    k->nets = n;
    k->n_nets = nn;
    return rc;
}

static int set_name(struct rates_entry *e, const char *name)
{
    if (!name)
        name = "";
    if (e->name && !strcmp(e->name, name))
        return 0;
    size_t l = strlen(name);
    if (l > KG_NAME_MAX)
        l = KG_NAME_MAX;
    char *n = malloc(l + 1);
    if (!n)
        return KG_ENOMEM;
    memcpy(n, name, l);
    n[l] = '\0';
    free(e->name);
    e->name = n;
    e->name_len = l;
    return 0;
}

/* One domain of an update. One struct kg_vm of scratch, shared by the calls:
 * only its figures and the domain's devices are written and read. */
static int update_one(const struct rates *r, struct rates_entry *e,
                      const struct sample_dom *c, uint64_t mono_ns, int64_t real_ms,
                      double host_cpus, struct kg_vm *vm)
{
    int rc = set_name(e, c->name);
    e->ts_ms = real_ms;
    if (rc)
        return rc;
    if (c->incomplete) {
        /* its last complete figures, stale with their age; or NA ones */
        if (!e->have_good) {
            kg_vm_init(vm);
            if ((rc = figs_pack(&e->good, vm)) != 0)
                return rc;
        }
        e->stale = true;
        e->age_s = e->have_good ? (double)(mono_ns - e->good_ns) / 1e9 : (double)KG_NA;
        e->state = c->state;
        return 0;
    }
    memcpy((unsigned char *)vm + FIG_OFF, r->blank, FIG_BYTES);
    vm_figures(e->have_sample ? &e->sample : NULL, c,
               e->have_sample ? mono_ns - e->sample_ns : 0, host_cpus, vm);
    if ((rc = figs_pack(&e->good, vm)) != 0 || (rc = keep_sample(e, c)) != 0)
        return rc;
    e->have_sample = true;
    e->sample_ns = mono_ns;
    e->have_good = true;
    e->good_ns = mono_ns;
    e->stale = false;
    return 0;
}

/* Entries are marked seen, new ones appended, unseen ones dropped, then the
 * pointer array is sorted again if any was appended (dropping keeps the order). */
int rates_update(struct rates *r, const struct sample_dom *cur, size_t n,
                 uint64_t mono_ns, int64_t real_ms, double host_cpus)
{
    size_t n_new = 0;
    for (size_t i = 0; i < n; i++)
        if (!find_hinted(r, i, r->n, cur[i].uuid))
            n_new++;
    if (r->n + n_new > r->cap) {
        size_t cap = r->n + n_new + 16;
        struct rates_entry **ne = realloc(r->e, cap * sizeof *ne);
        if (!ne)
            return KG_ENOMEM;
        r->e = ne;
        r->cap = cap;
    }
    if (n > r->cap_order) {
        struct rates_entry **no = realloc(r->order, n * sizeof *no);
        if (!no)
            return KG_ENOMEM;
        r->order = no;
        r->cap_order = n;
    }
    static _Thread_local struct kg_vm scratch; /* 4 kB: not on the stack per call */
    int rc = 0;
    size_t sorted = r->n, total = r->n;
    for (size_t i = 0; i < sorted; i++)
        r->e[i]->seen = false;
    for (size_t i = 0; i < n; i++) {
        const struct sample_dom *c = &cur[i];
        struct rates_entry *e = find_hinted(r, i, sorted, c->uuid);
        if (!e) {
            e = calloc(1, sizeof *e);
            if (!e) {
                rc = KG_ENOMEM;
                break;
            }
            snprintf(e->uuid, sizeof e->uuid, "%s", c->uuid);
            r->e[total++] = e;
        }
        e->seen = true;
        r->order[i] = e;
        if ((rc = update_one(r, e, c, mono_ns, real_ms, host_cpus, &scratch)) != 0)
            break;
    }
    if (rc) {
        /* keep the known entries; a half-done update shows nothing new */
        for (size_t j = sorted; j < total; j++)
            entry_free(r->e[j]);
        for (size_t j = 0; j < sorted; j++)
            r->e[j]->seen = true;
        r->n_order = 0;
        return rc;
    }
    size_t w = 0;
    for (size_t i = 0; i < total; i++) {
        if (!r->e[i]->seen) {
            entry_free(r->e[i]);
            continue;
        }
        r->e[w++] = r->e[i];
    }
    r->n = w;
    r->n_order = n;
    if (total > sorted)
        uuid_index_sort_ptrs(r->e, r->n);
    return 0;
}

size_t rates_count(const struct rates *r)
{
    return r->n_order;
}

void rates_get(const struct rates *r, size_t i, const char *host, struct kg_vm *out)
{
    const struct rates_entry *e = r->order[i];
    /* only what the encoder reads: the devices past n_disks/n_nets stay as they were */
    out->ts_ms = e->ts_ms;
    /* as snprintf "%s" would, without its cost per VM */
    size_t hl = host ? strnlen(host, sizeof out->host - 1) : 0;
    if (hl)
        memcpy(out->host, host, hl);
    out->host[hl] = '\0';
    if (e->name)
        memcpy(out->name, e->name, e->name_len + 1); /* name_len <= KG_NAME_MAX */
    else
        out->name[0] = '\0';
    memcpy(out->uuid, e->uuid, sizeof out->uuid);
    memcpy((unsigned char *)out + FIG_OFF, e->good.scalars, FIG_BYTES);
    if (out->n_disks)
        memcpy(out->disks, e->good.disks, out->n_disks * sizeof *out->disks);
    if (out->n_nets)
        memcpy(out->nets, e->good.nets, out->n_nets * sizeof *out->nets);
    if (e->stale) {
        out->stale = true;
        out->age_s = e->age_s;
        out->state = e->state;
    }
}

void rates_mark_stale(struct rates *r, uint64_t mono_ns, int64_t real_ms)
{
    for (size_t i = 0; i < r->n_order; i++) {
        struct rates_entry *e = r->order[i];
        if (!e->stale) /* keeps the state it was last seen in */
            memcpy(&e->state, FIG_AT(&e->good, state), sizeof e->state);
        e->stale = true;
        e->age_s = e->have_good ? (double)(mono_ns - e->good_ns) / 1e9 : (double)KG_NA;
        e->ts_ms = real_ms;
    }
}

void rates_forget(struct rates *r, const char *uuid)
{
    size_t i = uuid_index_find_ptr(r->e, r->n, uuid);
    if (i == UUID_INDEX_NONE)
        return;
    struct rates_entry *e = r->e[i];
    memmove(&r->e[i], &r->e[i + 1], (r->n - i - 1) * sizeof *r->e);
    r->n--;
    for (i = 0; i < r->n_order; i++) {
        if (r->order[i] == e) {
            memmove(&r->order[i], &r->order[i + 1], (r->n_order - i - 1) * sizeof *r->order);
            r->n_order--;
            break;
        }
    }
    entry_free(e);
}
