/* SPDX-License-Identifier: MIT */
/*
 * kg-wall-gridpub: a grid publisher for the wall's tests and benchmark. Fills a
 * broker with N hosts x M VMs of retained payloads made by libkvmgrid's encoders
 * (so they follow docs/PROTOCOL.md by construction), optionally keeps updating a
 * share of them per second, or prints one payload for mosquitto_pub.
 *
 *   kg-wall-gridpub --broker URI [--prefix P] --hosts N --vms M [--summary]
 *                   [--rate UPDATES_PER_S --duration S] [--status online]
 *                   [--wave PERIOD_S --duration S [--hot N]]
 *   kg-wall-gridpub --print-vm HOST VM CPU_PCT STATE [stale]
 *   kg-wall-gridpub --print-host HOST INTERVAL_S
 *
 * Values are deterministic: VM j of host i gets cpu_pct (i * 7 + j * 13) % 101.
 * --summary publishes the same grid as one summary per host (its figures and a
 * row per VM, by kg_summary_*) instead of a topic per VM: what a wall with
 * source = summaries reads; not with --wave, which updates VM topics.
 * --rate updates that many random VMs per second with random figures (the
 * benchmark's load); with --summary, that many random hosts' summaries per
 * second, every VM of the host shifted by a random number of percent. --wave republishes every VM and every host once a second
 * for --duration S with figures that follow waves of PERIOD_S seconds, each VM
 * its own phase (trends worth drawing: the docs' pictures); VM (i mod M) of the
 * first N hosts (--hot) stays at 97 % CPU and 96 % memory (alerts to show).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "grid_figures.h"

/* Publishes v (of host/name) retained; drops it when the client's buffer is full. */
static void publish_vm(struct kg_mqtt *m, const char *prefix, const struct kg_vm *v,
                       const char *host, const char *name)
{
    static char buf[KG_PAYLOAD_MAX];
    char topic[KG_TOPIC_MAX];
    int n = kg_vm_encode(v, buf, sizeof(buf));
    if (n > 0 && kg_topic_build(topic, sizeof(topic), prefix, KG_TOPIC_VM, host, name) > 0)
        kg_mqtt_publish(m, topic, buf, (size_t)n, true);
}

/* --summary: host i's summary of VMs vm000.. (the grid's figures), retained,
 * waiting while the client's buffer is full. Returns the rows published. */
static long publish_summary(struct kg_mqtt *m, const char *prefix, const char *host, long i,
                            long vms, long shift)
{
    static char sbuf[KG_SUMMARY_MAX];
    char topic[KG_TOPIC_MAX], name[64];
    struct kg_host h;
    grid_host(&h, host, 5, 25);
    struct kg_summary_writer w;
    if (kg_summary_begin(&w, sbuf, sizeof(sbuf), &h) != 0)
        return 0;
    for (long j = 0; j < vms; j++) {
        struct kg_vm v;
        snprintf(name, sizeof(name), "vm%03ld", j);
        grid_vm(&v, host, name, (double)((i * 7 + j * 13 + shift) % 101), KG_VM_RUNNING);
        (void)kg_summary_add(&w, &v);
    }
    int n = kg_summary_end(&w);
    if (n < 0 || kg_topic_build(topic, sizeof(topic), prefix, KG_TOPIC_SUMMARY, host, NULL) < 0)
        return 0;
    while (kg_mqtt_publish(m, topic, sbuf, (size_t)n, true) == KG_EAGAIN)
        kg_clock_sleep_ns(1000000, NULL);
    return (long)w.n_vms;
}

/* Sleeps until one second after sec0 (monotonic ns). */
static void rest_of_second(uint64_t sec0)
{
    uint64_t spent = kg_clock_mono_ns() - sec0;
    if (spent < 1000000000ull)
        kg_clock_sleep_ns(1000000000ull - spent, NULL);
}

