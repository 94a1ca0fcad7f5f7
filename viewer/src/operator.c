/* SPDX-License-Identifier: MIT */
/*
 * Operator presets -> load command topic and JSON (see operator.h). The figures
 * are deliberately modest: the load generator still applies its own caps, and a
 * preset is meant to make a tile visibly change, not to hurt a guest.
 */
#include "operator.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"

static const char *const preset_names[OPERATOR_PRESET_COUNT] = {"cpu80", "mem256", "disk20", "stop"};
static const char *const preset_labels[OPERATOR_PRESET_COUNT] = {
    "CPU 80 % for 60 s", "memory 256 MiB for 60 s", "disk write 20 MB/s for 60 s", "stop"};

const char *operator_preset_name(enum operator_preset p)
{
    return (unsigned)p < OPERATOR_PRESET_COUNT ? preset_names[p] : "?";
}

const char *operator_preset_label(enum operator_preset p)
{
    return (unsigned)p < OPERATOR_PRESET_COUNT ? preset_labels[p] : "?";
}

int operator_preset_parse(const char *s, size_t len, enum operator_preset *out)
{
    if (s == NULL)
        return KG_EINVAL;
    for (int i = 0; i < OPERATOR_PRESET_COUNT; i++) {
        if (strlen(preset_names[i]) == len && strncasecmp(s, preset_names[i], len) == 0) {
            *out = (enum operator_preset)i;
            return 0;
        }
    }
    return KG_EINVAL;
}

int operator_command(enum operator_preset p, uint64_t seq, const char *prefix, const char *node,
                     char *topic, size_t topic_size, char *json, size_t json_size,
                     size_t *json_len)
{
    if ((unsigned)p >= OPERATOR_PRESET_COUNT || node == NULL || prefix == NULL)
        return KG_EINVAL;
    int tl = kg_topic_build(topic, topic_size, prefix, KG_TOPIC_LOAD_CMD, node, NULL);
    if (tl < 0)
        return tl;
    struct kg_load_cmd c;
    kg_load_cmd_init(&c);
    snprintf(c.id, sizeof(c.id), "wall-%llu", (unsigned long long)seq);
    c.verb = KG_LOAD_START;
    c.spec.duration_s = 60;
    switch (p) {
    case OPERATOR_CPU:
        c.spec.kind = KG_LOAD_CPU;
        c.spec.pct = 80;
        break;
    case OPERATOR_MEM:
        c.spec.kind = KG_LOAD_MEM;
        c.spec.mib = 256;
        break;
    case OPERATOR_DISK:
        c.spec.kind = KG_LOAD_DISK;
        c.spec.disk_mode = KG_DISK_WRITE;
        c.spec.mb_per_s = 20;
        break;
    default:
        c.verb = KG_LOAD_STOP;
        break;
    }
    int n = kg_load_cmd_encode(&c, json, json_size);
    if (n < 0)
        return n;
    if (json_len != NULL)
        *json_len = (size_t)n;
    return 0;
}
