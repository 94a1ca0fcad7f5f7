/* SPDX-License-Identifier: MIT */
/*
 * The wall's picture: an SDL2 window and the frame, composed of the rendering
 * rooms: the canvas (the wall's own ARGB8888 pixel buffer into which only changed
 * tiles are repainted, uploaded as dirty rectangles), text (fonts and the tile
 * text cache), tiles, chrome (header, legend, status line) and the overlays
 * (tooltip, help, selection frame); and input, SDL's events turned into
 * input_event values. These rooms are the only code that includes SDL.
 *
 * It only reads the model, the view and the grid's order: the run loop lays the
 * grid out (layout_grid_order) and takes the model's changes for it (screen.c).
 *
 * Threads: main thread only.
 */
#ifndef KG_WALL_RENDER_H
#define KG_WALL_RENDER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostagg.h"
#include "input.h"
#include "layout.h"
#include "model.h"
#include "view.h"

struct render;

struct render_options {
    int width, height;          /* window size in points; 0: 1280x720 */
    bool fullscreen;            /* desktop full screen */
    const char *font_path;      /* TTF file; NULL: the DejaVu Sans default */
    const char *title;          /* window title */
    const char *prefix;         /* shown in the header (borrowed, must outlive) */
    const char *broker;         /* shown in the header (borrowed, must outlive) */
};

/* Opens the window (SDL video and TTF initialised here). Returns 0 and *out (free
 * with render_free), or KG_EIO with the SDL/TTF error in errmsg. */
int render_create(const struct render_options *opt, struct render **out, char *errmsg,
                  size_t errlen);
void render_free(struct render *r);
/* True when SDL, reaching no display (DISPLAY unset, or its X server not
 * answering), fell back to a windowless driver (offscreen, dummy) that
 * SDL_VIDEODRIVER did not ask for; errmsg then says so. A wall that is to be
 * watched must not run on such a driver, drawing for nobody. */
bool render_no_display(const struct render *r, char *errmsg, size_t errlen);

/* Handles window and mouse events internally; returns 1 and fills *ev for events
 * the program acts on, 0 when the queue is empty. */
int render_poll(struct render *r, struct input_event *ev);
/* Waits up to timeout_ms for an event (it stays queued for render_poll). */
void render_wait(struct render *r, int timeout_ms);
/* True when the video driver has no window and so no input (offscreen, dummy):
 * render_wait then only sleeps, in SDL's 1 ms steps, and a caller had better
 * sleep on its own. */
bool render_windowless(const struct render *r);
void render_toggle_fullscreen(struct render *r);
/* Puts the pointer at output pixel (x, y) as a mouse motion there would: the
 * tooltip follows (--tooltip, for pictures taken without a mouse). */
void render_point(struct render *r, int x, int y);
/* True when the window's size changed since the grid was last placed: the run
 * loop lays the grid out again. */
bool render_wants_layout(const struct render *r);

/* The model's changes since the last frame, taken by the run loop (screen.c). */
struct render_changes {
    bool ordered;               /* the grid was ordered again: place it, paint all */
    bool paint;                 /* paint what changed (false: paused, or the host set
                                   changed and waits for its layout) */
    bool all;                   /* too many changes: paint every tile */
    const uint32_t *dirty;      /* VM slots changed (may repeat or be gone) */
    uint32_t n_dirty;
    const struct hostagg *agg;  /* host tiles' aggregates (the grid's host_tiles) */
    const uint32_t *hosts;      /* host tiles: host indices whose aggregate changed */
    uint32_t n_hosts;
};

/* The layout parameters of the grid area now (for layout_grid_order's choice of
 * host tiles before placing). */
void render_grid_params(const struct render *r, struct layout_params *p);

/* Lock held. Draws into the canvas what changed: places the grid and paints it
 * all after an order, repaints changed tiles, the header and status when the
 * model ticked (force: every line), the tooltip's text. Reads m and v; writes only
 * the grid's placement. */
void render_draw(struct render *r, const struct model *m, const struct view *v,
                 struct layout_grid *g, const struct render_changes *ch, uint64_t now_ms,
                 bool force);
/* Lock not held. Uploads and presents what render_draw changed, with the overlays,
 * when something did (or force or screenshot_path). When screenshot_path is not
 * NULL, the composed frame is saved there as PNG. Returns 0 or KG_EIO (the
 * screenshot failed). */
int render_present(struct render *r, const struct view *v, const struct layout_grid *g,
                   bool force, const char *screenshot_path);

/* Lock held. The colour (0xAARRGGBB) next to the centre (in the CPU quadrant when
 * showing all metrics) of the first tile of a VM named
 * vm (raw bytes, len) in screen order, as last drawn; with host tiles, a digest
 * of all the pixels of the tile of the first host holding such a VM; false when
 * no such VM has a tile. For latency tracing (--trace-tile). */
bool render_tile_colour(const struct render *r, const struct model *m,
                        const struct layout_grid *g, const char *vm, size_t len, uint32_t *argb);

/* Lock held. Writes the grid as last drawn as text (a "grid tiles vms|hosts" line, one
 * "htile" line per host tile with what it shows (agg may be NULL), one "host" line
 * per block, one "tile" line per VM tile with its rectangle) for tests, into PATH.tmp renamed
 * over path. 0 or KG_EIO. */
int render_dump_layout(const struct render *r, const struct model *m,
                       const struct layout_grid *g, const struct hostagg *agg, const char *path);

/* Frame statistics for benchmarks. */
struct render_stats {
    uint64_t frames_presented;
    uint64_t tiles_painted;
    uint64_t layouts;
    uint64_t rects_uploaded;
};
void render_get_stats(const struct render *r, struct render_stats *out);

/* What the wall shows right now, for tests and the SIGUSR1 report. */
struct render_view {
    bool tooltip, fullscreen;
    int win_w, win_h;           /* window size in points */
    int out_w, out_h;           /* output size in pixels */
    /* true when the renderer would still change the picture: a placement, repaint
     * or overlay that the view or the window asked for, dirty rectangles not yet
     * presented, the model ticked since the header was drawn, events not handled
     * yet. (The run loop adds what the model holds for the next frame.) */
    bool pending;
};
/* Fills *out. Takes the model lock. */
void render_get_view(struct render *r, struct model *m, const struct view *v,
                     struct render_view *out);

#endif
