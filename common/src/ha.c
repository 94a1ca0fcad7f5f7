/* SPDX-License-Identifier: MIT */
/*
 * Home Assistant discovery: ids, topics and config payloads (kvmgrid/ha.h).
 * The payloads are built as cJSON trees: they are published when something
 * changes (start, a new or renamed VM, Home Assistant's birth), never per
 * interval, so the tree costs nothing that matters and escapes every string
 * right. Which keys, units and classes Home Assistant accepts is checked by
 * test_ha against a table of its rules.
 */
#include "kvmgrid/ha.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "schema_private.h"
#include "utf8.h"

#define MAKER "kvmgrid"
#define HOST_ID_READABLE 32   /* bytes of a host id taken from the name */

static const char *const vm_states[] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed",
    "pmsuspended", NULL,
};

/* Rates are bytes per second in the payloads: Home Assistant's data_rate
 * class takes "B/s" and converts for display. Percentages have no device
 * class of their own in Home Assistant; the unit says it. */
const struct kg_ha_sensor kg_ha_vm_sensors[] = {
    {"cpu_pct", "CPU", "%", NULL, "measurement", NULL},
    {"mem_used_pct", "Memory used", "%", NULL, "measurement", NULL},
    {"disk_rd_bytes_per_s", "Disk read", "B/s", "data_rate", "measurement", NULL},
    {"disk_wr_bytes_per_s", "Disk write", "B/s", "data_rate", "measurement", NULL},
    {"net_rx_bytes_per_s", "Network receive", "B/s", "data_rate", "measurement", NULL},
    {"net_tx_bytes_per_s", "Network transmit", "B/s", "data_rate", "measurement", NULL},
    {"steal_pct", "Steal", "%", NULL, "measurement", NULL},
    {"state", "State", NULL, "enum", NULL, vm_states},
};
const size_t kg_ha_n_vm_sensors = sizeof kg_ha_vm_sensors / sizeof kg_ha_vm_sensors[0];

const struct kg_ha_sensor kg_ha_host_sensors[] = {
    {"cpu_pct", "CPU", "%", NULL, "measurement", NULL},
    {"mem_used_pct", "Memory used", "%", NULL, "measurement", NULL},
    {"load1", "Load (1 min)", NULL, NULL, "measurement", NULL},
    {"disk_rd_bytes_per_s", "Disk read", "B/s", "data_rate", "measurement", NULL},
    {"disk_wr_bytes_per_s", "Disk write", "B/s", "data_rate", "measurement", NULL},
    {"net_rx_bytes_per_s", "Network receive", "B/s", "data_rate", "measurement", NULL},
    {"net_tx_bytes_per_s", "Network transmit", "B/s", "data_rate", "measurement", NULL},
    {"vms_running", "VMs running", NULL, NULL, "measurement", NULL},
};
const size_t kg_ha_n_host_sensors = sizeof kg_ha_host_sensors / sizeof kg_ha_host_sensors[0];

/* ---- ids ------------------------------------------------------------------ */

static bool id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-';
}

/* FNV-1a, 64 bits: stable across builds and machines, which is all an id needs. */
static uint64_t fnv1a64(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

int kg_ha_host_id(const char *host, char *out, size_t size)
{
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > KG_NAME_MAX)
        return KG_EINVAL;
    bool plain = n <= HOST_ID_READABLE;
    for (size_t i = 0; plain && i < n; i++)
        plain = id_char((unsigned char)host[i]);
    char id[KG_HA_HOST_ID_MAX + 1];
    size_t len;
    if (plain) {
        memcpy(id, host, n);
        len = n;
    } else {
        len = n < HOST_ID_READABLE ? n : HOST_ID_READABLE;
        for (size_t i = 0; i < len; i++)
            id[i] = id_char((unsigned char)host[i]) ? host[i] : '_';
        len += (size_t)snprintf(id + len, sizeof id - len, "_%016llx",
                                (unsigned long long)fnv1a64(host, n));
    }
    if (len + 1 > size)
        return KG_ETOOBIG;
    memcpy(out, id, len);
    out[len] = '\0';
    return (int)len;
}

static const struct kg_ha_sensor *sensor_of(const struct kg_ha_entity *e)
{
    bool vm = e->uuid != NULL;
    if (vm && !kg_schema__uuid_valid(e->uuid))
        return NULL;
    size_t n = vm ? kg_ha_n_vm_sensors : kg_ha_n_host_sensors;
    if (e->sensor >= n)
        return NULL;
    return vm ? &kg_ha_vm_sensors[e->sensor] : &kg_ha_host_sensors[e->sensor];
}

