/* SPDX-License-Identifier: MIT */
/*
 * Fonts, text drawing and the tile text cache (see text.h). Every text the wall
 * shows is rendered here, with SDL2_ttf; the caller says where and in what colour.
 */
#include "text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/topic.h"

/* A VM's text as last rendered, both in dark and in light (the other one is the
 * shadow). The name is re-rendered only when the VM slot's name, the font size or
 * the tile size changed; the value only when its text changed. */
struct text_tile {
    char *name;               /* owned: printable name the surfaces show; NULL: none */
    int name_pt, tile_px;
    SDL_Surface *name_s[2];   /* [0] dark, [1] light */
    char value[32];
    int value_pt;
    SDL_Surface *value_s[2];
};

/* Space kept free between a tile's edges and its text. */
static int tile_inset(int t)
{
    return t / 24 > 2 ? t / 24 : 2;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static void free_pair(SDL_Surface *s[2])
{
    for (int i = 0; i < 2; i++) {
        if (s[i])
            SDL_FreeSurface(s[i]);
        s[i] = NULL;
    }
}

static void tile_clear(struct text_tile *e)
{
    free_pair(e->name_s);
    free_pair(e->value_s);
    free(e->name);
    e->name = NULL;
    e->name_pt = e->tile_px = e->value_pt = 0;
    e->value[0] = '\0';
}

static void cache_free(struct text *t)
{
    for (size_t i = 0; i < t->cap_cache; i++)
        tile_clear(&t->cache[i]);
    free(t->cache);
    t->cache = NULL;
    t->cap_cache = 0;
}

static void close_font(TTF_Font **f, int *pt, int *h)
{
    if (*f)
        TTF_CloseFont(*f);
    *f = NULL;
    *pt = *h = 0;
}

static void close_all(struct text *t)
{
    int pt = 0;
    close_font(&t->font, &pt, &t->line_h);
    close_font(&t->font_small, &pt, &t->small_h);
    close_font(&t->font_alert, &t->alert_pt, &t->alert_h);
    close_font(&t->font_host, &t->host_pt, &t->host_h);
    close_font(&t->font_name, &t->name_pt, &t->name_h);
    close_font(&t->font_value, &t->value_pt, &t->value_h);
    cache_free(t);
}

int text_open(struct text *t, float scale)
{
    close_all(t);
    t->scale = scale;
    t->font = TTF_OpenFont(t->font_path, (int)lroundf(14.0f * scale));
    t->font_small = TTF_OpenFont(t->font_path, (int)lroundf(11.0f * scale));
    if (t->font == NULL || t->font_small == NULL)
        return KG_EIO;
    t->line_h = TTF_FontLineSkip(t->font);
    t->small_h = TTF_FontLineSkip(t->font_small);
    return 0;
}

void text_close(struct text *t)
{
    close_all(t);
}

int text_draw(struct canvas *c, TTF_Font *f, const char *s, int x, int y, uint32_t colour,
              const SDL_Rect *clip)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    SDL_Color col = {(Uint8)(colour >> 16), (Uint8)(colour >> 8), (Uint8)colour, 255};
    SDL_Surface *s_ = TTF_RenderUTF8_Blended(f, s, col);
    if (s_ == NULL)
        return 0;
    SDL_SetClipRect(c->surf, clip);
    SDL_Rect dst = {x, y, 0, 0};
    SDL_BlitSurface(s_, NULL, c->surf, &dst);
    SDL_SetClipRect(c->surf, NULL);
    int w = s_->w;
    SDL_FreeSurface(s_);
    return w;
}

int text_width(TTF_Font *f, const char *s)
{
    int w = 0, h = 0;
    if (s[0] == '\0' || TTF_SizeUTF8(f, s, &w, &h) != 0)
        return 0;
    return w;
}

/* Opens *f at want_pt or smaller so that its height is at most max_h; keeps it when
 * it is open at that size already. False (font closed) when nothing fits. */
