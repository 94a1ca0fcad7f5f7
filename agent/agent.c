/* SPDX-License-Identifier: MIT */
/*
 * The agent's main loop and its resilience: interval timing on the monotonic
 * clock; every libvirt call on the collector thread (lvworker.c), which retries
 * the connection with backoff, so that a hanging libvirtd never holds up this
 * loop: a sample not answered by the time the next one is due (and for at least
 * HUNG_MIN_NS) is a hung cycle, published with libvirt_ok = false and the VMs'
 * last figures stale with their age; the MQTT session's reconnects answered with
 * the current state (never a backlog); lifecycle events removing undefined VMs at
 * once; SIGHUP reloads; and "offline" plus a return within a second on
 * SIGTERM/SIGINT, even while the collector thread is stuck inside libvirt.
 */
#include "agent.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect.h"
#include "lvworker.h"
#include "kvmgrid/client.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/ha.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/topic.h"
#include "kvmgrid/version.h"
#include "procfs.h"
#include "publish.h"
#include "rates.h"

#define MS 1000000ull
#define TICK_NS (100 * MS)          /* how often signal flags are looked at */
#define EARLY_MIN_NS (1000 * MS)    /* an event-triggered cycle at most this often */
#define STOP_TIMEOUT_MS 600         /* "offline" must be out within a second */
#define WORKER_STOP_MS 100          /* then the collector thread gets this long to end
                                     * (it was told to stop before the MQTT stop) */
/* A sample unanswered for an interval, and at least this long, is a hung cycle
 * (host libvirt_ok = false, VMs stale); a shorter delay is only a late cycle, so
 * a host whose sample takes about an interval does not flap. "Unanswered" counts
 * from the sample's last progress (a domain's calls begun or done), not from its
 * start: a sample of many domains on a loaded host that keeps moving is late,
 * never hung, and no second libvirt connection is opened for it. */
#define HUNG_MIN_NS (2000 * MS)
/* A hung cycle first retires the collector thread and asks a new one (see
 * lvworker_replace), which usually answers at once for every domain but the
 * one libvirt hangs on; the host is published as hung only if that answer has
 * not come after REPLACE_GRACE_NS. */
#define REPLACE_GRACE_NS (1000 * MS)
/* The loop wakes for a due cycle a little before or after the exact interval:
 * "hung for hung_ns" is compared with this much slack, so that a hang is seen
 * at the due time itself and not one interval later. */
#define DUE_SLACK_NS (20 * MS)
/* At QoS 1 Paho keeps a copy of every message until its PUBACK and looks each
 * PUBACK up in its list of messages in flight: a burst of 1000 VMs costs ~1.5 MB
 * of copies at the peak and a walk of a long list per PUBACK. The session paces
 * the cycle's burst (kg_mqtt_pace_begin): it waits for the PUBACKs every
 * PACE_BATCH messages, which keeps both small (at QoS 0 it waits for the writes:
 * the same peak of copies). PACE_WAIT_MS and PACE_BUDGET_MS bound the waiting
 * when the broker is slow (then it just sends), and a stop signal ends it. */
#define PACE_BATCH 100
#define PACE_WAIT_MS 100
#define PACE_BUDGET_MS 300

struct agent {
    struct agent_config cfg;
    struct kg_mqtt *mqtt;
    struct publish *pub;
    struct rates *rates;
    struct lvworker *worker;        /* owns the libvirt connection */
    atomic_bool connected;          /* set by the session's connect callback */
    char status_topic[KG_TOPIC_MAX];
    char vm_filter[KG_TOPIC_MAX];   /* <prefix>/<host>/vm/+ */
    /* Home Assistant discovery (cfg.ha_discovery): this host's configs, read
     * back at each connect like its VM topics, and Home Assistant's status,
     * whose "online" (its birth) asks for every config again */
    char ha_filter[KG_TOPIC_MAX];
    char ha_status[KG_TOPIC_MAX];
    atomic_bool ha_birth;           /* set on Paho's thread, answered by the loop */

