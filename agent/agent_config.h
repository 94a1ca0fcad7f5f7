/* SPDX-License-Identifier: MIT */
/*
 * The agent's configuration: one struct, one key table (the same keys in the
 * config file and as --flags), defaults, and the cross-key checks that the
 * generic parser (kvmgrid/config.h) cannot make. Pure apart from reading the
 * config and password files and asking the system for its host name.
 */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmgrid/cli.h"
#include "kvmgrid/client.h"
#include "kvmgrid/config.h"
#include "kvmgrid/topic.h"

#define AGENT_PATH_MAX 1024

struct agent_config {
    char libvirt_uri[512];         /* default "qemu:///system" */
    bool libvirt_read_only;        /* default true */
    long long balloon_period_s;    /* 0: leave the guests' stats period alone */
    struct kg_client client;       /* broker, credentials, TLS, prefix, log level */
    char host[KG_NAME_MAX + 1];    /* "" until finalised: gethostname() */
    long long qos;                 /* 0 or 1, default 1 */
    uint64_t interval_ms;          /* default 5000 */
    double deadband_pct;           /* 0: off */
    long long deadband_max_skip;   /* republish at least every N intervals; default 12 */
    char proc_root[AGENT_PATH_MAX]; /* default "/proc"; "" = do not read /proc */
    bool summary;                  /* publish <prefix>/<host>/summary; default true */
    bool ha_discovery;             /* publish Home Assistant discovery; default false */
    char ha_prefix[KG_PREFIX_MAX + 1]; /* its discovery prefix; default "homeassistant" */
};

/* The key table (NULL-terminated), for kg_config_* and --help. */
extern const struct kg_config_key agent_config_keys[];

/* Fills *c with the defaults (host left empty). */
void agent_config_defaults(struct agent_config *c);

/* Checks what single keys cannot: the client settings (kg_client_check, which
 * also reads password_file into the password), the host name's validity and
 * balloon_period needing a read-write connection. Fills the defaults that need
 * the system (host = gethostname()) and checks ha_prefix (as a topic prefix). path (may be NULL: "command line") names the file in messages,
 * which have the form "path:line: message" when a key's line is known.
 * Returns 0 or KG_EINVAL / KG_EIO with errmsg set. */
int agent_config_finalize(struct agent_config *c, const char *path, char *errmsg,
                             size_t errlen);

/* Defaults, then the command line's config file and flags (a may be NULL: the
 * defaults alone), then finalize. *c is only written on success, so a failed
 * reload keeps the old one. Returns 0 or a negative KG_* code with errmsg
 * "file:line: message" or "--key: message". */
int agent_config_load(struct agent_config *c, const struct kg_cli_args *a,
                         char *errmsg, size_t errlen);

#endif
