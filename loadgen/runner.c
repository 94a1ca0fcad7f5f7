/* SPDX-License-Identifier: MIT */
/*
 * Plan execution and measurement (see runner.h). One thread per run walks the
 * steps; it alone starts, samples and stops loads, so loads are never touched
 * from two threads. Other threads read figures it publishes under the mutex.
 * Figures are deltas of cumulative counters over the measured time since the
 * previous sample (about one second), never over a nominal interval.
 */
#include "runner.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "disk.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "mem.h"
#include "stopper.h"

#define SAMPLE_NS 1000000000ull
#define TICK_NS 250000000ull
#define NA ((double)KG_NA)

struct slot {
    enum kg_load_kind kind;
    uint64_t end_ns;
    struct cpu_load *cpu;
    struct mem_load *mem;
    struct disk_load *disk;
};

struct runner {
    const struct caps *caps;
    pthread_mutex_t mu;
    pthread_cond_t cv;                /* run state changes */
    struct stopper stop;
    bool stopper_ok;
    pthread_t thread;
    bool thread_alive;                /* joined by runner_stop/start/free */

    /* guarded by mu */
    bool running, first_step_done;
    int first_rc;
    char first_err[200];
    struct scenario *plan;
    char id[64], scenario[64];
    uint64_t start_ns, step_start_ns;
    unsigned step;                    /* 0-based */
    double total_s;
    double cpu_pct, mem_mib, wr_mb_per_s, rd_mb_per_s;  /* last sample, NA if none */
    struct runner_totals totals;
    uint64_t generation;

    /* run thread only */
    struct slot slots[SCENARIO_MAX_LOADS];
    unsigned n_slots;
    uint64_t done_cpu_ns, done_written, done_read;  /* of loads already stopped */
};

static uint64_t cum_cpu(struct runner *r)
{
    uint64_t s = r->done_cpu_ns;
    for (unsigned i = 0; i < r->n_slots; i++)
        if (r->slots[i].cpu)
            s += cpu_load_cpu_ns(r->slots[i].cpu);
    return s;
}

static void cum_disk(struct runner *r, uint64_t *w, uint64_t *rd)
{
    *w = r->done_written;
    *rd = r->done_read;
    for (unsigned i = 0; i < r->n_slots; i++)
        if (r->slots[i].disk) {
            *w += disk_load_written_bytes(r->slots[i].disk);
            *rd += disk_load_read_bytes(r->slots[i].disk);
        }
}

static void stop_slot(struct runner *r, struct slot *s)
{
    if (s->cpu) {
        cpu_load_stop(s->cpu);
        r->done_cpu_ns += cpu_load_cpu_ns(s->cpu);
        cpu_load_free(s->cpu);
        s->cpu = NULL;
    }
    if (s->mem) {
        mem_load_free(s->mem);
        s->mem = NULL;
    }
    if (s->disk) {
        disk_load_stop(s->disk);
        r->done_written += disk_load_written_bytes(s->disk);
        r->done_read += disk_load_read_bytes(s->disk);
        disk_load_free(s->disk);
        s->disk = NULL;
    }
    s->kind = KG_LOAD_NONE;
}

static int start_slot(struct runner *r, const struct kg_load_spec *spec, uint64_t now,
                      struct slot *s, char *errmsg, size_t errlen)
{
    int rc;
    memset(s, 0, sizeof *s);
    s->kind = spec->kind;
    s->end_ns = now + (uint64_t)(spec->duration_s * 1e9);
    switch (spec->kind) {
    case KG_LOAD_CPU:
        rc = cpu_load_start(spec, &s->cpu);
        if (rc)
            snprintf(errmsg, errlen, "cpu load: %s", kg_strerror(rc));
        return rc;
    case KG_LOAD_MEM:
        rc = mem_load_start(spec, &s->mem);
        if (rc)
            snprintf(errmsg, errlen, "mem load: cannot map %g MiB: %s", spec->mib, kg_strerror(rc));
        return rc;
    case KG_LOAD_DISK: {
        double rate = !kg_na(spec->mb_per_s) ? spec->mb_per_s : r->caps->max_mb_per_s;
        return disk_load_start(spec, r->caps->disk_dir, caps_disk_file_bytes(r->caps, spec), rate,
                               &s->disk, errmsg, errlen);
    }
    case KG_LOAD_NONE:
    default:
        snprintf(errmsg, errlen, "unknown load kind");
        return KG_EINVAL;
    }
}

