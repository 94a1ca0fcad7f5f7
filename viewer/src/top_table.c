/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's table (top_table.h): rows from the model, filters, sorting,
 * column widths and the text and JSON of a row. Not the terminal.
 */
#include "top_table.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/text.h"
#include "layout.h"

const char *const top_sort_keys[] = {"cpu", "mem", "disk", "net", "steal", "state", "age",
                                     "name", NULL};

static const char *const heads[TOP_COLS] = {"HOST", "VM", "STATE", "CPU%", "MEM%", "DISK",
                                            "NET", "STEAL%", "AGE", "MARKS"};
/* the fixed columns' widths: "pmsuspended", "100.0", "999.9 MB/s", "372d05h" */
#define W_STATE 11
#define W_PCT 6
#define W_RATE 10
#define W_AGE 7
#define W_MARKS 5      /* "MARKS"; longer marks run to the line's end */
#define W_NAME_MIN 4   /* a name column never narrower: "HOST" */
#define W_HOST_MAX 32  /* wider names are cut on screen (not in plain output) */
#define W_VM_MAX 40

const char *top_sort_key(enum top_sort by)
{
    return (unsigned)by < TOP_SORT_COUNT ? top_sort_keys[by] : "?";
}

enum top_col top_sort_col(enum top_sort by)
{
    static const enum top_col cols[TOP_SORT_COUNT] = {
        TOP_COL_CPU, TOP_COL_MEM, TOP_COL_DISK, TOP_COL_NET, TOP_COL_STEAL, TOP_COL_STATE,
        TOP_COL_AGE, TOP_COL_HOST};
    return (unsigned)by < TOP_SORT_COUNT ? cols[by] : TOP_COL_HOST;
}

/* ---- filter -------------------------------------------------------------- */

static void lower_copy(const char *s, char *out, size_t size)
{
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

bool top_filter_match(const char *pattern, const char *name)
{
    if (pattern == NULL || pattern[0] == '\0')
        return true;
    char p[4 * KG_NAME_MAX + 1], n[4 * KG_NAME_MAX + 1];
    lower_copy(pattern, p, sizeof(p));
    lower_copy(name, n, sizeof(n));
    if (strpbrk(p, "*?[") != NULL)
        return fnmatch(p, n, 0) == 0;
    return strstr(n, p) != NULL;
}

/* ---- rows ------------------------------------------------------------------ */

/* Appends len bytes and a NUL to the text; its offset, or UINT32_MAX. */
static uint32_t text_add(struct top_table *t, const char *s, size_t len)
{
    if (t->text_len + len + 1 > t->text_cap) {
        size_t cap = t->text_cap ? t->text_cap : 4096;
        while (cap < t->text_len + len + 1)
            cap *= 2;
        char *nt = realloc(t->text, cap);
        if (nt == NULL || cap > UINT32_MAX)
            return UINT32_MAX;
        t->text = nt;
        t->text_cap = cap;
    }
    uint32_t off = (uint32_t)t->text_len;
    memcpy(t->text + off, s, len);
    t->text[off + len] = '\0';
    t->text_len += len + 1;
    return off;
}

/* The display form of name into the text: *off, *len, *w. False: no memory. */
static bool add_display(struct top_table *t, const char *name, size_t len, uint32_t *off,
                        uint16_t *dlen, uint16_t *w)
{
    char vis[8 * KG_NAME_MAX + 8];
    size_t n = kg_text_visible(name, len, vis, sizeof(vis)), cols = 0;
    kg_text_fit(vis, n, SIZE_MAX, &cols);
    *off = text_add(t, vis, n);
    *dlen = (uint16_t)n;
    *w = (uint16_t)(cols < UINT16_MAX ? cols : UINT16_MAX);
    return *off != UINT32_MAX;
}

/* A host's name as shown: after its group's and a '/' when it has one (raw
 * bytes, into buf of 2 * KG_NAME_MAX + 2). Returns the length. */
static size_t host_joined(const struct model *m, const struct model_host *h, char *buf)
{
    const struct model_group *g = &m->groups[h->group];
    size_t n = 0;
    if (g->name_len > 0) {
        memcpy(buf, g->name, g->name_len);
        n = g->name_len;
        buf[n++] = '/';
    }
    memcpy(buf + n, h->name, h->name_len);
    return n + h->name_len;
}

static bool add_row(struct top_table *t, const struct model *m, const struct model_vm *v,
                    uint32_t idx, int64_t now_real_ms)
{
    const struct model_host *h = &m->hosts[v->host];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct top_row *nr = realloc(t->rows, cap * sizeof(*nr));
        if (nr == NULL)
            return false;
        t->rows = nr;
        t->cap = cap;
    }
    struct top_row *r = &t->rows[t->n];
    memset(r, 0, sizeof(*r));
    char hj[2 * KG_NAME_MAX + 2];
    size_t hjl = host_joined(m, h, hj);
    if (!add_display(t, hj, hjl, &r->host_off, &r->host_len, &r->host_w) ||
        !add_display(t, v->name, v->name_len, &r->vm_off, &r->vm_len, &r->vm_w))
        return false;
    r->host_raw = text_add(t, h->name, h->name_len);
    r->vm_raw = text_add(t, v->name, v->name_len);
    if (r->host_raw == UINT32_MAX || r->vm_raw == UINT32_MAX)
        return false;
    r->host_raw_len = h->name_len;
    r->vm_raw_len = v->name_len;
    const struct model_group *gr = &m->groups[h->group];
    if (gr->name_len > 0) {
        r->group_raw = text_add(t, gr->name, gr->name_len);
        if (r->group_raw == UINT32_MAX)
            return false;
        r->group_raw_len = gr->name_len;
    }
    r->state = v->state;
    r->alerts = model_vm_alerts(m, idx)->active;
    r->stale = (v->flags & (MODEL_VM_STALE | MODEL_VM_AGENT_STALE)) != 0;
    r->offline = h->status == MODEL_HOST_OFFLINE;
    for (int k = 0; k < COLOUR_METRIC_COUNT; k++)
        r->value[k] = model_vm_value(v, (enum colour_metric)k);
    r->ts_ms = v->ts_ms;
    r->age_s = v->ts_ms > 0 ? (double)(now_real_ms > v->ts_ms ? now_real_ms - v->ts_ms : 0) / 1000.0
                            : (double)NAN;
    memcpy(r->fig, v->fig, sizeof(r->fig));
    t->n++;
    return true;
}

