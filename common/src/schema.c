/* SPDX-License-Identifier: MIT */
/*
 * The metric schema's payload kinds (docs/PROTOCOL.md is the wire contract):
 * the names of its enums, the initial (all absent) value of each struct, and
 * one table per payload kind (key, type, offset, range, flags) that the generic
 * encoder (schema_encode.c) and the generic decoder (schema_decode.c) walk, so
 * that a field's name, unit and range live in exactly one place. It is not a
 * JSON library, and it knows nothing of topics or MQTT. Pure: no logging, no
 * global state.
 */
#include "kvmgrid/schema.h"

#include <string.h>

#include "kvmgrid/error.h"
#include "schema_private.h"

/* ---- names of enums ------------------------------------------------------ */

static const char *const vm_state_names[KG_VM_STATE_COUNT] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended",
};
static const char *const load_kind_names[] = {"none", "cpu", "mem", "disk"};
static const char *const load_verb_names[] = {NULL, "start", "scenario", "stop", "status"};
static const char *const disk_mode_names[] = {"write", "read", "rw"};
static const char *const load_status_names[] = {"idle", "running", "offline"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *enum_name(const char *const *names, size_t n, unsigned v)
{
    return v < n && names[v] ? names[v] : "unknown";
}

static int enum_parse(const char *const *names, size_t n, const char *s, size_t len,
                      unsigned *out)
{
    if (!s)
        return KG_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (names[i] && strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            *out = (unsigned)i;
            return 0;
        }
    }
    return KG_EINVAL;
}

const char *kg_vm_state_name(enum kg_vm_state s)
{
    return enum_name(vm_state_names, COUNT(vm_state_names), (unsigned)s);
}

int kg_vm_state_parse(const char *name, size_t len, enum kg_vm_state *out)
{
    unsigned v;
    int rc = enum_parse(vm_state_names, COUNT(vm_state_names), name, len, &v);
    if (rc == 0 && out)
        *out = (enum kg_vm_state)v;
    return rc;
}

const char *kg_load_kind_name(enum kg_load_kind k)
{
    return enum_name(load_kind_names, COUNT(load_kind_names), (unsigned)k);
}

int kg_load_kind_parse(const char *name, size_t len, enum kg_load_kind *out)
{
    unsigned v;
    int rc = enum_parse(load_kind_names, COUNT(load_kind_names), name, len, &v);
    if (rc == 0 && out)
        *out = (enum kg_load_kind)v;
    return rc;
}

const char *kg_load_verb_name(enum kg_load_verb v)
{
    return enum_name(load_verb_names, COUNT(load_verb_names), (unsigned)v);
}

const char *kg_disk_mode_name(enum kg_disk_mode m)
{
    return enum_name(disk_mode_names, COUNT(disk_mode_names), (unsigned)m);
}

const char *kg_load_status_name(enum kg_load_status s)
{
    return enum_name(load_status_names, COUNT(load_status_names), (unsigned)s);
}

bool kg_scenario_name_valid(const char *name)
{
    if (!name || name[0] == '\0' || name[0] == '.')
        return false;
    size_t i = 0;
    for (; name[i]; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok || i >= 63)
            return false;
    }
    return true;
}

/* ---- init ---------------------------------------------------------------- */

static void disk_init(struct kg_disk *d)
{
    memset(d, 0, sizeof(*d));
    d->rd_bytes_per_s = d->wr_bytes_per_s = KG_NA;
    d->rd_iops = d->wr_iops = KG_NA;
    d->rd_lat_ms = d->wr_lat_ms = KG_NA;
    d->rd_bytes = d->wr_bytes = KG_NA;
}

static void net_init(struct kg_net *n)
{
    memset(n, 0, sizeof(*n));
    n->rx_bytes_per_s = n->tx_bytes_per_s = KG_NA;
    n->rx_pkts_per_s = n->tx_pkts_per_s = KG_NA;
    n->rx_errs_per_s = n->tx_errs_per_s = KG_NA;
    n->rx_drop_per_s = n->tx_drop_per_s = KG_NA;
    n->rx_bytes = n->tx_bytes = KG_NA;
}

