/* SPDX-License-Identifier: MIT */
/*
 * The wall's fonts and text: the header and small fonts, fonts sized to the
 * layout (host labels; VM names in tiles from TEXT_NAME_MIN_TILE_PX, their values
 * too from TEXT_VALUE_MIN_TILE_PX), drawing UTF-8 into the canvas, cutting text
 * to a width, and the per-VM cache of rendered tile text, so that repainting a
 * tile blits instead of rendering text again.
 * A rendering room (SDL2_ttf), main thread only.
 */
#ifndef KG_WALL_TEXT_H
#define KG_WALL_TEXT_H
#include <SDL.h>
#include <SDL_ttf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canvas.h"
#include "colour.h"
#include "layout.h"
#include "model.h"

#define TEXT_NAME_MIN_TILE_PX 48   /* VM names inside tiles from this tile size */
#define TEXT_VALUE_MIN_TILE_PX 120 /* and the metric's value too from this one */

struct text_tile;

struct text {
    char font_path[512];
    float scale;                /* output pixels per point */
    TTF_Font *font, *font_small; /* header and small text */
    int line_h, small_h;        /* their line skips */
    /* the header's alert line, sized to the window (text_size_alert_font); NULL: font */
    TTF_Font *font_alert;
    int alert_pt, alert_h;      /* alert_h: its line skip (line_h when font_alert is NULL) */
    /* sized by the layout: host labels, VM names, values; 0 pt: not open */
    TTF_Font *font_host, *font_name, *font_value;
    int host_pt, name_pt, value_pt;
    int host_h, name_h, value_h;
    struct text_tile *cache;    /* owned: per VM slot, its rendered name and value */
    size_t cap_cache;
};

/* (Re)opens the header and small fonts at scale; closes the layout's fonts and
 * empties the cache. 0 or KG_EIO (TTF_GetError says why). */
int text_open(struct text *t, float scale);
/* Closes every font and frees the cache; the struct may be opened again. */
void text_close(struct text *t);

/* Draws UTF-8 s into the canvas at (x, y), clipped to clip (may be NULL). Returns
 * the text width in pixels. */
int text_draw(struct canvas *c, TTF_Font *f, const char *s, int x, int y, uint32_t colour,
              const SDL_Rect *clip);
int text_width(TTF_Font *f, const char *s);

/* Sizes the header's alert line to a window window_h output pixels high: a
 * 1/45 of it (24 pt at 1080, 48 pt at 2160), never below the header font, so that
 * "ALERTS n" and its list read from across a room on a large screen. Returns the
 * line skip of that line. */
int text_size_alert_font(struct text *t, int window_h);
/* The alert line's font: font_alert, or the header font at small windows. */
TTF_Font *text_alert_font(const struct text *t);

/* Chooses the host label font for tiles of tile_px (larger labels for large
 * tiles). Returns its line skip in pixels, or 0 when the small font stays. */
int text_size_host_font(struct text *t, int tile_px);
/* Chooses the VM name and value fonts for tiles of tile_px. */
void text_size_tile_fonts(struct text *t, int tile_px);
/* First row (relative to a tile's top) where tile text may be drawn: names and
 * values stay in the bottom 40 % of a tile, so its top rows and centre always
 * show the bare colour and marks (the picture test samples there; so does
 * --trace-tile). tile_px when there is no tile text. */
int text_tile_top(const struct text *t, int tile_px);
/* Like text_tile_top for a tile that shows its name alone, without a value (all
 * metrics: the quadrants carry the values). */
int text_name_top(const struct text *t, int tile_px);
/* The name of VM slot idx (and, when value is not NaN and there is a value font,
 * value formatted for metric) in the bottom of tile tr. light: light text with a
 * dark shadow, else the other way round. Rendered only when it changed since the
 * last call for idx; otherwise blitted from the cache. */
void text_tile(struct text *t, struct canvas *c, uint32_t idx, const struct model_vm *v,
               struct layout_rect tr, bool light, enum colour_metric metric, double value);

#endif
