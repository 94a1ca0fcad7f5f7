/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-load --listen: serves load commands over MQTT. Subscribes to
 * <prefix>/<node>/load/cmd, decodes each command (kg_load_cmd_decode), checks
 * it against the caps and runs it; publishes the state retained on
 * <prefix>/<node>/load/state: idle, or what runs with its progress and achieved
 * rates (every state_interval while running), and the last rejected command
 * with its reason. The will, and the last message of a clean exit, is the
 * "offline" state. Retained commands are refused: a command left retained on
 * the broker would otherwise run again on every reconnect.
 */
#ifndef LOADGEN_LISTEN_H
#define LOADGEN_LISTEN_H
#include <signal.h>

#include "loadgen_config.h"

/* Runs until *stop becomes non-zero (set by a signal handler). cfg borrowed;
 * cfg->node must be set. Returns 0 after a clean shutdown, or KG_EINVAL (bad
 * broker options; logged) / KG_EIO. Loads are stopped and files removed
 * before it returns. */
int listen_run(const struct loadgen_config *cfg, const volatile sig_atomic_t *stop);

#endif
