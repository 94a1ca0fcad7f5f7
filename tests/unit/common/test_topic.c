/* SPDX-License-Identifier: MIT */
/* Unit tests for topic.c: the escaping of name levels (every byte value, random
 * strings, canonical form), prefix validation, build/parse of every kind, filters,
 * and topics that are not ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/topic.h"

/* Independent UTF-8 check (RFC 3629 table 4 well-formed byte ranges); returns true
 * when s[0..n) is valid UTF-8 with no NUL. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        unsigned char lo = 0x80, hi = 0xBF;
        size_t len;
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) { len = 3; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) { len = 3; hi = 0x9F; }
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) { len = 4; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) { len = 4; hi = 0x8F; }
        else return false;
        if (i + len > n)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += len;
    }
    return true;
}

/* Every escaped level must be safe in a topic and in a filter. */
static void assert_level_safe(const char *esc, int len)
{
    assert_true(len > 0);
    assert_true(len <= KG_NAME_ESC_MAX);
    assert_int_equal(strlen(esc), (size_t)len);
    assert_null(memchr(esc, '/', (size_t)len));
    assert_null(memchr(esc, '+', (size_t)len));
    assert_null(memchr(esc, '#', (size_t)len));
    assert_null(memchr(esc, ' ', (size_t)len));
    assert_true(esc[0] != '$');
    assert_true(valid_utf8((const unsigned char *)esc, (size_t)len));
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)esc[i];
        assert_true(c >= 0x21 && c != 0x7F);
        if (c == '%') {
            assert_true(i + 2 < len);
            assert_non_null(strchr("0123456789ABCDEF", esc[i + 1]));
            assert_non_null(strchr("0123456789ABCDEF", esc[i + 2]));
        }
    }
}

static void round_trip(const char *raw, size_t n)
{
    char esc[KG_NAME_ESC_MAX + 1];
    char back[KG_NAME_MAX + 1];
    size_t back_len = 9999;
    int len = kg_topic_escape(raw, n, esc, sizeof esc);
    assert_true(len > 0);
    assert_level_safe(esc, len);
    assert_int_equal(kg_topic_unescape(esc, (size_t)len, back, sizeof back, &back_len), 0);
    assert_int_equal(back_len, n);
    assert_memory_equal(back, raw, n);
    assert_int_equal(back[n], '\0');
}

static bool ascii_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("-_.:@~,=", c));
}

static void test_every_single_byte(void **state)
{
    (void)state;
    for (int b = 0; b < 256; b++) {
        char raw[1] = { (char)b };
        char esc[8];
        char want[8];
        int len = kg_topic_escape(raw, 1, esc, sizeof esc);
        if (ascii_safe((unsigned char)b)) {
            want[0] = (char)b;
            want[1] = '\0';
        } else {
            /* no lone byte >= 0x80 is valid UTF-8: all escaped */
            snprintf(want, sizeof want, "%%%02X", b);
        }
        assert_string_equal(esc, want);
        assert_int_equal(len, (int)strlen(want));
        round_trip(raw, 1);
    }
}

static void test_every_byte_pair(void **state)
{
    (void)state;
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char raw[2] = { (char)a, (char)b };
            round_trip(raw, 2);
        }
    }
}

/* Random byte strings of every length 1..KG_NAME_MAX, drawn three ways: uniform
 * bytes, UTF-8 fragments (lead and continuation bytes), and mostly-safe text. */
static void test_random_strings(void **state)
{
    (void)state;
    static const unsigned char frag[] = { 0xC2, 0xC3, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4,
                                          0xF5, 0x80, 0x85, 0x9F, 0xA0, 0xA9, 0xBF, 0xBE,
                                          'a', '/', '%', '+', '#', 0, '$', ' ' };
    unsigned seed = 12345;
    char raw[KG_NAME_MAX];
    for (int iter = 0; iter < 60; iter++) {
        for (size_t n = 1; n <= KG_NAME_MAX; n++) {
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                unsigned r = seed >> 16;
                switch (iter % 3) {
                case 0: raw[i] = (char)(r & 0xFF); break;
                case 1: raw[i] = (char)frag[r % sizeof frag]; break;
                default: raw[i] = (r % 7 == 0) ? (char)(r >> 3) : (char)('a' + r % 26); break;
                }
            }
            round_trip(raw, n);
        }
    }
}

static void expect_escape(const char *raw, const char *want)
{
    char esc[KG_NAME_ESC_MAX + 1];
    int len = kg_topic_escape(raw, strlen(raw), esc, sizeof esc);
    assert_int_equal(len, (int)strlen(want));
    assert_string_equal(esc, want);
    round_trip(raw, strlen(raw));
}

