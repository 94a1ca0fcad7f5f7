/* SPDX-License-Identifier: MIT */
/*
 * The session's own delivery thread (kg_mqtt_options.deliver_bytes). Paho reads
 * a packet and calls back on one thread, so without it a subscriber's work per
 * message and Paho's reading of the next packet take turns on one core. With
 * it, Paho's receive thread only copies topic and payload into a ring of bytes
 * and goes back to reading, while this thread runs on_message, on_connect,
 * on_synced and on_lost in the order Paho reported them (on_synced still comes
 * after every retained message of its connect).
 *
 * Copies, not Paho's messages: Paho's allocator keeps a global lock, and
 * freeing its messages here made both threads queue on it. The ring has a fixed
 * size and allocates nothing per message; a message that does not fit in a
 * quarter of it gets a copy of its own.
 *
 * Bounded: when the ring is full Paho's receive thread waits for room, holding
 * Paho's global lock (Paho holds it around every callback), so the callbacks
 * delivered from here must not call into Paho (kg_mqtt_publish,
 * kg_mqtt_subscribe). It is not a store: what is still queued when the session
 * is freed is dropped, as unread packets are.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "mqtt_private.h"

/* Records the delivery thread takes off the ring under one lock. */
#define DELIVER_BATCH 64
/* Waking a thread is a system call (costly in a VM): while records keep coming,
 * the delivery thread is woken once DELIVER_BATCH of them wait, or looks again
 * after DELIVER_LINGER_NS; only after that idle look does every record wake it. */
#define DELIVER_LINGER_NS 2000000L
#define REC_ALIGN 16u

enum rec_kind { R_WRAP = 0, R_MESSAGE, R_CONNECT, R_SYNCED, R_LOST };

/* One record in the ring: this header, then the topic, a NUL and the payload
 * (unless ext holds them). size 0 (R_WRAP) or the end of the ring: go on at 0. */
struct rec {
    uint32_t size;              /* bytes of the record, header included, aligned */
    uint8_t kind;               /* enum rec_kind */
    bool flag;                  /* R_MESSAGE: retained; R_CONNECT: reconnect */
    size_t topic_len, len;
    char *ext;                  /* owned, or NULL: a message too big for the ring
                                 * (topic, NUL, payload), or R_LOST's cause */
};

struct kg_mqtt_deliver {
    pthread_mutex_t lock;
    pthread_cond_t more;        /* the delivery thread waits for records */
    pthread_cond_t room;        /* Paho's receive thread waits for room */
    char *buf;                  /* the ring: cap bytes, aligned records */
    size_t cap;
    size_t wpos;                /* where the next record goes */
    size_t cpos;                /* the next record to take */
    size_t rpos;                /* the oldest record not delivered yet */
    size_t n;                   /* records put and not taken yet */
    bool quit;
    bool taker_waits, giver_waits; /* signal only a thread that sleeps */
    bool taker_lingers;         /* the delivery thread looks again soon by itself */
    pthread_t thread;
};

