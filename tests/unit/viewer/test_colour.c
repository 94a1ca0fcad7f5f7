/* SPDX-License-Identifier: MIT */
/* Colour mapping: viridis anchors, linear percentages, log rates, NA, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "colour.h"
#include "kvmgrid/error.h"

static void viridis_anchors(void **state)
{
    (void)state;
    /* Published viridis end points and middle (matplotlib, CC0). */
    assert_int_equal(colour_viridis(0), 0xFF440154u);
    assert_int_equal(colour_viridis(128), 0xFF21918Cu);
    assert_int_equal(colour_viridis(255), 0xFFFDE725u);
    assert_int_equal(colour_viridis(-5), colour_viridis(0));
    assert_int_equal(colour_viridis(999), colour_viridis(255));
    /* monotonically brighter (sum of channels grows overall end to end) */
    unsigned lo = 0x44 + 0x01 + 0x54, hi = 0xFD + 0xE7 + 0x25;
    assert_true(lo < hi);
}

static void percentages(void **state)
{
    (void)state;
    assert_int_equal(colour_index(COLOUR_METRIC_CPU, 0), 0);
    assert_int_equal(colour_index(COLOUR_METRIC_CPU, 100), 255);
    assert_int_equal(colour_index(COLOUR_METRIC_CPU, 50), 128);
    assert_int_equal(colour_index(COLOUR_METRIC_CPU, 250), 255); /* clamped */
    assert_int_equal(colour_index(COLOUR_METRIC_MEM, -3), 0);
    assert_int_equal(colour_index(COLOUR_METRIC_STEAL, 25), 64);
    assert_int_equal(colour_index(COLOUR_METRIC_CPU, NAN), -1);
    assert_int_equal(colour_of(COLOUR_METRIC_CPU, NAN), COLOUR_NA);
    assert_int_equal(colour_of(COLOUR_METRIC_CPU, 100), 0xFFFDE725u);
    assert_false(colour_metric_is_rate(COLOUR_METRIC_CPU));
    assert_true(colour_metric_max(COLOUR_METRIC_MEM) == 100.0);
}

static void rates_log(void **state)
{
    (void)state;
    assert_true(colour_metric_is_rate(COLOUR_METRIC_DISK));
    assert_true(colour_metric_is_rate(COLOUR_METRIC_NET));
    assert_int_equal(colour_index(COLOUR_METRIC_DISK, 0), 0);
    assert_int_equal(colour_index(COLOUR_METRIC_DISK, 1e9), 255);
    assert_int_equal(colour_index(COLOUR_METRIC_NET, 5e12), 255);
    /* log scale: 1 kB/s sits at a third, 1 MB/s at two thirds */
    assert_int_equal(colour_index(COLOUR_METRIC_DISK, 1e3), 85);
    assert_int_equal(colour_index(COLOUR_METRIC_DISK, 1e6), 170);
    /* small rates are visible, unlike a linear scale */
    assert_true(colour_index(COLOUR_METRIC_NET, 100) > 40);
    for (double pos = 0; pos <= 1.0; pos += 0.125)
        assert_true(fabs(colour_scale_pos(COLOUR_METRIC_DISK,
                                          colour_scale_value(COLOUR_METRIC_DISK, pos)) - pos) < 1e-9);
    double pos[8];
    const char *labels[8];
    size_t n = colour_ticks(COLOUR_METRIC_NET, pos, labels, 8);
    assert_int_equal(n, 6);
    assert_string_equal(labels[n - 1], "1G B/s");
    assert_true(pos[n - 1] == 1.0);
    n = colour_ticks(COLOUR_METRIC_CPU, pos, labels, 8);
    assert_int_equal(n, 5);
    assert_true(pos[2] == 0.5);
}

/* Whole numbers read as whole numbers everywhere on screen: "4", never "4.0";
 * other values keep their decimals without trailing zeros. */
