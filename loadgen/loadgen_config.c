/* SPDX-License-Identifier: MIT */
/*
 * The configuration table of kvmgrid-load (see settings.h). Every key, its
 * type, its range and its one-line help live here and nowhere else; --help and
 * docs/kvmgrid-load.md list the same keys.
 */
#include "loadgen_config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvmgrid/log.h"

#define STR(name, field, help) \
    {name, KG_CFG_STRING, offsetof(struct loadgen_config, field), \
     sizeof(((struct loadgen_config *)0)->field), 0, 0, NULL, help, NULL}

/* The caps' defaults are caps_defaults' (test_caps checks they agree). */
const struct kg_config_key loadgen_config_keys[] = {
    KG_CLIENT_CONFIG_KEYS(struct loadgen_config, client),
    STR("node", node, "this node's name in topics (default: host name)"),
    STR("scenario_dir", scenario_dir,
        "directory of the shipped scenarios (default: next to the program, then the "
        "installed one)"),
    {"state_interval", KG_CFG_DURATION_MS, offsetof(struct loadgen_config, state_interval_ms), 0,
     100, 60000, NULL, "state republished this often while a load runs", "1s"},
    {"max_workers", KG_CFG_INT, offsetof(struct loadgen_config, caps.max_workers), 0, 0,
     CAPS_WORKERS_HARD_MAX, NULL, "cap: CPU worker threads at once", "4"},
    {"max_pct", KG_CFG_DOUBLE, offsetof(struct loadgen_config, caps.max_pct), 0, 0, 100, NULL,
     "cap: duty cycle per CPU worker, %", "100"},
    {"max_mib", KG_CFG_INT, offsetof(struct loadgen_config, caps.max_mib), 0, 0, 1048576, NULL,
     "cap: memory held at once, MiB (0 disables memory loads)", "1024"},
    {"max_dirty_mib_per_s", KG_CFG_DOUBLE, offsetof(struct loadgen_config, caps.max_dirty_mib_per_s),
     0, 0, 1e6, NULL, "cap: memory re-dirty rate, MiB/s", "1024"},
    {"max_mb_per_s", KG_CFG_DOUBLE, offsetof(struct loadgen_config, caps.max_mb_per_s), 0, 0, 1e6,
     NULL, "cap: disk rate per direction, MB/s (0: unthrottled)", "200"},
    {"max_duration", KG_CFG_DURATION_MS, offsetof(struct loadgen_config, caps.max_duration_ms), 0,
     1, 7 * 24 * 3600e3, NULL, "cap: duration of any load or scenario", "1h"},
    {"default_duration", KG_CFG_DURATION_MS,
     offsetof(struct loadgen_config, caps.default_duration_ms), 0, 1, 7 * 24 * 3600e3, NULL,
     "duration of a load that gives none", "60s"},
    {"disk_dir", KG_CFG_STRING, offsetof(struct loadgen_config, caps.disk_dir),
     sizeof(((struct caps *)0)->disk_dir), 0, 0, NULL,
     "directory for disk loads (absolute; empty disables disk loads)", NULL},
    {"max_disk_bytes", KG_CFG_SIZE_BYTES, offsetof(struct loadgen_config, caps.max_disk_bytes), 0,
     4096, 1099511627776.0 * 64, NULL, "cap: disk space used by disk loads at once", "1G"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

void loadgen_config_defaults(struct loadgen_config *c)
{
    memset(c, 0, sizeof *c);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    caps_defaults(&c->caps, n > 0 ? n : 1);
    char why[256];
    /* the table's defaults are constants: a failure is a bug, caught by the tests */
    (void)kg_config_defaults(loadgen_config_keys, c, why, sizeof why);
}
