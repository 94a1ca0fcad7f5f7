/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's configuration: one struct, one key table (the client settings
 * and the model's keys as the wall takes them, then the terminal's own), and
 * the checks the table cannot make. Pure apart from reading password_file.
 */
#ifndef KG_VIEWER_TOP_CONFIG_H
#define KG_VIEWER_TOP_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "kvmgrid/client.h"
#include "kvmgrid/config.h"
#include "kvmgrid/topic.h"

struct top_config {
    struct kg_client client;    /* broker, credentials, TLS, prefix, log level */
    struct feed_config feed;    /* staleness, assumed interval, caps, alert rules */
    int sort;                   /* enum top_sort */
    bool reverse;               /* the sort key's order turned round */
    char host[4 * KG_NAME_MAX + 1]; /* host filter: substring or glob; "": all */
    bool alerts_only;           /* only VMs in alert */
    uint64_t delay_ms;          /* the screen redraws at most this often */
    bool once;                  /* print the table (or JSON) once and exit */
    bool json;                  /* JSON lines instead of the table */
    uint64_t timeout_ms;        /* --once: give up waiting for the retained state */
};

extern const struct kg_config_key top_config_keys[];

/* Fills c with the defaults. */
void top_config_defaults(struct top_config *c);

/* Takes the client settings (broker, credentials, TLS, prefix, log level) and
 * the model's keys (staleness, interval, caps, alert rules) from kvmgrid-wall's
 * configuration file at path, so that the terminal judges as that wall does;
 * the wall's other keys are its own. A mistake in the file is reported as
 * "path:line: message". 0 or the KG_* code with errmsg. */
int top_config_from_wall(struct top_config *c, const char *path, char *errmsg, size_t errlen);

/* Checks what the table cannot: the client settings (kg_client_check, which
 * reads password_file), the alert rules (feed_config_check). path (may be NULL)
 * is the config file, for "file:line: message". 0 or KG_EINVAL / KG_EIO /
 * KG_ERANGE with errmsg. */
int top_config_check(struct top_config *c, const char *path, char *errmsg, size_t errlen);

#endif
