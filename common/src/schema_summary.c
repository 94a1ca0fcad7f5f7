/* SPDX-License-Identifier: MIT */
/*
 * The host summary's decoder (kg_summary_decode): a reader that walks the
 * payload's bytes and builds no tree. A summary is up to KG_SUMMARY_MAX with a
 * row per VM, and a central reader decodes one per host per interval: a cJSON
 * tree would cost an allocation per cell and several times the payload in
 * memory, only to be walked once. The rows are handed to the caller one at a
 * time, from the bytes, once the whole payload has been checked.
 *
 * As strict as the other decoders, with the same messages: it shares their
 * pre-scan (size, depth, UTF-8, escapes, number syntax), schema check and field
 * decoder (schema_decode.c); what cJSON checks for them, the grammar, is
 * checked here. Numbers are read as cJSON reads them (strtod, with the locale's
 * decimal point). Pure: no logging, no global state. Thread-safe.
 */
#include "kvmgrid/schema.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "schema_private.h"

/* Longest string kept: any longer one is refused by every field (the longest,
 * a name, takes KG_NAME_MAX bytes), so its tail is never needed. */
#define STR_KEEP (KG_NAME_MAX + 2)

struct rd {
    const unsigned char *s;
    size_t n, i;
    struct dctx *d;
    char decimal_point;      /* the locale's, which strtod reads */
};

static int peek(struct rd *r)
{
    while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' ||
                           r->s[r->i] == '\r'))
        r->i++;
    return r->i < r->n ? r->s[r->i] : -1;
}

static int bad(struct rd *r)
{
    return dfail(r->d, KG_EPARSE, "invalid JSON near byte %zu", r->i);
}

/* After an element or member: ',' (1: another follows) or close (0: the
 * container ends), consumed; anything else is bad. */
static int next_or_end(struct rd *r, int close)
{
    int c = peek(r);
    if (c != ',' && c != close)
        return bad(r);
    r->i++;
    return c == ',';
}

/* What the value starting with c is, for messages (the grammar is checked). */
static enum jkind kind_at(int c)
{
    switch (c) {
    case '{': return J_OBJECT;
    case '[': return J_ARRAY;
    case '"': return J_STRING;
    case 't': return J_TRUE;
    case 'f': return J_FALSE;
    case 'n': return J_NULL;
    default: return J_NUMBER;
    }
}

static const char *kind_name(enum jkind k)
{
    struct jval v = {k, 0, NULL};
    return kg_schema__type_name(&v);
}

static unsigned hex4(const unsigned char *p)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++)
        v = v * 16 + (unsigned)kg_hex_value(p[k], false);
    return v;
}

/* The string at r->i, unescaped into out[size] (cut at size - 1 bytes: only a
 * string too long for any field is cut); *len its whole unescaped length. The
 * pre-scan has checked its escapes (\u0000 and lone surrogates refused), its
 * UTF-8 and its end. */
static int read_string(struct rd *r, char *out, size_t size, size_t *len)
{
    if (peek(r) != '"')
        return bad(r);
    const unsigned char *s = r->s;
    size_t i = r->i + 1, o = 0;
    for (;;) {
        if (i >= r->n)
            return bad(r);
        unsigned char c = s[i];
        if (c == '"')
            break;
        if (c != '\\') {
            /* a run of plain bytes at once */
            size_t j = i;
            while (j < r->n && s[j] != '"' && s[j] != '\\')
                j++;
            size_t take = o + 1 < size ? (j - i < size - 1 - o ? j - i : size - 1 - o) : 0;
            memcpy(out + o, s + i, take);
            o += j - i;
            i = j;
            continue;
        }
        if (i + 1 >= r->n)
            return bad(r);
        unsigned char e = s[i + 1], u[4];
        size_t k = 1;
        i += 2;
        switch (e) {
        case '"': case '\\': case '/': u[0] = e; break;
        case 'b': u[0] = '\b'; break;
        case 'f': u[0] = '\f'; break;
        case 'n': u[0] = '\n'; break;
        case 'r': u[0] = '\r'; break;
        case 't': u[0] = '\t'; break;
        case 'u': {
            if (r->n - i < 4)
                return bad(r);
            uint32_t cp = hex4(s + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* the pre-scan saw its low half */
                if (r->n - i < 6)
                    return bad(r);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(s + i + 2) - 0xDC00);
                i += 6;
            }
            if (cp < 0x80) {
                u[0] = (unsigned char)cp;
            } else if (cp < 0x800) {
                u[0] = (unsigned char)(0xC0 | cp >> 6);
                u[1] = (unsigned char)(0x80 | (cp & 0x3F));
                k = 2;
            } else if (cp < 0x10000) {
                u[0] = (unsigned char)(0xE0 | cp >> 12);
                u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                u[2] = (unsigned char)(0x80 | (cp & 0x3F));
                k = 3;
            } else {
                u[0] = (unsigned char)(0xF0 | cp >> 18);
                u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                u[3] = (unsigned char)(0x80 | (cp & 0x3F));
                k = 4;
            }
            break;
        }
        default:
            return bad(r);
        }
        for (size_t j = 0; j < k; j++, o++)
            if (o + 1 < size)
                out[o] = (char)u[j];
    }
    if (size)
        out[o < size ? o : size - 1] = '\0';
    *len = o;
    r->i = i + 1;
    return 0;
}

