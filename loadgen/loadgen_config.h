/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-load's configuration: the broker connection, the node name and the
 * safety caps, as one table for kvmgrid/config.h, so that a line
 * "max_mib = 512" in the file and a flag --max-mib 512 mean the same thing.
 * Pure module: never logs.
 */
#ifndef LOADGEN_LOADGEN_CONFIG_H
#define LOADGEN_LOADGEN_CONFIG_H
#include <stdint.h>

#include "caps.h"
#include "kvmgrid/client.h"
#include "kvmgrid/config.h"
#include "kvmgrid/topic.h"

struct loadgen_config {
    struct kg_client client;          /* broker, credentials, TLS, prefix, log level */
    char node[KG_NAME_MAX + 1];       /* "" = the host name */
    char scenario_dir[512];           /* "" = next to the program, then the installed dir */
    uint64_t state_interval_ms;       /* state republished this often while running */
    struct caps caps;
};

extern const struct kg_config_key loadgen_config_keys[];

/* Defaults everywhere (the table's, and the caps from caps_defaults with the
 * CPUs online). */
void loadgen_config_defaults(struct loadgen_config *c);

#endif
