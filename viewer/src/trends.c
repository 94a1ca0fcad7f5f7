/* SPDX-License-Identifier: MIT */
/*
 * Sparklines in tiles, host labels and the tooltip's panel (see trends.h). Only
 * tiles of TRENDS_TILE_MIN_PX and more get one, so a wall of 100,000 small tiles
 * pays one comparison per tile painted; the history is read only for what is
 * drawn.
 */
#include "trends.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "kvmgrid/topic.h"
#include "spark.h"

#define SPARK_MAX_W 1024        /* widest sparkline drawn, columns */
#define LINE_COLOUR 0xFFFFFFFFu /* tile sparkline: white ... */
#define LINE_OUTLINE 0xFF000000u /* ... outlined in black: reads on every viridis colour */
#define BAND_AREA 0xFF2C2C38u   /* host trend: the area under its line */
#define PANEL_BG 0xFF202028u    /* the tooltip's background (overlay.c) */
#define PANEL_BOX 0xFF15151Au   /* the panel's sparkline boxes */
#define PANEL_GRID 0xFF3A3A44u  /* their frame and middle line */

static const enum colour_metric tip_metric[TRENDS_TIP_ROWS] = {
    COLOUR_METRIC_CPU, COLOUR_METRIC_MEM, COLOUR_METRIC_DISK, COLOUR_METRIC_NET};
static const enum history_series tip_series[TRENDS_TIP_ROWS] = {
    HISTORY_CPU, HISTORY_MEM, HISTORY_DISK, HISTORY_NET};
static const char *const tip_label[TRENDS_TIP_ROWS] = {"CPU", "MEM", "DISK", "NET"};

void trends_init(struct trends *tr)
{
    memset(tr, 0, sizeof(*tr));
    tr->step = tr->drawn_step = tr->tip_step = -1;
    tr->tip_vm = tr->tip_host = -1;
}

void trends_free(struct trends *tr)
{
    free(tr->bands);
    canvas_free(&tr->tip);
    trends_init(tr);
}

bool trends_frame(struct trends *tr, const struct model *m, uint64_t now_ms)
{
    /* the hosts' trends when the VMs' were turned off (history_max_vms) */
    const struct history *h = m->vm_hist.dropped ? &m->host_hist : &m->vm_hist;
    tr->now_ms = now_ms;
    tr->notice[0] = '\0';
    if (h->steps == 0 || h->step_ms == 0) {
        tr->step = -1;
        return tr->drawn_step != -1;
    }
    tr->step = now_ms > h->start_ms ? (int64_t)((now_ms - h->start_ms) / h->step_ms) : 0;
    double filled = history_filled(h, now_ms);
    tr->seen_ms = UINT64_MAX;
    if (filled < 1.0) {
        /* the history starts with the wall: say how much of the window it holds */
        uint64_t window_ms = h->step_ms * h->steps;
        char have[24], all[24];
        tr->seen_ms = (uint64_t)(filled * (double)window_ms);
        spark_span(tr->seen_ms, have, sizeof(have));
        spark_span(window_ms, all, sizeof(all));
        snprintf(tr->notice, sizeof(tr->notice), "trends: %s of %s", have, all);
    }
    return tr->step != tr->drawn_step;
}

void trends_drawn(struct trends *tr)
{
    tr->drawn_step = tr->step;
}

bool trends_in_tiles(const struct layout_grid *g)
{
    return g->n_blocks > 0 && g->lr.tile_px >= TRENDS_TILE_MIN_PX;
}

/* Reads one series of slot into buf (h->steps bytes up to the frame). False when
 * the history is off or has no such slot. */
static bool read_series(const struct trends *tr, const struct history *h, size_t slot,
                        enum history_series s, uint8_t *buf)
{
    if (tr->step < 0 || h->steps == 0 || slot >= h->cap_slots)
        return false;
    history_read(h, slot, s, tr->now_ms, buf, h->steps);
    return true;
}

/* Columns of steps[0..n) in a w x h box at (x, y): the line (lw rows thick) in
 * line, outlined in outline when it is not 0, the area under it in area when
 * area_of is not NULL (each column's colour from its level). */