void kg_vm_init(struct kg_vm *vm)
{
    if (!vm)
        return;
    memset(vm, 0, sizeof(*vm));
    vm->state = KG_VM_NOSTATE;
    vm->age_s = vm->vcpus = vm->cpu_pct = vm->cpu_host_pct = vm->steal_pct = KG_NA;
    vm->mem_max_kib = vm->mem_cur_kib = vm->mem_used_kib = vm->mem_used_pct = KG_NA;
    vm->mem_rss_kib = KG_NA;
    vm->disk_rd_bytes_per_s = vm->disk_wr_bytes_per_s = KG_NA;
    vm->disk_rd_iops = vm->disk_wr_iops = vm->disk_rd_lat_ms = vm->disk_wr_lat_ms = KG_NA;
    vm->net_rx_bytes_per_s = vm->net_tx_bytes_per_s = KG_NA;
    vm->net_rx_pkts_per_s = vm->net_tx_pkts_per_s = KG_NA;
    vm->net_errs_per_s = vm->net_drop_per_s = KG_NA;
    for (unsigned i = 0; i < KG_DEV_MAX; i++) {
        disk_init(&vm->disks[i]);
        net_init(&vm->nets[i]);
    }
}

void kg_host_init(struct kg_host *h)
{
    if (!h)
        return;
    memset(h, 0, sizeof(*h));
    h->libvirt_ok = true;  /* absent on the wire means true */
    h->interval_s = h->cpus = h->cpu_pct = KG_NA;
    h->mem_total_kib = h->mem_used_kib = h->mem_used_pct = KG_NA;
    h->load1 = h->load5 = h->load15 = KG_NA;
    h->disk_rd_bytes_per_s = h->disk_wr_bytes_per_s = KG_NA;
    h->net_rx_bytes_per_s = h->net_tx_bytes_per_s = KG_NA;
    h->vms_running = h->vms_defined = KG_NA;
}

/* a + b, either alone when the other is absent */
static double sum_avail(double a, double b)
{
    return kg_na(a) ? b : kg_na(b) ? a : a + b;
}

void kg_summary_vm_of(const struct kg_vm *vm, struct kg_summary_vm *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->name, vm->name, sizeof out->name);
    out->name[sizeof out->name - 1] = '\0';
    out->state = vm->state;
    out->stale = vm->stale;
    out->cpu_pct = vm->cpu_pct;
    out->mem_used_pct = vm->mem_used_pct;
    out->disk_bytes_per_s = sum_avail(vm->disk_rd_bytes_per_s, vm->disk_wr_bytes_per_s);
    out->net_bytes_per_s = sum_avail(vm->net_rx_bytes_per_s, vm->net_tx_bytes_per_s);
    out->steal_pct = vm->steal_pct;
    /* the larger, or the one available (the wall's DISK_LAT alert) */
    double r = vm->disk_rd_lat_ms, w = vm->disk_wr_lat_ms;
    out->disk_lat_ms = kg_na(r) || w > r ? w : r;
}

void kg_load_spec_init(struct kg_load_spec *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->kind = KG_LOAD_NONE;
    s->duration_s = s->workers = s->pct = s->ramp_to_pct = KG_NA;
    s->mib = s->dirty_mib_per_s = KG_NA;
    s->disk_mode = KG_DISK_WRITE;
    s->mb_per_s = s->block_kib = KG_NA;
    s->direct = false;
}

void kg_load_cmd_init(struct kg_load_cmd *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof(*c));
    kg_load_spec_init(&c->spec);
}

void kg_load_state_init(struct kg_load_state *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->status = KG_LOADST_IDLE;
    kg_load_spec_init(&s->spec);
    s->elapsed_s = s->progress_pct = s->cpu_pct = s->mem_resident_mib = KG_NA;
    s->disk_wr_mb_per_s = s->disk_rd_mb_per_s = KG_NA;
}

/* ---- field tables -------------------------------------------------------- */

