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
#include "config.h"
#include "kvmgrid/log.h"
#include "kvmgrid/version.h"

#define MAX_FLAGS 64

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

struct args {
    const char *config;                 /* NULL: defaults and flags only */
    const char *keys[MAX_FLAGS];
    const char *values[MAX_FLAGS];
    bool owned[MAX_FLAGS];              /* keys split from "--key=value" (malloc'd) */
    size_t n;
    bool check;
};

static void usage(FILE *f)
{
    static char keys[8192];
    agent_config_help(keys, sizeof keys);
    fprintf(f,
            "Usage: kvmgrid-agent [--config FILE] [--KEY VALUE | --KEY=VALUE]...\n"
            "Reads every VM on this hypervisor through libvirt and publishes it over MQTT.\n"
            "\n"
            "  -c, --config FILE      config file (\"key = value\" lines; the flags below override it)\n"
            "      --check            validate the configuration and exit\n"
            "  -h, --help             this text\n"
            "  -V, --version          print the version\n"
            "\n"
            "Every config key is also a flag:\n%s"
            "\n"
            "Signals: SIGTERM/SIGINT publish \"offline\" and exit 0; SIGHUP reloads the config\n"
            "(the current one is kept when the new one is invalid).\n"
            "Exit status: 0 stopped cleanly, 1 runtime failure, 2 usage or configuration error.\n",
            keys);
}

/* Returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
            printf("kvmgrid-agent %s\n", KG_VERSION);
            return 0;
        }
        if (!strcmp(arg, "--check")) {
            a->check = true;
            continue;
        }
        if (!strcmp(arg, "-c") || !strcmp(arg, "--config")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kvmgrid-agent: %s needs a file\n", arg);
                return AGENT_EXIT_CONFIG;
            }
            a->config = argv[++i];
            continue;
        }
        if (!strncmp(arg, "--config=", 9)) {
            a->config = arg + 9;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            fprintf(stderr, "kvmgrid-agent: unexpected argument '%s' (try --help)\n", arg);
            return AGENT_EXIT_CONFIG;
        }
        if (a->n == MAX_FLAGS) {
            fprintf(stderr, "kvmgrid-agent: too many flags\n");
            return AGENT_EXIT_CONFIG;
        }
        const char *eq = strchr(arg, '=');
        if (eq) {
            /* "--key=value": split into a static copy of the key */
            size_t kl = (size_t)(eq - arg - 2);
            char *k = malloc(kl + 1);
            if (!k)
                return AGENT_EXIT_FAILURE;
            memcpy(k, arg + 2, kl);
            k[kl] = '\0';
            a->keys[a->n] = k;
            a->owned[a->n] = true;
            a->values[a->n++] = eq + 1;
        } else {
            if (i + 1 >= argc) {
                fprintf(stderr, "kvmgrid-agent: %s needs a value (try --help)\n", arg);
                return AGENT_EXIT_CONFIG;
            }
            a->keys[a->n] = arg + 2;
            a->values[a->n++] = argv[++i];
        }
    }
    return -1;
}

static int reload_config(void *ctx, struct agent_config *out, char *errmsg, size_t errlen)
{
    const struct args *a = ctx;
    return agent_config_load(out, a->config, a->keys, a->values, a->n, errmsg, errlen);
}

int main(int argc, char **argv)
{
    kg_log_init("kvmgrid-agent");
    static struct args args;
    int rc = parse_args(argc, argv, &args);
    if (rc >= 0)
        goto out;
    static struct agent_config cfg;
    char err[1024] = "";
    if (agent_config_load(&cfg, args.config, args.keys, args.values, args.n, err,
                          sizeof err) != 0) {
        fprintf(stderr, "kvmgrid-agent: %s\n", err);
        rc = AGENT_EXIT_CONFIG;
        goto out;
    }
    if (args.check) {
        printf("%s: configuration OK\n", args.config ? args.config : "command line");
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
    for (size_t i = 0; i < args.n; i++)
        if (args.owned[i])
            free((char *)args.keys[i]);
    return rc;
}
