/* SPDX-License-Identifier: MIT */
/*
 * CPU workers at a duty cycle (see cpu.h). Each period of 100 ms a worker spins
 * until its thread CPU clock has advanced by pct % of the period (or the period
 * is over), then sleeps until the period ends. Periods are anchored to the
 * load's start on the monotonic clock; a worker that fell more than a period
 * behind restarts from now rather than bursting to catch up.
 */
#include "cpu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "stopper.h"

struct cpu_worker {
    struct cpu_load *load;
    pthread_t thread;
    bool started;
    _Atomic uint64_t cpu_ns;          /* thread CPU time since it started */
};

struct cpu_load {
    struct stopper stop;
    double pct, ramp_to_pct;          /* ramp_to_pct NA: no ramp */
    uint64_t start_ns, duration_ns;
    unsigned n;
    bool stopped;
    struct cpu_worker *w;
};

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double target_at(const struct cpu_load *c, uint64_t now_ns)
{
    if (kg_na(c->ramp_to_pct))
        return c->pct;
    double f = now_ns <= c->start_ns ? 0.0 : (double)(now_ns - c->start_ns) / (double)c->duration_ns;
    if (f > 1.0)
        f = 1.0;
    return c->pct + (c->ramp_to_pct - c->pct) * f;
}

static void *worker_main(void *arg)
{
    struct cpu_worker *w = arg;
    struct cpu_load *c = w->load;
    uint64_t cpu0 = thread_cpu_ns();
    uint64_t period_start = c->start_ns;
    uint64_t owed_ns = 0;

    while (!stopper_requested(&c->stop)) {
        uint64_t now = kg_clock_mono_ns();
        if (now > period_start + 2 * CPU_PERIOD_NS) {
            period_start = now; /* fell behind (suspended, starved): no catch-up burst */
            owed_ns = 0;
        }
        uint64_t period_end = period_start + CPU_PERIOD_NS;
        double pct = target_at(c, period_start);
        uint64_t busy_ns = (uint64_t)(pct / 100.0 * (double)CPU_PERIOD_NS) + owed_ns;
        uint64_t busy0 = thread_cpu_ns(), used_ns;
        while ((used_ns = thread_cpu_ns() - busy0) < busy_ns && kg_clock_mono_ns() < period_end &&
               !stopper_requested(&c->stop)) {
            /* spin: the load is the clock reads themselves */
        }
        /* CPU time the scheduler did not give us this period is owed to the next
         * one (at most one period), so the average over a monitoring interval
         * stays at pct on a busy machine; never more than asked in total. */
        owed_ns = used_ns < busy_ns ? busy_ns - used_ns : 0;
        if (owed_ns > CPU_PERIOD_NS)
            owed_ns = CPU_PERIOD_NS;
        atomic_store(&w->cpu_ns, thread_cpu_ns() - cpu0);
        if (stopper_sleep_until(&c->stop, period_end))
            break;
        period_start = period_end;
    }
    atomic_store(&w->cpu_ns, thread_cpu_ns() - cpu0);
    return NULL;
}

int cpu_load_start(const struct kg_load_spec *spec, struct cpu_load **out)
{
    if (!spec || !out || spec->kind != KG_LOAD_CPU || !(spec->workers >= 1.0) ||
        spec->workers > 4096.0 || !(spec->pct >= 0.0 && spec->pct <= 100.0) ||
        !(spec->duration_s > 0.0))
        return KG_EINVAL;
    struct cpu_load *c = calloc(1, sizeof *c);
    if (!c)
        return KG_ENOMEM;
    c->n = (unsigned)spec->workers;
    c->w = calloc(c->n, sizeof *c->w);
    if (!c->w || stopper_init(&c->stop) != KG_OK) {
        free(c->w);
        free(c);
        return KG_ENOMEM;
    }
    c->pct = spec->pct;
    c->ramp_to_pct = spec->ramp_to_pct;
    c->duration_ns = (uint64_t)(spec->duration_s * 1e9);
    c->start_ns = kg_clock_mono_ns();
    for (unsigned i = 0; i < c->n; i++) {
        c->w[i].load = c;
        atomic_init(&c->w[i].cpu_ns, 0);
        if (pthread_create(&c->w[i].thread, NULL, worker_main, &c->w[i]) != 0) {
            cpu_load_free(c);
            return KG_EIO;
        }
        c->w[i].started = true;
    }
    *out = c;
    return KG_OK;
}

double cpu_load_target_pct(const struct cpu_load *c)
{
    return target_at(c, kg_clock_mono_ns());
}

uint64_t cpu_load_cpu_ns(const struct cpu_load *c)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < c->n; i++)
        sum += atomic_load(&c->w[i].cpu_ns);
    return sum;
}

unsigned cpu_load_workers(const struct cpu_load *c) { return c->n; }

void cpu_load_stop(struct cpu_load *c)
{
    if (!c || c->stopped)
        return;
    stopper_request(&c->stop);
    for (unsigned i = 0; i < c->n; i++)
        if (c->w[i].started)
            pthread_join(c->w[i].thread, NULL);
    c->stopped = true;
}

void cpu_load_free(struct cpu_load *c)
{
    if (!c)
        return;
    cpu_load_stop(c);
    stopper_destroy(&c->stop);
    free(c->w);
    free(c);
}
