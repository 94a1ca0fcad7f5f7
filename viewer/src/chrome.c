/* SPDX-License-Identifier: MIT */
/*
 * Header, legend and status line (see chrome.h). The lines are composed from the
 * model's counts (recomputed by model_tick twice a second), never per message.
 */
#include "chrome.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/topic.h"
#include "tiles.h"

void chrome_areas(struct chrome *ch, const struct text *t, int w, int h)
{
    int pad = (int)(4 * t->scale);
    ch->header = (SDL_Rect){0, 0, w, 2 * t->line_h + t->alert_h + pad};
    ch->status = (SDL_Rect){0, h - t->small_h - pad, w, t->small_h + pad};
    ch->legend = (SDL_Rect){0, ch->status.y - t->line_h - t->small_h - pad, w,
                            t->line_h + t->small_h + pad};
    int gx = (int)(6 * t->scale), gy = ch->header.h + pad;
    ch->grid = (SDL_Rect){gx, gy, w - 2 * gx, ch->legend.y - gy - pad};
    if (ch->grid.w < 8 || ch->grid.h < 8)
        ch->grid = (SDL_Rect){0, 0, w > 8 ? w : 8, h > 8 ? h : 8};
}

/* A colour bar for metric m at x, bar_w wide, its ticks below; returns its end. */
static int scale_bar(struct canvas *c, const struct text *t, const SDL_Rect *L, int x, int bar_w,
                     enum colour_metric m)
{
    int bar_h = t->line_h * 2 / 3;
    int by = L->y + (t->line_h - bar_h) / 2;
    for (int i = 0; i < bar_w; i++)
        canvas_fill(c, x + i, by, 1, bar_h, colour_viridis(bar_w > 1 ? i * 255 / (bar_w - 1) : 0));
    double pos[8];
    const char *labels[8];
    size_t n = colour_ticks(m, pos, labels, 8);
    /* from the top of the scale down: a label that would run into the one after
     * it is left out (narrow bars), the ends always stay */
    int next_x = INT_MAX, first_end = n > 0 ? x + text_width(t->font_small, labels[0]) + 4 : x;
    for (size_t i = n; i-- > 0;) {
        int tx = x + (int)lround(pos[i] * (bar_w - 1));
        canvas_fill(c, tx, by + bar_h, 1, 3, COLOUR_TEXT);
        int tw = text_width(t->font_small, labels[i]);
        int lx = i == 0 ? tx : tx - tw / 2;
        if (i > 0 && (lx + tw + 4 > next_x || lx < first_end))
            continue;
        text_draw(c, t->font_small, labels[i], lx, L->y + t->line_h, COLOUR_TEXT_DIM, L);
        next_x = lx;
    }
    return x + bar_w;
}

/* All metrics: a sample tile with its quadrants named beside it (CPU and disk on
 * its left, memory and network on its right), then the percent and rate scales. */
static int quads_legend(struct canvas *c, const struct text *t, const SDL_Rect *L, int x)
{
    int s = L->h - 4 > 12 ? (L->h - 4) & ~1 : 12;
    int cpu_w = text_width(t->font_small, "CPU"), disk_w = text_width(t->font_small, "DISK");
    int left = (cpu_w > disk_w ? cpu_w : disk_w) + 4, y = L->y + 1;
    text_draw(c, t->font_small, "CPU", x + left - 4 - cpu_w, y, COLOUR_TEXT, L);
    text_draw(c, t->font_small, "DISK", x + left - 4 - disk_w, y + s / 2, COLOUR_TEXT, L);
    x += left;
    uint32_t q[VIEW_QUADS] = {colour_viridis(230), colour_viridis(60), colour_viridis(150),
                              colour_viridis(110)};
    tiles_paint(c, (struct layout_rect){x, y, s, s}, q, VIEW_QUADS, 0, 0, s);
    x += s + 4;
    int mw = text_draw(c, t->font_small, "MEM", x, y, COLOUR_TEXT, L);
    int nw = text_draw(c, t->font_small, "NET", x, y + s / 2, COLOUR_TEXT, L);
    x += (mw > nw ? mw : nw) + 16;
    /* narrower than 150 px, the rate scale's ticks run into each other */
    int bar_w = (int)(200 * t->scale);
    if (bar_w > L->w / 8)
        bar_w = L->w / 8 > 150 ? L->w / 8 : 150;
    x += text_draw(c, t->font, "CPU MEM %", x, L->y, COLOUR_TEXT, L) + 8;
    x = scale_bar(c, t, L, x, bar_w, COLOUR_METRIC_CPU) + 24;
    x += text_draw(c, t->font, "DISK NET bytes/s", x, L->y, COLOUR_TEXT, L) + 8;
    return scale_bar(c, t, L, x, bar_w, COLOUR_METRIC_DISK);
}

