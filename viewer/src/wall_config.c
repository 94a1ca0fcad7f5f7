/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-wall's config table and the checks it cannot make (wall_config.h).
 */
#include "wall_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "kvmgrid/error.h"
#include "operator.h"

/* in enum view_show's order */
static const char *const metric_choices[] = {"all", "cpu", "mem", "disk", "net", "steal", NULL};
static const char *const sort_choices[] = {"name", "load", NULL};
/* in enum layout_tiles' order */
static const char *const tiles_choices[] = {"auto", "vms", "hosts", NULL};

#define OFF(f) offsetof(struct wall_config, f)
#define SZ(f) sizeof(((struct wall_config *)0)->f)
#define STR(key, f, help, def) {key, KG_CFG_STRING, OFF(f), SZ(f), 0, 0, NULL, help, def}

const struct kg_config_key wall_config_keys[] = {
    KG_CLIENT_CONFIG_KEYS(struct wall_config, client),
    {"metric", KG_CFG_ENUM, OFF(metric), 0, 0, 0, metric_choices,
     "what tiles show: all (CPU, memory, disk, network in quadrants) or one metric", "all"},
    {"rotate", KG_CFG_DURATION_MS, OFF(rotate_ms), 0, 0, 86400000, NULL,
     "unattended: step all -> cpu -> mem -> disk -> net -> steal -> all this often (0: off; "
     "a metric key stops it, r resumes)", "0"},
    {"alerts_only", KG_CFG_BOOL, OFF(alerts_only), 0, 0, 0, NULL,
     "start with the alerts-only filter: only VMs in alert on the grid (key a)", "false"},
    {"sort", KG_CFG_ENUM, OFF(sort), 0, 0, 0, sort_choices, "host order", "name"},
    {"tiles", KG_CFG_ENUM, OFF(tiles), 0, 0, 0, tiles_choices,
     "a tile per VM (vms), per host showing its VMs' distribution (hosts), or per host when "
     "VM tiles would be smaller than host_tiles_below_px (auto; key t)", "auto"},
    {"host_tiles_below_px", KG_CFG_INT, OFF(host_tiles_below_px), 0, 1, 64, NULL,
     "tiles = auto: one tile per host when VM tiles would be smaller than this (px)", "3"},
    FEED_MODEL_KEYS(struct wall_config, feed),
    {"history", KG_CFG_DURATION_MS, OFF(history_ms), 0, 0, 86400000, NULL,
     "trends kept of each VM's and host's figures (0: none; at most 4096 steps)", "15m"},
    {"history_step", KG_CFG_DURATION_MS, OFF(history_step_ms), 0, 100, 3600000, NULL,
     "one point of the trends: set it to the agents' interval", "5s"},
    {"history_max_vms", KG_CFG_INT, OFF(history_max_vms), 0, 0, 10000000, NULL,
     "VM trends only while the wall holds at most this many VMs (about 724 bytes each at 15 "
     "min in 5 s steps); beyond, they are dropped and only hosts' are kept (0: no cap)",
     "100000"},
    FEED_ALERT_KEYS(struct wall_config, feed),
    STR("font", font, "TTF font file", KG_WALL_FONT),
    {"fullscreen", KG_CFG_BOOL, OFF(fullscreen), 0, 0, 0, NULL, "start in full screen", "false"},
    STR("size", size, "window size WxH, in points", "1280x720"),
    STR("screenshot", screenshot,
        "save a PNG once the retained state arrived (or after --frames) and exit", NULL),
    {"frames", KG_CFG_INT, OFF(frames), 0, 0, 1000000, NULL,
     "with --screenshot: after this many frames instead (0: once the state is in)", "0"},
    {"timeout", KG_CFG_DURATION_MS, OFF(timeout_ms), 0, 100, 3600000, NULL,
     "with --screenshot: give up waiting after this (exit 3)", "20s"},
    STR("dump_layout", dump_layout,
        "write the tile layout as text (with --screenshot at the end, else on SIGUSR1)", NULL),
    {"stats", KG_CFG_BOOL, OFF(stats), 0, 0, 0, NULL, "print frame-time statistics at exit",
     "false"},
    STR("trace_tile", trace_tile,
        "VM name: print a timestamped line each time its tile changes colour (with host "
        "tiles: its host's tile changes; latency measurements)", NULL),
    STR("tooltip", tooltip,
        "HOST/VM: once the retained state is in, show the VM's tooltip as if the mouse were "
        "over its tile (screenshots without a mouse; HOST is cut at the first /)", NULL),
    {"operator", KG_CFG_BOOL, OFF(operator_mode), 0, 0, 0, NULL,
     "operator mode: select a VM and send its load generator a preset (needs username, an "
     "operator's credentials)", "false"},
    STR("operator_send", operator_send,
        "PRESET:VM, with --operator: once the retained state is in, send PRESET (cpu80, "
        "mem256, disk20, stop) to VM's load generator", NULL),
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

void wall_config_defaults(struct wall_config *c)
{
    memset(c, 0, sizeof(*c));
    char why[256];
    /* the table's defaults are constants: a failure is a bug, caught by the tests */
    (void)kg_config_defaults(wall_config_keys, c, why, sizeof(why));
    feed_config_defaults(&c->feed);
    c->client.reader = true; /* a "+" level in the prefix reads every site */
}

/* history / history_step: a whole number of steps, not too many. */
static int check_history(const struct wall_config *c, const char *path, char *errmsg,
                         size_t errlen)
{
    if (c->history_ms == 0)
        return 0;
    uint64_t steps = c->history_ms / c->history_step_ms;
    if (steps == 0)
        return kg_config_error(path, "history", KG_EINVAL, errmsg, errlen,
                               "%llu ms is shorter than history_step (%llu ms)",
                               (unsigned long long)c->history_ms,
                               (unsigned long long)c->history_step_ms);
    if (steps > HISTORY_MAX_STEPS)
        return kg_config_error(path, "history", KG_EINVAL, errmsg, errlen,
                               "%llu steps of history_step (%llu ms) are more than %u: make "
                               "history_step longer or history shorter",
                               (unsigned long long)steps, (unsigned long long)c->history_step_ms,
                               HISTORY_MAX_STEPS);
    return 0;
}

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X'))
        return KG_EINVAL;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end != '\0' || a < 64 || b < 64 || a > 16384 || b > 16384)
        return KG_EINVAL;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