static bool digit(const struct rd *r, size_t i)
{
    return i < r->n && r->s[i] >= '0' && r->s[i] <= '9';
}

/* Exact powers of ten as doubles (10^22 is the last one a double holds). */
static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* A number as JSON writes it, read as cJSON reads it (strtod: the nearest
 * double). out NULL: only its syntax is checked. */
static int read_number(struct rd *r, double *out)
{
    size_t st = r->i, i = st;
    if (i < r->n && r->s[i] == '-')
        i++;
    if (!digit(r, i))
        return bad(r);
    if (r->s[i] == '0') /* no leading zeros */
        i++;
    else
        while (digit(r, i))
            i++;
    if (i < r->n && r->s[i] == '.') {
        if (!digit(r, ++i))
            return bad(r);
        while (digit(r, i))
            i++;
    }
    if (i < r->n && (r->s[i] == 'e' || r->s[i] == 'E')) {
        i++;
        if (i < r->n && (r->s[i] == '+' || r->s[i] == '-'))
            i++;
        if (!digit(r, i))
            return bad(r);
        while (digit(r, i))
            i++;
    }
    char buf[64];
    if (i - st >= sizeof buf) /* the pre-scan allows 40 characters */
        return bad(r);
    size_t end_i = i;
    r->i = i;
    if (!out)
        return 0;
    /* What a summary carries (integers, one or two decimals) the quick way,
     * exactly as strtod rounds it: at most 15 digits make an integer m that a
     * double holds exactly, and m / 10^f with 10^f exact is one correctly
     * rounded division. Anything else goes to strtod. */
    const unsigned char *p = r->s + st;
    bool neg = *p == '-';
    p += neg;
    uint64_t m = 0;
    unsigned digits = 0, frac = 0;
    bool dot = false, simple = true;
    for (; p < r->s + end_i; p++) {
        if (*p == '.') {
            dot = true;
        } else if (*p >= '0' && *p <= '9') {
            m = m * 10 + (unsigned)(*p - '0');
            digits += m != 0;
            frac += dot;
        } else {
            simple = false; /* an exponent */
            break;
        }
    }
    if (simple && digits <= 15) {
        double v = (double)m / pow10_exact[frac < 23 ? frac : 0];
        if (frac < 23) {
            *out = neg ? -v : v;
            return 0;
        }
    }
    memcpy(buf, r->s + st, end_i - st);
    buf[end_i - st] = '\0';
    if (r->decimal_point != '.') {
        char *dp = strchr(buf, '.');
        if (dp)
            *dp = r->decimal_point;
    }
    char *end;
    *out = strtod(buf, &end);
    if (end != buf + (end_i - st)) {
        r->i = st;
        return bad(r);
    }
    return 0;
}

static int read_word(struct rd *r, const char *w)
{
    size_t n = strlen(w);
    if (r->n - r->i < n || memcmp(r->s + r->i, w, n) != 0)
        return bad(r);
    r->i += n;
    return 0;
}

static int skip_value(struct rd *r, unsigned depth);

/* One value into v: a scalar with its value (a string in buf[size]), or an
 * array or object, skipped (checked), as its kind only. */
static int read_value(struct rd *r, struct jval *v, char *buf, size_t size, unsigned depth)
{
    int c = peek(r);
    v->kind = kind_at(c);
    v->str = NULL;
    switch (c) {
    case '{':
    case '[':
        return skip_value(r, depth);
    case '"': {
        size_t len;
        v->str = buf;
        return read_string(r, buf, size, &len);
    }
    case 't': return read_word(r, "true");
    case 'f': return read_word(r, "false");
    case 'n': return read_word(r, "null");
    default: return read_number(r, &v->num);
    }
}

