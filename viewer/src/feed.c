/* SPDX-License-Identifier: MIT */
/*
 * The feed (feed.h): the model's settings, the session's callbacks into the
 * model, the connected and synced state, and the wake that lets a front end's
 * loop sleep until the model changed. Not the loop itself, nor any drawing.
 */
#include "feed.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/topic.h"

const char *const feed_source_choices[] = {"vms", "summaries", NULL};

void feed_config_defaults(struct feed_config *c)
{
    alerts_rules_default(&c->rules); /* what the alert_* defaults say */
}

int feed_config_check(struct feed_config *c, const char *path, char *errmsg, size_t errlen)
{
    const char *text[ALERTS_METRICS];
    text[ALERTS_CPU] = c->alert_cpu;
    text[ALERTS_MEM] = c->alert_mem;
    text[ALERTS_STEAL] = c->alert_steal;
    text[ALERTS_DISK_LAT] = c->alert_disk_latency;
    for (int k = 0; k < ALERTS_METRICS; k++) {
        char why[200];
        if (alerts_rule_parse(text[k], &c->rules.r[k], why, sizeof(why)) != 0)
            return kg_config_error(path, alerts_kind_key((enum alerts_kind)k), KG_EINVAL, errmsg,
                                   errlen, "%s", why);
    }
    c->rules.stale = c->alert_stale;
    c->rules.offline = c->alert_offline;
    return 0;
}

int feed_model_create(const struct feed_config *c, const char *prefix, struct model **out)
{
    int rc = model_create(prefix, (uint32_t)c->stale_intervals,
                          (double)c->interval_ms / 1000.0, out);
    if (rc != 0)
        return rc;
    model_set_caps(*out, (uint32_t)c->max_hosts, (uint32_t)c->max_vms);
    model_set_alert_rules(*out, &c->rules);
    model_set_source(*out, (enum model_source)c->source);
    return 0;
}

/* ---- the wake ------------------------------------------------------------ */

static void wake_init(struct feed_wake *k)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&k->pending, false);
    k->sleeping = false;
    k->ready = true;
}

static void wake_destroy(struct feed_wake *k)
{
    if (!k->ready)
        return;
    pthread_cond_destroy(&k->cond);
    pthread_mutex_destroy(&k->lock);
    k->ready = false;
}

static void wake_post(struct feed_wake *k)
{
    if (atomic_exchange(&k->pending, true))
        return; /* the loop has not looked since: it will see this change too */
    pthread_mutex_lock(&k->lock);
    if (k->sleeping)
        pthread_cond_signal(&k->cond);
    pthread_mutex_unlock(&k->lock);
}

void feed_wait(struct feed *f, uint64_t not_before_ms, uint64_t until_ms)
{
    struct feed_wake *k = &f->wake;
    pthread_mutex_lock(&k->lock);
    for (;;) {
        uint64_t now = kg_clock_mono_ms();
        if (now >= until_ms || (now >= not_before_ms && atomic_load(&k->pending)))
            break;
        uint64_t dl = now < not_before_ms ? not_before_ms : until_ms;
        struct timespec ts = {(time_t)(dl / 1000u), (long)(dl % 1000u) * 1000000L};
        k->sleeping = now >= not_before_ms;
        pthread_cond_timedwait(&k->cond, &k->lock, &ts);
        k->sleeping = false;
    }
    atomic_store(&k->pending, false); /* what arrives from now on is for the next frame */
    pthread_mutex_unlock(&k->lock);
}

/* ---- the session's callbacks ---------------------------------------------- */

static void on_message(void *ctx, const char *topic, size_t topic_len, const void *payload,
                       size_t len, bool retained)
{
    struct feed *f = ctx;
    model_apply(f->model, topic, topic_len, payload, len, retained, kg_clock_mono_ms());
    wake_post(&f->wake);
}

static void on_connect(void *ctx, bool reconnect)
{
    struct feed *f = ctx;
    uint64_t now = kg_clock_mono_ms();
    model_sync_begin(f->model, now);
    atomic_store(&f->synced, 0);
    atomic_store(&f->connected_ms, now);
    atomic_store(&f->connected, 1);
    wake_post(&f->wake);
    kg_info("%s to the broker", reconnect ? "reconnected" : "connected");
}

