/* SPDX-License-Identifier: MIT */
/*
 * Publishing on the MQTT session: the checks every publish makes, the window of
 * at most max_buffered messages in Paho's hands (beyond it a message waits in
 * mqtt_waiting.c, or is refused with refuse_when_full), handing messages to
 * Paho and counting their outcomes (a settled publish lets a waiting one in),
 * publishes that report their outcome (kg_mqtt_publish_notify), flush, the
 * pacing of one thread's bursts (kg_mqtt_pace_begin), and the session's counters.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <MQTTAsync.h>

#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "mqtt_private.h"

/* MQTT's remaining-length limit, minus room for the topic and header. */
#define KG_MQTT_MAX_PAYLOAD_BYTES (268435455u - 65540u)
/* flush also asks Paho for its pending list this often, in case Paho dropped a
 * message without calling back (it can, when a clean session ends). Not more
 * often: the list walk is O(queued messages) under Paho's mutex. */
#define KG_MQTT_FLUSH_POLL_MS 100u

/* One publish has an outcome; wakes flush waiters when none is left, and lets
 * a waiting message into the room it leaves. */
static bool publish_settled(struct kg_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->outstanding > 0)
        m->outstanding--;
    if (m->outstanding == 0)
        pthread_cond_broadcast(&m->cond);
    bool stopping = m->stopping;
    bool waiting = m->wait_head != NULL;
    pthread_mutex_unlock(&m->lock);
    if (waiting && !stopping)
        kg_mqtt__drain(m);
    return stopping;
}

static void on_publish_done(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    publish_settled(context);
}

static void on_publish_failed(void *context, MQTTAsync_failureData *resp)
{
    struct kg_mqtt *m = context;
    bool stopping = publish_settled(m); /* when stopping, kg_mqtt_free counts them itself */
    if (!stopping)
        kg_complain(&m->queue_complain, KG_LOG_WARN, "mqtt: a publish to %s failed: %s", m->uri,
                    resp && resp->message ? resp->message
                                          : kg_mqtt__connack_reason(resp ? resp->code : 0));
}

static void on_publish_done5(void *context, MQTTAsync_successData5 *resp)
{
    (void)resp;
    publish_settled(context);
}

/* MQTT 5 tells a refused publish (reason code 0x80 or more in the PUBACK, e.g.
 * 0x87 not authorized) apart from a lost one; 3.1.1 acknowledges both alike. */
static void on_publish_failed5(void *context, MQTTAsync_failureData5 *resp)
{
    struct kg_mqtt *m = context;
    bool stopping = publish_settled(m);
    if (!stopping)
        kg_complain(&m->queue_complain, KG_LOG_WARN,
                    "mqtt: a publish to %s failed: %s (reason code 0x%02x)", m->uri,
                    resp && resp->message ? resp->message : "refused by the broker",
                    resp ? (unsigned)resp->reasonCode : 0u);
}

/* Lock held: takes n (may be NULL) off the list of notify publishes. */
static void notify_unlink_locked(struct kg_mqtt *m, struct notify *n)
{
    for (struct notify **pp = &m->notifies; n && *pp; pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            break;
        }
    }
}

/* A notify publish has its outcome: unlinks it, settles it, tells its caller. */
static void notify_settle(struct notify *n, int rc, int reason)
{
    struct kg_mqtt *m = n->m;
    pthread_mutex_lock(&m->lock);
    notify_unlink_locked(m, n);
    pthread_mutex_unlock(&m->lock);
    publish_settled(m);
    n->cb(n->ctx, rc, reason);
    free(n);
}

static void on_notify_done(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    notify_settle(context, 0, 0);
}

static void on_notify_failed(void *context, MQTTAsync_failureData *resp)
{
    (void)resp;
    notify_settle(context, KG_EIO, 0);
}

static void on_notify_done5(void *context, MQTTAsync_successData5 *resp)
{
    notify_settle(context, 0, resp ? (int)resp->reasonCode : 0);
}

static void on_notify_failed5(void *context, MQTTAsync_failureData5 *resp)
{
    int reason = resp ? (int)resp->reasonCode : 0;
    notify_settle(context, reason >= MQTTREASONCODE_UNSPECIFIED_ERROR ? KG_EPERM : KG_EIO, reason);
}

/* A publish about to be handed to Paho, counted before the call: its outcome
 * callback may run before MQTTAsync_sendMessage returns. */