static void test_plain_and_examples(void **state)
{
    (void)state;
    expect_escape("web-01", "web-01");
    expect_escape("db_2.prod", "db_2.prod");
    expect_escape("m\xC3\xBCnchen", "m\xC3\xBCnchen");          /* münchen */
    expect_escape("vm:1@host~a,b=c", "vm:1@host~a,b=c");
    expect_escape("\xE6\x9D\xB1\xE4\xBA\xAC", "\xE6\x9D\xB1\xE4\xBA\xAC"); /* 東京 */
    expect_escape("\xF0\x9F\x94\xA5", "\xF0\x9F\x94\xA5");      /* U+1F525 */
    expect_escape("a/b c", "a%2Fb%20c");
    expect_escape("+#", "%2B%23");
    expect_escape("100%", "100%25");
    expect_escape("$SYS", "%24SYS");
    expect_escape("a$", "a%24");
    expect_escape("\"q'", "%22q%27");
    expect_escape("tab\there", "tab%09here");
    expect_escape("\x7F", "%7F");
    expect_escape("\xC2\x85", "%C2%85");            /* C1 control U+0085 */
    expect_escape("\xC2\xA0", "\xC2\xA0");          /* U+00A0 is fine */
    expect_escape("\xC0\xAF", "%C0%AF");            /* overlong '/' */
    expect_escape("\xED\xA0\x80", "%ED%A0%80");     /* surrogate */
    expect_escape("\xEF\xBF\xBE", "%EF%BF%BE");     /* U+FFFE noncharacter */
    expect_escape("\xEF\xB7\x90", "%EF%B7%90");     /* U+FDD0 noncharacter */
    expect_escape("\xF4\x8F\xBF\xBF", "%F4%8F%BF%BF"); /* U+10FFFF noncharacter */
    expect_escape("\xF4\x90\x80\x80", "%F4%90%80%80"); /* above U+10FFFF */
    expect_escape("\xC3", "%C3");                   /* truncated sequence */
    expect_escape("\xC3" "a", "%C3a");
    expect_escape("\xFF\xFE", "%FF%FE");

    char nul[3] = { 'a', 0, 'b' };
    char esc[16];
    assert_int_equal(kg_topic_escape(nul, 3, esc, sizeof esc), 5);
    assert_string_equal(esc, "a%00b");
}

/* The escaping table of docs/PROTOCOL.md ("| Name | Topic level |"), row by
 * row: `name` | `level`, where a name cell may end in "followed by byte 0xNN". */
static void test_protocol_escape_table(void **state)
{
    (void)state;
    FILE *f = fopen(KG_SOURCE_DIR "/docs/PROTOCOL.md", "r");
    assert_non_null(f);
    char line[512];
    bool in = false;
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "| Name | Topic level |", 22) == 0) {
            in = true;
            continue;
        }
        if (!in || strncmp(line, "|---", 4) == 0)
            continue;
        if (line[0] != '|')
            break;
        char name[64], level[64];
        char *a = strchr(line, '`'), *b = a ? strchr(a + 1, '`') : NULL;
        char *bar = strchr(line + 1, '|');
        char *c = bar ? strchr(bar, '`') : NULL, *d = c ? strchr(c + 1, '`') : NULL;
        if (!a || !b || !c || !d || b > bar)
            fail_msg("PROTOCOL.md escape table: unreadable row: %s", line);
        snprintf(name, sizeof name, "%.*s", (int)(b - a - 1), a + 1);
        snprintf(level, sizeof level, "%.*s", (int)(d - c - 1), c + 1);
        unsigned byte;
        const char *extra = strstr(b, "followed by byte 0x");
        if (extra && extra < bar && sscanf(extra, "followed by byte 0x%x", &byte) == 1) {
            size_t n = strlen(name);
            name[n] = (char)byte;
            name[n + 1] = '\0';
        }
        expect_escape(name, level);
        rows++;
    }
    fclose(f);
    assert_true(rows >= 5);
}

