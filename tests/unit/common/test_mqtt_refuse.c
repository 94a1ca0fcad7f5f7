/* SPDX-License-Identifier: MIT */
/* The MQTT session's refuse_when_full option, without a broker. A binary of its
 * own: it leaves messages buffered in Paho at MQTTAsync_destroy, which Paho
 * 1.3.12 leaks, and LeakSanitizer reports them only if another session is
 * created afterwards in the same process (test_mqtt's last test does the same). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kvmgrid/error.h"
#include "kvmgrid/mqtt.h"

/* refuse_when_full: beyond the window nothing waits; the message is refused with
 * KG_EAGAIN and counted as failed (the agent sends its newest state next cycle). */
static void test_refuse_when_full(void **state)
{
    (void)state;
    struct kg_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.uri = "tcp://127.0.0.1:1"; /* nothing listens there: connects are refused */
    o.qos = 1;
    o.max_buffered = 2;
    o.refuse_when_full = true;
    struct kg_mqtt *m = NULL;
    char err[128];
    assert_int_equal(kg_mqtt_create(&o, &m, err, sizeof err), 0);
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
    assert_int_equal(kg_mqtt_stop(m, NULL, NULL, 500), 0);
    kg_mqtt_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuse_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
