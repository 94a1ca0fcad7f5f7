/* SPDX-License-Identifier: MIT */
/*
 * The metric schema's JSON codecs: host, VM, load-command and load-state
 * payloads to and from their C structs (docs/PROTOCOL.md is the wire contract).
 * Each payload kind is described once, by a table of fields (key, type, offset,
 * range, flags); one generic encoder and one generic decoder walk the tables, so
 * that a field's name, unit and range live in exactly one place.
 *
 * Encoding writes straight into the caller's buffer (no cJSON tree: the agent
 * publishes thousands of payloads per interval). Decoding is strict and bounded:
 * a cheap pre-scan checks size, nesting depth, UTF-8, string escapes and number
 * syntax before cJSON builds a tree with cJSON_ParseWithLengthOpts (never
 * cJSON_GetErrorPtr, which is process-global). It is not a general JSON library,
 * and it knows nothing of topics or MQTT. Pure: no logging, no global state.
 */
#include "kvmgrid/schema.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "utf8.h"

/* Largest quantity any field takes: the largest double below 2^64, so that a
 * uint64_t counter (as a double) fits and converting to uint64_t for printing
 * is defined. */
#define QMAX 18446744073709549568.0
/* Latest timestamp: 9999-12-31T23:59:59.999Z in epoch ms. */
#define TS_MAX_MS INT64_C(253402300799999)
#define NUM_TOKEN_MAX 40  /* characters of one JSON number */

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

enum ftype {
    FT_SCHEMA,  /* "schema": integer major version */
    FT_TS,      /* int64_t epoch ms */
    FT_STR,     /* char[size] */
    FT_NUM,     /* double; NaN = absent */
    FT_UINT,    /* unsigned */
    FT_BOOL,    /* bool */
    FT_ENUM,    /* an enum stored as unsigned, by name */
    FT_SPECIAL, /* handled by the caller (arrays, nested objects) */
};

#define F_REQ 0x01u   /* decoder: must be present */
#define F_NAME 0x02u  /* identity name: never empty; encoder fails if it does not fit */
#define F_PCT 0x04u   /* measured percentage: the encoder clamps to 0..100 */
#define F_INT 0x08u   /* must be an integer */
#define F_WHOLE 0x10u /* written without decimals (counters, KiB) */
#define F_OMIT0 0x20u /* encoder leaves out 0 / false */
#define F_DISK 0x40u  /* load spec: written for disk loads only */
#define F_SCEN 0x80u  /* string: empty or a valid scenario name */
#define F_UUID 0x100u /* string: empty or 8-4-4-4-12 hex */

#define KEY_MAX 24 /* bytes of the longest key */

struct field {
    const char *key;
    char jkey[KEY_MAX + 5];    /* the encoder's ,"key": (the comma left out first),
                                * padded so that it is copied at a fixed size */
    unsigned char jlen;        /* strlen(jkey) */
    unsigned char type;
    unsigned short flags;
    unsigned short size;       /* FT_STR: buffer size in bytes incl. NUL */
    size_t off;
    double min, max;           /* FT_NUM/FT_UINT range; FT_ENUM index range */
    const char *const *names;  /* FT_ENUM */
};

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

/* ---- UTF-8 --------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n > 0 bytes available), or 0 when it
 * is invalid: overlong forms, surrogates and code points above U+10FFFF too. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    uint32_t cp;
    return kg_utf8_decode(s, n, &cp);
}

/* ---- encoding ------------------------------------------------------------ */

struct wbuf {
    char *p;
    size_t len, cap;  /* cap excludes the terminating NUL */
    bool full;
    bool first;       /* no member written yet in the current object */
};

