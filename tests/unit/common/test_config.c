/* SPDX-License-Identifier: MIT */
/* Unit tests for config.c: every value type and its range, quoting and escapes,
 * comments, unknown keys and other errors as "file:line: message", long lines, NUL
 * bytes, missing files, and durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvmgrid/config.h"
#include "kvmgrid/error.h"

struct cfg {
    char broker[32];
    char tiny[4];
    long long port;
    long long any_int;
    double ratio;
    bool tls;
    uint64_t interval_ms;
    uint64_t mem_bytes;
    int mode;
};

static const char *const modes[] = { "cpu", "mem", "disk", NULL };

static const struct kg_config_key table[] = {
    { "broker", KG_CFG_STRING, offsetof(struct cfg, broker), sizeof(((struct cfg *)0)->broker), 0, 0, NULL, "broker URI", "tcp://localhost:1883" },
    { "tiny", KG_CFG_STRING, offsetof(struct cfg, tiny), sizeof(((struct cfg *)0)->tiny), 0, 0, NULL, "3 bytes", NULL },
    { "port", KG_CFG_INT, offsetof(struct cfg, port), 0, 1, 65535, NULL, "port", "1883" },
    { "any_int", KG_CFG_INT, offsetof(struct cfg, any_int), 0, 0, 0, NULL, "unbounded", NULL },
    { "ratio", KG_CFG_DOUBLE, offsetof(struct cfg, ratio), 0, 0.0, 1.0, NULL, "0..1", "0.5" },
    { "tls", KG_CFG_BOOL, offsetof(struct cfg, tls), 0, 0, 0, NULL, "TLS", NULL },
    { "interval", KG_CFG_DURATION_MS, offsetof(struct cfg, interval_ms), 0, 100, 3600000, NULL, "interval", "5s" },
    { "mem", KG_CFG_SIZE_BYTES, offsetof(struct cfg, mem_bytes), 0, 0, 0, NULL, "memory", "1024" },
    { "mode", KG_CFG_ENUM, offsetof(struct cfg, mode), 0, 0, 0, modes, "mode", NULL },
    { NULL, KG_CFG_STRING, 0, 0, 0, 0, NULL, NULL, NULL },
};

static void defaults(struct cfg *c)
{
    memset(c, 0, sizeof *c);
    char why[256] = "";
    assert_int_equal(kg_config_defaults(table, c, why, sizeof why), 0);
}

static char err[1024];

static int parse(struct cfg *c, const char *text)
{
    err[0] = '\0';
    return kg_config_parse_buffer(table, c, "t.conf", text, strlen(text), err, sizeof err);
}

static int set(struct cfg *c, const char *key, const char *value)
{
    err[0] = '\0';
    return kg_config_set(table, c, key, value, err, sizeof err);
}

static void test_full_file(void **state)
{
    (void)state;
    struct cfg c;
    defaults(&c);
    const char *text =
        "# kvmgrid test config\n"
        "\n"
        "   # indented comment\n"
        "broker = tcp://broker:1883   # trailing comment\n"
        "port=8883\n"
        "\tany_int\t=\t-42\t\n"
        "ratio = 0.25\n"
        "tls = yes\n"
        "interval = 250ms\n"
        "mem = 16M\n"
        "mode = disk\n";
    assert_int_equal(parse(&c, text), 0);
    assert_string_equal(c.broker, "tcp://broker:1883");
    assert_int_equal(c.port, 8883);
    assert_int_equal(c.any_int, -42);
    assert_true(c.ratio == 0.25);
    assert_true(c.tls);
    assert_int_equal(c.interval_ms, 250);
    assert_int_equal(c.mem_bytes, 16u << 20);
    assert_int_equal(c.mode, 2);

    /* CRLF; no final newline; empty buffer */
    assert_int_equal(parse(&c, "port = 1\r\nbroker = b\r\nmode = cpu"), 0);
    assert_int_equal(c.port, 1);
    assert_int_equal(c.mode, 0);
    assert_int_equal(parse(&c, ""), 0);
    assert_int_equal(kg_config_parse_buffer(table, &c, "t.conf", NULL, 0, err, sizeof err), 0);
    assert_int_equal(parse(&c, "\n\n# only comments\n   \n"), 0);
}