/* Any value, checked and passed over. depth: of the value's container. */
static int skip_value(struct rd *r, unsigned depth)
{
    int c = peek(r);
    if (c != '{' && c != '[') {
        if (c == '-' || (c >= '0' && c <= '9'))
            return read_number(r, NULL);
        struct jval v;
        char s[1];
        return read_value(r, &v, s, sizeof s, depth);
    }
    if (depth >= KG_JSON_DEPTH_MAX) /* the pre-scan refused it already */
        return bad(r);
    int close = c == '{' ? '}' : ']';
    r->i++;
    if (peek(r) == close) {
        r->i++;
        return 0;
    }
    for (;;) {
        int rc;
        if (c == '{') {
            size_t len;
            char k[1];
            if ((rc = read_string(r, k, sizeof k, &len)) != 0)
                return rc;
            if (peek(r) != ':')
                return bad(r);
            r->i++;
        }
        if ((rc = skip_value(r, depth + 1)) != 0)
            return rc;
        if ((rc = next_or_end(r, close)) <= 0)
            return rc;
    }
}

/* Passes over the array at r->i by its brackets and strings alone, trusting
 * the pre-scan (strings end, nesting is bounded, brackets balance). For "vms":
 * its grammar is checked row by row when the rows are (walk_rows), which
 * spares the biggest part of a summary one of its three readings. */
static int skip_rows(struct rd *r)
{
    unsigned depth = 0;
    for (size_t i = r->i; i < r->n; i++) {
        unsigned char c = r->s[i];
        if (c == '"') {
            for (i++; i < r->n && r->s[i] != '"'; i++)
                i += r->s[i] == '\\';
        } else if (c == '[' || c == '{') {
            depth++;
        } else if ((c == ']' || c == '}') && --depth == 0) {
            r->i = i + 1;
            return 0;
        }
    }
    return bad(r);
}

/* ---- the summary ------------------------------------------------------------- */

/* For each column of this summary, the column table's field it fills (NULL: a
 * column this decoder does not know). */
struct sum_cols {
    unsigned n;
    const struct field *f[KG_SUMMARY_COLS_MAX];
};

static int decode_cols(struct rd *r, size_t at, struct sum_cols *sc)
{
    r->i = at;
    int c = peek(r);
    if (c != '[')
        return dfail(r->d, KG_EPARSE, "field \"cols\": expected an array, got %s",
                     kind_name(kind_at(c)));
    r->i++;
    const struct table *t = &kg_schema__summary_cols;
    char names[KG_SUMMARY_COLS_MAX][KG_SUMMARY_COL_MAX];
    sc->n = 0;
    int more = peek(r) != ']';
    while (more) {
        unsigned i = sc->n;
        if (i >= KG_SUMMARY_COLS_MAX)
            return dfail(r->d, KG_ETOOBIG, "field \"cols\": more than %d columns",
                         KG_SUMMARY_COLS_MAX);
        c = peek(r);
        if (c != '"')
            return dfail(r->d, KG_EPARSE, "field \"cols[%u]\": expected a string, got %s", i,
                         kind_name(kind_at(c)));
        char name[STR_KEEP];
        size_t len;
        int rc = read_string(r, name, sizeof name, &len);
        if (rc)
            return rc;
        if (len == 0 || len >= KG_SUMMARY_COL_MAX)
            return dfail(r->d, KG_EPARSE, "field \"cols[%u]\": a column name is 1 to %d bytes",
                         i, KG_SUMMARY_COL_MAX - 1);
        for (unsigned k = 0; k < i; k++)
            if (strcmp(names[k], name) == 0)
                return dfail(r->d, KG_EPARSE, "field \"cols[%u]\": column \"%s\" appears twice",
                             i, names[k]);
        memcpy(names[i], name, len + 1);
        sc->f[i] = NULL;
        for (size_t k = 0; k < t->n; k++)
            if (strcmp(t->fields[k].key, name) == 0)
                sc->f[i] = &t->fields[k];
        sc->n++;
        if ((more = next_or_end(r, ']')) < 0)
            return more;
    }
    for (size_t k = 0; k < t->n; k++) {
        if (!(t->fields[k].flags & F_REQ))
            continue;
        unsigned i = 0;
        while (i < sc->n && sc->f[i] != &t->fields[k])
            i++;
        if (i == sc->n)
            return dfail(r->d, KG_EPARSE, "field \"cols\": required column \"%s\" missing",
                         t->fields[k].key);
    }
    return 0;
}

