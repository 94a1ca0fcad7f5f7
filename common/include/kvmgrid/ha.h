/* SPDX-License-Identifier: MIT */
/*
 * Home Assistant MQTT discovery (docs/PROTOCOL.md, "Home Assistant discovery"):
 * the config topics, the ids and the retained config payloads that let Home
 * Assistant create one device per host and one per VM, with sensors reading
 * the agent's own retained topics. It is not a second wire format: every
 * sensor's state_topic is <prefix>/<host>/metrics or <prefix>/<host>/vm/<vm>,
 * read with value templates.
 *
 *   <ha_prefix>/sensor/kvmgrid_<hostid>/host_<metric>/config     host sensors
 *   <ha_prefix>/sensor/kvmgrid_<hostid>/<uuid>_<metric>/config   VM sensors
 *   <ha_prefix>/status                                           HA's birth ("online")
 *
 * Home Assistant allows only [A-Za-z0-9_-] in a discovery topic's node and
 * object ids, and kvmgrid's host names may hold any byte. The host id is the
 * name itself when it is 1..32 bytes of letters, digits and '-'; any other
 * name becomes its bytes with each one outside [A-Za-z0-9-] written '_' (cut
 * at 32 bytes), then '_' and 16 hex digits of its FNV-1a 64-bit hash. So
 * names of the first kind map to themselves, names of the second kind always
 * end in '_' + hash and cannot meet the first kind, and two of the second kind
 * meet only when their 64-bit hashes do. A VM is known by its libvirt UUID,
 * which stays when it is renamed: its unique_ids and config topics do not
 * change with its name; only the state_topic inside the payload does.
 *
 * What is not: deciding when to publish (the agent does, kvmgrid-agent(8)),
 * and Home Assistant itself, which the tests do not run: the payloads are
 * checked against the rules of its MQTT discovery documentation and source.
 * Pure module: no allocation that outlives a call, never logs. Thread-safe.
 */
#ifndef KVMGRID_HA_H
#define KVMGRID_HA_H
#include <stdbool.h>
#include <stddef.h>

#define KG_HA_PREFIX_DEFAULT "homeassistant"
#define KG_HA_BIRTH_ONLINE "online"   /* Home Assistant's birth payload */
/* Longest host id, without the NUL: 32 + '_' + 16 hex digits. */
#define KG_HA_HOST_ID_MAX 49
/* Longest config payload, with the NUL; an encoder output always fits. */
#define KG_HA_PAYLOAD_MAX 8192

/* A sensor of a host or of a VM: which payload field it reads and what Home
 * Assistant is told about it. unit, device_class and state_class are NULL when
 * not given; options is a NULL-terminated list for enum sensors, else NULL. */
struct kg_ha_sensor {
    const char *metric;        /* payload field and id part, e.g. "cpu_pct" */
    const char *name;          /* entity name within its device, e.g. "CPU" */
    const char *unit;          /* unit_of_measurement */
    const char *device_class;
    const char *state_class;
    const char *const *options;
};

/* The sensors of every VM and of every host, in a fixed order. */
extern const struct kg_ha_sensor kg_ha_vm_sensors[];
extern const size_t kg_ha_n_vm_sensors;
extern const struct kg_ha_sensor kg_ha_host_sensors[];
extern const size_t kg_ha_n_host_sensors;

/* The host id of host (NUL-terminated raw name, 1..KG_NAME_MAX bytes) into
 * out (size bytes; KG_HA_HOST_ID_MAX + 1 suffices). Returns its length, or
 * KG_EINVAL (empty or too long name), KG_ETOOBIG (out too small). */
int kg_ha_host_id(const char *host, char *out, size_t size);

/* What one config describes. Strings are borrowed, NUL-terminated. */
struct kg_ha_entity {
    const char *ha_prefix;     /* discovery prefix, e.g. "homeassistant" */
    const char *prefix;        /* kvmgrid's topic prefix */
    const char *host;          /* raw host name */
    const char *vm;            /* raw VM name; NULL for a host sensor */
    const char *uuid;          /* the VM's UUID (8-4-4-4-12 hex); NULL for a host */
    const char *sw_version;    /* agent version, for the device; may be NULL */
    size_t sensor;             /* index into kg_ha_vm_sensors or kg_ha_host_sensors */
};

/* The config topic of e (e->vm and e->sw_version are not used) into out
 * (size bytes). Returns its length, or KG_EINVAL (bad prefix, host, uuid or
 * sensor index), KG_ETOOBIG. */
int kg_ha_config_topic(char *out, size_t size, const struct kg_ha_entity *e);

/* Every config topic of host, as one subscription filter
 * "<ha_prefix>/sensor/kvmgrid_<hostid>/+/config". Length or KG_EINVAL/KG_ETOOBIG. */
int kg_ha_config_filter(char *out, size_t size, const char *ha_prefix, const char *host);

/* Home Assistant's status topic "<ha_prefix>/status". Length or KG_EINVAL/KG_ETOOBIG. */
int kg_ha_status_topic(char *out, size_t size, const char *ha_prefix);

/* The unique_id of e: "kvmgrid_<hostid>_<uuid>_<metric>" for a VM sensor,
 * "kvmgrid_<hostid>_host_<metric>" for a host sensor. Length or KG_EINVAL/KG_ETOOBIG. */
int kg_ha_unique_id(char *out, size_t size, const struct kg_ha_entity *e);

/* The retained config payload of e (compact JSON with Home Assistant's
 * abbreviated keys) into buf (size bytes, NUL-terminated; KG_HA_PAYLOAD_MAX
 * suffices). Names become JSON strings with invalid UTF-8 replaced by U+FFFD.
 * Returns the length, or KG_EINVAL (bad prefix, name, uuid or sensor index),
 * KG_ETOOBIG, KG_ENOMEM. */
int kg_ha_config_encode(const struct kg_ha_entity *e, char *buf, size_t size);

#endif
