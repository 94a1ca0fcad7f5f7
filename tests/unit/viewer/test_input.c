/* SPDX-License-Identifier: MIT */
/*
 * Keys and clicks on the view, without SDL: metric keys (0 all, 1-5 one, m
 * through all of them) ask the loop to recount and stop the rotation, r resumes
 * or stops it, a toggles the alerts-only filter; s toggles the sort; p, h toggle; q, the window's close
 * and F11 go to the loop; a click zooms into the host under it, or selects in
 * operator mode; Enter zooms under the mouse or else into the first host; Esc
 * closes the help overlay, then zooms out, then leaves the alerts-only filter,
 * then clears the selection; arrows select only in operator mode;
 * F5..F8 ask to send presets 0..3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "grid_fixture.h"
#include "input.h"

static enum input_action key(struct grid_fixture *f, enum input_key k, int x, int y, int *preset)
{
    struct input_event ev = {INPUT_EV_KEY, k, x, y};
    int p = -1;
    enum input_action a = input_apply(&ev, &f->v, &f->g, f->m, &p);
    if (preset != NULL)
        *preset = p;
    return a;
}

static enum input_action click(struct grid_fixture *f, int x, int y)
{
    struct input_event ev = {INPUT_EV_CLICK, INPUT_KEY_NONE, x, y};
    int p = -1;
    return input_apply(&ev, &f->v, &f->g, f->m, &p);
}

static void view_keys(void **state)
{
    struct grid_fixture *f = *state;
    view_init(&f->v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false);
    assert_int_equal(key(f, INPUT_KEY_METRIC_3, -1, -1, NULL), INPUT_METRIC);
    assert_int_equal(f->v.metric, COLOUR_METRIC_DISK);
    assert_int_equal(key(f, INPUT_KEY_METRIC_5, -1, -1, NULL), INPUT_METRIC);
    assert_int_equal(f->v.metric, COLOUR_METRIC_STEAL);
    assert_int_equal(key(f, INPUT_KEY_METRIC_NEXT, -1, -1, NULL), INPUT_METRIC);
    assert_true(f->v.all);
    assert_int_equal(key(f, INPUT_KEY_METRIC_NEXT, -1, -1, NULL), INPUT_METRIC);
    assert_int_equal(f->v.metric, COLOUR_METRIC_CPU);
    assert_false(f->v.all);
    assert_int_equal(key(f, INPUT_KEY_METRIC_ALL, -1, -1, NULL), INPUT_METRIC);
    assert_true(f->v.all);
    assert_int_equal(key(f, INPUT_KEY_SORT, -1, -1, NULL), INPUT_DONE);
    assert_int_equal(f->v.sort, LAYOUT_SORT_LOAD);
    assert_int_equal(key(f, INPUT_KEY_PAUSE, -1, -1, NULL), INPUT_DONE);
    assert_true(f->v.paused);
    assert_int_equal(key(f, INPUT_KEY_PAUSE, -1, -1, NULL), INPUT_DONE);
    assert_false(f->v.paused);
    assert_int_equal(key(f, INPUT_KEY_HELP, -1, -1, NULL), INPUT_DONE);
    assert_true(f->v.help);
    assert_int_equal(key(f, INPUT_KEY_NONE, -1, -1, NULL), INPUT_DONE);
}

static void rotate_and_alerts_keys(void **state)
{
    struct grid_fixture *f = *state;
    view_init(&f->v, VIEW_SHOW_ALL, LAYOUT_SORT_NAME, false);
    view_set_rotation(&f->v, 5000);
    assert_true(f->v.rotating);
    assert_int_equal(key(f, INPUT_KEY_ROTATE, -1, -1, NULL), INPUT_DONE);
    assert_false(f->v.rotating);
    assert_int_equal(key(f, INPUT_KEY_ROTATE, -1, -1, NULL), INPUT_DONE);
    assert_true(f->v.rotating);
    assert_int_equal(f->v.rotate_ms, 5000);
    /* any metric key stops the rotation: the operator reads that metric */
    assert_int_equal(key(f, INPUT_KEY_METRIC_2, -1, -1, NULL), INPUT_METRIC);
    assert_false(f->v.rotating);
    key(f, INPUT_KEY_ROTATE, -1, -1, NULL);
    assert_int_equal(key(f, INPUT_KEY_METRIC_ALL, -1, -1, NULL), INPUT_METRIC);
    assert_false(f->v.rotating);
    key(f, INPUT_KEY_ROTATE, -1, -1, NULL);
    assert_int_equal(key(f, INPUT_KEY_METRIC_NEXT, -1, -1, NULL), INPUT_METRIC);
    assert_false(f->v.rotating);
    /* a: the alerts-only filter on and off; Esc leaves it after help and zoom */
    assert_int_equal(key(f, INPUT_KEY_ALERTS, -1, -1, NULL), INPUT_DONE);
    assert_true(f->v.alerts_only);
    assert_int_equal(key(f, INPUT_KEY_ALERTS, -1, -1, NULL), INPUT_DONE);
    assert_false(f->v.alerts_only);
    key(f, INPUT_KEY_ALERTS, -1, -1, NULL);
    key(f, INPUT_KEY_ZOOM, -1, -1, NULL);
    key(f, INPUT_KEY_HELP, -1, -1, NULL);
    key(f, INPUT_KEY_BACK, -1, -1, NULL);
    assert_false(f->v.help);
    assert_true(f->v.zoomed && f->v.alerts_only);
    key(f, INPUT_KEY_BACK, -1, -1, NULL);
    assert_false(f->v.zoomed);
    assert_true(f->v.alerts_only);
    key(f, INPUT_KEY_BACK, -1, -1, NULL);
    assert_false(f->v.alerts_only);
}

