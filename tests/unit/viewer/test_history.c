/* SPDX-License-Identifier: MIT */
/*
 * The wall's trends (history.h): steps by the clock from the start, the larger of
 * two samples in one step, short gaps filled and long ones left empty, the ring
 * wrapping, reads before the start, of slots never written and of a history that
 * is off, growth that keeps what was there, and the bytes it holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "history.h"
#include "kvmgrid/error.h"

#define START 100000u /* ms: the wall's clock when the history starts */
#define STEP 1000u

/* 10 steps of 1 s, gaps of up to 2 steps filled, 8 slots reserved. */
static void mk(struct history *h)
{
    assert_int_equal(history_init(h, 10 * STEP, STEP, 2, START), 0);
    assert_int_equal(history_reserve(h, 8), 0);
}

static void put(struct history *h, size_t slot, uint64_t t, double cpu)
{
    double v[HISTORY_SERIES] = {cpu, NAN, 0.5, 1.0};
    history_put(h, slot, t, v);
}

/* The CPU series of slot over the last n steps at t, as a string: '.' for NONE,
 * else the byte scaled to 0-9, rounded (254 -> 9, 127 -> 5). */
static const char *cpu(const struct history *h, size_t slot, uint64_t t, size_t n)
{
    static char s[64];
    uint8_t out[64];
    history_read(h, slot, HISTORY_CPU, t, out, n);
    for (size_t i = 0; i < n; i++)
        s[i] = out[i] == HISTORY_NONE ? '.' : (char)('0' + (out[i] * 9 + HISTORY_TOP / 2) / HISTORY_TOP);
    s[n] = '\0';
    return s;
}

static uint64_t at(unsigned step)
{
    return START + (uint64_t)step * STEP + 300; /* inside the step */
}

static void steps_and_series(void **state)
{
    (void)state;
    struct history h;
    mk(&h);
    put(&h, 0, at(0), 0.0);
    put(&h, 0, at(1), 1.0);
    put(&h, 0, at(2), 0.5);
    assert_string_equal(cpu(&h, 0, at(2), 5), "..095");
    /* the other series of the same samples */
    uint8_t out[3];
    history_read(&h, 0, HISTORY_MEM, at(2), out, 3);
    assert_int_equal(out[2], HISTORY_NONE);
    history_read(&h, 0, HISTORY_DISK, at(2), out, 3);
    assert_int_equal(out[2], 127);
    history_read(&h, 0, HISTORY_NET, at(2), out, 3);
    assert_int_equal(out[2], HISTORY_TOP);
    /* out of the scale: clamped */
    put(&h, 1, at(0), 7.0);
    put(&h, 2, at(0), -3.0);
    history_read(&h, 1, HISTORY_CPU, at(0), out, 1);
    assert_int_equal(out[0], HISTORY_TOP);
    history_read(&h, 2, HISTORY_CPU, at(0), out, 1);
    assert_int_equal(out[0], 0);
    /* later, without samples: the steps after the newest are not known */
    assert_string_equal(cpu(&h, 0, at(4), 5), "095..");
    history_free(&h);
}

static void max_in_step(void **state)
{
    (void)state;
    struct history h;
    mk(&h);
    put(&h, 0, at(3), 0.2);
    put(&h, 0, at(3) + 100, 0.9); /* a spike ... */
    put(&h, 0, at(3) + 200, 0.1); /* ... not hidden by a quiet sample after it */
    double v[HISTORY_SERIES] = {NAN, NAN, NAN, NAN};
    history_put(&h, 0, at(3) + 300, v); /* nothing: keeps what there is */
    uint8_t out[1];
    history_read(&h, 0, HISTORY_CPU, at(3), out, 1);
    assert_int_equal(out[0], (uint8_t)(0.9 * HISTORY_TOP + 0.5));
    history_read(&h, 0, HISTORY_MEM, at(3), out, 1);
    assert_int_equal(out[0], HISTORY_NONE);
    /* a stamp a little earlier than the newest (another thread's clock reading)
     * counts in the newest step */
    put(&h, 0, at(2), 1.0);
    assert_string_equal(cpu(&h, 0, at(3), 2), ".9");
    history_free(&h);
}

