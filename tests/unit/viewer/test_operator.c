/* SPDX-License-Identifier: MIT */
/* Operator presets: exact topics and command JSON (what the load generator will
 * decode), escaped node names, the stop verb, refused names and small buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "operator.h"

static void build(enum operator_preset p, uint64_t seq, const char *node, const char *want_topic,
                  const char *want_json)
{
    char topic[KG_TOPIC_MAX], json[512];
    size_t n = 0;
    assert_int_equal(operator_command(p, seq, "kvmgrid", node, topic, sizeof(topic), json,
                                      sizeof(json), &n), 0);
    assert_string_equal(topic, want_topic);
    assert_string_equal(json, want_json);
    assert_int_equal(n, strlen(want_json));
    /* and the load generator's decoder takes it as it is */
    struct kg_load_cmd c;
    char err[200];
    assert_int_equal(kg_load_cmd_decode(json, n, &c, err, sizeof(err)), 0);
}

static void presets_exact(void **state)
{
    (void)state;
    build(OPERATOR_CPU, 1, "vm-7", "kvmgrid/vm-7/load/cmd",
          "{\"schema\":1,\"cmd\":\"start\",\"id\":\"wall-1\",\"kind\":\"cpu\",\"duration_s\":60,\"pct\":80}");
    build(OPERATOR_MEM, 2, "vm-7", "kvmgrid/vm-7/load/cmd",
          "{\"schema\":1,\"cmd\":\"start\",\"id\":\"wall-2\",\"kind\":\"mem\",\"duration_s\":60,\"mib\":256}");
    build(OPERATOR_DISK, 3, "vm-7", "kvmgrid/vm-7/load/cmd",
          "{\"schema\":1,\"cmd\":\"start\",\"id\":\"wall-3\",\"kind\":\"disk\",\"duration_s\":60,\"mode\":\"write\",\"mb_per_s\":20}");
    build(OPERATOR_STOP, 4, "vm-7", "kvmgrid/vm-7/load/cmd",
          "{\"schema\":1,\"cmd\":\"stop\",\"id\":\"wall-4\"}");
}

static void decoded_fields(void **state)
{
    (void)state;
    char topic[KG_TOPIC_MAX], json[512], err[200];
    size_t n;
    struct kg_load_cmd c;
    assert_int_equal(operator_command(OPERATOR_DISK, 9, "p", "n", topic, sizeof(topic), json,
                                      sizeof(json), &n), 0);
    assert_int_equal(kg_load_cmd_decode(json, n, &c, err, sizeof(err)), 0);
    assert_int_equal(c.verb, KG_LOAD_START);
    assert_int_equal(c.spec.kind, KG_LOAD_DISK);
    assert_int_equal(c.spec.disk_mode, KG_DISK_WRITE);
    assert_true(c.spec.mb_per_s == 20.0 && c.spec.duration_s == 60.0);
    assert_string_equal(c.id, "wall-9");
}

static void escaped_node(void **state)
{
    (void)state;
    char topic[KG_TOPIC_MAX], json[512];
    size_t n;
    assert_int_equal(operator_command(OPERATOR_STOP, 1, "kvmgrid", "build/ci 7+#", topic,
                                      sizeof(topic), json, sizeof(json), &n), 0);
    assert_string_equal(topic, "kvmgrid/build%2Fci%207%2B%23/load/cmd");
}

static void refused(void **state)
{
    (void)state;
    char topic[KG_TOPIC_MAX], json[512], longname[KG_NAME_MAX + 2];
    size_t n;
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(operator_command(OPERATOR_CPU, 1, "kvmgrid", "", topic, sizeof(topic), json,
                                      sizeof(json), &n), KG_EINVAL);
    assert_int_equal(operator_command(OPERATOR_CPU, 1, "kvmgrid", longname, topic, sizeof(topic),
                                      json, sizeof(json), &n), KG_EINVAL);
    assert_int_equal(operator_command(OPERATOR_CPU, 1, "kvmgrid", NULL, topic, sizeof(topic),
                                      json, sizeof(json), &n), KG_EINVAL);
    assert_int_equal(operator_command(OPERATOR_PRESET_COUNT, 1, "kvmgrid", "vm", topic,
                                      sizeof(topic), json, sizeof(json), &n), KG_EINVAL);
    assert_int_equal(operator_command(OPERATOR_CPU, 1, "a/+", "vm", topic, sizeof(topic), json,
                                      sizeof(json), &n), KG_EINVAL);
    assert_int_equal(operator_command(OPERATOR_CPU, 1, "kvmgrid", "vm", topic, 5, json,
                                      sizeof(json), &n), KG_ETOOBIG);
    assert_int_equal(operator_command(OPERATOR_CPU, 1, "kvmgrid", "vm", topic, sizeof(topic),
                                      json, 10, &n), KG_ETOOBIG);
}

static void names(void **state)
{
    (void)state;
    enum operator_preset p;
    for (int i = 0; i < OPERATOR_PRESET_COUNT; i++) {
        const char *s = operator_preset_name((enum operator_preset)i);
        assert_int_equal(operator_preset_parse(s, strlen(s), &p), 0);
        assert_int_equal(p, i);
        assert_true(strlen(operator_preset_label((enum operator_preset)i)) > 0);
    }
    assert_int_equal(operator_preset_parse("CPU80", 5, &p), 0);
    assert_int_equal(p, OPERATOR_CPU);
    assert_int_equal(operator_preset_parse("cpu8", 4, &p), KG_EINVAL);
    assert_int_equal(operator_preset_parse("cpu800", 6, &p), KG_EINVAL);
    assert_int_equal(operator_preset_parse("", 0, &p), KG_EINVAL);
    assert_int_equal(operator_preset_parse(NULL, 0, &p), KG_EINVAL);
    assert_string_equal(operator_preset_name(OPERATOR_PRESET_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(presets_exact), cmocka_unit_test(decoded_fields),
        cmocka_unit_test(escaped_node), cmocka_unit_test(refused), cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
