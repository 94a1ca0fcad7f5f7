/* SPDX-License-Identifier: MIT */
/*
 * What the wall shows and one frame of it: the view state, the grid and the
 * renderer together, and the frame step that decides when the grid is laid out
 * again (the view asked, the window changed, the host set changed, or under the
 * alerts-only filter the VMs in alert changed, at most every SCREEN_RELAYOUT_MIN_MS,
 * or SCREEN_RELAYOUT_SYNC_MS while a retained sync streams in, and not while paused), takes the model's changes
 * and has the renderer draw and present them. The only code that writes the
 * model's layout fields (through layout.c) and consumes its dirty list.
 * No SDL here. Main thread only.
 */
#ifndef KG_WALL_SCREEN_H
#define KG_WALL_SCREEN_H
#include <stdbool.h>
#include <stdint.h>

#include "hostagg.h"
#include "layout.h"
#include "model.h"
#include "render.h"
#include "view.h"

#define SCREEN_RELAYOUT_MIN_MS 250 /* while the host set changes, lay out at most 4x/s */
/* ... and at most once a second while the broker is still sending its retained state
 * (a sync): the grid fills in steps the eye can follow, and the layouts (each tens of
 * ms at 100,000 VMs) leave the CPU to the burst itself. */
#define SCREEN_RELAYOUT_SYNC_MS 1000

struct screen {
    struct render *render;      /* owned */
    struct view view;
    struct layout_grid grid;
    uint64_t order_view_gen;    /* view.order_gen the grid was ordered for */
    uint64_t filter_ticks;      /* model ticks when the alerts-only filter was checked */
    struct hostagg agg;         /* host tiles' aggregates, kept only while shown */
    bool sweep;                 /* host tiles: the model's structure changed, not the
                                   tiles (hostagg_sweep at the next take) */
};

/* Opens the renderer (render_create's codes, errmsg) and sets the view up. */
int screen_open(struct screen *s, const struct render_options *opt, enum view_show show,
                enum layout_sort_by sort, bool operator_mode, char *errmsg, size_t errlen);
/* Frees what screen_open made; accepts a screen that never opened (zeroed). */
void screen_close(struct screen *s);

/* One frame at now_ms (monotonic). force: lay out now even if the host set is
 * changing quickly, and present. When screenshot_path is not NULL, the frame is
 * saved there as PNG. Takes the model lock. Returns 0, KG_ENOMEM (no layout) or
 * KG_EIO (the screenshot). */
int screen_frame(struct screen *s, struct model *m, uint64_t now_ms, bool force,
                 const char *screenshot_path);

/* Puts the pointer on the centre of the tile of VM vm (raw, vm_len) of host
 * (raw, host_len), as laid out by the last frame: its tooltip shows from the
 * next frame on. False when it has no tile. Takes the model lock. */
bool screen_point_at(struct screen *s, struct model *m, const char *host, size_t host_len,
                     const char *vm, size_t vm_len);

/* True when the next screen_frame would still change the picture: the
 * renderer's render_view.pending, or the model's changes not drawn yet (while not
 * paused), or a layout the view asked for. Takes the model lock. *rv (may be
 * NULL) gets the renderer's view. */
bool screen_pending(struct screen *s, struct model *m, struct render_view *rv);

#endif
