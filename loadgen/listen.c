/* SPDX-License-Identifier: MIT */
/*
 * The MQTT command listener (see listen.h). Paho's callback thread only copies
 * a command into a small queue; the listener's own thread decodes, validates,
 * drives the runner and publishes, so no load is ever started or stopped from
 * a Paho thread and a slow stop cannot stall the MQTT session.
 *
 * A command published with the retain flag never runs: it would run again at
 * every reconnect of every listener. The session is MQTT 5 with
 * retain-as-published subscriptions, because a 3.1.1 broker clears the flag on
 * messages it delivers to subscribers already connected, so such a command
 * would be told apart only when it came from the retained store. The listener
 * then tries to clear the retained command from the broker and says in its
 * state whether it could (the loadgen role's ACL usually forbids it).
 */
#include "listen.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvmgrid/client.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "plan.h"
#include "runner.h"

#define QUEUE_MAX 16
#define TICK_MS 100u

struct queued {
    size_t len;                       /* length as received (may exceed the copy) */
    bool retained;
    char data[KG_PAYLOAD_MAX + 1];    /* first bytes of the payload */
};

struct listener {
    const struct loadgen_config *cfg;
    struct kg_mqtt *mqtt;
    struct runner *runner;
    char cmd_topic[KG_TOPIC_MAX], state_topic[KG_TOPIC_MAX];
    struct kg_load_state state;       /* reject fields persist; the rest is refilled */

    pthread_mutex_t mu;               /* guards the queue and flags below */
    pthread_cond_t cv;
    struct queued *queue;             /* QUEUE_MAX slots */
    unsigned q_head, q_count;
    unsigned long dropped;
    bool republish;                   /* (re)connected: publish the state again */
    bool cleared;                     /* the clear of a retained command has an outcome */
    int clear_rc, clear_reason;
    char clear_id[sizeof ((struct kg_load_state *)0)->last_reject_id];
    char clear_id_pending[sizeof ((struct kg_load_state *)0)->last_reject_id];
};

