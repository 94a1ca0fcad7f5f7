/* SPDX-License-Identifier: MIT */
/*
 * Where shipped scenarios are found by name ("cpu-ramp" -> .../cpu-ramp.json).
 * Names are checked (letters, digits, '-', '_') before any path is built, so a
 * command can never name a file outside the scenario directories. Search
 * order: the configured scenario_dir; "scenarios" next to the program (build
 * tree, relocatable guest image); ../share/kvmgrid/scenarios next to it; the
 * installed KG_SCENARIO_INSTALL_DIR.
 */
#ifndef LOADGEN_CATALOG_H
#define LOADGEN_CATALOG_H
#include <stddef.h>

/* Writes the path of scenario name into out. dir: the configured scenario_dir
 * ("" or NULL: none). Returns 0, KG_EINVAL (bad name) or KG_ENOENT. */
int catalog_find(const char *dir, const char *name, char *out, size_t size);

/* Calls fn(name, path, ctx) for each scenario in the first directory that
 * exists in the search order. Returns the number listed or KG_ENOENT. */
int catalog_list(const char *dir, void (*fn)(const char *name, const char *path, void *ctx),
                 void *ctx);

#endif
