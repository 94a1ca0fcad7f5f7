/* SPDX-License-Identifier: MIT */
/*
 * The metric schema: host, VM, load-command and load-state payloads as C structs,
 * and their JSON encoders and decoders (docs/PROTOCOL.md documents every field).
 *
 * On the wire:
 *  - "schema" is an integer major version, in every payload; a decoder accepts
 *    exactly KG_SCHEMA_VERSION. Fields may be added without a bump (decoders
 *    ignore unknown fields).
 *  - "ts" (epoch ms, UTC) is in every sample: host, VM and load state. A load
 *    command is not a sample and carries none.
 *  - Units live in field names: _pct (0..100), _kib, _bytes, _per_s, _ms, _s.
 *  - Flat numeric fields at the top level for what dashboards colour by
 *    (Telegraf's json parser and Home Assistant value templates take them as
 *    is); per-device detail in "disks" and "nets" arrays alongside.
 *  - A figure that is not available is absent from the JSON; in C it is NaN
 *    (KG_NA; test with kg_na()). Rates are absent on the first sample, after a
 *    counter went backwards, and for domains that are not running.
 *  - Required fields: "schema" everywhere; "ts" in samples; "host", "name",
 *    "state" in a VM, "name" in a host and in each disk/net; "node", "status" in
 *    a load state; "cmd" in a command, "kind" for start ("pct" for cpu, "mib"
 *    for mem), "scenario" for the scenario verb; "kind" in a state's "load".
 *
 * Decoders are strict and bounded: a payload over KG_PAYLOAD_MAX bytes, invalid
 * JSON or UTF-8, nesting deeper than 8, a wrong type, a non-finite or
 * out-of-range number, a missing required field or a newer major schema is an
 * error: KG_EPARSE/KG_ETOOBIG/KG_ERANGE, with a one-line reason naming the field
 * in errmsg. Payloads are taken with a length and need not be NUL-terminated. On
 * error *out is left zeroed/NaN, never half-filled.
 *
 * Encoders write compact JSON into the caller's buffer and return its length:
 *  - the output is NUL-terminated and shorter than KG_PAYLOAD_MAX bytes (a
 *    buffer of KG_PAYLOAD_MAX bytes always suffices), and always accepted by the
 *    matching decoder;
 *  - names are JSON strings, so a name's invalid UTF-8 bytes become U+FFFD (a
 *    topic keeps the exact bytes through its escaping); KG_EINVAL only when a
 *    required name (VM host/name, host name, load node) is empty or, after that
 *    replacement, longer than KG_NAME_MAX bytes. Informational strings
 *    (libvirt_error, last_reject, ids, device names, ...) are cut on a
 *    character boundary to fit the decoder's buffer instead;
 *  - measured figures: a _pct is clamped to 0..100 (timing jitter gives 100.3);
 *    any other non-finite, negative or out-of-range figure is left out (not
 *    available). Counters and _kib are written as integers, other figures with
 *    up to 3 decimals (integers from 1e6 up);
 *  - a VM payload that would exceed KG_PAYLOAD_MAX with its per-device detail
 *    (only with pathological device names) is written without "disks"/"nets";
 *    the sums stay;
 *  - load commands and the "load" object of a load state are not measurements:
 *    a value outside the range the decoder accepts gives KG_ERANGE, a missing
 *    requirement (kind, pct for cpu, mib for mem, a valid scenario name)
 *    KG_EINVAL.
 * Pure module: no logging, no global state. Thread-safe.
 */
#ifndef KVMGRID_SCHEMA_H
#define KVMGRID_SCHEMA_H
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmgrid/topic.h"

#define KG_SCHEMA_VERSION 1
#define KG_PAYLOAD_MAX 16384          /* bytes, any payload */
#define KG_DEV_MAX 16                 /* disks or interfaces detailed per VM */
#define KG_DEV_NAME_MAX 32            /* bytes incl. NUL */
#define KG_UUID_LEN 36
#define KG_ERRMSG_MAX 160             /* recommended errmsg buffer size */
#define KG_JSON_DEPTH_MAX 8           /* deepest nesting of arrays/objects a decoder takes */

