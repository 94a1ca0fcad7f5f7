/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's run modes (top.h): the model and its feed, the wait for the
 * retained state, and the plain outputs — the table (--once) and JSON lines
 * (--json). The live screen is top_screen.c's; nothing here draws on a terminal.
 */
#include "top.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/schema.h"
#include "model.h"
#include "top_screen.h"
#include "top_table.h"

#define TOP_DELIVER_BYTES (1u << 20) /* messages waiting between Paho and model_apply */
#define LINE_MAX_BYTES (KG_PAYLOAD_MAX + 16)

/* Waits until the feed has applied this connect's retained state, *stop, or
 * timeout_ms. TOP_EXIT_OK when synced (or stopped: *stop says which),
 * TOP_EXIT_TIMEOUT. */
static int wait_synced(struct feed *f, uint64_t timeout_ms, volatile sig_atomic_t *stop)
{
    uint64_t deadline = kg_clock_mono_ms() + timeout_ms;
    for (;;) {
        if (feed_synced(f) || (stop != NULL && *stop))
            return TOP_EXIT_OK;
        uint64_t now = kg_clock_mono_ms();
        if (now >= deadline)
            return TOP_EXIT_TIMEOUT;
        /* a signal is seen within 100 ms */
        feed_wait(f, 0, now + 100 < deadline ? now + 100 : deadline);
    }
}

/* The rows the filters pass, as the model stands now (ticked first). 0 or
 * KG_ENOMEM. */
static int take_all(const struct top_config *c, struct model *m, struct top_table *t)
{
    struct top_filter flt = {c->host, c->alerts_only};
    model_lock(m);
    model_tick(m, kg_clock_mono_ms(), COLOUR_METRIC_CPU);
    int rc = top_table_take(t, m, &flt, kg_clock_real_ms());
    const uint32_t *dirty = NULL;
    model_take_dirty(m, &dirty, NULL); /* this snapshot covers them */
    model_unlock(m);
    if (rc == 0)
        top_table_sort(t, (enum top_sort)c->sort, c->reverse);
    return rc;
}

/* stdout failed: a reader that went away (a pipe into head) ends the output
 * as if done; anything else is a failure. */
static int out_status(void)
{
    if (errno == EPIPE)
        return TOP_EXIT_OK;
    kg_error("cannot write to standard output: %s", strerror(errno));
    return TOP_EXIT_RUNTIME;
}

/* The JSON lines of t's rows. 0, or -1 when stdout failed. */
static int print_json(const struct top_table *t)
{
    static char line[LINE_MAX_BYTES];
    for (size_t i = 0; i < t->n; i++) {
        int n = top_table_json(t, &t->rows[i], line, sizeof(line));
        if (n < 0)
            continue; /* a name the schema refuses (empty): nothing to say about it */
        line[n] = '\n';
        if (fwrite(line, 1, (size_t)n + 1, stdout) != (size_t)n + 1)
            return -1;
    }
    return fflush(stdout) == 0 ? 0 : -1;
}

/* The table: its heading and one line per row, as wide as the rows need. */
static int print_table(const struct top_table *t)
{
    static char line[8192];
    struct top_layout lo;
    top_table_layout(t, 0, &lo);
    top_table_heading(&lo, line, sizeof(line));
    if (printf("%s\n", line) < 0)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        top_table_line(t, &t->rows[i], &lo, line, sizeof(line));
        if (printf("%s\n", line) < 0)
            return -1;
    }
    return fflush(stdout) == 0 ? 0 : -1;
}

/* --json without --once: after the snapshot, each VM whose figures, state or
 * staleness changed (the model's dirty list), at most once per delay (when
 * staleness and alerts are judged again), until *stop. */
static int stream_json(const struct top_config *c, struct feed *f, struct model *m,
                       struct top_table *t, volatile sig_atomic_t *stop)
{
    struct top_filter flt = {c->host, c->alerts_only};
    uint64_t last = kg_clock_mono_ms();
    int status = TOP_EXIT_OK;
    while (stop == NULL || !*stop) {
        uint64_t now = kg_clock_mono_ms();
        uint64_t next = last + c->delay_ms;
        if (now < next) {
            /* paced: nothing is printed before next, whatever arrives; a
             * signal is seen within 100 ms */
            uint64_t until = next < now + 100 ? next : now + 100;
            feed_wait(f, until, until);
            continue;
        }
        last = now;
        model_lock(m);
        model_tick(m, now, COLOUR_METRIC_CPU);
        const uint32_t *list = NULL;
        bool all = false;
        uint32_t n = model_take_dirty(m, &list, &all);
        int rc = 0;
        if (all) {
            rc = top_table_take(t, m, &flt, kg_clock_real_ms());
        } else if (n > 0) {
            rc = top_table_take_slots(t, m, &flt, list, n, kg_clock_real_ms());
        } else {
            t->n = 0;
        }
        model_unlock(m);
        if (rc != 0) {
            kg_error("out of memory");
            status = TOP_EXIT_RUNTIME;
            break;
        }
        top_table_sort(t, TOP_SORT_NAME, false);
        if (print_json(t) != 0) {
            status = out_status();
            break;
        }
    }
    return status;
}

/* --once and --json: the retained state first, then the output. */
static int run_plain(const struct top_config *c, struct feed *f, struct model *m,
                     volatile sig_atomic_t *stop)
{
    int status = wait_synced(f, c->timeout_ms, stop);
    if (status == TOP_EXIT_TIMEOUT) {
        kg_error("gave up waiting for the retained state from %s after %llu ms",
                 c->client.broker, (unsigned long long)c->timeout_ms);
        return status;
    }
    if (stop != NULL && *stop)
        return TOP_EXIT_OK;
    struct top_table t;
    memset(&t, 0, sizeof(t));
    if (take_all(c, m, &t) != 0) {
        kg_error("out of memory");
        status = TOP_EXIT_RUNTIME;
    } else if ((c->json ? print_json(&t) : print_table(&t)) != 0) {
        status = out_status();
    } else if (c->json && !c->once) {
        status = stream_json(c, f, m, &t, stop);
    }
    top_table_free(&t);
    return status;
}

int top_run(const struct top_config *c, volatile sig_atomic_t *stop)
{
    char err[256];
    struct model *m = NULL;
    struct feed f;
    int status = TOP_EXIT_OK;
    memset(&f, 0, sizeof(f)); /* feed_close accepts it unopened */
    bool plain = c->once || c->json;
    if (!plain && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        kg_error("the live table needs a terminal (standard input and output); "
                 "use --once or --json for a pipe");
        return TOP_EXIT_RUNTIME;
    }
    if (feed_model_create(&c->feed, c->client.prefix, &m) != 0) {
        kg_error("cannot create the grid model");
        return TOP_EXIT_RUNTIME;
    }
    if (feed_open(&f, &c->client, m, TOP_DELIVER_BYTES, err, sizeof(err)) != 0) {
        kg_error("broker %s: %s", c->client.broker, err);
        status = TOP_EXIT_USAGE;
    } else if (feed_start(&f, c->client.prefix) != 0) {
        kg_error("cannot subscribe to %s/#", c->client.prefix);
        status = TOP_EXIT_RUNTIME;
    } else if (plain) {
        status = run_plain(c, &f, m, stop);
    } else {
        status = top_screen_run(c, &f, m, stop);
    }
    feed_close(&f); /* no more callbacks into the model after this */
    model_free(m);
    return status;
}
