/* SPDX-License-Identifier: MIT */
/*
 * Home Assistant discovery (kvmgrid/ha.h). Home Assistant is not run here (its
 * package registry is out of reach), so every payload is checked against the
 * rules of its MQTT discovery, written down below as a fact table, in our own
 * words, from Home Assistant's source and documentation:
 *   homeassistant/components/mqtt/abbreviations.py   commit 911803bfd294b1ba1f541af01f6d37666ae4e384
 *   homeassistant/components/sensor/const.py         commit 3fd1a330015df2a3af1aeba46d208060a5295664
 *   homeassistant/components/mqtt/discovery.py and sensor.py of the same era
 *   (2024/2025: device discovery, availability items with abbreviations and
 *   "~"), and the MQTT discovery documentation (home-assistant.io,
 *   source/_integrations/mqtt.markdown).
 * Also: host ids and unique_ids stable and unique over thousands of names,
 * hostile ones included, and the example in docs/PROTOCOL.md.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "kvmgrid/error.h"
#include "kvmgrid/ha.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"

/* ---- the fact table ----------------------------------------------------------
 *
 * Abbreviations: discovery replaces an abbreviated key by its full name, at
 * the top level, inside each availability item, and inside "device" (a table
 * of its own). A key that is neither is taken as it is. "~" is not an
 * abbreviation: it is the topic base, put in place of a "~" at the start or
 * the end of the value of every key whose full name ends in "topic" and of
 * each availability item's "topic".
 */
struct abbr {
    const char *abbr, *full;
};
static const struct abbr top_abbr[] = { /* abbreviations.py, ABBREVIATIONS (those we use) */
    {"avty", "availability"},         {"avty_mode", "availability_mode"},
    {"avty_t", "availability_topic"}, {"dev", "device"},
    {"dev_cla", "device_class"},      {"name", "name"},
    {"ops", "options"},               {"stat_cla", "state_class"},
    {"stat_t", "state_topic"},        {"t", "topic"},
    {"uniq_id", "unique_id"},         {"unit_of_meas", "unit_of_measurement"},
    {"val_tpl", "value_template"},    {NULL, NULL},
};
static const struct abbr dev_abbr[] = { /* abbreviations.py, DEVICE_ABBREVIATIONS */
    {"cns", "connections"}, {"cu", "configuration_url"}, {"ids", "identifiers"},
    {"name", "name"},       {"mf", "manufacturer"},      {"mdl", "model"},
    {"hw", "hw_version"},   {"sw", "sw_version"},        {"sa", "suggested_area"},
    {NULL, NULL},
};
/* Full names an MQTT sensor's config takes (sensor.py's schema plus the
 * common entity schema) among those kvmgrid could send; anything else is
 * refused here, so a typo cannot pass as an unknown key. */
static const char *const sensor_keys[] = {
    "~", "availability", "availability_mode", "availability_topic", "device", "device_class",
    "name", "options", "state_class", "state_topic", "unique_id", "unit_of_measurement",
    "value_template", NULL,
};
static const char *const device_keys[] = {
    "identifiers", "name", "manufacturer", "model", "sw_version", "via_device", NULL,
};
static const char *const avty_item_keys[] = {"topic", "value_template", NULL};
/* availability_mode: all, any or latest. */
static const char *const avty_modes[] = {"all", "any", "latest", NULL};
/* sensor/const.py: SensorStateClass. */
static const char *const state_classes[] = {
    "measurement", "measurement_angle", "total", "total_increasing", NULL,
};
/* sensor/const.py: DEVICE_CLASS_UNITS and DEVICE_CLASS_STATE_CLASSES, for the
 * device classes kvmgrid uses (data_rate: const.py's UnitOfDataRate). An enum
 * sensor has no unit and no state class; it needs a non-empty options list
 * (mqtt sensor.py: options only with device class enum, never with a unit or
 * a state class). A sensor without a device class may have any unit. */
