/* SPDX-License-Identifier: MIT */
/*
 * Tooltip, help and selection frame (see overlay.h), drawn by SDL's renderer over
 * the uploaded picture so that they never touch the canvas's pixels.
 */
#include "overlay.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "selection.h"

static const char help_text[] =
    "kvmgrid-wall keys\n"
    "0 all metrics (quadrants: CPU MEM / DISK NET)   1 CPU %   2 memory %   3 disk bytes/s\n"
    "4 network bytes/s   5 steal %   m next (all, CPU ... steal); a metric key stops the rotation\n"
    "r rotate the view every few seconds / stop rotating     a alerts only: VMs in alert\n"
    "s sort by name / by load        F11 full screen\n"
    "t tiles: auto (host tiles when VM tiles would be tiny) -> hosts -> VMs\n"
    "Enter or click: zoom into the host under the mouse (a region: its site first)\n"
    "Esc: close this, zoom out, leave alerts only, clear the selection (one per press)\n"
    "p pause the picture        h or ?: this help        q quit\n"
    "operator mode: click or arrows select a VM; F5 CPU 80 %, F6 memory 256 MiB,\n"
    "F7 disk write 20 MB/s (each 60 s), F8 stop: sent to the VM's load generator\n"
    "\n"
    "Tiles: one per VM, grouped by host, coloured by the metric (viridis), or in all metrics\n"
    "four quadrants: CPU and memory % (linear), disk and network bytes/s (log scale).\n"
    "White frame around a black one = VM in alert (a white triangle: the quadrant in alert)\n"
    "Checkerboard = stale (no update for N intervals)   stripes + frame + OFFLINE = host offline\n"
    "two bars = paused   hollow square = shut off   white corner = load generator running\n"
    "grey = no figure for this metric (e.g. rates before the second sample)\n"
    "Host tiles: one per host, its rows its VMs' values sorted: the worst at the top,\n"
    "the median in the middle, the best at the bottom; alert frame and ! n = n VMs in alert;\n"
    "checkerboard over the bottom rows = the share of its VMs that are stale";

/* Numbers by colour_format_number's rule: whole numbers without decimals. */
static void fmt_kib(float kib, char *buf, size_t size)
{
    char num[32];
    if (isnan(kib))
        snprintf(buf, size, "n/a");
    else if (kib >= 1024.0f * 1024.0f)
        snprintf(buf, size, "%s GiB", colour_format_number((double)kib / (1024.0 * 1024.0), 2, num, sizeof(num)));
    else
        snprintf(buf, size, "%s MiB", colour_format_number((double)kib / 1024.0, 1, num, sizeof(num)));
}

static void fmt_num(float v, const char *unit, char *buf, size_t size)
{
    char num[32];
    if (isnan(v))
        snprintf(buf, size, "n/a");
    else
        snprintf(buf, size, "%s%s", colour_format_number((double)v, 1, num, sizeof(num)), unit);
}

/* A count (vCPUs): a whole number, printed as one. */
static void fmt_count(float v, char *buf, size_t size)
{
    colour_format_number((double)v, 0, buf, size);
}

/* The VM's figures, one line per kind, after its name and state. */
static void vm_tooltip(const struct model *m, const struct model_vm *v, const char *hn,
                       const char *hs, uint64_t now_ms, char *out, size_t size)
{
    char vn[KG_NAME_ESC_MAX + 1], a[32], b2[32], c[32], d[32], e[32], f[32], g[32], hh[32];
    model_display(v->name, v->name_len, vn, sizeof(vn));
    const float *x = v->fig;
    size_t off = 0;
    off += (size_t)snprintf(out + off, size - off, "%.80s / %.80s   host %s\nstate %s%s%s\n", hn, vn,
                            hs, kg_vm_state_name((enum kg_vm_state)v->state),
                            (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE)) ? ", STALE" : "",
                            model_vm_load_running(m, v) ? ", load generator running" : "");
    fmt_num(x[MODEL_FIG_CPU_PCT], " %", a, sizeof(a));
    fmt_num(x[MODEL_FIG_CPU_HOST_PCT], " %", b2, sizeof(b2));
    fmt_num(x[MODEL_FIG_STEAL_PCT], " %", c, sizeof(c));
    fmt_count(x[MODEL_FIG_VCPUS], d, sizeof(d));
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
}

