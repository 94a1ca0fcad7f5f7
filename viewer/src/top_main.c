/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top: parse arguments, load the config, install signals, run, map the
 * result to an exit status. Everything else lives in top_core.
 *
 * Exit status (as kvmgrid-wall's): 0 quit (q, SIGTERM/SIGINT), --once done, or
 * --help/--version/--check; 1 runtime failure (no terminal, the subscription,
 * stdout); 2 usage or configuration error; 3 --once or --json gave up waiting
 * for the retained state.
 */
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/cli.h"
#include "kvmgrid/log.h"
#include "top.h"

static volatile sig_atomic_t stop_flag;

enum { FLAG_WALL_CONFIG = 1 };

static const struct kg_cli_flag flags[] = {
    {"wall-config", 0, "FILE",
     "first read the broker, credentials, TLS, prefix, staleness and alert keys from "
     "kvmgrid-wall's configuration file (its other keys are the wall's); --config and "
     "flags override them", FLAG_WALL_CONFIG},
    {NULL, 0, NULL, NULL, 0},
};

static const char *wall_config_path;

static int on_flag(void *ctx, int id, const char *value, char *errmsg, size_t errlen)
{
    (void)ctx;
    (void)errmsg;
    (void)errlen;
    if (id == FLAG_WALL_CONFIG)
        wall_config_path = value;
    return 0;
}

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const struct kg_cli cli = {
    .program = "kvmgrid-top",
    .summary = "The grid's VMs in a terminal, live: one row per VM with its figures, state,\n"
               "age and alert marks, sorted and filtered; or once as a table or JSON lines.",
    .keys = top_config_keys,
    .flags = flags,
    .on_flag = on_flag,
    .epilogue =
        "Keys: 1-5 sort by CPU, memory, disk, network, steal; 6 state, 7 age, 0 name;\n"
        "s or > next sort column, < previous; r or I reverse; / or f host filter (Enter\n"
        "applies, Esc cancels); a alerts only; p or Space pause; arrows, PgUp, PgDn,\n"
        "Home, End scroll; Esc or Backspace back (help, filter, alerts only); h, ? or F1\n"
        "help; q quit.\n"
        "Without a config file it reads tcp://127.0.0.1:1883, prefix kvmgrid; as the wall\n"
        "of the machine: --wall-config /etc/kvmgrid/kvmgrid-wall.conf.\n"
        "Signals: SIGTERM/SIGINT quit.\n"
        "Exit status: 0 ok (or --help, --version, --check), 1 runtime failure (no\n"
        "terminal: use --once or --json), 2 usage or configuration error, 3 --once or\n"
        "--json without the retained state in time (--timeout).\n",
};

/* Names are measured in terminal columns by wcwidth, which needs a UTF-8
 * LC_CTYPE: the user's, else C.UTF-8 (a cron job's or ssh's bare C locale). */
static void set_locale(void)
{
    if (setlocale(LC_ALL, "") == NULL || strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8");
}

int main(int argc, char **argv)
{
    kg_log_init("kvmgrid-top");
    struct kg_cli_args args;
    char err[1024];
    int rc = kg_cli_begin(&cli, argc, argv, &args, false, TOP_EXIT_USAGE);
    if (rc >= 0)
        return rc;
    rc = TOP_EXIT_USAGE;
    static struct top_config c;
    top_config_defaults(&c);
    if ((wall_config_path != NULL &&
         top_config_from_wall(&c, wall_config_path, err, sizeof(err)) != 0) ||
        kg_cli_apply(top_config_keys, &args, &c, err, sizeof(err)) != 0 ||
        top_config_check(&c, args.config, err, sizeof(err)) != 0) {
        fprintf(stderr, "kvmgrid-top: %s\n", err);
        goto out;
    }
    if (args.check) {
        kg_cli_check_ok(&args, stdout);
        rc = TOP_EXIT_OK;
        goto out;
    }
    kg_log_set_level((enum kg_log_level)c.client.log_level);
    set_locale();

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = top_run(&c, &stop_flag);
out:
    kg_cli_args_free(&args);
    return rc;
}
