/* SPDX-License-Identifier: MIT */
/*
 * What the terminal's operator chose to see, and the keys that change it: the
 * sort key and its direction, the host filter (typed in a line editor: Enter
 * applies, Esc cancels), alerts only, pause, help, and the scroll position.
 * Keys follow the wall's (docs/kvmgrid-wall.md): q quits, h ? F1 help, Esc and
 * Backspace step back (the help, the editor, the filter, alerts only), a alerts
 * only, 1-5 sort by CPU, memory, disk, network, steal (the wall's metric keys),
 * p and Space pause; top's own: s state, t age, n name, r or < > reverse, / or f
 * the filter, arrows, PgUp, PgDn, Home, End scroll.
 * Pure module: no terminal, never logs. Main thread only.
 */
#ifndef KG_VIEWER_TOP_VIEW_H
#define KG_VIEWER_TOP_VIEW_H
#include <stdbool.h>
#include <stddef.h>

#include "kvmgrid/topic.h"
#include "top_table.h"

/* Keys that are not characters (the terminal maps its own codes to these). */
enum top_key {
    TOP_KEY_UP = 0x110000, TOP_KEY_DOWN, TOP_KEY_PGUP, TOP_KEY_PGDN, TOP_KEY_HOME,
    TOP_KEY_END, TOP_KEY_ESC, TOP_KEY_ENTER, TOP_KEY_BACKSPACE, TOP_KEY_HELP
};

enum top_action {
    TOP_ACT_NONE = 0,           /* nothing changed */
    TOP_ACT_REDRAW,             /* the view changed: draw again */
    TOP_ACT_QUIT,
};

#define TOP_FILTER_MAX (4 * KG_NAME_MAX)

struct top_view {
    enum top_sort sort;
    bool reverse;
    bool alerts_only;
    char filter[TOP_FILTER_MAX + 1];    /* applied host filter; "": none */
    bool editing;                       /* the filter line is open */
    char edit[TOP_FILTER_MAX + 1];      /* what is typed there */
    size_t edit_len;
    bool help, paused;
    size_t top;                         /* first row shown */
};

void top_view_init(struct top_view *v, enum top_sort sort, bool reverse, const char *filter,
                   bool alerts_only);

/* Applies key (a Unicode code point, or enum top_key). page: rows on one
 * screen, for PgUp/PgDn. */
enum top_action top_view_key(struct top_view *v, int key, size_t page);

/* Keeps the scroll position within n rows shown page at a time. */
void top_view_clamp(struct top_view *v, size_t n, size_t page);

/* The help text: lines, NULL-ended. */
extern const char *const top_view_help[];

#endif
