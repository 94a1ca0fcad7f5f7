/* SPDX-License-Identifier: MIT */
/*
 * The inside of the MQTT session of kvmgrid/mqtt.h, shared by its rooms; not part
 * of the public API and not installed:
 *   mqtt.c            the session: create/start/stop/free, the connector thread
 *                     (connect, reconnect with backoff), Paho's connection callbacks
 *   mqtt_subscribe.c  subscriptions, their renewal after every connect, and the
 *                     snapshot/sync UNSUBSCRIBE
 *   mqtt_publish.c    handing messages to Paho within the window, publish
 *                     outcomes, flush, pacing, stats
 *   mqtt_waiting.c    the waiting store: the newest message per topic beyond the window
 *   mqtt_deliver.c    the delivery thread (deliver_bytes): callbacks off Paho's thread
 *   mqtt_check.c      topic, filter, URI and option checks (pure)
 * Paho is included by the first three only: the client handle is kept here as
 * the void * that Paho's MQTTAsync is.
 *
 * Locking: m->lock guards the session state and is never held while calling
 * into Paho (Paho calls us back with its own mutex held, so holding ours across
 * a Paho call could deadlock) nor while calling the user's callbacks. A function
 * named *_locked is called with m->lock held.
 */
#ifndef KG_COMMON_MQTT_PRIVATE_H
#define KG_COMMON_MQTT_PRIVATE_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"

#define KG_MQTT_DEFAULT_KEEPALIVE_S 30
#define KG_MQTT_DEFAULT_RECONNECT_MIN_MS 500u
#define KG_MQTT_DEFAULT_RECONNECT_MAX_MS 30000u
#define KG_MQTT_DEFAULT_MAX_BUFFERED 1000
/* Distinct topics that may wait at once; beyond, a publish to a new topic is
 * refused with KG_EAGAIN (a runaway caller, not a stall). */
#define KG_MQTT_MAX_WAITING 262144u
#define KG_MQTT_MAX_TOPIC_BYTES 65535u
/* The largest delivery ring (deliver_bytes). */
#define KG_MQTT_MAX_DELIVER_BYTES (256u << 20)

/* One thread's pacing (kg_mqtt_pace_begin); guarded by m->lock. */
struct pace {
    pthread_t owner;
    struct kg_mqtt_pace opt;
    uint64_t until_ms;          /* monotonic: the end of the budget */
    uint64_t counted;           /* the owner's publishes since kg_mqtt_pace_begin */
};

enum kg_mqtt_state {
    ST_IDLE,        /* created, not started */
    ST_CONNECTING,  /* waiting for a connect attempt or its outcome */
    ST_SUBSCRIBING, /* connected; SUBSCRIBE for the registered filters sent */
    ST_READY,       /* connected and subscribed */
    ST_STOPPED,     /* stopped for good */
};

struct kg_mqtt {
    void *client; /* MQTTAsync */

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
    char *snapshot_filters[KG_MQTT_SNAPSHOT_MAX];
    size_t n_snapshots;   /* the first n_snapshots of them are set */
    void *ctx;
    struct kg_mqtt_deliver *deliver; /* NULL: callbacks run on Paho's thread */

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
    struct pace pace;     /* valid while pacing */
    pthread_mutex_t send_lock;  /* held by the one thread handing waiting entries to Paho */
    pthread_t connector;

    /* Rate limiters (guarded by log.c's own lock). */
    struct kg_complain conn_complain;
    struct kg_complain queue_complain;
    struct kg_complain tls_complain;
    struct kg_complain sub_complain;

    /* Written under lock; read without it only to skip the lock when false. */
    _Atomic bool pacing;

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

/* A message waiting for room in the window (see mqtt_waiting.c). */
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

static inline uint64_t now_ms(void) { return kg_clock_mono_ms(); }

/* Waits on m->cond until deadline_ms (monotonic ms). Caller holds m->lock. */
static inline void wait_until(struct kg_mqtt *m, uint64_t deadline_ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ms / 1000u);
    ts.tv_nsec = (long)((deadline_ms % 1000u) * 1000000u);
    pthread_cond_timedwait(&m->cond, &m->lock, &ts);
}

