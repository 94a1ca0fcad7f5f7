/* SPDX-License-Identifier: MIT */
/*
 * The terminal's view state and its keys (top_view.h).
 */
#include "top_view.h"

#include <stdio.h>
#include <string.h>

const char *const top_view_help[] = {
    "kvmgrid-top: the grid's VMs, live, from the broker's retained state",
    "",
    "  1 2 3 4 5   sort by CPU, memory, disk, network, steal (largest first)",
    "  6 7 0       sort by state, age (oldest first), name (host, then VM)",
    "  s >  <      next / previous sort column",
    "  r I         reverse the order (rows without the figure stay last)",
    "  / f         host filter: type text or a glob, Enter applies, Esc cancels",
    "  a           alerts only / everything",
    "  p Space     pause the table (the model keeps up)",
    "  arrows PgUp PgDn Home End   scroll",
    "  Esc Bksp    back: close help, cancel the filter line, clear the filter,",
    "              leave alerts only",
    "  h ? F1      this help",
    "  q           quit",
    "",
    "MARKS: ! and the alert kinds (CPU MEM STEAL DISK STALE OFFLINE); stale,",
    "offline when not alerts. AGE: since the VM's last sample.",
    NULL,
};

void top_view_init(struct top_view *v, enum top_sort sort, bool reverse, const char *filter,
                   bool alerts_only)
{
    memset(v, 0, sizeof(*v));
    v->sort = (unsigned)sort < TOP_SORT_COUNT ? sort : TOP_SORT_CPU;
    v->reverse = reverse;
    v->alerts_only = alerts_only;
    snprintf(v->filter, sizeof(v->filter), "%s", filter ? filter : "");
}

static void set_sort(struct top_view *v, enum top_sort s)
{
    v->sort = s;
    v->top = 0;
}

/* Appends code point cp to the line being edited, as UTF-8. */
static void edit_add(struct top_view *v, int cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (v->edit_len + n > TOP_FILTER_MAX)
        return;
    memcpy(v->edit + v->edit_len, u, n);
    v->edit_len += n;
    v->edit[v->edit_len] = '\0';
}

/* Removes the last character (all its UTF-8 bytes). */
static void edit_back(struct top_view *v)
{
    while (v->edit_len > 0) {
        unsigned char c = (unsigned char)v->edit[--v->edit_len];
        if ((c & 0xC0) != 0x80)
            break;
    }
    v->edit[v->edit_len] = '\0';
}

static enum top_action edit_key(struct top_view *v, int key)
{
    switch (key) {
    case TOP_KEY_ENTER:
        memcpy(v->filter, v->edit, v->edit_len + 1);
        v->editing = false;
        v->top = 0;
        return TOP_ACT_REDRAW;
    case TOP_KEY_ESC:
        v->editing = false;
        return TOP_ACT_REDRAW;
    case TOP_KEY_BACKSPACE:
        edit_back(v);
        return TOP_ACT_REDRAW;
    case 0x15: /* Ctrl-U: the whole line */
        v->edit_len = 0;
        v->edit[0] = '\0';
        return TOP_ACT_REDRAW;
    default:
        if (key >= 0x20 && key != 0x7F && key < 0x110000 && !(key >= 0x80 && key <= 0x9F)) {
            edit_add(v, key);
            return TOP_ACT_REDRAW;
        }
        return TOP_ACT_NONE;
    }
}

/* Back one step, the narrowest first (as in the wall). */
static enum top_action back(struct top_view *v)
{
    if (v->help)
        v->help = false;
    else if (v->filter[0] != '\0')
        v->filter[0] = '\0';
    else if (v->alerts_only)
        v->alerts_only = false;
    else
        return TOP_ACT_NONE;
    v->top = 0;
    return TOP_ACT_REDRAW;
}

static void scroll(struct top_view *v, long by)
{
    if (by < 0 && (size_t)-by > v->top)
        v->top = 0;
    else
        v->top = (size_t)((long)v->top + by);
}

enum top_action top_view_key(struct top_view *v, int key, size_t page)
{
    if (v->editing)
        return edit_key(v, key);
    long pg = page > 1 ? (long)page - 1 : 1;
    switch (key) {
    case 'q':
        return TOP_ACT_QUIT;
    case 'h': case '?': case TOP_KEY_HELP:
        v->help = !v->help;
        return TOP_ACT_REDRAW;
    case TOP_KEY_ESC: case TOP_KEY_BACKSPACE:
        return back(v);
    case '1': case '2': case '3': case '4': case '5':
        set_sort(v, (enum top_sort)(TOP_SORT_CPU + (key - '1')));
        return TOP_ACT_REDRAW;
    case '6':
        set_sort(v, TOP_SORT_STATE);
        return TOP_ACT_REDRAW;
    case '7':
        set_sort(v, TOP_SORT_AGE);
        return TOP_ACT_REDRAW;
    case '0':
        set_sort(v, TOP_SORT_NAME);
        return TOP_ACT_REDRAW;
    case 's': case '>': case '.':
        set_sort(v, (enum top_sort)((v->sort + 1) % TOP_SORT_COUNT));
        return TOP_ACT_REDRAW;
    case '<': case ',':
        set_sort(v, (enum top_sort)((v->sort + TOP_SORT_COUNT - 1) % TOP_SORT_COUNT));
        return TOP_ACT_REDRAW;
    case 'r': case 'I':
        v->reverse = !v->reverse;
        v->top = 0;
        return TOP_ACT_REDRAW;
    case '/': case 'f':
        v->editing = true;
        v->help = false;
        v->edit_len = strlen(v->filter);
        memcpy(v->edit, v->filter, v->edit_len + 1);
        return TOP_ACT_REDRAW;
    case 'a':
        v->alerts_only = !v->alerts_only;
        v->top = 0;
        return TOP_ACT_REDRAW;
    case 'p': case ' ':
        v->paused = !v->paused;
        return TOP_ACT_REDRAW;
    case TOP_KEY_UP: case 'k':
        scroll(v, -1);
        return TOP_ACT_REDRAW;
    case TOP_KEY_DOWN: case 'j':
        scroll(v, 1);
        return TOP_ACT_REDRAW;
    case TOP_KEY_PGUP:
        scroll(v, -pg);
        return TOP_ACT_REDRAW;
    case TOP_KEY_PGDN:
        scroll(v, pg);
        return TOP_ACT_REDRAW;
    case TOP_KEY_HOME: case 'g':
        v->top = 0;
        return TOP_ACT_REDRAW;
    case TOP_KEY_END: case 'G':
        v->top = SIZE_MAX / 2;
        return TOP_ACT_REDRAW;
    default:
        return TOP_ACT_NONE;
    }
}

void top_view_clamp(struct top_view *v, size_t n, size_t page)
{
    size_t max = n > page ? n - page : 0;
    if (v->top > max)
        v->top = max;
}
