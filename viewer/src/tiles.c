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
#include "view.h"

#define HOST_BIG_TILE_PX 48   /* host labels grow with tiles from this size */

/* The tile's colour, or its four quadrants; each dimmed when its host is offline. */
static void fill(struct canvas *c, struct layout_rect tr, const uint32_t *colour, int nq,
                 unsigned marks)
{
    int t = tr.w;
    unsigned dim = (marks & TILES_OFFLINE) ? 110 : 256;
    if (nq < VIEW_QUADS || t < 2) {
        canvas_fill(c, tr.x, tr.y, t, t, colour_dim(colour[0], dim));
        return;
    }
    int h = t / 2;
    for (int q = 0; q < VIEW_QUADS; q++) {
        int x = (q & 1) ? h : 0, y = (q & 2) ? h : 0;
        canvas_fill(c, tr.x + x, tr.y + y, (q & 1) ? t - h : h, (q & 2) ? t - h : h,
                    colour_dim(colour[q], dim));
    }
    if (t >= 24) { /* a thin cross keeps neighbouring quadrants apart */
        canvas_fill(c, tr.x + h, tr.y, 1, t, COLOUR_BACKGROUND);
        canvas_fill(c, tr.x, tr.y + h, t, 1, COLOUR_BACKGROUND);
    }
}

/* In alert: a white frame around a black one, readable on every colour and mark
 * without hue or flashing; on tiles under 6 px a white ring around a black core.
 * From 16 px each quadrant in alert is boxed the same way inside the frame. */
static void alert_mark(struct canvas *c, struct layout_rect tr, unsigned alert_quads)
{
    int t = tr.w;
    if (t < 2) {
        canvas_fill(c, tr.x, tr.y, t, t, COLOUR_MARK);
        return;
    }
    if (t < 6) {
        canvas_frame_rect(c, tr.x, tr.y, t, t, 1, COLOUR_MARK);
        canvas_fill(c, tr.x + 1, tr.y + 1, t - 2, t - 2, COLOUR_STALE_ALT);
        return;
    }
    int f = t >= 48 ? 3 : (t >= 16 ? 2 : 1);
    canvas_frame_rect(c, tr.x, tr.y, t, t, f, COLOUR_MARK);
    canvas_frame_rect(c, tr.x + f, tr.y + f, t - 2 * f, t - 2 * f, f, COLOUR_STALE_ALT);
    if (t < 16)
        return;
    int h = t / 2, in = 2 * f, qf = f > 1 ? f - 1 : 1;
    for (int q = 0; q < VIEW_QUADS; q++) {
        if (!(alert_quads & (1u << q)))
            continue;
        int x = tr.x + ((q & 1) ? h + qf : in), y = tr.y + ((q & 2) ? h + qf : in);
        int w = ((q & 1) ? t - in : h - qf) - (x - tr.x), hh = ((q & 2) ? t - in : h - qf) - (y - tr.y);
        canvas_frame_rect(c, x, y, w, hh, qf, COLOUR_MARK);
        canvas_frame_rect(c, x + qf, y + qf, w - 2 * qf, hh - 2 * qf, qf, COLOUR_STALE_ALT);
    }
}

void tiles_paint(struct canvas *c, struct layout_rect tr, const uint32_t *colour, int nq,
                 unsigned marks, unsigned alert_quads, int text_top)
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
        fill(c, tr, colour, nq, marks);
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
    if (marks & TILES_ALERT)
        alert_mark(c, tr, alert_quads);
}

/* Light text (with a dark shadow) for a tile painted in c with marks, else dark. */
static unsigned luminance(uint32_t c)
{
    return (2126u * ((c >> 16) & 0xFF) + 7152u * ((c >> 8) & 0xFF) + 722u * (c & 0xFF)) / 10000u;
}