struct class_rule {
    const char *device_class;
    const char *const *units;        /* NULL: no unit allowed */
    const char *const *state_classes;/* NULL: no state class allowed */
};
static const char *const data_rate_units[] = {
    "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s",
    "GiB/s", NULL,
};
static const char *const measurement_only[] = {"measurement", NULL};
static const struct class_rule class_rules[] = {
    {"data_rate", data_rate_units, measurement_only},
    {"enum", NULL, NULL},
    {NULL, NULL, NULL},
};
/* discovery.py's TOPIC_MATCHER, after "<discovery prefix>/" is taken off:
 * <component>/[<node_id>/]<object_id>/config, ids of [a-zA-Z0-9_-]. */
#define TOPIC_RE "^([A-Za-z0-9_]+)/(([a-zA-Z0-9_-]+)/)?([a-zA-Z0-9_-]+)/config$"
/* The VM payload's states (docs/PROTOCOL.md): the enum sensor's options. */
static const char *const vm_states[] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed",
    "pmsuspended", NULL,
};

/* ---- helpers ------------------------------------------------------------------ */

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static const char *expand(const struct abbr *t, const char *key)
{
    for (size_t i = 0; t[i].abbr; i++)
        if (strcmp(t[i].abbr, key) == 0)
            return t[i].full;
    return key;
}

/* Replaces every abbreviated key of obj by its full name (as discovery does). */
static void expand_keys(cJSON *obj, const struct abbr *t)
{
    for (cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
        const char *full = expand(t, c->string);
        if (full != c->string && strcmp(full, c->string) != 0) {
            char *s = strdup(full);
            assert_non_null(s);
            cJSON_free(c->string);
            c->string = s;
        }
    }
}

/* "~" at the start or the end of a topic value becomes base. */
static void expand_base(cJSON *item, const char *base)
{
    const char *v = cJSON_GetStringValue(item);
    if (!v || !v[0])
        return;
    size_t n = strlen(v), bl = strlen(base);
    char *out = malloc(n + bl + 1);
    assert_non_null(out);
    if (v[0] == '~')
        snprintf(out, n + bl + 1, "%s%s", base, v + 1);
    else if (v[n - 1] == '~')
        snprintf(out, n + bl + 1, "%.*s%s", (int)(n - 1), v, base);
    else
        snprintf(out, n + bl + 1, "%s", v);
    assert_non_null(cJSON_SetValuestring(item, out));
    free(out);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Parses a config payload as Home Assistant's discovery would read it: keys
 * expanded, the topic base applied. Fails the test on any rule broken that
 * can be seen without knowing what the payload is for. Returns the tree. */
static cJSON *ha_read(const char *payload, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(payload, len, &end, false);
    if (!root || !cJSON_IsObject(root) || end != payload + len)
        fail_msg("not a JSON object: %s", payload);
    for (cJSON *c = root->child; c; c = c->next)
        if (!in_list(sensor_keys, expand(top_abbr, c->string)))
            fail_msg("key \"%s\" is neither an abbreviation nor a sensor option", c->string);
    expand_keys(root, top_abbr);
    cJSON *avty = cJSON_GetObjectItemCaseSensitive(root, "availability");
    for (cJSON *a = avty ? avty->child : NULL; a; a = a->next) {
        assert_true(cJSON_IsObject(a));
        for (cJSON *c = a->child; c; c = c->next)
            if (!in_list(avty_item_keys, expand(top_abbr, c->string)))
                fail_msg("availability key \"%s\" unknown", c->string);
        expand_keys(a, top_abbr);
    }
    cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    if (dev) {
        assert_true(cJSON_IsObject(dev));
        for (cJSON *c = dev->child; c; c = c->next)
            if (!in_list(device_keys, expand(dev_abbr, c->string)))
                fail_msg("device key \"%s\" unknown", c->string);
        expand_keys(dev, dev_abbr);
    }
    const char *base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "~"));
    if (base) {
        for (cJSON *c = root->child; c; c = c->next)
            if (ends_with(c->string, "topic"))
                expand_base(c, base);
        for (cJSON *a = avty ? avty->child : NULL; a; a = a->next)
            expand_base(cJSON_GetObjectItemCaseSensitive(a, "topic"), base);
    }
    return root;
}

