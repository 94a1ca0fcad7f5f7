/* SPDX-License-Identifier: MIT */
/*
 * kg-bench-wall-frames: the wall's frame work in-process, without a broker.
 * Fills a model with HOSTS x VMS payloads made by libkvmgrid's encoders (timing
 * model_apply of the whole burst), opens the screen (use the offscreen driver),
 * then for FRAMES frames changes CHANGE of the tiles and times screen_frame alone
 * (model_apply runs on Paho's thread in the wall, not in the frame). Tiles show
 * all metrics at once (the default view: four quadrants a tile), and the model
 * keeps trends as the wall does by default (15 min in 5 s steps, VMs' only up to
 * history_max_vms' default). With SOURCE summaries the model is filled from one
 * summary per host (kg-wall-gridpub's grid) and each frame CHANGE of the hosts send
 * a new summary (each a whole host's VMs changing). Also times model_tick, which
 * the wall runs twice a second beside its frames. Prints figures; never fails on
 * time.
 *
 *   kg-bench-wall-frames [HOSTS 2000] [VMS 50] [FRAMES 300] [CHANGE 0.01] [WxH 1920x1080]
 *                        [SOURCE vms|summaries]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "grid_figures.h"
#include "model.h"
#include "screen.h"

#define HISTORY_MAX_VMS 100000u /* the wall's default history_max_vms */

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

/* Host h's summary of VMS VMs into payload, each VM's CPU from seed. */
static size_t make_summary(char *topic, char *payload, long h, long vms, uint64_t seed)
{
    char host[32], name[32];
    snprintf(host, sizeof(host), "hv%04ld", h);
    struct kg_host hd;
    grid_host(&hd, host, 5, 25);
    struct kg_summary_writer w;
    if (kg_summary_begin(&w, payload, KG_SUMMARY_MAX, &hd) != 0)
        return 0;
    for (long j = 0; j < vms; j++) {
        struct kg_vm v;
        snprintf(name, sizeof(name), "vm%03ld", j);
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        grid_vm(&v, host, name, (double)((seed >> 33) % 101), KG_VM_RUNNING);
        (void)kg_summary_add(&w, &v);
    }
    int n = kg_summary_end(&w);
    kg_topic_build(topic, KG_TOPIC_MAX, "kvmgrid", KG_TOPIC_SUMMARY, host, NULL);
    return n > 0 ? (size_t)n : 0;
}

