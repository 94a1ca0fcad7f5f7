/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's table: the model's VMs taken as rows (names as displays show
 * them, figures, state, stale, offline and alert marks), filtered by host and
 * alerts, sorted by a column, and written as fixed-width text lines of a given
 * number of terminal columns (wide characters counted by kg_text_fit), and as
 * JSON lines. The terminal (top.c) and the plain outputs (--once, --json) both
 * read rows from here, so the screen and the table print the same things.
 * Pure module: no terminal, no SDL, never logs. Main thread only; the model is
 * read with its lock held by the caller.
 */
#ifndef KG_VIEWER_TOP_TABLE_H
#define KG_VIEWER_TOP_TABLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "colour.h"
#include "model.h"

/* Sort keys: the first five in enum colour_metric's order (keys 1-5, as the
 * wall's metric keys). */
enum top_sort {
    TOP_SORT_CPU = 0, TOP_SORT_MEM, TOP_SORT_DISK, TOP_SORT_NET, TOP_SORT_STEAL,
    TOP_SORT_STATE, TOP_SORT_AGE, TOP_SORT_NAME,
    TOP_SORT_COUNT
};

/* The config choices, in enum top_sort's order: "cpu" ... "name" (NULL-ended). */
extern const char *const top_sort_keys[];

enum top_col {
    TOP_COL_HOST = 0, TOP_COL_VM, TOP_COL_STATE, TOP_COL_CPU, TOP_COL_MEM, TOP_COL_DISK,
    TOP_COL_NET, TOP_COL_STEAL, TOP_COL_AGE, TOP_COL_MARKS,
    TOP_COLS
};

struct top_row {
    uint32_t host_off, vm_off;      /* display names (kg_text_visible) in the table's text */
    uint16_t host_len, vm_len;      /* their bytes */
    uint32_t host_raw, vm_raw;      /* the names as received, in the table's text */
    uint16_t host_raw_len, vm_raw_len;
    uint32_t group_raw;             /* its host's group, in the text (group_raw_len 0: none) */
    uint16_t group_raw_len;
    uint16_t host_w, vm_w;          /* their terminal columns */
    uint8_t state;                  /* enum kg_vm_state */
    uint8_t alerts;                 /* struct alerts_vm's active bits */
    bool stale;                     /* stale by time or by its agent */
    bool offline;                   /* its host's agent said offline */
    double value[COLOUR_METRIC_COUNT]; /* model_vm_value per metric; NaN: none */
    double age_s;                   /* now minus its sample time; NaN: unknown */
    int64_t ts_ms;                  /* sample time, epoch ms */
    float fig[MODEL_FIG_COUNT];     /* every figure, for JSON */
};

struct top_counts {
    uint32_t hosts, hosts_offline, hosts_stale;
    uint32_t vms, vms_alert, vms_stale, vms_offline;
    uint32_t shown;                 /* rows after the filters */
};

struct top_table {
    struct top_row *rows;           /* owned */
    size_t n, cap;
    char *text;                     /* owned: the rows' names, each NUL-terminated */
    size_t text_len, text_cap;
    struct top_counts counts;
};

/* What is shown: VMs of hosts matching host (NULL or "": all), only those in
 * alert. */
struct top_filter {
    const char *host;
    bool alerts_only;
};

/* True when a host shown as name matches pattern: a glob (fnmatch, when the
 * pattern holds '*', '?' or '['), else a substring; ASCII letters match either
 * case. An empty pattern matches everything. */
bool top_filter_match(const char *pattern, const char *name);

/* Takes the rows of m that pass f (NULL: all), in no order, and the counts of
 * m->counts (model_tick's: call it first), at now_real_ms (epoch ms, for the
 * age). Lock held. 0 or KG_ENOMEM (the table is then empty). */
int top_table_take(struct top_table *t, const struct model *m, const struct top_filter *f,
                   int64_t now_real_ms);
/* Likewise, only of the VM slots slots[0..n) (repeats and slots no longer live
 * are skipped), in no order: the VMs a dirty list names. Lock held. */
int top_table_take_slots(struct top_table *t, const struct model *m, const struct top_filter *f,
                         const uint32_t *slots, size_t n, int64_t now_real_ms);
void top_table_free(struct top_table *t);

/* Sorts the rows by key: figures and age largest first, state by name, name by
 * host then VM (natural order). reverse turns the key's order round; rows without
 * the figure stay last either way, and ties go by host and VM name. */
void top_table_sort(struct top_table *t, enum top_sort by, bool reverse);

const char *top_row_host(const struct top_table *t, const struct top_row *r);
const char *top_row_vm(const struct top_table *t, const struct top_row *r);

/* The MARKS column: "! " and the alert kinds (as the wall names them: "! CPU MEM",
 * "! STALE", "! OFFLINE"), then "stale" / "offline" when they hold without being
 * alerts (their rules off); "" for none. Returns buf. */
char *top_row_marks(const struct top_row *r, char *buf, size_t size);

/* Column widths in terminal columns (the MARKS column takes the rest). */
struct top_layout {
    int w[TOP_COLS];
    int x[TOP_COLS];                /* first column of each */
    int width;                      /* the line's width */
};

/* Lays the columns out for lines of width terminal columns (any width >= 0;
 * 0: as wide as the rows need, for plain output): the host and VM columns take
 * their widest name (within bounds) and give way first when space is short;
 * what still does not fit is cut at the right edge by top_table_line. */
void top_table_layout(const struct top_table *t, int width, struct top_layout *lo);

/* The heading line of lo ("HOST  VM  STATE  CPU% ..."), cut as top_table_line
 * cuts rows. Returns its bytes. */
size_t top_table_heading(const struct top_layout *lo, char *buf, size_t size);
/* Row r as one line of lo: names padded (wide characters counted) or cut to
 * their columns, figures right-aligned ("42.5", "12.3 kB/s", "-" for none), age
 * as "45s" / "12m" / "3h05m", the marks. Cut to lo->width columns when it is
 * not 0; trailing blanks dropped. Returns its bytes (NUL-terminated in buf). */
size_t top_table_line(const struct top_table *t, const struct top_row *r,
                      const struct top_layout *lo, char *buf, size_t size);

/* One JSON object for row r (kg_vm_seen_encode: the VM as on the wire, its
 * stale, offline, alerts and age_s as the viewer judges them), no newline.
 * Returns its length or a KG_* code. */
int top_table_json(const struct top_table *t, const struct top_row *r, char *buf, size_t size);

/* The sort key's name ("cpu" ...), and its column. */
const char *top_sort_key(enum top_sort by);
enum top_col top_sort_col(enum top_sort by);

#endif