    /* The retained VM topics the broker holds for this host, read at every
     * connect (the session's snapshot filter): those that no VM owns any more
     * are taken away (publish_sweep), once libvirt has answered, so that a
     * VM removed while this agent was dead, or restored by a broker from an
     * older persistence file, does not stay forever. Filled on Paho's thread. */
    pthread_mutex_t found_lock;
    char **found;
    size_t n_found, cap_found;
    bool found_complete;            /* the broker delivered all of them */
    bool libvirt_answered;          /* a cycle with libvirt ok: the VM list is real */

    struct kg_complain pub_complain, proc_complain, hung_complain, sum_complain;
    char lv_error[128];
    char lv_path[16];

    struct sample_proc proc_prev;
    bool have_proc_prev;
    uint64_t proc_prev_ns;

    volatile sig_atomic_t *stop;    /* the hooks' stop flag */
    struct kg_vm scratch;           /* one VM at a time on its way to the wire; the
                                     * VMs' figures live compactly in rates */
    struct kg_host host;
    bool have_host;
    uint64_t last_cycle_ns;         /* last request to the collector */
    uint64_t grace_until_ns;        /* a new collector thread took a hung request */
    bool early;                     /* a lifecycle event asks for a cycle soon */
};

/* ---- MQTT session -------------------------------------------------------- */

/* At most this many retained VM topics of this host are read per connect. */
#define FOUND_MAX (1u << 20)

static void found_clear_locked(struct agent *a)
{
    for (size_t i = 0; i < a->n_found; i++)
        free(a->found[i]);
    a->n_found = 0;
    a->found_complete = false;
}

static void on_connect(void *ctx, bool reconnect)
{
    struct agent *a = ctx;
    (void)reconnect;
    pthread_mutex_lock(&a->found_lock); /* a new snapshot follows */
    found_clear_locked(a);
    pthread_mutex_unlock(&a->found_lock);
    atomic_store(&a->connected, true); /* the loop answers it; never block here */
}

/* Home Assistant's birth message: handed to the loop, which republishes the
 * discovery configs. A retained one (some sites retain it) comes at every
 * connect, when they go out anyway. */
static void on_ha_status(struct agent *a, const void *payload, size_t len)
{
    if (len == strlen(KG_HA_BIRTH_ONLINE) && memcmp(payload, KG_HA_BIRTH_ONLINE, len) == 0)
        atomic_store(&a->ha_birth, true);
}

/* A retained message of the snapshot filters (this host's VM topics and its
 * discovery configs): noted. Live ones (our own, echoed until the filters are
 * unsubscribed) and removals are not. */
static void on_message(void *ctx, const char *topic, size_t topic_len, const void *payload,
                       size_t len, bool retained)
{
    struct agent *a = ctx;
    if (a->ha_status[0] && strcmp(topic, a->ha_status) == 0) {
        on_ha_status(a, payload, len);
        return;
    }
    if (!retained || len == 0)
        return;
    pthread_mutex_lock(&a->found_lock);
    if (!a->found_complete && a->n_found < FOUND_MAX) {
        if (a->n_found == a->cap_found) {
            size_t cap = a->cap_found ? a->cap_found * 2 : 64;
            char **f = realloc(a->found, cap * sizeof *f);
            if (f) {
                a->found = f;
                a->cap_found = cap;
            }
        }
        char *t = a->n_found < a->cap_found ? strndup(topic, topic_len) : NULL;
        if (t)
            a->found[a->n_found++] = t;
    }
    pthread_mutex_unlock(&a->found_lock);
}

static void on_synced(void *ctx)
{
    struct agent *a = ctx;
    pthread_mutex_lock(&a->found_lock);
    a->found_complete = true;
    pthread_mutex_unlock(&a->found_lock);
}

/* Takes away the retained VM topics found at the last connect that no VM owns,
 * once the snapshot is complete and libvirt has answered. */
static void sweep_found(struct agent *a)
{
    if (!a->libvirt_answered || !a->pub)
        return;
    pthread_mutex_lock(&a->found_lock);
    if (!a->found_complete || a->n_found == 0) {
        pthread_mutex_unlock(&a->found_lock);
        return;
    }
    size_t removed = 0, seen = a->n_found;
    int rc = publish_sweep(a->pub, a->found, a->n_found, &removed);
    found_clear_locked(a);
    pthread_mutex_unlock(&a->found_lock);
    if (removed)
        kg_info("removed %zu retained VM topics of %zu found on the broker that no VM owns "
                "(left from before)", removed, seen);
    if (rc && rc != KG_ENOTCONN)
        kg_warn("removing left-over VM topics: %s", kg_strerror(rc));
}

