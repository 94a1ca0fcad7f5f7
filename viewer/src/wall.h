/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-wall's program: the run loop that wires the MQTT session to the model
 * and the model to the renderer, maps keys to view changes and takes headless
 * screenshots. Its configuration is in wall_config.h.
 */
#ifndef KG_WALL_WALL_H
#define KG_WALL_WALL_H
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wall_config.h"

/* Exit statuses of kvmgrid-wall. */
enum {
    WALL_EXIT_OK = 0,
    WALL_EXIT_RUNTIME = 1,      /* SDL, font, MQTT session or screenshot file failed;
                                   --operator-send could not send */
    WALL_EXIT_USAGE = 2,        /* bad flag or config */
    WALL_EXIT_TIMEOUT = 3,      /* --screenshot: no retained state in time (picture saved) */
};

/* Runs the wall until q, the window closes or *stop; returns an exit status. stop and
 * report are set by signal handlers (may be NULL): when *report becomes non-zero the
 * wall prints its counters on stdout (the --stats "applied ..." line) and a "view ..."
 * line (inputs handled, frames, settled, pending, metric, sort, paused, help,
 * tooltip, zoomed, fullscreen, size, output), and clears it. */
int wall_run(const struct wall_config *c, volatile sig_atomic_t *stop,
             volatile sig_atomic_t *report);

#endif
