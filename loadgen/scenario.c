/* SPDX-License-Identifier: MIT */
/*
 * The scenario file parser (see scenario.h). cJSON parses; it reports where a
 * syntax error is but keeps no positions for values, so a small skimmer walks
 * the (already valid) text to find the byte offset of the value that failed a
 * check, and that offset gives the line number. The skimmer only ever runs on
 * text cJSON accepted, which keeps it short.
 */
#include "scenario.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kvmgrid/error.h"

/* ---- positions ------------------------------------------------------------ */

/* A path into the document: object keys (key != NULL) or array indexes. */
struct path_elem {
    const char *key;
    int index;
};

static size_t skip_ws(const char *t, size_t len, size_t i)
{
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    return i;
}

static size_t skip_string(const char *t, size_t len, size_t i)
{
    for (i++; i < len && t[i] != '"'; i++)
        if (t[i] == '\\')
            i++;
    return i < len ? i + 1 : len;
}

static size_t skip_value(const char *t, size_t len, size_t i)
{
    i = skip_ws(t, len, i);
    if (i >= len)
        return len;
    if (t[i] == '"')
        return skip_string(t, len, i);
    if (t[i] == '{' || t[i] == '[') {
        int depth = 0;
        for (; i < len; i++) {
            if (t[i] == '"') {
                i = skip_string(t, len, i) - 1;
            } else if (t[i] == '{' || t[i] == '[') {
                depth++;
            } else if (t[i] == '}' || t[i] == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return len;
    }
    while (i < len && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' &&
           t[i] != '\n' && t[i] != '\r' && t[i] != '\t')
        i++;
    return i;
}

/* Offset of the value at path, or of the deepest container found on the way. */
static size_t locate(const char *t, size_t len, const struct path_elem *path, size_t n)
{
    size_t i = skip_ws(t, len, 0);
    for (size_t p = 0; p < n && i < len; p++) {
        if (path[p].key && t[i] == '{') {
            size_t j = skip_ws(t, len, i + 1);
            size_t found = len;
            while (j < len && t[j] == '"') {
                size_t kend = skip_string(t, len, j);
                size_t klen = kend - j - 2;
                j = skip_ws(t, len, kend);
                if (j < len && t[j] == ':')
                    j = skip_ws(t, len, j + 1);
                if (klen == strlen(path[p].key) && memcmp(t + kend - 1 - klen, path[p].key, klen) == 0)
                    found = j;
                j = skip_ws(t, len, skip_value(t, len, j));
                if (found != len)
                    break;
                if (j < len && t[j] == ',')
                    j = skip_ws(t, len, j + 1);
                else
                    break;
            }
            if (found == len)
                return i;
            i = found;
        } else if (!path[p].key && t[i] == '[') {
            size_t j = skip_ws(t, len, i + 1);
            for (int k = 0; k < path[p].index && j < len; k++) {
                j = skip_ws(t, len, skip_value(t, len, j));
                if (j < len && t[j] == ',')
                    j = skip_ws(t, len, j + 1);
            }
            if (j >= len || t[j] == ']')
                return i;
            i = j;
        } else {
            return i;
        }
    }
    return i;
}

static unsigned line_of(const char *t, size_t len, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        if (t[i] == '\n')
            line++;
    return line;
}

/* ---- parsing ---------------------------------------------------------------- */

struct ctx {
    const char *text;
    size_t len;
    const char *name;
    char *errmsg;
    size_t errlen;
};

static int perr(struct ctx *c, const struct path_elem *path, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int perr(struct ctx *c, const struct path_elem *path, size_t n, const char *fmt, ...)
{
    if (!c->errmsg || !c->errlen)
        return KG_EPARSE;
    unsigned line = line_of(c->text, c->len, locate(c->text, c->len, path, n));
    char where[96] = "";
    size_t w = 0;
    for (size_t i = 0; i < n && w < sizeof where; i++) {
        int k = path[i].key ? snprintf(where + w, sizeof where - w, "%s%s", w ? "." : "", path[i].key)
                            : snprintf(where + w, sizeof where - w, "[%d]", path[i].index);
        if (k < 0)
            break;
        w += (size_t)k;
    }
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->errmsg, c->errlen, "%s:%u: %s%s%s", c->name, line, where, w ? ": " : "", msg);
    return KG_EPARSE;
}

static const char *const LOAD_FIELDS[] = {
    "kind", "duration_s", "workers", "pct", "ramp_to_pct", "mib", "dirty_mib_per_s",
    "mode", "mb_per_s", "block_kib", "direct", "comment", NULL,
};

static int known(const char *const *list, const char *key)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], key) == 0)
            return 1;
    return 0;
}

