/* SPDX-License-Identifier: MIT */
/*
 * The wall's renderer: keeps its own ARGB8888 pixel buffer as the truth of what
 * is on screen, repaints only the tiles the model marked dirty, uploads only the
 * rectangles that changed and copies the texture once per presented frame
 * (docs/PLATFORM.md, frame budget: ~1 ms per frame with 1 % of 100k tiles changing, where
 * SDL_RenderFillRects costs ~11 ms). Static text (host names, legend) is drawn
 * into the buffer once per layout; the header and status lines only when their
 * text changes. It decides nothing about data: counts and staleness come from the
 * model, positions from layout.c, colours from colour.c.
 */
#include "render.h"

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"

#ifndef KG_WALL_FONT
#define KG_WALL_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#endif

#define RELAYOUT_MIN_MS 250  /* while the host set changes, lay out at most 4x/s */
#define DIRTY_MAX_RECTS 4096  /* beyond this, upload one bounding rectangle */
#define TEXT_MAX 640
#define NAME_MIN_TILE_PX 48   /* VM names inside tiles from this tile size */
#define VALUE_MIN_TILE_PX 120 /* and the metric's value too from this one */
#define HOST_BIG_TILE_PX 48   /* host labels grow with tiles from this size */

enum {
    MARK_STALE = 1, MARK_OFFLINE = 2, MARK_PAUSED = 4, MARK_SHUTOFF = 8, MARK_CRASHED = 16,
    MARK_LOAD = 32
};

/* A VM's text as last rendered, both in dark and in light (the other one is the
 * shadow), so that repainting a tile blits instead of rendering text again. The
 * name is re-rendered only when the VM slot's name, the font size or the tile
 * size changed; the value only when its text changed. */
struct tile_text {
    char *name;               /* owned: printable name the surfaces show; NULL: none */
    int name_pt, tile_px;
    SDL_Surface *name_s[2];   /* [0] dark, [1] light */
    char value[32];
    int value_pt;
    SDL_Surface *value_s[2];
};

struct render {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    TTF_Font *font, *font_small;
    /* fonts sized by the layout: host labels, VM names (tiles >= NAME_MIN_TILE_PX),
     * values (tiles >= VALUE_MIN_TILE_PX); 0 pt: not open */
    TTF_Font *font_host, *font_name, *font_value;
    int host_pt, name_pt, value_pt;
    int host_h, name_h, value_h;
    struct tile_text *ttext;  /* per VM slot: cached name and value surfaces */
    size_t cap_ttext;
    char font_path[512];
    int out_w, out_h, win_w, win_h;
    float scale;

    uint32_t *px;            /* out_w * out_h, the picture */
    SDL_Surface *surf;       /* wraps px for text blits */

    SDL_Rect header, grid, legend, status;
    int line_h, small_h;

    enum colour_metric metric;
    enum layout_sort_by sort;
    bool paused, help, fullscreen, connected;
    bool zoomed;
    char zoom[KG_NAME_MAX + 1];
    size_t zoom_len;

    bool need_layout, need_repaint, need_chrome;
    uint64_t layout_gen;
    uint64_t last_layout_ms;
    uint32_t *order;         /* host indices, in block order */
    struct layout_block *blocks;
    size_t n_blocks, cap_blocks;
    int32_t *host_block;     /* host index -> block, -1 when not shown */
    size_t cap_host_block;
    struct layout_sort_key *keys;
    size_t cap_keys;
    uint32_t *tmp;
    size_t cap_tmp;
    struct layout_result lr;
    bool painting_all;

    SDL_Rect *dirty;
    size_t n_dirty, cap_dirty;
    bool dirty_all;

    char header_text[3][TEXT_MAX];
    char status_text[TEXT_MAX];
    uint64_t chrome_values_gen, chrome_ticks;

    int mouse_x, mouse_y;
    bool mouse_in, overlay_changed;
    char tip_text[1024];
    SDL_Texture *tip_tex;
    int tip_w, tip_h;
    SDL_Texture *help_tex;
    int help_w, help_h;

    /* operator mode: the selected VM by name (survives layouts), its frame */
    bool operator_mode, selected, sel_visible;
    char sel_host[KG_NAME_MAX + 1], sel_vm[KG_NAME_MAX + 1];
    size_t sel_host_len, sel_vm_len;
    struct layout_rect sel_rect;
    char op_msg[TEXT_MAX];

    const char *prefix, *broker;
    struct render_stats stats;
};

/* ---- pixels ------------------------------------------------------------ */

static void add_dirty(struct render *r, int x, int y, int w, int h)
{
    if (r->dirty_all || r->painting_all)
        return;
    if (x < 0) {
        w += x;
        x = 0;
    }
    if (y < 0) {
        h += y;
        y = 0;
    }
    if (x + w > r->out_w)
        w = r->out_w - x;
    if (y + h > r->out_h)
        h = r->out_h - y;
    if (w <= 0 || h <= 0)
        return;
    if (r->n_dirty == r->cap_dirty) {
        size_t ncap = r->cap_dirty ? r->cap_dirty * 2 : 256;
        SDL_Rect *nd = realloc(r->dirty, ncap * sizeof(*nd));
        if (nd == NULL) {
            r->dirty_all = true;
            return;
        }
        r->dirty = nd;
        r->cap_dirty = ncap;
    }
    r->dirty[r->n_dirty++] = (SDL_Rect){x, y, w, h};
}

static void fill(struct render *r, int x, int y, int w, int h, uint32_t c)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > r->out_w ? r->out_w : x + w, y1 = y + h > r->out_h ? r->out_h : y + h;
    for (int yy = y0; yy < y1; yy++) {
        uint32_t *row = r->px + (size_t)yy * r->out_w;
        for (int xx = x0; xx < x1; xx++)
            row[xx] = c;
    }
}

static void put(struct render *r, int x, int y, uint32_t c)
{
    if (x >= 0 && y >= 0 && x < r->out_w && y < r->out_h)
        r->px[(size_t)y * r->out_w + x] = c;
}

static void frame_rect(struct render *r, int x, int y, int w, int h, int t, uint32_t c)
{
    fill(r, x, y, w, t, c);
    fill(r, x, y + h - t, w, t, c);
    fill(r, x, y, t, h, c);
    fill(r, x + w - t, y, t, h, c);
}

/* Draws UTF-8 text into the buffer at (x, y), clipped to clip (may be NULL).
 * Returns the text width in pixels. */
static int text(struct render *r, TTF_Font *f, const char *s, int x, int y, uint32_t colour,
                const SDL_Rect *clip)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    SDL_Color c = {(Uint8)(colour >> 16), (Uint8)(colour >> 8), (Uint8)colour, 255};
    SDL_Surface *t = TTF_RenderUTF8_Blended(f, s, c);
    if (t == NULL)
        return 0;
    SDL_SetClipRect(r->surf, clip);
    SDL_Rect dst = {x, y, 0, 0};
    SDL_BlitSurface(t, NULL, r->surf, &dst);
    SDL_SetClipRect(r->surf, NULL);
    int w = t->w;
    SDL_FreeSurface(t);
    return w;
}

static int text_width(TTF_Font *f, const char *s)
{
    int w = 0, h = 0;
    if (s[0] == '\0' || TTF_SizeUTF8(f, s, &w, &h) != 0)
        return 0;
    return w;
}

/* ---- text inside tiles ------------------------------------------------------ */

#define TILE_TEXT_DARK 0xFF000000u
#define TILE_TEXT_LIGHT 0xFFFFFFFFu

/* Space kept free between a tile's edges and its text. */
static int tile_inset(int t)
{
    return t / 24 > 2 ? t / 24 : 2;
}

/* First row (relative to the tile's top) where text may be drawn: names and values
 * stay in the bottom 40 % of a tile, so its top rows and centre always show the
 * bare colour and marks (the picture test samples there; so does --trace-tile). */
static int tile_text_top(const struct render *r)
{
    int t = r->lr.tile_px;
    if (r->name_pt <= 0)
        return t;
    return t - tile_inset(t) - r->name_h - (r->value_pt > 0 ? r->value_h : 0);
}

static void tile_text_clear(struct tile_text *e)
{
    for (int i = 0; i < 2; i++) {
        if (e->name_s[i])
            SDL_FreeSurface(e->name_s[i]);
        if (e->value_s[i])
            SDL_FreeSurface(e->value_s[i]);
        e->name_s[i] = e->value_s[i] = NULL;
    }
    free(e->name);
    e->name = NULL;
    e->name_pt = e->tile_px = e->value_pt = 0;
    e->value[0] = '\0';
}

static void tile_text_free_all(struct render *r)
{
    for (size_t i = 0; i < r->cap_ttext; i++)
        tile_text_clear(&r->ttext[i]);
    free(r->ttext);
    r->ttext = NULL;
    r->cap_ttext = 0;
}

static void close_font(TTF_Font **f, int *pt, int *h)
{
    if (*f)
        TTF_CloseFont(*f);
    *f = NULL;
    *pt = *h = 0;
}

/* Opens *f at want_pt or smaller so that its height is at most max_h; keeps it when
 * it is open at that size already. False (font closed) when nothing fits. */
