/* SPDX-License-Identifier: MIT */
/*
 * Sort and binary search over UUID-keyed arrays (uuid_index.h). The key is the
 * first member of each struct, so a struct's address is its UUID's address.
 */
#include "uuid_index.h"

#include <stdlib.h>
#include <string.h>

/* The UUID of the i-th element of base, for elements of size bytes. */
typedef const char *key_fn(const void *base, size_t i, size_t size);

static const char *value_at(const void *base, size_t i, size_t size)
{
    return (const char *)base + i * size;
}

/* The struct the i-th pointer of base points to. Read with memcpy: the array
 * holds pointers of the caller's type, not void *. */
static const char *ptr_at(const void *base, size_t i, size_t size)
{
    (void)size;
    const void *p;
    memcpy(&p, (const char *)base + i * sizeof p, sizeof p);
    return p;
}

static int cmp_value(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int cmp_ptr(const void *a, const void *b)
{
    return strcmp(ptr_at(a, 0, 0), ptr_at(b, 0, 0));
}

static size_t search(const void *base, size_t n, size_t size, const char *uuid, key_fn *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(uuid, key(base, mid, size));
        if (!r)
            return mid;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return UUID_INDEX_NONE;
}

void uuid_index_sort(void *base, size_t n, size_t size)
{
    if (n > 1) /* qsort must not get NULL, even for 0 elements */
        qsort(base, n, size, cmp_value);
}

size_t uuid_index_find(const void *base, size_t n, size_t size, const char *uuid)
{
    return search(base, n, size, uuid, value_at);
}

void uuid_index_sort_ptrs(void *base, size_t n)
{
    if (n > 1)
        qsort(base, n, sizeof(void *), cmp_ptr);
}

size_t uuid_index_find_ptr(const void *base, size_t n, const char *uuid)
{
    return search(base, n, sizeof(void *), uuid, ptr_at);
}