static const char *str_of(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* The sensor rules on a read config. */
static void check_sensor_rules(const cJSON *c)
{
    const char *state_topic = str_of(c, "state_topic");
    assert_non_null(state_topic); /* a sensor's only required option */
    assert_true(kg_mqtt_topic_valid(state_topic, strlen(state_topic)));
    assert_non_null(str_of(c, "unique_id"));
    assert_non_null(str_of(c, "name"));
    const char *unit = str_of(c, "unit_of_measurement");
    const char *dc = str_of(c, "device_class");
    const char *sc = str_of(c, "state_class");
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(c, "options");
    if (sc)
        assert_true(in_list(state_classes, sc));
    if (dc) {
        const struct class_rule *r = NULL;
        for (size_t i = 0; class_rules[i].device_class; i++)
            if (strcmp(class_rules[i].device_class, dc) == 0)
                r = &class_rules[i];
        if (!r)
            fail_msg("device class %s not in the fact table", dc);
        if (unit && !in_list(r->units, unit))
            fail_msg("unit %s is not one of device class %s", unit, dc);
        if (r->units && !unit)
            fail_msg("device class %s without a unit", dc);
        if (sc && !in_list(r->state_classes, sc))
            fail_msg("state class %s is not allowed with device class %s", sc, dc);
    }
    if (ops) {
        assert_true(cJSON_IsArray(ops));
        assert_true(cJSON_GetArraySize(ops) > 0);
        assert_null(unit);
        assert_null(sc);
        assert_non_null(dc);
        assert_string_equal(dc, "enum");
        for (const cJSON *o = ops->child; o; o = o->next)
            assert_true(cJSON_IsString(o));
    } else if (dc) {
        assert_string_not_equal(dc, "enum");
    }
    const cJSON *avty = cJSON_GetObjectItemCaseSensitive(c, "availability");
    const char *avty_t = str_of(c, "availability_topic");
    assert_false(avty && avty_t); /* one or the other */
    assert_true(avty || avty_t);  /* kvmgrid always says */
    for (const cJSON *a = avty ? avty->child : NULL; a; a = a->next) {
        const char *t = str_of(a, "topic");
        assert_non_null(t); /* required in each item */
        assert_true(kg_mqtt_topic_valid(t, strlen(t)));
    }
    const char *mode = str_of(c, "availability_mode");
    if (mode)
        assert_true(in_list(avty_modes, mode));
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(c, "device");
    assert_non_null(dev); /* a device needs identifiers (or connections) */
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(dev, "identifiers");
    assert_true(cJSON_IsArray(ids) && cJSON_GetArraySize(ids) > 0);
    assert_non_null(str_of(dev, "name"));
}

/* The topic format: <ha_prefix>/<component>/[<node_id>/]<object_id>/config. */
static void check_topic(const char *ha_prefix, const char *topic)
{
    size_t pl = strlen(ha_prefix);
    assert_true(strncmp(topic, ha_prefix, pl) == 0 && topic[pl] == '/');
    static regex_t re;
    static bool compiled;
    if (!compiled) {
        assert_int_equal(regcomp(&re, TOPIC_RE, REG_EXTENDED), 0);
        compiled = true;
    }
    regmatch_t m[5];
    if (regexec(&re, topic + pl + 1, 5, m, 0) != 0)
        fail_msg("not a discovery topic: %s", topic);
    assert_int_equal(m[1].rm_eo - m[1].rm_so, 6);
    assert_memory_equal(topic + pl + 1, "sensor", 6);
    assert_true(m[3].rm_so >= 0); /* kvmgrid always gives a node id */
    assert_true(kg_mqtt_topic_valid(topic, strlen(topic)));
}

static int encode(const struct kg_ha_entity *e, char *buf)
{
    int n = kg_ha_config_encode(e, buf, KG_HA_PAYLOAD_MAX);
    if (n < 0)
        fail_msg("encode: %s", kg_strerror(n));
    assert_true((size_t)n < KG_HA_PAYLOAD_MAX);
    assert_int_equal(strlen(buf), (size_t)n);
    return n;
}

/* A VM payload with every figure present, as a parsed tree: what the value
 * templates may reference. */
static cJSON *full_vm_payload(void)
{
    static struct kg_vm vm;
    kg_vm_init(&vm);
    vm.ts_ms = 1;
    strcpy(vm.host, "h");
    strcpy(vm.name, "v");
    vm.state = KG_VM_RUNNING;
    double *figs[] = {&vm.cpu_pct, &vm.mem_used_pct, &vm.steal_pct, &vm.disk_rd_bytes_per_s,
                      &vm.disk_wr_bytes_per_s, &vm.net_rx_bytes_per_s, &vm.net_tx_bytes_per_s};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++)
        *figs[i] = 1;
    static char buf[KG_PAYLOAD_MAX];
    int n = kg_vm_encode(&vm, buf, sizeof buf);
    assert_true(n > 0);
    return cJSON_ParseWithLength(buf, (size_t)n);
}

