/* SPDX-License-Identifier: MIT */
/*
 * libvirt's event loop thread and the lifecycle event queue (events.h). The
 * callbacks run on the event-loop thread and do no more than queue and flag:
 * no libvirt call of theirs may wait for the sampling thread.
 */
#include "events.h"

#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>

#include "domcache.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"

/* ---- the libvirt event loop, once per process -------------------------- */

static pthread_once_t loop_once = PTHREAD_ONCE_INIT;
static int loop_rc = -1;

static void *loop_thread(void *arg)
{
    (void)arg;
    for (;;) {
        if (virEventRunDefaultImpl() < 0)
            kg_warn("libvirt event loop: %s", virGetLastErrorMessage());
    }
    return NULL;
}

static void silent_error(void *ctx, virErrorPtr err)
{
    (void)ctx;
    (void)err; /* errors are fetched and logged where the call failed */
}

static void loop_init(void)
{
    virSetErrorFunc(NULL, silent_error);
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
        return;
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &a, loop_thread, NULL) == 0)
        loop_rc = 0;
    pthread_attr_destroy(&a);
}

int events_loop_start(char *errmsg, size_t errlen)
{
    pthread_once(&loop_once, loop_init);
    if (loop_rc < 0) {
        snprintf(errmsg, errlen, "libvirt event loop: %s", virGetLastErrorMessage());
        return KG_ENOTCONN;
    }
    return 0;
}

/* ---- the callbacks -------------------------------------------------------- */

static void push(struct events *e, enum collect_event_type t, virDomainPtr dom)
{
    struct collect_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    atomic_store(&e->list_dirty, true);
    if (domcache_uuid(dom, ev.uuid) < 0)
        ev.uuid[0] = '\0';
    const char *name = virDomainGetName(dom);
    snprintf(ev.name, sizeof ev.name, "%s", name ? name : "");
    pthread_mutex_lock(&e->lock);
    if (e->count == EVENTS_QUEUE_LEN) {
        e->overflow = true;
    } else {
        e->q[(e->head + e->count) % EVENTS_QUEUE_LEN] = ev;
        e->count++;
    }
    pthread_mutex_unlock(&e->lock);
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                        void *opaque)
{
    (void)conn;
    (void)detail;
    enum collect_event_type t;
    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED: t = COLLECT_EV_DEFINED; break;
    case VIR_DOMAIN_EVENT_UNDEFINED: t = COLLECT_EV_UNDEFINED; break;
    case VIR_DOMAIN_EVENT_STARTED: t = COLLECT_EV_STARTED; break;
    case VIR_DOMAIN_EVENT_SUSPENDED: t = COLLECT_EV_SUSPENDED; break;
    case VIR_DOMAIN_EVENT_RESUMED: t = COLLECT_EV_RESUMED; break;
    case VIR_DOMAIN_EVENT_STOPPED: t = COLLECT_EV_STOPPED; break;
    default: t = COLLECT_EV_OTHER; break;
    }
    push(opaque, t, dom);
    return 0;
}

static void close_cb(virConnectPtr conn, int reason, void *opaque)
{
    (void)conn;
    (void)reason;
    struct events *e = opaque;
    atomic_store(&e->closed, true);
}

/* ---- registration and the queue ------------------------------------------ */

void events_init(struct events *e)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->lock, NULL);
    e->lifecycle_id = -1;
}

void events_register(struct events *e, virConnectPtr conn)
{
    e->conn = conn;
    if (virConnectRegisterCloseCallback(conn, close_cb, e, NULL) == 0)
        e->close_registered = true;
    e->lifecycle_id = virConnectDomainEventRegisterAny(
        conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), e,
        NULL);
    if (e->lifecycle_id < 0)
        kg_warn("libvirt: no lifecycle events (%s); vanished VMs are removed at the next "
                "interval", virGetLastErrorMessage());
}

void events_deregister(struct events *e)
{
    if (!e->conn)
        return;
    if (e->lifecycle_id >= 0)
        virConnectDomainEventDeregisterAny(e->conn, e->lifecycle_id);
    if (e->close_registered)
        virConnectUnregisterCloseCallback(e->conn, close_cb);
    e->lifecycle_id = -1;
    e->close_registered = false;
    e->conn = NULL;
}

void events_destroy(struct events *e)
{
    pthread_mutex_destroy(&e->lock);
}

bool events_next(struct events *e, struct collect_event *ev)
{
    bool got = false;
    pthread_mutex_lock(&e->lock);
    if (e->overflow) {
        memset(ev, 0, sizeof *ev);
        ev->type = COLLECT_EV_OVERFLOW;
        e->overflow = false;
        got = true;
    } else if (e->count) {
        *ev = e->q[e->head];
        e->head = (e->head + 1) % EVENTS_QUEUE_LEN;
        e->count--;
        got = true;
    }
    pthread_mutex_unlock(&e->lock);
    return got;
}
