/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's keys: sorting (1-5 as the wall's metric keys, 6 7 0, next and
 * previous, reverse), the host filter's line editor (UTF-8 typed and erased,
 * Enter applies, Esc cancels), Esc stepping back as in the wall, alerts only,
 * pause, help, quit, and scrolling kept within the rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "top_view.h"

static void type(struct top_view *v, const int *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        top_view_key(v, keys[i], 20);
}

static void test_sort_keys(void **state)
{
    (void)state;
    struct top_view v;
    top_view_init(&v, TOP_SORT_CPU, false, NULL, false);
    static const struct { int key; enum top_sort want; } cases[] = {
        {'2', TOP_SORT_MEM}, {'3', TOP_SORT_DISK}, {'4', TOP_SORT_NET}, {'5', TOP_SORT_STEAL},
        {'6', TOP_SORT_STATE}, {'7', TOP_SORT_AGE}, {'0', TOP_SORT_NAME}, {'1', TOP_SORT_CPU},
        {'s', TOP_SORT_MEM}, {'>', TOP_SORT_DISK}, {'<', TOP_SORT_MEM}, {'<', TOP_SORT_CPU},
        {'<', TOP_SORT_NAME}, {'s', TOP_SORT_CPU},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(top_view_key(&v, cases[i].key, 20), TOP_ACT_REDRAW);
        assert_int_equal(v.sort, cases[i].want);
    }
    assert_false(v.reverse);
    top_view_key(&v, 'r', 20);
    assert_true(v.reverse);
    top_view_key(&v, 'I', 20);
    assert_false(v.reverse);
    assert_int_equal(top_view_key(&v, 'x', 20), TOP_ACT_NONE);
    assert_int_equal(top_view_key(&v, 'q', 20), TOP_ACT_QUIT);
}

static void test_filter_editor(void **state)
{
    (void)state;
    struct top_view v;
    top_view_init(&v, TOP_SORT_CPU, false, "hv", false);
    top_view_key(&v, '/', 20);
    assert_true(v.editing);
    assert_string_equal(v.edit, "hv"); /* starts from the filter applied */
    /* while editing, letters are text, not commands */
    static const int keys[] = {'q', 'a', 0xE9, 0x4E2D, TOP_KEY_BACKSPACE, '*'};
    type(&v, keys, sizeof(keys) / sizeof(keys[0]));
    assert_string_equal(v.edit, "hvqa\xC3\xA9*");
    assert_string_equal(v.filter, "hv");
    assert_false(v.alerts_only);
    top_view_key(&v, TOP_KEY_ENTER, 20);
    assert_false(v.editing);
    assert_string_equal(v.filter, "hvqa\xC3\xA9*");
    /* Esc cancels an edit: the filter stays */
    top_view_key(&v, 'f', 20);
    top_view_key(&v, 0x15, 20); /* Ctrl-U */
    assert_string_equal(v.edit, "");
    top_view_key(&v, 'z', 20);
    top_view_key(&v, TOP_KEY_ESC, 20);
    assert_false(v.editing);
    assert_string_equal(v.filter, "hvqa\xC3\xA9*");
    /* control characters are not typed */
    top_view_key(&v, '/', 20);
    assert_int_equal(top_view_key(&v, 0x01, 20), TOP_ACT_NONE);
    assert_int_equal(top_view_key(&v, 0x85, 20), TOP_ACT_NONE);
    /* erasing past the start is harmless */
    for (int i = 0; i < 20; i++)
        top_view_key(&v, TOP_KEY_BACKSPACE, 20);
    assert_int_equal(v.edit_len, 0);
    /* a line too long for the filter stops growing */
    for (int i = 0; i < TOP_FILTER_MAX + 10; i++)
        top_view_key(&v, 0x4E2D, 20);
    assert_true(v.edit_len <= TOP_FILTER_MAX);
    assert_int_equal(strlen(v.edit), v.edit_len);
}

static void test_back_steps(void **state)
{
    (void)state;
    struct top_view v;
    top_view_init(&v, TOP_SORT_CPU, false, "web", true);
    top_view_key(&v, 'h', 20);
    assert_true(v.help);
    /* help, then the filter, then alerts only, then nothing */
    assert_int_equal(top_view_key(&v, TOP_KEY_ESC, 20), TOP_ACT_REDRAW);
    assert_false(v.help);
    assert_string_equal(v.filter, "web");
    top_view_key(&v, TOP_KEY_BACKSPACE, 20);
    assert_string_equal(v.filter, "");
    assert_true(v.alerts_only);
    top_view_key(&v, TOP_KEY_ESC, 20);
    assert_false(v.alerts_only);
    assert_int_equal(top_view_key(&v, TOP_KEY_ESC, 20), TOP_ACT_NONE);
    top_view_key(&v, 'a', 20);
    assert_true(v.alerts_only);
    top_view_key(&v, '?', 20);
    assert_true(v.help);
    top_view_key(&v, TOP_KEY_HELP, 20);
    assert_false(v.help);
    top_view_key(&v, 'p', 20);
    assert_true(v.paused);
    top_view_key(&v, ' ', 20);
    assert_false(v.paused);
}

static void test_scroll(void **state)
{
    (void)state;
    struct top_view v;
    top_view_init(&v, TOP_SORT_CPU, false, NULL, false);
    top_view_key(&v, TOP_KEY_UP, 10);
    assert_int_equal(v.top, 0);
    top_view_key(&v, TOP_KEY_PGDN, 10);
    assert_int_equal(v.top, 9);
    top_view_key(&v, TOP_KEY_DOWN, 10);
    top_view_clamp(&v, 15, 10);
    assert_int_equal(v.top, 5);
    top_view_key(&v, TOP_KEY_END, 10);
    top_view_clamp(&v, 15, 10);
    assert_int_equal(v.top, 5);
    top_view_key(&v, TOP_KEY_PGUP, 10);
    assert_int_equal(v.top, 0);
    top_view_key(&v, TOP_KEY_END, 10);
    top_view_clamp(&v, 3, 10); /* fewer rows than the page */
    assert_int_equal(v.top, 0);
    top_view_key(&v, TOP_KEY_PGDN, 0); /* no room at all: a step of one */
    assert_int_equal(v.top, 1);
    top_view_key(&v, TOP_KEY_HOME, 10);
    assert_int_equal(v.top, 0);
    /* a new sort starts at the top */
    top_view_key(&v, TOP_KEY_PGDN, 10);
    top_view_key(&v, '2', 10);
    assert_int_equal(v.top, 0);
    assert_non_null(top_view_help[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_keys),
        cmocka_unit_test(test_filter_editor),
        cmocka_unit_test(test_back_steps),
        cmocka_unit_test(test_scroll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
