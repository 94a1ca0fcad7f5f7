/* SPDX-License-Identifier: MIT */
/*
 * The text around the grid: three header lines (program, broker, connection, what
 * tiles show, the rotation, sort, pause, the alerts-only filter and zoom; the
 * model's counts; the VMs in alert, worst first, or "no alerts", then the hottest
 * VMs), the legend (the colour bar, or for all metrics a sample tile with its
 * quadrants named and both scales; the marks, drawn the way tiles show them) and the status
 * line (operator messages, malformed and dropped input, message counters), and
 * where each goes on the canvas. Lines are drawn only when their text changed.
 * A rendering room, main thread only, the model's lock held.
 */
#ifndef KG_WALL_CHROME_H
#define KG_WALL_CHROME_H
#include <SDL.h>
#include <stdbool.h>

#include "canvas.h"
#include "model.h"
#include "text.h"
#include "view.h"

#define CHROME_TEXT_MAX 640

struct chrome {
    SDL_Rect header, grid, legend, status; /* areas of the canvas, output pixels */
    char header_text[3][CHROME_TEXT_MAX];  /* as last drawn */
    char status_text[CHROME_TEXT_MAX];
    const char *prefix, *broker;           /* borrowed, shown in the header */
    const char *trends;                    /* borrowed: the trends' notice ("" none),
                                              at the end of the status line */
};

/* Divides a w x h canvas into header, grid, legend and status for t's fonts. */
void chrome_areas(struct chrome *ch, const struct text *t, int w, int h);
/* Draws the legend for v's metric. */
void chrome_legend(struct chrome *ch, struct canvas *c, const struct text *t, const struct view *v);
/* Composes the header and status lines and draws those that changed (all when
 * force). now_ms (monotonic): how long VMs have been in alert. */
void chrome_update(struct chrome *ch, struct canvas *c, const struct text *t,
                   const struct model *m, const struct view *v, uint64_t now_ms, bool force);

#endif
