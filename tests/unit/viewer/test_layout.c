/* SPDX-License-Identifier: MIT */
/*
 * Layout of the wall: every tile on screen, all the same size, none overlapping,
 * as large as the area allows, for 1, 60, 1000 and 2000 hosts and up to 100k VMs;
 * tile hit-testing; the stable host orders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "grid_fixture.h"
#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "layout.h"

/* Lays out counts in W x H (at offset 10, 30), then checks every tile with a coverage
 * bitmap: inside the area, no pixel covered twice, not in any label band. Returns
 * the pitch. */
static int check_layout(const uint32_t *counts, size_t n, int W, int H)
{
    struct layout_params p = {{10, 30, W, H}, 14, 6, 0};
    struct layout_block *blocks = calloc(n, sizeof(*blocks));
    assert_non_null(blocks);
    struct layout_result r;
    assert_int_equal(layout_compute(&p, counts, n, blocks, &r), 0);
    assert_true(r.tile_px >= 1);
    assert_true(r.pitch_px >= r.tile_px);
    assert_int_equal(r.labels, r.pitch_px >= 6);
    unsigned char *cov = calloc((size_t)W * H, 1);
    assert_non_null(cov);
    uint64_t tiles = 0;
    for (size_t i = 0; i < n; i++) {
        const struct layout_block *b = &blocks[i];
        assert_int_equal(b->tiles_y * 0 + b->rect.h, blocks[0].rect.h); /* equal block height */
        assert_true(b->tiles_y <= r.rows_per_block);
        assert_true(b->rect.x >= 10 && b->rect.y >= 30);
        assert_true(b->rect.x + b->rect.w <= 10 + W);
        assert_true(b->rect.y + b->rect.h <= 30 + H);
        uint32_t cnt = counts[i];
        assert_true((uint64_t)b->tiles_x * (uint64_t)b->tiles_y >= cnt);
        for (uint32_t t = 0; t < cnt; t++) {
            struct layout_rect tr = layout_tile_rect(&r, b, t);
            assert_int_equal(tr.w, r.tile_px);
            assert_int_equal(tr.h, r.tile_px);
            assert_true(tr.x >= b->rect.x && tr.x + tr.w <= b->rect.x + b->rect.w);
            assert_true(tr.y >= b->rect.y + r.label_h_px && tr.y + tr.h <= b->rect.y + b->rect.h);
            for (int y = tr.y; y < tr.y + tr.h; y++) {
                for (int x = tr.x; x < tr.x + tr.w; x++) {
                    unsigned char *c = &cov[(size_t)(y - 30) * W + (x - 10)];
                    assert_int_equal(*c, 0);
                    *c = 1;
                }
            }
            /* hit test finds the same tile at its centre */
            assert_int_equal(layout_tile_at(&r, b, tr.x + tr.w / 2, tr.y + tr.h / 2), (int)t);
            tiles++;
        }
        /* label band does not overlap tiles of other blocks */
        for (int y = b->rect.y; y < b->rect.y + r.label_h_px; y++)
            for (int x = b->rect.x; x < b->rect.x + b->rect.w; x++)
                assert_int_equal(cov[(size_t)(y - 30) * W + (x - 10)], 0);
    }
    free(cov);
    free(blocks);
    return r.pitch_px;
}

static void fill(uint32_t *c, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++)
        c[i] = v;
}

static void one_host_three_vms(void **state)
{
    (void)state;
    uint32_t c[1] = {3};
    int pitch = check_layout(c, 1, 1920, 1000);
    assert_true(pitch >= 500); /* three huge tiles */
}

static void sixty_hosts(void **state)
{
    (void)state;
    uint32_t c[60];
    fill(c, 60, 50);
    int pitch = check_layout(c, 60, 1920, 1000);
    /* 3000 tiles in 1.92 Mpx: ideal pitch 25; gaps and labels cost some */
    assert_true(pitch >= 16);
}

