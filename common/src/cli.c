/* SPDX-License-Identifier: MIT */
/*
 * The command line over a config table (kvmgrid/cli.h): getopt_long with one
 * long option per key (in both spellings), the common flags and the program's.
 */
#include "kvmgrid/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/version.h"

enum {
    OPT_CHECK = 0x100,
    OPT_KEY = 0x1000,   /* + the key's index in the table */
    OPT_FLAG = 0x100000 /* + the flag's index in the program's list */
};

__attribute__((format(printf, 3, 4)))
static int usage_err(char *errmsg, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errlen, fmt, ap);
    va_end(ap);
    return KG_EINVAL;
}

static size_t count_keys(const struct kg_cli *cli)
{
    size_t n = 0;
    while (cli->keys && cli->keys[n].name)
        n++;
    return n;
}

static size_t count_flags(const struct kg_cli *cli)
{
    size_t n = 0;
    while (cli->flags && cli->flags[n].name)
        n++;
    return n;
}

/* "password_file" -> "password-file" in a new string, or NULL when it has no '_'. */
static char *dashed(const char *name, bool *oom)
{
    if (!strchr(name, '_'))
        return NULL;
    char *d = strdup(name);
    if (!d) {
        *oom = true;
        return NULL;
    }
    for (char *p = d; *p; p++)
        if (*p == '_')
            *p = '-';
    return d;
}

/* Frees the dashed names (each follows its key's own name) and the array. */
static void free_options(struct option *o, size_t first_key)
{
    for (size_t i = first_key; o[i].name; i++)
        if (i > first_key && o[i].val == o[i - 1].val && o[i].val >= OPT_KEY &&
            o[i].val < OPT_FLAG)
            free((char *)o[i].name);
    free(o);
}

/* The long options: common, program flags, then each key as written and dashed.
 * Dashed names are malloc'd; free_options frees them. */
static struct option *build_options(const struct kg_cli *cli, size_t nkeys, size_t nflags)
{
    struct option *o = calloc(4 + nflags + 2 * nkeys + 1, sizeof *o);
    if (!o)
        return NULL;
    size_t n = 0;
    o[n++] = (struct option){"config", required_argument, NULL, 'c'};
    o[n++] = (struct option){"check", no_argument, NULL, OPT_CHECK};
    o[n++] = (struct option){"help", no_argument, NULL, 'h'};
    o[n++] = (struct option){"version", no_argument, NULL, 'V'};
    for (size_t i = 0; i < nflags; i++)
        o[n++] = (struct option){cli->flags[i].name,
                                 cli->flags[i].value ? required_argument : no_argument, NULL,
                                 OPT_FLAG + (int)i};
    bool oom = false;
    for (size_t i = 0; i < nkeys; i++) {
        const struct kg_config_key *k = &cli->keys[i];
        int has = k->type == KG_CFG_BOOL ? optional_argument : required_argument;
        o[n++] = (struct option){k->name, has, NULL, OPT_KEY + (int)i};
        char *d = dashed(k->name, &oom);
        if (d)
            o[n++] = (struct option){d, has, NULL, OPT_KEY + (int)i};
    }
    o[n] = (struct option){NULL, 0, NULL, 0};
    if (oom) {
        free_options(o, 4 + nflags);
        return NULL;
    }
    return o;
}

static bool bool_word(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "1", "0"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(s, words[i]))
            return true;
    return false;
}

static void short_options(const struct kg_cli *cli, size_t nflags, char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, ":c:hV");
    for (size_t i = 0; i < nflags && n + 3 < size; i++) {
        if (!cli->flags[i].short_name)
            continue;
        out[n++] = cli->flags[i].short_name;
        if (cli->flags[i].value)
            out[n++] = ':';
    }
    out[n] = '\0';
}

/* Which program flag a short option is, or -1. */
static int short_flag(const struct kg_cli *cli, size_t nflags, int c)
{
    for (size_t i = 0; i < nflags; i++)
        if (cli->flags[i].short_name && cli->flags[i].short_name == c)
            return (int)i;
    return -1;
}

/* The option's text as given, for messages. */
static const char *given(char **argv, int argc)
{
    return optind > 0 && optind <= argc ? argv[optind - 1] : "?";
}

