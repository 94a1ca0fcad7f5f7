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

/* One collector thread: the current one, or one retired while stuck inside a
 * libvirt call, which ends by itself when the call returns. */
struct lvthread {
    struct lvworker *w;
    pthread_t thread;
    struct lvthread *next;          /* in w->stuck */
    /* guarded by w->lock */
    bool retired;
    uint64_t born_ns;               /* started (monotonic ns) */
    uint64_t busy_since;            /* on the request since it was made, or since this
                                     * thread took it over, or since its last progress
                                     * (a domain's calls begun or done); 0: idle */
    char in_uuid[KG_UUID_LEN + 1];  /* the domain whose per-domain calls it is in, or "" */
    char in_name[KG_NAME_MAX + 1];

    /* the thread's own */
    struct collect_options opt;
    char uri[512];
    struct collect *lv;
    uint64_t next_try_ns, backoff_ns;
    struct kg_complain complain;
    char last_err[256];
    struct lvworker_removal scratch[REMOVALS_MAX];
    char skip[LVWORKER_MAX_STUCK][KG_UUID_LEN + 1];
    size_t n_skip;
};

struct lvworker {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;

    /* guarded by lock */
    bool quit, exited;              /* exited: the current thread ended after quit */
    bool request;                   /* asked, not answered yet */
    uint64_t request_ns;
    bool reset;                     /* new options in next_opt/next_uri */
    struct collect_options next_opt;
    char next_uri[512];
    struct collect_options opt;     /* the options in force: a new thread starts with them */
    char uri[512];
    bool ready;                     /* res answers the last request */
    struct lvworker_result res;
    bool early;
    struct lvworker_removal removals[REMOVALS_MAX];
    unsigned n_removals;
    struct lvthread *cur;           /* answers requests */
    struct lvthread *stuck;         /* retired, still inside libvirt */
    unsigned n_stuck;
};

/* A worker that did not end in time is parked here, so that leak checkers see
 * its memory as reachable while it finishes (or not) inside libvirt. */
static struct lvworker *abandoned;

static void copy_opt(struct collect_options *dst, char *uri, size_t urisz,
                     const struct collect_options *src)
{
    *dst = *src;
    if (src->uri) {
        snprintf(uri, urisz, "%s", src->uri);
        dst->uri = uri;
    }
}

static void lv_failed(struct lvthread *t, uint64_t now, const char *msg)
{
    snprintf(t->last_err, sizeof t->last_err, "%s", msg);
    kg_complain(&t->complain, KG_LOG_WARN, "libvirt %s: %s; retrying",
                t->opt.uri ? t->opt.uri : "(default)", msg);
    t->backoff_ns = t->backoff_ns ? t->backoff_ns * 2 : BACKOFF_MIN_NS;
    if (t->backoff_ns > BACKOFF_MAX_NS)
        t->backoff_ns = BACKOFF_MAX_NS;
    t->next_try_ns = now + t->backoff_ns;
}

/* Copies src (NULL: "") into dst[size], cut to fit. Called twice per domain
 * and cycle, so no snprintf. */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The collector's progress callback: which domain this thread's per-domain
 * calls are about (NULL: none), and whether to go on (not once retired). */
static bool progress(void *ctx, const char *uuid, const char *name)
{
    struct lvthread *t = ctx;
    pthread_mutex_lock(&t->w->lock);
    bool go = !t->retired && !t->w->quit;
    if (go && t->busy_since)
        t->busy_since = kg_clock_mono_ns(); /* a slow sample that moves on is not hung */
    copy_str(t->in_uuid, sizeof t->in_uuid, go ? uuid : NULL);
    copy_str(t->in_name, sizeof t->in_name, go ? name : NULL);
    pthread_mutex_unlock(&t->w->lock);
    return go;
}

