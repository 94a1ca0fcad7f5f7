/* SPDX-License-Identifier: MIT */
/*
 * A small, strict config-file parser, table-driven, shared by every program.
 *
 * File format: one "key = value" per line; '#' starts a comment at the start of a
 * line or after whitespace; blank lines ignored; the value is the rest of the line
 * with surrounding whitespace removed, optionally in double quotes (then \" \\ \n
 * escapes apply, and '#' is literal). A key given twice is an error (KG_EINVAL,
 * naming the line that set it first); a flag may still override a file's value.
 * Unknown keys, values of the wrong type or out of range are errors, reported as
 * "file:line: message" in the caller's buffer. Lines longer than 4095 bytes and
 * files with NUL bytes are errors.
 * Details: keys are [A-Za-z0-9_.-]+ and case-sensitive; CRLF line ends are
 * accepted; "key =" sets the empty string (an error for non-string types); in an
 * unquoted value a '#' not preceded by whitespace is literal ("a#b"); after a
 * closing quote only whitespace and a comment may follow; any other backslash
 * escape in quotes is an error; files above 1 MiB are refused. Integers are
 * decimal; ENUM values match choices[] exactly (case-sensitive).
 * Error codes: KG_EPARSE for syntax (no '=', missing quote, NUL, bad escape),
 * KG_ETOOBIG for a long line, else the code of kg_config_set for the value.
 *
 * The same table sets values from command-line flags (kg_config_set), so a flag
 * --broker X and a line "broker = X" mean the same thing.
 * Pure module: never logs. Not thread-safe on one object; use from one thread.
 */
#ifndef KVMGRID_CONFIG_H
#define KVMGRID_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kg_config_type {
    KG_CFG_STRING,      /* char[size] at offset; value must fit (size includes NUL) */
    KG_CFG_INT,         /* long long at offset, within [min, max] */
    KG_CFG_DOUBLE,      /* double at offset, finite, within [min, max] */
    KG_CFG_BOOL,        /* bool at offset: true/false, yes/no, on/off, 1/0 */
    KG_CFG_DURATION_MS, /* uint64_t ms at offset: "250ms", "5s", "2m", "1h", or a bare
                           number of seconds ("5", "0.5"), within [min, max] ms */
    KG_CFG_SIZE_BYTES,  /* uint64_t bytes: "512", "64k", "16M", "2G" (binary units),
                           within [min, max]; also "1T", "4KiB", "16MB", "512B" (all
                           binary), and fractions with a unit ("1.5G", rounded) */
    KG_CFG_ENUM,        /* int at offset: index of the value in choices[] */
};

struct kg_config_key {
    const char *name;          /* key as written in the file, e.g. "broker" */
    enum kg_config_type type;
    size_t offset;             /* offsetof(struct your_config, field) */
    size_t size;               /* KG_CFG_STRING: sizeof the char array */
    double min, max;           /* numeric range; ignored when min == max == 0 */
    const char *const *choices;/* KG_CFG_ENUM: NULL-terminated list */
    const char *help;          /* one line for --help and docs */
    const char *def;           /* default, as it would be written in the file; NULL:
                                  set by the program (computed, e.g. the host name) */
};
/* Tables end with an entry whose name is NULL. A table is the single place a
 * key's type, range, help and default live: kg_config_defaults applies the
 * defaults, kvmgrid/cli.h turns every key into a flag and prints --help from it. */

/* Sets one key from a string value. Returns 0, KG_ENOENT (unknown key), KG_EINVAL
 * (wrong type/format) or KG_ERANGE (out of range, or a string that does not fit);
 * errmsg (may be NULL) receives "message" without location. */
int kg_config_set(const struct kg_config_key *table, void *obj, const char *key,
                  const char *value, char *errmsg, size_t errlen);

/* Parses the file at path into obj (which holds the defaults beforehand). On the
 * first error returns a negative KG_* code and writes "path:line: message" into
 * errmsg (or "path: <strerror>" when it cannot be read: KG_ENOENT when missing,
 * KG_EPERM when not readable, KG_EIO otherwise). obj may have been partly
 * updated on error: parse into a copy when the old config must survive (SIGHUP). */
int kg_config_parse_file(const struct kg_config_key *table, void *obj, const char *path,
                         char *errmsg, size_t errlen);
/* Same, from a buffer; name is used in messages in place of the path. */
int kg_config_parse_buffer(const struct kg_config_key *table, void *obj, const char *name,
                           const char *buf, size_t len, char *errmsg, size_t errlen);

/* Sets every key that has a default (def) to it. 0, or the kg_config_set code of
 * the first default that does not parse (a bug in the table) with errmsg
 * "key: message". */
int kg_config_defaults(const struct kg_config_key *table, void *obj, char *errmsg,
                       size_t errlen);

/* The line of the file at path (may be NULL) on which key was last assigned, or 0
 * when it is not there or the file cannot be read: for checks made after parsing
 * that want to say "file:line: message". */
int kg_config_key_line(const char *path, const char *key);

/* Writes "path:line: key: message" into errmsg (line from kg_config_key_line;
 * "path: key: message" without one, "command line: ..." without a path) and
 * returns code: for a program's checks after parsing. */
__attribute__((format(printf, 6, 7)))
int kg_config_error(const char *path, const char *key, int code, char *errmsg, size_t errlen,
                    const char *fmt, ...);

/* Finds a key in the table, or NULL. */
const struct kg_config_key *kg_config_find(const struct kg_config_key *table, const char *key);

/* Parses a duration ("250ms", "5s", "2m", "1h", "1.5", bare = seconds) into ms.
 * 0 or KG_EINVAL/KG_ERANGE. Also used for command-line durations like --for 120s.
 * Units are lowercase, written right after the number; no sign, no spaces, no
 * exponent; fractions are allowed with any unit and rounded to the nearest ms
 * (at most 9 fraction digits count). KG_ERANGE when it overflows uint64_t ms. */
int kg_config_parse_duration_ms(const char *s, uint64_t *out_ms);

#endif
