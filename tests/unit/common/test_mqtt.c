/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the MQTT session's pure parts: topic name and filter validation
 * (checked against mosquitto's own validators, loaded from libmosquitto at run
 * time, so "as the broker would" is measured, not assumed), option validation
 * with its messages, and the session's life cycle without a broker (create,
 * publish while offline, stop, free, wrong-state calls). Talking to a broker is
 * the integration tests' job (tests/integration/common).
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kvmgrid/error.h"
#include "kvmgrid/mqtt.h"

static bool tv(const char *s) { return kg_mqtt_topic_valid(s, strlen(s)); }
static bool fv(const char *s) { return kg_mqtt_filter_valid(s, strlen(s)); }

static void test_topic_valid_accepts(void **state)
{
    (void)state;
    assert_true(tv("kvmgrid/host1/status"));
    assert_true(tv("a"));
    assert_true(tv("/"));
    assert_true(tv("a//b"));
    assert_true(tv("/leading/and/trailing/"));
    assert_true(tv("with space/and-dash_and.dot"));
    assert_true(tv("kvmgrid/h\xc3\xbc" "st/vm/\xe2\x9c\x93"));    /* ü, ✓ */
    assert_true(tv("emoji/\xf0\x9f\x98\x80"));                   /* U+1F600 */
    assert_true(tv("max/\xf4\x8f\xbf\xbd"));                      /* U+10FFFD */
    assert_true(tv("$SYS/not/ours/but/a/valid/name"));
    char *big = malloc(65536);
    assert_non_null(big);
    memset(big, 'x', 65535);
    big[65535] = '\0';
    assert_true(kg_mqtt_topic_valid(big, 65535));
    free(big);
}

static void test_topic_valid_refuses(void **state)
{
    (void)state;
    assert_false(kg_mqtt_topic_valid(NULL, 3));
    assert_false(tv(""));
    assert_false(tv("a/+/b"));
    assert_false(tv("+"));
    assert_false(tv("a/#"));
    assert_false(tv("#"));
    assert_false(tv("a+b"));
    assert_false(kg_mqtt_topic_valid("a\0b", 3));                  /* embedded NUL */
    assert_false(tv("bad/\xff"));
    assert_false(tv("bad/\xc3"));                                 /* truncated */
    assert_false(tv("bad/\xc0\xaf"));                             /* overlong '/' */
    assert_false(tv("bad/\xe0\x80\xaf"));                         /* overlong 3-byte */
    assert_false(tv("bad/\xf0\x80\x80\xaf"));                     /* overlong 4-byte */
    assert_false(tv("bad/\xed\xa0\x80"));                         /* surrogate */
    assert_false(tv("bad/\xf4\x90\x80\x80"));                     /* > U+10FFFF */
    assert_false(tv("bad/\x80"));                                 /* stray continuation */
    assert_false(tv("bad/\x01"));                                 /* C0 control */
    assert_false(tv("bad/\n"));
    assert_false(tv("bad/\x7f"));                                 /* DEL */
    assert_false(tv("bad/\xc2\x85"));                             /* C1 control */
    assert_false(tv("bad/\xef\xbf\xbe"));                         /* U+FFFE */
    assert_false(tv("bad/\xef\xb7\x90"));                         /* U+FDD0 */
    char *big = malloc(65537);
    assert_non_null(big);
    memset(big, 'x', 65536);
    big[65536] = '\0';
    assert_false(kg_mqtt_topic_valid(big, 65536));
    free(big);
}

static void test_filter_valid(void **state)
{
    (void)state;
    assert_true(fv("#"));
    assert_true(fv("+"));
    assert_true(fv("kvmgrid/#"));
    assert_true(fv("kvmgrid/+/status"));
    assert_true(fv("+/+/+"));
    assert_true(fv("kvmgrid/+/vm/#"));
    assert_true(fv("/"));
    assert_true(fv("plain/topic"));
    assert_false(kg_mqtt_filter_valid(NULL, 1));
    assert_false(fv(""));
    assert_false(fv("a#"));
    assert_false(fv("a/#/b"));
    assert_false(fv("#/"));
    assert_false(fv("a+"));
    assert_false(fv("+a/b"));
    assert_false(fv("a/b+/c"));
    assert_false(fv("bad/\xff/#"));
    assert_false(kg_mqtt_filter_valid("a\0#", 3));
}

