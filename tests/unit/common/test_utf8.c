/* SPDX-License-Identifier: MIT */
/* The one UTF-8 decoder and hex reader of libkvmgrid (common/src/utf8.c): every
 * sequence length, each way a sequence is invalid, and hex digits both ways; and
 * names as displays show them (kvmgrid/text.h), and the terminal columns they
 * take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <locale.h>

#include "kvmgrid/text.h"
#include "utf8.h"

static size_t dec(const char *s, size_t n, uint32_t *cp)
{
    return kg_utf8_decode((const unsigned char *)s, n, cp);
}

static void test_valid(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(dec("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(dec("", 1, &cp), 1); /* NUL is ASCII: callers refuse it themselves */
    assert_int_equal(cp, 0);
    assert_int_equal(dec("\xC3\xBC", 2, &cp), 2); /* ü */
    assert_int_equal(cp, 0xFC);
    assert_int_equal(dec("\xE2\x9C\x93", 3, &cp), 3); /* ✓ */
    assert_int_equal(cp, 0x2713);
    assert_int_equal(dec("\xF0\x9F\x98\x80", 4, &cp), 4); /* U+1F600 */
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(dec("\xF4\x8F\xBF\xBF", 4, &cp), 4); /* U+10FFFF, the last */
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(dec("\xEF\xBF\xBE", 3, &cp), 3); /* a noncharacter is still UTF-8 */
}

static void test_invalid(void **state)
{
    (void)state;
    uint32_t cp = 0xABCD;
    const struct {
        const char *s;
        size_t n;
        const char *why;
    } bad[] = {
        {"\x80", 1, "stray continuation byte"},
        {"\xC0\xAF", 2, "overlong 2-byte lead C0"},
        {"\xC1\xBF", 2, "overlong 2-byte lead C1"},
        {"\xE0\x80\xAF", 3, "overlong 3-byte form"},
        {"\xF0\x80\x80\xAF", 4, "overlong 4-byte form"},
        {"\xED\xA0\x80", 3, "surrogate D800"},
        {"\xED\xBF\xBF", 3, "surrogate DFFF"},
        {"\xF4\x90\x80\x80", 4, "above U+10FFFF"},
        {"\xF5\x80\x80\x80", 4, "lead F5"},
        {"\xFF", 1, "lead FF"},
        {"\xC3", 1, "truncated 2-byte"},
        {"\xE2\x9C", 2, "truncated 3-byte"},
        {"\xF0\x9F\x98", 3, "truncated 4-byte"},
        {"\xC3\x41", 2, "ASCII where a continuation byte belongs"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (dec(bad[i].s, bad[i].n, &cp) != 0)
            fail_msg("accepted: %s", bad[i].why);
    }
    assert_int_equal(cp, 0xABCD); /* untouched on failure */
}

static void test_hex(void **state)
{
    (void)state;
    assert_int_equal(kg_hex_value('0', true), 0);
    assert_int_equal(kg_hex_value('9', false), 9);
    assert_int_equal(kg_hex_value('A', true), 10);
    assert_int_equal(kg_hex_value('F', false), 15);
    assert_int_equal(kg_hex_value('f', false), 15);
    assert_int_equal(kg_hex_value('a', true), -1); /* lowercase is not canonical there */
    assert_int_equal(kg_hex_value('G', false), -1);
    assert_int_equal(kg_hex_value('/', false), -1);
    assert_int_equal(kg_hex_value(0xC3, false), -1);
}

static const char *visible(const char *s, size_t len, size_t size)
{
    static char out[256];
    assert_true(size <= sizeof out);
    size_t n = kg_text_visible(s, len, out, size);
    assert_int_equal(n, strlen(out));
    return out;
}

/* Names people write come out as written; only what a screen cannot show as
 * itself is made visible, and nothing is cut in two. */
static void test_visible(void **state)
{
    (void)state;
    const char *as_written[] = {"web/02 #db", "a+b", "100%", "it's \"quoted\"", "back\\slash",
                                "caf\xc3\xa9", "\xe6\x9c\x8d\xe5\x8a\xa1\xe5\x99\xa8",
                                "\xf0\x9f\x96\xa5 vm"};
    for (size_t i = 0; i < sizeof as_written / sizeof as_written[0]; i++)
        assert_string_equal(visible(as_written[i], strlen(as_written[i]), 256), as_written[i]);
    /* controls: C0, DEL, C1 (U+0085 is two bytes, both shown); invalid bytes */
    assert_string_equal(visible("a\x1b[31mb", 7, 256), "a\\x1B[31mb");
    assert_string_equal(visible("t\tn\n", 4, 256), "t\\x09n\\x0A");
    assert_string_equal(visible("x\x7fy", 3, 256), "x\\x7Fy");
    assert_string_equal(visible("c1\xc2\x85", 4, 256), "c1\\xC2\\x85");
    assert_string_equal(visible("bad\xff\xc3", 5, 256), "bad\\xFF\\xC3");
    assert_string_equal(visible("nul\0x", 5, 256), "nul\\x00x");
    /* a character or an escape that does not fit is left out whole */
    assert_string_equal(visible("ab\xc3\xa9", 4, 4), "ab");
    assert_string_equal(visible("ab\x01", 3, 6), "ab");
    assert_string_equal(visible("ab", 2, 1), "");
    char one = 'z';
    assert_int_equal(kg_text_visible("ab", 2, &one, 0), 0);
    assert_int_equal(one, 'z'); /* size 0: nothing written */
}

static size_t fit(const char *s, size_t cols, size_t *used)
{
    return kg_text_fit(s, strlen(s), cols, used);
}

static void test_fit(void **state)
{
    (void)state;
    assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
    size_t used = 99;
    assert_int_equal(fit("abc", SIZE_MAX, &used), 3);
    assert_int_equal(used, 3);
    assert_int_equal(fit("abc", 2, &used), 2);
    assert_int_equal(used, 2);
    assert_int_equal(fit("abc", 0, &used), 0);
    assert_int_equal(used, 0);
    /* two columns each for East Asian wide characters, never half of one */
    assert_int_equal(fit("\xE4\xB8\xAD\xE6\x96\x87", SIZE_MAX, &used), 6);
    assert_int_equal(used, 4);
    assert_int_equal(fit("\xE4\xB8\xAD\xE6\x96\x87", 3, &used), 3);
    assert_int_equal(used, 2);
    assert_int_equal(fit("\xE4\xB8\xAD", 1, &used), 0);
    assert_int_equal(used, 0);
    /* one column for an accented letter, none for a combining accent */
    assert_int_equal(fit("caf\xC3\xA9", SIZE_MAX, &used), 5);
    assert_int_equal(used, 4);
    assert_int_equal(fit("e\xCC\x81x", 1, &used), 3);
    assert_int_equal(used, 1);
    /* a byte that is not UTF-8: one column, and a cut never splits a sequence */
    assert_int_equal(fit("a\xFF" "b", SIZE_MAX, &used), 3);
    assert_int_equal(used, 3);
    assert_int_equal(fit("\xC3\xA9\xC3\xA9", 1, NULL), 2);
    assert_int_equal(kg_text_fit("ab", 0, SIZE_MAX, &used), 0);
    assert_int_equal(used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_visible),
        cmocka_unit_test(test_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
