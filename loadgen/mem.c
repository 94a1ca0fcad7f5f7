/* SPDX-License-Identifier: MIT */
/*
 * Held and touched memory (see mem.h). The first pass writes one word per page
 * (page index mixed with a per-load seed), checking for a stop every 256 pages;
 * then, if asked, a re-dirty pass every 100 ms writes rate x 0.1 s worth of
 * pages, round robin, so that the guest's dirty-page rate is what was asked.
 * Residency is read back with mincore(2), which counts exactly this mapping.
 */
#include "mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "stopper.h"

#define DIRTY_TICK_NS 100000000ull

struct mem_load {
    struct stopper stop;
    unsigned char *base;
    size_t bytes, page;
    double dirty_bytes_per_s;
    pthread_t thread;
    bool started, stopped;
    atomic_int filled;
    _Atomic uint64_t dirtied;
    uint64_t seed;
};

static inline void touch(struct mem_load *m, size_t page_index, uint64_t round)
{
    volatile uint64_t *p = (volatile uint64_t *)(void *)(m->base + page_index * m->page);
    *p = (m->seed ^ ((uint64_t)page_index * 0x9E3779B97F4A7C15ull)) + round;
}

static void *mem_main(void *arg)
{
    struct mem_load *m = arg;
    size_t pages = m->bytes / m->page;
    for (size_t i = 0; i < pages; i++) {
        if ((i & 255u) == 0 && stopper_requested(&m->stop))
            return NULL;
        touch(m, i, 0);
    }
    atomic_store(&m->filled, 1);
    if (!(m->dirty_bytes_per_s > 0.0)) {
        stopper_sleep_until(&m->stop, UINT64_MAX);
        return NULL;
    }
    size_t next = 0;
    uint64_t round = 1;
    uint64_t t0 = kg_clock_mono_ns();
    double owed = 0.0; /* pages due but not yet written */
    for (uint64_t tick = 1;; tick++) {
        if (stopper_sleep_until(&m->stop, t0 + tick * DIRTY_TICK_NS))
            break;
        owed += m->dirty_bytes_per_s * ((double)DIRTY_TICK_NS / 1e9) / (double)m->page;
        while (owed >= 1.0) {
            touch(m, next, round);
            owed -= 1.0;
            atomic_fetch_add(&m->dirtied, m->page);
            if (++next == pages) {
                next = 0;
                round++;
            }
        }
    }
    return NULL;
}

int mem_load_start(const struct kg_load_spec *spec, struct mem_load **out)
{
    if (!spec || !out || spec->kind != KG_LOAD_MEM || !(spec->mib >= 1.0) ||
        spec->mib > 1048576.0)
        return KG_EINVAL;
    struct mem_load *m = calloc(1, sizeof *m);
    if (!m)
        return KG_ENOMEM;
    if (stopper_init(&m->stop) != KG_OK) {
        free(m);
        return KG_ENOMEM;
    }
    m->page = (size_t)sysconf(_SC_PAGESIZE);
    m->bytes = (size_t)spec->mib * 1024u * 1024u;
    m->dirty_bytes_per_s = kg_na(spec->dirty_mib_per_s) ? 0.0 : spec->dirty_mib_per_s * 1048576.0;
    m->seed = kg_clock_mono_ns() | 1u;
    atomic_init(&m->filled, 0);
    atomic_init(&m->dirtied, 0);
    void *p = mmap(NULL, m->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        stopper_destroy(&m->stop);
        free(m);
        return KG_ENOMEM;
    }
    m->base = p;
    if (pthread_create(&m->thread, NULL, mem_main, m) != 0) {
        munmap(m->base, m->bytes);
        stopper_destroy(&m->stop);
        free(m);
        return KG_EIO;
    }
    m->started = true;
    *out = m;
    return KG_OK;
}

uint64_t mem_load_resident_bytes(const struct mem_load *m)
{
    if (!m || !m->base)
        return 0;
    size_t pages = m->bytes / m->page;
    unsigned char vec[4096];
    uint64_t resident = 0;
    for (size_t done = 0; done < pages;) {
        size_t n = pages - done < sizeof vec ? pages - done : sizeof vec;
        if (mincore(m->base + done * m->page, n * m->page, vec) != 0)
            return resident;
        for (size_t i = 0; i < n; i++)
            resident += vec[i] & 1u;
        done += n;
    }
    return resident * m->page;
}

uint64_t mem_load_dirtied_bytes(const struct mem_load *m) { return atomic_load(&m->dirtied); }
int mem_load_filled(const struct mem_load *m) { return atomic_load(&m->filled); }

void mem_load_stop(struct mem_load *m)
{
    if (!m || m->stopped)
        return;
    stopper_request(&m->stop);
    if (m->started)
        pthread_join(m->thread, NULL);
    munmap(m->base, m->bytes);
    m->base = NULL;
    m->stopped = true;
}

void mem_load_free(struct mem_load *m)
{
    if (!m)
        return;
    mem_load_stop(m);
    stopper_destroy(&m->stop);
    free(m);
}
