/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-load: parse arguments, load the config, install signals, then run a
 * load or a scenario here, send a command to a remote node, or serve commands
 * over MQTT; map the result to the exit status (0 ok, 1 runtime failure,
 * 2 usage or config error, 3 rejected by the caps). Everything else lives in
 * loadgen_core.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "catalog.h"
#include "disk.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/config.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "kvmgrid/version.h"
#include "listen.h"
#include "plan.h"
#include "runner.h"
#include "settings.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_REJECTED = 3 };

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: kvmgrid-load [OPTIONS] cpu --pct P [--workers N] [--ramp-to P2] [--for DURATION]\n"
"       kvmgrid-load [OPTIONS] mem --mib M [--dirty-mib-per-s R] [--for DURATION]\n"
"       kvmgrid-load [OPTIONS] disk [--mode write|read|rw] [--mb-per-s R] [--block-kib K]\n"
"                                   [--direct] [--dir DIR] [--for DURATION]\n"
"       kvmgrid-load [OPTIONS] run SCENARIO.json|NAME\n"
"       kvmgrid-load [OPTIONS] check SCENARIO.json|NAME   (validate only)\n"
"       kvmgrid-load [OPTIONS] list                       (shipped scenarios)\n"
"       kvmgrid-load [OPTIONS] --send NODE 'JSON'         (command a remote node)\n"
"       kvmgrid-load [OPTIONS] --listen                   (serve commands over MQTT)\n"
"\n"
"Runs CPU, memory and disk load within local safety caps, alone, as timed\n"
"scenarios, or on command over MQTT. DURATION: 250ms, 30s, 2m, 1h, or seconds.\n"
"\n"
"OPTIONS:\n"
"  --config FILE      read settings from FILE (key = value lines)\n"
"  -h, --help         this help;  -V, --version  the version\n"
"  and every setting as a flag (--max-mib 512 is the line max_mib = 512):\n");
    for (const struct kg_config_key *k = loadgen_config_table; k->name; k++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", k->name);
        for (char *p = flag; *p; p++)
            if (*p == '_')
                *p = '-';
        fprintf(f, "  %-24s %s\n", flag, k->help);
    }
    fprintf(f, "\nExit status: 0 ok, 1 runtime failure, 2 usage or config error, 3 rejected by the caps.\n");
}

/* A strictly parsed finite number, or -1 with a message. */
static int parse_num(const char *flag, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        fprintf(stderr, "kvmgrid-load: %s: invalid number \"%s\"\n", flag, s);
        return -1;
    }
    *out = v;
    return 0;
}

struct args {
    const char *config;
    const char *verb;                 /* cpu mem disk run check list send listen */
    const char *target;               /* scenario path/name, or NODE for --send */
    const char *json;                 /* --send payload */
    struct kg_load_spec spec;
    const char *cfg_keys[64], *cfg_vals[64];
    unsigned n_cfg;
};

