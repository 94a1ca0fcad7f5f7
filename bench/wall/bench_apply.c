/* SPDX-License-Identifier: MIT */
/*
 * kg-bench-wall-apply: what the viewer's model costs per VM to take a grid from
 * each source, in process (no broker): HOSTS x VMS retained VM payloads and
 * host metrics through model_apply (source = vms), against one summary per
 * host (source = summaries), both made by libkvmgrid's encoders from
 * kg-wall-gridpub's figures (grid_figures.h). Two rounds each: the first
 * creates the VMs, the second updates them (the steady state). Prints ns per
 * VM, best of REPEAT runs; never fails on time.
 *
 *   kg-bench-wall-apply [HOSTS [VMS [REPEAT]]]     (default 2000 50 3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "grid_figures.h"
#include "model.h"

struct msg {
    char topic[KG_TOPIC_MAX];
    size_t topic_len;
    char *payload;
    size_t len;
};

/* gridpub's grid (grid_figures.h), with a fixed time stamp */
static void make_vm(struct kg_vm *v, const char *host, const char *name, double cpu)
{
    grid_vm(v, host, name, cpu, KG_VM_RUNNING);
    v->ts_ms = 1764420000000;
}

static void make_host(struct kg_host *h, const char *name)
{
    grid_host(h, name, 5, 25);
    h->ts_ms = 1764420000000;
}

static void keep(struct msg *m, enum kg_topic_kind kind, const char *host, const char *vm,
                 const char *p, int len)
{
    m->topic_len = (size_t)kg_topic_build(m->topic, sizeof(m->topic), "kvmgrid", kind, host, vm);
    m->payload = malloc((size_t)len);
    if (m->payload == NULL)
        exit(1);
    memcpy(m->payload, p, (size_t)len);
    m->len = (size_t)len;
}

/* Applies msgs[0..n) twice into a new model of source src; ns per VM of each round. */
static void run(const struct msg *msgs, size_t n, enum model_source src, double nvms,
                double out[2])
{
    struct model *m;
    if (model_create("kvmgrid", 3, 5.0, &m) != 0)
        exit(1);
    model_set_source(m, src);
    for (int round = 0; round < 2; round++) {
        uint64_t t0 = kg_clock_mono_ns();
        for (size_t i = 0; i < n; i++)
            model_apply(m, msgs[i].topic, msgs[i].topic_len, msgs[i].payload, msgs[i].len, true,
                        1000 + (uint64_t)round * 5000);
        out[round] = (double)(kg_clock_mono_ns() - t0) / nvms;
    }
    if (model_bad_total(m) != 0 || m->n_vms != (uint32_t)nvms) {
        fprintf(stderr, "bench: %s: %u VMs, %llu bad: %s\n", model_source_name(src), m->n_vms,
                (unsigned long long)model_bad_total(m), m->last_bad);
        exit(1);
    }
    model_free(m);
}

int main(int argc, char **argv)
{
    long hosts = argc > 1 ? atol(argv[1]) : 2000, vms = argc > 2 ? atol(argv[2]) : 50;
    int repeat = argc > 3 ? atoi(argv[3]) : 3;
    if (hosts <= 0 || vms <= 0 || repeat <= 0) {
        fprintf(stderr, "usage: kg-bench-wall-apply [HOSTS [VMS [REPEAT]]]\n");
        return 2;
    }
    static char buf[KG_SUMMARY_MAX];
    size_t nv = (size_t)(hosts * (vms + 1)), ns = (size_t)hosts;
    struct msg *per_vm = calloc(nv, sizeof(*per_vm)), *sums = calloc(ns, sizeof(*sums));
    if (per_vm == NULL || sums == NULL)
        return 1;
    size_t k = 0, bytes_vm = 0, bytes_sum = 0;
    for (long i = 0; i < hosts; i++) {
        char host[32], name[32];
        snprintf(host, sizeof(host), "hv%04ld", i);
        struct kg_host h;
        make_host(&h, host);
        int len = kg_host_encode(&h, buf, sizeof(buf));
        keep(&per_vm[k++], KG_TOPIC_METRICS, host, NULL, buf, len);
        bytes_vm += (size_t)len;
        for (long j = 0; j < vms; j++) {
            struct kg_vm v;
            snprintf(name, sizeof(name), "vm%03ld", j);
            make_vm(&v, host, name, (double)((i * 7 + j * 13) % 101));
            len = kg_vm_encode(&v, buf, sizeof(buf));
            keep(&per_vm[k++], KG_TOPIC_VM, host, name, buf, len);
            bytes_vm += (size_t)len;
        }
        struct kg_summary_writer w;
        if (kg_summary_begin(&w, buf, sizeof(buf), &h) != 0)
            return 1;
        for (long j = 0; j < vms; j++) {
            struct kg_vm v;
            snprintf(name, sizeof(name), "vm%03ld", j);
            make_vm(&v, host, name, (double)((i * 7 + j * 13) % 101));
            (void)kg_summary_add(&w, &v);
        }
        len = kg_summary_end(&w);
        keep(&sums[i], KG_TOPIC_SUMMARY, host, NULL, buf, len);
        bytes_sum += (size_t)len;
    }
    double total = (double)hosts * (double)vms;
    double best_v[2] = {1e30, 1e30}, best_s[2] = {1e30, 1e30};
    for (int r = 0; r < repeat; r++) {
        double a[2], b[2];
        run(per_vm, nv, MODEL_SOURCE_VMS, total, a);
        run(sums, ns, MODEL_SOURCE_SUMMARIES, total, b);
        for (int x = 0; x < 2; x++) {
            best_v[x] = a[x] < best_v[x] ? a[x] : best_v[x];
            best_s[x] = b[x] < best_s[x] ? b[x] : best_s[x];
        }
    }
    printf("model_apply, %ld hosts x %ld VMs, best of %d, ns per VM (create / update)\n", hosts,
           vms, repeat);
    printf("  source = vms        %7.0f / %7.0f   %zu messages, %.1f MB\n", best_v[0], best_v[1],
           nv, (double)bytes_vm / 1e6);
    printf("  source = summaries  %7.0f / %7.0f   %zu messages, %.1f MB\n", best_s[0], best_s[1],
           ns, (double)bytes_sum / 1e6);
    for (size_t i = 0; i < nv; i++)
        free(per_vm[i].payload);
    for (size_t i = 0; i < ns; i++)
        free(sums[i].payload);
    free(per_vm);
    free(sums);
    return 0;
}