/* snprintf into out; its length, or KG_ETOOBIG. */
static int fit(int n, size_t size)
{
    return n < 0 ? KG_EINVAL : (size_t)n >= size ? KG_ETOOBIG : n;
}

int kg_ha_unique_id(char *out, size_t size, const struct kg_ha_entity *e)
{
    char hid[KG_HA_HOST_ID_MAX + 1];
    const struct kg_ha_sensor *s = sensor_of(e);
    if (!s || kg_ha_host_id(e->host, hid, sizeof hid) < 0)
        return KG_EINVAL;
    return fit(snprintf(out, size, MAKER "_%s_%s_%s", hid, e->uuid ? e->uuid : "host",
                        s->metric), size);
}

static bool ha_prefix_ok(const char *p)
{
    return p && kg_topic_prefix_valid(p, NULL, 0);
}

int kg_ha_config_topic(char *out, size_t size, const struct kg_ha_entity *e)
{
    char hid[KG_HA_HOST_ID_MAX + 1];
    const struct kg_ha_sensor *s = sensor_of(e);
    if (!s || !ha_prefix_ok(e->ha_prefix) || kg_ha_host_id(e->host, hid, sizeof hid) < 0)
        return KG_EINVAL;
    return fit(snprintf(out, size, "%s/sensor/" MAKER "_%s/%s_%s/config", e->ha_prefix, hid,
                        e->uuid ? e->uuid : "host", s->metric), size);
}

int kg_ha_config_filter(char *out, size_t size, const char *ha_prefix, const char *host)
{
    char hid[KG_HA_HOST_ID_MAX + 1];
    if (!ha_prefix_ok(ha_prefix) || kg_ha_host_id(host, hid, sizeof hid) < 0)
        return KG_EINVAL;
    return fit(snprintf(out, size, "%s/sensor/" MAKER "_%s/+/config", ha_prefix, hid), size);
}

int kg_ha_status_topic(char *out, size_t size, const char *ha_prefix)
{
    if (!ha_prefix_ok(ha_prefix))
        return KG_EINVAL;
    return fit(snprintf(out, size, "%s/status", ha_prefix), size);
}

/* ---- payloads --------------------------------------------------------------- */

/* Adds key = s (borrowed) to obj; false when out of memory. */
static bool add_str(cJSON *obj, const char *key, const char *s)
{
    return cJSON_AddStringToObject(obj, key, s) != NULL;
}

/* A name as a JSON-safe string: invalid UTF-8 becomes U+FFFD. */
static bool add_name(cJSON *obj, const char *key, const char *name)
{
    char clean[3 * KG_NAME_MAX + 1];
    kg_utf8_clean(name, strlen(name), clean, sizeof clean);
    return add_str(obj, key, clean);
}

/* The device: one per host, one per VM linked to its host (via_device). */
static bool add_device(cJSON *root, const struct kg_ha_entity *e, const char *hid)
{
    cJSON *dev = cJSON_AddObjectToObject(root, "dev");
    cJSON *ids = dev ? cJSON_AddArrayToObject(dev, "ids") : NULL;
    if (!ids)
        return false;
    char id[KG_HA_HOST_ID_MAX + KG_UUID_LEN + 16];
    snprintf(id, sizeof id, MAKER "_%s", hid);
    char via[sizeof id];
    memcpy(via, id, sizeof via);
    if (e->uuid)
        snprintf(id, sizeof id, MAKER "_%s_%s", hid, e->uuid);
    cJSON *one = cJSON_CreateString(id);
    if (!one || !cJSON_AddItemToArray(ids, one)) {
        cJSON_Delete(one);
        return false;
    }
    return add_name(dev, "name", e->uuid ? e->vm : e->host) && add_str(dev, "mf", MAKER) &&
           add_str(dev, "mdl", e->uuid ? "KVM guest" : "KVM hypervisor") &&
           (!e->sw_version || !e->sw_version[0] || add_str(dev, "sw", e->sw_version)) &&
           (!e->uuid || add_str(dev, "via_device", via));
}

/* One availability entry: topic t, with a value template when tpl is not NULL. */
static bool add_avty(cJSON *list, const char *t, const char *tpl)
{
    cJSON *a = cJSON_CreateObject();
    if (!a || !cJSON_AddItemToArray(list, a)) {
        cJSON_Delete(a);
        return false;
    }
    return add_str(a, "t", t) && (!tpl || add_str(a, "val_tpl", tpl));
}

/* A figure that is absent from the payload (not available), and a payload that
 * is not JSON (empty: the VM was removed), render None: Home Assistant shows
 * unknown, never 0. */
