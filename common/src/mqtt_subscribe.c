/* SPDX-License-Identifier: MIT */
/*
 * The MQTT session's subscriptions: the registered filters, renewed with one
 * SUBSCRIBE after every connect (the session is ready, and on_connect runs,
 * once the broker answered it; a refused filter is said, not silent), and the
 * UNSUBSCRIBE whose acknowledgement tells that every retained message of the
 * connect has arrived (on_synced), of the snapshot filters when there are some.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <MQTTAsync.h>

#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "mqtt_private.h"

/* The UNSUBACK that follows the retained messages of this connect's SUBSCRIBE. */
static void synced(struct kg_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    bool up = m->state == ST_READY && !m->stopping;
    pthread_mutex_unlock(&m->lock);
    if (up && m->on_synced && m->deliver)
        kg_mqtt__deliver_synced(m); /* after the retained messages queued before it */
    else if (up && m->on_synced)
        m->on_synced(m->ctx);
}

static void on_unsubscribed(void *context, MQTTAsync_successData *resp)
{
    (void)resp;
    synced(context);
}

static void on_unsubscribed5(void *context, MQTTAsync_successData5 *resp)
{
    (void)resp;
    synced(context);
}

/* A topic filter nobody subscribes to: unsubscribing from it costs the broker
 * nothing and still gets an UNSUBACK, in order (MQTT 3.1.1 3.10.4). */
#define SYNC_MARKER_FILTER "$kvmgrid/sync"

/* Sends the UNSUBSCRIBE whose acknowledgement means "every retained message of
 * this connect has arrived": of the snapshot filters when there are some (so
 * their live messages stop), else of a filter nobody uses. */
static void request_sync(struct kg_mqtt *m)
{
    if (!m->on_synced && !m->n_snapshots)
        return;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = m;
    if (m->v5)
        ro.onSuccess5 = on_unsubscribed5;
    else
        ro.onSuccess = on_unsubscribed;
    int rc = m->n_snapshots ? MQTTAsync_unsubscribeMany(m->client, (int)m->n_snapshots,
                                                        m->snapshot_filters, &ro)
                            : MQTTAsync_unsubscribe(m->client, SYNC_MARKER_FILTER, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        kg_warn("mqtt: cannot send UNSUBSCRIBE to %s: %s", m->uri, MQTTAsync_strerror(rc));
}

static void ready(struct kg_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->state != ST_SUBSCRIBING || m->stopping) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    m->state = ST_READY;
    bool reconnect = m->up_is_reconnect;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    if (m->on_connect && m->deliver)
        kg_mqtt__deliver_connect(m, reconnect);
    else if (m->on_connect)
        m->on_connect(m->ctx, reconnect);
    request_sync(m);
}

/* The SUBACK of the renewed subscriptions: the broker grants or refuses each
 * filter (3.1.1: 0x80; MQTT 5: a reason code of 0x80 or more, e.g. refused by an
 * ACL); a refusal would otherwise leave a silent, empty subscription. */
static void subscribed(struct kg_mqtt *m, size_t refused, size_t n)
{
    if (refused)
        kg_complain(&m->sub_complain, KG_LOG_ERROR,
                    "mqtt: broker %s refused %zu of %zu subscriptions (not authorized?)", m->uri,
                    refused, n);
    ready(m);
}