/* ,"k": and its length, for the encoder; no key is longer than KEY_MAX (checked
 * here, at compile time: the array size turns negative). */
#define JKEY(k) ",\"" k "\":", (unsigned char)(sizeof(k) + 3 + 0 * sizeof(char[sizeof(k) <= KEY_MAX + 1 ? 1 : -1]))
#define FSCHEMA {"schema", JKEY("schema"), FT_SCHEMA, F_REQ | F_INT, 0, 0, 0, 0, NULL}
#define FTS(T) {"ts", JKEY("ts"), FT_TS, F_REQ | F_INT, 0, offsetof(T, ts_ms), 0, 0, NULL}
#define FSTR(k, T, m, fl) {k, JKEY(k), FT_STR, fl, (unsigned short)sizeof(((T *)0)->m), offsetof(T, m), 0, 0, NULL}
#define FNUM(k, T, m, fl, lo, hi) {k, JKEY(k), FT_NUM, fl, 0, offsetof(T, m), lo, hi, NULL}
#define FRATE(k, T, m) FNUM(k, T, m, 0, 0, QMAX)          /* rates, seconds, ms */
#define FCOUNT(k, T, m) FNUM(k, T, m, F_WHOLE | F_INT, 0, QMAX) /* counters, KiB: integers */
#define FPCT(k, T, m) FNUM(k, T, m, F_PCT, 0, 100)
#define FINT(k, T, m) FNUM(k, T, m, F_INT, 0, QMAX)
#define FUINT(k, T, m, fl, hi) {k, JKEY(k), FT_UINT, fl, 0, offsetof(T, m), 0, hi, NULL}
#define FBOOL(k, T, m, fl) {k, JKEY(k), FT_BOOL, fl, 0, offsetof(T, m), 0, 0, NULL}
#define FENUM(k, T, m, fl, names, lo) \
    {k, JKEY(k), FT_ENUM, fl, 0, offsetof(T, m), lo, (double)(COUNT(names) - 1), names}
#define FSPECIAL(k) {k, JKEY(k), FT_SPECIAL, 0, 0, 0, 0, 0, NULL}

static const struct field vm_fields[] = {
    FSCHEMA,
    FTS(struct kg_vm),
    FSTR("host", struct kg_vm, host, F_REQ | F_NAME),
    FSTR("name", struct kg_vm, name, F_REQ | F_NAME),
    FSTR("uuid", struct kg_vm, uuid, F_UUID),
    FENUM("state", struct kg_vm, state, F_REQ, vm_state_names, 0),
    FBOOL("stale", struct kg_vm, stale, 0),
    FRATE("age_s", struct kg_vm, age_s),
    FINT("vcpus", struct kg_vm, vcpus),
    FPCT("cpu_pct", struct kg_vm, cpu_pct),
    FPCT("cpu_host_pct", struct kg_vm, cpu_host_pct),
    FPCT("steal_pct", struct kg_vm, steal_pct),
    FCOUNT("mem_max_kib", struct kg_vm, mem_max_kib),
    FCOUNT("mem_cur_kib", struct kg_vm, mem_cur_kib),
    FCOUNT("mem_used_kib", struct kg_vm, mem_used_kib),
    FPCT("mem_used_pct", struct kg_vm, mem_used_pct),
    FCOUNT("mem_rss_kib", struct kg_vm, mem_rss_kib),
    FRATE("disk_rd_bytes_per_s", struct kg_vm, disk_rd_bytes_per_s),
    FRATE("disk_wr_bytes_per_s", struct kg_vm, disk_wr_bytes_per_s),
    FRATE("disk_rd_iops", struct kg_vm, disk_rd_iops),
    FRATE("disk_wr_iops", struct kg_vm, disk_wr_iops),
    FRATE("disk_rd_lat_ms", struct kg_vm, disk_rd_lat_ms),
    FRATE("disk_wr_lat_ms", struct kg_vm, disk_wr_lat_ms),
    FRATE("net_rx_bytes_per_s", struct kg_vm, net_rx_bytes_per_s),
    FRATE("net_tx_bytes_per_s", struct kg_vm, net_tx_bytes_per_s),
    FRATE("net_rx_pkts_per_s", struct kg_vm, net_rx_pkts_per_s),
    FRATE("net_tx_pkts_per_s", struct kg_vm, net_tx_pkts_per_s),
    FRATE("net_errs_per_s", struct kg_vm, net_errs_per_s),
    FRATE("net_drop_per_s", struct kg_vm, net_drop_per_s),
    FSPECIAL("disks"),
    FSPECIAL("nets"),
};

