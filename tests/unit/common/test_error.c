/* SPDX-License-Identifier: MIT */
/* Unit tests for error.c: every KG_* code has its own non-empty name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kvmgrid/error.h"

static void test_every_code_named(void **state)
{
    (void)state;
    for (int a = KG_ESTATE; a <= KG_OK; a++) {
        const char *sa = kg_strerror(a);
        assert_non_null(sa);
        assert_true(strlen(sa) > 0);
        assert_string_not_equal(sa, "unknown error");
        for (int b = a + 1; b <= KG_OK; b++)
            assert_string_not_equal(sa, kg_strerror(b));
    }
}

static void test_unknown_code(void **state)
{
    (void)state;
    assert_string_equal(kg_strerror(-1000), "unknown error");
    assert_string_equal(kg_strerror(42), "unknown error");
    assert_string_equal(kg_strerror(KG_ENOENT), "not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_named),
        cmocka_unit_test(test_unknown_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