static void thousand_hosts(void **state)
{
    (void)state;
    uint32_t *c = malloc(1000 * sizeof(*c));
    fill(c, 1000, 50);
    int pitch = check_layout(c, 1000, 1920, 1000);
    assert_true(pitch >= 4);
    free(c);
}

static void two_thousand_hosts_100k_vms(void **state)
{
    (void)state;
    uint32_t *c = malloc(2000 * sizeof(*c));
    fill(c, 2000, 50);
    int pitch = check_layout(c, 2000, 1920, 1000);
    assert_true(pitch >= 3);
    free(c);
}

static void uneven_hosts(void **state)
{
    (void)state;
    uint32_t *c = malloc(2000 * sizeof(*c));
    uint32_t seed = 12345, total = 0;
    for (size_t i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        c[i] = (seed >> 16) % 100; /* 0..99, some hosts without VMs */
        total += c[i];
    }
    assert_true(total > 90000);
    int pitch = check_layout(c, 2000, 1920, 1000);
    assert_true(pitch >= 2);
    /* one host with everything, and small windows */
    uint32_t big = 100000;
    assert_true(check_layout(&big, 1, 1920, 1000) >= 3);
    uint32_t few[5] = {1, 200, 3, 0, 40};
    check_layout(few, 5, 320, 200);
    free(c);
}

static void too_many_for_the_area(void **state)
{
    (void)state;
    uint32_t c[2] = {5000, 5000};
    struct layout_params p = {{0, 0, 50, 50}, 14, 6, 0};
    struct layout_block b[2];
    struct layout_result r;
    assert_int_equal(layout_compute(&p, c, 2, b, &r), KG_ERANGE);
    assert_int_equal(r.tile_px, 1);
    struct layout_params bad = {{0, 0, 0, 50}, 14, 6, 0};
    assert_int_equal(layout_compute(&bad, c, 2, b, &r), KG_EINVAL);
    assert_int_equal(layout_compute(&p, NULL, 0, NULL, &r), 0);
}

static void max_pitch_and_labels(void **state)
{
    (void)state;
    uint32_t c[1] = {3};
    struct layout_params p = {{0, 0, 1920, 1080}, 20, 6, 100};
    struct layout_block b[1];
    struct layout_result r;
    assert_int_equal(layout_compute(&p, c, 1, b, &r), 0);
    assert_int_equal(r.pitch_px, 100);
    assert_true(r.labels);
    assert_int_equal(r.label_h_px, 20);
    assert_int_equal(layout_tile_at(&r, b, b[0].rect.x + 1, b[0].rect.y + 1), -1); /* label */
}

static void natural_names(void **state)
{
    (void)state;
    assert_true(layout_name_cmp("h2", 2, "h10", 3) < 0);
    assert_true(layout_name_cmp("h10", 3, "h2", 2) > 0);
    assert_true(layout_name_cmp("a", 1, "b", 1) < 0);
    assert_true(layout_name_cmp("h01", 3, "h1", 2) != 0); /* total order */
    assert_int_equal(layout_name_cmp("x9", 2, "x9", 2), 0);
    assert_true(layout_name_cmp("a", 1, "ab", 2) < 0);
    assert_true(layout_name_cmp("a\0b", 3, "a\0c", 3) < 0);
}