static void gaps(void **state)
{
    (void)state;
    struct history h;
    mk(&h);
    /* a gap of 2 steps (fill_steps): filled with the newer sample */
    put(&h, 0, at(0), 0.0);
    put(&h, 0, at(3), 1.0);
    assert_string_equal(cpu(&h, 0, at(3), 4), "0999");
    /* a gap of 3: left empty */
    put(&h, 0, at(7), 0.5);
    assert_string_equal(cpu(&h, 0, at(7), 8), "0999...5");
    history_free(&h);
}

static void ring_wraps(void **state)
{
    (void)state;
    struct history h;
    mk(&h);
    for (unsigned i = 0; i < 25; i++)
        put(&h, 3, at(i), (double)(i % 10) / 9.0);
    /* the last 10 steps (15..24), oldest first; more asked: the oldest are NONE */
    assert_string_equal(cpu(&h, 3, at(24), 10), "5678901234");
    assert_string_equal(cpu(&h, 3, at(24), 12), "..5678901234");
    assert_string_equal(cpu(&h, 3, at(24), 3), "234");
    /* steps of a lap ago are not read as new: a gap longer than the window... */
    put(&h, 3, at(40), 1.0);
    assert_string_equal(cpu(&h, 3, at(40), 10), ".........9");
    /* ... and one inside it (3 steps, over fill_steps) */
    put(&h, 3, at(44), 0.0);
    assert_string_equal(cpu(&h, 3, at(44), 10), ".....9...0");
    /* the reader's clock a little behind the newest sample's */
    assert_string_equal(cpu(&h, 3, at(43), 2), ".0");
    history_free(&h);
}

static void reads_that_know_nothing(void **state)
{
    (void)state;
    struct history h;
    mk(&h);
    /* a slot never written, one out of the reserved range */
    assert_string_equal(cpu(&h, 5, at(3), 4), "....");
    assert_string_equal(cpu(&h, 100, at(3), 4), "....");
    /* before the start: nothing, whatever was put */
    put(&h, 0, START - 500, 1.0); /* counts as step 0 */
    assert_string_equal(cpu(&h, 0, START - 1, 3), "...");
    assert_string_equal(cpu(&h, 0, START, 3), "..9");
    /* early on, the steps before step 0 are NONE */
    assert_string_equal(cpu(&h, 0, at(1), 4), "..9.");
    /* cleared */
    history_clear(&h, 0);
    assert_string_equal(cpu(&h, 0, at(1), 4), "....");
    history_free(&h);
}

static void off(void **state)
{
    (void)state;
    struct history h;
    assert_int_equal(history_init(&h, 0, STEP, 2, START), 0);
    assert_int_equal(h.steps, 0);
    assert_int_equal(history_reserve(&h, 1000), 0);
    put(&h, 0, at(1), 0.5);
    history_clear(&h, 0);
    history_move(&h, 0, 1);
    assert_string_equal(cpu(&h, 0, at(1), 4), "....");
    assert_int_equal(history_bytes(&h), 0);
    assert_true(history_filled(&h, at(0)) == 1.0);
    history_free(&h);
    history_free(NULL);
    /* the steps: at least 1, at most HISTORY_MAX_STEPS */
    assert_int_equal(history_init(&h, 500, STEP, 2, START), KG_EINVAL);
    assert_int_equal(history_init(&h, 10 * STEP, 0, 2, START), KG_EINVAL);
    assert_int_equal(history_init(&h, (uint64_t)(HISTORY_MAX_STEPS + 1) * STEP, STEP, 2, START),
                     KG_EINVAL);
    assert_int_equal(history_init(&h, (uint64_t)HISTORY_MAX_STEPS * STEP, STEP, 2, START), 0);
    assert_int_equal(h.steps, HISTORY_MAX_STEPS);
}

