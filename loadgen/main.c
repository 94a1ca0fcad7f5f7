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
#include "kvmgrid/cli.h"
#include "kvmgrid/client.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/config.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "listen.h"
#include "plan.h"
#include "runner.h"
#include "loadgen_config.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_REJECTED = 3 };

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

enum flag_id {
    F_LISTEN = 1, F_SEND, F_FOR, F_WORKERS, F_PCT, F_RAMP_TO, F_MIB, F_DIRTY, F_MB_PER_S,
    F_BLOCK_KIB, F_MODE, F_DIRECT, F_DIR
};

static const struct kg_cli_flag flags[] = {
    {"listen", 0, NULL, "serve load commands from <prefix>/<node>/load/cmd", F_LISTEN},
    {"send", 0, "NODE", "send the JSON command (the next argument) to NODE", F_SEND},
    {"for", 0, "DURATION", "how long the load runs", F_FOR},
    {"pct", 0, "P", "cpu: duty cycle per worker, %", F_PCT},
    {"workers", 0, "N", "cpu: worker threads", F_WORKERS},
    {"ramp-to", 0, "P2", "cpu: ramp linearly from --pct to P2 over the duration", F_RAMP_TO},
    {"mib", 0, "M", "mem: MiB to hold", F_MIB},
    {"dirty-mib-per-s", 0, "R", "mem: MiB/s to re-dirty", F_DIRTY},
    {"mode", 0, "write|read|rw", "disk: direction", F_MODE},
    {"mb-per-s", 0, "R", "disk: MB/s per direction (default: unthrottled)", F_MB_PER_S},
    {"block-kib", 0, "K", "disk: block size, KiB", F_BLOCK_KIB},
    {"direct", 0, NULL, "disk: O_DIRECT", F_DIRECT},
    {"dir", 0, "DIR", "disk: directory for the load's file (the setting disk_dir)", F_DIR},
    {NULL, 0, NULL, NULL, 0},
};

struct args {
    const char *verb;                 /* cpu mem disk run check list send listen */
    const char *target;               /* scenario path/name, or NODE for --send */
    const char *json;                 /* --send payload */
    const char *dir;                  /* --dir */
    struct kg_load_spec spec;
};

static int on_flag(void *ctx, int id, const char *val, char *errmsg, size_t errlen);

static struct args g_args;

static const struct kg_cli cli = {
    .program = "kvmgrid-load",
    .synopsis =
        "kvmgrid-load [OPTION]... cpu --pct P [--workers N] [--ramp-to P2] [--for DURATION]\n"
        "       kvmgrid-load [OPTION]... mem --mib M [--dirty-mib-per-s R] [--for DURATION]\n"
        "       kvmgrid-load [OPTION]... disk [--mode write|read|rw] [--mb-per-s R]\n"
        "                                [--block-kib K] [--direct] [--dir DIR] [--for DURATION]\n"
        "       kvmgrid-load [OPTION]... run SCENARIO.json|NAME\n"
        "       kvmgrid-load [OPTION]... check SCENARIO.json|NAME   (validate only)\n"
        "       kvmgrid-load [OPTION]... list                       (shipped scenarios)\n"
        "       kvmgrid-load [OPTION]... --send NODE 'JSON'         (command a remote node)\n"
        "       kvmgrid-load [OPTION]... --listen                   (serve commands over MQTT)",
    .summary = "Runs CPU, memory and disk load within local safety caps, alone, as timed\n"
               "scenarios, or on command over MQTT. DURATION: 250ms, 30s, 2m, 1h, or seconds.",
    .keys = loadgen_config_keys,
    .flags = flags,
    .epilogue = "Exit status: 0 ok (or --help, --version, --check), 1 runtime failure,\n"
                "2 usage or config error, 3 rejected by the caps.\n",
    .on_flag = on_flag,
    .ctx = &g_args,
};

/* A strictly parsed finite number, or KG_EINVAL with a message. */
static int parse_num(const char *flag, const char *s, double *out, char *errmsg, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        snprintf(errmsg, errlen, "--%s: invalid number \"%s\"", flag, s);
        return KG_EINVAL;
    }
    *out = v;
    return 0;
}