/* --wave: VM j of host i at t seconds; hot VMs sit over the default alert lines */
static void make_wave_vm(struct kg_vm *v, const char *host, const char *name, long i, long j,
                         double t, double period, bool hot)
{
    double ph = (double)((i * 7 + j * 13) % 101) / 101.0 * 2 * M_PI, w = 2 * M_PI / period;
    grid_vm(v, host, name, hot ? 97 : 50 + 45 * sin(w * t + ph), KG_VM_RUNNING);
    v->mem_used_pct = hot ? 96 : 60 + 30 * sin(w * t / 3 + ph);
    v->disk_rd_bytes_per_s = pow(10, 3 + 5 * (0.5 + 0.5 * sin(w * t / 2 + 2 * ph)));
    v->net_rx_bytes_per_s = pow(10, 2 + 5 * (0.5 + 0.5 * cos(w * t + ph)));
    v->net_tx_bytes_per_s = v->net_rx_bytes_per_s / 4;
}

static int usage(void)
{
    fprintf(stderr, "usage: kg-wall-gridpub --broker URI [--prefix P] --hosts N --vms M "
                    "[--summary] [--rate N --duration S] [--wave PERIOD_S --duration S "
                    "[--hot N]]\n"
                    "       kg-wall-gridpub --print-vm HOST VM CPU_PCT STATE [stale]\n"
                    "       kg-wall-gridpub --print-host HOST INTERVAL_S\n");
    return 2;
}

