/* SPDX-License-Identifier: MIT */
/*
 * The metric schema's decoder: JSON payloads to their structs, by walking the
 * field tables of schema.c, and the only file of libkvmgrid's schema that
 * includes cJSON. Strict and bounded: a cheap pre-scan checks size, nesting
 * depth, UTF-8, string escapes and number syntax before cJSON builds a tree
 * with cJSON_ParseWithLengthOpts (never cJSON_GetErrorPtr, which is
 * process-global). The pre-scan, the schema check and the field decoder are
 * also the host summary's (schema_summary.c reads its bytes without a tree).
 * Pure: no logging; its only process-wide state is cJSON's allocation hooks,
 * set once before main() (see struct tree).
 */
#include "kvmgrid/schema.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "schema_private.h"

#define NUM_TOKEN_MAX 40  /* characters of one JSON number */

/* ---- decoding ------------------------------------------------------------ */

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
                    return dfail(d, KG_EPARSE, "bad \\u escape at byte %zu", i);
                if (v == 0)
                    return dfail(d, KG_EPARSE, "\\u0000 in a string at byte %zu", i);
                if (v >= 0xDC00 && v <= 0xDFFF)
                    return dfail(d, KG_EPARSE, "lone UTF-16 surrogate at byte %zu", i);
                if (v >= 0xD800 && v <= 0xDBFF) {
                    long lo = read_u_escape(s, n, i + 6);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return dfail(d, KG_EPARSE, "lone UTF-16 surrogate at byte %zu", i);
                    i += 6;
                }
                i += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                i += 2;
            } else {
                return dfail(d, KG_EPARSE, "bad escape at byte %zu", i);
            }
        } else if (c < 0x20) {
            return dfail(d, KG_EPARSE, "control character 0x%02x in a string at byte %zu", c, i);
        } else if (c >= 0x80) {
            size_t k = utf8_seq(s + i, n - i);
            if (k == 0)
                return dfail(d, KG_EPARSE, "invalid UTF-8 at byte %zu", i);
            i += k;
        } else {
            i++;
        }
    }
    return dfail(d, KG_EPARSE, "unterminated string starting at byte %zu", start);
}

static int scan_number(const unsigned char *s, size_t n, size_t *pi, struct dctx *d)
{
    size_t start = *pi, i = start;
    if (s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
        if (i < n && is_digit(s[i]))
            return dfail(d, KG_EPARSE, "number with a leading zero at byte %zu", start);
    } else if (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        return dfail(d, KG_EPARSE, "malformed number at byte %zu", start);
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return dfail(d, KG_EPARSE, "malformed number at byte %zu", start);
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return dfail(d, KG_EPARSE, "malformed number at byte %zu", start);
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i - start > NUM_TOKEN_MAX)
        return dfail(d, KG_EPARSE, "number longer than %d characters at byte %zu",
                     NUM_TOKEN_MAX, start);
    *pi = i;
    return 0;
}

/* One pass over the raw bytes before cJSON sees them: nesting depth (cJSON
 * would recurse to 1000), UTF-8 everywhere, string escapes, number syntax and
 * stray bytes. cJSON then checks the grammar. */
int kg_schema__prescan(const unsigned char *s, size_t n, struct dctx *d)
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
                return dfail(d, KG_EPARSE, "nesting deeper than %d at byte %zu",
                             KG_JSON_DEPTH_MAX, i);
            i++;
            break;
        case '}': case ']':
            if (depth == 0)
                return dfail(d, KG_EPARSE, "unbalanced '%c' at byte %zu", c, i);
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
                return dfail(d, KG_EPARSE, "%s at byte %zu",
                             utf8_seq(s + i, n - i) ? "non-ASCII character outside a string"
                                                    : "invalid UTF-8",
                             i);
            return dfail(d, KG_EPARSE, "unexpected byte 0x%02x at byte %zu", c, i);
        }
    }
    return 0;
}

/* cJSON allocates every node, key and string on its own: about a hundred
 * mallocs and frees for one VM payload, most of a decode's time. A decode
 * lends it a bump arena on its own stack instead (struct tree): the hooks,
 * installed once before main() (this file is libkvmgrid's only cJSON user),
 * take from the calling thread's arena while it parses or deletes a tree, and
 * use malloc beyond it or on any other thread. */
#define TREE_ARENA_BYTES 16384 /* a VM payload's tree takes about 5 KiB */

struct tree {
    cJSON *root;
    size_t used;                                /* bytes of mem handed out */
    _Alignas(16) unsigned char mem[TREE_ARENA_BYTES];
};

