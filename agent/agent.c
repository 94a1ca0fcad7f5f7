/* SPDX-License-Identifier: MIT */
/*
 * The agent's main loop and its resilience: interval timing on the monotonic
 * clock, the libvirt connection retried with backoff (the host is published with
 * libvirt_ok = false meanwhile, and the VMs' last figures as stale), the MQTT
 * session's reconnects answered with the current state (never a backlog),
 * lifecycle events removing undefined VMs at once, SIGHUP reloads, and a clean
 * "offline" on SIGTERM/SIGINT.
 */
#include "agent.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/topic.h"
#include "kvmgrid/version.h"
#include "procfs.h"
#include "publish.h"
#include "rates.h"

#define MS 1000000ull
#define LV_BACKOFF_MIN_NS (1000 * MS)
#define LV_BACKOFF_MAX_NS (30000 * MS)
#define TICK_NS (100 * MS)          /* how often flags and events are looked at */
#define EARLY_MIN_NS (1000 * MS)    /* an event-triggered cycle at most this often */
#define STOP_TIMEOUT_MS 700         /* "offline" must be out within a second */

struct agent {
    struct kg_agent_config cfg;
    struct kg_mqtt *mqtt;
    struct kg_publish *pub;
    struct kg_rates *rates;
    struct kg_collect *lv;
    atomic_bool connected;          /* set by the session's connect callback */
    char status_topic[KG_TOPIC_MAX];

    uint64_t lv_next_try_ns, lv_backoff_ns;
    struct kg_complain lv_complain, pub_complain, proc_complain;
    char lv_error[128];
    bool lv_path_logged;

    struct kg_proc_sample proc_prev;
    bool have_proc_prev;
    uint64_t proc_prev_ns;

    struct kg_vm *vms;              /* the latest figures of every VM */
    size_t n_vms, cap_vms;
    uint64_t lv_ok_ns;              /* last successful libvirt sample */
    struct kg_host host;
    bool have_host;
    uint64_t last_cycle_ns;
    bool early;                     /* a lifecycle event asks for a cycle soon */
};

/* ---- MQTT session -------------------------------------------------------- */

static void on_connect(void *ctx, bool reconnect)
{
    struct agent *a = ctx;
    (void)reconnect;
    atomic_store(&a->connected, true); /* the loop answers it; never block here */
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
    const struct kg_agent_config *c = &a->cfg;
    if (kg_topic_build(a->status_topic, sizeof a->status_topic, c->prefix, KG_TOPIC_STATUS,
                       c->host, NULL) < 0) {
        kg_error("invalid prefix or host name for topics");
        return KG_EINVAL;
    }
    struct kg_mqtt_options mo;
    memset(&mo, 0, sizeof mo);
    mo.uri = c->broker;
    mo.username = c->username[0] ? c->username : NULL;
    mo.password = c->password[0] ? c->password : NULL;
    mo.ca_file = c->ca_file[0] ? c->ca_file : NULL;
    mo.qos = 1; /* the will, status and removals; c->qos is for the periodic figures */
    mo.will_topic = a->status_topic;
    mo.will_payload = KG_STATUS_OFFLINE;
    mo.will_retained = true;
    mo.max_buffered = 20000;
    mo.on_connect = on_connect;
    mo.ctx = a;
    char err[256] = "";
    int rc = kg_mqtt_create(&mo, &a->mqtt, err, sizeof err);
    if (rc) {
        kg_error("mqtt: %s", err[0] ? err : kg_strerror(rc));
        return rc;
    }
    struct kg_publish_options po = {
        .prefix = c->prefix, .host = c->host, .deadband_pct = c->deadband_pct,
        .max_skip = (unsigned)c->deadband_max_skip, .metrics_qos = (int)c->qos,
        .send = mqtt_send, .send_ctx = a,
    };
    rc = kg_publish_create(&po, &a->pub);
    if (rc) {
        kg_error("publisher: %s", kg_strerror(rc));
        return rc;
    }
    rc = kg_mqtt_start(a->mqtt);
    if (rc)
        kg_error("mqtt: cannot start: %s", kg_strerror(rc));
    return rc;
}