void chrome_legend(struct chrome *ch, struct canvas *c, const struct text *t, const struct view *v)
{
    SDL_Rect L = ch->legend;
    canvas_fill(c, L.x, L.y, L.w, L.h, COLOUR_BACKGROUND);
    int x = L.x + 6;
    if (v->all) {
        x = quads_legend(c, t, &L, x) + 24;
    } else {
        x += text_draw(c, t->font, colour_metric_label(v->metric), x, L.y, COLOUR_TEXT, &L) + 10;
        int bar_w = (int)(256 * t->scale);
        if (bar_w > L.w / 3)
            bar_w = L.w / 3;
        x = scale_bar(c, t, &L, x, bar_w, v->metric) + 24;
    }
    /* the marks, each drawn the way tiles show them */
    int s = t->line_h - 2 > 8 ? t->line_h - 2 : 8;
    struct {
        uint32_t c;
        unsigned marks;
        const char *label;
    } sw[] = {
        {colour_viridis(160), TILES_ALERT, "in alert"},
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
        tiles_paint(c, (struct layout_rect){x, L.y + 1, s, s}, &sw[i].c, 1, sw[i].marks, 0, s);
        if (sw[i].marks & TILES_OFFLINE)
            canvas_frame_rect(c, x - 2, L.y - 1, s + 4, s + 4, 1, COLOUR_OFFLINE);
        x += s + 5;
        x += text_draw(c, t->font_small, sw[i].label, x, L.y + (s - t->small_h) / 2 + 1,
                       COLOUR_TEXT_DIM, &L) + 14;
    }
    canvas_dirty(c, L.x, L.y, L.w, L.h);
}

/* "host/vm", printable and cut to 60 bytes each. */
static void both_names(const struct model *m, const struct model_vm *vm, char *buf, size_t size)
{
    char hn[MODEL_HOST_LABEL_MAX], vn[KG_NAME_ESC_MAX + 1];
    model_host_display(m, &m->hosts[vm->host], hn, sizeof(hn));
    model_display(vm->name, vm->name_len, vn, sizeof(vn));
    snprintf(buf, size, "%.60s/%.60s", hn, vn);
}

/* The selection as "host/vm" ("site/host/vm" in a group), as both_names. */
static void sel_names(const struct view *v, char *buf, size_t size)
{
    char gn[KG_NAME_ESC_MAX + 1] = "", hn[KG_NAME_ESC_MAX + 1], vn[KG_NAME_ESC_MAX + 1];
    if (v->sel_group_len > 0)
        model_display(v->sel_group, v->sel_group_len, gn, sizeof(gn));
    model_display(v->sel_host, v->sel_host_len, hn, sizeof(hn));
    model_display(v->sel_vm, v->sel_vm_len, vn, sizeof(vn));
    snprintf(buf, size, "%.60s%s%.60s/%.60s", gn, v->sel_group_len > 0 ? "/" : "", hn, vn);
}