static void test_escape_errors(void **state)
{
    (void)state;
    char esc[KG_NAME_ESC_MAX + 1];
    char big[KG_NAME_MAX + 1];
    memset(big, '/', sizeof big);
    assert_int_equal(kg_topic_escape("a", 0, esc, sizeof esc), KG_EINVAL);
    assert_int_equal(kg_topic_escape(NULL, 1, esc, sizeof esc), KG_EINVAL);
    assert_int_equal(kg_topic_escape(big, KG_NAME_MAX + 1, esc, sizeof esc), KG_EINVAL);
    /* 255 bytes that all need escaping fill KG_NAME_ESC_MAX exactly */
    assert_int_equal(kg_topic_escape(big, KG_NAME_MAX, esc, sizeof esc), KG_NAME_ESC_MAX);
    assert_int_equal(kg_topic_escape(big, KG_NAME_MAX, esc, sizeof esc - 1), KG_ETOOBIG);
    /* exact size boundary */
    assert_int_equal(kg_topic_escape("abc", 3, esc, 4), 3);
    assert_int_equal(kg_topic_escape("abc", 3, esc, 3), KG_ETOOBIG);
    assert_int_equal(kg_topic_escape("/", 1, esc, 4), 3);
    assert_int_equal(kg_topic_escape("/", 1, esc, 3), KG_ETOOBIG);
    assert_int_equal(kg_topic_escape("\xC3\xBC", 2, esc, 3), 2);
    assert_int_equal(kg_topic_escape("\xC3\xBC", 2, esc, 2), KG_ETOOBIG);
    assert_int_equal(kg_topic_escape("a", 1, NULL, 0), KG_ETOOBIG);
}

static void expect_reject(const char *level, size_t len)
{
    char out[KG_NAME_MAX + 1];
    size_t n;
    assert_int_equal(kg_topic_unescape(level, len, out, sizeof out, &n), KG_EPARSE);
}
#define REJECT(s) expect_reject(s, sizeof(s) - 1)