/* Reads an optional number field into *out (left as is when absent). */
static int num_field(struct ctx *c, const cJSON *obj, const char *key, double *out,
                     struct path_elem *path, size_t n)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return 0;
    path[n].key = key;
    if (!cJSON_IsNumber(it))
        return perr(c, path, n + 1, "must be a number");
    if (!isfinite(it->valuedouble))
        return perr(c, path, n + 1, "must be a finite number");
    if (it->valuedouble < 0.0)
        return perr(c, path, n + 1, "%g must not be negative", it->valuedouble);
    *out = it->valuedouble;
    return 0;
}

static int parse_load(struct ctx *c, const cJSON *obj, struct kg_load_spec *s,
                      struct path_elem *path, size_t n)
{
    int rc;
    if (!cJSON_IsObject(obj))
        return perr(c, path, n, "a load must be an object");
    for (const cJSON *f = obj->child; f; f = f->next)
        if (!known(LOAD_FIELDS, f->string)) {
            path[n].key = f->string;
            return perr(c, path, n + 1, "unknown field");
        }
    kg_load_spec_init(s);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    path[n].key = "kind";
    if (!kind)
        return perr(c, path, n, "kind is required (cpu, mem or disk)");
    if (!cJSON_IsString(kind))
        return perr(c, path, n + 1, "must be a string");
    if (strcmp(kind->valuestring, "cpu") == 0)
        s->kind = KG_LOAD_CPU;
    else if (strcmp(kind->valuestring, "mem") == 0)
        s->kind = KG_LOAD_MEM;
    else if (strcmp(kind->valuestring, "disk") == 0)
        s->kind = KG_LOAD_DISK;
    else
        return perr(c, path, n + 1, "unknown kind \"%.32s\" (cpu, mem or disk)", kind->valuestring);

    static const char *const cpu_f[] = {"workers", "pct", "ramp_to_pct", NULL};
    static const char *const mem_f[] = {"mib", "dirty_mib_per_s", NULL};
    static const char *const disk_f[] = {"mode", "mb_per_s", "block_kib", "direct", NULL};
    const char *const *mine = s->kind == KG_LOAD_CPU ? cpu_f : s->kind == KG_LOAD_MEM ? mem_f : disk_f;
    for (const cJSON *f = obj->child; f; f = f->next)
        if ((known(cpu_f, f->string) || known(mem_f, f->string) || known(disk_f, f->string)) &&
            !known(mine, f->string)) {
            path[n].key = f->string;
            return perr(c, path, n + 1, "not a field of a %s load", kind->valuestring);
        }