static void count_publish_locked(struct kg_mqtt *m)
{
    m->outstanding++;
    m->publish_seq++;
}

/* Hands one message to Paho; the caller counted it with count_publish_locked.
 * With n (a linked notify), n's callback reports the outcome; when Paho refuses
 * the message at once, n is unlinked and freed here and no callback runs. */
static int publish_raw(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                       bool retain, int qos, struct notify *n)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    msg.payload = (void *)(uintptr_t)payload; /* Paho copies it; its API is not const */
    msg.payloadlen = (int)len;
    msg.qos = qos;
    msg.retained = retain;
    if (m->v5) {
        ro.onSuccess5 = n ? on_notify_done5 : on_publish_done5;
        ro.onFailure5 = n ? on_notify_failed5 : on_publish_failed5;
    } else {
        ro.onSuccess = n ? on_notify_done : on_publish_done;
        ro.onFailure = n ? on_notify_failed : on_publish_failed;
    }
    ro.context = n ? (void *)n : (void *)m;
    int rc = MQTTAsync_sendMessage(m->client, topic, &msg, &ro);
    if (rc == MQTTASYNC_SUCCESS) {
        atomic_fetch_add_explicit(&m->st_published, 1, memory_order_relaxed);
        return 0;
    }
    pthread_mutex_lock(&m->lock);
    if (m->outstanding > 0)
        m->outstanding--;
    notify_unlink_locked(m, n);
    pthread_mutex_unlock(&m->lock);
    free(n);
    atomic_fetch_add_explicit(&m->st_publish_failed, 1, memory_order_relaxed);
    switch (rc) {
    case MQTTASYNC_MAX_BUFFERED_MESSAGES:
        kg_complain(&m->queue_complain, KG_LOG_WARN,
                    "mqtt: %d messages already queued for %s; dropping new ones", m->max_buffered,
                    m->uri);
        return KG_EAGAIN;
    case MQTTASYNC_BAD_UTF8_STRING:
    case MQTTASYNC_TOPICNAME_TRUNCATED:
    case MQTTASYNC_BAD_QOS:
        return KG_EINVAL;
    default:
        kg_complain(&m->queue_complain, KG_LOG_WARN, "mqtt: cannot queue a message for %s: %s",
                    m->uri, MQTTAsync_strerror(rc));
        return KG_EAGAIN;
    }
}

int kg_mqtt__publish_now(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                         bool retain, int qos)
{
    pthread_mutex_lock(&m->lock);
    count_publish_locked(m);
    pthread_mutex_unlock(&m->lock);
    return publish_raw(m, topic, payload, len, retain, qos, NULL);
}

int kg_mqtt_publish(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                    bool retain)
{
    return kg_mqtt_publish_qos(m, topic, payload, len, retain, m ? m->qos : 0);
}

/* Hands waiting messages to Paho, oldest first, while the window has room. One
 * thread at a time: a thread that finds another draining leaves it the work, and
 * the drainer looks again after letting go, so no room goes unused. Never
 * blocks on a lock held across a Paho call (Paho calls us back with its mutex
 * held), so it is safe from callbacks. */
void kg_mqtt__drain(struct kg_mqtt *m)
{
    for (;;) {
        if (pthread_mutex_trylock(&m->send_lock) != 0)
            return;
        for (;;) {
            pthread_mutex_lock(&m->lock);
            struct waiting *w = NULL;
            if (!m->stopping && m->state != ST_STOPPED &&
                m->outstanding < (uint64_t)m->max_buffered)
                w = kg_mqtt__waiting_pop_locked(m);
            if (w)
                count_publish_locked(m);
            pthread_mutex_unlock(&m->lock);
            if (!w)
                break;
            publish_raw(m, w->topic, w->payload, w->len, w->retain, w->qos, NULL);
            kg_mqtt__waiting_free(w);
        }
        pthread_mutex_unlock(&m->send_lock);
        pthread_mutex_lock(&m->lock);
        bool more = m->wait_head && !m->stopping && m->state != ST_STOPPED &&
                    m->outstanding < (uint64_t)m->max_buffered;
        pthread_mutex_unlock(&m->lock);
        if (!more)
            return;
    }
}

/* Lock held: whether the calling thread's publish waits first (see
 * kg_mqtt_pace_begin); the wait's deadline, or 0 for none. */