static void test_unescape_canonical(void **state)
{
    (void)state;
    REJECT("");
    REJECT("%2f");          /* lowercase hex */
    REJECT("a%2fb");
    REJECT("%c3%bc");
    REJECT("%41");          /* 'A' needs no escape */
    REJECT("%2D");          /* '-' needs no escape */
    REJECT("%C3%BC");       /* ü needs no escape */
    REJECT("%C3\xBC");      /* half escaped */
    REJECT("\xC3%BC");
    REJECT("%");            /* truncated */
    REJECT("%4");
    REJECT("a%");
    REJECT("ab%2");
    REJECT("%GG");
    REJECT("%-1");
    REJECT("a/b");          /* raw forbidden bytes */
    REJECT("a+b");
    REJECT("a#b");
    REJECT("a b");
    REJECT("$SYS");
    REJECT("a\"b");
    REJECT("\xC3");         /* raw invalid UTF-8 */
    REJECT("\xFF");
    REJECT("\xC2\x85");     /* raw C1 */
    REJECT("\xEF\xBF\xBE"); /* raw noncharacter */
    REJECT("\xED\xA0\x80"); /* raw surrogate */
    REJECT("a\x01");
    expect_reject("a\0b", 3); /* raw NUL */

    /* decodes to more than KG_NAME_MAX bytes */
    char longlvl[KG_NAME_MAX + 2];
    memset(longlvl, 'a', sizeof longlvl);
    expect_reject(longlvl, KG_NAME_MAX + 1);
    /* longer than any escaped level */
    char huge[KG_NAME_ESC_MAX + 4];
    for (size_t i = 0; i + 3 <= sizeof huge; i += 3)
        memcpy(huge + i, "%2F", 3);
    expect_reject(huge, KG_NAME_ESC_MAX + 3);
    expect_reject(NULL, 3);

    /* accepted: canonical forms, including exactly KG_NAME_MAX bytes */
    char out[KG_NAME_MAX + 1];
    size_t n = 0;
    assert_int_equal(kg_topic_unescape(longlvl, KG_NAME_MAX, out, sizeof out, &n), 0);
    assert_int_equal(n, KG_NAME_MAX);
    assert_int_equal(kg_topic_unescape(huge, KG_NAME_ESC_MAX, out, sizeof out, &n), 0);
    assert_int_equal(n, KG_NAME_MAX);
    assert_int_equal(kg_topic_unescape("a%00b", 5, out, sizeof out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "a\0b", 4);
    /* only the given length is read */
    assert_int_equal(kg_topic_unescape("web/status", 3, out, sizeof out, &n), 0);
    assert_string_equal(out, "web");
    assert_int_equal(kg_topic_unescape("web", 3, out, sizeof out, NULL), 0);
}

static void test_unescape_too_big(void **state)
{
    (void)state;
    char out[4];
    size_t n;
    assert_int_equal(kg_topic_unescape("abc", 3, out, 4, &n), 0);
    assert_int_equal(kg_topic_unescape("abcd", 4, out, 4, &n), KG_ETOOBIG);
    assert_int_equal(kg_topic_unescape("%2F%2F%2F", 9, out, 4, &n), 0);
    assert_string_equal(out, "///");
    assert_int_equal(kg_topic_unescape("a", 1, NULL, 0, &n), KG_ETOOBIG);
}

static void test_prefix_valid(void **state)
{
    (void)state;
    char err[128];
    char p128[KG_PREFIX_MAX + 2];
    memset(p128, 'p', sizeof p128);
    p128[KG_PREFIX_MAX] = '\0';

    assert_true(kg_topic_prefix_valid("kvmgrid", err, sizeof err));
    assert_true(kg_topic_prefix_valid(KG_PREFIX_DEFAULT, NULL, 0));
    assert_true(kg_topic_prefix_valid("site1/kvmgrid", err, sizeof err));
    assert_true(kg_topic_prefix_valid("a", err, sizeof err));
    assert_true(kg_topic_prefix_valid("m\xC3\xBCnchen/grid 1", err, sizeof err));
    assert_true(kg_topic_prefix_valid(p128, err, sizeof err));

    const char *bad[] = { "", "/kvmgrid", "kvmgrid/", "a//b", "/", "+", "a/+/b", "a/#",
                          "kv#", "$SYS", "$x/y", "a\x01", "a\x7F", "\xFF", "a\xC3",
                          "\xC2\x85", "\xED\xA0\x80", "\xEF\xBF\xBF", "x\nb" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(kg_topic_prefix_valid(bad[i], err, sizeof err));
        assert_true(strlen(err) > 0);
        assert_false(kg_topic_prefix_valid(bad[i], NULL, 0));
    }
    assert_false(kg_topic_prefix_valid(NULL, err, sizeof err));
    p128[KG_PREFIX_MAX] = 'p';
    p128[KG_PREFIX_MAX + 1] = '\0';
    assert_false(kg_topic_prefix_valid(p128, err, sizeof err));
    assert_non_null(strstr(err, "128"));
    /* a tiny errmsg buffer is still terminated */
    char tiny[4];
    assert_false(kg_topic_prefix_valid("", tiny, sizeof tiny));
    assert_int_equal(strlen(tiny), 3);
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static void check_build_parse(const char *prefix, enum kg_topic_kind kind, const char *name,
                              const char *vm)
{
    char topic[KG_TOPIC_MAX];
    struct kg_topic_parsed p;
    int len = kg_topic_build(topic, sizeof topic, prefix, kind, name, vm);
    assert_true(len > 0);
    assert_int_equal(strlen(topic), (size_t)len);
    assert_true((size_t)len < KG_TOPIC_MAX);
    assert_null(strchr(topic, '+'));
    assert_null(strchr(topic, '#'));
    assert_true(valid_utf8((const unsigned char *)topic, (size_t)len));
    size_t want_levels = count_char(prefix, '/') + 1 +
                         (kind == KG_TOPIC_STATUS || kind == KG_TOPIC_METRICS ||
                                  kind == KG_TOPIC_SUMMARY ? 2 : 3);
    assert_int_equal(count_char(topic, '/') + 1, want_levels);
    assert_memory_equal(topic, prefix, strlen(prefix));

    memset(&p, 0x55, sizeof p);
    assert_int_equal(kg_topic_parse(prefix, topic, (size_t)len, &p), 0);
    assert_int_equal(p.kind, kind);
    assert_int_equal(p.name_len, strlen(name));
    assert_string_equal(p.name, name);
    if (kind == KG_TOPIC_VM) {
        assert_int_equal(p.vm_len, strlen(vm));
        assert_string_equal(p.vm, vm);
    } else {
        assert_int_equal(p.vm_len, 0);
        assert_string_equal(p.vm, "");
    }
    /* not under another prefix */
    assert_int_equal(kg_topic_parse("other", topic, (size_t)len, &p), KG_ENOENT);
}

static void test_build_parse_every_kind(void **state)
{
    (void)state;
    char n255[KG_NAME_MAX + 1];
    char s255[KG_NAME_MAX + 1];
    char u255[KG_NAME_MAX + 1];
    memset(n255, 'h', KG_NAME_MAX);
    n255[KG_NAME_MAX] = '\0';
    memset(s255, '/', KG_NAME_MAX);
    s255[KG_NAME_MAX] = '\0';
    for (size_t i = 0; i + 2 <= KG_NAME_MAX; i += 2)
        memcpy(u255 + i, "\xC3\xBC", 2);
    u255[KG_NAME_MAX - 1] = '#';
    u255[KG_NAME_MAX] = '\0';
    char p128[KG_PREFIX_MAX + 1];
    memset(p128, 'p', KG_PREFIX_MAX);
    p128[KG_PREFIX_MAX] = '\0';

    const char *names[] = { "web-01", "db_2.prod", "m\xC3\xBCnchen", "a/b", "a+b", "#",
                            "+", "/", "with space", "\"quoted\"", "it's", "100%",
                            "%2F", "$SYS", "load", "vm", "status", "metrics", "x\xFFy",
                            "\xC2\x85", "\xF0\x9F\x94\xA5", "tab\t\r\n", n255, s255, u255 };
    const char *prefixes[] = { "kvmgrid", "site1/kvmgrid", "m\xC3\xBCnchen", p128 };
    const enum kg_topic_kind kinds[] = { KG_TOPIC_STATUS, KG_TOPIC_METRICS,
                                         KG_TOPIC_LOAD_CMD, KG_TOPIC_LOAD_STATE,
                                         KG_TOPIC_SUMMARY };
    size_t nn = sizeof names / sizeof names[0];

    for (size_t pi = 0; pi < sizeof prefixes / sizeof prefixes[0]; pi++) {
        for (size_t i = 0; i < nn; i++) {
            for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
                check_build_parse(prefixes[pi], kinds[k], names[i], NULL);
            for (size_t j = 0; j < nn; j++)
                check_build_parse(prefixes[pi], KG_TOPIC_VM, names[i], names[j]);
        }
    }

    char topic[KG_TOPIC_MAX];
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_STATUS, "h", NULL), 16);
    assert_string_equal(topic, "kvmgrid/h/status");
    kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_METRICS, "web 1", NULL);
    assert_string_equal(topic, "kvmgrid/web%201/metrics");
    kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_VM, "h/1", "vm#2");
    assert_string_equal(topic, "kvmgrid/h%2F1/vm/vm%232");
    kg_topic_build(topic, sizeof topic, "s/kvmgrid", KG_TOPIC_LOAD_CMD, "n", NULL);
    assert_string_equal(topic, "s/kvmgrid/n/load/cmd");
    kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_LOAD_STATE, "n", NULL);
    assert_string_equal(topic, "kvmgrid/n/load/state");
    kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_SUMMARY, "hv 1", NULL);
    assert_string_equal(topic, "kvmgrid/hv%201/summary");

    /* the longest topic fits KG_TOPIC_MAX exactly or with room */
    int len = kg_topic_build(topic, sizeof topic, p128, KG_TOPIC_VM, s255, s255);
    assert_true(len > 0 && (size_t)len < KG_TOPIC_MAX);
    assert_int_equal(kg_topic_build(topic, (size_t)len, p128, KG_TOPIC_VM, s255, s255),
                     KG_ETOOBIG);
    assert_int_equal(kg_topic_build(topic, (size_t)len + 1, p128, KG_TOPIC_VM, s255, s255),
                     len);
}

