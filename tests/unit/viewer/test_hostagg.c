/* SPDX-License-Identifier: MIT */
/*
 * Host tiles: the host aggregates (hostagg.c: each metric's distribution worst
 * first with absent figures left out and counted, the VMs stale and in alert, the
 * host offline; recomputed only for the hosts of dirty VMs) and the layout's
 * choice of host tiles (auto at the threshold, forced either way, never when
 * zoomed), with the host tile under a pixel and a zoom from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "grid_fixture.h"
#include "hostagg.h"
#include "kvmgrid/schema.h"
#include "layout.h"
#include "model.h"
#include "view.h"

static struct model *mk(void)
{
    struct model *m = NULL;
    assert_int_equal(model_create("kvmgrid", 3, 5.0, &m), 0);
    return m;
}

/* VM name of host at cpu % (NaN: no CPU figure) and mem %. */
static void vm(struct model *m, const char *host, const char *name, double cpu, double mem,
               bool stale, uint64_t now)
{
    struct kg_vm v;
    fixture_vm_init(&v, host, name);
    v.cpu_pct = cpu;
    v.mem_used_pct = mem;
    v.stale = stale;
    fixture_vm_apply(m, &v, now);
}

static const struct hostagg_host *agg_of(struct hostagg *a, struct model *m, const char *host)
{
    int32_t h = model_find_host(m, host, strlen(host));
    assert_true(h >= 0);
    return hostagg_get(a, (uint32_t)h);
}

/* Lock held: the model's dirty list into a's aggregates. Returns the list's length. */
static uint32_t take(struct hostagg *a, struct model *m)
{
    const uint32_t *d;
    uint32_t n = model_take_dirty(m, &d, NULL);
    assert_int_equal(hostagg_take(a, m, d, n, false), 0);
    return n;
}

/* Lock held: the end of a test. */
static void done(struct hostagg *a, struct model *m)
{
    model_unlock(m);
    hostagg_free(a);
    model_free(m);
}

static void distribution_worst_first(void **state)
{
    (void)state;
    struct model *m = mk();
    char name[16];
    for (int i = 0; i < 10; i++) { /* CPU 0, 10, ... 90 */
        snprintf(name, sizeof(name), "v%d", i);
        vm(m, "hv1", name, 10.0 * i, 50, false, 1000);
    }
    vm(m, "hv1", "nocpu", NAN, 50, false, 1000);
    struct hostagg a;
    memset(&a, 0, sizeof(a));
    model_lock(m);
    take(&a, m);
    const struct hostagg_host *x = agg_of(&a, m, "hv1");
    assert_non_null(x);
    assert_int_equal(x->n_vms, 11);
    /* the VM without a CPU figure is left out of the CPU quantiles, counted */
    assert_int_equal(x->n_value[COLOUR_METRIC_CPU], 10);
    assert_int_equal(x->n_value[COLOUR_METRIC_MEM], 11);
    assert_true(hostagg_at(x, COLOUR_METRIC_CPU, 0) == 90.0);  /* the worst */
    assert_true(hostagg_at(x, COLOUR_METRIC_CPU, 1) == 0.0);   /* the best */
    double med = hostagg_at(x, COLOUR_METRIC_CPU, 0.5);
    assert_true(med == 40.0 || med == 50.0);                   /* the middle of ten */
    assert_true((double)x->q[COLOUR_METRIC_CPU][HOSTAGG_P90] >= 70.0);
    for (int q = 1; q < HOSTAGG_Q; q++) /* worst first */
        assert_true(x->q[COLOUR_METRIC_CPU][q] <= x->q[COLOUR_METRIC_CPU][q - 1]);
    assert_true(hostagg_at(x, COLOUR_METRIC_MEM, 0) == 50.0);
    /* no figure at all: NaN (a grey tile), not 0 */
    assert_int_equal(x->n_value[COLOUR_METRIC_STEAL], 0);
    assert_true(isnan(hostagg_at(x, COLOUR_METRIC_STEAL, 0.5)));
    assert_int_equal(x->n_alert, 0);
    assert_int_equal(x->n_stale, 0);
    assert_false(x->offline);
    done(&a, m);
}