/* ---- differential check against libmosquitto (what mosquitto 2.0 enforces) ---- */

typedef int (*mosq_check_fn)(const char *, size_t);
typedef int (*mosq_utf8_fn)(const char *, int);
static mosq_check_fn mosq_pub_check, mosq_sub_check;
static mosq_utf8_fn mosq_utf8;

static int load_mosquitto(void **state)
{
    (void)state;
    void *h = dlopen("libmosquitto.so.1", RTLD_NOW);
    if (!h) {
        fprintf(stderr, "cannot load libmosquitto.so.1 (Debian libmosquitto1): %s\n", dlerror());
        return -1; /* a missing component is a failure, not a skip */
    }
    *(void **)&mosq_pub_check = dlsym(h, "mosquitto_pub_topic_check2");
    *(void **)&mosq_sub_check = dlsym(h, "mosquitto_sub_topic_check2");
    *(void **)&mosq_utf8 = dlsym(h, "mosquitto_validate_utf8");
    return mosq_pub_check && mosq_sub_check && mosq_utf8 ? 0 : -1;
}

static bool broker_accepts_name(const char *s, size_t n)
{
    return n > 0 && mosq_pub_check(s, n) == 0 && mosq_utf8(s, (int)n) == 0;
}

static bool broker_accepts_filter(const char *s, size_t n)
{
    return n > 0 && mosq_sub_check(s, n) == 0 && mosq_utf8(s, (int)n) == 0;
}

static void check_same(const char *str, size_t n)
{
    /* mosquitto_validate_utf8 looks past len when a sequence is truncated at the
     * end (in the broker, into the rest of the packet): give it zeros to find. */
    char s[16] = {0};
    assert_true(n <= 8);
    memcpy(s, str, n);
    bool ours = kg_mqtt_topic_valid(s, n), theirs = broker_accepts_name(s, n);
    bool ours_f = kg_mqtt_filter_valid(s, n), theirs_f = broker_accepts_filter(s, n);
    if (ours != theirs || ours_f != theirs_f) {
        char hex[64] = "";
        for (size_t i = 0; i < n && i < 16; i++)
            snprintf(hex + 3 * i, 4, "%02x ", (unsigned char)s[i]);
        fail_msg("disagree with mosquitto on [%s] (len %zu): name ours=%d theirs=%d, "
                 "filter ours=%d theirs=%d",
                 hex, n, ours, theirs, ours_f, theirs_f);
    }
}

static void test_same_as_mosquitto_short(void **state)
{
    (void)state;
    char s[2];
    for (int a = 0; a < 256; a++) {
        s[0] = (char)a;
        check_same(s, 1);
        for (int b = 0; b < 256; b++) {
            s[1] = (char)b;
            check_same(s, 2);
        }
    }
}

static void test_same_as_mosquitto_random(void **state)
{
    (void)state;
    /* Biased alphabet: separators, wildcards, ASCII, lead and continuation bytes. */
    static const unsigned char alphabet[] = {
        '/', '/', '+', '#', 'a', 'b', ' ', 0x00, 0x01, 0x1f, 0x7f, 0x80, 0x85, 0x9f, 0xa0,
        0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xb7, 0xbe, 0xf0, 0xf4, 0x8f, 0x90, 0xf5, 0xff};
    unsigned int seed = 12345;
    char s[8];
    for (int iter = 0; iter < 300000; iter++) {
        size_t n = 1 + (size_t)(rand_r(&seed) % 7);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)alphabet[rand_r(&seed) % sizeof alphabet];
        check_same(s, n);
    }
}

/* ------------------------------------------------------------- options */

static struct kg_mqtt_options base(void)
{
    struct kg_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.uri = "tcp://127.0.0.1:1883";
    o.qos = 1;
    return o;
}

static void expect_bad(const struct kg_mqtt_options *o, const char *words)
{
    char err[256] = "";
    assert_int_equal(kg_mqtt_options_check(o, err, sizeof err), KG_EINVAL);
    if (!strstr(err, words))
        fail_msg("error message [%s] lacks [%s]", err, words);
    struct kg_mqtt *m = (struct kg_mqtt *)(uintptr_t)1;
    char err2[256] = "";
    assert_int_equal(kg_mqtt_create(o, &m, err2, sizeof err2), KG_EINVAL);
    assert_null(m);
    assert_string_equal(err, err2);
}

