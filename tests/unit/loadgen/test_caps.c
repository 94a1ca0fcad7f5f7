/* SPDX-License-Identifier: MIT */
/*
 * Commands against the caps: each case is a JSON command as it would arrive
 * over MQTT, decoded by the shared decoder, then checked by plan_from_cmd.
 * Over a cap is KG_EPERM with the cap's name in the reason; invalid values are
 * KG_EINVAL; nothing is clamped; defaults are filled in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "caps.h"
#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "plan.h"
#include "scenario.h"
#include "loadgen_config.h"

static struct caps test_caps(void)
{
    struct caps c;
    caps_defaults(&c, 2);
    c.max_workers = 4;
    c.max_pct = 90;
    c.max_mib = 512;
    c.max_mb_per_s = 50;
    c.max_duration_ms = 600000;
    c.default_duration_ms = 30000;
    strcpy(c.disk_dir, "/tmp");
    c.max_disk_bytes = 256u * 1024 * 1024;
    return c;
}

/* Decodes json and builds a plan; returns the plan's rc, reason in why. */
static int check_json(const char *json, struct kg_load_spec *resolved, char *why, size_t wl)
{
    struct caps c = test_caps();
    struct kg_load_cmd cmd;
    char err[KG_ERRMSG_MAX];
    int rc = kg_load_cmd_decode(json, strlen(json), &cmd, err, sizeof err);
    if (rc) {
        snprintf(why, wl, "decode: %s", err);
        return KG_EPARSE;
    }
    struct scenario *p = NULL;
    rc = plan_from_cmd(&cmd, &c, "/nonexistent", &p, why, wl);
    if (rc == 0) {
        assert_non_null(p);
        assert_int_equal(p->n_steps, 1);
        if (resolved)
            *resolved = p->steps[0].loads[0];
    } else {
        assert_null(p);
    }
    scenario_free(p);
    return rc;
}

static void test_accepts_and_resolves_defaults(void **state)
{
    (void)state;
    struct kg_load_spec s;
    char why[200] = "";
    assert_int_equal(check_json("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":60}", &s,
                                why, sizeof why), 0);
    assert_true(s.duration_s == 30.0);      /* default_duration */
    assert_true(s.workers == 2.0);          /* min(cpus, max_workers) */
    assert_true(s.pct == 60.0);
    assert_int_equal(check_json("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"disk\",\"mb_per_s\":20,"
                                "\"duration_s\":5}", &s, why, sizeof why), 0);
    assert_true(s.block_kib == 1024.0);
    assert_int_equal(check_json("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"mem\",\"mib\":512,"
                                "\"duration_s\":600}", &s, why, sizeof why), 0);
    assert_true(s.dirty_mib_per_s == 0.0);
}

static void expect_perm(const char *json, const char *needle)
{
    char why[200] = "";
    int rc = check_json(json, NULL, why, sizeof why);
    if (rc != KG_EPERM || !strstr(why, needle))
        fail_msg("%s: rc %d, reason \"%s\", wanted EPERM with \"%s\"", json, rc, why, needle);
}

static void expect_invalid(const char *json, const char *needle)
{
    char why[200] = "";
    int rc = check_json(json, NULL, why, sizeof why);
    if (rc == 0 || rc == KG_EPERM || !strstr(why, needle))
        fail_msg("%s: rc %d, reason \"%s\", wanted an invalid-value error with \"%s\"", json, rc,
                 why, needle);
}

static void test_over_caps_rejected(void **state)
{
    (void)state;
    expect_perm("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":95}", "max_pct");
    expect_perm("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":50,\"ramp_to_pct\":100}",
                "max_pct");
    expect_perm("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":50,\"workers\":5}",
                "max_workers");
    expect_perm("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"mem\",\"mib\":513}", "max_mib");
    expect_perm("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"disk\",\"mb_per_s\":51}", "max_mb_per_s");
    expect_perm("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":5,\"duration_s\":601}",
                "max_duration");
    expect_invalid("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"disk\",\"block_kib\":524288}",
                   "block_kib");
}

static void test_invalid_values(void **state)
{
    (void)state;
    /* rejected by the shared decoder (wrong type, range, unknown kind) */
    expect_invalid("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"gpu\",\"pct\":5}", "kind");
    expect_invalid("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":\"50\"}", "pct");
    expect_invalid("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":-1}", "pct");
    expect_invalid("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":1e999}", "pct");
    expect_invalid("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\"}", "pct");
    expect_invalid("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"mem\"}", "mib");
    expect_invalid("{\"schema\":1,\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":5,\"workers\":1.5}", "workers");
    expect_invalid("{\"schema\":1,\"cmd\":\"sta", "decode");
    expect_invalid("{\"cmd\":\"start\",\"kind\":\"cpu\",\"pct\":5}", "schema");
    /* a scenario name that could escape the directory never reaches the disk */
    expect_invalid("{\"schema\":1,\"cmd\":\"scenario\",\"scenario\":\"../etc/passwd\"}", "scenario");
    expect_invalid("{\"schema\":1,\"cmd\":\"scenario\",\"scenario\":\"nope\"}", "nope");
}

