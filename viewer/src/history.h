/* SPDX-License-Identifier: MIT */
/*
 * Trends: a bounded history of the main figures of every VM (and every host),
 * kept compact so that 100,000 VMs with 15 minutes each stay inside the wall's
 * memory budget.
 *
 * One ring per slot (a VM slot or a host index) of `steps` steps of `step_ms`
 * each; a step holds one byte per series: the figure's position on its colour
 * scale (colour_scale_pos * HISTORY_TOP, so the sparkline and the tile agree),
 * or HISTORY_NONE when nothing arrived for that step. Steps are numbered by the
 * wall's monotonic clock from history_init's start_ms: the history starts when
 * the wall starts. Two samples in one step keep the larger (a spike is not
 * hidden by a quiet sample after it); a gap of at most `fill_steps` steps
 * between two samples is filled with the newer sample (an agent whose interval is
 * longer than the step leaves no holes), a longer gap stays HISTORY_NONE.
 * Memory: steps * HISTORY_SERIES bytes + 4 bytes per slot, all of it written when
 * the slot is reserved (the RSS a full history needs is taken at once).
 * Pure module: no SDL, no logging, no locking (the model's lock covers it).
 */
#ifndef KG_WALL_HISTORY_H
#define KG_WALL_HISTORY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum history_series {
    HISTORY_CPU = 0, /* VM: cpu_pct; host: cpu_pct */
    HISTORY_MEM,     /* mem_used_pct */
    HISTORY_DISK,    /* disk read + write bytes/s (log scale) */
    HISTORY_NET,     /* network rx + tx bytes/s (log scale) */
    HISTORY_SERIES
};

#define HISTORY_TOP 254u   /* the top of a scale */
#define HISTORY_NONE 255u  /* nothing for this step */
#define HISTORY_MAX_STEPS 4096u

struct history {
    uint8_t *data;          /* cap_slots * steps * HISTORY_SERIES, step-major per slot */
    uint32_t *last;         /* per slot: step number of the newest sample + 1; 0 none */
    size_t cap_slots;
    uint32_t steps;         /* 0: history off (every call is a no-op, reads give NONE) */
    uint32_t fill_steps;
    uint64_t step_ms;
    uint64_t start_ms;      /* monotonic ms of step 0 */
    size_t max_slots;       /* 0: no cap; a reserve beyond it turns the history off */
    bool dropped;           /* turned off by max_slots */
};

/* Sets h up for window_ms of history in steps of step_ms (window_ms 0: off),
 * starting at start_ms. steps = window_ms / step_ms, at most HISTORY_MAX_STEPS.
 * Returns 0 or KG_EINVAL. Allocates nothing until history_reserve. */
int history_init(struct history *h, uint64_t window_ms, uint64_t step_ms, uint32_t fill_steps,
                 uint64_t start_ms);
void history_free(struct history *h);

/* Caps the slots kept (0: none; history_init clears it): once a reserve asks
 * for more slots than max_slots, the history frees everything and is off for good (dropped; every
 * call a no-op), so that a grid too large for trends costs none of their memory. */
void history_set_max_slots(struct history *h, size_t max_slots);
/* Makes room for slots [0, n): 0 or KG_ENOMEM (h unchanged). New slots are empty.
 * Beyond max_slots: 0, the history turned off. */
int history_reserve(struct history *h, size_t n);
/* Empties slot (a VM removed, a slot reused). */
void history_clear(struct history *h, size_t slot);
/* Moves slot from's history to slot to (reserved both) and empties from: for
 * owners whose indices move (the model moves its last host into a removed one's). */
void history_move(struct history *h, size_t from, size_t to);
/* Records one sample of slot at now_ms: v[series] is the scale position 0..1, or
 * NaN (nothing for that series). */
void history_put(struct history *h, size_t slot, uint64_t now_ms, const double v[HISTORY_SERIES]);
/* The last n steps of one series of slot up to now_ms, oldest first, into out
 * (HISTORY_NONE where nothing is known). n may exceed steps (the oldest are NONE). */
void history_read(const struct history *h, size_t slot, enum history_series s, uint64_t now_ms,
                  uint8_t *out, size_t n);
/* How much of the window the wall has seen at now_ms, 0..1 (1: full, or off). */
double history_filled(const struct history *h, uint64_t now_ms);
/* Bytes held (for the budget and the tests). */
size_t history_bytes(const struct history *h);

#endif
