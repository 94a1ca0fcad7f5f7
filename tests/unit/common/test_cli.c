/* SPDX-License-Identifier: MIT */
/* The shared command line (kvmgrid/cli.h) and client settings (kvmgrid/client.h):
 * flags over a config table, program flags, operands, --help from the table, and
 * the one set of password and broker rules every program answers with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kvmgrid/cli.h"
#include "kvmgrid/client.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"

struct prog {
    struct kg_client client;
    long long count;
    bool fast;
    uint64_t every_ms;
};

static const struct kg_config_key keys[] = {
    KG_CLIENT_CONFIG_KEYS(struct prog, client),
    {"count", KG_CFG_INT, offsetof(struct prog, count), 0, 0, 100, NULL, "how many", "7"},
    {"fast_mode", KG_CFG_BOOL, offsetof(struct prog, fast), 0, 0, 0, NULL, "go fast", "false"},
    {"every", KG_CFG_DURATION_MS, offsetof(struct prog, every_ms), 0, 1, 60000, NULL, "period",
     "5s"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

struct seen {
    int n_go;
    const char *name;
};

static int on_flag(void *ctx, int id, const char *value, char *errmsg, size_t errlen)
{
    struct seen *s = ctx;
    if (id == 1) {
        s->n_go++;
        return 0;
    }
    if (!strcmp(value, "bad")) {
        snprintf(errmsg, errlen, "--name: not that one");
        return KG_EINVAL;
    }
    s->name = value;
    return 0;
}

static const struct kg_cli_flag flags[] = {
    {"go", 'g', NULL, "go", 1},
    {"name", 0, "NAME", "a name", 2},
    {NULL, 0, NULL, NULL, 0},
};

static struct seen seen;
static const struct kg_cli cli = {
    .program = "prog", .keys = keys, .flags = flags, .on_flag = on_flag, .ctx = &seen,
    .epilogue = "Exit status: 0 ok.\n",
};

static char err[1024];
static struct kg_cli_args args;

/* Parses the words after the program's name (NULL-terminated). */
static int parse(const char *first, ...)
{
    static char prog[] = "prog";
    char *argv[32] = {prog};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *w = first; w && argc < 31; w = va_arg(ap, const char *))
        argv[argc++] = (char *)w;
    va_end(ap);
    memset(&seen, 0, sizeof seen);
    err[0] = '\0';
    return kg_cli_parse(&cli, argc, argv, &args, err, sizeof err);
}

/* Defaults, then the parsed arguments. */
static int apply(struct prog *p)
{
    memset(p, 0, sizeof *p);
    assert_int_equal(kg_config_defaults(keys, p, err, sizeof err), 0);
    return kg_cli_apply(keys, &args, p, err, sizeof err);
}

static void test_keys_as_flags(void **state)
{
    (void)state;
    struct prog p;
    assert_int_equal(parse("--count", "3", "--fast-mode", "--every=250ms", "--broker",
                           "tcp://b:1", "--log_level", "debug", NULL),
                     0);
    assert_int_equal(apply(&p), 0);
    assert_int_equal(p.count, 3);
    assert_true(p.fast);
    assert_int_equal(p.every_ms, 250);
    assert_string_equal(p.client.broker, "tcp://b:1");
    assert_int_equal(p.client.log_level, KG_LOG_DEBUG);
    assert_string_equal(p.client.prefix, "kvmgrid"); /* untouched: the default */
    kg_cli_args_free(&args);
    /* a bool followed by a bool word takes it; by anything else it is true */
    assert_int_equal(parse("--fast_mode", "off", "verb", NULL), 0);
    assert_int_equal(apply(&p), 0);
    assert_false(p.fast);
    assert_int_equal(args.n_pos, 1);
    assert_string_equal(args.pos[0], "verb");
    kg_cli_args_free(&args);
    assert_int_equal(parse("--fast-mode", "verb", NULL), 0);
    assert_int_equal(apply(&p), 0);
    assert_true(p.fast);
    assert_int_equal(args.n_pos, 1);
    kg_cli_args_free(&args);
    /* the last flag wins, as in a file read top to bottom */
    assert_int_equal(parse("--count", "3", "--count", "4", NULL), 0);
    assert_int_equal(apply(&p), 0);
    assert_int_equal(p.count, 4);
    kg_cli_args_free(&args);
}

