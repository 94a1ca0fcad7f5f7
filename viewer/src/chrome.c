/* SPDX-License-Identifier: MIT */
/*
 * Header, legend and status line (see chrome.h). The lines are composed from the
 * model's counts (recomputed by model_tick twice a second), never per message.
 */
#include "chrome.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/topic.h"
#include "tiles.h"

void chrome_areas(struct chrome *ch, const struct text *t, int w, int h)
{
    int pad = (int)(4 * t->scale);
    ch->header = (SDL_Rect){0, 0, w, 3 * t->line_h + pad};
    ch->status = (SDL_Rect){0, h - t->small_h - pad, w, t->small_h + pad};
    ch->legend = (SDL_Rect){0, ch->status.y - t->line_h - t->small_h - pad, w,
                            t->line_h + t->small_h + pad};
    int gx = (int)(6 * t->scale), gy = ch->header.h + pad;
    ch->grid = (SDL_Rect){gx, gy, w - 2 * gx, ch->legend.y - gy - pad};
    if (ch->grid.w < 8 || ch->grid.h < 8)
        ch->grid = (SDL_Rect){0, 0, w > 8 ? w : 8, h > 8 ? h : 8};
}

void chrome_legend(struct chrome *ch, struct canvas *c, const struct text *t, const struct view *v)
{
    SDL_Rect L = ch->legend;
    canvas_fill(c, L.x, L.y, L.w, L.h, COLOUR_BACKGROUND);
    int x = L.x + 6;
    x += text_draw(c, t->font, colour_metric_label(v->metric), x, L.y, COLOUR_TEXT, &L) + 10;
    int bar_w = (int)(256 * t->scale), bar_h = t->line_h * 2 / 3;
    if (bar_w > L.w / 3)
        bar_w = L.w / 3;
    int by = L.y + (t->line_h - bar_h) / 2;
    for (int i = 0; i < bar_w; i++)
        canvas_fill(c, x + i, by, 1, bar_h, colour_viridis(bar_w > 1 ? i * 255 / (bar_w - 1) : 0));
    double pos[8];
    const char *labels[8];
    size_t n = colour_ticks(v->metric, pos, labels, 8);
    for (size_t i = 0; i < n; i++) {
        int tx = x + (int)lround(pos[i] * (bar_w - 1));
        canvas_fill(c, tx, by + bar_h, 1, 3, COLOUR_TEXT);
        int tw = text_width(t->font_small, labels[i]);
        int lx = tx - tw / 2;
        if (i == 0)
            lx = tx;
        text_draw(c, t->font_small, labels[i], lx, L.y + t->line_h, COLOUR_TEXT_DIM, &L);
    }
    x += bar_w + 24;
    /* the marks, each drawn the way tiles show them */
    int s = t->line_h - 2 > 8 ? t->line_h - 2 : 8;
    struct {
        uint32_t c;
        unsigned marks;
        const char *label;
    } sw[] = {
        {colour_viridis(160), TILES_STALE, "stale"},
        {colour_viridis(160), TILES_OFFLINE, "host offline"},
        {colour_viridis(160), TILES_PAUSED, "paused"},
        {0, TILES_SHUTOFF, "shut off"},
        {0, TILES_CRASHED, "crashed"},
        {colour_viridis(160), TILES_LOAD, "load running"},
        {COLOUR_NA, 0, "no data"},
    };
    for (size_t i = 0; i < sizeof(sw) / sizeof(sw[0]); i++) {
        if (x + s + 8 > L.x + L.w)
            break;
        tiles_paint(c, (struct layout_rect){x, L.y + 1, s, s}, sw[i].c, sw[i].marks, s);
        if (sw[i].marks & TILES_OFFLINE)
            canvas_frame_rect(c, x - 2, L.y - 1, s + 4, s + 4, 1, COLOUR_OFFLINE);
        x += s + 5;
        x += text_draw(c, t->font_small, sw[i].label, x, L.y + (s - t->small_h) / 2 + 1,
                       COLOUR_TEXT_DIM, &L) + 14;
    }
    canvas_dirty(c, L.x, L.y, L.w, L.h);
}

/* "host/vm", printable and cut to 60 bytes each. */
static void both_names(const char *host, size_t host_len, const char *vm, size_t vm_len,
                       char *buf, size_t size)
{
    char hn[KG_NAME_ESC_MAX + 1], vn[KG_NAME_ESC_MAX + 1];
    model_display(host, host_len, hn, sizeof(hn));
    model_display(vm, vm_len, vn, sizeof(vn));
    snprintf(buf, size, "%.60s/%.60s", hn, vn);
}

