/* SPDX-License-Identifier: MIT */
/*
 * The agent's config table and its cross-key checks. The generic parser in
 * libkvmgrid does the syntax; this module owns what the keys mean together.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvmgrid/error.h"
#include "kvmgrid/log.h"

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};

#define OFF(f) offsetof(struct agent_config, f)
#define SZ(f) sizeof(((struct agent_config *)0)->f)

const struct kg_config_key agent_config_keys[] = {
    {"libvirt_uri", KG_CFG_STRING, OFF(libvirt_uri), SZ(libvirt_uri), 0, 0, NULL,
     "libvirt connection URI (default qemu:///system)"},
    {"libvirt_read_only", KG_CFG_BOOL, OFF(libvirt_read_only), 0, 0, 0, NULL,
     "open libvirt read-only (default true)"},
    {"balloon_period", KG_CFG_INT, OFF(balloon_period_s), 0, 0, 86400, NULL,
     "seconds: set each running guest's balloon stats period (needs libvirt_read_only = false); 0 leaves it alone"},
    {"broker", KG_CFG_STRING, OFF(broker), SZ(broker), 0, 0, NULL,
     "MQTT broker URI, tcp://host:port or ssl://host:port (default tcp://localhost:1883)"},
    {"username", KG_CFG_STRING, OFF(username), SZ(username), 0, 0, NULL, "MQTT user name"},
    {"password", KG_CFG_STRING, OFF(password), SZ(password), 0, 0, NULL,
     "MQTT password (prefer password_file)"},
    {"password_file", KG_CFG_STRING, OFF(password_file), SZ(password_file), 0, 0, NULL,
     "file holding the MQTT password (first line)"},
    {"ca_file", KG_CFG_STRING, OFF(ca_file), SZ(ca_file), 0, 0, NULL,
     "CA bundle to verify an ssl:// broker"},
    {"prefix", KG_CFG_STRING, OFF(prefix), SZ(prefix), 0, 0, NULL,
     "topic prefix (default kvmgrid)"},
    {"host", KG_CFG_STRING, OFF(host), SZ(host), 0, 0, NULL,
     "host name in topics (default: the machine's host name)"},
    {"qos", KG_CFG_INT, OFF(qos), 0, 0, 1, NULL, "MQTT QoS of the periodic host and VM figures, 0 or 1 (default 1); status and removals are always QoS 1"},
    {"interval", KG_CFG_DURATION_MS, OFF(interval_ms), 0, 100, 3600000, NULL,
     "sampling and publishing interval, e.g. 5s (default 5s)"},
    {"deadband_pct", KG_CFG_DOUBLE, OFF(deadband_pct), 0, 0, 100, NULL,
     "skip a VM whose figures moved less than this % (default 0: publish every interval)"},
    {"deadband_max_skip", KG_CFG_INT, OFF(deadband_max_skip), 0, 1, 100000, NULL,
     "with a deadband, republish a VM at least every N intervals (default 12)"},
    {"log_level", KG_CFG_ENUM, OFF(log_level), 0, 0, 0, log_levels,
     "error, warn, info or debug (default info)"},
    {"proc_root", KG_CFG_STRING, OFF(proc_root), SZ(proc_root), 0, 0, NULL,
     "where to read the host's /proc figures (default /proc; empty: do not read /proc)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL},
};

void agent_config_defaults(struct agent_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->libvirt_uri, sizeof c->libvirt_uri, "qemu:///system");
    c->libvirt_read_only = true;
    snprintf(c->broker, sizeof c->broker, "tcp://localhost:1883");
    snprintf(c->prefix, sizeof c->prefix, "%s", KG_PREFIX_DEFAULT);
    c->qos = 1;
    c->interval_ms = 5000;
    c->deadband_pct = 0;
    c->deadband_max_skip = 12;
    c->log_level = KG_LOG_INFO;
    snprintf(c->proc_root, sizeof c->proc_root, "/proc");
}

/* Line of the last assignment of key in the file at path (the one that won), or 0. */
static int key_line(const char *path, const char *key)
{
    if (!path)
        return 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[4096];
    int n = 0, found = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) {
        n++;
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, key, kl) != 0)
            continue;
        p += kl;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '=')
            found = n;
    }
    fclose(f);
    return found;
}

static int fail(const char *path, const char *key, char *errmsg, size_t errlen, int code,
                const char *msg)
{
    int line = key_line(path, key);
    if (line > 0)
        snprintf(errmsg, errlen, "%s:%d: %s", path, line, msg);
    else
        snprintf(errmsg, errlen, "%s: %s", path ? path : "command line", msg);
    return code;
}

