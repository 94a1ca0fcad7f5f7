/* SPDX-License-Identifier: MIT */
/*
 * The wall's alerts (alerts.h): a kind enters after its "for" and not before,
 * leaves at "clear", stays between clear and over (hysteresis); a pending kind
 * is reset by a sample at or below clear; NaN ends a kind; stale and offline
 * are kinds that hold the metric kinds back; a reset slot starts clean; the
 * rules as written parse and format back, and every malformed one is refused
 * with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "alerts.h"
#include "kvmgrid/error.h"

#define BIT(k) (1u << (k))

static struct alerts_rules rules;

static int setup(void **state)
{
    (void)state;
    alerts_rules_default(&rules);
    return 0;
}

/* A sample with CPU cpu and mem mem %, no steal, no latency. */
static bool sample(struct alerts_vm *a, double cpu, double mem, uint64_t t)
{
    double fig[ALERTS_METRICS] = {cpu, mem, 0, NAN};
    return alerts_vm_sample(a, &rules, fig, t);
}

static bool fresh(struct alerts_vm *a, uint64_t t)
{
    return alerts_vm_state(a, &rules, false, false, t);
}

static void enters_after_for(void **state)
{
    (void)state;
    struct alerts_vm a;
    alerts_vm_reset(&a);
    /* CPU: over 90 for 60 s */
    assert_false(sample(&a, 95, 40, 1000));
    assert_int_equal(a.since_ms[ALERTS_CPU], 1000);
    assert_int_equal(a.active, 0);
    assert_false(sample(&a, 96, 40, 31000));
    assert_false(fresh(&a, 60999)); /* not before ... */
    assert_int_equal(a.active, 0);
    assert_int_equal(alerts_vm_since(&a), 0);
    assert_int_equal(alerts_vm_first(&a), -1);
    assert_true(fresh(&a, 61000)); /* ... at 60 s from the first sample over */
    assert_int_equal(a.active, BIT(ALERTS_CPU));
    assert_int_equal(alerts_vm_since(&a), 1000);
    assert_int_equal(alerts_vm_first(&a), ALERTS_CPU);
    assert_false(fresh(&a, 62000)); /* no change */
    /* memory: over 95 without "for": at once, with the sample */
    assert_true(sample(&a, 95, 96, 63000));
    assert_int_equal(a.active, BIT(ALERTS_CPU) | BIT(ALERTS_MEM));
    assert_int_equal(alerts_vm_since(&a), 1000); /* the longest */
    assert_int_equal(alerts_vm_first(&a), ALERTS_CPU);
    /* exactly at the threshold is not over */
    struct alerts_vm b;
    alerts_vm_reset(&b);
    assert_false(sample(&b, 90, 95, 1000));
    assert_false(fresh(&b, 500000));
    assert_int_equal(b.since_ms[ALERTS_CPU], 0);
}

static void leaves_at_clear(void **state)
{
    (void)state;
    struct alerts_vm a;
    alerts_vm_reset(&a);
    sample(&a, 95, 40, 1000);
    fresh(&a, 61000);
    assert_int_equal(a.active, BIT(ALERTS_CPU));
    /* between clear (85) and over (90): still in alert */
    assert_false(sample(&a, 87, 40, 62000));
    assert_false(fresh(&a, 62000));
    assert_false(sample(&a, 85.5, 40, 63000));
    assert_int_equal(a.active, BIT(ALERTS_CPU));
    assert_int_equal(alerts_vm_since(&a), 1000);
    /* at clear: out */
    assert_true(sample(&a, 85, 40, 64000));
    assert_int_equal(a.active, 0);
    assert_int_equal(a.since_ms[ALERTS_CPU], 0);
    /* between clear and over again: not a new start */
    assert_false(sample(&a, 88, 40, 65000));
    assert_int_equal(a.since_ms[ALERTS_CPU], 0);
    assert_false(fresh(&a, 200000));
}

static void pending_reset_by_a_sample_under(void **state)
{
    (void)state;
    struct alerts_vm a;
    alerts_vm_reset(&a);
    sample(&a, 95, 40, 1000);
    sample(&a, 88, 40, 20000); /* above clear: still pending from 1000 */
    assert_int_equal(a.since_ms[ALERTS_CPU], 1000);
    sample(&a, 80, 40, 30000); /* at or below clear: over ends */
    assert_int_equal(a.since_ms[ALERTS_CPU], 0);
    sample(&a, 95, 40, 40000); /* over again: counts from here */
    assert_false(fresh(&a, 61000));
    assert_false(fresh(&a, 99999));
    assert_true(fresh(&a, 100000));
    assert_int_equal(alerts_vm_since(&a), 40000);
}

