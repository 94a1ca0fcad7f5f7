/* SPDX-License-Identifier: MIT */
/* Sparkline geometry: rows of the scale's ends, resampling that keeps peaks with
 * fewer and more columns than steps, gaps, an empty history, the span's words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "history.h"
#include "spark.h"

static void scale_extremes(void **state)
{
    (void)state;
    assert_int_equal(spark_row(HISTORY_TOP, 20), 0);
    assert_int_equal(spark_row(0, 20), 19);
    assert_int_equal(spark_row(HISTORY_TOP / 2, 21), 10);
    assert_int_equal(spark_row(HISTORY_TOP + 1, 20), 0); /* clamped, not below the box */
    assert_int_equal(spark_row(HISTORY_TOP, 1), 0);
    assert_int_equal(spark_row(0, 1), 0);
    /* a whole series at the top and one at the bottom */
    uint8_t top[6], bottom[6];
    memset(top, HISTORY_TOP, sizeof(top));
    memset(bottom, 0, sizeof(bottom));
    struct spark_col c[6];
    assert_int_equal(spark_columns(top, 6, 6, 10, c), 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(c[i].level, 0);
        assert_int_equal(c[i].top, 0);
        assert_int_equal(c[i].bottom, 0);
    }
    assert_int_equal(spark_columns(bottom, 6, 6, 10, c), 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(c[i].level, 9);
}

/* 180 steps (15 min of 5 s) into 30 columns: one 5 s spike anywhere is kept. */
static void more_steps_than_columns_keeps_peaks(void **state)
{
    (void)state;
    uint8_t s[180];
    struct spark_col c[30];
    for (size_t spike = 0; spike < 180; spike += 7) {
        memset(s, 10, sizeof(s));
        s[spike] = HISTORY_TOP;
        assert_int_equal(spark_columns(s, 180, 30, 16, c), 30);
        int at = (int)(spike * 30 / 180), peaks = 0;
        for (int i = 0; i < 30; i++)
            if (c[i].level == 0)
                peaks++;
        assert_int_equal(peaks, 1);
        assert_int_equal(c[at].level, 0);
        /* its run reaches down to the quiet level it covers and the line goes on */
        assert_int_equal(c[at].bottom, spark_row(10, 16));
        if (at + 1 < 30) {
            assert_int_equal(c[at + 1].level, spark_row(10, 16));
            assert_int_equal(c[at + 1].top, 0); /* back down from the peak */
        }
    }
    /* uneven division: 7 steps into 3 columns cover 2, 2, 3 steps */
    uint8_t u[7] = {0, 0, 0, 0, 0, 0, HISTORY_TOP};
    assert_int_equal(spark_columns(u, 7, 3, 11, c), 3);
    assert_int_equal(c[0].level, 10);
    assert_int_equal(c[1].level, 10);
    assert_int_equal(c[2].level, 0);
    assert_int_equal(c[2].bottom, 10);
}

/* 4 steps into 10 columns: each step is repeated over the columns it covers. */
static void fewer_steps_than_columns(void **state)
{
    (void)state;
    uint8_t s[4] = {0, HISTORY_TOP, 0, HISTORY_TOP / 2};
    struct spark_col c[10];
    assert_int_equal(spark_columns(s, 4, 10, 11, c), 10);
    int want[10];
    for (int i = 0; i < 10; i++)
        want[i] = spark_row(s[i * 4 / 10], 11);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(c[i].level, want[i]);
        assert_true(c[i].top <= c[i].level && c[i].level <= c[i].bottom);
    }
    /* a step's first column joins the previous step's level */
    assert_int_equal(c[3].top, 0);
    assert_int_equal(c[3].bottom, 10);
    /* one step over the whole box */
    uint8_t one = 100;
    assert_int_equal(spark_columns(&one, 1, 5, 11, c), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(c[i].level, spark_row(100, 11));
}

static void gaps_break_the_line(void **state)
{
    (void)state;
    uint8_t s[6] = {HISTORY_TOP, HISTORY_NONE, HISTORY_NONE, 0, HISTORY_NONE, 50};
    struct spark_col c[6];
    assert_int_equal(spark_columns(s, 6, 6, 11, c), 3);
    assert_int_equal(c[0].level, 0);
    assert_int_equal(c[1].level, SPARK_GAP);
    assert_int_equal(c[2].level, SPARK_GAP);
    /* after a gap the line starts again: no run back up to the old level */
    assert_int_equal(c[3].level, 10);
    assert_int_equal(c[3].top, 10);
    assert_int_equal(c[3].bottom, 10);
    assert_int_equal(c[4].level, SPARK_GAP);
    assert_int_equal(c[5].top, c[5].level);
    /* a column covering a known step and a gap keeps what is known */
    uint8_t t[4] = {HISTORY_NONE, 30, HISTORY_NONE, HISTORY_NONE};
    assert_int_equal(spark_columns(t, 4, 2, 11, c), 1);
    assert_int_equal(c[0].level, spark_row(30, 11));
    assert_int_equal(c[1].level, SPARK_GAP);
}

static void nothing_known(void **state)
{
    (void)state;
    uint8_t s[180];
    memset(s, HISTORY_NONE, sizeof(s));
    struct spark_col c[40];
    assert_int_equal(spark_columns(s, 180, 40, 12, c), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(c[i].level, SPARK_GAP);
    assert_int_equal(spark_columns(NULL, 0, 40, 12, c), 0);
    assert_int_equal(c[39].level, SPARK_GAP);
    assert_int_equal(spark_last(s, 180), HISTORY_NONE);
    assert_int_equal(spark_last(NULL, 0), HISTORY_NONE);
    s[3] = 7;
    assert_int_equal(spark_last(s, 180), 7);
    s[170] = 0;
    assert_int_equal(spark_last(s, 180), 0);
}

static void span_words(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(spark_span(0, b, sizeof(b)), "0 s");
    assert_string_equal(spark_span(40999, b, sizeof(b)), "40 s");
    assert_string_equal(spark_span(119999, b, sizeof(b)), "119 s");
    assert_string_equal(spark_span(120000, b, sizeof(b)), "2 min");
    assert_string_equal(spark_span(15 * 60000, b, sizeof(b)), "15 min");
    assert_string_equal(spark_span(4 * 60000 + 59999, b, sizeof(b)), "4 min");
    assert_string_equal(spark_span(3 * 3600000ull, b, sizeof(b)), "3 h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scale_extremes),
        cmocka_unit_test(more_steps_than_columns_keeps_peaks),
        cmocka_unit_test(fewer_steps_than_columns),
        cmocka_unit_test(gaps_break_the_line),
        cmocka_unit_test(nothing_known),
        cmocka_unit_test(span_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