static void paint_spark(struct canvas *c, int x, int y, int w, int h, const uint8_t *steps,
                        size_t n, int lw, uint32_t line, uint32_t outline,
                        uint32_t (*area_of)(int level, int h))
{
    struct spark_col col[SPARK_MAX_W];
    if (w > SPARK_MAX_W)
        w = SPARK_MAX_W;
    if (w < 2 || h < 3 || spark_columns(steps, n, w, h - lw + 1, col) == 0)
        return;
    if (area_of != NULL)
        for (int i = 0; i < w; i++)
            if (col[i].level != SPARK_GAP)
                canvas_fill(c, x + i, y + col[i].level, 1, h - col[i].level,
                            area_of(col[i].level, h - lw + 1));
    if (outline != 0)
        for (int i = 0; i < w; i++)
            if (col[i].level != SPARK_GAP)
                canvas_fill(c, x + i - 1, y + col[i].top - 1, 3,
                            col[i].bottom - col[i].top + lw + 2, outline);
    for (int i = 0; i < w; i++)
        if (col[i].level != SPARK_GAP)
            canvas_fill(c, x + i, y + col[i].top, 1, col[i].bottom - col[i].top + lw, line);
}

static enum history_series series_of(enum colour_metric metric, bool *ok)
{
    *ok = true;
    switch (metric) {
    case COLOUR_METRIC_CPU: return HISTORY_CPU;
    case COLOUR_METRIC_MEM: return HISTORY_MEM;
    case COLOUR_METRIC_DISK: return HISTORY_DISK;
    case COLOUR_METRIC_NET: return HISTORY_NET;
    default:
        *ok = false; /* steal has no history */
        return HISTORY_CPU;
    }
}

/* VM slot idx's trend of metric as a tile's line in the box (x, y, w, rows y..bottom). */
static void tile_line(const struct trends *tr, struct canvas *c, const struct model *m,
                      uint32_t idx, enum colour_metric metric, int x, int y, int w, int bottom,
                      int lw)
{
    bool ok;
    enum history_series series = series_of(metric, &ok);
    uint8_t buf[HISTORY_MAX_STEPS];
    if (!ok || bottom - y + 1 < 6 || !read_series(tr, &m->vm_hist, idx, series, buf))
        return;
    paint_spark(c, x, y, w, bottom - y + 1, buf, m->vm_hist.steps, lw, LINE_COLOUR, LINE_OUTLINE,
                NULL);
}

void trends_tile(const struct trends *tr, struct canvas *c, const struct model *m, uint32_t idx,
                 struct layout_rect t, int skip, enum colour_metric metric)
{
    int s = t.w;
    if (s < TRENDS_TILE_MIN_PX)
        return;
    /* Above the centre row, below the top rows: those stay bare (marks,
     * --trace-tile and the picture tests read them); the text is below. */
    int top = s / 6 > 6 ? s / 6 : 6, inset = s / 8;
    if (top < skip + 2)
        top = skip + 2;
    tile_line(tr, c, m, idx, metric, t.x + inset, t.y + top, s - 2 * inset, t.y + s / 2 - 3,
              s >= 96 ? 2 : 1);
}

void trends_quads(const struct trends *tr, struct canvas *c, const struct model *m, uint32_t idx,
                  struct layout_rect t, int skip, int text_top,
                  const enum colour_metric metric[TRENDS_QUADS])
{
    int s = t.w, h = s / 2;
    if (s < TRENDS_TILE_MIN_PX)
        return;
    for (int q = 0; q < TRENDS_QUADS; q++) {
        int qx = (q & 1) ? h : 0, qy = (q & 2) ? h : 0, qs = (q & 1) ? s - h : h;
        int inset = qs / 8, top = qy + (skip > qs / 2 ? skip : qs / 2);
        int bottom = (qy + qs < text_top ? qy + qs : text_top) - 3;
        tile_line(tr, c, m, idx, metric[q], t.x + qx + inset, t.y + top, qs - 2 * inset,
                  t.y + bottom, qs >= 64 ? 2 : 1);
    }
}

static uint32_t band_area(int level, int h)
{
    (void)level;
    (void)h;
    return BAND_AREA;
}

/* Paints band b's host trend (its rectangle cleared first). */
static void paint_band(struct trends *tr, struct canvas *c, const struct model *m,
                       const struct trends_box *bx, uint32_t host)
{
    canvas_fill(c, bx->x, bx->y, bx->w, bx->h, COLOUR_BACKGROUND);
    uint8_t buf[HISTORY_MAX_STEPS];
    if (host >= m->n_hosts || !m->hosts[host].has_metrics ||
        !read_series(tr, &m->host_hist, host, HISTORY_CPU, buf))
        return; /* no host figures: nothing, rather than a flat line that means 0 */
    paint_spark(c, bx->x, bx->y + 1, bx->w, bx->h - 2, buf, m->host_hist.steps, 1, COLOUR_TEXT,
                0, band_area);
}

