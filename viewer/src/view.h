/* SPDX-License-Identifier: MIT */
/*
 * What the operator chose to see, in one struct: the metric tiles are coloured by,
 * the host order, zoom, pause, help, operator mode with its selected VM and status
 * message, and whether the wall is connected (shown in the header). Setters
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

struct model;

struct view {
    enum colour_metric metric;
    enum layout_sort_by sort;
    bool paused, help, connected;
    bool zoomed;
    char zoom[KG_NAME_MAX + 1];     /* the zoomed host's raw name */
    size_t zoom_len;
    /* operator mode: the selected VM by name (survives layouts), a status message */
    bool operator_mode, selected;
    char sel_host[KG_NAME_MAX + 1], sel_vm[KG_NAME_MAX + 1]; /* raw names */
    size_t sel_host_len, sel_vm_len;
    char op_msg[VIEW_MSG_MAX];
    /* bumped by the setters: what the next frame has to redo */
    uint64_t order_gen;             /* host order or the hosts shown */
    uint64_t tiles_gen;             /* every tile's colour */
    uint64_t chrome_gen;            /* header, legend and status line */
    uint64_t overlay_gen;           /* help and selection frame */
};

/* Fills v: nothing zoomed, paused or selected, help off, not connected. */
void view_init(struct view *v, enum colour_metric metric, enum layout_sort_by sort,
               bool operator_mode);

void view_set_metric(struct view *v, enum colour_metric m);
/* The metric after the current one, wrapping around. */
void view_next_metric(struct view *v);
void view_set_sort(struct view *v, enum layout_sort_by by);
void view_toggle_sort(struct view *v);
void view_set_paused(struct view *v, bool paused);
void view_toggle_help(struct view *v);
void view_set_connected(struct view *v, bool connected);

/* Zooms into the host of the block under output pixel (x, y) of grid g, or into
 * the first block's host when x < 0. Takes the model's lock. True when it zoomed. */
bool view_zoom_at(struct view *v, const struct layout_grid *g, struct model *m, int x, int y);
void view_zoom_out(struct view *v);
/* The zoomed host is gone: the grid shows every host (the run loop found out while
 * laying out, so nothing needs to be laid out again). */
void view_zoom_lost(struct view *v);

/* Operator mode on or off; off clears the selection. */
void view_set_operator(struct view *v, bool on);
/* Selects the VM named vm (raw, vm_len) on host (raw, host_len); both at most
 * KG_NAME_MAX bytes. */
void view_select(struct view *v, const char *host, size_t host_len, const char *vm, size_t vm_len);
void view_clear_selection(struct view *v);
/* The operator's line at the start of the status bar (copied; NULL or "" clears). */
void view_set_operator_message(struct view *v, const char *msg);

#endif