int agent_config_finalize(struct agent_config *c, const char *path, char *errmsg,
                          size_t errlen)
{
    char why[160] = "";
    if (!kg_topic_prefix_valid(c->prefix, why, sizeof why)) {
        char m[256];
        snprintf(m, sizeof m, "prefix: %s", why[0] ? why : "invalid");
        return fail(path, "prefix", errmsg, errlen, KG_EINVAL, m);
    }
    if (!c->libvirt_uri[0])
        return fail(path, "libvirt_uri", errmsg, errlen, KG_EINVAL, "libvirt_uri: empty");
    if (!c->broker[0])
        return fail(path, "broker", errmsg, errlen, KG_EINVAL, "broker: empty");
    if (strncmp(c->broker, "tcp://", 6) != 0 && strncmp(c->broker, "ssl://", 6) != 0 &&
        strncmp(c->broker, "mqtt://", 7) != 0 && strncmp(c->broker, "mqtts://", 8) != 0)
        return fail(path, "broker", errmsg, errlen, KG_EINVAL,
                    "broker: expected tcp://host:port or ssl://host:port");
    if (c->balloon_period_s > 0 && c->libvirt_read_only)
        return fail(path, "balloon_period", errmsg, errlen, KG_EINVAL,
                    "balloon_period needs a read-write libvirt connection: set "
                    "libvirt_read_only = false");
    if (c->password[0] && c->password_file[0])
        return fail(path, "password_file", errmsg, errlen, KG_EINVAL,
                    "password and password_file are exclusive");
    if (!c->host[0]) {
        char h[KG_NAME_MAX + 2] = "";
        if (gethostname(h, sizeof h - 1) != 0 || !h[0])
            return fail(path, "host", errmsg, errlen, KG_EINVAL,
                        "host: not set and gethostname() failed");
        /* gethostname may fill h to the brim: cut explicitly at KG_NAME_MAX */
        snprintf(c->host, sizeof c->host, "%.*s", (int)sizeof c->host - 1, h);
    }
    char esc[KG_NAME_ESC_MAX + 1];
    if (kg_topic_escape(c->host, strlen(c->host), esc, sizeof esc) < 0)
        return fail(path, "host", errmsg, errlen, KG_EINVAL, "host: not a valid name");
    if (c->password_file[0]) {
        FILE *f = fopen(c->password_file, "re");
        if (!f) {
            char m[AGENT_PATH_MAX + 64];
            snprintf(m, sizeof m, "password_file %s: %s", c->password_file, strerror(errno));
            return fail(path, "password_file", errmsg, errlen, KG_EIO, m);
        }
        char pw[sizeof c->password + 1];
        if (!fgets(pw, sizeof pw, f))
            pw[0] = '\0';
        fclose(f);
        pw[strcspn(pw, "\r\n")] = '\0';
        if (strlen(pw) >= sizeof c->password)
            return fail(path, "password_file", errmsg, errlen, KG_ERANGE,
                        "password_file: password too long");
        memcpy(c->password, pw, strlen(pw) + 1); /* length checked above */
    }
    return 0;
}

int agent_config_load(struct agent_config *c, const char *path,
                      const char *const *flag_keys, const char *const *flag_values,
                      size_t nflags, char *errmsg, size_t errlen)
{
    struct agent_config *n = malloc(sizeof *n);
    if (!n) {
        snprintf(errmsg, errlen, "out of memory");
        return KG_ENOMEM;
    }
    agent_config_defaults(n);
    int rc = 0;
    if (path)
        rc = kg_config_parse_file(agent_config_keys, n, path, errmsg, errlen);
    for (size_t i = 0; rc == 0 && i < nflags; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s", flag_keys[i]);
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        char why[200] = "";
        rc = kg_config_set(agent_config_keys, n, key, flag_values[i], why, sizeof why);
        if (rc)
            snprintf(errmsg, errlen, "--%s: %s", flag_keys[i], why[0] ? why : kg_strerror(rc));
    }
    if (rc == 0)
        rc = agent_config_finalize(n, path, errmsg, errlen);
    if (rc == 0)
        *c = *n;
    free(n);
    return rc;
}

void agent_config_help(char *buf, size_t size)
{
    size_t off = 0;
    if (size)
        buf[0] = '\0';
    for (const struct kg_config_key *k = agent_config_keys; k->name && off < size; k++) {
        char flag[64];
        snprintf(flag, sizeof flag, "%s", k->name);
        for (char *p = flag; *p; p++)
            if (*p == '_')
                *p = '-';
        int n = snprintf(buf + off, size - off, "  --%-20s %s\n", flag, k->help);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}
