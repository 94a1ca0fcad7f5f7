/* SPDX-License-Identifier: MIT */
/*
 * Local safety caps and the validation of loads against them. Whatever a command
 * or a scenario asks, the load generator runs nothing beyond these bounds: a
 * load over a cap is rejected as a whole, with a one-line reason, and never
 * partly run (no clamping). Validation also resolves the defaults a command may
 * leave out (duration, workers, block size), so that what runs is exactly what
 * was checked.
 * Pure module: no I/O, never logs. Thread-safe (no global state).
 */
#ifndef LOADGEN_CAPS_H
#define LOADGEN_CAPS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmgrid/schema.h"

/* Hard bounds that no configuration can lift. */
#define CAPS_BLOCK_KIB_MIN 4          /* disk block size */
#define CAPS_BLOCK_KIB_MAX 65536
#define CAPS_BLOCK_KIB_DEFAULT 1024
#define CAPS_DIRECT_ALIGN 4096        /* O_DIRECT blocks are multiples of this */
#define CAPS_WORKERS_HARD_MAX 1024

struct caps {
    long long max_workers;            /* CPU worker threads at once */
    double max_pct;                   /* duty cycle per worker, 0..100 */
    long long max_mib;                /* memory held at once, MiB; 0 disables memory loads */
    double max_dirty_mib_per_s;       /* memory re-dirty rate */
    double max_mb_per_s;              /* disk rate per direction, MB/s (10^6 B); 0 = no rate cap */
    uint64_t max_duration_ms;         /* any load, any step, a whole scenario */
    uint64_t default_duration_ms;     /* for loads that give none */
    char disk_dir[512];               /* where disk loads write; "" disables disk loads */
    uint64_t max_disk_bytes;          /* disk space used at once (file sizes, summed) */
    long long cpus;                   /* CPUs online: the default number of workers */
};

/* Conservative defaults: 4 workers at up to 100 %, 1 GiB, 200 MB/s, 1 h,
 * default duration 60 s, disk_dir "" (disk loads off until configured),
 * 1 GiB of disk; cpus = cpus_online (>= 1). */
void caps_defaults(struct caps *c, long long cpus_online);

/* Checks the caps themselves (e.g. default_duration <= max_duration).
 * 0 or KG_EINVAL with a reason in errmsg. */
int caps_check_config(const struct caps *c, char *errmsg, size_t errlen);

/* Validates one load and resolves its defaults into *out (which may alias in):
 * duration NA -> default_duration, workers NA -> min(cpus, max_workers),
 * block_kib NA -> 1024, dirty NA -> 0. mb_per_s NA stays NA (as fast as the
 * rate cap allows). Returns 0, or KG_EPERM (over a cap) / KG_EINVAL (a value
 * that is never valid: unknown kind, negative, NaN, non-integer workers) with a
 * reason in errmsg such as "mib 4096 over the cap max_mib 1024". */
int caps_resolve_load(const struct caps *c, const struct kg_load_spec *in,
                      struct kg_load_spec *out, char *errmsg, size_t errlen);

/* Checks loads meant to run at the same time (already resolved): their summed
 * workers, MiB, disk rates and disk bytes against the caps.
 * 0 or KG_EPERM with a reason. */
int caps_check_concurrent(const struct caps *c, const struct kg_load_spec *loads, size_t n,
                          char *errmsg, size_t errlen);

/* Bytes of the file a resolved disk load uses: for writes, what it plans to
 * write (rate x duration, or the cap when unthrottled) rounded up to a block,
 * bounded by max_disk_bytes; for reads, min(64 MiB, max_disk_bytes), at least
 * one block. */
uint64_t caps_disk_file_bytes(const struct caps *c, const struct kg_load_spec *s);

#endif