static _Thread_local struct tree *tree_active; /* parsing or deleting in it */

static void *tree_malloc(size_t n)
{
    struct tree *t = tree_active;
    size_t need = (n + 15u) & ~(size_t)15u;
    if (t && need >= n && need <= sizeof(t->mem) - t->used) {
        void *p = t->mem + t->used;
        t->used += need;
        return p;
    }
    return malloc(n);
}

static void tree_free_hook(void *p)
{
    struct tree *t = tree_active;
    if (t && (unsigned char *)p >= t->mem && (unsigned char *)p < t->mem + sizeof(t->mem))
        return; /* the arena goes with its decode */
    free(p);
}

__attribute__((constructor)) static void tree_hooks_install(void)
{
    cJSON_Hooks h = {tree_malloc, tree_free_hook};
    cJSON_InitHooks(&h);
}

/* Deletes the tree parse() made in t (accepts an empty one). */
static void tree_free(struct tree *t)
{
    tree_active = t;
    cJSON_Delete(t->root);
    tree_active = NULL;
    t->root = NULL;
}

static int parse(const char *json, size_t len, size_t max, struct tree *t, struct dctx *d)
{
    cJSON **root = &t->root;
    *root = NULL;
    t->used = 0;
    if (!json)
        return dfail(d, KG_EINVAL, "no payload");
    if (len == 0)
        return dfail(d, KG_EPARSE, "empty payload");
    if (len > max)
        return dfail(d, KG_ETOOBIG, "payload of %zu bytes exceeds %zu", len, max);
    int rc = kg_schema__prescan((const unsigned char *)json, len, d);
    if (rc)
        return rc;
    const char *end = NULL;
    /* cJSON's parser records its error position in a process-wide variable on
     * every call: serialise parses so that decoders stay thread-safe as schema.h
     * promises (we read the position through 'end' only). */
    static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&parse_lock);
    tree_active = t;
    cJSON *r = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    tree_active = NULL;
    pthread_mutex_unlock(&parse_lock);
    if (!r) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return dfail(d, KG_EPARSE, "invalid JSON near byte %zu", at);
    }
    *root = r;
    if (!end || end < json || end > json + len)
        return dfail(d, KG_EPARSE, "invalid JSON");
    while (end < json + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != json + len)
        return dfail(d, KG_EPARSE, "trailing data at byte %zu", (size_t)(end - json));
    if (!cJSON_IsObject(r))
        return dfail(d, KG_EPARSE, "top level is not a JSON object");
    return 0;
}

/* A tree's node as the field decoder sees it. */
static struct jval jv(const cJSON *c)
{
    struct jval v = {J_OBJECT, 0, NULL};
    if (cJSON_IsNull(c))
        v.kind = J_NULL;
    else if (cJSON_IsFalse(c))
        v.kind = J_FALSE;
    else if (cJSON_IsTrue(c))
        v.kind = J_TRUE;
    else if (cJSON_IsNumber(c))
        v.kind = J_NUMBER, v.num = c->valuedouble;
    else if (cJSON_IsString(c) && c->valuestring)
        v.kind = J_STRING, v.str = c->valuestring;
    else if (cJSON_IsArray(c))
        v.kind = J_ARRAY;
    return v;
}

int kg_schema__check_schema(const struct jval *v, struct dctx *d)
{
    if (!v)
        return dfail(d, KG_EPARSE, "missing required field \"schema\"");
    if (v->kind != J_NUMBER)
        return dfail(d, KG_EPARSE, "field \"schema\": expected a number");
    double x = v->num;
    if (!isfinite(x) || x != floor(x))
        return dfail(d, KG_EPARSE, "field \"schema\": expected an integer");
    if (x > KG_SCHEMA_VERSION)
        return dfail(d, KG_ERANGE, "field \"schema\": version %.0f is newer than %d",
                     x > 1e9 ? 1e9 : x, KG_SCHEMA_VERSION);
    if (x != KG_SCHEMA_VERSION)
        return dfail(d, KG_ERANGE, "field \"schema\": version %.0f is not %d",
                     x < -1e9 ? -1e9 : x, KG_SCHEMA_VERSION);
    return 0;
}

/* The one check made before anything else, in a tree. */
static int check_schema(const cJSON *root, struct dctx *d)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "schema");
    struct jval v = c ? jv(c) : (struct jval){J_NULL, 0, NULL};
    return kg_schema__check_schema(c ? &v : NULL, d);
}

