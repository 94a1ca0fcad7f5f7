/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's program: the feed into the model, then one of three outputs —
 * the live table on a terminal (top_screen.h), one plain table (--once), or JSON
 * lines (--json: one snapshot with --once, else the snapshot and then the VMs
 * that changed). Its configuration is in top_config.h.
 */
#ifndef KG_VIEWER_TOP_H
#define KG_VIEWER_TOP_H
#include <signal.h>

#include "top_config.h"

/* Exit statuses of kvmgrid-top, as kvmgrid-wall's. */
enum {
    TOP_EXIT_OK = 0,
    TOP_EXIT_RUNTIME = 1,       /* no terminal, the subscription or stdout failed */
    TOP_EXIT_USAGE = 2,         /* bad flag or config */
    TOP_EXIT_TIMEOUT = 3,       /* --once, --json: no retained state in time */
};

/* Runs kvmgrid-top as c says until it is done, q, or *stop (set by a signal
 * handler; may be NULL). Returns an exit status. */
int top_run(const struct top_config *c, volatile sig_atomic_t *stop);

#endif