static uint64_t pace_due_locked(struct kg_mqtt *m)
{
    struct pace *p = &m->pace;
    if (!atomic_load_explicit(&m->pacing, memory_order_relaxed) ||
        !pthread_equal(p->owner, pthread_self()) || m->stopping || m->state == ST_STOPPED)
        return 0;
    uint64_t i = p->counted++;
    if (i == 0 || i % p->opt.batch != 0 || (p->opt.cancel && *p->opt.cancel))
        return 0;
    uint64_t now = now_ms();
    if (now >= p->until_ms)
        return 0;
    uint64_t until = now + p->opt.wait_ms;
    return until < p->until_ms ? until : p->until_ms;
}

/* Before a publish: the pacing thread waits for what it sent before, every
 * batch messages. Any other thread, Paho's included, passes on one relaxed load. */
static void pace_wait(struct kg_mqtt *m)
{
    if (!atomic_load_explicit(&m->pacing, memory_order_relaxed))
        return;
    pthread_mutex_lock(&m->lock);
    uint64_t until = pace_due_locked(m);
    pthread_mutex_unlock(&m->lock);
    if (until)
        kg_mqtt__flush_until(m, until);
}

int kg_mqtt_pace_begin(struct kg_mqtt *m, const struct kg_mqtt_pace *pace)
{
    if (!m || !pace || pace->batch == 0)
        return KG_EINVAL;
    pthread_t self = pthread_self();
    pthread_mutex_lock(&m->lock);
    if (atomic_load_explicit(&m->pacing, memory_order_relaxed) &&
        !pthread_equal(m->pace.owner, self)) {
        pthread_mutex_unlock(&m->lock);
        return KG_ESTATE;
    }
    m->pace.owner = self;
    m->pace.opt = *pace;
    m->pace.until_ms = now_ms() + pace->budget_ms;
    m->pace.counted = 0;
    atomic_store_explicit(&m->pacing, true, memory_order_relaxed);
    pthread_mutex_unlock(&m->lock);
    return 0;
}

void kg_mqtt_pace_end(struct kg_mqtt *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    if (atomic_load_explicit(&m->pacing, memory_order_relaxed) &&
        pthread_equal(m->pace.owner, pthread_self()))
        atomic_store_explicit(&m->pacing, false, memory_order_relaxed);
    pthread_mutex_unlock(&m->lock);
}

/* The checks and the hand-over shared by every publish; cb may be NULL. */
static int publish_checked(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                           bool retain, int qos, kg_mqtt_result_cb cb, void *ctx)
{
    if (!m)
        return KG_EINVAL;
    if (qos != 0 && qos != 1) {
        atomic_fetch_add_explicit(&m->st_publish_failed, 1, memory_order_relaxed);
        return KG_EINVAL;
    }
    if (!topic || (len > 0 && !payload) || len > KG_MQTT_MAX_PAYLOAD_BYTES ||
        !kg_mqtt_topic_valid(topic, strlen(topic))) {
        atomic_fetch_add_explicit(&m->st_publish_failed, 1, memory_order_relaxed);
        return KG_EINVAL;
    }
    pace_wait(m);
    struct notify *n = NULL;
    if (cb) {
        n = calloc(1, sizeof *n);
        if (!n)
            return KG_ENOMEM;
        n->m = m;
        n->cb = cb;
        n->ctx = ctx;
    }
    pthread_mutex_lock(&m->lock);
    bool closed = m->stopping || m->state == ST_STOPPED;
    if (!closed && n) { /* a notify publish goes straight to Paho, never coalesced */
        count_publish_locked(m);
        n->next = m->notifies;
        m->notifies = n;
    }
    pthread_mutex_unlock(&m->lock);
    if (closed) {
        free(n);
        atomic_fetch_add_explicit(&m->st_publish_failed, 1, memory_order_relaxed);
        return KG_ESTATE;
    }
    if (n)
        return publish_raw(m, topic, payload, len, retain, qos, n);
    if (m->refuse_when_full) {
        pthread_mutex_lock(&m->lock);
        bool room = m->n_waiting == 0 && m->outstanding < (uint64_t)m->max_buffered;
        if (room)
            count_publish_locked(m);
        pthread_mutex_unlock(&m->lock);
        if (!room) {
            atomic_fetch_add_explicit(&m->st_publish_failed, 1, memory_order_relaxed);
            return KG_EAGAIN;
        }
        return publish_raw(m, topic, payload, len, retain, qos, NULL);
    }
    int rc = kg_mqtt__waiting_put(m, topic, payload, len, retain, qos);
    if (rc) {
        atomic_fetch_add_explicit(&m->st_publish_failed, 1, memory_order_relaxed);
        if (rc == KG_EAGAIN)
            kg_complain(&m->queue_complain, KG_LOG_WARN,
                        "mqtt: %u topics already wait for %s; dropping messages to new ones",
                        KG_MQTT_MAX_WAITING, m->uri);
        return rc;
    }
    kg_mqtt__drain(m);
    return 0;
}

