/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-wall: parse arguments, load the config, install signals, run the wall,
 * map the result to an exit status. Everything else lives in viewer_core.
 *
 * Exit status: 0 quit (q, window closed, SIGTERM/SIGINT) or --help/--version;
 * 1 runtime failure (window, font, screenshot file); 2 usage or configuration
 * error; 3 --screenshot gave up waiting for the retained state (picture saved).
 * SIGUSR1 prints the message counters and a "view ..." line (what is on screen,
 * and "pending 0" once everything received and handled has been drawn) on stdout.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/config.h"
#include "kvmgrid/log.h"
#include "kvmgrid/version.h"
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

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: kvmgrid-wall [--config FILE] [--KEY VALUE | --KEY=VALUE]...\n"
            "The grid's wallboard: every VM of every host as one tile of a heatmap.\n\n"
            "  -c, --config FILE    config file (\"key = value\" lines; flags override it)\n"
            "  -h, --help           this text\n"
            "  -V, --version        print the version\n"
            "      --fullscreen     start in full screen (same as --fullscreen true)\n\n"
            "Every config key is also a flag (dashes or underscores):\n");
    for (const struct kg_config_key *k = wall_config_keys; k->name; k++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s", k->name);
        for (char *p = flag + 2; *p; p++)
            if (*p == '_')
                *p = '-';
        fprintf(f, "  %-20s %s\n", flag, k->help);
    }
    fprintf(f, "\nKeys: 1-5 or m metric, s sort, F11 full screen, Enter/click zoom, Esc back,\n"
               "p pause, h or ? help, q quit. Mouse over a tile: its figures.\n"
               "Operator mode (--operator, an operator's credentials): click or arrows select\n"
               "a VM; F5 CPU 80 %%, F6 memory 256 MiB, F7 disk write 20 MB/s (60 s each), F8 stop\n"
               "go to <prefix>/<VM name>/load/cmd; Esc clears the selection.\n"
               "Headless: SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software "
               "SDL_FRAMEBUFFER_ACCELERATION=0 kvmgrid-wall --screenshot out.png\n"
               "Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error,\n"
               "3 screenshot taken without the retained state (timeout).\n");
}

int main(int argc, char **argv)
{
    kg_log_init("kvmgrid-wall");
    struct wall_config c;
    wall_config_defaults(&c);
    char err[512];

    /* The config file first, so that flags override it wherever they stand. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("kvmgrid-wall %s\n", KG_VERSION);
            return 0;
        }
        const char *file = NULL;
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kvmgrid-wall: %s needs a file\n", a);
                return WALL_EXIT_USAGE;
            }
            file = argv[++i];
        } else if (!strncmp(a, "--config=", 9)) {
            file = a + 9;
        }
        if (file != NULL && kg_config_parse_file(wall_config_keys, &c, file, err, sizeof(err)) != 0) {
            fprintf(stderr, "kvmgrid-wall: %s\n", err);
            return WALL_EXIT_USAGE;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9))
            continue;
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            fprintf(stderr, "kvmgrid-wall: unexpected argument \"%s\" (try --help)\n", a);
            return WALL_EXIT_USAGE;
        }
        char key[64];
        const char *eq = strchr(a + 2, '=');
        size_t kl = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (kl >= sizeof(key)) {
            fprintf(stderr, "kvmgrid-wall: unknown option \"%s\" (try --help)\n", a);
            return WALL_EXIT_USAGE;
        }
        memcpy(key, a + 2, kl);
        key[kl] = '\0';
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        const struct kg_config_key *k = kg_config_find(wall_config_keys, key);
        if (k == NULL) {
            fprintf(stderr, "kvmgrid-wall: unknown option \"%s\" (try --help)\n", a);
            return WALL_EXIT_USAGE;
        }
        const char *value;
        if (eq)
            value = eq + 1;
        else if (k->type == KG_CFG_BOOL && (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)))
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(stderr, "kvmgrid-wall: %s needs a value\n", a);
            return WALL_EXIT_USAGE;
        }
        if (kg_config_set(wall_config_keys, &c, key, value, err, sizeof(err)) != 0) {
            fprintf(stderr, "kvmgrid-wall: --%s: %s\n", key, err);
            return WALL_EXIT_USAGE;
        }
    }
    if (wall_config_read_password(&c, err, sizeof(err)) != 0) {
        fprintf(stderr, "kvmgrid-wall: %s\n", err);
        return WALL_EXIT_USAGE;
    }
    enum kg_log_level lvl;
    if (kg_log_level_parse(c.log_level, &lvl) == 0)
        kg_log_set_level(lvl);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_report;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return wall_run(&c, &stop_flag, &report_flag);
}