static void nan_ends(void **state)
{
    (void)state;
    struct alerts_vm a;
    alerts_vm_reset(&a);
    assert_true(sample(&a, 95, 99, 1000));
    assert_int_equal(a.active, BIT(ALERTS_MEM));
    assert_true(sample(&a, NAN, NAN, 2000)); /* no figure: no evidence of anything */
    assert_int_equal(a.active, 0);
    assert_int_equal(a.since_ms[ALERTS_CPU], 0);
    assert_int_equal(a.since_ms[ALERTS_MEM], 0);
    /* disk latency: the figure the model gives (the larger of read and write) */
    double fig[ALERTS_METRICS] = {NAN, NAN, NAN, 51};
    assert_true(alerts_vm_sample(&a, &rules, fig, 3000));
    assert_int_equal(a.active, BIT(ALERTS_DISK_LAT));
    fig[ALERTS_STEAL] = 10.5;
    assert_true(alerts_vm_sample(&a, &rules, fig, 4000));
    assert_int_equal(a.active, BIT(ALERTS_DISK_LAT) | BIT(ALERTS_STEAL));
    assert_int_equal(alerts_vm_first(&a), ALERTS_STEAL);
}

static void stale_holds_pending_back(void **state)
{
    (void)state;
    struct alerts_vm a;
    alerts_vm_reset(&a);
    sample(&a, 95, 40, 1000); /* CPU pending from 1000 */
    /* stale from 20 s: the stale kind is active at once, since then */
    assert_true(alerts_vm_state(&a, &rules, true, false, 20000));
    assert_int_equal(a.active, BIT(ALERTS_STALE));
    assert_int_equal(alerts_vm_first(&a), ALERTS_STALE);
    assert_false(alerts_vm_state(&a, &rules, true, false, 30000));
    assert_int_equal(a.since_ms[ALERTS_STALE], 20000);
    /* CPU's 60 s run out while stale: no evidence it stayed over, not promoted */
    assert_false(alerts_vm_state(&a, &rules, true, false, 90000));
    assert_int_equal(a.active, BIT(ALERTS_STALE));
    assert_int_equal(a.since_ms[ALERTS_CPU], 1000); /* but kept */
    /* a kind without "for" is held back too while the VM is in alert as stale */
    assert_false(sample(&a, 95, 99, 95000));
    assert_int_equal(a.active, BIT(ALERTS_STALE));
    /* fresh again (the sample above ended the staleness): stale ends, and what
     * the fresh samples show over is promoted */
    assert_true(fresh(&a, 95010));
    assert_int_equal(a.active, BIT(ALERTS_CPU) | BIT(ALERTS_MEM));
    assert_int_equal(a.since_ms[ALERTS_STALE], 0);
    assert_int_equal(alerts_vm_since(&a), 1000);
    /* a fresh sample under clear while stale would have ended it instead */
    struct alerts_vm b;
    alerts_vm_reset(&b);
    sample(&b, 95, 40, 1000);
    alerts_vm_state(&b, &rules, true, false, 20000);
    sample(&b, 10, 40, 90000);
    assert_true(fresh(&b, 90010));
    assert_int_equal(b.active, 0);
    /* stale off: nothing, and pending still held back while stale */
    rules.stale = false;
    alerts_vm_reset(&b);
    sample(&b, 95, 40, 1000);
    assert_false(alerts_vm_state(&b, &rules, true, false, 90000));
    assert_int_equal(b.active, 0);
    alerts_rules_default(&rules);
}