static void stale_alert_offline(void **state)
{
    (void)state;
    struct model *m = mk();
    vm(m, "hv1", "calm", 10, 20, false, 1000);
    vm(m, "hv1", "full", 10, 99, false, 1000);   /* memory over 95 %: in alert at once */
    vm(m, "hv1", "old", 10, 20, true, 1000);     /* the agent says stale */
    vm(m, "hv2", "x", 10, 20, false, 1000);
    model_apply(m, "kvmgrid/hv2/status", 18, "offline", 7, true, 1000);
    struct hostagg a;
    memset(&a, 0, sizeof(a));
    model_lock(m);
    model_tick(m, 1000, COLOUR_METRIC_CPU);
    take(&a, m);
    const struct hostagg_host *x = agg_of(&a, m, "hv1");
    assert_int_equal(x->n_vms, 3);
    assert_int_equal(x->n_alert, 2); /* memory, and stale (an alert kind of its own) */
    assert_int_equal(x->n_stale, 1);
    assert_false(x->offline);
    x = agg_of(&a, m, "hv2");
    assert_true(x->offline);
    assert_int_equal(x->n_alert, 1); /* offline is an alert kind */
    /* much later every VM is stale: the tick marks them dirty, the take sees it */
    model_tick(m, 1000 + 3600 * 1000, COLOUR_METRIC_CPU);
    take(&a, m);
    assert_int_equal(agg_of(&a, m, "hv1")->n_stale, 3);
    done(&a, m);
}

static void only_changed_hosts(void **state)
{
    (void)state;
    struct model *m = mk();
    char host[16];
    for (int h = 0; h < 5; h++) {
        snprintf(host, sizeof(host), "hv%d", h);
        vm(m, host, "a", 10, 10, false, 1000);
        vm(m, host, "b", 20, 10, false, 1000);
    }
    struct hostagg a;
    memset(&a, 0, sizeof(a));
    model_lock(m);
    take(&a, m);
    assert_int_equal(a.n_changed, 5); /* the first take: every host */
    model_unlock(m);
    vm(m, "hv3", "a", 77, 10, false, 2000);
    vm(m, "hv3", "b", 5, 10, false, 2000);
    model_lock(m);
    assert_int_equal(take(&a, m), 2);
    assert_int_equal(a.n_changed, 1); /* hv3, once for its two VMs */
    assert_int_equal(a.changed[0], (uint32_t)model_find_host(m, "hv3", 3));
    assert_true(hostagg_at(agg_of(&a, m, "hv3"), COLOUR_METRIC_CPU, 0) == 77.0);
    assert_true(hostagg_at(agg_of(&a, m, "hv2"), COLOUR_METRIC_CPU, 0) == 20.0);
    /* nothing changed: nothing recomputed; a reset or a full repaint: all */
    assert_int_equal(hostagg_take(&a, m, NULL, 0, false), 0);
    assert_int_equal(a.n_changed, 0);
    assert_int_equal(hostagg_take(&a, m, NULL, 0, true), 0);
    assert_int_equal(a.n_changed, 5);
    /* a new host without VMs names no dirty VM: computed all the same */
    model_unlock(m);
    model_apply(m, "kvmgrid/hv9/status", 18, "online", 6, true, 3000);
    model_lock(m);
    take(&a, m);
    assert_int_equal(a.n_changed, 1);
    assert_int_equal(agg_of(&a, m, "hv9")->n_vms, 0);
    assert_true(isnan(hostagg_at(agg_of(&a, m, "hv9"), COLOUR_METRIC_CPU, 0)));
    /* a host's status names no dirty VM: the sweep finds it */
    model_unlock(m);
    model_apply(m, "kvmgrid/hv4/status", 18, "offline", 7, true, 3000);
    model_lock(m);
    take(&a, m);
    assert_int_equal(a.n_changed, 0);
    hostagg_sweep(&a, m);
    assert_int_equal(a.n_changed, 1);
    assert_true(agg_of(&a, m, "hv4")->offline);
    hostagg_reset(&a);
    assert_null(hostagg_get(&a, 0));
    assert_int_equal(hostagg_take(&a, m, NULL, 0, false), 0);
    assert_int_equal(a.n_changed, 6);
    done(&a, m);
}