/* One sample into *r (the caller publishes it under the lock). */
static void sample(struct lvthread *t, struct lvworker_result *r)
{
    uint64_t now = kg_clock_mono_ns();
    memset(r, 0, sizeof *r);
    r->mono_ns = now;
    r->real_ms = kg_clock_real_ms();
    if (t->lv && !collect_alive(t->lv)) {
        collect_close(t->lv);
        t->lv = NULL;
        lv_failed(t, now, "connection to libvirt lost");
    }
    if (!t->lv && now >= t->next_try_ns) {
        char err[256] = "";
        if (collect_open(&t->opt, &t->lv, err, sizeof err) != 0)
            lv_failed(t, now, err[0] ? err : "cannot connect");
    }
    if (!t->lv) {
        r->rc = KG_ENOTCONN;
        snprintf(r->err, sizeof r->err, "%s", t->last_err[0] ? t->last_err : "not connected");
        snprintf(r->path, sizeof r->path, "none");
        return;
    }
    if (!progress(t, NULL, NULL)) { /* retired while it was connecting */
        r->rc = KG_ESTATE;
        return;
    }
    collect_skip(t->lv, (const char(*)[KG_UUID_LEN + 1])t->skip, t->n_skip);
    /* the sample time is when libvirt was asked: rates divide by the time
     * between two askings */
    r->mono_ns = kg_clock_mono_ns();
    r->real_ms = kg_clock_real_ms();
    r->rc = collect_sample(t->lv, &r->doms, &r->n, &r->node, r->err, sizeof r->err);
    snprintf(r->path, sizeof r->path, "%s", collect_path(t->lv));
    if (r->rc == KG_ESTATE) /* retired or stopping: the answer goes nowhere */
        return;
    if (r->rc) {
        collect_close(t->lv);
        t->lv = NULL;
        lv_failed(t, kg_clock_mono_ns(), r->err[0] ? r->err : kg_strerror(r->rc));
        r->doms = NULL;
        r->n = 0;
        return;
    }
    t->backoff_ns = 0;
    t->last_err[0] = '\0';
    kg_complain_release(&t->complain, "libvirt %s: reading VMs again (%s path)",
                        t->opt.uri ? t->opt.uri : "(default)", r->path);
}

/* Lifecycle events since the last look: removals (undefined and gone; a domain
 * undefined while running lives on as a transient one) and early-cycle wishes. */
static void drain_events(struct lvthread *t, unsigned *n_rm, bool *early)
{
    struct lvworker_removal *rm = t->scratch;
    struct collect_event ev;
    while (t->lv && *n_rm < REMOVALS_MAX && collect_next_event(t->lv, &ev)) {
        kg_debug("libvirt event %d for %s", (int)ev.type, ev.name);
        if (ev.type == COLLECT_EV_UNDEFINED) {
            if (collect_domain_exists(t->lv, ev.uuid))
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

/* Under w->lock: the domains retired threads hang on, for t's next sample. */
static void take_skips(struct lvworker *w, struct lvthread *t)
{
    t->n_skip = 0;
    for (struct lvthread *s = w->stuck; s && t->n_skip < LVWORKER_MAX_STUCK; s = s->next)
        if (s->in_uuid[0])
            memcpy(t->skip[t->n_skip++], s->in_uuid, sizeof t->skip[0]);
}

static void *worker_main(void *arg)
{
    struct lvthread *t = arg;
    struct lvworker *w = t->w;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        if (!w->quit && !t->retired && !w->request) {
            struct timespec ts;
            deadline_in(&ts, TICK_NS);
            pthread_cond_timedwait(&w->wake, &w->lock, &ts);
        }
        if (w->quit || t->retired)
            break;
        bool req = w->request;
        bool reset = req && w->reset;
        if (reset) {
            copy_opt(&w->opt, w->uri, sizeof w->uri, &w->next_opt);
            w->reset = false;
        }
        if (reset || !t->lv) {
            copy_opt(&t->opt, t->uri, sizeof t->uri, &w->opt);
            t->opt.progress = progress;
            t->opt.progress_ctx = t;
        }
        if (req) {
            t->busy_since = w->request_ns > t->born_ns ? w->request_ns : t->born_ns;
            take_skips(w, t);
        }
        pthread_mutex_unlock(&w->lock);

        if (reset) {
            collect_close(t->lv);
            t->lv = NULL;
            t->backoff_ns = 0;
            t->next_try_ns = 0;
        }
        unsigned n_rm = 0;
        bool early = false;
        drain_events(t, &n_rm, &early);
        struct lvworker_result r;
        if (req)
            sample(t, &r);

        pthread_mutex_lock(&w->lock);
        t->busy_since = 0;
        if (t->retired || w->quit)
            break; /* a newer thread answers; what this one got goes nowhere */
        for (unsigned i = 0; i < n_rm; i++) {
            if (w->n_removals == REMOVALS_MAX) {
                early = true; /* the full cycle removes what did not fit */
                break;
            }
            w->removals[w->n_removals++] = t->scratch[i];
        }
        w->early |= early;
        if (req) {
            if (collect_reports_rss(t->lv))
                w->opt.expect_rss = true; /* for a thread that may replace this one */
            w->res = r;
            w->ready = true;
            w->request = false;
        }
        if (req || n_rm || early)
            pthread_cond_broadcast(&w->done);
    }
    bool retired = t->retired;
    pthread_mutex_unlock(&w->lock);
    collect_close(t->lv); /* may itself hang on a dead daemon: before `exited` */
    t->lv = NULL;
    pthread_mutex_lock(&w->lock);
    if (retired) {
        struct lvthread **pp = &w->stuck;
        while (*pp != t)
            pp = &(*pp)->next;
        *pp = t->next;
        w->n_stuck--;
    } else {
        w->exited = true;
    }
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->lock);
    if (retired)
        free(t); /* detached; w may be gone from here on */
    return NULL;
}

/* Under w->lock: a new current thread. Signals stay with the main loop (and
 * libvirt's event thread, started from a collector thread, inherits the mask). */
static struct lvthread *thread_start(struct lvworker *w)
{
    struct lvthread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->w = w;
    t->born_ns = kg_clock_mono_ns();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t->thread, NULL, worker_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(t);
        return NULL;
    }
    return t;
}

