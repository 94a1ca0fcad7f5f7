/* SPDX-License-Identifier: MIT */
/*
 * The view state, without SDL: each setter asks for what its change needs (lay
 * out, repaint tiles, redraw header and status, redraw overlays) and nothing
 * when nothing changed; sort by load lays out again for a new metric; operator
 * mode off clears the selection; messages are copied and cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "view.h"

struct gens {
    uint64_t order, tiles, chrome, overlay;
};

static struct gens gens(const struct view *v)
{
    return (struct gens){v->order_gen, v->tiles_gen, v->chrome_gen, v->overlay_gen};
}

/* Asserts how much each generation moved since g. */
static void moved(const struct view *v, struct gens g, int order, int tiles, int chrome, int overlay)
{
    assert_int_equal(v->order_gen - g.order, order);
    assert_int_equal(v->tiles_gen - g.tiles, tiles);
    assert_int_equal(v->chrome_gen - g.chrome, chrome);
    assert_int_equal(v->overlay_gen - g.overlay, overlay);
}

static void init(void **state)
{
    (void)state;
    struct view v;
    memset(&v, 0xA5, sizeof(v));
    view_init(&v, VIEW_SHOW_MEM, LAYOUT_SORT_LOAD, true);
    assert_int_equal(v.metric, COLOUR_METRIC_MEM);
    assert_int_equal(v.sort, LAYOUT_SORT_LOAD);
    assert_true(v.operator_mode);
    assert_false(v.paused || v.help || v.connected || v.zoomed || v.selected);
    assert_string_equal(v.op_msg, "");
    moved(&v, (struct gens){0, 0, 0, 0}, 0, 0, 0, 0);
}

static void metric_and_sort(void **state)
{
    (void)state;
    struct view v;
    view_init(&v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false);
    struct gens g = gens(&v);
    view_set_metric(&v, COLOUR_METRIC_CPU); /* unchanged: nothing to redo */
    moved(&v, g, 0, 0, 0, 0);
    view_set_metric(&v, COLOUR_METRIC_DISK); /* sorted by name: colours and header only */
    moved(&v, g, 0, 1, 1, 0);
    g = gens(&v);
    view_set_sort(&v, LAYOUT_SORT_NAME);
    moved(&v, g, 0, 0, 0, 0);
    view_toggle_sort(&v);
    assert_int_equal(v.sort, LAYOUT_SORT_LOAD);
    moved(&v, g, 1, 0, 1, 0);
    g = gens(&v);
    view_set_metric(&v, COLOUR_METRIC_NET); /* sorted by load: the order follows the metric */
    moved(&v, g, 1, 1, 1, 0);
    view_set_metric(&v, COLOUR_METRIC_STEAL);
    view_next_metric(&v); /* wraps around to all metrics at once */
    assert_true(v.all);
    assert_int_equal(view_showing(&v), VIEW_SHOW_ALL);
    view_next_metric(&v);
    assert_false(v.all);
    assert_int_equal(v.metric, COLOUR_METRIC_CPU);
    view_toggle_sort(&v);
    assert_int_equal(v.sort, LAYOUT_SORT_NAME);
}

static void pause_help_connected(void **state)
{
    (void)state;
    struct view v;
    view_init(&v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false);
    struct gens g = gens(&v);
    view_set_paused(&v, true);
    assert_true(v.paused);
    moved(&v, g, 0, 0, 1, 0);
    g = gens(&v);
    view_toggle_help(&v);
    assert_true(v.help);
    moved(&v, g, 0, 0, 0, 1);
    view_toggle_help(&v);
    assert_false(v.help);
    g = gens(&v);
    view_set_connected(&v, false); /* unchanged */
    moved(&v, g, 0, 0, 0, 0);
    view_set_connected(&v, true);
    assert_true(v.connected);
    moved(&v, g, 0, 0, 1, 0);
}