static void rows_worst_median_best(void **state)
{
    (void)state;
    assert_true(hostagg_row_frac(0, 1) == 0.0);
    assert_true(hostagg_row_frac(0, 2) == 0.0 && hostagg_row_frac(1, 2) == 0.5);
    assert_true(hostagg_row_frac(0, 3) == 0.0 && hostagg_row_frac(1, 3) == 0.5 &&
                hostagg_row_frac(2, 3) == 1.0);
    for (int rows = 4; rows < 40; rows++) {
        assert_true(hostagg_row_frac(0, rows) == 0.0);
        assert_true(hostagg_row_frac(rows / 2, rows) == 0.5);
        assert_true(hostagg_row_frac(rows - 1, rows) == 1.0);
        for (int r = 1; r < rows; r++)
            assert_true(hostagg_row_frac(r, rows) > hostagg_row_frac(r - 1, rows));
    }
}

static void choice_auto_and_forced(void **state)
{
    (void)state;
    struct layout_block b[4];
    /* one host of 100 VMs in 100x100: 10 px pitch, 9 px tiles */
    struct layout_params p = {{0, 0, 100, 100}, 0, 6, 0};
    uint32_t c[1] = {100};
    struct layout_result r;
    assert_int_equal(layout_compute(&p, c, 1, b, &r), 0);
    assert_int_equal(r.tile_px, 9);
    assert_false(layout_host_tiles(&p, c, 1, LAYOUT_TILES_AUTO, 9, b));
    assert_true(layout_host_tiles(&p, c, 1, LAYOUT_TILES_AUTO, 10, b));
    assert_true(layout_host_tiles(&p, c, 1, LAYOUT_TILES_HOSTS, 3, b));
    assert_false(layout_host_tiles(&p, c, 1, LAYOUT_TILES_VMS, 64, b));
    /* a million VMs in 1920x1000: far under 3 px, no search needed */
    struct layout_params big = {{0, 0, 1920, 1000}, 0, 6, 0};
    uint32_t many[4] = {250000, 250000, 250000, 250000};
    assert_true(layout_host_tiles(&big, many, 4, LAYOUT_TILES_AUTO, 3, b));
    /* area not known yet: VM tiles unless forced */
    struct layout_params none = {{0, 0, 0, 0}, 0, 6, 0};
    assert_false(layout_host_tiles(&none, many, 4, LAYOUT_TILES_AUTO, 3, b));
}

