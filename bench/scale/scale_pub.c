/* SPDX-License-Identifier: MIT */
/*
 * kg-scale-pub: a region's hosts, simulated, for bench/scale. N hosts of M VMs
 * each, split evenly over the site brokers given (hosts 0..N/S-1 to the first,
 * and so on; names hv00000.. unique across the region), publish what an agent
 * with `source = summaries` readers in mind puts on the wire: each host's
 * retained `status` "online" once (QoS 1), and its summary (libkvmgrid's
 * kg_summary encoder, retained, QoS 1 as the agent's default) every interval,
 * spread evenly over it: host k of N goes out k/N of an interval after the
 * round's start. Every VM's figures move each round, so every tile changes.
 * It is not an agent: one MQTT connection per site carries all of that site's
 * hosts, and nothing else of an agent (metrics, VM topics) is published.
 *
 *   kg-scale-pub --site URI [--site URI]... --hosts N --vms M [--interval S]
 *                [--duration S] [--prefix P] [--probe VM]
 *
 * First the fill: every host's status and first summary as fast as the brokers
 * take them ("scale-pub: fill ..." on stderr when all are acknowledged). Then,
 * for --duration seconds, rounds of one summary per host per --interval.
 *
 * Figures: CPU 0-100 % moving each round (disk, network, steal and latency follow
 * it), memory 20-80 % moving, and one VM in 24,989 held at 98 % memory, in alert
 * on a wall with the default rules (40 in a million).
 *
 * The probe: host 0's first VM is named VM (default "probe") and its CPU
 * alternates between 5 % and 95 % from round to round, so that its tile turns
 * from cold to hot and back each interval. Every time its summary is handed to
 * the session a line goes to stdout:
 *   probe HOST VM round R cpu_pct C real_ms T
 * (realtime ms, the clock a subscriber's %U and the wall's --trace-tile use).
 *
 * At the end, on stderr: rounds, summaries, bytes, and how far behind its
 * schedule the publisher fell (a publisher that cannot keep up would make the
 * bench measure less than the offered load: the script prints this next to the
 * figures).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "grid_figures.h"

#define SITES_MAX 16
#define WINDOW 2000 /* messages in Paho's hands per site session */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

struct pub {
    struct kg_mqtt *site[SITES_MAX];
    int n_sites;
    long hosts, vms, per_site;
    double interval_s;
    const char *prefix, *probe;
    uint64_t summaries, bytes, eagain_waits;
};

static struct kg_mqtt *site_of(const struct pub *p, long i)
{
    long s = i / p->per_site;
    return p->site[s < p->n_sites ? s : p->n_sites - 1];
}

/* Publishes one message, waiting while the session's window is full. 0 or a KG_* code. */
static int send_wait(struct pub *p, struct kg_mqtt *m, const char *topic, const char *buf,
                     size_t len)
{
    int rc;
    while ((rc = kg_mqtt_publish(m, topic, buf, len, true)) == KG_EAGAIN && !stop_flag) {
        p->eagain_waits++;
        kg_clock_sleep_ns(200000, NULL);
    }
    return rc;
}

/* Host i's summary for round r, published. Returns its probe CPU (-1: not the probe host). */
static double publish_summary(struct pub *p, long i, long r)
{
    static char sbuf[KG_SUMMARY_MAX];
    char topic[KG_TOPIC_MAX], host[32];
    snprintf(host, sizeof(host), "hv%05ld", i);
    struct kg_host h;
    grid_host(&h, host, p->interval_s, (double)((i * 3 + r * 17) % 101));
    struct kg_summary_writer w;
    if (kg_summary_begin(&w, sbuf, sizeof(sbuf), &h) != 0)
        return -1;
    double probe_cpu = -1;
    for (long j = 0; j < p->vms; j++) {
        struct kg_summary_vm v;
        memset(&v, 0, sizeof(v));
        double cpu = (double)((i * 7 + j * 13 + r * 11) % 101);
        if (i == 0 && j == 0) {
            snprintf(v.name, sizeof(v.name), "%s", p->probe);
            cpu = probe_cpu = r % 2 ? 95 : 5;
        } else {
            snprintf(v.name, sizeof(v.name), "vm%03ld", j);
        }
        v.state = KG_VM_RUNNING;
        v.cpu_pct = cpu;
        /* memory 20-80 %, moving; one VM in about 500 hosts' worth held at 98 %
         * (over the wall's default memory alert): a region is mostly calm, and
         * the few in alert must surface from inside host tiles */
        v.mem_used_pct = (i * p->vms + j) % 24989 == 7 ? 98
                                                        : (double)(20 + (i * 5 + j * 3 + r * 7) % 61);
        v.disk_bytes_per_s = cpu * 1e6;
        v.net_bytes_per_s = cpu * 1e5;
        v.steal_pct = cpu / 10;
        v.disk_lat_ms = cpu / 20;
        (void)kg_summary_add_row(&w, &v);
    }
    int n = kg_summary_end(&w);
    if (n < 0 || kg_topic_build(topic, sizeof(topic), p->prefix, KG_TOPIC_SUMMARY, host, NULL) < 0)
        return -1;
    if (send_wait(p, site_of(p, i), topic, sbuf, (size_t)n) == 0) {
        p->summaries++;
        p->bytes += (uint64_t)n;
    }
    if (probe_cpu >= 0) {
        printf("probe %s %s round %ld cpu_pct %.0f real_ms %lld\n", host, p->probe, r, probe_cpu,
               (long long)kg_clock_real_ms());
        fflush(stdout);
    }
    return probe_cpu;
}