#define KG_NA ((double)NAN)  /* a double: NAN alone is a float (clang -Wdouble-promotion) */
static inline bool kg_na(double v) { return isnan(v); }

/* ---- VM ---------------------------------------------------------------- */

enum kg_vm_state {
    KG_VM_NOSTATE = 0, KG_VM_RUNNING, KG_VM_BLOCKED, KG_VM_PAUSED, KG_VM_SHUTDOWN,
    KG_VM_SHUTOFF, KG_VM_CRASHED, KG_VM_PMSUSPENDED,
    KG_VM_STATE_COUNT
};
/* "nostate" "running" "blocked" "paused" "shutdown" "shutoff" "crashed" "pmsuspended" */
const char *kg_vm_state_name(enum kg_vm_state s);
int kg_vm_state_parse(const char *name, size_t len, enum kg_vm_state *out);

struct kg_disk {
    char name[KG_DEV_NAME_MAX];      /* target dev, e.g. "vda" */
    double rd_bytes_per_s, wr_bytes_per_s;
    double rd_iops, wr_iops;         /* requests per second */
    double rd_lat_ms, wr_lat_ms;     /* mean latency per request over the interval */
    double rd_bytes, wr_bytes;       /* cumulative counters */
};

struct kg_net {
    char name[KG_DEV_NAME_MAX];      /* interface, e.g. "vnet3" */
    double rx_bytes_per_s, tx_bytes_per_s;
    double rx_pkts_per_s, tx_pkts_per_s;
    double rx_errs_per_s, tx_errs_per_s;
    double rx_drop_per_s, tx_drop_per_s;
    double rx_bytes, tx_bytes;       /* cumulative counters */
};

struct kg_vm {
    int64_t ts_ms;                   /* sample time, epoch ms */
    char host[KG_NAME_MAX + 1];      /* hypervisor name (as in the topic) */
    char name[KG_NAME_MAX + 1];      /* libvirt domain name */
    char uuid[KG_UUID_LEN + 1];      /* "" when unknown */
    enum kg_vm_state state;
    bool stale;                      /* stats did not come back in time */
    double age_s;                    /* stale only: age of the figures below */
    double vcpus;
    double cpu_pct;                  /* of its own vCPUs: 100 = all vCPUs busy */
    double cpu_host_pct;             /* of the whole host's CPUs */
    double steal_pct;                /* vCPU run-queue delay, % of its vCPU time */
    double mem_max_kib;              /* maximum balloon */
    double mem_cur_kib;              /* current balloon (guest memory size) */
    double mem_used_kib;             /* guest-reported: cur/available - usable */
    double mem_used_pct;             /* guest-reported used, % of available */
    double mem_rss_kib;              /* host-side resident set of the QEMU process */
    double disk_rd_bytes_per_s, disk_wr_bytes_per_s;  /* sums over disks */
    double disk_rd_iops, disk_wr_iops;
    double disk_rd_lat_ms, disk_wr_lat_ms;
    double net_rx_bytes_per_s, net_tx_bytes_per_s;    /* sums over interfaces */
    double net_rx_pkts_per_s, net_tx_pkts_per_s;
    double net_errs_per_s, net_drop_per_s;            /* rx+tx */
    unsigned n_disks, n_nets;
    struct kg_disk disks[KG_DEV_MAX];
    struct kg_net nets[KG_DEV_MAX];
};

/* Sets every figure to KG_NA, names empty, state NOSTATE. */
void kg_vm_init(struct kg_vm *vm);
int kg_vm_encode(const struct kg_vm *vm, char *buf, size_t size);
int kg_vm_decode(const char *json, size_t len, struct kg_vm *out, char *errmsg, size_t errlen);

/* ---- a VM as a viewer judges it ------------------------------------------ */

#define KG_VM_SEEN_ALERTS_MAX 8

