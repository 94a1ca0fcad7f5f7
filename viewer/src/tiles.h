/* SPDX-License-Identifier: MIT */
/*
 * Tiles on the canvas: one square per VM, in the colour of the view's metric or,
 * showing every metric at once, in four quadrants (CPU, memory / disk, network,
 * each on its own scale; on large tiles labelled), with marks readable without
 * colour (stale: checkerboard; host offline: stripes, a
 * frame and the word OFFLINE; paused: two bars; shut off or crashed: a hollow
 * square; load generator running: a corner), host labels, and the glue that has
 * the layout place the grid's blocks with the label font's height.
 * It reads the model and the grid and decides nothing about data: counts and
 * staleness come from the model, positions from the grid, colours from colour.c.
 * A rendering room, main thread only, the model's lock held.
 */
#ifndef KG_WALL_TILES_H
#define KG_WALL_TILES_H
#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "canvas.h"
#include "colour.h"
#include "hostagg.h"
#include "layout.h"
#include "model.h"
#include "text.h"
#include "trends.h"

enum tiles_mark {
    TILES_STALE = 1, TILES_OFFLINE = 2, TILES_PAUSED = 4, TILES_SHUTOFF = 8, TILES_CRASHED = 16,
    TILES_LOAD = 32, TILES_ALERT = 64
};

/* What tiles are painted with and into (borrowed for one frame). */
struct tiles {
    struct canvas *canvas;
    struct text *text;
    const struct layout_grid *grid;
    const struct model *model;
    enum colour_metric metric;
    bool all;                   /* every metric at once: quadrants */
    bool alerts_only;           /* the grid is filtered: an empty grid says so */
    uint64_t painted;           /* tiles painted, counted up */
    struct trends *trends;      /* sparklines in large tiles and label bands (NULL: none) */
    const struct hostagg *agg;  /* host tiles' aggregates (NULL: none, grey tiles) */
};

/* Paints one tile at tr in colour[0], or with nq == VIEW_QUADS in four quadrants
 * (colour[q] for view_quad_metric[q]; a tile under 2 px shows colour[0]), with
 * marks (enum tiles_mark); the paused bars end above text_top (relative; tr.w for
 * none). alert_quads: bit q set for a quadrant in alert (marked on tiles of 12 px
 * and more). Also draws the legend's samples. */
void tiles_paint(struct canvas *c, struct layout_rect tr, const uint32_t *colour, int nq,
                 unsigned marks, unsigned alert_quads, int text_top);
/* Repaints VM slot idx where the grid shows it (nothing when it has no tile) and
 * marks it dirty. */
void tiles_paint_vm(struct tiles *t, uint32_t idx);
/* With host tiles (g->host_tiles): repaints the tile of host index h, if shown,
 * and marks it dirty. A host tile's rows top to bottom are its VMs' values from
 * the worst to the best (hostagg_row_frac: the centre row the median), in
 * quadrants with all metrics; VMs in alert give it the alert frame (and, where it
 * fits, "! n"), stale VMs a checkerboard over as many of its bottom rows as
 * their share (all stale: all of it), an offline host the offline stripes. */
void tiles_paint_host(struct tiles *t, uint32_t h);
/* Clears area and paints every block: labels, tiles, offline frames. */
void tiles_paint_all(struct tiles *t, const SDL_Rect *area);
/* Places the grid's blocks into area with host labels in t->text's fonts (larger
 * labels for large tiles) and sizes the tile text fonts to the tiles. */
void tiles_place(struct text *t, struct layout_grid *g, const SDL_Rect *area);
/* The layout parameters tiles_place starts from for area (the host-tile choice
 * is made with them before the grid is ordered). */
void tiles_params(const struct text *t, const SDL_Rect *area, struct layout_params *p);

#endif
