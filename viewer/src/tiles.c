/* SPDX-License-Identifier: MIT */
/*
 * Tile painting and host labels (see tiles.h). This is the hot path: a frame with
 * 1 % of 100k tiles changing paints 1000 tiles, so a tile is filled in place in
 * the canvas and its text comes from the text cache.
 */
#include "tiles.h"

#include <math.h>
#include <stdio.h>

#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"

#define HOST_BIG_TILE_PX 48   /* host labels grow with tiles from this size */

void tiles_paint(struct canvas *c, struct layout_rect tr, uint32_t colour, unsigned marks,
                 int text_top)
{
    int t = tr.w;
    if (marks & (TILES_SHUTOFF | TILES_CRASHED)) {
        uint32_t edge = (marks & TILES_CRASHED) ? COLOUR_OFFLINE : COLOUR_TEXT_DIM;
        if (t <= 2) {
            canvas_fill(c, tr.x, tr.y, t, t, colour_dim(edge, 110));
        } else {
            /* hollow square: an empty frame, readable without colour */
            canvas_fill(c, tr.x, tr.y, t, t, COLOUR_BACKGROUND);
            canvas_frame_rect(c, tr.x, tr.y, t, t, t >= 12 ? 2 : 1, edge);
        }
    } else {
        if (marks & TILES_OFFLINE)
            colour = colour_dim(colour, 110);
        canvas_fill(c, tr.x, tr.y, t, t, colour);
        if (marks & TILES_OFFLINE) {
            /* horizontal stripes: every other row dark */
            for (int y = 1; y < t; y += 2)
                canvas_fill(c, tr.x, tr.y + y, t, 1, COLOUR_STALE_ALT);
        }
        if (marks & TILES_STALE) {
            int cell = t >= 12 ? 3 : (t >= 6 ? 2 : 1);
            for (int y = 0; y < t; y++)
                for (int x = 0; x < t; x++)
                    if (((x / cell) + (y / cell)) & 1)
                        canvas_put(c, tr.x + x, tr.y + y, COLOUR_STALE_ALT);
        }
        if (marks & TILES_PAUSED) {
            if (t >= 6) {
                int bw = t / 6 > 0 ? t / 6 : 1, sp = t / 10 > 0 ? t / 10 : 1;
                int y0 = t / 4, bh = t - 2 * (t / 4);
                if (y0 + bh > text_top - 2 && text_top - 2 - y0 > t / 4)
                    bh = text_top - 2 - y0; /* still across the centre */
                canvas_fill(c, tr.x + t / 2 - sp - bw, tr.y + y0, bw, bh, COLOUR_MARK);
                canvas_fill(c, tr.x + t / 2 + sp, tr.y + y0, bw, bh, COLOUR_MARK);
            } else {
                canvas_fill(c, tr.x + t / 2, tr.y, 1, t, COLOUR_MARK);
            }
        }
    }
    if (marks & TILES_LOAD) {
        int s = t >= 4 ? (t / 3 > 2 ? t / 3 : 2) : 1;
        for (int y = 0; y < s; y++)
            canvas_fill(c, tr.x + t - s + y, tr.y + y, s - y, 1, COLOUR_MARK);
    }
}

/* Light text (with a dark shadow) for a tile painted in c with marks, else dark. */
static bool light_text(uint32_t c, unsigned marks)
{
    if (marks & (TILES_SHUTOFF | TILES_CRASHED))
        return true; /* hollow square: the dark background shows */
    if (marks & TILES_OFFLINE)
        c = colour_dim(c, 110);
    unsigned lum = (2126u * ((c >> 16) & 0xFF) + 7152u * ((c >> 8) & 0xFF) + 722u * (c & 0xFF)) / 10000u;
    if (marks & (TILES_STALE | TILES_OFFLINE))
        lum /= 2; /* every other cell or row is black */
    return lum < 128;
}

static unsigned vm_marks(const struct model *m, const struct model_host *h,
                         const struct model_vm *v)
{
    unsigned marks = 0;
    if (h->status == MODEL_HOST_OFFLINE)
        marks |= TILES_OFFLINE;
    if (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE))
        marks |= TILES_STALE;
    switch (v->state) {
    case KG_VM_PAUSED:
    case KG_VM_PMSUSPENDED:
        marks |= TILES_PAUSED;
        break;
    case KG_VM_SHUTOFF:
    case KG_VM_SHUTDOWN:
        marks |= TILES_SHUTOFF;
        break;
    case KG_VM_CRASHED:
        marks |= TILES_CRASHED;
        break;
    default:
        break;
    }
    if (model_vm_load_running(m, v))
        marks |= TILES_LOAD;
    return marks;
}

