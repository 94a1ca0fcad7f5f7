/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's config table and the checks it cannot make (top_config.h).
 */
#include "top_config.h"

#include <string.h>

#include "top_table.h"
#include "wall_config.h"

#define OFF(f) offsetof(struct top_config, f)
#define SZ(f) sizeof(((struct top_config *)0)->f)

const struct kg_config_key top_config_keys[] = {
    KG_CLIENT_CONFIG_KEYS(struct top_config, client),
    {"sort", KG_CFG_ENUM, OFF(sort), 0, 0, 0, top_sort_keys,
     "row order: cpu, mem, disk, net, steal (largest first), state, age (oldest first) or "
     "name (host, then VM)", "cpu"},
    {"reverse", KG_CFG_BOOL, OFF(reverse), 0, 0, 0, NULL,
     "turn the sort order round (rows without the figure stay last)", "false"},
    {"host", KG_CFG_STRING, OFF(host), SZ(host), 0, 0, NULL,
     "show only hosts whose name holds this text, or matches it as a glob (* ? [...]); "
     "letters of either case", NULL},
    {"alerts_only", KG_CFG_BOOL, OFF(alerts_only), 0, 0, 0, NULL,
     "show only the VMs in alert (key a)", "false"},
    {"delay", KG_CFG_DURATION_MS, OFF(delay_ms), 0, 100, 3600000, NULL,
     "the screen shows changes at most this often (a bare number is seconds, as top's -d)",
     "1s"},
    {"once", KG_CFG_BOOL, OFF(once), 0, 0, 0, NULL,
     "print the table once the retained state has arrived, and exit (no terminal needed)",
     "false"},
    {"json", KG_CFG_BOOL, OFF(json), 0, 0, 0, NULL,
     "JSON lines, one object per VM: with --once one snapshot, else the snapshot and then "
     "a line per VM changed", "false"},
    {"timeout", KG_CFG_DURATION_MS, OFF(timeout_ms), 0, 100, 3600000, NULL,
     "--once, --json: give up waiting for the retained state after this (exit 3)", "20s"},
    FEED_MODEL_KEYS(struct top_config, feed),
    FEED_ALERT_KEYS(struct top_config, feed),
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

void top_config_defaults(struct top_config *c)
{
    memset(c, 0, sizeof(*c));
    char why[256];
    /* the table's defaults are constants: a failure is a bug, caught by the tests */
    (void)kg_config_defaults(top_config_keys, c, why, sizeof(why));
    feed_config_defaults(&c->feed);
    c->client.reader = true; /* a "+" level in the prefix reads every site */
}

int top_config_check(struct top_config *c, const char *path, char *errmsg, size_t errlen)
{
    int rc = kg_client_check(&c->client, path, errmsg, errlen);
    if (rc != 0)
        return rc;
    return feed_config_check(&c->feed, path, errmsg, errlen);
}

int top_config_from_wall(struct top_config *c, const char *path, char *errmsg, size_t errlen)
{
    static struct wall_config w; /* 10 kB: not on the stack */
    wall_config_defaults(&w);
    int rc = kg_config_parse_file(wall_config_keys, &w, path, errmsg, errlen);
    if (rc == 0)
        rc = feed_config_check(&w.feed, path, errmsg, errlen);
    if (rc != 0)
        return rc;
    c->client = w.client;
    c->feed = w.feed;
    return 0;
}
