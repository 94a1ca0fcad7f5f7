/* SPDX-License-Identifier: MIT */
/*
 * A small, strict "key = value" config parser driven by a table of keys
 * (struct kg_config_key), shared by every kvmgrid program so that a config line and
 * the matching command-line flag mean the same thing. It reports the first error as
 * "file:line: message" and stops. Deliberately not INI, not sections, no includes,
 * no environment expansion. Pure: no logging, no global state.
 */
#include "kvmgrid/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kvmgrid/error.h"

#define KG_CONFIG_LINE_MAX 4095
#define KG_CONFIG_FILE_MAX (1u << 20) /* 1 MiB: a config file, not a data set */

__attribute__((format(printf, 3, 4)))
static void errf(char *errmsg, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!errmsg || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errmsg, errlen, fmt, ap);
    va_end(ap);
}

const struct kg_config_key *kg_config_find(const struct kg_config_key *table, const char *key)
{
    if (!table || !key)
        return NULL;
    for (const struct kg_config_key *k = table; k->name; k++) {
        if (strcmp(k->name, key) == 0)
            return k;
    }
    return NULL;
}

static bool has_range(const struct kg_config_key *k)
{
    return !(k->min == 0 && k->max == 0);
}

/* Parses an unsigned decimal "digits[.digits]" at *s, advancing *s. The value is
 * ip + fnum / fden, with at most 9 fraction digits kept. 0 or KG_EINVAL/KG_ERANGE. */
static int parse_udecimal(const char **s, uint64_t *ip, uint64_t *fnum, uint64_t *fden)
{
    const char *p = *s;
    uint64_t v = 0, fn = 0, fd = 1;
    bool digits = false;

    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return KG_ERANGE;
        v = v * 10 + d;
        digits = true;
        p++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (fd < 1000000000u) {
                fn = fn * 10 + (unsigned)(*p - '0');
                fd *= 10;
            }
            digits = true;
            p++;
        }
    }
    if (!digits)
        return KG_EINVAL;
    *ip = v;
    *fnum = fn;
    *fden = fd;
    *s = p;
    return 0;
}

/* ip + fnum/fden times mult, rounded to nearest; KG_ERANGE on overflow. */
static int scale(uint64_t ip, uint64_t fnum, uint64_t fden, uint64_t mult, uint64_t *out)
{
    if (mult != 0 && ip > UINT64_MAX / mult)
        return KG_ERANGE;
    uint64_t v = ip * mult;
    /* round(fnum * mult / fden) without forming fnum * mult, which overflows for
     * size units (1e9 * 2^40): with mult = q * fden + r, it is fnum * q plus
     * round(fnum * r / fden), and fnum, r < fden <= 1e9 keep that product small. */
    uint64_t q = mult / fden, r = mult % fden;
    uint64_t frac = fnum * q + (fnum * r + fden / 2) / fden;
    if (v > UINT64_MAX - frac)
        return KG_ERANGE;
    *out = v + frac;
    return 0;
}

int kg_config_parse_duration_ms(const char *s, uint64_t *out_ms)
{
    uint64_t ip, fn, fd, mult;
    const char *p = s;
    int r;

    if (!s || !out_ms)
        return KG_EINVAL;
    r = parse_udecimal(&p, &ip, &fn, &fd);
    if (r < 0)
        return r;
    if (strcmp(p, "") == 0 || strcmp(p, "s") == 0)
        mult = 1000;
    else if (strcmp(p, "ms") == 0)
        mult = 1;
    else if (strcmp(p, "m") == 0)
        mult = 60u * 1000;
    else if (strcmp(p, "h") == 0)
        mult = 3600u * 1000;
    else
        return KG_EINVAL;
    return scale(ip, fn, fd, mult, out_ms);
}

static int parse_size(const char *s, uint64_t *out)
{
    uint64_t ip, fn, fd, mult = 1;
    const char *p = s;
    int r;

    r = parse_udecimal(&p, &ip, &fn, &fd);
    if (r < 0)
        return r;
    switch (*p) {
    case 'k': case 'K': mult = 1ull << 10; p++; break;
    case 'm': case 'M': mult = 1ull << 20; p++; break;
    case 'g': case 'G': mult = 1ull << 30; p++; break;
    case 't': case 'T': mult = 1ull << 40; p++; break;
    default: break;
    }
    if (mult > 1 && strcmp(p, "iB") == 0)
        p += 2;
    else if (strcmp(p, "B") == 0)
        p += 1;
    if (*p != '\0')
        return KG_EINVAL;
    if (fn != 0 && mult == 1)
        return KG_EINVAL; /* "1.5" bytes */
    return scale(ip, fn, fd, mult, out);
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return KG_EINVAL;
}

