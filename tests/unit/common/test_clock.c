/* SPDX-License-Identifier: MIT */
/* Unit tests for clock.c: monotonic never goes back, sleep and its stop flag,
 * UTC formatting (including before 1970 and small buffers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "kvmgrid/clock.h"

static void test_mono_never_backwards(void **state)
{
    (void)state;
    uint64_t prev = kg_clock_mono_ns();
    for (int i = 0; i < 200000; i++) {
        uint64_t now = kg_clock_mono_ns();
        assert_true(now >= prev);
        prev = now;
    }
    uint64_t ms1 = kg_clock_mono_ms();
    uint64_t ms2 = kg_clock_mono_ms();
    assert_true(ms2 >= ms1);
    /* ns and ms read the same clock */
    uint64_t ns = kg_clock_mono_ns();
    uint64_t ms = kg_clock_mono_ms();
    assert_true(ms >= ns / 1000000u);
    assert_true(ms - ns / 1000000u < 1000);
}

static void test_real_ms_plausible(void **state)
{
    (void)state;
    int64_t now = kg_clock_real_ms();
    assert_true(now > 1700000000000LL);     /* after 2023-11 */
    assert_true(now < 4102444800000LL);     /* before 2100 */
}

static volatile int stop_flag;

static void *raise_stop(void *arg)
{
    (void)arg;
    kg_clock_sleep_ns(100u * 1000000u, NULL);
    stop_flag = 1;
    return NULL;
}

static void test_sleep(void **state)
{
    (void)state;
    uint64_t t0 = kg_clock_mono_ns();
    kg_clock_sleep_ns(30u * 1000000u, NULL);
    uint64_t dt = kg_clock_mono_ns() - t0;
    assert_true(dt >= 30u * 1000000u);
    assert_true(dt < 2000u * 1000000u);

    volatile int stop = 1;
    t0 = kg_clock_mono_ns();
    kg_clock_sleep_ns(10ull * 1000000000u, &stop);
    assert_true(kg_clock_mono_ns() - t0 < 1000000000u);

    stop = 0;
    t0 = kg_clock_mono_ns();
    kg_clock_sleep_ns(120u * 1000000u, &stop);
    dt = kg_clock_mono_ns() - t0;
    assert_true(dt >= 120u * 1000000u);

    kg_clock_sleep_ns(0, NULL); /* returns at once */

    /* "forever" does not wrap around into an immediate return, and stops once
     * another thread raises the flag */
    stop_flag = 0;
    pthread_t th;
    t0 = kg_clock_mono_ns();
    assert_int_equal(pthread_create(&th, NULL, raise_stop, NULL), 0);
    kg_clock_sleep_ns(UINT64_MAX, &stop_flag);
    dt = kg_clock_mono_ns() - t0;
    pthread_join(th, NULL);
    assert_true(dt >= 100u * 1000000u);
    assert_true(dt < 2000u * 1000000u);
}

static void test_format_utc(void **state)
{
    (void)state;
    char buf[32];
    assert_ptr_equal(kg_clock_format_utc(0, buf, sizeof buf), buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    kg_clock_format_utc(1795994534123LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-29T23:22:14.123Z");
    assert_int_equal(strlen(buf), 24);
    kg_clock_format_utc(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    kg_clock_format_utc(951782400000LL + 7, buf, sizeof buf); /* leap day 2000 */
    assert_string_equal(buf, "2000-02-29T00:00:00.007Z");

    /* exactly 25 bytes suffices; a smaller buffer is truncated, still terminated */
    char b25[25];
    kg_clock_format_utc(1795994534123LL, b25, sizeof b25);
    assert_string_equal(b25, "2026-11-29T23:22:14.123Z");
    char small[8];
    memset(small, 'x', sizeof small);
    kg_clock_format_utc(0, small, sizeof small);
    assert_string_equal(small, "1970-01");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mono_never_backwards),
        cmocka_unit_test(test_real_ms_plausible),
        cmocka_unit_test(test_sleep),
        cmocka_unit_test(test_format_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