static void test_options_good(void **state)
{
    (void)state;
    char err[256];
    struct kg_mqtt_options o = base();
    assert_int_equal(kg_mqtt_options_check(&o, err, sizeof err), 0);
    o.uri = "tcp://localhost";
    assert_int_equal(kg_mqtt_options_check(&o, err, sizeof err), 0);
    o.uri = "tcp://[::1]:1883";
    assert_int_equal(kg_mqtt_options_check(&o, err, sizeof err), 0);
    o.uri = "ssl://broker.example:8883";
    o.ca_file = "/etc/hostname"; /* any readable file passes the check */
    o.tls_insecure = true;
    assert_int_equal(kg_mqtt_options_check(&o, err, sizeof err), 0);
    o = base();
    o.qos = 0;
    o.username = "agent-h1";
    o.password = "secret";
    o.will_topic = "kvmgrid/h1/status";
    o.will_payload = "offline";
    o.keepalive_s = 65535;
    o.reconnect_min_ms = 100;
    o.reconnect_max_ms = 100;
    o.max_buffered = 1;
    assert_int_equal(kg_mqtt_options_check(&o, err, sizeof err), 0);
    o = base();
    o.protocol = 4;
    assert_int_equal(kg_mqtt_options_check(&o, err, sizeof err), 0);
    o.protocol = 5;
    o.retain_as_published = true;
    assert_int_equal(kg_mqtt_options_check(&o, err, sizeof err), 0);
}

static void test_options_bad(void **state)
{
    (void)state;
    char err[64];
    assert_int_equal(kg_mqtt_options_check(NULL, err, sizeof err), KG_EINVAL);
    assert_int_equal(kg_mqtt_options_check(NULL, NULL, 0), KG_EINVAL); /* no buffer: no crash */
    struct kg_mqtt_options o = base();
    o.uri = NULL;                           expect_bad(&o, "no broker URI");
    o.uri = "";                             expect_bad(&o, "no broker URI");
    o.uri = "mqtt://h:1883";                expect_bad(&o, "tcp:// or ssl://");
    o.uri = "tcp:/h:1883";                  expect_bad(&o, "tcp:// or ssl://");
    o.uri = "tcp://";                       expect_bad(&o, "no host");
    o.uri = "tcp://h:";                     expect_bad(&o, "empty port");
    o.uri = "tcp://h:0";                    expect_bad(&o, "1-65535");
    o.uri = "tcp://h:99999999999999999999"; expect_bad(&o, "1-65535");
    o.uri = "tcp://h:-1";                   expect_bad(&o, "1-65535");
    o.uri = "tcp://h/x";                    expect_bad(&o, "after the host");
    o.uri = "tcp://user@h:1883";            expect_bad(&o, "invalid character");
    o.uri = "tcp://[]:1883";                expect_bad(&o, "IPv6");
    o = base(); o.qos = 2;                  expect_bad(&o, "QoS 2");
    o = base(); o.qos = -1;                 expect_bad(&o, "QoS -1");
    o = base(); o.keepalive_s = -1;         expect_bad(&o, "keepalive");
    o = base(); o.keepalive_s = 65536;      expect_bad(&o, "keepalive");
    o = base(); o.password = "x";           expect_bad(&o, "user name");
    o = base(); o.username = "";            expect_bad(&o, "user name");
    o = base(); o.client_id = "";           expect_bad(&o, "client id");
    o = base(); o.client_id = "bad\x01id";  expect_bad(&o, "client id");
    o = base(); o.will_topic = "a/+";       expect_bad(&o, "will topic");
    o = base(); o.will_topic = "";          expect_bad(&o, "will topic");
    o = base(); o.will_payload = "x";       expect_bad(&o, "needs a will topic");
    o = base(); o.ca_file = "/etc/hostname";expect_bad(&o, "ssl://");
    o = base(); o.tls_insecure = true;      expect_bad(&o, "ssl://");
    o = base(); o.uri = "ssl://h:8883"; o.ca_file = "/nonexistent/ca.pem";
    expect_bad(&o, "/nonexistent/ca.pem");
    o = base(); o.uri = "ssl://h:8883"; o.key_file = "/etc/hostname";
    expect_bad(&o, "needs a certificate");
    o = base(); o.reconnect_min_ms = 5000; o.reconnect_max_ms = 1000;
    expect_bad(&o, "above the maximum");
    o = base(); o.reconnect_max_ms = 7200000; expect_bad(&o, "above one hour");
    o = base(); o.max_buffered = -5;        expect_bad(&o, "max_buffered");
    o = base(); o.protocol = 3;             expect_bad(&o, "protocol level 3");
    o = base(); o.protocol = 6;             expect_bad(&o, "protocol level 6");
    o = base(); o.retain_as_published = true; expect_bad(&o, "need MQTT 5");
    o.protocol = 4;                         expect_bad(&o, "need MQTT 5");
    /* A tiny error buffer truncates, never overflows. */
    o = base(); o.qos = 7;
    char tiny[8];
    memset(tiny, 'Z', sizeof tiny);
    assert_int_equal(kg_mqtt_options_check(&o, tiny, 5), KG_EINVAL);
    assert_int_equal(tiny[4], '\0');
    assert_int_equal(tiny[5], 'Z');
}