static bool open_fit(struct render *r, TTF_Font **f, int *pt, int *h, int want_pt, int max_h)
{
    for (int tries = 0; tries < 6 && want_pt >= 6; tries++) {
        if (*f == NULL || *pt != want_pt) {
            close_font(f, pt, h);
            *f = TTF_OpenFont(r->font_path, want_pt);
            if (*f == NULL)
                return false;
            *pt = want_pt;
            *h = TTF_FontHeight(*f);
        }
        if (*h <= max_h)
            return true;
        int next = want_pt * max_h / (*h > 0 ? *h : 1);
        want_pt = next < want_pt ? next : want_pt - 1;
    }
    close_font(f, pt, h);
    return false;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Chooses the name and value fonts for tiles of t px (after a layout). */
static void size_tile_fonts(struct render *r)
{
    int t = r->lr.tile_px;
    if (t < NAME_MIN_TILE_PX) {
        close_font(&r->font_name, &r->name_pt, &r->name_h);
        close_font(&r->font_value, &r->value_pt, &r->value_h);
        tile_text_free_all(r); /* small tiles: no text, no cache */
        return;
    }
    int budget = t - (3 * t + 4) / 5 - tile_inset(t); /* bottom 40 % minus the inset */
    int name_pt = clampi(t / 9, 8, (int)(40 * r->scale)); /* ~14 characters fit */
    if (!open_fit(r, &r->font_name, &r->name_pt, &r->name_h, name_pt, budget)) {
        close_font(&r->font_value, &r->value_pt, &r->value_h);
        return;
    }
    if (t < VALUE_MIN_TILE_PX ||
        !open_fit(r, &r->font_value, &r->value_pt, &r->value_h,
                  clampi(t / 4, 8, (int)(96 * r->scale)), budget - r->name_h))
        close_font(&r->font_value, &r->value_pt, &r->value_h);
}

/* Longest start of s (whole UTF-8 characters) that fits avail px, with "…" when cut. */
static void fit_text(TTF_Font *f, const char *s, int avail, char *out, size_t size)
{
    int w = 0, h = 0;
    snprintf(out, size, "%s", s);
    if (TTF_SizeUTF8(f, out, &w, &h) != 0 || w <= avail)
        return;
    size_t lo = 0, hi = strlen(out);
    while (lo < hi) { /* largest n with width(s[0..n) + "…") <= avail */
        size_t mid = (lo + hi + 1) / 2;
        snprintf(out, size, "%.*s\xE2\x80\xA6", (int)mid, s);
        if (TTF_SizeUTF8(f, out, &w, &h) == 0 && w <= avail)
            lo = mid;
        else
            hi = mid - 1;
    }
    while (lo > 0 && ((unsigned char)s[lo] & 0xC0) == 0x80)
        lo--; /* never cut a character in two */
    if (lo == 0)
        out[0] = '\0';
    else
        snprintf(out, size, "%.*s\xE2\x80\xA6", (int)lo, s);
}

static bool render_pair(TTF_Font *f, const char *s, SDL_Surface *out[2])
{
    SDL_Color dark = {0, 0, 0, 255}, light = {255, 255, 255, 255};
    if (s[0] == '\0')
        return false;
    out[0] = TTF_RenderUTF8_Blended(f, s, dark);
    out[1] = TTF_RenderUTF8_Blended(f, s, light);
    if (out[0] == NULL || out[1] == NULL) {
        if (out[0])
            SDL_FreeSurface(out[0]);
        if (out[1])
            SDL_FreeSurface(out[1]);
        out[0] = out[1] = NULL;
        return false;
    }
    return true;
}

/* 0: dark text, 1: light text, for a tile painted in c with marks. The other one
 * is drawn 1+ px down-right as a shadow, so text stays legible on every colour. */
static int text_variant(uint32_t c, unsigned marks)
{
    if (marks & (MARK_SHUTOFF | MARK_CRASHED))
        return 1; /* hollow square: the dark background shows */
    if (marks & MARK_OFFLINE)
        c = colour_dim(c, 110);
    unsigned lum = (2126u * ((c >> 16) & 0xFF) + 7152u * ((c >> 8) & 0xFF) + 722u * (c & 0xFF)) / 10000u;
    if (marks & (MARK_STALE | MARK_OFFLINE))
        lum /= 2; /* every other cell or row is black */
    return lum >= 128 ? 0 : 1;
}

static void blit_pair(struct render *r, SDL_Surface *s[2], int variant, int x, int y, int off,
                      SDL_Rect *clip)
{
    SDL_SetClipRect(r->surf, clip);
    SDL_Rect d = {x + off, y + off, 0, 0};
    SDL_BlitSurface(s[1 - variant], NULL, r->surf, &d);
    d = (SDL_Rect){x, y, 0, 0};
    SDL_BlitSurface(s[variant], NULL, r->surf, &d);
    SDL_SetClipRect(r->surf, NULL);
}

/* The VM's name (and, on large tiles, its value) in the bottom of its tile. Text is
 * rendered only when it changed (cache per VM slot); otherwise blitted. */
static void draw_tile_text(struct render *r, uint32_t idx, const struct model_vm *v,
                           struct layout_rect tr, uint32_t c, unsigned marks, double value)
{
    if (r->name_pt <= 0 || r->font_name == NULL)
        return;
    if (idx >= r->cap_ttext) {
        size_t ncap = r->cap_ttext ? r->cap_ttext : 64;
        while (ncap <= idx)
            ncap *= 2;
        struct tile_text *nt = realloc(r->ttext, ncap * sizeof(*nt));
        if (nt == NULL)
            return;
        memset(nt + r->cap_ttext, 0, (ncap - r->cap_ttext) * sizeof(*nt));
        r->ttext = nt;
        r->cap_ttext = ncap;
    }
    struct tile_text *e = &r->ttext[idx];
    int t = tr.w, inset = tile_inset(t);
    char name[KG_NAME_ESC_MAX + 1];
    model_printable(v->name, v->name_len, name, sizeof(name));
    if (e->name == NULL || e->name_pt != r->name_pt || e->tile_px != t || strcmp(e->name, name) != 0) {
        tile_text_clear(e);
        char shown[KG_NAME_ESC_MAX + 4];
        fit_text(r->font_name, name, t - 2 * inset, shown, sizeof(shown));
        e->name = strdup(name);
        if (e->name == NULL)
            return;
        e->name_pt = r->name_pt;
        e->tile_px = t;
        render_pair(r->font_name, shown, e->name_s); /* NULL surfaces: nothing fits */
    }
    int variant = text_variant(c, marks);
    int top = tile_text_top(r);
    SDL_Rect clip = {tr.x + 2, tr.y + top, t - 4, t - top - 2};
    int name_y = tr.y + t - inset - r->name_h;
    if (e->name_s[0] != NULL)
        blit_pair(r, e->name_s, variant, tr.x + (t - e->name_s[0]->w) / 2, name_y,
                  r->name_pt >= 16 ? r->name_pt / 16 : 1, &clip);
    if (r->value_pt <= 0 || r->font_value == NULL || isnan(value) ||
        (marks & (MARK_SHUTOFF | MARK_CRASHED)))
        return;
    char val[32];
    colour_format(r->metric, value, val, sizeof(val));
    if (e->value_pt != r->value_pt || strcmp(e->value, val) != 0) {
        for (int i = 0; i < 2; i++) {
            if (e->value_s[i])
                SDL_FreeSurface(e->value_s[i]);
            e->value_s[i] = NULL;
        }
        char shown[40];
        fit_text(r->font_value, val, t - 2 * inset, shown, sizeof(shown));
        memcpy(e->value, val, sizeof(val));
        e->value_pt = r->value_pt;
        render_pair(r->font_value, shown, e->value_s);
    }
    if (e->value_s[0] != NULL)
        blit_pair(r, e->value_s, variant, tr.x + (t - e->value_s[0]->w) / 2, name_y - r->value_h,
                  r->value_pt >= 16 ? r->value_pt / 16 : 1, &clip);
}

/* ---- tiles ------------------------------------------------------------- */

/* text_top: first row (relative) where the tile's text goes; the paused bars end
 * above it. tr.w for none. */
static void paint_tile(struct render *r, struct layout_rect tr, uint32_t c, unsigned marks,
                       int text_top)
{
    int t = tr.w;
    if (marks & (MARK_SHUTOFF | MARK_CRASHED)) {
        uint32_t edge = (marks & MARK_CRASHED) ? COLOUR_OFFLINE : COLOUR_TEXT_DIM;
        if (t <= 2) {
            fill(r, tr.x, tr.y, t, t, colour_dim(edge, 110));
        } else {
            /* hollow square: an empty frame, readable without colour */
            fill(r, tr.x, tr.y, t, t, COLOUR_BACKGROUND);
            frame_rect(r, tr.x, tr.y, t, t, t >= 12 ? 2 : 1, edge);
        }
    } else {
        if (marks & MARK_OFFLINE)
            c = colour_dim(c, 110);
        fill(r, tr.x, tr.y, t, t, c);
        if (marks & MARK_OFFLINE) {
            /* horizontal stripes: every other row dark */
            for (int y = 1; y < t; y += 2)
                fill(r, tr.x, tr.y + y, t, 1, COLOUR_STALE_ALT);
        }
        if (marks & MARK_STALE) {
            int cell = t >= 12 ? 3 : (t >= 6 ? 2 : 1);
            for (int y = 0; y < t; y++)
                for (int x = 0; x < t; x++)
                    if (((x / cell) + (y / cell)) & 1)
                        put(r, tr.x + x, tr.y + y, COLOUR_STALE_ALT);
        }
        if (marks & MARK_PAUSED) {
            if (t >= 6) {
                int bw = t / 6 > 0 ? t / 6 : 1, sp = t / 10 > 0 ? t / 10 : 1;
                int y0 = t / 4, bh = t - 2 * (t / 4);
                if (y0 + bh > text_top - 2 && text_top - 2 - y0 > t / 4)
                    bh = text_top - 2 - y0; /* still across the centre */
                fill(r, tr.x + t / 2 - sp - bw, tr.y + y0, bw, bh, COLOUR_MARK);
                fill(r, tr.x + t / 2 + sp, tr.y + y0, bw, bh, COLOUR_MARK);
            } else {
                fill(r, tr.x + t / 2, tr.y, 1, t, COLOUR_MARK);
            }
        }
    }
    if (marks & MARK_LOAD) {
        int s = t >= 4 ? (t / 3 > 2 ? t / 3 : 2) : 1;
        for (int y = 0; y < s; y++)
            fill(r, tr.x + t - s + y, tr.y + y, s - y, 1, COLOUR_MARK);
    }
}

static void paint_vm(struct render *r, struct model *m, uint32_t idx)
{
    const struct model_vm *v = &m->vms[idx];
    if (!(v->flags & MODEL_VM_LIVE) || v->pos < 0 || v->host >= m->n_hosts ||
        v->host >= r->cap_host_block)
        return;
    int32_t b = r->host_block[v->host];
    if (b < 0 || (size_t)b >= r->n_blocks)
        return;
    const struct model_host *h = &m->hosts[v->host];
    struct layout_rect tr = layout_tile_rect(&r->lr, &r->blocks[b], (uint32_t)v->pos);
    unsigned marks = 0;
    if (h->status == MODEL_HOST_OFFLINE)
        marks |= MARK_OFFLINE;
    if (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE))
        marks |= MARK_STALE;
    switch (v->state) {
    case KG_VM_PAUSED:
    case KG_VM_PMSUSPENDED:
        marks |= MARK_PAUSED;
        break;
    case KG_VM_SHUTOFF:
    case KG_VM_SHUTDOWN:
        marks |= MARK_SHUTOFF;
        break;
    case KG_VM_CRASHED:
        marks |= MARK_CRASHED;
        break;
    default:
        break;
    }
    if (model_vm_load_running(m, v))
        marks |= MARK_LOAD;
    double value = model_vm_value(v, r->metric);
    uint32_t c = colour_of(r->metric, value);
    paint_tile(r, tr, c, marks, tile_text_top(r));
    draw_tile_text(r, idx, v, tr, c, marks, value);
    add_dirty(r, tr.x, tr.y, tr.w, tr.h);
    r->stats.tiles_painted++;
}

