/* SPDX-License-Identifier: MIT */
/*
 * Operator selection over a grid, without SDL: nothing without operator mode;
 * arrows walk screen order across hosts and skip hosts without VMs; rows move
 * within a block and on into the next; selection by name and by pixel; a removed
 * VM is no longer selected; the layout's order (VMs sorted by name, pos numbered)
 * is what the selection walks; a removed host's moved index is never read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "grid_fixture.h"
#include "selection.h"

/* "host/vm" of the selection, or "" */
static const char *sel(struct grid_fixture *f)
{
    static char vm[KG_NAME_MAX + 1], host[KG_NAME_MAX + 1], both[2 * KG_NAME_MAX + 2];
    char group[KG_NAME_MAX + 1];
    size_t len, glen;
    if (!selection_get(&f->v, f->m, vm, sizeof(vm), &len, host, sizeof(host), group,
                       sizeof(group), &glen))
        return "";
    assert_int_equal(len, strlen(vm));
    snprintf(both, sizeof(both), "%s/%s", host, vm);
    return both;
}

static void off_without_operator(void **state)
{
    struct grid_fixture *f = *state;
    view_set_operator(&f->v, false);
    assert_false(selection_move(&f->v, &f->g, f->m, 1, 0));
    assert_false(selection_name(&f->v, &f->g, f->m, "a1", 2));
    int x, y;
    fixture_tile_centre(&f->g, f->m, "h1", "a1", &x, &y);
    assert_false(selection_at(&f->v, &f->g, f->m, x, y));
    assert_string_equal(sel(f), "");
    /* a selection made in operator mode is gone when it is switched off */
    view_set_operator(&f->v, true);
    assert_true(selection_name(&f->v, &f->g, f->m, "a1", 2));
    view_set_operator(&f->v, false);
    assert_false(f->v.selected);
    assert_string_equal(sel(f), "");
    view_set_operator(&f->v, true);
}

static void layout_order_and_pos(void **state)
{
    struct grid_fixture *f = *state;
    /* blocks by host name; VMs by name in each, numbered 0.. */
    assert_int_equal(f->g.n_blocks, 3);
    model_lock(f->m);
    const char *names[] = {"h1", "h2", "h3"};
    for (size_t b = 0; b < 3; b++) {
        const struct model_host *h = &f->m->hosts[f->g.order[b]];
        assert_int_equal(h->name_len, 2);
        assert_memory_equal(h->name, names[b], 2);
        assert_int_equal(f->g.counts[b], h->n_vms);
        for (uint32_t j = 0; j < h->n_vms; j++) {
            const struct model_vm *v = &f->m->vms[h->vms[j]];
            assert_int_equal(v->pos, (int32_t)j);
            assert_int_equal(v->name[1], '0' + (char)j);
        }
    }
    model_unlock(f->m);
}

static void arrows(void **state)
{
    struct grid_fixture *f = *state;
    view_clear_selection(&f->v);
    assert_true(selection_move(&f->v, &f->g, f->m, 1, 0)); /* the first arrow: the first VM */
    assert_string_equal(sel(f), "h1/a0");
    for (int i = 1; i < 7; i++)
        assert_true(selection_move(&f->v, &f->g, f->m, 1, 0));
    assert_string_equal(sel(f), "h1/a6");
    assert_true(selection_move(&f->v, &f->g, f->m, 1, 0)); /* past h1: h2 has no VM, on to h3 */
    assert_string_equal(sel(f), "h3/c0");
    assert_true(selection_move(&f->v, &f->g, f->m, -1, 0));
    assert_string_equal(sel(f), "h1/a6");
    assert_true(selection_name(&f->v, &f->g, f->m, "c2", 2));
    assert_string_equal(sel(f), "h3/c2");
    assert_false(selection_move(&f->v, &f->g, f->m, 1, 0)); /* nothing after the last VM */
    assert_string_equal(sel(f), "h3/c2");
    assert_true(selection_name(&f->v, &f->g, f->m, "a0", 2));
    assert_false(selection_move(&f->v, &f->g, f->m, -1, 0)); /* nothing before the first */
    assert_string_equal(sel(f), "h1/a0");
}

