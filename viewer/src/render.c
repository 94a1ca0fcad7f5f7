/* SPDX-License-Identifier: MIT */
/*
 * The wall's window and frame (see render.h): keeps the canvas as the truth of
 * what is on screen, repaints only the tiles the run loop passes as changed,
 * uploads only the rectangles that changed and copies the texture once per
 * presented frame. Static text (host names, legend) is drawn into the canvas once
 * per layout; the header and status lines only when their text changes. It
 * decides nothing about data and writes nothing into the model.
 */
#include "render.h"

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "chrome.h"
#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "overlay.h"
#include "text.h"
#include "tiles.h"
#include "trends.h"

#ifndef KG_WALL_FONT
#define KG_WALL_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#endif

struct render {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;           /* the canvas, as uploaded */
    int win_w, win_h;
    float scale;                /* output pixels per point */
    struct canvas canvas;
    struct text text;
    struct chrome chrome;
    struct overlay overlay;
    struct trends trends;
    bool fullscreen;
    bool need_layout;           /* the window changed: lay the grid out again */
    bool need_chrome;           /* draw legend, header and status afresh */
    bool overlay_changed;
    /* what has been drawn: the grid's and the view's generations */
    uint64_t placed_gen, tiles_gen, chrome_gen, overlay_gen, chrome_ticks;
    int mouse_x, mouse_y;
    bool mouse_in;
    char tip_next[OVERLAY_TIP_MAX]; /* the tooltip render_draw found, for render_present */
    struct render_stats stats;
};

/* ---- window ------------------------------------------------------------- */