/* What a viewer knows of a VM beyond its last sample (kvmgrid-top --json). */
struct kg_vm_seen {
    bool stale;                      /* not updated for its stale_intervals, or said
                                        stale by its agent */
    bool offline;                    /* its host's agent said offline */
    double age_s;                    /* age of its last sample (the viewer's clock
                                        minus ts); KG_NA: unknown */
    unsigned n_alerts;               /* <= KG_VM_SEEN_ALERTS_MAX */
    const char *alerts[KG_VM_SEEN_ALERTS_MAX]; /* borrowed: the names of the alert
                                        kinds it is in ("CPU", "STALE"...) */
    /* the summary's reductions (its columns' names and units), from a summary
     * row or from the VM's own figures; KG_NA: not available */
    double disk_bytes_per_s, net_bytes_per_s, disk_lat_ms;
    const char *group;               /* borrowed, raw: its host's group (a reader's
                                        "+" prefix level), NULL or "" none */
    size_t group_len;
};

/* One JSON object for a line of JSON lines: the VM as kg_vm_encode writes it,
 * without "disks" and "nets", with "stale" and "age_s" taken from seen, then
 * "disk_bytes_per_s", "net_bytes_per_s" and "disk_lat_ms" when available,
 * "group" when it has one, "offline" (a boolean) and "alerts" (an array of
 * strings, [] when none).
 * Never contains a newline. Returns the length, KG_EINVAL (as kg_vm_encode, or
 * too many alerts) or KG_ETOOBIG. */
int kg_vm_seen_encode(const struct kg_vm *vm, const struct kg_vm_seen *seen, char *buf,
                      size_t size);

/* ---- host -------------------------------------------------------------- */

struct kg_host {
    int64_t ts_ms;
    char name[KG_NAME_MAX + 1];
    char agent_version[16];
    double interval_s;               /* the agent's sampling interval */
    bool libvirt_ok;                 /* false: the agent cannot read VMs now */
    char libvirt_error[128];         /* why not, when !libvirt_ok */
    char collect_path[16];           /* "bulk", "fallback" or "mixed" */
    double cpus;
    double cpu_pct;
    double mem_total_kib, mem_used_kib, mem_used_pct;
    double load1, load5, load15;
    double disk_rd_bytes_per_s, disk_wr_bytes_per_s;
    double net_rx_bytes_per_s, net_tx_bytes_per_s;
    double vms_running, vms_defined;
};

void kg_host_init(struct kg_host *h);
int kg_host_encode(const struct kg_host *h, char *buf, size_t size);
int kg_host_decode(const char *json, size_t len, struct kg_host *out, char *errmsg, size_t errlen);

/* ---- host summary --------------------------------------------------------- */

/* <prefix>/<host>/summary: the host's figures (the metrics payload's fields,
 * its name under "host") and one compact row per VM, for readers that take no
 * per-VM topics (a central wall behind site bridges). Rows are arrays whose
 * cells "cols" names; a figure that is not available is null there, the one
 * place the protocol has null (a row cannot leave a cell out).
 *
 * Encoding is incremental, straight into the caller's buffer (no allocation,
 * nothing per VM): kg_summary_begin, kg_summary_add (or _add_row) per VM,
 * kg_summary_end. A row that would push the payload over the buffer (at most
 * KG_SUMMARY_MAX) is left out and counted in "vms_omitted", so a summary is
 * always published, complete up to its limit. Rounding: percentages to 0.1,
 * bytes/s to integers, latency to 0.01 ms (the per-VM topics keep 3 decimals).
 *
 * Decoding is as strict as the other payloads (schema.h's top), bounded by
 * KG_SUMMARY_MAX, and hands the rows to a callback one at a time, only once the
 * whole payload is known to be valid: a reader never applies half a summary,
 * and needs no array of rows. It reads the bytes (no tree, no allocation).
 * Errors name the row and column:
 * field "vms[12].cpu_pct": -1 is outside 0..100. */