/* The fixture's grid (h1: 7 VMs, h2: none, h3: 3) as host tiles, and back. */
static void grid_host_tiles_and_zoom(void **state)
{
    struct grid_fixture *f = *state;
    struct layout_grid *g = &f->g;
    struct model *m = f->m;
    g->tiles = LAYOUT_TILES_AUTO;
    g->host_tiles_below_px = 64;
    g->params = (struct layout_params){{0, 0, 640, 400}, 0, 6, 0};
    fixture_layout(g, m); /* 11 tiles in 640x400 are far over 64 px: VM tiles */
    assert_false(g->host_tiles);
    assert_int_equal(g->n_blocks, 3);
    g->host_tiles_below_px = 200; /* now too small */
    fixture_layout(g, m);
    assert_true(g->host_tiles);
    assert_int_equal(g->n_host_tiles, 3);
    assert_int_equal(g->n_blocks, 0);
    model_lock(m);
    for (uint32_t i = 0; i < m->n_vm_slots; i++) /* no VM has a tile */
        assert_int_equal(m->vms[i].pos, -1);
    const struct model_host *h = layout_grid_host_tile(g, m, 0);
    assert_non_null(h);
    assert_string_equal(h->name, "h1"); /* by name */
    assert_string_equal(layout_grid_host_tile(g, m, 2)->name, "h3");
    assert_int_equal(g->counts[0], 7);
    assert_true(layout_grid_same_hosts(g, m)); /* nothing came or went */
    struct layout_rect t = layout_tile_rect(&g->lr, &g->host_rect, 2);
    assert_int_equal(layout_grid_host_tile_at(g, t.x + t.w / 2, t.y + t.h / 2), 2);
    assert_int_equal(layout_grid_host_tile_at(g, -1, -1), 0);
    model_unlock(m);
    /* a click on h3's tile zooms into h3, whose VMs then get tiles, forced or not */
    struct view v;
    view_init(&v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false);
    assert_true(view_zoom_at(&v, g, m, t.x + t.w / 2, t.y + t.h / 2));
    assert_true(v.zoomed);
    assert_memory_equal(v.zoom, "h3", 2);
    g->tiles = LAYOUT_TILES_HOSTS;
    model_lock(m);
    assert_int_equal(layout_grid_order(g, m, LAYOUT_SORT_NAME, v.zoom_group, v.zoom_group_len,
                                       v.zoom, v.zoom_len, 1000, NULL), 0);
    model_unlock(m);
    assert_false(g->host_tiles);
    assert_int_equal(g->n_blocks, 1);
    assert_int_equal(g->counts[0], 3);
    /* back: host tiles again */
    view_zoom_out(&v);
    fixture_layout(g, m);
    assert_true(g->host_tiles);
    model_unlock(m);
    fixture_vm(m, "h2", "new"); /* a VM came: the host tiles are laid out again */
    model_lock(m);
    assert_false(layout_grid_same_hosts(g, m));
    model_unlock(m);
    /* forced VM tiles */
    g->tiles = LAYOUT_TILES_VMS;
    fixture_layout(g, m);
    assert_false(g->host_tiles);
    assert_int_equal(g->n_blocks, 3);
    g->tiles = LAYOUT_TILES_AUTO;
    g->host_tiles_below_px = 0;
    fixture_layout(g, m);
}

static void view_tiles_keys(void **state)
{
    (void)state;
    struct view v;
    view_init(&v, VIEW_SHOW_ALL, LAYOUT_SORT_NAME, false);
    assert_int_equal(v.tiles, LAYOUT_TILES_AUTO);
    assert_int_equal(v.host_tiles_below_px, LAYOUT_HOST_TILES_BELOW_PX);
    uint64_t og = v.order_gen;
    view_next_tiles(&v);
    assert_int_equal(v.tiles, LAYOUT_TILES_HOSTS);
    view_next_tiles(&v);
    assert_int_equal(v.tiles, LAYOUT_TILES_VMS);
    view_next_tiles(&v);
    assert_int_equal(v.tiles, LAYOUT_TILES_AUTO);
    assert_true(v.order_gen == og + 3);
    view_set_tiles(&v, LAYOUT_TILES_AUTO, 0); /* nothing changed: no layout */
    assert_true(v.order_gen == og + 3);
    view_set_tiles(&v, LAYOUT_TILES_AUTO, 8);
    assert_int_equal(v.host_tiles_below_px, 8);
    assert_string_equal(view_tiles_key(LAYOUT_TILES_HOSTS), "hosts");
}

/* Orders g over m for what v shows, and places it (lock taken). */
static void order_view(struct layout_grid *g, struct model *m, const struct view *v)
{
    bool zg = v->zoomed || v->zoom_site;
    model_lock(m);
    bool gone = false;
    assert_int_equal(layout_grid_order(g, m, LAYOUT_SORT_NAME, zg ? v->zoom_group : NULL,
                                       v->zoom_group_len, v->zoomed ? v->zoom : NULL,
                                       v->zoom_len, 1000, &gone), 0);
    assert_false(gone);
    assert_int_equal(layout_grid_place(g, &g->params), 0);
    model_unlock(m);
}

/* A region (prefix "+/kvmgrid"): a click goes region -> site -> host, Esc back
 * one step at a time; a site alone shows only its hosts, ordered by name. */
