/* SPDX-License-Identifier: MIT */
/*
 * The view state and its setters (see view.h). A setter that changes nothing bumps
 * nothing, so that repeating a key or a state costs no frame.
 */
#include "view.h"

#include <stdio.h>
#include <string.h>

#include "model.h"

const enum colour_metric view_quad_metric[VIEW_QUADS] = {
    COLOUR_METRIC_CPU, COLOUR_METRIC_MEM, COLOUR_METRIC_DISK, COLOUR_METRIC_NET};

void view_init(struct view *v, enum view_show show, enum layout_sort_by sort,
               bool operator_mode)
{
    memset(v, 0, sizeof(*v));
    v->sort = sort;
    v->operator_mode = operator_mode;
    v->all = show == VIEW_SHOW_ALL || (unsigned)show >= VIEW_SHOW_COUNT;
    v->metric = v->all ? COLOUR_METRIC_CPU : (enum colour_metric)(show - VIEW_SHOW_CPU);
    v->host_tiles_below_px = LAYOUT_HOST_TILES_BELOW_PX;
}

enum view_show view_showing(const struct view *v)
{
    return v->all ? VIEW_SHOW_ALL : (enum view_show)(VIEW_SHOW_CPU + v->metric);
}

/* The step itself, without touching the rotation. */
static void show(struct view *v, enum view_show s)
{
    if ((unsigned)s >= VIEW_SHOW_COUNT || s == view_showing(v))
        return;
    v->all = s == VIEW_SHOW_ALL;
    /* all metrics: the hottest list and sort by load count CPU */
    v->metric = v->all ? COLOUR_METRIC_CPU : (enum colour_metric)(s - VIEW_SHOW_CPU);
    v->tiles_gen++;
    v->chrome_gen++;
    if (v->sort == LAYOUT_SORT_LOAD)
        v->order_gen++;
}

void view_show(struct view *v, enum view_show s)
{
    view_stop_rotation(v);
    show(v, s);
}

void view_set_metric(struct view *v, enum colour_metric m)
{
    view_show(v, (enum view_show)(VIEW_SHOW_CPU + m));
}

void view_next_metric(struct view *v)
{
    view_show(v, (enum view_show)((view_showing(v) + 1) % VIEW_SHOW_COUNT));
}

const char *view_show_key(enum view_show s)
{
    return s == VIEW_SHOW_ALL ? "all" : colour_metric_key((enum colour_metric)(s - VIEW_SHOW_CPU));
}

const char *view_show_label(enum view_show s)
{
    return s == VIEW_SHOW_ALL ? "all metrics"
                              : colour_metric_label((enum colour_metric)(s - VIEW_SHOW_CPU));
}

void view_set_rotation(struct view *v, uint64_t period_ms)
{
    v->rotate_ms = period_ms;
    v->rotating = period_ms > 0;
    v->rotate_at_ms = 0;
    v->chrome_gen++;
}

void view_toggle_rotation(struct view *v)
{
    if (v->rotating) {
        view_stop_rotation(v);
        return;
    }
    if (v->rotate_ms == 0)
        v->rotate_ms = VIEW_ROTATE_DEFAULT_MS;
    v->rotating = true;
    v->rotate_at_ms = 0;
    v->chrome_gen++;
}

void view_stop_rotation(struct view *v)
{
    if (!v->rotating)
        return;
    v->rotating = false;
    v->chrome_gen++;
}

bool view_rotate(struct view *v, uint64_t now_ms)
{
    /* paused, the tiles keep the picture: the header must keep its metric too */
    if (!v->rotating || v->paused)
        return false;
    if (v->rotate_at_ms == 0) {
        v->rotate_at_ms = now_ms + v->rotate_ms;
        return false;
    }
    if (now_ms < v->rotate_at_ms)
        return false;
    show(v, (enum view_show)((view_showing(v) + 1) % VIEW_SHOW_COUNT));
    /* from now: a wall that stalled does not race through the views to catch up */
    v->rotate_at_ms = now_ms + v->rotate_ms;
    return true;
}

void view_set_alerts_only(struct view *v, bool on)
{
    if (on == v->alerts_only)
        return;
    v->alerts_only = on;
    v->order_gen++;
    v->chrome_gen++;
}

void view_set_sort(struct view *v, enum layout_sort_by by)
{
    if (by == v->sort)
        return;
    v->sort = by;
    v->order_gen++;
    v->chrome_gen++;
}

void view_toggle_sort(struct view *v)
{
    view_set_sort(v, v->sort == LAYOUT_SORT_NAME ? LAYOUT_SORT_LOAD : LAYOUT_SORT_NAME);
}

