/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's live table (top_screen.h): ncurses in, keys out to top_view,
 * rows from top_table. Draws after a key at once, otherwise once per delay
 * while the table is not paused; sleeps in the terminal's key wait meanwhile.
 */
#include "top_screen.h"

#include <curses.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/log.h"
#include "kvmgrid/text.h"
#include "top.h"
#include "top_table.h"
#include "top_view.h"

#define HEAD_ROWS 4   /* title, counts, sort and filter, the columns' heading */
#define KEY_WAIT_MS 100 /* the longest sleep: how late a signal or a due draw is seen */
#define ESC_DELAY_MS 25

struct screen_state {
    const struct top_config *c;
    struct feed *f;
    struct model *m;
    struct top_view v;
    struct top_table t;
    char line[8192];
};

/* Draws UTF-8 s on row y from column 0, cut to the screen's width. */
static void put_line(int y, const char *s, attr_t attr)
{
    if (y < 0 || y >= LINES || COLS <= 0)
        return;
    size_t n = kg_text_fit(s, strlen(s), (size_t)COLS, NULL);
    move(y, 0);
    clrtoeol();
    if (attr)
        attron(attr);
    addnstr(s, (int)n);
    if (attr)
        attroff(attr);
}

static const char *direction(enum top_sort by, bool reverse)
{
    if (by == TOP_SORT_NAME || by == TOP_SORT_STATE)
        return reverse ? "Z to A" : "A to Z";
    if (by == TOP_SORT_AGE)
        return reverse ? "newest first" : "oldest first";
    return reverse ? "smallest first" : "largest first";
}

static void draw_head(struct screen_state *s)
{
    const struct top_config *c = s->c;
    const struct top_counts *k = &s->t.counts;
    const char *conn = !feed_connected(s->f) ? "NOT CONNECTED"
                       : !feed_synced(s->f) ? "connected, receiving the retained state"
                                            : "connected";
    snprintf(s->line, sizeof(s->line), "kvmgrid-top  %s  %s  %s%s", c->client.broker,
             c->client.prefix, conn, s->v.paused ? "  PAUSED (p)" : "");
    put_line(0, s->line, A_BOLD);
    snprintf(s->line, sizeof(s->line),
             "hosts %u (offline %u, stale %u)  VMs %u (stale %u, offline %u)  in alert %u  "
             "shown %u",
             k->hosts, k->hosts_offline, k->hosts_stale, k->vms, k->vms_stale, k->vms_offline,
             k->vms_alert, k->shown);
    put_line(1, s->line, 0);
    snprintf(s->line, sizeof(s->line), "sort: %s, %s%s%s%s", top_sort_key(s->v.sort),
             direction(s->v.sort, s->v.reverse),
             s->v.filter[0] ? "  host filter: " : "", s->v.filter,
             s->v.alerts_only ? "  ALERTS ONLY (a)" : "");
    put_line(2, s->line, 0);
}

static void draw_help(void)
{
    int y = HEAD_ROWS - 1;
    for (int i = 0; top_view_help[i] != NULL && y < LINES - 1; i++)
        put_line(y++, top_view_help[i], 0);
    for (; y < LINES - 1; y++)
        put_line(y, "", 0);
}

/* Rows on one screen. */
static size_t page_rows(void)
{
    return LINES > HEAD_ROWS + 1 ? (size_t)(LINES - HEAD_ROWS - 1) : 0;
}

static void draw_table(struct screen_state *s)
{
    struct top_layout lo;
    top_table_layout(&s->t, COLS > 0 ? COLS : 1, &lo);
    top_table_heading(&lo, s->line, sizeof(s->line));
    put_line(HEAD_ROWS - 1, s->line, A_REVERSE);
    size_t page = page_rows();
    top_view_clamp(&s->v, s->t.n, page);
    int y = HEAD_ROWS;
    for (size_t i = s->v.top; i < s->t.n && y < LINES - 1; i++, y++) {
        const struct top_row *r = &s->t.rows[i];
        top_table_line(&s->t, r, &lo, s->line, sizeof(s->line));
        put_line(y, s->line, r->alerts ? A_BOLD : 0);
    }
    if (s->t.n == 0 && y < LINES - 1) {
        put_line(y++, feed_synced(s->f) ? (s->v.filter[0] || s->v.alerts_only
                                               ? "no VM matches the filter (Esc clears it)"
                                               : "no VM on the broker")
                                        : "waiting for the retained state...", 0);
    }
    for (; y < LINES - 1; y++)
        put_line(y, "", 0);
}

static void draw_foot(struct screen_state *s)
{
    if (s->v.editing)
        snprintf(s->line, sizeof(s->line), "host filter: %s_  (Enter applies, Esc cancels)",
                 s->v.edit);
    else if (s->t.n > 0 && page_rows() > 0)
        snprintf(s->line, sizeof(s->line),
                 "rows %zu-%zu of %zu  q quit  h help  1-5 6 7 0 sort  r reverse  / filter  "
                 "a alerts  p pause",
                 s->v.top + 1, s->v.top + page_rows() < s->t.n ? s->v.top + page_rows() : s->t.n,
                 s->t.n);
    else
        snprintf(s->line, sizeof(s->line), "q quit  h help  / filter  a alerts");
    put_line(LINES - 1, s->line, s->v.editing ? 0 : A_REVERSE);
}

