/* SPDX-License-Identifier: MIT */
/*
 * Per-interval publishing with removal, rename and deadband. VMs are tracked by
 * UUID; the topic follows the name. Only the figures the deadband compares are
 * kept per VM (not whole payloads), to stay small at thousands of VMs.
 */
#include "publish.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/ha.h"
#include "kvmgrid/topic.h"
#include "uuid_index.h"

/* What the deadband compares, with the floor under which changes are measured
 * against the floor instead of the (near-zero) old value. */
#define N_FIG 12
static const double fig_floor[N_FIG] = {
    1.0,    /* cpu_pct */
    1.0,    /* mem_used_pct */
    1024.0, /* mem_cur_kib */
    1024.0, /* mem_rss_kib */
    1024.0, /* disk_rd_bytes_per_s */
    1024.0, /* disk_wr_bytes_per_s */
    1.0,    /* disk_rd_iops */
    1.0,    /* disk_wr_iops */
    1024.0, /* net_rx_bytes_per_s */
    1024.0, /* net_tx_bytes_per_s */
    1.0,    /* steal_pct */
    1.0,    /* net_errs_per_s + drops */
};

struct figs {
    enum kg_vm_state state;
    bool stale;
    unsigned n_disks, n_nets;
    double v[N_FIG];
};

static void figs_of(const struct kg_vm *vm, struct figs *f)
{
    f->state = vm->state;
    f->stale = vm->stale;
    f->n_disks = vm->n_disks;
    f->n_nets = vm->n_nets;
    double errs = vm->net_errs_per_s, drop = vm->net_drop_per_s;
    double ed = kg_na(errs) ? drop : kg_na(drop) ? errs : errs + drop;
    const double v[N_FIG] = {
        vm->cpu_pct,            vm->mem_used_pct,        vm->mem_cur_kib,
        vm->mem_rss_kib,        vm->disk_rd_bytes_per_s, vm->disk_wr_bytes_per_s,
        vm->disk_rd_iops,       vm->disk_wr_iops,        vm->net_rx_bytes_per_s,
        vm->net_tx_bytes_per_s, vm->steal_pct,           ed,
    };
    memcpy(f->v, v, sizeof v);
}

static bool figs_moved(const struct figs *a, const struct figs *b, double pct)
{
    if (a->state != b->state || a->stale != b->stale || a->n_disks != b->n_disks ||
        a->n_nets != b->n_nets)
        return true;
    for (int i = 0; i < N_FIG; i++) {
        double x = a->v[i], y = b->v[i];
        if (kg_na(x) || kg_na(y)) {
            if (kg_na(x) != kg_na(y))
                return true;
            continue;
        }
        double base = fabs(x) > fig_floor[i] ? fabs(x) : fig_floor[i];
        if (fabs(y - x) > pct / 100.0 * base)
            return true;
    }
    return false;
}

bool publish_moved(const struct kg_vm *a, const struct kg_vm *b, double pct)
{
    struct figs fa, fb;
    figs_of(a, &fa);
    figs_of(b, &fb);
    return figs_moved(&fa, &fb, pct);
}

struct entry {
    char uuid[KG_UUID_LEN + 1];
    char *name;                   /* the name its retained topic was published under */
    char *topic;                  /* that topic, built once per name; NULL when the
                                   * name cannot make one */
    size_t topic_len;             /* strlen(topic) */
    bool on_broker;               /* a retained message of ours is (believed) there */
    bool ha_on_broker;            /* so are (some of) its discovery configs */
    bool ha_due;                  /* its discovery configs must be (re)sent */
    bool dirty;                   /* must be sent at the next chance */
    bool seen;
    unsigned skipped;             /* intervals skipped by the deadband in a row */
    struct figs last;             /* figures last published */
};
_Static_assert(offsetof(struct entry, uuid) == 0, "uuid_index.h: the UUID comes first");

struct publish {
    struct publish_options o;
    char prefix[KG_PREFIX_MAX + 1];
    char host[KG_NAME_MAX + 1];
    struct entry **e;             /* sorted by uuid */
    size_t n, cap;
    struct publish_stats st;
    bool resync;
    /* Home Assistant discovery; ha_prefix "" when off */
    char ha_prefix[KG_PREFIX_MAX + 1];
    char sw_version[16];
    bool ha_pending;              /* some entry's configs or the host's are due */
    bool ha_host_due;
    /* the cycle in progress (publish_begin .. publish_end) */
    bool in_cycle, force;
    size_t sorted, total;
    int first_err;
    char buf[KG_PAYLOAD_MAX];
    /* the host summary: its topic, the host of the last publish_host, and the
     * summary of the cycle in progress (active: begun and not sent yet) */
    char sum_topic[KG_TOPIC_MAX];
    size_t sum_topic_len;
    char *sum_buf;                /* KG_SUMMARY_MAX + 1 bytes when summary is on; the
                                   * pages a host's summary never reaches stay untouched */
    struct kg_host sum_host;
    bool have_host, sum_active;
    struct kg_summary_writer sw;
};