static int range_err(const struct kg_config_key *k, const char *value, char *errmsg,
                     size_t errlen)
{
    if (has_range(k))
        errf(errmsg, errlen, "value '%s' for '%s' is out of range [%.15g, %.15g]", value,
             k->name, k->min, k->max);
    else
        errf(errmsg, errlen, "value '%s' for '%s' is out of range", value, k->name);
    return KG_ERANGE;
}

/* strtoll/strtod skip leading space and accept words (nan, inf); a value must
 * start like a number. */
static bool starts_numeric(const char *v)
{
    return (*v >= '0' && *v <= '9') || *v == '-' || *v == '+' || *v == '.';
}

int kg_config_set(const struct kg_config_key *table, void *obj, const char *key,
                  const char *value, char *errmsg, size_t errlen)
{
    const struct kg_config_key *k;
    char *field;
    int r;

    if (!table || !obj || !key || !value) {
        errf(errmsg, errlen, "invalid arguments");
        return KG_EINVAL;
    }
    k = kg_config_find(table, key);
    if (!k) {
        errf(errmsg, errlen, "unknown key '%s'", key);
        return KG_ENOENT;
    }
    field = (char *)obj + k->offset;

    switch (k->type) {
    case KG_CFG_STRING: {
        size_t n = strlen(value);
        if (n + 1 > k->size) {
            errf(errmsg, errlen, "value for '%s' is too long (%zu bytes, at most %zu)",
                 k->name, n, k->size ? k->size - 1 : 0);
            return KG_ERANGE;
        }
        memcpy(field, value, n + 1);
        return 0;
    }
    case KG_CFG_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0' || !starts_numeric(value)) {
            errf(errmsg, errlen, "'%s' expects an integer, not '%s'", k->name, value);
            return KG_EINVAL;
        }
        if (errno == ERANGE || (has_range(k) && ((double)v < k->min || (double)v > k->max)))
            return range_err(k, value, errmsg, errlen);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case KG_CFG_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || !starts_numeric(value)) {
            errf(errmsg, errlen, "'%s' expects a number, not '%s'", k->name, value);
            return KG_EINVAL;
        }
        if (!isfinite(v)) {
            errf(errmsg, errlen, "'%s' expects a finite number, not '%s'", k->name, value);
            return errno == ERANGE ? KG_ERANGE : KG_EINVAL;
        }
        if (has_range(k) && (v < k->min || v > k->max))
            return range_err(k, value, errmsg, errlen);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case KG_CFG_BOOL: {
        bool v;
        if (parse_bool(value, &v) < 0) {
            errf(errmsg, errlen, "'%s' expects true/false, yes/no, on/off or 1/0, not '%s'",
                 k->name, value);
            return KG_EINVAL;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case KG_CFG_DURATION_MS: {
        uint64_t v;
        r = kg_config_parse_duration_ms(value, &v);
        if (r == KG_EINVAL) {
            errf(errmsg, errlen,
                 "'%s' expects a duration like 250ms, 5s, 2m, 1h or seconds, not '%s'",
                 k->name, value);
            return r;
        }
        if (r < 0 || (has_range(k) && ((double)v < k->min || (double)v > k->max))) {
            if (has_range(k))
                errf(errmsg, errlen,
                     "duration '%s' for '%s' is out of range [%.15g ms, %.15g ms]", value,
                     k->name, k->min, k->max);
            else
                errf(errmsg, errlen, "duration '%s' for '%s' is too long", value, k->name);
            return KG_ERANGE;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case KG_CFG_SIZE_BYTES: {
        uint64_t v;
        r = parse_size(value, &v);
        if (r == KG_EINVAL) {
            errf(errmsg, errlen, "'%s' expects a size like 512, 64k, 16M or 2G, not '%s'",
                 k->name, value);
            return r;
        }
        if (r < 0 || (has_range(k) && ((double)v < k->min || (double)v > k->max))) {
            if (has_range(k))
                errf(errmsg, errlen, "size '%s' for '%s' is out of range [%.15g, %.15g] bytes",
                     value, k->name, k->min, k->max);
            else
                errf(errmsg, errlen, "size '%s' for '%s' is too large", value, k->name);
            return KG_ERANGE;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case KG_CFG_ENUM: {
        if (!k->choices) {
            errf(errmsg, errlen, "'%s' has no choices", k->name);
            return KG_EINVAL;
        }
        for (int i = 0; k->choices[i]; i++) {
            if (strcmp(value, k->choices[i]) == 0) {
                memcpy(field, &i, sizeof i);
                return 0;
            }
        }
        /* List the choices so the operator can fix the line without the docs. */
        char list[256];
        size_t o = 0;
        list[0] = '\0';
        for (int i = 0; k->choices[i] && o < sizeof list; i++) {
            int w = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", k->choices[i]);
            if (w < 0)
                break;
            o += (size_t)w;
        }
        errf(errmsg, errlen, "'%s' expects one of: %s; not '%s'", k->name, list, value);
        return KG_EINVAL;
    }
    }
    errf(errmsg, errlen, "'%s' has an unknown type", k->name);
    return KG_EINVAL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

/* Parses one line (NUL-terminated, no newline). 0 or a KG_* code with msg set. */
/* seen[i]: the line that set table[i], 0 while unset. */
static int parse_line(const struct kg_config_key *table, void *obj, char *line, char *msg,
                      size_t msglen, size_t *seen, size_t lineno)
{
    char *p = line;
    char *key, *value;

    while (is_space(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    key = p;
    while (is_key_char(*p))
        p++;
    if (p == key) {
        errf(msg, msglen, "expected 'key = value'");
        return KG_EPARSE;
    }
    char *key_end = p;
    while (is_space(*p))
        p++;
    if (*p != '=') {
        errf(msg, msglen, "expected '=' after the key");
        return KG_EPARSE;
    }
    *key_end = '\0';
    p++;
    while (is_space(*p))
        p++;

    if (*p == '"') {
        /* Quoted: \" \\ \n escapes, '#' literal; only a comment may follow. */
        char *w = p;
        value = p;
        p++;
        for (;;) {
            if (*p == '\0') {
                errf(msg, msglen, "missing closing quote");
                return KG_EPARSE;
            }
            if (*p == '"')
                break;
            if (*p == '\\') {
                p++;
                if (*p == '"' || *p == '\\')
                    *w++ = *p++;
                else if (*p == 'n') {
                    *w++ = '\n';
                    p++;
                } else {
                    errf(msg, msglen, "unknown escape in quoted value (only \\\" \\\\ \\n)");
                    return KG_EPARSE;
                }
                continue;
            }
            *w++ = *p++;
        }
        p++; /* closing quote */
        *w = '\0';
        while (is_space(*p))
            p++;
        if (*p != '\0' && *p != '#') {
            errf(msg, msglen, "unexpected text after the closing quote");
            return KG_EPARSE;
        }
    } else {
        /* Unquoted: up to a '#' that follows whitespace, then trimmed. */
        value = p;
        char *end = p;
        while (*end && !(*end == '#' && end > value && is_space(end[-1])))
            end++;
        while (end > value && is_space(end[-1]))
            end--;
        *end = '\0';
    }

    /* A key set twice is a mistake the file's reader cannot see (which one
     * counts?): refuse it, as an unknown key is refused. */
    const struct kg_config_key *k = kg_config_find(table, key);
    if (k && seen[k - table]) {
        errf(msg, msglen, "'%s' is already set on line %zu (each key may appear once)", key,
             seen[k - table]);
        return KG_EINVAL;
    }
    char sub[512];
    int r = kg_config_set(table, obj, key, value, sub, sizeof sub);
    if (r < 0)
        errf(msg, msglen, "%s", sub);
    else if (k)
        seen[k - table] = lineno;
    return r;
}

int kg_config_parse_buffer(const struct kg_config_key *table, void *obj, const char *name,
                           const char *buf, size_t len, char *errmsg, size_t errlen)
{
    char line[KG_CONFIG_LINE_MAX + 2];
    char msg[600];
    size_t lineno = 0;
    size_t pos = 0;

    if (!name)
        name = "(config)";
    if (!table || !obj || (!buf && len > 0)) {
        errf(errmsg, errlen, "%s: invalid arguments", name);
        return KG_EINVAL;
    }
    size_t n_keys = 0;
    while (table[n_keys].name)
        n_keys++;
    size_t *seen = calloc(n_keys + 1, sizeof *seen);
    if (!seen) {
        errf(errmsg, errlen, "%s: out of memory", name);
        return KG_ENOMEM;
    }
    int rc = 0;
    while (pos < len) {
        const char *start = buf + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        lineno++;
        pos += n + (nl ? 1 : 0);
        if (memchr(start, '\0', n)) {
            errf(errmsg, errlen, "%s:%zu: NUL byte in the line", name, lineno);
            rc = KG_EPARSE;
            break;
        }
        if (n > 0 && start[n - 1] == '\r')
            n--; /* CRLF files */
        if (n > KG_CONFIG_LINE_MAX) {
            errf(errmsg, errlen, "%s:%zu: line longer than %d bytes", name, lineno,
                 KG_CONFIG_LINE_MAX);
            rc = KG_ETOOBIG;
            break;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        rc = parse_line(table, obj, line, msg, sizeof msg, seen, lineno);
        if (rc < 0) {
            errf(errmsg, errlen, "%s:%zu: %s", name, lineno, msg);
            break;
        }
    }
    free(seen);
    return rc < 0 ? rc : 0;
}

int kg_config_parse_file(const struct kg_config_key *table, void *obj, const char *path,
                         char *errmsg, size_t errlen)
{
    FILE *f;
    char *buf = NULL;
    size_t len = 0;
    int r;

    if (!path) {
        errf(errmsg, errlen, "(null): no config path");
        return KG_EINVAL;
    }
    f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        errf(errmsg, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT ? KG_ENOENT : e == EACCES ? KG_EPERM : KG_EIO;
    }
    buf = malloc(KG_CONFIG_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        errf(errmsg, errlen, "%s: out of memory", path);
        return KG_ENOMEM;
    }
    len = fread(buf, 1, KG_CONFIG_FILE_MAX + 1, f);
    if (ferror(f)) {
        int e = errno;
        errf(errmsg, errlen, "%s: %s", path, strerror(e ? e : EIO));
        r = KG_EIO;
    } else if (len > KG_CONFIG_FILE_MAX) {
        errf(errmsg, errlen, "%s: file larger than %u bytes", path, KG_CONFIG_FILE_MAX);
        r = KG_ETOOBIG;
    } else {
        r = kg_config_parse_buffer(table, obj, path, buf, len, errmsg, errlen);
    }
    free(buf);
    fclose(f);
    return r;
}

int kg_config_defaults(const struct kg_config_key *table, void *obj, char *errmsg,
                       size_t errlen)
{
    for (const struct kg_config_key *k = table; k && k->name; k++) {
        if (!k->def)
            continue;
        char why[256] = "";
        int rc = kg_config_set(table, obj, k->name, k->def, why, sizeof why);
        if (rc) {
            errf(errmsg, errlen, "%s: %s", k->name, why);
            return rc;
        }
    }
    return 0;
}

int kg_config_key_line(const char *path, const char *key)
{
    if (!path || !key)
        return 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[KG_CONFIG_LINE_MAX + 2];
    int n = 0, found = 0;
    size_t kl = strlen(key);
    bool whole = true; /* line holds the start of a file line */
    while (fgets(line, sizeof line, f)) {
        bool start = whole;
        whole = strchr(line, '\n') != NULL;
        if (!start)
            continue;
        n++;
        const char *p = line;
        while (is_space(*p))
            p++;
        if (strncmp(p, key, kl) != 0)
            continue;
        p += kl;
        while (is_space(*p))
            p++;
        if (*p == '=')
            found = n;
    }
    fclose(f);
    return found;
}

int kg_config_error(const char *path, const char *key, int code, char *errmsg, size_t errlen,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = kg_config_key_line(path, key);
    if (line > 0)
        errf(errmsg, errlen, "%s:%d: %s: %s", path, line, key, msg);
    else
        errf(errmsg, errlen, "%s: %s: %s", path ? path : "command line", key, msg);
    return code;
}