static void w_mem(struct wbuf *w, const char *s, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void w_ch(struct wbuf *w, char c)
{
    w_mem(w, &c, 1);
}

static void w_key(struct wbuf *w, const char *key)
{
    if (!w->first)
        w_ch(w, ',');
    w->first = false;
    w_ch(w, '"');
    w_mem(w, key, strlen(key));
    w_mem(w, "\":", 2);
}

/* A table field's key, from its precomputed ,"key": text. */
static void w_fkey(struct wbuf *w, const struct field *f)
{
    size_t skip = w->first; /* no comma before an object's first member */
    w->first = false;
    w_mem(w, f->jkey + skip, f->jlen - skip);
}

/* The hot path: the agent encodes ~50 numeric members per VM, thousands of VMs
 * per interval. A member (key and number) is formatted straight into the buffer
 * when it has room for the longest one, else into a scratch copy that w_mem
 * then adds (or marks the buffer full): the bytes are the same either way. */
#define NUM_MAX 24  /* a uint64_t's 20 digits, or 7 digits and ".ddd" */
#define MEMBER_MAX (KEY_MAX + 5 + NUM_MAX)

static char *w_start(struct wbuf *w, char *scratch)
{
    return !w->full && MEMBER_MAX <= w->cap - w->len ? w->p + w->len : scratch;
}

static void w_commit(struct wbuf *w, const char *d, size_t n)
{
    if (d == w->p + w->len)
        w->len += n; /* formatted in place by w_start's room */
    else
        w_mem(w, d, n);
}

/* Copies the whole padded key (a fixed-size copy is a few moves; a variable one
 * a loop): the bytes past the key are overwritten by the value or lie past the
 * member, inside the room w_start made sure of. */
static size_t put_key(struct wbuf *w, char *d, const struct field *f)
{
    size_t skip = w->first;
    w->first = false;
    memcpy(d, f->jkey + skip, sizeof f->jkey - 1);
    return (size_t)f->jlen - skip;
}

/* v in decimal at d; returns the number of digits (1..20). */
static size_t put_u64(char *d, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    static const uint64_t pow10[20] = {
        1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
        1000000000u, 10000000000u, 100000000000u, 1000000000000u, 10000000000000u,
        100000000000000u, 1000000000000000u, 10000000000000000u, 100000000000000000u,
        1000000000000000000u, 10000000000000000000u,
    };
    /* digits from the bit length: 1233/4096 ~ log10(2), then one comparison */
    unsigned bits = 64u - (unsigned)__builtin_clzll(v | 1u);
    unsigned t = bits * 1233u >> 12;
    size_t n = t + ((v | 1u) >= pow10[t]); /* | 1: 0 has one digit (10^t is even) */
    char *e = d + n;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        *--e = pairs[k + 1];
        *--e = pairs[k];
    }
    if (v >= 10) {
        *--e = pairs[v * 2 + 1];
        *--e = pairs[v * 2];
    } else {
        *--e = (char)('0' + v);
    }
    return n;
}

/* v is finite, 0 <= v <= QMAX. Integers from 1e6 up, else up to 3 decimals
 * without trailing zeros. Exact digits, no locale, no printf. v + 0.5 > 0, so
 * converting it to uint64_t (truncation) is rounding half up. */
static size_t put_num(char *d, double v, bool whole)
{
    if (whole || v >= 1e6)
        return put_u64(d, (uint64_t)(v + 0.5));
    uint64_t m = (uint64_t)(v * 1000.0 + 0.5);
    size_t n = put_u64(d, m / 1000);
    unsigned frac = (unsigned)(m % 1000);
    if (frac) {
        d[n++] = '.';
        d[n++] = (char)('0' + frac / 100);
        if ((frac %= 100) != 0) {
            d[n++] = (char)('0' + frac / 10);
            if ((frac %= 10) != 0)
                d[n++] = (char)('0' + frac);
        }
    }
    return n;
}

/* One member whose value is an integer, or a number as put_num writes it. */
static void w_member_u64(struct wbuf *w, const struct field *f, uint64_t v)
{
    char scratch[MEMBER_MAX];
    char *d = w_start(w, scratch);
    size_t n = put_key(w, d, f);
    w_commit(w, d, n + put_u64(d + n, v));
}

static void w_member_num(struct wbuf *w, const struct field *f, double v, bool whole)
{
    char scratch[MEMBER_MAX];
    char *d = w_start(w, scratch);
    size_t n = put_key(w, d, f);
    w_commit(w, d, n + put_num(d + n, v, whole));
}

/* Writes s[0..n) as a JSON string: invalid UTF-8 becomes U+FFFD, quotes,
 * backslashes and control characters are escaped. The decoded length is kept to
 * maxout bytes: over that, KG_EINVAL when must_fit, else cut on a character
 * boundary. */