static void entry_free(struct entry *e)
{
    if (e) {
        free(e->name);
        free(e->topic);
    }
    free(e);
}

/* e->name = name, e->topic its topic (escaping a name costs more than the rest
 * of the bookkeeping of a VM, so it is done when the name changes, not every
 * interval). 0 or KG_ENOMEM (e unchanged). */
static int entry_rename(const struct publish *p, struct entry *e, const char *name)
{
    char t[KG_TOPIC_MAX];
    char *topic = NULL;
    int tl = kg_topic_build(t, sizeof t, p->prefix, KG_TOPIC_VM, p->host, name);
    if (tl >= 0 && !(topic = strdup(t)))
        return KG_ENOMEM;
    char *n = strdup(name);
    if (!n) {
        free(topic);
        return KG_ENOMEM;
    }
    free(e->name);
    free(e->topic);
    e->name = n;
    e->topic = topic;
    e->topic_len = topic ? (size_t)tl : 0;
    return 0;
}

int publish_create(const struct publish_options *opt, struct publish **out)
{
    *out = NULL;
    char t[KG_TOPIC_MAX];
    if (!opt || !opt->prefix || !opt->host || !opt->send ||
        kg_topic_build(t, sizeof t, opt->prefix, KG_TOPIC_STATUS, opt->host, NULL) < 0)
        return KG_EINVAL;
    struct publish *p = calloc(1, sizeof *p);
    if (!p)
        return KG_ENOMEM;
    p->o = *opt;
    snprintf(p->prefix, sizeof p->prefix, "%s", opt->prefix);
    snprintf(p->host, sizeof p->host, "%s", opt->host);
    p->o.prefix = p->prefix;
    p->o.host = p->host;
    if (p->o.max_skip == 0)
        p->o.max_skip = 1;
    if (p->o.metrics_qos != 0)
        p->o.metrics_qos = 1;
    if (opt->ha_prefix && opt->ha_prefix[0]) {
        if (!kg_topic_prefix_valid(opt->ha_prefix, NULL, 0)) {
            free(p);
            return KG_EINVAL;
        }
        snprintf(p->ha_prefix, sizeof p->ha_prefix, "%s", opt->ha_prefix);
        snprintf(p->sw_version, sizeof p->sw_version, "%s",
                 opt->sw_version ? opt->sw_version : "");
        p->ha_pending = p->ha_host_due = true;
    }
    p->o.ha_prefix = p->ha_prefix;
    p->o.sw_version = p->sw_version;
    int tl = kg_topic_build(p->sum_topic, sizeof p->sum_topic, p->prefix, KG_TOPIC_SUMMARY,
                            p->host, NULL);
    p->sum_topic_len = tl > 0 ? (size_t)tl : 0;
    if (opt->summary && (tl < 0 || !(p->sum_buf = malloc((size_t)KG_SUMMARY_MAX + 1)))) {
        free(p);
        return tl < 0 ? KG_EINVAL : KG_ENOMEM;
    }
    *out = p;
    return 0;
}

void publish_free(struct publish *p)
{
    if (!p)
        return;
    free(p->sum_buf);
    for (size_t i = 0; i < p->n; i++)
        entry_free(p->e[i]);
    free(p->e);
    free(p);
}

/* topic_len: strlen(topic), known to the caller */
static int send_msg(struct publish *p, const char *topic, size_t topic_len,
                    const void *payload, size_t len, int qos)
{
    int rc = p->o.send(p->o.send_ctx, topic, payload, len, true, qos);
    if (rc) {
        p->st.failed++;
        return rc;
    }
    p->st.messages++;
    p->st.bytes += topic_len + len;
    return 0;
}

int publish_status(struct publish *p, bool online)
{
    char t[KG_TOPIC_MAX];
    int tl = kg_topic_build(t, sizeof t, p->prefix, KG_TOPIC_STATUS, p->host, NULL);
    if (tl < 0)
        return KG_EINVAL;
    const char *s = online ? KG_STATUS_ONLINE : KG_STATUS_OFFLINE;
    return send_msg(p, t, (size_t)tl, s, strlen(s), 1);
}