/* Empties t and copies m's counts. */
static void take_begin(struct top_table *t, const struct model *m)
{
    t->n = 0;
    t->text_len = 0;
    memset(&t->counts, 0, sizeof(t->counts));
    const struct model_counts *c = &m->counts;
    t->counts.hosts = c->hosts;
    t->counts.hosts_offline = c->hosts_offline;
    t->counts.hosts_stale = c->hosts_stale;
    t->counts.vms = c->vms;
    t->counts.vms_alert = c->vms_alert;
    t->counts.vms_stale = c->vms_stale;
    t->counts.vms_offline = c->vms_offline;
}

static bool host_passes(const struct model *m, const struct top_filter *f, uint32_t hi)
{
    if (f == NULL || f->host == NULL || f->host[0] == '\0')
        return true;
    char hj[2 * KG_NAME_MAX + 2], vis[8 * KG_NAME_MAX + 8];
    size_t hjl = host_joined(m, &m->hosts[hi], hj);
    kg_text_visible(hj, hjl, vis, sizeof(vis));
    return top_filter_match(f->host, vis);
}

static int take_fail(struct top_table *t)
{
    t->n = 0;
    t->text_len = 0;
    t->counts.shown = 0;
    return KG_ENOMEM;
}

int top_table_take(struct top_table *t, const struct model *m, const struct top_filter *f,
                   int64_t now_real_ms)
{
    take_begin(t, m);
    for (uint32_t hi = 0; hi < m->n_hosts; hi++) {
        const struct model_host *h = &m->hosts[hi];
        if (!host_passes(m, f, hi))
            continue;
        for (uint32_t k = 0; k < h->n_vms; k++) {
            uint32_t idx = h->vms[k];
            const struct model_vm *v = &m->vms[idx];
            if (!(v->flags & MODEL_VM_LIVE))
                continue;
            if (f != NULL && f->alerts_only && !model_vm_in_alert(m, idx))
                continue;
            if (!add_row(t, m, v, idx, now_real_ms))
                return take_fail(t);
        }
    }
    t->counts.shown = (uint32_t)t->n;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int top_table_take_slots(struct top_table *t, const struct model *m, const struct top_filter *f,
                         const uint32_t *slots, size_t n, int64_t now_real_ms)
{
    take_begin(t, m);
    uint32_t *s = n ? malloc(n * sizeof(*s)) : NULL;
    if (n && s == NULL)
        return take_fail(t);
    if (n)
        memcpy(s, slots, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_u32);
    for (size_t i = 0; i < n; i++) {
        uint32_t idx = s[i];
        if ((i > 0 && s[i - 1] == idx) || idx >= m->n_vm_slots)
            continue;
        const struct model_vm *v = &m->vms[idx];
        if (!(v->flags & MODEL_VM_LIVE) || !host_passes(m, f, v->host))
            continue;
        if (f != NULL && f->alerts_only && !model_vm_in_alert(m, idx))
            continue;
        if (!add_row(t, m, v, idx, now_real_ms)) {
            free(s);
            return take_fail(t);
        }
    }
    free(s);
    t->counts.shown = (uint32_t)t->n;
    return 0;
}

void top_table_free(struct top_table *t)
{
    if (t == NULL)
        return;
    free(t->rows);
    free(t->text);
    memset(t, 0, sizeof(*t));
}

const char *top_row_host(const struct top_table *t, const struct top_row *r)
{
    return t->text + r->host_off;
}

const char *top_row_vm(const struct top_table *t, const struct top_row *r)
{
    return t->text + r->vm_off;
}

/* ---- sorting --------------------------------------------------------------- */

/* qsort has no context argument: the table and key of the sort in progress
 * (main thread only, see top_table.h). */
static const struct top_table *sort_t;
static enum top_sort sort_by;
static bool sort_reverse;

static int cmp_names(const struct top_row *a, const struct top_row *b)
{
    int c = layout_name_cmp(sort_t->text + a->host_off, a->host_len, sort_t->text + b->host_off,
                            b->host_len);
    if (c == 0)
        c = layout_name_cmp(sort_t->text + a->vm_off, a->vm_len, sort_t->text + b->vm_off,
                            b->vm_len);
    return c;
}

/* Larger first; NaN after any number whatever the direction. */
static int cmp_num(double x, double y, bool reverse)
{
    bool nx = isnan(x), ny = isnan(y);
    if (nx || ny)
        return nx - ny;
    int c = x > y ? -1 : x < y;
    return reverse ? -c : c;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const struct top_row *a = pa, *b = pb;
    int c = 0;
    switch (sort_by) {
    case TOP_SORT_CPU: case TOP_SORT_MEM: case TOP_SORT_DISK: case TOP_SORT_NET:
    case TOP_SORT_STEAL:
        c = cmp_num(a->value[sort_by], b->value[sort_by], sort_reverse);
        break;
    case TOP_SORT_AGE:
        c = cmp_num(a->age_s, b->age_s, sort_reverse);
        break;
    case TOP_SORT_STATE:
        c = strcmp(kg_vm_state_name((enum kg_vm_state)a->state),
                   kg_vm_state_name((enum kg_vm_state)b->state));
        c = sort_reverse ? -c : c;
        break;
    case TOP_SORT_NAME:
    default:
        c = cmp_names(a, b);
        return sort_reverse ? -c : c;
    }
    return c != 0 ? c : cmp_names(a, b);
}

void top_table_sort(struct top_table *t, enum top_sort by, bool reverse)
{
    if (t->n < 2)
        return;
    sort_t = t;
    sort_by = by;
    sort_reverse = reverse;
    qsort(t->rows, t->n, sizeof(*t->rows), cmp_rows);
    sort_t = NULL;
}

/* ---- text ------------------------------------------------------------------ */

char *top_row_marks(const struct top_row *r, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    size_t off = 0;
    if (r->alerts) {
        struct alerts_vm a;
        memset(&a, 0, sizeof(a));
        a.active = r->alerts;
        char kinds[64];
        alerts_vm_kinds(&a, " ", kinds, sizeof(kinds));
        int n = snprintf(buf, size, "! %s", kinds);
        off = n > 0 && (size_t)n < size ? (size_t)n : size - 1;
    }
    if (r->offline && !(r->alerts & (1u << ALERTS_OFFLINE))) {
        int n = snprintf(buf + off, size - off, "%soffline", off ? " " : "");
        off += n > 0 && (size_t)n < size - off ? (size_t)n : 0;
    } else if (r->stale && !(r->alerts & ((1u << ALERTS_STALE) | (1u << ALERTS_OFFLINE)))) {
        snprintf(buf + off, size - off, "%sstale", off ? " " : "");
    }
    return buf;
}

void top_table_layout(const struct top_table *t, int width, struct top_layout *lo)
{
    static const int fixed[TOP_COLS] = {0, 0, W_STATE, W_PCT, W_PCT, W_RATE, W_RATE, W_PCT,
                                        W_AGE, W_MARKS};
    int host = W_NAME_MIN, vm = W_NAME_MIN;
    for (size_t i = 0; i < t->n; i++) {
        if (t->rows[i].host_w > host)
            host = t->rows[i].host_w;
        if (t->rows[i].vm_w > vm)
            vm = t->rows[i].vm_w;
    }
    if (width > 0) {
        host = host < W_HOST_MAX ? host : W_HOST_MAX;
        vm = vm < W_VM_MAX ? vm : W_VM_MAX;
        int rest = TOP_COLS - 1; /* one blank between columns */
        for (int c = TOP_COL_STATE; c < TOP_COLS; c++)
            rest += fixed[c];
        /* short of room: the names give way first, the wider one first, down to
         * W_NAME_MIN; what still does not fit is cut at the right edge */
        while (host + vm + rest > width && (host > W_NAME_MIN || vm > W_NAME_MIN)) {
            if (vm >= host && vm > W_NAME_MIN)
                vm--;
            else
                host--;
        }
    }
    memcpy(lo->w, fixed, sizeof(lo->w));
    lo->w[TOP_COL_HOST] = host;
    lo->w[TOP_COL_VM] = vm;
    int x = 0;
    for (int c = 0; c < TOP_COLS; c++) {
        lo->x[c] = x;
        x += lo->w[c] + 1;
    }
    lo->width = width > 0 ? width : 0;
}

/* A line being written: bytes, and the terminal columns they take. */
struct line {
    char *p;
    size_t len, size;
    int cols;
};

/* Appends s (UTF-8, cols columns of it at most), then blanks up to column to. */
static void put(struct line *l, const char *s, int maxcols, int to)
{
    size_t used = 0, n = kg_text_fit(s, strlen(s), maxcols > 0 ? (size_t)maxcols : 0, &used);
    if (l->len + n + 1 <= l->size) {
        memcpy(l->p + l->len, s, n);
        l->len += n;
        l->cols += (int)used;
    }
    while (l->cols < to && l->len + 2 <= l->size) {
        l->p[l->len++] = ' ';
        l->cols++;
    }
    l->p[l->len] = '\0';
}

/* s right-aligned in column c of lo. */
static void put_right(struct line *l, const struct top_layout *lo, enum top_col c, const char *s)
{
    int w = lo->w[c], n = (int)strlen(s); /* figures are ASCII */
    put(l, "", 0, lo->x[c] + (n < w ? w - n : 0));
    put(l, s, w, lo->x[c] + w);
}

/* Ends the line: cut to lo->width columns, trailing blanks dropped. */
static size_t finish(struct line *l, const struct top_layout *lo)
{
    if (lo->width > 0 && l->cols > lo->width)
        l->len = kg_text_fit(l->p, l->len, (size_t)lo->width, NULL);
    while (l->len > 0 && l->p[l->len - 1] == ' ')
        l->len--;
    l->p[l->len] = '\0';
    return l->len;
}

size_t top_table_heading(const struct top_layout *lo, char *buf, size_t size)
{
    if (size == 0)
        return 0;
    struct line l = {buf, 0, size, 0};
    buf[0] = '\0';
    for (int c = 0; c < TOP_COLS; c++) {
        bool right = c >= TOP_COL_CPU && c <= TOP_COL_AGE;
        if (right)
            put_right(&l, lo, (enum top_col)c, heads[c]);
        else
            put(&l, heads[c], c == TOP_COL_MARKS ? INT32_MAX : lo->w[c], lo->x[c] + lo->w[c] + 1);
        if (right)
            put(&l, "", 0, lo->x[c] + lo->w[c] + 1);
    }
    return finish(&l, lo);
}

static void fmt_pct(double v, char *buf, size_t size)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.1f", v);
}

