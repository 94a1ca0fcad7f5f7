/* SPDX-License-Identifier: MIT */
/*
 * Tile layout and host ordering for the wall. It computes rectangles and orders,
 * and writes the one result the model keeps: each VM's tile index (model_vm.pos)
 * and its host's VM list in tile order. Drawing them is the renderer's business,
 * and which hosts exist is model.c's.
 */
#include "layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "model.h"

static int tile_gap(int pitch)
{
    if (pitch >= 16)
        return 2;
    return pitch >= 5 ? 1 : 0;
}

static int block_gap(int pitch)
{
    if (pitch >= 12)
        return pitch / 3 < 12 ? pitch / 3 : 12;
    return pitch >= 6 ? 3 : 2;
}

static uint32_t div_up(uint32_t a, uint32_t b)
{
    return (a + b - 1) / b;
}

/* Places the blocks (if blocks != NULL) for pitch and rows; returns true when all
 * fit into the area. */
static bool try_fit(const struct layout_params *p, const uint32_t *counts, size_t n, int pitch,
                    int rows, int label_h, struct layout_block *blocks)
{
    int tg = tile_gap(pitch), bg = block_gap(pitch);
    int W = p->area.w, H = p->area.h;
    long block_h = (long)label_h + (long)rows * pitch - tg;
    long x = 0, y = 0;
    bool fits = true;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = counts[i] == 0 ? 1 : div_up(counts[i], (uint32_t)rows);
        long bw = (long)c * pitch - tg;
        if (x > 0 && x + bw > W) {
            x = 0;
            y += block_h + bg;
        }
        if (bw > W || y + block_h > H) {
            fits = false;
            if (blocks == NULL)
                return false;
        }
        if (blocks != NULL) {
            blocks[i].rect.x = p->area.x + (int)x;
            blocks[i].rect.y = p->area.y + (int)y;
            blocks[i].rect.w = (int)bw;
            blocks[i].rect.h = (int)block_h;
            blocks[i].tiles_x = (int)c;
            blocks[i].tiles_y = counts[i] == 0 ? 1 : (int)div_up(counts[i], c);
        }
        x += bw + bg;
    }
    return fits;
}

int layout_compute(const struct layout_params *p, const uint32_t *vm_counts, size_t n_hosts,
                   struct layout_block *blocks, struct layout_result *out)
{
    if (p == NULL || out == NULL || p->area.w <= 0 || p->area.h <= 0 || p->label_px < 0 ||
        (n_hosts > 0 && (vm_counts == NULL || blocks == NULL)))
        return KG_EINVAL;
    memset(out, 0, sizeof(*out));
    double total = 0;
    for (size_t i = 0; i < n_hosts; i++)
        total += vm_counts[i] == 0 ? 1 : vm_counts[i];
    if (n_hosts == 0) {
        out->pitch_px = out->tile_px = 1;
        return 0;
    }
    int start = (int)floor(sqrt((double)p->area.w * p->area.h / total));
    if (p->max_pitch_px > 0 && start > p->max_pitch_px)
        start = p->max_pitch_px;
    if (start < 1)
        start = 1;
    for (int pitch = start; pitch >= 1; pitch--) {
        bool labels = p->label_px > 0 && pitch >= p->label_min_pitch_px;
        int label_h = labels ? p->label_px : 0;
        int max_rows = (p->area.h - label_h + tile_gap(pitch)) / pitch;
        for (int rows = 1; rows <= max_rows; rows++) {
            if (!try_fit(p, vm_counts, n_hosts, pitch, rows, label_h, NULL))
                continue;
            try_fit(p, vm_counts, n_hosts, pitch, rows, label_h, blocks);
            out->pitch_px = pitch;
            out->tile_px = pitch - tile_gap(pitch);
            out->label_h_px = label_h;
            out->block_gap_px = block_gap(pitch);
            out->rows_per_block = rows;
            out->labels = labels;
            out->block_rows = 1;
            for (size_t i = 1; i < n_hosts; i++)
                if (blocks[i].rect.y != blocks[i - 1].rect.y)
                    out->block_rows++;
            return 0;
        }
    }
    /* Does not fit even at 1 px: lay out anyway, tallest blocks first tried. */
    int rows = p->area.h > 0 ? p->area.h : 1;
    try_fit(p, vm_counts, n_hosts, 1, rows, 0, blocks);
    out->pitch_px = out->tile_px = 1;
    out->block_gap_px = block_gap(1);
    out->rows_per_block = rows;
    out->block_rows = 1;
    for (size_t i = 1; i < n_hosts; i++)
        if (blocks[i].rect.y != blocks[i - 1].rect.y)
            out->block_rows++;
    return KG_ERANGE;
}

