/* SPDX-License-Identifier: MIT */
/*
 * The feed: the MQTT session that fills the grid model, shared by the viewer's
 * front ends (the wall, the terminal). It holds the model's settings as both
 * config tables take them (stale_intervals, interval, the caps, the alert
 * rules, the source), builds the model from them, subscribes to what the
 * source needs (feed_start), hands every message to model_apply, keeps the connected and synced state, and wakes a
 * front end's loop when the model changed. What a front end draws, and when, is
 * not here.
 *
 * Threads: the session's callbacks run on its delivery thread and only apply
 * messages, set the state and post the wake; everything else is for the front
 * end's main thread. No SDL, no terminal. Logs the session's life (connected,
 * lost, VMs dropped at a sync) at info and warn.
 */
#ifndef KG_VIEWER_FEED_H
#define KG_VIEWER_FEED_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "kvmgrid/client.h"
#include "kvmgrid/config.h"
#include "kvmgrid/mqtt.h"
#include "model.h"

/* The model's settings, as a front end's config table holds them. */
struct feed_config {
    long long stale_intervals;  /* missed intervals before a VM or host is stale */
    uint64_t interval_ms;       /* agent interval assumed until a host tells its own */
    long long max_hosts, max_vms; /* caps on what the model holds */
    int source;                 /* enum model_source: index in feed_source_choices */
    char alert_cpu[64], alert_mem[64], alert_steal[64], alert_disk_latency[64]; /* rules as
                                   written (alerts_rule_parse) */
    bool alert_stale, alert_offline;
    struct alerts_rules rules;  /* the alert_* keys parsed (feed_config_check) */
};

#define FEED_KEY_(type, member, f, kind, size, lo, hi, help, def)                             \
    {#f, kind, offsetof(type, member.f), size, lo, hi, NULL, help, def}
#define FEED_STR_(type, member, f, help, def)                                                 \
    FEED_KEY_(type, member, f, KG_CFG_STRING, sizeof(((type *)0)->member.f), 0, 0, help, def)

/* The source key's values, in enum model_source's order. */
extern const char *const feed_source_choices[];

/* The model's keys, as entries of a front end's kg_config_key table; member names
 * the struct feed_config inside type. Two groups, so that a table may put other
 * keys between them. */
#define FEED_MODEL_KEYS(type, member)                                                          \
    FEED_KEY_(type, member, stale_intervals, KG_CFG_INT, 0, 1, 1000,                          \
              "missed agent intervals before a VM or host is stale", "3"),                    \
    {"interval", KG_CFG_DURATION_MS, offsetof(type, member.interval_ms), 0, 100, 86400000,     \
     NULL, "agent interval assumed until a host reports it", "5s"},                           \
    FEED_KEY_(type, member, max_hosts, KG_CFG_INT, 0, 1, 10000000,                            \
              "most hosts held; messages naming more are dropped and counted", "100000"),     \
    FEED_KEY_(type, member, max_vms, KG_CFG_INT, 0, 1, 100000000,                             \
              "most VMs held; messages adding more are dropped and counted", "2000000"),    \
    {"source", KG_CFG_ENUM, offsetof(type, member.source), 0, 0, 0, feed_source_choices,      \
     "where VMs come from: vms (each VM's topic and each host's metrics) or summaries (one "  \
     "summary per host: tiles, alerts and trends, no per-device or iops/packet figures)",    \
     "vms"}

#define FEED_ALERT_KEYS(type, member)                                                          \
    FEED_STR_(type, member, alert_cpu,                                                         \
              "a VM is in alert over this CPU %: OVER [for DURATION] [clear CLEAR], or off",   \
              "90 for 60s clear 85"),                                                          \
    FEED_STR_(type, member, alert_mem, "likewise for memory used %", "95 clear 90"),           \
    FEED_STR_(type, member, alert_steal, "likewise for CPU steal %", "10 clear 5"),            \
    FEED_STR_(type, member, alert_disk_latency,                                                \
              "likewise for the larger of disk read and write latency, ms", "50 clear 40"),    \
    FEED_KEY_(type, member, alert_stale, KG_CFG_BOOL, 0, 0, 0,                                \
              "a VM not updated for stale_intervals (or stale by its agent) is in alert",     \
              "true"),                                                                         \
    FEED_KEY_(type, member, alert_offline, KG_CFG_BOOL, 0, 0, 0,                              \
              "a VM of an offline host is in alert", "true")

/* The rules the alert_* defaults say (call after kg_config_defaults). */
void feed_config_defaults(struct feed_config *c);
/* Parses the alert_* keys into c->rules. path (may be NULL) is the config file,
 * for "file:line: key: message". 0 or KG_EINVAL with errmsg. */
int feed_config_check(struct feed_config *c, const char *path, char *errmsg, size_t errlen);

/* Creates the model c describes for topics under prefix: staleness, assumed
 * interval, caps, alert rules and source. 0 and *out (free with model_free), or
 * model_create's code. */
int feed_model_create(const struct feed_config *c, const char *prefix, struct model **out);

/* Where a front end's loop sleeps: the session's thread wakes it when the model
 * changed. A message costs that thread one atomic exchange; only the first
 * after the loop looked takes the lock, and signals only a loop that sleeps. */
struct feed_wake {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* CLOCK_MONOTONIC */
    atomic_bool pending;        /* the model changed since the loop last looked */
    bool sleeping;              /* guarded by lock: the loop waits for pending */
    bool ready;                 /* lock and cond initialised */
};

struct feed {
    struct model *model;        /* borrowed */
    struct kg_mqtt *mq;         /* owned */
    atomic_int connected;
    atomic_int synced;          /* this connect's retained state has been applied */
    atomic_uint_fast64_t connected_ms; /* monotonic ms of the last connect; 0 never */
    struct feed_wake wake;
};

/* Prepares f to fill m (borrowed; must outlive f) from the broker of c: the
 * session is created (QoS 0, read only; deliver_bytes as in kg_mqtt_options) but
 * not started. 0, or KG_EINVAL with errmsg when the session refuses the
 * options (a usage error). f is ready for feed_close either way. */
int feed_open(struct feed *f, const struct kg_client *c, struct model *m, size_t deliver_bytes,
              char *errmsg, size_t errlen);
/* Subscribes to what the model's source reads and starts the session: with
 * MODEL_SOURCE_VMS <prefix>/#; with MODEL_SOURCE_SUMMARIES <prefix>/+/summary,
 * <prefix>/+/status and <prefix>/+/load/state (the load marks and operator
 * mode), not the VM and metrics topics. 0 or a KG_* code. */
int feed_start(struct feed *f, const char *prefix);
/* Stops and frees the session (no callback runs after it), then the wake.
 * Accepts a feed that feed_open failed on, and a closed one. */
void feed_close(struct feed *f);

bool feed_connected(struct feed *f);
/* Connected, and every retained message of this connect applied to the model
 * (the session's synced mark). */
bool feed_synced(struct feed *f);

/* The retained state has arrived by the wall's rule: connected, and no retained
 * message for settle_ms (empty_ms when the broker sent none at all since the
 * connect). now is monotonic ms. Takes the model's lock. */
bool feed_settled(struct feed *f, uint64_t now, uint64_t settle_ms, uint64_t empty_ms);

/* Sleeps until not_before_ms whatever arrives (frames are paced), then until the
 * model changes or until_ms (monotonic ms). Main thread. */
void feed_wait(struct feed *f, uint64_t not_before_ms, uint64_t until_ms);

#endif
