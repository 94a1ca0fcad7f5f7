/* SPDX-License-Identifier: MIT */
/*
 * One command line for every kvmgrid program, built on getopt_long over the
 * program's config table (kvmgrid/config.h), so that a flag and a config line
 * mean the same thing, --help lists every key with its default, and the three
 * programs share their common flags and their errors:
 *
 *   -c, --config FILE   the config file ("key = value" lines); flags override it
 *       --check         validate the configuration (and password_file) and exit
 *   -h, --help          the usage text on stdout, exit 0
 *   -V, --version       "<program> <version>" on stdout, exit 0
 *   --KEY VALUE, --KEY=VALUE   any config key, with '-' or '_' between words;
 *                       a bool key alone means true ("--fullscreen"), and takes
 *                       a following true/false/yes/no/on/off/1/0 as its value
 *
 * A program adds its own flags (struct kg_cli_flag), handled by its callback.
 * Arguments that are not options are kept, in order, for the program (verbs).
 * Unique abbreviations of long options are accepted (getopt_long's rule).
 * Not thread-safe (getopt's globals); call from main.
 */
#ifndef KVMGRID_CLI_H
#define KVMGRID_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kvmgrid/config.h"

/* A program's own flag, besides the common ones and the config keys. */
struct kg_cli_flag {
    const char *name;           /* long name without "--"; NULL ends a list */
    char short_name;            /* 0: none */
    const char *value;          /* name of its value in --help; NULL: takes none */
    const char *help;
    int id;                     /* handed to on_flag */
};

struct kg_cli {
    const char *program;              /* "kvmgrid-agent": messages, --version */
    const char *synopsis;             /* lines after "Usage: "; NULL: "PROGRAM [OPTION]..." */
    const char *summary;              /* a paragraph under the synopsis */
    const struct kg_config_key *keys; /* the config table */
    const struct kg_cli_flag *flags;  /* NULL or ended by {NULL} */
    const char *epilogue;             /* keys, signals, exit status: the end of --help */
    /* A program flag was given (value NULL for one without). 0, or a KG_* code
     * with errmsg set: the parse stops with a usage error. */
    int (*on_flag)(void *ctx, int id, const char *value, char *errmsg, size_t errlen);
    void *ctx;
};

struct kg_cli_set {
    const char *key;            /* the table's name of the key */
    const char *value;          /* borrowed from argv */
};

struct kg_cli_args {
    const char *config;         /* -c/--config, or NULL */
    bool check, help, version;
    struct kg_cli_set *set;     /* config keys set by flags, in command-line order */
    size_t n_set;
    char **pos;                 /* arguments that are not options (borrowed) */
    size_t n_pos;
};

/* Parses argv. Returns 0 with *out filled (free with kg_cli_args_free), or
 * KG_EINVAL with errmsg ("unknown option '--x' (try --help)", "--broker needs a
 * value", a program flag's own message...), or KG_ENOMEM. A value is not checked
 * here: kg_cli_apply does that, after the file. */
int kg_cli_parse(const struct kg_cli *cli, int argc, char **argv, struct kg_cli_args *out,
                 char *errmsg, size_t errlen);
void kg_cli_args_free(struct kg_cli_args *a);

/* --help and --version: prints the usage or the version on stdout and returns 0
 * (the exit status) when one was asked for, else -1. */
int kg_cli_answer(const struct kg_cli *cli, const struct kg_cli_args *a);

/* The start of every program's main: kg_cli_parse, then kg_cli_answer, then (unless
 * operands is true) a refusal of arguments that are not options; errors go to stderr
 * as "<program>: <message>". Returns -1 to go on, with *out filled; else the exit
 * status, with *out freed: 0 after --help or --version, usage_status after an error. */
int kg_cli_begin(const struct kg_cli *cli, int argc, char **argv, struct kg_cli_args *out,
                 bool operands, int usage_status);

/* The config file (if any) then the flags, in order, into obj, which holds the
 * defaults beforehand. 0 or the KG_* code of the first error, with errmsg
 * "file:line: message" or "--key: message". */
int kg_cli_apply(const struct kg_config_key *keys, const struct kg_cli_args *a, void *obj,
                 char *errmsg, size_t errlen);

/* The usage text: synopsis, summary, the common flags, the program's flags, then
 * every config key as a flag with its value's form, help and default. */
void kg_cli_usage(const struct kg_cli *cli, FILE *f);

/* What --check prints on success: "<config or 'command line'>: configuration OK". */
void kg_cli_check_ok(const struct kg_cli_args *a, FILE *f);

#endif