static void sort_orders(void **state)
{
    (void)state;
    struct layout_sort_key k[5] = {{"node10", 6, 50, NULL, 0}, {"node2", 5, 90, NULL, 0},
                                   {"node1", 5, NAN, NULL, 0}, {"alpha", 5, 90, NULL, 0},
                                   {"node3", 5, 10, NULL, 0}};
    uint32_t o[5];
    assert_int_equal(layout_sort(k, 5, LAYOUT_SORT_NAME, o), 0);
    uint32_t by_name[5] = {3, 2, 1, 4, 0};
    assert_memory_equal(o, by_name, sizeof(o));
    assert_int_equal(layout_sort(k, 5, LAYOUT_SORT_LOAD, o), 0);
    uint32_t by_load[5] = {3, 1, 0, 4, 2}; /* 90 alpha, 90 node2, 50, 10, NaN last */
    assert_memory_equal(o, by_load, sizeof(o));
    /* stability: identical keys keep their index order */
    struct layout_sort_key same[4] = {
        {"x", 1, 1, NULL, 0}, {"x", 1, 1, NULL, 0}, {"x", 1, 1, "", 0}, {"x", 1, 1, NULL, 0}};
    assert_int_equal(layout_sort(same, 4, LAYOUT_SORT_LOAD, o), 0);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(o[i], i);
    /* groups (sites) first, natural order, then names; by load, ties by group */
    struct layout_sort_key gk[4] = {{"a", 1, 5, "site10", 6}, {"b", 1, 7, "site2", 5},
                                    {"a", 1, 7, "site2", 5}, {"z", 1, 5, NULL, 0}};
    assert_int_equal(layout_sort(gk, 4, LAYOUT_SORT_NAME, o), 0);
    uint32_t g_name[4] = {3, 2, 1, 0};
    assert_memory_equal(o, g_name, sizeof(g_name));
    assert_int_equal(layout_sort(gk, 4, LAYOUT_SORT_LOAD, o), 0);
    uint32_t g_load[4] = {2, 1, 3, 0};
    assert_memory_equal(o, g_load, sizeof(g_load));
    /* large random set is ordered */
    enum { N = 3000 };
    static char names[N][16];
    static struct layout_sort_key big[N];
    static uint32_t ob[N];
    uint32_t seed = 7;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        int len = snprintf(names[i], sizeof(names[i]), "h%u", (seed >> 8) % 5000);
        big[i].name = names[i];
        big[i].name_len = (size_t)len;
        big[i].load = (double)((seed >> 4) % 100);
    }
    assert_int_equal(layout_sort(big, N, LAYOUT_SORT_NAME, ob), 0);
    for (int i = 1; i < N; i++) {
        int c = layout_name_cmp(big[ob[i - 1]].name, big[ob[i - 1]].name_len, big[ob[i]].name,
                                big[ob[i]].name_len);
        assert_true(c < 0 || (c == 0 && ob[i - 1] < ob[i]));
    }
    assert_int_equal(layout_sort(big, N, LAYOUT_SORT_LOAD, ob), 0);
    for (int i = 1; i < N; i++)
        assert_true(big[ob[i - 1]].load >= big[ob[i]].load);
}

/* VM name of host h's list entry j. */
static const char *vm_at(const struct model *m, const char *host, uint32_t j)
{
    int32_t h = model_find_host(m, host, strlen(host));
    assert_true(h >= 0 && j < m->hosts[h].n_vms);
    return m->vms[m->hosts[h].vms[j]].name;
}

static int32_t pos_of(const struct model *m, const char *host, const char *vm)
{
    int32_t h = model_find_host(m, host, strlen(host));
    int32_t v = model_find_vm(m, (uint32_t)h, vm, strlen(vm));
    assert_true(v >= 0);
    return m->vms[v].pos;
}

/* A new sample of host/vm with memory at mem_pct (over 95 %: in alert at once, by
 * the default rules), then the tick that settles the alert states. */
static void memory(struct model *m, const char *host, const char *vm, double mem_pct,
                   uint64_t now_ms)
{
    struct kg_vm v;
    fixture_vm_init(&v, host, vm);
    v.mem_used_pct = mem_pct;
    fixture_vm_apply(m, &v, now_ms);
    model_lock(m);
    model_tick(m, now_ms, COLOUR_METRIC_CPU);
    model_unlock(m);
}

static void order(struct layout_grid *g, struct model *m, const char *zoom)
{
    model_lock(m);
    assert_int_equal(layout_grid_order(g, m, LAYOUT_SORT_NAME, NULL, 0, zoom, zoom ? strlen(zoom) : 0, 5000,
                                       NULL), 0);
    model_unlock(m);
}

static bool filter_stale(const struct layout_grid *g, struct model *m)
{
    model_lock(m);
    bool stale = layout_grid_filter_stale(g, m);
    model_unlock(m);
    return stale;
}

