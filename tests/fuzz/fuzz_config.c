/* SPDX-License-Identifier: MIT */
/*
 * Fuzz entry point for the config parser (common/src/config.c): the input is a
 * config file, parsed with kg_config_parse_buffer over a table holding every key
 * type, with and without ranges. Beyond "no crash, no leak, no UB" it checks the
 * parser's promises: a rejection comes with a "name:line: message" naming a line
 * that exists; an accepted file leaves every field valid for its type (strings
 * terminated inside their array, numbers finite and in range, enum indexes in
 * the list); and what was accepted, written back as a config file, parses to the
 * very same struct. The input's first line is also fed to kg_config_set for every
 * key and to kg_config_parse_duration_ms, checking the same things per value.
 * Built as a libFuzzer target (clang, KVMGRID_FUZZ=ON) or linked with fuzz_main.c
 * as a corpus regression test.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/config.h"
#include "kvmgrid/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_conf {
    char str[16];
    char str1[1];            /* only the empty string fits */
    long long i;             /* [-5, 1000] */
    long long i_any;         /* no range */
    double d;                /* [0.5, 99.5] */
    double d_any;            /* no range, finite */
    bool b;
    uint64_t dur_ms;         /* [10, 3600000] */
    uint64_t dur_any_ms;
    uint64_t sz_bytes;       /* [512, 16G] */
    uint64_t sz_any_bytes;
    int mode;                /* enum */
};

static const char *const modes[] = { "bulk", "fallback", "mixed", NULL };

static const struct kg_config_key table[] = {
    { "str", KG_CFG_STRING, offsetof(struct fz_conf, str), sizeof(((struct fz_conf *)0)->str),
      0, 0, NULL, "a string", NULL },
    { "str1", KG_CFG_STRING, offsetof(struct fz_conf, str1), 1, 0, 0, NULL, "tiny", NULL },
    { "i", KG_CFG_INT, offsetof(struct fz_conf, i), 0, -5, 1000, NULL, "int in range", NULL },
    { "i_any", KG_CFG_INT, offsetof(struct fz_conf, i_any), 0, 0, 0, NULL, "any int", NULL },
    { "d", KG_CFG_DOUBLE, offsetof(struct fz_conf, d), 0, 0.5, 99.5, NULL, "double", NULL },
    { "d_any", KG_CFG_DOUBLE, offsetof(struct fz_conf, d_any), 0, 0, 0, NULL, "any double", NULL },
    { "b", KG_CFG_BOOL, offsetof(struct fz_conf, b), 0, 0, 0, NULL, "bool", NULL },
    { "dur", KG_CFG_DURATION_MS, offsetof(struct fz_conf, dur_ms), 0, 10, 3600000, NULL, "d", NULL },
    { "dur.any", KG_CFG_DURATION_MS, offsetof(struct fz_conf, dur_any_ms), 0, 0, 0, NULL, "d", NULL },
    { "size", KG_CFG_SIZE_BYTES, offsetof(struct fz_conf, sz_bytes), 0, 512,
      16.0 * 1024 * 1024 * 1024, NULL, "size", NULL },
    { "size-any", KG_CFG_SIZE_BYTES, offsetof(struct fz_conf, sz_any_bytes), 0, 0, 0, NULL,
      "size", NULL },
    { "mode", KG_CFG_ENUM, offsetof(struct fz_conf, mode), 0, 0, 0, modes, "enum", NULL },
    { NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL },
};

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_config: %s: %s\n", what, detail);
        abort();
    }
}

static void defaults(struct fz_conf *c)
{
    memset(c, 0, sizeof *c); /* padding too, so that memcmp compares values */
    strcpy(c->str, "dflt");
    c->i = 7;
    c->d = 1.5;
    c->dur_ms = 1000;
    c->sz_bytes = 4096;
    c->mode = 1;
}

static bool in(double v, double lo, double hi)
{
    return v >= lo && v <= hi;
}

/* Every field holds a value its key can produce. */
static void check_valid(const struct fz_conf *c, const char *input)
{
    check(memchr(c->str, '\0', sizeof c->str) != NULL, "str not terminated", input);
    check(c->str1[0] == '\0', "str1 not empty", input);
    check(c->i >= -5 && c->i <= 1000, "i out of range", input);
    check(isfinite(c->d) && in(c->d, 0.5, 99.5), "d out of range", input);
    check(isfinite(c->d_any), "d_any not finite", input);
    check(c->dur_ms >= 10 && c->dur_ms <= 3600000, "dur out of range", input);
    check(c->sz_bytes >= 512 && c->sz_bytes <= (16ull << 30), "size out of range", input);
    check(c->mode >= 0 && c->mode < 3, "mode not an index of choices", input);
}

