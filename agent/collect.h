/* SPDX-License-Identifier: MIT */
/*
 * The collector: with its rooms events.c (the event loop and the lifecycle
 * queue) and domcache.c (what is known of each domain between samples), the
 * only module that includes libvirt. Each sample is one bulk
 * virConnectGetAllDomainStats call (with NOWAIT where the driver takes it) for
 * every stats group the driver supports, and per-domain calls (virDomainGetInfo,
 * virDomainBlockStats, virDomainInterfaceStats, virDomainMemoryStats) only for
 * the groups it refuses; which path is in use is probed once per connection
 * (ENFORCE_STATS, one group at a time) and logged once. Disk and interface names
 * for the per-domain calls come from the domain XML, read only when a domain is
 * first seen or redefined, never every cycle.
 *
 * Lifecycle events (defined, undefined, started, stopped, ...) arrive on a
 * libvirt event-loop thread started once per process; they are queued here and
 * taken by the agent's loop with collect_next_event().
 *
 * Output is raw counters (sample.h); rates are rates.c's business.
 * Threads: one thread uses a struct collect; the event queue is locked inside.
 */
#ifndef AGENT_COLLECT_H
#define AGENT_COLLECT_H
#include <stdbool.h>
#include <stddef.h>

#include "sample.h"

struct collect;

struct collect_options {
    const char *uri;           /* libvirt URI, e.g. "qemu:///system"; NULL: libvirt's default */
    bool read_only;            /* virConnectOpenReadOnly */
    int balloon_period_s;      /* >0 (read-write only): set on each running domain once */
    bool force_fallback;       /* tests: use per-domain calls for every group */
    /* The driver is known (from an earlier connection) to give a running
     * domain's monitor figures (balloon.rss) in the bulk call: a record
     * without them is a domain that NOWAIT skipped because it was busy. */
    bool expect_rss;
    /* Called before a domain's per-domain calls (with its UUID and name) and
     * after the last (NULL, NULL), so that whoever watches the collector knows
     * which domain a hanging call is about; returning false ends the sample at
     * once (collect_sample returns KG_ESTATE). NULL: not called. */
    bool (*progress)(void *ctx, const char *uuid, const char *name);
    void *progress_ctx;
};

#define COLLECT_SKIP_MAX 8

/* Opens the connection (after registering libvirt's default event loop and
 * starting its thread, once per process), probes the stats groups, registers for
 * lifecycle and close events. Returns 0 and *out (free with collect_close), or
 * KG_ENOTCONN with libvirt's message in errmsg, KG_ENOMEM. */
int collect_open(const struct collect_options *opt, struct collect **out,
                 char *errmsg, size_t errlen);
/* Deregisters and closes. Accepts NULL. */
void collect_close(struct collect *c);

/* False once libvirt reported the connection closed (libvirtd stopped/restarted)
 * or it is no longer alive: close it and open again. */
bool collect_alive(struct collect *c);

/* "bulk", "fallback" or "mixed" (bulk for some groups, per-domain for others). */
const char *collect_path(const struct collect *c);

/* Takes one sample of every defined domain and of the node. *doms points into a
 * buffer owned by c, valid until the next call or collect_close. Returns 0,
 * or KG_ENOTCONN / KG_EIO with libvirt's message in errmsg (the connection is
 * probably gone), or KG_ESTATE when the progress callback stopped it. */
int collect_sample(struct collect *c, struct sample_dom **doms, size_t *n,
                   struct sample_node *node, char *errmsg, size_t errlen);

/* Domains to leave alone in the next samples (another thread's call on them is
 * hanging): they are listed with the state the bulk call gives and marked
 * incomplete, and no per-domain call is made for them. At most
 * COLLECT_SKIP_MAX; replaces the previous list. */
void collect_skip(struct collect *c, const char (*uuids)[KG_UUID_LEN + 1], size_t n);

/* True once a running domain's bulk record carried balloon.rss on this
 * connection (see expect_rss). Any thread. */
bool collect_reports_rss(struct collect *c);

enum collect_event_type {
    COLLECT_EV_DEFINED = 1, COLLECT_EV_UNDEFINED, COLLECT_EV_STARTED,
    COLLECT_EV_SUSPENDED, COLLECT_EV_RESUMED, COLLECT_EV_STOPPED,
    COLLECT_EV_OTHER,
    COLLECT_EV_OVERFLOW,       /* events were lost: resample everything */
};

struct collect_event {
    enum collect_event_type type;
    char uuid[KG_UUID_LEN + 1];
    char name[KG_NAME_MAX + 1];
};

/* True when a domain with this UUID still exists (an undefined domain that is
 * still running lives on as a transient one). False also on error. */
bool collect_domain_exists(struct collect *c, const char *uuid);

/* Takes the oldest queued lifecycle event. True when *ev was filled. */
bool collect_next_event(struct collect *c, struct collect_event *ev);

/* For tests of the bulk path (the test driver has none): one bulk stats record
 * (a virDomainStatsRecordPtr, borrowed) read as a driver that supports every
 * group would, into *s (initialised here); its devices go to sd and sn
 * (KG_DEV_MAX entries each), which s->disks and s->nets then point to. The UUID
 * and name are left to the caller. */
void collect_record_to_sample(const void *record, struct sample_dom *s,
                              struct sample_disk *sd, struct sample_net *sn);

#endif