/* The publisher's transport: while disconnected nothing is queued, so a
 * reconnect sends the current state instead of a backlog of old samples. */
static int mqtt_send(void *ctx, const char *topic, const void *payload, size_t len, bool retain,
                     int qos)
{
    struct agent *a = ctx;
    if (!kg_mqtt_is_connected(a->mqtt))
        return KG_ENOTCONN;
    return kg_mqtt_publish_qos(a->mqtt, topic, payload, len, retain, qos);
}

static int session_start(struct agent *a)
{
    const struct agent_config *c = &a->cfg;
    if (kg_topic_build(a->status_topic, sizeof a->status_topic, c->client.prefix,
                       KG_TOPIC_STATUS, c->host, NULL) < 0) {
        kg_error("invalid prefix or host name for topics");
        return KG_EINVAL;
    }
    /* <prefix>/<host>/status -> <prefix>/<host>/vm/+ */
    size_t base = strlen(a->status_topic) - strlen("status");
    snprintf(a->vm_filter, sizeof a->vm_filter, "%.*svm/+", (int)base, a->status_topic);
    struct kg_mqtt_options mo;
    kg_client_mqtt_options(&c->client, &mo);
    mo.qos = 1; /* the will, status and removals; c->qos is for the periodic figures */
    mo.will_topic = a->status_topic;
    mo.will_payload = KG_STATUS_OFFLINE;
    mo.will_retained = true;
    /* The window of messages in Paho's hands (about 2.3 KB each): room for a few
     * PACE_BATCHes in flight. Beyond it a message is refused, not kept: the next
     * cycle sends the VM's newest figures anyway, and a refused removal stays
     * pending (publish.c), so a slow, frozen or absent broker costs the agent the
     * window and nothing per VM or per cycle. */
    mo.max_buffered = 2 * PACE_BATCH;
    mo.refuse_when_full = true;
    mo.on_connect = on_connect;
    mo.on_message = on_message;
    mo.on_synced = on_synced;
    mo.snapshot_filters[0] = a->vm_filter;
    a->ha_filter[0] = a->ha_status[0] = '\0';
    if (c->ha_discovery) {
        if (kg_ha_config_filter(a->ha_filter, sizeof a->ha_filter, c->ha_prefix, c->host) < 0 ||
            kg_ha_status_topic(a->ha_status, sizeof a->ha_status, c->ha_prefix) < 0) {
            kg_error("invalid ha_prefix or host name for Home Assistant topics");
            return KG_EINVAL;
        }
        mo.snapshot_filters[1] = a->ha_filter;
    }
    mo.ctx = a;
    char err[256] = "";
    int rc = kg_mqtt_create(&mo, &a->mqtt, err, sizeof err);
    if (rc) {
        kg_error("mqtt: %s", err[0] ? err : kg_strerror(rc));
        return rc;
    }
    struct publish_options po = {
        .prefix = c->client.prefix, .host = c->host, .deadband_pct = c->deadband_pct,
        .max_skip = (unsigned)c->deadband_max_skip, .metrics_qos = (int)c->qos,
        .send = mqtt_send, .send_ctx = a,
        .ha_prefix = c->ha_discovery ? c->ha_prefix : NULL, .sw_version = KG_VERSION,
        .summary = c->summary,
    };
    rc = publish_create(&po, &a->pub);
    if (rc) {
        kg_error("publisher: %s", kg_strerror(rc));
        return rc;
    }
    if (a->ha_status[0] && (rc = kg_mqtt_subscribe(a->mqtt, a->ha_status)) != 0) {
        kg_error("mqtt: cannot subscribe to %s: %s", a->ha_status, kg_strerror(rc));
        return rc;
    }
    if (c->ha_discovery) {
        char hid[KG_HA_HOST_ID_MAX + 1];
        kg_ha_host_id(c->host, hid, sizeof hid);
        kg_info("Home Assistant discovery under %s/sensor/kvmgrid_%s/ (host id %s)",
                c->ha_prefix, hid, hid);
    }
    rc = kg_mqtt_start(a->mqtt);
    if (rc)
        kg_error("mqtt: cannot start: %s", kg_strerror(rc));
    return rc;
}