static void zoom(void **state)
{
    (void)state;
    struct view v;
    view_init(&v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, false);
    struct gens g = gens(&v);
    view_zoom_out(&v); /* not zoomed: nothing */
    moved(&v, g, 0, 0, 0, 0);
    v.zoomed = true;
    view_zoom_lost(&v); /* found out while laying out: nothing more to do */
    assert_false(v.zoomed);
    moved(&v, g, 0, 0, 0, 0);
    v.zoomed = true;
    view_zoom_out(&v);
    assert_false(v.zoomed);
    moved(&v, g, 1, 0, 1, 0);
}

/* All metrics at once is the kiosk's default view; the metric keys and the
 * rotation step all -> CPU -> memory -> disk -> network -> steal -> all; in all,
 * the hottest list (and sort by load) counts CPU. */
static void all_metrics(void **state)
{
    (void)state;
    struct view v;
    view_init(&v, VIEW_SHOW_ALL, LAYOUT_SORT_NAME, false);
    assert_true(v.all);
    assert_int_equal(v.metric, COLOUR_METRIC_CPU);
    moved(&v, (struct gens){0, 0, 0, 0}, 0, 0, 0, 0);
    const enum view_show order[] = {VIEW_SHOW_CPU, VIEW_SHOW_MEM, VIEW_SHOW_DISK, VIEW_SHOW_NET,
                                    VIEW_SHOW_STEAL, VIEW_SHOW_ALL, VIEW_SHOW_CPU};
    const char *const keys[] = {"cpu", "mem", "disk", "net", "steal", "all", "cpu"};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        struct gens g = gens(&v);
        view_next_metric(&v);
        assert_int_equal(view_showing(&v), order[i]);
        assert_string_equal(view_show_key(order[i]), keys[i]);
        moved(&v, g, 0, 1, 1, 0); /* sorted by name: colours and header */
    }
    struct gens g = gens(&v);
    view_show(&v, VIEW_SHOW_CPU); /* unchanged: nothing */
    moved(&v, g, 0, 0, 0, 0);
    view_show(&v, VIEW_SHOW_ALL);
    assert_true(v.all);
    assert_int_equal(v.metric, COLOUR_METRIC_CPU);
    assert_string_equal(view_show_label(VIEW_SHOW_ALL), "all metrics");
    assert_string_equal(view_show_label(VIEW_SHOW_MEM), "memory %");
    view_set_sort(&v, LAYOUT_SORT_LOAD);
    g = gens(&v);
    view_show(&v, VIEW_SHOW_DISK); /* sorted by load: the order follows */
    moved(&v, g, 1, 1, 1, 0);
    view_init(&v, VIEW_SHOW_STEAL, LAYOUT_SORT_NAME, false);
    assert_false(v.all);
    assert_int_equal(v.metric, COLOUR_METRIC_STEAL);
}

/* Rotation: a step every period, counted from the first view_rotate; a metric key
 * stops it, r resumes it (with a default period when none was configured) or
 * stops it; a late call steps once, not once per missed period. */