/* One sample: figures over [prev, now], totals accumulated. */
struct sampler {
    uint64_t t_ns, cpu_ns, wr, rd;
};

static void sample(struct runner *r, struct sampler *p, bool publish)
{
    uint64_t now = kg_clock_mono_ns();
    uint64_t cpu = cum_cpu(r), wr, rd;
    cum_disk(r, &wr, &rd);
    double dt = (double)(now - p->t_ns) / 1e9;
    unsigned workers = 0;
    double req = 0.0, mem = 0.0, mem_req = 0.0;
    bool any_mem = false, any_wr = false, any_rd = false;
    for (unsigned i = 0; i < r->n_slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->cpu) {
            workers += cpu_load_workers(s->cpu);
            req += cpu_load_target_pct(s->cpu) / 100.0 * cpu_load_workers(s->cpu);
        } else if (s->mem) {
            any_mem = true;
            mem += (double)mem_load_resident_bytes(s->mem) / 1048576.0;
            mem_req += r->plan->steps[r->step].loads[i].mib;
        } else if (s->disk) {
            enum kg_disk_mode m = r->plan->steps[r->step].loads[i].disk_mode;
            any_wr |= m != KG_DISK_READ;
            any_rd |= m != KG_DISK_WRITE;
        }
    }
    pthread_mutex_lock(&r->mu);
    struct runner_totals *t = &r->totals;
    t->cpu_s = (double)cpu / 1e9;
    t->written_bytes = wr;
    t->read_bytes = rd;
    if (dt > 0.0) {
        t->cpu_requested_s += req * dt;
        t->cpu_worker_s += workers * dt;
        t->disk_wr_s += any_wr ? dt : 0.0;
        t->disk_rd_s += any_rd ? dt : 0.0;
    }
    if (mem > t->mem_peak_mib)
        t->mem_peak_mib = mem;
    if (mem_req > t->mem_requested_mib)
        t->mem_requested_mib = mem_req;
    if (publish && dt > 0.05) {
        r->cpu_pct = workers ? (double)(cpu - p->cpu_ns) / 1e9 / dt / workers * 100.0 : NA;
        r->mem_mib = any_mem ? mem : NA;
        r->wr_mb_per_s = any_wr ? (double)(wr - p->wr) / 1e6 / dt : NA;
        r->rd_mb_per_s = any_rd ? (double)(rd - p->rd) / 1e6 / dt : NA;
    }
    pthread_mutex_unlock(&r->mu);
    p->t_ns = now;
    p->cpu_ns = cpu;
    p->wr = wr;
    p->rd = rd;
}