/* remove_all: also take this host's VM topics away (prefix or host renamed);
 * clear_ha: and its discovery configs (discovery turned off or moved). */
static void session_stop(struct agent *a, bool remove_all, bool clear_ha)
{
    if (a->pub && clear_ha && kg_mqtt_is_connected(a->mqtt))
        publish_ha_clear(a->pub);
    if (a->pub && remove_all && kg_mqtt_is_connected(a->mqtt))
        publish_vms(a->pub, NULL, 0, true);
    if (a->mqtt)
        kg_mqtt_stop(a->mqtt, a->status_topic, KG_STATUS_OFFLINE, STOP_TIMEOUT_MS);
    kg_mqtt_free(a->mqtt);
    a->mqtt = NULL;
    publish_free(a->pub);
    a->pub = NULL;
    atomic_store(&a->connected, false);
}

/* ---- libvirt ------------------------------------------------------------- */

static void libvirt_options(const struct agent_config *c, struct collect_options *o)
{
    memset(o, 0, sizeof *o);
    o->uri = c->libvirt_uri;
    o->read_only = c->libvirt_read_only;
    o->balloon_period_s = (int)c->balloon_period_s;
}

/* ---- one cycle ----------------------------------------------------------- */

static void send_state(struct agent *a, bool force)
{
    /* Disconnected: every send would be refused, so do not encode 1000s of
     * payloads for nothing; the reconnect publishes the current state (forced). */
    if (!a->pub || !kg_mqtt_is_connected(a->mqtt))
        return;
    int rc = 0, r;
    if (a->have_host && (r = publish_host(a->pub, &a->host)) != 0)
        rc = r;
    size_t n = rates_count(a->rates);
    publish_begin(a->pub, n, force);
    /* at most PACE_BATCH messages in flight or queued; see PACE_BATCH */
    struct kg_mqtt_pace pace = {PACE_BATCH, PACE_WAIT_MS, PACE_BUDGET_MS, a->stop};
    kg_mqtt_pace_begin(a->mqtt, &pace);
    for (size_t i = 0; i < n; i++) {
        rates_get(a->rates, i, a->cfg.host, &a->scratch);
        publish_vm(a->pub, &a->scratch);
    }
    if ((r = publish_end(a->pub)) != 0 && !rc)
        rc = r;
    /* discovery configs of new or renamed VMs; nothing when none is due */
    if ((r = publish_ha(a->pub)) != 0 && !rc)
        rc = r;
    kg_mqtt_pace_end(a->mqtt);
    if (rc == KG_EAGAIN)
        kg_complain(&a->pub_complain, KG_LOG_WARN,
                    "publish: the broker acknowledges nothing (%d messages wait for it); the "
                    "newest figures go out when it does", 2 * PACE_BATCH);
    else if (rc && rc != KG_ENOTCONN)
        kg_complain(&a->pub_complain, KG_LOG_WARN, "publish: %s", kg_strerror(rc));
    else if (!rc)
        kg_complain_release(&a->pub_complain, "publish: working again");
    struct publish_stats st;
    publish_get_stats(a->pub, &st);
    if (st.summary_omitted)
        kg_complain(&a->sum_complain, KG_LOG_WARN,
                    "summary: %u VMs left out (over %d bytes, or a name that cannot be "
                    "encoded); their own topics are published", st.summary_omitted,
                    KG_SUMMARY_MAX);
    else
        kg_complain_release(&a->sum_complain, "summary: every VM fits again");
}

/* Every discovery config that is due, paced like a cycle's burst. */
static void send_ha(struct agent *a)
{
    struct kg_mqtt_pace pace = {PACE_BATCH, PACE_WAIT_MS, PACE_BUDGET_MS, a->stop};
    kg_mqtt_pace_begin(a->mqtt, &pace);
    int rc = publish_ha(a->pub);
    kg_mqtt_pace_end(a->mqtt);
    if (rc && rc != KG_ENOTCONN) /* what failed stays due for the next cycle */
        kg_complain(&a->pub_complain, KG_LOG_WARN, "publish: discovery: %s", kg_strerror(rc));
}