int publish_host(struct publish *p, const struct kg_host *h)
{
    char t[KG_TOPIC_MAX];
    char buf[KG_PAYLOAD_MAX];
    int tl = kg_topic_build(t, sizeof t, p->prefix, KG_TOPIC_METRICS, p->host, NULL);
    if (tl < 0)
        return KG_EINVAL;
    p->sum_host = *h;
    p->have_host = true;
    int len = kg_host_encode(h, buf, sizeof buf);
    if (len < 0) {
        p->st.encode_errors++;
        return len;
    }
    return send_msg(p, t, (size_t)tl, buf, (size_t)len, p->o.metrics_qos);
}

int publish_summary_clear(struct publish *p)
{
    if (!p->sum_topic_len)
        return KG_EINVAL;
    return send_msg(p, p->sum_topic, p->sum_topic_len, "", 0, 1);
}

/* An empty retained message on e's current topic. */
static int remove_topic(struct publish *p, const struct entry *e)
{
    if (!e->topic)
        return KG_EINVAL;
    int rc = send_msg(p, e->topic, e->topic_len, "", 0, 1);
    if (rc == 0)
        p->st.removed++;
    return rc;
}

/* ---- Home Assistant discovery ------------------------------------------------- */

/* What e's (NULL: the host's) configs describe. */
static struct kg_ha_entity ha_entity(const struct publish *p, const struct entry *e)
{
    struct kg_ha_entity h = {p->ha_prefix, p->prefix, p->host, e ? e->name : NULL,
                             e ? e->uuid : NULL, p->sw_version, 0};
    return h;
}

/* Sends e's (NULL: the host's) configs, or empties them (clear). 0 when every
 * one went out, else the first error (the others are still tried). */
static int ha_send(struct publish *p, const struct entry *e, bool clear)
{
    struct kg_ha_entity h = ha_entity(p, e);
    size_t n = e ? kg_ha_n_vm_sensors : kg_ha_n_host_sensors;
    int first = 0;
    char t[KG_TOPIC_MAX];
    for (h.sensor = 0; h.sensor < n; h.sensor++) {
        int tl = kg_ha_config_topic(t, sizeof t, &h);
        int len = tl < 0 || clear ? 0 : kg_ha_config_encode(&h, p->buf, sizeof p->buf);
        int rc = tl < 0 ? tl : len < 0 ? len : send_msg(p, t, (size_t)tl, p->buf, (size_t)len, 1);
        if (tl < 0 || len < 0)
            p->st.encode_errors++;
        if (rc && !first)
            first = rc;
    }
    return first;
}

/* Empties e's configs when some are on the broker: 0 when they are gone. */
static int ha_remove(struct publish *p, struct entry *e)
{
    if (!e->ha_on_broker)
        return 0;
    int rc = ha_send(p, e, true);
    if (rc == 0)
        e->ha_on_broker = false;
    return rc;
}

static void ha_due(struct publish *p, struct entry *e)
{
    if (p->ha_prefix[0]) {
        e->ha_due = true;
        p->ha_pending = true;
    }
}

int publish_ha(struct publish *p)
{
    if (!p->ha_pending)
        return 0;
    int first = 0, rc;
    bool left = false;
    if (p->ha_host_due) {
        rc = ha_send(p, NULL, false);
        p->ha_host_due = rc != 0;
        left |= rc != 0;
        first = rc;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct entry *e = p->e[i];
        if (!e->ha_due)
            continue;
        rc = ha_send(p, e, false);
        e->ha_on_broker = true; /* some may be there even when one failed */
        e->ha_due = rc != 0;
        left |= rc != 0;
        if (rc && !first)
            first = rc;
    }
    p->ha_pending = left;
    return first;
}

void publish_ha_resync(struct publish *p)
{
    if (!p->ha_prefix[0])
        return;
    for (size_t i = 0; i < p->n; i++)
        p->e[i]->ha_due = true;
    p->ha_pending = p->ha_host_due = true;
}

int publish_ha_clear(struct publish *p)
{
    if (!p->ha_prefix[0])
        return 0;
    int first = ha_send(p, NULL, true), rc;
    p->ha_host_due = false;
    for (size_t i = 0; i < p->n; i++) {
        p->e[i]->ha_due = false;
        p->e[i]->ha_on_broker = true; /* a config may be there from before a restart */
        if ((rc = ha_remove(p, p->e[i])) != 0 && !first)
            first = rc;
    }
    p->ha_pending = false;
    return first;
}

/* ---- the cycle --------------------------------------------------------------- */

