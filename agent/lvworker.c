/* SPDX-License-Identifier: MIT */
/*
 * The collector thread (see lvworker.h). One mutex and two condition variables
 * on the monotonic clock: `wake` tells the thread about a request, a reset or
 * quit; `done` tells the main loop about a result, removals, an early-cycle wish
 * or the thread's end. The thread drops the lock around every libvirt call, so
 * the main loop never waits for libvirt, only (with a deadline) for the lock.
 */
#include "lvworker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"

#define MS 1000000ull
#define TICK_NS (100 * MS)          /* lifecycle events are looked at this often */
#define BACKOFF_MIN_NS (1000 * MS)
#define BACKOFF_MAX_NS (30000 * MS)
#define REMOVALS_MAX 64             /* more at once: the next full cycle removes the rest */

struct kg_lvworker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;

    /* guarded by lock */
    bool quit, exited;
    bool request;                   /* asked, not answered yet */
    uint64_t request_ns;
    bool reset;                     /* new options in next_opt/next_uri */
    struct kg_collect_options next_opt;
    char next_uri[512];
    bool ready;                     /* res answers the last request */
    struct kg_lvworker_result res;
    bool early;
    struct kg_lvworker_removal removals[REMOVALS_MAX];
    unsigned n_removals;
    struct kg_lvworker_removal scratch[REMOVALS_MAX]; /* the thread's, while unlocked */

    /* the thread's own */
    struct kg_collect_options opt;
    char uri[512];
    struct kg_collect *lv;
    uint64_t next_try_ns, backoff_ns;
    struct kg_complain complain;
    char last_err[256];
};

/* A worker that did not end in time is parked here, so that leak checkers see
 * its memory as reachable while it finishes (or not) inside libvirt. */
static struct kg_lvworker *abandoned;

static void copy_opt(struct kg_collect_options *dst, char *uri, size_t urisz,
                     const struct kg_collect_options *src)
{
    *dst = *src;
    if (src->uri) {
        snprintf(uri, urisz, "%s", src->uri);
        dst->uri = uri;
    }
}

static void lv_failed(struct kg_lvworker *w, uint64_t now, const char *msg)
{
    snprintf(w->last_err, sizeof w->last_err, "%s", msg);
    kg_complain(&w->complain, KG_LOG_WARN, "libvirt %s: %s; retrying",
                w->opt.uri ? w->opt.uri : "(default)", msg);
    w->backoff_ns = w->backoff_ns ? w->backoff_ns * 2 : BACKOFF_MIN_NS;
    if (w->backoff_ns > BACKOFF_MAX_NS)
        w->backoff_ns = BACKOFF_MAX_NS;
    w->next_try_ns = now + w->backoff_ns;
}

/* One sample into w->res (the caller publishes it under the lock). */
static void sample(struct kg_lvworker *w, struct kg_lvworker_result *r)
{
    uint64_t now = kg_clock_mono_ns();
    memset(r, 0, sizeof *r);
    r->mono_ns = now;
    r->real_ms = kg_clock_real_ms();
    if (w->lv && !kg_collect_alive(w->lv)) {
        kg_collect_close(w->lv);
        w->lv = NULL;
        lv_failed(w, now, "connection to libvirt lost");
    }
    if (!w->lv && now >= w->next_try_ns) {
        char err[256] = "";
        if (kg_collect_open(&w->opt, &w->lv, err, sizeof err) != 0)
            lv_failed(w, now, err[0] ? err : "cannot connect");
    }
    if (!w->lv) {
        r->rc = KG_ENOTCONN;
        snprintf(r->err, sizeof r->err, "%s", w->last_err[0] ? w->last_err : "not connected");
        snprintf(r->path, sizeof r->path, "none");
        return;
    }
    /* the sample time is when libvirt was asked: rates divide by the time
     * between two askings */
    r->mono_ns = kg_clock_mono_ns();
    r->real_ms = kg_clock_real_ms();
    r->rc = kg_collect_sample(w->lv, &r->doms, &r->n, &r->node, r->err, sizeof r->err);
    snprintf(r->path, sizeof r->path, "%s", kg_collect_path(w->lv));
    if (r->rc) {
        kg_collect_close(w->lv);
        w->lv = NULL;
        lv_failed(w, kg_clock_mono_ns(), r->err[0] ? r->err : kg_strerror(r->rc));
        r->doms = NULL;
        r->n = 0;
        return;
    }
    w->backoff_ns = 0;
    w->last_err[0] = '\0';
    kg_complain_release(&w->complain, "libvirt %s: reading VMs again (%s path)",
                        w->opt.uri ? w->opt.uri : "(default)", r->path);
}

/* Lifecycle events since the last look: removals (undefined and gone; a domain
 * undefined while running lives on as a transient one) and early-cycle wishes. */
static void drain_events(struct kg_lvworker *w, struct kg_lvworker_removal *rm, unsigned *n_rm,
                         bool *early)
{
    struct kg_collect_event ev;
    while (w->lv && *n_rm < REMOVALS_MAX && kg_collect_next_event(w->lv, &ev)) {
        kg_debug("libvirt event %d for %s", (int)ev.type, ev.name);
        if (ev.type == KG_COLLECT_EV_UNDEFINED) {
            if (kg_collect_domain_exists(w->lv, ev.uuid))
                continue;
            memcpy(rm[*n_rm].uuid, ev.uuid, sizeof rm[*n_rm].uuid);
            memcpy(rm[*n_rm].name, ev.name, sizeof rm[*n_rm].name);
            (*n_rm)++;
        } else {
            *early = true;
        }
    }
}

