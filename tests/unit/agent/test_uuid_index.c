/* SPDX-License-Identifier: MIT */
/* The UUID index: sorting and finding structs keyed by their leading UUID, held
 * by value and by pointer, including empty arrays (NULL base) and misses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kvmgrid/schema.h"
#include "uuid_index.h"

struct item {
    char uuid[KG_UUID_LEN + 1];
    int payload;
};

static const char *const uuids[] = {
    "c3c3c3c3-0000-0000-0000-000000000003",
    "a1a1a1a1-0000-0000-0000-000000000001",
    "e5e5e5e5-0000-0000-0000-000000000005",
    "b2b2b2b2-0000-0000-0000-000000000002",
    "d4d4d4d4-0000-0000-0000-000000000004",
};
#define N (sizeof uuids / sizeof *uuids)

static void fill(struct item *it)
{
    for (size_t i = 0; i < N; i++) {
        memset(&it[i], 0, sizeof it[i]);
        strcpy(it[i].uuid, uuids[i]);
        it[i].payload = (int)i;
    }
}

static void test_by_value(void **state)
{
    (void)state;
    struct item it[N];
    fill(it);
    uuid_index_sort(it, N, sizeof *it);
    for (size_t i = 1; i < N; i++)
        assert_true(strcmp(it[i - 1].uuid, it[i].uuid) < 0);
    for (size_t i = 0; i < N; i++) {
        size_t k = uuid_index_find(it, N, sizeof *it, uuids[i]);
        assert_true(k < N);
        assert_int_equal(it[k].payload, (int)i); /* the payload moved with its key */
    }
    assert_int_equal(uuid_index_find(it, N, sizeof *it, "00000000-0000-0000-0000-000000000000"),
                     UUID_INDEX_NONE);
    assert_int_equal(uuid_index_find(it, N, sizeof *it, "ffffffff-0000-0000-0000-000000000000"),
                     UUID_INDEX_NONE);
    assert_int_equal(uuid_index_find(it, N, sizeof *it, ""), UUID_INDEX_NONE);
    /* a prefix of the array: what the sync loops search while appending */
    assert_int_equal(uuid_index_find(it, 2, sizeof *it, it[4].uuid), UUID_INDEX_NONE);
}

static void test_by_pointer(void **state)
{
    (void)state;
    struct item it[N];
    struct item *p[N];
    fill(it);
    for (size_t i = 0; i < N; i++)
        p[i] = &it[i];
    uuid_index_sort_ptrs(p, N);
    for (size_t i = 1; i < N; i++)
        assert_true(strcmp(p[i - 1]->uuid, p[i]->uuid) < 0);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(it[i].payload, (int)i); /* only the pointers moved */
        size_t k = uuid_index_find_ptr(p, N, uuids[i]);
        assert_true(k < N);
        assert_ptr_equal(p[k], &it[i]);
    }
    assert_int_equal(uuid_index_find_ptr(p, N, "b2b2b2b2"), UUID_INDEX_NONE);
}

static void test_empty_and_single(void **state)
{
    (void)state;
    uuid_index_sort(NULL, 0, sizeof(struct item));
    uuid_index_sort_ptrs(NULL, 0);
    assert_int_equal(uuid_index_find(NULL, 0, sizeof(struct item), uuids[0]), UUID_INDEX_NONE);
    assert_int_equal(uuid_index_find_ptr(NULL, 0, uuids[0]), UUID_INDEX_NONE);
    struct item one[1];
    memset(one, 0, sizeof one);
    strcpy(one[0].uuid, uuids[0]);
    struct item *p = one;
    uuid_index_sort(one, 1, sizeof *one);
    uuid_index_sort_ptrs(&p, 1);
    assert_int_equal(uuid_index_find(one, 1, sizeof *one, uuids[0]), 0);
    assert_int_equal(uuid_index_find_ptr(&p, 1, uuids[0]), 0);
    assert_int_equal(uuid_index_find_ptr(&p, 1, uuids[1]), UUID_INDEX_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_value),
        cmocka_unit_test(test_by_pointer),
        cmocka_unit_test(test_empty_and_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