    if ((rc = num_field(c, obj, "duration_s", &s->duration_s, path, n)) ||
        (rc = num_field(c, obj, "workers", &s->workers, path, n)) ||
        (rc = num_field(c, obj, "pct", &s->pct, path, n)) ||
        (rc = num_field(c, obj, "ramp_to_pct", &s->ramp_to_pct, path, n)) ||
        (rc = num_field(c, obj, "mib", &s->mib, path, n)) ||
        (rc = num_field(c, obj, "dirty_mib_per_s", &s->dirty_mib_per_s, path, n)) ||
        (rc = num_field(c, obj, "mb_per_s", &s->mb_per_s, path, n)) ||
        (rc = num_field(c, obj, "block_kib", &s->block_kib, path, n)))
        return rc;
    if (!kg_na(s->duration_s) && s->duration_s <= 0.0) {
        path[n].key = "duration_s";
        return perr(c, path, n + 1, "must be above 0");
    }
    if (s->kind == KG_LOAD_CPU && kg_na(s->pct)) {
        path[n].key = "pct";
        return perr(c, path, n, "pct is required for a cpu load");
    }
    if (s->kind == KG_LOAD_MEM && kg_na(s->mib)) {
        path[n].key = "mib";
        return perr(c, path, n, "mib is required for a mem load");
    }
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(obj, "mode");
    if (mode) {
        path[n].key = "mode";
        if (!cJSON_IsString(mode))
            return perr(c, path, n + 1, "must be a string");
        if (strcmp(mode->valuestring, "write") == 0)
            s->disk_mode = KG_DISK_WRITE;
        else if (strcmp(mode->valuestring, "read") == 0)
            s->disk_mode = KG_DISK_READ;
        else if (strcmp(mode->valuestring, "rw") == 0)
            s->disk_mode = KG_DISK_RW;
        else
            return perr(c, path, n + 1, "unknown mode \"%.32s\" (write, read or rw)", mode->valuestring);
    }
    const cJSON *direct = cJSON_GetObjectItemCaseSensitive(obj, "direct");
    if (direct) {
        path[n].key = "direct";
        if (!cJSON_IsBool(direct))
            return perr(c, path, n + 1, "must be true or false");
        s->direct = cJSON_IsTrue(direct);
    }
    const cJSON *comment = cJSON_GetObjectItemCaseSensitive(obj, "comment");
    if (comment && !cJSON_IsString(comment)) {
        path[n].key = "comment";
        return perr(c, path, n + 1, "must be a string");
    }
    return 0;
}

static int parse_step(struct ctx *c, const cJSON *obj, struct scenario_step *st,
                      struct path_elem *path, size_t n)
{
    static const char *const fields[] = {"duration_s", "loads", "comment", NULL};
    int rc;
    st->line = line_of(c->text, c->len, locate(c->text, c->len, path, n));
    if (!cJSON_IsObject(obj))
        return perr(c, path, n, "a step must be an object");
    for (const cJSON *f = obj->child; f; f = f->next)
        if (!known(fields, f->string)) {
            path[n].key = f->string;
            return perr(c, path, n + 1, "unknown field");
        }
    st->duration_s = KG_NA;
    if ((rc = num_field(c, obj, "duration_s", &st->duration_s, path, n)))
        return rc;
    if (!kg_na(st->duration_s) && st->duration_s <= 0.0) {
        path[n].key = "duration_s";
        return perr(c, path, n + 1, "must be above 0");
    }
    const cJSON *loads = cJSON_GetObjectItemCaseSensitive(obj, "loads");
    path[n].key = "loads";
    if (loads && !cJSON_IsArray(loads))
        return perr(c, path, n + 1, "must be an array of loads");
    int count = loads ? cJSON_GetArraySize(loads) : 0;
    if (count > SCENARIO_MAX_LOADS)
        return perr(c, path, n + 1, "%d loads in one step, at most %d", count, SCENARIO_MAX_LOADS);
    if (count == 0 && kg_na(st->duration_s))
        return perr(c, path, n, "a step without loads (a pause) needs duration_s");
    int j = 0;
    for (const cJSON *l = loads ? loads->child : NULL; l; l = l->next, j++) {
        path[n].key = "loads";
        path[n + 1].key = NULL;
        path[n + 1].index = j;
        st->load_line[j] = line_of(c->text, c->len, locate(c->text, c->len, path, n + 2));
        if ((rc = parse_load(c, l, &st->loads[j], path, n + 2)))
            return rc;
    }
    st->n_loads = (unsigned)count;
    return 0;
}

