/* SPDX-License-Identifier: MIT */
/*
 * /proc readers for the host's own figures. They parse the kernel's text formats
 * from a caller-given root so that fixture trees drive the tests; each file has a
 * parser over a stream, which the reader calls, so that a fuzzer drives the
 * parsing without files. They do not compute rates (rates.c does) and do not log.
 */
#include "procfs.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"

static FILE *open_proc(const char *root, const char *rel)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return fopen(path, "re");
}

static int open_err(void)
{
    return errno == ENOENT ? KG_ENOENT : KG_EIO;
}

/* Opens root/rel, runs parse over it and closes it. */
static int read_file(const char *root, const char *rel,
                     int (*parse)(FILE *, struct sample_proc *), struct sample_proc *out)
{
    FILE *f = open_proc(root, rel);
    if (!f)
        return open_err();
    int rc = parse(f, out);
    fclose(f);
    return rc;
}

/* Reads up to max blank-separated decimal counters from s into v, stopping at
 * anything else. Returns how many, or -1 for a negative number or one past
 * UINT64_MAX: the kernel prints neither, and sscanf's %llu would take the first
 * modulo 2^64 and has no defined result for the second. */
static int scan_counters(const char *s, uint64_t *v, int max)
{
    int n = 0;
    while (n < max) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '-')
            return -1;
        if (!isdigit((unsigned char)*s))
            break;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno == ERANGE)
            return -1;
        v[n++] = x;
        s = end;
    }
    return n;
}

int procfs_parse_stat(FILE *f, struct sample_proc *out)
{
    char line[1024];
    bool got_total = false;
    unsigned cpus = 0;
    uint64_t total = 0, idle = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "cpu", 3) != 0)
            continue;
        if (isdigit((unsigned char)line[3])) {
            cpus++;
            continue;
        }
        if (line[3] != ' ' || got_total)
            continue;
        /* user nice system idle iowait irq softirq steal guest guest_nice; guest
         * time is already included in user/nice, so it is not added again. */
        uint64_t v[10] = {0};
        int n = scan_counters(line + 3, v, 10);
        if (n < 4)
            break;
        bool wrapped = false;
        for (int i = 0; i < n && i < 8; i++) {
            if (total + v[i] < total)
                wrapped = true;
            total += v[i];
        }
        /* idle and iowait are part of the total, which a wrapped sum is not */
        if (wrapped)
            break;
        idle = v[3] + (n > 4 ? v[4] : 0);
        got_total = true;
    }
    if (!got_total)
        return KG_EPARSE;
    out->cpu_total_ticks = total;
    out->cpu_idle_ticks = idle;
    out->cpus = cpus;
    out->have_cpu = true;
    return 0;
}

int procfs_parse_meminfo(FILE *f, struct sample_proc *out)
{
    char line[256];
    bool have_total = false, have_avail = false, have_free = false;
    uint64_t total = 0, avail = 0, free_kib = 0, buffers = 0, cached = 0;
    while (fgets(line, sizeof line, f)) {
        char key[64];
        unsigned long long v;
        if (sscanf(line, "%63[^:]: %llu", key, &v) != 2)
            continue;
        if (!strcmp(key, "MemTotal")) {
            total = v;
            have_total = true;
        } else if (!strcmp(key, "MemAvailable")) {
            avail = v;
            have_avail = true;
        } else if (!strcmp(key, "MemFree")) {
            free_kib = v;
            have_free = true;
        } else if (!strcmp(key, "Buffers")) {
            buffers = v;
        } else if (!strcmp(key, "Cached")) {
            cached = v;
        }
    }
    if (!have_total || (!have_avail && !have_free))
        return KG_EPARSE;
    /* Kernels before 3.14 have no MemAvailable: approximate it as free + caches. */
    if (!have_avail)
        avail = free_kib + buffers + cached;
    if (avail > total)
        avail = total;
    out->mem_total_kib = total;
    out->mem_avail_kib = avail;
    out->have_mem = true;
    return 0;
}

static bool load_ok(double v)
{
    return isfinite(v) && v >= 0;
}

int procfs_parse_loadavg(FILE *f, struct sample_proc *out)
{
    double l1, l5, l15;
    int n = fscanf(f, "%lf %lf %lf", &l1, &l5, &l15);
    /* strtod also reads "inf" and overflows to HUGE_VAL: neither is a load average */
    if (n != 3 || !load_ok(l1) || !load_ok(l5) || !load_ok(l15))
        return KG_EPARSE;
    out->load1 = l1;
    out->load5 = l5;
    out->load15 = l15;
    out->have_load = true;
    return 0;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* "<letters><digits>" with the letters part matching one of the prefixes. */
static bool ends_in_digits_after(const char *name, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0)
        return false;
    const char *p = name + pl;
    if (!islower((unsigned char)*p))
        return false;
    while (islower((unsigned char)*p))
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0';
}