/* Returns 0, or an exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
    kg_load_spec_init(&a->spec);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL()                                                                  \
    do {                                                                            \
        if (!val) {                                                                 \
            fprintf(stderr, "kvmgrid-load: %s needs a value\n", arg);               \
            return EXIT_USAGE;                                                      \
        }                                                                           \
        i++;                                                                        \
    } while (0)
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            exit(EXIT_OK);
        } else if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
            printf("kvmgrid-load %s\n", KG_VERSION);
            exit(EXIT_OK);
        } else if (!strcmp(arg, "--config")) {
            NEED_VAL();
            a->config = val;
        } else if (!strcmp(arg, "--listen")) {
            a->verb = a->verb ? "conflict" : "listen";
        } else if (!strcmp(arg, "--send")) {
            if (!val || i + 2 >= argc) {
                fprintf(stderr, "kvmgrid-load: --send needs NODE and JSON\n");
                return EXIT_USAGE;
            }
            a->verb = a->verb ? "conflict" : "send";
            a->target = argv[++i];
            a->json = argv[++i];
        } else if (!strcmp(arg, "--for")) {
            uint64_t ms;
            NEED_VAL();
            if (kg_config_parse_duration_ms(val, &ms) != 0 || ms == 0) {
                fprintf(stderr, "kvmgrid-load: --for: invalid duration \"%s\"\n", val);
                return EXIT_USAGE;
            }
            a->spec.duration_s = (double)ms / 1000.0;
        } else if (!strcmp(arg, "--workers") || !strcmp(arg, "--pct") || !strcmp(arg, "--ramp-to") ||
                   !strcmp(arg, "--mib") || !strcmp(arg, "--dirty-mib-per-s") ||
                   !strcmp(arg, "--mb-per-s") || !strcmp(arg, "--block-kib")) {
            double v;
            NEED_VAL();
            if (parse_num(arg, val, &v))
                return EXIT_USAGE;
            double *dst = !strcmp(arg, "--workers") ? &a->spec.workers
                        : !strcmp(arg, "--pct") ? &a->spec.pct
                        : !strcmp(arg, "--ramp-to") ? &a->spec.ramp_to_pct
                        : !strcmp(arg, "--mib") ? &a->spec.mib
                        : !strcmp(arg, "--dirty-mib-per-s") ? &a->spec.dirty_mib_per_s
                        : !strcmp(arg, "--mb-per-s") ? &a->spec.mb_per_s : &a->spec.block_kib;
            *dst = v;
        } else if (!strcmp(arg, "--mode")) {
            NEED_VAL();
            if (!strcmp(val, "write"))
                a->spec.disk_mode = KG_DISK_WRITE;
            else if (!strcmp(val, "read"))
                a->spec.disk_mode = KG_DISK_READ;
            else if (!strcmp(val, "rw"))
                a->spec.disk_mode = KG_DISK_RW;
            else {
                fprintf(stderr, "kvmgrid-load: --mode: write, read or rw, not \"%s\"\n", val);
                return EXIT_USAGE;
            }
        } else if (!strcmp(arg, "--direct")) {
            a->spec.direct = true;
        } else if (!strcmp(arg, "--dir")) {
            NEED_VAL();
            a->cfg_keys[a->n_cfg] = "disk_dir";
            a->cfg_vals[a->n_cfg++] = val;
        } else if (!strncmp(arg, "--", 2) && arg[2]) {
            /* a setting: --max-mib 512 */
            static char keys[64][64];
            if (a->n_cfg >= 63 || strlen(arg + 2) >= sizeof keys[0]) {
                fprintf(stderr, "kvmgrid-load: unknown option %s\n", arg);
                return EXIT_USAGE;
            }
            char *k = keys[a->n_cfg];
            snprintf(k, sizeof keys[0], "%s", arg + 2);
            for (char *p = k; *p; p++)
                if (*p == '-')
                    *p = '_';
            if (!kg_config_find(loadgen_config_table, k)) {
                fprintf(stderr, "kvmgrid-load: unknown option %s (see --help)\n", arg);
                return EXIT_USAGE;
            }
            NEED_VAL();
            a->cfg_keys[a->n_cfg] = k;
            a->cfg_vals[a->n_cfg++] = val;
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "kvmgrid-load: unknown option %s (see --help)\n", arg);
            return EXIT_USAGE;
        } else if (!a->verb) {
            a->verb = arg;
        } else if (!a->target && (!strcmp(a->verb, "run") || !strcmp(a->verb, "check"))) {
            a->target = arg;
        } else {
            fprintf(stderr, "kvmgrid-load: unexpected argument \"%s\"\n", arg);
            return EXIT_USAGE;
        }