static void summary_vm_init(struct kg_summary_vm *v)
{
    v->name[0] = '\0';
    v->state = KG_VM_NOSTATE;
    v->stale = false;
    v->cpu_pct = v->mem_used_pct = v->disk_bytes_per_s = v->net_bytes_per_s = KG_NA;
    v->steal_pct = v->disk_lat_ms = KG_NA;
}

/* Row i at r->i into *v: exactly one cell per column; null only in a figure's
 * column. Errors name the row and the column: field "vms[3].cpu_pct". */
static int decode_row(struct rd *r, unsigned i, const struct sum_cols *sc,
                      struct kg_summary_vm *v)
{
    int c = peek(r);
    if (c != '[')
        return dfail(r->d, KG_EPARSE, "field \"vms[%u]\": expected an array, got %s", i,
                     kind_name(kind_at(c)));
    r->i++;
    summary_vm_init(v);
    unsigned k = 0;
    if (peek(r) == ']') {
        r->i++;
    } else {
        for (;; k++) {
            if (k >= sc->n)
                return dfail(r->d, KG_EPARSE, "field \"vms[%u]\": more cells than the %u columns",
                             i, sc->n);
            const struct field *f = sc->f[k];
            int rc;
            if (!f) { /* a column added after this decoder */
                if ((rc = skip_value(r, 3)) != 0)
                    return rc;
            } else {
                struct jval jv;
                char buf[STR_KEEP];
                if ((rc = read_value(r, &jv, buf, sizeof buf, 3)) != 0)
                    return rc;
                /* null: not available, where a figure may be absent. The
                 * message names the row: it is made again with it, as rare
                 * as it is (formatting the path for every row costs more
                 * than the rest of the row). */
                if ((jv.kind != J_NULL || (f->flags & F_REQ)) &&
                    kg_schema__decode_field(f, &jv, v, "", r->d) != 0) {
                    char path[32];
                    snprintf(path, sizeof path, "vms[%u].", i);
                    return kg_schema__decode_field(f, &jv, v, path, r->d);
                }
            }
            if ((rc = next_or_end(r, ']')) < 0)
                return rc;
            if (rc == 0)
                break;
        }
        k++;
    }
    if (k != sc->n)
        return dfail(r->d, KG_EPARSE, "field \"vms[%u]\": %u cells for %u columns", i, k, sc->n);
    return 0;
}

/* Every row of the array at `at` checked (fn NULL) or handed to fn. */
static int walk_rows(struct rd *r, size_t at, const struct sum_cols *sc, kg_summary_row_fn fn,
                     void *ctx, unsigned *count)
{
    r->i = at;
    if (peek(r) != '[')
        return bad(r);
    r->i++;
    struct kg_summary_vm v;
    unsigned i = 0;
    if (peek(r) == ']') {
        *count = 0;
        return 0;
    }
    for (;; i++) {
        int rc = decode_row(r, i, sc, &v);
        if (rc == 0 && fn)
            rc = fn(ctx, i, &v);
        if (rc || (rc = next_or_end(r, ']')) < 0)
            return rc;
        if (rc == 0)
            break;
    }
    *count = i + 1;
    return 0;
}

/* A member of the top level that the table knows: which, and where its value
 * starts. */
struct member {
    unsigned short field;
    size_t at;
};
#define MEMBERS_MAX 64 /* >= a summary's fields + 1: a known member twice stops the list */

/* The top-level object: its grammar, every value checked and passed over (the
 * rows of "vms" are checked by walk_rows), and where each known member's value
 * is (members[], in order, up to the first repeated one). Trailing data and a
 * top level that is not an object are refused here, after the grammar, as the
 * tree decoders refuse them. */
static int walk_top(struct rd *r, struct member *members, unsigned *n_members)
{
    const struct table *t = &kg_schema__summary;
    uint64_t seen = 0;
    bool repeated = false;
    *n_members = 0;
    bool object = peek(r) == '{';
    int rc;
    if (!object) {
        if ((rc = skip_value(r, 0)) != 0)
            return rc;
    } else {
        r->i++;
        int more = peek(r) != '}';
        if (!more)
            r->i++;
        while (more) {
            char key[KEY_MAX + 2];
            size_t len;
            if ((rc = read_string(r, key, sizeof key, &len)) != 0)
                return rc;
            if (peek(r) != ':')
                return bad(r);
            r->i++;
            int v0 = peek(r);
            size_t k = t->n;
            if (len <= KEY_MAX)
                for (k = 0; k < t->n && strcmp(t->fields[k].key, key) != 0; k++)
                    ;
            if (k < t->n && !repeated && *n_members < MEMBERS_MAX) {
                members[*n_members] = (struct member){(unsigned short)k, r->i};
                ++*n_members;
                repeated = (seen & (UINT64_C(1) << k)) != 0;
                seen |= UINT64_C(1) << k;
            }
            bool rows = v0 == '[' && k < t->n && strcmp(t->fields[k].key, "vms") == 0;
            if ((rc = rows ? skip_rows(r) : skip_value(r, 1)) != 0 ||
                (more = next_or_end(r, '}')) < 0)
                return rc ? rc : more;
        }
    }
    if (peek(r) != -1)
        return dfail(r->d, KG_EPARSE, "trailing data at byte %zu", r->i);
    if (!object)
        return dfail(r->d, KG_EPARSE, "top level is not a JSON object");
    return 0;
}