static void test_build_errors(void **state)
{
    (void)state;
    char topic[KG_TOPIC_MAX];
    char n256[KG_NAME_MAX + 2];
    memset(n256, 'x', KG_NAME_MAX + 1);
    n256[KG_NAME_MAX + 1] = '\0';

    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_STATUS, n256, NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_VM, "h", n256), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_STATUS, "", NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_VM, "h", ""), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_STATUS, NULL, NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_VM, "h", NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", KG_TOPIC_STATUS, "h", "v"), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", (enum kg_topic_kind)0, "h", NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kvmgrid", (enum kg_topic_kind)99, "h", NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "kv/+", KG_TOPIC_STATUS, "h", NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, "", KG_TOPIC_STATUS, "h", NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, sizeof topic, NULL, KG_TOPIC_STATUS, "h", NULL), KG_EINVAL);
    assert_int_equal(kg_topic_build(topic, 16, "kvmgrid", KG_TOPIC_STATUS, "h", NULL), KG_ETOOBIG);
    assert_int_equal(kg_topic_build(topic, 17, "kvmgrid", KG_TOPIC_STATUS, "h", NULL), 16);
    assert_int_equal(kg_topic_build(NULL, 0, "kvmgrid", KG_TOPIC_STATUS, "h", NULL), KG_ETOOBIG);
}

