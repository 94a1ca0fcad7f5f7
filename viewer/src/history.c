/* SPDX-License-Identifier: MIT */
/*
 * Trends for the wall (history.h): one ring of bytes per slot, written in place.
 * It is not a time-series store: no timestamps per point, no resolution change,
 * nothing older than the window; just what a sparkline needs, in a fixed budget.
 */
#include "history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"

/* history_reserve grows by whole chunks, not by doubling: at 100,000 VMs a
 * doubling would hold up to twice the budget. A chunk is at most 4096 slots and
 * at most about 4 MiB (a long window with many steps grows in fewer slots). */
#define CHUNK_SLOTS 4096u
#define CHUNK_BYTES (4u << 20)
#define CHUNK_MIN_SLOTS 64u

int history_init(struct history *h, uint64_t window_ms, uint64_t step_ms, uint32_t fill_steps,
                 uint64_t start_ms)
{
    memset(h, 0, sizeof(*h));
    if (window_ms == 0)
        return 0;
    if (step_ms == 0 || window_ms / step_ms == 0 || window_ms / step_ms > HISTORY_MAX_STEPS)
        return KG_EINVAL;
    h->steps = (uint32_t)(window_ms / step_ms);
    h->step_ms = step_ms;
    h->fill_steps = fill_steps;
    h->start_ms = start_ms;
    return 0;
}

void history_free(struct history *h)
{
    if (h == NULL)
        return;
    free(h->data);
    free(h->last);
    h->data = NULL;
    h->last = NULL;
    h->cap_slots = 0;
}

static size_t row_bytes(const struct history *h)
{
    return (size_t)h->steps * HISTORY_SERIES;
}

void history_set_max_slots(struct history *h, size_t max_slots)
{
    h->max_slots = max_slots;
}

int history_reserve(struct history *h, size_t n)
{
    if (h->steps == 0)
        return 0;
    if (h->max_slots > 0 && n > h->max_slots) {
        history_free(h);
        h->steps = 0;
        h->dropped = true;
        return 0;
    }
    if (n <= h->cap_slots)
        return 0;
    size_t row = row_bytes(h);
    size_t chunk = CHUNK_BYTES / row;
    chunk = chunk > CHUNK_SLOTS ? CHUNK_SLOTS : chunk < CHUNK_MIN_SLOTS ? CHUNK_MIN_SLOTS : chunk;
    if (n > SIZE_MAX - chunk)
        return KG_ENOMEM;
    size_t ncap = (n + chunk - 1) / chunk * chunk;
    if (h->max_slots > 0 && ncap > h->max_slots)
        ncap = h->max_slots; /* no chunk beyond the cap */
    if (ncap > SIZE_MAX / row || ncap > SIZE_MAX / sizeof(uint32_t))
        return KG_ENOMEM;
    uint8_t *nd = realloc(h->data, ncap * row);
    if (nd == NULL)
        return KG_ENOMEM;
    h->data = nd; /* larger, same content: h is unchanged while cap_slots is */
    uint32_t *nl = realloc(h->last, ncap * sizeof(*nl));
    if (nl == NULL)
        return KG_ENOMEM;
    h->last = nl;
    /* written now, so the RSS of a full history is there from the start */
    memset(nd + h->cap_slots * row, HISTORY_NONE, (ncap - h->cap_slots) * row);
    memset(nl + h->cap_slots, 0, (ncap - h->cap_slots) * sizeof(*nl));
    h->cap_slots = ncap;
    return 0;
}

void history_clear(struct history *h, size_t slot)
{
    if (h->steps == 0 || slot >= h->cap_slots)
        return;
    memset(h->data + slot * row_bytes(h), HISTORY_NONE, row_bytes(h));
    h->last[slot] = 0;
}

void history_move(struct history *h, size_t from, size_t to)
{
    if (h->steps == 0 || from >= h->cap_slots || to >= h->cap_slots || from == to)
        return;
    memcpy(h->data + to * row_bytes(h), h->data + from * row_bytes(h), row_bytes(h));
    h->last[to] = h->last[from];
    history_clear(h, from);
}

