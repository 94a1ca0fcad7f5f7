/* SPDX-License-Identifier: MIT */
/*
 * The MQTT session of kvmgrid/mqtt.h over Eclipse Paho's asynchronous C API
 * (MQTT 3.1.1, or MQTT 5 on request), and the only file that includes a Paho
 * header. It owns the
 * connection: one background "connector" thread issues every MQTTAsync_connect
 * (the first one and every reconnect) at a time chosen by an exponential
 * backoff with jitter, so a broker that is down at start-up is handled exactly
 * like one that goes away later; Paho's own automaticReconnect is off because
 * it does not retry a failed first connect. After each connect the session
 * re-subscribes to every registered filter, then reports on_connect. Publishes
 * go straight to Paho (buffered by Paho while disconnected, no persistence
 * files); flush waits on Paho's own list of pending tokens.
 *
 * It is not a message store: sessions are clean, so QoS 1 messages in flight
 * (sent, not yet acknowledged) when a connection drops may be lost; callers
 * republish their retained state from on_connect. Nothing survives the process.
 *
 * Memory stays bounded whatever the broker does. At most max_buffered messages
 * are in Paho's hands at once (queued while disconnected, waiting for the
 * socket, or in flight waiting for a PUBACK); a broker that is frozen keeps the
 * TCP connection open, so without this window Paho would queue without end.
 * Every publish first enters the session's own waiting store, one entry per
 * topic: a newer message to a topic replaces the one still waiting (latest value
 * wins, as retained state does at the broker), and entries leave in arrival
 * order whenever the window has room (on the caller's thread, or on Paho's when
 * a publish settles). So a stall costs one message per topic, not one per
 * publish, and per-topic order is kept: one FIFO, drained by one thread at a
 * time (send_lock, only ever try-locked, because Paho calls us back with its own
 * mutex held).
 *
 * Locking: m->lock guards the session state and is never held while calling
 * into Paho (Paho calls us back with its own mutex held, so holding ours across
 * a Paho call could deadlock) nor while calling the user's callbacks.
 */
#include "kvmgrid/mqtt.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "utf8.h"
#include "kvmgrid/log.h"

#define KG_MQTT_DEFAULT_KEEPALIVE_S 30
#define KG_MQTT_DEFAULT_RECONNECT_MIN_MS 500u
#define KG_MQTT_DEFAULT_RECONNECT_MAX_MS 30000u
#define KG_MQTT_DEFAULT_MAX_BUFFERED 1000
/* Distinct topics that may wait at once; beyond, a publish to a new topic is
 * refused with KG_EAGAIN (a runaway caller, not a stall). */
#define KG_MQTT_MAX_WAITING 262144u
#define KG_MQTT_CONNECT_TIMEOUT_S 10
#define KG_MQTT_MAX_TOPIC_BYTES 65535u
/* MQTT's remaining-length limit, minus room for the topic and header. */
#define KG_MQTT_MAX_PAYLOAD_BYTES (268435455u - 65540u)
/* flush also asks Paho for its pending list this often, in case Paho dropped a
 * message without calling back (it can, when a clean session ends). Not more
 * often: the list walk is O(queued messages) under Paho's mutex. */
#define KG_MQTT_FLUSH_POLL_MS 100u
/* While messages wait, the connector thread checks this often whether Paho
 * dropped some without a callback (it can, when a clean session ends), which
 * would otherwise keep the window counted full. */
#define KG_MQTT_RESYNC_MS 1000u

enum kg_mqtt_state {
    ST_IDLE,        /* created, not started */
    ST_CONNECTING,  /* waiting for a connect attempt or its outcome */
    ST_SUBSCRIBING, /* connected; SUBSCRIBE for the registered filters sent */
    ST_READY,       /* connected and subscribed */
    ST_STOPPED,     /* stopped for good */
};

struct kg_mqtt {
    MQTTAsync client;

