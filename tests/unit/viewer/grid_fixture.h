/* SPDX-License-Identifier: MIT */
/*
 * A small grid for the pure rooms' tests, without SDL: h1 with VMs a0..a6, h2
 * online without VMs, h3 with c0..c2, ordered by name and placed in 640x400 at
 * (0, 0) without label bands, as the screen would.
 */
#ifndef KG_TEST_GRID_FIXTURE_H
#define KG_TEST_GRID_FIXTURE_H
#include "layout.h"
#include "model.h"
#include "view.h"

/* The state of a group of tests: the model, its grid and a view (operator mode,
 * CPU, sorted by name, as set up). */
struct grid_fixture {
    struct model *m;
    struct layout_grid g;
    struct view v;
};

/* cmocka group setup and teardown: *state is a struct grid_fixture. */
int grid_fixture_setup(void **state);
int grid_fixture_teardown(void **state);

struct kg_vm;
/* Fills v as a running VM named name on host (4 vCPUs, CPU 50 %, a fixed sample
 * time), for a test to change figures before fixture_vm_apply. */
void fixture_vm_init(struct kg_vm *v, const char *host, const char *name);
/* Applies a running VM's retained payload (fixture_vm_init's) on the topic of
 * its escaped name (cmocka asserts on failure). */
void fixture_vm(struct model *m, const char *host, const char *name);
/* Applies v's retained payload on the topic of its host and escaped name at
 * now_ms (monotonic, as model_apply takes it). */
void fixture_vm_apply(struct model *m, const struct kg_vm *v, uint64_t now_ms);
/* Likewise a host's metrics. */
struct kg_host;
void fixture_host_apply(struct model *m, const struct kg_host *h, uint64_t now_ms);
/* Creates the model described above into *m and lays g out over it. */
void fixture_grid(struct model **m, struct layout_grid *g);
/* Orders and places g over m again (after the model changed). */
void fixture_layout(struct layout_grid *g, struct model *m);
/* The centre pixel of VM vm's tile (host's index in the model), via the grid. */
void fixture_tile_centre(const struct layout_grid *g, struct model *m, const char *host,
                         const char *vm, int *x, int *y);

#endif
