/* SPDX-License-Identifier: MIT */
/*
 * The pixel buffer and its dirty rectangles (see canvas.h). It knows nothing of
 * tiles or text: what to draw is the other rooms' business.
 */
#include "canvas.h"

#include <stdlib.h>

#include "kvmgrid/error.h"

#define CANVAS_MAX_RECTS 4096 /* beyond this, upload one bounding rectangle */

int canvas_resize(struct canvas *c, int w, int h, uint32_t colour)
{
    if (c->surf)
        SDL_FreeSurface(c->surf);
    free(c->px);
    c->surf = NULL;
    c->w = w;
    c->h = h;
    c->px = calloc((size_t)w * h, sizeof(uint32_t));
    if (c->px == NULL)
        return KG_EIO;
    c->surf = SDL_CreateRGBSurfaceWithFormatFrom(c->px, w, h, 32, w * 4, SDL_PIXELFORMAT_ARGB8888);
    if (c->surf == NULL)
        return KG_EIO;
    SDL_SetSurfaceBlendMode(c->surf, SDL_BLENDMODE_NONE);
    canvas_fill(c, 0, 0, w, h, colour);
    c->dirty_all = true;
    return 0;
}

void canvas_free(struct canvas *c)
{
    if (c->surf)
        SDL_FreeSurface(c->surf);
    free(c->px);
    free(c->dirty);
    c->surf = NULL;
    c->px = NULL;
    c->dirty = NULL;
    c->n_dirty = c->cap_dirty = 0;
}

void canvas_dirty(struct canvas *c, int x, int y, int w, int h)
{
    if (c->dirty_all || c->painting_all)
        return;
    if (x < 0) {
        w += x;
        x = 0;
    }
    if (y < 0) {
        h += y;
        y = 0;
    }
    if (x + w > c->w)
        w = c->w - x;
    if (y + h > c->h)
        h = c->h - y;
    if (w <= 0 || h <= 0)
        return;
    if (c->n_dirty == c->cap_dirty) {
        size_t ncap = c->cap_dirty ? c->cap_dirty * 2 : 256;
        SDL_Rect *nd = realloc(c->dirty, ncap * sizeof(*nd));
        if (nd == NULL) {
            c->dirty_all = true;
            return;
        }
        c->dirty = nd;
        c->cap_dirty = ncap;
    }
    c->dirty[c->n_dirty++] = (SDL_Rect){x, y, w, h};
}

bool canvas_changed(const struct canvas *c)
{
    return c->dirty_all || c->n_dirty > 0;
}

void canvas_upload(struct canvas *c, SDL_Texture *tex, uint64_t *uploaded)
{
    if (c->dirty_all) {
        SDL_UpdateTexture(tex, NULL, c->px, c->w * 4);
        (*uploaded)++;
    } else if (c->n_dirty > CANVAS_MAX_RECTS) {
        int x0 = c->w, y0 = c->h, x1 = 0, y1 = 0;
        for (size_t i = 0; i < c->n_dirty; i++) {
            const SDL_Rect *d = &c->dirty[i];
            if (d->x < x0) x0 = d->x;
            if (d->y < y0) y0 = d->y;
            if (d->x + d->w > x1) x1 = d->x + d->w;
            if (d->y + d->h > y1) y1 = d->y + d->h;
        }
        SDL_Rect u = {x0, y0, x1 - x0, y1 - y0};
        SDL_UpdateTexture(tex, &u, c->px + (size_t)y0 * c->w + x0, c->w * 4);
        (*uploaded)++;
    } else {
        for (size_t i = 0; i < c->n_dirty; i++) {
            const SDL_Rect *d = &c->dirty[i];
            SDL_UpdateTexture(tex, d, c->px + (size_t)d->y * c->w + d->x, c->w * 4);
        }
        *uploaded += c->n_dirty;
    }
    c->n_dirty = 0;
    c->dirty_all = false;
}

void canvas_frame_rect(struct canvas *c, int x, int y, int w, int h, int t, uint32_t colour)
{
    canvas_fill(c, x, y, w, t, colour);
    canvas_fill(c, x, y + h - t, w, t, colour);
    canvas_fill(c, x, y, t, h, colour);
    canvas_fill(c, x + w - t, y, t, h, colour);
}