static void offline(void **state)
{
    (void)state;
    struct alerts_vm a;
    alerts_vm_reset(&a);
    sample(&a, 50, 99, 1000);
    assert_int_equal(a.active, BIT(ALERTS_MEM));
    /* the host goes offline; later its VMs go stale: said once, as offline */
    assert_true(alerts_vm_state(&a, &rules, false, true, 2000));
    assert_int_equal(a.active, BIT(ALERTS_MEM) | BIT(ALERTS_OFFLINE));
    assert_false(alerts_vm_state(&a, &rules, true, true, 20000));
    assert_int_equal(alerts_vm_first(&a), ALERTS_OFFLINE);
    assert_int_equal(a.since_ms[ALERTS_OFFLINE], 2000);
    assert_int_equal(alerts_vm_since(&a), 1000);
    /* back online, still stale: now it is said as stale */
    assert_true(alerts_vm_state(&a, &rules, true, false, 30000));
    assert_int_equal(a.active, BIT(ALERTS_MEM) | BIT(ALERTS_STALE));
    assert_int_equal(a.since_ms[ALERTS_STALE], 30000);
    /* the offline rule off: an offline host's stale VMs are stale */
    rules.offline = false;
    alerts_vm_reset(&a);
    assert_true(alerts_vm_state(&a, &rules, true, true, 40000));
    assert_int_equal(a.active, BIT(ALERTS_STALE));
    /* a pending kind is not promoted while offline */
    alerts_rules_default(&rules);
    alerts_vm_reset(&a);
    sample(&a, 95, 40, 1000);
    alerts_vm_state(&a, &rules, false, true, 2000);
    assert_false(alerts_vm_state(&a, &rules, false, true, 100000));
    assert_int_equal(a.active, BIT(ALERTS_OFFLINE));
    assert_true(fresh(&a, 100001));
    assert_int_equal(a.active, BIT(ALERTS_CPU));
}

static void reset_slot_starts_clean(void **state)
{
    (void)state;
    struct alerts_vm a;
    alerts_vm_reset(&a);
    sample(&a, 95, 99, 1000);
    alerts_vm_state(&a, &rules, true, true, 2000);
    assert_true(a.active != 0);
    /* the VM vanished; a new one in its slot knows nothing of it */
    alerts_vm_reset(&a);
    assert_int_equal(a.active, 0);
    for (int k = 0; k < ALERTS_KINDS; k++)
        assert_int_equal(a.since_ms[k], 0);
    sample(&a, 95, 40, 5000);
    assert_false(fresh(&a, 64999));
    assert_true(fresh(&a, 65000));
}

static void wall_starts_with_a_vm_over(void **state)
{
    (void)state;
    /* the wall's first sample of a VM already over: nothing before it assumed */
    struct alerts_vm a;
    alerts_vm_reset(&a);
    sample(&a, 99, 40, 7000000);
    assert_false(fresh(&a, 7059999));
    assert_true(fresh(&a, 7060000));
    assert_int_equal(alerts_vm_since(&a), 7000000);
    /* a stamp of 0 (a clock that starts there) still means "over" */
    alerts_vm_reset(&a);
    sample(&a, 40, 99, 0);
    assert_int_equal(a.active, BIT(ALERTS_MEM));
    assert_true(a.since_ms[ALERTS_MEM] != 0);
    /* the tick's clock a little behind the sample's: no wrap-around */
    alerts_vm_reset(&a);
    sample(&a, 95, 40, 5000);
    assert_false(fresh(&a, 4000));
}

static void rules_off(void **state)
{
    (void)state;
    struct alerts_rules r = rules;
    for (int k = 0; k < ALERTS_METRICS; k++)
        r.r[k].on = false;
    r.stale = r.offline = false;
    struct alerts_vm a;
    alerts_vm_reset(&a);
    double fig[ALERTS_METRICS] = {100, 100, 100, 1000};
    assert_false(alerts_vm_sample(&a, &r, fig, 1000));
    assert_false(alerts_vm_state(&a, &r, true, true, 1000000));
    assert_int_equal(a.active, 0);
    assert_int_equal(alerts_vm_since(&a), 0);
}

static void rule_equal(const struct alerts_rule *a, const struct alerts_rule *b)
{
    assert_int_equal(a->on, b->on);
    assert_true(a->over == b->over);
    assert_true(a->clear == b->clear);
    assert_int_equal(a->for_ms, b->for_ms);
}

/* Parses s into a rule (asserting success) and formats it. */
static const char *round_trip(const char *s, struct alerts_rule *r)
{
    static char buf[80];
    char why[200] = "";
    assert_int_equal(alerts_rule_parse(s, r, why, sizeof(why)), 0);
    assert_string_equal(why, "");
    alerts_rule_format(r, buf, sizeof(buf));
    struct alerts_rule again;
    assert_int_equal(alerts_rule_parse(buf, &again, why, sizeof(why)), 0);
    rule_equal(&again, r);
    return buf;
}

