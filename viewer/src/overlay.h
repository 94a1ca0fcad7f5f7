/* SPDX-License-Identifier: MIT */
/*
 * What is drawn over the canvas's picture, not into it: the tooltip of the VM (or
 * host) under the mouse, the help, and the operator's selection frame. Each is a
 * texture made again only when its text or place changed.
 * A rendering room, main thread only.
 */
#ifndef KG_WALL_OVERLAY_H
#define KG_WALL_OVERLAY_H
#include <SDL.h>
#include <SDL_ttf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostagg.h"
#include "layout.h"
#include "model.h"
#include "view.h"

#define OVERLAY_TIP_MAX 1024

struct overlay {
    char tip_text[OVERLAY_TIP_MAX]; /* as shown; "" none */
    SDL_Texture *tip_tex;           /* owned */
    int tip_w, tip_h;
    SDL_Texture *panel_tex;         /* owned: the trends under the tooltip's text (trends.c) */
    int panel_w, panel_h;
    struct layout_rect panel_rect;  /* where it was last drawn (w 0: not shown) */
    SDL_Texture *help_tex;          /* owned; made when the help is first shown */
    int help_w, help_h;
    bool sel_visible;               /* the selected VM has a tile: framed at sel_rect */
    struct layout_rect sel_rect;
};

/* Lock held: the tooltip for output pixel (x, y) of grid g into out ("" over no
 * block): the host's figures over its label band or an empty tile, else the VM's;
 * over a host tile the host and its VMs' distribution (agg, may be NULL) of each
 * metric v shows: the worst, p90 and median, and the VMs in alert and stale. */
void overlay_tooltip_text(const struct layout_grid *g, const struct model *m,
                          const struct hostagg *agg, const struct view *v, int x, int y,
                          uint64_t now_ms, char *out, size_t size);
/* Lock held: what the tooltip at output pixel (x, y) describes: *vm a VM slot
 * or -1, *host the host index (a VM's host too; a host tile's) or -1 over no
 * block. */
void overlay_tooltip_of(const struct layout_grid *g, const struct model *m, int x, int y,
                        int32_t *host, int32_t *vm);
/* Lock held: where the selected VM's frame goes. True when that changed. */
bool overlay_select(struct overlay *o, const struct view *v, const struct layout_grid *g,
                    const struct model *m);
/* Takes the tooltip text tip (made again into a texture when it changed; true
 * then) and makes the help's texture when help is on and there is none. */
bool overlay_update(struct overlay *o, SDL_Renderer *ren, TTF_Font *font, float scale,
                    const char *tip, bool help);
/* Makes the panel under the tooltip's text again from surface s (NULL: none). */
void overlay_panel(struct overlay *o, SDL_Renderer *ren, SDL_Surface *s);
/* True when the help is asked for but not made yet. */
bool overlay_help_pending(const struct overlay *o, bool help);
/* Draws the selection frame (copying the tile back from tex over it), the tooltip
 * (with its panel below the text) at the mouse and the help in the middle, onto a
 * w x h output. */
void overlay_draw(struct overlay *o, SDL_Renderer *ren, SDL_Texture *tex, int tile_px,
                  int mouse_x, int mouse_y, bool help, int w, int h, float scale);
/* Destroys the textures (a new window size or renderer); they are made again. */
void overlay_reset(struct overlay *o);

#endif
