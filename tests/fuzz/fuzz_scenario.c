/* SPDX-License-Identifier: MIT */
/*
 * Fuzz entry point for the scenario parser and its caps check (loadgen/scenario.c,
 * loadgen/caps.c): the input is a scenario file, parsed with scenario_parse, then
 * checked with scenario_apply_caps against the default caps (caps_defaults), once
 * as they are (disk loads off) and once with a disk_dir (disk loads on), and
 * summed with scenario_duration_s. Beyond "no crash, no leak, no UB" it checks
 * what scenario.h and caps.h promise:
 *  - a rejection returns a documented code, no scenario, and a message
 *    "fz.json:<line>: ..." naming a line of the input (the size limit alone
 *    says "fz.json: ...");
 *  - a parsed scenario has 1..SCENARIO_MAX_STEPS steps of at most
 *    SCENARIO_MAX_LOADS loads, each a known kind with its required field, every
 *    number absent or finite and not negative, durations above 0, a pause only
 *    with a duration, lines within the input and a valid or empty name;
 *  - after the caps every step and load is resolved and within the caps, alone
 *    and at once, no load outlasts its step, and the whole duration is finite,
 *    the sum of the steps and within max_duration.
 * Built as a libFuzzer target (clang, KVMGRID_FUZZ=ON) or linked with fuzz_main.c
 * as a corpus regression test.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "kvmgrid/error.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fz.json"

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_scenario: %s: %s\n", what, detail);
        abort();
    }
}

static unsigned lines_in(const char *buf, size_t len)
{
    unsigned lines = 1; /* the line after the last newline, even if empty */
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n')
            lines++;
    return lines;
}

/* "fz.json:<line>: <message>" with line 1..lines; or "fz.json: <message>" when
 * no line is expected. */
static void check_message(const char *err, unsigned lines, int with_line)
{
    check(err[0] != '\0', "error without a message", "");
    check(strncmp(err, NAME ":", strlen(NAME ":")) == 0, "error does not name the file", err);
    const char *p = err + strlen(NAME ":");
    if (!with_line) {
        check(p[0] == ' ' && p[1] != '\0', "error not in the form name: message", err);
        return;
    }
    unsigned long line = 0;
    int used = 0;
    check(sscanf(p, "%lu: %n", &line, &used) == 1 && used > 0 && p[used] != '\0',
          "error not in the form name:line: message", err);
    check(line >= 1 && line <= lines, "error names no input line", err);
}

static int absent_or_ok(double v)
{
    return kg_na(v) || (isfinite(v) && v >= 0.0);
}

static int whole(double v)
{
    return isfinite(v) && floor(v) == v;
}

/* What scenario_parse promises about what it accepted. */
static void check_parsed(const struct scenario *s, unsigned lines)
{
    check(s->n_steps >= 1 && s->n_steps <= SCENARIO_MAX_STEPS, "step count out of range", "");
    check(s->steps != NULL, "no steps array", "");
    check(memchr(s->name, '\0', sizeof s->name) != NULL, "name not terminated", "");
    check(s->name[0] == '\0' || scenario_name_valid(s->name), "invalid name accepted", s->name);
    check(strcmp(s->source, NAME) == 0, "source is not the name given", s->source);
    for (unsigned i = 0; i < s->n_steps; i++) {
        const struct scenario_step *st = &s->steps[i];
        check(st->n_loads <= SCENARIO_MAX_LOADS, "too many loads in a step", "");
        check(kg_na(st->duration_s) || (isfinite(st->duration_s) && st->duration_s > 0.0),
              "step duration not absent nor above 0", "");
        check(st->n_loads > 0 || !kg_na(st->duration_s), "a pause without a duration", "");
        check(st->line >= 1 && st->line <= lines, "step line outside the input", "");
        for (unsigned j = 0; j < st->n_loads; j++) {
            const struct kg_load_spec *l = &st->loads[j];
            check(st->load_line[j] >= st->line && st->load_line[j] <= lines,
                  "load line outside its step", "");
            check(l->kind == KG_LOAD_CPU || l->kind == KG_LOAD_MEM || l->kind == KG_LOAD_DISK,
                  "unknown kind accepted", "");
            check(kg_na(l->duration_s) || (isfinite(l->duration_s) && l->duration_s > 0.0),
                  "load duration not absent nor above 0", "");
            check(absent_or_ok(l->workers) && absent_or_ok(l->pct) &&
                      absent_or_ok(l->ramp_to_pct) && absent_or_ok(l->mib) &&
                      absent_or_ok(l->dirty_mib_per_s) && absent_or_ok(l->mb_per_s) &&
                      absent_or_ok(l->block_kib),
                  "a number neither absent nor finite and not negative", "");
            check(l->kind != KG_LOAD_CPU || !kg_na(l->pct), "cpu load without pct", "");
            check(l->kind != KG_LOAD_MEM || !kg_na(l->mib), "mem load without mib", "");
            check(l->disk_mode == KG_DISK_WRITE || l->disk_mode == KG_DISK_READ ||
                      l->disk_mode == KG_DISK_RW,
                  "unknown disk mode", "");
        }
    }
    /* Not bounded before the caps (each step may be up to DBL_MAX), but a sum. */
    check(!(scenario_duration_s(s) < 0.0), "negative total duration", "");
}

