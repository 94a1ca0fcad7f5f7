/* SPDX-License-Identifier: MIT */
/*
 * Host aggregates (see hostagg.h): each host's VMs sorted per metric into a few
 * quantiles, recomputed for the hosts the model's dirty list names.
 */
#include "hostagg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "layout.h"
#include "model.h"

static int desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x > y ? -1 : (x < y ? 1 : 0);
}

/* Largest first: insertion for a host's usual few dozen VMs (no call per
 * comparison), qsort for the rare host of hundreds. */
static void sort_desc(float *v, uint32_t n)
{
    if (n > 64) {
        qsort(v, n, sizeof(*v), desc);
        return;
    }
    for (uint32_t i = 1; i < n; i++) {
        float x = v[i];
        uint32_t j = i;
        for (; j > 0 && v[j - 1] < x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

void hostagg_compute(const struct model *m, uint32_t h, float *scratch, struct hostagg_host *out)
{
    const struct model_host *hp = &m->hosts[h];
    uint32_t nv = hp->n_vms, n[COLOUR_METRIC_COUNT] = {0};
    out->n_vms = nv;
    out->n_alert = out->n_stale = 0;
    out->offline = hp->status == MODEL_HOST_OFFLINE;
    /* one pass over the VMs: each metric's values into its own part of scratch */
    for (uint32_t i = 0; i < nv; i++) {
        const struct model_vm *v = &m->vms[hp->vms[i]];
        if (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE))
            out->n_stale++;
        /* only a VM with an alert kind over or active can be in alert */
        if ((v->flags & MODEL_VM_ALERTS) && model_vm_in_alert(m, hp->vms[i]))
            out->n_alert++;
        for (int k = 0; k < COLOUR_METRIC_COUNT; k++) {
            double x = model_vm_value(v, (enum colour_metric)k);
            if (!isnan(x))
                scratch[(size_t)k * nv + n[k]++] = (float)x;
        }
    }
    for (int k = 0; k < COLOUR_METRIC_COUNT; k++) {
        float *s = scratch + (size_t)k * nv;
        out->n_value[k] = n[k];
        sort_desc(s, n[k]);
        for (int q = 0; q < HOSTAGG_Q; q++)
            /* rank q/16 of n: (q * (n - 1) + 8) / 16, rounded as lround would */
            out->q[k][q] = n[k] == 0 ? NAN
                                     : s[((uint32_t)q * (n[k] - 1) + (HOSTAGG_Q - 1) / 2) /
                                         (HOSTAGG_Q - 1)];
    }
}

/* Recomputes host h and lists it in a->changed, once per take. False when out
 * of memory for its values. */
static bool take_host(struct hostagg *a, const struct model *m, uint32_t h)
{
    if (a->mark[h] == a->takes)
        return true;
    if (!layout_ensure((void **)&a->scratch, &a->cap_scratch,
                       (size_t)m->hosts[h].n_vms * COLOUR_METRIC_COUNT, sizeof(*a->scratch)))
        return false;
    a->mark[h] = a->takes;
    hostagg_compute(m, h, a->scratch, &a->hosts[h]);
    a->changed[a->n_changed++] = h;
    return true;
}

int hostagg_take(struct hostagg *a, const struct model *m, const uint32_t *dirty, uint32_t n,
                 bool all)
{
    uint32_t nh = m->n_hosts;
    size_t cap_mark = a->cap_mark;
    if (!layout_ensure((void **)&a->hosts, &a->cap, nh + 1, sizeof(*a->hosts)) ||
        !layout_ensure((void **)&a->mark, &cap_mark, nh + 1, sizeof(*a->mark)) ||
        !layout_ensure((void **)&a->changed, &a->cap_changed, nh + 1, sizeof(*a->changed))) {
        a->valid = false;
        return KG_ENOMEM;
    }
    /* new marks are zero, never a take number */
    if (cap_mark > a->cap_mark) {
        memset(a->mark + a->cap_mark, 0, (cap_mark - a->cap_mark) * sizeof(*a->mark));
        a->cap_mark = cap_mark;
    }
    if (++a->takes == 0) { /* wrapped: no mark may look current */
        memset(a->mark, 0, a->cap_mark * sizeof(*a->mark));
        a->takes = 1;
    }
    a->n_changed = 0;
    bool ok = true;
    if (!a->valid || all || a->hosts_removed != m->hosts_removed) {
        for (uint32_t h = 0; h < nh; h++)
            ok = take_host(a, m, h) && ok;
        a->valid = ok;
        a->hosts_removed = m->hosts_removed;
        a->n_hosts = nh;
        return ok ? 0 : KG_ENOMEM;
    }
    /* hosts new since the last take (one without VMs names no dirty VM) */
    for (uint32_t h = a->n_hosts; h < nh; h++)
        ok = take_host(a, m, h) && ok;
    a->n_hosts = nh;
    for (uint32_t i = 0; i < n; i++) {
        const struct model_vm *v = &m->vms[dirty[i]];
        if ((v->flags & MODEL_VM_LIVE) && v->host < nh)
            ok = take_host(a, m, v->host) && ok;
    }
    if (!ok)
        a->valid = false;
    return ok ? 0 : KG_ENOMEM;
}

void hostagg_sweep(struct hostagg *a, const struct model *m)
{
    if (!a->valid)
        return;
    for (uint32_t h = 0; h < m->n_hosts && h < a->n_hosts; h++)
        if (a->hosts[h].offline != (m->hosts[h].status == MODEL_HOST_OFFLINE) &&
            !take_host(a, m, h))
            a->valid = false;
}

void hostagg_reset(struct hostagg *a)
{
    a->valid = false;
}

const struct hostagg_host *hostagg_get(const struct hostagg *a, uint32_t h)
{
    return a->valid && h < a->n_hosts ? &a->hosts[h] : NULL;
}

double hostagg_at(const struct hostagg_host *x, enum colour_metric metric, double frac)
{
    if ((int)metric < 0 || metric >= COLOUR_METRIC_COUNT || x->n_value[metric] == 0)
        return (double)NAN;
    long q = lround(frac * (HOSTAGG_Q - 1));
    if (q < 0)
        q = 0;
    if (q > HOSTAGG_Q - 1)
        q = HOSTAGG_Q - 1;
    return (double)x->q[metric][q];
}

double hostagg_row_frac(int r, int rows)
{
    if (rows <= 1 || r <= 0)
        return 0.0;
    int mid = rows / 2;
    if (r <= mid)
        return 0.5 * r / mid;
    if (r >= rows - 1)
        return 1.0;
    return 0.5 + 0.5 * (r - mid) / (rows - 1 - mid);
}

void hostagg_free(struct hostagg *a)
{
    if (a == NULL)
        return;
    free(a->hosts);
    free(a->changed);
    free(a->mark);
    free(a->scratch);
    memset(a, 0, sizeof(*a));
}