int lvworker_start(const struct collect_options *opt, struct lvworker **out)
{
    *out = NULL;
    struct lvworker *w = calloc(1, sizeof *w);
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
    pthread_mutex_lock(&w->lock);
    w->cur = thread_start(w);
    pthread_mutex_unlock(&w->lock);
    if (!w->cur) {
        pthread_cond_destroy(&w->wake);
        pthread_cond_destroy(&w->done);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return KG_EIO;
    }
    *out = w;
    return 0;
}

bool lvworker_request(struct lvworker *w)
{
    pthread_mutex_lock(&w->lock);
    bool ok = !w->request;
    if (ok) {
        w->request = true;
        w->request_ns = kg_clock_mono_ns();
        w->ready = false; /* the previous result (and its doms) is no longer valid */
        pthread_cond_broadcast(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

bool lvworker_pending(struct lvworker *w, uint64_t *since_ns)
{
    pthread_mutex_lock(&w->lock);
    bool p = w->request;
    if (since_ns)
        *since_ns = w->cur && w->cur->busy_since > w->request_ns ? w->cur->busy_since
                                                                 : w->request_ns;
    pthread_mutex_unlock(&w->lock);
    return p;
}

void lvworker_wait(struct lvworker *w, uint64_t timeout_ns)
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

bool lvworker_take_result(struct lvworker *w, struct lvworker_result *res)
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

bool lvworker_take_removal(struct lvworker *w, struct lvworker_removal *out)
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

bool lvworker_take_early(struct lvworker *w)
{
    pthread_mutex_lock(&w->lock);
    bool e = w->early;
    w->early = false;
    pthread_mutex_unlock(&w->lock);
    return e;
}

void lvworker_reset(struct lvworker *w, const struct collect_options *opt)
{
    pthread_mutex_lock(&w->lock);
    copy_opt(&w->next_opt, w->next_uri, sizeof w->next_uri, opt);
    w->reset = true;
    pthread_mutex_unlock(&w->lock);
}

bool lvworker_replace(struct lvworker *w, uint64_t busy_ns, char *what, size_t whatlen)
{
    pthread_mutex_lock(&w->lock);
    struct lvthread *old = w->cur;
    uint64_t now = kg_clock_mono_ns();
    bool ok = w->request && !w->ready && !w->quit && old->busy_since &&
              now - old->busy_since >= busy_ns && w->n_stuck < LVWORKER_MAX_STUCK;
    struct lvthread *t = ok ? thread_start(w) : NULL;
    if (t) {
        /* the new thread takes the pending request; the old one ends when its
         * call returns (progress() tells it to stop) */
        if (what && old->in_name[0])
            snprintf(what, whatlen, "VM '%s'", old->in_name);
        else if (what)
            snprintf(what, whatlen, "libvirt");
        old->retired = true;
        old->next = w->stuck;
        w->stuck = old;
        w->n_stuck++;
        pthread_detach(old->thread);
        w->cur = t;
        pthread_cond_broadcast(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    return t != NULL;
}

void lvworker_quit(struct lvworker *w)
{
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

bool lvworker_stop(struct lvworker *w, uint32_t timeout_ms)
{
    if (!w)
        return true;
    lvworker_quit(w);
    struct timespec ts;
    deadline_in(&ts, (uint64_t)timeout_ms * MS);
    pthread_mutex_lock(&w->lock);
    while (!w->exited)
        if (pthread_cond_timedwait(&w->done, &w->lock, &ts) == ETIMEDOUT)
            break;
    bool ended = w->exited;
    /* a retired thread still inside libvirt keeps using w: then w stays */
    bool clean = ended && w->n_stuck == 0;
    pthread_mutex_unlock(&w->lock);
    if (ended) {
        pthread_join(w->cur->thread, NULL);
        free(w->cur);
        w->cur = NULL;
    } else {
        pthread_detach(w->cur->thread);
    }
    if (!clean) {
        kg_warn("libvirt: a call is still hanging; exiting without waiting for it");
        abandoned = w;
        return false;
    }
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return true;
}
