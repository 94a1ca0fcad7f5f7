/* SPDX-License-Identifier: MIT */
/*
 * The wall's picture: an SDL2 window, the wall's own ARGB8888 pixel buffer into
 * which only changed tiles are repainted, dirty-rectangle texture uploads, text
 * with SDL2_ttf (host names once per layout; VM names, and values on large tiles,
 * in the bottom 40 % of each tile, cached per VM; header and status lines only when
 * their text changes), the tooltip and help overlays, and input events turned into
 * render_event values. The only module besides main that includes SDL.
 *
 * Threads: main thread only. It takes the model's lock while it reads the model.
 */
#ifndef KG_WALL_RENDER_H
#define KG_WALL_RENDER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "colour.h"
#include "layout.h"
#include "model.h"

struct render;

struct render_options {
    int width, height;          /* window size in points; 0: 1280x720 */
    bool fullscreen;            /* desktop full screen */
    const char *font_path;      /* TTF file; NULL: the DejaVu Sans default */
    const char *title;          /* window title */
    const char *prefix;         /* shown in the header (borrowed, must outlive) */
    const char *broker;         /* shown in the header (borrowed, must outlive) */
};

enum render_key {
    RENDER_KEY_NONE = 0, RENDER_KEY_METRIC_1, RENDER_KEY_METRIC_2, RENDER_KEY_METRIC_3,
    RENDER_KEY_METRIC_4, RENDER_KEY_METRIC_5, RENDER_KEY_METRIC_NEXT, RENDER_KEY_SORT,
    RENDER_KEY_FULLSCREEN, RENDER_KEY_ZOOM, RENDER_KEY_BACK, RENDER_KEY_PAUSE,
    RENDER_KEY_HELP, RENDER_KEY_QUIT,
    /* operator mode: move the selection, send preset 1..4 (F5..F8) */
    RENDER_KEY_LEFT, RENDER_KEY_RIGHT, RENDER_KEY_UP, RENDER_KEY_DOWN,
    RENDER_KEY_OP_1, RENDER_KEY_OP_2, RENDER_KEY_OP_3, RENDER_KEY_OP_4
};

enum render_event_type { RENDER_EV_NONE = 0, RENDER_EV_QUIT, RENDER_EV_KEY, RENDER_EV_CLICK };

struct render_event {
    enum render_event_type type;
    enum render_key key;
    int x, y;                   /* CLICK: output pixels */
};

/* Opens the window (SDL video and TTF initialised here). Returns 0 and *out (free
 * with render_free), or KG_EIO with the SDL/TTF error in errmsg. */
int render_create(const struct render_options *opt, struct render **out, char *errmsg,
                  size_t errlen);
void render_free(struct render *r);
/* True when SDL, reaching no display (DISPLAY unset, or its X server not
 * answering), fell back to a windowless driver (offscreen, dummy) that
 * SDL_VIDEODRIVER did not ask for; errmsg then says so. A wall that is to be
 * watched must not run on such a driver, drawing for nobody. */
bool render_no_display(const struct render *r, char *errmsg, size_t errlen);

/* Handles window and mouse events internally; returns 1 and fills *ev for events
 * the program acts on, 0 when the queue is empty. */
int render_poll(struct render *r, struct render_event *ev);
/* Waits up to timeout_ms for an event (it stays queued for render_poll). */
void render_wait(struct render *r, int timeout_ms);

/* View settings; each takes effect at the next frame. */
void render_set_metric(struct render *r, enum colour_metric m);
enum colour_metric render_get_metric(const struct render *r);
void render_set_sort(struct render *r, enum layout_sort_by by);
enum layout_sort_by render_get_sort(const struct render *r);
void render_set_paused(struct render *r, bool paused);
bool render_get_paused(const struct render *r);
void render_toggle_help(struct render *r);
void render_toggle_fullscreen(struct render *r);
void render_set_connected(struct render *r, bool connected);
/* Zooms into the host under output pixel (x, y), or into the first host when
 * x < 0. Lock not held by the caller. Returns true when it zoomed. */
bool render_zoom_at(struct render *r, struct model *m, int x, int y);
void render_zoom_out(struct render *r);
bool render_zoomed(const struct render *r);

/* Operator mode: a selected VM (framed on screen, kept by name across layouts)
 * and a message on the status line. Without operator mode nothing is selected. */
void render_set_operator(struct render *r, bool on);
/* Selects the VM under output pixel (x, y). Lock not held by the caller. True when
 * a VM is selected. */
bool render_select_at(struct render *r, struct model *m, int x, int y);
/* Moves the selection: dx -1/+1 to the previous/next VM in screen order (across
 * hosts), dy -1/+1 one tile row up/down in the host block (to the previous/next
 * block past its edge). Selects the first VM when none is. Lock not held. */
bool render_select_move(struct render *r, struct model *m, int dx, int dy);
/* Selects the first VM named vm (raw bytes, len) in screen order. Lock not held. */
bool render_select_name(struct render *r, struct model *m, const char *vm, size_t len);
/* Copies the selected VM's raw name (NUL-terminated; KG_NAME_MAX + 1 suffices; its
 * length in *vm_len, as a raw name may hold a NUL) and its host's into the
 * buffers; false when nothing (or a VM that is gone) is selected. Lock not held. */
bool render_selected(struct render *r, struct model *m, char *vm, size_t vm_size,
                     size_t *vm_len, char *host, size_t host_size);
void render_clear_selection(struct render *r);
/* The colour (0xAARRGGBB) at the centre of the first tile of a VM named vm (raw
 * bytes, len) in screen order, as last drawn; false when no such VM has a tile.
 * For latency tracing (--trace-tile). Lock not held by the caller. */
bool render_tile_colour(struct render *r, struct model *m, const char *vm, size_t len,
                        uint32_t *argb);
/* The operator's line at the start of the status bar (copied; NULL or "" clears). */
void render_set_operator_message(struct render *r, const char *msg);

/* Draws what changed since the last frame and presents it when something did.
 * force: lay out now even if the host set is changing quickly. When
 * screenshot_path is not NULL, the composed frame is saved there as PNG
 * (returns KG_EIO on failure). Returns 0 or a KG_* code. Takes the model lock. */
int render_frame(struct render *r, struct model *m, uint64_t now_ms, bool force,
                 const char *screenshot_path);

/* Writes the layout of the last frame as text (one "host" line per block, one
 * "tile" line per VM tile with its rectangle) for tests, into PATH.tmp renamed
 * over path. Takes the model lock. 0 or KG_EIO. */
int render_dump_layout(struct render *r, struct model *m, const char *path);

/* Frame statistics for benchmarks. */
struct render_stats {
    uint64_t frames_presented;
    uint64_t tiles_painted;
    uint64_t layouts;
    uint64_t rects_uploaded;
};
void render_get_stats(const struct render *r, struct render_stats *out);

/* What the wall shows right now, for tests and the SIGUSR1 report. */
struct render_view {
    bool help, tooltip, fullscreen, zoomed, paused, operator, selected;
    int win_w, win_h;           /* window size in points */
    int out_w, out_h;           /* output size in pixels */
    /* true when the next render_frame would still change the picture: a layout
     * or repaint asked for, dirty tiles or rectangles not yet presented, an
     * overlay changed, the model's structure ahead of the layout (while not
     * paused). False right after a frame that drew everything. */
    bool pending;
};
/* Fills *out. Takes the model lock. */
void render_get_view(struct render *r, struct model *m, struct render_view *out);

#endif