static void fmt_rate(double v, char *buf, size_t size)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        colour_format_rate(v, buf, size);
}

size_t top_table_line(const struct top_table *t, const struct top_row *r,
                      const struct top_layout *lo, char *buf, size_t size)
{
    if (size == 0)
        return 0;
    struct line l = {buf, 0, size, 0};
    buf[0] = '\0';
    char s[96];
    put(&l, top_row_host(t, r), lo->w[TOP_COL_HOST], lo->x[TOP_COL_VM]);
    put(&l, top_row_vm(t, r), lo->w[TOP_COL_VM], lo->x[TOP_COL_STATE]);
    put(&l, kg_vm_state_name((enum kg_vm_state)r->state), lo->w[TOP_COL_STATE],
        lo->x[TOP_COL_CPU]);
    static const enum top_col metric_col[COLOUR_METRIC_COUNT] = {
        TOP_COL_CPU, TOP_COL_MEM, TOP_COL_DISK, TOP_COL_NET, TOP_COL_STEAL};
    for (int k = 0; k < COLOUR_METRIC_COUNT; k++) {
        if (colour_metric_is_rate((enum colour_metric)k))
            fmt_rate(r->value[k], s, sizeof(s));
        else
            fmt_pct(r->value[k], s, sizeof(s));
        put_right(&l, lo, metric_col[k], s);
    }
    if (isnan(r->age_s))
        snprintf(s, sizeof(s), "-");
    else
        alerts_format_duration((uint64_t)(r->age_s * 1000.0), s, sizeof(s));
    put_right(&l, lo, TOP_COL_AGE, s);
    put(&l, "", 0, lo->x[TOP_COL_MARKS]);
    put(&l, top_row_marks(r, s, sizeof(s)), INT32_MAX, 0);
    return finish(&l, lo);
}