static int take(const struct kg_cli *cli, int c, int argc, char **argv, size_t nflags,
                struct kg_cli_args *out, char *errmsg, size_t errlen)
{
    switch (c) {
    case 'c':
        out->config = optarg;
        return 0;
    case OPT_CHECK:
        out->check = true;
        return 0;
    case 'h':
        out->help = true;
        return 0;
    case 'V':
        out->version = true;
        return 0;
    case ':':
        return usage_err(errmsg, errlen, "%s needs a value (try --help)", given(argv, argc));
    case '?':
        if (strncmp(given(argv, argc), "--", 2) != 0)
            return usage_err(errmsg, errlen, "unknown option '-%c' (try --help)", optopt);
        if (optopt)
            return usage_err(errmsg, errlen, "%s takes no value (try --help)", given(argv, argc));
        return usage_err(errmsg, errlen, "unknown or ambiguous option '%s' (try --help)",
                         given(argv, argc));
    default:
        break;
    }
    if (c >= OPT_KEY && c < OPT_FLAG) {
        const struct kg_config_key *k = &cli->keys[c - OPT_KEY];
        const char *v = optarg;
        if (!v && k->type == KG_CFG_BOOL)
            v = optind < argc && bool_word(argv[optind]) ? argv[optind++] : "true";
        out->set[out->n_set++] = (struct kg_cli_set){k->name, v};
        return 0;
    }
    int fi = c >= OPT_FLAG ? c - OPT_FLAG : short_flag(cli, nflags, c);
    if (fi < 0 || (size_t)fi >= nflags || !cli->on_flag)
        return usage_err(errmsg, errlen, "unknown option '%s' (try --help)", given(argv, argc));
    char why[400] = "";
    int rc = cli->on_flag(cli->ctx, cli->flags[fi].id, optarg, why, sizeof why);
    if (rc)
        usage_err(errmsg, errlen, "%s", why[0] ? why : kg_strerror(rc));
    return rc;
}