/* ---- layout -------------------------------------------------------------- */

static bool ensure(void **p, size_t *cap, size_t want, size_t elem)
{
    if (*cap >= want)
        return true;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < want)
        ncap *= 2;
    void *np = realloc(*p, ncap * elem);
    if (np == NULL)
        return false;
    *p = np;
    *cap = ncap;
    return true;
}

static void host_label(const struct model_host *h, char *buf, size_t size)
{
    char name[KG_NAME_ESC_MAX + 1];
    model_printable(h->name, h->name_len, name, sizeof(name));
    snprintf(buf, size, "%s", name);
}

static void draw_host_chrome(struct render *r, const struct model_host *h,
                             const struct layout_block *b)
{
    char label[KG_NAME_ESC_MAX + 32];
    host_label(h, label, sizeof(label));
    bool offline = h->status == MODEL_HOST_OFFLINE;
    if (r->lr.labels) {
        TTF_Font *f = r->font_host ? r->font_host : r->font_small;
        SDL_Rect clip = {b->rect.x, b->rect.y, b->rect.w, r->lr.label_h_px};
        int w = text(r, f, label, b->rect.x, b->rect.y, COLOUR_TEXT, &clip);
        const char *tag = offline ? " OFFLINE" : (h->stale ? " stale" : (!h->libvirt_ok ? " libvirt?" : ""));
        text(r, f, tag, b->rect.x + w, b->rect.y,
             offline ? COLOUR_OFFLINE : COLOUR_TEXT_DIM, &clip);
    }
    if (offline) {
        int g = r->lr.block_gap_px >= 4 ? 2 : 1;
        frame_rect(r, b->rect.x - g, b->rect.y - g, b->rect.w + 2 * g, b->rect.h + 2 * g, g,
                   COLOUR_OFFLINE);
    }
}

/* The word OFFLINE over an offline host's tiles when there is no label band. */
static void draw_offline_word(struct render *r, const struct layout_block *b)
{
    int tw = text_width(r->font_small, "OFFLINE");
    if (r->lr.labels || tw == 0 || b->rect.w < tw + 2 || b->rect.h < r->small_h)
        return;
    int x = b->rect.x + (b->rect.w - tw) / 2, y = b->rect.y + (b->rect.h - r->small_h) / 2;
    fill(r, x - 1, y, tw + 2, r->small_h, COLOUR_BACKGROUND);
    SDL_Rect clip = {b->rect.x, b->rect.y, b->rect.w, b->rect.h};
    text(r, r->font_small, "OFFLINE", x, y, COLOUR_OFFLINE, &clip);
}

static void paint_all(struct render *r, struct model *m)
{
    fill(r, r->grid.x, r->grid.y, r->grid.w, r->grid.h, COLOUR_BACKGROUND);
    r->painting_all = true;
    for (size_t i = 0; i < r->n_blocks; i++) {
        const struct model_host *h = &m->hosts[r->order[i]];
        draw_host_chrome(r, h, &r->blocks[i]);
        for (uint32_t j = 0; j < h->n_vms; j++)
            paint_vm(r, m, h->vms[j]);
        if (h->status == MODEL_HOST_OFFLINE)
            draw_offline_word(r, &r->blocks[i]);
    }
    r->painting_all = false;
    add_dirty(r, r->grid.x, r->grid.y, r->grid.w, r->grid.h);
}

static int do_layout(struct render *r, struct model *m, uint64_t now_ms)
{
    uint32_t n = m->n_hosts;
    if (!ensure((void **)&r->keys, &r->cap_keys, n + 1, sizeof(*r->keys)) ||
        !ensure((void **)&r->order, &r->cap_blocks, n + 1, sizeof(*r->order)) ||
        !ensure((void **)&r->host_block, &r->cap_host_block, n + 1, sizeof(*r->host_block)))
        return KG_ENOMEM;
    /* cap_blocks tracks order; blocks share it */
    struct layout_block *nb = realloc(r->blocks, r->cap_blocks * sizeof(*nb));
    if (nb == NULL)
        return KG_ENOMEM;
    r->blocks = nb;

    int32_t zhost = -1;
    if (r->zoomed) {
        zhost = model_find_host(m, r->zoom, r->zoom_len);
        if (zhost < 0)
            r->zoomed = false; /* the host went away */
    }
    uint32_t nk = 0;
    uint32_t max_vms = 0;
    for (size_t i = 0; i < r->cap_host_block; i++)
        r->host_block[i] = -1; /* hosts created after this layout map to no block */
    for (uint32_t i = 0; i < n; i++) {
        struct model_host *h = &m->hosts[i];
        for (uint32_t j = 0; j < h->n_vms; j++)
            m->vms[h->vms[j]].pos = -1;
        if (h->n_vms > max_vms)
            max_vms = h->n_vms;
    }
    /* host keys: tmp maps key index -> host index */
    if (!ensure((void **)&r->tmp, &r->cap_tmp, (n > max_vms ? n : max_vms) * 2 + 2, sizeof(*r->tmp)))
        return KG_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        if (zhost >= 0 && i != (uint32_t)zhost)
            continue;
        struct model_host *h = &m->hosts[i];
        r->keys[nk] = (struct layout_sort_key){h->name, h->name_len, model_host_load(m, h)};
        r->tmp[nk++] = i;
    }
    uint32_t *sorted = r->tmp + nk;
    if (layout_sort(r->keys, nk, r->sort, sorted) != 0)
        return KG_ENOMEM;
    for (uint32_t i = 0; i < nk; i++)
        r->order[i] = r->tmp[sorted[i]];
    r->n_blocks = nk;

    /* VMs inside each shown host: natural order by name, in place */
    if (!ensure((void **)&r->keys, &r->cap_keys, max_vms + 1, sizeof(*r->keys)))
        return KG_ENOMEM;
    uint32_t *counts = r->tmp; /* reuse: the host order is in r->order now */
    for (uint32_t i = 0; i < nk; i++) {
        struct model_host *h = &m->hosts[r->order[i]];
        for (uint32_t j = 0; j < h->n_vms; j++) {
            const struct model_vm *v = &m->vms[h->vms[j]];
            r->keys[j] = (struct layout_sort_key){v->name, v->name_len, 0};
        }
        uint32_t *vo = r->tmp + max_vms + 1; /* n_vms <= max_vms */
        if (h->n_vms > 1) {
            if (layout_sort(r->keys, h->n_vms, LAYOUT_SORT_NAME, vo) != 0)
                return KG_ENOMEM;
            uint32_t *copy = r->tmp; /* scratch */
            for (uint32_t j = 0; j < h->n_vms; j++)
                copy[j] = h->vms[vo[j]];
            memcpy(h->vms, copy, h->n_vms * sizeof(*copy));
        }
        for (uint32_t j = 0; j < h->n_vms; j++)
            m->vms[h->vms[j]].pos = (int32_t)j;
    }
    for (uint32_t i = 0; i < nk; i++)
        counts[i] = m->hosts[r->order[i]].n_vms;

    struct layout_params p;
    p.area = (struct layout_rect){r->grid.x, r->grid.y, r->grid.w, r->grid.h};
    p.label_px = r->small_h + 2;
    p.label_min_pitch_px = 6;
    p.max_pitch_px = 0; /* tiles as large as the area allows: read across a room */
    layout_compute(&p, counts, nk, r->blocks, &r->lr); /* KG_ERANGE: drawn clipped */
    /* Large tiles get larger host labels: lay out again with their band. */
    int host_pt = clampi(r->lr.tile_px / 8, (int)lroundf(11.0f * r->scale), (int)(28 * r->scale));
    if (r->lr.labels && r->lr.tile_px >= HOST_BIG_TILE_PX &&
        host_pt > (int)lroundf(11.0f * r->scale) &&
        open_fit(r, &r->font_host, &r->host_pt, &r->host_h, host_pt, r->lr.tile_px / 3)) {
        p.label_px = TTF_FontLineSkip(r->font_host) + 2;
        layout_compute(&p, counts, nk, r->blocks, &r->lr);
    } else {
        close_font(&r->font_host, &r->host_pt, &r->host_h);
    }
    size_tile_fonts(r);
    for (uint32_t i = 0; i < nk; i++)
        r->host_block[r->order[i]] = (int32_t)i;

    paint_all(r, m);
    r->layout_gen = m->structure_gen;
    r->last_layout_ms = now_ms;
    r->need_layout = false;
    r->need_repaint = false;
    m->full_repaint = false;
    const uint32_t *list;
    model_take_dirty(m, &list);
    r->stats.layouts++;
    return 0;
}