static void test_filters(void **state)
{
    (void)state;
    char f[KG_TOPIC_MAX];
    assert_int_equal(kg_topic_filter_all(f, sizeof f, "kvmgrid"), 9);
    assert_string_equal(f, "kvmgrid/#");
    assert_int_equal(kg_topic_filter_all(f, sizeof f, "a/b"), 5);
    assert_string_equal(f, "a/b/#");
    kg_topic_filter_kind(f, sizeof f, "kvmgrid", KG_TOPIC_STATUS);
    assert_string_equal(f, "kvmgrid/+/status");
    kg_topic_filter_kind(f, sizeof f, "kvmgrid", KG_TOPIC_METRICS);
    assert_string_equal(f, "kvmgrid/+/metrics");
    assert_int_equal(kg_topic_filter_kind(f, sizeof f, "kvmgrid", KG_TOPIC_VM), 14);
    assert_string_equal(f, "kvmgrid/+/vm/+");
    kg_topic_filter_kind(f, sizeof f, "kvmgrid", KG_TOPIC_LOAD_CMD);
    assert_string_equal(f, "kvmgrid/+/load/cmd");
    kg_topic_filter_kind(f, sizeof f, "s/kvmgrid", KG_TOPIC_LOAD_STATE);
    assert_string_equal(f, "s/kvmgrid/+/load/state");
    kg_topic_filter_kind(f, sizeof f, "kvmgrid", KG_TOPIC_SUMMARY);
    assert_string_equal(f, "kvmgrid/+/summary");

    assert_int_equal(kg_topic_filter_all(f, sizeof f, "a/#"), KG_EINVAL);
    assert_int_equal(kg_topic_filter_all(f, sizeof f, ""), KG_EINVAL);
    assert_int_equal(kg_topic_filter_kind(f, sizeof f, "$SYS", KG_TOPIC_VM), KG_EINVAL);
    assert_int_equal(kg_topic_filter_kind(f, sizeof f, "kvmgrid", (enum kg_topic_kind)0), KG_EINVAL);
    assert_int_equal(kg_topic_filter_all(f, 9, "kvmgrid"), KG_ETOOBIG);
    assert_int_equal(kg_topic_filter_all(f, 10, "kvmgrid"), 9);
    assert_int_equal(kg_topic_filter_kind(f, 14, "kvmgrid", KG_TOPIC_VM), KG_ETOOBIG);
    assert_int_equal(kg_topic_filter_kind(f, 15, "kvmgrid", KG_TOPIC_VM), 14);
    assert_int_equal(kg_topic_filter_kind(NULL, 0, "kvmgrid", KG_TOPIC_VM), KG_ETOOBIG);
}

static int parse_str(const char *prefix, const char *topic, struct kg_topic_parsed *p)
{
    return kg_topic_parse(prefix, topic, strlen(topic), p);
}

static void test_parse_not_ours(void **state)
{
    (void)state;
    struct kg_topic_parsed p;
    const char *enoent[] = { "other/h/status", "kvmgrid", "kvmgrid/", "kvmgridx/h/status",
                             "kvmgri/h/status", "kvmgrid/h", "kvmgrid/h/", "kvmgrid/h/unknown",
                             "kvmgrid/h/Status", "kvmgrid/h/vm", "kvmgrid/h/vm/a/b",
                             "kvmgrid/h/load", "kvmgrid/h/load/x", "kvmgrid/h/load/cmd/x",
                             "kvmgrid/h/status/extra", "kvmgrid/h/metrics/", "kvmgrid/a/b/c/d/e",
                             "$SYS/broker/uptime", "", "/kvmgrid/h/status", "site1/kvmgrid/h/status" };
    for (size_t i = 0; i < sizeof enoent / sizeof enoent[0]; i++)
        assert_int_equal(parse_str("kvmgrid", enoent[i], &p), KG_ENOENT);
    assert_int_equal(kg_topic_parse("kvmgrid", "kvmgrid/h/status\0x", 18, &p), KG_ENOENT);
    assert_int_equal(kg_topic_parse("kvmgrid", NULL, 0, &p), KG_ENOENT);
    assert_int_equal(parse_str("site1/kvmgrid", "kvmgrid/h/status", &p), KG_ENOENT);

    /* ours in shape, but a name level is not canonical */
    const char *eparse[] = { "kvmgrid//status", "kvmgrid/a%2f/status", "kvmgrid/a b/metrics",
                             "kvmgrid/%41/status", "kvmgrid/h/vm/", "kvmgrid/h/vm/%",
                             "kvmgrid/h/vm/v%C3%BC", "kvmgrid/$SYS/status", "kvmgrid/+/status",
                             "kvmgrid/#/load/cmd", "kvmgrid/\xFF/load/state", "kvmgrid//vm/x" };
    for (size_t i = 0; i < sizeof eparse / sizeof eparse[0]; i++)
        assert_int_equal(parse_str("kvmgrid", eparse[i], &p), KG_EPARSE);
    assert_int_equal(kg_topic_parse("kvmgrid", "kvmgrid/a\0b/status", 18, &p), KG_EPARSE);

    /* invalid prefix or output */
    assert_int_equal(parse_str("kv/#", "kv/#/h/status", &p), KG_EINVAL);
    assert_int_equal(parse_str(NULL, "kvmgrid/h/status", &p), KG_EINVAL);
    assert_int_equal(parse_str("kvmgrid", "kvmgrid/h/status", NULL), KG_EINVAL);
}