static size_t align_up(size_t x)
{
    return (x + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
}

static struct rec *rec_at(struct kg_mqtt_deliver *d, size_t off)
{
    return (struct rec *)(void *)(d->buf + off);
}

static void rec_run(struct kg_mqtt *m, struct rec *r)
{
    const char *topic = r->ext ? r->ext : (const char *)(r + 1);
    switch (r->kind) {
    case R_MESSAGE:
        if (m->on_message)
            m->on_message(m->ctx, topic, r->topic_len, topic + r->topic_len + 1, r->len, r->flag);
        break;
    case R_CONNECT:
        if (m->on_connect)
            m->on_connect(m->ctx, r->flag);
        break;
    case R_SYNCED:
        if (m->on_synced)
            m->on_synced(m->ctx);
        break;
    case R_LOST:
        if (m->on_lost)
            m->on_lost(m->ctx, r->ext);
        break;
    default:
        break;
    }
    free(r->ext);
}

/* Lock held, n > 0: the offset of the next record to take, past a wrap. */
static size_t next_record(struct kg_mqtt_deliver *d)
{
    if (d->cpos == d->cap || rec_at(d, d->cpos)->kind == R_WRAP)
        d->cpos = 0;
    return d->cpos;
}

static void *deliver_main(void *arg)
{
    struct kg_mqtt *m = arg;
    struct kg_mqtt_deliver *d = m->deliver;
    size_t batch[DELIVER_BATCH];
    pthread_mutex_lock(&d->lock);
    for (;;) {
        if (d->n == 0 && !d->quit) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += DELIVER_LINGER_NS;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            d->taker_lingers = true;
            pthread_cond_timedwait(&d->more, &d->lock, &ts);
            d->taker_lingers = false;
        }
        while (d->n == 0 && !d->quit) {
            d->taker_waits = true;
            pthread_cond_wait(&d->more, &d->lock);
            d->taker_waits = false;
        }
        if (d->quit)
            break;
        size_t k = 0;
        while (d->n > 0 && k < DELIVER_BATCH) {
            size_t off = next_record(d);
            batch[k++] = off;
            d->cpos = off + rec_at(d, off)->size;
            d->n--;
        }
        size_t end = d->cpos;
        pthread_mutex_unlock(&d->lock);
        /* the records stay put until rpos passes them */
        for (size_t i = 0; i < k; i++)
            rec_run(m, rec_at(d, batch[i]));
        pthread_mutex_lock(&d->lock);
        d->rpos = end;
        if (d->giver_waits)
            pthread_cond_signal(&d->room);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* Lock held: the offset where a record of size bytes fits now, or cap when
 * there is no room yet. Records live in [rpos, wpos), or, once wrapped, in
 * [rpos, the wrap) and [0, wpos); wpos never catches up with rpos from below,
 * so wpos == rpos means empty. */
static size_t room_for(struct kg_mqtt_deliver *d, size_t size)
{
    if (d->wpos == d->rpos && d->n == 0 && d->cpos == d->wpos)
        d->wpos = d->rpos = d->cpos = 0; /* all delivered: start over */
    if (d->wpos >= d->rpos) {
        if (size <= d->cap - d->wpos)
            return d->wpos;
        if (size < d->rpos) {
            if (d->wpos < d->cap)
                rec_at(d, d->wpos)->kind = R_WRAP;
            return 0;
        }
        return d->cap;
    }
    return d->wpos + size < d->rpos ? d->wpos : d->cap;
}

/* Puts one record, waiting for room: topic (topic_len bytes, then a NUL) and
 * payload are copied, ext passes to the ring (freed once delivered). */
static void put(struct kg_mqtt_deliver *d, enum rec_kind kind, bool flag, const char *topic,
                size_t topic_len, const void *payload, size_t len, char *ext)
{
    size_t size = align_up(sizeof(struct rec) + (ext ? 0 : topic_len + 1 + len));
    pthread_mutex_lock(&d->lock);
    size_t off;
    while ((off = room_for(d, size)) == d->cap && !d->quit) {
        d->giver_waits = true;
        pthread_cond_wait(&d->room, &d->lock);
        d->giver_waits = false;
    }
    if (d->quit) { /* freeing: nobody delivers any more */
        pthread_mutex_unlock(&d->lock);
        free(ext);
        return;
    }
    struct rec *r = rec_at(d, off);
    *r = (struct rec){(uint32_t)size, (uint8_t)kind, flag, topic_len, len, ext};
    if (!ext && kind == R_MESSAGE) {
        char *p = (char *)(r + 1);
        memcpy(p, topic, topic_len);
        p[topic_len] = '\0';
        if (len)
            memcpy(p + topic_len + 1, payload, len);
    }
    d->wpos = off + size;
    d->n++;
    if (d->taker_waits || (d->taker_lingers && d->n >= DELIVER_BATCH))
        pthread_cond_signal(&d->more);
    pthread_mutex_unlock(&d->lock);
}

int kg_mqtt__deliver_start(struct kg_mqtt *m, size_t bytes)
{
    struct kg_mqtt_deliver *d = calloc(1, sizeof(*d));
    size_t cap = align_up(bytes < 4096 ? 4096 : bytes);
    if (!d || !(d->buf = malloc(cap))) {
        free(d);
        return KG_ENOMEM;
    }
    d->cap = cap;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->more, &ca);
    pthread_cond_init(&d->room, NULL);
    pthread_condattr_destroy(&ca);
    m->deliver = d;
    if (pthread_create(&d->thread, NULL, deliver_main, m) != 0) {
        m->deliver = NULL;
        pthread_cond_destroy(&d->more);
        pthread_cond_destroy(&d->room);
        pthread_mutex_destroy(&d->lock);
        free(d->buf);
        free(d);
        return KG_ENOMEM;
    }
    return 0;
}

void kg_mqtt__deliver_stop(struct kg_mqtt *m)
{
    struct kg_mqtt_deliver *d = m->deliver;
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->quit = true;
    pthread_cond_broadcast(&d->more);
    pthread_cond_broadcast(&d->room);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    for (; d->n > 0; d->n--) {
        size_t off = next_record(d);
        free(rec_at(d, off)->ext);
        d->cpos = off + rec_at(d, off)->size;
    }
    pthread_cond_destroy(&d->more);
    pthread_cond_destroy(&d->room);
    pthread_mutex_destroy(&d->lock);
    free(d->buf);
    free(d);
    m->deliver = NULL;
}

void kg_mqtt__deliver_message(struct kg_mqtt *m, const char *topic, size_t topic_len,
                              const void *payload, size_t len, bool retained)
{
    char *ext = NULL;
    if (topic_len + 1 + len > m->deliver->cap / 4) {
        ext = malloc(topic_len + 1 + len);
        if (!ext) {
            kg_warn("mqtt: out of memory: a message of %zu bytes on %s dropped", len, m->uri);
            return;
        }
        memcpy(ext, topic, topic_len);
        ext[topic_len] = '\0';
        if (len)
            memcpy(ext + topic_len + 1, payload, len);
    }
    put(m->deliver, R_MESSAGE, retained, topic, topic_len, payload, len, ext);
}

void kg_mqtt__deliver_connect(struct kg_mqtt *m, bool reconnect)
{
    put(m->deliver, R_CONNECT, reconnect, NULL, 0, NULL, 0, NULL);
}

void kg_mqtt__deliver_synced(struct kg_mqtt *m)
{
    put(m->deliver, R_SYNCED, false, NULL, 0, NULL, 0, NULL);
}

void kg_mqtt__deliver_lost(struct kg_mqtt *m, const char *cause)
{
    char *copy = cause ? strdup(cause) : NULL;
    if (cause && !copy)
        kg_warn("mqtt: out of memory copying why the connection to %s was lost", m->uri);
    put(m->deliver, R_LOST, false, NULL, 0, NULL, 0, copy);
}