static void test_caps_direct(void **state)
{
    (void)state;
    struct caps c = test_caps();
    struct kg_load_spec s, out;
    char why[200];
    /* NaN passed from C (not JSON) is "absent", an infinity is invalid */
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_CPU;
    s.pct = 10;
    s.duration_s = INFINITY;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), KG_EINVAL);
    s.duration_s = -3;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), KG_EINVAL);
    s.duration_s = 1;
    s.pct = NAN;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), KG_EINVAL);
    s.pct = 101;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), KG_EINVAL);
    s.kind = (enum kg_load_kind)42;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), KG_EINVAL);
    assert_non_null(strstr(why, "unknown load kind"));
    /* disk loads off without a directory */
    c.disk_dir[0] = '\0';
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_DISK;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), KG_EPERM);
    assert_non_null(strstr(why, "disk_dir"));
    /* O_DIRECT block alignment */
    c = test_caps();
    s.direct = true;
    s.block_kib = 6;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), KG_EINVAL);
    s.block_kib = 8;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), 0);
    /* a block larger than the disk space cap */
    c.max_disk_bytes = 1024u * 1024;
    s.block_kib = 2048;
    assert_int_equal(caps_resolve_load(&c, &s, &out, why, sizeof why), KG_EPERM);
    assert_non_null(strstr(why, "max_disk_bytes"));
    /* config checks */
    c.default_duration_ms = c.max_duration_ms + 1;
    assert_int_equal(caps_check_config(&c, why, sizeof why), KG_EINVAL);
    c = test_caps();
    strcpy(c.disk_dir, "relative/dir");
    assert_int_equal(caps_check_config(&c, why, sizeof why), KG_EINVAL);
}

static void test_concurrent_sums(void **state)
{
    (void)state;
    struct caps c = test_caps();
    struct kg_load_spec l[3];
    char why[200];
    for (int i = 0; i < 3; i++) {
        kg_load_spec_init(&l[i]);
        l[i].kind = KG_LOAD_MEM;
        l[i].mib = 200;
        assert_int_equal(caps_resolve_load(&c, &l[i], &l[i], why, sizeof why), 0);
    }
    assert_int_equal(caps_check_concurrent(&c, l, 2, why, sizeof why), 0);
    assert_int_equal(caps_check_concurrent(&c, l, 3, why, sizeof why), KG_EPERM);
    assert_non_null(strstr(why, "max_mib"));
    for (int i = 0; i < 2; i++) {
        kg_load_spec_init(&l[i]);
        l[i].kind = KG_LOAD_DISK;
        l[i].mb_per_s = 30;
        l[i].duration_s = 1;
        assert_int_equal(caps_resolve_load(&c, &l[i], &l[i], why, sizeof why), 0);
    }
    assert_int_equal(caps_check_concurrent(&c, l, 2, why, sizeof why), KG_EPERM);
    assert_non_null(strstr(why, "max_mb_per_s"));
    /* file sizes: a write load's file is what it writes, rounded to a block, within the cap */
    assert_int_equal(caps_disk_file_bytes(&c, &l[0]), (30000000u + 1048575u) / 1048576u * 1048576u);
    l[0].duration_s = 1000;
    assert_int_equal(caps_disk_file_bytes(&c, &l[0]), c.max_disk_bytes);
    l[0].disk_mode = KG_DISK_READ;
    assert_int_equal(caps_disk_file_bytes(&c, &l[0]), 64u * 1024 * 1024);
}

/* The config table's defaults for the caps are caps_defaults' own. */
static void test_table_defaults_are_caps_defaults(void **state)
{
    (void)state;
    struct loadgen_config cfg;
    loadgen_config_defaults(&cfg);
    struct caps c;
    caps_defaults(&c, cfg.caps.cpus);
    assert_int_equal(cfg.caps.max_workers, c.max_workers);
    assert_true(cfg.caps.max_pct == c.max_pct);
    assert_int_equal(cfg.caps.max_mib, c.max_mib);
    assert_true(cfg.caps.max_dirty_mib_per_s == c.max_dirty_mib_per_s);
    assert_true(cfg.caps.max_mb_per_s == c.max_mb_per_s);
    assert_int_equal(cfg.caps.max_duration_ms, c.max_duration_ms);
    assert_int_equal(cfg.caps.default_duration_ms, c.default_duration_ms);
    assert_string_equal(cfg.caps.disk_dir, c.disk_dir);
    assert_int_equal(cfg.caps.max_disk_bytes, c.max_disk_bytes);
    assert_string_equal(cfg.client.broker, KG_CLIENT_BROKER_DEFAULT);
    assert_int_equal(cfg.state_interval_ms, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_defaults_are_caps_defaults),
        cmocka_unit_test(test_accepts_and_resolves_defaults),
        cmocka_unit_test(test_over_caps_rejected),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_caps_direct),
        cmocka_unit_test(test_concurrent_sums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