static bool add_value_template(cJSON *root, const char *field)
{
    char tpl[160];
    snprintf(tpl, sizeof tpl,
             "{{ value_json.%s if value_json is defined and value_json.%s is defined "
             "else None }}", field, field);
    return add_str(root, "val_tpl", tpl);
}

/* The sensor's own keys: name, unique_id, unit and classes, options. */
static bool add_sensor(cJSON *root, const struct kg_ha_entity *e, const struct kg_ha_sensor *s)
{
    char uid[128];
    if (kg_ha_unique_id(uid, sizeof uid, e) < 0)
        return false;
    if (!add_str(root, "name", s->name) || !add_str(root, "uniq_id", uid) ||
        (s->unit && !add_str(root, "unit_of_meas", s->unit)) ||
        (s->device_class && !add_str(root, "dev_cla", s->device_class)) ||
        (s->state_class && !add_str(root, "stat_cla", s->state_class)))
        return false;
    if (!s->options)
        return true;
    cJSON *ops = cJSON_AddArrayToObject(root, "ops");
    for (size_t i = 0; ops && s->options[i]; i++) {
        cJSON *o = cJSON_CreateString(s->options[i]);
        if (!o || !cJSON_AddItemToArray(ops, o)) {
            cJSON_Delete(o);
            return false;
        }
    }
    return ops != NULL;
}

/* Topics: "~" is <prefix>/<host> (escaped), the base Home Assistant puts in
 * front of every topic that starts with "~". A VM's sensors are available when
 * the host is online and its payload says it runs (the state sensor: when it
 * has a payload at all), so a VM that is shut off reads unavailable, not 0. */
static bool add_topics(cJSON *root, const struct kg_ha_entity *e, const struct kg_ha_sensor *s)
{
    char status[KG_TOPIC_MAX], own[KG_TOPIC_MAX];
    int sl = kg_topic_build(status, sizeof status, e->prefix, KG_TOPIC_STATUS, e->host, NULL);
    int ol = e->uuid ? kg_topic_build(own, sizeof own, e->prefix, KG_TOPIC_VM, e->host, e->vm)
                     : kg_topic_build(own, sizeof own, e->prefix, KG_TOPIC_METRICS, e->host,
                                      NULL);
    if (sl < 0 || ol < 0)
        return false;
    size_t base = (size_t)sl - strlen("/status");
    char state_t[KG_TOPIC_MAX], status_t[32];
    snprintf(state_t, sizeof state_t, "~%s", own + base);
    snprintf(status_t, sizeof status_t, "~%s", status + base);
    status[base] = '\0';
    if (!add_str(root, "~", status) || !add_str(root, "stat_t", state_t) ||
        !add_value_template(root, s->metric))
        return false;
    if (!e->uuid)
        return add_str(root, "avty_t", status_t);
    cJSON *avty = cJSON_AddArrayToObject(root, "avty");
    bool is_enum = s->options != NULL;
    return avty && add_avty(avty, status_t, NULL) &&
           add_avty(avty, state_t,
                    is_enum ? "{{ 'online' if value_json is defined else 'offline' }}"
                            : "{{ 'online' if value_json is defined and "
                              "value_json.state == 'running' else 'offline' }}") &&
           add_str(root, "avty_mode", "all");
}

int kg_ha_config_encode(const struct kg_ha_entity *e, char *buf, size_t size)
{
    char hid[KG_HA_HOST_ID_MAX + 1];
    const struct kg_ha_sensor *s = sensor_of(e);
    if (!s || !e->prefix || !ha_prefix_ok(e->ha_prefix) || (e->uuid && !e->vm) ||
        kg_ha_host_id(e->host, hid, sizeof hid) < 0)
        return KG_EINVAL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return KG_ENOMEM;
    int rc = KG_ENOMEM;
    char t[KG_TOPIC_MAX];
    if (kg_topic_build(t, sizeof t, e->prefix, KG_TOPIC_STATUS, e->host, NULL) < 0 ||
        (e->uuid && kg_topic_build(t, sizeof t, e->prefix, KG_TOPIC_VM, e->host, e->vm) < 0)) {
        rc = KG_EINVAL;
        goto out;
    }
    if (!add_sensor(root, e, s) || !add_topics(root, e, s) || !add_device(root, e, hid))
        goto out;
    if (size > INT32_MAX)
        size = INT32_MAX;
    /* cJSON needs a little room past the text it writes */
    rc = cJSON_PrintPreallocated(root, buf, (int)size, false) ? (int)strlen(buf) : KG_ETOOBIG;
    if (rc >= 0 && (size_t)rc + 1 > size)
        rc = KG_ETOOBIG;
out:
    cJSON_Delete(root);
    return rc;
}
