/* SPDX-License-Identifier: MIT */
/*
 * The wall's keys and clicks, and what each does to the view: all metrics or one
 * (which stops the rotation), the rotation, sort, zoom, the alerts-only filter,
 * back, pause, help, and in operator mode the selection. What only the run loop
 * can do (quit, full screen, send a command, tick the model again for a new
 * metric) comes back as an input_action. The renderer turns SDL's events into
 * input_event values (render_poll).
 * Pure module: no SDL, never logs. Main thread only.
 */
#ifndef KG_WALL_INPUT_H
#define KG_WALL_INPUT_H
#include <stdbool.h>

#include "layout.h"
#include "model.h"
#include "view.h"

enum input_key {
    INPUT_KEY_NONE = 0, INPUT_KEY_METRIC_1, INPUT_KEY_METRIC_2, INPUT_KEY_METRIC_3,
    INPUT_KEY_METRIC_4, INPUT_KEY_METRIC_5, INPUT_KEY_METRIC_NEXT, INPUT_KEY_SORT,
    INPUT_KEY_FULLSCREEN, INPUT_KEY_ZOOM, INPUT_KEY_BACK, INPUT_KEY_PAUSE,
    INPUT_KEY_HELP, INPUT_KEY_QUIT,
    /* operator mode: move the selection, send preset 1..4 (F5..F8) */
    INPUT_KEY_LEFT, INPUT_KEY_RIGHT, INPUT_KEY_UP, INPUT_KEY_DOWN,
    INPUT_KEY_OP_1, INPUT_KEY_OP_2, INPUT_KEY_OP_3, INPUT_KEY_OP_4,
    INPUT_KEY_METRIC_ALL,       /* every metric at once */
    INPUT_KEY_ROTATE,           /* resume or stop the rotation */
    INPUT_KEY_ALERTS,           /* alerts-only filter on or off */
    INPUT_KEY_TILES             /* tiles: auto -> hosts -> vms -> auto */
};

enum input_event_type { INPUT_EV_NONE = 0, INPUT_EV_QUIT, INPUT_EV_KEY, INPUT_EV_CLICK };

struct input_event {
    enum input_event_type type;
    enum input_key key;
    int x, y;                   /* output pixels: CLICK's, a KEY's mouse position (-1: none) */
};

enum input_action {
    INPUT_DONE = 0,             /* handled (or nothing to do) */
    INPUT_QUIT,
    INPUT_FULLSCREEN,           /* toggle full screen */
    INPUT_METRIC,               /* the metric changed: recount the hottest VMs now */
    INPUT_SEND,                 /* send operator preset *preset to the selected VM */
};

/* Applies ev to v over grid g (clicks zoom, or select in operator mode; Enter
 * zooms into the host under the mouse, else the first; Esc goes back one step:
 * closes the help, else zooms out, else leaves the alerts-only filter, else
 * clears the selection). Takes the model's lock where it looks at the grid. *preset gets
 * the preset index (enum operator_preset) with INPUT_SEND. */
enum input_action input_apply(const struct input_event *ev, struct view *v,
                              const struct layout_grid *g, struct model *m, int *preset);

#endif