static size_t renewing(struct kg_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->renewing;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static void on_subscribed(void *context, MQTTAsync_successData *resp)
{
    struct kg_mqtt *m = context;
    size_t n = renewing(m), refused = 0;
    if (resp && n == 1 && resp->alt.qos == MQTT_BAD_SUBSCRIBE)
        refused = 1;
    for (size_t i = 0; resp && n > 1 && resp->alt.qosList && i < n; i++)
        if (resp->alt.qosList[i] == MQTT_BAD_SUBSCRIBE)
            refused++;
    subscribed(m, refused, n);
}

static void on_subscribed5(void *context, MQTTAsync_successData5 *resp)
{
    struct kg_mqtt *m = context;
    size_t n = renewing(m), refused = 0;
    if (resp && n == 1 && resp->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR)
        refused = 1;
    for (size_t i = 0; resp && n > 1 && resp->alt.sub.reasonCodes &&
                       i < (size_t)resp->alt.sub.reasonCodeCount; i++)
        if (resp->alt.sub.reasonCodes[i] >= MQTTREASONCODE_UNSPECIFIED_ERROR)
            refused++;
    subscribed(m, refused, n);
}

static void on_subscribe_failed(void *context, MQTTAsync_failureData *resp)
{
    struct kg_mqtt *m = context;
    kg_complain(&m->sub_complain, KG_LOG_ERROR, "mqtt: broker %s refused a subscription: %s",
                m->uri, resp && resp->message ? resp->message
                                              : (resp && resp->code == MQTT_BAD_SUBSCRIBE
                                                     ? "not authorized or invalid filter"
                                                     : "no reason given"));
    ready(m);
}

static void on_one_subscribe_failed(void *context, MQTTAsync_failureData *resp)
{
    struct kg_mqtt *m = context;
    kg_complain(&m->sub_complain, KG_LOG_ERROR, "mqtt: broker %s refused a subscription: %s",
                m->uri, resp && resp->message ? resp->message : "not authorized or invalid filter");
}

static void on_one_subscribe_failed5(void *context, MQTTAsync_failureData5 *resp)
{
    struct kg_mqtt *m = context;
    kg_complain(&m->sub_complain, KG_LOG_ERROR,
                "mqtt: broker %s refused a subscription: %s (reason code 0x%02x)", m->uri,
                resp && resp->message ? resp->message : "not authorized or invalid filter",
                resp ? (unsigned)resp->reasonCode : 0u);
}

/* The renewed subscriptions were refused as a whole: said, and the session is
 * ready anyway (publishing does not depend on them). */
static void on_subscribe_failed5(void *context, MQTTAsync_failureData5 *resp)
{
    on_one_subscribe_failed5(context, resp);
    ready(context);
}

/* Response options for SUBSCRIBE: Paho refuses the 3.1.1 result callbacks on an
 * MQTT 5 session and the other way round. With MQTT 5 every filter of a
 * SUBSCRIBE gets the session's subscription options (opts holds n of them). */
static void subscribe_response(struct kg_mqtt *m, MQTTAsync_responseOptions *ro, bool renew,
                               MQTTSubscribe_options *opts, size_t n)
{
    ro->context = m;
    if (!m->v5) {
        ro->onSuccess = renew ? on_subscribed : NULL;
        ro->onFailure = renew ? on_subscribe_failed : on_one_subscribe_failed;
        return;
    }
    ro->onSuccess5 = renew ? on_subscribed5 : NULL;
    ro->onFailure5 = renew ? on_subscribe_failed5 : on_one_subscribe_failed5;
    MQTTSubscribe_options o = MQTTSubscribe_options_initializer;
    /* the broker keeps the publisher's retain flag on live messages */
    o.retainAsPublished = m->retain_as_published ? 1 : 0;
    for (size_t i = 0; i < n; i++)
        opts[i] = o;
    ro->subscribeOptions = o;
    if (n > 1) {
        ro->subscribeOptionsList = opts;
        ro->subscribeOptionsCount = (int)n;
    }
}

size_t kg_mqtt__filters_copy_locked(struct kg_mqtt *m, char ***snapp, int **qosp)
{
    size_t n = m->n_filters + m->n_snapshots;
    char **snap = NULL;
    int *qos = NULL;
    if (n > 0) {
        snap = calloc(n, sizeof *snap);
        qos = calloc(n, sizeof *qos);
        for (size_t i = 0; snap && qos && i < n; i++) {
            bool snapshot = i >= m->n_filters; /* the last ones */
            snap[i] = strdup(snapshot ? m->snapshot_filters[i - m->n_filters] : m->filters[i]);
            qos[i] = snapshot ? 0 : m->qos;
            if (!snap[i]) {
                n = i;
                break;
            }
        }
        if (!snap || !qos)
            n = 0;
    }
    *snapp = snap;
    *qosp = qos;
    return n;
}

void kg_mqtt__renew(struct kg_mqtt *m, char **snap, int *qos, size_t n)
{
    MQTTSubscribe_options *opts = n > 0 ? calloc(n, sizeof *opts) : NULL;
    if (n > 0 && !opts) {
        kg_error("mqtt: out of memory renewing %zu subscriptions on %s", n, m->uri);
        ready(m);
    } else if (n > 0) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        subscribe_response(m, &ro, true, opts, n);
        int rc = MQTTAsync_subscribeMany(m->client, (int)n, snap, qos, &ro);
        if (rc != MQTTASYNC_SUCCESS) {
            kg_error("mqtt: cannot renew %zu subscriptions on %s: %s", n, m->uri,
                     MQTTAsync_strerror(rc));
            ready(m);
        }
    } else {
        ready(m);
    }
    for (size_t i = 0; snap && i < n; i++)
        free(snap[i]);
    free(snap);
    free(qos);
    free(opts); /* Paho copies the options list */
}

int kg_mqtt_subscribe(struct kg_mqtt *m, const char *filter)
{
    if (!m || !filter || !kg_mqtt_filter_valid(filter, strlen(filter)))
        return KG_EINVAL;
    pthread_mutex_lock(&m->lock);
    if (m->stopping || m->state == ST_STOPPED) {
        pthread_mutex_unlock(&m->lock);
        return KG_ESTATE;
    }
    for (size_t i = 0; i < m->n_filters; i++) {
        if (strcmp(m->filters[i], filter) == 0) {
            pthread_mutex_unlock(&m->lock);
            return 0;
        }
    }
    if (m->n_filters == m->cap_filters) {
        size_t cap = m->cap_filters ? m->cap_filters * 2 : 8;
        char **f = realloc(m->filters, cap * sizeof *f);
        if (!f) {
            pthread_mutex_unlock(&m->lock);
            return KG_ENOMEM;
        }
        m->filters = f;
        m->cap_filters = cap;
    }
    char *copy = strdup(filter);
    if (!copy) {
        pthread_mutex_unlock(&m->lock);
        return KG_ENOMEM;
    }
    m->filters[m->n_filters++] = copy;
    bool send_now = m->state == ST_SUBSCRIBING || m->state == ST_READY;
    pthread_mutex_unlock(&m->lock);
    if (send_now) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        MQTTSubscribe_options opt1;
        subscribe_response(m, &ro, false, &opt1, 1);
        int rc = MQTTAsync_subscribe(m->client, filter, m->qos, &ro);
        if (rc != MQTTASYNC_SUCCESS) /* the next reconnect renews it */
            kg_warn("mqtt: cannot subscribe to %s now (%s); it is renewed on reconnect", filter,
                    MQTTAsync_strerror(rc));
    }
    return 0;
}