bool layout_host_tiles(const struct layout_params *p, const uint32_t *counts, size_t n,
                       enum layout_tiles mode, int below_px, struct layout_block *scratch)
{
    if (mode != LAYOUT_TILES_AUTO)
        return mode == LAYOUT_TILES_HOSTS;
    if (n == 0 || p->area.w <= 0 || p->area.h <= 0)
        return false;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += counts[i] == 0 ? 1 : counts[i];
    /* layout_compute searches down from this pitch: already too small, no search */
    if (floor(sqrt((double)p->area.w * p->area.h / total)) < below_px)
        return true;
    struct layout_result r;
    int rc = layout_compute(p, counts, n, scratch, &r);
    return rc == KG_ERANGE || (rc == 0 && r.tile_px < below_px);
}

struct layout_rect layout_tile_rect(const struct layout_result *r, const struct layout_block *b,
                                    uint32_t idx)
{
    struct layout_rect t;
    int tx = b->tiles_x > 0 ? b->tiles_x : 1;
    t.x = b->rect.x + (int)(idx % (uint32_t)tx) * r->pitch_px;
    t.y = b->rect.y + r->label_h_px + (int)(idx / (uint32_t)tx) * r->pitch_px;
    t.w = t.h = r->tile_px;
    return t;
}

