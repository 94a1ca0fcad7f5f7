/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-wall's configuration, the trends and alert keys: the defaults are the
 * rules of alerts_rules_default, a rule or history that cannot be is refused as
 * FILE:LINE: key: why, and what passes reaches struct wall_config's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvmgrid/config.h"
#include "kvmgrid/error.h"
#include "layout.h"
#include "wall_config.h"

static struct wall_config c;
static char path[64];
static char err[512];

/* Writes text as a config file, parses it over the defaults and checks it:
 * the first non-zero code, with err. */
static int load(const char *text)
{
    strcpy(path, "/tmp/kg-wall-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    wall_config_defaults(&c);
    err[0] = '\0';
    int rc = kg_config_parse_file(wall_config_keys, &c, path, err, sizeof(err));
    if (rc == 0)
        rc = wall_config_check(&c, path, err, sizeof(err));
    unlink(path);
    return rc;
}

/* err is "PATH:LINE: rest". */
static void error_is(int line, const char *rest)
{
    char want[512];
    snprintf(want, sizeof(want), "%s:%d: %s", path, line, rest);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("got \"%s\", expected it to start with \"%s\"", err, want);
}

static void rule_equal(const struct alerts_rule *a, const struct alerts_rule *b)
{
    assert_int_equal(a->on, b->on);
    assert_true(a->over == b->over);
    assert_true(a->clear == b->clear);
    assert_int_equal(a->for_ms, b->for_ms);
}

static void defaults(void **state)
{
    (void)state;
    assert_int_equal(load("# nothing\n"), 0);
    assert_int_equal(c.history_ms, 15 * 60000);
    assert_int_equal(c.history_step_ms, 5000);
    struct alerts_rules d;
    alerts_rules_default(&d);
    for (int k = 0; k < ALERTS_METRICS; k++)
        rule_equal(&c.feed.rules.r[k], &d.r[k]);
    assert_true(c.feed.rules.stale && c.feed.rules.offline);
    assert_int_equal(c.feed.source, MODEL_SOURCE_VMS);
    /* before any check, too */
    wall_config_defaults(&c);
    for (int k = 0; k < ALERTS_METRICS; k++)
        rule_equal(&c.feed.rules.r[k], &d.r[k]);
}

static void values_reach_the_rules(void **state)
{
    (void)state;
    assert_int_equal(load("alert_cpu = off\n"
                          "alert_mem = \"80 % for 2m clear 70 %\"\n"
                          "alert_disk_latency = 20ms\n"
                          "alert_stale = false\n"
                          "alert_offline = no\n"
                          "history = 0\n"),
                     0);
    assert_false(c.feed.rules.r[ALERTS_CPU].on);
    struct alerts_rule mem = {true, 80, 70, 120000}, disk = {true, 20, 20, 0};
    rule_equal(&c.feed.rules.r[ALERTS_MEM], &mem);
    rule_equal(&c.feed.rules.r[ALERTS_DISK_LAT], &disk);
    assert_false(c.feed.rules.stale);
    assert_false(c.feed.rules.offline);
    assert_int_equal(c.history_ms, 0);
    /* the longest history in the steps allowed */
    assert_int_equal(load("history_step = 30s\nhistory = 24h\n"), 0);
    /* the feed's source reaches the model */
    assert_int_equal(load("source = summaries\n"), 0);
    assert_int_equal(c.feed.source, MODEL_SOURCE_SUMMARIES);
    struct model *m = NULL;
    assert_int_equal(feed_model_create(&c.feed, "kvmgrid", &m), 0);
    assert_int_equal(m->source, MODEL_SOURCE_SUMMARIES);
    model_free(m);
    assert_int_not_equal(load("source = auto\n"), 0);
    /* host tiles: auto at 3 px by default; forced; VM trends up to 100,000 VMs */
    assert_int_equal(load("# nothing\n"), 0);
    assert_int_equal(c.tiles, LAYOUT_TILES_AUTO);
    assert_int_equal(c.host_tiles_below_px, LAYOUT_HOST_TILES_BELOW_PX);
    assert_int_equal(c.history_max_vms, 100000);
    assert_int_equal(load("tiles = hosts\nhost_tiles_below_px = 8\nhistory_max_vms = 0\n"), 0);
    assert_int_equal(c.tiles, LAYOUT_TILES_HOSTS);
    assert_int_equal(c.host_tiles_below_px, 8);
    assert_int_equal(c.history_max_vms, 0);
    assert_int_equal(load("tiles = vms\n"), 0);
    assert_int_equal(c.tiles, LAYOUT_TILES_VMS);
}

/* Each file is refused with code, naming its line and key. */
static void errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code, line;
        const char *rest;
    } bad[] = {
        {"metric = cpu\n\nalert_cpu = 90 clear 95\n", KG_EINVAL, 3,
         "alert_cpu: clear 95 is above 90"},
        {"alert_mem = banana\n", KG_EINVAL, 1, "alert_mem: OVER \"banana\" is not a number"},
        {"# a comment\nalert_steal = -1\n", KG_EINVAL, 2,
         "alert_steal: OVER \"-1\": a threshold has no sign"},
        {"alert_disk_latency = 50 for ever\n", KG_EINVAL, 1,
         "alert_disk_latency: for \"ever\" is not a duration"},
        {"alert_cpu = \n", KG_EINVAL, 1, "alert_cpu: empty rule"},
        {"alert_cpu = 90 for 60s clear 85 please\n", KG_EINVAL, 1,
         "alert_cpu: unexpected \"please\""},
        /* 24 h in 5 s steps is 17,280 steps */
        {"history = 24h\n", KG_EINVAL, 1,
         "history: 17280 steps of history_step (5000 ms) are more than 4096"},
        {"history_step = 10s\nhistory = 5s\n", KG_EINVAL, 2,
         "history: 5000 ms is shorter than history_step (10000 ms)"},
        /* over the table's range */
        {"history = 25h\n", KG_ERANGE, 1, ""},
        {"history_step = 10ms\n", KG_ERANGE, 1, ""},
        /* host tiles */
        {"tiles = hives\n", KG_EINVAL, 1, "'tiles' expects one of: auto, vms, hosts; not 'hives'"},
        {"\nhost_tiles_below_px = 0\n", KG_ERANGE, 2,
         "value '0' for 'host_tiles_below_px' is out of range [1, 64]"},
        {"host_tiles_below_px = 65\n", KG_ERANGE, 1,
         "value '65' for 'host_tiles_below_px' is out of range [1, 64]"},
        {"host_tiles_below_px = 3px\n", KG_EINVAL, 1,
         "'host_tiles_below_px' expects an integer, not '3px'"},
        {"history_max_vms = -1\n", KG_ERANGE, 1,
         "value '-1' for 'history_max_vms' is out of range [0, 10000000]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(load(bad[i].text), bad[i].code);
        error_is(bad[i].line, bad[i].rest);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(values_reach_the_rules),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
