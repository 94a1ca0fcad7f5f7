/* SPDX-License-Identifier: MIT */
/*
 * The wall's operator mode, the pure part: the command presets an operator can
 * send to a VM's load generator from the wall, and turning one into the topic
 * (<prefix>/<node>/load/cmd, built by libkvmgrid's topic module) and the command
 * JSON (libkvmgrid's load-command encoder), so both follow docs/PROTOCOL.md by
 * construction. The node is the VM's name: a load generator inside a guest runs
 * with --node <its host name>, which is the domain's name by convention, and the
 * wall already marks a tile whose VM name equals a load node's name.
 * Not here: who may send (the broker's ACL and wall.c's operator switch), MQTT.
 * Pure module: no SDL, no MQTT, no logging, no state. Thread-safe.
 */
#ifndef KG_WALL_OPERATOR_H
#define KG_WALL_OPERATOR_H
#include <stddef.h>
#include <stdint.h>

enum operator_preset {
    OPERATOR_CPU = 0,   /* start cpu, 80 % duty on every CPU, 60 s */
    OPERATOR_MEM,       /* start mem, 256 MiB held, 60 s */
    OPERATOR_DISK,      /* start disk, write at 20 MB/s, 60 s */
    OPERATOR_STOP,      /* stop whatever runs */
    OPERATOR_PRESET_COUNT
};

/* Short name used by flags and tests: "cpu80", "mem256", "disk20", "stop". */
const char *operator_preset_name(enum operator_preset p);
/* What it does, for the status line and the help: "CPU 80 % for 60 s". */
const char *operator_preset_label(enum operator_preset p);
/* Parses a short name (case-insensitive). 0 or KG_EINVAL. */
int operator_preset_parse(const char *s, size_t len, enum operator_preset *out);

/* Builds preset p for the load generator on node (raw, NUL-terminated name) under
 * prefix: the topic into topic[0..topic_size) (KG_TOPIC_MAX suffices) and the
 * command JSON into json[0..json_size) (NUL-terminated; 512 suffices), with the
 * id "wall-<seq>" echoed back in the load generator's state. *json_len gets the
 * JSON's length. Returns 0, KG_EINVAL (bad preset, prefix or node name: empty,
 * too long) or KG_ETOOBIG (a buffer too small). */
int operator_command(enum operator_preset p, uint64_t seq, const char *prefix, const char *node,
                     char *topic, size_t topic_size, char *json, size_t json_size,
                     size_t *json_len);

#endif