#define KG_SUMMARY_MAX 1048576        /* bytes, a summary payload */
#define KG_SUMMARY_COLS_MAX 32        /* columns a decoder takes */
#define KG_SUMMARY_COL_MAX 32         /* bytes of a column name, incl. NUL */

/* One VM's row. */
struct kg_summary_vm {
    char name[KG_NAME_MAX + 1];      /* libvirt domain name (as in its VM topic's payload) */
    enum kg_vm_state state;
    bool stale;                      /* the agent's statistics did not come back in time */
    double cpu_pct;                  /* of its own vCPUs */
    double mem_used_pct;             /* guest-reported */
    double disk_bytes_per_s;         /* read + write */
    double net_bytes_per_s;          /* rx + tx */
    double steal_pct;
    double disk_lat_ms;              /* the larger of the read and write latency */
};

/* The row of a VM: its name, state, staleness, and the sums and maxima above
 * (a sum of one available and one absent figure is the available one; both
 * absent: KG_NA), as the wall computes them from a VM payload. */
void kg_summary_vm_of(const struct kg_vm *vm, struct kg_summary_vm *out);

/* A decoded summary's top level. */
struct kg_summary {
    struct kg_host host;             /* host.name is the "host" field */
    unsigned n_vms;                  /* rows in "vms" */
    unsigned vms_omitted;            /* rows the publisher left out (size limit) */
};

/* Encoder state: fill with kg_summary_begin; the fields are the encoder's. */
struct kg_summary_writer {
    char *buf;                       /* borrowed: the caller's buffer */
    size_t cap;                      /* bytes usable, less the room kept for the end */
    size_t len;
    unsigned n_vms;                  /* rows written */
    unsigned omitted;                /* rows left out; a caller may add its own */
    int rc;                          /* 0, or the error that ended the summary */
};

/* Starts a summary of host h (borrowed for the call; h->name required, its
 * figures as kg_host_encode writes them) in buf[size] (borrowed until
 * kg_summary_end; at most KG_SUMMARY_MAX of it is used). 0, KG_EINVAL (no
 * buffer, empty or bad host name, bad ts) or KG_ETOOBIG (not even the header
 * fits). */
int kg_summary_begin(struct kg_summary_writer *w, char *buf, size_t size,
                     const struct kg_host *h);
/* Adds a row: 0; KG_ETOOBIG (it did not fit) or KG_EINVAL (empty name, bad
 * state), the row left out and counted in omitted; KG_ESTATE after a failed
 * begin. */
int kg_summary_add_row(struct kg_summary_writer *w, const struct kg_summary_vm *row);
/* kg_summary_add_row(w, the row of vm). */
int kg_summary_add(struct kg_summary_writer *w, const struct kg_vm *vm);
/* Ends the summary: returns its length (buf is NUL-terminated, always accepted
 * by kg_summary_decode), or the error of kg_summary_begin. */
int kg_summary_end(struct kg_summary_writer *w);

/* Called for each row in order, i from 0; vm borrowed for the call. Non-zero
 * stops the decoder, which returns that value. */
typedef int (*kg_summary_row_fn)(void *ctx, unsigned i, const struct kg_summary_vm *vm);

/* Decodes a summary payload: *out (the header and counts), and each row through
 * fn (may be NULL: only check), after the whole payload was checked. Returns 0,
 * a negative KG_* code with errmsg naming the field (then fn has not run and
 * *out is as kg_host_init leaves it, counts 0), or fn's non-zero value. Rows map
 * their cells by the column names in "cols": unknown columns are ignored, cols
 * without "name", "state" and "stale", or with a column twice, are refused; each
 * row has exactly as many cells as cols. Thread-safe; fn runs on the calling
 * thread. */
int kg_summary_decode(const char *json, size_t len, struct kg_summary *out,
                      kg_summary_row_fn fn, void *ctx, char *errmsg, size_t errlen);

/* ---- load generator ---------------------------------------------------- */