int layout_tile_at(const struct layout_result *r, const struct layout_block *b, int x, int y)
{
    int lx = x - b->rect.x, ly = y - b->rect.y - r->label_h_px;
    if (lx < 0 || ly < 0 || lx >= b->rect.w || r->pitch_px <= 0)
        return -1;
    int cx = lx / r->pitch_px, cy = ly / r->pitch_px;
    if (cx >= b->tiles_x || cy >= b->tiles_y)
        return -1;
    if (lx % r->pitch_px >= r->tile_px || ly % r->pitch_px >= r->tile_px)
        return -1;
    return cy * b->tiles_x + cx;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int layout_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0, j = 0;
    while (i < alen && j < blen) {
        if (is_digit(a[i]) && is_digit(b[j])) {
            size_t i0 = i, j0 = j;
            while (i0 < alen && a[i0] == '0')
                i0++;
            while (j0 < blen && b[j0] == '0')
                j0++;
            size_t ie = i0, je = j0;
            while (ie < alen && is_digit(a[ie]))
                ie++;
            while (je < blen && is_digit(b[je]))
                je++;
            if (ie - i0 != je - j0)
                return ie - i0 < je - j0 ? -1 : 1;
            int c = memcmp(a + i0, b + j0, ie - i0);
            if (c != 0)
                return c < 0 ? -1 : 1;
            i = ie;
            j = je;
            continue;
        }
        if (a[i] != b[j])
            return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
        i++;
        j++;
    }
    if (i < alen || j < blen)
        return i < alen ? 1 : -1;
    /* Equal naturally ("h01" vs "h1"): fall back to bytes for a total order. */
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

static int key_cmp(const struct layout_sort_key *keys, enum layout_sort_by by, uint32_t x,
                   uint32_t y)
{
    const struct layout_sort_key *a = &keys[x], *b = &keys[y];
    if (by == LAYOUT_SORT_LOAD) {
        bool an = isnan(a->load), bn = isnan(b->load);
        if (an != bn)
            return an ? 1 : -1;
        if (!an && a->load != b->load)
            return a->load > b->load ? -1 : 1;
    }
    int c = layout_name_cmp(a->group ? a->group : "", a->group_len, b->group ? b->group : "",
                            b->group_len);
    if (c == 0)
        c = layout_name_cmp(a->name, a->name_len, b->name, b->name_len);
    if (c != 0)
        return c;
    return x < y ? -1 : (x > y ? 1 : 0);
}

int layout_sort(const struct layout_sort_key *keys, size_t n, enum layout_sort_by by,
                uint32_t *order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    if (n < 2)
        return 0;
    uint32_t *tmp = malloc(n * sizeof(*tmp));
    if (tmp == NULL)
        return KG_ENOMEM;
    /* Bottom-up merge sort: stable, O(n log n), no global comparator context. */
    uint32_t *src = order, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = key_cmp(keys, by, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != order)
        memcpy(order, src, n * sizeof(*order));
    free(tmp);
    return 0;
}

/* ---- the grid: the model on screen ------------------------------------------ */

bool layout_ensure(void **p, size_t *cap, size_t want, size_t elem)
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

/* Sorts the VM list of host h by name in place and numbers its tiles: every VM,
 * or with alerts_only the VMs in alert, moved to the front. Returns the number of
 * tiles, or -1 (KG_ENOMEM). */
static int64_t order_vms(struct layout_grid *g, struct model *m, struct model_host *h,
                         uint32_t max_vms)
{
    for (uint32_t j = 0; j < h->n_vms; j++) {
        const struct model_vm *v = &m->vms[h->vms[j]];
        g->keys[j] = (struct layout_sort_key){v->name, v->name_len, 0, NULL, 0};
    }
    uint32_t *vo = g->tmp + max_vms + 1; /* n_vms <= max_vms */
    uint32_t *copy = g->tmp; /* scratch */
    if (h->n_vms > 1) {
        if (layout_sort(g->keys, h->n_vms, LAYOUT_SORT_NAME, vo) != 0)
            return -1;
        for (uint32_t j = 0; j < h->n_vms; j++)
            copy[j] = h->vms[vo[j]];
        memcpy(h->vms, copy, h->n_vms * sizeof(*copy));
    }
    uint32_t shown = h->n_vms;
    if (g->alerts_only) {
        /* stable partition: the VMs in alert first, each part by name */
        uint32_t k = 0, rest = 0;
        for (uint32_t j = 0; j < h->n_vms; j++)
            if (model_vm_in_alert(m, h->vms[j]))
                copy[k++] = h->vms[j];
        shown = k;
        for (uint32_t j = 0; j < h->n_vms; j++)
            if (!model_vm_in_alert(m, h->vms[j]))
                copy[shown + rest++] = h->vms[j];
        memcpy(h->vms, copy, h->n_vms * sizeof(*copy));
    }
    for (uint32_t j = 0; j < shown; j++)
        m->vms[h->vms[j]].pos = (int32_t)j;
    return shown;
}

/* The VMs of h that get tiles: all, or with alerts_only those in alert. */
static uint32_t vms_shown(const struct layout_grid *g, const struct model *m,
                          const struct model_host *h)
{
    if (!g->alerts_only)
        return h->n_vms;
    uint32_t n = 0;
    for (uint32_t j = 0; j < h->n_vms; j++)
        n += model_vm_in_alert(m, h->vms[j]);
    return n;
}

/* A host the filter lets through: any, or with alerts_only one with a VM in alert. */
static bool host_shown(const struct layout_grid *g, const struct model *m,
                       const struct model_host *h)
{
    if (!g->alerts_only)
        return true;
    for (uint32_t j = 0; j < h->n_vms; j++)
        if (model_vm_in_alert(m, h->vms[j]))
            return true;
    return false;
}

int layout_grid_order(struct layout_grid *g, struct model *m, enum layout_sort_by by,
                      const char *zoom_group, size_t zoom_group_len, const char *zoom,
                      size_t zoom_len, uint64_t now_ms, bool *zoom_gone)
{
    uint32_t n = m->n_hosts;
    size_t cap = g->cap_blocks;
    if (!layout_ensure((void **)&g->keys, &g->cap_keys, n + 1, sizeof(*g->keys)) ||
        !layout_ensure((void **)&g->order, &cap, n + 1, sizeof(*g->order)) ||
        !layout_ensure((void **)&g->host_block, &g->cap_host_block, n + 1, sizeof(*g->host_block)))
        return KG_ENOMEM;
    /* order, counts and blocks share cap_blocks */
    if (cap != g->cap_blocks) {
        uint32_t *nc = realloc(g->counts, cap * sizeof(*nc));
        if (nc != NULL)
            g->counts = nc;
        struct layout_block *nb = realloc(g->blocks, cap * sizeof(*nb));
        if (nb != NULL)
            g->blocks = nb;
        if (nc == NULL || nb == NULL)
            return KG_ENOMEM;
        g->cap_blocks = cap;
    }

    int32_t zhost = zoom != NULL ? model_find_host_named(m, zoom_group ? zoom_group : "",
                                                         zoom_group_len, zoom, zoom_len)
                                 : -1;
    /* a site alone: zoom_group without a host */
    int32_t zgroup = zoom == NULL && zoom_group != NULL && zoom_group_len > 0
                         ? model_find_group(m, zoom_group, zoom_group_len)
                         : -1;
    if (zoom_gone != NULL)
        *zoom_gone = (zoom != NULL && zhost < 0) ||
                     (zoom == NULL && zoom_group != NULL && zoom_group_len > 0 && zgroup < 0);
    uint32_t nk = 0, max_vms = 0;
    for (size_t i = 0; i < g->cap_host_block; i++)
        g->host_block[i] = -1; /* hosts created after this layout map to no block */
    /* after host tiles no VM has a tile (new ones come without): a region's
     * million VMs need not be written again */
    bool clear = !g->host_tiles;
    for (uint32_t i = 0; i < n; i++) {
        struct model_host *h = &m->hosts[i];
        for (uint32_t j = 0; clear && j < h->n_vms; j++)
            m->vms[h->vms[j]].pos = -1;
        if (h->n_vms > max_vms)
            max_vms = h->n_vms;
    }
    /* host keys: tmp maps key index -> host index */
    if (!layout_ensure((void **)&g->tmp, &g->cap_tmp, (n > max_vms ? n : max_vms) * 2 + 2, sizeof(*g->tmp)))
        return KG_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        struct model_host *h = &m->hosts[i];
        if ((zhost >= 0 && i != (uint32_t)zhost) ||
            (zgroup >= 0 && h->group != (uint32_t)zgroup) || !host_shown(g, m, h))
            continue;
        const struct model_group *gr = &m->groups[h->group];
        g->keys[nk] = (struct layout_sort_key){h->name, h->name_len, model_host_load(m, h),
                                               gr->name, gr->name_len};
        g->tmp[nk++] = i;
    }
    uint32_t *sorted = g->tmp + nk;
    if (layout_sort(g->keys, nk, by, sorted) != 0)
        return KG_ENOMEM;
    for (uint32_t i = 0; i < nk; i++)
        g->order[i] = g->tmp[sorted[i]];
    g->n_blocks = nk;

    /* One tile per host when VM tiles would be too small (or asked for; never
     * zoomed into a host): its VMs get no tile and need no order. */
    g->host_tiles = false;
    g->n_host_tiles = 0;
    if (zhost < 0 && nk > 0) {
        for (uint32_t i = 0; i < nk; i++)
            g->counts[i] = vms_shown(g, m, &m->hosts[g->order[i]]);
        g->host_tiles = layout_host_tiles(&g->params, g->counts, nk, g->tiles,
                                          g->host_tiles_below_px, g->blocks);
    }
    if (g->host_tiles) {
        for (uint32_t i = 0; i < nk; i++)
            g->host_block[g->order[i]] = (int32_t)i;
        g->n_host_tiles = nk;
        g->n_blocks = 0;
        nk = 0;
    }
    /* VMs inside each shown host: natural order by name, in place */
    if (!layout_ensure((void **)&g->keys, &g->cap_keys, max_vms + 1, sizeof(*g->keys)))
        return KG_ENOMEM;
    for (uint32_t i = 0; i < nk; i++) {
        struct model_host *h = &m->hosts[g->order[i]];
        int64_t shown = order_vms(g, m, h, max_vms);
        if (shown < 0)
            return KG_ENOMEM;
        g->counts[i] = (uint32_t)shown;
        g->host_block[g->order[i]] = (int32_t)i;
    }
    g->zoom_host = zhost;
    g->zoom_group = zgroup;
    g->shape_hosts = m->n_hosts;
    g->shape_vms = m->n_vms;
    g->shape_removed = m->removed;
    g->structure_gen = m->structure_gen;
    g->hosts_removed = m->hosts_removed;
    g->ordered_ms = now_ms;
    g->order_gen++;
    return 0;
}

