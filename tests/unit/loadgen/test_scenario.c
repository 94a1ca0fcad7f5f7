/* SPDX-License-Identifier: MIT */
/*
 * The scenario parser with good and bad files: every error names the file and
 * the line of the offending value, and nothing half-parsed comes back. The
 * shipped scenarios must parse and pass the default caps (with a disk_dir).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caps.h"
#include "kvmgrid/error.h"
#include "scenario.h"

static struct caps caps_for_tests(void)
{
    struct caps c;
    caps_defaults(&c, 2);
    strcpy(c.disk_dir, "/tmp");
    return c;
}

/* Parses text; expects failure with "t.json:<line>:" and needle in the message. */
static void expect_error(const char *text, unsigned line, const char *needle)
{
    struct scenario *s = (struct scenario *)1;
    char err[300] = "";
    int rc = scenario_parse(text, strlen(text), "t.json", &s, err, sizeof err);
    char want[32];
    snprintf(want, sizeof want, "t.json:%u: ", line);
    if (rc == 0 || s != NULL || strncmp(err, want, strlen(want)) != 0 || !strstr(err, needle))
        fail_msg("for %s\n got rc %d \"%s\", wanted \"%s...%s\"", text, rc, err, want, needle);
}

static void test_good(void **state)
{
    (void)state;
    const char *text =
        "{\n"
        "  \"name\": \"t1\",\n"
        "  \"steps\": [\n"
        "    {\"duration_s\": 10, \"loads\": [\n"
        "      {\"kind\": \"cpu\", \"workers\": 2, \"pct\": 10, \"ramp_to_pct\": 90},\n"
        "      {\"kind\": \"mem\", \"mib\": 64, \"duration_s\": 5},\n"
        "      {\"kind\": \"disk\", \"mode\": \"rw\", \"mb_per_s\": 5, \"direct\": true}\n"
        "    ]},\n"
        "    {\"duration_s\": 3},\n"
        "    {\"loads\": [{\"kind\": \"cpu\", \"pct\": 50}]}\n"
        "  ]\n"
        "}\n";
    struct scenario *s = NULL;
    char err[300] = "";
    assert_int_equal(scenario_parse(text, strlen(text), "t.json", &s, err, sizeof err), 0);
    assert_string_equal(s->name, "t1");
    assert_int_equal(s->n_steps, 3);
    assert_int_equal(s->steps[0].n_loads, 3);
    assert_int_equal(s->steps[0].line, 4);
    assert_int_equal(s->steps[0].load_line[2], 7);
    assert_int_equal(s->steps[0].loads[2].disk_mode, KG_DISK_RW);
    assert_true(s->steps[0].loads[2].direct);
    assert_true(kg_na(s->steps[0].loads[0].duration_s));
    struct caps c = caps_for_tests();
    c.default_duration_ms = 7000;
    assert_int_equal(scenario_apply_caps(s, &c, err, sizeof err), 0);
    /* a load without duration takes its step's; a step without takes the longest load;
     * a load in a step without any duration takes the configured default */
    assert_true(s->steps[0].loads[0].duration_s == 10.0);
    assert_true(s->steps[0].loads[1].duration_s == 5.0);
    assert_true(s->steps[2].loads[0].duration_s == 7.0);
    assert_true(s->steps[2].duration_s == 7.0);
    assert_true(scenario_duration_s(s) == 20.0);
    scenario_free(s);
}