static void region_site_then_host(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(model_create("+/kvmgrid", 3, 5.0, &m), 0);
    const char *topics[] = {"lyon/kvmgrid/hv2/status", "lyon/kvmgrid/hv1/status",
                            "paris/kvmgrid/hv1/status", "rome/kvmgrid/hv9/status"};
    for (size_t i = 0; i < 4; i++)
        model_apply(m, topics[i], strlen(topics[i]), "online", 6, true, 1000);
    struct layout_grid g;
    memset(&g, 0, sizeof(g));
    g.tiles = LAYOUT_TILES_HOSTS;
    g.host_tiles_below_px = 3;
    g.params = (struct layout_params){{0, 0, 640, 400}, 0, 6, 0};
    struct view v;
    view_init(&v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false);
    order_view(&g, m, &v);
    assert_int_equal(g.n_host_tiles, 4); /* lyon/hv1, lyon/hv2, paris/hv1, rome/hv9 */
    model_lock(m);
    assert_string_equal(m->groups[layout_grid_host_tile(&g, m, 1)->group].name, "lyon");
    struct layout_rect t = layout_tile_rect(&g.lr, &g.host_rect, 1);
    model_unlock(m);
    /* a click on lyon/hv2: lyon first */
    assert_true(view_zoom_at(&v, &g, m, t.x + t.w / 2, t.y + t.h / 2));
    assert_true(v.zoom_site);
    assert_false(v.zoomed);
    assert_string_equal(v.zoom_group, "lyon");
    order_view(&g, m, &v);
    assert_int_equal(g.n_host_tiles, 2);
    model_lock(m);
    assert_string_equal(layout_grid_host_tile(&g, m, 0)->name, "hv1");
    assert_string_equal(layout_grid_host_tile(&g, m, 1)->name, "hv2");
    t = layout_tile_rect(&g.lr, &g.host_rect, 1);
    model_unlock(m);
    /* then the host clicked in it */
    assert_true(view_zoom_at(&v, &g, m, t.x + t.w / 2, t.y + t.h / 2));
    assert_true(v.zoomed && v.zoom_site);
    assert_string_equal(v.zoom, "hv2");
    order_view(&g, m, &v);
    assert_false(g.host_tiles);
    assert_int_equal(g.n_blocks, 1);
    model_lock(m);
    assert_string_equal(m->hosts[g.order[0]].name, "hv2");
    assert_int_equal(m->hosts[g.order[0]].group, (uint32_t)model_find_group(m, "lyon", 4));
    model_unlock(m);
    /* Esc: the site, then the region */
    view_zoom_out(&v);
    assert_true(v.zoom_site && !v.zoomed);
    order_view(&g, m, &v);
    assert_int_equal(g.n_host_tiles, 2);
    view_zoom_out(&v);
    assert_false(v.zoom_site || v.zoomed);
    order_view(&g, m, &v);
    assert_int_equal(g.n_host_tiles, 4);
    /* a site that went (Enter on nothing named): all hosts, zoom lost */
    v.zoom_site = true;
    snprintf(v.zoom_group, sizeof(v.zoom_group), "oslo");
    v.zoom_group_len = 4;
    model_lock(m);
    bool gone = false;
    assert_int_equal(layout_grid_order(&g, m, LAYOUT_SORT_NAME, v.zoom_group, 4, NULL, 0, 1000,
                                       &gone), 0);
    model_unlock(m);
    assert_true(gone);
    assert_int_equal(g.n_host_tiles, 4);
    layout_grid_free(&g);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distribution_worst_first),
        cmocka_unit_test(stale_alert_offline),
        cmocka_unit_test(only_changed_hosts),
        cmocka_unit_test(rows_worst_median_best),
        cmocka_unit_test(choice_auto_and_forced),
        cmocka_unit_test(grid_host_tiles_and_zoom),
        cmocka_unit_test(region_site_then_host),
        cmocka_unit_test(view_tiles_keys),
    };
    return cmocka_run_group_tests(tests, grid_fixture_setup, grid_fixture_teardown);
}
