/* SPDX-License-Identifier: MIT */
/*
 * The wall's grid model: what arrived over MQTT, decoded by libkvmgrid's schema
 * codecs and reduced to the few figures the wall shows. It is not a renderer and
 * not a layout: it only records, counts and marks what changed.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/text.h"
#include "kvmgrid/topic.h"

#define TAB_EMPTY 0u
#define TAB_DELETED UINT32_MAX
#define LOADS_MAX 1024u

static uint64_t fnv1a(const char *s, size_t len, uint64_t seed)
{
    uint64_t h = 1469598103934665603ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

/* A VM's key is (its host, its name), a host's (its group, its name). */
static uint64_t key_hash(uint32_t owner, const char *name, size_t len)
{
    return fnv1a(name, len, (uint64_t)owner * 0x9E3779B97F4A7C15ull);
}

/* ---- open-addressing tables of indices -------------------------------- */

struct tab_key {
    uint32_t host;                   /* TAB_HOST: the group */
    const char *name;
    size_t len;
};

enum tab_kind { TAB_HOST, TAB_VM };

static bool tab_eq(const struct model *m, enum tab_kind kind, uint32_t idx, const struct tab_key *k)
{
    if (kind == TAB_HOST) {
        const struct model_host *h = &m->hosts[idx];
        return h->group == k->host && h->name_len == k->len &&
               memcmp(h->name, k->name, k->len) == 0;
    }
    const struct model_vm *v = &m->vms[idx];
    return v->host == k->host && v->name_len == k->len && memcmp(v->name, k->name, k->len) == 0;
}

static uint64_t tab_key_hash(const struct tab_key *k)
{
    return key_hash(k->host, k->name, k->len);
}

/* Returns the slot holding the key, or -1. */
static int64_t tab_find_slot(const struct model *m, enum tab_kind kind, const struct tab_key *k)
{
    const uint32_t *tab = kind == TAB_HOST ? m->host_tab : m->vm_tab;
    uint32_t cap = kind == TAB_HOST ? m->host_tab_cap : m->vm_tab_cap;
    if (cap == 0)
        return -1;
    uint32_t mask = cap - 1, i = (uint32_t)tab_key_hash(k) & mask;
    for (uint32_t probes = 0; probes < cap; probes++, i = (i + 1) & mask) {
        if (tab[i] == TAB_EMPTY)
            return -1;
        if (tab[i] != TAB_DELETED && tab_eq(m, kind, tab[i] - 1, k))
            return i;
    }
    return -1;
}

static void tab_put_raw(uint32_t *tab, uint32_t cap, uint64_t hash, uint32_t idx)
{
    uint32_t mask = cap - 1, i = (uint32_t)hash & mask;
    while (tab[i] != TAB_EMPTY && tab[i] != TAB_DELETED)
        i = (i + 1) & mask;
    tab[i] = idx + 1;
}

/* Rebuilds a table from the live entries with at least want_cap slots. */
static int tab_rebuild(struct model *m, enum tab_kind kind, uint32_t want_cap)
{
    uint32_t cap = 64;
    while (cap < want_cap)
        cap *= 2;
    uint32_t *tab = calloc(cap, sizeof(*tab));
    if (tab == NULL)
        return KG_ENOMEM;
    uint32_t used = 0;
    if (kind == TAB_HOST) {
        for (uint32_t i = 0; i < m->n_hosts; i++, used++)
            tab_put_raw(tab, cap,
                        key_hash(m->hosts[i].group, m->hosts[i].name, m->hosts[i].name_len), i);
        free(m->host_tab);
        m->host_tab = tab;
        m->host_tab_cap = cap;
        m->host_tab_used = used;
    } else {
        for (uint32_t i = 0; i < m->n_vm_slots; i++) {
            const struct model_vm *v = &m->vms[i];
            if (!(v->flags & MODEL_VM_LIVE))
                continue;
            tab_put_raw(tab, cap, key_hash(v->host, v->name, v->name_len), i);
            used++;
        }
        free(m->vm_tab);
        m->vm_tab = tab;
        m->vm_tab_cap = cap;
        m->vm_tab_used = used;
    }
    return 0;
}

static int tab_insert(struct model *m, enum tab_kind kind, const struct tab_key *k, uint32_t idx)
{
    uint32_t cap = kind == TAB_HOST ? m->host_tab_cap : m->vm_tab_cap;
    uint32_t used = kind == TAB_HOST ? m->host_tab_used : m->vm_tab_used;
    if ((uint64_t)(used + 1) * 10 > (uint64_t)cap * 7) {
        uint32_t live = kind == TAB_HOST ? m->n_hosts : m->n_vms;
        int rc = tab_rebuild(m, kind, (live + 1) * 2 + 16);
        if (rc != 0)
            return rc;
    }
    if (kind == TAB_HOST) {
        tab_put_raw(m->host_tab, m->host_tab_cap, tab_key_hash(k), idx);
        m->host_tab_used++;
    } else {
        tab_put_raw(m->vm_tab, m->vm_tab_cap, tab_key_hash(k), idx);
        m->vm_tab_used++;
    }
    return 0;
}

static void tab_delete(struct model *m, enum tab_kind kind, const struct tab_key *k)
{
    int64_t s = tab_find_slot(m, kind, k);
    if (s < 0)
        return;
    if (kind == TAB_HOST)
        m->host_tab[s] = TAB_DELETED;
    else
        m->vm_tab[s] = TAB_DELETED;
}

int32_t model_find_group(const struct model *m, const char *name, size_t len)
{
    for (uint32_t g = 0; g < m->n_groups; g++)
        if (m->groups[g].name_len == len && memcmp(m->groups[g].name, name, len) == 0)
            return (int32_t)g;
    return -1;
}

int32_t model_find_host_in(const struct model *m, uint32_t group, const char *name, size_t len)
{
    struct tab_key k = {group, name, len};
    int64_t s = tab_find_slot(m, TAB_HOST, &k);
    return s < 0 ? -1 : (int32_t)(m->host_tab[s] - 1);
}

int32_t model_find_host(const struct model *m, const char *name, size_t len)
{
    return model_find_host_in(m, 0, name, len);
}

int32_t model_find_host_named(const struct model *m, const char *group, size_t group_len,
                              const char *name, size_t len)
{
    int32_t g = model_find_group(m, group, group_len);
    return g < 0 ? -1 : model_find_host_in(m, (uint32_t)g, name, len);
}

/* "group/name" written by fmt (model_display or model_printable). */
static char *host_label(const struct model *m, const struct model_host *h, char *buf,
                        size_t size, char *(*fmt)(const char *, size_t, char *, size_t))
{
    const struct model_group *g = &m->groups[h->group];
    size_t n = 0;
    if (g->name_len > 0) {
        fmt(g->name, g->name_len, buf, size);
        n = strlen(buf);
        if (n + 1 < size)
            buf[n++] = '/';
    }
    if (n < size)
        fmt(h->name, h->name_len, buf + n, size - n);
    return buf;
}

char *model_host_display(const struct model *m, const struct model_host *h, char *buf,
                         size_t size)
{
    return host_label(m, h, buf, size, model_display);
}

