/* SPDX-License-Identifier: MIT */
/*
 * Where every tile goes: host blocks of equal height, wrapped in rows, every tile
 * the same size, as large as the grid area allows. The tile pitch is searched
 * downward from sqrt(area / tiles) (docs/PLATFORM.md: the layout that kept tiles largest
 * in trials with 50..2000 hosts and up to 100k VMs); for each pitch, the block
 * height in tiles is tried from 1 up until the blocks fit.
 * Also the stable host order (natural by name, or by load), and the grid: which
 * hosts of the model are shown in which order, and where each VM's tile is (the
 * model's model_vm.pos).
 * Pure module: no SDL, never logs; allocates only in layout_sort and the grid.
 * Thread-safe, except that a grid belongs to one thread.
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
    const char *group;        /* borrowed; the host's group, before the name (NULL: none) */
    size_t group_len;
};

/* Natural byte-wise comparison ("h2" < "h10"); ties broken by plain bytes, length. */
int layout_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Writes into order[0..n) the indices of keys sorted by group and name (natural)
 * or by load (descending; ties by group and name). Stable and total: equal keys keep index order.
 * Returns 0 or KG_ENOMEM. */
int layout_sort(const struct layout_sort_key *keys, size_t n, enum layout_sort_by by,
                uint32_t *order);

/* VM tiles, or one tile per host (its VMs' distribution, hostagg.h). */
enum layout_tiles { LAYOUT_TILES_AUTO = 0, LAYOUT_TILES_VMS, LAYOUT_TILES_HOSTS };
#define LAYOUT_HOST_TILES_BELOW_PX 3 /* auto: host tiles when VM tiles would be smaller */

/* Whether counts[0..n) VMs of n hosts placed with p are shown as host tiles:
 * LAYOUT_TILES_HOSTS yes, LAYOUT_TILES_VMS no, LAYOUT_TILES_AUTO when VM tiles
 * would be under below_px (layout_compute's tile_px; scratch holds n blocks,
 * overwritten). p's area empty (not known yet): VM tiles unless forced. */
bool layout_host_tiles(const struct layout_params *p, const uint32_t *counts, size_t n,
                       enum layout_tiles mode, int below_px, struct layout_block *scratch);

/* Grows *p (elements of elem bytes, *cap of them) by doubling, from 64, to hold
 * want: the grid's arrays and the host aggregates'. False (nothing changed) when
 * out of memory. */
bool layout_ensure(void **p, size_t *cap, size_t want, size_t elem);

struct model;

/* The model on screen. layout_grid_order (the run loop) decides which hosts are
 * shown in which order and numbers each shown host's VMs; layout_grid_place (the
 * renderer, which knows the label font) places the blocks. Everyone else reads it,
 * with the model's lock held. Zero-initialise; free with layout_grid_free. */
struct layout_grid {
    uint32_t *order;            /* host indices, in block order */
    uint32_t *counts;           /* VMs of each shown host, in block order */
    struct layout_block *blocks;
    size_t n_blocks, cap_blocks; /* cap_blocks: capacity of order, counts and blocks */
    int32_t *host_block;        /* host index -> block, -1 when not shown */
    size_t cap_host_block;
    struct layout_sort_key *keys; /* scratch */
    size_t cap_keys;
    uint32_t *tmp;              /* scratch */
    size_t cap_tmp;
    struct layout_result lr;    /* of the last layout_grid_place */
    uint64_t structure_gen;     /* the model's structure_gen when last ordered */
    uint64_t hosts_removed;     /* the model's hosts_removed when last ordered */
    uint64_t ordered_ms;        /* monotonic ms of the last layout_grid_order */
    uint64_t order_gen;         /* layout_grid_order calls: placing must follow each */
    bool alerts_only;           /* the filter, set before layout_grid_order: only VMs
                                   in alert get tiles, only their hosts blocks */
    int32_t zoom_host;          /* the zoomed host's index when last ordered, -1 none */
    int32_t zoom_group;         /* the zoomed site's group when last ordered (a site
                                   alone, no host), -1 none */
    /* host tiles: set before layout_grid_order (the renderer's area and label
     * band for the choice, layout_grid_params) */
    enum layout_tiles tiles;
    int host_tiles_below_px;
    struct layout_params params;
    /* the choice made by layout_grid_order: with host_tiles, order[0..n_host_tiles)
     * are the shown hosts in tile order, host_block[h] the tile of host h, counts[i]
     * its VMs shown, n_blocks 0 (no VM has a tile: every pos -1), and host_rect
     * the one block that holds the host tiles (lr its geometry) */
    bool host_tiles;
    size_t n_host_tiles;
    struct layout_block host_rect;
    uint32_t shape_hosts, shape_vms; /* the model's hosts and VMs when last ordered */
    uint64_t shape_removed;     /* the model's VMs removed when last ordered */
};

/* Lock held. Orders the shown hosts (all of them, or only the one named zoom, raw
 * bytes zoom_len, of the group zoom_group (NULL or "": none), when zoom is not
 * NULL; or, zoom NULL and zoom_group a group's name, only that site's hosts) by `by` into g->order, sorts each shown
 * host's VM list in the model by name (natural order) and sets each VM's pos: its
 * tile index, -1 for the VMs of hosts not shown. With g->alerts_only, only VMs in
 * alert (model_vm_in_alert) are shown, each host's first in its VM list (by name,
 * the others after them, by name), and a host without one is not shown; g->counts
 * holds the shown VMs. *zoom_gone (may be NULL) tells
 * whether the zoomed host no longer exists (all hosts are shown then). Returns 0 or
 * KG_ENOMEM (g->order_gen unchanged). */
int layout_grid_order(struct layout_grid *g, struct model *m, enum layout_sort_by by,
                      const char *zoom_group, size_t zoom_group_len, const char *zoom,
                      size_t zoom_len, uint64_t now_ms, bool *zoom_gone);
/* Lock held. True when g->alerts_only and the VMs in alert are no longer the VMs
 * with tiles (of the hosts the grid may show): the grid is to be ordered again.
 * O(VMs). */
bool layout_grid_filter_stale(const struct layout_grid *g, const struct model *m);
/* Lock held. The host shown in block b, or NULL when there is no such block or
 * the model removed hosts since the grid was ordered (their indices moved; the
 * next frame orders the grid again, paused or not). */
const struct model_host *layout_grid_host(const struct layout_grid *g, const struct model *m,
                                         size_t b);

/* Lock held. True when g shows host tiles and no host or VM came or went since
 * it was ordered: a structure change of the model (a host's status, staleness,
 * a load state) then changes what host tiles show, not which there are. */
bool layout_grid_same_hosts(const struct layout_grid *g, const struct model *m);
/* Lock held, with g->host_tiles. The host of host tile i, or NULL (as
 * layout_grid_host). */
const struct model_host *layout_grid_host_tile(const struct layout_grid *g, const struct model *m,
                                              size_t i);
/* With g->host_tiles: the host tile (index) under output pixel (x, y), or -1; x < 0:
 * the first tile, if any. */
int32_t layout_grid_host_tile_at(const struct layout_grid *g, int x, int y);

/* Places the ordered blocks (or the host tiles) into p's area (layout_compute).
 * Its return code. */
int layout_grid_place(struct layout_grid *g, const struct layout_params *p);
/* The block (index) whose rectangle holds output pixel (x, y), or -1; x < 0: the
 * first block, if any. */
int32_t layout_grid_block_at(const struct layout_grid *g, int x, int y);
void layout_grid_free(struct layout_grid *g);

#endif