static cJSON *full_host_payload(void)
{
    static struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 1;
    strcpy(h.name, "h");
    double *figs[] = {&h.cpu_pct, &h.mem_used_pct, &h.load1, &h.disk_rd_bytes_per_s,
                      &h.disk_wr_bytes_per_s, &h.net_rx_bytes_per_s, &h.net_tx_bytes_per_s,
                      &h.vms_running};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++)
        *figs[i] = 1;
    static char buf[KG_PAYLOAD_MAX];
    int n = kg_host_encode(&h, buf, sizeof buf);
    assert_true(n > 0);
    return cJSON_ParseWithLength(buf, (size_t)n);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_fact_table_matches_sensors(void **state)
{
    (void)state;
    /* every sensor kvmgrid declares uses classes the fact table knows */
    for (int host = 0; host < 2; host++) {
        const struct kg_ha_sensor *t = host ? kg_ha_host_sensors : kg_ha_vm_sensors;
        size_t n = host ? kg_ha_n_host_sensors : kg_ha_n_vm_sensors;
        for (size_t i = 0; i < n; i++) {
            if (t[i].state_class)
                assert_true(in_list(state_classes, t[i].state_class));
            if (t[i].options)
                for (size_t k = 0; vm_states[k]; k++)
                    assert_string_equal(t[i].options[k], vm_states[k]);
        }
    }
    /* the eight metrics of the issue, on every VM */
    const char *want[] = {"cpu_pct", "mem_used_pct", "disk_rd_bytes_per_s",
                          "disk_wr_bytes_per_s", "net_rx_bytes_per_s", "net_tx_bytes_per_s",
                          "steal_pct", "state"};
    assert_int_equal(kg_ha_n_vm_sensors, 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(kg_ha_vm_sensors[i].metric, want[i]);
}

static void test_host_id(void **state)
{
    (void)state;
    char id[KG_HA_HOST_ID_MAX + 1];
    assert_int_equal(kg_ha_host_id("hv-01", id, sizeof id), 5);
    assert_string_equal(id, "hv-01");
    assert_int_equal(kg_ha_host_id("HV-01", id, sizeof id), 5);
    assert_string_equal(id, "HV-01");
    /* a '_' of its own, a '.', a '/', 33 letters: readable part, then a hash */
    const char *hashed[] = {"hv_01", "hv-01.example.org", "web/01", "münchen",
                            "abcdefghijklmnopqrstuvwxyzABCDEFG"};
    for (size_t i = 0; i < sizeof hashed / sizeof hashed[0]; i++) {
        int n = kg_ha_host_id(hashed[i], id, sizeof id);
        assert_true(n > 17 && n <= KG_HA_HOST_ID_MAX);
        assert_int_equal(id[n - 17], '_');
    }
    /* stable across builds and machines: a fixed value */
    kg_ha_host_id("web/01", id, sizeof id);
    assert_string_equal(id, "web_01_7c7ef439f0a1fabd");
    assert_int_equal(kg_ha_host_id("", id, sizeof id), KG_EINVAL);
    assert_int_equal(kg_ha_host_id(NULL, id, sizeof id), KG_EINVAL);
    assert_int_equal(kg_ha_host_id("hv-01", id, 5), KG_ETOOBIG);
    char big[KG_NAME_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(kg_ha_host_id(big, id, sizeof id), KG_EINVAL);
    big[KG_NAME_MAX] = '\0';
    assert_int_equal(kg_ha_host_id(big, id, sizeof id), 32 + 17);
}

/* Deterministic pseudo-random bytes. */
static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Thousands of host names, hostile ones included: every id is made of the
 * allowed characters, and two names never share an id, a unique_id or a
 * config topic. */
static void test_ids_unique(void **state)
{
    (void)state;
    enum { N = 6000 };
    static char names[N][KG_NAME_MAX + 1];
    size_t n = 0;
    const char *fixed[] = {"a/b", "a b", "a+b", "a#b", "a_b", "a%b", "a-b", "ab", "a\xc3\xa9",
                           "a\xff", "$sys", "hv-01", "HV-01", "hv_01", "hv 01", "hv/01",
                           "hv%2F01", "x", "café", "日本"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        snprintf(names[n++], sizeof names[0], "%s", fixed[i]);
    uint32_t seed = 42;
    const char pool[] = "ab-_/+# %.Z09";
    while (n < N) {
        size_t len = 1 + rnd(&seed) % (n % 10 == 0 ? KG_NAME_MAX : 40);
        for (size_t k = 0; k < len; k++) {
            uint32_t r = rnd(&seed);
            names[n][k] = (r & 3) == 0 ? (char)(1 + r % 255) : pool[r % (sizeof pool - 1)];
        }
        names[n][len] = '\0';
        /* skip a repeat of a name already made */
        bool dup = false;
        for (size_t j = n >= 64 ? n - 64 : 0; j < n && !dup; j++)
            dup = strcmp(names[j], names[n]) == 0;
        if (!dup)
            n++;
    }
    /* exact duplicates anywhere are removed before the ids are compared */
    char **sorted = malloc(N * sizeof *sorted);
    assert_non_null(sorted);
    for (size_t i = 0; i < N; i++)
        sorted[i] = names[i];
    qsort(sorted, N, sizeof *sorted, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < N; i++)
        if (u == 0 || strcmp(sorted[u - 1], sorted[i]) != 0)
            sorted[u++] = sorted[i];
    char **ids = malloc(u * sizeof *ids);
    char **topics = malloc(u * sizeof *topics);
    assert_non_null(ids);
    assert_non_null(topics);
    regex_t idre;
    assert_int_equal(regcomp(&idre, "^[A-Za-z0-9_-]+$", REG_EXTENDED | REG_NOSUB), 0);
    for (size_t i = 0; i < u; i++) {
        char id[KG_HA_HOST_ID_MAX + 1];
        int len = kg_ha_host_id(sorted[i], id, sizeof id);
        assert_true(len > 0 && len <= KG_HA_HOST_ID_MAX);
        assert_int_equal(regexec(&idre, id, 0, NULL, 0), 0);
        char again[KG_HA_HOST_ID_MAX + 1];
        kg_ha_host_id(sorted[i], again, sizeof again);
        assert_string_equal(id, again);
        ids[i] = strdup(id);
        struct kg_ha_entity e = {"homeassistant", "kvmgrid", sorted[i], "v",
                                 "0b2e5ac4-2f0e-4d1c-9b7e-3c5f8a1d2e47", NULL, 0};
        char t[512];
        assert_true(kg_ha_config_topic(t, sizeof t, &e) > 0);
        check_topic("homeassistant", t);
        topics[i] = strdup(t);
        assert_non_null(ids[i]);
        assert_non_null(topics[i]);
    }
    regfree(&idre);
    qsort(ids, u, sizeof *ids, cmp_str);
    qsort(topics, u, sizeof *topics, cmp_str);
    for (size_t i = 1; i < u; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0)
            fail_msg("two names share the host id %s", ids[i]);
        assert_string_not_equal(topics[i - 1], topics[i]);
    }
    for (size_t i = 0; i < u; i++) {
        free(ids[i]);
        free(topics[i]);
    }
    free(ids);
    free(topics);
    free(sorted);
}

/* Every sensor of hosts and VMs with awkward names: the rules of the fact
 * table, the topics it reads, and what its templates reference. */
static void test_payload_rules(void **state)
{
    (void)state;
    char big[KG_NAME_MAX + 1];
    memset(big, '\x01', KG_NAME_MAX); /* the longest escaping and JSON escaping */
    big[KG_NAME_MAX] = '\0';
    const char *hosts[] = {"hv-01", "web/01 #2", "café+%", big};
    const char *vms[] = {"web-01", "db #2", "it's \"quoted\"", "x\xff", big};
    const char *prefixes[] = {"kvmgrid", "site1/kvmgrid"};
    cJSON *vm_doc = full_vm_payload(), *host_doc = full_host_payload();
    assert_non_null(vm_doc);
    assert_non_null(host_doc);
    static char buf[KG_HA_PAYLOAD_MAX];
    size_t longest = 0;
    for (size_t p = 0; p < 2; p++)
        for (size_t h = 0; h < sizeof hosts / sizeof hosts[0]; h++)
            for (size_t v = 0; v <= sizeof vms / sizeof vms[0]; v++) {
                bool host = v == sizeof vms / sizeof vms[0];
                size_t ns = host ? kg_ha_n_host_sensors : kg_ha_n_vm_sensors;
                for (size_t s = 0; s < ns; s++) {
                    struct kg_ha_entity e = {"homeassistant", prefixes[p], hosts[h],
                                             host ? NULL : vms[v],
                                             host ? NULL : "0b2e5ac4-2f0e-4d1c-9b7e-3c5f8a1d2e47",
                                             "0.1.0", s};
                    int n = encode(&e, buf);
                    if ((size_t)n > longest)
                        longest = (size_t)n;
                    cJSON *c = ha_read(buf, (size_t)n);
                    check_sensor_rules(c);
                    char t[KG_TOPIC_MAX];
                    kg_topic_build(t, sizeof t, prefixes[p],
                                   host ? KG_TOPIC_METRICS : KG_TOPIC_VM, hosts[h],
                                   host ? NULL : vms[v]);
                    assert_string_equal(str_of(c, "state_topic"), t);
                    char status[KG_TOPIC_MAX];
                    kg_topic_build(status, sizeof status, prefixes[p], KG_TOPIC_STATUS,
                                   hosts[h], NULL);
                    const cJSON *avty = cJSON_GetObjectItemCaseSensitive(c, "availability");
                    if (host) {
                        assert_string_equal(str_of(c, "availability_topic"), status);
                    } else {
                        /* host online AND the VM's own payload says so */
                        assert_int_equal(cJSON_GetArraySize(avty), 2);
                        assert_string_equal(str_of(avty->child, "topic"), status);
                        assert_string_equal(str_of(avty->child->next, "topic"), t);
                        assert_non_null(strstr(str_of(avty->child->next, "value_template"),
                                                "value_json is defined"));
                        assert_string_equal(str_of(c, "availability_mode"), "all");
                    }
                    /* the template reads a field the payload has, and renders
                     * None when it is absent or the payload is not JSON */
                    const char *metric = host ? kg_ha_host_sensors[s].metric
                                              : kg_ha_vm_sensors[s].metric;
                    const char *tpl = str_of(c, "value_template");
                    char want[160];
                    snprintf(want, sizeof want,
                             "{{ value_json.%s if value_json is defined and value_json.%s "
                             "is defined else None }}", metric, metric);
                    assert_string_equal(tpl, want);
                    assert_non_null(cJSON_GetObjectItemCaseSensitive(host ? host_doc : vm_doc,
                                                                     metric));
                    char uid[128];
                    assert_true(kg_ha_unique_id(uid, sizeof uid, &e) > 0);
                    assert_string_equal(str_of(c, "unique_id"), uid);
                    char topic[512];
                    assert_true(kg_ha_config_topic(topic, sizeof topic, &e) > 0);
                    check_topic("homeassistant", topic);
                    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(c, "device");
                    assert_string_equal(str_of(dev, "manufacturer"), "kvmgrid");
                    assert_string_equal(str_of(dev, "model"),
                                        host ? "KVM hypervisor" : "KVM guest");
                    assert_string_equal(str_of(dev, "sw_version"), "0.1.0");
                    char hid[KG_HA_HOST_ID_MAX + 1], via[80];
                    kg_ha_host_id(hosts[h], hid, sizeof hid);
                    snprintf(via, sizeof via, "kvmgrid_%s", hid);
                    if (host)
                        assert_null(str_of(dev, "via_device"));
                    else
                        assert_string_equal(str_of(dev, "via_device"), via);
                    cJSON_Delete(c);
                }
            }
    cJSON_Delete(vm_doc);
    cJSON_Delete(host_doc);
    /* the bound: far below the broker's limits, and below KG_HA_PAYLOAD_MAX */
    assert_true(longest < KG_HA_PAYLOAD_MAX);
    print_message("longest config payload: %zu bytes\n", longest);
}

/* A VM renamed keeps its unique_ids and config topics (they come from its
 * UUID); only the state topic in the payload moves. */
static void test_rename_keeps_ids(void **state)
{
    (void)state;
    for (size_t s = 0; s < kg_ha_n_vm_sensors; s++) {
        struct kg_ha_entity a = {"homeassistant", "kvmgrid", "hv-01", "old name",
                                 "0b2e5ac4-2f0e-4d1c-9b7e-3c5f8a1d2e47", "0.1.0", s};
        struct kg_ha_entity b = a;
        b.vm = "new/name";
        char ta[512], tb[512], ua[128], ub[128];
        assert_true(kg_ha_config_topic(ta, sizeof ta, &a) > 0);
        assert_true(kg_ha_config_topic(tb, sizeof tb, &b) > 0);
        assert_string_equal(ta, tb);
        kg_ha_unique_id(ua, sizeof ua, &a);
        kg_ha_unique_id(ub, sizeof ub, &b);
        assert_string_equal(ua, ub);
        static char pa[KG_HA_PAYLOAD_MAX], pb[KG_HA_PAYLOAD_MAX];
        encode(&a, pa);
        encode(&b, pb);
        assert_string_not_equal(pa, pb);
        assert_non_null(strstr(pb, "new%2Fname"));
    }
    /* every sensor of a VM has its own unique_id and topic */
    for (size_t s = 1; s < kg_ha_n_vm_sensors; s++) {
        struct kg_ha_entity a = {"homeassistant", "kvmgrid", "hv-01", "v",
                                 "0b2e5ac4-2f0e-4d1c-9b7e-3c5f8a1d2e47", NULL, s - 1};
        struct kg_ha_entity b = a;
        b.sensor = s;
        char ua[128], ub[128];
        kg_ha_unique_id(ua, sizeof ua, &a);
        kg_ha_unique_id(ub, sizeof ub, &b);
        assert_string_not_equal(ua, ub);
    }
}

static void test_topics_and_errors(void **state)
{
    (void)state;
    char t[512];
    assert_int_equal(kg_ha_status_topic(t, sizeof t, "homeassistant"),
                     (int)strlen("homeassistant/status"));
    assert_string_equal(t, "homeassistant/status");
    assert_true(kg_ha_config_filter(t, sizeof t, "ha", "web/01") > 0);
    assert_string_equal(t, "ha/sensor/kvmgrid_web_01_7c7ef439f0a1fabd/+/config");
    struct kg_ha_entity e = {"homeassistant", "kvmgrid", "hv-01", "web-01",
                             "0b2e5ac4-2f0e-4d1c-9b7e-3c5f8a1d2e47", NULL, 0};
    assert_true(kg_ha_config_topic(t, sizeof t, &e) > 0);
    assert_string_equal(t, "homeassistant/sensor/kvmgrid_hv-01/"
                           "0b2e5ac4-2f0e-4d1c-9b7e-3c5f8a1d2e47_cpu_pct/config");
    e.uuid = NULL;
    assert_true(kg_ha_config_topic(t, sizeof t, &e) > 0);
    assert_string_equal(t, "homeassistant/sensor/kvmgrid_hv-01/host_cpu_pct/config");
    assert_true(kg_ha_unique_id(t, sizeof t, &e) > 0);
    assert_string_equal(t, "kvmgrid_hv-01_host_cpu_pct");
    char buf[KG_HA_PAYLOAD_MAX];
    struct kg_ha_entity bad = e;
    bad.sensor = kg_ha_n_host_sensors;
    assert_int_equal(kg_ha_config_encode(&bad, buf, sizeof buf), KG_EINVAL);
    bad = e;
    bad.uuid = "not-a-uuid";
    assert_int_equal(kg_ha_config_topic(t, sizeof t, &bad), KG_EINVAL);
    bad = e;
    bad.ha_prefix = "ha/+";
    assert_int_equal(kg_ha_config_encode(&bad, buf, sizeof buf), KG_EINVAL);
    assert_int_equal(kg_ha_status_topic(t, sizeof t, "#"), KG_EINVAL);
    bad = e;
    bad.prefix = "";
    assert_int_equal(kg_ha_config_encode(&bad, buf, sizeof buf), KG_EINVAL);
    assert_int_equal(kg_ha_config_encode(&e, buf, 16), KG_ETOOBIG);
    assert_int_equal(kg_ha_config_topic(t, 8, &e), KG_ETOOBIG);
}

/* docs/PROTOCOL.md's discovery example is what the encoder writes for it. */
static void test_protocol_example(void **state)
{
    (void)state;
    FILE *f = fopen(KG_SOURCE_DIR "/docs/PROTOCOL.md", "rb");
    assert_non_null(f);
    static char doc[1 << 20];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = '\0';
    const char *mk = strstr(doc, "<!-- example: ha-config -->");
    if (!mk)
        fail_msg("docs/PROTOCOL.md has no <!-- example: ha-config --> block");
    const char *start = strstr(mk, "```json\n");
    assert_non_null(start);
    start += strlen("```json\n");
    const char *end = strstr(start, "```");
    assert_non_null(end);
    cJSON *want = cJSON_ParseWithLength(start, (size_t)(end - start));
    if (!want)
        fail_msg("the ha-config example is not JSON");
    struct kg_ha_entity e = {"homeassistant", "kvmgrid", "hv-01", "web-01",
                             "0b2e5ac4-2f0e-4d1c-9b7e-3c5f8a1d2e47", "0.1.0", 0};
    static char buf[KG_HA_PAYLOAD_MAX];
    int n = encode(&e, buf);
    cJSON *got = cJSON_ParseWithLength(buf, (size_t)n);
    assert_non_null(got);
    if (!cJSON_Compare(want, got, true))
        fail_msg("docs/PROTOCOL.md's ha-config example differs from the encoder's:\n%s", buf);
    cJSON_Delete(want);
    cJSON_Delete(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fact_table_matches_sensors),
        cmocka_unit_test(test_host_id),
        cmocka_unit_test(test_ids_unique),
        cmocka_unit_test(test_payload_rules),
        cmocka_unit_test(test_rename_keeps_ids),
        cmocka_unit_test(test_topics_and_errors),
        cmocka_unit_test(test_protocol_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
