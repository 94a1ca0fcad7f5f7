/* SPDX-License-Identifier: MIT */
/*
 * One MQTT session over Eclipse Paho's asynchronous C API (MQTT 3.1.1 by default,
 * MQTT 5 on request), the only place in kvmgrid that includes Paho. It owns connecting (tcp:// and ssl://
 * URIs, credentials, CA file, client id, will, keepalive), reconnecting with
 * exponential backoff forever (also when the very first connect fails),
 * re-subscribing after every reconnect, and a clean shutdown that publishes a
 * final retained message (the "offline" state) before it disconnects — a clean
 * DISCONNECT suppresses the will, so the session publishes it itself.
 *
 * Threads: callbacks run on Paho's threads (or the session's own delivery thread,
 * see deliver_bytes). They must copy what they need and
 * return quickly; they must not call kg_mqtt_stop/free. kg_mqtt_publish and
 * kg_mqtt_subscribe are safe from any thread, including from callbacks (a
 * publish waits only on a thread that paces its publishes: kg_mqtt_pace_begin).
 * No persistence files are written (MQTTCLIENT_PERSISTENCE_NONE). The first
 * kg_mqtt_create sets Paho's process-wide trace level to errors only, so Paho does
 * not format a trace of every call that nobody reads; with MQTT_C_CLIENT_TRACE set
 * in the environment (Paho's own switch for its trace) the level is left alone.
 */
#ifndef KVMGRID_MQTT_H
#define KVMGRID_MQTT_H
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kg_mqtt;

/* Most snapshot filters a session reads at each connect (kg_mqtt_options). */
#define KG_MQTT_SNAPSHOT_MAX 2

/* A message arrived. topic is NUL-terminated (topic_len bytes); payload is NOT
 * NUL-terminated. Both are borrowed for the duration of the call. retained is
 * true for messages the broker delivered from its retained store. */
typedef void (*kg_mqtt_message_cb)(void *ctx, const char *topic, size_t topic_len,
                                   const void *payload, size_t len, bool retained);
/* The session connected (first time or again); subscriptions are already renewed
 * when this runs. A publisher republishes its current state here. */
typedef void (*kg_mqtt_connect_cb)(void *ctx, bool reconnect);
/* The connection was lost (cause may be NULL). The session is reconnecting. */
typedef void (*kg_mqtt_lost_cb)(void *ctx, const char *cause);
/* The broker has delivered every retained message that this connect's
 * subscriptions matched (the snapshot filters' included): an UNSUBSCRIBE sent after
 * the SUBACK was acknowledged, and a broker answers a client in order. Runs once
 * per connect, after on_connect, on a Paho thread. Exact for QoS 0 subscriptions
 * (the snapshot filter is always QoS 0); with QoS 1 a broker may hold retained
 * messages past its in-flight limit behind the acknowledgement. */
typedef void (*kg_mqtt_synced_cb)(void *ctx);
/* The outcome of one kg_mqtt_publish_notify: rc 0 (acknowledged), KG_EPERM (MQTT 5:
 * the broker refused it; reason is its reason code, e.g. 0x87 not authorized) or
 * KG_EIO (lost with the connection, or still queued when the session is torn
 * down). Runs on a Paho thread, or inside kg_mqtt_stop/kg_mqtt_free for a message
 * still queued; at most once per publish, and never after kg_mqtt_free returned. */
typedef void (*kg_mqtt_result_cb)(void *ctx, int rc, int reason);