/* ---- chrome: header, legend, status --------------------------------------- */

static void draw_legend(struct render *r)
{
    SDL_Rect L = r->legend;
    fill(r, L.x, L.y, L.w, L.h, COLOUR_BACKGROUND);
    int x = L.x + 6;
    x += text(r, r->font, colour_metric_label(r->metric), x, L.y, COLOUR_TEXT, &L) + 10;
    int bar_w = (int)(256 * r->scale), bar_h = r->line_h * 2 / 3;
    if (bar_w > L.w / 3)
        bar_w = L.w / 3;
    int by = L.y + (r->line_h - bar_h) / 2;
    for (int i = 0; i < bar_w; i++)
        fill(r, x + i, by, 1, bar_h, colour_viridis(bar_w > 1 ? i * 255 / (bar_w - 1) : 0));
    double pos[8];
    const char *labels[8];
    size_t n = colour_ticks(r->metric, pos, labels, 8);
    for (size_t i = 0; i < n; i++) {
        int tx = x + (int)lround(pos[i] * (bar_w - 1));
        fill(r, tx, by + bar_h, 1, 3, COLOUR_TEXT);
        int tw = text_width(r->font_small, labels[i]);
        int lx = tx - tw / 2;
        if (i == 0)
            lx = tx;
        text(r, r->font_small, labels[i], lx, L.y + r->line_h, COLOUR_TEXT_DIM, &L);
    }
    x += bar_w + 24;
    /* the marks, each drawn the way tiles show them */
    int s = r->line_h - 2 > 8 ? r->line_h - 2 : 8;
    struct {
        uint32_t c;
        unsigned marks;
        const char *label;
    } sw[] = {
        {colour_viridis(160), MARK_STALE, "stale"},
        {colour_viridis(160), MARK_OFFLINE, "host offline"},
        {colour_viridis(160), MARK_PAUSED, "paused"},
        {0, MARK_SHUTOFF, "shut off"},
        {0, MARK_CRASHED, "crashed"},
        {colour_viridis(160), MARK_LOAD, "load running"},
        {COLOUR_NA, 0, "no data"},
    };
    for (size_t i = 0; i < sizeof(sw) / sizeof(sw[0]); i++) {
        if (x + s + 8 > L.x + L.w)
            break;
        paint_tile(r, (struct layout_rect){x, L.y + 1, s, s}, sw[i].c, sw[i].marks, s);
        if (sw[i].marks & MARK_OFFLINE)
            frame_rect(r, x - 2, L.y - 1, s + 4, s + 4, 1, COLOUR_OFFLINE);
        x += s + 5;
        x += text(r, r->font_small, sw[i].label, x, L.y + (s - r->small_h) / 2 + 1, COLOUR_TEXT_DIM, &L) + 14;
    }
    add_dirty(r, L.x, L.y, L.w, L.h);
}

static void vm_display_name(const struct model *m, const struct model_vm *v, char *buf, size_t size)
{
    char hn[KG_NAME_ESC_MAX + 1], vn[KG_NAME_ESC_MAX + 1];
    const struct model_host *h = &m->hosts[v->host];
    model_printable(h->name, h->name_len, hn, sizeof(hn));
    model_printable(v->name, v->name_len, vn, sizeof(vn));
    snprintf(buf, size, "%.60s/%.60s", hn, vn);
}

static void compose_chrome(struct render *r, const struct model *m, char h[3][TEXT_MAX],
                           char *status)
{
    const struct model_counts *c = &m->counts;
    char zoom[KG_NAME_ESC_MAX + 16] = "";
    if (r->zoomed) {
        char zn[KG_NAME_ESC_MAX + 1];
        model_printable(r->zoom, r->zoom_len, zn, sizeof(zn));
        snprintf(zoom, sizeof(zoom), "   zoom: %.60s (Esc)", zn);
    }
    snprintf(h[0], TEXT_MAX, "kvmgrid-wall   %s @ %s   %s   metric: %s   sort: %s%s%s   h: help",
             r->prefix ? r->prefix : KG_PREFIX_DEFAULT, r->broker ? r->broker : "-",
             r->connected ? "connected" : "NOT CONNECTED", colour_metric_label(r->metric),
             r->sort == LAYOUT_SORT_NAME ? "name" : "load", r->paused ? "   PAUSED" : "", zoom);
    char ts[40] = "none";
    if (m->newest_ts_ms > 0)
        kg_clock_format_utc(m->newest_ts_ms, ts, sizeof(ts));
    snprintf(h[1], TEXT_MAX,
             "hosts %u: %u online, %u offline, %u stale   VMs %u: %u online, %u offline, %u stale"
             "   (running %u, paused %u, shut off %u)   newest sample %s",
             c->hosts, c->hosts_online, c->hosts_offline, c->hosts_stale, c->vms, c->vms_online,
             c->vms_offline, c->vms_stale, c->vms_running, c->vms_paused, c->vms_shutoff, ts);
    size_t off = (size_t)snprintf(h[2], TEXT_MAX, "hottest by %s:", colour_metric_label(r->metric));
    for (int i = 0; i < MODEL_HOTTEST && m->hottest[i] >= 0 && off < TEXT_MAX; i++) {
        const struct model_vm *v = &m->vms[m->hottest[i]];
        char name[130], val[32];
        vm_display_name(m, v, name, sizeof(name));
        colour_format(r->metric, model_vm_value(v, r->metric), val, sizeof(val));
        off += (size_t)snprintf(h[2] + off, TEXT_MAX - off, "   %s %s", name, val);
    }
    if (m->hottest[0] < 0 && off < TEXT_MAX)
        snprintf(h[2] + off, TEXT_MAX - off, "   -");
    uint64_t bad = model_bad_total(m);
    off = 0;
    if (r->operator_mode) {
        char sel[KG_NAME_ESC_MAX * 2 + 8] = "none (click a tile or use the arrow keys)";
        if (r->selected) {
            char hn[KG_NAME_ESC_MAX + 1], vn[KG_NAME_ESC_MAX + 1];
            model_printable(r->sel_host, r->sel_host_len, hn, sizeof(hn));
            model_printable(r->sel_vm, r->sel_vm_len, vn, sizeof(vn));
            snprintf(sel, sizeof(sel), "%.60s/%.60s", hn, vn);
        }
        off = (size_t)snprintf(status, TEXT_MAX,
                               "OPERATOR  %.200s   selected %s (F5 cpu 80%%, F6 mem 256 MiB, "
                               "F7 disk 20 MB/s, F8 stop)   ",
                               r->op_msg[0] ? r->op_msg : "ready", sel);
        if (off >= TEXT_MAX)
            off = TEXT_MAX - 1;
    }
    off += (size_t)snprintf(status + off, TEXT_MAX - off, "malformed payloads: %llu", (unsigned long long)bad);
    if (bad > 0 && off < TEXT_MAX) {
        for (int i = 0; i < MODEL_BAD_COUNT && off < TEXT_MAX; i++)
            off += (size_t)snprintf(status + off, TEXT_MAX - off, "%s %s %llu", i ? "," : " (",
                                    model_bad_name((enum model_bad)i), (unsigned long long)m->bad[i]);
        if (off < TEXT_MAX)
            off += (size_t)snprintf(status + off, TEXT_MAX - off, ")   last: %.160s", m->last_bad);
    }
    if (model_dropped_total(m) > 0 && off < TEXT_MAX)
        off += (size_t)snprintf(status + off, TEXT_MAX - off,
                                "   DROPPED over the caps: %llu for new hosts (max_hosts %u), "
                                "%llu for new VMs (max_vms %u)",
                                (unsigned long long)m->dropped_hosts, m->max_hosts,
                                (unsigned long long)m->dropped_vms, m->max_vms);
    if (off < TEXT_MAX)
        snprintf(status + off, TEXT_MAX - off, "   applied %llu, removed %llu, ignored %llu",
                 (unsigned long long)m->applied, (unsigned long long)m->removed,
                 (unsigned long long)m->ignored);
}

static void update_chrome(struct render *r, const struct model *m, bool force)
{
    char h[3][TEXT_MAX], status[TEXT_MAX];
    compose_chrome(r, m, h, status);
    for (int i = 0; i < 3; i++) {
        if (!force && strcmp(h[i], r->header_text[i]) == 0)
            continue;
        memcpy(r->header_text[i], h[i], TEXT_MAX);
        SDL_Rect line = {r->header.x, r->header.y + i * r->line_h, r->header.w, r->line_h};
        fill(r, line.x, line.y, line.w, line.h, COLOUR_BACKGROUND);
        text(r, r->font, h[i], line.x + 6, line.y, i == 0 ? COLOUR_TEXT : COLOUR_TEXT_DIM, &line);
        add_dirty(r, line.x, line.y, line.w, line.h);
    }
    if (force || strcmp(status, r->status_text) != 0) {
        memcpy(r->status_text, status, TEXT_MAX);
        SDL_Rect S = r->status;
        fill(r, S.x, S.y, S.w, S.h, COLOUR_BACKGROUND);
        bool trouble = model_bad_total(m) > 0 || model_dropped_total(m) > 0;
        text(r, r->font_small, status, S.x + 6, S.y, trouble ? COLOUR_OFFLINE : COLOUR_TEXT_DIM, &S);
        add_dirty(r, S.x, S.y, S.w, S.h);
    }
}

/* ---- overlays (drawn by the renderer over the buffer, not into it) --------- */

static SDL_Texture *make_text_texture(struct render *r, const char *s, int wrap, int *w, int *h)
{
    SDL_Color c = {0xE8, 0xE8, 0xE8, 255};
    SDL_Surface *t = TTF_RenderUTF8_Blended_Wrapped(r->font, s, c, (Uint32)wrap);
    if (t == NULL)
        return NULL;
    SDL_Texture *tex = SDL_CreateTextureFromSurface(r->ren, t);
    *w = t->w;
    *h = t->h;
    SDL_FreeSurface(t);
    return tex;
}

