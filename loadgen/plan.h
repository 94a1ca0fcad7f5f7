/* SPDX-License-Identifier: MIT */
/*
 * From a request to a checked plan: a decoded "start" or "scenario" command
 * (MQTT or command line) becomes a scenario whose every load is resolved and
 * checked against the caps, or a one-line reason why not. Nothing runs here;
 * the runner receives only plans that passed.
 */
#ifndef LOADGEN_PLAN_H
#define LOADGEN_PLAN_H
#include <stddef.h>

#include "caps.h"
#include "kvmgrid/schema.h"
#include "scenario.h"

/* Returns 0 and *out (free with scenario_free), or KG_EPERM (over a cap),
 * KG_EINVAL (invalid value, wrong verb), KG_ENOENT (no such shipped scenario),
 * KG_EPARSE (a shipped scenario file is malformed: "file:line: message"). */
int plan_from_cmd(const struct kg_load_cmd *cmd, const struct caps *caps,
                  const char *scenario_dir, struct scenario **out, char *errmsg, size_t errlen);

/* Same for a scenario file path or a shipped name (a path contains '/' or ends
 * in ".json"). */
int plan_from_scenario(const char *path_or_name, const struct caps *caps,
                       const char *scenario_dir, struct scenario **out, char *errmsg,
                       size_t errlen);

#endif