static void rotation(void **state)
{
    (void)state;
    struct view v;
    view_init(&v, VIEW_SHOW_ALL, LAYOUT_SORT_NAME, false);
    assert_false(view_rotate(&v, 1000)); /* none configured */
    view_set_rotation(&v, 0);
    assert_false(v.rotating);
    view_set_rotation(&v, 10000);
    assert_true(v.rotating);
    assert_false(view_rotate(&v, 1000)); /* the period starts now */
    assert_false(view_rotate(&v, 10999));
    struct gens g = gens(&v);
    assert_true(view_rotate(&v, 11000));
    assert_int_equal(view_showing(&v), VIEW_SHOW_CPU);
    assert_true(v.rotating);
    moved(&v, g, 0, 1, 1, 0);
    assert_false(view_rotate(&v, 20999));
    assert_true(view_rotate(&v, 95000)); /* late: one step, the next a period later */
    assert_int_equal(view_showing(&v), VIEW_SHOW_MEM);
    assert_false(view_rotate(&v, 104999));
    assert_true(view_rotate(&v, 105000));
    assert_int_equal(view_showing(&v), VIEW_SHOW_DISK);
    for (int i = 0; i < 3; i++)
        assert_true(view_rotate(&v, 115000 + (uint64_t)i * 10000));
    assert_int_equal(view_showing(&v), VIEW_SHOW_ALL); /* net, steal, all */
    view_set_paused(&v, true); /* paused: the picture and its metric stay */
    assert_false(view_rotate(&v, 500000));
    assert_int_equal(view_showing(&v), VIEW_SHOW_ALL);
    view_set_paused(&v, false);
    assert_true(view_rotate(&v, 500001)); /* overdue: at once */
    assert_int_equal(view_showing(&v), VIEW_SHOW_CPU);
    /* a metric key stops it; the header says so */
    g = gens(&v);
    view_set_metric(&v, COLOUR_METRIC_MEM);
    assert_false(v.rotating);
    moved(&v, g, 0, 1, 2, 0);
    assert_false(view_rotate(&v, 1000000));
    assert_int_equal(view_showing(&v), VIEW_SHOW_MEM);
    /* r resumes with the configured period, from the next call */
    view_toggle_rotation(&v);
    assert_true(v.rotating);
    assert_int_equal(v.rotate_ms, 10000);
    assert_false(view_rotate(&v, 2000000));
    assert_true(view_rotate(&v, 2010000));
    assert_int_equal(view_showing(&v), VIEW_SHOW_DISK);
    view_toggle_rotation(&v); /* r again stops it */
    assert_false(v.rotating);
    view_next_metric(&v);
    view_show(&v, VIEW_SHOW_ALL);
    assert_false(v.rotating);
    /* no period configured: r rotates at the default one */
    view_init(&v, VIEW_SHOW_ALL, LAYOUT_SORT_NAME, false);
    view_toggle_rotation(&v);
    assert_true(v.rotating);
    assert_int_equal(v.rotate_ms, VIEW_ROTATE_DEFAULT_MS);
}

static void alerts_only(void **state)
{
    (void)state;
    struct view v;
    view_init(&v, VIEW_SHOW_ALL, LAYOUT_SORT_NAME, false);
    assert_false(v.alerts_only);
    struct gens g = gens(&v);
    view_set_alerts_only(&v, true);
    assert_true(v.alerts_only);
    moved(&v, g, 1, 0, 1, 0); /* laid out again, the header notes the filter */
    g = gens(&v);
    view_set_alerts_only(&v, true);
    moved(&v, g, 0, 0, 0, 0);
    view_set_alerts_only(&v, false);
    assert_false(v.alerts_only);
    moved(&v, g, 1, 0, 1, 0);
}

static void operator_selection_message(void **state)
{
    (void)state;
    struct view v;
    view_init(&v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, true);
    struct gens g = gens(&v);
    view_select(&v, "", 0, "h\0x", 3, "vm1", 3);
    assert_true(v.selected);
    assert_int_equal(v.sel_host_len, 3);
    assert_memory_equal(v.sel_host, "h\0x", 4);
    assert_string_equal(v.sel_vm, "vm1");
    moved(&v, g, 0, 0, 1, 1);
    g = gens(&v);
    view_clear_selection(&v);
    assert_false(v.selected);
    moved(&v, g, 0, 0, 1, 1);
    g = gens(&v);
    view_clear_selection(&v); /* nothing selected: nothing */
    moved(&v, g, 0, 0, 0, 0);
    view_select(&v, "", 0, "h", 1, "vm", 2);
    view_set_operator(&v, false);
    assert_false(v.selected);
    assert_false(v.operator_mode);

    g = gens(&v);
    view_set_operator_message(&v, "sent");
    assert_string_equal(v.op_msg, "sent");
    moved(&v, g, 0, 0, 1, 0);
    view_set_operator_message(&v, NULL);
    assert_string_equal(v.op_msg, "");
    char longer[VIEW_MSG_MAX + 50];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    view_set_operator_message(&v, longer);
    assert_int_equal(strlen(v.op_msg), VIEW_MSG_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init),
        cmocka_unit_test(metric_and_sort),
        cmocka_unit_test(pause_help_connected),
        cmocka_unit_test(zoom),
        cmocka_unit_test(all_metrics),
        cmocka_unit_test(rotation),
        cmocka_unit_test(alerts_only),
        cmocka_unit_test(operator_selection_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