/* Alerts only: the VMs in alert get tiles (first in their host's list, by name),
 * a host without one gets no block; the grid knows when the alert set moved on. */
static void alerts_only_filter(void **state)
{
    (void)state;
    struct model *m;
    struct layout_grid g;
    fixture_grid(&m, &g); /* h1: a0..a6, h2: none, h3: c0..c2 */
    memory(m, "h1", "a5", 99, 2000);
    memory(m, "h3", "c1", 99, 2000);
    memory(m, "h1", "a2", 99, 2000);
    assert_int_equal(m->counts.vms_alert, 3);
    assert_false(filter_stale(&g, m)); /* no filter: never */

    g.alerts_only = true;
    assert_true(filter_stale(&g, m)); /* every VM had a tile */
    order(&g, m, NULL);
    assert_int_equal(g.n_blocks, 2);            /* h2 has no VM in alert */
    assert_int_equal(g.counts[0], 2);
    assert_int_equal(g.counts[1], 1);
    assert_string_equal(vm_at(m, "h1", 0), "a2");
    assert_string_equal(vm_at(m, "h1", 1), "a5");
    assert_string_equal(vm_at(m, "h1", 2), "a0"); /* the others after them, by name */
    assert_string_equal(vm_at(m, "h1", 6), "a6");
    assert_int_equal(pos_of(m, "h1", "a2"), 0);
    assert_int_equal(pos_of(m, "h1", "a5"), 1);
    assert_int_equal(pos_of(m, "h1", "a0"), -1);
    assert_int_equal(pos_of(m, "h3", "c1"), 0);
    assert_int_equal(pos_of(m, "h3", "c0"), -1);
    assert_false(filter_stale(&g, m));

    /* a5 recovers, a0 goes into alert: stale until ordered again */
    memory(m, "h1", "a5", 10, 3000);
    assert_true(filter_stale(&g, m));
    memory(m, "h1", "a0", 99, 3000);
    order(&g, m, NULL);
    assert_int_equal(g.counts[0], 2);
    assert_string_equal(vm_at(m, "h1", 0), "a0");
    assert_string_equal(vm_at(m, "h1", 1), "a2");
    assert_int_equal(pos_of(m, "h1", "a5"), -1);

    /* zoomed into h3: h1's alerts are not the grid's business */
    order(&g, m, "h3");
    assert_int_equal(g.n_blocks, 1);
    memory(m, "h1", "a6", 99, 4000);
    assert_false(filter_stale(&g, m));
    memory(m, "h3", "c2", 99, 4000);
    assert_true(filter_stale(&g, m));

    /* nobody in alert: no block at all */
    const char *calm[][2] = {{"h1", "a0"}, {"h1", "a2"}, {"h1", "a6"}, {"h3", "c1"}, {"h3", "c2"}};
    for (size_t i = 0; i < 5; i++)
        memory(m, calm[i][0], calm[i][1], 10, 5000);
    assert_int_equal(m->counts.vms_alert, 0);
    order(&g, m, NULL);
    assert_int_equal(g.n_blocks, 0);

    /* the filter off: every VM, by name */
    g.alerts_only = false;
    order(&g, m, NULL);
    assert_int_equal(g.n_blocks, 3);
    assert_int_equal(g.counts[0], 7);
    for (uint32_t j = 0; j < 7; j++) {
        char want[8];
        snprintf(want, sizeof(want), "a%u", j);
        assert_string_equal(vm_at(m, "h1", j), want);
        assert_int_equal(pos_of(m, "h1", want), (int32_t)j);
    }
    layout_grid_free(&g);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_host_three_vms),
        cmocka_unit_test(sixty_hosts),
        cmocka_unit_test(thousand_hosts),
        cmocka_unit_test(two_thousand_hosts_100k_vms),
        cmocka_unit_test(uneven_hosts),
        cmocka_unit_test(too_many_for_the_area),
        cmocka_unit_test(max_pitch_and_labels),
        cmocka_unit_test(natural_names),
        cmocka_unit_test(sort_orders),
        cmocka_unit_test(alerts_only_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