/* ---- JSON ------------------------------------------------------------------ */

static double fig(const struct top_row *r, enum model_fig f)
{
    return (double)r->fig[f];
}

int top_table_json(const struct top_table *t, const struct top_row *r, char *buf, size_t size)
{
    static struct kg_vm v; /* main thread only; 4 kB of device arrays */
    kg_vm_init(&v);
    v.ts_ms = r->ts_ms;
    size_t hl = r->host_raw_len < KG_NAME_MAX ? r->host_raw_len : KG_NAME_MAX;
    size_t vl = r->vm_raw_len < KG_NAME_MAX ? r->vm_raw_len : KG_NAME_MAX;
    memcpy(v.host, t->text + r->host_raw, hl);
    v.host[hl] = '\0';
    memcpy(v.name, t->text + r->vm_raw, vl);
    v.name[vl] = '\0';
    v.state = (enum kg_vm_state)r->state;
    v.vcpus = fig(r, MODEL_FIG_VCPUS);
    v.cpu_pct = fig(r, MODEL_FIG_CPU_PCT);
    v.cpu_host_pct = fig(r, MODEL_FIG_CPU_HOST_PCT);
    v.steal_pct = fig(r, MODEL_FIG_STEAL_PCT);
    v.mem_used_pct = fig(r, MODEL_FIG_MEM_USED_PCT);
    v.mem_used_kib = fig(r, MODEL_FIG_MEM_USED_KIB);
    v.mem_cur_kib = fig(r, MODEL_FIG_MEM_CUR_KIB);
    v.mem_max_kib = fig(r, MODEL_FIG_MEM_MAX_KIB);
    v.mem_rss_kib = fig(r, MODEL_FIG_MEM_RSS_KIB);
    v.disk_rd_bytes_per_s = fig(r, MODEL_FIG_DISK_RD_BPS);
    v.disk_wr_bytes_per_s = fig(r, MODEL_FIG_DISK_WR_BPS);
    v.disk_rd_iops = fig(r, MODEL_FIG_DISK_RD_IOPS);
    v.disk_wr_iops = fig(r, MODEL_FIG_DISK_WR_IOPS);
    v.disk_rd_lat_ms = fig(r, MODEL_FIG_DISK_RD_LAT_MS);
    v.disk_wr_lat_ms = fig(r, MODEL_FIG_DISK_WR_LAT_MS);
    v.net_rx_bytes_per_s = fig(r, MODEL_FIG_NET_RX_BPS);
    v.net_tx_bytes_per_s = fig(r, MODEL_FIG_NET_TX_BPS);
    v.net_rx_pkts_per_s = fig(r, MODEL_FIG_NET_RX_PPS);
    v.net_tx_pkts_per_s = fig(r, MODEL_FIG_NET_TX_PPS);
    v.net_errs_per_s = fig(r, MODEL_FIG_NET_ERRS_PS);
    v.net_drop_per_s = fig(r, MODEL_FIG_NET_DROP_PS);
    struct kg_vm_seen seen;
    memset(&seen, 0, sizeof(seen));
    seen.stale = r->stale;
    seen.offline = r->offline;
    seen.age_s = r->age_s;
    seen.disk_bytes_per_s = fig(r, MODEL_FIG_DISK_BPS);
    seen.net_bytes_per_s = fig(r, MODEL_FIG_NET_BPS);
    seen.disk_lat_ms = fig(r, MODEL_FIG_DISK_LAT_MS);
    if (r->group_raw_len > 0) {
        seen.group = t->text + r->group_raw;
        seen.group_len = r->group_raw_len;
    }
    for (int i = 0; i < ALERTS_KINDS && seen.n_alerts < KG_VM_SEEN_ALERTS_MAX; i++) {
        enum alerts_kind k = alerts_kind_shown(i); /* as the MARKS column lists them */
        if (r->alerts & (1u << k))
            seen.alerts[seen.n_alerts++] = alerts_kind_name(k);
    }
    return kg_vm_seen_encode(&v, &seen, buf, size);
}
