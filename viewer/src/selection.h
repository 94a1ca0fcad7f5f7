/* SPDX-License-Identifier: MIT */
/*
 * The operator's selected VM on the grid: chosen by pixel, by name or by arrow
 * keys in screen order, and found again after every layout by its host's and its
 * own name (kept in struct view). Without operator mode nothing is selected.
 * Not here: what is sent to the selected VM (operator.c, wall.c), drawing its
 * frame (the renderer).
 * Pure module: no SDL, never logs. Main thread only; the functions that take the
 * model's lock say so, the others want it held.
 */
#ifndef KG_WALL_SELECTION_H
#define KG_WALL_SELECTION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "model.h"
#include "view.h"

/* Selects the VM under output pixel (x, y). Takes the lock. True when a VM is
 * selected. */
bool selection_at(struct view *v, const struct layout_grid *g, struct model *m, int x, int y);
/* Moves the selection: dx -1/+1 to the previous/next VM in screen order (across
 * hosts), dy -1/+1 one tile row up/down in the host block (to the previous/next
 * block past its edge). Selects the first VM when none is. Takes the lock. */
bool selection_move(struct view *v, const struct layout_grid *g, struct model *m, int dx, int dy);
/* Selects the first VM named vm (raw bytes, len) in screen order. Takes the lock. */
bool selection_name(struct view *v, const struct layout_grid *g, struct model *m, const char *vm,
                    size_t len);
/* Copies the selected VM's raw name (NUL-terminated; KG_NAME_MAX + 1 suffices; its
 * length in *vm_len, as a raw name may hold a NUL), its host's and its host's
 * group's ("" none; its length in *group_len) into the buffers; false when
 * nothing (or a VM that is gone) is selected. Takes the lock. */
bool selection_get(const struct view *v, struct model *m, char *vm, size_t vm_size,
                   size_t *vm_len, char *host, size_t host_size, char *group, size_t group_size,
                   size_t *group_len);
/* Lock held: the selected VM's block and VM slot, when it has a tile on the grid. */
bool selection_find(const struct view *v, const struct layout_grid *g, const struct model *m,
                    int32_t *block, int32_t *vm);

#endif
