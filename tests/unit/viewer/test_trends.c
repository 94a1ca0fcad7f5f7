/* SPDX-License-Identifier: MIT */
/* Trends painted into a canvas from a synthetic history: a tile's line lies between
 * its top rows and its centre row, which stay bare; in the all-metrics view one
 * per quadrant; small tiles, steal % and a
 * history that is off get none; a host trend only for a host with host figures;
 * repaints follow the history's step; the notice until the window is full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "canvas.h"
#include "grid_fixture.h"
#include "history.h"
#include "model.h"
#include "trends.h"

#define TILE_COLOUR 0xFF21918Cu
#define STEP_MS 1000u
#define STEPS 60u

struct fx {
    struct model *m;
    struct canvas c;
    struct trends tr;
};

/* A model with VM a0 on h1 (slot 0) and 30 s of history at the top of the scale,
 * ending at 30 s; a 100 x 100 canvas in the tile colour. */
static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof(f));
    assert_int_equal(model_create("kvmgrid", 3, 3600, &f.m), 0);
    fixture_vm(f.m, "h1", "a0");
    struct model *m = f.m;
    history_free(&m->vm_hist);
    history_free(&m->host_hist);
    assert_int_equal(history_init(&m->vm_hist, STEPS * STEP_MS, STEP_MS, 2, 0), 0);
    assert_int_equal(history_init(&m->host_hist, STEPS * STEP_MS, STEP_MS, 2, 0), 0);
    assert_int_equal(history_reserve(&m->vm_hist, 1), 0);
    assert_int_equal(history_reserve(&m->host_hist, 1), 0);
    for (uint64_t t = 0; t <= 30000; t += STEP_MS) {
        double v[HISTORY_SERIES] = {1.0, 0.5, NAN, NAN};
        history_put(&m->vm_hist, 0, t, v);
        history_put(&m->host_hist, 0, t, v);
    }
    assert_int_equal(canvas_resize(&f.c, 100, 100, TILE_COLOUR), 0);
    trends_init(&f.tr);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    trends_free(&f->tr);
    canvas_free(&f->c);
    history_free(&f->m->vm_hist);
    history_free(&f->m->host_hist);
    memset(&f->m->vm_hist, 0, sizeof(f->m->vm_hist));
    memset(&f->m->host_hist, 0, sizeof(f->m->host_hist));
    model_free(f->m);
    return 0;
}

static size_t count_row(const struct canvas *c, int y, int x0, int x1, uint32_t colour)
{
    size_t n = 0;
    for (int x = x0; x < x1; x++)
        n += c->px[(size_t)y * c->w + x] == colour;
    return n;
}

static size_t count_rect(const struct canvas *c, int x, int y, int w, int h, uint32_t colour)
{
    size_t n = 0;
    for (int yy = y; yy < y + h; yy++)
        n += count_row(c, yy, x, x + w, colour);
    return n;
}

static void tile_line_between_top_rows_and_centre(void **state)
{
    struct fx *f = *state;
    canvas_fill(&f->c, 0, 0, 100, 100, TILE_COLOUR);
    trends_frame(&f->tr, f->m, 30000);
    struct layout_rect t = {0, 0, 100, 100};
    trends_tile(&f->tr, &f->c, f->m, 0, t, 0, COLOUR_METRIC_CPU);
    /* 100 % puts the white line on the box's first row: s / 6 */
    size_t white = count_row(&f->c, 100 / 6, 0, 100, 0xFFFFFFFFu);
    assert_true(white >= 30); /* half the window known: about half the box's width */
    assert_true(white <= 80);
    assert_true(count_row(&f->c, 100 / 6 - 1, 0, 100, 0xFF000000u) > 0); /* the outline */
    /* bare: the top rows, the centre row and below, the left column */
    assert_int_equal(count_rect(&f->c, 0, 0, 100, 6, TILE_COLOUR), 600);
    assert_int_equal(count_rect(&f->c, 0, 50, 100, 50, TILE_COLOUR), 5000);
    assert_int_equal(count_rect(&f->c, 0, 0, 4, 100, TILE_COLOUR), 400);
    /* the newest steps are on the right: the older half of the window is empty */
    assert_int_equal(count_rect(&f->c, 0, 0, 40, 50, 0xFFFFFFFFu), 0);
}

/* All metrics: one line per quadrant in its lower half; the synthetic history
 * knows CPU (100 %) and memory (50 %), not disk or network. */
