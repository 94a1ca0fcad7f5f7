/* SPDX-License-Identifier: MIT */
/*
 * The agent's loop: every interval (monotonic clock) one libvirt sample and one
 * /proc sample become rates and retained messages. It owns the MQTT session
 * ("online" at connect and on every reconnect, "offline" as the will and on a
 * clean stop), the libvirt connection (retried with backoff forever; meanwhile
 * the host is published with libvirt_ok = false and the error), lifecycle events
 * (an undefined VM's topic is removed at once) and the reload of the config.
 */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H
#include <signal.h>
#include <stddef.h>

#include "agent_config.h"

/* Reloads the config (SIGHUP): 0 and *out, or non-zero with errmsg set (the
 * agent then keeps its current config). */
typedef int (*agent_reload_fn)(void *ctx, struct agent_config *out, char *errmsg,
                               size_t errlen);

struct agent_hooks {
    volatile sig_atomic_t *stop;     /* set by SIGTERM/SIGINT: publish "offline", return */
    volatile sig_atomic_t *reload;   /* set by SIGHUP: call reload */
    agent_reload_fn reload_fn;
    void *reload_ctx;
};

enum { AGENT_EXIT_OK = 0, AGENT_EXIT_FAILURE = 1, AGENT_EXIT_CONFIG = 2 };

/* Runs until *stop. The config is copied; a reload replaces the copy. Returns an
 * exit status: AGENT_EXIT_OK after a clean stop, AGENT_EXIT_FAILURE when the
 * MQTT session cannot even be created (bad URI, CA file...). */
int agent_run(const struct agent_config *cfg, const struct agent_hooks *hooks);

#endif
