/* SPDX-License-Identifier: MIT */
/*
 * The agent's loop: every interval (monotonic clock) one libvirt sample and one
 * /proc sample become rates and retained messages. It owns the MQTT session
 * ("online" at connect and on every reconnect, "offline" as the will and on a
 * clean stop), the libvirt connection (retried with backoff forever; meanwhile
 * the host is published with libvirt_ok = false and the error), lifecycle events
 * (an undefined VM's topic is removed at once) and the reload of the config.
 */
#ifndef KG_AGENT_AGENT_H
#define KG_AGENT_AGENT_H
#include <signal.h>
#include <stddef.h>

#include "config.h"

/* Reloads the config (SIGHUP): 0 and *out, or non-zero with errmsg set (the
 * agent then keeps its current config). */
typedef int (*kg_agent_reload_fn)(void *ctx, struct kg_agent_config *out, char *errmsg,
                                  size_t errlen);

struct kg_agent_hooks {
    volatile sig_atomic_t *stop;     /* set by SIGTERM/SIGINT: publish "offline", return */
    volatile sig_atomic_t *reload;   /* set by SIGHUP: call reload */
    kg_agent_reload_fn reload_fn;
    void *reload_ctx;
};

enum { KG_AGENT_EXIT_OK = 0, KG_AGENT_EXIT_FAILURE = 1, KG_AGENT_EXIT_CONFIG = 2 };

/* Runs until *stop. The config is copied; a reload replaces the copy. Returns an
 * exit status: KG_AGENT_EXIT_OK after a clean stop, KG_AGENT_EXIT_FAILURE when the
 * MQTT session cannot even be created (bad URI, CA file...). */
int kg_agent_run(const struct kg_agent_config *cfg, const struct kg_agent_hooks *hooks);

#endif
