/* SPDX-License-Identifier: MIT */
/*
 * The floor under any libvirt client's memory on the test driver: opens a URI
 * (read-only, as the agent does), makes one virConnectGetAllDomainStats call and
 * prints its own peak RSS (VmHWM). With test:///FILE.xml the driver and all its
 * parsed domains live inside the client process, so this is what both
 * kvmgrid-agent and collectd carry before any code of their own runs; their
 * figures minus this one are what their own code costs.
 *   kg-bench-lv-baseline URI
 * Not a test; prints "baseline_hwm_kib N domains M".
 */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <string.h>

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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: kg-bench-lv-baseline URI\n");
        return 2;
    }
    virConnectPtr c = virConnectOpenReadOnly(argv[1]);
    if (!c) {
        fprintf(stderr, "kg-bench-lv-baseline: cannot open %s\n", argv[1]);
        return 1;
    }
    virDomainStatsRecordPtr *recs = NULL;
    int n = virConnectGetAllDomainStats(c, VIR_DOMAIN_STATS_STATE, &recs, 0);
    if (n >= 0)
        virDomainStatsRecordListFree(recs);
    printf("baseline_hwm_kib %ld domains %d\n", status_kib("VmHWM"), n);
    virConnectClose(c);
    return n < 0;
}