static void signal_first(struct runner *r, int rc, const char *err)
{
    pthread_mutex_lock(&r->mu);
    if (!r->first_step_done) {
        r->first_step_done = true;
        r->first_rc = rc;
        snprintf(r->first_err, sizeof r->first_err, "%s", err ? err : "");
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

static void *run_main(void *arg)
{
    struct runner *r = arg;
    struct scenario *plan = r->plan;
    char err[200] = "";
    int rc = 0;
    struct sampler smp = {kg_clock_mono_ns(), 0, 0, 0};
    uint64_t next_sample = smp.t_ns + SAMPLE_NS;

    for (unsigned i = 0; i < plan->n_steps && !stopper_requested(&r->stop) && !rc; i++) {
        const struct scenario_step *st = &plan->steps[i];
        uint64_t t0 = kg_clock_mono_ns();
        uint64_t step_end = t0 + (uint64_t)(st->duration_s * 1e9);
        pthread_mutex_lock(&r->mu);
        r->step = i;
        r->step_start_ns = t0;
        pthread_mutex_unlock(&r->mu);

        r->n_slots = st->n_loads;
        for (unsigned j = 0; j < st->n_loads; j++) {
            if ((rc = start_slot(r, &st->loads[j], t0, &r->slots[j], err, sizeof err)) != 0) {
                r->n_slots = j;
                break;
            }
        }
        if (i == 0)
            signal_first(r, rc, err);
        while (!rc) {
            uint64_t now = kg_clock_mono_ns();
            uint64_t wake = step_end < next_sample ? step_end : next_sample;
            for (unsigned j = 0; j < r->n_slots; j++) {
                struct slot *s = &r->slots[j];
                if (s->kind == KG_LOAD_NONE)
                    continue;
                if (s->disk && disk_load_error(s->disk)) {
                    snprintf(err, sizeof err, "disk load: %s: %s", disk_load_path(s->disk),
                             strerror(disk_load_error(s->disk)));
                    rc = KG_EIO;
                }
                if (now >= s->end_ns) {
                    sample(r, &smp, false);
                    stop_slot(r, s);
                } else if (s->end_ns < wake) {
                    wake = s->end_ns;
                }
            }
            if (rc || now >= step_end)
                break;
            if (now >= next_sample) {
                sample(r, &smp, true);
                next_sample += SAMPLE_NS;
                if (next_sample < now)
                    next_sample = now + SAMPLE_NS;
                continue;
            }
            if (wake > now + TICK_NS)
                wake = now + TICK_NS;
            if (stopper_sleep_until(&r->stop, wake))
                break;
        }
        sample(r, &smp, false);
        for (unsigned j = 0; j < r->n_slots; j++)
            stop_slot(r, &r->slots[j]);
        sample(r, &smp, false);
        r->n_slots = 0;
    }
    if (plan->n_steps == 0)
        signal_first(r, 0, NULL);

    pthread_mutex_lock(&r->mu);
    r->totals.elapsed_s = (double)(kg_clock_mono_ns() - r->start_ns) / 1e9;
    r->totals.completed = !rc && !stopper_requested(&r->stop);
    snprintf(r->totals.error, sizeof r->totals.error, "%s", rc ? err : "");
    r->running = false;
    r->generation++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int runner_create(const struct caps *caps, struct runner **out)
{
    struct runner *r = calloc(1, sizeof *r);
    if (!r)
        return KG_ENOMEM;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&r->mu, NULL) != 0 || pthread_cond_init(&r->cv, &attr) != 0) {
        pthread_condattr_destroy(&attr);
        free(r);
        return KG_ENOMEM;
    }
    pthread_condattr_destroy(&attr);
    r->caps = caps;
    r->cpu_pct = r->mem_mib = r->wr_mb_per_s = r->rd_mb_per_s = KG_NA;
    *out = r;
    return KG_OK;
}

void runner_stop(struct runner *r)
{
    if (!r || !r->thread_alive)
        return;
    stopper_request(&r->stop);
    pthread_join(r->thread, NULL);
    r->thread_alive = false;
}

int runner_start(struct runner *r, struct scenario *plan, const char *id,
                 const char *scenario_name, char *errmsg, size_t errlen)
{
    runner_stop(r);
    if (r->stopper_ok) {
        stopper_destroy(&r->stop);
        r->stopper_ok = false;
    }
    if (stopper_init(&r->stop) != KG_OK) {
        scenario_free(plan);
        return KG_ENOMEM;
    }
    r->stopper_ok = true;

    pthread_mutex_lock(&r->mu);
    scenario_free(r->plan);
    r->plan = plan;
    snprintf(r->id, sizeof r->id, "%s", id ? id : "");
    snprintf(r->scenario, sizeof r->scenario, "%s", scenario_name ? scenario_name : "");
    r->total_s = scenario_duration_s(plan);
    memset(&r->totals, 0, sizeof r->totals);
    r->cpu_pct = r->mem_mib = r->wr_mb_per_s = r->rd_mb_per_s = KG_NA;
    r->start_ns = r->step_start_ns = kg_clock_mono_ns();
    r->step = 0;
    r->first_step_done = false;
    r->first_rc = 0;
    r->first_err[0] = '\0';
    r->running = true;
    r->generation++;
    r->done_cpu_ns = r->done_written = r->done_read = 0;
    r->n_slots = 0;
    pthread_mutex_unlock(&r->mu);

    if (pthread_create(&r->thread, NULL, run_main, r) != 0) {
        pthread_mutex_lock(&r->mu);
        r->running = false;
        pthread_mutex_unlock(&r->mu);
        snprintf(errmsg, errlen, "cannot start the runner thread");
        return KG_EIO;
    }
    r->thread_alive = true;

    pthread_mutex_lock(&r->mu);
    while (!r->first_step_done)
        pthread_cond_wait(&r->cv, &r->mu);
    int rc = r->first_rc;
    if (rc)
        snprintf(errmsg, errlen, "%s", r->first_err);
    pthread_mutex_unlock(&r->mu);
    if (rc)
        runner_stop(r);
    return rc;
}

bool runner_running(struct runner *r)
{
    pthread_mutex_lock(&r->mu);
    bool on = r->running;
    pthread_mutex_unlock(&r->mu);
    return on;
}

int runner_wait(struct runner *r, uint32_t timeout_ms)
{
    uint64_t deadline = timeout_ms == UINT32_MAX ? UINT64_MAX
                                                 : kg_clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    pthread_mutex_lock(&r->mu);
    while (r->running) {
        if (deadline == UINT64_MAX) {
            pthread_cond_wait(&r->cv, &r->mu);
            continue;
        }
        if (kg_clock_mono_ns() >= deadline)
            break;
        struct timespec ts = {(time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u)};
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    bool on = r->running;
    pthread_mutex_unlock(&r->mu);
    return on ? KG_ETIMEDOUT : KG_OK;
}

void runner_fill_state(struct runner *r, struct kg_load_state *st)
{
    pthread_mutex_lock(&r->mu);
    kg_load_spec_init(&st->spec);
    st->spec.kind = KG_LOAD_NONE;
    st->scenario[0] = '\0';
    st->id[0] = '\0';
    st->step = st->steps = 0;
    st->elapsed_s = st->progress_pct = KG_NA;
    st->cpu_pct = st->mem_resident_mib = st->disk_wr_mb_per_s = st->disk_rd_mb_per_s = KG_NA;
    if (r->running && r->plan) {
        uint64_t now = kg_clock_mono_ns();
        st->status = KG_LOADST_RUNNING;
        snprintf(st->id, sizeof st->id, "%s", r->id);
        snprintf(st->scenario, sizeof st->scenario, "%s", r->scenario);
        if (r->scenario[0]) { /* the contract: step/steps only while a scenario runs */
            st->step = r->step + 1;
            st->steps = r->plan->n_steps;
        }
        const struct scenario_step *s = &r->plan->steps[r->step];
        if (s->n_loads)
            st->spec = s->loads[0];
        st->elapsed_s = (double)(now - r->start_ns) / 1e9;
        st->progress_pct = r->total_s > 0.0 ? st->elapsed_s / r->total_s * 100.0 : 0.0;
        if (st->progress_pct > 100.0)
            st->progress_pct = 100.0;
        st->cpu_pct = r->cpu_pct;
        st->mem_resident_mib = r->mem_mib;
        st->disk_wr_mb_per_s = r->wr_mb_per_s;
        st->disk_rd_mb_per_s = r->rd_mb_per_s;
    } else {
        st->status = KG_LOADST_IDLE;
    }
    pthread_mutex_unlock(&r->mu);
}

void runner_totals(struct runner *r, struct runner_totals *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->totals;
    if (r->running)
        out->elapsed_s = (double)(kg_clock_mono_ns() - r->start_ns) / 1e9;
    pthread_mutex_unlock(&r->mu);
}

uint64_t runner_generation(struct runner *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t g = r->generation;
    pthread_mutex_unlock(&r->mu);
    return g;
}

void runner_free(struct runner *r)
{
    if (!r)
        return;
    runner_stop(r);
    if (r->stopper_ok)
        stopper_destroy(&r->stop);
    scenario_free(r->plan);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
