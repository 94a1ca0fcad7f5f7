/* SPDX-License-Identifier: MIT */
/*
 * The wall's own ARGB8888 pixel buffer, the truth of what is on screen, and the
 * rectangles of it that changed since the last upload (docs/PLATFORM.md, frame
 * budget: uploading only changed rectangles keeps a frame near 1 ms with 1 % of
 * 100k tiles changing, where SDL_RenderFillRects costs ~11 ms).
 * A rendering room: SDL types, main thread only.
 */
#ifndef KG_WALL_CANVAS_H
#define KG_WALL_CANVAS_H
#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct canvas {
    uint32_t *px;               /* owned: w * h, the picture */
    SDL_Surface *surf;          /* owned: wraps px for text blits */
    int w, h;                   /* output pixels */
    SDL_Rect *dirty;            /* owned: changed since the last upload */
    size_t n_dirty, cap_dirty;
    bool dirty_all;             /* upload the whole buffer */
    bool painting_all;          /* a full repaint marks its area once at the end */
};

/* (Re)allocates a w x h buffer filled with colour; everything is dirty. 0 or KG_EIO
 * (the canvas is then empty). */
int canvas_resize(struct canvas *c, int w, int h, uint32_t colour);
/* Frees the buffers; the struct may be resized again. */
void canvas_free(struct canvas *c);

/* Marks a rectangle (clipped to the canvas) for upload. */
void canvas_dirty(struct canvas *c, int x, int y, int w, int h);
/* Uploads the changed rectangles into tex (as large as the canvas) and forgets
 * them; beyond CANVAS_MAX_RECTS rectangles, their bounding box. Adds the
 * rectangles uploaded to *uploaded. */
void canvas_upload(struct canvas *c, SDL_Texture *tex, uint64_t *uploaded);
/* True when something waits for canvas_upload. */
bool canvas_changed(const struct canvas *c);

/* Drawing, clipped to the canvas; none of these marks anything dirty. Inline:
 * they run for every tile painted. */
static inline void canvas_fill(struct canvas *c, int x, int y, int w, int h, uint32_t colour)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;
    for (int yy = y0; yy < y1; yy++) {
        uint32_t *row = c->px + (size_t)yy * c->w;
        for (int xx = x0; xx < x1; xx++)
            row[xx] = colour;
    }
}

static inline void canvas_put(struct canvas *c, int x, int y, uint32_t colour)
{
    if (x >= 0 && y >= 0 && x < c->w && y < c->h)
        c->px[(size_t)y * c->w + x] = colour;
}

/* A frame t px thick inside the rectangle. */
void canvas_frame_rect(struct canvas *c, int x, int y, int w, int h, int t, uint32_t colour);

#endif