static bool open_fit(struct text *t, TTF_Font **f, int *pt, int *h, int want_pt, int max_h)
{
    for (int tries = 0; tries < 6 && want_pt >= 6; tries++) {
        if (*f == NULL || *pt != want_pt) {
            close_font(f, pt, h);
            *f = TTF_OpenFont(t->font_path, want_pt);
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

int text_size_alert_font(struct text *t, int window_h)
{
    int header_pt = (int)lroundf(14.0f * t->scale);
    int want = clampi(window_h / 45, header_pt, (int)(48 * t->scale));
    if (want > header_pt &&
        open_fit(t, &t->font_alert, &t->alert_pt, &t->alert_h, want, window_h / 12)) {
        t->alert_h = TTF_FontLineSkip(t->font_alert);
        return t->alert_h;
    }
    close_font(&t->font_alert, &t->alert_pt, &t->alert_h);
    t->alert_h = t->line_h;
    return t->alert_h;
}

TTF_Font *text_alert_font(const struct text *t)
{
    return t->font_alert != NULL ? t->font_alert : t->font;
}

int text_size_host_font(struct text *t, int tile_px)
{
    int small_pt = (int)lroundf(11.0f * t->scale);
    int host_pt = clampi(tile_px / 8, small_pt, (int)(28 * t->scale));
    if (host_pt > small_pt &&
        open_fit(t, &t->font_host, &t->host_pt, &t->host_h, host_pt, tile_px / 3))
        return TTF_FontLineSkip(t->font_host);
    close_font(&t->font_host, &t->host_pt, &t->host_h);
    return 0;
}

void text_size_tile_fonts(struct text *t, int tile_px)
{
    int s = tile_px;
    if (s < TEXT_NAME_MIN_TILE_PX) {
        close_font(&t->font_name, &t->name_pt, &t->name_h);
        close_font(&t->font_value, &t->value_pt, &t->value_h);
        cache_free(t); /* small tiles: no text, no cache */
        return;
    }
    int budget = s - (3 * s + 4) / 5 - tile_inset(s); /* bottom 40 % minus the inset */
    int name_pt = clampi(s / 9, 8, (int)(40 * t->scale)); /* ~14 characters fit */
    if (!open_fit(t, &t->font_name, &t->name_pt, &t->name_h, name_pt, budget)) {
        close_font(&t->font_value, &t->value_pt, &t->value_h);
        return;
    }
    if (s < TEXT_VALUE_MIN_TILE_PX ||
        !open_fit(t, &t->font_value, &t->value_pt, &t->value_h,
                  clampi(s / 4, 8, (int)(96 * t->scale)), budget - t->name_h))
        close_font(&t->font_value, &t->value_pt, &t->value_h);
}

int text_tile_top(const struct text *t, int tile_px)
{
    if (t->name_pt <= 0)
        return tile_px;
    return tile_px - tile_inset(tile_px) - t->name_h - (t->value_pt > 0 ? t->value_h : 0);
}

int text_name_top(const struct text *t, int tile_px)
{
    if (t->name_pt <= 0)
        return tile_px;
    return tile_px - tile_inset(tile_px) - t->name_h;
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

/* Renders s cut to avail px in dark and in light into out; NULL surfaces when
 * nothing fits. */
static void render_pair(TTF_Font *f, const char *s, int avail, SDL_Surface *out[2])
{
    SDL_Color dark = {0, 0, 0, 255}, light = {255, 255, 255, 255};
    char shown[KG_NAME_ESC_MAX + 4];
    fit_text(f, s, avail, shown, sizeof(shown));
    if (shown[0] == '\0')
        return;
    out[0] = TTF_RenderUTF8_Blended(f, shown, dark);
    out[1] = TTF_RenderUTF8_Blended(f, shown, light);
    if (out[0] == NULL || out[1] == NULL)
        free_pair(out);
}

/* The text in front (variant) with the other one 1+ px down-right as a shadow, so
 * that it stays legible on every colour. */
static void blit_pair(struct canvas *c, SDL_Surface *s[2], int variant, int x, int y, int off,
                      SDL_Rect *clip)
{
    SDL_SetClipRect(c->surf, clip);
    SDL_Rect d = {x + off, y + off, 0, 0};
    SDL_BlitSurface(s[1 - variant], NULL, c->surf, &d);
    d = (SDL_Rect){x, y, 0, 0};
    SDL_BlitSurface(s[variant], NULL, c->surf, &d);
    SDL_SetClipRect(c->surf, NULL);
}

static struct text_tile *cache_entry(struct text *t, uint32_t idx)
{
    if (idx >= t->cap_cache) {
        size_t ncap = t->cap_cache ? t->cap_cache : 64;
        while (ncap <= idx)
            ncap *= 2;
        struct text_tile *nt = realloc(t->cache, ncap * sizeof(*nt));
        if (nt == NULL)
            return NULL;
        memset(nt + t->cap_cache, 0, (ncap - t->cap_cache) * sizeof(*nt));
        t->cache = nt;
        t->cap_cache = ncap;
    }
    return &t->cache[idx];
}

void text_tile(struct text *t, struct canvas *c, uint32_t idx, const struct model_vm *v,
               struct layout_rect tr, bool light, enum colour_metric metric, double value)
{
    if (t->name_pt <= 0 || t->font_name == NULL)
        return;
    struct text_tile *e = cache_entry(t, idx);
    if (e == NULL)
        return;
    int s = tr.w, inset = tile_inset(s), variant = light ? 1 : 0;
    char name[KG_NAME_ESC_MAX + 1];
    model_display(v->name, v->name_len, name, sizeof(name));
    if (e->name == NULL || e->name_pt != t->name_pt || e->tile_px != s || strcmp(e->name, name) != 0) {
        tile_clear(e);
        e->name = strdup(name);
        if (e->name == NULL)
            return;
        e->name_pt = t->name_pt;
        e->tile_px = s;
        render_pair(t->font_name, name, s - 2 * inset, e->name_s);
    }
    int top = text_tile_top(t, s);
    SDL_Rect clip = {tr.x + 2, tr.y + top, s - 4, s - top - 2};
    int name_y = tr.y + s - inset - t->name_h;
    if (e->name_s[0] != NULL)
        blit_pair(c, e->name_s, variant, tr.x + (s - e->name_s[0]->w) / 2, name_y,
                  t->name_pt >= 16 ? t->name_pt / 16 : 1, &clip);
    if (t->value_pt <= 0 || t->font_value == NULL || isnan(value))
        return;
    char val[32];
    colour_format(metric, value, val, sizeof(val));
    if (e->value_pt != t->value_pt || strcmp(e->value, val) != 0) {
        free_pair(e->value_s);
        memcpy(e->value, val, sizeof(val));
        e->value_pt = t->value_pt;
        render_pair(t->font_value, val, s - 2 * inset, e->value_s);
    }
    if (e->value_s[0] != NULL)
        blit_pair(c, e->value_s, variant, tr.x + (s - e->value_s[0]->w) / 2, name_y - t->value_h,
                  t->value_pt >= 16 ? t->value_pt / 16 : 1, &clip);
}