#undef NEED_VAL
    }
    if (!a->verb) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(a->verb, "conflict")) {
        fprintf(stderr, "kvmgrid-load: give one of a load, run, --send or --listen\n");
        return EXIT_USAGE;
    }
    if (!strcmp(a->verb, "cpu"))
        a->spec.kind = KG_LOAD_CPU;
    else if (!strcmp(a->verb, "mem"))
        a->spec.kind = KG_LOAD_MEM;
    else if (!strcmp(a->verb, "disk"))
        a->spec.kind = KG_LOAD_DISK;
    else if (strcmp(a->verb, "run") && strcmp(a->verb, "check") && strcmp(a->verb, "list") &&
             strcmp(a->verb, "send") && strcmp(a->verb, "listen")) {
        fprintf(stderr, "kvmgrid-load: unknown command \"%s\" (see --help)\n", a->verb);
        return EXIT_USAGE;
    }
    if ((!strcmp(a->verb, "run") || !strcmp(a->verb, "check")) && !a->target) {
        fprintf(stderr, "kvmgrid-load: %s needs a scenario file or name\n", a->verb);
        return EXIT_USAGE;
    }
    if (a->spec.kind == KG_LOAD_CPU && kg_na(a->spec.pct)) {
        fprintf(stderr, "kvmgrid-load: cpu needs --pct\n");
        return EXIT_USAGE;
    }
    if (a->spec.kind == KG_LOAD_MEM && kg_na(a->spec.mib)) {
        fprintf(stderr, "kvmgrid-load: mem needs --mib\n");
        return EXIT_USAGE;
    }
    return 0;
}

static int load_config(const struct args *a, struct loadgen_config *cfg)
{
    char err[600];
    loadgen_config_defaults(cfg);
    if (a->config && kg_config_parse_file(loadgen_config_table, cfg, a->config, err, sizeof err)) {
        fprintf(stderr, "kvmgrid-load: %s\n", err);
        return EXIT_USAGE;
    }
    for (unsigned i = 0; i < a->n_cfg; i++) {
        if (kg_config_set(loadgen_config_table, cfg, a->cfg_keys[i], a->cfg_vals[i], err, sizeof err)) {
            fprintf(stderr, "kvmgrid-load: --%s: %s\n", a->cfg_keys[i], err);
            return EXIT_USAGE;
        }
    }
    if (caps_check_config(&cfg->caps, err, sizeof err)) {
        fprintf(stderr, "kvmgrid-load: %s%s%s\n", a->config ? a->config : "", a->config ? ": " : "", err);
        return EXIT_USAGE;
    }
    if (!kg_topic_prefix_valid(cfg->prefix, err, sizeof err)) {
        fprintf(stderr, "kvmgrid-load: prefix: %s\n", err);
        return EXIT_USAGE;
    }
    if (!cfg->node[0]) {
        if (gethostname(cfg->node, sizeof cfg->node - 1) != 0 || !cfg->node[0])
            snprintf(cfg->node, sizeof cfg->node, "%s", "localhost");
    }
    kg_log_set_level((enum kg_log_level)cfg->log_level);
    return 0;
}