/* Writes c back as a config file that must parse to the same struct. */
static size_t write_back(const struct fz_conf *c, char *out, size_t size)
{
    char q[2 * sizeof c->str + 1];
    size_t o = 0;
    for (const char *s = c->str; *s; s++) {
        if (*s == '"' || *s == '\\') {
            q[o++] = '\\';
            q[o++] = *s;
        } else if (*s == '\n') {
            q[o++] = '\\';
            q[o++] = 'n';
        } else {
            q[o++] = *s;
        }
    }
    q[o] = '\0';
    int n = snprintf(out, size,
                     "# written back\r\n"
                     "str = \"%s\" # a comment\n"
                     "str1 =\n"
                     "  i\t= %lld\n"
                     "i_any = %lld\n"
                     "d = %.17g\n"
                     "d_any = %.17g\n"
                     "b = %s\n"
                     "dur = %" PRIu64 "ms\n"
                     "dur.any = %" PRIu64 "ms\n"
                     "size = %" PRIu64 "B\n"
                     "size-any = %" PRIu64 "\n"
                     "mode = %s\n",
                     q, c->i, c->i_any, c->d, c->d_any, c->b ? "yes" : "off", c->dur_ms,
                     c->dur_any_ms, c->sz_bytes, c->sz_any_bytes, modes[c->mode]);
    check(n > 0 && (size_t)n < size, "write-back buffer too small", "");
    return (size_t)n;
}

static size_t count_lines(const char *buf, size_t len)
{
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n')
            lines++;
    return lines + (len > 0 && buf[len - 1] != '\n');
}

/* What an accepted duration or size should come to: the number (at most 9
 * fraction digits count) times its unit, in long double. The parser's integer
 * result must be within rounding of it. */
static void check_scaled(const char *value, uint64_t got, bool size)
{
    const char *p = value;
    long double ip = 0, fn = 0, fd = 1;
    while (*p >= '0' && *p <= '9')
        ip = ip * 10 + (*p++ - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (fd < 1e9L) {
                fn = fn * 10 + (*p - '0');
                fd *= 10;
            }
        }
    }
    long double mult;
    if (size) {
        switch (*p) {
        case 'k': case 'K': mult = 1024.0L; break;
        case 'm': case 'M': mult = 1048576.0L; break;
        case 'g': case 'G': mult = 1073741824.0L; break;
        case 't': case 'T': mult = 1099511627776.0L; break;
        default: mult = 1; break;
        }
    } else {
        mult = p[0] == 'm' ? (p[1] == 's' ? 1 : 60000) : p[0] == 'h' ? 3600000 : 1000;
    }
    long double want = ip * mult + fn * mult / fd;
    long double diff = (long double)got - want;
    if (diff < 0)
        diff = -diff;
    check(diff <= 1.0L + want * 1e-17L, size ? "size: wrong value" : "duration: wrong value",
          value);
}

/* The first line alone, as a value of every key. */
static void fuzz_values(const char *buf, size_t len)
{
    char value[512];
    const char *nl = memchr(buf, '\n', len);
    size_t n = nl ? (size_t)(nl - buf) : len;
    if (n >= sizeof value)
        n = sizeof value - 1;
    memcpy(value, buf, n);
    value[n] = '\0'; /* stops at an embedded NUL too: a C string */

    for (const struct kg_config_key *k = table; k->name; k++) {
        struct fz_conf c;
        char err[256] = "";
        defaults(&c);
        int r = kg_config_set(table, &c, k->name, value, err, sizeof err);
        if (r < 0) {
            check(r == KG_EINVAL || r == KG_ERANGE, "kg_config_set: undocumented code", value);
            check(err[0] != '\0', "kg_config_set: error without a message", value);
        }
        check_valid(&c, value);
        if (r == 0 && strcmp(k->name, "size-any") == 0)
            check_scaled(value, c.sz_any_bytes, true);
        if (r == 0 && strcmp(k->name, "dur.any") == 0)
            check_scaled(value, c.dur_any_ms, false);
    }

    uint64_t ms, again;
    int r = kg_config_parse_duration_ms(value, &ms);
    check(r == 0 || r == KG_EINVAL || r == KG_ERANGE, "duration: undocumented code", value);
    if (r == 0) {
        char back[32];
        snprintf(back, sizeof back, "%" PRIu64 "ms", ms);
        check(kg_config_parse_duration_ms(back, &again) == 0 && again == ms,
              "duration: ms figure does not parse back", value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct fz_conf c, c2;
    char err[256] = "";
    static char text[8192];

    fuzz_values(buf, size);

    defaults(&c);
    int r = kg_config_parse_buffer(table, &c, "fz.conf", buf, size, err, sizeof err);
    if (r < 0) {
        check(r == KG_EPARSE || r == KG_ETOOBIG || r == KG_ENOENT || r == KG_EINVAL ||
                  r == KG_ERANGE,
              "undocumented error code", err);
        /* "fz.conf:<line>: <message>", the line one that exists. */
        unsigned long line = 0;
        int used = 0;
        check(sscanf(err, "fz.conf:%lu: %n", &line, &used) == 1 && used > 0 &&
                  err[used] != '\0',
              "error not in the form name:line: message", err);
        check(line >= 1 && line <= count_lines(buf, size), "error names no input line", err);
        return 0;
    }
    check(err[0] == '\0', "success wrote an error message", err);
    check_valid(&c, "(file)");

    /* Written back, the accepted values parse to the same struct. */
    size_t n = write_back(&c, text, sizeof text);
    defaults(&c2);
    r = kg_config_parse_buffer(table, &c2, "back.conf", text, n, err, sizeof err);
    check(r == 0, "written-back config rejected", err);
    /* Bytes after a string's NUL are leftovers of longer earlier values: not compared. */
    size_t sl = strlen(c.str);
    memset(c.str + sl, 0, sizeof c.str - sl);
    sl = strlen(c2.str);
    memset(c2.str + sl, 0, sizeof c2.str - sl);
    check(memcmp(&c, &c2, sizeof c) == 0, "written-back config parses differently", text);
    return 0;
}