/* Line 0's view: what tiles show, the rotation, the sort, pause, the filter, zoom. */
static void compose_view(const struct chrome *ch, const struct model *m, const struct view *v,
                         char *out)
{
    char zoom[KG_NAME_ESC_MAX + 16] = "", rotate[48] = "", filter[96] = "";
    if (v->zoomed) {
        char zn[KG_NAME_ESC_MAX + 1];
        char gn[KG_NAME_ESC_MAX + 1] = "";
        if (v->zoom_group_len > 0)
            model_display(v->zoom_group, v->zoom_group_len, gn, sizeof(gn));
        model_display(v->zoom, v->zoom_len, zn, sizeof(zn));
        snprintf(zoom, sizeof(zoom), "   zoom: %.40s%s%.60s (Esc)", gn,
                 v->zoom_group_len > 0 ? "/" : "", zn);
    } else if (v->zoom_site) {
        char gn[KG_NAME_ESC_MAX + 1];
        model_display(v->zoom_group, v->zoom_group_len, gn, sizeof(gn));
        snprintf(zoom, sizeof(zoom), "   zoom: site %.60s (Enter or click: a host; Esc)", gn);
    }
    if (v->rotating) {
        char d[32];
        snprintf(rotate, sizeof(rotate), "   rotating every %s (r)",
                 alerts_format_duration(v->rotate_ms, d, sizeof(d)));
    }
    if (v->alerts_only) {
        const struct model_counts *c = &m->counts;
        snprintf(filter, sizeof(filter), "   ALERTS ONLY: %u VMs hidden (a)",
                 c->vms > c->vms_alert ? c->vms - c->vms_alert : 0);
    }
    snprintf(out, CHROME_TEXT_MAX, "kvmgrid-wall   %s @ %s   %s   showing: %s%s%s%s   sort: %s%s%s"
             "   h: help",
             ch->prefix ? ch->prefix : KG_PREFIX_DEFAULT, ch->broker ? ch->broker : "-",
             v->connected ? "connected" : "NOT CONNECTED",
             v->all ? "ALL METRICS (CPU MEM / DISK NET)" : colour_metric_label(v->metric),
             /* a host tile: its VMs worst at the top, the median in the middle */
             v->host_tiles ? "   HOST TILES: worst / median / best (t; click: its VMs)" : "",
             rotate, filter, v->sort == LAYOUT_SORT_NAME ? "name" : "load",
             v->paused ? "   PAUSED" : "", zoom);
}

/* Line 2: how many VMs are in alert and the worst of them, as many as fit in
 * width px of t's font ("+N more" for the rest), or a calm "no alerts"; then the
 * hottest VMs by the view's metric where room is left. *badge_len: the length of
 * the "ALERTS n" start drawn as a badge (0: none). */
static void compose_alerts(const struct model *m, const struct view *v, const struct text *t,
                           int width, uint64_t now_ms, char *out, size_t *badge_len)
{
    const size_t max = CHROME_TEXT_MAX;
    uint32_t n = m->counts.vms_alert;
    size_t off;
    *badge_len = 0;
    if (n == 0) {
        off = (size_t)snprintf(out, max, "no alerts");
    } else {
        off = (size_t)snprintf(out, max, "ALERTS %u", n);
        *badge_len = off;
        uint32_t listed = 0;
        for (int i = 0; i < MODEL_WORST && m->worst[i] >= 0; i++) {
            uint32_t idx = (uint32_t)m->worst[i];
            const struct model_vm *vm = &m->vms[idx];
            const struct alerts_vm *a = model_vm_alerts(m, idx);
            /* the list is the last tick's (at most a second old in a region):
             * a VM whose figures came back since is no longer named */
            if (a->active == 0 || !(vm->flags & MODEL_VM_LIVE))
                continue;
            uint64_t since = alerts_vm_since(a);
            char name[130], dur[32], kinds[56], entry[240];
            both_names(m, vm, name, sizeof(name));
            alerts_format_duration(now_ms > since ? now_ms - since : 0, dur, sizeof(dur));
            snprintf(entry, sizeof(entry), "%s%s %s %s", listed ? " \xC2\xB7 " : "   ", name,
                     alerts_vm_kinds(a, "+", kinds, sizeof(kinds)), dur);
            char more[32] = "";
            if (n > listed + 1)
                snprintf(more, sizeof(more), " +%u more", n - listed - 1);
            char probe[CHROME_TEXT_MAX];
            snprintf(probe, sizeof(probe), "%.*s%s%s", (int)off, out, entry, more);
            if (text_width(text_alert_font(t), probe) > width)
                break;
            off += (size_t)snprintf(out + off, max - off, "%s", entry);
            listed++;
        }
        if (n > listed && off < max)
            off += (size_t)snprintf(out + off, max - off, " +%u more", n - listed);
    }
    if (m->hottest[0] < 0 || off >= max)
        return;
    char hot[CHROME_TEXT_MAX];
    size_t ho = (size_t)snprintf(hot, sizeof(hot), "      hottest by %s:",
                                 colour_metric_label(v->metric));
    /* whole entries only, as many as fit after the alerts: a list cut at the
     * window's edge ("hottest b") reads as noise from across a room */
    bool any = false;
    for (int i = 0; i < MODEL_HOTTEST && m->hottest[i] >= 0 && ho < sizeof(hot); i++) {
        const struct model_vm *vm = &m->vms[m->hottest[i]];
        char name[130], val[32], probe[CHROME_TEXT_MAX];
        both_names(m, vm, name, sizeof(name));
        colour_format(v->metric, model_vm_value(vm, v->metric), val, sizeof(val));
        snprintf(probe, sizeof(probe), "%.*s%.*s   %s %s", (int)off, out, (int)ho, hot, name, val);
        if (text_width(text_alert_font(t), probe) > width)
            break;
        ho += (size_t)snprintf(hot + ho, sizeof(hot) - ho, "   %s %s", name, val);
        any = true;
    }
    if (any)
        snprintf(out + off, max - off, "%s", hot);
}