    /* Copied options. */
    char *uri, *client_id, *username, *password;
    char *ca_file, *cert_file, *key_file;
    char *will_topic, *will_payload;
    bool will_retained, tls, tls_insecure;
    bool v5;              /* MQTT 5: Paho wants its *5 result callbacks */
    bool retain_as_published;
    bool refuse_when_full;
    int keepalive_s, qos, max_buffered;
    uint32_t reconnect_min_ms, reconnect_max_ms;
    kg_mqtt_message_cb on_message;
    kg_mqtt_connect_cb on_connect;
    kg_mqtt_lost_cb on_lost;
    kg_mqtt_synced_cb on_synced;
    char *snapshot_filter;
    void *ctx;

    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC; state changes, deliveries, connector */
    /* --- guarded by lock --- */
    enum kg_mqtt_state state;
    bool stopping;        /* kg_mqtt_stop has begun: no reconnects, no publishes */
    bool quit;            /* the connector thread exits */
    bool connector_running;
    bool connect_due;     /* connector: call MQTTAsync_connect at next_connect_ms */
    uint64_t next_connect_ms;
    uint32_t backoff_ms;  /* delay before the next attempt after a failure */
    bool ever_connected;
    bool up_is_reconnect; /* passed to on_connect for the connection in progress */
    bool failing;         /* a failure is being complained about */
    bool disconnect_done;
    unsigned int rand_state;
    char **filters;
    size_t n_filters, cap_filters;
    size_t renewing;      /* filters in the SUBSCRIBE sent after the last connect */
    uint64_t outstanding; /* publishes handed to Paho whose outcome is not known yet */
    uint64_t publish_seq; /* publishes handed to Paho, ever */
    struct notify *notifies; /* publishes whose outcome a caller waits for */
    /* the waiting store: a FIFO of entries, and a hash of them by topic */
    struct waiting *wait_head, *wait_tail;
    struct waiting **wait_tab;  /* wait_tab_cap buckets */
    size_t wait_tab_cap, n_waiting;
    uint64_t coalesced;         /* waiting messages replaced by a newer one */
    uint64_t next_resync_ms;
    pthread_mutex_t send_lock;  /* held by the one thread handing waiting entries to Paho */
    pthread_t connector;

    /* Rate limiters (guarded by log.c's own lock). */
    struct kg_complain conn_complain;
    struct kg_complain queue_complain;
    struct kg_complain tls_complain;
    struct kg_complain sub_complain;

    _Atomic uint64_t st_published, st_publish_failed, st_received, st_connects, st_lost;
};

/* A publish made with kg_mqtt_publish_notify, linked in m->notifies until its
 * outcome is known; kg_mqtt_free frees what Paho never settled. */
struct notify {
    struct kg_mqtt *m;
    kg_mqtt_result_cb cb;
    void *ctx;
    struct notify *next;
};

/* A message waiting for room in the window (see the file's top comment). */
struct waiting {
    struct waiting *next;       /* FIFO */
    struct waiting *hnext;      /* hash chain */
    uint64_t hash;
    char *topic;
    void *payload;              /* NULL when len is 0 */
    size_t len;
    bool retain;
    int qos;
};

/* ------------------------------------------------------------------ helpers */

static void set_err(char *errmsg, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errmsg, size_t errlen, const char *fmt, ...)
{
    if (!errmsg || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errlen, fmt, ap);
    va_end(ap);
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static uint64_t now_ms(void) { return kg_clock_mono_ms(); }

/* Absolute CLOCK_MONOTONIC deadline for pthread_cond_timedwait. */
static struct timespec abs_deadline(uint64_t deadline_ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ms / 1000u);
    ts.tv_nsec = (long)((deadline_ms % 1000u) * 1000000u);
    return ts;
}

/* Waits on m->cond until deadline_ms (monotonic ms). Caller holds m->lock. */
static void wait_until(struct kg_mqtt *m, uint64_t deadline_ms)
{
    struct timespec ts = abs_deadline(deadline_ms);
    pthread_cond_timedwait(&m->cond, &m->lock, &ts);
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
static const char *connack_reason(int code)
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

/* ---------------------------------------------------------- topic checking */

/* Decodes one UTF-8 sequence at s[i] (len bytes total) the way mosquitto's
 * mosquitto_validate_utf8 does: no NUL, no overlong forms, no surrogates, nothing
 * above U+10FFFF, no non-characters, no C0/C1 control characters (the broker
 * refuses them in topics and drops the connection). Returns the sequence length,
 * or 0 when invalid. */
static size_t utf8_next(const unsigned char *s, size_t len, size_t i)
{
    uint32_t cp;
    size_t n = kg_utf8_decode(s + i, len - i, &cp);
    if (n == 0 || cp == 0)
        return 0;
    if (cp >= 0xFDD0 && cp <= 0xFDEF)
        return 0;
    if ((cp & 0xFFFFu) == 0xFFFEu || (cp & 0xFFFFu) == 0xFFFFu)
        return 0;
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F))
        return 0;
    return n;
}

