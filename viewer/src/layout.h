/* SPDX-License-Identifier: MIT */
/*
 * Where every tile goes: host blocks of equal height, wrapped in rows, every tile
 * the same size, as large as the grid area allows. The tile pitch is searched
 * downward from sqrt(area / tiles) (docs/PLATFORM.md: the layout that kept tiles largest
 * in trials with 50..2000 hosts and up to 100k VMs); for each pitch, the block
 * height in tiles is tried from 1 up until the blocks fit.
 * Also the stable host order (natural by name, or by load).
 * Pure module: no SDL, no allocation except in layout_sort, never logs. Thread-safe.
 */
#ifndef KG_WALL_LAYOUT_H
#define KG_WALL_LAYOUT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct layout_rect {
    int x, y, w, h;
};

struct layout_params {
    struct layout_rect area;  /* the grid area in output pixels */
    int label_px;             /* height of a host-label band when labels are shown */
    int label_min_pitch_px;   /* labels only while the pitch is at least this (~6) */
    int max_pitch_px;         /* cap on the tile pitch; 0: none */
};

/* One host block: its label band on top (label_h high, may be 0), then the tiles,
 * row-major, tiles_x per row. */
struct layout_block {
    struct layout_rect rect;  /* whole block including the label band */
    int tiles_x, tiles_y;     /* columns and rows of tiles */
};

struct layout_result {
    int pitch_px;             /* distance between tile origins */
    int tile_px;              /* tile side (pitch minus the gap between tiles) */
    int label_h_px;           /* label band height (0: no labels) */
    int block_gap_px;         /* space between blocks */
    int rows_per_block;       /* == every block's tiles_y */
    int block_rows;           /* rows of blocks on screen */
    bool labels;
};

/* Lays out n_hosts blocks holding vm_counts[i] tiles each (a host with 0 VMs gets
 * one empty tile column so that it stays visible), in the given order, into
 * blocks[0..n_hosts). Returns 0, KG_EINVAL (bad params), or KG_ERANGE when even a
 * pitch of 1 px cannot hold them (blocks are then laid out at pitch 1 and some
 * fall outside the area). n_hosts == 0 is fine (nothing to place). */
int layout_compute(const struct layout_params *p, const uint32_t *vm_counts, size_t n_hosts,
                   struct layout_block *blocks, struct layout_result *out);

/* The rect of tile idx (0-based, row-major) of block b. */
struct layout_rect layout_tile_rect(const struct layout_result *r, const struct layout_block *b,
                                    uint32_t idx);

/* Tile index under point (x, y) in block b, or -1 (gap, label band, outside). */
int layout_tile_at(const struct layout_result *r, const struct layout_block *b, int x, int y);

enum layout_sort_by { LAYOUT_SORT_NAME = 0, LAYOUT_SORT_LOAD };

struct layout_sort_key {
    const char *name;         /* borrowed; raw bytes */
    size_t name_len;
    double load;              /* NaN sorts last */
};

/* Natural byte-wise comparison ("h2" < "h10"); ties broken by plain bytes, length. */
int layout_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Writes into order[0..n) the indices of keys sorted by name (natural) or by load
 * (descending; ties by name). Stable and total: equal keys keep index order.
 * Returns 0 or KG_ENOMEM. */
int layout_sort(const struct layout_sort_key *keys, size_t n, enum layout_sort_by by,
                uint32_t *order);

#endif