static const struct field disk_fields[] = {
    FSTR("name", struct kg_disk, name, F_REQ),
    FRATE("rd_bytes_per_s", struct kg_disk, rd_bytes_per_s),
    FRATE("wr_bytes_per_s", struct kg_disk, wr_bytes_per_s),
    FRATE("rd_iops", struct kg_disk, rd_iops),
    FRATE("wr_iops", struct kg_disk, wr_iops),
    FRATE("rd_lat_ms", struct kg_disk, rd_lat_ms),
    FRATE("wr_lat_ms", struct kg_disk, wr_lat_ms),
    FCOUNT("rd_bytes", struct kg_disk, rd_bytes),
    FCOUNT("wr_bytes", struct kg_disk, wr_bytes),
};

static const struct field net_fields[] = {
    FSTR("name", struct kg_net, name, F_REQ),
    FRATE("rx_bytes_per_s", struct kg_net, rx_bytes_per_s),
    FRATE("tx_bytes_per_s", struct kg_net, tx_bytes_per_s),
    FRATE("rx_pkts_per_s", struct kg_net, rx_pkts_per_s),
    FRATE("tx_pkts_per_s", struct kg_net, tx_pkts_per_s),
    FRATE("rx_errs_per_s", struct kg_net, rx_errs_per_s),
    FRATE("tx_errs_per_s", struct kg_net, tx_errs_per_s),
    FRATE("rx_drop_per_s", struct kg_net, rx_drop_per_s),
    FRATE("tx_drop_per_s", struct kg_net, tx_drop_per_s),
    FCOUNT("rx_bytes", struct kg_net, rx_bytes),
    FCOUNT("tx_bytes", struct kg_net, tx_bytes),
};

static const struct field host_fields[] = {
    FSCHEMA,
    FTS(struct kg_host),
    FSTR("name", struct kg_host, name, F_REQ | F_NAME),
    FSTR("agent_version", struct kg_host, agent_version, 0),
    FRATE("interval_s", struct kg_host, interval_s),
    FBOOL("libvirt_ok", struct kg_host, libvirt_ok, 0),
    FSTR("libvirt_error", struct kg_host, libvirt_error, 0),
    FSTR("collect_path", struct kg_host, collect_path, 0),
    FINT("cpus", struct kg_host, cpus),
    FPCT("cpu_pct", struct kg_host, cpu_pct),
    FCOUNT("mem_total_kib", struct kg_host, mem_total_kib),
    FCOUNT("mem_used_kib", struct kg_host, mem_used_kib),
    FPCT("mem_used_pct", struct kg_host, mem_used_pct),
    FRATE("load1", struct kg_host, load1),
    FRATE("load5", struct kg_host, load5),
    FRATE("load15", struct kg_host, load15),
    FRATE("disk_rd_bytes_per_s", struct kg_host, disk_rd_bytes_per_s),
    FRATE("disk_wr_bytes_per_s", struct kg_host, disk_wr_bytes_per_s),
    FRATE("net_rx_bytes_per_s", struct kg_host, net_rx_bytes_per_s),
    FRATE("net_tx_bytes_per_s", struct kg_host, net_tx_bytes_per_s),
    FINT("vms_running", struct kg_host, vms_running),
    FINT("vms_defined", struct kg_host, vms_defined),
};

/* A summary's top level: the host payload's fields, its name under "host" as in
 * a VM payload, then the rows. */
