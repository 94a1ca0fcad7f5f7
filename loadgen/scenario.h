/* SPDX-License-Identifier: MIT */
/*
 * Scenarios: a timed sequence of steps, each running zero or more loads at the
 * same time (docs/kvmgrid-load.md documents the JSON format). The same struct is
 * the runner's plan: a single command is a one-step scenario.
 *
 * Parsing is strict: invalid JSON, a wrong type, an unknown field or kind, a
 * negative, non-finite or out-of-range value is an error reported as
 * "file:line: message" (line of the offending value), before anything runs.
 * scenario_apply_caps() then resolves defaults and checks every load, every
 * step and the whole duration against the caps, with the same file:line form.
 * Pure module: reads only the file it is given (scenario_load_file), never logs.
 */
#ifndef LOADGEN_SCENARIO_H
#define LOADGEN_SCENARIO_H
#include <stddef.h>

#include "caps.h"
#include "kvmgrid/schema.h"

#define SCENARIO_MAX_STEPS 256
#define SCENARIO_MAX_LOADS 8          /* loads at once in one step */
#define SCENARIO_MAX_BYTES (1024 * 1024)
#define SCENARIO_NAME_MAX 64

struct scenario_step {
    double duration_s;                /* NA: the longest of its loads */
    unsigned n_loads;
    struct kg_load_spec loads[SCENARIO_MAX_LOADS]; /* duration NA: the step's */
    unsigned line;                    /* where the step starts (1-based; 0 unknown) */
    unsigned load_line[SCENARIO_MAX_LOADS];
};

struct scenario {
    char name[SCENARIO_NAME_MAX];
    char source[512];                 /* file name used in messages */
    unsigned n_steps;
    struct scenario_step *steps;      /* owned */
};

/* Parses buf[0..len) (need not be NUL-terminated); name is used in messages.
 * Returns 0 and *out (free with scenario_free), or KG_EPARSE/KG_ETOOBIG/
 * KG_ENOMEM with "name:line: message" in errmsg. */
int scenario_parse(const char *buf, size_t len, const char *name, struct scenario **out,
                   char *errmsg, size_t errlen);
/* Reads and parses a file (at most SCENARIO_MAX_BYTES). KG_ENOENT/KG_EIO with
 * "path: reason" when it cannot be read. */
int scenario_load_file(const char *path, struct scenario **out, char *errmsg, size_t errlen);

/* Resolves defaults and checks the scenario against the caps (see caps.h), in
 * place. Returns 0, KG_EPERM (over a cap) or KG_EINVAL, with
 * "source:line: steps[i].loads[j]: reason" in errmsg. */
int scenario_apply_caps(struct scenario *s, const struct caps *c, char *errmsg, size_t errlen);

/* Total duration in seconds (after scenario_apply_caps). */
double scenario_duration_s(const struct scenario *s);

/* A one-step plan of one load (spec borrowed and copied). Returns 0 or KG_ENOMEM. */
int scenario_from_load(const struct kg_load_spec *spec, const char *name, struct scenario **out);

/* True when name is a valid shipped-scenario name: the protocol's rule,
 * kg_scenario_name_valid (1..63 of [A-Za-z0-9._-], not starting with '.'). */
int scenario_name_valid(const char *name);

void scenario_free(struct scenario *s);

#endif