bool layout_grid_filter_stale(const struct layout_grid *g, const struct model *m)
{
    if (!g->alerts_only)
        return false;
    if (g->host_tiles) { /* the hosts with a VM in alert changed */
        for (uint32_t i = 0; i < m->n_hosts; i++)
            if ((i < g->cap_host_block && g->host_block[i] >= 0) != host_shown(g, m, &m->hosts[i]))
                return true;
        return false;
    }
    for (uint32_t i = 0; i < m->n_hosts; i++) {
        if (g->zoom_host >= 0 && i != (uint32_t)g->zoom_host)
            continue;
        const struct model_host *h = &m->hosts[i];
        if (g->zoom_group >= 0 && h->group != (uint32_t)g->zoom_group)
            continue;
        for (uint32_t j = 0; j < h->n_vms; j++)
            if ((m->vms[h->vms[j]].pos >= 0) != model_vm_in_alert(m, h->vms[j]))
                return true;
    }
    return false;
}

int layout_grid_place(struct layout_grid *g, const struct layout_params *p)
{
    if (g->host_tiles) { /* one block of host tiles, unlabelled */
        struct layout_params hp = *p;
        hp.label_px = 0;
        uint32_t n = (uint32_t)g->n_host_tiles;
        return layout_compute(&hp, &n, 1, &g->host_rect, &g->lr);
    }
    return layout_compute(p, g->counts, g->n_blocks, g->blocks, &g->lr);
}