static void quadrants(void **state)
{
    struct fx *f = *state;
    const enum colour_metric qm[TRENDS_QUADS] = {COLOUR_METRIC_CPU, COLOUR_METRIC_MEM,
                                                 COLOUR_METRIC_DISK, COLOUR_METRIC_NET};
    canvas_fill(&f->c, 0, 0, 100, 100, TILE_COLOUR);
    trends_frame(&f->tr, f->m, 30000);
    trends_quads(&f->tr, &f->c, f->m, 0, (struct layout_rect){0, 0, 100, 100}, 10, 100, qm);
    assert_true(count_row(&f->c, 25, 0, 50, 0xFFFFFFFFu) >= 15);  /* CPU at its box's top */
    assert_int_equal(count_row(&f->c, 25, 50, 100, 0xFFFFFFFFu), 0);
    assert_true(count_rect(&f->c, 50, 30, 50, 20, 0xFFFFFFFFu) >= 15); /* MEM half-way */
    assert_int_equal(count_rect(&f->c, 0, 50, 100, 50, TILE_COLOUR), 5000); /* none known */
    assert_int_equal(count_rect(&f->c, 0, 0, 100, 23, TILE_COLOUR), 2300); /* labels' rows */
    /* labels taller than half a quadrant push the line down; text above the bottom
     * quadrants leaves them none */
    canvas_fill(&f->c, 0, 0, 100, 100, TILE_COLOUR);
    trends_quads(&f->tr, &f->c, f->m, 0, (struct layout_rect){0, 0, 100, 100}, 35, 60, qm);
    assert_int_equal(count_rect(&f->c, 0, 0, 100, 33, TILE_COLOUR), 3300);
    assert_true(count_row(&f->c, 35, 0, 50, 0xFFFFFFFFu) >= 15);
}

static void no_line_where_none_belongs(void **state)
{
    struct fx *f = *state;
    trends_frame(&f->tr, f->m, 30000);
    canvas_fill(&f->c, 0, 0, 100, 100, TILE_COLOUR);
    trends_tile(&f->tr, &f->c, f->m, 0, (struct layout_rect){0, 0, 39, 39}, 0, COLOUR_METRIC_CPU);
    trends_tile(&f->tr, &f->c, f->m, 0, (struct layout_rect){0, 0, 100, 100}, 0,
                COLOUR_METRIC_STEAL);
    trends_tile(&f->tr, &f->c, f->m, 5, (struct layout_rect){0, 0, 100, 100}, 0,
                COLOUR_METRIC_CPU); /* a slot the history does not hold */
    assert_int_equal(count_rect(&f->c, 0, 0, 100, 100, TILE_COLOUR), 10000);
    /* history off: nothing, and no notice */
    struct history keep = f->m->vm_hist;
    memset(&f->m->vm_hist, 0, sizeof(f->m->vm_hist));
    trends_frame(&f->tr, f->m, 30000);
    trends_tile(&f->tr, &f->c, f->m, 0, (struct layout_rect){0, 0, 100, 100}, 0,
                COLOUR_METRIC_CPU);
    assert_int_equal(count_rect(&f->c, 0, 0, 100, 100, TILE_COLOUR), 10000);
    assert_string_equal(f->tr.notice, "");
    f->m->vm_hist = keep;
}

static void host_trend_only_with_host_figures(void **state)
{
    struct fx *f = *state;
    trends_frame(&f->tr, f->m, 30000);
    canvas_fill(&f->c, 0, 0, 100, 100, COLOUR_BACKGROUND);
    f->m->hosts[0].has_metrics = false;
    trends_host(&f->tr, &f->c, f->m, 0, 0, 10, 100, 0, 16);
    assert_int_equal(count_rect(&f->c, 0, 0, 100, 16, COLOUR_BACKGROUND), 1600);
    f->m->hosts[0].has_metrics = true;
    trends_host(&f->tr, &f->c, f->m, 0, 0, 10, 100, 0, 16);
    assert_true(count_rect(&f->c, 0, 0, 100, 16, COLOUR_TEXT) > 0);
    assert_int_equal(count_rect(&f->c, 0, 0, 10, 16, COLOUR_BACKGROUND), 160); /* the name's room */
    /* too little room: none, and nothing remembered for the next step */
    canvas_fill(&f->c, 0, 0, 100, 100, COLOUR_BACKGROUND);
    trends_host(&f->tr, &f->c, f->m, 0, 0, 80, 100, 0, 16);
    assert_int_equal(count_rect(&f->c, 0, 0, 100, 16, COLOUR_BACKGROUND), 1600);
    assert_int_equal(f->tr.bands[0].w, 0);
    f->m->hosts[0].has_metrics = false;
}

static void repaints_follow_the_step(void **state)
{
    struct fx *f = *state;
    trends_free(&f->tr); /* nothing drawn yet */
    assert_true(trends_frame(&f->tr, f->m, 30000));
    assert_string_equal(f->tr.notice, "trends: 30 s of 60 s");
    trends_drawn(&f->tr);
    assert_false(trends_frame(&f->tr, f->m, 30999)); /* the same step: nothing to do */
    assert_true(trends_frame(&f->tr, f->m, 31000));
    trends_drawn(&f->tr);
    assert_false(trends_frame(&f->tr, f->m, 31500));
    trends_frame(&f->tr, f->m, 60000);
    assert_string_equal(f->tr.notice, ""); /* the window is full */
    trends_free(&f->tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tile_line_between_top_rows_and_centre),
        cmocka_unit_test(quadrants),
        cmocka_unit_test(no_line_where_none_belongs),
        cmocka_unit_test(host_trend_only_with_host_figures),
        cmocka_unit_test(repaints_follow_the_step),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