/* ------------------------------------------------ life cycle, no broker */

static void test_lifecycle_offline(void **state)
{
    (void)state;
    kg_mqtt_free(NULL);
    assert_int_equal(kg_mqtt_stop(NULL, NULL, NULL, 0), 0);
    assert_int_equal(kg_mqtt_create(NULL, NULL, NULL, 0), KG_EINVAL);

    struct kg_mqtt_options o = base();
    o.uri = "tcp://127.0.0.1:1"; /* nothing listens there: connects are refused */
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 100;
    o.max_buffered = 3;
    struct kg_mqtt *m = NULL;
    char err[128];
    assert_int_equal(kg_mqtt_create(&o, &m, err, sizeof err), 0);
    assert_non_null(m);
    assert_false(kg_mqtt_is_connected(m));
    assert_int_equal(kg_mqtt_wait_connected(m, 10), KG_ESTATE); /* not started */

    /* Subscriptions are recorded before start; invalid ones refused. */
    assert_int_equal(kg_mqtt_subscribe(m, "kvmgrid/+/status"), 0);
    assert_int_equal(kg_mqtt_subscribe(m, "kvmgrid/+/status"), 0); /* duplicate: fine */
    assert_int_equal(kg_mqtt_subscribe(m, "kvmgrid/a#"), KG_EINVAL);
    assert_int_equal(kg_mqtt_subscribe(m, NULL), KG_EINVAL);

    /* Offline: max_buffered messages go to Paho; beyond, one message per topic
     * waits, a newer one replacing it. */
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/status", "online", 6, true), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/metrics", "{}", 2, true), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/empty", NULL, 0, true), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/more", "x", 1, false), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/more", "y", 1, false), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/more", NULL, 0, true), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/other", "z", 1, false), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/status", "again", 5, true), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/+/x", "x", 1, false), KG_EINVAL);
    assert_int_equal(kg_mqtt_publish(m, NULL, "x", 1, false), KG_EINVAL);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/x", NULL, 1, false), KG_EINVAL);
    struct kg_mqtt_stats st;
    kg_mqtt_get_stats(m, &st);
    assert_int_equal(st.published, 3);
    assert_int_equal(st.waiting, 3);     /* more, other, status */
    assert_int_equal(st.coalesced, 2);   /* more: x replaced by y, y by the empty one */
    assert_int_equal(st.publish_failed, 3);
    assert_int_equal(st.connects, 0);

    assert_int_equal(kg_mqtt_start(m), 0);
    assert_int_equal(kg_mqtt_start(m), KG_ESTATE);
    assert_int_equal(kg_mqtt_wait_connected(m, 300), KG_ETIMEDOUT);
    assert_int_equal(kg_mqtt_flush(m, 50), KG_ETIMEDOUT); /* 3 messages can't go anywhere */

    /* Stop without a connection: prompt, no final message, idempotent. */
    assert_int_equal(kg_mqtt_stop(m, "kvmgrid/h1/status", "offline", 500), 0);
    assert_int_equal(kg_mqtt_stop(m, "kvmgrid/h1/status", "offline", 500), 0);
    assert_int_equal(kg_mqtt_publish(m, "kvmgrid/h1/status", "x", 1, true), KG_ESTATE);
    assert_int_equal(kg_mqtt_subscribe(m, "kvmgrid/#"), KG_ESTATE);
    assert_int_equal(kg_mqtt_start(m), KG_ESTATE);
    assert_int_equal(kg_mqtt_wait_connected(m, 10), KG_ESTATE);
    kg_mqtt_get_stats(m, &st);
    assert_int_equal(st.connects, 0);
    kg_mqtt_free(m);
}