static int make_buffer(struct render *r)
{
    int w = 0, h = 0;
    SDL_GetWindowSize(r->win, &r->win_w, &r->win_h);
    if (SDL_GetRendererOutputSize(r->ren, &w, &h) != 0 || w <= 0)
        return KG_EIO;
    r->scale = r->win_w > 0 ? (float)w / (float)r->win_w : 1.0f;
    if (r->scale < 1.0f)
        r->scale = 1.0f;
    if (r->tex)
        SDL_DestroyTexture(r->tex);
    r->tex = SDL_CreateTexture(r->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, w, h);
    if (canvas_resize(&r->canvas, w, h, COLOUR_BACKGROUND) != 0 || r->tex == NULL)
        return KG_EIO;
    if (text_open(&r->text, r->scale) != 0)
        return KG_EIO;
    text_size_alert_font(&r->text, h);
    chrome_areas(&r->chrome, &r->text, w, h);
    r->need_layout = r->need_chrome = true;
    overlay_reset(&r->overlay);
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
    snprintf(r->text.font_path, sizeof(r->text.font_path), "%s",
             opt->font_path ? opt->font_path : KG_WALL_FONT);
    trends_init(&r->trends);
    r->chrome.prefix = opt->prefix;
    r->chrome.trends = r->trends.notice;
    r->chrome.broker = opt->broker;
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
    int pos = SDL_WINDOWPOS_CENTERED;
    SDL_DisplayMode dm;
    if (opt->fullscreen && SDL_GetDesktopDisplayMode(0, &dm) == 0) {
        /* Without a window manager (a kiosk's bare X server) nobody honours a
         * full-screen request made at creation: the window stayed at its
         * windowed size. Made at the display's size and place, and switched
         * like F11 does (SDL resizes it itself), it fills the display either way. */
        w = dm.w;
        h = dm.h;
        pos = 0;
    }
    r->win = SDL_CreateWindow(opt->title ? opt->title : "kvmgrid-wall", pos, pos, w, h,
                              SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (r->win && opt->fullscreen)
        SDL_SetWindowFullscreen(r->win, SDL_WINDOW_FULLSCREEN_DESKTOP);
    if (r->win)
        r->ren = SDL_CreateRenderer(r->win, -1, 0);
    if (r->win == NULL || r->ren == NULL) {
        snprintf(errmsg, errlen, "cannot open a window: %s", SDL_GetError());
        render_free(r);
        return KG_EIO;
    }
    /* A wallboard must not blank, even where the session lets SDL programs do so
     * (SDL_VIDEO_ALLOW_SCREENSAVER=1): on X11 this suspends the screen saver and
     * DPMS (MIT-SCREEN-SAVER) until the wall quits (integration_wall_blank). */
    SDL_DisableScreenSaver();
    if (make_buffer(r) != 0) {
        snprintf(errmsg, errlen, "cannot set up the picture (font %s): %s", r->text.font_path,
                 r->text.font == NULL ? TTF_GetError() : SDL_GetError());
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
    overlay_reset(&r->overlay);
    trends_free(&r->trends);
    text_close(&r->text);
    canvas_free(&r->canvas);
    if (r->tex)
        SDL_DestroyTexture(r->tex);
    if (r->ren)
        SDL_DestroyRenderer(r->ren);
    if (r->win)
        SDL_DestroyWindow(r->win);
    TTF_Quit();
    SDL_Quit();
    free(r);
}

void render_toggle_fullscreen(struct render *r)
{
    r->fullscreen = !r->fullscreen;
    SDL_SetWindowFullscreen(r->win, r->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
}

void render_point(struct render *r, int x, int y)
{
    r->mouse_x = x;
    r->mouse_y = y;
    r->mouse_in = true;
    r->overlay_changed = true;
}

void render_grid_params(const struct render *r, struct layout_params *p)
{
    tiles_params(&r->text, &r->chrome.grid, p);
}

bool render_wants_layout(const struct render *r)
{
    return r->need_layout;
}

/* ---- input: SDL's events --------------------------------------------------- */

static enum input_key map_key(const SDL_KeyboardEvent *k)
{
    switch (k->keysym.sym) {
    case SDLK_1: case SDLK_KP_1: return INPUT_KEY_METRIC_1;
    case SDLK_2: case SDLK_KP_2: return INPUT_KEY_METRIC_2;
    case SDLK_3: case SDLK_KP_3: return INPUT_KEY_METRIC_3;
    case SDLK_4: case SDLK_KP_4: return INPUT_KEY_METRIC_4;
    case SDLK_5: case SDLK_KP_5: return INPUT_KEY_METRIC_5;
    case SDLK_0: case SDLK_KP_0: return INPUT_KEY_METRIC_ALL;
    case SDLK_r: return INPUT_KEY_ROTATE;
    case SDLK_a: return INPUT_KEY_ALERTS;
    case SDLK_m: return INPUT_KEY_METRIC_NEXT;
    case SDLK_s: return INPUT_KEY_SORT;
    case SDLK_t: return INPUT_KEY_TILES;
    case SDLK_F11: return INPUT_KEY_FULLSCREEN;
    case SDLK_RETURN: case SDLK_KP_ENTER: return INPUT_KEY_ZOOM;
    case SDLK_ESCAPE: case SDLK_BACKSPACE: return INPUT_KEY_BACK;
    case SDLK_p: case SDLK_SPACE: return INPUT_KEY_PAUSE;
    case SDLK_h: case SDLK_QUESTION: case SDLK_F1: return INPUT_KEY_HELP;
    case SDLK_SLASH: return (k->keysym.mod & KMOD_SHIFT) ? INPUT_KEY_HELP : INPUT_KEY_NONE;
    case SDLK_q: return INPUT_KEY_QUIT;
    case SDLK_LEFT: return INPUT_KEY_LEFT;
    case SDLK_RIGHT: return INPUT_KEY_RIGHT;
    case SDLK_UP: return INPUT_KEY_UP;
    case SDLK_DOWN: return INPUT_KEY_DOWN;
    case SDLK_F5: return INPUT_KEY_OP_1;
    case SDLK_F6: return INPUT_KEY_OP_2;
    case SDLK_F7: return INPUT_KEY_OP_3;
    case SDLK_F8: return INPUT_KEY_OP_4;
    default: return INPUT_KEY_NONE;
    }
}

static void window_event(struct render *r, const SDL_WindowEvent *e)
{
    if (e->event == SDL_WINDOWEVENT_SIZE_CHANGED || e->event == SDL_WINDOWEVENT_RESIZED) {
        int ow = 0, oh = 0;
        SDL_GetRendererOutputSize(r->ren, &ow, &oh);
        if (ow != r->canvas.w || oh != r->canvas.h)
            make_buffer(r);
    } else if (e->event == SDL_WINDOWEVENT_LEAVE) {
        r->mouse_in = false;
        r->overlay_changed = true;
    } else if (e->event == SDL_WINDOWEVENT_EXPOSED) {
        r->overlay_changed = true;
    }
}

int render_poll(struct render *r, struct input_event *ev)
{
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        switch (e.type) {
        case SDL_QUIT:
            *ev = (struct input_event){INPUT_EV_QUIT, INPUT_KEY_NONE, 0, 0};
            return 1;
        case SDL_KEYDOWN: {
            enum input_key k = map_key(&e.key);
            if (k != INPUT_KEY_NONE) {
                *ev = (struct input_event){INPUT_EV_KEY, k, r->mouse_in ? r->mouse_x : -1,
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
                *ev = (struct input_event){INPUT_EV_CLICK, INPUT_KEY_NONE,
                                           (int)lroundf((float)e.button.x * r->scale),
                                           (int)lroundf((float)e.button.y * r->scale)};
                return 1;
            }
            if (e.button.button == SDL_BUTTON_RIGHT) {
                *ev = (struct input_event){INPUT_EV_KEY, INPUT_KEY_BACK, 0, 0};
                return 1;
            }
            break;
        case SDL_WINDOWEVENT:
            window_event(r, &e.window);
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

bool render_windowless(const struct render *r)
{
    (void)r; /* SDL's video driver is process-wide; r proves it is initialised */
    const char *drv = SDL_GetCurrentVideoDriver();
    return drv != NULL && (strcmp(drv, "offscreen") == 0 || strcmp(drv, "dummy") == 0);
}

/* ---- frame -------------------------------------------------------------- */

/* A new history step: every visible sparkline again (large tiles are few). */
static void repaint_trends(struct render *r, struct tiles *t, const struct model *m,
                           const struct layout_grid *g)
{
    if (trends_in_tiles(g))
        for (size_t b = 0; b < g->n_blocks; b++) {
            const struct model_host *h = layout_grid_host(g, m, b);
            for (uint32_t j = 0; h != NULL && j < h->n_vms; j++)
                tiles_paint_vm(t, h->vms[j]);
        }
    trends_hosts(&r->trends, &r->canvas, m, g);
}

void render_draw(struct render *r, const struct model *m, const struct view *v,
                 struct layout_grid *g, const struct render_changes *ch, uint64_t now_ms,
                 bool force)
{
    bool trends_step = trends_frame(&r->trends, m, now_ms);
    struct tiles t = {&r->canvas, &r->text, g, m, v->metric, v->all, v->alerts_only, 0, &r->trends,
                      ch->agg};
    if (ch->ordered) {
        tiles_place(&r->text, g, &r->chrome.grid);
        tiles_paint_all(&t, &r->chrome.grid);
        r->placed_gen = g->order_gen;
        r->tiles_gen = v->tiles_gen;
        r->need_layout = false;
        r->stats.layouts++;
    } else if (ch->paint) {
        if (ch->all || r->tiles_gen != v->tiles_gen) {
            tiles_paint_all(&t, &r->chrome.grid);
            r->tiles_gen = v->tiles_gen;
        } else if (g->host_tiles) {
            for (uint32_t i = 0; i < ch->n_hosts; i++)
                tiles_paint_host(&t, ch->hosts[i]);
        } else {
            for (uint32_t i = 0; i < ch->n_dirty; i++)
                tiles_paint_vm(&t, ch->dirty[i]);
            if (trends_step)
                repaint_trends(r, &t, m, g);
        }
    }
    if (ch->ordered || ch->paint)
        trends_drawn(&r->trends);
    r->stats.tiles_painted += t.painted;
    /* Header and status text: composed only when counts were recomputed (model_tick,
     * twice a second), drawn only when the text differs; never per message. */
    bool chrome = r->need_chrome || r->chrome_gen != v->chrome_gen;
    if (chrome || m->ticks != r->chrome_ticks || force) {
        if (chrome)
            chrome_legend(&r->chrome, &r->canvas, &r->text, v);
        chrome_update(&r->chrome, &r->canvas, &r->text, m, v, now_ms, chrome);
        r->need_chrome = false;
        r->chrome_gen = v->chrome_gen;
        r->chrome_ticks = m->ticks;
    }
    /* the tooltip's texture is made in render_present, without the lock */
    r->tip_next[0] = '\0';
    int32_t tip_host = -1, tip_vm = -1;
    if (r->mouse_in) {
        overlay_tooltip_text(g, m, ch->agg, v, r->mouse_x, r->mouse_y, now_ms, r->tip_next,
                             sizeof(r->tip_next));
        overlay_tooltip_of(g, m, r->mouse_x, r->mouse_y, &tip_host, &tip_vm);
    }
    trends_tip(&r->trends, &r->text, m, tip_vm, tip_host);
    if (overlay_select(&r->overlay, v, g, m))
        r->overlay_changed = true;
}

static int save_png(struct render *r, const char *path)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, r->canvas.w, r->canvas.h, 32,
                                                    SDL_PIXELFORMAT_ARGB8888);
    if (s == NULL)
        return KG_EIO;
    int rc = 0;
    if (SDL_RenderReadPixels(r->ren, NULL, SDL_PIXELFORMAT_ARGB8888, s->pixels, s->pitch) != 0 ||
        IMG_SavePNG(s, path) != 0)
        rc = KG_EIO;
    SDL_FreeSurface(s);
    return rc;
}

int render_present(struct render *r, const struct view *v, const struct layout_grid *g,
                   bool force, const char *screenshot_path)
{
    if (overlay_update(&r->overlay, r->ren, r->text.font, r->scale, r->tip_next, v->help))
        r->overlay_changed = true;
    bool panel_changed;
    SDL_Surface *panel = trends_tip_taken(&r->trends, &panel_changed);
    if (panel_changed) {
        overlay_panel(&r->overlay, r->ren, panel);
        r->overlay_changed = true;
    }
    if (r->overlay_gen != v->overlay_gen) {
        r->overlay_gen = v->overlay_gen;
        r->overlay_changed = true;
    }
    if (!canvas_changed(&r->canvas) && !r->overlay_changed && !force && screenshot_path == NULL)
        return 0;
    canvas_upload(&r->canvas, r->tex, &r->stats.rects_uploaded);
    SDL_RenderCopy(r->ren, r->tex, NULL, NULL);
    overlay_draw(&r->overlay, r->ren, r->tex, g->lr.tile_px, r->mouse_x, r->mouse_y, v->help,
                 r->canvas.w, r->canvas.h, r->scale);
    r->overlay_changed = false;
    int rc = 0;
    if (screenshot_path != NULL)
        rc = save_png(r, screenshot_path);
    SDL_RenderPresent(r->ren);
    r->stats.frames_presented++;
    return rc;
}

bool render_tile_colour(const struct render *r, const struct model *m,
                        const struct layout_grid *g, const char *vm, size_t len, uint32_t *argb)
{
    const struct canvas *c = &r->canvas;
    for (size_t i = 0; g->host_tiles && c->px != NULL && i < g->n_host_tiles; i++) {
        /* host tiles: the VM's host's tile, as a digest of all its pixels (its
         * rows are the host's VMs sorted: any new figure may move any row) */
        const struct model_host *h = layout_grid_host_tile(g, m, i);
        if (h == NULL || model_find_vm(m, (uint32_t)(h - m->hosts), vm, len) < 0)
            continue;
        struct layout_rect t = layout_tile_rect(&g->lr, &g->host_rect, (uint32_t)i);
        uint32_t d = 2166136261u;
        for (int y = t.y; y < t.y + t.h && y < c->h; y++)
            for (int x = t.x; x < t.x + t.w && x < c->w; x++)
                if (x >= 0 && y >= 0)
                    d = (d ^ c->px[(size_t)y * c->w + x]) * 16777619u;
        *argb = d;
        return true;
    }
    for (size_t b = 0; b < g->n_blocks; b++) {
        if (layout_grid_host(g, m, b) == NULL)
            continue;
        int32_t v = model_find_vm(m, g->order[b], vm, len);
        if (v < 0 || m->vms[v].pos < 0)
            continue;
        struct layout_rect t = layout_tile_rect(&g->lr, &g->blocks[b], (uint32_t)m->vms[v].pos);
        /* just above and left of the centre: the colour in a one-metric view, the
         * CPU quadrant (clear of the quadrants' dark cross) showing all metrics */
        int d = t.w >= 24 ? 2 : (t.w >= 2 ? 1 : 0);
        int x = t.x + t.w / 2 - d, y = t.y + t.h / 2 - d;
        if (c->px != NULL && x >= 0 && y >= 0 && x < c->w && y < c->h) {
            *argb = c->px[(size_t)y * c->w + x];
            return true;
        }
    }
    return false;
}

/* Host tiles: one "htile" line each with its rectangle and what it shows (the
 * VMs, those in alert and stale, the CPU and memory worst, p90 and median). */
static void dump_host_tiles(FILE *f, const struct model *m, const struct layout_grid *g,
                            const struct hostagg *agg)
{
    char hn[MODEL_HOST_LABEL_MAX];
    for (size_t i = 0; i < g->n_host_tiles; i++) {
        const struct model_host *h = layout_grid_host_tile(g, m, i);
        if (h == NULL)
            continue;
        struct layout_rect t = layout_tile_rect(&g->lr, &g->host_rect, (uint32_t)i);
        model_host_printable(m, h, hn, sizeof(hn));
        const struct hostagg_host *a = agg != NULL ? hostagg_get(agg, (uint32_t)(h - m->hosts)) : NULL;
        fprintf(f, "htile %s %d %d %d %s vms %u", hn, t.x, t.y, t.w,
                h->status == MODEL_HOST_OFFLINE ? "offline"
                : h->status == MODEL_HOST_ONLINE ? "online" : "unknown", h->n_vms);
        if (a != NULL)
            fprintf(f, " alert %u stale %u cpu %.1f %.1f %.1f mem %.1f %.1f %.1f", a->n_alert,
                    a->n_stale, hostagg_at(a, COLOUR_METRIC_CPU, 0), (double)a->q[COLOUR_METRIC_CPU][HOSTAGG_P90],
                    hostagg_at(a, COLOUR_METRIC_CPU, 0.5), hostagg_at(a, COLOUR_METRIC_MEM, 0),
                    (double)a->q[COLOUR_METRIC_MEM][HOSTAGG_P90], hostagg_at(a, COLOUR_METRIC_MEM, 0.5));
        fputc('\n', f);
    }
}

static void dump_blocks(FILE *f, const struct model *m, const struct layout_grid *g)
{
    char hn[MODEL_HOST_LABEL_MAX], vn[KG_NAME_ESC_MAX + 1];
    for (size_t b = 0; b < g->n_blocks; b++) {
        const struct model_host *h = layout_grid_host(g, m, b);
        if (h == NULL)
            continue;
        const struct layout_block *blk = &g->blocks[b];
        model_host_printable(m, h, hn, sizeof(hn));
        fprintf(f, "host %s %d %d %d %d %s\n", hn, blk->rect.x, blk->rect.y, blk->rect.w,
                blk->rect.h,
                h->status == MODEL_HOST_OFFLINE ? "offline"
                : h->status == MODEL_HOST_ONLINE ? "online" : "unknown");
        for (uint32_t j = 0; j < h->n_vms; j++) {
            const struct model_vm *v = &m->vms[h->vms[j]];
            if (v->pos < 0)
                continue;
            struct layout_rect t = layout_tile_rect(&g->lr, blk, (uint32_t)v->pos);
            model_printable(v->name, v->name_len, vn, sizeof(vn));
            fprintf(f, "tile %s %s %d %d %d %s%s", hn, vn, t.x, t.y, t.w,
                    kg_vm_state_name((enum kg_vm_state)v->state),
                    (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE)) ? " stale" : "");
            const struct alerts_vm *a = model_vm_alerts(m, h->vms[j]);
            for (int k = 0, n = 0; a != NULL && k < ALERTS_KINDS; k++)
                if (a->active & (1u << k))
                    fprintf(f, "%s%s", n++ ? "," : " alert ", alerts_kind_name((enum alerts_kind)k));
            fputc('\n', f);
        }
    }
}

int render_dump_layout(const struct render *r, const struct model *m,
                       const struct layout_grid *g, const struct hostagg *agg, const char *path)
{
    /* written beside and renamed over: a reader never sees half a layout */
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return KG_EIO;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return KG_EIO;
    fprintf(f, "output %d %d pitch %d tile %d labels %d\n", r->canvas.w, r->canvas.h,
            g->lr.pitch_px, g->lr.tile_px, g->lr.labels ? 1 : 0);
    const struct model_counts *c = &m->counts;
    fprintf(f, "counts hosts %u online %u offline %u stale %u vms %u online %u offline %u stale %u "
            "running %u paused %u shutoff %u loads %u\n",
            c->hosts, c->hosts_online, c->hosts_offline, c->hosts_stale, c->vms, c->vms_online,
            c->vms_offline, c->vms_stale, c->vms_running, c->vms_paused, c->vms_shutoff,
            c->loads_running);
    fprintf(f, "alerts vms %u hosts_shown %zu filter %d\n", c->vms_alert, g->n_blocks,
            g->alerts_only ? 1 : 0);
    fprintf(f, "malformed %llu", (unsigned long long)model_bad_total(m));
    for (int i = 0; i < MODEL_BAD_COUNT; i++)
        fprintf(f, " %s %llu", model_bad_name((enum model_bad)i), (unsigned long long)m->bad[i]);
    fprintf(f, " applied %llu removed %llu ignored %llu\n", (unsigned long long)m->applied,
            (unsigned long long)m->removed, (unsigned long long)m->ignored);
    fprintf(f, "dropped hosts %llu max_hosts %u vms %llu max_vms %u\n",
            (unsigned long long)m->dropped_hosts, m->max_hosts, (unsigned long long)m->dropped_vms,
            m->max_vms);
    fprintf(f, "links_down %u", c->links_down);
    for (uint32_t i = 0; i < m->n_groups; i++) {
        char gn[KG_NAME_ESC_MAX + 1];
        if (m->groups[i].link == MODEL_LINK_DOWN)
            fprintf(f, " %s", m->groups[i].name_len > 0
                                  ? model_printable(m->groups[i].name, m->groups[i].name_len,
                                                    gn, sizeof(gn))
                                  : "-");
    }
    fputc('\n', f);
    fprintf(f, "grid tiles %s host_tiles %zu\n", g->host_tiles ? "hosts" : "vms", g->n_host_tiles);
    dump_host_tiles(f, m, g, agg);
    dump_blocks(f, m, g);
    trends_dump(&r->trends, f, m, g, r->overlay.panel_rect);
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

void render_get_view(struct render *r, struct model *m, const struct view *v,
                     struct render_view *out)
{
    SDL_GetWindowSize(r->win, &r->win_w, &r->win_h);
    out->tooltip = r->overlay.tip_text[0] != '\0';
    out->fullscreen = r->fullscreen;
    out->win_w = r->win_w;
    out->win_h = r->win_h;
    out->out_w = r->canvas.w;
    out->out_h = r->canvas.h;
    int ow = 0, oh = 0;
    SDL_GetRendererOutputSize(r->ren, &ow, &oh);
    /* Events SDL has already taken from the window system but render_poll has not
     * handled yet (a resize, a key) count as pending too. */
    bool p = r->need_layout || r->need_chrome || r->overlay_changed ||
             r->tiles_gen != v->tiles_gen || r->chrome_gen != v->chrome_gen ||
             r->overlay_gen != v->overlay_gen || canvas_changed(&r->canvas) ||
             overlay_help_pending(&r->overlay, v->help) || ow != r->canvas.w ||
             oh != r->canvas.h || SDL_HasEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
    model_lock(m);
    p = p || m->ticks != r->chrome_ticks;
    model_unlock(m);
    out->pending = p;
}
