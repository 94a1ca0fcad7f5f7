/* SPDX-License-Identifier: MIT */
/* A notify publish still queued when its session is freed: its caller hears,
 * once, that it was lost (KG_EIO). A binary of its own: the message stays
 * buffered in Paho at MQTTAsync_destroy, which Paho 1.3.12 leaks, and
 * LeakSanitizer reports that only if another session is created afterwards in
 * the same process (see test_mqtt_refuse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kvmgrid/error.h"
#include "kvmgrid/mqtt.h"

static void last_result(void *ctx, int rc, int reason)
{
    int *r = ctx;
    r[0]++;
    r[1] = rc;
    r[2] = reason;
}

static void test_notify_lost_at_free(void **state)
{
    (void)state;
    struct kg_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.uri = "tcp://127.0.0.1:1"; /* nothing listens there: connects are refused */
    o.qos = 1;
    struct kg_mqtt *m = NULL;
    assert_int_equal(kg_mqtt_create(&o, &m, NULL, 0), 0);
    assert_int_equal(kg_mqtt_start(m), 0);
    int r[3] = {0, -1, -1};
    assert_int_equal(kg_mqtt_publish_notify(m, "kvmgrid/n1/load/cmd", "", 0, true, last_result,
                                            r), 0);
    assert_int_equal(r[0], 0);
    kg_mqtt_free(m);
    assert_int_equal(r[0], 1);
    assert_int_equal(r[1], KG_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_lost_at_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