static void fmt_kib(float kib, char *buf, size_t size)
{
    if (isnan(kib))
        snprintf(buf, size, "n/a");
    else if (kib >= 1024.0f * 1024.0f)
        snprintf(buf, size, "%.2f GiB", (double)kib / (1024.0 * 1024.0));
    else
        snprintf(buf, size, "%.1f MiB", (double)kib / 1024.0);
}

static void fmt_num(float v, const char *unit, char *buf, size_t size)
{
    if (isnan(v))
        snprintf(buf, size, "n/a");
    else
        snprintf(buf, size, "%.1f%s", (double)v, unit);
}

/* Tooltip text of the VM under the mouse, or "" (lock held). */
static void tooltip_text(struct render *r, const struct model *m, uint64_t now_ms, char *out,
                         size_t size)
{
    out[0] = '\0';
    if (!r->mouse_in)
        return;
    for (size_t b = 0; b < r->n_blocks; b++) {
        const struct layout_block *blk = &r->blocks[b];
        if (r->mouse_x < blk->rect.x || r->mouse_y < blk->rect.y ||
            r->mouse_x >= blk->rect.x + blk->rect.w || r->mouse_y >= blk->rect.y + blk->rect.h)
            continue;
        const struct model_host *h = &m->hosts[r->order[b]];
        int t = layout_tile_at(&r->lr, blk, r->mouse_x, r->mouse_y);
        char hn[KG_NAME_ESC_MAX + 1];
        model_printable(h->name, h->name_len, hn, sizeof(hn));
        const char *hs = h->status == MODEL_HOST_OFFLINE ? "OFFLINE"
                         : h->status == MODEL_HOST_ONLINE ? (h->stale ? "online, stale" : "online")
                                                          : "status unknown";
        if (t < 0 || (uint32_t)t >= h->n_vms) {
            char cpu[32];
            fmt_num(h->cpu_pct, " %", cpu, sizeof(cpu));
            snprintf(out, size, "host %.80s (%s)\nVMs %u   CPU %s   libvirt %s", hn, hs, h->n_vms, cpu,
                     h->libvirt_ok ? "ok" : "failing");
            return;
        }
        const struct model_vm *v = &m->vms[h->vms[t]];
        char vn[KG_NAME_ESC_MAX + 1], a[32], b2[32], c[32], d[32], e[32], f[32], g[32], hh[32];
        model_printable(v->name, v->name_len, vn, sizeof(vn));
        const float *x = v->fig;
        size_t off = 0;
        off += (size_t)snprintf(out + off, size - off, "%.80s / %.80s   host %s\nstate %s%s%s\n", hn, vn,
                                hs, kg_vm_state_name((enum kg_vm_state)v->state),
                                (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE)) ? ", STALE" : "",
                                model_vm_load_running(m, v) ? ", load generator running" : "");
        fmt_num(x[MODEL_FIG_CPU_PCT], " %", a, sizeof(a));
        fmt_num(x[MODEL_FIG_CPU_HOST_PCT], " %", b2, sizeof(b2));
        fmt_num(x[MODEL_FIG_STEAL_PCT], " %", c, sizeof(c));
        fmt_num(x[MODEL_FIG_VCPUS], "", d, sizeof(d));
        if (off < size)
            off += (size_t)snprintf(out + off, size - off, "CPU %s (of host %s)   steal %s   vCPUs %s\n", a, b2, c, d);
        fmt_num(x[MODEL_FIG_MEM_USED_PCT], " %", a, sizeof(a));
        fmt_kib(x[MODEL_FIG_MEM_USED_KIB], b2, sizeof(b2));
        fmt_kib(x[MODEL_FIG_MEM_CUR_KIB], c, sizeof(c));
        fmt_kib(x[MODEL_FIG_MEM_MAX_KIB], d, sizeof(d));
        fmt_kib(x[MODEL_FIG_MEM_RSS_KIB], e, sizeof(e));
        if (off < size)
            off += (size_t)snprintf(out + off, size - off, "memory %s used %s of %s (max %s)   RSS %s\n", a, b2, c, d, e);
        colour_format_rate((double)x[MODEL_FIG_DISK_RD_BPS], a, sizeof(a));
        colour_format_rate((double)x[MODEL_FIG_DISK_WR_BPS], b2, sizeof(b2));
        fmt_num(x[MODEL_FIG_DISK_RD_IOPS], "", c, sizeof(c));
        fmt_num(x[MODEL_FIG_DISK_WR_IOPS], "", d, sizeof(d));
        fmt_num(x[MODEL_FIG_DISK_RD_LAT_MS], " ms", e, sizeof(e));
        fmt_num(x[MODEL_FIG_DISK_WR_LAT_MS], " ms", f, sizeof(f));
        if (off < size)
            off += (size_t)snprintf(out + off, size - off, "disk read %s  write %s   IOPS %s / %s   latency %s / %s\n",
                                    a, b2, c, d, e, f);
        colour_format_rate((double)x[MODEL_FIG_NET_RX_BPS], a, sizeof(a));
        colour_format_rate((double)x[MODEL_FIG_NET_TX_BPS], b2, sizeof(b2));
        fmt_num(x[MODEL_FIG_NET_RX_PPS], "", c, sizeof(c));
        fmt_num(x[MODEL_FIG_NET_TX_PPS], "", d, sizeof(d));
        fmt_num(x[MODEL_FIG_NET_ERRS_PS], "/s", e, sizeof(e));
        fmt_num(x[MODEL_FIG_NET_DROP_PS], "/s", f, sizeof(f));
        if (off < size)
            off += (size_t)snprintf(out + off, size - off, "net rx %s  tx %s   pkts/s %s / %s   errors %s  drops %s\n",
                                    a, b2, c, d, e, f);
        char ts[40] = "-";
        if (v->ts_ms > 0)
            kg_clock_format_utc(v->ts_ms, ts, sizeof(ts));
        fmt_num(x[MODEL_FIG_AGE_S], " s", g, sizeof(g));
        snprintf(hh, sizeof(hh), "%llu s",
                 (unsigned long long)(now_ms > v->seen_ms ? (now_ms - v->seen_ms) / 1000 : 0));
        if (off < size)
            snprintf(out + off, size - off, "sample %s   received %s ago   agent age %s", ts, hh, g);
        return;
    }
}

static const char help_text[] =
    "kvmgrid-wall keys\n"
    "1 CPU %   2 memory %   3 disk bytes/s   4 network bytes/s   5 steal %   m next metric\n"
    "s sort by name / by load        F11 full screen\n"
    "Enter or click: zoom into the host under the mouse    Esc: back\n"
    "p pause the picture        h or ?: this help        q quit\n"
    "operator mode: click or arrows select a VM; F5 CPU 80 %, F6 memory 256 MiB,\n"
    "F7 disk write 20 MB/s (each 60 s), F8 stop: sent to the VM's load generator\n"
    "\n"
    "Tiles: one per VM, grouped by host, coloured by the metric (viridis).\n"
    "Checkerboard = stale (no update for N intervals)   stripes + frame + OFFLINE = host offline\n"
    "two bars = paused   hollow square = shut off   white corner = load generator running\n"
    "grey = no figure for this metric (e.g. rates before the second sample)";

/* ---- window ------------------------------------------------------------- */

static int make_buffer(struct render *r)
{
    SDL_GetWindowSize(r->win, &r->win_w, &r->win_h);
    if (SDL_GetRendererOutputSize(r->ren, &r->out_w, &r->out_h) != 0 || r->out_w <= 0)
        return KG_EIO;
    r->scale = r->win_w > 0 ? (float)r->out_w / (float)r->win_w : 1.0f;
    if (r->scale < 1.0f)
        r->scale = 1.0f;
    if (r->tex)
        SDL_DestroyTexture(r->tex);
    if (r->surf)
        SDL_FreeSurface(r->surf);
    free(r->px);
    r->surf = NULL;
    r->px = calloc((size_t)r->out_w * r->out_h, sizeof(uint32_t));
    r->tex = SDL_CreateTexture(r->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING,
                               r->out_w, r->out_h);
    if (r->px == NULL || r->tex == NULL)
        return KG_EIO;
    r->surf = SDL_CreateRGBSurfaceWithFormatFrom(r->px, r->out_w, r->out_h, 32, r->out_w * 4,
                                                 SDL_PIXELFORMAT_ARGB8888);
    if (r->surf == NULL)
        return KG_EIO;
    SDL_SetSurfaceBlendMode(r->surf, SDL_BLENDMODE_NONE);

    if (r->font)
        TTF_CloseFont(r->font);
    if (r->font_small)
        TTF_CloseFont(r->font_small);
    close_font(&r->font_host, &r->host_pt, &r->host_h);
    close_font(&r->font_name, &r->name_pt, &r->name_h);
    close_font(&r->font_value, &r->value_pt, &r->value_h);
    tile_text_free_all(r);
    r->font = TTF_OpenFont(r->font_path, (int)lroundf(14.0f * r->scale));
    r->font_small = TTF_OpenFont(r->font_path, (int)lroundf(11.0f * r->scale));
    if (r->font == NULL || r->font_small == NULL)
        return KG_EIO;
    r->line_h = TTF_FontLineSkip(r->font);
    r->small_h = TTF_FontLineSkip(r->font_small);

    int pad = (int)(4 * r->scale);
    r->header = (SDL_Rect){0, 0, r->out_w, 3 * r->line_h + pad};
    r->status = (SDL_Rect){0, r->out_h - r->small_h - pad, r->out_w, r->small_h + pad};
    r->legend = (SDL_Rect){0, r->status.y - r->line_h - r->small_h - pad, r->out_w,
                           r->line_h + r->small_h + pad};
    int gx = (int)(6 * r->scale), gy = r->header.h + pad;
    r->grid = (SDL_Rect){gx, gy, r->out_w - 2 * gx, r->legend.y - gy - pad};
    if (r->grid.w < 8 || r->grid.h < 8)
        r->grid = (SDL_Rect){0, 0, r->out_w > 8 ? r->out_w : 8, r->out_h > 8 ? r->out_h : 8};
    fill(r, 0, 0, r->out_w, r->out_h, COLOUR_BACKGROUND);
    r->need_layout = r->need_chrome = true;
    r->dirty_all = true;
    if (r->help_tex) {
        SDL_DestroyTexture(r->help_tex);
        r->help_tex = NULL;
    }
    if (r->tip_tex) {
        SDL_DestroyTexture(r->tip_tex);
        r->tip_tex = NULL;
        r->tip_text[0] = '\0';
    }
    return 0;
}