int main(int argc, char **argv)
{
    long hosts = argc > 1 ? atol(argv[1]) : 2000, vms = argc > 2 ? atol(argv[2]) : 50;
    long frames = argc > 3 ? atol(argv[3]) : 300;
    double change = argc > 4 ? atof(argv[4]) : 0.01;
    int w = 1920, h = 1080;
    if (argc > 5 && sscanf(argv[5], "%dx%d", &w, &h) != 2)
        return 2;
    bool sums = argc > 6 && strcmp(argv[6], "summaries") == 0;
    if (hosts <= 0 || vms <= 0 || frames <= 0 || (argc > 6 && !sums && strcmp(argv[6], "vms")))
        return 2;
    long total = hosts * vms, per_frame = (long)(total * change);
    static char topic[KG_TOPIC_MAX], payload[KG_SUMMARY_MAX];
    long msgs = sums ? hosts : total; /* messages of the burst */
    if (sums)
        per_frame = (long)(hosts * change);

    /* pre-encode the burst so that only model_apply is timed */
    char **topics = malloc((size_t)msgs * sizeof(*topics));
    char **payloads = malloc((size_t)msgs * sizeof(*payloads));
    size_t *lens = malloc((size_t)msgs * sizeof(*lens));
    for (long i = 0; i < msgs; i++) {
        lens[i] = sums ? make_summary(topic, payload, i, vms, (uint64_t)i)
                       : make(topic, payload, i / vms, i % vms, (double)((i * 37) % 101));
        topics[i] = strdup(topic);
        payloads[i] = malloc(lens[i]);
        memcpy(payloads[i], payload, lens[i]);
    }
    struct model *m;
    if (model_create("kvmgrid", 3, 3600, &m) != 0)
        return 1;
    model_set_source(m, sums ? MODEL_SOURCE_SUMMARIES : MODEL_SOURCE_VMS);
    /* trends as the wall keeps them by default: 15 min in 5 s steps */
    if (model_set_history(m, 15 * 60000, 5000, kg_clock_mono_ms()) != 0)
        return 1;
    model_set_history_max_vms(m, HISTORY_MAX_VMS);
    uint64_t t0 = kg_clock_mono_ns();
    for (long i = 0; i < msgs; i++)
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
    uint64_t *tick_cpu = malloc((size_t)frames * sizeof(*tick_cpu));
    long n_ticks = 0;
    uint64_t seed = 42;
    struct render_stats before, after;
    render_get_stats(scr.render, &before);
    for (long f = 0; f < frames; f++) {
        for (long k = 0; k < per_frame; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            long i = (long)((seed >> 33) % (uint64_t)msgs);
            size_t len = sums ? make_summary(topic, payload, i, vms, seed)
                              : make(topic, payload, i / vms, i % vms, (double)((seed >> 20) % 101));
            model_apply(m, topic, strlen(topic), payload, len, false, kg_clock_mono_ms());
        }
        if (f % 30 == 29 && n_ticks < frames) { /* the wall ticks every 500 ms: 30 frames */
            uint64_t c1 = cpu_ns();
            model_lock(m);
            model_tick(m, kg_clock_mono_ms(), COLOUR_METRIC_CPU);
            model_unlock(m);
            tick_cpu[n_ticks++] = cpu_ns() - c1;
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
    qsort(tick_cpu, (size_t)n_ticks, sizeof(*tick_cpu), cmp_u64);
    printf("wall frames: %ld hosts x %ld VMs = %ld VMs at %dx%d, source %s, %s\n", hosts, vms,
           total, w, h, sums ? "summaries" : "vms", scr.grid.host_tiles ? "host tiles" : "VM tiles");
    printf("  model_apply of the retained burst: %.0f ms (%.0f msg/s, %.0f VMs/s, decode + store)\n",
           apply_ms, msgs / (apply_ms / 1000.0), total / (apply_ms / 1000.0));
    printf("  first frame (layout, labels, all tiles): %.1f ms\n", first_ms);
    printf("  %ld frames, %ld %s changed per frame (%.1f %%): median %.2f ms, p99 %.2f ms, max %.2f ms\n",
           frames, per_frame, sums ? "hosts' summaries" : "VMs", change * 100,
           (double)ns[frames / 2] / 1e6,
           (double)ns[(size_t)(frames * 0.99)] / 1e6, (double)ns[frames - 1] / 1e6);
    printf("  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f ms\n", (double)ns[frames / 2] / 1e6,
           (double)ns[(size_t)(frames * 0.90)] / 1e6, (double)ns[(size_t)(frames * 0.95)] / 1e6,
           (double)ns[(size_t)(frames * 0.99)] / 1e6);
    printf("  CPU time per frame (immune to other processes): median %.2f ms, p99 %.2f ms, max %.2f ms\n",
           (double)cpu[frames / 2] / 1e6, (double)cpu[(size_t)(frames * 0.99)] / 1e6,
           (double)cpu[frames - 1] / 1e6);
    if (n_ticks > 0)
        printf("  model_tick (twice a second in the wall, beside the frames), CPU: %ld ticks, "
               "median %.2f ms, max %.2f ms\n", n_ticks, (double)tick_cpu[n_ticks / 2] / 1e6,
               (double)tick_cpu[n_ticks - 1] / 1e6);
    printf("  tiles painted %llu, layouts %llu, rectangles uploaded %llu\n",
           (unsigned long long)(after.tiles_painted - before.tiles_painted),
           (unsigned long long)(after.layouts - before.layouts),
           (unsigned long long)(after.rects_uploaded - before.rects_uploaded));
    printf("  peak RSS %.1f MiB (includes the %ld pre-encoded payloads)\n", ru.ru_maxrss / 1024.0, msgs);
    screen_close(&scr);
    model_free(m);
    for (long i = 0; i < msgs; i++) {
        free(topics[i]);
        free(payloads[i]);
    }
    free(topics);
    free(payloads);
    free(lens);
    free(ns);
    free(cpu);
    free(tick_cpu);
    return 0;
}
