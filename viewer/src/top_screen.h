/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's live table on the terminal: the only room that includes
 * ncurses. It reads the model the feed fills, at most once per delay, and draws
 * a header (broker, counts, sort, filter), the table (top_table.h) and the help
 * or the filter line; keys go to top_view. Main thread only.
 */
#ifndef KG_VIEWER_TOP_SCREEN_H
#define KG_VIEWER_TOP_SCREEN_H
#include <signal.h>

#include "feed.h"
#include "model.h"
#include "top_config.h"

/* Runs the screen over f and m (borrowed) until q or *stop (may be NULL).
 * Returns an exit status (top.h); TOP_EXIT_RUNTIME when the terminal cannot
 * be used. */
int top_screen_run(const struct top_config *c, struct feed *f, struct model *m,
                   volatile sig_atomic_t *stop);

#endif