static void growth_keeps_data(void **state)
{
    (void)state;
    struct history h;
    mk(&h);
    size_t first = h.cap_slots;
    assert_true(first >= 8);
    put(&h, 7, at(0), 1.0);
    put(&h, 0, at(0), 0.5);
    /* growth in chunks, not doubling: 10 steps x 4 series is a 4096-slot chunk */
    assert_int_equal(history_reserve(&h, first + 1), 0);
    assert_int_equal(h.cap_slots, 2 * first);
    assert_int_equal(history_reserve(&h, 3 * first + 1), 0);
    assert_int_equal(h.cap_slots, 4 * first);
    assert_int_equal(history_reserve(&h, 10), 0); /* smaller: nothing */
    assert_int_equal(h.cap_slots, 4 * first);
    assert_string_equal(cpu(&h, 7, at(0), 2), ".9");
    assert_string_equal(cpu(&h, 0, at(0), 2), ".5");
    /* new slots are empty, and written (NONE), not just mapped */
    assert_string_equal(cpu(&h, 4 * first - 1, at(0), 2), "..");
    assert_int_equal(h.data[h.cap_slots * 10 * HISTORY_SERIES - 1], HISTORY_NONE);
    put(&h, 4 * first - 1, at(1), 0.0);
    assert_string_equal(cpu(&h, 4 * first - 1, at(1), 2), ".0");
    /* a move takes the history along and empties the old place */
    history_move(&h, 7, 1);
    assert_string_equal(cpu(&h, 1, at(0), 2), ".9");
    assert_string_equal(cpu(&h, 7, at(0), 2), "..");
    history_free(&h);

    /* a long window grows in fewer slots (about 4 MiB a chunk) */
    assert_int_equal(history_init(&h, (uint64_t)HISTORY_MAX_STEPS * STEP, STEP, 2, START), 0);
    assert_int_equal(history_reserve(&h, 1), 0);
    assert_int_equal(h.cap_slots, 256);
    history_free(&h);
}

/* Past max_slots the history frees everything and stays off. */
static void capped(void **state)
{
    (void)state;
    struct history h;
    mk(&h);
    history_set_max_slots(&h, 100);
    assert_int_equal(history_reserve(&h, 100), 0);
    assert_true(h.steps > 0 && h.cap_slots >= 100);
    put(&h, 99, 1000, 0.5);
    assert_int_equal(history_reserve(&h, 101), 0);
    assert_true(h.dropped);
    assert_int_equal(h.steps, 0);
    assert_int_equal(history_bytes(&h), 0);
    put(&h, 99, 2000, 0.5); /* a no-op */
    assert_int_equal(history_reserve(&h, 5000), 0);
    assert_int_equal(history_bytes(&h), 0);
    history_free(&h);
}

static void bytes_and_filled(void **state)
{
    (void)state;
    struct history h;
    /* the wall's defaults: 15 min in 5 s steps, for 100,000 VMs */
    assert_int_equal(history_init(&h, 15 * 60000, 5000, 3, START), 0);
    assert_int_equal(h.steps, 180);
    assert_int_equal(history_reserve(&h, 100000), 0);
    size_t per_slot = 180 * HISTORY_SERIES + sizeof(uint32_t);
    assert_int_equal(h.cap_slots, 102400); /* 25 chunks of 4096 */
    assert_int_equal(history_bytes(&h), h.cap_slots * per_slot);
    assert_true(history_bytes(&h) < 71u << 20); /* about 70 MiB */
    assert_true(history_filled(&h, START - 1) == 0.0);
    assert_true(history_filled(&h, START) == 0.0);
    assert_true(fabs(history_filled(&h, START + 450000) - 0.5) < 1e-9);
    assert_true(history_filled(&h, START + 3600000) == 1.0);
    history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steps_and_series),
        cmocka_unit_test(max_in_step),
        cmocka_unit_test(gaps),
        cmocka_unit_test(ring_wraps),
        cmocka_unit_test(reads_that_know_nothing),
        cmocka_unit_test(off),
        cmocka_unit_test(growth_keeps_data),
        cmocka_unit_test(bytes_and_filled),
        cmocka_unit_test(capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