static void on_message(void *ctx, const char *topic, size_t topic_len, const void *payload,
                       size_t len, bool retained)
{
    struct listener *l = ctx;
    (void)topic;
    (void)topic_len;
    pthread_mutex_lock(&l->mu);
    if (l->q_count == QUEUE_MAX) {
        l->dropped++;
    } else {
        struct queued *q = &l->queue[(l->q_head + l->q_count) % QUEUE_MAX];
        q->len = len;
        q->retained = retained;
        size_t n = len < sizeof q->data ? len : sizeof q->data;
        memcpy(q->data, payload, n);
        l->q_count++;
        pthread_cond_signal(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
}

static void on_connect(void *ctx, bool reconnect)
{
    struct listener *l = ctx;
    pthread_mutex_lock(&l->mu);
    l->republish = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (reconnect)
        kg_info("reconnected to the broker");
}

static void publish_state(struct listener *l)
{
    char buf[KG_PAYLOAD_MAX];
    runner_fill_state(l->runner, &l->state);
    l->state.ts_ms = kg_clock_real_ms();
    int n = kg_load_state_encode(&l->state, buf, sizeof buf);
    if (n < 0) {
        kg_error("cannot encode the load state: %s", kg_strerror(n));
        return;
    }
    int rc = kg_mqtt_publish(l->mqtt, l->state_topic, buf, (size_t)n, true);
    if (rc)
        kg_warn("cannot publish the load state: %s", kg_strerror(rc));
}

static void reject(struct listener *l, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject(struct listener *l, const char *id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->state.last_reject, sizeof l->state.last_reject, fmt, ap);
    va_end(ap);
    snprintf(l->state.last_reject_id, sizeof l->state.last_reject_id, "%s", id ? id : "");
    kg_warn("command%s%s rejected: %s", id && id[0] ? " " : "", id ? id : "", l->state.last_reject);
    publish_state(l);
}

/* The outcome of the empty retained publish that clears a retained command
 * (Paho thread: hand it to the listener's thread). */
static void on_clear_result(void *ctx, int rc, int reason)
{
    struct listener *l = ctx;
    pthread_mutex_lock(&l->mu);
    l->cleared = true;
    l->clear_rc = rc;
    l->clear_reason = reason;
    memcpy(l->clear_id, l->clear_id_pending, sizeof l->clear_id);
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

#define RETAINED_WHY "retained command ignored (publish commands without -r)"

/* A command arrived with the retain flag: refuse it, then ask the broker to
 * forget it; on_clear_result completes the reason. */
static void refuse_retained(struct listener *l, const struct queued *q)
{
    struct kg_load_cmd cmd;
    char why[KG_ERRMSG_MAX + 64];
    const char *id = "";
    if (q->len <= KG_PAYLOAD_MAX && kg_load_cmd_decode(q->data, q->len, &cmd, why, sizeof why) == 0)
        id = cmd.id;
    pthread_mutex_lock(&l->mu);
    snprintf(l->clear_id_pending, sizeof l->clear_id_pending, "%s", id);
    pthread_mutex_unlock(&l->mu);
    reject(l, id, RETAINED_WHY "; clearing it from the broker");
    int rc = kg_mqtt_publish_notify(l->mqtt, l->cmd_topic, "", 0, true, on_clear_result, l);
    if (rc)
        on_clear_result(l, rc, 0);
}

/* Completes the reason of a refused retained command with the clear's outcome. */
static void report_clear(struct listener *l, int rc, int reason, const char *id)
{
    if (rc == 0) {
        reject(l, id, RETAINED_WHY "; cleared it from the broker");
    } else if (rc == KG_EPERM) {
        reject(l, id, RETAINED_WHY "; could not clear it from the broker: refused (reason 0x%02x%s)",
               (unsigned)reason, reason == 0x87 ? ", not authorized" : "");
    } else {
        reject(l, id, RETAINED_WHY "; could not clear it from the broker: %s", kg_strerror(rc));
    }
}

static void describe(const struct scenario *p, char *buf, size_t size)
{
    const struct kg_load_spec *s = p->n_steps && p->steps[0].n_loads ? &p->steps[0].loads[0] : NULL;
    if (p->name[0])
        snprintf(buf, size, "scenario %s (%u steps, %.0f s)", p->name, p->n_steps,
                 scenario_duration_s(p));
    else if (s && s->kind == KG_LOAD_CPU)
        snprintf(buf, size, "cpu %g workers at %g%% for %g s", s->workers, s->pct, s->duration_s);
    else if (s && s->kind == KG_LOAD_MEM)
        snprintf(buf, size, "mem %g MiB for %g s", s->mib, s->duration_s);
    else if (s && s->kind == KG_LOAD_DISK)
        snprintf(buf, size, "disk %s at %s%g MB/s for %g s", s->disk_mode == KG_DISK_READ ? "read"
                 : s->disk_mode == KG_DISK_RW ? "rw" : "write", kg_na(s->mb_per_s) ? "max " : "",
                 kg_na(s->mb_per_s) ? 0.0 : s->mb_per_s, s->duration_s);
    else
        snprintf(buf, size, "a plan");
}

static void handle(struct listener *l, const struct queued *q)
{
    char why[KG_ERRMSG_MAX + 64];
    struct kg_load_cmd cmd;
    if (q->len == 0) {
        /* an empty message clears a retained command on the broker: nothing to do */
        kg_debug("empty command ignored");
        return;
    }
    if (q->retained) {
        refuse_retained(l, q);
        return;
    }
    if (q->len > KG_PAYLOAD_MAX) {
        reject(l, "", "oversized command: %zu bytes, at most %d", q->len, KG_PAYLOAD_MAX);
        return;
    }
    int rc = kg_load_cmd_decode(q->data, q->len, &cmd, why, sizeof why);
    if (rc) {
        reject(l, "", "malformed command: %s", why);
        return;
    }
    switch (cmd.verb) {
    case KG_LOAD_STOP:
        kg_info("command%s%s: stop", cmd.id[0] ? " " : "", cmd.id);
        runner_stop(l->runner);
        publish_state(l);
        return;
    case KG_LOAD_STATUS:
        publish_state(l);
        return;
    case KG_LOAD_START:
    case KG_LOAD_SCENARIO: {
        struct scenario *plan = NULL;
        rc = plan_from_cmd(&cmd, &l->cfg->caps, l->cfg->scenario_dir, &plan, why, sizeof why);
        if (rc == KG_EPERM) {
            reject(l, cmd.id, "over a cap: %s", why);
            return;
        }
        if (rc) {
            reject(l, cmd.id, "invalid command: %s", why);
            return;
        }
        char what[160];
        describe(plan, what, sizeof what);
        rc = runner_start(l->runner, plan, cmd.id,
                          cmd.verb == KG_LOAD_SCENARIO ? cmd.scenario : NULL, why, sizeof why);
        if (rc) {
            reject(l, cmd.id, "cannot start: %s", why);
            return;
        }
        kg_info("command%s%s: running %s", cmd.id[0] ? " " : "", cmd.id, what);
        publish_state(l);
        return;
    }
    default:
        reject(l, cmd.id, "unknown command");
        return;
    }
}

int listen_run(const struct loadgen_config *cfg, const volatile sig_atomic_t *stop)
{
    struct listener l;
    memset(&l, 0, sizeof l);
    l.cfg = cfg;
    kg_load_state_init(&l.state);
    snprintf(l.state.node, sizeof l.state.node, "%s", cfg->node);
    int rc = kg_topic_build(l.cmd_topic, sizeof l.cmd_topic, cfg->client.prefix,
                            KG_TOPIC_LOAD_CMD, cfg->node, NULL);
    if (rc >= 0)
        rc = kg_topic_build(l.state_topic, sizeof l.state_topic, cfg->client.prefix,
                            KG_TOPIC_LOAD_STATE, cfg->node, NULL);
    if (rc < 0) {
        kg_error("invalid prefix \"%s\" or node \"%s\": %s", cfg->client.prefix, cfg->node,
                 kg_strerror(rc));
        return KG_EINVAL;
    }

    /* the will: this node's state, offline */
    struct kg_load_state off;
    kg_load_state_init(&off);
    snprintf(off.node, sizeof off.node, "%s", cfg->node);
    off.status = KG_LOADST_OFFLINE;
    off.ts_ms = kg_clock_real_ms();
    char will[KG_PAYLOAD_MAX];
    if (kg_load_state_encode(&off, will, sizeof will) < 0) {
        kg_error("cannot encode the offline state for node \"%s\"", cfg->node);
        return KG_EINVAL;
    }

    l.queue = calloc(QUEUE_MAX, sizeof *l.queue);
    if (!l.queue)
        return KG_ENOMEM;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, &attr);
    pthread_condattr_destroy(&attr);

    rc = runner_create(&cfg->caps, &l.runner);
    if (rc)
        goto out;

    struct kg_mqtt_options o;
    kg_client_mqtt_options(&cfg->client, &o);
    o.qos = 1;
    /* a handful in flight: the state is one topic, and a frozen broker then costs
     * a few messages, not one per state_interval */
    o.max_buffered = 8;
    o.protocol = 5;
    o.retain_as_published = true;
    o.will_topic = l.state_topic;
    o.will_payload = will;
    o.will_retained = true;
    o.on_message = on_message;
    o.on_connect = on_connect;
    o.ctx = &l;
    char err[KG_ERRMSG_MAX];
    rc = kg_mqtt_create(&o, &l.mqtt, err, sizeof err);
    if (rc) {
        kg_error("MQTT: %s", err);
        goto out;
    }
    if ((rc = kg_mqtt_subscribe(l.mqtt, l.cmd_topic)) || (rc = kg_mqtt_start(l.mqtt))) {
        kg_error("MQTT: cannot subscribe to %s: %s", l.cmd_topic, kg_strerror(rc));
        goto out;
    }
    kg_info("listening on %s (broker %s), state on %s", l.cmd_topic, cfg->client.broker,
            l.state_topic);

    uint64_t gen = runner_generation(l.runner);
    uint64_t next_state = 0;
    unsigned long dropped_seen = 0;
    struct queued *cur = malloc(sizeof *cur);
    if (!cur) {
        rc = KG_ENOMEM;
        goto out;
    }
    while (!*stop) {
        pthread_mutex_lock(&l.mu);
        if (l.q_count == 0 && !l.republish && !l.cleared) {
            uint64_t d = kg_clock_mono_ns() + TICK_MS * 1000000ull;
            struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
            pthread_cond_timedwait(&l.cv, &l.mu, &ts);
        }
        bool have = l.q_count > 0, repub = l.republish;
        if (have) {
            *cur = l.queue[l.q_head];
            l.q_head = (l.q_head + 1) % QUEUE_MAX;
            l.q_count--;
        }
        l.republish = false;
        bool cleared = l.cleared;
        int clear_rc = l.clear_rc, clear_reason = l.clear_reason;
        char clear_id[sizeof l.clear_id];
        memcpy(clear_id, l.clear_id, sizeof clear_id);
        l.cleared = false;
        unsigned long dropped = l.dropped;
        pthread_mutex_unlock(&l.mu);

        if (cleared)
            report_clear(&l, clear_rc, clear_reason, clear_id);
        if (dropped != dropped_seen) {
            reject(&l, "", "%lu command(s) dropped: queue full", dropped - dropped_seen);
            dropped_seen = dropped;
        }
        if (have)
            handle(&l, cur);
        uint64_t now = kg_clock_mono_ns();
        uint64_t g = runner_generation(l.runner);
        if (repub || g != gen || (runner_running(l.runner) && now >= next_state)) {
            if (g != gen && !runner_running(l.runner)) {
                struct runner_totals t;
                runner_totals(l.runner, &t);
                if (t.error[0])
                    kg_warn("load ended early: %s", t.error);
                else
                    kg_info("load ended after %.1f s", t.elapsed_s);
            }
            gen = g;
            publish_state(&l);
            next_state = now + cfg->state_interval_ms * 1000000ull;
        }
    }
    free(cur);
    kg_info("stopping");
    runner_stop(l.runner);
    off.ts_ms = kg_clock_real_ms();
    off.last_reject[0] = '\0';
    if (kg_load_state_encode(&off, will, sizeof will) >= 0)
        kg_mqtt_stop(l.mqtt, l.state_topic, will, 3000);
    rc = 0;
out:
    kg_mqtt_free(l.mqtt);
    runner_free(l.runner);
    pthread_cond_destroy(&l.cv);
    pthread_mutex_destroy(&l.mu);
    free(l.queue);
    return rc;
}
