/* SPDX-License-Identifier: MIT */
/*
 * The MQTT session of kvmgrid/mqtt.h over Eclipse Paho's asynchronous C API
 * (MQTT 3.1.1, or MQTT 5 on request): its life cycle and its connection. One
 * background "connector" thread issues every MQTTAsync_connect (the first one
 * and every reconnect) at a time chosen by an exponential backoff with jitter,
 * so a broker that is down at start-up is handled exactly like one that goes
 * away later; Paho's own automaticReconnect is off because it does not retry a
 * failed first connect. After each connect the session re-subscribes to every
 * registered filter (mqtt_subscribe.c), then reports on_connect. Publishes go
 * to Paho within a window and wait beyond it (mqtt_publish.c, mqtt_waiting.c);
 * Paho buffers while disconnected, with no persistence files.
 *
 * It is not a message store: sessions are clean, so QoS 1 messages in flight
 * (sent, not yet acknowledged) when a connection drops may be lost; callers
 * republish their retained state from on_connect. Nothing survives the process.
 * mqtt_private.h maps the other rooms and states the locking rules.
 */
#include "kvmgrid/mqtt.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "mqtt_private.h"

#define KG_MQTT_CONNECT_TIMEOUT_S 10
/* While messages wait, the connector thread checks this often whether Paho
 * dropped some without a callback (it can, when a clean session ends), which
 * would otherwise keep the window counted full. */
#define KG_MQTT_RESYNC_MS 1000u

/* ------------------------------------------------------------------ helpers */

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* The delay before the next attempt: backoff with +-20% jitter, so that a
 * thousand agents do not reconnect to a restarted broker in lock step. Then
 * doubles the backoff up to the maximum. Caller holds m->lock. */
static uint32_t next_delay_locked(struct kg_mqtt *m)
{
    uint32_t base = m->backoff_ms;
    uint32_t spread = base / 5u;
    uint32_t delay = base;
    if (spread > 0) {
        uint32_t r = (uint32_t)rand_r(&m->rand_state) % (2u * spread + 1u);
        delay = base - spread + r;
    }
    uint64_t doubled = (uint64_t)base * 2u;
    m->backoff_ms = doubled > m->reconnect_max_ms ? m->reconnect_max_ms : (uint32_t)doubled;
    return delay;
}

/* Schedules the next connect attempt after delay_ms. Caller holds m->lock. */
static void schedule_connect_locked(struct kg_mqtt *m, uint32_t delay_ms)
{
    m->state = ST_CONNECTING;
    m->connect_due = true;
    m->next_connect_ms = now_ms() + delay_ms;
    pthread_cond_broadcast(&m->cond);
}

/* A readable reason for a failed connect: CONNACK codes are positive, Paho's negative. */
const char *kg_mqtt__connack_reason(int code)
{
    switch (code) {
    case 1: return "connection refused: unacceptable protocol version";
    case 2: return "connection refused: client identifier rejected";
    case 3: return "connection refused: server unavailable";
    case 4: return "connection refused: bad user name or password";
    case 5: return "connection refused: not authorized";
    default: break;
    }
    if (code < 0) {
        const char *s = MQTTAsync_strerror(code);
        if (s)
            return s;
    }
    return "connection failed";
}

/* "<program>-<hostname>-<pid>", restricted to [A-Za-z0-9._-]. */
static char *default_client_id(void)
{
    char prog[64] = "kvmgrid";
    char host[128] = "localhost";
    FILE *f = fopen("/proc/self/comm", "r");
    if (f) {
        if (fgets(prog, sizeof prog, f))
            prog[strcspn(prog, "\n")] = '\0';
        fclose(f);
    }
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    char buf[256];
    snprintf(buf, sizeof buf, "%s-%s-%ld", prog[0] ? prog : "kvmgrid", host, (long)getpid());
    for (char *p = buf; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            *p = '_';
    }
    return strdup(buf);
}

/* ---------------------------------------------------------- Paho callbacks */

/* The connection is up (connect's onSuccess). Renews the subscriptions; on_connect
 * runs once the broker acknowledged them. */