/* /proc, the host JSON, and every message of the cycle. node is NULL when
 * libvirt gave nothing this cycle. */
static void send_cycle(struct agent *a, uint64_t now, int64_t real, bool lv_ok,
                          const struct sample_node *node)
{
    struct sample_proc proc;
    bool have_proc = false;
    if (a->cfg.proc_root[0]) {
        int rc = procfs_read_all(a->cfg.proc_root, &proc);
        if (rc)
            kg_complain(&a->proc_complain, KG_LOG_WARN, "reading %s: %s", a->cfg.proc_root,
                        kg_strerror(rc));
        else
            kg_complain_release(&a->proc_complain, "reading %s again", a->cfg.proc_root);
        have_proc = true; /* the readers that worked filled their part */
    }
    rates_host(a->have_proc_prev ? &a->proc_prev : NULL, have_proc ? &proc : NULL,
               now - a->proc_prev_ns, lv_ok ? node : NULL, &a->host);
    if (have_proc) {
        a->proc_prev = proc;
        a->have_proc_prev = true;
        a->proc_prev_ns = now;
    }
    a->host.ts_ms = real;
    snprintf(a->host.name, sizeof a->host.name, "%s", a->cfg.host);
    snprintf(a->host.agent_version, sizeof a->host.agent_version, "%s", KG_VERSION);
    a->host.interval_s = (double)a->cfg.interval_ms / 1000.0;
    a->host.libvirt_ok = lv_ok;
    snprintf(a->host.libvirt_error, sizeof a->host.libvirt_error, "%s",
             lv_ok ? "" : a->lv_error[0] ? a->lv_error : "not connected");
    snprintf(a->host.collect_path, sizeof a->host.collect_path, "%s",
             a->lv_path[0] ? a->lv_path : "none");
    a->have_host = true;
    send_state(a, false);
}

/* The collector answered: rates from its sample, then publish. */
static void finish_cycle(struct agent *a, const struct lvworker_result *r)
{
    uint64_t now = kg_clock_mono_ns();
    int64_t real = kg_clock_real_ms();
    a->grace_until_ns = 0;
    snprintf(a->lv_path, sizeof a->lv_path, "%s", r->path);
    int rc = r->rc;
    if (rc == 0)
        rc = rates_update(a->rates, r->doms, r->n, r->mono_ns, r->real_ms, r->node.cpus);
    bool lv_ok = rc == 0;
    if (lv_ok)
        a->libvirt_answered = true;
    if (lv_ok) {
        a->lv_error[0] = '\0';
        kg_complain_release(&a->hung_complain, "libvirt answers again");
    } else {
        snprintf(a->lv_error, sizeof a->lv_error, "%.*s", (int)sizeof a->lv_error - 1,
                 r->err[0] ? r->err : kg_strerror(rc));
        rates_mark_stale(a->rates, now, real);
    }
    kg_debug("cycle: libvirt %s, %zu VMs", lv_ok ? "ok" : "unavailable",
             rates_count(a->rates));
    send_cycle(a, now, real, lv_ok, &r->node);
}

/* A cycle is due and the previous sample is still inside libvirt. */
static void hung_cycle(struct agent *a, uint64_t since_ns)
{
    uint64_t now = kg_clock_mono_ns();
    int64_t real = kg_clock_real_ms();
    double s = (double)(now - since_ns) / 1e9;
    snprintf(a->lv_error, sizeof a->lv_error, "libvirt has not answered for %.1f s", s);
    kg_complain(&a->hung_complain, KG_LOG_WARN, "%s; VMs published as stale", a->lv_error);
    rates_mark_stale(a->rates, now, real);
    kg_debug("cycle: libvirt hung, %zu VMs stale", rates_count(a->rates));
    send_cycle(a, now, real, false, NULL);
}

/* A cycle is due and the previous sample has been inside libvirt for hung_ns:
 * a new collector thread if one may be started (the host is published as hung
 * only if it does not answer within the grace), else the hung cycle. */