int kg_mqtt_publish_qos(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                        bool retain, int qos)
{
    return publish_checked(m, topic, payload, len, retain, qos, NULL, NULL);
}

int kg_mqtt_publish_notify(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                           bool retain, kg_mqtt_result_cb cb, void *ctx)
{
    if (!cb)
        return KG_EINVAL;
    return publish_checked(m, topic, payload, len, retain, 1, cb, ctx);
}

/* Number of publishes Paho still holds (queued or awaiting PUBACK). */
size_t kg_mqtt__pending_count(struct kg_mqtt *m)
{
    MQTTAsync_token *tokens = NULL;
    size_t n = 0;
    if (MQTTAsync_getPendingTokens(m->client, &tokens) != MQTTASYNC_SUCCESS)
        return 0;
    if (tokens) {
        while (tokens[n] != -1)
            n++;
        MQTTAsync_free(tokens);
    }
    return n;
}

/* Paho's pending list is the authority (it also drops messages without calling
 * back when a clean session ends); our outstanding count only tells us when it is
 * worth asking, so the O(queued) list walk runs about once per 100 ms. */
int kg_mqtt__flush_until(struct kg_mqtt *m, uint64_t deadline)
{
    for (;;) {
        kg_mqtt__drain(m);
        pthread_mutex_lock(&m->lock);
        uint64_t seq = m->publish_seq;
        pthread_mutex_unlock(&m->lock);
        if (kg_mqtt__pending_count(m) == 0) {
            pthread_mutex_lock(&m->lock);
            if (m->publish_seq == seq) /* forget a count Paho never settled */
                m->outstanding = 0;
            /* a stopping session sends nothing more: what waits is discarded */
            bool done = !m->wait_head || m->stopping || m->state == ST_STOPPED;
            pthread_mutex_unlock(&m->lock);
            if (done)
                return 0;
            if (now_ms() >= deadline)
                return KG_ETIMEDOUT;
            continue; /* room again: the next drain sends what waits */
        }
        uint64_t now = now_ms();
        if (now >= deadline)
            return KG_ETIMEDOUT;
        uint64_t until = now + KG_MQTT_FLUSH_POLL_MS;
        if (until > deadline)
            until = deadline;
        pthread_mutex_lock(&m->lock);
        if (m->outstanding == 0) {
            wait_until(m, until); /* the count is out of step with Paho: just poll */
        } else {
            while (m->outstanding > 0 && now_ms() < until)
                wait_until(m, until);
        }
        pthread_mutex_unlock(&m->lock);
    }
}

int kg_mqtt_flush(struct kg_mqtt *m, uint32_t timeout_ms)
{
    if (!m)
        return KG_EINVAL;
    return kg_mqtt__flush_until(m, now_ms() + timeout_ms);
}

void kg_mqtt_get_stats(const struct kg_mqtt *m, struct kg_mqtt_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!m)
        return;
    out->published = atomic_load_explicit(&m->st_published, memory_order_relaxed);
    out->publish_failed = atomic_load_explicit(&m->st_publish_failed, memory_order_relaxed);
    out->received = atomic_load_explicit(&m->st_received, memory_order_relaxed);
    out->connects = atomic_load_explicit(&m->st_connects, memory_order_relaxed);
    out->connection_lost = atomic_load_explicit(&m->st_lost, memory_order_relaxed);
    struct kg_mqtt *mm = (struct kg_mqtt *)m; /* locking is not a logical change */
    pthread_mutex_lock(&mm->lock);
    out->coalesced = mm->coalesced;
    out->waiting = mm->n_waiting;
    pthread_mutex_unlock(&mm->lock);
}