char *model_host_printable(const struct model *m, const struct model_host *h, char *buf,
                           size_t size)
{
    return host_label(m, h, buf, size, model_printable);
}

int32_t model_find_vm(const struct model *m, uint32_t host, const char *name, size_t len)
{
    struct tab_key k = {host, name, len};
    int64_t s = tab_find_slot(m, TAB_VM, &k);
    return s < 0 ? -1 : (int32_t)(m->vm_tab[s] - 1);
}

/* ---- life cycle ------------------------------------------------------- */

int model_create(const char *prefix, uint32_t stale_intervals, double default_interval_s,
                 struct model **out)
{
    if (prefix == NULL || out == NULL || stale_intervals < 1 || !(default_interval_s > 0) ||
        strlen(prefix) >= sizeof(((struct model *)0)->prefix) ||
        !kg_topic_prefix_filter_valid(prefix, NULL, 0))
        return KG_EINVAL;
    struct model *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return KG_ENOMEM;
    m->groups = calloc(1, sizeof(*m->groups)); /* group 0: none (""), always there */
    if (m->groups == NULL || (m->groups[0].name = calloc(1, 1)) == NULL) {
        free(m->groups);
        free(m);
        return KG_ENOMEM;
    }
    m->n_groups = m->cap_groups = 1;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->groups[0].name);
        free(m->groups);
        free(m);
        return KG_ENOMEM;
    }
    snprintf(m->prefix, sizeof(m->prefix), "%s", prefix);
    m->stale_intervals = stale_intervals;
    m->default_interval_s = default_interval_s;
    m->free_vm = -1;
    m->max_hosts = MODEL_DEFAULT_MAX_HOSTS;
    m->max_vms = MODEL_DEFAULT_MAX_VMS;
    for (int i = 0; i < MODEL_HOTTEST; i++)
        m->hottest[i] = -1;
    for (int i = 0; i < MODEL_WORST; i++)
        m->worst[i] = -1;
    (void)history_init(&m->vm_hist, 0, 0, 0, 0); /* off until model_set_history */
    (void)history_init(&m->host_hist, 0, 0, 0, 0);
    alerts_rules_default(&m->rules);
    *out = m;
    return 0;
}

void model_set_caps(struct model *m, uint32_t max_hosts, uint32_t max_vms)
{
    m->max_hosts = max_hosts ? max_hosts : 1;
    m->max_vms = max_vms ? max_vms : 1;
}

void model_set_source(struct model *m, enum model_source source)
{
    m->source = (unsigned)source < MODEL_SOURCE_COUNT ? source : MODEL_SOURCE_VMS;
}

const char *model_source_name(enum model_source s)
{
    static const char *const names[MODEL_SOURCE_COUNT] = {"vms", "summaries"};
    return (unsigned)s < MODEL_SOURCE_COUNT ? names[s] : "?";
}

uint64_t model_dropped_total(const struct model *m)
{
    return m->dropped_hosts + m->dropped_vms;
}

int model_set_history(struct model *m, uint64_t window_ms, uint64_t step_ms, uint64_t now_ms)
{
    struct history vh, hh;
    /* an agent interval is one step or more: gaps of up to stale_intervals
     * steps are its missed cycles, filled; longer ones stay gaps */
    int rc = history_init(&vh, window_ms, step_ms, m->stale_intervals, now_ms);
    if (rc == 0)
        rc = history_init(&hh, window_ms, step_ms, m->stale_intervals, now_ms);
    if (rc != 0)
        return rc;
    model_lock(m);
    if ((rc = history_reserve(&vh, m->n_vm_slots)) == 0 &&
        (rc = history_reserve(&hh, m->n_hosts)) == 0) {
        history_free(&m->vm_hist);
        history_free(&m->host_hist);
        m->vm_hist = vh;
        m->host_hist = hh;
    } else {
        history_free(&vh);
        history_free(&hh);
    }
    model_unlock(m);
    return rc;
}

void model_set_history_max_vms(struct model *m, uint32_t max_vms)
{
    model_lock(m);
    history_set_max_slots(&m->vm_hist, max_vms);
    model_unlock(m);
}

void model_set_alert_rules(struct model *m, const struct alerts_rules *r)
{
    model_lock(m);
    m->rules = *r;
    model_unlock(m);
}

const struct alerts_vm *model_vm_alerts(const struct model *m, uint32_t idx)
{
    static const struct alerts_vm none;
    return idx < m->n_vm_slots && m->alerts != NULL ? &m->alerts[idx] : &none;
}

bool model_vm_in_alert(const struct model *m, uint32_t idx)
{
    return model_vm_alerts(m, idx)->active != 0;
}