static void rule_parse_format(void **state)
{
    (void)state;
    struct alerts_rule r;
    assert_string_equal(round_trip("90 for 60s clear 85", &r), "90 for 1m clear 85");
    rule_equal(&r, &rules.r[ALERTS_CPU]);
    assert_string_equal(round_trip("95 clear 90", &r), "95 clear 90");
    rule_equal(&r, &rules.r[ALERTS_MEM]);
    assert_string_equal(round_trip("10 clear 5", &r), "10 clear 5");
    rule_equal(&r, &rules.r[ALERTS_STEAL]);
    assert_string_equal(round_trip("50 for 0s clear 40", &r), "50 clear 40");
    rule_equal(&r, &rules.r[ALERTS_DISK_LAT]);
    assert_string_equal(round_trip("off", &r), "off");
    assert_false(r.on);
    assert_string_equal(round_trip("  off  ", &r), "off");
    /* CLEAR defaults to OVER; units; any order; fractions */
    assert_string_equal(round_trip("80", &r), "80");
    assert_true(r.on && r.over == 80 && r.clear == 80 && r.for_ms == 0);
    assert_string_equal(round_trip("90% for 2m clear 80 %", &r), "90 for 2m clear 80");
    assert_string_equal(round_trip("12.5ms clear 10ms", &r), "12.5 clear 10");
    assert_string_equal(round_trip("12.5 ms for 1500ms", &r), "12.5 for 1500ms");
    assert_string_equal(round_trip("7 clear 3 for 2h", &r), "7 for 2h clear 3");
    assert_true(r.over == 7 && r.clear == 3 && r.for_ms == 7200000);
    assert_string_equal(round_trip("0.25 for 1.5s clear .1", &r), "0.25 for 1500ms clear 0.1");
    assert_string_equal(round_trip("0 for 90s", &r), "0 for 90s");
    assert_string_equal(round_trip("1 for 1440m", &r), "1 for 24h");
    /* a small buffer */
    char small[4];
    alerts_rule_format(&rules.r[ALERTS_CPU], small, sizeof(small));
    assert_string_equal(small, "90 ");
}