static int set_verb(struct args *a, const char *verb, char *errmsg, size_t errlen)
{
    if (a->verb) {
        snprintf(errmsg, errlen, "give one of a load, run, --send or --listen");
        return KG_EINVAL;
    }
    a->verb = verb;
    return 0;
}

static int on_flag(void *ctx, int id, const char *val, char *errmsg, size_t errlen)
{
    struct args *a = ctx;
    struct kg_load_spec *sp = &a->spec;
    switch ((enum flag_id)id) {
    case F_LISTEN:
        return set_verb(a, "listen", errmsg, errlen);
    case F_SEND:
        a->target = val;
        return set_verb(a, "send", errmsg, errlen);
    case F_FOR: {
        uint64_t ms;
        if (kg_config_parse_duration_ms(val, &ms) != 0 || ms == 0) {
            snprintf(errmsg, errlen, "--for: invalid duration \"%s\"", val);
            return KG_EINVAL;
        }
        sp->duration_s = (double)ms / 1000.0;
        return 0;
    }
    case F_WORKERS: return parse_num("workers", val, &sp->workers, errmsg, errlen);
    case F_PCT: return parse_num("pct", val, &sp->pct, errmsg, errlen);
    case F_RAMP_TO: return parse_num("ramp-to", val, &sp->ramp_to_pct, errmsg, errlen);
    case F_MIB: return parse_num("mib", val, &sp->mib, errmsg, errlen);
    case F_DIRTY: return parse_num("dirty-mib-per-s", val, &sp->dirty_mib_per_s, errmsg, errlen);
    case F_MB_PER_S: return parse_num("mb-per-s", val, &sp->mb_per_s, errmsg, errlen);
    case F_BLOCK_KIB: return parse_num("block-kib", val, &sp->block_kib, errmsg, errlen);
    case F_MODE:
        if (!strcmp(val, "write"))
            sp->disk_mode = KG_DISK_WRITE;
        else if (!strcmp(val, "read"))
            sp->disk_mode = KG_DISK_READ;
        else if (!strcmp(val, "rw"))
            sp->disk_mode = KG_DISK_RW;
        else {
            snprintf(errmsg, errlen, "--mode: write, read or rw, not \"%s\"", val);
            return KG_EINVAL;
        }
        return 0;
    case F_DIRECT:
        sp->direct = true;
        return 0;
    case F_DIR:
        a->dir = val;
        return 0;
    }
    return KG_EINVAL;
}

/* The verb and its operands, from the arguments that are not options. Returns 0,
 * or an exit status. */