int kg_cli_parse(const struct kg_cli *cli, int argc, char **argv, struct kg_cli_args *out,
                 char *errmsg, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t nkeys = count_keys(cli), nflags = count_flags(cli);
    struct option *longopts = build_options(cli, nkeys, nflags);
    out->set = calloc((size_t)(argc > 0 ? argc : 1), sizeof *out->set);
    out->pos = calloc((size_t)(argc > 0 ? argc : 1), sizeof *out->pos);
    if (!longopts || !out->set || !out->pos) {
        if (longopts)
            free_options(longopts, 4 + nflags);
        kg_cli_args_free(out);
        usage_err(errmsg, errlen, "out of memory");
        return KG_ENOMEM;
    }
    char shorts[64];
    short_options(cli, nflags, shorts, sizeof shorts);
    optind = 0; /* a full reset: the parse may run more than once (tests) */
    opterr = 0;
    int rc = 0, c;
    while (rc == 0 && (c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1)
        rc = take(cli, c, argc, argv, nflags, out, errmsg, errlen);
    if (rc == 0)
        for (int i = optind; i < argc; i++)
            out->pos[out->n_pos++] = argv[i];
    free_options(longopts, 4 + nflags);
    if (rc)
        kg_cli_args_free(out);
    return rc;
}

void kg_cli_args_free(struct kg_cli_args *a)
{
    free(a->set);
    free(a->pos);
    a->set = NULL;
    a->pos = NULL;
    a->n_set = a->n_pos = 0;
}

int kg_cli_answer(const struct kg_cli *cli, const struct kg_cli_args *a)
{
    if (a->help) {
        kg_cli_usage(cli, stdout);
        return 0;
    }
    if (a->version) {
        printf("%s %s\n", cli->program, KG_VERSION);
        return 0;
    }
    return -1;
}

int kg_cli_begin(const struct kg_cli *cli, int argc, char **argv, struct kg_cli_args *out,
                 bool operands, int usage_status)
{
    char err[1024];
    if (kg_cli_parse(cli, argc, argv, out, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", cli->program, err);
        return usage_status;
    }
    int rc = kg_cli_answer(cli, out);
    if (rc < 0 && !operands && out->n_pos > 0) {
        fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", cli->program, out->pos[0]);
        rc = usage_status;
    }
    if (rc >= 0)
        kg_cli_args_free(out);
    return rc;
}

int kg_cli_apply(const struct kg_config_key *keys, const struct kg_cli_args *a, void *obj,
                 char *errmsg, size_t errlen)
{
    int rc = 0;
    if (a->config)
        rc = kg_config_parse_file(keys, obj, a->config, errmsg, errlen);
    for (size_t i = 0; rc == 0 && i < a->n_set; i++) {
        char why[400] = "";
        rc = kg_config_set(keys, obj, a->set[i].key, a->set[i].value, why, sizeof why);
        if (rc) {
            char flag[80];
            snprintf(flag, sizeof flag, "%s", a->set[i].key);
            for (char *p = flag; *p; p++)
                if (*p == '_')
                    *p = '-';
            snprintf(errmsg, errlen, "--%s: %s", flag, why[0] ? why : kg_strerror(rc));
        }
    }
    return rc;
}

/* The value's form in --help, from its type and name. */
static void value_form(const struct kg_config_key *k, char *out, size_t size)
{
    size_t nl = strlen(k->name);
    switch (k->type) {
    case KG_CFG_INT: snprintf(out, size, "N"); return;
    case KG_CFG_DOUBLE: snprintf(out, size, "NUM"); return;
    case KG_CFG_BOOL: snprintf(out, size, "[BOOL]"); return;
    case KG_CFG_DURATION_MS: snprintf(out, size, "DURATION"); return;
    case KG_CFG_SIZE_BYTES: snprintf(out, size, "SIZE"); return;
    case KG_CFG_ENUM: {
        size_t n = 0;
        out[0] = '\0';
        for (const char *const *c = k->choices; c && *c && n + 1 < size; c++)
            n += (size_t)snprintf(out + n, size - n, "%s%s", c == k->choices ? "" : "|", *c);
        return;
    }
    case KG_CFG_STRING: break;
    }
    if (nl > 5 && !strcmp(k->name + nl - 5, "_file"))
        snprintf(out, size, "FILE");
    else if ((nl > 4 && !strcmp(k->name + nl - 4, "_dir")) ||
             (nl > 5 && !strcmp(k->name + nl - 5, "_root")))
        snprintf(out, size, "DIR");
    else if (!strcmp(k->name, "broker") || (nl > 4 && !strcmp(k->name + nl - 4, "_uri")))
        snprintf(out, size, "URI");
    else
        snprintf(out, size, "TEXT");
}

/* One entry of --help: the flag in a column of its own, then the help and the
 * default, wrapped at 79 columns. */
static void line(FILE *f, const char *left, const char *help, const char *def)
{
    enum { INDENT = 33, WIDTH = 79 };
    char text[1024];
    if (def && def[0])
        snprintf(text, sizeof text, "%s (default %s)", help, def);
    else
        snprintf(text, sizeof text, "%s", help);
    int col = fprintf(f, "  %s", left);
    if (col >= INDENT - 1) {
        fputc('\n', f);
        col = 0;
    }
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > INDENT && col + 1 + (int)word > WIDTH) {
            fputc('\n', f);
            col = 0;
        }
        if (col < INDENT)
            col += fprintf(f, "%*s", INDENT - col, "");
        else
            col += fprintf(f, " ");
        col += fprintf(f, "%.*s", (int)word, p);
        p += word;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

void kg_cli_usage(const struct kg_cli *cli, FILE *f)
{
    if (cli->synopsis)
        fprintf(f, "Usage: %s\n", cli->synopsis);
    else
        fprintf(f, "Usage: %s [OPTION]...\n", cli->program);
    if (cli->summary)
        fprintf(f, "%s\n", cli->summary);
    fprintf(f, "\nOptions:\n");
    line(f, "-c, --config FILE", "config file (\"key = value\" lines); flags override it", NULL);
    line(f, "    --check", "validate the configuration (and password_file) and exit", NULL);
    line(f, "-h, --help", "this text", NULL);
    line(f, "-V, --version", "print the version", NULL);
    for (const struct kg_cli_flag *g = cli->flags; g && g->name; g++) {
        char left[96];
        int n = g->short_name ? snprintf(left, sizeof left, "-%c, --%s", g->short_name, g->name)
                              : snprintf(left, sizeof left, "    --%s", g->name);
        if (g->value && n > 0 && (size_t)n < sizeof left)
            snprintf(left + n, sizeof left - (size_t)n, " %s", g->value);
        line(f, left, g->help, NULL);
    }
    fprintf(f, "\nSettings: each config file key is also a flag, --KEY VALUE or --KEY=VALUE,\n"
               "with '-' or '_' between words:\n");
    for (const struct kg_config_key *k = cli->keys; k && k->name; k++) {
        char left[160], form[96];
        value_form(k, form, sizeof form);
        int n = snprintf(left, sizeof left, "--%s %s", k->name, form);
        for (int i = 2; i < n && left[i] != ' '; i++)
            if (left[i] == '_')
                left[i] = '-';
        line(f, left, k->help, k->def);
    }
    if (cli->epilogue)
        fprintf(f, "\n%s", cli->epilogue);
}

void kg_cli_check_ok(const struct kg_cli_args *a, FILE *f)
{
    fprintf(f, "%s: configuration OK\n", a->config ? a->config : "command line");
}