int main(int argc, char **argv)
{
    static char buf[KG_PAYLOAD_MAX];
    if (argc >= 6 && !strcmp(argv[1], "--print-vm")) {
        struct kg_vm v;
        enum kg_vm_state st;
        if (kg_vm_state_parse(argv[5], strlen(argv[5]), &st) != 0)
            return usage();
        grid_vm(&v, argv[2], argv[3], atof(argv[4]), st);
        v.ts_ms = 1764420000000; /* fixed: deterministic pictures */
        if (argc >= 7 && !strcmp(argv[6], "stale")) {
            v.stale = true;
            v.age_s = 30;
        }
        int n = kg_vm_encode(&v, buf, sizeof(buf));
        if (n < 0)
            return 1;
        fwrite(buf, 1, (size_t)n, stdout);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "--print-host")) {
        struct kg_host h;
        grid_host(&h, argv[2], atof(argv[3]), 25);
        h.ts_ms = 1764420000000; /* fixed: deterministic pictures */
        int n = kg_host_encode(&h, buf, sizeof(buf));
        if (n < 0)
            return 1;
        fwrite(buf, 1, (size_t)n, stdout);
        return 0;
    }
    const char *broker = NULL, *prefix = KG_PREFIX_DEFAULT;
    long hosts = 0, vms = 0, rate = 0, hot = 0;
    double duration = 0, wave = 0;
    bool summary = false;
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--summary")) {
            summary = true;
            i--; /* a flag: no value */
            continue;
        }
        if (i + 1 >= argc) return usage();
        if (!strcmp(argv[i], "--broker")) broker = argv[i + 1];
        else if (!strcmp(argv[i], "--prefix")) prefix = argv[i + 1];
        else if (!strcmp(argv[i], "--hosts")) hosts = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--vms")) vms = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration")) duration = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--wave")) wave = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--hot")) hot = atol(argv[i + 1]);
        else return usage();
    }
    if (broker == NULL || hosts <= 0 || vms < 0 || (summary && wave > 0))
        return usage();
    struct kg_mqtt_options o;
    memset(&o, 0, sizeof(o));
    o.uri = broker;
    o.qos = 0;
    o.max_buffered = 200000;
    struct kg_mqtt *m;
    char err[256];
    if (kg_mqtt_create(&o, &m, err, sizeof(err)) != 0 || kg_mqtt_start(m) != 0) {
        fprintf(stderr, "gridpub: %s\n", err);
        return 1;
    }
    if (kg_mqtt_wait_connected(m, 10000) != 0) {
        fprintf(stderr, "gridpub: cannot connect to %s\n", broker);
        return 1;
    }
    char topic[KG_TOPIC_MAX], host[64], name[64];
    struct kg_vm v;
    uint64_t t0 = kg_clock_mono_ns(), sent = 0;
    for (long i = 0; i < hosts; i++) {
        snprintf(host, sizeof(host), "hv%04ld", i);
        kg_topic_build(topic, sizeof(topic), prefix, KG_TOPIC_STATUS, host, NULL);
        while (kg_mqtt_publish(m, topic, "online", 6, true) == KG_EAGAIN)
            kg_clock_sleep_ns(1000000, NULL);
        if (summary) {
            sent += (uint64_t)publish_summary(m, prefix, host, i, vms, 0);
            continue;
        }
        for (long j = 0; j < vms; j++) {
            snprintf(name, sizeof(name), "vm%03ld", j);
            grid_vm(&v, host, name, (double)((i * 7 + j * 13) % 101), KG_VM_RUNNING);
            int n = kg_vm_encode(&v, buf, sizeof(buf));
            kg_topic_build(topic, sizeof(topic), prefix, KG_TOPIC_VM, host, name);
            while (kg_mqtt_publish(m, topic, buf, (size_t)n, true) == KG_EAGAIN)
                kg_clock_sleep_ns(1000000, NULL);
            sent++;
        }
    }
    kg_mqtt_flush(m, 60000);
    fprintf(stderr, "gridpub: %llu retained VM %s in %.2f s\n", (unsigned long long)sent,
            summary ? "rows in summaries" : "payloads",
            (double)(kg_clock_mono_ns() - t0) / 1e9);
    if (rate > 0 && duration > 0 && vms > 0) {
        uint64_t end = kg_clock_mono_ns() + (uint64_t)(duration * 1e9), k = 0;
        while (kg_clock_mono_ns() < end) {
            uint64_t sec0 = kg_clock_mono_ns();
            for (long u = 0; u < rate; u++, k = k * 6364136223846793005ull + 1442695040888963407ull) {
                long i = (long)((k >> 33) % (uint64_t)hosts), j = (long)((k >> 13) % (uint64_t)vms);
                snprintf(host, sizeof(host), "hv%04ld", i);
                if (summary) {
                    publish_summary(m, prefix, host, i, vms, (long)((k >> 40) % 101));
                    continue;
                }
                snprintf(name, sizeof(name), "vm%03ld", j);
                grid_vm(&v, host, name, (double)((k >> 40) % 101), KG_VM_RUNNING);
                publish_vm(m, prefix, &v, host, name);
            }
            rest_of_second(sec0);
        }
        kg_mqtt_flush(m, 10000);
    }
    if (wave > 0 && duration > 0) {
        uint64_t t0w = kg_clock_mono_ns(), end = t0w + (uint64_t)(duration * 1e9);
        while (kg_clock_mono_ns() < end) {
            uint64_t sec0 = kg_clock_mono_ns();
            double t = (double)(sec0 - t0w) / 1e9;
            for (long i = 0; i < hosts; i++) {
                snprintf(host, sizeof(host), "hv%04ld", i);
                struct kg_host h;
                grid_host(&h, host, 1, 50 + 30 * sin(2 * M_PI * t / wave + (double)i));
                h.mem_used_pct = 55;
                int n = kg_host_encode(&h, buf, sizeof(buf));
                kg_topic_build(topic, sizeof(topic), prefix, KG_TOPIC_METRICS, host, NULL);
                if (n > 0)
                    kg_mqtt_publish(m, topic, buf, (size_t)n, true);
                for (long j = 0; j < vms; j++) {
                    snprintf(name, sizeof(name), "vm%03ld", j);
                    make_wave_vm(&v, host, name, i, j, t, wave, i < hot && j == i % vms);
                    publish_vm(m, prefix, &v, host, name);
                }
            }
            rest_of_second(sec0);
        }
        kg_mqtt_flush(m, 10000);
    }
    kg_mqtt_stop(m, NULL, NULL, 2000);
    kg_mqtt_free(m);
    return 0;
}