/* The host of the block under (x, y) and the index of the VM tile there among
 * the VMs the grid shows of it (-1: none). */
static const struct model_host *tip_at(const struct layout_grid *g, const struct model *m, int x,
                                       int y, int *tile)
{
    int32_t b = x >= 0 ? layout_grid_block_at(g, x, y) : -1;
    if (b < 0)
        return NULL;
    const struct model_host *h = layout_grid_host(g, m, (size_t)b);
    int t = h != NULL ? layout_tile_at(&g->lr, &g->blocks[b], x, y) : -1;
    /* the filter may show fewer than n_vms */
    *tile = t >= 0 && (uint32_t)t < g->counts[b] && (uint32_t)t < h->n_vms ? t : -1;
    return h;
}

/* The host of the host tile under (x, y), or NULL. */
static const struct model_host *host_tile_at(const struct layout_grid *g, const struct model *m,
                                             int x, int y)
{
    int32_t i = x >= 0 ? layout_grid_host_tile_at(g, x, y) : -1;
    return i >= 0 ? layout_grid_host_tile(g, m, (size_t)i) : NULL;
}

/* A host tile's tooltip: the host, its VMs, and per metric shown the worst, p90
 * and median of its VMs' values with how many have none. */
static void host_tile_tooltip(const struct model *m, const struct model_host *h,
                              const struct hostagg *agg, const struct view *v, const char *hn,
                              const char *hs, char *out, size_t size)
{
    const struct hostagg_host *a = agg != NULL ? hostagg_get(agg, (uint32_t)(h - m->hosts)) : NULL;
    size_t off = (size_t)snprintf(out, size, "host %.160s (%s)\nVMs %u", hn, hs, h->n_vms);
    if (a == NULL)
        return;
    if (off < size)
        off += (size_t)snprintf(out + off, size - off, "   in alert %u   stale %u\n", a->n_alert,
                                a->n_stale);
    static const char *const names[COLOUR_METRIC_COUNT] = {"CPU", "memory", "disk", "net",
                                                           "steal"};
    for (int k = 0; k < COLOUR_METRIC_COUNT && off < size; k++) {
        bool shown = v->all ? k != COLOUR_METRIC_STEAL : (enum colour_metric)k == v->metric;
        if (!shown)
            continue;
        char w[32], p[32], md[32];
        enum colour_metric mk = (enum colour_metric)k;
        if (a->n_value[k] == 0) {
            off += (size_t)snprintf(out + off, size - off, "%s: n/a\n", names[k]);
            continue;
        }
        colour_format(mk, hostagg_at(a, mk, 0), w, sizeof(w));
        colour_format(mk, (double)a->q[k][HOSTAGG_P90], p, sizeof(p));
        colour_format(mk, hostagg_at(a, mk, 0.5), md, sizeof(md));
        off += (size_t)snprintf(out + off, size - off, "%s: worst %s   p90 %s   median %s", names[k],
                                w, p, md);
        if (off < size && a->n_value[k] < a->n_vms)
            off += (size_t)snprintf(out + off, size - off, "   (n/a for %u)",
                                    a->n_vms - a->n_value[k]);
        if (off < size)
            off += (size_t)snprintf(out + off, size - off, "\n");
    }
    if (off < size)
        snprintf(out + off, size - off, "click or Enter: its VMs");
}

void overlay_tooltip_of(const struct layout_grid *g, const struct model *m, int x, int y,
                        int32_t *host, int32_t *vm)
{
    if (g->host_tiles) {
        const struct model_host *h = host_tile_at(g, m, x, y);
        *host = h != NULL ? (int32_t)(h - m->hosts) : -1;
        *vm = -1;
        return;
    }
    int t = -1;
    const struct model_host *h = tip_at(g, m, x, y, &t);
    *host = h != NULL ? (int32_t)(h - m->hosts) : -1;
    *vm = h != NULL && t >= 0 ? (int32_t)h->vms[t] : -1;
}

