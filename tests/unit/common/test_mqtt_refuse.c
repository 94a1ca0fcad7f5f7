/* SPDX-License-Identifier: MIT */
/* The MQTT session's options for a publisher that resends its newest state
 * (the agent), without a broker: refuse_when_full and the pacing of a burst. A
 * binary of its own, with one session for all its tests (created by the group
 * setup, freed by its teardown): it leaves messages buffered in Paho at
 * MQTTAsync_destroy, which Paho 1.3.12 leaks, and LeakSanitizer reports them
 * only if another session is created afterwards in the same process
 * (test_mqtt's last test does the same). */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/mqtt.h"

static int session_setup(void **state)
{
    struct kg_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.uri = "tcp://127.0.0.1:1"; /* nothing listens there: connects are refused */
    o.qos = 1;
    o.max_buffered = 2;
    o.refuse_when_full = true;
    struct kg_mqtt *m = NULL;
    char err[128];
    if (kg_mqtt_create(&o, &m, err, sizeof err) != 0)
        return -1;
    *state = m;
    return 0;
}

static int session_teardown(void **state)
{
    struct kg_mqtt *m = *state;
    int rc = kg_mqtt_stop(m, NULL, NULL, 500);
    kg_mqtt_free(m);
    return rc;
}

/* refuse_when_full: beyond the window nothing waits; the message is refused with
 * KG_EAGAIN and counted as failed (the agent sends its newest state next cycle). */
static void test_refuse_when_full(void **state)
{
    struct kg_mqtt *m = *state;
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/vm/a", "1", 1, true), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/vm/b", "1", 1, true), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/vm/c", "1", 1, true), KG_EAGAIN);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/vm/a", "2", 1, true), KG_EAGAIN);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/+/x", "x", 1, false), KG_EINVAL);
    struct kg_mqtt_stats st;
    kg_mqtt_get_stats(m, &st);
    assert_int_equal(st.published, 2);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.coalesced, 0);
    assert_int_equal(st.publish_failed, 3);
    assert_int_equal(kg_mqtt_start(m), 0);
    assert_int_equal(kg_mqtt_flush(m, 50), KG_ETIMEDOUT); /* 2 messages can't go anywhere */
}

static _Atomic int unexpected; /* publish_ms runs on a thread cmocka does not know */

/* n publishes to a full window (each refused, each counted for pacing); their ms. */
static uint64_t publish_ms(struct kg_mqtt *m, int n)
{
    uint64_t t0 = kg_clock_mono_ms();
    for (int i = 0; i < n; i++)
        if (kg_mqtt_publish(m, "kvmgrid/h1/vm/d", "1", 1, true) != KG_EAGAIN)
            unexpected++;
    return kg_clock_mono_ms() - t0;
}

static void *other_thread(void *arg)
{
    struct kg_mqtt *m = arg;
    struct kg_mqtt_pace p = {1, 40, 10000, NULL};
    uint64_t *ms = malloc(sizeof *ms);
    *ms = kg_mqtt_pace_begin(m, &p) == KG_ESTATE ? publish_ms(m, 6) : UINT64_MAX;
    kg_mqtt_pace_end(m); /* not its pacing: no effect */
    return ms;
}

/* The session's window is full and cannot drain (no broker), so every wait of a
 * paced publish lasts its whole wait_ms (or what is left of the budget). */
static void test_pace(void **state)
{
    struct kg_mqtt *m = *state;
    struct kg_mqtt_pace p = {1, 40, 10000, NULL};
    assert_int_equal(kg_mqtt_pace_begin(NULL, &p), KG_EINVAL);
    assert_int_equal(kg_mqtt_pace_begin(m, NULL), KG_EINVAL);
    p.batch = 0;
    assert_int_equal(kg_mqtt_pace_begin(m, &p), KG_EINVAL);
    kg_mqtt_pace_end(NULL);
    kg_mqtt_pace_end(m); /* not pacing: no effect */
    assert_true(publish_ms(m, 6) < 40);

    /* batch 2: waits before the 3rd and the 5th publish */
    p.batch = 2;
    assert_int_equal(kg_mqtt_pace_begin(m, &p), 0);
    uint64_t ms = publish_ms(m, 6);
    assert_true(ms >= 75);
    assert_true(ms < 75 + 400);

    /* another thread neither paces nor waits; restarting on this one is fine */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, m), 0);
    void *ret = NULL;
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_true(*(uint64_t *)ret < 40);
    free(ret);
    p.batch = 1;
    assert_int_equal(kg_mqtt_pace_begin(m, &p), 0);

    /* the budget bounds the waits of a burst: 100 ms, not 9 x 40 */
    p.budget_ms = 100;
    assert_int_equal(kg_mqtt_pace_begin(m, &p), 0);
    ms = publish_ms(m, 10);
    assert_true(ms >= 95);
    assert_true(ms < 100 + 400);

    /* a cancel flag (a stop signal) ends the waiting */
    volatile sig_atomic_t stop = 1;
    p.budget_ms = 10000;
    p.cancel = &stop;
    assert_int_equal(kg_mqtt_pace_begin(m, &p), 0);
    assert_true(publish_ms(m, 6) < 40);

    /* ended: no waits */
    p.cancel = NULL;
    assert_int_equal(kg_mqtt_pace_begin(m, &p), 0);
    kg_mqtt_pace_end(m);
    assert_true(publish_ms(m, 6) < 40);
    assert_int_equal(unexpected, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuse_when_full), /* first: it counts the session's publishes */
        cmocka_unit_test(test_pace),
    };
    return cmocka_run_group_tests(tests, session_setup, session_teardown);
}