/* remove_all: also take this host's VM topics away (prefix or host renamed). */
static void session_stop(struct agent *a, bool remove_all)
{
    if (a->pub && remove_all && kg_mqtt_is_connected(a->mqtt))
        kg_publish_vms(a->pub, NULL, 0, true);
    if (a->mqtt)
        kg_mqtt_stop(a->mqtt, a->status_topic, KG_STATUS_OFFLINE, STOP_TIMEOUT_MS);
    kg_mqtt_free(a->mqtt);
    a->mqtt = NULL;
    kg_publish_free(a->pub);
    a->pub = NULL;
    atomic_store(&a->connected, false);
}

/* ---- libvirt ------------------------------------------------------------- */

static void lv_close(struct agent *a)
{
    kg_collect_close(a->lv);
    a->lv = NULL;
}

static void lv_failed(struct agent *a, uint64_t now, const char *msg)
{
    snprintf(a->lv_error, sizeof a->lv_error, "%s", msg);
    kg_complain(&a->lv_complain, KG_LOG_WARN, "libvirt %s: %s; retrying", a->cfg.libvirt_uri,
                msg);
    a->lv_backoff_ns = a->lv_backoff_ns ? a->lv_backoff_ns * 2 : LV_BACKOFF_MIN_NS;
    if (a->lv_backoff_ns > LV_BACKOFF_MAX_NS)
        a->lv_backoff_ns = LV_BACKOFF_MAX_NS;
    a->lv_next_try_ns = now + a->lv_backoff_ns;
}

/* Returns true with a usable connection. */
static bool lv_ensure(struct agent *a, uint64_t now)
{
    if (a->lv && !kg_collect_alive(a->lv)) {
        lv_close(a);
        lv_failed(a, now, "connection to libvirt lost");
        return false;
    }
    if (a->lv)
        return true;
    if (now < a->lv_next_try_ns)
        return false;
    struct kg_collect_options o = {
        .uri = a->cfg.libvirt_uri, .read_only = a->cfg.libvirt_read_only,
        .balloon_period_s = (int)a->cfg.balloon_period_s,
    };
    char err[256] = "";
    if (kg_collect_open(&o, &a->lv, err, sizeof err) != 0) {
        lv_failed(a, now, err);
        return false;
    }
    return true;
}

/* ---- one cycle ----------------------------------------------------------- */

static void publish_all(struct agent *a, bool force)
{
    /* Disconnected: every send would be refused, so do not encode 1000s of
     * payloads for nothing; the reconnect publishes the current state (forced). */
    if (!a->pub || !kg_mqtt_is_connected(a->mqtt))
        return;
    int rc = 0, r;
    if (a->have_host && (r = kg_publish_host(a->pub, &a->host)) != 0)
        rc = r;
    if ((r = kg_publish_vms(a->pub, a->vms, a->n_vms, force)) != 0 && !rc)
        rc = r;
    if (rc && rc != KG_ENOTCONN)
        kg_complain(&a->pub_complain, KG_LOG_WARN, "publish: %s", kg_strerror(rc));
    else if (!rc)
        kg_complain_release(&a->pub_complain, "publish: working again");
}

static int ensure_vms(struct agent *a, size_t n)
{
    if (n <= a->cap_vms)
        return 0;
    struct kg_vm *v = realloc(a->vms, n * sizeof *v);
    if (!v)
        return KG_ENOMEM;
    a->vms = v;
    a->cap_vms = n;
    return 0;
}