int scenario_parse(const char *buf, size_t len, const char *name, struct scenario **out,
                   char *errmsg, size_t errlen)
{
    struct ctx c = {buf, len, name ? name : "<scenario>", errmsg, errlen};
    struct path_elem path[8] = {{NULL, 0}};
    int rc;
    *out = NULL;
    if (len > SCENARIO_MAX_BYTES) {
        snprintf(errmsg, errlen, "%s: larger than %d bytes", c.name, SCENARIO_MAX_BYTES);
        return KG_ETOOBIG;
    }
    if (memchr(buf, '\0', len)) {
        snprintf(errmsg, errlen, "%s:%u: NUL byte in the file", c.name,
                 line_of(buf, len, (size_t)((const char *)memchr(buf, '\0', len) - buf)));
        return KG_EPARSE;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        size_t off = end && end >= buf ? (size_t)(end - buf) : len;
        size_t trimmed = len;
        while (trimmed && (buf[trimmed - 1] == ' ' || buf[trimmed - 1] == '\n' ||
                           buf[trimmed - 1] == '\r' || buf[trimmed - 1] == '\t'))
            trimmed--;
        /* cJSON stops at or next to the end when the document is cut short */
        snprintf(errmsg, errlen, "%s:%u: invalid JSON%s", c.name, line_of(buf, len, off),
                 off + 1 >= trimmed ? " (truncated?)" : "");
        return KG_EPARSE;
    }
    if (end && skip_ws(buf, len, (size_t)(end - buf)) < len) {
        snprintf(errmsg, errlen, "%s:%u: text after the end of the JSON document", c.name,
                 line_of(buf, len, skip_ws(buf, len, (size_t)(end - buf))));
        cJSON_Delete(root);
        return KG_EPARSE;
    }
    struct scenario *s = calloc(1, sizeof *s);
    if (!s) {
        cJSON_Delete(root);
        return KG_ENOMEM;
    }
    snprintf(s->source, sizeof s->source, "%s", c.name);
    rc = 0;
    static const char *const fields[] = {"name", "description", "steps", "comment", NULL};
    if (!cJSON_IsObject(root)) {
        rc = perr(&c, path, 0, "a scenario must be a JSON object with \"steps\"");
        goto out;
    }
    for (const cJSON *f = root->child; f; f = f->next)
        if (!known(fields, f->string)) {
            path[0].key = f->string;
            rc = perr(&c, path, 1, "unknown field");
            goto out;
        }
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (nm) {
        path[0].key = "name";
        if (!cJSON_IsString(nm) || !scenario_name_valid(nm->valuestring)) {
            rc = perr(&c, path, 1, "must be a string of 1..63 letters, digits, '-' or '_'");
            goto out;
        }
        snprintf(s->name, sizeof s->name, "%s", nm->valuestring);
    }
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (desc && !cJSON_IsString(desc)) {
        path[0].key = "description";
        rc = perr(&c, path, 1, "must be a string");
        goto out;
    }
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(root, "steps");
    path[0].key = "steps";
    if (!steps) {
        rc = perr(&c, path, 0, "\"steps\" is required");
        goto out;
    }
    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0) {
        rc = perr(&c, path, 1, "must be a non-empty array of steps");
        goto out;
    }
    int count = cJSON_GetArraySize(steps);
    if (count > SCENARIO_MAX_STEPS) {
        rc = perr(&c, path, 1, "%d steps, at most %d", count, SCENARIO_MAX_STEPS);
        goto out;
    }
    s->steps = calloc((size_t)count, sizeof *s->steps);
    if (!s->steps) {
        rc = KG_ENOMEM;
        goto out;
    }
    int i = 0;
    for (const cJSON *st = steps->child; st; st = st->next, i++) {
        path[0].key = "steps";
        path[1].key = NULL;
        path[1].index = i;
        if ((rc = parse_step(&c, st, &s->steps[i], path, 2)))
            goto out;
    }
    s->n_steps = (unsigned)count;