struct kg_mqtt_options {
    const char *uri;            /* "tcp://host:port" or "ssl://host:port"; required */
    const char *client_id;      /* NULL: "<program>-<hostname>-<pid>" */
    const char *username;       /* NULL: none */
    const char *password;       /* NULL: none */
    const char *ca_file;        /* ssl://: CA bundle to verify the broker; NULL: system default */
    const char *cert_file;      /* ssl://: client certificate, optional */
    const char *key_file;       /* ssl://: client key, optional */
    bool tls_insecure;          /* ssl://: skip host name verification (tests only) */
    int keepalive_s;            /* 0: 30 */
    int qos;                    /* default QoS for publish/subscribe: 0 or 1; default 1 */
    int protocol;               /* 0 or 4: MQTT 3.1.1; 5: MQTT 5. 3.1.1 is the default
                                 * because Paho 1.3's MQTT 5 QoS 1 sending drains at the
                                 * broker's Receive Maximum per second after a burst */
    bool retain_as_published;   /* MQTT 5 only: subscriptions ask the broker to keep the
                                 * publisher's retain flag on live messages, so on_message's
                                 * retained is true for every message published retained */
    const char *will_topic;     /* NULL: no will */
    const char *will_payload;   /* NUL-terminated */
    bool will_retained;
    uint32_t reconnect_min_ms;  /* 0: 500 */
    uint32_t reconnect_max_ms;  /* 0: 30000 */
    int max_buffered;           /* the window: most messages in Paho's hands at once
                                 * (queued while offline, waiting for the socket, or
                                 * in flight); beyond it messages wait in the session,
                                 * the newest one per topic only (see kg_mqtt_publish).
                                 * 0: 1000 */
    bool refuse_when_full;      /* beyond the window, refuse a message (KG_EAGAIN)
                                 * instead of keeping it waiting: for a publisher
                                 * that holds its own newest state and sends it again
                                 * (the agent), so a stalled broker costs it the
                                 * window only */
    kg_mqtt_message_cb on_message; /* NULL for a pure publisher */
    kg_mqtt_connect_cb on_connect; /* may be NULL */
    kg_mqtt_lost_cb on_lost;       /* may be NULL */
    kg_mqtt_synced_cb on_synced;   /* may be NULL */
    const char *snapshot_filters[KG_MQTT_SNAPSHOT_MAX];
                                   /* NULL: none. Each is subscribed (QoS 0) with
                                    * every connect's SUBSCRIBE only to read the
                                    * retained messages it matches, and all are
                                    * unsubscribed at once: they reach on_message
                                    * (retained true) before on_synced, and live
                                    * ones stop with it */
    void *ctx;                     /* passed to callbacks */
    size_t deliver_bytes;          /* 0: callbacks run on Paho's threads (the
                                    * default). N > 0: on_message, on_connect,
                                    * on_synced and on_lost run on a thread of the
                                    * session's own, in the order Paho reported
                                    * them, with up to about N bytes of copied
                                    * topics and payloads waiting for it; Paho's
                                    * receive thread waits while that is full. Paho
                                    * reads and calls back on one thread: this lets
                                    * a subscriber's work per message run beside
                                    * Paho reading the next one. Those callbacks
                                    * must then not call into any kg_mqtt session
                                    * (Paho's thread may wait for room holding
                                    * Paho's global lock). */
};

struct kg_mqtt_stats {
    uint64_t published;         /* messages handed to Paho */
    uint64_t publish_failed;    /* publish calls refused (bad topic, too many topics
                                 * waiting) and messages Paho refused */
    uint64_t coalesced;         /* waiting messages replaced by a newer one to their topic */
    uint64_t waiting;           /* messages waiting for room in the window now */
    uint64_t received;          /* messages delivered to on_message */
    uint64_t connects;          /* successful connects, first included */
    uint64_t connection_lost;
};

/* ---- life cycle ---------------------------------------------------------- */

/* Validates the options and creates the session (nothing is sent yet). Strings are
 * copied. Returns 0 and *out (free with kg_mqtt_free), or KG_EINVAL (bad URI or
 * option; errmsg says which), KG_ENOMEM. */
int kg_mqtt_create(const struct kg_mqtt_options *opt, struct kg_mqtt **out,
                   char *errmsg, size_t errlen);

/* The option checks kg_mqtt_create makes, without creating anything (config
 * validation, tests). 0, or KG_EINVAL with errmsg saying which option is wrong. */
int kg_mqtt_options_check(const struct kg_mqtt_options *opt, char *errmsg, size_t errlen);

/* Starts connecting in the background and returns at once; retries with backoff
 * until connected, then reconnects whenever the connection is lost. 0 or KG_ESTATE. */
int kg_mqtt_start(struct kg_mqtt *m);

/* Clean shutdown: if connected and final_topic is not NULL, publishes final_payload
 * retained and waits for it (at most timeout_ms), then disconnects. Without a
 * connection the broker will publish the will. Idempotent. 0 or KG_ETIMEDOUT
 * (also KG_EINVAL for an invalid final_topic, KG_EAGAIN when the queue is full;
 * the session is stopped in every case). */
int kg_mqtt_stop(struct kg_mqtt *m, const char *final_topic, const char *final_payload,
                 uint32_t timeout_ms);

/* Stops if needed (without a final message) and frees. Messages still queued
 * are discarded (and counted in a warning). Accepts NULL. */
void kg_mqtt_free(struct kg_mqtt *m);

/* ---- subscribing ---------------------------------------------------------- */

/* Adds a subscription, kept for every reconnect. Sent at once when connected.
 * Returns 0, KG_EINVAL (invalid filter). */
int kg_mqtt_subscribe(struct kg_mqtt *m, const char *filter);

/* ---- publishing ----------------------------------------------------------- */

