/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-agent: parse arguments, load the config, install signals, run the loop,
 * map the result to an exit status. Everything else lives in agent_core.
 *
 * Exit status: 0 clean stop (SIGTERM/SIGINT) or --help/--version/--check;
 * 1 runtime failure (the MQTT session could not be created);
 * 2 usage or configuration error (reported as file:line: message).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_config.h"
#include "kvmgrid/cli.h"
#include "kvmgrid/log.h"

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_flag = 1;
}

static const struct kg_cli cli = {
    .program = "kvmgrid-agent",
    .summary = "Reads every VM on this hypervisor through libvirt and publishes its figures\n"
               "over MQTT, retained, one topic per host and per VM.",
    .keys = agent_config_keys,
    .epilogue = "Signals: SIGTERM/SIGINT publish \"offline\" and exit 0; SIGHUP reloads the\n"
                "config file and flags (the current config is kept when the new one is invalid).\n"
                "Exit status: 0 stopped cleanly (or --help, --version, --check), 1 runtime\n"
                "failure, 2 usage or configuration error.\n",
};

static int reload_config(void *ctx, struct agent_config *out, char *errmsg, size_t errlen)
{
    return agent_config_load(out, ctx, errmsg, errlen);
}

int main(int argc, char **argv)
{
    kg_log_init("kvmgrid-agent");
    static struct kg_cli_args args;
    char err[1024] = "";
    int rc = kg_cli_begin(&cli, argc, argv, &args, false, AGENT_EXIT_CONFIG);
    if (rc >= 0)
        return rc;
    static struct agent_config cfg;
    if (agent_config_load(&cfg, &args, err, sizeof err) != 0) {
        fprintf(stderr, "kvmgrid-agent: %s\n", err);
        rc = AGENT_EXIT_CONFIG;
        goto out;
    }
    if (args.check) {
        kg_cli_check_ok(&args, stdout);
        rc = 0;
        goto out;
    }
    /* Two malloc arenas at most. A collector thread stuck in libvirt is retired
     * and replaced (lvworker.c); with glibc's default of 8 arenas per core each
     * new thread could get a fresh arena, whose touched pages stay in RSS after
     * the thread is gone: on a loaded host the agent's RSS stepped up with every
     * retirement while its bytes in use stayed flat (docs/BENCHMARKS.md, Soak).
     * The agent's threads allocate little, so sharing costs nothing measurable. */
    mallopt(M_ARENA_MAX, 2);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop; /* no SA_RESTART: the loop's sleep wakes at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    struct agent_hooks hooks = {
        .stop = &stop_flag, .reload = &reload_flag, .reload_fn = reload_config,
        .reload_ctx = &args,
    };
    rc = agent_run(&cfg, &hooks);
out:
    kg_cli_args_free(&args);
    return rc;
}
