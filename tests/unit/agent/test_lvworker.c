/* SPDX-License-Identifier: MIT */
/* The collector thread against libvirt's test driver: one request gives one
 * result (and only one), a second request waits for the first to be taken,
 * lifecycle events on test:///default become removals and early-cycle wishes,
 * a bad URI gives an error result (no hang, no exit), reset reconnects, and stop
 * ends the thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <libvirt/libvirt.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "lvworker.h"

#define NODE_URI "test://" KG_FIXTURES "/agent/node.xml"
#define SEC 1000000000ull

/* Waits up to 5 s for the answer to the pending request. */
static bool wait_result(struct lvworker *w, struct lvworker_result *r)
{
    uint64_t deadline = kg_clock_mono_ns() + 5 * SEC;
    while (kg_clock_mono_ns() < deadline) {
        if (lvworker_take_result(w, r))
            return true;
        lvworker_wait(w, SEC / 10);
    }
    return false;
}

static void test_request_result(void **state)
{
    (void)state;
    struct collect_options o = {.uri = NODE_URI, .read_only = true};
    struct lvworker *w = NULL;
    assert_int_equal(lvworker_start(&o, &w), 0);
    struct lvworker_result r;
    assert_false(lvworker_take_result(w, &r)); /* nothing asked yet */
    uint64_t t0 = kg_clock_mono_ns();
    assert_true(lvworker_request(w));
    assert_true(wait_result(w, &r));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.n, 7);
    assert_string_equal(r.path, "fallback");
    assert_true(r.mono_ns >= t0);
    assert_true(r.node.have_info);
    assert_false(lvworker_pending(w, NULL));
    assert_false(lvworker_take_result(w, &r)); /* taken once */
    /* a second request while one is pending is refused */
    assert_true(lvworker_request(w));
    uint64_t since = 0;
    if (lvworker_pending(w, &since)) {
        assert_true(since >= t0);
        assert_false(lvworker_request(w));
    }
    assert_true(wait_result(w, &r));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.n, 7);
    /* nothing pending, or not busy that long: no new thread */
    char what[64] = "";
    assert_false(lvworker_replace(w, 0, what, sizeof what));
    assert_true(lvworker_request(w));
    assert_false(lvworker_replace(w, 3600 * SEC, what, sizeof what));
    assert_true(wait_result(w, &r));
    assert_int_equal(r.rc, 0);
    assert_true(lvworker_stop(w, 1000));
    assert_true(lvworker_stop(NULL, 0));
}

static void test_bad_uri_then_reset(void **state)
{
    (void)state;
    struct collect_options o = {.uri = "test:///nonexistent/node.xml", .read_only = true};
    struct lvworker *w = NULL;
    assert_int_equal(lvworker_start(&o, &w), 0);
    struct lvworker_result r;
    assert_true(lvworker_request(w));
    assert_true(wait_result(w, &r));
    assert_int_equal(r.rc, KG_ENOTCONN);
    assert_true(strlen(r.err) > 0);
    assert_string_equal(r.path, "none");
    assert_int_equal(r.n, 0);
    /* new options: connected at the next request, the backoff forgotten */
    struct collect_options good = {.uri = NODE_URI, .read_only = true};
    lvworker_reset(w, &good);
    assert_true(lvworker_request(w));
    assert_true(wait_result(w, &r));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.n, 7);
    assert_true(lvworker_stop(w, 1000));
}

static const char *const dom_xml =
    "<domain type='test'><name>lvw one</name>"
    "<uuid>bbbbbbbb-0000-4000-8000-00000000000b</uuid>"
    "<memory>65536</memory><os><type>hvm</type></os></domain>";

static void test_events(void **state)
{
    (void)state;
    struct collect_options o = {.uri = "test:///default", .read_only = true};
    struct lvworker *w = NULL;
    assert_int_equal(lvworker_start(&o, &w), 0);
    struct lvworker_result r;
    assert_true(lvworker_request(w)); /* connects: events flow from now on */
    assert_true(wait_result(w, &r));
    assert_int_equal(r.rc, 0);
    virConnectPtr conn = virConnectOpen("test:///default");
    assert_non_null(conn);
    virDomainPtr dom = virDomainDefineXML(conn, dom_xml);
    assert_non_null(dom);
    uint64_t deadline = kg_clock_mono_ns() + 5 * SEC;
    bool early = false;
    while (!early && kg_clock_mono_ns() < deadline) {
        lvworker_wait(w, SEC / 10);
        early = lvworker_take_early(w);
    }
    assert_true(early);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    struct lvworker_removal rm;
    bool removed = false;
    deadline = kg_clock_mono_ns() + 5 * SEC;
    while (!removed && kg_clock_mono_ns() < deadline) {
        lvworker_wait(w, SEC / 10);
        removed = lvworker_take_removal(w, &rm);
    }
    assert_true(removed);
    assert_string_equal(rm.uuid, "bbbbbbbb-0000-4000-8000-00000000000b");
    assert_string_equal(rm.name, "lvw one");
    assert_false(lvworker_take_removal(w, &rm));
    virConnectClose(conn);
    assert_true(lvworker_stop(w, 1000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_result),
        cmocka_unit_test(test_bad_uri_then_reset),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