/* "   SITE LINK DOWN: site3, site4" after the counts: a region's sites whose
 * bridge is cut; what the wall shows of them is as old as the cut. */
static void links_down(const struct model *m, char *out)
{
    size_t off = strlen(out);
    const char *sep = "   SITE LINK DOWN: ";
    for (uint32_t g = 0; g < m->n_groups && off + 1 < CHROME_TEXT_MAX; g++) {
        if (m->groups[g].link != MODEL_LINK_DOWN)
            continue;
        char gn[KG_NAME_ESC_MAX + 1];
        if (m->groups[g].name_len > 0)
            model_display(m->groups[g].name, m->groups[g].name_len, gn, sizeof(gn));
        else
            snprintf(gn, sizeof(gn), "%s", "this site");
        off += (size_t)snprintf(out + off, CHROME_TEXT_MAX - off, "%s%.60s", sep, gn);
        sep = ", ";
    }
}

static void compose_header(const struct chrome *ch, const struct text *t, const struct model *m,
                           const struct view *v, uint64_t now_ms, char h[3][CHROME_TEXT_MAX],
                           size_t *badge_len)
{
    const struct model_counts *c = &m->counts;
    compose_view(ch, m, v, h[0]);
    char ts[40] = "none";
    if (m->newest_ts_ms > 0)
        kg_clock_format_utc(m->newest_ts_ms, ts, sizeof(ts));
    snprintf(h[1], CHROME_TEXT_MAX,
             "hosts %u: %u online, %u offline, %u stale   VMs %u: %u online, %u offline, %u stale"
             "   (running %u, paused %u, shut off %u)   newest sample %s",
             c->hosts, c->hosts_online, c->hosts_offline, c->hosts_stale, c->vms, c->vms_online,
             c->vms_offline, c->vms_stale, c->vms_running, c->vms_paused, c->vms_shutoff, ts);
    if (c->links_down > 0)
        links_down(m, h[1]);
    compose_alerts(m, v, t, ch->header.w - 12, now_ms, h[2], badge_len);
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
            sel_names(v, sel, sizeof(sel));
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

/* Header line i: line 2's alert badge in black on the alert colour, the rest in
 * the line's colour. */
static void draw_line(struct canvas *c, TTF_Font *f, const SDL_Rect *line, const char *s,
                      size_t badge_len, uint32_t colour)
{
    int x = line->x + 6;
    if (badge_len > 0) {
        char badge[64];
        snprintf(badge, sizeof(badge), "%.*s", (int)badge_len, s);
        int bw = text_width(f, badge);
        canvas_fill(c, x - 3, line->y, bw + 6, line->h, COLOUR_OFFLINE);
        text_draw(c, f, badge, x, line->y, COLOUR_STALE_ALT, line);
        x += bw + 3;
        s += badge_len;
        colour = COLOUR_TEXT;
    }
    text_draw(c, f, s, x, line->y, colour, line);
}

void chrome_update(struct chrome *ch, struct canvas *c, const struct text *t,
                   const struct model *m, const struct view *v, uint64_t now_ms, bool force)
{
    char h[3][CHROME_TEXT_MAX], status[CHROME_TEXT_MAX];
    size_t badge_len = 0;
    compose_header(ch, t, m, v, now_ms, h, &badge_len);
    compose_status(ch, m, v, status);
    for (int i = 0; i < 3; i++) {
        if (!force && strcmp(h[i], ch->header_text[i]) == 0)
            continue;
        memcpy(ch->header_text[i], h[i], CHROME_TEXT_MAX);
        /* lines 0 and 1 in the header font; line 2, the alerts, in the alert font */
        SDL_Rect line = {ch->header.x, ch->header.y + i * t->line_h, ch->header.w,
                         i == 2 ? t->alert_h : t->line_h};
        canvas_fill(c, line.x, line.y, line.w, line.h, COLOUR_BACKGROUND);
        draw_line(c, i == 2 ? text_alert_font(t) : t->font, &line, h[i], i == 2 ? badge_len : 0,
                  i == 0 ? COLOUR_TEXT : COLOUR_TEXT_DIM);
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