void overlay_tooltip_text(const struct layout_grid *g, const struct model *m,
                          const struct hostagg *agg, const struct view *v, int x, int y,
                          uint64_t now_ms, char *out, size_t size)
{
    out[0] = '\0';
    int t = -1;
    const struct model_host *h = g->host_tiles ? host_tile_at(g, m, x, y) : tip_at(g, m, x, y, &t);
    if (h == NULL)
        return;
    char hn[MODEL_HOST_LABEL_MAX];
    model_host_display(m, h, hn, sizeof(hn));
    const char *hs = h->status == MODEL_HOST_OFFLINE ? "OFFLINE"
                     : h->status == MODEL_HOST_ONLINE ? (h->stale ? "online, stale" : "online")
                                                      : "status unknown";
    if (g->host_tiles) {
        host_tile_tooltip(m, h, agg, v, hn, hs, out, size);
        return;
    }
    if (t < 0) {
        char cpu[32];
        fmt_num(h->cpu_pct, " %", cpu, sizeof(cpu));
        snprintf(out, size, "host %.80s (%s)\nVMs %u   CPU %s   libvirt %s", hn, hs, h->n_vms, cpu,
                 h->libvirt_ok ? "ok" : "failing");
        return;
    }
    vm_tooltip(m, &m->vms[h->vms[t]], hn, hs, now_ms, out, size);
}

bool overlay_select(struct overlay *o, const struct view *v, const struct layout_grid *g,
                    const struct model *m)
{
    struct layout_rect sel = {0, 0, 0, 0};
    bool visible = false;
    int32_t b, vi;
    if (v->operator_mode && selection_find(v, g, m, &b, &vi)) {
        sel = layout_tile_rect(&g->lr, &g->blocks[b], (uint32_t)m->vms[vi].pos);
        visible = true;
    }
    if (visible == o->sel_visible && memcmp(&sel, &o->sel_rect, sizeof(sel)) == 0)
        return false;
    o->sel_visible = visible;
    o->sel_rect = sel;
    return true;
}

static SDL_Texture *text_texture(SDL_Renderer *ren, TTF_Font *font, const char *s, int wrap,
                                 int *w, int *h)
{
    SDL_Color c = {0xE8, 0xE8, 0xE8, 255};
    SDL_Surface *t = TTF_RenderUTF8_Blended_Wrapped(font, s, c, (Uint32)wrap);
    if (t == NULL)
        return NULL;
    SDL_Texture *tex = SDL_CreateTextureFromSurface(ren, t);
    *w = t->w;
    *h = t->h;
    SDL_FreeSurface(t);
    return tex;
}

bool overlay_update(struct overlay *o, SDL_Renderer *ren, TTF_Font *font, float scale,
                    const char *tip, bool help)
{
    bool changed = false;
    if (strcmp(tip, o->tip_text) != 0) {
        snprintf(o->tip_text, sizeof(o->tip_text), "%s", tip);
        if (o->tip_tex)
            SDL_DestroyTexture(o->tip_tex);
        o->tip_tex = tip[0] ? text_texture(ren, font, tip, (int)(900 * scale), &o->tip_w, &o->tip_h)
                            : NULL;
        changed = true;
    }
    if (help && o->help_tex == NULL)
        o->help_tex = text_texture(ren, font, help_text, (int)(1000 * scale), &o->help_w, &o->help_h);
    return changed;
}

void overlay_panel(struct overlay *o, SDL_Renderer *ren, SDL_Surface *s)
{
    if (o->panel_tex)
        SDL_DestroyTexture(o->panel_tex);
    o->panel_tex = s != NULL ? SDL_CreateTextureFromSurface(ren, s) : NULL;
    o->panel_w = s != NULL ? s->w : 0;
    o->panel_h = s != NULL ? s->h : 0;
}

