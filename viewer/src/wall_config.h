/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-wall's configuration: one struct, one key table (the same keys in the
 * config file and as --flags, with their defaults and help), and the checks the
 * table cannot make. Pure apart from reading password_file.
 */
#ifndef KG_WALL_WALL_CONFIG_H
#define KG_WALL_WALL_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmgrid/client.h"
#include "kvmgrid/config.h"
#include "kvmgrid/topic.h"
#include "feed.h"

struct wall_config {
    struct kg_client client;    /* broker, credentials, TLS, prefix, log level */
    int metric;                 /* enum view_show: all metrics, or one */
    uint64_t rotate_ms;         /* step the view on this often; 0: off */
    bool alerts_only;           /* start with the alerts-only filter */
    int sort;                   /* enum layout_sort_by */
    int tiles;                  /* enum layout_tiles: auto, vms, hosts */
    long long host_tiles_below_px; /* auto: host tiles when VM tiles would be smaller */
    struct feed_config feed;    /* staleness, assumed interval, caps, alert rules */
    uint64_t history_ms;        /* trends kept per VM and host, 0: none */
    uint64_t history_step_ms;   /* one point of a trend */
    long long history_max_vms;  /* VM trends only up to this many VMs (0: no cap) */
    char font[512];
    bool fullscreen;
    char size[32];              /* "WxH" window size in points */
    /* run modes (flags, but accepted in files too) */
    char screenshot[512];       /* save a PNG and exit */
    long long frames;           /* 0: screenshot once the retained state has arrived */
    uint64_t timeout_ms;        /* screenshot: give up waiting after this (exit 3) */
    char dump_layout[512];      /* with --screenshot: also write the layout as text */
    bool stats;                 /* print frame-time statistics at exit */
    char trace_tile[KG_NAME_MAX + 1]; /* VM name: log when its tile changes colour */
    char tooltip[2 * KG_NAME_MAX + 2]; /* "HOST/VM": its tooltip shown once settled */
    /* operator mode (off unless asked for, and only with a user name) */
    bool operator_mode;
    char operator_send[KG_NAME_MAX + 32]; /* "PRESET:VM": headless, send once settled */
};

extern const struct kg_config_key wall_config_keys[];

/* Fills c with the defaults. */
void wall_config_defaults(struct wall_config *c);

/* Checks what the table cannot: the client settings (kg_client_check, which
 * reads password_file into the password), the size's syntax, operator mode's
 * needs, the history's number of steps, the alert rules (feed_config_check:
 * parsed into c->feed.rules). path (may be NULL) is the config file, for
 * "file:line: message".
 * 0 or KG_EINVAL / KG_EIO / KG_ERANGE with errmsg. */
int wall_config_check(struct wall_config *c, const char *path, char *errmsg, size_t errlen);

/* The window size in points from c->size (checked by wall_config_check). */
void wall_config_size(const struct wall_config *c, int *w, int *h);

#endif