static struct entry *find(const struct publish *p, size_t n, const char *uuid)
{
    size_t i = uuid_index_find_ptr(p->e, n, uuid);
    return i == UUID_INDEX_NONE ? NULL : p->e[i];
}

int publish_begin(struct publish *p, size_t n_hint, bool force)
{
    p->in_cycle = true;
    p->first_err = 0;
    p->force = force || p->resync;
    p->resync = false;
    if (p->n + n_hint > p->cap) {
        size_t cap = p->n + n_hint + 16;
        struct entry **ne = realloc(p->e, cap * sizeof *ne);
        if (ne) {
            p->e = ne;
            p->cap = cap;
        } /* else: publish_vm grows it one by one */
    }
    p->sorted = p->total = p->n;
    for (size_t i = 0; i < p->sorted; i++)
        p->e[i]->seen = false;
    /* no summary before the host's figures are known (a connect before the
     * first sample): the first cycle sends one */
    p->sum_active = false;
    if (p->sum_buf && p->have_host) {
        p->sum_active = kg_summary_begin(&p->sw, p->sum_buf, (size_t)KG_SUMMARY_MAX + 1,
                                         &p->sum_host) == 0;
        if (!p->sum_active)
            p->st.encode_errors++; /* the host's name or ts cannot be encoded */
    }
    return 0;
}

static void cycle_err(struct publish *p, int rc)
{
    if (!p->first_err)
        p->first_err = rc;
}

int publish_vm(struct publish *p, const struct kg_vm *vm)
{
    if (!p->in_cycle)
        return KG_ESTATE;
    /* every VM has its row, whatever happens to its own topic below; a row that
     * does not fit is counted by the writer */
    if (p->sum_active)
        (void)kg_summary_add(&p->sw, vm);
    struct entry *e = find(p, p->sorted, vm->uuid);
    if (!e) {
        if (p->total == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 64;
            struct entry **ne = realloc(p->e, cap * sizeof *ne);
            if (!ne) {
                cycle_err(p, KG_ENOMEM);
                return KG_ENOMEM;
            }
            p->e = ne;
            p->cap = cap;
        }
        e = calloc(1, sizeof *e);
        if (!e || entry_rename(p, e, vm->name) != 0) {
            free(e);
            cycle_err(p, KG_ENOMEM);
            return KG_ENOMEM;
        }
        snprintf(e->uuid, sizeof e->uuid, "%s", vm->uuid);
        e->dirty = true;
        ha_due(p, e);
        p->e[p->total++] = e;
    }
    e->seen = true;
    /* renamed: take the old retained topic away, publish under the new name */
    if (strcmp(e->name, vm->name) != 0) {
        if (e->on_broker) {
            int rc = remove_topic(p, e);
            if (rc) {
                cycle_err(p, rc);
                return rc; /* try the whole move again next cycle */
            }
            e->on_broker = false;
        }
        if (entry_rename(p, e, vm->name) != 0) {
            cycle_err(p, KG_ENOMEM);
            return KG_ENOMEM;
        }
        e->dirty = true;
        ha_due(p, e); /* the same config topics, with the new state topic */
    }
    struct figs f;
    figs_of(vm, &f);
    bool send = p->force || e->dirty || !e->on_broker || p->o.deadband_pct <= 0 ||
                e->skipped + 1 >= p->o.max_skip || figs_moved(&e->last, &f, p->o.deadband_pct);
    if (!send) {
        e->skipped++;
        p->st.skipped++;
        return 0;
    }
    int len = e->topic ? kg_vm_encode(vm, p->buf, sizeof p->buf) : -1;
    if (len < 0) {
        p->st.encode_errors++;
        return 0;
    }
    int rc = send_msg(p, e->topic, e->topic_len, p->buf, (size_t)len, p->o.metrics_qos);
    if (rc) {
        e->dirty = true;
        cycle_err(p, rc);
        return rc;
    }
    e->on_broker = true;
    e->dirty = false;
    e->skipped = 0;
    e->last = f;
    return 0;
}