#define SUMH(m) host.m
static const struct field summary_fields[] = {
    FSCHEMA,
    {"ts", JKEY("ts"), FT_TS, F_REQ | F_INT, 0, offsetof(struct kg_summary, host.ts_ms), 0, 0, NULL},
    FSTR("host", struct kg_summary, SUMH(name), F_REQ | F_NAME),
    FSTR("agent_version", struct kg_summary, SUMH(agent_version), 0),
    FRATE("interval_s", struct kg_summary, SUMH(interval_s)),
    FBOOL("libvirt_ok", struct kg_summary, SUMH(libvirt_ok), 0),
    FSTR("libvirt_error", struct kg_summary, SUMH(libvirt_error), 0),
    FSTR("collect_path", struct kg_summary, SUMH(collect_path), 0),
    FINT("cpus", struct kg_summary, SUMH(cpus)),
    FPCT("cpu_pct", struct kg_summary, SUMH(cpu_pct)),
    FCOUNT("mem_total_kib", struct kg_summary, SUMH(mem_total_kib)),
    FCOUNT("mem_used_kib", struct kg_summary, SUMH(mem_used_kib)),
    FPCT("mem_used_pct", struct kg_summary, SUMH(mem_used_pct)),
    FRATE("load1", struct kg_summary, SUMH(load1)),
    FRATE("load5", struct kg_summary, SUMH(load5)),
    FRATE("load15", struct kg_summary, SUMH(load15)),
    FRATE("disk_rd_bytes_per_s", struct kg_summary, SUMH(disk_rd_bytes_per_s)),
    FRATE("disk_wr_bytes_per_s", struct kg_summary, SUMH(disk_wr_bytes_per_s)),
    FRATE("net_rx_bytes_per_s", struct kg_summary, SUMH(net_rx_bytes_per_s)),
    FRATE("net_tx_bytes_per_s", struct kg_summary, SUMH(net_tx_bytes_per_s)),
    FINT("vms_running", struct kg_summary, SUMH(vms_running)),
    FINT("vms_defined", struct kg_summary, SUMH(vms_defined)),
    {"cols", JKEY("cols"), FT_SPECIAL, F_REQ, 0, 0, 0, 0, NULL},
    {"vms", JKEY("vms"), FT_SPECIAL, F_REQ, 0, 0, 0, 0, NULL},
    FUINT("vms_omitted", struct kg_summary, vms_omitted, F_OMIT0, 4294967295.0),
};

/* The columns of a summary's rows, in the order the encoder writes them; the
 * cells of the first three may not be null. F_DEC1/F_DEC2: the encoder's
 * rounding (percentages to 0.1, latency to 0.01; F_WHOLE: integers). */
static const struct field summary_cols[] = {
    FSTR("name", struct kg_summary_vm, name, F_REQ | F_NAME),
    FENUM("state", struct kg_summary_vm, state, F_REQ, vm_state_names, 0),
    FBOOL("stale", struct kg_summary_vm, stale, F_REQ),
    FNUM("cpu_pct", struct kg_summary_vm, cpu_pct, F_PCT | F_DEC1, 0, 100),
    FNUM("mem_used_pct", struct kg_summary_vm, mem_used_pct, F_PCT | F_DEC1, 0, 100),
    FNUM("disk_bytes_per_s", struct kg_summary_vm, disk_bytes_per_s, F_WHOLE, 0, QMAX),
    FNUM("net_bytes_per_s", struct kg_summary_vm, net_bytes_per_s, F_WHOLE, 0, QMAX),
    FNUM("steal_pct", struct kg_summary_vm, steal_pct, F_PCT | F_DEC1, 0, 100),
    FNUM("disk_lat_ms", struct kg_summary_vm, disk_lat_ms, F_DEC2, 0, QMAX),
};