enum kg_load_kind { KG_LOAD_NONE = 0, KG_LOAD_CPU, KG_LOAD_MEM, KG_LOAD_DISK };
const char *kg_load_kind_name(enum kg_load_kind k);       /* "none" "cpu" "mem" "disk" */
/* Returns 0, or KG_EINVAL for a name not in the list above. */
int kg_load_kind_parse(const char *name, size_t len, enum kg_load_kind *out);

enum kg_load_verb { KG_LOAD_START = 1, KG_LOAD_SCENARIO, KG_LOAD_STOP, KG_LOAD_STATUS };
enum kg_disk_mode { KG_DISK_WRITE = 0, KG_DISK_READ, KG_DISK_RW };
const char *kg_load_verb_name(enum kg_load_verb v);  /* "start" "scenario" "stop" "status" */
const char *kg_disk_mode_name(enum kg_disk_mode m);  /* "write" "read" "rw" */

/* One load: used by commands, scenario steps and the state. */
struct kg_load_spec {
    enum kg_load_kind kind;
    double duration_s;               /* NA = the node's configured default */
    /* cpu */
    double workers;                  /* NA = number of CPUs */
    double pct;                      /* duty cycle per worker, 0..100 */
    double ramp_to_pct;              /* NA = no ramp: pct -> ramp_to_pct over duration */
    /* mem */
    double mib;
    double dirty_mib_per_s;          /* NA or 0 = touch once and hold */
    /* disk */
    enum kg_disk_mode disk_mode;
    double mb_per_s;                 /* NA = as fast as possible (MB = 10^6 bytes) */
    double block_kib;                /* NA = 1024 */
    bool direct;                     /* O_DIRECT instead of fsync per block */
};

struct kg_load_cmd {
    enum kg_load_verb verb;
    char id[64];                     /* optional, echoed in the state ("" if none) */
    struct kg_load_spec spec;        /* KG_LOAD_START */
    char scenario[64];               /* KG_LOAD_SCENARIO: a shipped scenario's name */
};

void kg_load_spec_init(struct kg_load_spec *s);
/* Zeroes the command: verb 0 (none yet), id and scenario "", spec as kg_load_spec_init. */
void kg_load_cmd_init(struct kg_load_cmd *c);
/* A scenario name on the wire: 1..63 bytes of [A-Za-z0-9._-], not starting with
 * '.', so that a load generator can map it to a file safely. */
bool kg_scenario_name_valid(const char *name);
int kg_load_cmd_encode(const struct kg_load_cmd *c, char *buf, size_t size);
/* Syntax only; the load generator applies its caps afterwards. */
int kg_load_cmd_decode(const char *json, size_t len, struct kg_load_cmd *out,
                       char *errmsg, size_t errlen);

enum kg_load_status { KG_LOADST_IDLE = 0, KG_LOADST_RUNNING, KG_LOADST_OFFLINE };
const char *kg_load_status_name(enum kg_load_status s);  /* "idle" "running" "offline" */

struct kg_load_state {
    int64_t ts_ms;
    char node[KG_NAME_MAX + 1];
    enum kg_load_status status;      /* "idle" | "running" | "offline" */
    char id[64];                     /* id of the command being run */
    char scenario[64];               /* "" unless a scenario runs */
    unsigned step, steps;            /* scenario progress (1-based step) */
    struct kg_load_spec spec;        /* what runs now (kind NONE when idle) */
    double elapsed_s, progress_pct;
    double cpu_pct;                  /* achieved: CPU time used / wall time, per worker avg */
    double mem_resident_mib;         /* achieved */
    double disk_wr_mb_per_s, disk_rd_mb_per_s;  /* achieved */
    char last_reject_id[64];         /* last rejected command ("" if none) */
    char last_reject[160];           /* and why */
};

void kg_load_state_init(struct kg_load_state *s);
int kg_load_state_encode(const struct kg_load_state *s, char *buf, size_t size);
int kg_load_state_decode(const char *json, size_t len, struct kg_load_state *out,
                         char *errmsg, size_t errlen);

#endif