void wall_config_size(const struct wall_config *c, int *w, int *h)
{
    if (parse_size(c->size, w, h) != 0) {
        *w = 1280;
        *h = 720;
    }
}

int wall_config_check(struct wall_config *c, const char *path, char *errmsg, size_t errlen)
{
    int rc = kg_client_check(&c->client, path, errmsg, errlen);
    if (rc != 0)
        return rc;
    int w, h;
    if (parse_size(c->size, &w, &h) != 0)
        return kg_config_error(path, "size", KG_EINVAL, errmsg, errlen,
                               "expected WxH between 64x64 and 16384x16384, got \"%s\"", c->size);
    if (c->operator_mode && c->client.username[0] == '\0')
        return kg_config_error(path, "operator", KG_EINVAL, errmsg, errlen,
                               "needs the operator's username (and password or password_file)");
    if (c->operator_send[0] != '\0') {
        if (!c->operator_mode)
            return kg_config_error(path, "operator_send", KG_EINVAL, errmsg, errlen,
                                   "operator mode is off (set operator = true)");
        const char *colon = strchr(c->operator_send, ':');
        enum operator_preset p;
        if (colon == NULL || colon[1] == '\0' ||
            operator_preset_parse(c->operator_send, (size_t)(colon - c->operator_send), &p) != 0)
            return kg_config_error(path, "operator_send", KG_EINVAL, errmsg, errlen,
                                   "expected PRESET:VM with PRESET one of cpu80, mem256, "
                                   "disk20, stop; got \"%.100s\"", c->operator_send);
    }
    if ((rc = check_history(c, path, errmsg, errlen)) != 0)
        return rc;
    return feed_config_check(&c->feed, path, errmsg, errlen);
}