/* The step number of now_ms (0 before the start). */
static uint64_t step_of(const struct history *h, uint64_t now_ms)
{
    return now_ms > h->start_ms ? (now_ms - h->start_ms) / h->step_ms : 0;
}

static uint8_t *step_at(const struct history *h, size_t slot, uint64_t step)
{
    return h->data + slot * row_bytes(h) + (size_t)(step % h->steps) * HISTORY_SERIES;
}

static uint8_t scale_byte(double pos)
{
    if (isnan(pos))
        return HISTORY_NONE;
    if (pos <= 0.0)
        return 0;
    if (pos >= 1.0)
        return HISTORY_TOP;
    return (uint8_t)(pos * HISTORY_TOP + 0.5);
}

void history_put(struct history *h, size_t slot, uint64_t now_ms, const double v[HISTORY_SERIES])
{
    if (h->steps == 0 || slot >= h->cap_slots)
        return;
    uint8_t b[HISTORY_SERIES];
    for (int s = 0; s < HISTORY_SERIES; s++)
        b[s] = scale_byte(v[s]);
    uint64_t cur = step_of(h, now_ms);
    uint32_t last = h->last[slot];
    if (last != 0 && cur <= (uint64_t)last - 1) {
        /* the same step (or an earlier stamp, as the same): keep the larger */
        uint8_t *p = step_at(h, slot, (uint64_t)last - 1);
        for (int s = 0; s < HISTORY_SERIES; s++)
            if (b[s] != HISTORY_NONE && (p[s] == HISTORY_NONE || b[s] > p[s]))
                p[s] = b[s];
        return;
    }
    if (cur >= UINT32_MAX)
        return; /* beyond what last can number: years of uptime at 1 s steps */
    if (last != 0) {
        /* The ring still holds a lap ago in the steps after the newest sample:
         * write them, with this sample over a short gap, NONE over a long one. */
        uint64_t gap = cur - last; /* steps strictly between the two samples */
        if (gap >= h->steps) {
            memset(h->data + slot * row_bytes(h), HISTORY_NONE, row_bytes(h));
        } else {
            const uint8_t none[HISTORY_SERIES] = {HISTORY_NONE, HISTORY_NONE, HISTORY_NONE,
                                                  HISTORY_NONE};
            const uint8_t *fill = gap <= h->fill_steps ? b : none;
            for (uint64_t st = last; st < cur; st++)
                memcpy(step_at(h, slot, st), fill, HISTORY_SERIES);
        }
    }
    memcpy(step_at(h, slot, cur), b, HISTORY_SERIES);
    h->last[slot] = (uint32_t)cur + 1;
}

void history_read(const struct history *h, size_t slot, enum history_series s, uint64_t now_ms,
                  uint8_t *out, size_t n)
{
    memset(out, HISTORY_NONE, n);
    if (h->steps == 0 || slot >= h->cap_slots || (unsigned)s >= HISTORY_SERIES ||
        now_ms < h->start_ms || h->last[slot] == 0)
        return;
    uint64_t newest = (uint64_t)h->last[slot] - 1;
    uint64_t cur = step_of(h, now_ms);
    if (cur < newest)
        cur = newest; /* stamped by the MQTT thread after the reader read its clock */
    /* out[n - 1 - k] is step cur - k: known when within the ring, not before step
     * 0 and not after the newest sample */
    size_t kmax = n < h->steps ? n : h->steps;
    if (kmax > cur + 1)
        kmax = (size_t)cur + 1;
    for (size_t k = cur - newest; k < kmax; k++)
        out[n - 1 - k] = step_at(h, slot, cur - k)[s];
}

double history_filled(const struct history *h, uint64_t now_ms)
{
    if (h->steps == 0)
        return 1.0;
    if (now_ms <= h->start_ms)
        return 0.0;
    double f = (double)(now_ms - h->start_ms) / ((double)h->steps * (double)h->step_ms);
    return f > 1.0 ? 1.0 : f;
}

size_t history_bytes(const struct history *h)
{
    return h->cap_slots * (row_bytes(h) + sizeof(uint32_t));
}
