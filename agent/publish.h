/* SPDX-License-Identifier: MIT */
/*
 * What goes on the wire each interval, and what is taken off it: the host's
 * status and metrics, one retained message per VM (topics by name, identity by
 * UUID, so a renamed VM moves topics), an empty retained message for a VM that
 * vanished or was undefined, and the optional deadband (skip a VM whose figures
 * moved less than deadband_pct, yet republish it at least every max_skip
 * intervals). Topics and payloads come from libkvmgrid (kg_topic_build,
 * kg_vm_encode, kg_host_encode).
 *
 * The transport is a callback, so this module runs against a fake sink in unit
 * tests and kg_mqtt_publish in the agent. A send that fails (not connected,
 * queue full) leaves the VM marked unpublished and a removal pending, so the next
 * cycle (or publish_resync after a reconnect) catches up with the *current*
 * state: no backlog of old samples is ever replayed.
 *
 * With summary on, each cycle also ends with the host's summary
 * (<prefix>/<host>/summary: the host's figures of the last publish_host and a
 * row for every VM given to publish_vm, deadband or not), sent after the VMs'
 * messages and removals of the cycle. It is encoded row by row as the VMs come,
 * into one buffer allocated with the publisher: nothing per VM or per cycle.
 *
 * With Home Assistant discovery (kvmgrid/ha.h) it also keeps each VM's
 * discovery configs: published for a new VM and again for a renamed one (at
 * the same config topics, keyed by UUID, with the new state topic), emptied
 * when the VM goes, and all republished after a reconnect or Home Assistant's
 * birth. They go out in publish_ha, which costs nothing when none is due: no
 * discovery message is sent per interval.
 * Not thread-safe on one object; does not log.
 */
#ifndef AGENT_PUBLISH_H
#define AGENT_PUBLISH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmgrid/schema.h"

/* Sends one message at QoS qos (0 or 1); returns 0 or a negative KG_* code (the
 * message was not sent). */
typedef int (*publish_send_fn)(void *ctx, const char *topic, const void *payload,
                               size_t len, bool retain, int qos);

struct publish_options {
    const char *prefix;        /* borrowed for the object's lifetime */
    const char *host;          /* raw host name; borrowed */
    double deadband_pct;       /* 0: publish every VM every interval */
    unsigned max_skip;         /* with a deadband: at most this many intervals skipped */
    int metrics_qos;           /* QoS of the periodic host and VM figures (0 or 1). The
                                * status and the removals (empty retained) are always
                                * QoS 1: they are sent once, never refreshed. */
    publish_send_fn send;
    void *send_ctx;
    const char *ha_prefix;     /* Home Assistant discovery prefix; NULL or "": no
                                * discovery. Borrowed for the call. */
    const char *sw_version;    /* the agent's version, for discovery; may be NULL */
    bool summary;              /* end each cycle with the host's summary (at metrics_qos) */
};

struct publish_stats {
    uint64_t messages;         /* messages sent (publishes and removals) */
    uint64_t bytes;            /* topic + payload bytes sent */
    uint64_t skipped;          /* VMs skipped by the deadband */
    uint64_t removed;          /* empty retained messages sent */
    uint64_t failed;           /* sends refused by the transport */
    uint64_t encode_errors;    /* VMs that could not be encoded (bad name...) */
    uint64_t summaries;        /* summaries sent */
    unsigned summary_omitted;  /* rows left out of the last summary (size limit, bad name) */
};

struct publish;

/* 0 and *out (free with publish_free), KG_EINVAL (bad prefix/host), KG_ENOMEM. */
int publish_create(const struct publish_options *opt, struct publish **out);
void publish_free(struct publish *p);

/* Retained "online"/"offline" on <prefix>/<host>/status. 0 or the send's error. */
int publish_status(struct publish *p, bool online);
/* Retained host JSON on <prefix>/<host>/metrics; h (borrowed for the call) is
 * also what the following cycles' summaries say of the host. */
int publish_host(struct publish *p, const struct kg_host *h);

/* An empty retained message on <prefix>/<host>/summary, QoS 1: no summary (the
 * summary is off, and one may be left from a run with it on). 0 or the send's
 * error. */
int publish_summary_clear(struct publish *p);

/* One interval's VMs (n of them, unique UUIDs): publishes each one that moved
 * (all of them when force or no deadband), moves renamed ones, removes every VM
 * published before and absent now. Returns 0, or the first send error (the cycle
 * still went through every VM). */
int publish_vms(struct publish *p, const struct kg_vm *vms, size_t n, bool force);

/* publish_vms one VM at a time, so that the caller needs no array of struct
 * kg_vm (4 kB each): publish_begin (n_hint: how many VMs will come, for one
 * allocation), publish_vm for each VM (vm borrowed for the call), then
 * publish_end, which removes the VMs published before and not seen in between,
 * sends the summary (when on, and a host was given to publish_host before
 * publish_begin) and returns the cycle's first error (0 when all went out). publish_vm
 * returns its own send error too; KG_ESTATE outside begin/end. No other call of
 * this module may come between begin and end. */
int publish_begin(struct publish *p, size_t n_hint, bool force);
int publish_vm(struct publish *p, const struct kg_vm *vm);
int publish_end(struct publish *p);

/* Sends the discovery configs that are due (new and renamed VMs, the host's,
 * everything after publish_resync or publish_ha_resync); a config whose send
 * fails stays due. 0 at once when none is due or discovery is off; else 0 or
 * the first send error. Not between publish_begin and publish_end. */
int publish_ha(struct publish *p);

/* Home Assistant came online (its birth message): every discovery config is
 * due again. */
void publish_ha_resync(struct publish *p);

/* Empties every discovery config this publisher has sent (discovery turned
 * off, or the host or prefix renamed): the host's and each VM's. 0 or the
 * first send error. */
int publish_ha_clear(struct publish *p);

/* Removes one VM now (libvirt said it was undefined). No-op when unknown. */
int publish_remove(struct publish *p, const char *uuid);

/* Topics the broker holds retained for this host's VMs and, with discovery,
 * its discovery configs (read at a connect): sends an empty retained message
 * to each one that no VM known here owns (nor the host, for a config), i.e.
 * left by an agent that was killed before it could remove them, or restored by a
 * broker from an older persistence file. Counts them in *removed (may be NULL).
 * Returns 0, or the first send error (the others are still tried). */
int publish_sweep(struct publish *p, char *const *topics, size_t n, size_t *removed);

/* After a reconnect (the broker may have lost retained messages): the next
 * publish_vms sends every VM whatever the deadband, and every discovery
 * config is due again. */
void publish_resync(struct publish *p);

/* Number of VMs currently believed published (retained on the broker). */
size_t publish_count(const struct publish *p);

void publish_get_stats(const struct publish *p, struct publish_stats *out);

/* The deadband rule on its own (exposed for tests): true when any compared figure
 * of b moved from a by more than pct percent (of a, or of a floor near zero), or
 * the state, staleness or device counts changed. */
bool publish_moved(const struct kg_vm *a, const struct kg_vm *b, double pct);

#endif