static bool utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_next(s, len, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool kg_mqtt_topic_valid(const char *topic, size_t len)
{
    if (!topic || len == 0 || len > KG_MQTT_MAX_TOPIC_BYTES)
        return false;
    /* Checked for every message: printable ASCII, what topics nearly always are,
     * takes one comparison per byte; anything else goes through utf8_next. */
    const unsigned char *s = (const unsigned char *)topic;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7F) {
            if (c == '+' || c == '#')
                return false;
            i++;
            continue;
        }
        size_t n = utf8_next(s, len, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool kg_mqtt_filter_valid(const char *filter, size_t len)
{
    if (!filter || len == 0 || len > KG_MQTT_MAX_TOPIC_BYTES)
        return false;
    if (!utf8_valid(filter, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || filter[i - 1] == '/';
        bool level_end = i + 1 == len || filter[i + 1] == '/';
        if (filter[i] == '+' && !(level_start && level_end))
            return false;
        if (filter[i] == '#' && !(level_start && i + 1 == len))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------- validation */

/* Checks "tcp://host[:port]" / "ssl://host[:port]" (host may be "[v6]"). */
static int parse_uri(const char *uri, bool *tls, char *errmsg, size_t errlen)
{
    const char *rest;
    if (!uri || !*uri) {
        set_err(errmsg, errlen, "no broker URI given (expected tcp://HOST:PORT or ssl://HOST:PORT)");
        return KG_EINVAL;
    }
    if (strncmp(uri, "tcp://", 6) == 0) {
        *tls = false;
        rest = uri + 6;
    } else if (strncmp(uri, "ssl://", 6) == 0) {
        *tls = true;
        rest = uri + 6;
    } else {
        set_err(errmsg, errlen, "broker URI \"%.200s\" must start with tcp:// or ssl://", uri);
        return KG_EINVAL;
    }
    const char *host_end;
    if (*rest == '[') {
        host_end = strchr(rest, ']');
        if (!host_end || host_end == rest + 1) {
            set_err(errmsg, errlen, "broker URI \"%.200s\": malformed [IPv6] host", uri);
            return KG_EINVAL;
        }
        host_end++;
    } else {
        host_end = rest + strcspn(rest, ":/");
        if (host_end == rest) {
            set_err(errmsg, errlen, "broker URI \"%.200s\" has no host", uri);
            return KG_EINVAL;
        }
    }
    for (const char *p = rest; p < host_end; p++) {
        if (*p <= ' ' || *p == '@' || *p == '?' || *p == '#' || (unsigned char)*p >= 0x7F) {
            set_err(errmsg, errlen, "broker URI \"%.200s\": invalid character in host", uri);
            return KG_EINVAL;
        }
    }
    if (*host_end == '\0')
        return 0; /* Paho's default port: 1883, or 8883 for ssl:// */
    if (*host_end != ':') {
        set_err(errmsg, errlen, "broker URI \"%.200s\": unexpected \"%.50s\" after the host", uri,
                host_end);
        return KG_EINVAL;
    }
    const char *port = host_end + 1;
    if (*port == '\0') {
        set_err(errmsg, errlen, "broker URI \"%.200s\": empty port", uri);
        return KG_EINVAL;
    }
    long value = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9' || value > 65535) {
            set_err(errmsg, errlen, "broker URI \"%.200s\": port must be a number 1-65535", uri);
            return KG_EINVAL;
        }
        value = value * 10 + (*p - '0');
    }
    if (value < 1 || value > 65535) {
        set_err(errmsg, errlen, "broker URI \"%.200s\": port must be a number 1-65535", uri);
        return KG_EINVAL;
    }
    return 0;
}

static int check_readable(const char *what, const char *path, char *errmsg, size_t errlen)
{
    if (!path)
        return 0;
    if (!*path) {
        set_err(errmsg, errlen, "%s is empty", what);
        return KG_EINVAL;
    }
    if (access(path, R_OK) != 0) {
        set_err(errmsg, errlen, "%s \"%.200s\": %s", what, path, strerror(errno));
        return KG_EINVAL;
    }
    return 0;
}

int kg_mqtt_options_check(const struct kg_mqtt_options *opt, char *errmsg, size_t errlen)
{
    bool tls = false;
    int rc;
    if (!opt) {
        set_err(errmsg, errlen, "no MQTT options given");
        return KG_EINVAL;
    }
    if ((rc = parse_uri(opt->uri, &tls, errmsg, errlen)) != 0)
        return rc;
    if (opt->client_id) {
        size_t n = strlen(opt->client_id);
        if (n == 0 || n > KG_MQTT_MAX_TOPIC_BYTES || !utf8_valid(opt->client_id, n)) {
            set_err(errmsg, errlen, "client id must be 1-65535 bytes of printable UTF-8");
            return KG_EINVAL;
        }
    }
    if (opt->username && (!*opt->username || !utf8_valid(opt->username, strlen(opt->username)))) {
        set_err(errmsg, errlen, "user name must be non-empty printable UTF-8");
        return KG_EINVAL;
    }
    if (opt->password && !opt->username) {
        set_err(errmsg, errlen, "a password needs a user name (MQTT 3.1.1)");
        return KG_EINVAL;
    }
    if (!tls && (opt->ca_file || opt->cert_file || opt->key_file || opt->tls_insecure)) {
        set_err(errmsg, errlen, "TLS options (CA file, certificate, key, insecure) need an ssl:// URI, "
                                "not \"%.200s\"",
                opt->uri);
        return KG_EINVAL;
    }
    if ((rc = check_readable("CA file", opt->ca_file, errmsg, errlen)) != 0 ||
        (rc = check_readable("certificate file", opt->cert_file, errmsg, errlen)) != 0 ||
        (rc = check_readable("key file", opt->key_file, errmsg, errlen)) != 0)
        return rc;
    if (opt->key_file && !opt->cert_file) {
        set_err(errmsg, errlen, "a key file needs a certificate file");
        return KG_EINVAL;
    }
    if (opt->keepalive_s < 0 || opt->keepalive_s > 65535) {
        set_err(errmsg, errlen, "keepalive %d s out of range 0-65535", opt->keepalive_s);
        return KG_EINVAL;
    }
    if (opt->qos != 0 && opt->qos != 1) {
        set_err(errmsg, errlen, "QoS %d not supported (use 0 or 1)", opt->qos);
        return KG_EINVAL;
    }
    if (opt->protocol != 0 && opt->protocol != 4 && opt->protocol != 5) {
        set_err(errmsg, errlen, "MQTT protocol level %d not supported (4: MQTT 3.1.1, 5: MQTT 5)",
                opt->protocol);
        return KG_EINVAL;
    }
    if (opt->retain_as_published && opt->protocol != 5) {
        set_err(errmsg, errlen, "retain-as-published subscriptions need MQTT 5 (protocol 5)");
        return KG_EINVAL;
    }
    if (opt->will_topic && !kg_mqtt_topic_valid(opt->will_topic, strlen(opt->will_topic))) {
        set_err(errmsg, errlen, "will topic \"%.200s\" is not a valid topic name", opt->will_topic);
        return KG_EINVAL;
    }
    if (!opt->will_topic && opt->will_payload) {
        set_err(errmsg, errlen, "a will payload needs a will topic");
        return KG_EINVAL;
    }
    uint32_t lo = opt->reconnect_min_ms ? opt->reconnect_min_ms : KG_MQTT_DEFAULT_RECONNECT_MIN_MS;
    uint32_t hi = opt->reconnect_max_ms ? opt->reconnect_max_ms : KG_MQTT_DEFAULT_RECONNECT_MAX_MS;
    if (lo > hi) {
        set_err(errmsg, errlen, "reconnect minimum %u ms is above the maximum %u ms", (unsigned)lo,
                (unsigned)hi);
        return KG_EINVAL;
    }
    if (hi > 3600u * 1000u) {
        set_err(errmsg, errlen, "reconnect maximum %u ms is above one hour", (unsigned)hi);
        return KG_EINVAL;
    }
    if (opt->max_buffered < 0) {
        set_err(errmsg, errlen, "max_buffered %d is negative", opt->max_buffered);
        return KG_EINVAL;
    }
    return 0;
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

/* The UNSUBACK that follows the retained messages of this connect's SUBSCRIBE. */
static void synced(struct kg_mqtt *m)
{
    pthread_mutex_lock(&m->lock);
    bool up = m->state == ST_READY && !m->stopping;
    pthread_mutex_unlock(&m->lock);
    if (up && m->on_synced)
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
 * this connect has arrived": of the snapshot filter when there is one (so its
 * live messages stop), else of a filter nobody uses. */
static void request_sync(struct kg_mqtt *m)
{
    if (!m->on_synced && !m->snapshot_filter)
        return;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = m;
    if (m->v5)
        ro.onSuccess5 = on_unsubscribed5;
    else
        ro.onSuccess = on_unsubscribed;
    int rc = MQTTAsync_unsubscribe(
        m->client, m->snapshot_filter ? m->snapshot_filter : SYNC_MARKER_FILTER, &ro);
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
    if (m->on_connect)
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
    size_t n = m->n_filters + (m->snapshot_filter ? 1 : 0);
    char **snap = NULL;
    int *qos = NULL;
    if (n > 0) {
        snap = calloc(n, sizeof *snap);
        qos = calloc(n, sizeof *qos);
        for (size_t i = 0; snap && qos && i < n; i++) {
            bool snapshot = i == m->n_filters; /* the last one */
            snap[i] = strdup(snapshot ? m->snapshot_filter : m->filters[i]);
            qos[i] = snapshot ? 0 : m->qos;
            if (!snap[i]) {
                n = i;
                break;
            }
        }
        if (!snap || !qos)
            n = 0;
    }
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
    const char *msg = code > 0 || !resp || !resp->message ? connack_reason(code) : resp->message;
    kg_complain(&m->conn_complain, KG_LOG_WARN, "mqtt: cannot connect to %s: %s (code %d); retrying",
                m->uri, msg, code);
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
    if (m->on_lost)
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
    if (m->on_message) {
        atomic_fetch_add_explicit(&m->st_received, 1, memory_order_relaxed);
        m->on_message(m->ctx, topic, tl, msg->payload,
                      msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0, msg->retained != 0);
    }
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

/* ------------------------------------------------------- waiting store */

static void drain(struct kg_mqtt *m);
static size_t pending_count(struct kg_mqtt *m);

static uint64_t topic_hash(const char *t)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *t; t++) {
        h ^= (unsigned char)*t;
        h *= 1099511628211ull;
    }
    return h;
}

static void waiting_free(struct waiting *w)
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
static struct waiting *waiting_pop_locked(struct kg_mqtt *m)
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
static int waiting_put(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
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
    waiting_free(w);
    return rc;
}

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
        drain(m);
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
                    resp && resp->message ? resp->message : connack_reason(resp ? resp->code : 0));
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
            size_t held = pending_count(m);
            pthread_mutex_lock(&m->lock);
            if (m->publish_seq == seq && held < m->outstanding)
                m->outstanding = held;
            pthread_mutex_unlock(&m->lock);
            drain(m);
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
                        connack_reason(rc), rc);
            pthread_mutex_lock(&m->lock);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

/* ------------------------------------------------------------- public API */

int kg_mqtt_create(const struct kg_mqtt_options *opt, struct kg_mqtt **out, char *errmsg,
                   size_t errlen)
{
    if (!out) {
        set_err(errmsg, errlen, "no output pointer");
        return KG_EINVAL;
    }
    *out = NULL;
    int rc = kg_mqtt_options_check(opt, errmsg, errlen);
    if (rc != 0)
        return rc;

    struct kg_mqtt *m = calloc(1, sizeof *m);
    if (!m) {
        set_err(errmsg, errlen, "out of memory");
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
    m->will_payload = opt->will_topic ? dup_or_null(opt->will_payload ? opt->will_payload : "", &oom)
                                      : NULL;
    m->snapshot_filter = dup_or_null(opt->snapshot_filter, &oom);
    if (oom) {
        set_err(errmsg, errlen, "out of memory");
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
    rc = MQTTAsync_createWithOptions(&m->client, m->uri, m->client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                     NULL, &cro);
    if (rc != MQTTASYNC_SUCCESS) {
        set_err(errmsg, errlen, "cannot create an MQTT client for \"%.200s\": %s", m->uri,
                MQTTAsync_strerror(rc));
        m->client = NULL;
        kg_mqtt_free(m);
        return KG_EINVAL;
    }
    rc = MQTTAsync_setCallbacks(m->client, m, on_connection_lost, on_message_arrived, NULL);
    if (rc == MQTTASYNC_SUCCESS && m->v5)
        rc = MQTTAsync_setDisconnected(m->client, m, on_broker_disconnect);
    if (rc != MQTTASYNC_SUCCESS) {
        set_err(errmsg, errlen, "cannot set MQTT callbacks: %s", MQTTAsync_strerror(rc));
        kg_mqtt_free(m);
        return KG_EINVAL;
    }
    *out = m;
    return 0;
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
static void drain(struct kg_mqtt *m)
{
    for (;;) {
        if (pthread_mutex_trylock(&m->send_lock) != 0)
            return;
        for (;;) {
            pthread_mutex_lock(&m->lock);
            struct waiting *w = NULL;
            if (!m->stopping && m->state != ST_STOPPED &&
                m->outstanding < (uint64_t)m->max_buffered)
                w = waiting_pop_locked(m);
            if (w)
                count_publish_locked(m);
            pthread_mutex_unlock(&m->lock);
            if (!w)
                break;
            publish_raw(m, w->topic, w->payload, w->len, w->retain, w->qos, NULL);
            waiting_free(w);
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
    int rc = waiting_put(m, topic, payload, len, retain, qos);
    if (rc) {
        atomic_fetch_add_explicit(&m->st_publish_failed, 1, memory_order_relaxed);
        if (rc == KG_EAGAIN)
            kg_complain(&m->queue_complain, KG_LOG_WARN,
                        "mqtt: %u topics already wait for %s; dropping messages to new ones",
                        KG_MQTT_MAX_WAITING, m->uri);
        return rc;
    }
    drain(m);
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

/* Number of publishes Paho still holds (queued or awaiting PUBACK). */
static size_t pending_count(struct kg_mqtt *m)
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
static int flush_until(struct kg_mqtt *m, uint64_t deadline)
{
    for (;;) {
        drain(m);
        pthread_mutex_lock(&m->lock);
        uint64_t seq = m->publish_seq;
        pthread_mutex_unlock(&m->lock);
        if (pending_count(m) == 0) {
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
    return flush_until(m, now_ms() + timeout_ms);
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
        flush_until(m, now_ms() + timeout_ms / 2);
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
        if (!kg_mqtt_topic_valid(final_topic, strlen(final_topic))) {
            rc = KG_EINVAL;
        } else {
            pthread_mutex_lock(&m->lock);
            count_publish_locked(m);
            pthread_mutex_unlock(&m->lock);
            rc = publish_raw(m, final_topic, final_payload, len, true, 1, NULL);
        }
    }
    if (connected && flush_until(m, deadline) != 0 && rc == 0)
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
        size_t lost = pending_count(m) + m->n_waiting;
        if (lost > 0)
            kg_warn("mqtt: %zu queued messages for %s were never delivered; discarded", lost,
                    m->uri);
        MQTTAsync_destroy(&m->client);
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->lock);
        pthread_mutex_destroy(&m->send_lock);
    }
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
    free(m->snapshot_filter);
    while (m->wait_head) {
        struct waiting *w = m->wait_head;
        m->wait_head = w->next;
        waiting_free(w);
    }
    free(m->wait_tab);
    /* publishes Paho dropped without an outcome (it can, when a clean session ends) */
    while (m->notifies) {
        struct notify *n = m->notifies;
        m->notifies = n->next;
        free(n);
    }
    free(m);
}
