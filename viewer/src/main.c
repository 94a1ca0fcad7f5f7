/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-wall: parse arguments, load the config, install signals, run the wall,
 * map the result to an exit status. Everything else lives in viewer_core.
 *
 * Exit status: 0 quit (q, window closed, SIGTERM/SIGINT) or --help/--version/--check;
 * 1 runtime failure (window, font, screenshot file); 2 usage or configuration
 * error; 3 --screenshot gave up waiting for the retained state (picture saved).
 * SIGUSR1 prints the message counters and a "view ..." line (what is on screen,
 * and "pending 0" once everything received and handled has been drawn) on stdout.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/cli.h"
#include "kvmgrid/log.h"
#include "wall.h"

static volatile sig_atomic_t stop_flag, report_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_report(int sig)
{
    (void)sig;
    report_flag = 1;
}

static const struct kg_cli cli = {
    .program = "kvmgrid-wall",
    .summary = "The grid's wallboard: every VM of every host as one tile of a heatmap.",
    .keys = wall_config_keys,
    .epilogue =
        "Keys: 0 all metrics, 1-5 one metric, m next (a metric key stops the rotation),\n"
        "r rotate / stop rotating, a alerts only, s sort, F11 full screen, Enter/click\n"
        "zoom, Esc back, p pause, h or ? help, q quit. Mouse over a tile: its figures.\n"
        "Operator mode (--operator, an operator's credentials): click or arrows select\n"
        "a VM; F5 CPU 80 %, F6 memory 256 MiB, F7 disk write 20 MB/s (60 s each), F8 stop\n"
        "go to <prefix>/<VM name>/load/cmd; Esc clears the selection.\n"
        "Headless: SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software "
        "SDL_FRAMEBUFFER_ACCELERATION=0 kvmgrid-wall --screenshot out.png\n"
        "Signals: SIGTERM/SIGINT quit; SIGUSR1 prints the counters and what is on screen.\n"
        "Exit status: 0 ok (or --help, --version, --check), 1 runtime failure, 2 usage\n"
        "or configuration error, 3 screenshot taken without the retained state (timeout).\n",
};

int main(int argc, char **argv)
{
    kg_log_init("kvmgrid-wall");
    struct kg_cli_args args;
    char err[1024];
    int rc = kg_cli_begin(&cli, argc, argv, &args, false, WALL_EXIT_USAGE);
    if (rc >= 0)
        return rc;
    rc = WALL_EXIT_USAGE;
    static struct wall_config c;
    wall_config_defaults(&c);
    if (kg_cli_apply(wall_config_keys, &args, &c, err, sizeof(err)) != 0 ||
        wall_config_check(&c, args.config, err, sizeof(err)) != 0) {
        fprintf(stderr, "kvmgrid-wall: %s\n", err);
        goto out;
    }
    if (args.check) {
        kg_cli_check_ok(&args, stdout);
        rc = WALL_EXIT_OK;
        goto out;
    }
    kg_log_set_level((enum kg_log_level)c.client.log_level);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_report;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = wall_run(&c, &stop_flag, &report_flag);
out:
    kg_cli_args_free(&args);
    return rc;
}