/* ---- mqtt_check.c -------------------------------------------------------- */

/* Formats into errmsg (may be NULL or errlen 0: nothing is written). */
void kg_mqtt__set_err(char *errmsg, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- mqtt.c -------------------------------------------------------------- */

/* A readable reason for a failed connect or publish: CONNACK codes are
 * positive, Paho's negative. Static text. */
const char *kg_mqtt__connack_reason(int code);

/* ---- mqtt_subscribe.c ---------------------------------------------------- */

/* Lock held, right after a connect: copies the filters to renew (the
 * snapshot filters last, at QoS 0) into *snap and *qos, returned owned and
 * passed on to kg_mqtt__renew. Returns how many (0 when there are none or
 * memory ran out: the session is then ready without them). */
size_t kg_mqtt__filters_copy_locked(struct kg_mqtt *m, char ***snap, int **qos);
/* Sends the SUBSCRIBE renewing n filters (takes ownership of snap and qos);
 * the session becomes ready and on_connect runs when the broker answers, or at
 * once when there is nothing to renew or the SUBSCRIBE cannot be sent. */
void kg_mqtt__renew(struct kg_mqtt *m, char **snap, int *qos, size_t n);

/* ---- mqtt_publish.c ------------------------------------------------------ */

/* Hands waiting messages to Paho while the window has room; never blocks on a
 * lock held across a Paho call, so safe from Paho's callbacks. */
void kg_mqtt__drain(struct kg_mqtt *m);
/* Number of publishes Paho still holds (queued or awaiting PUBACK). */
size_t kg_mqtt__pending_count(struct kg_mqtt *m);
/* kg_mqtt_flush up to deadline (monotonic ms). 0 or KG_ETIMEDOUT. */
int kg_mqtt__flush_until(struct kg_mqtt *m, uint64_t deadline);
/* Hands one message to Paho at once, past the window and the waiting store (the
 * final message of kg_mqtt_stop). Same codes as kg_mqtt_publish. */
int kg_mqtt__publish_now(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                         bool retain, int qos);

/* ---- mqtt_waiting.c ------------------------------------------------------ */

/* Enters one message (copied) into the waiting store. 0, KG_ENOMEM, or KG_EAGAIN
 * (KG_MQTT_MAX_WAITING topics wait). */
int kg_mqtt__waiting_put(struct kg_mqtt *m, const char *topic, const void *payload, size_t len,
                         bool retain, int qos);
/* Lock held: takes the oldest entry off the store (free with
 * kg_mqtt__waiting_free); NULL when none waits. */
struct waiting *kg_mqtt__waiting_pop_locked(struct kg_mqtt *m);
/* Accepts NULL. */
void kg_mqtt__waiting_free(struct waiting *w);
/* Frees every waiting entry and the hash table (kg_mqtt_free). */
void kg_mqtt__waiting_clear(struct kg_mqtt *m);

/* ---- mqtt_deliver.c ------------------------------------------------------ */

/* Starts the delivery thread with a ring of about bytes bytes (kg_mqtt_create).
 * 0 or KG_ENOMEM. */
int kg_mqtt__deliver_start(struct kg_mqtt *m, size_t bytes);
/* Stops the delivery thread and drops what is still queued; once Paho calls
 * back no more (after MQTTAsync_destroy). Accepts a session without one. */
void kg_mqtt__deliver_stop(struct kg_mqtt *m);
/* Queue a callback for the delivery thread, in order, copying what it needs
 * (topic and payload are borrowed); each waits while the ring is full. */
void kg_mqtt__deliver_message(struct kg_mqtt *m, const char *topic, size_t topic_len,
                              const void *payload, size_t len, bool retained);
void kg_mqtt__deliver_connect(struct kg_mqtt *m, bool reconnect);
void kg_mqtt__deliver_synced(struct kg_mqtt *m);
void kg_mqtt__deliver_lost(struct kg_mqtt *m, const char *cause);

#endif
