/* SPDX-License-Identifier: MIT */
/*
 * The floor under any libvirt client on the test driver, in two modes.
 *
 * Memory:  kg-bench-lv-baseline URI
 *   Opens URI (read-only, as the agent does), makes one virConnectGetAllDomainStats
 *   call and prints its own peak RSS (VmHWM): "baseline_hwm_kib N domains M". With
 *   test:///FILE.xml the driver and all its parsed domains live inside the client
 *   process, so this is what both kvmgrid-agent and collectd carry before any code
 *   of their own runs; their figures minus this one are what their own code costs.
 *
 * CPU:     kg-bench-lv-baseline --calls URI INTERVAL_MS
 *   Every INTERVAL_MS makes exactly the per-domain calls kvmgrid-agent makes per
 *   cycle when the bulk call gives only the state (the test driver): per domain
 *   virDomainGetInfo, and for an active one virDomainMemoryStats, virDomainBlockStats
 *   per <disk> target and virDomainInterfaceStats per <interface> target (its MAC
 *   when it has none), the device names read once from the domain's XML as the agent
 *   does. Nothing else: no listing per cycle, no rates, no JSON, no MQTT. Its CPU
 *   time per cycle is the part of the agent's that libvirt's calls alone cost.
 *   Prints "calls: N domains, D disks, I interfaces per cycle, F failed in the
 *   first" once, then runs until killed.
 *
 * Not a test; bench/agent/run.sh runs both modes.
 */
#define _POSIX_C_SOURCE 200809L
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEV_MAX 16  /* devices per domain, as KG_DEV_MAX */
#define NAME_MAX_ 32

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':')
            sscanf(line + kl + 1, "%ld", &v);
    if (f)
        fclose(f);
    return v;
}

static int memory_mode(virConnectPtr c)
{
    virDomainStatsRecordPtr *recs = NULL;
    int n = virConnectGetAllDomainStats(c, VIR_DOMAIN_STATS_STATE, &recs, 0);
    if (n >= 0)
        virDomainStatsRecordListFree(recs);
    printf("baseline_hwm_kib %ld domains %d\n", status_kib("VmHWM"), n);
    return n < 0;
}

struct dom {
    virDomainPtr d;
    char disks[DEV_MAX][NAME_MAX_], nets[DEV_MAX][NAME_MAX_];
    unsigned nd, nn;
};

/* The value of name='...' or name="..." inside the tag that starts at p. */
static bool tag_attr(const char *p, const char *name, char out[NAME_MAX_])
{
    const char *end = strchr(p, '>');
    size_t nl = strlen(name);
    for (const char *a = strstr(p, name); a && end && a < end; a = strstr(a + 1, name)) {
        if (a[-1] != ' ' || a[nl] != '=' || (a[nl + 1] != '\'' && a[nl + 1] != '"'))
            continue;
        const char *v = a + nl + 2, *ve = strchr(v, a[nl + 1]);
        if (!ve || ve > end || (size_t)(ve - v) >= NAME_MAX_)
            return false;
        memcpy(out, v, (size_t)(ve - v));
        out[ve - v] = '\0';
        return true;
    }
    return false;
}

/* One pass over the elements of libvirt's own XML: which block a <target> or
 * <mac> belongs to decides what it names. */
static void read_devices(const char *xml, struct dom *d)
{
    enum { OUT, DISK, NIC } in = OUT;
    char mac[NAME_MAX_] = "", v[NAME_MAX_];
    bool nic_named = false;
    for (const char *p = strchr(xml, '<'); p; p = strchr(p + 1, '<')) {
        if (!strncmp(p, "<disk ", 6)) {
            in = DISK;
        } else if (!strncmp(p, "<interface ", 11)) {
            in = NIC;
            mac[0] = '\0';
            nic_named = false;
        } else if (!strncmp(p, "</disk>", 7)) {
            in = OUT;
        } else if (!strncmp(p, "</interface>", 12)) {
            if (!nic_named && mac[0] && d->nn < DEV_MAX)
                memcpy(d->nets[d->nn++], mac, sizeof mac);
            in = OUT;
        } else if (in == NIC && !strncmp(p, "<mac ", 5)) {
            tag_attr(p, "address", mac);
        } else if (in != OUT && !strncmp(p, "<target ", 8) && tag_attr(p, "dev", v)) {
            if (in == DISK && d->nd < DEV_MAX)
                memcpy(d->disks[d->nd++], v, sizeof v);
            else if (in == NIC && !nic_named && d->nn < DEV_MAX) {
                memcpy(d->nets[d->nn++], v, sizeof v);
                nic_named = true;
            }
        }
    }
}