bool render_no_display(const struct render *r, char *errmsg, size_t errlen)
{
    (void)r; /* SDL's video driver is process-wide; r proves it is initialised */
    const char *drv = SDL_GetCurrentVideoDriver(), *asked = SDL_GetHint(SDL_HINT_VIDEODRIVER);
    if (drv == NULL || (strcmp(drv, "offscreen") != 0 && strcmp(drv, "dummy") != 0) ||
        (asked != NULL && SDL_strcasecmp(asked, drv) == 0))
        return false;
    snprintf(errmsg, errlen, "no display: SDL offers only its windowless %s driver (DISPLAY or "
             "WAYLAND_DISPLAY unset or unreachable; SDL_VIDEODRIVER=%s runs without a window "
             "on purpose)", drv, drv);
    return true;
}

int render_create(const struct render_options *opt, struct render **out, char *errmsg,
                  size_t errlen)
{
    struct render *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return KG_ENOMEM;
    snprintf(r->font_path, sizeof(r->font_path), "%s", opt->font_path ? opt->font_path : KG_WALL_FONT);
    r->prefix = opt->prefix;
    r->broker = opt->broker;
    r->fullscreen = opt->fullscreen;
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        snprintf(errmsg, errlen, "SDL_Init: %s", SDL_GetError());
        free(r);
        return KG_EIO;
    }
    if (TTF_Init() != 0) {
        snprintf(errmsg, errlen, "TTF_Init: %s", TTF_GetError());
        SDL_Quit();
        free(r);
        return KG_EIO;
    }
    int w = opt->width > 0 ? opt->width : 1280, h = opt->height > 0 ? opt->height : 720;
    Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
    if (opt->fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    r->win = SDL_CreateWindow(opt->title ? opt->title : "kvmgrid-wall", SDL_WINDOWPOS_CENTERED,
                              SDL_WINDOWPOS_CENTERED, w, h, flags);
    if (r->win)
        r->ren = SDL_CreateRenderer(r->win, -1, 0);
    if (r->win == NULL || r->ren == NULL) {
        snprintf(errmsg, errlen, "cannot open a window: %s", SDL_GetError());
        render_free(r);
        return KG_EIO;
    }
    SDL_DisableScreenSaver(); /* a wallboard must not blank */
    if (make_buffer(r) != 0) {
        snprintf(errmsg, errlen, "cannot set up the picture (font %s): %s", r->font_path,
                 r->font == NULL ? TTF_GetError() : SDL_GetError());
        render_free(r);
        return KG_EIO;
    }
    *out = r;
    return 0;
}

void render_free(struct render *r)
{
    if (r == NULL)
        return;
    if (r->tip_tex)
        SDL_DestroyTexture(r->tip_tex);
    if (r->help_tex)
        SDL_DestroyTexture(r->help_tex);
    if (r->font)
        TTF_CloseFont(r->font);
    if (r->font_small)
        TTF_CloseFont(r->font_small);
    close_font(&r->font_host, &r->host_pt, &r->host_h);
    close_font(&r->font_name, &r->name_pt, &r->name_h);
    close_font(&r->font_value, &r->value_pt, &r->value_h);
    tile_text_free_all(r);
    if (r->surf)
        SDL_FreeSurface(r->surf);
    if (r->tex)
        SDL_DestroyTexture(r->tex);
    if (r->ren)
        SDL_DestroyRenderer(r->ren);
    if (r->win)
        SDL_DestroyWindow(r->win);
    free(r->px);
    free(r->order);
    free(r->blocks);
    free(r->host_block);
    free(r->keys);
    free(r->tmp);
    free(r->dirty);
    TTF_Quit();
    SDL_Quit();
    free(r);
}

static enum render_key map_key(const SDL_KeyboardEvent *k)
{
    switch (k->keysym.sym) {
    case SDLK_1: case SDLK_KP_1: return RENDER_KEY_METRIC_1;
    case SDLK_2: case SDLK_KP_2: return RENDER_KEY_METRIC_2;
    case SDLK_3: case SDLK_KP_3: return RENDER_KEY_METRIC_3;
    case SDLK_4: case SDLK_KP_4: return RENDER_KEY_METRIC_4;
    case SDLK_5: case SDLK_KP_5: return RENDER_KEY_METRIC_5;
    case SDLK_m: return RENDER_KEY_METRIC_NEXT;
    case SDLK_s: return RENDER_KEY_SORT;
    case SDLK_F11: return RENDER_KEY_FULLSCREEN;
    case SDLK_RETURN: case SDLK_KP_ENTER: return RENDER_KEY_ZOOM;
    case SDLK_ESCAPE: case SDLK_BACKSPACE: return RENDER_KEY_BACK;
    case SDLK_p: case SDLK_SPACE: return RENDER_KEY_PAUSE;
    case SDLK_h: case SDLK_QUESTION: case SDLK_F1: return RENDER_KEY_HELP;
    case SDLK_SLASH: return (k->keysym.mod & KMOD_SHIFT) ? RENDER_KEY_HELP : RENDER_KEY_NONE;
    case SDLK_q: return RENDER_KEY_QUIT;
    case SDLK_LEFT: return RENDER_KEY_LEFT;
    case SDLK_RIGHT: return RENDER_KEY_RIGHT;
    case SDLK_UP: return RENDER_KEY_UP;
    case SDLK_DOWN: return RENDER_KEY_DOWN;
    case SDLK_F5: return RENDER_KEY_OP_1;
    case SDLK_F6: return RENDER_KEY_OP_2;
    case SDLK_F7: return RENDER_KEY_OP_3;
    case SDLK_F8: return RENDER_KEY_OP_4;
    default: return RENDER_KEY_NONE;
    }
}

