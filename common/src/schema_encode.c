/* SPDX-License-Identifier: MIT */
/*
 * The metric schema's encoder: host, VM, load-command and load-state structs to
 * compact JSON, by walking the field tables of schema.c. It writes straight into
 * the caller's buffer (no cJSON tree: the agent publishes thousands of payloads
 * per interval). Pure: no logging, no global state.
 */
#include "kvmgrid/schema.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "schema_private.h"

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


static unsigned get_enum(const void *p)
{
    unsigned v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Writes the members of table tab found at base. skip: flags whose fields are left
 * out. strict: a number out of range is KG_ERANGE instead of "not available". */
static int encode_fields(struct wbuf *w, const struct table *tab, const void *base, unsigned skip,
                         bool strict)
{
    const struct field *t = tab->fields;
    size_t n = tab->n;
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
            if ((f->flags & F_UUID) && !kg_schema__uuid_valid(s))
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
    return encode_fields(w, &kg_schema__spec, s, s->kind == KG_LOAD_DISK ? 0u : F_DISK, true);
}

static int vm_encode_once(const struct kg_vm *vm, char *buf, size_t size, bool devices)
{
    struct wbuf w;
    w_begin(&w, buf, size);
    int rc = encode_fields(&w, &kg_schema__vm, vm, 0, false);
    if (rc)
        return rc;
    if (devices && vm->n_disks) {
        w_key(&w, "disks");
        w_ch(&w, '[');
        for (unsigned i = 0; i < vm->n_disks && rc == 0; i++) {
            w_mem(&w, i ? ",{" : "{", i ? 2 : 1);
            w.first = true;
            rc = encode_fields(&w, &kg_schema__disk, &vm->disks[i], 0, false);
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
            rc = encode_fields(&w, &kg_schema__net, &vm->nets[i], 0, false);
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

int kg_vm_seen_encode(const struct kg_vm *vm, const struct kg_vm_seen *seen, char *buf,
                      size_t size)
{
    if (!vm || !seen || !buf || seen->n_alerts > KG_VM_SEEN_ALERTS_MAX)
        return KG_EINVAL;
    if (size == 0)
        return KG_ETOOBIG;
    struct kg_vm v = *vm;
    v.stale = seen->stale;
    v.age_s = seen->age_s;
    v.n_disks = v.n_nets = 0;
    struct wbuf w;
    w_begin(&w, buf, size);
    int rc = encode_fields(&w, &kg_schema__vm, &v, 0, false);
    static const char *const sums[] = {"disk_bytes_per_s", "net_bytes_per_s", "disk_lat_ms"};
    const double sv[] = {seen->disk_bytes_per_s, seen->net_bytes_per_s, seen->disk_lat_ms};
    for (size_t i = 0; i < sizeof sums / sizeof sums[0] && rc == 0; i++) {
        if (!(sv[i] >= 0 && sv[i] <= QMAX))
            continue; /* not available (NaN), or nothing a figure can be */
        char d[32];
        w_key(&w, sums[i]);
        w_mem(&w, d, put_num(d, sv[i], i < 2));
    }
    if (rc == 0 && seen->group && seen->group_len > 0) {
        w_key(&w, "group");
        rc = w_str(&w, seen->group, seen->group_len, KG_NAME_MAX * 3, false);
    }
    if (rc == 0) {
        w_key(&w, "offline");
        w_mem(&w, seen->offline ? "true" : "false", seen->offline ? 4 : 5);
        w_key(&w, "alerts");
        w_ch(&w, '[');
        for (unsigned i = 0; i < seen->n_alerts && rc == 0; i++) {
            if (i > 0)
                w_ch(&w, ',');
            const char *a = seen->alerts[i] ? seen->alerts[i] : "";
            rc = w_str(&w, a, strlen(a), 64, false);
        }
        w_ch(&w, ']');
    }
    if (rc == 0)
        rc = w_end(&w);
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
    int rc = encode_fields(&w, &kg_schema__host, h, 0, false);
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
    int rc = encode_fields(&w, &kg_schema__cmd, c, c->verb == KG_LOAD_SCENARIO ? 0u : F_SCEN, true);
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
    int rc = encode_fields(&w, &kg_schema__state, s, 0, false);
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


/* ---- host summary ---------------------------------------------------------- */

/* What kg_summary_end adds after the last row: ],"vms_omitted":4294967295} and
 * the NUL; kept free while rows are added, so that the end always fits. */
#define SUMMARY_TAIL ((size_t)40)

int kg_summary_begin(struct kg_summary_writer *w, char *buf, size_t size,
                     const struct kg_host *h)
{
    if (!w)
        return KG_EINVAL;
    memset(w, 0, sizeof *w);
    w->rc = KG_EINVAL;
    if (!buf || !h)
        return w->rc;
    w->rc = KG_ETOOBIG;
    if (size == 0)
        return w->rc;
    buf[0] = '\0';
    size_t lim = size < (size_t)KG_SUMMARY_MAX + 1 ? size : (size_t)KG_SUMMARY_MAX + 1;
    if (lim < SUMMARY_TAIL + 64)
        return w->rc;
    struct kg_summary s = {.host = *h};
    struct wbuf b = {buf, 0, lim - SUMMARY_TAIL, false, true};
    w_ch(&b, '{');
    int rc = encode_fields(&b, &kg_schema__summary, &s, 0, false);
    if (rc) {
        buf[0] = '\0';
        return w->rc = rc;
    }
    w_key(&b, "cols");
    w_ch(&b, '[');
    for (size_t i = 0; i < kg_schema__summary_cols.n; i++) {
        const char *k = kg_schema__summary_cols.fields[i].key;
        if (i)
            w_ch(&b, ',');
        w_ch(&b, '"');
        w_mem(&b, k, strlen(k));
        w_ch(&b, '"');
    }
    w_mem(&b, "],\"vms\":[", 9);
    if (b.full) {
        buf[0] = '\0';
        return w->rc;
    }
    w->buf = buf;
    w->len = b.len;
    w->cap = b.cap;
    w->rc = 0;
    return 0;
}

/* A cell: null when absent or out of range, else rounded as its column says. */
static size_t put_cell(char *d, const struct field *f, double v)
{
    if ((f->flags & F_PCT) && isfinite(v))
        v = v < 0 ? 0 : v > 100 ? 100 : v;
    if (isnan(v) || !isfinite(v) || v < f->min || v > f->max) {
        memcpy(d, "null", 4);
        return 4;
    }
    unsigned scale = f->flags & F_DEC1 ? 10u : f->flags & F_DEC2 ? 100u : 1u;
    if (scale == 1 || v >= 1e6)
        return put_u64(d, (uint64_t)(v + 0.5));
    uint64_t m = (uint64_t)(v * scale + 0.5);
    size_t n = put_u64(d, m / scale);
    unsigned frac = (unsigned)(m % scale);
    if (frac) {
        d[n++] = '.';
        if (scale == 100) {
            d[n++] = (char)('0' + frac / 10);
            frac %= 10;
        }
        if (frac)
            d[n++] = (char)('0' + frac);
    }
    return n;
}

int kg_summary_add_row(struct kg_summary_writer *w, const struct kg_summary_vm *row)
{
    if (!w || !w->buf || w->rc)
        return KG_ESTATE;
    const struct field *c = kg_schema__summary_cols.fields;
    size_t nc = kg_schema__summary_cols.n;
    struct wbuf b = {w->buf, w->len, w->cap, false, true};
    if (w->n_vms)
        w_ch(&b, ',');
    w_ch(&b, '[');
    int rc = 0;
    if (row->state >= KG_VM_STATE_COUNT)
        rc = KG_EINVAL;
    size_t nl = strnlen(row->name, sizeof row->name);
    if (nl == 0 || nl == sizeof row->name)
        rc = KG_EINVAL;
    if (rc == 0)
        rc = w_str(&b, row->name, nl, KG_NAME_MAX, true);
    if (rc == 0) {
        const char *st = kg_vm_state_name(row->state);
        w_mem(&b, ",\"", 2);
        w_mem(&b, st, strlen(st));
        w_mem(&b, row->stale ? "\",true" : "\",false", row->stale ? 6 : 7);
        for (size_t i = 3; i < nc; i++) {
            double v;
            memcpy(&v, (const char *)row + c[i].off, sizeof v);
            char cell[NUM_MAX + 1];
            cell[0] = ',';
            w_mem(&b, cell, 1 + put_cell(cell + 1, &c[i], v));
        }
        w_ch(&b, ']');
        if (b.full)
            rc = KG_ETOOBIG;
    }
    if (rc) {
        w->omitted++;
        return rc;
    }
    w->len = b.len;
    w->n_vms++;
    return 0;
}

int kg_summary_add(struct kg_summary_writer *w, const struct kg_vm *vm)
{
    if (!vm)
        return KG_EINVAL;
    struct kg_summary_vm row;
    kg_summary_vm_of(vm, &row);
    return kg_summary_add_row(w, &row);
}

int kg_summary_end(struct kg_summary_writer *w)
{
    if (!w)
        return KG_EINVAL;
    if (!w->buf || w->rc)
        return w->rc ? w->rc : KG_ESTATE;
    /* the room kept back: the cap excluded SUMMARY_TAIL bytes */
    struct wbuf b = {w->buf, w->len, w->cap + SUMMARY_TAIL - 1, false, false};
    w_ch(&b, ']');
    if (w->omitted) {
        const struct field *f = &kg_schema__summary.fields[kg_schema__summary.n - 1];
        w_member_u64(&b, f, w->omitted);
    }
    int len = w_end(&b);
    w->rc = len < 0 ? len : KG_ESTATE; /* ended: no more rows */
    return len;
}