static void deadline_in(struct timespec *ts, uint64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    uint64_t t = (uint64_t)ts->tv_nsec + ns;
    ts->tv_sec += (time_t)(t / 1000000000ull);
    ts->tv_nsec = (long)(t % 1000000000ull);
}

static void *worker_main(void *arg)
{
    struct kg_lvworker *w = arg;
    struct kg_lvworker_removal *rm = w->scratch;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        if (!w->quit && !w->request) {
            struct timespec ts;
            deadline_in(&ts, TICK_NS);
            pthread_cond_timedwait(&w->wake, &w->lock, &ts);
        }
        if (w->quit)
            break;
        bool req = w->request;
        bool reset = req && w->reset;
        if (reset) {
            copy_opt(&w->opt, w->uri, sizeof w->uri, &w->next_opt);
            w->reset = false;
        }
        pthread_mutex_unlock(&w->lock);

        if (reset) {
            kg_collect_close(w->lv);
            w->lv = NULL;
            w->backoff_ns = 0;
            w->next_try_ns = 0;
        }
        unsigned n_rm = 0;
        bool early = false;
        drain_events(w, rm, &n_rm, &early);
        struct kg_lvworker_result r;
        if (req)
            sample(w, &r);

        pthread_mutex_lock(&w->lock);
        for (unsigned i = 0; i < n_rm; i++) {
            if (w->n_removals == REMOVALS_MAX) {
                early = true; /* the full cycle removes what did not fit */
                break;
            }
            w->removals[w->n_removals++] = rm[i];
        }
        w->early |= early;
        if (req) {
            w->res = r;
            w->ready = true;
            w->request = false;
        }
        if (req || n_rm || early)
            pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->lock);
    kg_collect_close(w->lv); /* may itself hang on a dead daemon: before `exited` */
    w->lv = NULL;
    pthread_mutex_lock(&w->lock);
    w->exited = true;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int kg_lvworker_start(const struct kg_collect_options *opt, struct kg_lvworker **out)
{
    *out = NULL;
    struct kg_lvworker *w = calloc(1, sizeof *w);
    if (!w)
        return KG_ENOMEM;
    copy_opt(&w->opt, w->uri, sizeof w->uri, opt);
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_cond_init(&w->done, &ca);
    pthread_condattr_destroy(&ca);
    /* signals stay with the main loop (and libvirt's event thread, started from
     * this one, inherits the mask) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_cond_destroy(&w->done);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return KG_EIO;
    }
    *out = w;
    return 0;
}

bool kg_lvworker_request(struct kg_lvworker *w)
{
    pthread_mutex_lock(&w->lock);
    bool ok = !w->request;
    if (ok) {
        w->request = true;
        w->request_ns = kg_clock_mono_ns();
        w->ready = false; /* the previous result (and its doms) is no longer valid */
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

bool kg_lvworker_pending(struct kg_lvworker *w, uint64_t *since_ns)
{
    pthread_mutex_lock(&w->lock);
    bool p = w->request;
    if (since_ns)
        *since_ns = w->request_ns;
    pthread_mutex_unlock(&w->lock);
    return p;
}

void kg_lvworker_wait(struct kg_lvworker *w, uint64_t timeout_ns)
{
    struct timespec ts;
    deadline_in(&ts, timeout_ns);
    pthread_mutex_lock(&w->lock);
    while (!w->ready && !w->n_removals && !w->early && !w->exited) {
        if (pthread_cond_timedwait(&w->done, &w->lock, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&w->lock);
}

bool kg_lvworker_take_result(struct kg_lvworker *w, struct kg_lvworker_result *res)
{
    pthread_mutex_lock(&w->lock);
    bool got = w->ready;
    if (got) {
        *res = w->res;
        w->ready = false;
    }
    pthread_mutex_unlock(&w->lock);
    return got;
}

bool kg_lvworker_take_removal(struct kg_lvworker *w, struct kg_lvworker_removal *out)
{
    pthread_mutex_lock(&w->lock);
    bool got = w->n_removals > 0;
    if (got) {
        *out = w->removals[0];
        w->n_removals--;
        memmove(&w->removals[0], &w->removals[1], w->n_removals * sizeof w->removals[0]);
    }
    pthread_mutex_unlock(&w->lock);
    return got;
}

bool kg_lvworker_take_early(struct kg_lvworker *w)
{
    pthread_mutex_lock(&w->lock);
    bool e = w->early;
    w->early = false;
    pthread_mutex_unlock(&w->lock);
    return e;
}

void kg_lvworker_reset(struct kg_lvworker *w, const struct kg_collect_options *opt)
{
    pthread_mutex_lock(&w->lock);
    copy_opt(&w->next_opt, w->next_uri, sizeof w->next_uri, opt);
    w->reset = true;
    pthread_mutex_unlock(&w->lock);
}

bool kg_lvworker_stop(struct kg_lvworker *w, uint32_t timeout_ms)
{
    if (!w)
        return true;
    struct timespec ts;
    deadline_in(&ts, (uint64_t)timeout_ms * MS);
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    pthread_cond_broadcast(&w->wake);
    while (!w->exited)
        if (pthread_cond_timedwait(&w->done, &w->lock, &ts) == ETIMEDOUT)
            break;
    bool ended = w->exited;
    pthread_mutex_unlock(&w->lock);
    if (!ended) {
        kg_warn("libvirt: a call is still hanging; exiting without waiting for it");
        pthread_detach(w->thread);
        abandoned = w;
        return false;
    }
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return true;
}