/* Queues one message. topic must be a valid topic name (UTF-8, no wildcards, no
 * NUL, < 65536 bytes); an invalid one is refused with KG_EINVAL instead of letting
 * the broker drop the connection. Latest value per topic: while max_buffered
 * messages are already in Paho's hands (the broker is slow, frozen or away), the
 * message waits in the session, and a newer message to the same topic replaces
 * it; waiting messages go out in order as the window frees. So memory is bounded
 * by the window plus one message per topic, whatever the broker does (with
 * refuse_when_full: by the window, and the message is refused instead). Returns 0
 * (sent or waiting), KG_EINVAL, KG_EAGAIN (262144 topics already wait, or the
 * window is full with refuse_when_full), KG_ENOMEM, KG_ESTATE. */
int kg_mqtt_publish(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                    bool retain);

/* kg_mqtt_publish with this message's own QoS (0 or 1) instead of the session's
 * default, e.g. periodic retained figures at QoS 0 while removals and status stay
 * at QoS 1. Same contract and return codes as kg_mqtt_publish; KG_EINVAL for
 * another QoS. */
int kg_mqtt_publish_qos(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                        bool retain, int qos);

/* kg_mqtt_publish at QoS 1 that reports its outcome to cb(ctx, ...) (required).
 * Under MQTT 3.1.1 a broker that drops a refused publish still acknowledges it, so
 * cb sees 0; only MQTT 5 reports refusals. Same return codes as kg_mqtt_publish
 * (plus KG_ENOMEM); when it returns non-zero, cb never runs. */
int kg_mqtt_publish_notify(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                           bool retain, kg_mqtt_result_cb cb, void *ctx);

/* Waits until every queued message has been delivered (QoS 1: acknowledged).
 * 0 or KG_ETIMEDOUT. */
int kg_mqtt_flush(struct kg_mqtt *m, uint32_t timeout_ms);

/* How kg_mqtt_pace_begin paces a burst of publishes. */
struct kg_mqtt_pace {
    unsigned batch;       /* messages between waits; at least 1 */
    uint32_t wait_ms;     /* longest single wait */
    uint32_t budget_ms;   /* no wait begins or lasts past this long after
                           * kg_mqtt_pace_begin: then the burst just sends */
    const volatile sig_atomic_t *cancel; /* borrowed, may be NULL: once non-zero (a
                                          * stop signal), no more waits */
};

/* Paces the publishes the calling thread makes until kg_mqtt_pace_end, e.g. one
 * interval's burst of thousands of retained messages: before every batch-th
 * publish (not the first), the publish waits as kg_mqtt_flush does, at most
 * wait_ms and never past the budget, until the messages before it are delivered
 * (QoS 1: acknowledged; QoS 0: written). So about one batch is in Paho's hands
 * at a time (Paho keeps a copy of each QoS 1 message until its PUBACK and walks
 * its list of them for every PUBACK) and the burst goes out at the broker's
 * pace; a slow broker costs the burst at most budget_ms. Every publish call of
 * that thread counts once its topic and payload pass the checks, refused or not
 * (KG_EAGAIN with refuse_when_full). A wait changes no return code. Publishes
 * from other threads, Paho's callbacks included, are not paced and never wait.
 * Not from a callback (a wait there would hold up the Paho thread that delivers
 * the acknowledgements). pace is copied. One pacing per session at a time;
 * beginning again on the same thread restarts it. Returns 0, KG_EINVAL (m or pace NULL, batch 0), KG_ESTATE
 * (another thread paces this session). */
int kg_mqtt_pace_begin(struct kg_mqtt *m, const struct kg_mqtt_pace *pace);

/* Ends the calling thread's pacing: its publishes no longer wait. Accepts NULL
 * and a session this thread does not pace. */
void kg_mqtt_pace_end(struct kg_mqtt *m);

/* ---- state ---------------------------------------------------------------- */

bool kg_mqtt_is_connected(const struct kg_mqtt *m);
/* Waits until connected. 0 or KG_ETIMEDOUT (KG_ESTATE at once when the session
 * was never started or is stopped). */
int kg_mqtt_wait_connected(struct kg_mqtt *m, uint32_t timeout_ms);

void kg_mqtt_get_stats(const struct kg_mqtt *m, struct kg_mqtt_stats *out);

/* ---- names ---------------------------------------------------------------- */

/* Checks a topic name (not a filter) as the broker would. */
bool kg_mqtt_topic_valid(const char *topic, size_t len);

/* Checks a subscription filter: the rules of kg_mqtt_topic_valid, except that
 * '+' may stand alone in a level and '#' alone in the last level. */
bool kg_mqtt_filter_valid(const char *filter, size_t len);

#endif