static void test_bad_syntax(void **state)
{
    (void)state;
    expect_error("", 1, "invalid JSON");
    expect_error("{\n\"steps\": [\n{\"loads\": [{\"kind\": \"cpu\",", 3, "truncated");
    expect_error("{\n\"steps\": [\n],,\n}", 3, "invalid JSON");
    expect_error("{\"steps\":[{\"duration_s\":1}]}\n\n garbage", 3, "after the end");
    expect_error("[1,2]", 1, "must be a JSON object");
    expect_error("{\"name\":\"x\"}", 1, "\"steps\" is required");
    expect_error("{\"steps\":[]}", 1, "non-empty array");
    expect_error("{\"steps\":{}}", 1, "non-empty array");
    char nul[] = "{\"steps\":\n[\0]}";
    struct scenario *s = NULL;
    char err[200];
    assert_int_equal(scenario_parse(nul, sizeof nul - 1, "t.json", &s, err, sizeof err), KG_EPARSE);
    assert_non_null(strstr(err, "t.json:2: NUL"));
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error("{\"steps\":[\n{\"loads\":[\n{\"kind\":\"gpu\"}]}]}", 3, "unknown kind");
    expect_error("{\"steps\":[\n{\"loads\":[\n{\"pct\":3}]}]}", 3, "kind is required");
    expect_error("{\"steps\":[\n{\"loads\":[\n{\"kind\":7}]}]}", 3, "must be a string");
    expect_error("{\"steps\":[\n{\"loads\":[{\"kind\":\"cpu\",\n\"pct\":\"50\"}]}]}", 3,
                 "steps[0].loads[0].pct: must be a number");
    expect_error("{\"steps\":[\n{\"loads\":[{\"kind\":\"cpu\",\n\"pct\":-5}]}]}", 3, "negative");
    expect_error("{\"steps\":[\n{\"loads\":[{\"kind\":\"cpu\",\n\"pct\":1e999}]}]}", 3, "finite");
    expect_error("{\"steps\":[\n{\"loads\":[{\"kind\":\"cpu\",\"pct\":5,\n\"mib\":5}]}]}", 3,
                 "not a field of a cpu load");
    expect_error("{\"steps\":[\n{\"loads\":[{\"kind\":\"cpu\",\"pct\":5,\n\"pcT\":5}]}]}", 3,
                 "unknown field");
    expect_error("{\"steps\":[\n{\"loads\":[{\"kind\":\"mem\"}]}]}", 2, "mib is required");
    expect_error("{\"steps\":[\n{\"loads\":[{\"kind\":\"disk\",\n\"mode\":\"append\"}]}]}", 3,
                 "unknown mode");
    expect_error("{\"steps\":[\n{\"loads\":[{\"kind\":\"disk\",\n\"direct\":1}]}]}", 3,
                 "true or false");
    expect_error("{\"steps\":[\n{\"duration_s\":1},\n{\"loads\":[]}]}", 3, "needs duration_s");
    expect_error("{\"steps\":[\n{\"duration_s\":0}]}", 2, "above 0");
    expect_error("{\"steps\":[\n{\"duration_s\":null}]}", 2, "must be a number");
    expect_error("{\"steps\":[\n5]}", 2, "must be an object");
    expect_error("{\"name\":\"../x\",\"steps\":[{\"duration_s\":1}]}", 1, "name");
    expect_error("{\"steps\":[{\"duration_s\":1}],\n\"extra\":1}", 2, "unknown field");
    /* too many loads in one step */
    char big[2048] = "{\"steps\":[{\"loads\":[";
    for (int i = 0; i < SCENARIO_MAX_LOADS + 1; i++)
        strcat(big, i ? ",{\"kind\":\"cpu\",\"pct\":1}" : "{\"kind\":\"cpu\",\"pct\":1}");
    strcat(big, "]}]}");
    expect_error(big, 1, "at most");
}

static void test_caps_in_scenarios(void **state)
{
    (void)state;
    struct caps c = caps_for_tests();
    c.max_mib = 100;
    c.max_duration_ms = 60000;
    const char *cases[][2] = {
        {"{\"steps\":[\n{\"duration_s\":5},\n{\"loads\":[\n{\"kind\":\"mem\",\"mib\":101}]}]}",
         "t.json:4: steps[1].loads[0]: mib 101 over the cap max_mib"},
        {"{\"steps\":[\n{\"loads\":[{\"kind\":\"mem\",\"mib\":60},\n{\"kind\":\"mem\",\"mib\":60}]}]}",
         "t.json:2: steps[0]: 120 MiB at once"},
        {"{\"steps\":[\n{\"duration_s\":40},\n{\"duration_s\":40}]}", "whole scenario lasts 80s"},
        {"{\"steps\":[\n{\"duration_s\":61}]}", "t.json:2: steps[0]: duration_s 61 over the cap"},
        {"{\"steps\":[{\"duration_s\":5,\"loads\":[\n{\"kind\":\"cpu\",\"pct\":5,\"duration_s\":6}]}]}",
         "longer than its step"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scenario *s = NULL;
        char err[300] = "";
        assert_int_equal(scenario_parse(cases[i][0], strlen(cases[i][0]), "t.json", &s, err, sizeof err), 0);
        int rc = scenario_apply_caps(s, &c, err, sizeof err);
        if (rc == 0 || !strstr(err, cases[i][1]))
            fail_msg("case %zu: rc %d \"%s\", wanted \"%s\"", i, rc, err, cases[i][1]);
        scenario_free(s);
    }
}

static void test_shipped(void **state)
{
    (void)state;
    const char *names[] = {"cpu-ramp", "mem-fill", "disk-burst", "mixed"};
    struct caps c = caps_for_tests();
    for (size_t i = 0; i < 4; i++) {
        char path[512], err[300] = "";
        struct scenario *s = NULL;
        snprintf(path, sizeof path, "%s/loadgen/scenarios/%s.json", KG_SOURCE_DIR, names[i]);
        int rc = scenario_load_file(path, &s, err, sizeof err);
        if (rc)
            fail_msg("%s: %s", path, err);
        assert_string_equal(s->name, names[i]);
        rc = scenario_apply_caps(s, &c, err, sizeof err);
        if (rc)
            fail_msg("%s: %s", path, err);
        assert_true(scenario_duration_s(s) > 0.0);
        scenario_free(s);
    }
    struct scenario *s = NULL;
    char err[300];
    assert_int_equal(scenario_load_file("/nonexistent/x.json", &s, err, sizeof err), KG_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/x.json: "));
}

static void test_names(void **state)
{
    (void)state;
    assert_true(scenario_name_valid("cpu-ramp"));
    assert_true(scenario_name_valid("a_1"));
    assert_false(scenario_name_valid(""));
    assert_false(scenario_name_valid("../x"));
    assert_false(scenario_name_valid("a/b"));
    assert_true(scenario_name_valid("mixed.v2")); /* as a command may name it */
    assert_false(scenario_name_valid(".hidden"));
    assert_false(scenario_name_valid("x y"));
    char long_name[80];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_false(scenario_name_valid(long_name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad_syntax),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_caps_in_scenarios),
        cmocka_unit_test(test_shipped),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
