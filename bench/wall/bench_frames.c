/* SPDX-License-Identifier: MIT */
/*
 * kg-bench-wall-frames: the wall's frame work in-process, without a broker.
 * Fills a model with HOSTS x VMS payloads made by libkvmgrid's encoders (timing
 * model_apply of the whole burst), opens the screen (use the offscreen driver),
 * then for FRAMES frames changes CHANGE of the tiles and times screen_frame alone
 * (model_apply runs on Paho's thread in the wall, not in the frame). Tiles show
 * all metrics at once (the default view: four quadrants a tile), and the model
 * keeps trends as the wall does by default (15 min in 5 s steps). Prints figures;
 * never fails on time.
 *
 *   kg-bench-wall-frames [HOSTS 2000] [VMS 50] [FRAMES 300] [CHANGE 0.01] [WxH 1920x1080]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "model.h"
#include "screen.h"

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static size_t make(char *topic, char *payload, long h, long v, double cpu)
{
    char host[32], name[32];
    snprintf(host, sizeof(host), "hv%04ld", h);
    snprintf(name, sizeof(name), "vm%03ld", v);
    struct kg_vm vm;
    kg_vm_init(&vm);
    vm.ts_ms = 1764420000000;
    strcpy(vm.host, host);
    strcpy(vm.name, name);
    vm.state = KG_VM_RUNNING;
    vm.cpu_pct = cpu;
    vm.mem_used_pct = cpu;
    vm.vcpus = 2;
    vm.disk_rd_bytes_per_s = cpu * 1e5;
    vm.net_rx_bytes_per_s = cpu * 1e4;
    kg_topic_build(topic, KG_TOPIC_MAX, "kvmgrid", KG_TOPIC_VM, host, name);
    return (size_t)kg_vm_encode(&vm, payload, KG_PAYLOAD_MAX);
}

int main(int argc, char **argv)
{
    long hosts = argc > 1 ? atol(argv[1]) : 2000, vms = argc > 2 ? atol(argv[2]) : 50;
    long frames = argc > 3 ? atol(argv[3]) : 300;
    double change = argc > 4 ? atof(argv[4]) : 0.01;
    int w = 1920, h = 1080;
    if (argc > 5 && sscanf(argv[5], "%dx%d", &w, &h) != 2)
        return 2;
    if (hosts <= 0 || vms <= 0 || frames <= 0)
        return 2;
    long total = hosts * vms, per_frame = (long)(total * change);
    static char topic[KG_TOPIC_MAX], payload[KG_PAYLOAD_MAX];

    /* pre-encode the burst so that only model_apply is timed */
    char **topics = malloc((size_t)total * sizeof(*topics));
    char **payloads = malloc((size_t)total * sizeof(*payloads));
    size_t *lens = malloc((size_t)total * sizeof(*lens));
    for (long i = 0; i < total; i++) {
        lens[i] = make(topic, payload, i / vms, i % vms, (double)((i * 37) % 101));
        topics[i] = strdup(topic);
        payloads[i] = malloc(lens[i]);
        memcpy(payloads[i], payload, lens[i]);
    }
    struct model *m;
    if (model_create("kvmgrid", 3, 3600, &m) != 0)
        return 1;
    /* trends as the wall keeps them by default: 15 min in 5 s steps */
    if (model_set_history(m, 15 * 60000, 5000, kg_clock_mono_ms()) != 0)
        return 1;
    uint64_t t0 = kg_clock_mono_ns();
    for (long i = 0; i < total; i++)
        model_apply(m, topics[i], strlen(topics[i]), payloads[i], lens[i], true, kg_clock_mono_ms());
    double apply_ms = (double)(kg_clock_mono_ns() - t0) / 1e6;

    struct screen scr;
    char err[256];
    struct render_options ro = {w, h, false, NULL, "kvmgrid-wall bench", "kvmgrid", "bench"};
    if (screen_open(&scr, &ro, VIEW_SHOW_ALL, LAYOUT_SORT_NAME, false, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    t0 = kg_clock_mono_ns();
    screen_frame(&scr, m, kg_clock_mono_ms(), true, NULL);
    double first_ms = (double)(kg_clock_mono_ns() - t0) / 1e6;

    uint64_t *ns = malloc((size_t)frames * sizeof(*ns));
    uint64_t *cpu = malloc((size_t)frames * sizeof(*cpu));
    uint64_t seed = 42;
    struct render_stats before, after;
    render_get_stats(scr.render, &before);
    for (long f = 0; f < frames; f++) {
        for (long k = 0; k < per_frame; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            long i = (long)((seed >> 33) % (uint64_t)total);
            size_t len = make(topic, payload, i / vms, i % vms, (double)((seed >> 20) % 101));
            model_apply(m, topic, strlen(topic), payload, len, false, kg_clock_mono_ms());
        }
        uint64_t c0 = cpu_ns();
        t0 = kg_clock_mono_ns();
        screen_frame(&scr, m, kg_clock_mono_ms(), false, NULL);
        ns[f] = kg_clock_mono_ns() - t0;
        cpu[f] = cpu_ns() - c0;
    }
    render_get_stats(scr.render, &after);
    qsort(ns, (size_t)frames, sizeof(*ns), cmp_u64);
    qsort(cpu, (size_t)frames, sizeof(*cpu), cmp_u64);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("wall frames: %ld hosts x %ld VMs = %ld tiles at %dx%d\n", hosts, vms, total, w, h);
    printf("  model_apply of the retained burst: %.0f ms (%.0f msg/s, decode + store)\n", apply_ms,
           total / (apply_ms / 1000.0));
    printf("  first frame (layout, labels, all tiles): %.1f ms\n", first_ms);
    printf("  %ld frames, %ld tiles changed per frame (%.1f %%): median %.2f ms, p99 %.2f ms, max %.2f ms\n",
           frames, per_frame, change * 100, (double)ns[frames / 2] / 1e6,
           (double)ns[(size_t)(frames * 0.99)] / 1e6, (double)ns[frames - 1] / 1e6);
    printf("  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f ms\n", (double)ns[frames / 2] / 1e6,
           (double)ns[(size_t)(frames * 0.90)] / 1e6, (double)ns[(size_t)(frames * 0.95)] / 1e6,
           (double)ns[(size_t)(frames * 0.99)] / 1e6);
    printf("  CPU time per frame (immune to other processes): median %.2f ms, p99 %.2f ms\n",
           (double)cpu[frames / 2] / 1e6, (double)cpu[(size_t)(frames * 0.99)] / 1e6);
    printf("  tiles painted %llu, layouts %llu, rectangles uploaded %llu\n",
           (unsigned long long)(after.tiles_painted - before.tiles_painted),
           (unsigned long long)(after.layouts - before.layouts),
           (unsigned long long)(after.rects_uploaded - before.rects_uploaded));
    printf("  peak RSS %.1f MiB (includes the %ld pre-encoded payloads)\n", ru.ru_maxrss / 1024.0, total);
    screen_close(&scr);
    model_free(m);
    for (long i = 0; i < total; i++) {
        free(topics[i]);
        free(payloads[i]);
    }
    free(topics);
    free(payloads);
    free(lens);
    free(ns);
    free(cpu);
    return 0;
}