/* "<prefix><digits>...p<digits>" as in nvme0n1p1, mmcblk0p1. */
static bool has_p_partition(const char *name)
{
    const char *p = strrchr(name, 'p');
    if (!p || p == name || !isdigit((unsigned char)p[-1]) || !isdigit((unsigned char)p[1]))
        return false;
    for (p++; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

bool procfs_is_whole_disk(const char *name)
{
    static const char *const virtual_prefixes[] = {"dm-", "md", "loop", "ram", "zram", "sr",
                                                   "fd",  "nbd", NULL};
    if (!name || !*name)
        return false;
    for (const char *const *v = virtual_prefixes; *v; v++)
        if (has_prefix(name, *v))
            return false;
    static const char *const letter_disks[] = {"sd", "vd", "hd", "xvd", NULL};
    for (const char *const *d = letter_disks; *d; d++)
        if (ends_in_digits_after(name, *d))
            return false;
    if ((has_prefix(name, "nvme") || has_prefix(name, "mmcblk")) && has_p_partition(name))
        return false;
    return true;
}

int procfs_parse_diskstats(FILE *f, struct sample_proc *out)
{
    char line[512];
    uint64_t rd = 0, wr = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned major, minor;
        char name[64];
        int used = 0;
        /* rd_ios rd_merges rd_sectors rd_ms wr_ios wr_merges wr_sectors ... */
        uint64_t v[7];
        if (sscanf(line, "%u %u %63s%n", &major, &minor, name, &used) != 3 ||
            scan_counters(line + used, v, 7) != 7) {
            rc = KG_EPARSE;
            break;
        }
        if (!procfs_is_whole_disk(name))
            continue;
        rd += v[2] * 512u; /* diskstats sectors are always 512 bytes */
        wr += v[6] * 512u;
    }
    if (rc)
        return rc;
    out->disk_rd_bytes = rd;
    out->disk_wr_bytes = wr;
    out->have_disk = true;
    return 0;
}

int procfs_parse_netdev(FILE *f, struct sample_proc *out)
{
    char line[512];
    uint64_t rx = 0, tx = 0;
    int rc = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        if (++lineno <= 2)
            continue; /* two header lines */
        char *colon = strchr(line, ':');
        if (!colon) {
            rc = KG_EPARSE;
            break;
        }
        *colon = '\0';
        char *name = line;
        while (*name == ' ')
            name++;
        uint64_t v[16];
        if (scan_counters(colon + 1, v, 16) != 16) {
            rc = KG_EPARSE;
            break;
        }
        if (!strcmp(name, "lo"))
            continue;
        rx += v[0];
        tx += v[8];
    }
    if (rc)
        return rc;
    out->net_rx_bytes = rx;
    out->net_tx_bytes = tx;
    out->have_net = true;
    return 0;
}

int procfs_read_stat(const char *proc_root, struct sample_proc *out)
{
    return read_file(proc_root, "stat", procfs_parse_stat, out);
}

int procfs_read_meminfo(const char *proc_root, struct sample_proc *out)
{
    return read_file(proc_root, "meminfo", procfs_parse_meminfo, out);
}

int procfs_read_loadavg(const char *proc_root, struct sample_proc *out)
{
    return read_file(proc_root, "loadavg", procfs_parse_loadavg, out);
}

int procfs_read_diskstats(const char *proc_root, struct sample_proc *out)
{
    return read_file(proc_root, "diskstats", procfs_parse_diskstats, out);
}

int procfs_read_netdev(const char *proc_root, struct sample_proc *out)
{
    return read_file(proc_root, "net/dev", procfs_parse_netdev, out);
}

int procfs_read_all(const char *proc_root, struct sample_proc *out)
{
    memset(out, 0, sizeof *out);
    int rcs[5] = {
        procfs_read_stat(proc_root, out),     procfs_read_meminfo(proc_root, out),
        procfs_read_loadavg(proc_root, out),  procfs_read_diskstats(proc_root, out),
        procfs_read_netdev(proc_root, out),
    };
    for (int i = 0; i < 5; i++)
        if (rcs[i])
            return rcs[i];
    return 0;
}
