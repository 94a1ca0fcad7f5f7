/* SPDX-License-Identifier: MIT */
/*
 * The MQTT session's waiting store: the messages beyond the window, one entry
 * per topic. At most max_buffered messages are in Paho's hands at once (queued
 * while disconnected, waiting for the socket, or in flight waiting for a
 * PUBACK); a broker that is frozen keeps the TCP connection open, so without
 * this window Paho would queue without end. Every publish first enters this
 * store: a newer message to a topic replaces the one still waiting (latest
 * value wins, as retained state does at the broker), and entries leave in
 * arrival order whenever the window has room (kg_mqtt__drain, on the caller's
 * thread, or on Paho's when a publish settles). So a stall costs one message
 * per topic, not one per publish, and per-topic order is kept: one FIFO,
 * drained by one thread at a time. A FIFO plus a hash of its entries by topic;
 * no Paho here.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "mqtt_private.h"

static uint64_t topic_hash(const char *t)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *t; t++) {
        h ^= (unsigned char)*t;
        h *= 1099511628211ull;
    }
    return h;
}

void kg_mqtt__waiting_free(struct waiting *w)
{
    if (!w)
        return;
    free(w->topic);
    free(w->payload);
    free(w);
}

/* Lock held: the waiting entry of topic, or NULL. */
static struct waiting *waiting_find_locked(struct kg_mqtt *m, const char *topic, uint64_t h)
{
    if (!m->wait_tab)
        return NULL;
    for (struct waiting *w = m->wait_tab[h & (m->wait_tab_cap - 1)]; w; w = w->hnext)
        if (w->hash == h && strcmp(w->topic, topic) == 0)
            return w;
    return NULL;
}

/* Lock held: doubles the hash table (a power of two) and re-links every entry. */
static int waiting_grow_locked(struct kg_mqtt *m)
{
    size_t cap = m->wait_tab_cap ? m->wait_tab_cap * 2 : 256;
    struct waiting **t = calloc(cap, sizeof *t);
    if (!t)
        return KG_ENOMEM;
    for (struct waiting *w = m->wait_head; w; w = w->next) {
        size_t b = w->hash & (cap - 1);
        w->hnext = t[b];
        t[b] = w;
    }
    free(m->wait_tab);
    m->wait_tab = t;
    m->wait_tab_cap = cap;
    return 0;
}

/* Lock held: takes the oldest entry off the FIFO and the hash; NULL when none. */
struct waiting *kg_mqtt__waiting_pop_locked(struct kg_mqtt *m)
{
    struct waiting *w = m->wait_head;
    if (!w)
        return NULL;
    m->wait_head = w->next;
    if (!m->wait_head)
        m->wait_tail = NULL;
    struct waiting **pp = &m->wait_tab[w->hash & (m->wait_tab_cap - 1)];
    while (*pp != w)
        pp = &(*pp)->hnext;
    *pp = w->hnext;
    m->n_waiting--;
    return w;
}

/* Lock held: a newer message replaces the waiting one w; returns the old payload
 * (the caller frees it after unlocking). */
static void *waiting_replace_locked(struct kg_mqtt *m, struct waiting *w, void *payload,
                                    size_t len, bool retain, int qos)
{
    void *old = w->payload;
    w->payload = payload;
    w->len = len;
    w->retain = retain;
    w->qos = qos;
    m->coalesced++;
    return old;
}

/* Enters one message into the waiting store: it replaces a message to the same
 * topic that still waits, else joins the end of the FIFO. The copies are made
 * before the lock is taken. 0, KG_ENOMEM, or KG_EAGAIN (too many topics wait). */
int kg_mqtt__waiting_put(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                       bool retain, int qos)
{
    void *copy = NULL;
    if (len > 0) {
        copy = malloc(len);
        if (!copy)
            return KG_ENOMEM;
        memcpy(copy, payload, len);
    }
    uint64_t h = topic_hash(topic);
    pthread_mutex_lock(&m->lock);
    struct waiting *w = waiting_find_locked(m, topic, h);
    if (w) {
        void *old = waiting_replace_locked(m, w, copy, len, retain, qos);
        pthread_mutex_unlock(&m->lock);
        free(old);
        return 0;
    }
    pthread_mutex_unlock(&m->lock);

    w = calloc(1, sizeof *w);
    char *t = strdup(topic);
    if (!w || !t) {
        free(w);
        free(t);
        free(copy);
        return KG_ENOMEM;
    }
    w->hash = h;
    w->topic = t;
    w->payload = copy;
    w->len = len;
    w->retain = retain;
    w->qos = qos;

    pthread_mutex_lock(&m->lock);
    struct waiting *again = waiting_find_locked(m, topic, h); /* another thread, meanwhile */
    int rc = 0;
    if (again) {
        w->payload = waiting_replace_locked(m, again, w->payload, len, retain, qos);
    } else if (m->n_waiting >= KG_MQTT_MAX_WAITING) {
        rc = KG_EAGAIN;
    } else if (m->n_waiting >= m->wait_tab_cap && waiting_grow_locked(m) != 0) {
        rc = KG_ENOMEM;
    } else {
        size_t b = h & (m->wait_tab_cap - 1);
        w->hnext = m->wait_tab[b];
        m->wait_tab[b] = w;
        if (m->wait_tail)
            m->wait_tail->next = w;
        else
            m->wait_head = w;
        m->wait_tail = w;
        m->n_waiting++;
        w = NULL;
    }
    pthread_mutex_unlock(&m->lock);
    kg_mqtt__waiting_free(w);
    return rc;
}

void kg_mqtt__waiting_clear(struct kg_mqtt *m)
{
    while (m->wait_head) {
        struct waiting *w = m->wait_head;
        m->wait_head = w->next;
        kg_mqtt__waiting_free(w);
    }
    m->wait_tail = NULL;
    free(m->wait_tab);
    m->wait_tab = NULL;
    m->wait_tab_cap = 0;
    m->n_waiting = 0;
}