static int usage(void)
{
    fprintf(stderr, "usage: kg-scale-pub --site URI [--site URI]... --hosts N --vms M "
                    "[--interval S] [--duration S] [--prefix P] [--probe VM]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct pub p;
    memset(&p, 0, sizeof(p));
    const char *uris[SITES_MAX];
    double duration = 0;
    p.interval_s = 5;
    p.prefix = KG_PREFIX_DEFAULT;
    p.probe = "probe";
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return usage();
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--site")) {
            if (p.n_sites == SITES_MAX)
                return usage();
            uris[p.n_sites++] = v;
        } else if (!strcmp(a, "--hosts")) p.hosts = atol(v);
        else if (!strcmp(a, "--vms")) p.vms = atol(v);
        else if (!strcmp(a, "--interval")) p.interval_s = atof(v);
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--prefix")) p.prefix = v;
        else if (!strcmp(a, "--probe")) p.probe = v;
        else return usage();
    }
    if (p.n_sites == 0 || p.hosts < p.n_sites || p.hosts > 99999 || p.vms < 1 ||
        p.interval_s <= 0 || duration < 0)
        return usage();
    p.per_site = p.hosts / p.n_sites;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    char err[256], cid[SITES_MAX][64];
    for (int s = 0; s < p.n_sites; s++) {
        struct kg_mqtt_options o;
        memset(&o, 0, sizeof(o));
        o.uri = uris[s];
        snprintf(cid[s], sizeof(cid[s]), "kg-scale-pub-%ld-site%d", (long)getpid(), s + 1);
        o.client_id = cid[s];
        o.qos = 1;
        o.max_buffered = WINDOW;
        o.refuse_when_full = true;
        if (kg_mqtt_create(&o, &p.site[s], err, sizeof(err)) != 0 || kg_mqtt_start(p.site[s]) != 0) {
            fprintf(stderr, "scale-pub: %s: %s\n", uris[s], err);
            goto out;
        }
    }
    for (int s = 0; s < p.n_sites; s++)
        if (kg_mqtt_wait_connected(p.site[s], 10000) != 0) {
            fprintf(stderr, "scale-pub: cannot connect to %s\n", uris[s]);
            goto out;
        }

    /* the fill: statuses, then round 0 of the summaries, as fast as the brokers take them */
    uint64_t t0 = kg_clock_mono_ns();
    char topic[KG_TOPIC_MAX], host[32];
    for (long i = 0; i < p.hosts && !stop_flag; i++) {
        snprintf(host, sizeof(host), "hv%05ld", i);
        if (kg_topic_build(topic, sizeof(topic), p.prefix, KG_TOPIC_STATUS, host, NULL) > 0)
            send_wait(&p, site_of(&p, i), topic, "online", 6);
    }
    for (long i = 0; i < p.hosts && !stop_flag; i++)
        publish_summary(&p, i, 0);
    for (int s = 0; s < p.n_sites; s++)
        kg_mqtt_flush(p.site[s], 120000);
    fprintf(stderr, "scale-pub: fill %ld hosts x %ld VMs (%llu summaries, %.1f MB) over %d "
                    "site(s) in %.2f s\n", p.hosts, p.vms, (unsigned long long)p.summaries,
            (double)p.bytes / 1e6, p.n_sites, (double)(kg_clock_mono_ns() - t0) / 1e9);

    /* the rounds: host k of round r is due at start + (r - 1 + k / N) intervals */
    uint64_t start = kg_clock_mono_ns(), interval_ns = (uint64_t)(p.interval_s * 1e9);
    uint64_t end = start + (uint64_t)(duration * 1e9), max_lag_ns = 0, late = 0;
    uint64_t sum0 = p.summaries, bytes0 = p.bytes;
    long rounds = 0;
    for (uint64_t k = 0; duration > 0 && !stop_flag; k++) {
        long r = (long)(k / (uint64_t)p.hosts) + 1, i = (long)(k % (uint64_t)p.hosts);
        uint64_t due = start + (uint64_t)(r - 1) * interval_ns +
                       (uint64_t)((double)i * (double)interval_ns / (double)p.hosts);
        if (due >= end)
            break;
        uint64_t now = kg_clock_mono_ns();
        if (now < due)
            kg_clock_sleep_ns(due - now, NULL);
        else if (now - due > max_lag_ns)
            max_lag_ns = now - due;
        if (now > due + 100000000ull) /* more than 100 ms behind schedule */
            late++;
        publish_summary(&p, i, r);
        if (i == p.hosts - 1)
            rounds = r;
    }
    for (int s = 0; s < p.n_sites; s++)
        kg_mqtt_flush(p.site[s], 30000);
    double secs = (double)(kg_clock_mono_ns() - start) / 1e9;
    fprintf(stderr, "scale-pub: rounds %ld summaries %llu (%.0f/s) bytes %.1f MB (%.2f MB/s) "
                    "in %.1f s; behind schedule: max %.0f ms, %llu summaries > 100 ms late; "
                    "window-full waits %llu\n",
            rounds, (unsigned long long)(p.summaries - sum0),
            secs > 0 ? (double)(p.summaries - sum0) / secs : 0, (double)(p.bytes - bytes0) / 1e6,
            secs > 0 ? (double)(p.bytes - bytes0) / 1e6 / secs : 0, secs,
            (double)max_lag_ns / 1e6, (unsigned long long)late,
            (unsigned long long)p.eagain_waits);
    rc = 0;
out:
    for (int s = 0; s < p.n_sites; s++) {
        if (p.site[s] != NULL)
            kg_mqtt_stop(p.site[s], NULL, NULL, 2000);
        kg_mqtt_free(p.site[s]);
    }
    return rc;
}