/* The header: schema first, then each known member in order (a member twice
 * is refused where it repeats), then what is required; *cols and *vms: where
 * those arrays start. */
static int decode_header(struct rd *r, const struct member *m, unsigned n, struct kg_summary *out,
                         size_t *cols, size_t *vms)
{
    const struct table *t = &kg_schema__summary;
    struct jval v;
    char buf[STR_KEEP];
    int rc;
    unsigned k = 0;
    while (k < n && strcmp(t->fields[m[k].field].key, "schema") != 0)
        k++;
    if (k < n) {
        r->i = m[k].at;
        if ((rc = read_value(r, &v, buf, sizeof buf, 1)) != 0)
            return rc;
    }
    if ((rc = kg_schema__check_schema(k < n ? &v : NULL, r->d)) != 0)
        return rc;
    uint64_t seen = 0;
    *cols = *vms = SIZE_MAX;
    for (k = 0; k < n; k++) {
        const struct field *f = &t->fields[m[k].field];
        if (seen & (UINT64_C(1) << m[k].field))
            return dfail(r->d, KG_EPARSE, "field \"%s\" appears twice", f->key);
        seen |= UINT64_C(1) << m[k].field;
        if (f->type == FT_SPECIAL) {
            *(strcmp(f->key, "cols") == 0 ? cols : vms) = m[k].at;
            continue;
        }
        r->i = m[k].at;
        if ((rc = read_value(r, &v, buf, sizeof buf, 1)) != 0 ||
            (rc = kg_schema__decode_field(f, &v, out, "", r->d)) != 0)
            return rc;
    }
    for (size_t i = 0; i < t->n; i++)
        if ((t->fields[i].flags & F_REQ) && !(seen & (UINT64_C(1) << i)))
            return dfail(r->d, KG_EPARSE, "missing required field \"%s\"", t->fields[i].key);
    return 0;
}

int kg_summary_decode(const char *json, size_t len, struct kg_summary *out,
                      kg_summary_row_fn fn, void *ctx, char *errmsg, size_t errlen)
{
    struct dctx d = {errmsg, errlen};
    if (errmsg && errlen)
        errmsg[0] = '\0';
    if (!out)
        return dfail(&d, KG_EINVAL, "no output struct");
    memset(out, 0, sizeof *out);
    kg_host_init(&out->host);
    int rc;
    if (!json)
        return dfail(&d, KG_EINVAL, "no payload");
    if (len == 0)
        return dfail(&d, KG_EPARSE, "empty payload");
    if (len > KG_SUMMARY_MAX)
        return dfail(&d, KG_ETOOBIG, "payload of %zu bytes exceeds %d", len, KG_SUMMARY_MAX);
    struct rd r = {(const unsigned char *)json, len, 0, &d, localeconv()->decimal_point[0]};
    struct member m[MEMBERS_MAX];
    unsigned n;
    struct sum_cols sc;
    size_t cols, vms;
    rc = kg_schema__prescan(r.s, len, &d);
    if (rc == 0)
        rc = walk_top(&r, m, &n);
    if (rc == 0)
        rc = decode_header(&r, m, n, out, &cols, &vms);
    if (rc == 0)
        rc = decode_cols(&r, cols, &sc);
    if (rc == 0) {
        r.i = vms;
        int c = peek(&r);
        if (c != '[')
            rc = dfail(&d, KG_EPARSE, "field \"vms\": expected an array, got %s",
                       kind_name(kind_at(c)));
    }
    /* every row checked before the first one is handed out */
    if (rc == 0)
        rc = walk_rows(&r, vms, &sc, NULL, NULL, &out->n_vms);
    if (rc) {
        memset(out, 0, sizeof *out);
        kg_host_init(&out->host);
        return rc;
    }
    return fn ? walk_rows(&r, vms, &sc, fn, ctx, &out->n_vms) : 0;
}