static int w_str(struct wbuf *w, const char *s, size_t n, size_t maxout, bool must_fit)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t out = 0;
    w_ch(w, '"');
    for (size_t i = 0; i < n;) {
        /* a run of printable ASCII other than '"' and '\\' goes out as it is, at once */
        size_t j = i, end = i + (maxout - out < n - i ? maxout - out : n - i);
        while (j < end && u[j] >= 0x20 && u[j] < 0x80 && u[j] != '"' && u[j] != '\\')
            j++;
        if (j > i) {
            w_mem(w, s + i, j - i);
            out += j - i;
            i = j;
            continue;
        }
        size_t k = utf8_seq(u + i, n - i);
        const char *src = s + i;
        size_t outk = k;
        if (k == 0) {
            src = "\xEF\xBF\xBD";  /* U+FFFD */
            outk = 3;
            k = 1;
        }
        if (out + outk > maxout) {
            if (must_fit)
                return KG_EINVAL;
            break;
        }
        out += outk;
        i += k;
        if (outk == 1) {
            unsigned char c = (unsigned char)*src;
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', (char)c};
                w_mem(w, e, 2);
            } else if (c < 0x20) {
                const char *short_esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
                                        : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
                if (short_esc) {
                    w_mem(w, short_esc, 2);
                } else {
                    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    w_mem(w, e, 6);
                }
            } else {
                w_ch(w, (char)c);
            }
        } else {
            w_mem(w, src, outk);
        }
    }
    w_ch(w, '"');
    return 0;
}

static bool uuid_valid(const char *s)
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