/* A key set twice is an error naming both lines, whatever the values; the value
 * of the first line stays (the caller parses into a copy anyway). */
static void test_duplicate_key(void **state)
{
    (void)state;
    struct cfg c;
    defaults(&c);
    assert_int_equal(parse(&c, "port = 1\n# comment\nbroker = x\nport = 2\n"), KG_EINVAL);
    assert_string_equal(err, "t.conf:4: 'port' is already set on line 1 (each key may appear once)");
    assert_int_equal(c.port, 1);
    assert_int_equal(parse(&c, "tls = yes\r\ntls = yes"), KG_EINVAL);
    assert_string_equal(err, "t.conf:2: 'tls' is already set on line 1 (each key may appear once)");
    /* the first line's own error wins over a later duplicate */
    assert_int_equal(parse(&c, "port = x\nport = 2\n"), KG_EINVAL);
    assert_non_null(strstr(err, "t.conf:1:"));
    /* only lines of the file count: a value set before (a default, a flag) does not */
    defaults(&c);
    assert_int_equal(kg_config_set(table, &c, "port", "7", NULL, 0), 0); /* not from the file */
    assert_int_equal(parse(&c, "port = 8\n"), 0);
    assert_int_equal(c.port, 8);
}

static void test_strings_quotes_escapes(void **state)
{
    (void)state;
    struct cfg c;
    defaults(&c);
    assert_int_equal(parse(&c, "broker = \"  spaced # not a comment \"  # comment\n"), 0);
    assert_string_equal(c.broker, "  spaced # not a comment ");
    assert_int_equal(parse(&c, "broker = \"a\\\"b\\\\c\\nd\"\n"), 0);
    assert_string_equal(c.broker, "a\"b\\c\nd");
    assert_int_equal(parse(&c, "broker = \"\"\n"), 0);
    assert_string_equal(c.broker, "");
    assert_int_equal(parse(&c, "broker = a#b\n"), 0); /* '#' not after whitespace */
    assert_string_equal(c.broker, "a#b");
    assert_int_equal(parse(&c, "broker = x y z \n"), 0);
    assert_string_equal(c.broker, "x y z");
    assert_int_equal(parse(&c, "broker =\n"), 0);
    assert_string_equal(c.broker, "");
    assert_int_equal(parse(&c, "broker = \"q\"# c\n"), 0);
    assert_string_equal(c.broker, "q");
    assert_int_equal(parse(&c, "broker = m\xC3\xBCnchen\n"), 0);
    assert_string_equal(c.broker, "m\xC3\xBCnchen");

    assert_int_equal(parse(&c, "broker = \"open\n"), KG_EPARSE);
    assert_string_equal(err, "t.conf:1: missing closing quote");
    assert_int_equal(parse(&c, "\nbroker = \"bad \\t escape\"\n"), KG_EPARSE);
    assert_non_null(strstr(err, "t.conf:2: "));
    assert_non_null(strstr(err, "escape"));
    assert_int_equal(parse(&c, "broker = \"a\" b\n"), KG_EPARSE);
    assert_string_equal(err, "t.conf:1: unexpected text after the closing quote");
    assert_int_equal(parse(&c, "broker = \"trailing\\\"\n"), KG_EPARSE);

    /* size includes the NUL: tiny holds 3 bytes */
    assert_int_equal(parse(&c, "tiny = abc\n"), 0);
    assert_string_equal(c.tiny, "abc");
    assert_int_equal(parse(&c, "tiny = abcd\n"), KG_ERANGE);
    assert_non_null(strstr(err, "t.conf:1: "));
    assert_non_null(strstr(err, "too long"));
    assert_string_equal(c.tiny, "abc");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    struct cfg c;
    defaults(&c);
    assert_int_equal(parse(&c, "port = 1\nnope = 3\n"), KG_ENOENT);
    assert_string_equal(err, "t.conf:2: unknown key 'nope'");
    assert_int_equal(parse(&c, "Port = 3\n"), KG_ENOENT); /* keys are case-sensitive */
    assert_string_equal(err, "t.conf:1: unknown key 'Port'");
    assert_int_equal(parse(&c, "port 3\n"), KG_EPARSE);
    assert_string_equal(err, "t.conf:1: expected '=' after the key");
    assert_int_equal(parse(&c, "= 3\n"), KG_EPARSE);
    assert_string_equal(err, "t.conf:1: expected 'key = value'");
    assert_int_equal(parse(&c, "port\n"), KG_EPARSE);
    assert_int_equal(parse(&c, "po rt = 3\n"), KG_EPARSE);
    assert_int_equal(parse(&c, "[section]\n"), KG_EPARSE);
    /* the first error stops the parse; earlier lines were applied */
    assert_int_equal(parse(&c, "port = 77\nbad line\nport = 88\n"), KG_EPARSE);
    assert_string_equal(err, "t.conf:2: expected '=' after the key");
    assert_int_equal(c.port, 77);
}