static void overdue_cycle(struct agent *a, uint64_t since_ns, uint64_t hung_ns)
{
    char what[KG_NAME_MAX + 16] = "";
    uint64_t now = kg_clock_mono_ns();
    if (lvworker_replace(a->worker, hung_ns - DUE_SLACK_NS, what, sizeof what)) {
        kg_warn("libvirt: no answer for %.1f s from %s; reading the others on a new "
                "connection (what hangs stays stale until its call returns)",
                (double)(now - since_ns) / 1e9, what);
        a->grace_until_ns = now + REPLACE_GRACE_NS;
    } else if (!a->grace_until_ns || now >= a->grace_until_ns) {
        a->grace_until_ns = 0;
        hung_cycle(a, since_ns);
    }
}

/* The collector saw a domain undefined and gone. */
static void remove_vm(struct agent *a, const char *uuid, const char *name)
{
    kg_info("VM %s undefined: removing its topic", name);
    if (a->pub)
        publish_remove(a->pub, uuid);
    rates_forget(a->rates, uuid);
}

static void drain_worker(struct agent *a)
{
    struct lvworker_removal rm;
    while (lvworker_take_removal(a->worker, &rm))
        remove_vm(a, rm.uuid, rm.name);
    if (lvworker_take_early(a->worker))
        a->early = true;
    struct lvworker_result r;
    if (lvworker_take_result(a->worker, &r))
        finish_cycle(a, &r);
}

/* ---- reload ---------------------------------------------------------------- */

static bool same_session(const struct agent_config *x, const struct agent_config *y)
{
    return kg_client_same_session(&x->client, &y->client) && !strcmp(x->host, y->host) &&
           x->qos == y->qos && x->ha_discovery == y->ha_discovery && x->summary == y->summary &&
           !strcmp(x->ha_prefix, y->ha_prefix) &&
           x->deadband_pct == y->deadband_pct && x->deadband_max_skip == y->deadband_max_skip;
}

static bool same_libvirt(const struct agent_config *x, const struct agent_config *y)
{
    return !strcmp(x->libvirt_uri, y->libvirt_uri) &&
           x->libvirt_read_only == y->libvirt_read_only &&
           x->balloon_period_s == y->balloon_period_s;
}

static void reload(struct agent *a, const struct agent_hooks *h)
{
    struct agent_config *n = malloc(sizeof *n);
    char err[512] = "";
    if (!n || !h->reload_fn || h->reload_fn(h->reload_ctx, n, err, sizeof err) != 0) {
        kg_error("reload: %s; keeping the current configuration", err[0] ? err : "failed");
        free(n);
        return;
    }
    kg_log_set_level((enum kg_log_level)n->client.log_level);
    bool renamed =
        strcmp(n->client.prefix, a->cfg.client.prefix) || strcmp(n->host, a->cfg.host);
    bool new_session = !same_session(&a->cfg, n);
    bool new_libvirt = !same_libvirt(&a->cfg, n);
    /* configs published under another host id or prefix, or no longer wanted */
    bool ha_moved = a->cfg.ha_discovery &&
                    (!n->ha_discovery || renamed || strcmp(n->ha_prefix, a->cfg.ha_prefix));
    if (new_session) {
        session_stop(a, renamed, ha_moved);
        a->cfg = *n;
        if (session_start(a) != 0)
            kg_error("reload: the new MQTT settings do not work; fix them and reload again");
    }
    if (new_libvirt) {
        struct collect_options o;
        libvirt_options(n, &o);
        lvworker_reset(a->worker, &o); /* copies the URI */
    }
    a->cfg = *n;
    free(n);
    kg_info("configuration reloaded%s%s", new_session ? " (new MQTT session)" : "",
            new_libvirt ? " (new libvirt connection)" : "");
}

/* ---- the loop -------------------------------------------------------------- */