void tiles_paint_vm(struct tiles *t, uint32_t idx)
{
    const struct model *m = t->model;
    const struct layout_grid *g = t->grid;
    const struct model_vm *v = &m->vms[idx];
    if (!(v->flags & MODEL_VM_LIVE) || v->pos < 0 || v->host >= m->n_hosts ||
        v->host >= g->cap_host_block)
        return;
    int32_t b = g->host_block[v->host];
    if (b < 0 || (size_t)b >= g->n_blocks)
        return;
    const struct model_host *h = &m->hosts[v->host];
    struct layout_rect tr = layout_tile_rect(&g->lr, &g->blocks[b], (uint32_t)v->pos);
    unsigned marks = vm_marks(m, h, v);
    double value = model_vm_value(v, t->metric);
    uint32_t c = colour_of(t->metric, value);
    tiles_paint(t->canvas, tr, c, marks, text_tile_top(t->text, g->lr.tile_px));
    text_tile(t->text, t->canvas, idx, v, tr, light_text(c, marks), t->metric,
              (marks & (TILES_SHUTOFF | TILES_CRASHED)) ? (double)NAN : value);
    if (t->trends != NULL && !(marks & (TILES_SHUTOFF | TILES_CRASHED)))
        trends_tile(t->trends, t->canvas, m, idx, tr, text_tile_top(t->text, g->lr.tile_px),
                    t->metric);
    canvas_dirty(t->canvas, tr.x, tr.y, tr.w, tr.h);
    t->painted++;
}

static void host_label(struct tiles *t, const struct model_host *h, const struct layout_block *b)
{
    const struct layout_result *lr = &t->grid->lr;
    char label[KG_NAME_ESC_MAX + 1];
    model_display(h->name, h->name_len, label, sizeof(label));
    bool offline = h->status == MODEL_HOST_OFFLINE;
    if (lr->labels) {
        TTF_Font *f = t->text->font_host ? t->text->font_host : t->text->font_small;
        SDL_Rect clip = {b->rect.x, b->rect.y, b->rect.w, lr->label_h_px};
        int w = text_draw(t->canvas, f, label, b->rect.x, b->rect.y, COLOUR_TEXT, &clip);
        const char *tag = offline ? " OFFLINE" : (h->stale ? " stale" : (!h->libvirt_ok ? " libvirt?" : ""));
        w += text_draw(t->canvas, f, tag, b->rect.x + w, b->rect.y,
                       offline ? COLOUR_OFFLINE : COLOUR_TEXT_DIM, &clip);
        if (t->trends != NULL)
            trends_host(t->trends, t->canvas, t->model, (size_t)(b - t->grid->blocks),
                        (uint32_t)(h - t->model->hosts), b->rect.x + w, b->rect.x + b->rect.w,
                        b->rect.y, lr->label_h_px);
    }
    if (offline) {
        int g = lr->block_gap_px >= 4 ? 2 : 1;
        canvas_frame_rect(t->canvas, b->rect.x - g, b->rect.y - g, b->rect.w + 2 * g,
                          b->rect.h + 2 * g, g, COLOUR_OFFLINE);
    }
}

/* The word OFFLINE over an offline host's tiles when there is no label band. */
static void offline_word(struct tiles *t, const struct layout_block *b)
{
    TTF_Font *f = t->text->font_small;
    int tw = text_width(f, "OFFLINE"), fh = t->text->small_h;
    if (t->grid->lr.labels || tw == 0 || b->rect.w < tw + 2 || b->rect.h < fh)
        return;
    int x = b->rect.x + (b->rect.w - tw) / 2, y = b->rect.y + (b->rect.h - fh) / 2;
    canvas_fill(t->canvas, x - 1, y, tw + 2, fh, COLOUR_BACKGROUND);
    SDL_Rect clip = {b->rect.x, b->rect.y, b->rect.w, b->rect.h};
    text_draw(t->canvas, f, "OFFLINE", x, y, COLOUR_OFFLINE, &clip);
}

void tiles_paint_all(struct tiles *t, const SDL_Rect *area)
{
    const struct layout_grid *g = t->grid;
    canvas_fill(t->canvas, area->x, area->y, area->w, area->h, COLOUR_BACKGROUND);
    if (t->trends != NULL)
        trends_hosts_reset(t->trends);
    t->canvas->painting_all = true;
    for (size_t i = 0; i < g->n_blocks; i++) {
        const struct model_host *h = layout_grid_host(g, t->model, i);
        if (h == NULL)
            continue;
        host_label(t, h, &g->blocks[i]);
        for (uint32_t j = 0; j < h->n_vms; j++)
            tiles_paint_vm(t, h->vms[j]);
        if (h->status == MODEL_HOST_OFFLINE)
            offline_word(t, &g->blocks[i]);
    }
    t->canvas->painting_all = false;
    canvas_dirty(t->canvas, area->x, area->y, area->w, area->h);
}

void tiles_place(struct text *t, struct layout_grid *g, const SDL_Rect *area)
{
    struct layout_params p;
    p.area = (struct layout_rect){area->x, area->y, area->w, area->h};
    p.label_px = t->small_h + 2;
    p.label_min_pitch_px = 6;
    p.max_pitch_px = 0; /* tiles as large as the area allows: read across a room */
    layout_grid_place(g, &p); /* KG_ERANGE: drawn clipped */
    /* Large tiles get larger host labels: lay out again with their band. */
    int skip = text_size_host_font(t, g->lr.labels && g->lr.tile_px >= HOST_BIG_TILE_PX
                                          ? g->lr.tile_px : 0);
    if (skip > 0) {
        p.label_px = skip + 2;
        layout_grid_place(g, &p);
    }
    text_size_tile_fonts(t, g->lr.tile_px);
}