static void rows(void **state)
{
    struct grid_fixture *f = *state;
    int cols = f->g.blocks[0].tiles_x;
    assert_true(cols >= 1);
    /* Down then Up comes back to where it started */
    assert_true(selection_name(&f->v, &f->g, f->m, "a1", 2));
    assert_true(selection_move(&f->v, &f->g, f->m, 0, 1));
    char down[64];
    snprintf(down, sizeof(down), "%s", sel(f));
    assert_string_not_equal(down, "h1/a1");
    if (cols < 7) { /* still in h1: one row further */
        char want[16];
        snprintf(want, sizeof(want), "h1/a%d", 1 + cols);
        assert_string_equal(down, want);
    }
    assert_true(selection_move(&f->v, &f->g, f->m, 0, -1));
    assert_string_equal(sel(f), "h1/a1");
    /* up from the first row of h3: into h1's last row, same column or its last */
    assert_true(selection_name(&f->v, &f->g, f->m, "c0", 2));
    assert_true(selection_move(&f->v, &f->g, f->m, 0, -1));
    assert_memory_equal(sel(f), "h1/", 3);
    assert_false(selection_name(&f->v, &f->g, f->m, "nope", 4));
}

static void by_pixel_and_removal(void **state)
{
    struct grid_fixture *f = *state;
    int x, y;
    fixture_tile_centre(&f->g, f->m, "h3", "c1", &x, &y);
    assert_true(selection_at(&f->v, &f->g, f->m, x, y));
    assert_string_equal(sel(f), "h3/c1");
    int32_t b = -1, vi = -1;
    model_lock(f->m);
    assert_true(selection_find(&f->v, &f->g, f->m, &b, &vi));
    model_unlock(f->m);
    assert_int_equal(b, 2);
    assert_false(selection_at(&f->v, &f->g, f->m, 1000, 1000)); /* outside the grid */
    assert_string_equal(sel(f), "h3/c1");
    /* the VM goes away: nothing selected any more, before and after a layout */
    model_apply(f->m, "kvmgrid/h3/vm/c1", 16, "", 0, true, 2000);
    assert_string_equal(sel(f), "");
    fixture_layout(&f->g, f->m);
    assert_string_equal(sel(f), "");
    model_lock(f->m);
    assert_false(selection_find(&f->v, &f->g, f->m, &b, &vi));
    model_unlock(f->m);
    /* a selection's change asks for the status line and the frame */
    uint64_t chrome = f->v.chrome_gen, overlay = f->v.overlay_gen;
    assert_true(selection_name(&f->v, &f->g, f->m, "c2", 2));
    assert_true(f->v.chrome_gen > chrome && f->v.overlay_gen > overlay);
}

/* A host removed moves the last host into its index: until the grid is ordered
 * again nothing reads a block's host (no stale or moved index), and after it
 * the moved host is selectable where it now stands. */
static void host_removed_before_the_layout(void **state)
{
    (void)state;
    struct model *m;
    struct layout_grid g;
    struct view v;
    fixture_grid(&m, &g);
    view_init(&v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, true);
    int x, y;
    fixture_tile_centre(&g, m, "h3", "c1", &x, &y);
    char topic[64];
    for (int i = 0; i < 7; i++) {
        snprintf(topic, sizeof(topic), "kvmgrid/h1/vm/a%d", i);
        model_apply(m, topic, strlen(topic), "", 0, true, 2000);
    }
    model_lock(m);
    assert_int_equal(m->n_hosts, 2); /* h1 went, h3 took its index */
    for (size_t b = 0; b < g.n_blocks; b++)
        assert_null(layout_grid_host(&g, m, b));
    model_unlock(m);
    assert_false(selection_at(&v, &g, m, x, y));
    assert_false(selection_name(&v, &g, m, "c1", 2));
    fixture_layout(&g, m);
    fixture_tile_centre(&g, m, "h3", "c1", &x, &y);
    assert_true(selection_at(&v, &g, m, x, y));
    layout_grid_free(&g);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_without_operator),
        cmocka_unit_test(layout_order_and_pos),
        cmocka_unit_test(arrows),
        cmocka_unit_test(rows),
        cmocka_unit_test(by_pixel_and_removal),
        cmocka_unit_test(host_removed_before_the_layout),
    };
    return cmocka_run_group_tests(tests, grid_fixture_setup, grid_fixture_teardown);
}
