/* SPDX-License-Identifier: MIT */
/*
 * kg-test-summary-decode: reads one host summary payload from stdin, decodes it
 * with libkvmgrid's kg_summary_decode (the decoder a reader uses), and prints it
 * as one JSON object on stdout: the host's name, ts, libvirt_ok, vms_omitted and
 * the rows (figures not available as null), so that a test script compares what
 * the real decoder reads. Exit status 0, or 1 with the decoder's message on
 * stderr. For the agent's integration tests; not installed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kvmgrid/schema.h"

static void put_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void put_num(const char *key, double v)
{
    printf(",\"%s\":", key);
    if (kg_na(v))
        fputs("null", stdout);
    else
        printf("%.17g", v);
}

static int row(void *ctx, unsigned i, const struct kg_summary_vm *vm)
{
    (void)ctx;
    fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
    put_str(vm->name);
    printf(",\"state\":\"%s\",\"stale\":%s", kg_vm_state_name(vm->state),
           vm->stale ? "true" : "false");
    put_num("cpu_pct", vm->cpu_pct);
    put_num("mem_used_pct", vm->mem_used_pct);
    put_num("disk_bytes_per_s", vm->disk_bytes_per_s);
    put_num("net_bytes_per_s", vm->net_bytes_per_s);
    put_num("steal_pct", vm->steal_pct);
    put_num("disk_lat_ms", vm->disk_lat_ms);
    putchar('}');
    return 0;
}

int main(void)
{
    static char buf[KG_SUMMARY_MAX + 2];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    static struct kg_summary s;
    char err[KG_ERRMSG_MAX];
    /* check first, so that nothing is printed for a payload that is refused */
    if (kg_summary_decode(buf, n, &s, NULL, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "kg-test-summary-decode: %s\n", err);
        return 1;
    }
    fputs("{\"host\":", stdout);
    put_str(s.host.name);
    printf(",\"ts\":%lld,\"libvirt_ok\":%s,\"vms_omitted\":%u,\"vms\":[", (long long)s.host.ts_ms,
           s.host.libvirt_ok ? "true" : "false", s.vms_omitted);
    kg_summary_decode(buf, n, &s, row, NULL, err, sizeof err);
    puts("]}");
    return 0;
}