/* An error leaves the output zeroed: no kind, no half-unescaped name. */
static void test_parse_error_zeroes_output(void **state)
{
    (void)state;
    static const struct { const char *prefix, *topic; int rc; } cases[] = {
        { "kvmgrid", "kvmgrid/web-01/vm/a%2f", KG_EPARSE },   /* name fine, vm not */
        { "kvmgrid", "kvmgrid/a%20b%2/status", KG_EPARSE },
        { "kvmgrid", "kvmgrid/web-01/unknown", KG_ENOENT },
        { "kvmgrid", "other/web-01/status", KG_ENOENT },
        { "kv/#", "kv/#/h/status", KG_EINVAL },
    };
    struct kg_topic_parsed p, zero;
    memset(&zero, 0, sizeof zero);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&p, 0xAA, sizeof p);
        assert_int_equal(parse_str(cases[i].prefix, cases[i].topic, &p), cases[i].rc);
        assert_memory_equal(&p, &zero, sizeof p);
    }
}

static void test_parse_details(void **state)
{
    (void)state;
    struct kg_topic_parsed p;
    /* a name with NUL bytes, only reachable through escaping */
    assert_int_equal(parse_str("kvmgrid", "kvmgrid/a%00b/vm/%00", &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_VM);
    assert_int_equal(p.name_len, 3);
    assert_memory_equal(p.name, "a\0b", 4);
    assert_int_equal(p.vm_len, 1);
    assert_int_equal(p.vm[0], '\0');
    /* the length is honoured: a buffer that is not NUL-terminated after it */
    const char buf[] = "kvmgrid/web-01/metricsGARBAGE";
    assert_int_equal(kg_topic_parse("kvmgrid", buf, 22, &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_METRICS);
    assert_string_equal(p.name, "web-01");
    /* hosts named like keywords */
    assert_int_equal(parse_str("kvmgrid", "kvmgrid/load/load/cmd", &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_LOAD_CMD);
    assert_string_equal(p.name, "load");
    assert_int_equal(parse_str("kvmgrid", "kvmgrid/vm/vm/vm", &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_VM);
    assert_string_equal(p.name, "vm");
    assert_string_equal(p.vm, "vm");
    assert_int_equal(parse_str("a/b", "a/b/status/status", &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_STATUS);
    assert_string_equal(p.name, "status");
}

/* A reader's prefix with a "+" level: the level's value is the group. */
static void test_group_prefix(void **state)
{
    (void)state;
    char err[128], out[KG_TOPIC_MAX];
    struct kg_topic_parsed p;
    const char *good[] = {"+/kvmgrid", "+", "kvmgrid/+", "a/+/b", "+/m\xC3\xBCnchen"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_true(kg_topic_prefix_filter_valid(good[i], err, sizeof err));
        assert_false(kg_topic_prefix_valid(good[i], NULL, 0)); /* never a publisher's */
    }
    assert_true(kg_topic_prefix_filter_valid("kvmgrid", err, sizeof err));
    const char *bad[] = {"+/+/kvmgrid", "a+/kvmgrid", "+a/kvmgrid", "#/kvmgrid", "kvmgrid/#",
                         "/+", "+/", "$SYS/+", "++"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(kg_topic_prefix_filter_valid(bad[i], err, sizeof err));
        assert_true(err[0] != '\0');
    }
    assert_string_equal((kg_topic_prefix_filter_valid("+/+", err, sizeof err), err),
                        "prefix has more than one '+' level");

    /* parse: the group, unescaped; the rest as under a plain prefix */
    const char *t = "paris/kvmgrid/hv%201/summary";
    assert_int_equal(kg_topic_parse("+/kvmgrid", t, strlen(t), &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_SUMMARY);
    assert_string_equal(p.group, "paris");
    assert_int_equal(p.group_len, 5);
    assert_string_equal(p.name, "hv 1");
    t = "s%2F1/kvmgrid/h/vm/v";
    assert_int_equal(kg_topic_parse("+/kvmgrid", t, strlen(t), &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_VM);
    assert_string_equal(p.group, "s/1");
    assert_string_equal(p.vm, "v");
    t = "a/x/b/h/status";
    assert_int_equal(kg_topic_parse("a/+/b", t, strlen(t), &p), 0);
    assert_string_equal(p.group, "x");
    t = "kvmgrid/site/h/status";
    assert_int_equal(kg_topic_parse("kvmgrid/+", t, strlen(t), &p), 0);
    assert_string_equal(p.group, "site");
    t = "site/h/status";
    assert_int_equal(kg_topic_parse("+", t, strlen(t), &p), 0);
    assert_string_equal(p.group, "site");
    assert_string_equal(p.name, "h");
    /* a plain prefix has no group */
    t = "kvmgrid/h/status";
    assert_int_equal(kg_topic_parse("kvmgrid", t, strlen(t), &p), 0);
    assert_int_equal(p.group_len, 0);
    assert_string_equal(p.group, "");
    /* the site's bridge link: its group, no name */
    t = "paris/kvmgrid/$bridge/state";
    assert_int_equal(kg_topic_parse("+/kvmgrid", t, strlen(t), &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_LINK);
    assert_string_equal(p.group, "paris");
    assert_int_equal(p.name_len, 0);
    t = "paris/kvmgrid/$bridge/state";
    assert_int_equal(kg_topic_parse("paris/kvmgrid", t, strlen(t), &p), 0);
    assert_int_equal(p.kind, KG_TOPIC_LINK);
    assert_int_equal(p.group_len, 0);
    assert_int_equal(kg_topic_filter_kind(out, sizeof out, "+/kvmgrid", KG_TOPIC_LINK), 23);
    assert_string_equal(out, "+/kvmgrid/$bridge/state");
    assert_int_equal(kg_topic_build(out, sizeof out, "kvmgrid", KG_TOPIC_LINK, "h", NULL),
                     KG_EINVAL);
    /* not ours: no site level, another second level, other $bridge shapes */
    const char *none[] = {"kvmgrid/h/status", "paris/other/h/status", "paris/kvmgrid",
                          "paris/kvmgrid/", "paris/kvmgrid/$bridge/other", "paris",
                          "paris/kvmgrid/$bridge/state/x", "paris/kvmgrid/$bridge",
                          "paris/kvmgridx/h/status"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        assert_int_equal(kg_topic_parse("+/kvmgrid", none[i], strlen(none[i]), &p), KG_ENOENT);
    /* ours, but the site level is not a canonical name: an error, output zeroed */
    const char *broken[] = {"/kvmgrid/h/status", "a%2f/kvmgrid/h/status", "a b/kvmgrid/h/status",
                            "a b/kvmgrid/$bridge/state"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        memset(&p, 0x55, sizeof p);
        assert_int_equal(kg_topic_parse("+/kvmgrid", broken[i], strlen(broken[i]), &p), KG_EPARSE);
        assert_int_equal(p.group_len, 0);
        assert_int_equal(p.kind, 0);
    }

    /* filters */
    assert_int_equal(kg_topic_filter_kind(out, sizeof out, "+/kvmgrid", KG_TOPIC_SUMMARY), 19);
    assert_string_equal(out, "+/kvmgrid/+/summary");
    assert_true(kg_topic_filter_all(out, sizeof out, "+/kvmgrid") > 0);
    assert_string_equal(out, "+/kvmgrid/#");
    /* publishers' topics are never built under a "+" */
    assert_int_equal(kg_topic_build(out, sizeof out, "+/kvmgrid", KG_TOPIC_STATUS, "h", NULL),
                     KG_EINVAL);

    /* the concrete prefix of a group: where a command to that site goes */
    assert_int_equal(kg_topic_prefix_fill(out, sizeof out, "+/kvmgrid", "paris", 5), 13);
    assert_string_equal(out, "paris/kvmgrid");
    assert_true(kg_topic_prefix_fill(out, sizeof out, "a/+/b", "s/1", 3) > 0);
    assert_string_equal(out, "a/s%2F1/b");
    assert_true(kg_topic_prefix_fill(out, sizeof out, "kvmgrid", NULL, 0) > 0);
    assert_string_equal(out, "kvmgrid");
    assert_true(kg_topic_prefix_valid(out, NULL, 0));
    assert_int_equal(kg_topic_prefix_fill(out, sizeof out, "+/kvmgrid", "", 0), KG_EINVAL);
    assert_int_equal(kg_topic_prefix_fill(out, sizeof out, "+/kvmgrid", NULL, 0), KG_EINVAL);
    assert_int_equal(kg_topic_prefix_fill(out, 5, "+/kvmgrid", "paris", 5), KG_ETOOBIG);
    char s255[256];
    memset(s255, 'x', 255);
    s255[255] = '\0';
    /* 255 bytes of site + "/kvmgrid" is over KG_PREFIX_MAX */
    assert_int_equal(kg_topic_prefix_fill(out, sizeof out, "+/kvmgrid", s255, 255), KG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_single_byte),
        cmocka_unit_test(test_every_byte_pair),
        cmocka_unit_test(test_random_strings),
        cmocka_unit_test(test_plain_and_examples),
        cmocka_unit_test(test_protocol_escape_table),
        cmocka_unit_test(test_escape_errors),
        cmocka_unit_test(test_unescape_canonical),
        cmocka_unit_test(test_unescape_too_big),
        cmocka_unit_test(test_prefix_valid),
        cmocka_unit_test(test_build_parse_every_kind),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_parse_not_ours),
        cmocka_unit_test(test_parse_error_zeroes_output),
        cmocka_unit_test(test_parse_details),
        cmocka_unit_test(test_group_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