static void cycle(struct agent *a)
{
    uint64_t now = kg_clock_mono_ns();
    int64_t real = kg_clock_real_ms();
    a->last_cycle_ns = now;
    a->early = false;

    struct kg_node_sample node;
    memset(&node, 0, sizeof node);
    bool lv_ok = false;
    if (lv_ensure(a, now)) {
        struct kg_dom_sample *doms;
        size_t n;
        char err[256] = "";
        int rc = kg_collect_sample(a->lv, &doms, &n, &node, err, sizeof err);
        if (rc == 0 && (rc = ensure_vms(a, n)) == 0)
            rc = kg_rates_update(a->rates, doms, n, now, real, node.cpus, a->cfg.host, a->vms);
        if (rc == 0) {
            a->n_vms = n;
            lv_ok = true;
            a->lv_ok_ns = now;
            a->lv_backoff_ns = 0;
            a->lv_error[0] = '\0';
            kg_complain_release(&a->lv_complain, "libvirt %s: reading VMs again (%s path)",
                                a->cfg.libvirt_uri, kg_collect_path(a->lv));
        } else {
            lv_close(a);
            lv_failed(a, now, err[0] ? err : kg_strerror(rc));
        }
    }
    kg_debug("cycle: libvirt %s, %zu VMs", lv_ok ? "ok" : "unavailable", a->n_vms);
    if (!lv_ok) {
        /* keep the VMs' last figures on the wire, marked stale with their age */
        for (size_t i = 0; i < a->n_vms; i++) {
            a->vms[i].stale = true;
            a->vms[i].age_s = (double)(now - a->lv_ok_ns) / 1e9;
            a->vms[i].ts_ms = real;
        }
    }

    struct kg_proc_sample proc;
    bool have_proc = false;
    if (a->cfg.proc_root[0]) {
        int rc = kg_procfs_read_all(a->cfg.proc_root, &proc);
        if (rc)
            kg_complain(&a->proc_complain, KG_LOG_WARN, "reading %s: %s", a->cfg.proc_root,
                        kg_strerror(rc));
        else
            kg_complain_release(&a->proc_complain, "reading %s again", a->cfg.proc_root);
        have_proc = true; /* the readers that worked filled their part */
    }
    kg_rates_host(a->have_proc_prev ? &a->proc_prev : NULL, have_proc ? &proc : NULL,
                  now - a->proc_prev_ns, lv_ok ? &node : NULL, &a->host);
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
             a->lv ? kg_collect_path(a->lv) : "none");
    a->have_host = true;
    publish_all(a, false);
}

static void remove_vm(struct agent *a, const char *uuid, const char *name)
{
    if (a->lv && kg_collect_domain_exists(a->lv, uuid))
        return; /* undefined while running: it lives on as a transient domain */
    kg_info("VM %s undefined: removing its topic", name);
    if (a->pub)
        kg_publish_remove(a->pub, uuid);
    kg_rates_forget(a->rates, uuid);
    for (size_t i = 0; i < a->n_vms; i++) {
        if (!strcmp(a->vms[i].uuid, uuid)) {
            memmove(&a->vms[i], &a->vms[i + 1], (a->n_vms - i - 1) * sizeof *a->vms);
            a->n_vms--;
            break;
        }
    }
}

static void drain_events(struct agent *a)
{
    struct kg_collect_event ev;
    while (a->lv && kg_collect_next_event(a->lv, &ev)) {
        kg_debug("libvirt event %d for %s", (int)ev.type, ev.name);
        if (ev.type == KG_COLLECT_EV_UNDEFINED)
            remove_vm(a, ev.uuid, ev.name);
        else
            a->early = true;
    }
}

/* ---- reload ---------------------------------------------------------------- */

static bool same_session(const struct kg_agent_config *x, const struct kg_agent_config *y)
{
    return !strcmp(x->broker, y->broker) && !strcmp(x->username, y->username) &&
           !strcmp(x->password, y->password) && !strcmp(x->ca_file, y->ca_file) &&
           !strcmp(x->prefix, y->prefix) && !strcmp(x->host, y->host) && x->qos == y->qos &&
           x->deadband_pct == y->deadband_pct && x->deadband_max_skip == y->deadband_max_skip;
}

