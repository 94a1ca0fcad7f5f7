/* SPDX-License-Identifier: MIT */
/*
 * The field tables of the metric schema (schema.c), shared by its encoder
 * (schema_encode.c), its decoder (schema_decode.c, the only cJSON user) and the
 * host summary's streaming decoder (schema_summary.c), so that a field's key,
 * unit and range live in one place, and what the decoders share. Private to
 * common/, not installed.
 */
#ifndef KG_COMMON_SCHEMA_PRIVATE_H
#define KG_COMMON_SCHEMA_PRIVATE_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "utf8.h"

/* Largest quantity any field takes: the largest double below 2^64, so that a
 * uint64_t counter (as a double) fits and converting to uint64_t for printing
 * is defined. */
#define QMAX 18446744073709549568.0
/* Latest timestamp: 9999-12-31T23:59:59.999Z in epoch ms. */
#define TS_MAX_MS INT64_C(253402300799999)

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
#define F_DEC1 0x200u /* summary cell: written to 1 decimal */
#define F_DEC2 0x400u /* summary cell: written to 2 decimals */

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

/* One payload kind: its fields, in the order the encoder writes them. */
struct table {
    const struct field *fields;
    size_t n;
};

extern const struct table kg_schema__vm, kg_schema__disk, kg_schema__net, kg_schema__host,
    kg_schema__spec, kg_schema__cmd, kg_schema__state, kg_schema__summary,
    kg_schema__summary_cols;

/* s (NUL-terminated) is 8-4-4-4-12 hex digits, a libvirt UUID. */
bool kg_schema__uuid_valid(const char *s);

/* ---- decoding (schema_decode.c; the summary's in schema_summary.c) ------- */

/* Where a decoder's one-line reason goes. */
struct dctx {
    char *errmsg;
    size_t errlen;
};

/* Writes the reason into d's buffer (when there is one); returns code. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline int dfail(struct dctx *d, int code, const char *fmt, ...)
{
    if (d->errmsg && d->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->errmsg, d->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A JSON value as the field decoder sees it, whoever parsed it (a cJSON tree,
 * or the summary's streaming reader). */
enum jkind { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT };
struct jval {
    enum jkind kind;
    double num;              /* J_NUMBER */
    const char *str;         /* J_STRING: unescaped, NUL-terminated (no NUL inside) */
};

/* The pre-scan of raw bytes every decoder makes before parsing: nesting depth,
 * UTF-8 everywhere, string escapes (no \u0000, no lone surrogate), number
 * syntax (at most 40 characters), stray bytes. Not the grammar. 0 or KG_EPARSE. */
int kg_schema__prescan(const unsigned char *s, size_t n, struct dctx *d);
/* "schema" (v; NULL when missing) is KG_SCHEMA_VERSION: the one check made
 * before anything else, since a newer major version may have changed what the
 * other fields mean. */
int kg_schema__check_schema(const struct jval *v, struct dctx *d);
/* One field's value into base + f->off, checked against f (type, range, size,
 * flags); errors name path + f->key. */
int kg_schema__decode_field(const struct field *f, const struct jval *v, void *base,
                            const char *path, struct dctx *d);
/* "null", "a number", "an array"...: for messages. */
const char *kg_schema__type_name(const struct jval *v);

/* ---- UTF-8 --------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n > 0 bytes available), or 0 when it
 * is invalid: overlong forms, surrogates and code points above U+10FFFF too. */
static inline size_t utf8_seq(const unsigned char *s, size_t n)
{
    uint32_t cp;
    return kg_utf8_decode(s, n, &cp);
}

#endif