static void integers_as_integers(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(colour_format_number(4.0, 1, buf, sizeof(buf)), "4");
    assert_string_equal(colour_format_number(4.0, 0, buf, sizeof(buf)), "4");
    assert_string_equal(colour_format_number(4.5, 1, buf, sizeof(buf)), "4.5");
    assert_string_equal(colour_format_number(4.25, 2, buf, sizeof(buf)), "4.25");
    assert_string_equal(colour_format_number(4.20, 2, buf, sizeof(buf)), "4.2");
    assert_string_equal(colour_format_number(100.0, 1, buf, sizeof(buf)), "100");
    assert_string_equal(colour_format_number(0.0, 1, buf, sizeof(buf)), "0");
    assert_string_equal(colour_format_number(-0.01, 1, buf, sizeof(buf)), "0");
    assert_string_equal(colour_format_number(3.96, 1, buf, sizeof(buf)), "4");
    assert_string_equal(colour_format_number(NAN, 1, buf, sizeof(buf)), "n/a");
    assert_string_equal(colour_format(COLOUR_METRIC_CPU, 50.0, buf, sizeof(buf)), "50 %");
    assert_string_equal(colour_format(COLOUR_METRIC_MEM, 100.0, buf, sizeof(buf)), "100 %");
    assert_string_equal(colour_format(COLOUR_METRIC_STEAL, 0.0, buf, sizeof(buf)), "0 %");
    assert_string_equal(colour_format(COLOUR_METRIC_CPU, 42.5, buf, sizeof(buf)), "42.5 %");
    assert_string_equal(colour_format(COLOUR_METRIC_DISK, 4e6, buf, sizeof(buf)), "4 MB/s");
    assert_string_equal(colour_format(COLOUR_METRIC_NET, 10e3, buf, sizeof(buf)), "10 kB/s");
    assert_string_equal(colour_format(COLOUR_METRIC_NET, 120e3, buf, sizeof(buf)), "120 kB/s");
    assert_string_equal(colour_format_rate(0, buf, sizeof(buf)), "0 B/s");
    /* legend ticks are whole numbers too */
    double pos[8];
    const char *labels[8];
    for (int m = 0; m < COLOUR_METRIC_COUNT; m++) {
        size_t n = colour_ticks((enum colour_metric)m, pos, labels, 8);
        for (size_t i = 0; i < n; i++)
            assert_null(strchr(labels[i], '.'));
    }
}

static void metrics_and_format(void **state)
{
    (void)state;
    enum colour_metric m;
    assert_int_equal(colour_metric_parse("disk", &m), 0);
    assert_int_equal(m, COLOUR_METRIC_DISK);
    assert_int_equal(colour_metric_parse("STEAL", &m), 0);
    assert_int_equal(m, COLOUR_METRIC_STEAL);
    assert_int_equal(colour_metric_parse("2", &m), 0);
    assert_int_equal(m, COLOUR_METRIC_MEM);
    assert_int_equal(colour_metric_parse("6", &m), KG_EINVAL);
    assert_int_equal(colour_metric_parse("gpu", &m), KG_EINVAL);
    assert_int_equal(colour_metric_parse(NULL, &m), KG_EINVAL);
    char buf[32];
    assert_string_equal(colour_format(COLOUR_METRIC_CPU, 42.25, buf, sizeof(buf)), "42.2 %");
    assert_string_equal(colour_format(COLOUR_METRIC_CPU, NAN, buf, sizeof(buf)), "n/a");
    assert_string_equal(colour_format_rate(999, buf, sizeof(buf)), "999 B/s");
    assert_string_equal(colour_format_rate(1500, buf, sizeof(buf)), "1.5 kB/s");
    assert_string_equal(colour_format_rate(1234, buf, sizeof(buf)), "1.23 kB/s");
    assert_string_equal(colour_format_rate(25.5e6, buf, sizeof(buf)), "25.5 MB/s");
    assert_string_equal(colour_format_rate(1e9, buf, sizeof(buf)), "1 GB/s");
    assert_string_equal(colour_metric_key(COLOUR_METRIC_NET), "net");
    assert_int_equal(colour_dim(0xFFFFFFFFu, 128), 0xFF7F7F7Fu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(viridis_anchors),
        cmocka_unit_test(percentages),
        cmocka_unit_test(rates_log),
        cmocka_unit_test(metrics_and_format),
        cmocka_unit_test(integers_as_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
