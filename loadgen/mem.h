/* SPDX-License-Identifier: MIT */
/*
 * Memory load: M MiB mapped anonymously, every page written so that it is
 * resident (each page gets distinct content, so that neither the guest's nor
 * the host's page merging folds them back together), optionally re-dirtied at a
 * rate; unmapped on stop. Touching happens on the load's own thread so that
 * starting and stopping return at once. The mapping is exactly the requested
 * size: nothing beyond the validated amount is ever allocated.
 */
#ifndef LOADGEN_MEM_H
#define LOADGEN_MEM_H
#include <stdint.h>

#include "kvmgrid/schema.h"

struct mem_load;

/* Maps spec->mib MiB (spec resolved by caps_resolve_load; borrowed) and starts
 * touching it. Returns 0 and *out (free with mem_load_free), KG_EINVAL or
 * KG_ENOMEM (mmap refused). */
int mem_load_start(const struct kg_load_spec *spec, struct mem_load **out);
/* Resident bytes of the mapping now (mincore). Thread-safe while not freed. */
uint64_t mem_load_resident_bytes(const struct mem_load *m);
/* Bytes written by the re-dirty loop so far (the first touch excluded). */
uint64_t mem_load_dirtied_bytes(const struct mem_load *m);
/* True once every page has been touched once. */
int mem_load_filled(const struct mem_load *m);
/* Stops the thread and unmaps. Idempotent. */
void mem_load_stop(struct mem_load *m);
void mem_load_free(struct mem_load *m);

#endif
