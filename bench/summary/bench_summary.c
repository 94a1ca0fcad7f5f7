/* SPDX-License-Identifier: MIT */
/*
 * Bytes per VM of a host summary (<prefix>/<host>/summary), measured on what the
 * encoder writes, for several styles of VM names, with figures drawn from a fixed
 * pseudo-random mix (deterministic: the same bytes every run): 70 % running and
 * busy to various degrees, 10 % running idle, 20 % shut off; half the running
 * guests report memory (the others have no balloon statistics: null). Also the
 * encoder's time per VM (with making up the figures) and the decoder's (the
 * best of 20 decodes, rows handed to a callback), in this thread's CPU time.
 * Prints figures; never fails on time.
 *   kg-bench-summary [VMS]   (default 500)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvmgrid/schema.h"

static uint64_t rng = 0x9E3779B97F4A7C15u;

static double uniform(void) /* 0..1, xorshift64* */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717u) >> 11) / 9007199254740992.0;
}

static void name_of(int style, int i, char *out, size_t size)
{
    switch (style) {
    case 0: snprintf(out, size, "web-%02d", i % 100); break;
    case 1: snprintf(out, size, "instance-%08x", 0x000a1b2c + i); break;
    case 2:
        snprintf(out, size, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned)(uniform() * 4e9),
                 (unsigned)(uniform() * 65535), (unsigned)(uniform() * 4095),
                 (unsigned)(uniform() * 4095), (unsigned long long)(uniform() * 2.8e14));
        break;
    default: {
        size_t n = size - 1 < 255 ? size - 1 : 255;
        memset(out, 'x', n);
        snprintf(out + n - 8, 9, "%08d", i);
    }
    }
}

static void vm_of(struct kg_vm *vm, int style, int i)
{
    kg_vm_init(vm);
    name_of(style, i, vm->name, sizeof vm->name);
    double u = uniform();
    if (u < 0.2) {
        vm->state = KG_VM_SHUTOFF;
        return;
    }
    vm->state = KG_VM_RUNNING;
    bool idle = u < 0.3;
    vm->cpu_pct = idle ? uniform() * 2 : uniform() * 100;
    vm->steal_pct = uniform() * (idle ? 0.2 : 5);
    if (uniform() < 0.5)
        vm->mem_used_pct = 10 + uniform() * 85;
    double scale = idle ? 1e4 : 1e8;
    vm->disk_rd_bytes_per_s = uniform() * uniform() * scale;
    vm->disk_wr_bytes_per_s = uniform() * uniform() * scale;
    vm->net_rx_bytes_per_s = uniform() * uniform() * scale / 4;
    vm->net_tx_bytes_per_s = uniform() * uniform() * scale / 4;
    if (!idle) {
        vm->disk_rd_lat_ms = uniform() * 3;
        vm->disk_wr_lat_ms = uniform() * 8;
    }
}

/* This thread's CPU time: what the work cost, whatever else the machine runs. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int count_row(void *ctx, unsigned i, const struct kg_summary_vm *vm)
{
    (void)i;
    (void)vm;
    ++*(unsigned *)ctx;
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500;
    if (n < 1 || n > 100000) {
        fprintf(stderr, "usage: kg-bench-summary [VMS 1..100000]\n");
        return 2;
    }
    static const char *const styles[] = {"web-NN", "instance-000a1b2c", "UUID-like",
                                         "255 bytes"};
    static char buf[KG_SUMMARY_MAX + 1];
    struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 1764412800000;
    strcpy(h.name, "hv-01.example.org");
    strcpy(h.agent_version, "0.1.0");
    strcpy(h.collect_path, "bulk");
    h.interval_s = 5;
    h.cpus = 64;
    h.cpu_pct = 41.5;
    h.mem_total_kib = 527685816;
    h.mem_used_kib = 263842908;
    h.mem_used_pct = 50;
    h.load1 = 13.02, h.load5 = 12.5, h.load15 = 11.98;
    h.disk_rd_bytes_per_s = 5242880, h.disk_wr_bytes_per_s = 73400320;
    h.net_rx_bytes_per_s = 1250000, h.net_tx_bytes_per_s = 980000;
    h.vms_running = n, h.vms_defined = n;
    printf("host summary, %d VMs per host (figures: 70%% busy, 10%% idle, 20%% shut off)\n", n);
    printf("%-18s %9s %9s %9s %11s %11s %8s\n", "names", "bytes", "header", "per VM",
           "encode/VM", "decode/VM", "omitted");
    static struct kg_vm vm;
    for (int s = 0; s < 4; s++) {
        struct kg_summary_writer w;
        rng = 0x9E3779B97F4A7C15u;
        kg_summary_begin(&w, buf, sizeof buf, &h);
        size_t header = w.len;
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
            vm_of(&vm, s, i);
            kg_summary_add(&w, &vm);
        }
        int len = kg_summary_end(&w);
        double t_enc = now_s() - t0; /* includes making up the figures */
        if (len < 0) {
            fprintf(stderr, "encode failed: %d\n", len);
            return 1;
        }
        struct kg_summary out;
        unsigned rows = 0;
        char err[KG_ERRMSG_MAX];
        double t_dec = 1e9; /* the best of 20 */
        for (int r = 0; r < 20; r++) {
            rows = 0;
            t0 = now_s();
            if (kg_summary_decode(buf, (size_t)len, &out, count_row, &rows, err, sizeof err)) {
                fprintf(stderr, "decode failed: %s\n", err);
                return 1;
            }
            double t = now_s() - t0;
            t_dec = t < t_dec ? t : t_dec;
        }
        printf("%-18s %9d %9zu %9.1f %9.0f ns %9.0f ns %8u\n", styles[s], len, header + 2,
               (double)((size_t)len - header - 2) / (double)w.n_vms, t_enc / n * 1e9,
               t_dec / n * 1e9, w.omitted);
    }
    return 0;
}