static void test_ints_and_doubles(void **state)
{
    (void)state;
    struct cfg c;
    defaults(&c);
    assert_int_equal(set(&c, "port", "1"), 0);
    assert_int_equal(set(&c, "port", "65535"), 0);
    assert_int_equal(c.port, 65535);
    assert_int_equal(set(&c, "port", "+80"), 0);
    assert_int_equal(c.port, 80);
    assert_int_equal(set(&c, "port", "0"), KG_ERANGE);
    assert_string_equal(err, "value '0' for 'port' is out of range [1, 65535]");
    assert_int_equal(set(&c, "port", "65536"), KG_ERANGE);
    assert_int_equal(set(&c, "port", "-1"), KG_ERANGE);
    assert_int_equal(c.port, 80);
    const char *bad_int[] = { "", "abc", "12abc", "1.5", " 1", "0x10", "1e3", "--1", "nan" };
    for (size_t i = 0; i < sizeof bad_int / sizeof bad_int[0]; i++) {
        assert_int_equal(set(&c, "port", bad_int[i]), KG_EINVAL);
        assert_non_null(strstr(err, "'port' expects an integer"));
    }
    assert_int_equal(set(&c, "any_int", "-9223372036854775808"), 0);
    assert_true(c.any_int == INT64_MIN);
    assert_int_equal(set(&c, "any_int", "9223372036854775807"), 0);
    assert_int_equal(set(&c, "any_int", "9223372036854775808"), KG_ERANGE);
    assert_string_equal(err, "value '9223372036854775808' for 'any_int' is out of range");

    assert_int_equal(set(&c, "ratio", "0"), 0);
    assert_int_equal(set(&c, "ratio", "1"), 0);
    assert_int_equal(set(&c, "ratio", ".5"), 0);
    assert_true(c.ratio == 0.5);
    assert_int_equal(set(&c, "ratio", "1.0001"), KG_ERANGE);
    assert_int_equal(set(&c, "ratio", "-0.1"), KG_ERANGE);
    const char *bad_dbl[] = { "", "x", "nan", "NaN", "inf", "-inf", "1.5.5", "0.5x", " 0.5" };
    for (size_t i = 0; i < sizeof bad_dbl / sizeof bad_dbl[0]; i++)
        assert_int_equal(set(&c, "ratio", bad_dbl[i]), KG_EINVAL);
    assert_int_equal(set(&c, "ratio", "1e999"), KG_ERANGE);
    assert_true(c.ratio == 0.5);
}

static void test_bools_and_enums(void **state)
{
    (void)state;
    struct cfg c;
    defaults(&c);
    const char *yes[] = { "true", "yes", "on", "1", "TRUE", "Yes", "ON" };
    const char *no[] = { "false", "no", "off", "0", "False", "NO", "Off" };
    for (size_t i = 0; i < 7; i++) {
        c.tls = false;
        assert_int_equal(set(&c, "tls", yes[i]), 0);
        assert_true(c.tls);
        assert_int_equal(set(&c, "tls", no[i]), 0);
        assert_false(c.tls);
    }
    assert_int_equal(set(&c, "tls", "2"), KG_EINVAL);
    assert_int_equal(set(&c, "tls", ""), KG_EINVAL);
    assert_int_equal(set(&c, "tls", "y"), KG_EINVAL);
    assert_non_null(strstr(err, "'tls' expects true/false"));

    assert_int_equal(set(&c, "mode", "cpu"), 0);
    assert_int_equal(c.mode, 0);
    assert_int_equal(set(&c, "mode", "mem"), 0);
    assert_int_equal(c.mode, 1);
    assert_int_equal(set(&c, "mode", "net"), KG_EINVAL);
    assert_string_equal(err, "'mode' expects one of: cpu, mem, disk; not 'net'");
    assert_int_equal(set(&c, "mode", "CPU"), KG_EINVAL);
    assert_int_equal(c.mode, 1);

    assert_int_equal(set(&c, "missing", "x"), KG_ENOENT);
    assert_string_equal(err, "unknown key 'missing'");
    assert_int_equal(kg_config_set(table, &c, "port", "1", NULL, 0), 0);
    assert_int_equal(kg_config_set(table, &c, "nope", "1", NULL, 0), KG_ENOENT);
    assert_int_equal(kg_config_set(table, &c, "port", NULL, err, sizeof err), KG_EINVAL);
    assert_ptr_equal(kg_config_find(table, "mem"), &table[7]);
    assert_null(kg_config_find(table, "me"));
    assert_null(kg_config_find(table, NULL));
}

