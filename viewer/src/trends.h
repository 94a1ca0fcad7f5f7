/* SPDX-License-Identifier: MIT */
/*
 * Trends on the wall: sparklines of the model's history (history.h) painted as
 * pixels. Three places: inside large tiles (TRENDS_TILE_MIN_PX and up) the trend
 * of the metric the tiles are coloured by, a white line outlined in black so it
 * reads on every viridis colour, in the band between the tile's centre and its
 * text (the centre, top rows and left column keep the bare colour and marks);
 * in a host's label band, right of its name, the host's CPU trend when the band
 * has room and the host sent host figures; and in the tooltip, a panel of the
 * VM's CPU, memory, disk and network (a host's CPU and memory) with their scales,
 * the span and the current values. And the notice that the history is not full
 * yet (it starts with the wall).
 * What repaints when: a tile's sparkline with its tile; every visible sparkline
 * once per history step (trends_frame says when); the tooltip's panel when its
 * subject or the step changed. Geometry comes from spark.c, pixels go into the
 * canvas (tiles, labels) or into the panel's own buffer, which the overlay turns
 * into a texture.
 * A rendering room, main thread only, the model's lock held unless said.
 */
#ifndef KG_WALL_TRENDS_H
#define KG_WALL_TRENDS_H
#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "canvas.h"
#include "colour.h"
#include "layout.h"
#include "model.h"
#include "text.h"

#define TRENDS_TILE_MIN_PX 40   /* tiles from this size show their metric's trend */
#define TRENDS_HOST_MIN_PX 24   /* a host's trend needs this much of its label band */
#define TRENDS_TIP_ROWS 4       /* CPU, memory, disk, network */
#define TRENDS_QUADS 4          /* quadrants of a tile in the all-metrics view */

/* Where a sparkline went, output pixels (for the layout dump and its tests). */
struct trends_box {
    int x, y, w, h;             /* w 0: none */
};

struct trends {
    uint64_t now_ms;            /* the frame being drawn (trends_frame) */
    int64_t step;               /* history step of the frame, -1: history off */
    int64_t drawn_step;         /* step the canvas's sparklines show, -1 none */
    char notice[64];            /* "trends: 4 min of 15 min", "" once full or off */
    uint64_t seen_ms;           /* history the wall has seen, UINT64_MAX: all of it */
    /* per block: where its host's trend goes in its label band (w 0: none) */
    struct trends_box *bands;   /* owned */
    size_t cap_bands;
    /* the tooltip's panel: its own pixels, made again when its subject or step changed */
    struct canvas tip;          /* owned; tip.w 0: no panel */
    int32_t tip_vm, tip_host;   /* what it shows (-1 none) */
    int64_t tip_step;
    uint64_t tip_seen_ms;       /* its subject's last sample (model seen_ms) */
    bool tip_changed;           /* made again since trends_tip_taken */
    struct trends_box tip_rows[TRENDS_TIP_ROWS]; /* sparkline boxes, panel pixels */
    int tip_n_rows;
};

/* Zeroes tr: nothing drawn yet. */
void trends_init(struct trends *tr);
/* Frees the bands and the panel; tr may be used again after trends_init. */
void trends_free(struct trends *tr);

/* At the start of a frame: takes now_ms and the history's step, composes the
 * notice. True when the canvas's sparklines show an older step than now (paint
 * them again, then trends_drawn). */
bool trends_frame(struct trends *tr, const struct model *m, uint64_t now_ms);
/* The canvas's sparklines show the frame's step. */
void trends_drawn(struct trends *tr);
/* True when tiles of grid g are large enough for sparklines. */
bool trends_in_tiles(const struct layout_grid *g);

/* Paints VM slot idx's trend of metric into its tile t (nothing for small
 * tiles, a metric without history, or no known step), below skip rows at the
 * tile's top (kept for what is written there). */
void trends_tile(const struct trends *tr, struct canvas *c, const struct model *m, uint32_t idx,
                 struct layout_rect t, int skip, enum colour_metric metric);
/* The all-metrics view, a tile of four quadrants (q: bit 0 right, bit 1 bottom)
 * showing metric[q]: each quadrant's trend in its lower half, below skip rows
 * (relative to the quadrant: its labels) and above text_top (relative to the
 * tile); a quadrant with fewer than 6 rows left gets none. */
void trends_quads(const struct trends *tr, struct canvas *c, const struct model *m, uint32_t idx,
                  struct layout_rect t, int skip, int text_top,
                  const enum colour_metric metric[TRENDS_QUADS]);
/* Block b's label band: its host's CPU trend in [x0, x1) of the band at y, h
 * rows high, when that is at least TRENDS_HOST_MIN_PX wide; remembered for
 * trends_hosts. Paints over what is there (the band's background first). */
void trends_host(struct trends *tr, struct canvas *c, const struct model *m, size_t b,
                 uint32_t host, int x0, int x1, int y, int h);
/* Forgets every band (the grid is about to be painted afresh). */
void trends_hosts_reset(struct trends *tr);
/* Paints every remembered host trend again (a new step) and marks it dirty. */
void trends_hosts(struct trends *tr, struct canvas *c, const struct model *m,
                  const struct layout_grid *g);

/* The tooltip's panel for VM slot vm (>= 0) or else host index host (>= 0), or
 * none (both -1), made again in t's small font when the subject or the step
 * changed. The panel's pixels stay in tr->tip until the next call. */
void trends_tip(struct trends *tr, const struct text *t, const struct model *m, int32_t vm,
                int32_t host);
/* Lock not held: *changed tells whether the panel changed since the last call;
 * returns its surface (borrowed, valid until the next trends_tip), NULL: none. */
SDL_Surface *trends_tip_taken(struct trends *tr, bool *changed);

/* For the layout dump: one "host_trend HOST X Y W H" line per host trend drawn,
 * and, when the tooltip's panel is shown at panel_at (w 0: not), one
 * "tooltip_trend SERIES X Y W H" line per sparkline box of it (cpu, mem, disk,
 * net), output pixels. */
void trends_dump(const struct trends *tr, FILE *f, const struct model *m,
                 const struct layout_grid *g, struct layout_rect panel_at);

#endif