static bool light_text(uint32_t c, unsigned marks)
{
    if (marks & (TILES_SHUTOFF | TILES_CRASHED))
        return true; /* hollow square: the dark background shows */
    if (marks & TILES_OFFLINE)
        c = colour_dim(c, 110);
    unsigned lum = luminance(c);
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

/* The quadrants (bit q) of the active alert kinds that have one: CPU and steal
 * the CPU quadrant, memory, disk latency the disk quadrant. */
static unsigned alert_quads(const struct alerts_vm *a)
{
    unsigned q = 0;
    if (a->active & ((1u << ALERTS_CPU) | (1u << ALERTS_STEAL)))
        q |= 1u << 0;
    if (a->active & (1u << ALERTS_MEM))
        q |= 1u << 1;
    if (a->active & (1u << ALERTS_DISK_LAT))
        q |= 1u << 2;
    return q;
}

/* Large tiles in the all-metrics view: each quadrant's name and value in its top
 * left corner (skip rows lower: under an alert's band), where they fit above the
 * tile's own text. */
static void quad_labels(struct tiles *t, struct layout_rect tr, const uint32_t *colour,
                        const double *value, int text_top, int skip)
{
    TTF_Font *f = t->text->font_small;
    int lh = t->text->small_h, h = tr.w / 2, inset = tr.w / 24 + 4;
    /* inside the top quadrants, and above the VM's name in the bottom ones */
    int lines = (h - inset - skip - 2) / lh, below = (text_top - h - inset - skip) / lh;
    if (below < lines)
        lines = below;
    if (lines > 2)
        lines = 2;
    if (lines < 1 || text_width(f, "99.9 MB/s") > h - 2 * inset)
        return;
    for (int q = 0; q < VIEW_QUADS; q++) {
        enum colour_metric m = view_quad_metric[q];
        int x = tr.x + ((q & 1) ? h : 0) + inset, y = tr.y + ((q & 2) ? h : 0) + inset + skip;
        SDL_Rect clip = {x, y, h - 2 * inset, lines * lh};
        uint32_t ink = luminance(colour[q]) < 128 ? COLOUR_MARK : COLOUR_STALE_ALT;
        static const char *const names[VIEW_QUADS] = {"CPU", "MEM", "DISK", "NET"};
        text_draw(t->canvas, f, names[q], x, y, ink, &clip);
        char val[32];
        if (lines > 1 && !isnan(value[q]))
            text_draw(t->canvas, f, colour_format(m, value[q], val, sizeof(val)), x, y + lh, ink,
                      &clip);
    }
}

/* Large tiles in alert: the active kinds ("! CPU MEM") on a black band under the
 * top of the frame. */
static void alert_kinds(struct tiles *t, struct layout_rect tr, const struct alerts_vm *a)
{
    char kinds[56], s[64];
    snprintf(s, sizeof(s), "! %s", alerts_vm_kinds(a, " ", kinds, sizeof(kinds)));
    TTF_Font *f = t->text->font_small;
    int w = text_width(f, s), fh = t->text->small_h, y = tr.y + 6;
    if (w + 8 > tr.w - 12)
        w = tr.w - 20;
    int x = tr.x + (tr.w - w) / 2;
    SDL_Rect clip = {x, y, w, fh};
    canvas_fill(t->canvas, x - 4, y, w + 8, fh, COLOUR_STALE_ALT);
    text_draw(t->canvas, f, s, x, y, COLOUR_MARK, &clip);
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
    unsigned marks = vm_marks(m, h, v), quads = 0;
    const struct alerts_vm *a = model_vm_alerts(m, idx);
    if (a != NULL && a->active) {
        marks |= TILES_ALERT;
        quads = t->all ? alert_quads(a) : 0;
    }
    uint32_t c[VIEW_QUADS];
    double value[VIEW_QUADS];
    int nq = t->all ? VIEW_QUADS : 1;
    for (int q = 0; q < nq; q++) {
        enum colour_metric qm = t->all ? view_quad_metric[q] : t->metric;
        value[q] = model_vm_value(v, qm);
        c[q] = colour_of(qm, value[q]);
    }
    bool hollow = (marks & (TILES_SHUTOFF | TILES_CRASHED)) != 0;
    int text_top = t->all ? text_name_top(t->text, g->lr.tile_px)
                          : text_tile_top(t->text, g->lr.tile_px);
    tiles_paint(t->canvas, tr, c, nq, marks, quads, text_top);
    /* stale and offline figures are old, and their patterns would hide the text */
    if (t->all && !(marks & (TILES_SHUTOFF | TILES_CRASHED | TILES_STALE | TILES_OFFLINE)) &&
        tr.w >= TEXT_NAME_MIN_TILE_PX)
        quad_labels(t, tr, c, value, text_top,
                    (marks & TILES_ALERT) ? t->text->small_h + 4 : 0);
    /* all metrics: the name alone (the quadrants carry the values) */
    text_tile(t->text, t->canvas, idx, v, tr, light_text(c[nq == 1 ? 0 : 2], marks), t->metric,
              hollow || t->all ? (double)NAN : value[0]);
    if ((marks & TILES_ALERT) && tr.w >= TEXT_NAME_MIN_TILE_PX)
        alert_kinds(t, tr, a);
    if (t->trends != NULL && !hollow) {
        /* the alert's kinds are written across the top of large tiles */
        int skip = (marks & TILES_ALERT) && tr.w >= TEXT_NAME_MIN_TILE_PX ? t->text->small_h + 8 : 0;
        if (t->all) /* below each quadrant's labels (inset, alert band, two lines) */
            trends_quads(t->trends, t->canvas, m, idx, tr,
                         tr.w >= TEXT_NAME_MIN_TILE_PX ? tr.w / 24 + 6 + skip + 2 * t->text->small_h : 0,
                         text_top, view_quad_metric);
        else
            trends_tile(t->trends, t->canvas, m, idx, tr, skip, t->metric);
    }
    canvas_dirty(t->canvas, tr.x, tr.y, tr.w, tr.h);
    t->painted++;
}

/* Rows [y0, y0 + rows) of a host tile's column at x, w wide: row r in the colour
 * of the value at rank hostagg_row_frac(r, rows) of metric (grey without one). */
static void host_bands(struct canvas *c, const struct hostagg_host *a, enum colour_metric metric,
                       int x, int y0, int w, int rows, unsigned dim)
{
    for (int r = 0; r < rows; r++) {
        double val = a != NULL ? hostagg_at(a, metric, hostagg_row_frac(r, rows)) : (double)NAN;
        canvas_fill(c, x, y0 + r, w, 1, colour_dim(colour_of(metric, val), dim));
    }
}

/* "! n" (VMs in alert) on a black band under the top of the alert frame, where it fits. */
static void host_alert_count(struct tiles *t, struct layout_rect tr, uint32_t n)
{
    char s[32];
    snprintf(s, sizeof(s), "! %u", n);
    TTF_Font *f = t->text->font_small;
    int w = text_width(f, s), fh = t->text->small_h, f3 = tr.w >= 48 ? 3 : 2;
    if (w == 0 || w + 8 > tr.w - 4 * f3 || fh > tr.w / 2)
        return;
    int x = tr.x + (tr.w - w) / 2, y = tr.y + 2 * f3;
    SDL_Rect clip = {x - 4, y, w + 8, fh};
    canvas_fill(t->canvas, x - 4, y, w + 8, fh, COLOUR_STALE_ALT);
    text_draw(t->canvas, f, s, x, y, COLOUR_MARK, &clip);
}

/* The host's name on a black band at the bottom of a large host tile. */
static void host_tile_name(struct tiles *t, struct layout_rect tr, const struct model_host *h)
{
    char name[MODEL_HOST_LABEL_MAX];
    model_host_display(t->model, h, name, sizeof(name));
    TTF_Font *f = t->text->font_small;
    int fh = t->text->small_h, y = tr.y + tr.h - fh - 4;
    SDL_Rect clip = {tr.x + 4, y, tr.w - 8, fh};
    int w = text_width(f, name);
    canvas_fill(t->canvas, tr.x + 4, y, (w < tr.w - 8 ? w : tr.w - 8), fh, COLOUR_STALE_ALT);
    text_draw(t->canvas, f, name, tr.x + 4, y, COLOUR_TEXT, &clip);
}

static void paint_host_tile(struct tiles *t, size_t i)
{
    const struct layout_grid *g = t->grid;
    const struct model_host *h = layout_grid_host_tile(g, t->model, i);
    if (h == NULL)
        return;
    struct layout_rect tr = layout_tile_rect(&g->lr, &g->host_rect, (uint32_t)i);
    const struct hostagg_host *a =
        t->agg != NULL ? hostagg_get(t->agg, (uint32_t)(h - t->model->hosts)) : NULL;
    struct canvas *c = t->canvas;
    int tw = tr.w;
    bool offline = h->status == MODEL_HOST_OFFLINE;
    unsigned dim = offline ? 110 : 256;
    if (t->all && tw >= 2) {
        int hw = tw / 2;
        for (int q = 0; q < VIEW_QUADS; q++) {
            int x = (q & 1) ? hw : 0, y = (q & 2) ? hw : 0;
            host_bands(c, a, view_quad_metric[q], tr.x + x, tr.y + y, (q & 1) ? tw - hw : hw,
                       (q & 2) ? tw - hw : hw, dim);
        }
        if (tw >= 24) { /* the thin cross of VM tiles */
            canvas_fill(c, tr.x + hw, tr.y, 1, tw, COLOUR_BACKGROUND);
            canvas_fill(c, tr.x, tr.y + hw, tw, 1, COLOUR_BACKGROUND);
        }
    } else {
        host_bands(c, a, t->metric, tr.x, tr.y, tw, tw, dim);
    }
    if (offline)
        for (int y = 1; y < tw; y += 2)
            canvas_fill(c, tr.x, tr.y + y, tw, 1, COLOUR_STALE_ALT);
    if (a != NULL && a->n_stale > 0 && a->n_vms > 0) {
        /* the stale share, over the bottom rows (the best values) */
        int rows = (int)(((uint64_t)tw * a->n_stale + a->n_vms - 1) / a->n_vms);
        int cell = tw >= 12 ? 3 : (tw >= 6 ? 2 : 1);
        for (int y = tw - rows; y < tw; y++)
            for (int x = 0; x < tw; x++)
                if (((x / cell) + (y / cell)) & 1)
                    canvas_put(c, tr.x + x, tr.y + y, COLOUR_STALE_ALT);
    }
    if (a != NULL && a->n_alert > 0) {
        alert_mark(c, tr, 0);
        if (tw >= 16)
            host_alert_count(t, tr, a->n_alert);
    }
    if (tw >= TEXT_NAME_MIN_TILE_PX)
        host_tile_name(t, tr, h);
    canvas_dirty(c, tr.x, tr.y, tr.w, tr.h);
    t->painted++;
}

void tiles_paint_host(struct tiles *t, uint32_t h)
{
    const struct layout_grid *g = t->grid;
    if (!g->host_tiles || h >= g->cap_host_block || h >= t->model->n_hosts)
        return;
    int32_t i = g->host_block[h];
    if (i >= 0 && (size_t)i < g->n_host_tiles)
        paint_host_tile(t, (size_t)i);
}

static void host_label(struct tiles *t, const struct model_host *h, const struct layout_block *b)
{
    const struct layout_result *lr = &t->grid->lr;
    char label[MODEL_HOST_LABEL_MAX];
    model_host_display(t->model, h, label, sizeof(label));
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

/* An empty grid under the alerts-only filter: a calm sentence in the middle. */
static void empty_note(struct tiles *t, const SDL_Rect *area)
{
    static const char note[] = "no VM in alert";
    TTF_Font *f = t->text->font;
    int tw = text_width(f, note);
    text_draw(t->canvas, f, note, area->x + (area->w - tw) / 2,
              area->y + (area->h - t->text->line_h) / 2, COLOUR_TEXT_DIM, area);
}

void tiles_paint_all(struct tiles *t, const SDL_Rect *area)
{
    const struct layout_grid *g = t->grid;
    canvas_fill(t->canvas, area->x, area->y, area->w, area->h, COLOUR_BACKGROUND);
    if (t->trends != NULL)
        trends_hosts_reset(t->trends);
    if (g->n_blocks == 0 && g->n_host_tiles == 0 && t->alerts_only)
        empty_note(t, area);
    t->canvas->painting_all = true;
    for (size_t i = 0; g->host_tiles && i < g->n_host_tiles; i++)
        paint_host_tile(t, i);
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

void tiles_params(const struct text *t, const SDL_Rect *area, struct layout_params *p)
{
    p->area = (struct layout_rect){area->x, area->y, area->w, area->h};
    p->label_px = t->small_h + 2;
    p->label_min_pitch_px = 6;
    p->max_pitch_px = 0; /* tiles as large as the area allows: read across a room */
}

void tiles_place(struct text *t, struct layout_grid *g, const SDL_Rect *area)
{
    struct layout_params p;
    tiles_params(t, area, &p);
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