void trends_host(struct trends *tr, struct canvas *c, const struct model *m, size_t b,
                 uint32_t host, int x0, int x1, int y, int h)
{
    if (b >= tr->cap_bands) {
        size_t n = b + 64;
        struct trends_box *nb = realloc(tr->bands, n * sizeof(*nb));
        if (nb == NULL)
            return; /* no trend for this host: the label stays as it is */
        memset(nb + tr->cap_bands, 0, (n - tr->cap_bands) * sizeof(*nb));
        tr->bands = nb;
        tr->cap_bands = n;
    }
    struct trends_box *bx = &tr->bands[b];
    int gap = h / 2 > 4 ? h / 2 : 4, w = x1 - x0 - gap;
    if (w > 4 * h)
        w = 4 * h; /* a trend, not a chart: as wide as four band heights */
    if (tr->step < 0 || w < TRENDS_HOST_MIN_PX || h < 6) {
        bx->w = 0;
        return;
    }
    *bx = (struct trends_box){x1 - w, y, w, h};
    paint_band(tr, c, m, bx, host);
}

void trends_hosts_reset(struct trends *tr)
{
    if (tr->bands != NULL)
        memset(tr->bands, 0, tr->cap_bands * sizeof(*tr->bands));
}

void trends_hosts(struct trends *tr, struct canvas *c, const struct model *m,
                  const struct layout_grid *g)
{
    size_t n = g->n_blocks < tr->cap_bands ? g->n_blocks : tr->cap_bands;
    for (size_t b = 0; b < n; b++) {
        const struct trends_box *bx = &tr->bands[b];
        if (bx->w == 0 || layout_grid_host(g, m, b) == NULL)
            continue;
        paint_band(tr, c, m, bx, g->order[b]);
        canvas_dirty(c, bx->x, bx->y, bx->w, bx->h);
    }
}

/* ---- the tooltip's panel ------------------------------------------------- */

static uint32_t panel_area(int level, int h)
{
    /* the colour the tiles show for this level, dimmed under the line */
    int v = h > 1 ? (h - 1 - level) * 255 / (h - 1) : 0;
    return colour_dim(colour_viridis(v), 150);
}

/* The value a series shows now: the VM's (host's) current figure. */
static double current(const struct model *m, int32_t vm, int32_t host, int row)
{
    if (vm >= 0)
        return model_vm_value(&m->vms[vm], tip_metric[row]);
    const struct model_host *h = &m->hosts[host];
    if (!h->has_metrics)
        return NAN;
    return row == 0 ? (double)h->cpu_pct : (double)h->mem_used_pct;
}

/* One row: label, box with the sparkline, its scale's ends, the current value. */
static void panel_row(struct trends *tr, const struct text *t, const struct model *m, int32_t vm,
                      int32_t host, int row, int y, int label_w, int box_w, int box_h)
{
    struct canvas *c = &tr->tip;
    TTF_Font *f = t->font_small;
    SDL_Rect all = {0, 0, c->w, c->h};
    int x = 0;
    text_draw(c, f, tip_label[row], x, y + (box_h - t->small_h) / 2, COLOUR_TEXT, &all);
    x += label_w;
    canvas_fill(c, x, y, box_w, box_h, PANEL_BOX);
    canvas_frame_rect(c, x - 1, y - 1, box_w + 2, box_h + 2, 1, PANEL_GRID);
    canvas_fill(c, x, y + box_h / 2, box_w, 1, PANEL_GRID);
    const struct history *h = vm >= 0 ? &m->vm_hist : &m->host_hist;
    uint8_t buf[HISTORY_MAX_STEPS];
    if (read_series(tr, h, (size_t)(vm >= 0 ? vm : host), tip_series[row], buf) &&
        (vm >= 0 || m->hosts[host].has_metrics))
        paint_spark(c, x, y, box_w, box_h, buf, h->steps, 2, LINE_COLOUR, 0, panel_area);
    tr->tip_rows[row] = (struct trends_box){x, y, box_w, box_h};
    x += box_w + 6;
    /* the scale's ends: 100 % / 0, or 1 GB/s / 0 on the log scale */
    char top[24], val[32];
    colour_format(tip_metric[row], colour_metric_max(tip_metric[row]), top, sizeof(top));
    text_draw(c, f, top, x, y - t->small_h / 4, COLOUR_TEXT_DIM, &all);
    text_draw(c, f, "0", x, y + box_h - t->small_h * 3 / 4, COLOUR_TEXT_DIM, &all);
    x += text_width(f, colour_metric_is_rate(tip_metric[row]) ? "1.0 GB/s" : "100 %") + 10;
    colour_format(tip_metric[row], current(m, vm, host, row), val, sizeof(val));
    text_draw(c, f, val, x, y + (box_h - t->small_h) / 2, COLOUR_TEXT, &all);
}

