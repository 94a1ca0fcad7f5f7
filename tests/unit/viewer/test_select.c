/* SPDX-License-Identifier: MIT */
/* Operator selection on a real screen (SDL's offscreen driver): nothing without
 * operator mode; arrows walk screen order across hosts and skip hosts without VMs;
 * Down then Up comes back; selection by name and by pixel; a removed VM is no
 * longer selected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid_fixture.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "model.h"
#include "overlay.h"
#include "screen.h"
#include "selection.h"

struct fixture {
    struct model *m;
    struct screen s;
};

static int setup(void **state)
{
    static struct fixture f;
    assert_int_equal(model_create("kvmgrid", 3, 3600, &f.m), 0);
    const char *a[] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6"};
    for (size_t i = 0; i < 7; i++)
        fixture_vm(f.m, "h1", a[i]);
    model_apply(f.m, "kvmgrid/h2/status", 17, "online", 6, true, 1000); /* a host without VMs */
    fixture_vm(f.m, "h3", "c0");
    fixture_vm(f.m, "h3", "c1");
    fixture_vm(f.m, "h3", "c2");
    char err[256];
    struct render_options ro = {640, 480, false, NULL, "test", "kvmgrid", "test"};
    assert_int_equal(screen_open(&f.s, &ro, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false, err,
                                 sizeof(err)), 0);
    assert_int_equal(screen_frame(&f.s, f.m, 1000, true, NULL), 0); /* lay out */
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    screen_close(&f->s);
    model_free(f->m);
    return 0;
}

/* the selected VM's name, or "" */
static const char *sel(struct fixture *f)
{
    static char vmn[KG_NAME_MAX + 1], host[KG_NAME_MAX + 1];
    char group[KG_NAME_MAX + 1];
    size_t len, glen;
    if (!selection_get(&f->s.view, f->m, vmn, sizeof(vmn), &len, host, sizeof(host), group,
                       sizeof(group), &glen))
        return "";
    static char both[2 * KG_NAME_MAX + 2];
    snprintf(both, sizeof(both), "%s/%s", host, vmn);
    return both;
}

static void off_without_operator(void **state)
{
    struct fixture *f = *state;
    view_set_operator(&f->s.view, false);
    assert_false(selection_move(&f->s.view, &f->s.grid, f->m, 1, 0));
    assert_false(selection_name(&f->s.view, &f->s.grid, f->m, "a1", 2));
    assert_false(selection_at(&f->s.view, &f->s.grid, f->m, 100, 100));
    assert_string_equal(sel(f), "");
}

static void arrows(void **state)
{
    struct fixture *f = *state;
    view_set_operator(&f->s.view, true);
    view_clear_selection(&f->s.view);
    assert_true(selection_move(&f->s.view, &f->s.grid, f->m, 1, 0)); /* the first arrow: the first VM */
    assert_string_equal(sel(f), "h1/a0");
    for (int i = 1; i < 7; i++)
        assert_true(selection_move(&f->s.view, &f->s.grid, f->m, 1, 0));
    assert_string_equal(sel(f), "h1/a6");
    assert_true(selection_move(&f->s.view, &f->s.grid, f->m, 1, 0)); /* past h1: h2 has no VM, on to h3 */
    assert_string_equal(sel(f), "h3/c0");
    assert_true(selection_move(&f->s.view, &f->s.grid, f->m, -1, 0));
    assert_string_equal(sel(f), "h1/a6");
    assert_true(selection_name(&f->s.view, &f->s.grid, f->m, "c2", 2));
    assert_string_equal(sel(f), "h3/c2");
    assert_false(selection_move(&f->s.view, &f->s.grid, f->m, 1, 0)); /* nothing after the last VM */
    assert_string_equal(sel(f), "h3/c2");
    /* Down then Up comes back to where it started */
    assert_true(selection_name(&f->s.view, &f->s.grid, f->m, "a1", 2));
    assert_true(selection_move(&f->s.view, &f->s.grid, f->m, 0, 1));
    char down[64];
    snprintf(down, sizeof(down), "%s", sel(f));
    assert_string_not_equal(down, "h1/a1");
    assert_true(selection_move(&f->s.view, &f->s.grid, f->m, 0, -1));
    assert_string_equal(sel(f), "h1/a1");
    assert_false(selection_name(&f->s.view, &f->s.grid, f->m, "nope", 4));
    assert_string_equal(sel(f), "h1/a1");
}

static void by_pixel_and_removal(void **state)
{
    struct fixture *f = *state;
    view_set_operator(&f->s.view, true);
    char path[] = "/tmp/kg-test-select-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    model_lock(f->m);
    assert_int_equal(render_dump_layout(f->s.render, f->m, &f->s.grid, &f->s.agg, path), 0);
    model_unlock(f->m);
    FILE *lf = fopen(path, "r");
    assert_non_null(lf);
    char line[256];
    int x = -1, y = -1, t = 0;
    while (fgets(line, sizeof(line), lf))
        if (sscanf(line, "tile h3 c1 %d %d %d", &x, &y, &t) == 3)
            break;
    fclose(lf);
    remove(path);
    assert_true(t > 0);
    assert_true(selection_at(&f->s.view, &f->s.grid, f->m, x + t / 2, y + t / 2));
    assert_string_equal(sel(f), "h3/c1");
    assert_false(selection_at(&f->s.view, &f->s.grid, f->m, 0, 0)); /* header: no tile */
    assert_string_equal(sel(f), "h3/c1");
    /* the VM goes away: nothing selected any more */
    model_apply(f->m, "kvmgrid/h3/vm/c1", 16, "", 0, true, 2000);
    assert_string_equal(sel(f), "");
    assert_int_equal(screen_frame(&f->s, f->m, 2000, true, NULL), 0);
    assert_string_equal(sel(f), "");
    view_clear_selection(&f->s.view);
    assert_true(f->s.view.operator_mode);
    assert_false(f->s.view.selected);
}

/* The tooltip names a VM as its owner wrote it and prints a count as a whole
 * number ("vCPUs 4", not "4.0"). */
static void tooltip_as_written(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(model_create("kvmgrid", 3, 3600, &m), 0);
    const char *name = "web/02 #db caf\xc3\xa9";
    fixture_vm(m, "h1", name);
    struct layout_grid g;
    memset(&g, 0, sizeof(g));
    fixture_layout(&g, m);
    int x, y;
    fixture_tile_centre(&g, m, "h1", name, &x, &y);
    char tip[1024];
    model_lock(m);
    overlay_tooltip_text(&g, m, NULL, NULL, x, y, 1000, tip, sizeof(tip));
    model_unlock(m);
    if (!strstr(tip, "web/02 #db caf\xc3\xa9") || !strstr(tip, "vCPUs 4\n"))
        fail_msg("tooltip: [%s]", tip);
    layout_grid_free(&g);
    model_free(m);
}

int main(void)
{
    setenv("SDL_VIDEODRIVER", "offscreen", 1);
    setenv("SDL_RENDER_DRIVER", "software", 1);
    setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_without_operator),
        cmocka_unit_test(arrows),
        cmocka_unit_test(by_pixel_and_removal),
        cmocka_unit_test(tooltip_as_written),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