static void test_common_flags(void **state)
{
    (void)state;
    assert_int_equal(parse("-c", "/x.conf", "--check", NULL), 0);
    assert_string_equal(args.config, "/x.conf");
    assert_true(args.check);
    assert_false(args.help);
    assert_int_equal(kg_cli_answer(&cli, &args), -1);
    kg_cli_args_free(&args);
    assert_int_equal(parse("--config=/y.conf", "-V", NULL), 0);
    assert_string_equal(args.config, "/y.conf");
    assert_true(args.version);
    kg_cli_args_free(&args);
    assert_int_equal(parse("-h", NULL), 0);
    assert_true(args.help);
    kg_cli_args_free(&args);
}

static void test_program_flags_and_operands(void **state)
{
    (void)state;
    assert_int_equal(parse("run", "-g", "--name", "x", "--go", "--", "--count", NULL), 0);
    assert_int_equal(seen.n_go, 2);
    assert_string_equal(seen.name, "x");
    assert_int_equal(args.n_pos, 2);
    assert_string_equal(args.pos[0], "run");
    assert_string_equal(args.pos[1], "--count"); /* after "--": an operand */
    kg_cli_args_free(&args);
    assert_int_equal(parse("--name", "bad", NULL), KG_EINVAL);
    assert_string_equal(err, "--name: not that one");
}

static void expect_usage_error(const char *word, const char *next, const char *message)
{
    assert_int_equal(parse(word, next, NULL), KG_EINVAL);
    if (!strstr(err, message))
        fail_msg("%s: [%s] does not say [%s]", word, err, message);
    assert_null(args.set); /* nothing to free on error */
}

static void test_usage_errors(void **state)
{
    (void)state;
    expect_usage_error("--no-such", NULL, "unknown or ambiguous option '--no-such' (try --help)");
    expect_usage_error("-x", NULL, "unknown option '-x' (try --help)");
    expect_usage_error("--count", NULL, "--count needs a value (try --help)");
    expect_usage_error("--config", NULL, "--config needs a value");
    expect_usage_error("--check=yes", NULL, "--check=yes takes no value");
    /* a value is checked against the table when applied */
    struct prog p;
    assert_int_equal(parse("--count", "1000", NULL), 0);
    assert_int_not_equal(apply(&p), 0);
    assert_non_null(strstr(err, "--count: "));
    kg_cli_args_free(&args);
    assert_int_equal(parse("--log-level", "loud", NULL), 0);
    assert_int_not_equal(apply(&p), 0);
    assert_non_null(strstr(err, "--log-level: "));
    kg_cli_args_free(&args);
}

static void test_usage_lists_every_key_with_default(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    kg_cli_usage(&cli, f);
    fclose(f);
    const char *want[] = {"Usage: prog [OPTION]...", "--config FILE", "--check", "--help",
                          "--version", "-g, --go", "--name NAME", "--broker URI",
                          "--password-file FILE", "--client-id TEXT",
                          "--log-level error|warn|info|debug", "--count N", "(default 7)",
                          "--fast-mode [BOOL]", "--every DURATION", "(default 5s)",
                          "Exit status: 0 ok."};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(buf, want[i]))
            fail_msg("--help lacks [%s]:\n%s", want[i], buf);
    /* no line runs past 79 columns unless a single word does */
    for (char *l = buf; *l;) {
        size_t n = strcspn(l, "\n");
        assert_true(n <= 79 || !memchr(l + 33, ' ', n - 33));
        l += n + (l[n] == '\n');
    }
    free(buf);
}

/* ---- client settings ------------------------------------------------------ */

static char dir[64];

