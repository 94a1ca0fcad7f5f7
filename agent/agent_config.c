/* SPDX-License-Identifier: MIT */
/*
 * The agent's config table and its cross-key checks. The generic parser in
 * libkvmgrid does the syntax; this module owns what the keys mean together.
 */
#include "agent_config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvmgrid/error.h"
#include "kvmgrid/ha.h"
#include "kvmgrid/log.h"

#define OFF(f) offsetof(struct agent_config, f)
#define SZ(f) sizeof(((struct agent_config *)0)->f)

const struct kg_config_key agent_config_keys[] = {
    KG_CLIENT_CONFIG_KEYS(struct agent_config, client),
    {"libvirt_uri", KG_CFG_STRING, OFF(libvirt_uri), SZ(libvirt_uri), 0, 0, NULL,
     "libvirt connection URI", "qemu:///system"},
    {"libvirt_read_only", KG_CFG_BOOL, OFF(libvirt_read_only), 0, 0, 0, NULL,
     "open libvirt read-only", "true"},
    {"balloon_period", KG_CFG_INT, OFF(balloon_period_s), 0, 0, 86400, NULL,
     "seconds: set each running guest's balloon stats period (needs libvirt_read_only = "
     "false); 0 leaves it alone", "0"},
    {"host", KG_CFG_STRING, OFF(host), SZ(host), 0, 0, NULL,
     "host name in topics (default: the machine's host name)", NULL},
    {"qos", KG_CFG_INT, OFF(qos), 0, 0, 1, NULL,
     "MQTT QoS of the periodic host and VM figures, 0 or 1; status and removals are always "
     "QoS 1", "1"},
    {"interval", KG_CFG_DURATION_MS, OFF(interval_ms), 0, 100, 3600000, NULL,
     "sampling and publishing interval", "5s"},
    {"deadband_pct", KG_CFG_DOUBLE, OFF(deadband_pct), 0, 0, 100, NULL,
     "skip a VM whose figures moved less than this % (0: publish every interval)", "0"},
    {"deadband_max_skip", KG_CFG_INT, OFF(deadband_max_skip), 0, 1, 100000, NULL,
     "with a deadband, republish a VM at least every N intervals", "12"},
    {"summary", KG_CFG_BOOL, OFF(summary), 0, 0, 0, NULL,
     "publish the host's summary (<prefix>/<host>/summary: the host and a row per VM) every "
     "interval", "true"},
    {"proc_root", KG_CFG_STRING, OFF(proc_root), SZ(proc_root), 0, 0, NULL,
     "where to read the host's /proc figures (empty: do not read /proc)", "/proc"},
    {"ha_discovery", KG_CFG_BOOL, OFF(ha_discovery), 0, 0, 0, NULL,
     "publish Home Assistant MQTT discovery configs for the host and its VMs", "false"},
    {"ha_prefix", KG_CFG_STRING, OFF(ha_prefix), SZ(ha_prefix), 0, 0, NULL,
     "Home Assistant's discovery prefix (its birth message is read on <ha_prefix>/status)",
     KG_HA_PREFIX_DEFAULT},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

void agent_config_defaults(struct agent_config *c)
{
    memset(c, 0, sizeof *c);
    char why[256];
    /* the table's defaults are constants: a failure is a bug, caught by the tests */
    (void)kg_config_defaults(agent_config_keys, c, why, sizeof why);
}

int agent_config_finalize(struct agent_config *c, const char *path, char *errmsg,
                             size_t errlen)
{
    int rc = kg_client_check(&c->client, path, errmsg, errlen);
    if (rc)
        return rc;
    if (!c->libvirt_uri[0])
        return kg_config_error(path, "libvirt_uri", KG_EINVAL, errmsg, errlen, "empty");
    if (c->balloon_period_s > 0 && c->libvirt_read_only)
        return kg_config_error(path, "balloon_period", KG_EINVAL, errmsg, errlen,
                               "needs a read-write libvirt connection: set "
                               "libvirt_read_only = false");
    if (!c->host[0]) {
        char h[KG_NAME_MAX + 2] = "";
        if (gethostname(h, sizeof h - 1) != 0 || !h[0])
            return kg_config_error(path, "host", KG_EINVAL, errmsg, errlen,
                                   "not set and gethostname() failed");
        /* gethostname may fill h to the brim: cut explicitly at KG_NAME_MAX */
        snprintf(c->host, sizeof c->host, "%.*s", (int)sizeof c->host - 1, h);
    }
    char why[256] = "";
    if (!kg_topic_prefix_valid(c->ha_prefix, why, sizeof why))
        return kg_config_error(path, "ha_prefix", KG_EINVAL, errmsg, errlen, "%s",
                               why[0] ? why : "invalid");
    char esc[KG_NAME_ESC_MAX + 1];
    if (kg_topic_escape(c->host, strlen(c->host), esc, sizeof esc) < 0)
        return kg_config_error(path, "host", KG_EINVAL, errmsg, errlen, "not a valid name");
    return 0;
}

int agent_config_load(struct agent_config *c, const struct kg_cli_args *a,
                         char *errmsg, size_t errlen)
{
    struct agent_config *n = malloc(sizeof *n);
    if (!n) {
        snprintf(errmsg, errlen, "out of memory");
        return KG_ENOMEM;
    }
    agent_config_defaults(n);
    int rc = a ? kg_cli_apply(agent_config_keys, a, n, errmsg, errlen) : 0;
    if (rc == 0)
        rc = agent_config_finalize(n, a ? a->config : NULL, errmsg, errlen);
    if (rc == 0)
        *c = *n;
    explicit_bzero(n, sizeof *n); /* the password */
    free(n);
    return rc;
}
