/* SPDX-License-Identifier: MIT */
/*
 * kg-mqtt-tool: drives libkvmgrid's MQTT session (kvmgrid/mqtt.h) from the
 * command line, so that shell integration tests can check it against a real
 * mosquitto with mosquitto_pub/mosquitto_sub as outside clients. It is a test
 * harness, not an operator tool: its output is meant for grep.
 *
 *   kg-mqtt-tool pub URI TOPIC PAYLOAD [--retain] [--count N] [--spread] [--hold S] ...
 *     (--spread: message i of --count goes to TOPIC/i instead of TOPIC)
 *   kg-mqtt-tool sub URI FILTER [--count N] [--timeout S] ...
 *   kg-mqtt-tool run URI PREFIX [--interval-ms N] [--sub FILTER]... ...
 *   kg-mqtt-tool badtopics URI PREFIX ...
 *
 * --snapshot FILTER reads the retained messages under FILTER at every connect
 * (kg_mqtt_options.snapshot_filters), and "event synced" says they all arrived.
 * Events go to stderr ("event connected reconnect=0", "event lost"), received
 * messages to stdout ("TOPIC PAYLOAD", as mosquitto_sub -v prints them).
 * Exit status: 0 done, 1 failed at run time (timeout, refused publish), 2 bad
 * command line or options.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"

#define MAX_SUBS 16

struct tool {
    const char *mode, *uri, *arg1, *arg2;
    struct kg_mqtt_options opt;
    const char *final_topic, *final_payload;
    const char *subs[MAX_SUBS];
    int n_subs;
    const char *prefix;
    bool retain, spread;
    long count;
    double hold_s, timeout_s;
    long interval_ms;
    struct kg_mqtt *m;
    pthread_mutex_t out_lock;
    long received;
    long losses; /* only touched by on_lost, on Paho's thread */
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: kg-mqtt-tool pub URI TOPIC PAYLOAD [--retain] [--count N] [--hold S]\n"
            "       kg-mqtt-tool sub URI FILTER [--count N]\n"
            "       kg-mqtt-tool run URI PREFIX [--interval-ms N] [--sub FILTER]...\n"
            "       kg-mqtt-tool badtopics URI PREFIX\n"
            "options: --will TOPIC PAYLOAD [--will-retain] --final TOPIC PAYLOAD --qos 0|1\n"
            "         --id ID --user U --pass P --ca FILE --cert FILE --key FILE --insecure\n"
            "         --keepalive S --timeout S --max-buffered N --reconnect-max-ms N --debug\n"
            "         --snapshot FILTER --deliver-bytes N (callbacks on the session's thread;\n"
            "         on_connect then publishes nothing, as mqtt.h asks)\n");
}

