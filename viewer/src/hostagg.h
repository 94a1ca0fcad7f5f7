/* SPDX-License-Identifier: MIT */
/*
 * Host aggregates: what one host tile shows of its VMs when VM tiles would be too
 * small to see (the wall's host tiles). Per host and per metric the distribution
 * of its VMs' values as quantiles, worst first (HOSTAGG_Q of them: the worst, the
 * median at the centre, the best), so that a host with one VM at 100 % and the
 * rest idle reads differently from a host at a uniform 50 %, which an average
 * alone would not tell; and the counts of VMs that have no figure, are stale, are
 * in alert, and whether the host is offline.
 * The aggregates follow the model's dirty list: hostagg_take recomputes only the
 * hosts of VMs that changed (and everything after a full repaint or when host
 * indices moved), so a frame's work follows what changed, not the grid's size.
 * Not here: which hosts are shown and where (layout.c), painting (tiles.c).
 * Pure module: no SDL, never logs. Main thread, the model's lock held.
 */
#ifndef KG_WALL_HOSTAGG_H
#define KG_WALL_HOSTAGG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "colour.h"

struct model;

#define HOSTAGG_Q 17         /* quantiles per metric: rank fractions 0, 1/16, ... 1 */
#define HOSTAGG_MEDIAN 8     /* the quantile at rank fraction 1/2 */
#define HOSTAGG_P90 2        /* the nearest to the 90th percentile (rank 1/8 from the top) */

struct hostagg_host {
    float q[COLOUR_METRIC_COUNT][HOSTAGG_Q]; /* worst (largest) first; NaN when n_value is 0 */
    uint32_t n_value[COLOUR_METRIC_COUNT];   /* VMs with a figure for the metric */
    uint32_t n_vms, n_alert, n_stale;        /* n_alert: VMs with an active alert kind */
    bool offline;                            /* the host's status is offline */
};

struct hostagg {
    struct hostagg_host *hosts;   /* per model host index */
    size_t cap;
    uint32_t *changed;            /* host indices recomputed by the last hostagg_take */
    uint32_t n_changed;
    size_t cap_changed;
    uint32_t *mark;               /* per host: take number when last listed in changed */
    size_t cap_mark;
    uint32_t takes;
    float *scratch;               /* one host's values, sorted */
    size_t cap_scratch;
    uint64_t hosts_removed;       /* the model's hosts_removed when last taken */
    uint32_t n_hosts;             /* hosts computed: the model's n_hosts when last taken */
    bool valid;                   /* every host computed since the last reset */
};

/* Computes host index h of m into *out (the lock held). Absent figures (NaN) are
 * left out of the quantiles and counted by n_value; scratch holds at least
 * COLOUR_METRIC_COUNT times the host's VM count. Pure; O(VMs of the host log VMs). */
void hostagg_compute(const struct model *m, uint32_t h, float *scratch, struct hostagg_host *out);

/* Lock held. Brings a up to date with m: after hostagg_reset, a full repaint
 * (all), or hosts removed since the last call, every host; otherwise the hosts new
 * since the last call and the hosts of the VM slots in dirty[0..n) (model_take_dirty's list: may repeat or name VMs
 * no longer live). a->changed lists the hosts recomputed, each once. Returns 0
 * or KG_ENOMEM (a is then invalid and recomputed whole next time). */
int hostagg_take(struct hostagg *a, const struct model *m, const uint32_t *dirty, uint32_t n,
                 bool all);
/* Lock held, after hostagg_take: recomputes (and adds to a->changed) the hosts
 * whose status no longer matches their aggregate (offline): a status names no
 * dirty VM. O(hosts); for frames after the model's structure changed. */
void hostagg_sweep(struct hostagg *a, const struct model *m);
/* Forgets everything: the next hostagg_take computes every host. */
void hostagg_reset(struct hostagg *a);
/* Host index h's aggregate, or NULL when not computed. */
const struct hostagg_host *hostagg_get(const struct hostagg *a, uint32_t h);
/* The value at rank fraction frac (0: the worst, 1: the best) of metric of x:
 * the nearest stored quantile; NaN when no VM has a figure. */
double hostagg_at(const struct hostagg_host *x, enum colour_metric metric, double frac);
/* The rank fraction shown by row r of a band of rows rows, top to bottom: the
 * top row the worst, row rows / 2 the median, the last row the best (from 3
 * rows); between them evenly. */
double hostagg_row_frac(int r, int rows);
void hostagg_free(struct hostagg *a);

#endif