/* What caps_resolve_load, caps_check_concurrent and scenario_apply_caps promise. */
static void check_capped(const struct scenario *s, const struct caps *c)
{
    double max_s = (double)c->max_duration_ms / 1000.0, sum = 0.0;
    for (unsigned i = 0; i < s->n_steps; i++) {
        const struct scenario_step *st = &s->steps[i];
        check(isfinite(st->duration_s) && st->duration_s > 0.0 && st->duration_s <= max_s,
              "step duration unresolved or over the cap", "");
        double workers = 0, mib = 0;
        for (unsigned j = 0; j < st->n_loads; j++) {
            const struct kg_load_spec *l = &st->loads[j];
            check(isfinite(l->duration_s) && l->duration_s > 0.0 &&
                      l->duration_s <= st->duration_s,
                  "load duration unresolved or longer than its step", "");
            switch (l->kind) {
            case KG_LOAD_CPU:
                check(whole(l->workers) && l->workers >= 1 &&
                          l->workers <= (double)c->max_workers,
                      "cpu workers unresolved or over the cap", "");
                check(l->pct >= 0 && l->pct <= c->max_pct, "pct over the cap", "");
                check(kg_na(l->ramp_to_pct) ||
                          (l->ramp_to_pct >= 0 && l->ramp_to_pct <= c->max_pct),
                      "ramp_to_pct over the cap", "");
                workers += l->workers;
                break;
            case KG_LOAD_MEM:
                check(whole(l->mib) && l->mib >= 1 && l->mib <= (double)c->max_mib,
                      "mib over the cap", "");
                check(isfinite(l->dirty_mib_per_s) && l->dirty_mib_per_s >= 0 &&
                          l->dirty_mib_per_s <= c->max_dirty_mib_per_s,
                      "dirty_mib_per_s unresolved or over the cap", "");
                mib += l->mib;
                break;
            case KG_LOAD_DISK:
                check(c->disk_dir[0] != '\0', "disk load accepted with disk loads off", "");
                check(kg_na(l->mb_per_s) || (l->mb_per_s > 0 && l->mb_per_s <= c->max_mb_per_s),
                      "mb_per_s over the cap", "");
                check(whole(l->block_kib) && l->block_kib >= CAPS_BLOCK_KIB_MIN &&
                          l->block_kib <= CAPS_BLOCK_KIB_MAX,
                      "block_kib unresolved or out of range", "");
                check(caps_disk_file_bytes(c, l) <= c->max_disk_bytes, "disk file over the cap",
                      "");
                break;
            default:
                check(0, "unknown kind after the caps", "");
            }
        }
        check(workers <= (double)c->max_workers, "workers at once over the cap", "");
        check(mib <= (double)c->max_mib, "MiB at once over the cap", "");
        sum += st->duration_s;
    }
    double total = scenario_duration_s(s);
    check(isfinite(total) && total > 0.0, "total duration not finite and above 0", "");
    check(total == sum, "total duration is not the sum of the steps", "");
    check(total * 1000.0 <= (double)c->max_duration_ms, "total duration over the cap", "");
}

/* A heap copy that scenario_free frees, so that each caps check gets its own. */
static struct scenario *copy_of(const struct scenario *s)
{
    struct scenario *d = malloc(sizeof *d);
    check(d != NULL, "out of memory", "");
    *d = *s;
    d->steps = malloc(s->n_steps * sizeof *s->steps);
    check(d->steps != NULL, "out of memory", "");
    memcpy(d->steps, s->steps, s->n_steps * sizeof *s->steps);
    return d;
}

static void apply(const struct scenario *parsed, const struct caps *c, unsigned lines)
{
    struct scenario *s = copy_of(parsed);
    char err[KG_ERRMSG_MAX] = "";
    int rc = scenario_apply_caps(s, c, err, sizeof err);
    if (rc != 0) {
        check(rc == KG_EPERM || rc == KG_EINVAL, "caps: undocumented error code", err);
        check_message(err, lines, 1);
    } else {
        check(err[0] == '\0', "caps: success wrote an error message", err);
        check_capped(s, c);
    }
    scenario_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    unsigned lines = lines_in(buf, size);
    struct scenario *s = (struct scenario *)&lines; /* must come back NULL on an error */
    char err[KG_ERRMSG_MAX] = "";
    int rc = scenario_parse(buf, size, NAME, &s, err, sizeof err);
    if (rc != 0) {
        check(rc == KG_EPARSE || rc == KG_ETOOBIG || rc == KG_ENOMEM, "undocumented error code",
              err);
        check(s == NULL, "error but a scenario came back", err);
        if (rc != KG_ENOMEM) /* a failed allocation writes no message */
            check_message(err, lines, rc != KG_ETOOBIG);
        return 0;
    }
    check(s != NULL, "success without a scenario", "");
    check(err[0] == '\0', "success wrote an error message", err);
    check_parsed(s, lines);

    struct caps c;
    caps_defaults(&c, 2);
    apply(s, &c, lines);
    snprintf(c.disk_dir, sizeof c.disk_dir, "%s", "/var/lib/kvmgrid-load");
    apply(s, &c, lines);
    scenario_free(s);
    return 0;
}