static void loop_actions(void **state)
{
    struct grid_fixture *f = *state;
    view_init(&f->v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false);
    assert_int_equal(key(f, INPUT_KEY_QUIT, -1, -1, NULL), INPUT_QUIT);
    struct input_event close = {INPUT_EV_QUIT, INPUT_KEY_NONE, 0, 0};
    int p = -1;
    assert_int_equal(input_apply(&close, &f->v, &f->g, f->m, &p), INPUT_QUIT);
    struct input_event none = {INPUT_EV_NONE, INPUT_KEY_NONE, 0, 0};
    assert_int_equal(input_apply(&none, &f->v, &f->g, f->m, &p), INPUT_DONE);
    assert_int_equal(key(f, INPUT_KEY_FULLSCREEN, -1, -1, NULL), INPUT_FULLSCREEN);
    const enum input_key ops[] = {INPUT_KEY_OP_1, INPUT_KEY_OP_2, INPUT_KEY_OP_3, INPUT_KEY_OP_4};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(key(f, ops[i], -1, -1, &p), INPUT_SEND);
        assert_int_equal(p, i);
    }
}

static void zoom_and_back(void **state)
{
    struct grid_fixture *f = *state;
    view_init(&f->v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false);
    int x, y;
    fixture_tile_centre(&f->g, f->m, "h3", "c1", &x, &y);
    assert_int_equal(click(f, x, y), INPUT_DONE);
    assert_true(f->v.zoomed);
    assert_string_equal(f->v.zoom, "h3");
    assert_false(f->v.selected); /* without operator mode a click never selects */
    assert_int_equal(key(f, INPUT_KEY_BACK, -1, -1, NULL), INPUT_DONE);
    assert_false(f->v.zoomed);
    /* Enter: under the mouse, else the first host */
    assert_int_equal(key(f, INPUT_KEY_ZOOM, 1000, 1000, NULL), INPUT_DONE);
    assert_true(f->v.zoomed);
    assert_string_equal(f->v.zoom, "h1");
    key(f, INPUT_KEY_BACK, -1, -1, NULL);
    assert_int_equal(key(f, INPUT_KEY_ZOOM, x, y, NULL), INPUT_DONE);
    assert_string_equal(f->v.zoom, "h3");
    key(f, INPUT_KEY_BACK, -1, -1, NULL);
    /* arrows need operator mode */
    assert_int_equal(key(f, INPUT_KEY_RIGHT, -1, -1, NULL), INPUT_DONE);
    assert_false(f->v.selected);
}

static void operator_clicks_and_arrows(void **state)
{
    struct grid_fixture *f = *state;
    view_init(&f->v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, true);
    int x, y;
    fixture_tile_centre(&f->g, f->m, "h3", "c1", &x, &y);
    assert_int_equal(click(f, x, y), INPUT_DONE);
    assert_false(f->v.zoomed); /* operators zoom with Enter */
    assert_true(f->v.selected);
    assert_string_equal(f->v.sel_vm, "c1");
    assert_int_equal(key(f, INPUT_KEY_LEFT, -1, -1, NULL), INPUT_DONE);
    assert_string_equal(f->v.sel_vm, "c0");
    assert_int_equal(key(f, INPUT_KEY_LEFT, -1, -1, NULL), INPUT_DONE);
    assert_string_equal(f->v.sel_vm, "a6"); /* over h2, which has no VM */
    assert_int_equal(key(f, INPUT_KEY_RIGHT, -1, -1, NULL), INPUT_DONE);
    assert_string_equal(f->v.sel_vm, "c0");
    key(f, INPUT_KEY_UP, -1, -1, NULL);
    assert_string_equal(f->v.sel_host, "h1");
    key(f, INPUT_KEY_DOWN, -1, -1, NULL);
    assert_string_equal(f->v.sel_host, "h3");
    /* Esc: the help overlay first, then the zoom, then the selection */
    key(f, INPUT_KEY_ZOOM, -1, -1, NULL);
    assert_true(f->v.zoomed);
    key(f, INPUT_KEY_HELP, -1, -1, NULL);
    assert_true(f->v.help);
    key(f, INPUT_KEY_BACK, -1, -1, NULL);
    assert_false(f->v.help);
    assert_true(f->v.zoomed);
    key(f, INPUT_KEY_BACK, -1, -1, NULL);
    assert_false(f->v.zoomed);
    assert_true(f->v.selected);
    key(f, INPUT_KEY_BACK, -1, -1, NULL);
    assert_false(f->v.selected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(view_keys),
        cmocka_unit_test(rotate_and_alerts_keys),
        cmocka_unit_test(loop_actions),
        cmocka_unit_test(zoom_and_back),
        cmocka_unit_test(operator_clicks_and_arrows),
    };
    return cmocka_run_group_tests(tests, grid_fixture_setup, grid_fixture_teardown);
}