/* What a load asks for: flat in a command, the "load" object of a state. */
static const struct field spec_fields[] = {
    FENUM("kind", struct kg_load_spec, kind, F_REQ, load_kind_names, 1),
    FNUM("duration_s", struct kg_load_spec, duration_s, 0, 0.001, 31622400.0),
    FNUM("workers", struct kg_load_spec, workers, F_INT, 1, 1024),
    FNUM("pct", struct kg_load_spec, pct, 0, 0, 100),
    FNUM("ramp_to_pct", struct kg_load_spec, ramp_to_pct, 0, 0, 100),
    FNUM("mib", struct kg_load_spec, mib, 0, 0.001, 1e8),
    FNUM("dirty_mib_per_s", struct kg_load_spec, dirty_mib_per_s, 0, 0, 1e6),
    FENUM("mode", struct kg_load_spec, disk_mode, F_DISK, disk_mode_names, 0),
    FNUM("mb_per_s", struct kg_load_spec, mb_per_s, 0, 0.001, 1e6),
    FNUM("block_kib", struct kg_load_spec, block_kib, F_INT, 1, 1048576),
    FBOOL("direct", struct kg_load_spec, direct, F_DISK | F_OMIT0),
};

static const struct field cmd_fields[] = {
    FSCHEMA,
    FENUM("cmd", struct kg_load_cmd, verb, F_REQ, load_verb_names, 1),
    FSTR("id", struct kg_load_cmd, id, 0),
    FSTR("scenario", struct kg_load_cmd, scenario, F_SCEN),
};

static const struct field state_fields[] = {
    FSCHEMA,
    FTS(struct kg_load_state),
    FSTR("node", struct kg_load_state, node, F_REQ | F_NAME),
    FENUM("status", struct kg_load_state, status, F_REQ, load_status_names, 0),
    FSTR("id", struct kg_load_state, id, 0),
    FSTR("scenario", struct kg_load_state, scenario, F_SCEN),
    FUINT("step", struct kg_load_state, step, F_OMIT0, 65535),
    FUINT("steps", struct kg_load_state, steps, F_OMIT0, 65535),
    FSPECIAL("load"),
    FRATE("elapsed_s", struct kg_load_state, elapsed_s),
    FPCT("progress_pct", struct kg_load_state, progress_pct),
    FPCT("cpu_pct", struct kg_load_state, cpu_pct),
    FRATE("mem_resident_mib", struct kg_load_state, mem_resident_mib),
    FRATE("disk_wr_mb_per_s", struct kg_load_state, disk_wr_mb_per_s),
    FRATE("disk_rd_mb_per_s", struct kg_load_state, disk_rd_mb_per_s),
    FSTR("last_reject_id", struct kg_load_state, last_reject_id, 0),
    FSTR("last_reject", struct kg_load_state, last_reject, 0),
};

/* Enums are stored through an unsigned (their compatible type in GCC and Clang
 * when no enumerator is negative); make sure the size matches. */
_Static_assert(sizeof(enum kg_vm_state) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum kg_load_kind) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum kg_load_verb) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum kg_disk_mode) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum kg_load_status) == sizeof(unsigned), "enum size");
_Static_assert(COUNT(vm_fields) <= 64 && COUNT(state_fields) <= 64, "seen mask");

const struct table kg_schema__vm = {vm_fields, COUNT(vm_fields)};
const struct table kg_schema__disk = {disk_fields, COUNT(disk_fields)};
const struct table kg_schema__net = {net_fields, COUNT(net_fields)};
const struct table kg_schema__host = {host_fields, COUNT(host_fields)};
const struct table kg_schema__spec = {spec_fields, COUNT(spec_fields)};
const struct table kg_schema__cmd = {cmd_fields, COUNT(cmd_fields)};
const struct table kg_schema__state = {state_fields, COUNT(state_fields)};
const struct table kg_schema__summary = {summary_fields, COUNT(summary_fields)};
const struct table kg_schema__summary_cols = {summary_cols, COUNT(summary_cols)};
_Static_assert(COUNT(summary_cols) <= KG_SUMMARY_COLS_MAX, "columns");
_Static_assert(COUNT(summary_fields) < 64, "schema_summary.c: masks and MEMBERS_MAX");

bool kg_schema__uuid_valid(const char *s)
{
    if (strlen(s) != KG_UUID_LEN)
        return false;
    for (int i = 0; i < KG_UUID_LEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}