static void on_connected(void *context, MQTTAsync_successData *resp)
{
    struct kg_mqtt *m = context;
    (void)resp;
    pthread_mutex_lock(&m->lock);
    if (m->state != ST_CONNECTING || m->stopping) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    bool reconnect = m->ever_connected;
    bool recovered = m->failing;
    m->ever_connected = true;
    m->up_is_reconnect = reconnect;
    m->failing = false;
    m->backoff_ms = m->reconnect_min_ms;
    atomic_fetch_add_explicit(&m->st_connects, 1, memory_order_relaxed);
    /* Snapshot the filters and change state under one lock, so that a concurrent
     * kg_mqtt_subscribe either is in the snapshot or sends its own SUBSCRIBE. */
    char **snap = NULL;
    int *qos = NULL;
    size_t n = kg_mqtt__filters_copy_locked(m, &snap, &qos);
    m->state = ST_SUBSCRIBING;
    m->renewing = n;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);

    if (recovered && reconnect)
        kg_complain_release(&m->conn_complain, "mqtt: connected to %s again", m->uri);
    else if (recovered)
        kg_complain_release(&m->conn_complain, "mqtt: connected to %s as %s", m->uri, m->client_id);
    else if (!reconnect)
        kg_info("mqtt: connected to %s as %s", m->uri, m->client_id);
    else
        kg_info("mqtt: reconnected to %s", m->uri);

    kg_mqtt__renew(m, snap, qos, n);
}

static void on_connect_failed(void *context, MQTTAsync_failureData *resp)
{
    struct kg_mqtt *m = context;
    pthread_mutex_lock(&m->lock);
    if (m->state != ST_CONNECTING || m->stopping) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    uint32_t delay = next_delay_locked(m);
    m->failing = true;
    schedule_connect_locked(m, delay);
    pthread_mutex_unlock(&m->lock);
    int code = resp ? resp->code : 0;
    /* Paho's own text for a CONNACK refusal is only "CONNACK return code". */
    const char *msg =
        code > 0 || !resp || !resp->message ? kg_mqtt__connack_reason(code) : resp->message;
    kg_complain(&m->conn_complain, KG_LOG_WARN,
                "mqtt: cannot connect to %s: %s (code %d); retrying", m->uri, msg, code);
}

static void on_connection_lost(void *context, char *cause)
{
    struct kg_mqtt *m = context;
    pthread_mutex_lock(&m->lock);
    if (m->stopping || m->state == ST_STOPPED) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    atomic_fetch_add_explicit(&m->st_lost, 1, memory_order_relaxed);
    m->failing = true;
    m->backoff_ms = m->reconnect_min_ms;
    uint32_t delay = next_delay_locked(m);
    schedule_connect_locked(m, delay);
    pthread_mutex_unlock(&m->lock);
    kg_complain(&m->conn_complain, KG_LOG_WARN, "mqtt: connection to %s lost%s%s; reconnecting",
                m->uri, cause ? ": " : "", cause ? cause : "");
    if (m->on_lost && m->deliver)
        kg_mqtt__deliver_lost(m, cause);
    else if (m->on_lost)
        m->on_lost(m->ctx, cause);
}

/* MQTT 5: the broker sent DISCONNECT (e.g. session taken over, server shutting
 * down). Paho reports it here, not through connectionLost. */
static void on_broker_disconnect(void *context, MQTTProperties *props, enum MQTTReasonCodes reason)
{
    (void)props;
    char cause[96];
    snprintf(cause, sizeof cause, "the broker disconnected us: %s (reason code 0x%02x)",
             MQTTReasonCode_toString(reason), (unsigned)reason);
    on_connection_lost(context, cause);
}