static void count_result(void *ctx, int rc, int reason)
{
    (void)rc;
    (void)reason;
    (*(int *)ctx)++;
}

/* kg_mqtt_publish_notify refuses what kg_mqtt_publish refuses, and a callback is
 * required; a refused call never calls back. (Its outcomes are tested against a
 * broker: tests/integration/loadgen/test_listen.sh.) */
static void test_notify_refused(void **state)
{
    (void)state;
    struct kg_mqtt_options o = base();
    o.uri = "tcp://127.0.0.1:1";
    struct kg_mqtt *m = NULL;
    assert_int_equal(kg_mqtt_create(&o, &m, NULL, 0), 0);
    int calls = 0;
    assert_int_equal(kg_mqtt_publish_notify(NULL, "kvmgrid/n1/load/cmd", "", 0, true, count_result,
                                            &calls), KG_EINVAL);
    assert_int_equal(kg_mqtt_publish_notify(m, "kvmgrid/n1/load/cmd", "", 0, true, NULL, NULL),
                     KG_EINVAL);
    assert_int_equal(kg_mqtt_publish_notify(m, "kvmgrid/+/x", "", 0, true, count_result, &calls),
                     KG_EINVAL);
    assert_int_equal(kg_mqtt_publish_notify(m, "kvmgrid/x", NULL, 3, true, count_result, &calls),
                     KG_EINVAL);
    assert_int_equal(kg_mqtt_stop(m, NULL, NULL, 100), 0);
    assert_int_equal(kg_mqtt_publish_notify(m, "kvmgrid/n1/load/cmd", "", 0, true, count_result,
                                            &calls), KG_ESTATE);
    kg_mqtt_free(m);
    assert_int_equal(calls, 0);
}

/* An MQTT 5 session with a retain-as-published subscription: created, started
 * against nothing, stopped and freed cleanly. */
static void test_v5_offline(void **state)
{
    (void)state;
    struct kg_mqtt_options o = base();
    o.uri = "tcp://127.0.0.1:1";
    o.protocol = 5;
    o.retain_as_published = true;
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 100;
    struct kg_mqtt *m = NULL;
    assert_int_equal(kg_mqtt_create(&o, &m, NULL, 0), 0);
    assert_int_equal(kg_mqtt_subscribe(m, "kvmgrid/n1/load/cmd"), 0);
    assert_int_equal(kg_mqtt_start(m), 0);
    assert_int_equal(kg_mqtt_wait_connected(m, 200), KG_ETIMEDOUT);
    assert_int_equal(kg_mqtt_stop(m, "kvmgrid/n1/load/state", "{}", 100), 0);
    kg_mqtt_free(m);
}

static void test_free_without_start_or_stop(void **state)
{
    (void)state;
    struct kg_mqtt_options o = base();
    o.client_id = "unit-test-client";
    o.will_topic = "kvmgrid/unit/status";
    struct kg_mqtt *m = NULL;
    assert_int_equal(kg_mqtt_create(&o, &m, NULL, 0), 0);
    kg_mqtt_free(m); /* never started */

    o.uri = "tcp://127.0.0.1:1";
    assert_int_equal(kg_mqtt_create(&o, &m, NULL, 0), 0);
    assert_int_equal(kg_mqtt_start(m), 0);
    kg_mqtt_free(m); /* started, still retrying: free stops it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_valid_accepts),
        cmocka_unit_test(test_topic_valid_refuses),
        cmocka_unit_test(test_filter_valid),
        cmocka_unit_test(test_same_as_mosquitto_short),
        cmocka_unit_test(test_same_as_mosquitto_random),
        cmocka_unit_test(test_options_good),
        cmocka_unit_test(test_options_bad),
        cmocka_unit_test(test_free_without_start_or_stop),
        cmocka_unit_test(test_notify_refused),
        cmocka_unit_test(test_v5_offline),
        /* Last: Paho 1.3.12 leaks messages still buffered at MQTTAsync_destroy,
         * and LeakSanitizer reports them once a later MQTTAsync_create resets
         * Paho's globals (so test_mqtt_refuse is a binary of its own). */
        cmocka_unit_test(test_lifecycle_offline),
    };
    return cmocka_run_group_tests(tests, load_mosquitto, NULL);
}
