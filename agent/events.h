/* SPDX-License-Identifier: MIT */
/*
 * libvirt's events, for the collector: libvirt's default event loop on a thread
 * of its own (started once per process), and per connection the lifecycle and
 * close callbacks, which only record what happened: a bounded queue of
 * lifecycle events (an overflow is reported as one COLLECT_EV_OVERFLOW), a
 * "the domain list may have changed" flag and a "connection closed" flag. What
 * to do about them is collect.c's and lvworker.c's business.
 *
 * Part of the collector: includes libvirt, included only by collect.c.
 * Threads: the callbacks run on the event-loop thread; the queue is locked
 * inside, the flags are atomic; the rest is the sampling thread's.
 */
#ifndef AGENT_EVENTS_H
#define AGENT_EVENTS_H
#include <libvirt/libvirt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "collect.h"

#define EVENTS_QUEUE_LEN 256

/* One connection's events. Lives inside struct collect: libvirt holds its
 * address from events_register to events_deregister, so it must not move. */
struct events {
    virConnectPtr conn;        /* borrowed; NULL until events_register */
    int lifecycle_id;          /* libvirt's callback ID; -1: no lifecycle events */
    bool close_registered;
    atomic_bool closed;        /* libvirt reported the connection closed */
    /* Set by every lifecycle event. The sampler clears it when it lists the
     * domains, and sets it itself when a listing must not be reused. */
    atomic_bool list_dirty;
    pthread_mutex_t lock;      /* guards the queue */
    struct collect_event q[EVENTS_QUEUE_LEN];
    unsigned head, count;
    bool overflow;
};

/* Starts libvirt's default event loop and its thread (all libvirt errors left
 * to the callers to fetch and log where their call failed), once per process;
 * every call returns the first one's result: 0, or KG_ENOTCONN with libvirt's
 * message in errmsg. */
int events_loop_start(char *errmsg, size_t errlen);

/* No callbacks, an empty queue. Before anything else on e. */
void events_init(struct events *e);
/* Registers e for conn's close and lifecycle events (conn borrowed until
 * events_deregister). A connection without lifecycle events is logged once and
 * left with lifecycle_id -1 (vanished VMs then go at the next listing). */
void events_register(struct events *e, virConnectPtr conn);
/* Removes the callbacks; before the connection is closed. No-op when none. */
void events_deregister(struct events *e);
/* Releases what events_init made; after the connection is closed. */
void events_destroy(struct events *e);

/* Takes the oldest queued event (an overflow first). True when *ev was filled. */
bool events_next(struct events *e, struct collect_event *ev);

#endif
