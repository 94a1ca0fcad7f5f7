/* SPDX-License-Identifier: MIT */
/*
 * Stop requests that wake sleepers at once (see stopper.h). A condition variable
 * on CLOCK_MONOTONIC, so that wall-clock jumps neither shorten nor stretch a
 * load's sleeps.
 */
#include "stopper.h"

#include <errno.h>
#include <time.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"

int stopper_init(struct stopper *s)
{
    pthread_condattr_t attr;
    atomic_init(&s->stop, false);
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return KG_ENOMEM;
    if (pthread_condattr_init(&attr) != 0) {
        pthread_mutex_destroy(&s->mu);
        return KG_ENOMEM;
    }
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&s->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&s->mu);
        return KG_ENOMEM;
    }
    return KG_OK;
}

void stopper_destroy(struct stopper *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

void stopper_request(struct stopper *s)
{
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, true);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

bool stopper_sleep_until(struct stopper *s, uint64_t deadline_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(deadline_ns / 1000000000u),
        .tv_nsec = (long)(deadline_ns % 1000000000u),
    };
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop) && kg_clock_mono_ns() < deadline_ns) {
        int rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (rc == ETIMEDOUT)
            break;
    }
    bool stopped = atomic_load(&s->stop);
    pthread_mutex_unlock(&s->mu);
    return stopped;
}