static void test_durations(void **state)
{
    (void)state;
    static const struct { const char *s; uint64_t ms; } good[] = {
        { "250ms", 250 }, { "5s", 5000 }, { "2m", 120000 }, { "1h", 3600000 },
        { "0.5", 500 }, { "5", 5000 }, { "1.5", 1500 }, { "0", 0 }, { "0ms", 0 },
        { "1.5m", 90000 }, { "0.25h", 900000 }, { ".5s", 500 }, { "2.", 2000 },
        { "1.0005", 1001 }, { "0.0004", 0 }, { "120s", 120000 },
        { "18446744073709551615ms", UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t ms = 12345;
        assert_int_equal(kg_config_parse_duration_ms(good[i].s, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }
    const char *bad[] = { "", "s", "ms", "-5s", "+5s", "5 s", " 5s", "5s ", "5sec", "5S",
                          "5d", "1e3", "abc", "5ms5", "1.2.3", ".", "nan", "inf", "0x10" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms = 7;
        assert_int_equal(kg_config_parse_duration_ms(bad[i], &ms), KG_EINVAL);
        assert_int_equal(ms, 7);
    }
    uint64_t ms;
    assert_int_equal(kg_config_parse_duration_ms("18446744073709551616ms", &ms), KG_ERANGE);
    assert_int_equal(kg_config_parse_duration_ms("18446744073709551615s", &ms), KG_ERANGE);
    assert_int_equal(kg_config_parse_duration_ms("99999999999999999999999", &ms), KG_ERANGE);
    assert_int_equal(kg_config_parse_duration_ms(NULL, &ms), KG_EINVAL);
    assert_int_equal(kg_config_parse_duration_ms("5s", NULL), KG_EINVAL);

    struct cfg c;
    defaults(&c);
    assert_int_equal(parse(&c, "interval = 2m\n"), 0);
    assert_int_equal(c.interval_ms, 120000);
    assert_int_equal(parse(&c, "interval = 50ms\n"), KG_ERANGE);
    assert_string_equal(err, "t.conf:1: duration '50ms' for 'interval' is out of range [100 ms, 3600000 ms]");
    assert_int_equal(parse(&c, "interval = 2h\n"), KG_ERANGE);
    assert_int_equal(parse(&c, "interval = soon\n"), KG_EINVAL);
    assert_non_null(strstr(err, "t.conf:1: 'interval' expects a duration"));
    assert_int_equal(c.interval_ms, 120000);
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct { const char *s; uint64_t b; } good[] = {
        { "512", 512 }, { "64k", 65536 }, { "64K", 65536 }, { "16M", 16u << 20 },
        { "2G", 2ull << 30 }, { "1T", 1ull << 40 }, { "4KiB", 4096 }, { "16MB", 16u << 20 },
        /* Many fraction digits with a large unit: fraction times unit does not fit
         * 64 bits (once gave 11153726328 for 0.999999999T). */
        { "0.999999999T", 1099511626676ull }, { "0.99999999T", 1099511616781ull },
        { "16777215.999999999T", 18446744073709551615ull - 1099 },
        { "1.000000001T", 1099511628876ull }, { "0.000000001T", 1100 },
        { "512B", 512 }, { "1.5G", 3ull << 29 }, { "0", 0 }, { "0.5k", 512 },
    };
    struct cfg c;
    defaults(&c);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(set(&c, "mem", good[i].s), 0);
        assert_int_equal(c.mem_bytes, good[i].b);
    }
    const char *bad[] = { "", "k", "-1", "1.5", "1.5B", "12x", "1 k", "1kk", "1iB", "1Gi",
                          "1P", " 1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(set(&c, "mem", bad[i]), KG_EINVAL);
        assert_non_null(strstr(err, "'mem' expects a size"));
    }
    assert_int_equal(set(&c, "mem", "16777216T"), KG_ERANGE);
    assert_int_equal(set(&c, "mem", "99999999999999999999"), KG_ERANGE);
    assert_int_equal(c.mem_bytes, 512);
}

static void test_long_lines_and_nul(void **state)
{
    (void)state;
    struct cfg c;
    defaults(&c);
    /* 4095 bytes is the limit, excluding the newline */
    size_t n = 4095;
    char *text = malloc(n + 64);
    assert_non_null(text);
    memset(text, ' ', n);
    memcpy(text, "# ", 2);
    text[n] = '\n';
    strcpy(text + n + 1, "port = 9\n");
    assert_int_equal(parse(&c, text), 0);
    assert_int_equal(c.port, 9);
    memset(text, '#', n + 1);
    text[n + 1] = '\n';
    text[n + 2] = '\0';
    assert_int_equal(parse(&c, text), KG_ETOOBIG);
    assert_string_equal(err, "t.conf:1: line longer than 4095 bytes");
    free(text);

    /* a long value in a key that cannot hold it */
    char line[5000];
    snprintf(line, sizeof line, "broker = %0*d\n", 4000, 7);
    assert_int_equal(parse(&c, line), KG_ERANGE);
    assert_non_null(strstr(err, "t.conf:1: value for 'broker' is too long"));

    static const char nul[] = "port = 5\nport = 6\0\nport = 7\n";
    assert_int_equal(kg_config_parse_buffer(table, &c, "n.conf", nul, sizeof nul - 1, err,
                                            sizeof err), KG_EPARSE);
    assert_string_equal(err, "n.conf:2: NUL byte in the line");
    assert_int_equal(c.port, 5);

    /* a small errmsg buffer is truncated, never overrun */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(kg_config_parse_buffer(table, &c, "t.conf", "zzz = 1", 7, small,
                                            sizeof small), KG_ENOENT);
    assert_string_equal(small, "t.conf:");
    assert_int_equal(kg_config_parse_buffer(table, &c, "t.conf", "zzz = 1", 7, NULL, 0),
                     KG_ENOENT);
}

static void test_files(void **state)
{
    (void)state;
    struct cfg c;
    char path[] = "/tmp/kg-test-config-XXXXXX";
    defaults(&c);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "port = 4242\nmode = mem\nbogus = 1\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(kg_config_parse_file(table, &c, path, err, sizeof err), KG_ENOENT);
    char want[256];
    snprintf(want, sizeof want, "%s:3: unknown key 'bogus'", path);
    assert_string_equal(err, want);
    assert_int_equal(c.port, 4242);
    assert_int_equal(c.mode, 1);

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# ok\ntls = on\n", f);
    fclose(f);
    assert_int_equal(kg_config_parse_file(table, &c, path, err, sizeof err), 0);
    assert_true(c.tls);
    unlink(path);

    assert_int_equal(kg_config_parse_file(table, &c, "/nonexistent/kvmgrid.conf", err,
                                          sizeof err), KG_ENOENT);
    assert_string_equal(err, "/nonexistent/kvmgrid.conf: No such file or directory");
    assert_true(kg_config_parse_file(table, &c, "/tmp", err, sizeof err) < 0);
    assert_non_null(strstr(err, "/tmp: "));
    assert_int_equal(kg_config_parse_file(table, &c, NULL, err, sizeof err), KG_EINVAL);

    /* a file of the repository's fixtures, when present, parses against its table
     * elsewhere; here only the file I/O path matters. */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_strings_quotes_escapes),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_ints_and_doubles),
        cmocka_unit_test(test_bools_and_enums),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_long_lines_and_nul),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