/* No panel (tip.w 0). */
static void tip_drop(struct trends *tr)
{
    canvas_free(&tr->tip);
    memset(&tr->tip, 0, sizeof(tr->tip));
}

void trends_tip(struct trends *tr, const struct text *t, const struct model *m, int32_t vm,
                int32_t host)
{
    if (tr->step < 0 || t->font_small == NULL)
        vm = host = -1;
    if (vm >= 0)
        host = -1;
    /* made again for a new subject, step or sample (the current values) */
    uint64_t seen = vm >= 0 ? m->vms[vm].seen_ms : host >= 0 ? m->hosts[host].seen_ms : 0;
    if (vm == tr->tip_vm && host == tr->tip_host && tr->step == tr->tip_step &&
        seen == tr->tip_seen_ms)
        return;
    tr->tip_seen_ms = seen;
    tr->tip_vm = vm;
    tr->tip_host = host;
    tr->tip_step = tr->step;
    tr->tip_changed = true;
    tr->tip_n_rows = 0;
    if (vm < 0 && host < 0) {
        tip_drop(tr);
        return;
    }
    TTF_Font *f = t->font_small;
    int rows = vm >= 0 ? TRENDS_TIP_ROWS : 2;
    const struct history *h = vm >= 0 ? &m->vm_hist : &m->host_hist;
    int label_w = text_width(f, "DISK") + 8, box_h = t->small_h * 2;
    int box_w = (int)h->steps; /* one column per step when it fits */
    int min_w = (int)(180 * t->scale), max_w = (int)(360 * t->scale);
    box_w = box_w < min_w ? min_w : (box_w > max_w ? max_w : box_w);
    int w = label_w + box_w + 6 + text_width(f, "1.0 GB/s") + 10 + text_width(f, "999.9 MB/s") + 4;
    int pitch = box_h + t->small_h / 2 + 2, head = t->small_h + 4;
    int ph = head + rows * pitch;
    if (tr->tip.w != w || tr->tip.h != ph) {
        tip_drop(tr);
        if (canvas_resize(&tr->tip, w, ph, PANEL_BG) != 0) {
            tip_drop(tr); /* no panel: the tooltip shows its text alone */
            return;
        }
    } else {
        canvas_fill(&tr->tip, 0, 0, w, ph, PANEL_BG);
    }
    /* the span, and how much of it the wall has seen: it starts with the wall */
    char span[24], seen_text[24], head_text[96];
    spark_span(h->step_ms * h->steps, span, sizeof(span));
    if (tr->seen_ms < h->step_ms * h->steps)
        snprintf(head_text, sizeof(head_text), "trends, last %s (%s since the wall started)", span,
                 spark_span(tr->seen_ms, seen_text, sizeof(seen_text)));
    else
        snprintf(head_text, sizeof(head_text), "trends, last %s", span);
    SDL_Rect all = {0, 0, w, ph};
    text_draw(&tr->tip, f, head_text, 0, 0, COLOUR_TEXT_DIM, &all);
    for (int r = 0; r < rows; r++)
        panel_row(tr, t, m, vm, host, r, head + r * pitch + t->small_h / 4, label_w, box_w, box_h);
    tr->tip_n_rows = rows;
}

void trends_dump(const struct trends *tr, FILE *f, const struct model *m,
                 const struct layout_grid *g, struct layout_rect panel_at)
{
    char hn[MODEL_HOST_LABEL_MAX];
    size_t n = g->n_blocks < tr->cap_bands ? g->n_blocks : tr->cap_bands;
    for (size_t b = 0; b < n; b++) {
        const struct trends_box *bx = &tr->bands[b];
        const struct model_host *h = layout_grid_host(g, m, b);
        if (bx->w == 0 || h == NULL || !h->has_metrics)
            continue;
        model_host_printable(m, h, hn, sizeof(hn));
        fprintf(f, "host_trend %s %d %d %d %d\n", hn, bx->x, bx->y, bx->w, bx->h);
    }
    if (panel_at.w == 0)
        return;
    for (int r = 0; r < tr->tip_n_rows; r++) {
        const struct trends_box *bx = &tr->tip_rows[r];
        fprintf(f, "tooltip_trend %s %d %d %d %d\n", colour_metric_key(tip_metric[r]),
                panel_at.x + bx->x, panel_at.y + bx->y, bx->w, bx->h);
    }
}

SDL_Surface *trends_tip_taken(struct trends *tr, bool *changed)
{
    *changed = tr->tip_changed;
    tr->tip_changed = false;
    return tr->tip.w > 0 ? tr->tip.surf : NULL;
}