static void event(struct tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event(struct tool *t, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&t->out_lock);
    fputs("event ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&t->out_lock);
}

static void on_message(void *ctx, const char *topic, size_t topic_len, const void *payload,
                       size_t len, bool retained)
{
    struct tool *t = ctx;
    pthread_mutex_lock(&t->out_lock);
    fwrite(topic, 1, topic_len, stdout);
    fputc(' ', stdout);
    fwrite(payload, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    t->received++;
    pthread_mutex_unlock(&t->out_lock);
    fprintf(stderr, "event message %s retained=%d\n", topic, retained ? 1 : 0);
}

static void on_connect(void *ctx, bool reconnect)
{
    struct tool *t = ctx;
    /* What an agent does: (re)announce itself, since a broker restart or a lost
     * connection published the will. Publishing from a callback must work. */
    if (t->prefix && strcmp(t->mode, "run") == 0 && t->opt.deliver_bytes == 0) {
        char topic[512];
        snprintf(topic, sizeof topic, "%s/status", t->prefix);
        int rc = kg_mqtt_publish(t->m, topic, "online", 6, true);
        if (rc != 0)
            event(t, "publish-failed %s %s", topic, kg_strerror(rc));
    }
    event(t, "connected reconnect=%d", reconnect ? 1 : 0);
}

static void on_synced(void *ctx)
{
    event(ctx, "synced");
}

static void on_lost(void *ctx, const char *cause)
{
    struct tool *t = ctx;
    event(t, "lost %s", cause ? cause : "-");
    /* Published while disconnected: Paho buffers it, and the reconnect delivers it. */
    if (t->prefix && strcmp(t->mode, "run") == 0 && t->opt.deliver_bytes == 0) {
        char topic[512], payload[32];
        snprintf(topic, sizeof topic, "%s/lost", t->prefix);
        int n = snprintf(payload, sizeof payload, "%ld", ++t->losses);
        int rc = kg_mqtt_publish(t->m, topic, payload, (size_t)n, true);
        if (rc != 0)
            event(t, "publish-failed %s %s", topic, kg_strerror(rc));
    }
}

static long received(struct tool *t)
{
    pthread_mutex_lock(&t->out_lock);
    long n = t->received;
    pthread_mutex_unlock(&t->out_lock);
    return n;
}

static void print_stats(struct tool *t)
{
    struct kg_mqtt_stats st;
    kg_mqtt_get_stats(t->m, &st);
    event(t, "stats published=%llu failed=%llu received=%llu connects=%llu lost=%llu",
          (unsigned long long)st.published, (unsigned long long)st.publish_failed,
          (unsigned long long)st.received, (unsigned long long)st.connects,
          (unsigned long long)st.connection_lost);
}

/* Sleeps up to s seconds, less if a signal asked to stop. */
static void nap(double s)
{
    if (s > 0)
        kg_clock_sleep_ns((uint64_t)(s * 1e9), &g_stop);
}

static uint32_t timeout_ms(const struct tool *t) { return (uint32_t)(t->timeout_s * 1000.0); }

/* Publishes, and on KG_EAGAIN (queue full) waits for the queue to drain a little
 * and tries again, as a bulk publisher should. */
static int publish_retry(struct tool *t, const char *topic, const char *payload, size_t len,
                         bool retain)
{
    uint64_t deadline = kg_clock_mono_ms() + timeout_ms(t);
    for (;;) {
        int rc = kg_mqtt_publish(t->m, topic, payload, len, retain);
        if (rc != KG_EAGAIN || kg_clock_mono_ms() >= deadline || g_stop)
            return rc;
        kg_mqtt_flush(t->m, 10);
    }
}

static int finish(struct tool *t, int status)
{
    int rc = kg_mqtt_stop(t->m, t->final_topic, t->final_payload, 5000);
    if (rc != 0) {
        event(t, "stop-failed %s", kg_strerror(rc));
        if (status == 0)
            status = 1;
    } else {
        event(t, "stopped");
    }
    print_stats(t);
    return status;
}

static int mode_pub(struct tool *t)
{
    const char *topic = t->arg1, *payload = t->arg2;
    if (!kg_mqtt_topic_valid(topic, strlen(topic))) {
        fprintf(stderr, "kg-mqtt-tool: invalid topic name \"%s\"\n", topic);
        /* still go through the session, to show it refuses it */
    }
    for (long i = 0; i < t->count && !g_stop; i++) {
        char buf[4096];
        const char *p = payload;
        size_t len = strlen(payload);
        if (t->count > 1) {
            int n = snprintf(buf, sizeof buf, "%s %ld", payload, i);
            p = buf;
            len = n < 0 ? 0 : ((size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
        }
        char spread_topic[1024];
        const char *to = topic;
        if (t->spread) {
            snprintf(spread_topic, sizeof spread_topic, "%s/%ld", topic, i);
            to = spread_topic;
        }
        int rc = publish_retry(t, to, p, len, t->retain);
        if (rc != 0) {
            event(t, "publish-refused %s: %s", topic, kg_strerror(rc));
            return finish(t, rc == KG_EINVAL ? 2 : 1);
        }
    }
    int rc = kg_mqtt_flush(t->m, timeout_ms(t));
    if (rc != 0) {
        event(t, "not-delivered %s", kg_strerror(rc));
        return finish(t, 1);
    }
    event(t, "published %ld", t->count);
    nap(t->hold_s);
    return finish(t, 0);
}

static int mode_sub(struct tool *t)
{
    uint64_t deadline = kg_clock_mono_ms() + timeout_ms(t);
    while (!g_stop && received(t) < t->count && kg_clock_mono_ms() < deadline)
        nap(0.02);
    int status = received(t) >= t->count ? 0 : 1;
    if (status)
        event(t, "timeout received=%ld of %ld", received(t), t->count);
    return finish(t, status);
}

static int mode_run(struct tool *t)
{
    char topic[512];
    snprintf(topic, sizeof topic, "%s/tick", t->prefix);
    long seq = 0;
    while (!g_stop) {
        char payload[32];
        int n = snprintf(payload, sizeof payload, "%ld", seq++);
        int rc = kg_mqtt_publish(t->m, topic, payload, (size_t)n, false);
        if (rc != 0)
            event(t, "publish-failed %s %s", topic, kg_strerror(rc));
        nap((double)t->interval_ms / 1000.0);
    }
    return finish(t, 0);
}

static int mode_badtopics(struct tool *t)
{
    if (kg_mqtt_wait_connected(t->m, timeout_ms(t)) != 0) {
        event(t, "not-connected");
        return finish(t, 1);
    }
    static char big[65537];
    memset(big, 'a', sizeof big - 1);
    const struct {
        const char *name, *topic;
    } bad[] = {
        {"plus", "kg/+/x"}, {"hash", "kg/#"}, {"plus-in-level", "kg/a+b"},
        {"empty", ""}, {"invalid-utf8", "kg/\xff"}, {"truncated-utf8", "kg/\xc3"},
        {"overlong", "kg/\xc0\xaf"}, {"surrogate", "kg/\xed\xa0\x80"},
        {"control", "kg/a\x01" "b"}, {"c1-control", "kg/\xc2\x85"}, {"too-long", big},
    };
    int status = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = kg_mqtt_publish(t->m, bad[i].topic, "x", 1, false);
        if (rc == KG_EINVAL) {
            event(t, "refused %s", bad[i].name);
        } else {
            event(t, "ACCEPTED %s (%s)", bad[i].name, kg_strerror(rc));
            status = 1;
        }
    }
    const char *bad_filters[] = {"kg/a#", "kg/#/x", "kg/a+", "", "kg/\xff"};
    for (size_t i = 0; i < sizeof bad_filters / sizeof bad_filters[0]; i++) {
        int rc = kg_mqtt_subscribe(t->m, bad_filters[i]);
        if (rc == KG_EINVAL) {
            event(t, "refused filter %zu", i);
        } else {
            event(t, "ACCEPTED filter %zu (%s)", i, kg_strerror(rc));
            status = 1;
        }
    }
    char topic[512];
    snprintf(topic, sizeof topic, "%s/after", t->prefix);
    if (kg_mqtt_publish(t->m, topic, "alive", 5, true) != 0 ||
        kg_mqtt_flush(t->m, timeout_ms(t)) != 0) {
        event(t, "valid-publish-failed");
        status = 1;
    }
    struct kg_mqtt_stats st;
    kg_mqtt_get_stats(t->m, &st);
    if (kg_mqtt_is_connected(t->m) && st.connection_lost == 0) {
        event(t, "survived");
    } else {
        event(t, "connection-lost");
        status = 1;
    }
    return finish(t, status);
}

static int parse_args(struct tool *t, int argc, char **argv)
{
    int pos = 0;
    const char *posv[3] = {NULL, NULL, NULL};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
#define NEED(k)                                                                                   \
    do {                                                                                          \
        if (i + (k) >= argc) {                                                                    \
            fprintf(stderr, "kg-mqtt-tool: %s needs %d argument(s)\n", a, (k));                  \
            return 2;                                                                             \
        }                                                                                         \
    } while (0)
        if (strcmp(a, "--retain") == 0) {
            t->retain = true;
        } else if (strcmp(a, "--spread") == 0) {
            t->spread = true;
        } else if (strcmp(a, "--will-retain") == 0) {
            t->opt.will_retained = true;
        } else if (strcmp(a, "--debug") == 0) {
            kg_log_set_level(KG_LOG_DEBUG);
        } else if (strcmp(a, "--insecure") == 0) {
            t->opt.tls_insecure = true;
        } else if (strcmp(a, "--will") == 0) {
            NEED(2);
            t->opt.will_topic = argv[++i];
            t->opt.will_payload = argv[++i];
        } else if (strcmp(a, "--final") == 0) {
            NEED(2);
            t->final_topic = argv[++i];
            t->final_payload = argv[++i];
        } else if (strcmp(a, "--sub") == 0) {
            NEED(1);
            if (t->n_subs == MAX_SUBS) {
                fprintf(stderr, "kg-mqtt-tool: too many --sub\n");
                return 2;
            }
            t->subs[t->n_subs++] = argv[++i];
        } else if (strncmp(a, "--", 2) == 0 && a[2]) {
            NEED(1);
            const char *v = argv[++i];
            char *end = NULL;
            errno = 0;
            double num = strtod(v, &end);
            bool numeric = end && end != v && *end == '\0' && errno == 0;
            if (strcmp(a, "--id") == 0) t->opt.client_id = v;
            else if (strcmp(a, "--user") == 0) t->opt.username = v;
            else if (strcmp(a, "--pass") == 0) t->opt.password = v;
            else if (strcmp(a, "--ca") == 0) t->opt.ca_file = v;
            else if (strcmp(a, "--cert") == 0) t->opt.cert_file = v;
            else if (strcmp(a, "--key") == 0) t->opt.key_file = v;
            else if (strcmp(a, "--snapshot") == 0) /* up to two */
                t->opt.snapshot_filters[t->opt.snapshot_filters[0] != NULL] = v;
            else if (!numeric) {
                fprintf(stderr, "kg-mqtt-tool: unknown option %s or non-numeric value \"%s\"\n", a, v);
                return 2;
            } else if (strcmp(a, "--count") == 0) t->count = (long)num;
            else if (strcmp(a, "--hold") == 0) t->hold_s = num;
            else if (strcmp(a, "--timeout") == 0) t->timeout_s = num;
            else if (strcmp(a, "--interval-ms") == 0) t->interval_ms = (long)num;
            else if (strcmp(a, "--qos") == 0) t->opt.qos = (int)num;
            else if (strcmp(a, "--keepalive") == 0) t->opt.keepalive_s = (int)num;
            else if (strcmp(a, "--max-buffered") == 0) t->opt.max_buffered = (int)num;
            else if (strcmp(a, "--deliver-bytes") == 0) t->opt.deliver_bytes = (size_t)num;
            else if (strcmp(a, "--reconnect-max-ms") == 0) t->opt.reconnect_max_ms = (uint32_t)num;
            else if (strcmp(a, "--reconnect-min-ms") == 0) t->opt.reconnect_min_ms = (uint32_t)num;
            else {
                fprintf(stderr, "kg-mqtt-tool: unknown option %s\n", a);
                return 2;
            }
        } else {
            if (pos == 3) {
                fprintf(stderr, "kg-mqtt-tool: unexpected argument \"%s\"\n", a);
                return 2;
            }
            posv[pos++] = a;
        }
#undef NEED
    }
    t->uri = posv[0];
    t->arg1 = posv[1];
    t->arg2 = posv[2];
    int want = strcmp(t->mode, "pub") == 0 ? 3 : 2;
    if (pos != want) {
        usage();
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct tool t;
    kg_log_init("kg-mqtt-tool");
    if (argc < 2) {
        usage();
        return 2;
    }
    t.mode = argv[1];
    if (strcmp(t.mode, "pub") != 0 && strcmp(t.mode, "sub") != 0 && strcmp(t.mode, "run") != 0 &&
        strcmp(t.mode, "badtopics") != 0) {
        usage();
        return 2;
    }
    t.opt.qos = 1;
    t.count = 1;
    t.timeout_s = 10;
    t.interval_ms = 100;
    t.opt.reconnect_max_ms = 2000; /* tests restart brokers: keep retries quick */
    pthread_mutex_init(&t.out_lock, NULL);
    int rc = parse_args(&t, argc, argv);
    if (rc != 0)
        return rc;
    if (strcmp(t.mode, "run") == 0 || strcmp(t.mode, "badtopics") == 0)
        t.prefix = t.arg1;
    if (strcmp(t.mode, "sub") == 0)
        t.subs[t.n_subs++] = t.arg1;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    t.opt.uri = t.uri;
    t.opt.on_message = on_message;
    t.opt.on_connect = on_connect;
    t.opt.on_lost = on_lost;
    t.opt.on_synced = on_synced;
    t.opt.ctx = &t;
    char err[256];
    rc = kg_mqtt_create(&t.opt, &t.m, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "kg-mqtt-tool: %s\n", err);
        return 2;
    }
    for (int i = 0; i < t.n_subs; i++) {
        rc = kg_mqtt_subscribe(t.m, t.subs[i]);
        if (rc != 0) {
            fprintf(stderr, "kg-mqtt-tool: invalid filter \"%s\": %s\n", t.subs[i], kg_strerror(rc));
            kg_mqtt_free(t.m);
            return 2;
        }
    }
    if (kg_mqtt_start(t.m) != 0) {
        kg_mqtt_free(t.m);
        return 1;
    }
    int status;
    if (strcmp(t.mode, "pub") == 0)
        status = mode_pub(&t);
    else if (strcmp(t.mode, "sub") == 0)
        status = mode_sub(&t);
    else if (strcmp(t.mode, "run") == 0)
        status = mode_run(&t);
    else
        status = mode_badtopics(&t);
    kg_mqtt_free(t.m);
    pthread_mutex_destroy(&t.out_lock);
    return status;
}
