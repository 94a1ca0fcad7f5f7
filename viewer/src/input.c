/* SPDX-License-Identifier: MIT */
/*
 * Keys and clicks to view changes (see input.h). Selection and zoom keep their
 * own rules (selection.c, view.c); this only says which key means which.
 */
#include "input.h"

#include "selection.h"

static enum input_action key(const struct input_event *ev, struct view *v,
                             const struct layout_grid *g, struct model *m, int *preset)
{
    switch (ev->key) {
    case INPUT_KEY_QUIT:
        return INPUT_QUIT;
    case INPUT_KEY_METRIC_1: case INPUT_KEY_METRIC_2: case INPUT_KEY_METRIC_3:
    case INPUT_KEY_METRIC_4: case INPUT_KEY_METRIC_5:
        view_set_metric(v, (enum colour_metric)(ev->key - INPUT_KEY_METRIC_1));
        return INPUT_METRIC;
    case INPUT_KEY_METRIC_ALL:
        view_show(v, VIEW_SHOW_ALL);
        return INPUT_METRIC;
    case INPUT_KEY_METRIC_NEXT:
        view_next_metric(v);
        return INPUT_METRIC;
    case INPUT_KEY_ROTATE:
        view_toggle_rotation(v);
        return INPUT_DONE;
    case INPUT_KEY_ALERTS:
        view_set_alerts_only(v, !v->alerts_only);
        return INPUT_DONE;
    case INPUT_KEY_TILES:
        view_next_tiles(v);
        return INPUT_DONE;
    case INPUT_KEY_SORT:
        view_toggle_sort(v);
        return INPUT_DONE;
    case INPUT_KEY_FULLSCREEN:
        return INPUT_FULLSCREEN;
    case INPUT_KEY_ZOOM:
        if (!view_zoom_at(v, g, m, ev->x, ev->y))
            view_zoom_at(v, g, m, -1, -1);
        return INPUT_DONE;
    case INPUT_KEY_BACK:
        /* back one step, the narrowest view first (as Esc leaves htop's filter):
         * the help overlay, the zoom, the alerts-only filter, the selection */
        if (v->help)
            view_toggle_help(v);
        else if (v->zoomed || v->zoom_site)
            view_zoom_out(v);
        else if (v->alerts_only)
            view_set_alerts_only(v, false);
        else
            view_clear_selection(v);
        return INPUT_DONE;
    case INPUT_KEY_LEFT: case INPUT_KEY_RIGHT: case INPUT_KEY_UP: case INPUT_KEY_DOWN:
        selection_move(v, g, m, ev->key == INPUT_KEY_LEFT ? -1 : ev->key == INPUT_KEY_RIGHT,
                       ev->key == INPUT_KEY_UP ? -1 : ev->key == INPUT_KEY_DOWN);
        return INPUT_DONE;
    case INPUT_KEY_OP_1: case INPUT_KEY_OP_2: case INPUT_KEY_OP_3: case INPUT_KEY_OP_4:
        *preset = (int)(ev->key - INPUT_KEY_OP_1);
        return INPUT_SEND;
    case INPUT_KEY_PAUSE:
        view_set_paused(v, !v->paused);
        return INPUT_DONE;
    case INPUT_KEY_HELP:
        view_toggle_help(v);
        return INPUT_DONE;
    default:
        return INPUT_DONE;
    }
}

enum input_action input_apply(const struct input_event *ev, struct view *v,
                              const struct layout_grid *g, struct model *m, int *preset)
{
    switch (ev->type) {
    case INPUT_EV_QUIT:
        return INPUT_QUIT;
    case INPUT_EV_CLICK:
        /* a host tile has no VM to select: the click drills into the host */
        if (v->operator_mode && !g->host_tiles)
            selection_at(v, g, m, ev->x, ev->y); /* operators zoom with Enter */
        else
            view_zoom_at(v, g, m, ev->x, ev->y);
        return INPUT_DONE;
    case INPUT_EV_KEY:
        return key(ev, v, g, m, preset);
    default:
        return INPUT_DONE;
    }
}
