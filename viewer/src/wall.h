/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-wall's program: its configuration table (file keys and flags are the
 * same), and the run loop that wires the MQTT session to the model and the model
 * to the renderer, maps keys to view changes and takes headless screenshots.
 */
#ifndef KG_WALL_WALL_H
#define KG_WALL_WALL_H
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmgrid/config.h"
#include "kvmgrid/topic.h"

struct wall_config {
    char broker[512];           /* tcp://host:port or ssl://host:port */
    char prefix[KG_PREFIX_MAX + 1];
    char username[128];
    char password[256];
    char password_file[512];    /* first line is the password (keeps it off command lines) */
    char ca_file[512];
    char client_id[128];
    int metric;                 /* enum colour_metric */
    int sort;                   /* enum layout_sort_by */
    long long stale_intervals;  /* missed intervals before a VM or host is stale */
    long long max_hosts, max_vms; /* caps on what the model holds */
    uint64_t interval_ms;       /* agent interval assumed until a host tells its own */
    char font[512];
    bool fullscreen;
    char size[32];              /* "WxH" window size in points */
    char log_level[16];
    /* run modes (flags, but accepted in files too) */
    char screenshot[512];       /* save a PNG and exit */
    long long frames;           /* 0: screenshot once the retained state has arrived */
    uint64_t timeout_ms;        /* screenshot: give up waiting after this (exit 3) */
    char dump_layout[512];      /* with --screenshot: also write the layout as text */
    bool stats;                 /* print frame-time statistics at exit */
    char trace_tile[KG_NAME_MAX + 1]; /* VM name: log when its tile changes colour */
    /* operator mode (off unless asked for, and only with a user name) */
    bool operator_mode;
    char operator_send[KG_NAME_MAX + 32]; /* "PRESET:VM": headless, send once settled */
};

extern const struct kg_config_key wall_config_keys[];

/* Fills c with the defaults. */
void wall_config_defaults(struct wall_config *c);
/* Checks values that the table cannot (size syntax, prefix). 0 or KG_EINVAL with errmsg. */
int wall_config_check(const struct wall_config *c, char *errmsg, size_t errlen);
/* Reads password_file's first line (without its line end) into c->password, once
 * every flag and file has been parsed. 0 when there is no password_file; KG_EINVAL
 * when password is set too, KG_EIO when the file cannot be read, KG_ERANGE when
 * the password is too long; errmsg says which. */
int wall_config_read_password(struct wall_config *c, char *errmsg, size_t errlen);

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