void model_free(struct model *m)
{
    if (m == NULL)
        return;
    for (uint32_t i = 0; i < m->n_hosts; i++) {
        free(m->hosts[i].name);
        free(m->hosts[i].vms);
    }
    for (uint32_t i = 0; i < m->n_vm_slots; i++)
        if (m->vms[i].flags & MODEL_VM_LIVE)
            free(m->vms[i].name);
    for (uint32_t i = 0; i < m->n_loads; i++)
        free(m->loads[i].node);
    for (uint32_t i = 0; i < m->n_groups; i++)
        free(m->groups[i].name);
    free(m->groups);
    free(m->hosts);
    free(m->vms);
    free(m->loads);
    free(m->host_tab);
    free(m->vm_tab);
    free(m->dirty);
    free(m->alerts);
    history_free(&m->vm_hist);
    history_free(&m->host_hist);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void model_lock(struct model *m)
{
    pthread_mutex_lock(&m->lock);
}

void model_unlock(struct model *m)
{
    pthread_mutex_unlock(&m->lock);
}

/* ---- helpers (lock held) ---------------------------------------------- */

static void push_dirty(struct model *m, uint32_t idx)
{
    struct model_vm *v = &m->vms[idx];
    if (m->full_repaint || (v->flags & MODEL_VM_DIRTY))
        return;
    if (m->n_dirty == m->cap_dirty) {
        uint32_t ncap = m->cap_dirty ? m->cap_dirty * 2 : 1024;
        uint32_t *nd = ncap <= 2 * m->n_vm_slots + 1024 ? realloc(m->dirty, ncap * sizeof(*nd)) : NULL;
        if (nd == NULL) {
            m->full_repaint = true;
            return;
        }
        m->dirty = nd;
        m->cap_dirty = ncap;
    }
    v->flags |= MODEL_VM_DIRTY;
    m->dirty[m->n_dirty++] = idx;
}

uint32_t model_take_dirty(struct model *m, const uint32_t **list, bool *all)
{
    if (all != NULL)
        *all = m->full_repaint;
    m->full_repaint = false;
    uint32_t n = m->n_dirty;
    for (uint32_t i = 0; i < n; i++)
        m->vms[m->dirty[i]].flags &= (uint8_t)~MODEL_VM_DIRTY;
    m->n_dirty = 0;
    *list = m->dirty;
    return n;
}

static void set_bad(struct model *m, enum model_bad what, const char *topic, size_t topic_len,
                    const char *why)
{
    m->bad[what]++;
    char t[64];
    size_t n = topic_len < sizeof(t) - 4 ? topic_len : sizeof(t) - 4;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)topic[i];
        t[i] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    strcpy(t + n, n < topic_len ? "..." : "");
    snprintf(m->last_bad, sizeof(m->last_bad), "%s: %s: %s", model_bad_name(what), t, why);
    for (char *p = m->last_bad; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
            *p = '?';
}

/* host_get and vm_get: -1 out of memory, OVER_CAP a new one would pass its cap. */
#define OVER_CAP (-2)

/* The group named name[0..len) ("" is group 0); -1 when it is not there and
 * create is false, out of memory, or OVER_CAP. */
static int32_t group_get(struct model *m, const char *name, size_t len, bool create)
{
    int32_t g = model_find_group(m, name, len);
    if (g >= 0 || !create)
        return g;
    if (m->n_groups >= MODEL_MAX_GROUPS)
        return OVER_CAP;
    if (m->n_groups == m->cap_groups) {
        uint32_t ncap = m->cap_groups * 2;
        struct model_group *ng = realloc(m->groups, ncap * sizeof(*ng));
        if (ng == NULL)
            return -1;
        m->groups = ng;
        m->cap_groups = ncap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    m->groups[m->n_groups] = (struct model_group){copy, (uint16_t)len, MODEL_LINK_UNKNOWN};
    return (int32_t)m->n_groups++;
}

/* The host of a parsed topic: its group's, then its own. */
static int32_t host_get(struct model *m, const struct kg_topic_parsed *tp, bool create)
{
    int32_t g = group_get(m, tp->group, tp->group_len, create);
    if (g < 0)
        return g;
    const char *name = tp->name;
    size_t len = tp->name_len;
    int32_t h = model_find_host_in(m, (uint32_t)g, name, len);
    if (h >= 0)
        m->hosts[h].heard_sync = m->sync_gen; /* news of it in this connect */
    if (h >= 0 || !create)
        return h;
    if (m->n_hosts >= m->max_hosts)
        return OVER_CAP;
    if (m->n_hosts == m->cap_hosts) {
        uint32_t ncap = m->cap_hosts ? m->cap_hosts * 2 : 64;
        struct model_host *nh = realloc(m->hosts, ncap * sizeof(*nh));
        if (nh == NULL)
            return -1;
        m->hosts = nh;
        m->cap_hosts = ncap;
    }
    if (history_reserve(&m->host_hist, (size_t)m->n_hosts + 1) != 0)
        return -1;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    history_clear(&m->host_hist, m->n_hosts);
    struct model_host *hp = &m->hosts[m->n_hosts];
    memset(hp, 0, sizeof(*hp));
    hp->name = copy;
    hp->name_len = (uint16_t)len;
    hp->group = (uint32_t)g;
    hp->interval_s = hp->cpu_pct = hp->mem_used_pct = hp->cpus = hp->load1 = NAN;
    hp->libvirt_ok = true;
    hp->heard_sync = m->sync_gen;
    struct tab_key k = {(uint32_t)g, name, len};
    /* Insert before counting it: a rebuild inside tab_insert walks the live hosts. */
    if (tab_insert(m, TAB_HOST, &k, m->n_hosts) != 0) {
        free(copy);
        return -1;
    }
    m->n_hosts++;
    m->structure_gen++;
    return (int32_t)(m->n_hosts - 1);
}

/* Removes host h when nothing about it is left (no VMs, no status, no metrics). */
static void host_maybe_remove(struct model *m, uint32_t h)
{
    struct model_host *hp = &m->hosts[h];
    if (hp->n_vms > 0 || hp->status != MODEL_HOST_UNKNOWN || hp->has_metrics)
        return;
    free(hp->name);
    free(hp->vms);
    uint32_t last = m->n_hosts - 1;
    if (h != last) {
        /* Move the last host into h. The VM key holds the host index, so its VMs
         * are re-keyed: a full rebuild, fine for this rare event. */
        m->hosts[h] = m->hosts[last];
        history_move(&m->host_hist, last, h);
        for (uint32_t i = 0; i < m->hosts[h].n_vms; i++)
            m->vms[m->hosts[h].vms[i]].host = h;
        if (m->hosts[h].n_vms > 0)
            tab_rebuild(m, TAB_VM, m->vm_tab_cap);
    } else {
        history_clear(&m->host_hist, h);
    }
    m->n_hosts--;
    tab_rebuild(m, TAB_HOST, m->host_tab_cap);
    m->structure_gen++;
    m->hosts_removed++;
}

static int32_t vm_get(struct model *m, uint32_t h, const char *name, size_t len)
{
    int32_t v = model_find_vm(m, h, name, len);
    if (v >= 0)
        return v;
    if (m->n_vms >= m->max_vms)
        return OVER_CAP;
    struct model_host *hp = &m->hosts[h];
    if (hp->n_vms == hp->cap_vms) {
        uint32_t ncap = hp->cap_vms ? hp->cap_vms * 2 : 8;
        uint32_t *nv = realloc(hp->vms, ncap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        hp->vms = nv;
        hp->cap_vms = ncap;
    }
    uint32_t idx;
    if (m->free_vm >= 0) {
        idx = (uint32_t)m->free_vm;
    } else {
        if (m->n_vm_slots == m->cap_vm_slots) {
            uint32_t ncap = m->cap_vm_slots ? m->cap_vm_slots * 2 : 256;
            /* the alerts first: larger than the slots is harmless if those fail */
            struct alerts_vm *na = realloc(m->alerts, ncap * sizeof(*na));
            if (na == NULL)
                return -1;
            m->alerts = na;
            struct model_vm *nv = realloc(m->vms, ncap * sizeof(*nv));
            if (nv == NULL)
                return -1;
            m->vms = nv;
            m->cap_vm_slots = ncap;
        }
        idx = m->n_vm_slots;
        if (history_reserve(&m->vm_hist, (size_t)idx + 1) != 0)
            return -1;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    int32_t next_free = idx < m->n_vm_slots ? m->vms[idx].pos : -1;
    struct model_vm *vp = &m->vms[idx];
    memset(vp, 0, sizeof(*vp));
    vp->name = copy;
    vp->name_len = (uint16_t)len;
    vp->host = h;
    vp->pos = next_free; /* still free until inserted */
    for (int i = 0; i < MODEL_FIG_COUNT; i++)
        vp->fig[i] = NAN;
    struct tab_key k = {h, name, len};
    /* Insert while the slot is not LIVE: a rebuild inside tab_insert walks live slots. */
    if (tab_insert(m, TAB_VM, &k, idx) != 0) {
        free(copy);
        vp->name = NULL;
        return -1;
    }
    vp->flags = MODEL_VM_LIVE;
    vp->pos = -1;
    alerts_vm_reset(&m->alerts[idx]);
    history_clear(&m->vm_hist, idx);
    if (idx == m->n_vm_slots)
        m->n_vm_slots++;
    else
        m->free_vm = next_free;
    m->n_vms++;
    hp->vms[hp->n_vms++] = idx;
    m->structure_gen++;
    return (int32_t)idx;
}

/* Removes slot v from a list of n slots (-1 terminated), keeping the order. */
static void drop_slot(int32_t *list, int n, int32_t v)
{
    for (int i = 0, w = 0; i < n; i++) {
        int32_t x = list[i];
        list[i] = -1;
        if (x >= 0 && x != v)
            list[w++] = x;
    }
}

static void vm_remove(struct model *m, uint32_t h, const char *name, size_t len)
{
    int32_t v = model_find_vm(m, h, name, len);
    if (v < 0)
        return;
    struct model_host *hp = &m->hosts[h];
    for (uint32_t i = 0; i < hp->n_vms; i++) {
        if (hp->vms[i] == (uint32_t)v) {
            hp->vms[i] = hp->vms[--hp->n_vms];
            break;
        }
    }
    struct tab_key k = {h, name, len};
    tab_delete(m, TAB_VM, &k);
    /* the hottest and worst lists name slots until the next model_tick: not this one */
    drop_slot(m->hottest, MODEL_HOTTEST, v);
    drop_slot(m->worst, MODEL_WORST, v);
    alerts_vm_reset(&m->alerts[v]);
    history_clear(&m->vm_hist, (size_t)v);
    struct model_vm *vp = &m->vms[v];
    free(vp->name);
    vp->name = NULL;
    vp->flags = 0;
    vp->pos = m->free_vm;
    m->free_vm = v;
    m->n_vms--;
    m->removed++;
    m->structure_gen++;
}

void model_sync_begin(struct model *m, uint64_t now_ms)
{
    model_lock(m);
    m->sync_from_ms = now_ms ? now_ms : 1;
    m->sync_gen++;
    model_unlock(m);
}

uint32_t model_sync_end(struct model *m)
{
    uint32_t gone = 0;
    model_lock(m);
    uint64_t from = m->sync_from_ms;
    m->sync_from_ms = 0;
    for (uint32_t h = 0; from && h < m->n_hosts; h++) {
        const struct model_host *hp = &m->hosts[h];
        /* A host the broker said nothing about at all: it lost everything (a
         * restart without persistence) and the agent will send it again; its
         * VMs stay, stale meanwhile, instead of a blank wall for an interval. */
        if (hp->heard_sync != m->sync_gen)
            continue;
        /* backwards: vm_remove moves the host's last VM into the freed place */
        for (uint32_t i = hp->n_vms; i-- > 0;) {
            const struct model_vm *vp = &m->vms[hp->vms[i]];
            if (vp->seen_ms < from) {
                vm_remove(m, h, vp->name, vp->name_len);
                gone++;
            }
        }
    }
    model_unlock(m);
    return gone;
}

static int32_t load_find(const struct model *m, const char *node, size_t len)
{
    for (uint32_t i = 0; i < m->n_loads; i++)
        if (m->loads[i].node_len == len && memcmp(m->loads[i].node, node, len) == 0)
            return (int32_t)i;
    return -1;
}

/* ---- apply ------------------------------------------------------------ */

static float f(double v)
{
    return (float)v;
}

/* Keeps MODEL_VM_ALERTS in step with the VM's alert state. */
static void note_alerts(struct model_vm *vp, const struct alerts_vm *a)
{
    uint64_t any = a->active;
    for (int k = 0; k < ALERTS_KINDS && any == 0; k++)
        any |= a->since_ms[k];
    vp->flags = (uint8_t)(any ? vp->flags | MODEL_VM_ALERTS : vp->flags & ~MODEL_VM_ALERTS);
}

/* A scale position for the history: NaN when colour_scale_pos says NA. */
static double hist_pos(enum colour_metric metric, double value)
{
    double t = colour_scale_pos(metric, value);
    return t < 0 ? (double)NAN : t;
}

/* The VM's new figures into its trend (positions on the tiles' colour scales, so
 * the sparkline and the tile agree) and its alert state. */
static void vm_trend_and_alert(struct model *m, uint32_t idx, uint64_t now_ms)
{
    const struct model_vm *vp = &m->vms[idx];
    double fig[ALERTS_METRICS];
    fig[ALERTS_CPU] = model_vm_value(vp, COLOUR_METRIC_CPU);
    fig[ALERTS_MEM] = model_vm_value(vp, COLOUR_METRIC_MEM);
    if (m->vm_hist.steps != 0) {
        double v[HISTORY_SERIES];
        v[HISTORY_CPU] = hist_pos(COLOUR_METRIC_CPU, fig[ALERTS_CPU]);
        v[HISTORY_MEM] = hist_pos(COLOUR_METRIC_MEM, fig[ALERTS_MEM]);
        v[HISTORY_DISK] = hist_pos(COLOUR_METRIC_DISK, model_vm_value(vp, COLOUR_METRIC_DISK));
        v[HISTORY_NET] = hist_pos(COLOUR_METRIC_NET, model_vm_value(vp, COLOUR_METRIC_NET));
        history_put(&m->vm_hist, idx, now_ms, v);
    }
    fig[ALERTS_STEAL] = model_vm_value(vp, COLOUR_METRIC_STEAL);
    fig[ALERTS_DISK_LAT] = (double)vp->fig[MODEL_FIG_DISK_LAT_MS];
    /* a change repaints the tile: apply_vm marks it dirty in any case */
    (void)alerts_vm_sample(&m->alerts[idx], &m->rules, fig, now_ms);
    note_alerts(&m->vms[idx], &m->alerts[idx]);
}

static void apply_vm(struct model *m, const struct kg_topic_parsed *tp, const struct kg_vm *vm,
                     uint64_t now_ms, const char *topic, size_t topic_len)
{
    int32_t h = host_get(m, tp, true);
    int32_t v = h >= 0 ? vm_get(m, (uint32_t)h, tp->vm, tp->vm_len) : h;
    if (v == OVER_CAP) {
        if (h == OVER_CAP) {
            m->dropped_hosts++;
        } else {
            m->dropped_vms++;
            host_maybe_remove(m, (uint32_t)h); /* made for this VM only */
        }
        return;
    }
    if (v < 0) {
        set_bad(m, MODEL_BAD_VM, topic, topic_len, "out of memory");
        return;
    }
    struct model_vm *vp = &m->vms[v];
    vp->ts_ms = vm->ts_ms;
    vp->seen_ms = now_ms;
    vp->state = (uint8_t)vm->state;
    bool was_stale = vp->flags & MODEL_VM_STALE;
    vp->flags &= (uint8_t)~(MODEL_VM_STALE | MODEL_VM_AGENT_STALE);
    if (vm->stale)
        vp->flags |= MODEL_VM_AGENT_STALE;
    (void)was_stale;
    float *g = vp->fig;
    g[MODEL_FIG_CPU_PCT] = f(vm->cpu_pct);
    g[MODEL_FIG_CPU_HOST_PCT] = f(vm->cpu_host_pct);
    g[MODEL_FIG_STEAL_PCT] = f(vm->steal_pct);
    g[MODEL_FIG_VCPUS] = f(vm->vcpus);
    g[MODEL_FIG_MEM_USED_PCT] = f(vm->mem_used_pct);
    g[MODEL_FIG_MEM_USED_KIB] = f(vm->mem_used_kib);
    g[MODEL_FIG_MEM_CUR_KIB] = f(vm->mem_cur_kib);
    g[MODEL_FIG_MEM_MAX_KIB] = f(vm->mem_max_kib);
    g[MODEL_FIG_MEM_RSS_KIB] = f(vm->mem_rss_kib);
    g[MODEL_FIG_DISK_RD_BPS] = f(vm->disk_rd_bytes_per_s);
    g[MODEL_FIG_DISK_WR_BPS] = f(vm->disk_wr_bytes_per_s);
    g[MODEL_FIG_DISK_RD_IOPS] = f(vm->disk_rd_iops);
    g[MODEL_FIG_DISK_WR_IOPS] = f(vm->disk_wr_iops);
    g[MODEL_FIG_DISK_RD_LAT_MS] = f(vm->disk_rd_lat_ms);
    g[MODEL_FIG_DISK_WR_LAT_MS] = f(vm->disk_wr_lat_ms);
    g[MODEL_FIG_NET_RX_BPS] = f(vm->net_rx_bytes_per_s);
    g[MODEL_FIG_NET_TX_BPS] = f(vm->net_tx_bytes_per_s);
    g[MODEL_FIG_NET_RX_PPS] = f(vm->net_rx_pkts_per_s);
    g[MODEL_FIG_NET_TX_PPS] = f(vm->net_tx_pkts_per_s);
    g[MODEL_FIG_NET_ERRS_PS] = f(vm->net_errs_per_s);
    g[MODEL_FIG_NET_DROP_PS] = f(vm->net_drop_per_s);
    g[MODEL_FIG_AGE_S] = f(vm->age_s);
    struct kg_summary_vm row; /* the sums as a summary's row has them: one rule */
    kg_summary_vm_of(vm, &row);
    g[MODEL_FIG_DISK_BPS] = f(row.disk_bytes_per_s);
    g[MODEL_FIG_NET_BPS] = f(row.net_bytes_per_s);
    g[MODEL_FIG_DISK_LAT_MS] = f(row.disk_lat_ms);
    if (vm->ts_ms > m->newest_ts_ms)
        m->newest_ts_ms = vm->ts_ms;
    vm_trend_and_alert(m, (uint32_t)v, now_ms);
    push_dirty(m, (uint32_t)v);
}

/* The host's figures from its metrics or its summary (bad names the counter
 * for out of memory). Returns the host's index, or -1 when dropped (over the
 * cap, or out of memory: counted). */
static int32_t apply_host(struct model *m, const struct kg_topic_parsed *tp,
                          const struct kg_host *host, uint64_t now_ms, enum model_bad bad,
                          const char *topic, size_t topic_len)
{
    int32_t h = host_get(m, tp, true);
    if (h == OVER_CAP) {
        m->dropped_hosts++;
        return -1;
    }
    if (h < 0) {
        set_bad(m, bad, topic, topic_len, "out of memory");
        return -1;
    }
    struct model_host *hp = &m->hosts[h];
    if (!hp->has_metrics || hp->stale || hp->libvirt_ok != host->libvirt_ok)
        m->structure_gen++; /* its label and marks change */
    hp->has_metrics = true;
    hp->stale = false;
    hp->libvirt_ok = host->libvirt_ok;
    hp->ts_ms = host->ts_ms;
    hp->seen_ms = now_ms;
    hp->interval_s = host->interval_s > 0 ? f(host->interval_s) : NAN;
    hp->cpu_pct = f(host->cpu_pct);
    hp->mem_used_pct = f(host->mem_used_pct);
    hp->cpus = f(host->cpus);
    hp->load1 = f(host->load1);
    if (m->host_hist.steps != 0) {
        double v[HISTORY_SERIES] = {hist_pos(COLOUR_METRIC_CPU, (double)hp->cpu_pct),
                                    hist_pos(COLOUR_METRIC_MEM, (double)hp->mem_used_pct),
                                    (double)NAN, (double)NAN};
        history_put(&m->host_hist, (uint32_t)h, now_ms, v);
    }
    if (host->ts_ms > m->newest_ts_ms)
        m->newest_ts_ms = host->ts_ms;
    return h;
}

/* What host_get or group_get gave a status-like message (a host's status, a
 * site's link state): false when there is nothing to set, counted when it was
 * to be created (dropped over the cap, or out of memory). */
static bool status_target(struct model *m, int32_t idx, bool create, const char *topic,
                          size_t topic_len)
{
    if (idx == OVER_CAP) {
        m->dropped_hosts++;
        return false;
    }
    if (idx < 0) {
        if (create)
            set_bad(m, MODEL_BAD_STATUS, topic, topic_len, "out of memory");
        return false;
    }
    return true;
}

static void apply_status(struct model *m, const struct kg_topic_parsed *tp, const char *p,
                         size_t len, const char *topic, size_t topic_len)
{
    uint8_t st;
    if (len == 0)
        st = MODEL_HOST_UNKNOWN;
    else if (len == strlen(KG_STATUS_ONLINE) && memcmp(p, KG_STATUS_ONLINE, len) == 0)
        st = MODEL_HOST_ONLINE;
    else if (len == strlen(KG_STATUS_OFFLINE) && memcmp(p, KG_STATUS_OFFLINE, len) == 0)
        st = MODEL_HOST_OFFLINE;
    else {
        set_bad(m, MODEL_BAD_STATUS, topic, topic_len, "status is neither online nor offline");
        return;
    }
    int32_t h = host_get(m, tp, len > 0);
    if (!status_target(m, h, len > 0, topic, topic_len))
        return;
    if (m->hosts[h].status != st) {
        m->hosts[h].status = st;
        m->structure_gen++;
    }
    if (len == 0)
        host_maybe_remove(m, (uint32_t)h);
}

/* A site's bridge link state: "1" up, "0" down (its will), empty: forgotten. */
static void apply_link(struct model *m, const struct kg_topic_parsed *tp, const char *p,
                       size_t len, const char *topic, size_t topic_len)
{
    uint8_t st = len == 0 ? MODEL_LINK_UNKNOWN
                 : len == 1 && p[0] == '1' ? MODEL_LINK_UP
                 : len == 1 && p[0] == '0' ? MODEL_LINK_DOWN : 0xFF;
    if (st == 0xFF) {
        set_bad(m, MODEL_BAD_STATUS, topic, topic_len, "link state is neither 1 nor 0");
        return;
    }
    int32_t g = group_get(m, tp->group, tp->group_len, len > 0);
    if (!status_target(m, g, len > 0, topic, topic_len))
        return;
    if (m->groups[g].link != st) {
        m->groups[g].link = st;
        m->structure_gen++;
    }
    m->applied++;
}

static void apply_load(struct model *m, const struct kg_topic_parsed *tp,
                       const struct kg_load_state *ls, bool remove, const char *topic,
                       size_t topic_len)
{
    int32_t i = load_find(m, tp->name, tp->name_len);
    if (remove) {
        if (i >= 0) {
            free(m->loads[i].node);
            m->loads[i] = m->loads[--m->n_loads];
            m->structure_gen++;
        }
        return;
    }
    if (i < 0) {
        if (m->n_loads >= LOADS_MAX) {
            set_bad(m, MODEL_BAD_LOAD, topic, topic_len, "too many load generators");
            return;
        }
        if (m->n_loads == m->cap_loads) {
            uint32_t ncap = m->cap_loads ? m->cap_loads * 2 : 16;
            struct model_load *nl = realloc(m->loads, ncap * sizeof(*nl));
            if (nl == NULL)
                return;
            m->loads = nl;
            m->cap_loads = ncap;
        }
        char *copy = malloc(tp->name_len + 1);
        if (copy == NULL)
            return;
        memcpy(copy, tp->name, tp->name_len + 1);
        i = (int32_t)m->n_loads++;
        m->loads[i].node = copy;
        m->loads[i].node_len = (uint16_t)tp->name_len;
        m->loads[i].status = 0xFF;
    }
    bool changed = m->loads[i].status != (uint8_t)ls->status ||
                   m->loads[i].kind != (uint8_t)ls->spec.kind;
    m->loads[i].status = (uint8_t)ls->status;
    m->loads[i].kind = (uint8_t)ls->spec.kind;
    if (changed)
        m->structure_gen++; /* the VMs named like this node repaint */
}

/* A summary being applied: the rows arrive through the decoder's callback,
 * after the decoder has checked the whole payload. */
struct sum_apply {
    struct model *m;
    const struct kg_topic_parsed *tp;
    const struct kg_summary *sum;    /* the decoder's output: its header is filled
                                        before the first row is handed out */
    uint64_t now_ms;
    const char *topic;
    size_t topic_len;
    int32_t host;                    /* -1 until begun */
    bool locked;
};

#define SUM_STOP 1 /* the callback's "dropped: apply nothing" */

/* Takes the lock, checks the host and applies its figures: before the first
 * row, or for a summary without rows. SUM_STOP when the summary is dropped. */
static int sum_begin(struct sum_apply *a)
{
    struct model *m = a->m;
    model_lock(m);
    a->locked = true;
    const struct kg_host *hd = &a->sum->host;
    if (strlen(hd->name) != a->tp->name_len || memcmp(hd->name, a->tp->name, a->tp->name_len)) {
        /* its VMs are shown under the host that says it runs them, or not at all */
        char why[KG_ERRMSG_MAX];
        snprintf(why, sizeof(why), "host \"%.40s\" in the payload but \"%.40s\" in the topic",
                 hd->name, a->tp->name);
        set_bad(m, MODEL_BAD_SUMMARY, a->topic, a->topic_len, why);
        return SUM_STOP;
    }
    a->host = apply_host(m, a->tp, hd, a->now_ms, MODEL_BAD_SUMMARY, a->topic, a->topic_len);
    if (a->host < 0)
        return SUM_STOP;
    struct model_host *hp = &m->hosts[a->host];
    bool incomplete = a->sum->vms_omitted > 0;
    if (hp->incomplete != incomplete) {
        hp->incomplete = incomplete;
        m->structure_gen++;
    }
    return 0;
}

static int sum_row(void *ctx, unsigned i, const struct kg_summary_vm *row)
{
    struct sum_apply *a = ctx;
    (void)i;
    if (a->host < 0 && sum_begin(a) != 0)
        return SUM_STOP;
    struct model *m = a->m;
    uint32_t h = (uint32_t)a->host;
    int32_t v = vm_get(m, h, row->name, strlen(row->name));
    if (v == OVER_CAP) {
        m->dropped_vms++;
        return 0;
    }
    if (v < 0) {
        set_bad(m, MODEL_BAD_SUMMARY, a->topic, a->topic_len, "out of memory");
        return 0; /* counted; the other rows go on */
    }
    struct model_vm *vp = &m->vms[v];
    vp->ts_ms = a->sum->host.ts_ms;
    vp->seen_ms = a->now_ms;
    vp->state = (uint8_t)row->state;
    vp->flags &= (uint8_t)~(MODEL_VM_STALE | MODEL_VM_AGENT_STALE);
    vp->flags |= MODEL_VM_LISTED | (row->stale ? MODEL_VM_AGENT_STALE : 0);
    float *g = vp->fig;
    for (int k = 0; k < MODEL_FIG_COUNT; k++)
        g[k] = NAN; /* what a row does not carry */
    g[MODEL_FIG_CPU_PCT] = f(row->cpu_pct);
    g[MODEL_FIG_MEM_USED_PCT] = f(row->mem_used_pct);
    g[MODEL_FIG_STEAL_PCT] = f(row->steal_pct);
    g[MODEL_FIG_DISK_BPS] = f(row->disk_bytes_per_s);
    g[MODEL_FIG_NET_BPS] = f(row->net_bytes_per_s);
    g[MODEL_FIG_DISK_LAT_MS] = f(row->disk_lat_ms);
    vm_trend_and_alert(m, (uint32_t)v, a->now_ms);
    push_dirty(m, (uint32_t)v);
    return 0;
}

/* After the rows: the host's VMs the summary did not name are gone, unless it
 * left rows out; the marks are cleared either way. */
static void sum_end(struct sum_apply *a, bool ok)
{
    struct model *m = a->m;
    if (a->host < 0)
        return;
    struct model_host *hp = &m->hosts[a->host];
    bool prune = ok && !hp->incomplete;
    /* backwards: vm_remove moves the host's last VM into the freed place */
    for (uint32_t i = hp->n_vms; i-- > 0;) {
        struct model_vm *vp = &m->vms[hp->vms[i]];
        if (vp->flags & MODEL_VM_LISTED)
            vp->flags &= (uint8_t)~MODEL_VM_LISTED;
        else if (prune)
            vm_remove(m, (uint32_t)a->host, vp->name, vp->name_len);
    }
}

/* A summary message; returns with the lock held. */
static void apply_summary(struct model *m, const struct kg_topic_parsed *tp, const char *p,
                          size_t len, uint64_t now_ms, const char *topic, size_t topic_len)
{
    if (len == 0) {
        /* the host's summary is gone: its figures with it; its VMs stay and
         * turn stale as any VM no longer updated */
        model_lock(m);
        int32_t h = host_get(m, tp, false);
        if (h >= 0) {
            m->hosts[h].has_metrics = false;
            m->structure_gen++;
            host_maybe_remove(m, (uint32_t)h);
        }
        m->applied++;
        return;
    }
    struct kg_summary sum;
    struct sum_apply a = {m, tp, &sum, now_ms, topic, topic_len, -1, false};
    char err[KG_ERRMSG_MAX] = "";
    uint64_t dropped = model_dropped_total(m); /* read unlocked: only this thread writes it */
    int rc = kg_summary_decode(p, len, &sum, sum_row, &a, err, sizeof(err));
    if (rc == 0 && !a.locked)
        rc = sum_begin(&a); /* no rows */
    if (!a.locked)
        model_lock(m);
    if (rc < 0)
        set_bad(m, MODEL_BAD_SUMMARY, topic, topic_len, err[0] ? err : kg_strerror(rc));
    sum_end(&a, rc == 0);
    if (rc == 0 && model_dropped_total(m) == dropped)
        m->applied++;
}

void model_apply(struct model *m, const char *topic, size_t topic_len, const void *payload,
                 size_t len, bool retained, uint64_t now_ms)
{
    struct kg_topic_parsed tp;
    char err[KG_ERRMSG_MAX] = "";
    const char *p = payload;
    int rc = kg_topic_parse(m->prefix, topic, topic_len, &tp);

    /* VMs and host figures come from one source: the per-VM topics and
     * metrics, or the hosts' summaries, which repeat them (PROTOCOL.md); the
     * other is ignored. A summary may be larger than KG_PAYLOAD_MAX. */
    bool summaries = m->source == MODEL_SOURCE_SUMMARIES;
    if (rc == 0 && (tp.kind == KG_TOPIC_SUMMARY ? !summaries
                    : summaries && (tp.kind == KG_TOPIC_VM || tp.kind == KG_TOPIC_METRICS)))
        rc = KG_ENOENT;
    if (rc == 0 && tp.kind == KG_TOPIC_SUMMARY) {
        if (len > KG_SUMMARY_MAX) {
            model_lock(m);
            set_bad(m, MODEL_BAD_OVERSIZED, topic, topic_len, "summary over 1 MiB");
        } else {
            apply_summary(m, &tp, p, len, now_ms, topic, topic_len);
        }
        goto done;
    }
    if (rc == 0 && len > KG_PAYLOAD_MAX) {
        model_lock(m);
        set_bad(m, MODEL_BAD_OVERSIZED, topic, topic_len, "payload over 16 KiB");
        goto done;
    }
    if (rc == 0 && tp.kind == KG_TOPIC_VM) {
        if (len == 0) {
            model_lock(m);
            int32_t h = host_get(m, &tp, false);
            if (h >= 0) {
                vm_remove(m, (uint32_t)h, tp.vm, tp.vm_len);
                host_maybe_remove(m, (uint32_t)h);
            }
            m->applied++;
            goto done;
        }
        struct kg_vm vm;
        rc = kg_vm_decode(p, len, &vm, err, sizeof(err));
        if (rc == 0 && (strlen(vm.host) != tp.name_len || memcmp(vm.host, tp.name, tp.name_len))) {
            /* a VM is shown under the host that says it runs it, or not at all */
            snprintf(err, sizeof(err), "host \"%.40s\" in the payload but \"%.40s\" in the topic",
                     vm.host, tp.name);
            rc = KG_EINVAL;
        }
        model_lock(m);
        if (rc != 0)
            set_bad(m, MODEL_BAD_VM, topic, topic_len, err[0] ? err : kg_strerror(rc));
        else {
            uint64_t dropped = model_dropped_total(m);
            apply_vm(m, &tp, &vm, now_ms, topic, topic_len);
            if (model_dropped_total(m) == dropped)
                m->applied++;
        }
        goto done;
    }
    if (rc == 0 && tp.kind == KG_TOPIC_METRICS) {
        if (len == 0) {
            model_lock(m);
            int32_t h = host_get(m, &tp, false);
            if (h >= 0) {
                m->hosts[h].has_metrics = false;
                m->structure_gen++;
                host_maybe_remove(m, (uint32_t)h);
            }
            m->applied++;
            goto done;
        }
        struct kg_host host;
        rc = kg_host_decode(p, len, &host, err, sizeof(err));
        model_lock(m);
        if (rc != 0)
            set_bad(m, MODEL_BAD_HOST, topic, topic_len, err[0] ? err : kg_strerror(rc));
        else {
            uint64_t dropped = model_dropped_total(m);
            (void)apply_host(m, &tp, &host, now_ms, MODEL_BAD_HOST, topic, topic_len);
            if (model_dropped_total(m) == dropped)
                m->applied++;
        }
        goto done;
    }
    if (rc == 0 && tp.kind == KG_TOPIC_LOAD_STATE) {
        struct kg_load_state ls;
        if (len > 0)
            rc = kg_load_state_decode(p, len, &ls, err, sizeof(err));
        model_lock(m);
        if (rc != 0)
            set_bad(m, MODEL_BAD_LOAD, topic, topic_len, err[0] ? err : kg_strerror(rc));
        else {
            apply_load(m, &tp, &ls, len == 0, topic, topic_len);
            m->applied++;
        }
        goto done;
    }
    model_lock(m);
    if (rc == 0 && tp.kind == KG_TOPIC_STATUS) {
        size_t before = m->bad[MODEL_BAD_STATUS];
        uint64_t dropped = model_dropped_total(m);
        apply_status(m, &tp, p, len, topic, topic_len);
        if (m->bad[MODEL_BAD_STATUS] == before && model_dropped_total(m) == dropped)
            m->applied++;
    } else if (rc == 0 && tp.kind == KG_TOPIC_LINK) {
        apply_link(m, &tp, p, len, topic, topic_len);
    } else if (rc == 0 || rc == KG_ENOENT) {
        m->ignored++; /* load/cmd, or not one of ours */
    } else {
        set_bad(m, MODEL_BAD_TOPIC, topic, topic_len, "name level not canonically escaped");
    }
done:
    m->values_gen++;
    m->last_msg_ms = now_ms;
    if (retained) {
        m->retained_seen++;
        m->last_retained_ms = now_ms;
    }
    model_unlock(m);
}

/* ---- reading ---------------------------------------------------------- */

double model_vm_value(const struct model_vm *vm, enum colour_metric metric)
{
    const float *g = vm->fig;
    switch (metric) {
    case COLOUR_METRIC_CPU:
        return (double)g[MODEL_FIG_CPU_PCT];
    case COLOUR_METRIC_MEM:
        if (!isnan(g[MODEL_FIG_MEM_USED_PCT]))
            return (double)g[MODEL_FIG_MEM_USED_PCT];
        if (!isnan(g[MODEL_FIG_MEM_USED_KIB]) && g[MODEL_FIG_MEM_CUR_KIB] > 0)
            return 100.0 * (double)g[MODEL_FIG_MEM_USED_KIB] / (double)g[MODEL_FIG_MEM_CUR_KIB];
        return (double)NAN;
    case COLOUR_METRIC_DISK:
        return (double)g[MODEL_FIG_DISK_BPS];
    case COLOUR_METRIC_NET:
        return (double)g[MODEL_FIG_NET_BPS];
    case COLOUR_METRIC_STEAL:
        return (double)g[MODEL_FIG_STEAL_PCT];
    default:
        return (double)NAN;
    }
}

int model_load_status(const struct model *m, const char *node, size_t len)
{
    int32_t i = load_find(m, node, len);
    return i >= 0 ? (int)m->loads[i].status : -1;
}

bool model_vm_load_running(const struct model *m, const struct model_vm *vm)
{
    if (m->n_loads == 0)
        return false;
    int32_t i = load_find(m, vm->name, vm->name_len);
    return i >= 0 && m->loads[i].status == KG_LOADST_RUNNING;
}

double model_host_load(const struct model *m, const struct model_host *h)
{
    if (!isnan(h->cpu_pct))
        return (double)h->cpu_pct;
    double sum = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->n_vms; i++) {
        float c = m->vms[h->vms[i]].fig[MODEL_FIG_CPU_PCT];
        if (!isnan(c)) {
            sum += (double)c;
            n++;
        }
    }
    return n ? sum / n : (double)NAN;
}

static double host_interval_ms(const struct model *m, const struct model_host *h)
{
    double s = isnan(h->interval_s) || h->interval_s <= 0 ? m->default_interval_s
                                                           : (double)h->interval_s;
    return s * 1000.0 * m->stale_intervals;
}

/* now - then, or 0 when then is later: the MQTT thread stamps messages with its own
 * reading of the clock, which may be newer than the caller's now. */
static uint64_t age_ms(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

/* The worst list as model_tick builds it: the slots and how long each has been
 * in alert. */
struct worst_list {
    int32_t *idx;                 /* m->worst */
    uint64_t since[MODEL_WORST];
};

/* True when VM slot a, in alert since since_a, has been longer than entry k of
 * w (ties: by name, then slot). */
static bool worse(const struct model *m, uint32_t a, uint64_t since_a,
                  const struct worst_list *w, int k)
{
    uint32_t b = (uint32_t)w->idx[k];
    if (since_a != w->since[k])
        return since_a < w->since[k];
    const struct model_vm *x = &m->vms[a], *y = &m->vms[b];
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int d = memcmp(x->name, y->name, n);
    if (d != 0)
        return d < 0;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len;
    return a < b;
}

/* Inserts VM slot idx, in alert since since, into the worst list (longest in
 * alert first): O(MODEL_WORST), usually one comparison. */
static void worst_insert(const struct model *m, struct worst_list *w, uint32_t idx,
                         uint64_t since)
{
    int k = MODEL_WORST - 1;
    if (w->idx[k] >= 0 && !worse(m, idx, since, w, k))
        return;
    while (k > 0 && (w->idx[k - 1] < 0 || worse(m, idx, since, w, k - 1))) {
        w->idx[k] = w->idx[k - 1];
        w->since[k] = w->since[k - 1];
        k--;
    }
    w->idx[k] = (int32_t)idx;
    w->since[k] = since;
}

/* The VM's alert state at now_ms, counted into c, its host and the worst list. */
static void vm_alert_tick(struct model *m, struct model_host *hp, uint32_t idx, uint64_t now_ms,
                          struct model_counts *c, struct worst_list *w)
{
    struct model_vm *vp = &m->vms[idx];
    bool stale = vp->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE);
    bool offline = hp->status == MODEL_HOST_OFFLINE;
    /* most VMs: nothing over, nothing to see, and their alert state not read */
    if (!stale && !offline && !(vp->flags & MODEL_VM_ALERTS))
        return;
    struct alerts_vm *a = &m->alerts[idx];
    if (alerts_vm_state(a, &m->rules, stale, offline, now_ms))
        push_dirty(m, idx);
    note_alerts(vp, a);
    if (a->active == 0)
        return;
    c->vms_alert++;
    for (unsigned bits = a->active; bits != 0; bits &= bits - 1)
        c->alert_kinds[__builtin_ctz(bits)]++;
    hp->n_alert++;
    worst_insert(m, w, idx, alerts_vm_since(a));
}

void model_tick(struct model *m, uint64_t now_ms, enum colour_metric metric)
{
    struct model_counts c;
    memset(&c, 0, sizeof(c));
    double hot_v[MODEL_HOTTEST];
    for (int i = 0; i < MODEL_HOTTEST; i++) {
        m->hottest[i] = -1;
        hot_v[i] = -(double)INFINITY;
    }
    struct worst_list w = {m->worst, {0}};
    for (int i = 0; i < MODEL_WORST; i++)
        m->worst[i] = -1;
    for (uint32_t h = 0; h < m->n_hosts; h++) {
        struct model_host *hp = &m->hosts[h];
        double lim = host_interval_ms(m, hp);
        bool stale = hp->has_metrics && (double)age_ms(now_ms, hp->seen_ms) > lim;
        if (stale != hp->stale) {
            hp->stale = stale;
            m->structure_gen++;
        }
        c.hosts++;
        hp->n_alert = 0;
        if (hp->status == MODEL_HOST_OFFLINE)
            c.hosts_offline++;
        else if (hp->stale)
            c.hosts_stale++;
        else if (hp->status == MODEL_HOST_ONLINE)
            c.hosts_online++;
        else
            c.hosts_unknown++;
        for (uint32_t i = 0; i < hp->n_vms; i++) {
            uint32_t idx = hp->vms[i];
            struct model_vm *v = &m->vms[idx];
            bool vstale = (double)age_ms(now_ms, v->seen_ms) > lim;
            if (vstale != !!(v->flags & MODEL_VM_STALE)) {
                v->flags ^= MODEL_VM_STALE;
                push_dirty(m, idx);
            }
            vm_alert_tick(m, hp, idx, now_ms, &c, &w);
            c.vms++;
            switch (v->state) {
            case KG_VM_RUNNING:
            case KG_VM_BLOCKED:
                c.vms_running++;
                break;
            case KG_VM_PAUSED:
            case KG_VM_PMSUSPENDED:
                c.vms_paused++;
                break;
            case KG_VM_SHUTOFF:
            case KG_VM_SHUTDOWN:
                c.vms_shutoff++;
                break;
            default:
                c.vms_other++;
            }
            if (hp->status == MODEL_HOST_OFFLINE) {
                c.vms_offline++;
                continue;
            }
            if (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE)) {
                c.vms_stale++;
                continue;
            }
            c.vms_online++;
            double val = model_vm_value(v, metric);
            if (isnan(val))
                continue;
            for (int k = 0; k < MODEL_HOTTEST; k++) {
                if (val > hot_v[k]) {
                    for (int j = MODEL_HOTTEST - 1; j > k; j--) {
                        hot_v[j] = hot_v[j - 1];
                        m->hottest[j] = m->hottest[j - 1];
                    }
                    hot_v[k] = val;
                    m->hottest[k] = (int32_t)idx;
                    break;
                }
            }
        }
    }
    for (uint32_t i = 0; i < m->n_loads; i++)
        if (m->loads[i].status == KG_LOADST_RUNNING)
            c.loads_running++;
    for (uint32_t g = 0; g < m->n_groups; g++)
        c.links_down += m->groups[g].link == MODEL_LINK_DOWN;
    m->counts = c;
    m->ticks++;
}

char *model_printable(const char *name, size_t len, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (len == 0 || kg_topic_escape(name, len, buf, size) < 0) {
        size_t n = 0;
        for (size_t i = 0; i < len && n + 1 < size; i++) {
            unsigned char c = (unsigned char)name[i];
            buf[n++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
        }
        buf[n] = '\0';
    }
    return buf;
}

char *model_display(const char *name, size_t len, char *buf, size_t size)
{
    kg_text_visible(name, len, buf, size);
    return buf;
}

uint64_t model_bad_total(const struct model *m)
{
    uint64_t t = 0;
    for (int i = 0; i < MODEL_BAD_COUNT; i++)
        t += m->bad[i];
    return t;
}

const char *model_bad_name(enum model_bad b)
{
    static const char *const names[MODEL_BAD_COUNT] = {"topic", "status", "host", "vm", "load",
                                                       "oversized", "summary"};
    return (unsigned)b < MODEL_BAD_COUNT ? names[b] : "?";
}