static int on_message_arrived(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
    struct kg_mqtt *m = context;
    size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    if (m->on_message && m->deliver) {
        atomic_fetch_add_explicit(&m->st_received, 1, memory_order_relaxed);
        kg_mqtt__deliver_message(m, topic, tl, msg->payload,
                                 msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0,
                                 msg->retained != 0);
    } else if (m->on_message) {
        atomic_fetch_add_explicit(&m->st_received, 1, memory_order_relaxed);
        m->on_message(m->ctx, topic, tl, msg->payload,
                      msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0, msg->retained != 0);
    }
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

static void on_disconnected(void *context, MQTTAsync_successData *resp)
{
    struct kg_mqtt *m = context;
    (void)resp;
    pthread_mutex_lock(&m->lock);
    m->disconnect_done = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

static void on_disconnect_failed(void *context, MQTTAsync_failureData *resp)
{
    (void)resp;
    on_disconnected(context, NULL);
}

static int on_ssl_error(const char *str, size_t len, void *context)
{
    struct kg_mqtt *m = context;
    while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
        len--;
    kg_complain(&m->tls_complain, KG_LOG_WARN, "mqtt: TLS with %s: %.*s", m->uri,
                (int)(len > 400 ? 400 : len), str);
    return 1;
}

/* ------------------------------------------------------------- connector */

static int issue_connect(struct kg_mqtt *m)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    co.keepAliveInterval = m->keepalive_s;
    if (m->v5) {
        co.MQTTVersion = MQTTVERSION_5;
        co.cleansession = 0; /* MQTT 5 spells it cleanstart */
        co.cleanstart = 1;
    } else {
        co.MQTTVersion = MQTTVERSION_3_1_1;
        co.cleansession = 1;
    }
    co.automaticReconnect = 0; /* ours covers the first connect too */
    co.connectTimeout = KG_MQTT_CONNECT_TIMEOUT_S;
    co.retryInterval = 0;
    co.username = m->username;
    co.password = m->password;
    co.onSuccess = on_connected;
    co.onFailure = on_connect_failed;
    co.context = m;
    if (m->will_topic) {
        will.topicName = m->will_topic;
        will.message = m->will_payload ? m->will_payload : "";
        will.retained = m->will_retained;
        will.qos = m->qos;
        co.will = &will;
    }
    if (m->tls) {
        ssl.trustStore = m->ca_file;
        ssl.keyStore = m->cert_file;
        ssl.privateKey = m->key_file;
        ssl.enableServerCertAuth = 1;
        ssl.verify = m->tls_insecure ? 0 : 1;
        ssl.ssl_error_cb = on_ssl_error;
        ssl.ssl_error_context = m;
        co.ssl = &ssl;
    }
    return MQTTAsync_connect(m->client, &co);
}

static void *connector_main(void *arg)
{
    struct kg_mqtt *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->quit) {
        if (m->wait_head && m->state == ST_READY && now_ms() >= m->next_resync_ms) {
            /* Messages wait: let Paho's own list correct our count of what it
             * holds, in case it dropped some without calling back. */
            m->next_resync_ms = now_ms() + KG_MQTT_RESYNC_MS;
            uint64_t seq = m->publish_seq;
            pthread_mutex_unlock(&m->lock);
            size_t held = kg_mqtt__pending_count(m);
            pthread_mutex_lock(&m->lock);
            if (m->publish_seq == seq && held < m->outstanding)
                m->outstanding = held;
            pthread_mutex_unlock(&m->lock);
            kg_mqtt__drain(m);
            pthread_mutex_lock(&m->lock);
            continue;
        }
        if (!m->connect_due) {
            if (m->wait_head && m->state == ST_READY)
                wait_until(m, m->next_resync_ms);
            else
                pthread_cond_wait(&m->cond, &m->lock);
            continue;
        }
        if (now_ms() < m->next_connect_ms) {
            wait_until(m, m->next_connect_ms);
            continue;
        }
        m->connect_due = false;
        pthread_mutex_unlock(&m->lock);
        kg_debug("mqtt: connecting to %s", m->uri);
        int rc = issue_connect(m);
        pthread_mutex_lock(&m->lock);
        if (rc != MQTTASYNC_SUCCESS && !m->quit && !m->stopping) {
            uint32_t delay = next_delay_locked(m);
            m->failing = true;
            schedule_connect_locked(m, delay);
            pthread_mutex_unlock(&m->lock);
            kg_complain(&m->conn_complain, KG_LOG_WARN,
                        "mqtt: cannot start connecting to %s: %s (code %d); retrying", m->uri,
                        kg_mqtt__connack_reason(rc), rc);
            pthread_mutex_lock(&m->lock);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

/* ------------------------------------------------------------- public API */

/* Paho as Debian builds it records a trace of every call in a ring of its own,
 * whatever reads it: at its default level, each function entry and exit and each
 * packet sent or received is formatted with vsnprintf under a process-wide mutex
 * that Paho's threads and ours contend for (15 % of the agent's instructions and
 * 10-28 % of its CPU time at 1000 VMs a second). Nothing reads that ring unless MQTT_C_CLIENT_TRACE asks for it
 * (we set no trace callback), so the level is raised to errors only, the level
 * Paho's own high-performance build starts at; with MQTT_C_CLIENT_TRACE set,
 * Paho's tracing is left as the user asked. Process-wide, set once before the
 * first client exists. */
static pthread_once_t trace_once = PTHREAD_ONCE_INIT;

static void trace_quiet(void)
{
    const char *t = getenv("MQTT_C_CLIENT_TRACE");
    if (!t || !t[0])
        MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
}

int kg_mqtt_create(const struct kg_mqtt_options *opt, struct kg_mqtt **out, char *errmsg,
                   size_t errlen)
{
    if (!out) {
        kg_mqtt__set_err(errmsg, errlen, "no output pointer");
        return KG_EINVAL;
    }
    *out = NULL;
    int rc = kg_mqtt_options_check(opt, errmsg, errlen);
    if (rc != 0)
        return rc;

    struct kg_mqtt *m = calloc(1, sizeof *m);
    if (!m) {
        kg_mqtt__set_err(errmsg, errlen, "out of memory");
        return KG_ENOMEM;
    }
    bool oom = false;
    m->uri = dup_or_null(opt->uri, &oom);
    m->client_id = opt->client_id ? dup_or_null(opt->client_id, &oom) : default_client_id();
    if (!m->client_id)
        oom = true;
    m->username = dup_or_null(opt->username, &oom);
    m->password = dup_or_null(opt->password, &oom);
    m->ca_file = dup_or_null(opt->ca_file, &oom);
    m->cert_file = dup_or_null(opt->cert_file, &oom);
    m->key_file = dup_or_null(opt->key_file, &oom);
    m->will_topic = dup_or_null(opt->will_topic, &oom);
    m->will_payload =
        opt->will_topic ? dup_or_null(opt->will_payload ? opt->will_payload : "", &oom) : NULL;
    for (size_t i = 0; i < KG_MQTT_SNAPSHOT_MAX; i++)
        if (opt->snapshot_filters[i])
            m->snapshot_filters[m->n_snapshots++] = dup_or_null(opt->snapshot_filters[i], &oom);
    if (oom) {
        kg_mqtt__set_err(errmsg, errlen, "out of memory");
        kg_mqtt_free(m);
        return KG_ENOMEM;
    }
    m->tls = strncmp(opt->uri, "ssl://", 6) == 0;
    m->tls_insecure = opt->tls_insecure;
    m->will_retained = opt->will_retained;
    m->v5 = opt->protocol == 5;
    m->retain_as_published = opt->retain_as_published;
    m->refuse_when_full = opt->refuse_when_full;
    m->keepalive_s = opt->keepalive_s ? opt->keepalive_s : KG_MQTT_DEFAULT_KEEPALIVE_S;
    m->qos = opt->qos;
    m->max_buffered = opt->max_buffered ? opt->max_buffered : KG_MQTT_DEFAULT_MAX_BUFFERED;
    m->reconnect_min_ms = opt->reconnect_min_ms ? opt->reconnect_min_ms
                                                : KG_MQTT_DEFAULT_RECONNECT_MIN_MS;
    m->reconnect_max_ms = opt->reconnect_max_ms ? opt->reconnect_max_ms
                                                : KG_MQTT_DEFAULT_RECONNECT_MAX_MS;
    m->backoff_ms = m->reconnect_min_ms;
    m->on_message = opt->on_message;
    m->on_connect = opt->on_connect;
    m->on_lost = opt->on_lost;
    m->on_synced = opt->on_synced;
    m->ctx = opt->ctx;
    m->state = ST_IDLE;
    m->rand_state = (unsigned int)(kg_clock_mono_ns() ^ ((uint64_t)getpid() << 16));

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->send_lock, NULL);
    pthread_cond_init(&m->cond, &ca);
    pthread_condattr_destroy(&ca);

    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    cro.sendWhileDisconnected = 1;
    cro.allowDisconnectedSendAtAnyTime = 1; /* publishes before the first connect are kept */
    /* the window, plus room for what bypasses it (notify publishes, the final
     * message of a stop) */
    cro.maxBufferedMessages = m->max_buffered + 16;
    cro.MQTTVersion = m->v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    cro.deleteOldestMessages = 0;
    cro.restoreMessages = 0;
    cro.persistQoS0 = 0;
    pthread_once(&trace_once, trace_quiet);
    rc = MQTTAsync_createWithOptions(&m->client, m->uri, m->client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                     NULL, &cro);
    if (rc != MQTTASYNC_SUCCESS) {
        kg_mqtt__set_err(errmsg, errlen, "cannot create an MQTT client for \"%.200s\": %s", m->uri,
                         MQTTAsync_strerror(rc));
        m->client = NULL;
        kg_mqtt_free(m);
        return KG_EINVAL;
    }
    rc = MQTTAsync_setCallbacks(m->client, m, on_connection_lost, on_message_arrived, NULL);
    if (rc == MQTTASYNC_SUCCESS && m->v5)
        rc = MQTTAsync_setDisconnected(m->client, m, on_broker_disconnect);
    if (rc != MQTTASYNC_SUCCESS) {
        kg_mqtt__set_err(errmsg, errlen, "cannot set MQTT callbacks: %s", MQTTAsync_strerror(rc));
        kg_mqtt_free(m);
        return KG_EINVAL;
    }
    if (opt->deliver_bytes > 0 && kg_mqtt__deliver_start(m, opt->deliver_bytes) != 0) {
        kg_mqtt__set_err(errmsg, errlen, "cannot start the delivery thread: out of memory");
        kg_mqtt_free(m);
        return KG_ENOMEM;
    }
    *out = m;
    return 0;
}

int kg_mqtt_start(struct kg_mqtt *m)
{
    if (!m)
        return KG_EINVAL;
    pthread_mutex_lock(&m->lock);
    if (m->state != ST_IDLE || m->stopping) {
        pthread_mutex_unlock(&m->lock);
        return KG_ESTATE;
    }
    schedule_connect_locked(m, 0);
    if (pthread_create(&m->connector, NULL, connector_main, m) != 0) {
        m->state = ST_IDLE;
        m->connect_due = false;
        pthread_mutex_unlock(&m->lock);
        kg_error("mqtt: cannot start the connector thread");
        return KG_ENOMEM;
    }
    m->connector_running = true;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

bool kg_mqtt_is_connected(const struct kg_mqtt *m)
{
    if (!m)
        return false;
    struct kg_mqtt *mm = (struct kg_mqtt *)m; /* locking is not a logical change */
    pthread_mutex_lock(&mm->lock);
    bool up = mm->state == ST_READY;
    pthread_mutex_unlock(&mm->lock);
    return up;
}

int kg_mqtt_wait_connected(struct kg_mqtt *m, uint32_t timeout_ms)
{
    if (!m)
        return KG_EINVAL;
    uint64_t deadline = now_ms() + timeout_ms;
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    while (m->state != ST_READY) {
        if (m->stopping || m->state == ST_STOPPED || m->state == ST_IDLE) {
            rc = KG_ESTATE; /* never started, or stopped: it would never connect */
            break;
        }
        if (now_ms() >= deadline) {
            rc = KG_ETIMEDOUT;
            break;
        }
        wait_until(m, deadline);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int kg_mqtt_stop(struct kg_mqtt *m, const char *final_topic, const char *final_payload,
                 uint32_t timeout_ms)
{
    if (!m)
        return 0;
    uint64_t deadline = now_ms() + timeout_ms;
    pthread_mutex_lock(&m->lock);
    if (m->state == ST_STOPPED || m->stopping) {
        pthread_mutex_unlock(&m->lock);
        return 0;
    }
    bool waiting = m->wait_head != NULL && (m->state == ST_READY || m->state == ST_SUBSCRIBING);
    pthread_mutex_unlock(&m->lock);
    /* Connected: what waits for room goes out first, e.g. the removals a reload
     * publishes just before it stops the session; within half the caller's time,
     * so that the final message keeps the other half. */
    if (waiting)
        kg_mqtt__flush_until(m, now_ms() + timeout_ms / 2);
    pthread_mutex_lock(&m->lock);
    if (m->state == ST_STOPPED || m->stopping) {
        pthread_mutex_unlock(&m->lock);
        return 0;
    }
    m->stopping = true;
    m->quit = true;
    bool connected = m->state == ST_READY || m->state == ST_SUBSCRIBING;
    bool started = m->state != ST_IDLE;
    bool join = m->connector_running;
    m->connector_running = false;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    if (join)
        pthread_join(m->connector, NULL);

    int rc = 0;
    if (connected && final_topic) {
        size_t len = final_payload ? strlen(final_payload) : 0;
        if (!kg_mqtt_topic_valid(final_topic, strlen(final_topic)))
            rc = KG_EINVAL;
        else
            rc = kg_mqtt__publish_now(m, final_topic, final_payload, len, true, 1);
    }
    if (connected && kg_mqtt__flush_until(m, deadline) != 0 && rc == 0)
        rc = KG_ETIMEDOUT;

    if (started) {
        /* Also cancels a connect still in progress, so that Paho does not stay
         * connected behind our back. A clean DISCONNECT suppresses the will. */
        MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
        dopt.timeout = 100;
        dopt.onSuccess = on_disconnected;
        dopt.onFailure = on_disconnect_failed;
        dopt.context = m;
        pthread_mutex_lock(&m->lock);
        m->disconnect_done = false;
        pthread_mutex_unlock(&m->lock);
        if (MQTTAsync_disconnect(m->client, &dopt) == MQTTASYNC_SUCCESS) {
            /* Bounded even when the caller's time is up: the disconnect itself is quick. */
            uint64_t dl = now_ms() + 2000u;
            if (deadline > dl)
                dl = deadline;
            pthread_mutex_lock(&m->lock);
            while (!m->disconnect_done && now_ms() < dl)
                wait_until(m, dl);
            pthread_mutex_unlock(&m->lock);
        }
    }
    pthread_mutex_lock(&m->lock);
    m->state = ST_STOPPED;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    if (connected)
        kg_info("mqtt: disconnected from %s", m->uri);
    return rc;
}

void kg_mqtt_free(struct kg_mqtt *m)
{
    if (!m)
        return;
    if (m->client) {
        kg_mqtt_stop(m, NULL, NULL, 1000);
        size_t lost = kg_mqtt__pending_count(m) + m->n_waiting;
        if (lost > 0)
            kg_warn("mqtt: %zu queued messages for %s were never delivered; discarded", lost,
                    m->uri);
        MQTTAsync_destroy(&m->client);
        kg_mqtt__deliver_stop(m); /* Paho calls back no more: nothing new is queued */
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->lock);
        pthread_mutex_destroy(&m->send_lock);
    }
    kg_mqtt__deliver_stop(m);
    free(m->uri);
    free(m->client_id);
    free(m->username);
    free(m->password);
    free(m->ca_file);
    free(m->cert_file);
    free(m->key_file);
    free(m->will_topic);
    free(m->will_payload);
    for (size_t i = 0; i < m->n_filters; i++)
        free(m->filters[i]);
    free(m->filters);
    for (size_t i = 0; i < m->n_snapshots; i++)
        free(m->snapshot_filters[i]);
    kg_mqtt__waiting_clear(m);
    /* Publishes still queued, or dropped by Paho without an outcome (it can, when
     * a clean session ends): lost, as mqtt.h promises their callers, who must know
     * (Paho's threads are gone, so this is the last word). */
    while (m->notifies) {
        struct notify *n = m->notifies;
        m->notifies = n->next;
        n->cb(n->ctx, KG_EIO, 0);
        free(n);
    }
    free(m);
}
