/* SPDX-License-Identifier: MIT */
/*
 * The frame step (see screen.h). It holds the model's lock while the grid is
 * ordered and the renderer draws, so that both see one state of the model; SDL's
 * uploads and presenting happen after the lock is released.
 */
#include "screen.h"

#include <string.h>

#include "kvmgrid/error.h"

int screen_open(struct screen *s, const struct render_options *opt, enum view_show show,
                enum layout_sort_by sort, bool operator_mode, char *errmsg, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    view_init(&s->view, show, sort, operator_mode);
    return render_create(opt, &s->render, errmsg, errlen);
}

void screen_close(struct screen *s)
{
    render_free(s->render);
    s->render = NULL;
    layout_grid_free(&s->grid);
    hostagg_free(&s->agg);
}

/* Lock held: lays the grid out again when it is due. KG_ENOMEM when that failed. */
static int order_when_due(struct screen *s, struct model *m, uint64_t now_ms, bool force,
                          struct render_changes *ch)
{
    struct view *v = &s->view;
    struct layout_grid *g = &s->grid;
    bool structure_changed = m->structure_gen != g->structure_gen;
    /* host tiles: a host's status or staleness, a load state repaint host tiles
     * (their aggregates), they lay nothing out again (at 1,000,000 VMs a layout
     * costs tens of ms, and hosts turn stale and back all the time) */
    if (structure_changed && !v->alerts_only && layout_grid_same_hosts(g, m)) {
        g->structure_gen = m->structure_gen;
        structure_changed = false;
        s->sweep = true;
    }
    /* alerts only: the VMs in alert changed (looked at once per model tick) */
    if (v->alerts_only && m->ticks != s->filter_ticks) {
        s->filter_ticks = m->ticks;
        structure_changed = structure_changed || layout_grid_filter_stale(g, m);
    }
    g->alerts_only = v->alerts_only;
    /* a removed host moves host indices: the order is made again at once, paused
     * or not, so that nothing reads a moved index */
    bool due = s->order_view_gen != v->order_gen || render_wants_layout(s->render) ||
               m->hosts_removed != g->hosts_removed ||
               (structure_changed && !v->paused &&
                (force || now_ms < g->ordered_ms ||
                 now_ms - g->ordered_ms >= (m->sync_from_ms != 0 ? SCREEN_RELAYOUT_SYNC_MS
                                                                 : SCREEN_RELAYOUT_MIN_MS)));
    if (due) {
        bool zoom_gone = false;
        g->tiles = v->tiles;
        g->host_tiles_below_px = v->host_tiles_below_px;
        render_grid_params(s->render, &g->params);
        bool zg = v->zoomed || v->zoom_site;
        if (layout_grid_order(g, m, v->sort, zg ? v->zoom_group : NULL, v->zoom_group_len,
                              v->zoomed ? v->zoom : NULL, v->zoom_len, now_ms,
                              &zoom_gone) != 0)
            return KG_ENOMEM;
        if (zoom_gone)
            view_zoom_lost(v);
        view_note_host_tiles(v, g->host_tiles);
        s->order_view_gen = v->order_gen;
        ch->ordered = true;
    }
    /* Changes wait while paused, and while the host set waits for its layout. */
    ch->paint = due || (!v->paused && !structure_changed);
    return 0;
}

int screen_frame(struct screen *s, struct model *m, uint64_t now_ms, bool force,
                 const char *screenshot_path)
{
    struct render_changes ch = {false, false, false, NULL, 0, NULL, NULL, 0};
    model_lock(m);
    if (order_when_due(s, m, now_ms, force, &ch) != 0) {
        model_unlock(m);
        return KG_ENOMEM;
    }
    if (ch.paint) {
        ch.n_dirty = model_take_dirty(m, &ch.dirty, &ch.all);
        /* host tiles: the aggregates of the hosts whose VMs changed (of every host
         * when the tiles were VMs' until now: the dirty lists went to them). Kept
         * up to date while zoomed into one host of host tiles too, so that going
         * back costs no recount of every host. */
        if (s->grid.host_tiles || (s->view.zoomed && s->agg.valid)) {
            (void)hostagg_take(&s->agg, m, ch.dirty, ch.n_dirty, ch.all); /* ENOMEM: grey */
            if (s->sweep)
                hostagg_sweep(&s->agg, m);
            s->sweep = false;
            ch.hosts = s->agg.changed;
            ch.n_hosts = s->agg.n_changed;
        } else {
            hostagg_reset(&s->agg);
        }
    }
    ch.agg = &s->agg;
    render_draw(s->render, m, &s->view, &s->grid, &ch, now_ms, force);
    model_unlock(m);
    return render_present(s->render, &s->view, &s->grid, force, screenshot_path);
}

bool screen_point_at(struct screen *s, struct model *m, const char *host, size_t host_len,
                     const char *vm, size_t vm_len)
{
    const struct layout_grid *g = &s->grid;
    bool found = false;
    model_lock(m);
    int32_t h = model_find_host(m, host, host_len);
    int32_t v = h >= 0 ? model_find_vm(m, (uint32_t)h, vm, vm_len) : -1;
    if (v >= 0 && m->vms[v].pos >= 0 && (size_t)h < g->cap_host_block) {
        int32_t b = g->host_block[h];
        if (b >= 0 && (size_t)b < g->n_blocks) {
            struct layout_rect t = layout_tile_rect(&g->lr, &g->blocks[b], (uint32_t)m->vms[v].pos);
            render_point(s->render, t.x + t.w / 2, t.y + t.h / 2);
            found = true;
        }
    }
    model_unlock(m);
    return found;
}

bool screen_pending(struct screen *s, struct model *m, struct render_view *rv)
{
    struct render_view local;
    if (rv == NULL)
        rv = &local;
    render_get_view(s->render, m, &s->view, rv);
    bool p = rv->pending || s->order_view_gen != s->view.order_gen;
    model_lock(m);
    if (!s->view.paused)
        p = p || m->structure_gen != s->grid.structure_gen || m->n_dirty > 0 || m->full_repaint;
    model_unlock(m);
    return p;
}