static void rule_errors(void **state)
{
    (void)state;
    static const struct {
        const char *rule, *why;
    } bad[] = {
        {"", "empty rule"},
        {"   ", "empty rule"},
        {NULL, "empty rule"},
        {"abc", "OVER \"abc\" is not a number"},
        {"-5", "OVER \"-5\": a threshold has no sign"},
        {"+5", "no sign"},
        {"nan", "\"nan\" is not a number"},
        {"inf", "\"inf\" is not a number"},
        {"1e3", "\"1e3\" is not a number"},
        {"90x", "\"90x\" is not a number"},
        {"0x5a", "is not a number"},
        {"1.2.3", "is not a number"},
        {"99999999999999999999999999999999999999999999999999999999999999", "is too large"},
        {"1000000001", "OVER \"1000000001\" is too large"},
        {"90 clear 1000000001", "clear \"1000000001\" is too large"},
        {"90 for", "\"for\" needs a duration"},
        {"90 for -5s", "for \"-5s\" is not a duration"},
        {"90 for 5x", "for \"5x\" is not a duration"},
        {"90 for soon clear 80", "for \"soon\" is not a duration"},
        {"90 clear", "clear is missing"},
        {"90 clear -1", "clear \"-1\": a threshold has no sign"},
        {"90 clear nan", "clear \"nan\" is not a number"},
        {"90 clear 95", "clear 95 is above 90"},
        {"90 clear 90.5", "clear 90.5 is above 90"},
        {"90 bogus", "unexpected \"bogus\""},
        {"90 % %", "unexpected \"%\""},
        {"90 for 1s for 2s", "\"for\" is given twice"},
        {"90 clear 80 clear 70", "\"clear\" is given twice"},
        {"off 90", "\"90\" after off"},
        {"OFF", "is not a number"},
        {"for 60s", "OVER \"for\" is not a number"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct alerts_rule r = {true, 1, 1, 1};
        char why[200] = "";
        int rc = alerts_rule_parse(bad[i].rule, &r, why, sizeof(why));
        if (rc != KG_EINVAL || strstr(why, bad[i].why) == NULL)
            fail_msg("\"%s\": rc %d why \"%s\", expected \"%s\"", bad[i].rule ? bad[i].rule : "(null)",
                     rc, why, bad[i].why);
        /* the rule is left as it was */
        assert_true(r.on && r.over == 1 && r.clear == 1 && r.for_ms == 1);
    }
    /* no room for why: still refused */
    struct alerts_rule r;
    assert_int_equal(alerts_rule_parse("x", &r, NULL, 0), KG_EINVAL);
}

static void names_and_durations(void **state)
{
    (void)state;
    static const char *const names[ALERTS_KINDS] = {"CPU", "MEM", "STEAL", "DISK", "STALE",
                                                    "OFFLINE"};
    for (int k = 0; k < ALERTS_KINDS; k++)
        assert_string_equal(alerts_kind_name((enum alerts_kind)k), names[k]);
    assert_string_equal(alerts_kind_name(ALERTS_KINDS), "?");
    assert_string_equal(alerts_kind_key(ALERTS_CPU), "alert_cpu");
    assert_string_equal(alerts_kind_key(ALERTS_MEM), "alert_mem");
    assert_string_equal(alerts_kind_key(ALERTS_STEAL), "alert_steal");
    assert_string_equal(alerts_kind_key(ALERTS_DISK_LAT), "alert_disk_latency");
    assert_string_equal(alerts_kind_key(ALERTS_STALE), "?");
    char b[32];
    assert_string_equal(alerts_format_duration(0, b, sizeof(b)), "0s");
    assert_string_equal(alerts_format_duration(999, b, sizeof(b)), "0s");
    assert_string_equal(alerts_format_duration(45000, b, sizeof(b)), "45s");
    assert_string_equal(alerts_format_duration(59999, b, sizeof(b)), "59s");
    assert_string_equal(alerts_format_duration(60000, b, sizeof(b)), "1m");
    assert_string_equal(alerts_format_duration(12 * 60000 + 59000, b, sizeof(b)), "12m");
    assert_string_equal(alerts_format_duration((3 * 60 + 5) * 60000, b, sizeof(b)), "3h05m");
    assert_string_equal(alerts_format_duration((52 * 60 + 1) * 60000, b, sizeof(b)), "2d04h");
    assert_string_equal(alerts_format_duration(UINT64_MAX, b, sizeof(b)), "213503982334d14h");
    char tiny[3];
    assert_string_equal(alerts_format_duration(45000, tiny, sizeof(tiny)), "45");
}

/* Every active kind, what explains the others first, as the header lists them */
static void kinds_listed(void **state)
{
    (void)state;
    struct alerts_vm a;
    memset(&a, 0, sizeof(a));
    char b[64];
    assert_string_equal(alerts_vm_kinds(&a, "+", b, sizeof(b)), "");
    a.active = (1u << ALERTS_MEM) | (1u << ALERTS_CPU);
    assert_string_equal(alerts_vm_kinds(&a, "+", b, sizeof(b)), "CPU+MEM");
    a.active |= (1u << ALERTS_STALE) | (1u << ALERTS_DISK_LAT);
    assert_string_equal(alerts_vm_kinds(&a, " ", b, sizeof(b)), "STALE CPU MEM DISK");
    a.active = 0x3Fu;
    assert_string_equal(alerts_vm_kinds(&a, "+", b, sizeof(b)), "OFFLINE+STALE+CPU+MEM+STEAL+DISK");
    char tiny[6];
    assert_string_equal(alerts_vm_kinds(&a, "+", tiny, sizeof(tiny)), "OFFLI");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(enters_after_for, setup),
        cmocka_unit_test_setup(leaves_at_clear, setup),
        cmocka_unit_test_setup(pending_reset_by_a_sample_under, setup),
        cmocka_unit_test_setup(nan_ends, setup),
        cmocka_unit_test_setup(stale_holds_pending_back, setup),
        cmocka_unit_test_setup(offline, setup),
        cmocka_unit_test_setup(reset_slot_starts_clean, setup),
        cmocka_unit_test_setup(wall_starts_with_a_vm_over, setup),
        cmocka_unit_test_setup(rules_off, setup),
        cmocka_unit_test_setup(rule_parse_format, setup),
        cmocka_unit_test_setup(rule_errors, setup),
        cmocka_unit_test_setup(names_and_durations, setup),
        cmocka_unit_test_setup(kinds_listed, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