int render_poll(struct render *r, struct render_event *ev)
{
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        switch (e.type) {
        case SDL_QUIT:
            *ev = (struct render_event){RENDER_EV_QUIT, RENDER_KEY_NONE, 0, 0};
            return 1;
        case SDL_KEYDOWN: {
            enum render_key k = map_key(&e.key);
            if (k != RENDER_KEY_NONE) {
                *ev = (struct render_event){RENDER_EV_KEY, k, r->mouse_in ? r->mouse_x : -1,
                                            r->mouse_in ? r->mouse_y : -1};
                return 1;
            }
            break;
        }
        case SDL_MOUSEMOTION:
            r->mouse_x = (int)lroundf((float)e.motion.x * r->scale);
            r->mouse_y = (int)lroundf((float)e.motion.y * r->scale);
            r->mouse_in = true;
            r->overlay_changed = true;
            break;
        case SDL_MOUSEBUTTONDOWN:
            if (e.button.button == SDL_BUTTON_LEFT) {
                *ev = (struct render_event){RENDER_EV_CLICK, RENDER_KEY_NONE,
                                            (int)lroundf((float)e.button.x * r->scale),
                                            (int)lroundf((float)e.button.y * r->scale)};
                return 1;
            }
            if (e.button.button == SDL_BUTTON_RIGHT) {
                *ev = (struct render_event){RENDER_EV_KEY, RENDER_KEY_BACK, 0, 0};
                return 1;
            }
            break;
        case SDL_WINDOWEVENT:
            if (e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
                e.window.event == SDL_WINDOWEVENT_RESIZED) {
                int ow = 0, oh = 0;
                SDL_GetRendererOutputSize(r->ren, &ow, &oh);
                if (ow != r->out_w || oh != r->out_h)
                    make_buffer(r);
            } else if (e.window.event == SDL_WINDOWEVENT_LEAVE) {
                r->mouse_in = false;
                r->overlay_changed = true;
            } else if (e.window.event == SDL_WINDOWEVENT_EXPOSED) {
                r->overlay_changed = true;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

void render_wait(struct render *r, int timeout_ms)
{
    (void)r;
    SDL_WaitEventTimeout(NULL, timeout_ms);
}

void render_set_metric(struct render *r, enum colour_metric m)
{
    if (m != r->metric) {
        r->metric = m;
        r->need_repaint = r->need_chrome = true;
        if (r->sort == LAYOUT_SORT_LOAD)
            r->need_layout = true;
    }
}

enum colour_metric render_get_metric(const struct render *r) { return r->metric; }

void render_set_sort(struct render *r, enum layout_sort_by by)
{
    if (by != r->sort) {
        r->sort = by;
        r->need_layout = r->need_chrome = true;
    }
}

enum layout_sort_by render_get_sort(const struct render *r) { return r->sort; }

void render_set_paused(struct render *r, bool paused)
{
    r->paused = paused;
    r->need_chrome = true;
}

bool render_get_paused(const struct render *r) { return r->paused; }

void render_toggle_help(struct render *r)
{
    r->help = !r->help;
    r->overlay_changed = true;
}

void render_toggle_fullscreen(struct render *r)
{
    r->fullscreen = !r->fullscreen;
    SDL_SetWindowFullscreen(r->win, r->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
}

void render_set_connected(struct render *r, bool connected)
{
    if (connected != r->connected) {
        r->connected = connected;
        r->need_chrome = true;
    }
}

bool render_zoom_at(struct render *r, struct model *m, int x, int y)
{
    bool done = false;
    model_lock(m);
    for (size_t b = 0; b < r->n_blocks && !done; b++) {
        const struct layout_rect *rc = &r->blocks[b].rect;
        if (x >= 0 && (x < rc->x || y < rc->y || x >= rc->x + rc->w || y >= rc->y + rc->h))
            continue;
        const struct model_host *h = &m->hosts[r->order[b]];
        memcpy(r->zoom, h->name, h->name_len);
        r->zoom[h->name_len] = '\0';
        r->zoom_len = h->name_len;
        r->zoomed = done = true;
    }
    model_unlock(m);
    if (done)
        r->need_layout = r->need_chrome = true;
    return done;
}

void render_zoom_out(struct render *r)
{
    if (r->zoomed) {
        r->zoomed = false;
        r->need_layout = r->need_chrome = true;
    }
}

bool render_zoomed(const struct render *r) { return r->zoomed; }

/* ---- operator selection ---------------------------------------------------- */

/* The VM of host h shown at tile pos, or -1 (lock held). */
static int32_t vm_at(const struct model *m, const struct model_host *h, int32_t pos)
{
    for (uint32_t j = 0; j < h->n_vms; j++)
        if (m->vms[h->vms[j]].pos == pos)
            return (int32_t)h->vms[j];
    return -1;
}

/* Tiles shown in block b (lock held). */
static int32_t block_tiles(const struct render *r, const struct model *m, size_t b)
{
    const struct model_host *h = &m->hosts[r->order[b]];
    int32_t n = 0;
    for (uint32_t j = 0; j < h->n_vms; j++)
        if (m->vms[h->vms[j]].pos >= n)
            n = m->vms[h->vms[j]].pos + 1;
    return n;
}

/* Where the selected VM is on screen (lock held): its block and VM slot. */
static bool find_selected(const struct render *r, const struct model *m, int32_t *block,
                          int32_t *vm)
{
    if (!r->selected)
        return false;
    int32_t h = model_find_host(m, r->sel_host, r->sel_host_len);
    if (h < 0 || (size_t)h >= r->cap_host_block || r->host_block[h] < 0 ||
        (size_t)r->host_block[h] >= r->n_blocks)
        return false;
    int32_t v = model_find_vm(m, (uint32_t)h, r->sel_vm, r->sel_vm_len);
    if (v < 0 || m->vms[v].pos < 0)
        return false;
    *block = r->host_block[h];
    *vm = v;
    return true;
}

/* Selects the VM at tile pos of block b (lock held). */
static bool select_tile(struct render *r, const struct model *m, size_t b, int32_t pos)
{
    if (b >= r->n_blocks)
        return false;
    const struct model_host *h = &m->hosts[r->order[b]];
    int32_t v = vm_at(m, h, pos);
    if (v < 0)
        return false;
    memcpy(r->sel_host, h->name, h->name_len);
    r->sel_host[h->name_len] = '\0';
    r->sel_host_len = h->name_len;
    memcpy(r->sel_vm, m->vms[v].name, m->vms[v].name_len);
    r->sel_vm[m->vms[v].name_len] = '\0';
    r->sel_vm_len = m->vms[v].name_len;
    r->selected = true;
    r->need_chrome = r->overlay_changed = true;
    return true;
}

void render_set_operator(struct render *r, bool on)
{
    r->operator_mode = on;
    if (!on)
        r->selected = false;
    r->need_chrome = r->overlay_changed = true;
}

bool render_select_at(struct render *r, struct model *m, int x, int y)
{
    if (!r->operator_mode)
        return false;
    bool done = false;
    model_lock(m);
    for (size_t b = 0; b < r->n_blocks && !done; b++) {
        int t = layout_tile_at(&r->lr, &r->blocks[b], x, y);
        if (t >= 0)
            done = select_tile(r, m, b, t);
    }
    model_unlock(m);
    return done;
}

bool render_select_move(struct render *r, struct model *m, int dx, int dy)
{
    if (!r->operator_mode)
        return false;
    bool done = false;
    model_lock(m);
    int32_t b, v;
    if (!find_selected(r, m, &b, &v)) {
        for (size_t i = 0; i < r->n_blocks && !done; i++)
            done = select_tile(r, m, i, 0);
        model_unlock(m);
        return done;
    }
    int32_t pos = m->vms[v].pos, n = block_tiles(r, m, (size_t)b);
    int cols = r->blocks[b].tiles_x > 0 ? r->blocks[b].tiles_x : 1;
    int32_t np = dx != 0 ? pos + dx : pos + dy * cols, nb = b;
    if (np < 0 || np >= n) {
        /* past the block's edge: the nearest host that way with a VM on screen */
        int step = (dx != 0 ? dx : dy) < 0 ? -1 : 1;
        int32_t nn = 0;
        for (nb = b + step; nb >= 0 && (size_t)nb < r->n_blocks; nb += step)
            if ((nn = block_tiles(r, m, (size_t)nb)) > 0)
                break;
        if (nb >= 0 && (size_t)nb < r->n_blocks) {
            int ncols = r->blocks[nb].tiles_x > 0 ? r->blocks[nb].tiles_x : 1;
            int32_t col = pos % cols < ncols ? pos % cols : ncols - 1;
            if (dx != 0)
                np = step < 0 ? nn - 1 : 0;
            else
                np = step < 0 ? ((nn - 1) / ncols) * ncols + col : col;
            if (np >= nn)
                np = nn - 1;
        }
    }
    if (nb >= 0 && (size_t)nb < r->n_blocks && np >= 0)
        done = select_tile(r, m, (size_t)nb, np);
    model_unlock(m);
    return done;
}

bool render_tile_colour(struct render *r, struct model *m, const char *vm, size_t len,
                        uint32_t *argb)
{
    bool found = false;
    model_lock(m);
    for (size_t b = 0; b < r->n_blocks && !found; b++) {
        int32_t v = model_find_vm(m, r->order[b], vm, len);
        if (v < 0 || m->vms[v].pos < 0)
            continue;
        struct layout_rect t = layout_tile_rect(&r->lr, &r->blocks[b], (uint32_t)m->vms[v].pos);
        int x = t.x + t.w / 2, y = t.y + t.h / 2;
        if (r->px != NULL && x >= 0 && y >= 0 && x < r->out_w && y < r->out_h) {
            *argb = r->px[(size_t)y * r->out_w + x];
            found = true;
        }
    }
    model_unlock(m);
    return found;
}

bool render_select_name(struct render *r, struct model *m, const char *vm, size_t len)
{
    if (!r->operator_mode)
        return false;
    bool done = false;
    model_lock(m);
    for (size_t b = 0; b < r->n_blocks && !done; b++) {
        const struct model_host *h = &m->hosts[r->order[b]];
        int32_t v = model_find_vm(m, r->order[b], vm, len);
        (void)h;
        if (v >= 0 && m->vms[v].pos >= 0)
            done = select_tile(r, m, b, m->vms[v].pos);
    }
    model_unlock(m);
    return done;
}

bool render_selected(struct render *r, struct model *m, char *vm, size_t vm_size,
                     size_t *vm_len, char *host, size_t host_size)
{
    if (!r->operator_mode || !r->selected || vm_size <= r->sel_vm_len ||
        host_size <= r->sel_host_len)
        return false;
    model_lock(m);
    int32_t h = model_find_host(m, r->sel_host, r->sel_host_len);
    bool ok = h >= 0 && model_find_vm(m, (uint32_t)h, r->sel_vm, r->sel_vm_len) >= 0;
    model_unlock(m);
    if (ok) {
        memcpy(vm, r->sel_vm, r->sel_vm_len + 1);
        *vm_len = r->sel_vm_len;
        memcpy(host, r->sel_host, r->sel_host_len + 1);
    }
    return ok;
}

void render_clear_selection(struct render *r)
{
    if (r->selected) {
        r->selected = false;
        r->need_chrome = r->overlay_changed = true;
    }
}

void render_set_operator_message(struct render *r, const char *msg)
{
    snprintf(r->op_msg, sizeof(r->op_msg), "%s", msg ? msg : "");
    r->need_chrome = true;
}

/* ---- frame -------------------------------------------------------------- */

static void upload(struct render *r)
{
    if (r->dirty_all) {
        SDL_UpdateTexture(r->tex, NULL, r->px, r->out_w * 4);
        r->stats.rects_uploaded++;
    } else if (r->n_dirty > DIRTY_MAX_RECTS) {
        int x0 = r->out_w, y0 = r->out_h, x1 = 0, y1 = 0;
        for (size_t i = 0; i < r->n_dirty; i++) {
            const SDL_Rect *d = &r->dirty[i];
            if (d->x < x0) x0 = d->x;
            if (d->y < y0) y0 = d->y;
            if (d->x + d->w > x1) x1 = d->x + d->w;
            if (d->y + d->h > y1) y1 = d->y + d->h;
        }
        SDL_Rect u = {x0, y0, x1 - x0, y1 - y0};
        SDL_UpdateTexture(r->tex, &u, r->px + (size_t)y0 * r->out_w + x0, r->out_w * 4);
        r->stats.rects_uploaded++;
    } else {
        for (size_t i = 0; i < r->n_dirty; i++) {
            const SDL_Rect *d = &r->dirty[i];
            SDL_UpdateTexture(r->tex, d, r->px + (size_t)d->y * r->out_w + d->x, r->out_w * 4);
        }
        r->stats.rects_uploaded += r->n_dirty;
    }
    r->n_dirty = 0;
    r->dirty_all = false;
}

static void draw_box(struct render *r, SDL_Texture *t, int w, int h, int x, int y)
{
    int pad = (int)(6 * r->scale);
    if (x + w + 2 * pad > r->out_w)
        x = r->out_w - w - 2 * pad;
    if (y + h + 2 * pad > r->out_h)
        y = r->out_h - h - 2 * pad;
    if (x < 0)
        x = 0;
    if (y < 0)
        y = 0;
    SDL_Rect bg = {x, y, w + 2 * pad, h + 2 * pad};
    SDL_SetRenderDrawColor(r->ren, 0x20, 0x20, 0x28, 0xFF);
    SDL_RenderFillRect(r->ren, &bg);
    SDL_SetRenderDrawColor(r->ren, 0xE8, 0xE8, 0xE8, 0xFF);
    SDL_RenderDrawRect(r->ren, &bg);
    SDL_Rect dst = {x + pad, y + pad, w, h};
    SDL_RenderCopy(r->ren, t, NULL, &dst);
}

static int save_png(struct render *r, const char *path)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, r->out_w, r->out_h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (s == NULL)
        return KG_EIO;
    int rc = 0;
    if (SDL_RenderReadPixels(r->ren, NULL, SDL_PIXELFORMAT_ARGB8888, s->pixels, s->pitch) != 0 ||
        IMG_SavePNG(s, path) != 0)
        rc = KG_EIO;
    SDL_FreeSurface(s);
    return rc;
}

int render_frame(struct render *r, struct model *m, uint64_t now_ms, bool force,
                 const char *screenshot_path)
{
    model_lock(m);
    bool structure_changed = m->structure_gen != r->layout_gen;
    if (r->need_layout || (structure_changed && !r->paused &&
                           (force || now_ms < r->last_layout_ms ||
                            now_ms - r->last_layout_ms >= RELAYOUT_MIN_MS))) {
        if (do_layout(r, m, now_ms) != 0) {
            model_unlock(m);
            return KG_ENOMEM;
        }
    } else if (!r->paused && !structure_changed) {
        if (r->need_repaint || m->full_repaint) {
            paint_all(r, m);
            const uint32_t *list;
            model_take_dirty(m, &list);
            m->full_repaint = false;
            r->need_repaint = false;
        } else {
            const uint32_t *list;
            uint32_t n = model_take_dirty(m, &list);
            for (uint32_t i = 0; i < n; i++)
                paint_vm(r, m, list[i]);
        }
    }
    /* Header and status text: composed only when counts were recomputed (model_tick,
     * twice a second), drawn only when the text differs; never per message. */
    if (r->need_chrome || m->ticks != r->chrome_ticks || force) {
        if (r->need_chrome)
            draw_legend(r);
        update_chrome(r, m, r->need_chrome);
        r->need_chrome = false;
        r->chrome_values_gen = m->values_gen;
        r->chrome_ticks = m->ticks;
    }
    char tip[sizeof(r->tip_text)];
    tooltip_text(r, m, now_ms, tip, sizeof(tip));
    struct layout_rect sel = {0, 0, 0, 0};
    bool sel_visible = false;
    if (r->operator_mode && r->selected) {
        int32_t b, vi;
        if (find_selected(r, m, &b, &vi)) {
            sel = layout_tile_rect(&r->lr, &r->blocks[b], (uint32_t)m->vms[vi].pos);
            sel_visible = true;
        }
    }
    model_unlock(m);
    if (sel_visible != r->sel_visible || memcmp(&sel, &r->sel_rect, sizeof(sel)) != 0) {
        r->sel_visible = sel_visible;
        r->sel_rect = sel;
        r->overlay_changed = true;
    }

    if (strcmp(tip, r->tip_text) != 0) {
        memcpy(r->tip_text, tip, sizeof(tip));
        if (r->tip_tex)
            SDL_DestroyTexture(r->tip_tex);
        r->tip_tex = tip[0] ? make_text_texture(r, tip, (int)(900 * r->scale), &r->tip_w, &r->tip_h) : NULL;
        r->overlay_changed = true;
    }
    if (r->help && r->help_tex == NULL)
        r->help_tex = make_text_texture(r, help_text, (int)(1000 * r->scale), &r->help_w, &r->help_h);

    bool changed = r->dirty_all || r->n_dirty > 0 || r->overlay_changed;
    if (!changed && !force && screenshot_path == NULL)
        return 0;
    upload(r);
    SDL_RenderCopy(r->ren, r->tex, NULL, NULL);
    if (r->sel_visible) {
        /* the selected tile: a white frame outside a black one, visible on any colour */
        int g = r->lr.tile_px >= 8 ? 2 : 1;
        SDL_Rect in = {r->sel_rect.x - g, r->sel_rect.y - g, r->sel_rect.w + 2 * g, r->sel_rect.h + 2 * g};
        SDL_Rect outr = {in.x - g, in.y - g, in.w + 2 * g, in.h + 2 * g};
        SDL_SetRenderDrawColor(r->ren, 0xFF, 0xFF, 0xFF, 0xFF);
        SDL_RenderFillRect(r->ren, &outr);
        SDL_SetRenderDrawColor(r->ren, 0x00, 0x00, 0x00, 0xFF);
        SDL_RenderFillRect(r->ren, &in);
        SDL_Rect tile = {r->sel_rect.x, r->sel_rect.y, r->sel_rect.w, r->sel_rect.h};
        SDL_RenderCopy(r->ren, r->tex, &tile, &tile);
    }
    if (r->tip_tex)
        draw_box(r, r->tip_tex, r->tip_w, r->tip_h, r->mouse_x + (int)(16 * r->scale),
                 r->mouse_y + (int)(16 * r->scale));
    if (r->help && r->help_tex)
        draw_box(r, r->help_tex, r->help_w, r->help_h, (r->out_w - r->help_w) / 2,
                 (r->out_h - r->help_h) / 2);
    r->overlay_changed = false;
    int rc = 0;
    if (screenshot_path != NULL)
        rc = save_png(r, screenshot_path);
    SDL_RenderPresent(r->ren);
    r->stats.frames_presented++;
    return rc;
}

int render_dump_layout(struct render *r, struct model *m, const char *path)
{
    /* written beside and renamed over: a reader never sees half a layout */
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return KG_EIO;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return KG_EIO;
    model_lock(m);
    fprintf(f, "output %d %d pitch %d tile %d labels %d\n", r->out_w, r->out_h, r->lr.pitch_px,
            r->lr.tile_px, r->lr.labels ? 1 : 0);
    const struct model_counts *c = &m->counts;
    fprintf(f, "counts hosts %u online %u offline %u stale %u vms %u online %u offline %u stale %u "
            "running %u paused %u shutoff %u loads %u\n",
            c->hosts, c->hosts_online, c->hosts_offline, c->hosts_stale, c->vms, c->vms_online,
            c->vms_offline, c->vms_stale, c->vms_running, c->vms_paused, c->vms_shutoff,
            c->loads_running);
    fprintf(f, "malformed %llu", (unsigned long long)model_bad_total(m));
    for (int i = 0; i < MODEL_BAD_COUNT; i++)
        fprintf(f, " %s %llu", model_bad_name((enum model_bad)i), (unsigned long long)m->bad[i]);
    fprintf(f, " applied %llu removed %llu ignored %llu\n", (unsigned long long)m->applied,
            (unsigned long long)m->removed, (unsigned long long)m->ignored);
    fprintf(f, "dropped hosts %llu max_hosts %u vms %llu max_vms %u\n",
            (unsigned long long)m->dropped_hosts, m->max_hosts, (unsigned long long)m->dropped_vms,
            m->max_vms);
    char hn[KG_NAME_ESC_MAX + 1], vn[KG_NAME_ESC_MAX + 1];
    for (size_t b = 0; b < r->n_blocks; b++) {
        const struct model_host *h = &m->hosts[r->order[b]];
        const struct layout_block *blk = &r->blocks[b];
        model_printable(h->name, h->name_len, hn, sizeof(hn));
        fprintf(f, "host %s %d %d %d %d %s\n", hn, blk->rect.x, blk->rect.y, blk->rect.w,
                blk->rect.h,
                h->status == MODEL_HOST_OFFLINE ? "offline"
                : h->status == MODEL_HOST_ONLINE ? "online" : "unknown");
        for (uint32_t j = 0; j < h->n_vms; j++) {
            const struct model_vm *v = &m->vms[h->vms[j]];
            if (v->pos < 0)
                continue;
            struct layout_rect t = layout_tile_rect(&r->lr, blk, (uint32_t)v->pos);
            model_printable(v->name, v->name_len, vn, sizeof(vn));
            fprintf(f, "tile %s %s %d %d %d %s%s\n", hn, vn, t.x, t.y, t.w,
                    kg_vm_state_name((enum kg_vm_state)v->state),
                    (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE)) ? " stale" : "");
        }
    }
    model_unlock(m);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return KG_EIO;
    }
    return 0;
}

void render_get_stats(const struct render *r, struct render_stats *out)
{
    *out = r->stats;
}

void render_get_view(struct render *r, struct model *m, struct render_view *out)
{
    SDL_GetWindowSize(r->win, &r->win_w, &r->win_h);
    out->help = r->help;
    out->tooltip = r->tip_text[0] != '\0';
    out->fullscreen = r->fullscreen;
    out->zoomed = r->zoomed;
    out->paused = r->paused;
    out->operator = r->operator_mode;
    out->selected = r->operator_mode && r->selected;
    out->win_w = r->win_w;
    out->win_h = r->win_h;
    out->out_w = r->out_w;
    out->out_h = r->out_h;
    int ow = 0, oh = 0;
    SDL_GetRendererOutputSize(r->ren, &ow, &oh);
    /* Events SDL has already taken from the window system but render_poll has not
     * handled yet (a resize, a key) count as pending too. */
    bool p = r->need_layout || r->need_repaint || r->need_chrome || r->overlay_changed ||
             r->dirty_all || r->n_dirty > 0 || (r->help && r->help_tex == NULL) ||
             ow != r->out_w || oh != r->out_h || SDL_HasEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
    model_lock(m);
    if (!r->paused)
        p = p || m->structure_gen != r->layout_gen || m->n_dirty > 0 || m->full_repaint;
    p = p || m->ticks != r->chrome_ticks;
    model_unlock(m);
    out->pending = p;
}
