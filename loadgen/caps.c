/* SPDX-License-Identifier: MIT */
/*
 * Validation of loads against the local safety caps (see caps.h). The rule is
 * all or nothing: a value over a cap rejects the whole command or scenario with
 * the name of the field and of the cap, so that the operator sees exactly which
 * bound refused it. Nothing here clamps a value into range — clamping would run
 * a load that nobody asked for.
 */
#include "caps.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/error.h"

#define MIB (1024.0 * 1024.0)
#define READ_FILE_BYTES (64ull * 1024 * 1024)

void caps_defaults(struct caps *c, long long cpus_online)
{
    memset(c, 0, sizeof *c);
    c->max_workers = 4;
    c->max_pct = 100.0;
    c->max_mib = 1024;
    c->max_dirty_mib_per_s = 1024.0;
    c->max_mb_per_s = 200.0;
    c->max_duration_ms = 3600u * 1000u;
    c->default_duration_ms = 60u * 1000u;
    c->disk_dir[0] = '\0';
    c->max_disk_bytes = 1024ull * 1024 * 1024;
    c->cpus = cpus_online >= 1 ? cpus_online : 1;
}

static int fail(char *errmsg, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *errmsg, size_t errlen, int code, const char *fmt, ...)
{
    if (errmsg && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int caps_check_config(const struct caps *c, char *errmsg, size_t errlen)
{
    if (c->max_workers < 0 || c->max_workers > CAPS_WORKERS_HARD_MAX)
        return fail(errmsg, errlen, KG_EINVAL, "max_workers must be 0..%d", CAPS_WORKERS_HARD_MAX);
    if (!(c->max_pct >= 0.0 && c->max_pct <= 100.0))
        return fail(errmsg, errlen, KG_EINVAL, "max_pct must be 0..100");
    if (c->max_mib < 0)
        return fail(errmsg, errlen, KG_EINVAL, "max_mib must not be negative");
    if (!(c->max_mb_per_s >= 0.0) || !isfinite(c->max_mb_per_s))
        return fail(errmsg, errlen, KG_EINVAL, "max_mb_per_s must be >= 0");
    if (!(c->max_dirty_mib_per_s >= 0.0) || !isfinite(c->max_dirty_mib_per_s))
        return fail(errmsg, errlen, KG_EINVAL, "max_dirty_mib_per_s must be >= 0");
    if (c->max_duration_ms == 0)
        return fail(errmsg, errlen, KG_EINVAL, "max_duration must be above 0");
    if (c->default_duration_ms == 0 || c->default_duration_ms > c->max_duration_ms)
        return fail(errmsg, errlen, KG_EINVAL,
                    "default_duration must be above 0 and at most max_duration");
    if (c->disk_dir[0] != '\0' && c->disk_dir[0] != '/')
        return fail(errmsg, errlen, KG_EINVAL, "disk_dir must be an absolute path");
    return KG_OK;
}

static bool is_int(double v) { return isfinite(v) && floor(v) == v; }

/* A number that must be present and finite: NaN here means "absent". */
static int need(double v, const char *field, char *errmsg, size_t errlen)
{
    if (kg_na(v))
        return fail(errmsg, errlen, KG_EINVAL, "%s is required", field);
    if (!isfinite(v))
        return fail(errmsg, errlen, KG_EINVAL, "%s is not a finite number", field);
    return KG_OK;
}

static int check_pct(const struct caps *c, double v, const char *field, char *errmsg,
                     size_t errlen)
{
    int rc = need(v, field, errmsg, errlen);
    if (rc)
        return rc;
    if (v < 0.0 || v > 100.0)
        return fail(errmsg, errlen, KG_EINVAL, "%s %g is not within 0..100", field, v);
    if (v > c->max_pct)
        return fail(errmsg, errlen, KG_EPERM, "%s %g over the cap max_pct %g", field, v,
                    c->max_pct);
    return KG_OK;
}

int caps_resolve_load(const struct caps *c, const struct kg_load_spec *in,
                      struct kg_load_spec *out, char *errmsg, size_t errlen)
{
    struct kg_load_spec s = *in;
    int rc;

    /* duration: common to every kind */
    if (kg_na(s.duration_s))
        s.duration_s = (double)c->default_duration_ms / 1000.0;
    if (!isfinite(s.duration_s) || s.duration_s <= 0.0)
        return fail(errmsg, errlen, KG_EINVAL, "duration_s %g must be above 0", s.duration_s);
    if (s.duration_s * 1000.0 > (double)c->max_duration_ms)
        return fail(errmsg, errlen, KG_EPERM, "duration_s %g over the cap max_duration %gs",
                    s.duration_s, (double)c->max_duration_ms / 1000.0);

    switch (s.kind) {
    case KG_LOAD_CPU:
        if (kg_na(s.workers))
            s.workers = (double)(c->cpus < c->max_workers ? c->cpus : c->max_workers);
        if (!is_int(s.workers) || s.workers < 1.0)
            return fail(errmsg, errlen, KG_EINVAL, "workers %g must be a whole number >= 1",
                        s.workers);
        if (s.workers > (double)c->max_workers)
            return fail(errmsg, errlen, KG_EPERM, "workers %g over the cap max_workers %lld",
                        s.workers, c->max_workers);
        if ((rc = check_pct(c, s.pct, "pct", errmsg, errlen)))
            return rc;
        if (!kg_na(s.ramp_to_pct) && (rc = check_pct(c, s.ramp_to_pct, "ramp_to_pct", errmsg, errlen)))
            return rc;
        break;
    case KG_LOAD_MEM:
        if ((rc = need(s.mib, "mib", errmsg, errlen)))
            return rc;
        if (!is_int(s.mib) || s.mib < 1.0)
            return fail(errmsg, errlen, KG_EINVAL, "mib %g must be a whole number >= 1", s.mib);
        if (s.mib > (double)c->max_mib)
            return fail(errmsg, errlen, KG_EPERM, "mib %g over the cap max_mib %lld", s.mib,
                        c->max_mib);
        if (kg_na(s.dirty_mib_per_s))
            s.dirty_mib_per_s = 0.0;
        if (!isfinite(s.dirty_mib_per_s) || s.dirty_mib_per_s < 0.0)
            return fail(errmsg, errlen, KG_EINVAL, "dirty_mib_per_s %g must be >= 0",
                        s.dirty_mib_per_s);
        if (s.dirty_mib_per_s > c->max_dirty_mib_per_s)
            return fail(errmsg, errlen, KG_EPERM,
                        "dirty_mib_per_s %g over the cap max_dirty_mib_per_s %g",
                        s.dirty_mib_per_s, c->max_dirty_mib_per_s);
        break;
    case KG_LOAD_DISK: {
        if (c->disk_dir[0] == '\0')
            return fail(errmsg, errlen, KG_EPERM, "disk loads are disabled: no disk_dir configured");
        if (s.disk_mode != KG_DISK_WRITE && s.disk_mode != KG_DISK_READ && s.disk_mode != KG_DISK_RW)
            return fail(errmsg, errlen, KG_EINVAL, "unknown disk mode %d", (int)s.disk_mode);
        if (!kg_na(s.mb_per_s)) {
            if (!isfinite(s.mb_per_s) || s.mb_per_s <= 0.0)
                return fail(errmsg, errlen, KG_EINVAL, "mb_per_s %g must be above 0", s.mb_per_s);
            if (c->max_mb_per_s > 0.0 && s.mb_per_s > c->max_mb_per_s)
                return fail(errmsg, errlen, KG_EPERM, "mb_per_s %g over the cap max_mb_per_s %g",
                            s.mb_per_s, c->max_mb_per_s);
        }
        if (kg_na(s.block_kib))
            s.block_kib = CAPS_BLOCK_KIB_DEFAULT;
        if (!is_int(s.block_kib) || s.block_kib < CAPS_BLOCK_KIB_MIN ||
            s.block_kib > CAPS_BLOCK_KIB_MAX)
            return fail(errmsg, errlen, KG_EINVAL, "block_kib %g must be a whole number %d..%d",
                        s.block_kib, CAPS_BLOCK_KIB_MIN, CAPS_BLOCK_KIB_MAX);
        if (s.direct && fmod(s.block_kib * 1024.0, CAPS_DIRECT_ALIGN) != 0.0)
            return fail(errmsg, errlen, KG_EINVAL, "block_kib %g: direct I/O needs a multiple of %d KiB",
                        s.block_kib, CAPS_DIRECT_ALIGN / 1024);
        if (s.block_kib * 1024.0 > (double)c->max_disk_bytes)
            return fail(errmsg, errlen, KG_EPERM, "block_kib %g over the cap max_disk_bytes %llu",
                        s.block_kib, (unsigned long long)c->max_disk_bytes);
        break;
    }
    case KG_LOAD_NONE:
    default:
        return fail(errmsg, errlen, KG_EINVAL, "unknown load kind %d", (int)s.kind);
    }
    *out = s;
    return KG_OK;
}

uint64_t caps_disk_file_bytes(const struct caps *c, const struct kg_load_spec *s)
{
    uint64_t block = (uint64_t)s->block_kib * 1024u;
    uint64_t want;
    if (s->disk_mode == KG_DISK_WRITE) {
        double rate = !kg_na(s->mb_per_s) ? s->mb_per_s : c->max_mb_per_s;
        if (rate > 0.0) {
            double b = rate * 1e6 * s->duration_s;
            want = b >= (double)c->max_disk_bytes ? c->max_disk_bytes : (uint64_t)b;
        } else {
            want = c->max_disk_bytes;
        }
    } else {
        want = READ_FILE_BYTES < c->max_disk_bytes ? READ_FILE_BYTES : c->max_disk_bytes;
    }
    /* whole blocks only: round up when it fits under the cap, else down */
    uint64_t blocks = (want + block - 1) / block;
    if (blocks * block > c->max_disk_bytes)
        blocks = c->max_disk_bytes / block;
    if (blocks == 0)
        blocks = 1;
    return blocks * block;
}

int caps_check_concurrent(const struct caps *c, const struct kg_load_spec *loads, size_t n,
                          char *errmsg, size_t errlen)
{
    double workers = 0, mib = 0, wr = 0, rd = 0, disk_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const struct kg_load_spec *s = &loads[i];
        if (s->kind == KG_LOAD_CPU) {
            workers += s->workers;
        } else if (s->kind == KG_LOAD_MEM) {
            mib += s->mib;
        } else if (s->kind == KG_LOAD_DISK) {
            double rate = kg_na(s->mb_per_s) ? c->max_mb_per_s : s->mb_per_s;
            if (s->disk_mode != KG_DISK_READ)
                wr += rate;
            if (s->disk_mode != KG_DISK_WRITE)
                rd += rate;
            disk_bytes += (double)caps_disk_file_bytes(c, s);
        }
    }
    if (workers > (double)c->max_workers)
        return fail(errmsg, errlen, KG_EPERM, "%g workers at once over the cap max_workers %lld",
                    workers, c->max_workers);
    if (mib > (double)c->max_mib)
        return fail(errmsg, errlen, KG_EPERM, "%g MiB at once over the cap max_mib %lld", mib,
                    c->max_mib);
    if (c->max_mb_per_s > 0.0 && (wr > c->max_mb_per_s || rd > c->max_mb_per_s))
        return fail(errmsg, errlen, KG_EPERM, "%g MB/s at once over the cap max_mb_per_s %g",
                    wr > rd ? wr : rd, c->max_mb_per_s);
    if (disk_bytes > (double)c->max_disk_bytes)
        return fail(errmsg, errlen, KG_EPERM, "%.0f disk bytes at once over the cap max_disk_bytes %llu",
                    disk_bytes, (unsigned long long)c->max_disk_bytes);
    return KG_OK;
}