/* Takes the rows as the view filters and sorts them (not while paused). */
static void take(struct screen_state *s)
{
    struct top_filter flt = {s->v.filter, s->v.alerts_only};
    model_lock(s->m);
    model_tick(s->m, kg_clock_mono_ms(), COLOUR_METRIC_CPU);
    const uint32_t *dirty = NULL;
    model_take_dirty(s->m, &dirty, NULL); /* keeps the list short; the table is taken whole */
    if (top_table_take(&s->t, s->m, &flt, kg_clock_real_ms()) != 0)
        kg_debug("out of memory taking the table");
    model_unlock(s->m);
    top_table_sort(&s->t, s->v.sort, s->v.reverse);
}

static void draw(struct screen_state *s)
{
    if (LINES <= 0 || COLS <= 0)
        return;
    draw_head(s);
    if (s->v.help)
        draw_help();
    else
        draw_table(s);
    draw_foot(s);
    refresh();
}

/* The terminal's key as a top_view key: a character, or enum top_key; -1 none. */
static int map_key(int rc, wint_t ch)
{
    if (rc == OK) {
        if (ch == 27)
            return TOP_KEY_ESC;
        if (ch == '\n' || ch == '\r')
            return TOP_KEY_ENTER;
        if (ch == 127 || ch == 8)
            return TOP_KEY_BACKSPACE;
        return (int)ch;
    }
    if (rc != KEY_CODE_YES)
        return -1;
    switch (ch) {
    case KEY_UP: return TOP_KEY_UP;
    case KEY_DOWN: return TOP_KEY_DOWN;
    case KEY_PPAGE: return TOP_KEY_PGUP;
    case KEY_NPAGE: return TOP_KEY_PGDN;
    case KEY_HOME: return TOP_KEY_HOME;
    case KEY_END: return TOP_KEY_END;
    case KEY_ENTER: return TOP_KEY_ENTER;
    case KEY_BACKSPACE: return TOP_KEY_BACKSPACE;
    case KEY_F(1): return TOP_KEY_HELP;
    default: return -1;
    }
}

/* While the screen is up, log lines written to the terminal would tear it:
 * stderr goes to /dev/null then, unless it was redirected away from the
 * terminal (a file keeps them). Returns the saved stderr, or -1. */
static int quiet_stderr(void)
{
    if (!isatty(STDERR_FILENO))
        return -1;
    int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved < 0 || null < 0 || dup2(null, STDERR_FILENO) < 0) {
        if (saved >= 0)
            close(saved);
        saved = -1;
    }
    if (null >= 0)
        close(null);
    return saved;
}

static void restore_stderr(int saved)
{
    if (saved < 0)
        return;
    dup2(saved, STDERR_FILENO);
    close(saved);
}

int top_screen_run(const struct top_config *c, struct feed *f, struct model *m,
                   volatile sig_atomic_t *stop)
{
    static struct screen_state s;
    memset(&s, 0, sizeof(s));
    s.c = c;
    s.f = f;
    s.m = m;
    top_view_init(&s.v, (enum top_sort)c->sort, c->reverse, c->host, c->alerts_only);
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (scr == NULL) {
        kg_error("cannot use the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
        return TOP_EXIT_RUNTIME;
    }
    int saved = quiet_stderr();
    if (getenv("ESCDELAY") == NULL)
        set_escdelay(ESC_DELAY_MS); /* Esc is a key of its own here, not a prefix */
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    timeout(KEY_WAIT_MS);
    uint64_t last_draw = 0;
    while (stop == NULL || !*stop) {
        uint64_t now = kg_clock_mono_ms();
        if (!s.v.paused && now - last_draw >= c->delay_ms) {
            take(&s);
            draw(&s);
            last_draw = now;
        }
        wint_t ch = 0;
        int rc = get_wch(&ch);
        if (rc == KEY_CODE_YES && ch == KEY_RESIZE) {
            draw(&s); /* LINES and COLS are new: the same rows, laid out again */
            continue;
        }
        int key = map_key(rc, ch);
        if (key < 0)
            continue;
        struct top_view before = s.v;
        enum top_action a = top_view_key(&s.v, key, page_rows());
        if (a == TOP_ACT_QUIT)
            break;
        if (a != TOP_ACT_REDRAW)
            continue;
        /* a key shows its effect on rows taken now; paused, the rows stay unless
         * the key asked for other rows (sort, filter, alerts only) */
        if (!s.v.paused || s.v.sort != before.sort || s.v.reverse != before.reverse ||
            s.v.alerts_only != before.alerts_only || strcmp(s.v.filter, before.filter) != 0) {
            take(&s);
            last_draw = kg_clock_mono_ms();
        }
        draw(&s);
    }
    endwin();
    delscreen(scr);
    restore_stderr(saved);
    top_table_free(&s.t);
    return TOP_EXIT_OK;
}
