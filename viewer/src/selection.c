/* SPDX-License-Identifier: MIT */
/*
 * Operator selection over the grid (see selection.h). The grid gives the blocks
 * in screen order; the model's pos gives each VM's tile in its block.
 */
#include "selection.h"

#include <string.h>

/* The VM of host h shown at tile pos, or -1 (lock held). */
static int32_t vm_at(const struct model *m, const struct model_host *h, int32_t pos)
{
    for (uint32_t j = 0; j < h->n_vms; j++)
        if (m->vms[h->vms[j]].pos == pos)
            return (int32_t)h->vms[j];
    return -1;
}

/* Tiles shown in block b (lock held). */
static int32_t block_tiles(const struct layout_grid *g, const struct model *m, size_t b)
{
    const struct model_host *h = layout_grid_host(g, m, b);
    int32_t n = 0;
    if (h == NULL)
        return 0;
    for (uint32_t j = 0; j < h->n_vms; j++)
        if (m->vms[h->vms[j]].pos >= n)
            n = m->vms[h->vms[j]].pos + 1;
    return n;
}

bool selection_find(const struct view *v, const struct layout_grid *g, const struct model *m,
                    int32_t *block, int32_t *vm)
{
    if (!v->selected)
        return false;
    int32_t h = model_find_host_named(m, v->sel_group, v->sel_group_len, v->sel_host,
                                      v->sel_host_len);
    if (h < 0 || (size_t)h >= g->cap_host_block || g->host_block[h] < 0 ||
        (size_t)g->host_block[h] >= g->n_blocks)
        return false;
    int32_t vi = model_find_vm(m, (uint32_t)h, v->sel_vm, v->sel_vm_len);
    if (vi < 0 || m->vms[vi].pos < 0)
        return false;
    *block = g->host_block[h];
    *vm = vi;
    return true;
}

/* Selects the VM at tile pos of block b (lock held). */
static bool select_tile(struct view *v, const struct layout_grid *g, const struct model *m,
                        size_t b, int32_t pos)
{
    const struct model_host *h = layout_grid_host(g, m, b);
    if (h == NULL)
        return false;
    int32_t vi = vm_at(m, h, pos);
    if (vi < 0)
        return false;
    const struct model_group *gr = &m->groups[h->group];
    view_select(v, gr->name, gr->name_len, h->name, h->name_len, m->vms[vi].name,
                m->vms[vi].name_len);
    return true;
}

bool selection_at(struct view *v, const struct layout_grid *g, struct model *m, int x, int y)
{
    if (!v->operator_mode)
        return false;
    bool done = false;
    model_lock(m);
    for (size_t b = 0; b < g->n_blocks && !done; b++) {
        int t = layout_tile_at(&g->lr, &g->blocks[b], x, y);
        if (t >= 0)
            done = select_tile(v, g, m, b, t);
    }
    model_unlock(m);
    return done;
}

/* The tile past the edge of block b, moving by step (-1/+1) from tile pos (cols
 * to a row) by a column (dx) or a row: the nearest block that way with a VM on
 * screen, into *nb and *np; *nb out of range when there is none. Lock held. */
static void past_edge(const struct layout_grid *g, const struct model *m, int32_t b, int32_t pos,
                      int cols, int step, bool by_column, int32_t *nb, int32_t *np)
{
    int32_t nn = 0;
    for (*nb = b + step; *nb >= 0 && (size_t)*nb < g->n_blocks; *nb += step)
        if ((nn = block_tiles(g, m, (size_t)*nb)) > 0)
            break;
    if (*nb < 0 || (size_t)*nb >= g->n_blocks)
        return;
    int ncols = g->blocks[*nb].tiles_x > 0 ? g->blocks[*nb].tiles_x : 1;
    int32_t col = pos % cols < ncols ? pos % cols : ncols - 1;
    if (by_column)
        *np = step < 0 ? nn - 1 : 0;
    else
        *np = step < 0 ? ((nn - 1) / ncols) * ncols + col : col;
    if (*np >= nn)
        *np = nn - 1;
}

bool selection_move(struct view *v, const struct layout_grid *g, struct model *m, int dx, int dy)
{
    if (!v->operator_mode)
        return false;
    bool done = false;
    model_lock(m);
    int32_t b, vi;
    if (!selection_find(v, g, m, &b, &vi)) {
        for (size_t i = 0; i < g->n_blocks && !done; i++)
            done = select_tile(v, g, m, i, 0);
        model_unlock(m);
        return done;
    }
    int32_t pos = m->vms[vi].pos, n = block_tiles(g, m, (size_t)b);
    int cols = g->blocks[b].tiles_x > 0 ? g->blocks[b].tiles_x : 1;
    int32_t np = dx != 0 ? pos + dx : pos + dy * cols, nb = b;
    if (np < 0 || np >= n)
        past_edge(g, m, b, pos, cols, (dx != 0 ? dx : dy) < 0 ? -1 : 1, dx != 0, &nb, &np);
    if (nb >= 0 && (size_t)nb < g->n_blocks && np >= 0)
        done = select_tile(v, g, m, (size_t)nb, np);
    model_unlock(m);
    return done;
}

bool selection_name(struct view *v, const struct layout_grid *g, struct model *m, const char *vm,
                    size_t len)
{
    if (!v->operator_mode)
        return false;
    bool done = false;
    model_lock(m);
    for (size_t b = 0; b < g->n_blocks && !done; b++) {
        if (layout_grid_host(g, m, b) == NULL)
            continue;
        int32_t vi = model_find_vm(m, g->order[b], vm, len);
        if (vi >= 0 && m->vms[vi].pos >= 0)
            done = select_tile(v, g, m, b, m->vms[vi].pos);
    }
    model_unlock(m);
    return done;
}

bool selection_get(const struct view *v, struct model *m, char *vm, size_t vm_size,
                   size_t *vm_len, char *host, size_t host_size, char *group, size_t group_size,
                   size_t *group_len)
{
    if (!v->operator_mode || !v->selected || vm_size <= v->sel_vm_len ||
        host_size <= v->sel_host_len || group_size <= v->sel_group_len)
        return false;
    model_lock(m);
    int32_t h = model_find_host_named(m, v->sel_group, v->sel_group_len, v->sel_host,
                                      v->sel_host_len);
    bool ok = h >= 0 && model_find_vm(m, (uint32_t)h, v->sel_vm, v->sel_vm_len) >= 0;
    model_unlock(m);
    if (ok) {
        memcpy(vm, v->sel_vm, v->sel_vm_len + 1);
        *vm_len = v->sel_vm_len;
        memcpy(host, v->sel_host, v->sel_host_len + 1);
        memcpy(group, v->sel_group, v->sel_group_len + 1);
        *group_len = v->sel_group_len;
    }
    return ok;
}
