/* SPDX-License-Identifier: MIT */
/*
 * What the operator chose to see, in one struct: what tiles are coloured by (every
 * metric at once, in quadrants, or one metric), its unattended rotation, the host
 * order, zoom, the alerts-only filter, pause, help, operator mode with its selected
 * VM and status message, and whether the wall is connected (shown in the header). Setters
 * bump a generation per consequence (lay out again, repaint every tile, redraw the
 * header and status, redraw the overlays), so that the run loop and the renderer,
 * which only read the view, redo exactly what a change needs.
 * Not here: window state (size, full screen, mouse), which the renderer keeps; the
 * selection's moves over the grid (selection.c).
 * Pure module: no SDL, never logs. Main thread only.
 */
#ifndef KG_WALL_VIEW_H
#define KG_WALL_VIEW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "colour.h"
#include "kvmgrid/topic.h"
#include "layout.h"

#define VIEW_MSG_MAX 640
#define VIEW_ROTATE_DEFAULT_MS 10000 /* the r key's period when none is configured */

/* The views the metric keys and the rotation step through: every metric at once,
 * then each metric alone. */
enum view_show {
    VIEW_SHOW_ALL = 0,          /* quadrants: CPU, memory, disk, network */
    VIEW_SHOW_CPU, VIEW_SHOW_MEM, VIEW_SHOW_DISK, VIEW_SHOW_NET, VIEW_SHOW_STEAL,
    VIEW_SHOW_COUNT
};

/* The quadrants of a tile in the all-metrics view, in reading order. */
#define VIEW_QUADS 4
extern const enum colour_metric view_quad_metric[VIEW_QUADS];

struct model;

struct view {
    bool all;                       /* every metric at once (quadrants) */
    enum colour_metric metric;      /* the one metric shown; with all: CPU, by which
                                       the header's hottest list is counted */
    uint64_t rotate_ms;             /* rotation period; 0: none configured */
    bool rotating;                  /* the rotation runs */
    uint64_t rotate_at_ms;          /* monotonic ms of the next step; 0: from the next call */
    bool alerts_only;               /* the grid shows only VMs in alert */
    enum layout_sort_by sort;
    bool paused, help, connected;
    enum layout_tiles tiles;        /* VM tiles, host tiles or the size decides (auto) */
    int host_tiles_below_px;        /* auto: host tiles when VM tiles would be smaller */
    bool host_tiles;                /* what the grid shows (view_note_host_tiles) */
    bool zoomed;                    /* into one host */
    bool zoom_site;                 /* into one site (group) of a region, or through
                                       it into one of its hosts: Esc comes back here */
    char zoom[KG_NAME_MAX + 1];     /* the zoomed host's raw name */
    size_t zoom_len;
    char zoom_group[KG_NAME_MAX + 1]; /* its group's, or the zoomed site's ("" none) */
    size_t zoom_group_len;
    /* operator mode: the selected VM by name (survives layouts), a status message */
    bool operator_mode, selected;
    char sel_group[KG_NAME_MAX + 1]; /* raw names; the host's group "" when none */
    char sel_host[KG_NAME_MAX + 1], sel_vm[KG_NAME_MAX + 1];
    size_t sel_group_len, sel_host_len, sel_vm_len;
    char op_msg[VIEW_MSG_MAX];
    /* bumped by the setters: what the next frame has to redo */
    uint64_t order_gen;             /* host order or the hosts shown */
    uint64_t tiles_gen;             /* every tile's colour */
    uint64_t chrome_gen;            /* header, legend and status line */
    uint64_t overlay_gen;           /* help and selection frame */
};

/* Fills v: showing show, nothing zoomed, paused, filtered or selected, help off,
 * not rotating, not connected. */
void view_init(struct view *v, enum view_show show, enum layout_sort_by sort,
               bool operator_mode);

/* What v shows now. */
enum view_show view_showing(const struct view *v);
/* Shows show (every metric, or one). */
void view_show(struct view *v, enum view_show show);
/* One metric alone (view_show for that metric). */
void view_set_metric(struct view *v, enum colour_metric m);
/* The next in the order all -> CPU -> memory -> disk -> network -> steal -> all. */
void view_next_metric(struct view *v);
/* Config key of a view_show ("all", "cpu", ...) and its header label ("all
 * metrics", "CPU %", ...). */
const char *view_show_key(enum view_show show);
const char *view_show_label(enum view_show show);

/* Rotation: every period_ms (0: none) the view steps on (view_next_metric),
 * counted from the next view_rotate call. A metric key stops it (the operator
 * wants to read that metric: view_set_metric, view_show and view_next_metric stop
 * it); view_toggle_rotation resumes it (at VIEW_ROTATE_DEFAULT_MS when no period
 * was configured), or stops it. */
void view_set_rotation(struct view *v, uint64_t period_ms);
void view_toggle_rotation(struct view *v);
void view_stop_rotation(struct view *v);
/* At now_ms (monotonic): steps on when the period is over (not while paused: the
 * step waits for the picture). True when it did. */
bool view_rotate(struct view *v, uint64_t now_ms);

/* The alerts-only filter on or off (the grid is laid out again). */
void view_set_alerts_only(struct view *v, bool on);
void view_set_sort(struct view *v, enum layout_sort_by by);
void view_toggle_sort(struct view *v);
void view_set_paused(struct view *v, bool paused);
void view_toggle_help(struct view *v);
void view_set_connected(struct view *v, bool connected);

/* VM tiles, host tiles or auto (host tiles when VM tiles would be under below_px;
 * below_px <= 0 keeps the current threshold); the grid is laid out again. */
void view_set_tiles(struct view *v, enum layout_tiles tiles, int below_px);
/* The next of auto -> hosts -> vms -> auto (key t). */
void view_next_tiles(struct view *v);
/* Config key of a layout_tiles ("auto", "vms", "hosts"). */
const char *view_tiles_key(enum layout_tiles t);
/* The run loop's note of what the grid now shows (the header says so). */
void view_note_host_tiles(struct view *v, bool host_tiles);

/* Zooms into the host of the block (or host tile) under output pixel (x, y) of
 * grid g, or into the first one's host when x < 0 — or, on a region's grid
 * (hosts of more than one group: a "+" prefix at a centre) not zoomed yet, into
 * that host's site first: region -> site -> host. Takes the model's lock. True
 * when it zoomed. */
bool view_zoom_at(struct view *v, const struct layout_grid *g, struct model *m, int x, int y);
/* Back one step: from a host to its site when it was entered from there, from a
 * site (or a host) to everything. */
void view_zoom_out(struct view *v);
/* The zoomed host is gone: the grid shows every host (the run loop found out while
 * laying out, so nothing needs to be laid out again). */
void view_zoom_lost(struct view *v);

/* Operator mode on or off; off clears the selection. */
void view_set_operator(struct view *v, bool on);
/* Selects the VM named vm (raw, vm_len) on host (raw, host_len) of group (raw,
 * group_len; "" none); each at most KG_NAME_MAX bytes. */
void view_select(struct view *v, const char *group, size_t group_len, const char *host,
                 size_t host_len, const char *vm, size_t vm_len);
void view_clear_selection(struct view *v);
/* The operator's line at the start of the status bar (copied; NULL or "" clears). */
void view_set_operator_message(struct view *v, const char *msg);

#endif