static bool same_libvirt(const struct kg_agent_config *x, const struct kg_agent_config *y)
{
    return !strcmp(x->libvirt_uri, y->libvirt_uri) &&
           x->libvirt_read_only == y->libvirt_read_only &&
           x->balloon_period_s == y->balloon_period_s;
}

static void reload(struct agent *a, const struct kg_agent_hooks *h)
{
    struct kg_agent_config *n = malloc(sizeof *n);
    char err[512] = "";
    if (!n || !h->reload_fn || h->reload_fn(h->reload_ctx, n, err, sizeof err) != 0) {
        kg_error("reload: %s; keeping the current configuration", err[0] ? err : "failed");
        free(n);
        return;
    }
    kg_log_set_level((enum kg_log_level)n->log_level);
    bool renamed = strcmp(n->prefix, a->cfg.prefix) || strcmp(n->host, a->cfg.host);
    bool new_session = !same_session(&a->cfg, n);
    bool new_libvirt = !same_libvirt(&a->cfg, n);
    if (new_session) {
        session_stop(a, renamed);
        a->cfg = *n;
        if (session_start(a) != 0)
            kg_error("reload: the new MQTT settings do not work; fix them and reload again");
    }
    if (new_libvirt) {
        lv_close(a);
        a->lv_next_try_ns = 0;
        a->lv_backoff_ns = 0;
    }
    if (renamed)
        for (size_t i = 0; i < a->n_vms; i++)
            snprintf(a->vms[i].host, sizeof a->vms[i].host, "%s", n->host);
    a->cfg = *n;
    free(n);
    kg_info("configuration reloaded%s%s", new_session ? " (new MQTT session)" : "",
            new_libvirt ? " (new libvirt connection)" : "");
}

/* ---- the loop -------------------------------------------------------------- */

int kg_agent_run(const struct kg_agent_config *cfg, const struct kg_agent_hooks *h)
{
    struct agent *a = calloc(1, sizeof *a);
    if (!a)
        return KG_AGENT_EXIT_FAILURE;
    a->cfg = *cfg;
    kg_log_set_level((enum kg_log_level)a->cfg.log_level);
    int status = KG_AGENT_EXIT_FAILURE;
    if (kg_rates_create(&a->rates) != 0 || session_start(a) != 0)
        goto out;
    kg_info("kvmgrid-agent %s: host %s, libvirt %s (%s), broker %s, prefix %s, every %.3g s",
            KG_VERSION, a->cfg.host, a->cfg.libvirt_uri,
            a->cfg.libvirt_read_only ? "read-only" : "read-write", a->cfg.broker, a->cfg.prefix,
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
            kg_info("mqtt: connected to %s; publishing the current state", a->cfg.broker);
            kg_publish_status(a->pub, true);
            kg_publish_resync(a->pub);
            publish_all(a, true);
        }
        drain_events(a);
        uint64_t now = kg_clock_mono_ns();
        uint64_t interval = a->cfg.interval_ms * MS;
        bool early_due = a->early && now >= a->last_cycle_ns +
                                                 (interval < EARLY_MIN_NS ? interval : EARLY_MIN_NS);
        if (now >= next || early_due) {
            bool scheduled = now >= next;
            cycle(a);
            if (scheduled)
                next += interval;
            else /* an event-triggered cycle restarts the schedule from itself */
                next = a->last_cycle_ns + interval;
            now = kg_clock_mono_ns();
            if (next <= now) /* fell behind (slow libvirt, suspend): no catch-up burst */
                next = now + interval;
        }
        uint64_t wait = next > now ? next - now : 0;
        if (wait > TICK_NS)
            wait = TICK_NS;
        struct timespec ts = {(time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull)};
        nanosleep(&ts, NULL); /* a signal cuts it short */
    }
    kg_info("stopping: publishing offline");
    status = KG_AGENT_EXIT_OK;
out:
    session_stop(a, false);
    lv_close(a);
    kg_rates_free(a->rates);
    free(a->vms);
    free(a);
    return status;
}
