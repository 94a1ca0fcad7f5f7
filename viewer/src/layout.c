/* SPDX-License-Identifier: MIT */
/*
 * Tile layout and host ordering for the wall. It only computes rectangles and
 * orders; drawing them is render.c's business, and which hosts exist is model.c's.
 */
#include "layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"

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
    int c = layout_name_cmp(a->name, a->name_len, b->name, b->name_len);
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