int agent_run(const struct agent_config *cfg, const struct agent_hooks *h)
{
    struct agent *a = calloc(1, sizeof *a);
    if (!a)
        return AGENT_EXIT_FAILURE;
    a->cfg = *cfg;
    a->stop = h->stop;
    pthread_mutex_init(&a->found_lock, NULL);
    kg_log_set_level((enum kg_log_level)a->cfg.client.log_level);
    int status = AGENT_EXIT_FAILURE;
    struct collect_options co;
    libvirt_options(&a->cfg, &co);
    if (rates_create(&a->rates) != 0 || session_start(a) != 0)
        goto out;
    if (lvworker_start(&co, &a->worker) != 0) {
        kg_error("cannot start the collector thread");
        goto out;
    }
    kg_info("kvmgrid-agent %s: host %s, libvirt %s (%s), broker %s, prefix %s, every %.3g s",
            KG_VERSION, a->cfg.host, a->cfg.libvirt_uri,
            a->cfg.libvirt_read_only ? "read-only" : "read-write", a->cfg.client.broker,
            a->cfg.client.prefix,
            (double)a->cfg.interval_ms / 1000.0);

    uint64_t next = kg_clock_mono_ns();
    while (!*h->stop) {
        if (*h->reload) {
            *h->reload = 0;
            reload(a, h);
        }
        if (atomic_exchange(&a->connected, false) && a->pub) {
            /* first connect or reconnect: the broker may have lost our retained
             * messages (restart without persistence): send the current state */
            kg_info("mqtt: connected to %s; publishing the current state", a->cfg.client.broker);
            publish_status(a->pub, true);
            if (!a->cfg.summary) /* one an earlier run (or configuration) left */
                publish_summary_clear(a->pub);
            publish_resync(a->pub);
            send_state(a, true);
        }
        if (atomic_exchange(&a->ha_birth, false) && a->pub && kg_mqtt_is_connected(a->mqtt)) {
            kg_info("Home Assistant is online: publishing the discovery configs again");
            publish_ha_resync(a->pub);
            send_ha(a);
        }
        drain_worker(a);
        sweep_found(a);
        uint64_t now = kg_clock_mono_ns();
        uint64_t interval = a->cfg.interval_ms * MS;
        uint64_t hung_ns = interval > HUNG_MIN_NS ? interval : HUNG_MIN_NS;
        uint64_t since;
        if (a->grace_until_ns && now >= a->grace_until_ns) {
            /* the new collector thread did not answer either */
            a->grace_until_ns = 0;
            if (lvworker_pending(a->worker, &since)) {
                if (now - since >= REPLACE_GRACE_NS)
                    hung_cycle(a, since);
                else /* it is getting through the domains: wait as long again */
                    a->grace_until_ns = since + REPLACE_GRACE_NS;
            }
        }
        bool early_due = a->early && now >= a->last_cycle_ns +
                                                 (interval < EARLY_MIN_NS ? interval : EARLY_MIN_NS);
        if (now >= next || early_due) {
            bool scheduled = now >= next;
            if (lvworker_request(a->worker)) {
                a->last_cycle_ns = now;
                a->early = false;
            } else if (scheduled && lvworker_pending(a->worker, &since) &&
                       now - since + DUE_SLACK_NS >= hung_ns) {
                overdue_cycle(a, since, hung_ns);
            } /* else merely late: its answer is published when it comes */
            if (scheduled)
                next += interval;
            else /* an event-triggered cycle restarts the schedule from itself */
                next = now + interval;
            now = kg_clock_mono_ns();
            if (next <= now) /* fell behind (slow libvirt, suspend): no catch-up burst */
                next = now + interval;
        }
        uint64_t wait = next > now ? next - now : 0;
        if (wait > TICK_NS)
            wait = TICK_NS;
        lvworker_wait(a->worker, wait); /* wakes at once for a result or an event */
    }
    kg_info("stopping: publishing offline");
    status = AGENT_EXIT_OK;
out:
    /* the collector stops while "offline" goes out: a call that returns in the
     * meantime ends its thread without waiting for the broker */
    if (a->worker)
        lvworker_quit(a->worker);
    session_stop(a, false, false);
    /* after "offline" is out: the collector may be stuck in libvirt for good */
    lvworker_stop(a->worker, WORKER_STOP_MS);
    rates_free(a->rates);
    found_clear_locked(a); /* the session is gone: no callback runs any more */
    free(a->found);
    pthread_mutex_destroy(&a->found_lock);
    free(a);
    return status;
}