int publish_end(struct publish *p)
{
    if (!p->in_cycle)
        return KG_ESTATE;
    p->in_cycle = false;
    /* vanished: remove their retained message; keep the entry until that worked */
    size_t w = 0;
    for (size_t i = 0; i < p->total; i++) {
        struct entry *e = p->e[i];
        if (!e->seen && e->on_broker) {
            int rc = remove_topic(p, e);
            if (rc == 0)
                e->on_broker = false;
            else
                cycle_err(p, rc);
        }
        if (!e->seen) {
            int rc = ha_remove(p, e);
            if (rc)
                cycle_err(p, rc);
        }
        if (!e->seen && !e->on_broker && !e->ha_on_broker) {
            entry_free(e);
            continue;
        }
        p->e[w++] = e;
    }
    p->n = w;
    /* dropping entries keeps the order: sort only when some were appended */
    if (p->total > p->sorted)
        uuid_index_sort_ptrs(p->e, p->n);
    if (p->sum_active) {
        p->sum_active = false;
        p->st.summary_omitted = p->sw.omitted;
        int len = kg_summary_end(&p->sw);
        int rc = len < 0 ? len
                         : send_msg(p, p->sum_topic, p->sum_topic_len, p->sum_buf, (size_t)len,
                                    p->o.metrics_qos);
        if (len < 0)
            p->st.encode_errors++;
        else if (rc == 0)
            p->st.summaries++;
        if (rc)
            cycle_err(p, rc);
    }
    return p->first_err;
}

int publish_vms(struct publish *p, const struct kg_vm *vms, size_t n, bool force)
{
    publish_begin(p, n, force);
    for (size_t i = 0; i < n; i++)
        publish_vm(p, &vms[i]);
    return publish_end(p);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds copies of the config topics of e (NULL: the host) to own. 0 or KG_ENOMEM. */
static int ha_own(const struct publish *p, const struct entry *e, char **own, size_t *n_own)
{
    struct kg_ha_entity h = ha_entity(p, e);
    size_t n = e ? kg_ha_n_vm_sensors : kg_ha_n_host_sensors;
    char t[KG_TOPIC_MAX];
    for (h.sensor = 0; h.sensor < n; h.sensor++) {
        if (kg_ha_config_topic(t, sizeof t, &h) < 0)
            continue;
        if (!(own[*n_own] = strdup(t)))
            return KG_ENOMEM;
        (*n_own)++;
    }
    return 0;
}

int publish_sweep(struct publish *p, char *const *topics, size_t n, size_t *removed)
{
    size_t gone = 0;
    int first = 0, rc = 0;
    bool ha = p->ha_prefix[0] != '\0';
    /* every topic this host owns, copied (this runs once per connect) */
    size_t cap = p->n + (ha ? p->n * kg_ha_n_vm_sensors + kg_ha_n_host_sensors : 0);
    char **own = cap ? malloc(cap * sizeof *own) : NULL;
    if (cap && !own)
        return KG_ENOMEM;
    size_t n_own = 0;
    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        if (!p->e[i]->topic)
            continue;
        if ((own[n_own] = strdup(p->e[i]->topic)) != NULL)
            n_own++;
        else
            rc = KG_ENOMEM;
    }
    if (ha && rc == 0)
        rc = ha_own(p, NULL, own, &n_own);
    for (size_t i = 0; ha && rc == 0 && i < p->n; i++)
        rc = ha_own(p, p->e[i], own, &n_own);
    if (rc == 0 && n_own > 1)
        qsort(own, n_own, sizeof *own, cmp_str);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (n_own && bsearch(&topics[i], own, n_own, sizeof *own, cmp_str))
            continue;
        int r = send_msg(p, topics[i], strlen(topics[i]), "", 0, 1);
        if (r == 0) {
            p->st.removed++;
            gone++;
        } else if (!first) {
            first = r;
        }
    }
    for (size_t i = 0; i < n_own; i++)
        free(own[i]);
    free(own);
    if (removed)
        *removed = gone;
    return rc ? rc : first;
}

int publish_remove(struct publish *p, const char *uuid)
{
    size_t i = uuid_index_find_ptr(p->e, p->n, uuid);
    if (i == UUID_INDEX_NONE)
        return 0;
    struct entry *e = p->e[i];
    if (e->on_broker) {
        int rc = remove_topic(p, e);
        if (rc)
            return rc; /* stays; the next cycle removes it when it is gone */
        e->on_broker = false;
    }
    int rc = ha_remove(p, e);
    if (rc)
        return rc; /* likewise */
    entry_free(e);
    memmove(&p->e[i], &p->e[i + 1], (p->n - i - 1) * sizeof *p->e);
    p->n--;
    return 0;
}

void publish_resync(struct publish *p)
{
    p->resync = true;
    publish_ha_resync(p);
}

size_t publish_count(const struct publish *p)
{
    size_t c = 0;
    for (size_t i = 0; i < p->n; i++)
        c += p->e[i]->on_broker;
    return c;
}

void publish_get_stats(const struct publish *p, struct publish_stats *out)
{
    *out = p->st;
}
