/* SPDX-License-Identifier: MIT */
/* The agent's config: defaults, a good file, flags over the file, and bad configs
 * reported as file:line: message (tests/fixtures/agent/config/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "near.h"

#include "agent_config.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"

#define CFG KG_FIXTURES "/agent/config/"

static const struct kg_cli cli = {.program = "kvmgrid-agent", .keys = agent_config_keys};

/* Loads *c from a command line (NULL-terminated words after the program's name),
 * as main does. Returns kg_cli_parse's or agent_config_load's code. */
static int load(struct agent_config *c, char *err, size_t errlen, ...)
{
    static char prog[] = "kvmgrid-agent";
    char *argv[32] = {prog};
    int argc = 1;
    va_list ap;
    va_start(ap, errlen);
    for (char *w; argc < 31 && (w = va_arg(ap, char *)) != NULL;)
        argv[argc++] = w;
    va_end(ap);
    struct kg_cli_args a;
    int rc = kg_cli_parse(&cli, argc, argv, &a, err, errlen);
    if (rc)
        return rc;
    rc = agent_config_load(c, &a, err, errlen);
    kg_cli_args_free(&a);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    struct agent_config c;
    char err[512] = "";
    assert_int_equal(kg_config_defaults(agent_config_keys, &c, err, sizeof err), 0);
    assert_int_equal(load(&c, err, sizeof err, NULL), 0);
    assert_string_equal(c.libvirt_uri, "qemu:///system");
    assert_true(c.libvirt_read_only);
    assert_int_equal(c.balloon_period_s, 0);
    assert_string_equal(c.client.prefix, "kvmgrid");
    assert_int_equal(c.interval_ms, 5000);
    assert_int_equal(c.qos, 1);
    assert_int_equal(c.client.log_level, KG_LOG_INFO);
    assert_string_equal(c.proc_root, "/proc");
    assert_true(c.host[0] != '\0'); /* gethostname() */
}

static void test_good_file_and_flags(void **state)
{
    (void)state;
    struct agent_config c;
    char err[512] = "";
    assert_int_equal(load(&c, err, sizeof err, "-c", CFG "good.conf", NULL), 0);
    assert_string_equal(c.libvirt_uri, "test:///default");
    assert_string_equal(c.client.prefix, "site1/kvmgrid");
    assert_string_equal(c.host, "hv 01");
    assert_int_equal(c.interval_ms, 2000);
    assert_near(c.deadband_pct, 5, 0);
    assert_int_equal(c.deadband_max_skip, 6);
    assert_int_equal(c.client.log_level, KG_LOG_DEBUG);
    assert_string_equal(c.proc_root, "");
    /* flags win over the file; '-' and '_' both work */
    assert_int_equal(load(&c, err, sizeof err, "--interval", "250ms", "--config", CFG "good.conf",
                          "--libvirt-uri=test:///x.xml", "--deadband_pct", "0", NULL),
                     0);
    assert_int_equal(c.interval_ms, 250);
    assert_string_equal(c.libvirt_uri, "test:///x.xml");
    assert_near(c.deadband_pct, 0, 0);
}

static void expect_error(const char *file, const char *needle)
{
    struct agent_config c;
    agent_config_defaults(&c);
    snprintf(c.host, sizeof c.host, "keep-me");
    char err[512] = "";
    int rc = load(&c, err, sizeof err, "--config", file, NULL);
    if (rc == 0 || !strstr(err, needle))
        fail_msg("%s: rc %d, message [%s], expected [%s]", file, rc, err, needle);
    /* a failed load leaves the old config as it was */
    assert_string_equal(c.host, "keep-me");
}

static void test_errors_have_file_and_line(void **state)
{
    (void)state;
    expect_error(CFG "unknown_key.conf", CFG "unknown_key.conf:4: ");
    expect_error(CFG "unknown_key.conf", "intervall");
    expect_error(CFG "interval_range.conf", CFG "interval_range.conf:2: ");
    expect_error(CFG "balloon_ro.conf", CFG "balloon_ro.conf:2: balloon_period: needs a read-write");
    expect_error(CFG "bad_prefix.conf", CFG "bad_prefix.conf:2: prefix");
    expect_error(CFG "bad_broker.conf", CFG "bad_broker.conf:1: broker");
    expect_error(CFG "bad_level.conf", CFG "bad_level.conf:1: ");
    expect_error(CFG "both_passwords.conf",
                 CFG "both_passwords.conf:2: password_file: password and password_file");
    expect_error(CFG "missing.conf", CFG "missing.conf: ");
}

static void test_balloon_needs_rw(void **state)
{
    (void)state;
    struct agent_config c;
    char err[512] = "";
    assert_int_equal(load(&c, err, sizeof err, "-c", CFG "balloon_rw.conf", NULL), 0);
    assert_false(c.libvirt_read_only);
    assert_int_equal(c.balloon_period_s, 10);
    /* the same rule for flags */
    assert_int_not_equal(load(&c, err, sizeof err, "--balloon-period", "5", NULL), 0);
    assert_non_null(strstr(err, "command line: balloon_period: needs a read-write"));
    /* a bool flag alone is true; followed by a bool word, that word is its value */
    assert_int_equal(load(&c, err, sizeof err, "--balloon-period", "5", "--libvirt-read-only",
                          "no", NULL),
                     0);
    assert_false(c.libvirt_read_only);
    assert_int_equal(load(&c, err, sizeof err, "--libvirt-read-only", NULL), 0);
    assert_true(c.libvirt_read_only);
}

static void test_bad_flags(void **state)
{
    (void)state;
    struct agent_config c;
    char err[512] = "";
    assert_int_equal(load(&c, err, sizeof err, "--no-such-key", "1", NULL), KG_EINVAL);
    assert_non_null(strstr(err, "--no-such-key"));
    assert_int_not_equal(load(&c, err, sizeof err, "--interval", "soon", NULL), 0);
    assert_non_null(strstr(err, "--interval"));
    /* empty host means "use the machine's name" */
    assert_int_equal(load(&c, err, sizeof err, "--host", "", NULL), 0);
}

static void test_password_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/kg-agent-cfg.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pw[64], conf[64];
    snprintf(pw, sizeof pw, "%s/pw", dir);
    snprintf(conf, sizeof conf, "%s/a.conf", dir);
    FILE *f = fopen(pw, "w");
    assert_non_null(f);
    fputs("s3cret\nsecond line ignored\n", f);
    fclose(f);
    f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "username = agent\npassword_file = %s\n", pw);
    fclose(f);
    struct agent_config c;
    char err[512] = "";
    assert_int_equal(load(&c, err, sizeof err, "-c", conf, NULL), 0);
    assert_string_equal(c.client.password, "s3cret");
    remove(pw);
    assert_int_not_equal(load(&c, err, sizeof err, "-c", conf, NULL), 0);
    char want[128];
    snprintf(want, sizeof want, "%s:2: password_file", conf);
    assert_non_null(strstr(err, want));
    remove(conf);
    remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_good_file_and_flags),
        cmocka_unit_test(test_errors_have_file_and_line),
        cmocka_unit_test(test_balloon_needs_rw),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_password_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