bool overlay_help_pending(const struct overlay *o, bool help)
{
    return help && o->help_tex == NULL;
}

/* A box of texture t (w x h) at (x, y), kept on the w x h output, with texture
 * p (pw x ph, may be NULL) below it; p's place goes into *p_at (may be NULL). */
static void draw_box(SDL_Renderer *ren, SDL_Texture *t, int w, int h, SDL_Texture *p, int pw,
                     int ph, struct layout_rect *p_at, int x, int y, int out_w, int out_h,
                     float scale)
{
    int pad = (int)(6 * scale), text_w = w, text_h = h;
    if (p != NULL) {
        h += pad + ph;
        w = w > pw ? w : pw;
    }
    if (x + w + 2 * pad > out_w)
        x = out_w - w - 2 * pad;
    if (y + h + 2 * pad > out_h)
        y = out_h - h - 2 * pad;
    if (x < 0)
        x = 0;
    if (y < 0)
        y = 0;
    SDL_Rect bg = {x, y, w + 2 * pad, h + 2 * pad};
    SDL_SetRenderDrawColor(ren, 0x20, 0x20, 0x28, 0xFF);
    SDL_RenderFillRect(ren, &bg);
    SDL_SetRenderDrawColor(ren, 0xE8, 0xE8, 0xE8, 0xFF);
    SDL_RenderDrawRect(ren, &bg);
    SDL_Rect dst = {x + pad, y + pad, text_w, text_h};
    SDL_RenderCopy(ren, t, NULL, &dst);
    if (p != NULL) {
        SDL_Rect pd = {x + pad, y + 2 * pad + text_h, pw, ph};
        SDL_RenderCopy(ren, p, NULL, &pd);
        if (p_at != NULL)
            *p_at = (struct layout_rect){pd.x, pd.y, pw, ph};
    }
}

void overlay_draw(struct overlay *o, SDL_Renderer *ren, SDL_Texture *tex, int tile_px,
                  int mouse_x, int mouse_y, bool help, int w, int h, float scale)
{
    if (o->sel_visible) {
        /* the selected tile: a white frame outside a black one, visible on any colour */
        const struct layout_rect *s = &o->sel_rect;
        int g = tile_px >= 8 ? 2 : 1;
        SDL_Rect in = {s->x - g, s->y - g, s->w + 2 * g, s->h + 2 * g};
        SDL_Rect outr = {in.x - g, in.y - g, in.w + 2 * g, in.h + 2 * g};
        SDL_SetRenderDrawColor(ren, 0xFF, 0xFF, 0xFF, 0xFF);
        SDL_RenderFillRect(ren, &outr);
        SDL_SetRenderDrawColor(ren, 0x00, 0x00, 0x00, 0xFF);
        SDL_RenderFillRect(ren, &in);
        SDL_Rect tile = {s->x, s->y, s->w, s->h};
        SDL_RenderCopy(ren, tex, &tile, &tile);
    }
    o->panel_rect = (struct layout_rect){0, 0, 0, 0};
    if (o->tip_tex)
        draw_box(ren, o->tip_tex, o->tip_w, o->tip_h, o->panel_tex, o->panel_w, o->panel_h,
                 &o->panel_rect, mouse_x + (int)(16 * scale), mouse_y + (int)(16 * scale), w, h,
                 scale);
    if (help && o->help_tex)
        draw_box(ren, o->help_tex, o->help_w, o->help_h, NULL, 0, 0, NULL, (w - o->help_w) / 2,
                 (h - o->help_h) / 2, w, h, scale);
}

void overlay_reset(struct overlay *o)
{
    if (o->help_tex)
        SDL_DestroyTexture(o->help_tex);
    if (o->tip_tex)
        SDL_DestroyTexture(o->tip_tex);
    if (o->panel_tex)
        SDL_DestroyTexture(o->panel_tex);
    o->help_tex = o->tip_tex = o->panel_tex = NULL;
    o->panel_w = o->panel_h = 0;
    o->tip_text[0] = '\0';
}