void view_set_paused(struct view *v, bool paused)
{
    v->paused = paused;
    v->chrome_gen++;
}

void view_toggle_help(struct view *v)
{
    v->help = !v->help;
    v->overlay_gen++;
}

void view_set_connected(struct view *v, bool connected)
{
    if (connected == v->connected)
        return;
    v->connected = connected;
    v->chrome_gen++;
}

void view_set_tiles(struct view *v, enum layout_tiles tiles, int below_px)
{
    if (below_px <= 0)
        below_px = v->host_tiles_below_px;
    if (tiles == v->tiles && below_px == v->host_tiles_below_px)
        return;
    v->tiles = tiles;
    v->host_tiles_below_px = below_px;
    v->order_gen++;
    v->chrome_gen++;
}

void view_next_tiles(struct view *v)
{
    static const enum layout_tiles next[] = {LAYOUT_TILES_HOSTS, LAYOUT_TILES_AUTO,
                                             LAYOUT_TILES_VMS};
    /* auto -> hosts -> vms -> auto */
    enum layout_tiles t = v->tiles == LAYOUT_TILES_AUTO    ? next[0]
                          : v->tiles == LAYOUT_TILES_HOSTS ? next[2]
                                                           : next[1];
    view_set_tiles(v, t, 0);
}

const char *view_tiles_key(enum layout_tiles t)
{
    static const char *const keys[] = {"auto", "vms", "hosts"};
    return (unsigned)t < 3 ? keys[t] : "?";
}

void view_note_host_tiles(struct view *v, bool host_tiles)
{
    if (host_tiles == v->host_tiles)
        return;
    v->host_tiles = host_tiles;
    v->chrome_gen++;
    v->overlay_gen++;
}

bool view_zoom_at(struct view *v, const struct layout_grid *g, struct model *m, int x, int y)
{
    model_lock(m);
    const struct model_host *h;
    if (g->host_tiles) {
        int32_t t = layout_grid_host_tile_at(g, x, y);
        h = t >= 0 ? layout_grid_host_tile(g, m, (size_t)t) : NULL;
    } else {
        int32_t b = layout_grid_block_at(g, x, y);
        h = b >= 0 ? layout_grid_host(g, m, (size_t)b) : NULL;
    }
    if (h != NULL) {
        const struct model_group *gr = &m->groups[h->group];
        memcpy(v->zoom_group, gr->name, gr->name_len + 1);
        v->zoom_group_len = gr->name_len;
        if (!v->zoomed && !v->zoom_site && gr->name_len > 0 && m->n_groups > 2) {
            v->zoom_site = true; /* a region: its site first */
        } else {
            memcpy(v->zoom, h->name, h->name_len);
            v->zoom[h->name_len] = '\0';
            v->zoom_len = h->name_len;
            v->zoomed = true;
        }
    }
    model_unlock(m);
    if (h == NULL)
        return false;
    v->order_gen++;
    v->chrome_gen++;
    return true;
}

void view_zoom_out(struct view *v)
{
    if (v->zoomed)
        v->zoomed = false; /* to its site, when entered from there */
    else if (v->zoom_site)
        v->zoom_site = false;
    else
        return;
    v->order_gen++;
    v->chrome_gen++;
}

void view_zoom_lost(struct view *v)
{
    v->zoomed = false;
    v->zoom_site = false;
}

void view_set_operator(struct view *v, bool on)
{
    v->operator_mode = on;
    if (!on)
        v->selected = false;
    v->chrome_gen++;
    v->overlay_gen++;
}

void view_select(struct view *v, const char *group, size_t group_len, const char *host,
                 size_t host_len, const char *vm, size_t vm_len)
{
    memcpy(v->sel_group, group, group_len);
    v->sel_group[group_len] = '\0';
    v->sel_group_len = group_len;
    memcpy(v->sel_host, host, host_len);
    v->sel_host[host_len] = '\0';
    v->sel_host_len = host_len;
    memcpy(v->sel_vm, vm, vm_len);
    v->sel_vm[vm_len] = '\0';
    v->sel_vm_len = vm_len;
    v->selected = true;
    v->chrome_gen++;
    v->overlay_gen++;
}

void view_clear_selection(struct view *v)
{
    if (!v->selected)
        return;
    v->selected = false;
    v->chrome_gen++;
    v->overlay_gen++;
}

void view_set_operator_message(struct view *v, const char *msg)
{
    snprintf(v->op_msg, sizeof(v->op_msg), "%s", msg ? msg : "");
    v->chrome_gen++;
}
