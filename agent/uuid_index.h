/* SPDX-License-Identifier: MIT */
/*
 * Sorted arrays keyed by a domain's UUID text: the one sort and binary search
 * behind the collector's domain cache, the rate tracker and the publisher, each
 * of which keeps per-VM state by UUID across cycles. The elements are structs
 * whose first member is char uuid[KG_UUID_LEN + 1] (each user checks that with
 * a static assertion), held in the array itself or, for arrays of pointers to
 * such structs, by pointer (the _ptrs variants: sorting moves pointers only).
 * Pure module: no allocation, no I/O. Thread-safe (it keeps no state).
 */
#ifndef AGENT_UUID_INDEX_H
#define AGENT_UUID_INDEX_H
#include <stddef.h>
#include <stdint.h>

/* Returned by the finds for a UUID not in the array. */
#define UUID_INDEX_NONE SIZE_MAX

/* base: n structs of size bytes, each starting with its UUID. Sorts them by
 * UUID; base may be NULL when n is 0. */
void uuid_index_sort(void *base, size_t n, size_t size);
/* The index of the struct with this UUID in base (sorted), or UUID_INDEX_NONE. */
size_t uuid_index_find(const void *base, size_t n, size_t size, const char *uuid);

/* base: n pointers to structs starting with their UUID (e.g. struct entry **).
 * The same as above, ordering and searching the pointers. */
void uuid_index_sort_ptrs(void *base, size_t n);
size_t uuid_index_find_ptr(const void *base, size_t n, const char *uuid);

#endif