static void print_summary(const struct scenario *plan, const struct runner_totals *t)
{
    double req_workers = 0.0;
    bool cpu = false, mem = false, disk_w = false, disk_r = false;
    double wr_rate_req = 0.0, rd_rate_req = 0.0;
    for (unsigned i = 0; i < plan->n_steps; i++)
        for (unsigned j = 0; j < plan->steps[i].n_loads; j++) {
            const struct kg_load_spec *s = &plan->steps[i].loads[j];
            cpu |= s->kind == KG_LOAD_CPU;
            mem |= s->kind == KG_LOAD_MEM;
            if (s->kind == KG_LOAD_CPU && s->workers > req_workers)
                req_workers = s->workers;
            if (s->kind == KG_LOAD_DISK && s->disk_mode != KG_DISK_READ) {
                disk_w = true;
                wr_rate_req = s->mb_per_s;
            }
            if (s->kind == KG_LOAD_DISK && s->disk_mode != KG_DISK_WRITE) {
                disk_r = true;
                rd_rate_req = s->mb_per_s;
            }
        }
    printf("elapsed %.1f s%s\n", t->elapsed_s, t->completed ? "" : " (stopped early)");
    if (cpu && t->cpu_worker_s > 0.0)
        printf("cpu:  requested %.1f %% per worker, achieved %.1f %% (%.2f of %.2f CPU-s)\n",
               t->cpu_requested_s / t->cpu_worker_s * 100.0, t->cpu_s / t->cpu_worker_s * 100.0,
               t->cpu_s, t->cpu_requested_s);
    if (mem)
        printf("mem:  requested %.1f MiB, resident %.1f MiB at peak\n", t->mem_requested_mib,
               t->mem_peak_mib);
    if (disk_w && t->disk_wr_s > 0.0)
        printf("disk: wrote %.1f MB, %.2f MB/s (requested %s%.2f)\n", (double)t->written_bytes / 1e6,
               (double)t->written_bytes / 1e6 / t->disk_wr_s, kg_na(wr_rate_req) ? "max " : "",
               kg_na(wr_rate_req) ? 0.0 : wr_rate_req);
    if (disk_r && t->disk_rd_s > 0.0)
        printf("disk: read %.1f MB, %.2f MB/s (requested %s%.2f)\n", (double)t->read_bytes / 1e6,
               (double)t->read_bytes / 1e6 / t->disk_rd_s, kg_na(rd_rate_req) ? "max " : "",
               kg_na(rd_rate_req) ? 0.0 : rd_rate_req);
    fflush(stdout);
}

