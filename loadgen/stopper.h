/* SPDX-License-Identifier: MIT */
/*
 * A stop request that sleeping threads notice at once: a flag plus a condition
 * variable on CLOCK_MONOTONIC. Every load worker sleeps through
 * stopper_sleep_until(), so "stop" ends a load within one busy slice or one
 * block, never after a whole sleep. Not a general event: it only goes from
 * "running" to "stop requested". Thread-safe.
 */
#ifndef LOADGEN_STOPPER_H
#define LOADGEN_STOPPER_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct stopper {
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* 0 or KG_ENOMEM/KG_EIO. */
int stopper_init(struct stopper *s);
void stopper_destroy(struct stopper *s);
/* Requests the stop and wakes every sleeper. Idempotent. */
void stopper_request(struct stopper *s);
static inline bool stopper_requested(struct stopper *s)
{
    return atomic_load_explicit(&s->stop, memory_order_relaxed);
}
/* Sleeps until CLOCK_MONOTONIC reaches deadline_ns or a stop is requested.
 * Returns true when a stop was requested. */
bool stopper_sleep_until(struct stopper *s, uint64_t deadline_ns);

#endif