int32_t layout_grid_block_at(const struct layout_grid *g, int x, int y)
{
    for (size_t b = 0; b < g->n_blocks; b++) {
        const struct layout_rect *rc = &g->blocks[b].rect;
        if (x < 0 || (x >= rc->x && y >= rc->y && x < rc->x + rc->w && y < rc->y + rc->h))
            return (int32_t)b;
    }
    return -1;
}

int32_t layout_grid_host_tile_at(const struct layout_grid *g, int x, int y)
{
    if (!g->host_tiles || g->n_host_tiles == 0)
        return -1;
    if (x < 0)
        return 0;
    int t = layout_tile_at(&g->lr, &g->host_rect, x, y);
    return t >= 0 && (size_t)t < g->n_host_tiles ? t : -1;
}

void layout_grid_free(struct layout_grid *g)
{
    if (g == NULL)
        return;
    free(g->order);
    free(g->counts);
    free(g->blocks);
    free(g->host_block);
    free(g->keys);
    free(g->tmp);
    memset(g, 0, sizeof(*g));
}

const struct model_host *layout_grid_host(const struct layout_grid *g, const struct model *m,
                                         size_t b)
{
    if (b >= g->n_blocks || g->hosts_removed != m->hosts_removed || g->order[b] >= m->n_hosts)
        return NULL;
    return &m->hosts[g->order[b]];
}

const struct model_host *layout_grid_host_tile(const struct layout_grid *g, const struct model *m,
                                              size_t i)
{
    if (!g->host_tiles || i >= g->n_host_tiles || g->hosts_removed != m->hosts_removed ||
        g->order[i] >= m->n_hosts)
        return NULL;
    return &m->hosts[g->order[i]];
}

bool layout_grid_same_hosts(const struct layout_grid *g, const struct model *m)
{
    return g->host_tiles && g->hosts_removed == m->hosts_removed &&
           g->shape_hosts == m->n_hosts && g->shape_vms == m->n_vms &&
           g->shape_removed == m->removed;
}