static int run_local(const struct loadgen_config *cfg, struct scenario *plan)
{
    struct runner *r = NULL;
    char err[256];
    if (runner_create(&cfg->caps, &r))
        return EXIT_RUNTIME;
    const struct scenario *view = plan; /* owned by the runner after start */
    if (cfg->caps.disk_dir[0]) {
        int n = disk_sweep_stale(cfg->caps.disk_dir);
        if (n > 0)
            kg_info("removed %d stale load file(s) from %s", n, cfg->caps.disk_dir);
    }
    int rc = runner_start(r, plan, "", plan->name, err, sizeof err);
    if (rc) {
        fprintf(stderr, "kvmgrid-load: %s\n", err);
        runner_free(r);
        return EXIT_RUNTIME;
    }
    kg_info("running%s%s for %.1f s", view->name[0] ? " scenario " : "", view->name,
            scenario_duration_s(view));
    while (!g_stop && runner_wait(r, 200) == KG_ETIMEDOUT) {
    }
    if (g_stop)
        kg_info("stopping on a signal");
    runner_stop(r);
    struct runner_totals t;
    runner_totals(r, &t);
    print_summary(view, &t);
    runner_free(r);
    if (t.error[0]) {
        fprintf(stderr, "kvmgrid-load: %s\n", t.error);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

static int send_cmd(const struct loadgen_config *cfg, const char *node, const char *json)
{
    char err[KG_ERRMSG_MAX + 64], topic[KG_TOPIC_MAX];
    struct kg_load_cmd cmd;
    int rc = kg_load_cmd_decode(json, strlen(json), &cmd, err, sizeof err);
    if (rc) {
        fprintf(stderr, "kvmgrid-load: invalid command: %s\n", err);
        return EXIT_USAGE;
    }
    rc = kg_topic_build(topic, sizeof topic, cfg->prefix, KG_TOPIC_LOAD_CMD, node, NULL);
    if (rc < 0) {
        fprintf(stderr, "kvmgrid-load: invalid node name \"%s\"\n", node);
        return EXIT_USAGE;
    }
    struct kg_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.uri = cfg->broker;
    o.username = cfg->username[0] ? cfg->username : NULL;
    char password[256] = "";
    if (cfg->password_file[0]) {
        FILE *f = fopen(cfg->password_file, "r");
        if (!f || !fgets(password, sizeof password, f)) {
            fprintf(stderr, "kvmgrid-load: cannot read password_file %s\n", cfg->password_file);
            if (f)
                fclose(f);
            return EXIT_USAGE;
        }
        fclose(f);
        password[strcspn(password, "\r\n")] = '\0';
    }
    o.password = password[0] ? password : cfg->password[0] ? cfg->password : NULL;
    o.ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL;
    o.cert_file = cfg->cert_file[0] ? cfg->cert_file : NULL;
    o.key_file = cfg->key_file[0] ? cfg->key_file : NULL;
    o.qos = 1;
    o.reconnect_max_ms = 2000;
    struct kg_mqtt *m = NULL;
    if (kg_mqtt_create(&o, &m, err, sizeof err)) {
        fprintf(stderr, "kvmgrid-load: %s\n", err);
        return EXIT_USAGE;
    }
    int status = EXIT_OK;
    if (kg_mqtt_start(m) || kg_mqtt_wait_connected(m, 10000)) {
        fprintf(stderr, "kvmgrid-load: cannot connect to %s\n", cfg->broker);
        status = EXIT_RUNTIME;
    } else if (kg_mqtt_publish(m, topic, json, strlen(json), false) || kg_mqtt_flush(m, 10000)) {
        fprintf(stderr, "kvmgrid-load: cannot publish to %s\n", topic);
        status = EXIT_RUNTIME;
    } else {
        printf("sent to %s\n", topic);
    }
    kg_mqtt_stop(m, NULL, NULL, 2000);
    kg_mqtt_free(m);
    return status;
}

static void list_one(const char *name, const char *path, void *ctx)
{
    (void)ctx;
    printf("%-16s %s\n", name, path);
}

int main(int argc, char **argv)
{
    struct args a;
    struct loadgen_config cfg;
    memset(&a, 0, sizeof a);
    kg_log_init("kvmgrid-load");
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if ((rc = load_config(&a, &cfg)))
        return rc;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!strcmp(a.verb, "listen")) {
        if (cfg.caps.disk_dir[0]) {
            int n = disk_sweep_stale(cfg.caps.disk_dir);
            if (n > 0)
                kg_info("removed %d stale load file(s) from %s", n, cfg.caps.disk_dir);
        }
        rc = listen_run(&cfg, &g_stop);
        return rc == KG_EINVAL ? EXIT_USAGE : rc ? EXIT_RUNTIME : EXIT_OK;
    }
    if (!strcmp(a.verb, "send"))
        return send_cmd(&cfg, a.target, a.json);
    if (!strcmp(a.verb, "list"))
        return catalog_list(cfg.scenario_dir, list_one, NULL) < 0 ? EXIT_RUNTIME : EXIT_OK;

    char err[600];
    struct scenario *plan = NULL;
    if (!strcmp(a.verb, "run") || !strcmp(a.verb, "check")) {
        rc = plan_from_scenario(a.target, &cfg.caps, cfg.scenario_dir, &plan, err, sizeof err);
    } else {
        struct kg_load_cmd cmd;
        kg_load_cmd_init(&cmd);
        cmd.verb = KG_LOAD_START;
        cmd.spec = a.spec;
        rc = plan_from_cmd(&cmd, &cfg.caps, cfg.scenario_dir, &plan, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "kvmgrid-load: %s%s\n", rc == KG_EPERM ? "rejected by the caps: " : "", err);
        return rc == KG_EPERM ? EXIT_REJECTED : rc == KG_ENOMEM || rc == KG_EIO ? EXIT_RUNTIME
                                                                              : EXIT_USAGE;
    }
    if (!strcmp(a.verb, "check")) {
        printf("%s: ok, %u steps, %.1f s\n", a.target, plan->n_steps, scenario_duration_s(plan));
        scenario_free(plan);
        return EXIT_OK;
    }
    return run_local(&cfg, plan);
}