static const char *file_with(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int check(struct prog *p, const char *path)
{
    err[0] = '\0';
    return kg_client_check(&p->client, path, err, sizeof err);
}

static void defaults(struct prog *p)
{
    memset(p, 0, sizeof *p);
    assert_int_equal(kg_config_defaults(keys, p, err, sizeof err), 0);
}

static void test_client_defaults_pass(void **state)
{
    (void)state;
    struct prog p;
    defaults(&p);
    assert_string_equal(p.client.broker, KG_CLIENT_BROKER_DEFAULT);
    assert_int_equal(check(&p, NULL), 0);
    struct kg_mqtt_options o;
    kg_client_mqtt_options(&p.client, &o);
    assert_string_equal(o.uri, KG_CLIENT_BROKER_DEFAULT);
    assert_null(o.username);
    assert_null(o.password);
    assert_null(o.client_id);
    assert_null(o.ca_file);
}

static void test_password_file_rules(void **state)
{
    (void)state;
    struct prog p;
    defaults(&p);
    strcpy(p.client.username, "u");
    strcpy(p.client.password_file, file_with("pw", "s3cret\r\nignored\n"));
    assert_int_equal(check(&p, NULL), 0);
    assert_string_equal(p.client.password, "s3cret");
    struct kg_mqtt_options o;
    kg_client_mqtt_options(&p.client, &o);
    assert_string_equal(o.password, "s3cret");
    assert_string_equal(o.username, "u");

    /* exclusive with an inline password, named by the line in the file */
    defaults(&p);
    strcpy(p.client.username, "u");
    strcpy(p.client.password, "inline");
    const char *conf = file_with("a.conf", "username = u\npassword = inline\n"
                                           "password_file = /x\n");
    strcpy(p.client.password_file, "/x");
    assert_int_equal(check(&p, conf), KG_EINVAL);
    char want[256];
    snprintf(want, sizeof want, "%s:3: password_file: password and password_file are exclusive",
             conf);
    assert_string_equal(err, want);

    /* an empty first line, a missing file, a password too long */
    defaults(&p);
    strcpy(p.client.username, "u");
    strcpy(p.client.password_file, file_with("empty", "\nsecond\n"));
    assert_int_equal(check(&p, NULL), KG_EINVAL);
    assert_non_null(strstr(err, "command line: password_file: "));
    assert_non_null(strstr(err, "empty first line"));
    snprintf(p.client.password_file, sizeof p.client.password_file, "%s/none", dir);
    assert_int_equal(check(&p, NULL), KG_EIO);
    assert_non_null(strstr(err, "No such file"));
    char longpw[400];
    memset(longpw, 'a', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    strcpy(p.client.password_file, file_with("long", longpw));
    assert_int_equal(check(&p, NULL), KG_ERANGE);
    assert_non_null(strstr(err, "longer than 255 bytes"));
    assert_string_equal(p.client.password, "");
    /* a password needs a user name: said of the key that brought it */
    defaults(&p);
    strcpy(p.client.password_file, file_with("pw", "s3cret\n"));
    assert_int_equal(check(&p, NULL), KG_EINVAL);
    assert_non_null(strstr(err, "password_file: a password needs a user name"));
}

static void test_broker_and_tls_rules(void **state)
{
    (void)state;
    struct prog p;
    defaults(&p);
    strcpy(p.client.broker, "http://x:1");
    assert_int_equal(check(&p, NULL), KG_EINVAL);
    assert_non_null(strstr(err, "command line: broker: "));
    defaults(&p);
    strcpy(p.client.broker, "");
    assert_int_equal(check(&p, NULL), KG_EINVAL);
    assert_string_equal(err, "command line: broker: empty");
    defaults(&p);
    strcpy(p.client.ca_file, "/etc/hostname");
    assert_int_equal(check(&p, NULL), KG_EINVAL);
    assert_non_null(strstr(err, "ca_file: TLS options"));
    defaults(&p);
    strcpy(p.client.broker, "ssl://b:8883");
    snprintf(p.client.cert_file, sizeof p.client.cert_file, "%s/none.crt", dir);
    assert_int_equal(check(&p, NULL), KG_EINVAL);
    assert_non_null(strstr(err, "cert_file: "));
    defaults(&p);
    strcpy(p.client.prefix, "a/#");
    assert_int_equal(check(&p, NULL), KG_EINVAL);
    assert_non_null(strstr(err, "prefix: "));
}

static void test_same_session(void **state)
{
    (void)state;
    struct prog a, b;
    defaults(&a);
    defaults(&b);
    b.client.log_level = KG_LOG_DEBUG;
    assert_true(kg_client_same_session(&a.client, &b.client));
    strcpy(b.client.client_id, "other");
    assert_false(kg_client_same_session(&a.client, &b.client));
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/kg-test-cli.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"pw", "a.conf", "empty", "long"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_as_flags),
        cmocka_unit_test(test_common_flags),
        cmocka_unit_test(test_program_flags_and_operands),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_usage_lists_every_key_with_default),
        cmocka_unit_test(test_client_defaults_pass),
        cmocka_unit_test(test_password_file_rules),
        cmocka_unit_test(test_broker_and_tls_rules),
        cmocka_unit_test(test_same_session),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