static unsigned get_enum(const void *p)
{
    unsigned v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Writes the members of table t found at base. skip: flags whose fields are left
 * out. strict: a number out of range is KG_ERANGE instead of "not available". */
static int encode_fields(struct wbuf *w, const struct field *t, size_t n, const void *base,
                         unsigned skip, bool strict)
{
    const char *b = base;
    for (size_t i = 0; i < n; i++) {
        const struct field *f = &t[i];
        const void *p = b + f->off;
        if (f->flags & skip)
            continue;
        switch (f->type) {
        case FT_SCHEMA:
            w_member_u64(w, f, KG_SCHEMA_VERSION);
            break;
        case FT_TS: {
            int64_t ts;
            memcpy(&ts, p, sizeof(ts));
            if (ts < 0 || ts > TS_MAX_MS)
                return KG_EINVAL;
            w_member_u64(w, f, (uint64_t)ts);
            break;
        }
        case FT_STR: {
            const char *s = p;
            size_t len = strnlen(s, f->size);
            if (len == f->size)
                return KG_EINVAL;  /* not NUL-terminated */
            if (len == 0) {
                if (f->flags & F_NAME)
                    return KG_EINVAL;
                if (!(f->flags & F_REQ))
                    break;
            }
            if ((f->flags & F_SCEN) && len && !kg_scenario_name_valid(s))
                return KG_EINVAL;
            if ((f->flags & F_UUID) && !uuid_valid(s))
                break;
            w_fkey(w, f);
            int rc = w_str(w, s, len, (size_t)f->size - 1, f->flags & F_NAME);
            if (rc)
                return rc;
            break;
        }
        case FT_NUM: {
            double v;
            memcpy(&v, p, sizeof(v));
            if (isnan(v))
                break;
            if ((f->flags & F_PCT) && isfinite(v))
                v = v < 0 ? 0 : v > 100 ? 100 : v;
            if (f->flags & F_INT)
                v = floor(v + 0.5);
            if (!isfinite(v) || v < f->min || v > f->max) {
                if (strict)
                    return KG_ERANGE;
                break;
            }
            w_member_num(w, f, v, (f->flags & (F_WHOLE | F_INT)) != 0);
            break;
        }
        case FT_UINT: {
            unsigned v;
            memcpy(&v, p, sizeof(v));
            if ((f->flags & F_OMIT0) && v == 0)
                break;
            if (v > f->max) {
                if (strict)
                    return KG_ERANGE;
                break;
            }
            w_member_u64(w, f, v);
            break;
        }
        case FT_BOOL: {
            bool v;
            memcpy(&v, p, sizeof(v));
            if ((f->flags & F_OMIT0) && !v)
                break;
            w_fkey(w, f);
            if (v)
                w_mem(w, "true", 4);
            else
                w_mem(w, "false", 5);
            break;
        }
        case FT_ENUM: {
            unsigned v = get_enum(p);
            if (v < f->min || v > f->max || !f->names[v])
                return KG_EINVAL;
            w_fkey(w, f);
            w_ch(w, '"');
            w_mem(w, f->names[v], strlen(f->names[v]));
            w_ch(w, '"');
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

static void w_begin(struct wbuf *w, char *buf, size_t size)
{
    w->p = buf;
    w->len = 0;
    /* At most KG_PAYLOAD_MAX - 1 bytes, so that a KG_PAYLOAD_MAX buffer with its
     * NUL always suffices (the decoders take up to KG_PAYLOAD_MAX). */
    w->cap = size - 1 < KG_PAYLOAD_MAX - 1 ? size - 1 : KG_PAYLOAD_MAX - 1;
    w->full = false;
    w->first = true;
    w_ch(w, '{');
}

static int w_end(struct wbuf *w)
{
    w_ch(w, '}');
    if (w->full) {
        w->p[0] = '\0';
        return KG_ETOOBIG;
    }
    w->p[w->len] = '\0';
    return (int)w->len;
}

/* Checks what a command or a running load must say for its kind. */
static int spec_check(const struct kg_load_spec *s)
{
    if (s->kind == KG_LOAD_CPU && isnan(s->pct))
        return KG_EINVAL;
    if (s->kind == KG_LOAD_MEM && isnan(s->mib))
        return KG_EINVAL;
    return 0;
}

static int encode_spec(struct wbuf *w, const struct kg_load_spec *s)
{
    if (s->kind < KG_LOAD_CPU || s->kind > KG_LOAD_DISK)
        return KG_EINVAL;
    int rc = spec_check(s);
    if (rc)
        return rc;
    return encode_fields(w, spec_fields, COUNT(spec_fields), s,
                         s->kind == KG_LOAD_DISK ? 0u : F_DISK, true);
}

static int vm_encode_once(const struct kg_vm *vm, char *buf, size_t size, bool devices)
{
    struct wbuf w;
    w_begin(&w, buf, size);
    int rc = encode_fields(&w, vm_fields, COUNT(vm_fields), vm, 0, false);
    if (rc)
        return rc;
    if (devices && vm->n_disks) {
        w_key(&w, "disks");
        w_ch(&w, '[');
        for (unsigned i = 0; i < vm->n_disks && rc == 0; i++) {
            w_mem(&w, i ? ",{" : "{", i ? 2 : 1);
            w.first = true;
            rc = encode_fields(&w, disk_fields, COUNT(disk_fields), &vm->disks[i], 0, false);
            w_ch(&w, '}');
        }
        w_ch(&w, ']');
    }
    if (devices && vm->n_nets && rc == 0) {
        w.first = false;
        w_key(&w, "nets");
        w_ch(&w, '[');
        for (unsigned i = 0; i < vm->n_nets && rc == 0; i++) {
            w_mem(&w, i ? ",{" : "{", i ? 2 : 1);
            w.first = true;
            rc = encode_fields(&w, net_fields, COUNT(net_fields), &vm->nets[i], 0, false);
            w_ch(&w, '}');
        }
        w_ch(&w, ']');
    }
    if (rc)
        return rc;
    w.first = false;
    return w_end(&w);
}

int kg_vm_encode(const struct kg_vm *vm, char *buf, size_t size)
{
    if (!vm || !buf)
        return KG_EINVAL;
    if (size == 0)
        return KG_ETOOBIG;
    if (vm->n_disks > KG_DEV_MAX || vm->n_nets > KG_DEV_MAX)
        return KG_EINVAL;
    int rc = vm_encode_once(vm, buf, size, true);
    /* Only pathological device names can push a VM over the payload limit:
     * publish the VM without its per-device detail rather than not at all. */
    if (rc == KG_ETOOBIG && size >= KG_PAYLOAD_MAX && (vm->n_disks || vm->n_nets))
        rc = vm_encode_once(vm, buf, size, false);
    if (rc < 0)
        buf[0] = '\0';
    return rc;
}

int kg_host_encode(const struct kg_host *h, char *buf, size_t size)
{
    if (!h || !buf)
        return KG_EINVAL;
    if (size == 0)
        return KG_ETOOBIG;
    struct wbuf w;
    w_begin(&w, buf, size);
    int rc = encode_fields(&w, host_fields, COUNT(host_fields), h, 0, false);
    if (rc) {
        buf[0] = '\0';
        return rc;
    }
    return w_end(&w);
}

int kg_load_cmd_encode(const struct kg_load_cmd *c, char *buf, size_t size)
{
    if (!c || !buf)
        return KG_EINVAL;
    if (size == 0)
        return KG_ETOOBIG;
    struct wbuf w;
    w_begin(&w, buf, size);
    /* "scenario" belongs to the scenario verb only. */
    int rc = encode_fields(&w, cmd_fields, COUNT(cmd_fields), c,
                           c->verb == KG_LOAD_SCENARIO ? 0u : F_SCEN, true);
    if (rc == 0 && c->verb == KG_LOAD_SCENARIO && !kg_scenario_name_valid(c->scenario))
        rc = KG_EINVAL;
    if (rc == 0 && c->verb == KG_LOAD_START)
        rc = encode_spec(&w, &c->spec);
    if (rc) {
        buf[0] = '\0';
        return rc;
    }
    return w_end(&w);
}

int kg_load_state_encode(const struct kg_load_state *s, char *buf, size_t size)
{
    if (!s || !buf)
        return KG_EINVAL;
    if (size == 0)
        return KG_ETOOBIG;
    struct wbuf w;
    w_begin(&w, buf, size);
    int rc = encode_fields(&w, state_fields, COUNT(state_fields), s, 0, false);
    if (rc == 0 && s->spec.kind != KG_LOAD_NONE) {
        w_key(&w, "load");
        w_ch(&w, '{');
        w.first = true;
        rc = encode_spec(&w, &s->spec);
        w_ch(&w, '}');
        w.first = false;
    }
    if (rc) {
        buf[0] = '\0';
        return rc;
    }
    return w_end(&w);
}

/* ---- decoding ------------------------------------------------------------ */

struct dctx {
    char *errmsg;
    size_t errlen;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(struct dctx *d, int code, const char *fmt, ...)
{
    if (d->errmsg && d->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->errmsg, d->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Reads \uXXXX at s[i] (s[i] == '\\'); -1 when malformed. */
static long read_u_escape(const unsigned char *s, size_t n, size_t i)
{
    if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u')
        return -1;
    long v = 0;
    for (size_t k = 2; k < 6; k++) {
        int h = kg_hex_value(s[i + k], false);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static int scan_string(const unsigned char *s, size_t n, size_t *pi, struct dctx *d)
{
    size_t start = *pi, i = start + 1;
    while (i < n) {
        unsigned char c = s[i];
        if (c == '"') {
            *pi = i + 1;
            return 0;
        }
        if (c == '\\') {
            if (i + 1 >= n)
                break;
            unsigned char e = s[i + 1];
            if (e == 'u') {
                long v = read_u_escape(s, n, i);
                if (v < 0)
                    return fail(d, KG_EPARSE, "bad \\u escape at byte %zu", i);
                if (v == 0)
                    return fail(d, KG_EPARSE, "\\u0000 in a string at byte %zu", i);
                if (v >= 0xDC00 && v <= 0xDFFF)
                    return fail(d, KG_EPARSE, "lone UTF-16 surrogate at byte %zu", i);
                if (v >= 0xD800 && v <= 0xDBFF) {
                    long lo = read_u_escape(s, n, i + 6);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(d, KG_EPARSE, "lone UTF-16 surrogate at byte %zu", i);
                    i += 6;
                }
                i += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                i += 2;
            } else {
                return fail(d, KG_EPARSE, "bad escape at byte %zu", i);
            }
        } else if (c < 0x20) {
            return fail(d, KG_EPARSE, "control character 0x%02x in a string at byte %zu", c, i);
        } else if (c >= 0x80) {
            size_t k = utf8_seq(s + i, n - i);
            if (k == 0)
                return fail(d, KG_EPARSE, "invalid UTF-8 at byte %zu", i);
            i += k;
        } else {
            i++;
        }
    }
    return fail(d, KG_EPARSE, "unterminated string starting at byte %zu", start);
}

static int scan_number(const unsigned char *s, size_t n, size_t *pi, struct dctx *d)
{
    size_t start = *pi, i = start;
    if (s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
        if (i < n && is_digit(s[i]))
            return fail(d, KG_EPARSE, "number with a leading zero at byte %zu", start);
    } else if (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        return fail(d, KG_EPARSE, "malformed number at byte %zu", start);
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return fail(d, KG_EPARSE, "malformed number at byte %zu", start);
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return fail(d, KG_EPARSE, "malformed number at byte %zu", start);
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i - start > NUM_TOKEN_MAX)
        return fail(d, KG_EPARSE, "number longer than %d characters at byte %zu",
                    NUM_TOKEN_MAX, start);
    *pi = i;
    return 0;
}

/* One pass over the raw bytes before cJSON sees them: nesting depth (cJSON
 * would recurse to 1000), UTF-8 everywhere, string escapes, number syntax and
 * stray bytes. cJSON then checks the grammar. */
static int prescan(const unsigned char *s, size_t n, struct dctx *d)
{
    unsigned depth = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        int rc;
        switch (c) {
        case ' ': case '\t': case '\n': case '\r': case ':': case ',':
            i++;
            break;
        case '{': case '[':
            if (++depth > KG_JSON_DEPTH_MAX)
                return fail(d, KG_EPARSE, "nesting deeper than %d at byte %zu",
                            KG_JSON_DEPTH_MAX, i);
            i++;
            break;
        case '}': case ']':
            if (depth == 0)
                return fail(d, KG_EPARSE, "unbalanced '%c' at byte %zu", c, i);
            depth--;
            i++;
            break;
        case '"':
            rc = scan_string(s, n, &i, d);
            if (rc)
                return rc;
            break;
        case '-': case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            rc = scan_number(s, n, &i, d);
            if (rc)
                return rc;
            break;
        default:
            if (c >= 'a' && c <= 'z') {  /* true false null; cJSON checks the words */
                i++;
                break;
            }
            if (c >= 0x80)
                return fail(d, KG_EPARSE, "%s at byte %zu",
                            utf8_seq(s + i, n - i) ? "non-ASCII character outside a string"
                                                   : "invalid UTF-8",
                            i);
            return fail(d, KG_EPARSE, "unexpected byte 0x%02x at byte %zu", c, i);
        }
    }
    return 0;
}

static int parse(const char *json, size_t len, cJSON **root, struct dctx *d)
{
    *root = NULL;
    if (!json)
        return fail(d, KG_EINVAL, "no payload");
    if (len == 0)
        return fail(d, KG_EPARSE, "empty payload");
    if (len > KG_PAYLOAD_MAX)
        return fail(d, KG_ETOOBIG, "payload of %zu bytes exceeds %d", len, KG_PAYLOAD_MAX);
    int rc = prescan((const unsigned char *)json, len, d);
    if (rc)
        return rc;
    const char *end = NULL;
    /* cJSON's parser records its error position in a process-wide variable on
     * every call: serialise parses so that decoders stay thread-safe as schema.h
     * promises (we read the position through 'end' only). */
    static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&parse_lock);
    cJSON *r = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    pthread_mutex_unlock(&parse_lock);
    if (!r) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return fail(d, KG_EPARSE, "invalid JSON near byte %zu", at);
    }
    *root = r;
    if (!end || end < json || end > json + len)
        return fail(d, KG_EPARSE, "invalid JSON");
    while (end < json + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != json + len)
        return fail(d, KG_EPARSE, "trailing data at byte %zu", (size_t)(end - json));
    if (!cJSON_IsObject(r))
        return fail(d, KG_EPARSE, "top level is not a JSON object");
    return 0;
}

/* The one check made before anything else: a newer major schema may have
 * changed what the other fields mean. */
static int check_schema(const cJSON *root, struct dctx *d)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (!v)
        return fail(d, KG_EPARSE, "missing required field \"schema\"");
    if (!cJSON_IsNumber(v))
        return fail(d, KG_EPARSE, "field \"schema\": expected a number");
    double x = v->valuedouble;
    if (!isfinite(x) || x != floor(x))
        return fail(d, KG_EPARSE, "field \"schema\": expected an integer");
    if (x > KG_SCHEMA_VERSION)
        return fail(d, KG_ERANGE, "field \"schema\": version %.0f is newer than %d",
                    x > 1e9 ? 1e9 : x, KG_SCHEMA_VERSION);
    if (x != KG_SCHEMA_VERSION)
        return fail(d, KG_ERANGE, "field \"schema\": version %.0f is not %d",
                    x < -1e9 ? -1e9 : x, KG_SCHEMA_VERSION);
    return 0;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsArray(v))
        return "an array";
    return "an object";
}

static int decode_field(const struct field *f, const cJSON *v, void *base, const char *path,
                        struct dctx *d)
{
    char *p = (char *)base + f->off;
    switch (f->type) {
    case FT_SCHEMA:
    case FT_SPECIAL:
        return 0;  /* checked by the caller */
    case FT_TS:
    case FT_NUM:
    case FT_UINT: {
        if (!cJSON_IsNumber(v))
            return fail(d, KG_EPARSE, "field \"%s%s\": expected a number, got %s", path,
                        f->key, type_name(v));
        double x = v->valuedouble;
        double lo = f->type == FT_TS ? 0 : f->min;
        double hi = f->type == FT_TS ? (double)TS_MAX_MS : f->max;
        if (!isfinite(x))
            return fail(d, KG_ERANGE, "field \"%s%s\": not a finite number", path, f->key);
        if (x < lo || x > hi)
            return fail(d, KG_ERANGE, "field \"%s%s\": %.15g is outside %.15g..%.15g", path,
                        f->key, x, lo, hi);
        if ((f->flags & F_INT || f->type != FT_NUM) && x != floor(x))
            return fail(d, KG_ERANGE, "field \"%s%s\": %.15g is not an integer", path, f->key, x);
        if (f->type == FT_TS) {
            int64_t ts = (int64_t)x;
            memcpy(p, &ts, sizeof(ts));
        } else if (f->type == FT_UINT) {
            unsigned u = (unsigned)x;
            memcpy(p, &u, sizeof(u));
        } else {
            memcpy(p, &x, sizeof(x));
        }
        return 0;
    }
    case FT_STR: {
        if (!cJSON_IsString(v) || !v->valuestring)
            return fail(d, KG_EPARSE, "field \"%s%s\": expected a string, got %s", path,
                        f->key, type_name(v));
        const char *s = v->valuestring;
        size_t len = strlen(s);
        if (len >= f->size)
            return fail(d, KG_ETOOBIG, "field \"%s%s\": longer than %u bytes", path, f->key,
                        (unsigned)f->size - 1);
        if ((f->flags & F_NAME) && len == 0)
            return fail(d, KG_EPARSE, "field \"%s%s\": empty", path, f->key);
        if ((f->flags & F_SCEN) && len && !kg_scenario_name_valid(s))
            return fail(d, KG_EPARSE,
                        "field \"%s%s\": not a scenario name ([A-Za-z0-9._-], not starting "
                        "with '.')", path, f->key);
        if ((f->flags & F_UUID) && len && !uuid_valid(s))
            return fail(d, KG_EPARSE, "field \"%s%s\": not a UUID", path, f->key);
        memcpy(p, s, len + 1);
        return 0;
    }
    case FT_BOOL: {
        if (!cJSON_IsBool(v))
            return fail(d, KG_EPARSE, "field \"%s%s\": expected true or false, got %s", path,
                        f->key, type_name(v));
        bool b = cJSON_IsTrue(v);
        memcpy(p, &b, sizeof(b));
        return 0;
    }
    case FT_ENUM: {
        if (!cJSON_IsString(v) || !v->valuestring)
            return fail(d, KG_EPARSE, "field \"%s%s\": expected a string, got %s", path,
                        f->key, type_name(v));
        unsigned lo = (unsigned)f->min, hi = (unsigned)f->max;
        for (unsigned k = lo; k <= hi; k++) {
            if (f->names[k] && strcmp(f->names[k], v->valuestring) == 0) {
                memcpy(p, &k, sizeof(k));
                return 0;
            }
        }
        char shown[40];
        snprintf(shown, sizeof(shown), "%s", v->valuestring);
        return fail(d, KG_EPARSE, "field \"%s%s\": unknown value \"%s\"", path, f->key, shown);
    }
    default:
        return fail(d, KG_EPARSE, "internal: bad field type");
    }
}

/* Decodes the members of obj listed in t into base; others are ignored. A
 * member twice is an error (which one would count?). */
static int decode_fields(const cJSON *obj, const struct field *t, size_t n, void *base,
                         const char *path, struct dctx *d)
{
    uint64_t seen = 0;
    size_t hint = 0;
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string)
            continue;
        /* Publishers write members in table order: look from just after the
         * previous match first, so a lookup is usually one comparison. */
        size_t i = n;
        for (size_t k = 0; k < n; k++) {
            size_t j = hint + k < n ? hint + k : hint + k - n;
            if (t[j].key[0] == c->string[0] && strcmp(t[j].key, c->string) == 0) {
                i = j;
                break;
            }
        }
        if (i == n)
            continue;
        hint = i + 1 < n ? i + 1 : 0;
        if (seen & (UINT64_C(1) << i))
            return fail(d, KG_EPARSE, "field \"%s%s\" appears twice", path, t[i].key);
        seen |= UINT64_C(1) << i;
        int rc = decode_field(&t[i], c, base, path, d);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if ((t[i].flags & F_REQ) && !(seen & (UINT64_C(1) << i)))
            return fail(d, KG_EPARSE, "missing required field \"%s%s\"", path, t[i].key);
    }
    return 0;
}

static int decode_devs(const cJSON *root, const char *key, const struct field *t, size_t n,
                       void *first, size_t stride, unsigned *count, struct dctx *d)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    *count = 0;
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return fail(d, KG_EPARSE, "field \"%s\": expected an array, got %s", key,
                    type_name(arr));
    unsigned i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        if (i >= KG_DEV_MAX)
            return fail(d, KG_ETOOBIG, "field \"%s\": more than %d entries", key, KG_DEV_MAX);
        char path[32];
        snprintf(path, sizeof(path), "%s[%u].", key, i);
        if (!cJSON_IsObject(e))
            return fail(d, KG_EPARSE, "field \"%s[%u]\": expected an object, got %s", key, i,
                        type_name(e));
        int rc = decode_fields(e, t, n, (char *)first + (size_t)i * stride, path, d);
        if (rc)
            return rc;
        *count = i + 1;
    }
    return 0;
}

static int decode_spec(const cJSON *obj, struct kg_load_spec *s, const char *path,
                       struct dctx *d)
{
    int rc = decode_fields(obj, spec_fields, COUNT(spec_fields), s, path, d);
    if (rc)
        return rc;
    if (s->kind == KG_LOAD_CPU && isnan(s->pct))
        return fail(d, KG_EPARSE, "missing required field \"%spct\" for a cpu load", path);
    if (s->kind == KG_LOAD_MEM && isnan(s->mib))
        return fail(d, KG_EPARSE, "missing required field \"%smib\" for a mem load", path);
    return 0;
}

static void err_clear(char *errmsg, size_t errlen)
{
    if (errmsg && errlen)
        errmsg[0] = '\0';
}

int kg_vm_decode(const char *json, size_t len, struct kg_vm *out, char *errmsg, size_t errlen)
{
    struct dctx d = {errmsg, errlen};
    err_clear(errmsg, errlen);
    if (!out)
        return fail(&d, KG_EINVAL, "no output struct");
    kg_vm_init(out);
    cJSON *root = NULL;
    int rc = parse(json, len, &root, &d);
    if (rc == 0)
        rc = check_schema(root, &d);
    if (rc == 0)
        rc = decode_fields(root, vm_fields, COUNT(vm_fields), out, "", &d);
    if (rc == 0)
        rc = decode_devs(root, "disks", disk_fields, COUNT(disk_fields), out->disks,
                         sizeof(out->disks[0]), &out->n_disks, &d);
    if (rc == 0)
        rc = decode_devs(root, "nets", net_fields, COUNT(net_fields), out->nets,
                         sizeof(out->nets[0]), &out->n_nets, &d);
    cJSON_Delete(root);
    if (rc)
        kg_vm_init(out);
    return rc;
}

int kg_host_decode(const char *json, size_t len, struct kg_host *out, char *errmsg,
                   size_t errlen)
{
    struct dctx d = {errmsg, errlen};
    err_clear(errmsg, errlen);
    if (!out)
        return fail(&d, KG_EINVAL, "no output struct");
    kg_host_init(out);
    cJSON *root = NULL;
    int rc = parse(json, len, &root, &d);
    if (rc == 0)
        rc = check_schema(root, &d);
    if (rc == 0)
        rc = decode_fields(root, host_fields, COUNT(host_fields), out, "", &d);
    cJSON_Delete(root);
    if (rc)
        kg_host_init(out);
    return rc;
}

int kg_load_cmd_decode(const char *json, size_t len, struct kg_load_cmd *out, char *errmsg,
                       size_t errlen)
{
    struct dctx d = {errmsg, errlen};
    err_clear(errmsg, errlen);
    if (!out)
        return fail(&d, KG_EINVAL, "no output struct");
    kg_load_cmd_init(out);
    cJSON *root = NULL;
    int rc = parse(json, len, &root, &d);
    if (rc == 0)
        rc = check_schema(root, &d);
    if (rc == 0)
        rc = decode_fields(root, cmd_fields, COUNT(cmd_fields), out, "", &d);
    if (rc == 0 && out->verb == KG_LOAD_START)
        rc = decode_spec(root, &out->spec, "", &d);
    if (rc == 0 && out->verb == KG_LOAD_SCENARIO && out->scenario[0] == '\0')
        rc = fail(&d, KG_EPARSE, "missing required field \"scenario\" for cmd \"scenario\"");
    if (rc == 0 && out->verb != KG_LOAD_SCENARIO)
        out->scenario[0] = '\0';
    cJSON_Delete(root);
    if (rc)
        kg_load_cmd_init(out);
    return rc;
}

int kg_load_state_decode(const char *json, size_t len, struct kg_load_state *out,
                         char *errmsg, size_t errlen)
{
    struct dctx d = {errmsg, errlen};
    err_clear(errmsg, errlen);
    if (!out)
        return fail(&d, KG_EINVAL, "no output struct");
    kg_load_state_init(out);
    cJSON *root = NULL;
    int rc = parse(json, len, &root, &d);
    if (rc == 0)
        rc = check_schema(root, &d);
    if (rc == 0)
        rc = decode_fields(root, state_fields, COUNT(state_fields), out, "", &d);
    if (rc == 0) {
        const cJSON *load = cJSON_GetObjectItemCaseSensitive(root, "load");
        if (load && !cJSON_IsObject(load))
            rc = fail(&d, KG_EPARSE, "field \"load\": expected an object, got %s",
                      type_name(load));
        else if (load)
            rc = decode_spec(load, &out->spec, "load.", &d);
    }
    cJSON_Delete(root);
    if (rc)
        kg_load_state_init(out);
    return rc;
}