const char *kg_schema__type_name(const struct jval *v)
{
    switch (v->kind) {
    case J_NULL: return "null";
    case J_FALSE:
    case J_TRUE: return "a boolean";
    case J_NUMBER: return "a number";
    case J_STRING: return "a string";
    case J_ARRAY: return "an array";
    default: return "an object";
    }
}

static const char *type_name(const cJSON *c)
{
    struct jval v = jv(c);
    return kg_schema__type_name(&v);
}

int kg_schema__decode_field(const struct field *f, const struct jval *v, void *base,
                            const char *path, struct dctx *d)
{
    char *p = (char *)base + f->off;
    switch (f->type) {
    case FT_SCHEMA:
    case FT_SPECIAL:
        return 0;  /* checked by the caller */
    case FT_TS:
    case FT_NUM:
    case FT_UINT: {
        if (v->kind != J_NUMBER)
            return dfail(d, KG_EPARSE, "field \"%s%s\": expected a number, got %s", path,
                         f->key, kg_schema__type_name(v));
        double x = v->num;
        double lo = f->type == FT_TS ? 0 : f->min;
        double hi = f->type == FT_TS ? (double)TS_MAX_MS : f->max;
        if (!isfinite(x))
            return dfail(d, KG_ERANGE, "field \"%s%s\": not a finite number", path, f->key);
        if (x < lo || x > hi)
            return dfail(d, KG_ERANGE, "field \"%s%s\": %.15g is outside %.15g..%.15g", path,
                         f->key, x, lo, hi);
        if ((f->flags & F_INT || f->type != FT_NUM) && x != floor(x))
            return dfail(d, KG_ERANGE, "field \"%s%s\": %.15g is not an integer", path, f->key, x);
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
        if (v->kind != J_STRING)
            return dfail(d, KG_EPARSE, "field \"%s%s\": expected a string, got %s", path,
                         f->key, kg_schema__type_name(v));
        const char *s = v->str;
        size_t len = strlen(s);
        if (len >= f->size)
            return dfail(d, KG_ETOOBIG, "field \"%s%s\": longer than %u bytes", path, f->key,
                         (unsigned)f->size - 1);
        if ((f->flags & F_NAME) && len == 0)
            return dfail(d, KG_EPARSE, "field \"%s%s\": empty", path, f->key);
        if ((f->flags & F_SCEN) && len && !kg_scenario_name_valid(s))
            return dfail(d, KG_EPARSE,
                         "field \"%s%s\": not a scenario name ([A-Za-z0-9._-], not starting "
                         "with '.')", path, f->key);
        if ((f->flags & F_UUID) && len && !kg_schema__uuid_valid(s))
            return dfail(d, KG_EPARSE, "field \"%s%s\": not a UUID", path, f->key);
        memcpy(p, s, len + 1);
        return 0;
    }
    case FT_BOOL: {
        if (v->kind != J_TRUE && v->kind != J_FALSE)
            return dfail(d, KG_EPARSE, "field \"%s%s\": expected true or false, got %s", path,
                         f->key, kg_schema__type_name(v));
        bool b = v->kind == J_TRUE;
        memcpy(p, &b, sizeof(b));
        return 0;
    }
    case FT_ENUM: {
        if (v->kind != J_STRING)
            return dfail(d, KG_EPARSE, "field \"%s%s\": expected a string, got %s", path,
                         f->key, kg_schema__type_name(v));
        unsigned lo = (unsigned)f->min, hi = (unsigned)f->max;
        for (unsigned k = lo; k <= hi; k++) {
            if (f->names[k] && strcmp(f->names[k], v->str) == 0) {
                memcpy(p, &k, sizeof(k));
                return 0;
            }
        }
        char shown[40];
        snprintf(shown, sizeof(shown), "%s", v->str);
        return dfail(d, KG_EPARSE, "field \"%s%s\": unknown value \"%s\"", path, f->key, shown);
    }
    default:
        return dfail(d, KG_EPARSE, "internal: bad field type");
    }
}

/* Decodes the members of obj listed in tab into base; others are ignored. A
 * member twice is an error (which one would count?). */
static int decode_fields(const cJSON *obj, const struct table *tab, void *base, const char *path,
                         struct dctx *d)
{
    const struct field *t = tab->fields;
    size_t n = tab->n;
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
            return dfail(d, KG_EPARSE, "field \"%s%s\" appears twice", path, t[i].key);
        seen |= UINT64_C(1) << i;
        struct jval v = jv(c);
        int rc = kg_schema__decode_field(&t[i], &v, base, path, d);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if ((t[i].flags & F_REQ) && !(seen & (UINT64_C(1) << i)))
            return dfail(d, KG_EPARSE, "missing required field \"%s%s\"", path, t[i].key);
    }
    return 0;
}