static int parse_operands(const struct kg_cli_args *ca, struct args *a, bool check_only)
{
    size_t i = 0;
    if (a->verb && !strcmp(a->verb, "send")) {
        if (ca->n_pos < 1) {
            fprintf(stderr, "kvmgrid-load: --send needs NODE and JSON\n");
            return EXIT_USAGE;
        }
        a->json = ca->pos[i++];
    } else if (!a->verb && ca->n_pos > 0) {
        a->verb = ca->pos[i++];
        if ((!strcmp(a->verb, "run") || !strcmp(a->verb, "check")) && i < ca->n_pos)
            a->target = ca->pos[i++];
    }
    if (i < ca->n_pos) {
        fprintf(stderr, "kvmgrid-load: unexpected argument \"%s\" (try --help)\n", ca->pos[i]);
        return EXIT_USAGE;
    }
    if (!a->verb) {
        if (check_only)
            return 0;
        kg_cli_usage(&cli, stderr);
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
        fprintf(stderr, "kvmgrid-load: unknown command \"%s\" (try --help)\n", a->verb);
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

static int load_config(const struct kg_cli_args *ca, const struct args *a,
                       struct loadgen_config *cfg)
{
    char err[1024];
    const char *path = ca->config;
    loadgen_config_defaults(cfg);
    if (kg_cli_apply(loadgen_config_keys, ca, cfg, err, sizeof err) ||
        (a->dir && kg_config_set(loadgen_config_keys, cfg, "disk_dir", a->dir, err, sizeof err)) ||
        kg_client_check(&cfg->client, path, err, sizeof err)) {
        fprintf(stderr, "kvmgrid-load: %s\n", err);
        return EXIT_USAGE;
    }
    if (caps_check_config(&cfg->caps, err, sizeof err)) {
        fprintf(stderr, "kvmgrid-load: %s: %s\n", path ? path : "command line", err);
        return EXIT_USAGE;
    }
    if (!cfg->node[0]) {
        if (gethostname(cfg->node, sizeof cfg->node - 1) != 0 || !cfg->node[0])
            snprintf(cfg->node, sizeof cfg->node, "%s", "localhost");
    }
    kg_log_set_level((enum kg_log_level)cfg->client.log_level);
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
    rc = kg_topic_build(topic, sizeof topic, cfg->client.prefix, KG_TOPIC_LOAD_CMD, node, NULL);
    if (rc < 0) {
        fprintf(stderr, "kvmgrid-load: invalid node name \"%s\"\n", node);
        return EXIT_USAGE;
    }
    struct kg_mqtt_options o;
    kg_client_mqtt_options(&cfg->client, &o);
    o.qos = 1;
    o.reconnect_max_ms = 2000;
    struct kg_mqtt *m = NULL;
    if (kg_mqtt_create(&o, &m, err, sizeof err)) {
        fprintf(stderr, "kvmgrid-load: %s\n", err);
        return EXIT_USAGE;
    }
    int status = EXIT_OK;
    if (kg_mqtt_start(m) || kg_mqtt_wait_connected(m, 10000)) {
        fprintf(stderr, "kvmgrid-load: cannot connect to %s\n", cfg->client.broker);
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
    struct args *a = &g_args;
    struct kg_cli_args ca;
    struct loadgen_config cfg;
    char err[1024];
    kg_log_init("kvmgrid-load");
    kg_load_spec_init(&a->spec);
    int rc = kg_cli_begin(&cli, argc, argv, &ca, true, EXIT_USAGE);
    if (rc >= 0)
        return rc;
    rc = load_config(&ca, a, &cfg);
    if (rc == 0)
        rc = parse_operands(&ca, a, ca.check);
    bool check = ca.check;
    if (rc == 0 && check)
        kg_cli_check_ok(&ca, stdout);
    kg_cli_args_free(&ca);
    if (rc || (check && !a->verb))
        return rc;
    if (check && strcmp(a->verb, "check") != 0)
        return EXIT_OK;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!strcmp(a->verb, "listen")) {
        if (cfg.caps.disk_dir[0]) {
            int n = disk_sweep_stale(cfg.caps.disk_dir);
            if (n > 0)
                kg_info("removed %d stale load file(s) from %s", n, cfg.caps.disk_dir);
        }
        rc = listen_run(&cfg, &g_stop);
        return rc == KG_EINVAL ? EXIT_USAGE : rc ? EXIT_RUNTIME : EXIT_OK;
    }
    if (!strcmp(a->verb, "send"))
        return send_cmd(&cfg, a->target, a->json);
    if (!strcmp(a->verb, "list"))
        return catalog_list(cfg.scenario_dir, list_one, NULL) < 0 ? EXIT_RUNTIME : EXIT_OK;

    struct scenario *plan = NULL;
    if (!strcmp(a->verb, "run") || !strcmp(a->verb, "check")) {
        rc = plan_from_scenario(a->target, &cfg.caps, cfg.scenario_dir, &plan, err, sizeof err);
    } else {
        struct kg_load_cmd cmd;
        kg_load_cmd_init(&cmd);
        cmd.verb = KG_LOAD_START;
        cmd.spec = a->spec;
        rc = plan_from_cmd(&cmd, &cfg.caps, cfg.scenario_dir, &plan, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "kvmgrid-load: %s%s\n", rc == KG_EPERM ? "rejected by the caps: " : "", err);
        return rc == KG_EPERM ? EXIT_REJECTED : rc == KG_ENOMEM || rc == KG_EIO ? EXIT_RUNTIME
                                                                              : EXIT_USAGE;
    }
    if (!strcmp(a->verb, "check")) {
        printf("%s: ok, %u steps, %.1f s\n", a->target, plan->n_steps, scenario_duration_s(plan));
        scenario_free(plan);
        return EXIT_OK;
    }
    return run_local(&cfg, plan);
}