/* Every retained message of this connect has arrived: VMs the broker no longer
 * holds (removed while the viewer was away, or lost by a broker restart) go. */
static void on_synced(void *ctx)
{
    struct feed *f = ctx;
    uint32_t gone = model_sync_end(f->model);
    atomic_store(&f->synced, 1);
    wake_post(&f->wake);
    if (gone)
        kg_info("removed %u VMs the broker no longer holds (gone while disconnected)", gone);
}

static void on_lost(void *ctx, const char *cause)
{
    struct feed *f = ctx;
    atomic_store(&f->connected, 0);
    atomic_store(&f->synced, 0);
    wake_post(&f->wake);
    kg_warn("connection lost: %s", cause ? cause : "unknown cause");
}

/* ---- life cycle ------------------------------------------------------------ */

int feed_open(struct feed *f, const struct kg_client *c, struct model *m, size_t deliver_bytes,
              char *errmsg, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    f->model = m;
    atomic_init(&f->connected, 0);
    atomic_init(&f->synced, 0);
    atomic_init(&f->connected_ms, 0);
    wake_init(&f->wake); /* before the first callback can post */
    struct kg_mqtt_options mo;
    kg_client_mqtt_options(c, &mo);
    mo.qos = 0; /* a viewer only reads; QoS 0 keeps a retained burst fast */
    mo.deliver_bytes = deliver_bytes;
    mo.on_message = on_message;
    mo.on_connect = on_connect;
    mo.on_synced = on_synced;
    mo.on_lost = on_lost;
    mo.ctx = f;
    if (kg_mqtt_create(&mo, &f->mq, errmsg, errlen) != 0) {
        f->mq = NULL;
        return KG_EINVAL;
    }
    return 0;
}

int feed_start(struct feed *f, const char *prefix)
{
    char filter[KG_TOPIC_MAX];
    int rc = 0;
    if (f->model->source == MODEL_SOURCE_SUMMARIES) {
        /* a region's wall: no per-VM topic crosses the bridges, nor is read here */
        static const enum kg_topic_kind kinds[] = {KG_TOPIC_SUMMARY, KG_TOPIC_STATUS,
                                                   KG_TOPIC_LOAD_STATE, KG_TOPIC_LINK};
        for (size_t i = 0; rc == 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            if (kg_topic_filter_kind(filter, sizeof(filter), prefix, kinds[i]) < 0)
                return KG_EINVAL;
            rc = kg_mqtt_subscribe(f->mq, filter);
        }
    } else {
        if (kg_topic_filter_all(filter, sizeof(filter), prefix) < 0)
            return KG_EINVAL;
        rc = kg_mqtt_subscribe(f->mq, filter);
    }
    return rc != 0 ? rc : kg_mqtt_start(f->mq);
}

void feed_close(struct feed *f)
{
    if (f->mq != NULL) {
        kg_mqtt_stop(f->mq, NULL, NULL, 1000);
        kg_mqtt_free(f->mq); /* no more callbacks into the model after this */
        f->mq = NULL;
    }
    wake_destroy(&f->wake); /* no callback posts any more */
}

bool feed_connected(struct feed *f)
{
    return atomic_load(&f->connected) != 0;
}

bool feed_synced(struct feed *f)
{
    return atomic_load(&f->connected) != 0 && atomic_load(&f->synced) != 0;
}

/* last_retained_ms and connected_ms come from the MQTT thread's own clock
 * readings and may be newer than now: such a difference is 0, not a huge
 * unsigned number (that wrap-around once called bursts complete after a few
 * thousand of 100,000 messages). */
bool feed_settled(struct feed *f, uint64_t now, uint64_t settle_ms, uint64_t empty_ms)
{
    struct model *m = f->model;
    bool settled = false;
    model_lock(m);
    uint64_t cms = atomic_load(&f->connected_ms);
    if (feed_connected(f) && cms > 0) {
        if (m->retained_seen > 0)
            settled = now > m->last_retained_ms && now - m->last_retained_ms >= settle_ms;
        else
            settled = now > cms && now - cms >= empty_ms;
    }
    model_unlock(m);
    return settled;
}