static int decode_devs(const cJSON *root, const char *key, const struct table *t, void *first,
                       size_t stride, unsigned *count, struct dctx *d)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    *count = 0;
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return dfail(d, KG_EPARSE, "field \"%s\": expected an array, got %s", key,
                     type_name(arr));
    unsigned i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        if (i >= KG_DEV_MAX)
            return dfail(d, KG_ETOOBIG, "field \"%s\": more than %d entries", key, KG_DEV_MAX);
        char path[32];
        snprintf(path, sizeof(path), "%s[%u].", key, i);
        if (!cJSON_IsObject(e))
            return dfail(d, KG_EPARSE, "field \"%s[%u]\": expected an object, got %s", key, i,
                         type_name(e));
        int rc = decode_fields(e, t, (char *)first + (size_t)i * stride, path, d);
        if (rc)
            return rc;
        *count = i + 1;
    }
    return 0;
}

static int decode_spec(const cJSON *obj, struct kg_load_spec *s, const char *path,
                       struct dctx *d)
{
    int rc = decode_fields(obj, &kg_schema__spec, s, path, d);
    if (rc)
        return rc;
    if (s->kind == KG_LOAD_CPU && isnan(s->pct))
        return dfail(d, KG_EPARSE, "missing required field \"%spct\" for a cpu load", path);
    if (s->kind == KG_LOAD_MEM && isnan(s->mib))
        return dfail(d, KG_EPARSE, "missing required field \"%smib\" for a mem load", path);
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
        return dfail(&d, KG_EINVAL, "no output struct");
    kg_vm_init(out);
    struct tree t;
    int rc = parse(json, len, KG_PAYLOAD_MAX, &t, &d);
    const cJSON *root = t.root;
    if (rc == 0)
        rc = check_schema(root, &d);
    if (rc == 0)
        rc = decode_fields(root, &kg_schema__vm, out, "", &d);
    if (rc == 0)
        rc = decode_devs(root, "disks", &kg_schema__disk, out->disks, sizeof(out->disks[0]),
                         &out->n_disks, &d);
    if (rc == 0)
        rc = decode_devs(root, "nets", &kg_schema__net, out->nets, sizeof(out->nets[0]),
                         &out->n_nets, &d);
    tree_free(&t);
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
        return dfail(&d, KG_EINVAL, "no output struct");
    kg_host_init(out);
    struct tree t;
    int rc = parse(json, len, KG_PAYLOAD_MAX, &t, &d);
    const cJSON *root = t.root;
    if (rc == 0)
        rc = check_schema(root, &d);
    if (rc == 0)
        rc = decode_fields(root, &kg_schema__host, out, "", &d);
    tree_free(&t);
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
        return dfail(&d, KG_EINVAL, "no output struct");
    kg_load_cmd_init(out);
    struct tree t;
    int rc = parse(json, len, KG_PAYLOAD_MAX, &t, &d);
    const cJSON *root = t.root;
    if (rc == 0)
        rc = check_schema(root, &d);
    if (rc == 0)
        rc = decode_fields(root, &kg_schema__cmd, out, "", &d);
    if (rc == 0 && out->verb == KG_LOAD_START)
        rc = decode_spec(root, &out->spec, "", &d);
    if (rc == 0 && out->verb == KG_LOAD_SCENARIO && out->scenario[0] == '\0')
        rc = dfail(&d, KG_EPARSE, "missing required field \"scenario\" for cmd \"scenario\"");
    if (rc == 0 && out->verb != KG_LOAD_SCENARIO)
        out->scenario[0] = '\0';
    tree_free(&t);
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
        return dfail(&d, KG_EINVAL, "no output struct");
    kg_load_state_init(out);
    struct tree t;
    int rc = parse(json, len, KG_PAYLOAD_MAX, &t, &d);
    const cJSON *root = t.root;
    if (rc == 0)
        rc = check_schema(root, &d);
    if (rc == 0)
        rc = decode_fields(root, &kg_schema__state, out, "", &d);
    if (rc == 0) {
        const cJSON *load = cJSON_GetObjectItemCaseSensitive(root, "load");
        if (load && !cJSON_IsObject(load))
            rc = dfail(&d, KG_EPARSE, "field \"load\": expected an object, got %s",
                       type_name(load));
        else if (load)
            rc = decode_spec(load, &out->spec, "load.", &d);
    }
    tree_free(&t);
    if (rc)
        kg_load_state_init(out);
    return rc;
}