/* One cycle's calls; returns how many failed. */
static unsigned one_cycle(struct dom *doms, int n)
{
    unsigned failed = 0;
    for (int i = 0; i < n; i++) {
        struct dom *d = &doms[i];
        virDomainInfo info;
        if (virDomainGetInfo(d->d, &info) < 0) {
            failed++;
            continue;
        }
        if (info.state == VIR_DOMAIN_SHUTOFF || info.state == VIR_DOMAIN_NOSTATE ||
            info.state == VIR_DOMAIN_CRASHED)
            continue; /* stats calls fail with "domain is not running" */
        virDomainMemoryStatStruct ms[VIR_DOMAIN_MEMORY_STAT_NR];
        failed += virDomainMemoryStats(d->d, ms, VIR_DOMAIN_MEMORY_STAT_NR, 0) < 0;
        for (unsigned k = 0; k < d->nd; k++) {
            virDomainBlockStatsStruct bs;
            failed += virDomainBlockStats(d->d, d->disks[k], &bs, sizeof bs) < 0;
        }
        for (unsigned k = 0; k < d->nn; k++) {
            virDomainInterfaceStatsStruct is;
            failed += virDomainInterfaceStats(d->d, d->nets[k], &is, sizeof is) < 0;
        }
    }
    return failed;
}

static int calls_mode(virConnectPtr c, long interval_ms)
{
    virDomainPtr *list = NULL;
    int n = virConnectListAllDomains(c, &list, 0);
    if (n < 0)
        return 1;
    struct dom *doms = calloc((size_t)n + 1, sizeof *doms);
    if (!doms)
        return 1;
    unsigned disks = 0, nets = 0;
    for (int i = 0; i < n; i++) {
        doms[i].d = list[i];
        char *xml = virDomainGetXMLDesc(list[i], 0);
        if (xml)
            read_devices(xml, &doms[i]);
        free(xml);
        disks += doms[i].nd;
        nets += doms[i].nn;
    }
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    printf("calls: %d domains, %u disks, %u interfaces per cycle, %u failed in the first\n", n,
           disks, nets, one_cycle(doms, n));
    fflush(stdout);
    for (;;) {
        next.tv_nsec += (interval_ms % 1000) * 1000000L;
        next.tv_sec += interval_ms / 1000 + next.tv_nsec / 1000000000L;
        next.tv_nsec %= 1000000000L;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0)
            ;
        one_cycle(doms, n);
    }
}

int main(int argc, char **argv)
{
    bool calls = argc == 4 && !strcmp(argv[1], "--calls");
    long interval_ms = calls ? strtol(argv[3], NULL, 10) : 0;
    if ((argc != 2 && !calls) || (calls && interval_ms <= 0)) {
        fprintf(stderr, "usage: kg-bench-lv-baseline URI\n"
                        "       kg-bench-lv-baseline --calls URI INTERVAL_MS\n");
        return 2;
    }
    const char *uri = argv[calls ? 2 : 1];
    virConnectPtr c = virConnectOpenReadOnly(uri);
    if (!c) {
        fprintf(stderr, "kg-bench-lv-baseline: cannot open %s\n", uri);
        return 1;
    }
    int rc = calls ? calls_mode(c, interval_ms) : memory_mode(c);
    virConnectClose(c);
    return rc;
}