static void compose_header(const struct chrome *ch, const struct model *m, const struct view *v,
                           char h[3][CHROME_TEXT_MAX])
{
    const struct model_counts *c = &m->counts;
    char zoom[KG_NAME_ESC_MAX + 16] = "";
    if (v->zoomed) {
        char zn[KG_NAME_ESC_MAX + 1];
        model_display(v->zoom, v->zoom_len, zn, sizeof(zn));
        snprintf(zoom, sizeof(zoom), "   zoom: %.60s (Esc)", zn);
    }
    snprintf(h[0], CHROME_TEXT_MAX, "kvmgrid-wall   %s @ %s   %s   metric: %s   sort: %s%s%s   h: help",
             ch->prefix ? ch->prefix : KG_PREFIX_DEFAULT, ch->broker ? ch->broker : "-",
             v->connected ? "connected" : "NOT CONNECTED", colour_metric_label(v->metric),
             v->sort == LAYOUT_SORT_NAME ? "name" : "load", v->paused ? "   PAUSED" : "", zoom);
    char ts[40] = "none";
    if (m->newest_ts_ms > 0)
        kg_clock_format_utc(m->newest_ts_ms, ts, sizeof(ts));
    snprintf(h[1], CHROME_TEXT_MAX,
             "hosts %u: %u online, %u offline, %u stale   VMs %u: %u online, %u offline, %u stale"
             "   (running %u, paused %u, shut off %u)   newest sample %s",
             c->hosts, c->hosts_online, c->hosts_offline, c->hosts_stale, c->vms, c->vms_online,
             c->vms_offline, c->vms_stale, c->vms_running, c->vms_paused, c->vms_shutoff, ts);
    size_t off = (size_t)snprintf(h[2], CHROME_TEXT_MAX, "hottest by %s:", colour_metric_label(v->metric));
    for (int i = 0; i < MODEL_HOTTEST && m->hottest[i] >= 0 && off < CHROME_TEXT_MAX; i++) {
        const struct model_vm *vm = &m->vms[m->hottest[i]];
        const struct model_host *host = &m->hosts[vm->host];
        char name[130], val[32];
        both_names(host->name, host->name_len, vm->name, vm->name_len, name, sizeof(name));
        colour_format(v->metric, model_vm_value(vm, v->metric), val, sizeof(val));
        off += (size_t)snprintf(h[2] + off, CHROME_TEXT_MAX - off, "   %s %s", name, val);
    }
    if (m->hottest[0] < 0 && off < CHROME_TEXT_MAX)
        snprintf(h[2] + off, CHROME_TEXT_MAX - off, "   -");
}

static void compose_status(const struct chrome *ch, const struct model *m, const struct view *v,
                           char *status)
{
    const size_t max = CHROME_TEXT_MAX;
    uint64_t bad = model_bad_total(m);
    size_t off = 0;
    if (v->operator_mode) {
        char sel[KG_NAME_ESC_MAX * 2 + 8] = "none (click a tile or use the arrow keys)";
        if (v->selected)
            both_names(v->sel_host, v->sel_host_len, v->sel_vm, v->sel_vm_len, sel, sizeof(sel));
        off = (size_t)snprintf(status, max,
                               "OPERATOR  %.200s   selected %s (F5 cpu 80%%, F6 mem 256 MiB, "
                               "F7 disk 20 MB/s, F8 stop)   ",
                               v->op_msg[0] ? v->op_msg : "ready", sel);
        if (off >= max)
            off = max - 1;
    }
    off += (size_t)snprintf(status + off, max - off, "malformed payloads: %llu", (unsigned long long)bad);
    if (bad > 0 && off < max) {
        for (int i = 0; i < MODEL_BAD_COUNT && off < max; i++)
            off += (size_t)snprintf(status + off, max - off, "%s %s %llu", i ? "," : " (",
                                    model_bad_name((enum model_bad)i), (unsigned long long)m->bad[i]);
        if (off < max)
            off += (size_t)snprintf(status + off, max - off, ")   last: %.160s", m->last_bad);
    }
    if (model_dropped_total(m) > 0 && off < max)
        off += (size_t)snprintf(status + off, max - off,
                                "   DROPPED over the caps: %llu for new hosts (max_hosts %u), "
                                "%llu for new VMs (max_vms %u)",
                                (unsigned long long)m->dropped_hosts, m->max_hosts,
                                (unsigned long long)m->dropped_vms, m->max_vms);
    if (off < max)
        off += (size_t)snprintf(status + off, max - off, "   applied %llu, removed %llu, ignored %llu",
                                (unsigned long long)m->applied, (unsigned long long)m->removed,
                                (unsigned long long)m->ignored);
    if (ch->trends != NULL && ch->trends[0] && off < max)
        snprintf(status + off, max - off, "   %s", ch->trends);
}

void chrome_update(struct chrome *ch, struct canvas *c, const struct text *t,
                   const struct model *m, const struct view *v, bool force)
{
    char h[3][CHROME_TEXT_MAX], status[CHROME_TEXT_MAX];
    compose_header(ch, m, v, h);
    compose_status(ch, m, v, status);
    for (int i = 0; i < 3; i++) {
        if (!force && strcmp(h[i], ch->header_text[i]) == 0)
            continue;
        memcpy(ch->header_text[i], h[i], CHROME_TEXT_MAX);
        SDL_Rect line = {ch->header.x, ch->header.y + i * t->line_h, ch->header.w, t->line_h};
        canvas_fill(c, line.x, line.y, line.w, line.h, COLOUR_BACKGROUND);
        text_draw(c, t->font, h[i], line.x + 6, line.y, i == 0 ? COLOUR_TEXT : COLOUR_TEXT_DIM, &line);
        canvas_dirty(c, line.x, line.y, line.w, line.h);
    }
    if (force || strcmp(status, ch->status_text) != 0) {
        memcpy(ch->status_text, status, CHROME_TEXT_MAX);
        SDL_Rect S = ch->status;
        canvas_fill(c, S.x, S.y, S.w, S.h, COLOUR_BACKGROUND);
        bool trouble = model_bad_total(m) > 0 || model_dropped_total(m) > 0;
        text_draw(c, t->font_small, status, S.x + 6, S.y, trouble ? COLOUR_OFFLINE : COLOUR_TEXT_DIM, &S);
        canvas_dirty(c, S.x, S.y, S.w, S.h);
    }
}