out:
    cJSON_Delete(root);
    if (rc) {
        scenario_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int scenario_load_file(const char *path, struct scenario **out, char *errmsg, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(errmsg, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT ? KG_ENOENT : KG_EIO;
    }
    char *buf = malloc(SCENARIO_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return KG_ENOMEM;
    }
    size_t n = fread(buf, 1, SCENARIO_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    int rc;
    if (bad) {
        snprintf(errmsg, errlen, "%s: read error", path);
        rc = KG_EIO;
    } else {
        rc = scenario_parse(buf, n, path, out, errmsg, errlen);
    }
    free(buf);
    return rc;
}

int scenario_apply_caps(struct scenario *s, const struct caps *c, char *errmsg, size_t errlen)
{
    char why[200];
    double total = 0.0;
    for (unsigned i = 0; i < s->n_steps; i++) {
        struct scenario_step *st = &s->steps[i];
        double longest = 0.0;
        for (unsigned j = 0; j < st->n_loads; j++) {
            struct kg_load_spec *l = &st->loads[j];
            if (kg_na(l->duration_s) && !kg_na(st->duration_s))
                l->duration_s = st->duration_s;
            int rc = caps_resolve_load(c, l, l, why, sizeof why);
            if (rc) {
                snprintf(errmsg, errlen, "%s:%u: steps[%u].loads[%u]: %s", s->source,
                         st->load_line[j], i, j, why);
                return rc;
            }
            if (!kg_na(st->duration_s) && l->duration_s > st->duration_s) {
                snprintf(errmsg, errlen, "%s:%u: steps[%u].loads[%u]: duration_s %g longer than its step's %g",
                         s->source, st->load_line[j], i, j, l->duration_s, st->duration_s);
                return KG_EINVAL;
            }
            if (l->duration_s > longest)
                longest = l->duration_s;
        }
        if (kg_na(st->duration_s))
            st->duration_s = longest;
        if (st->duration_s * 1000.0 > (double)c->max_duration_ms) {
            snprintf(errmsg, errlen, "%s:%u: steps[%u]: duration_s %g over the cap max_duration %gs",
                     s->source, st->line, i, st->duration_s, (double)c->max_duration_ms / 1000.0);
            return KG_EPERM;
        }
        int rc = caps_check_concurrent(c, st->loads, st->n_loads, why, sizeof why);
        if (rc) {
            snprintf(errmsg, errlen, "%s:%u: steps[%u]: %s", s->source, st->line, i, why);
            return rc;
        }
        total += st->duration_s;
    }
    if (total * 1000.0 > (double)c->max_duration_ms) {
        snprintf(errmsg, errlen, "%s:1: the whole scenario lasts %gs, over the cap max_duration %gs",
                 s->source, total, (double)c->max_duration_ms / 1000.0);
        return KG_EPERM;
    }
    return 0;
}

double scenario_duration_s(const struct scenario *s)
{
    double t = 0.0;
    for (unsigned i = 0; i < s->n_steps; i++)
        t += kg_na(s->steps[i].duration_s) ? 0.0 : s->steps[i].duration_s;
    return t;
}

int scenario_from_load(const struct kg_load_spec *spec, const char *name, struct scenario **out)
{
    struct scenario *s = calloc(1, sizeof *s);
    if (!s)
        return KG_ENOMEM;
    s->steps = calloc(1, sizeof *s->steps);
    if (!s->steps) {
        free(s);
        return KG_ENOMEM;
    }
    s->n_steps = 1;
    s->steps[0].duration_s = KG_NA;
    s->steps[0].n_loads = 1;
    s->steps[0].loads[0] = *spec;
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    snprintf(s->source, sizeof s->source, "%s", "command");
    *out = s;
    return 0;
}

int scenario_name_valid(const char *name)
{
    return kg_scenario_name_valid(name); /* the wire's rule (docs/PROTOCOL.md) */
}

void scenario_free(struct scenario *s)
{
    if (!s)
        return;
    free(s->steps);
    free(s);
}
