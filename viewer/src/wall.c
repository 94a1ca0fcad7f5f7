/* SPDX-License-Identifier: MIT */
/*
 * The wall's run loop. The feed (feed.h) fills the model from the MQTT session
 * and wakes this loop; the main thread ticks the model twice a second, lets
 * the screen draw what changed, and sleeps in SDL's event wait between frames.
 * Its steps: report (SIGUSR1), input, settle (has the retained burst arrived?),
 * the operator's send, tick, frame, and the screenshot's exit.
 * No SDL here: the renderer turns input into input_event values.
 */
#include "wall.h"

#include <math.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "colour.h"
#include "feed.h"
#include "input.h"
#include "kvmgrid/client.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "kvmgrid/schema.h"
#include "layout.h"
#include "model.h"
#include "operator.h"
#include "render.h"
#include "screen.h"
#include "selection.h"
#include "view.h"

#define TICK_MS 500
/* model_tick reads every VM (about 34 ns each, memory bound: 34 ms of the main
 * thread with the model's lock at a region's 1,000,000): over this many VMs the
 * counts, staleness and alert states are brought up to date once a second */
#define TICK_SLOW_MS 1000
#define TICK_SLOW_VMS 200000u
#define FRAME_MS 16
#define SETTLE_MS 1000       /* no retained message for this long: the burst is in */
#define EMPTY_SETTLE_MS 1500 /* connected, nothing retained at all for this long */
#define WALL_DELIVER_BYTES (1u << 20) /* messages waiting between Paho and model_apply */
#define WAIT_MAX_MS 50       /* a windowless wall's longest sleep: how late it sees a signal */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sorts a copy of us[0..n) into s. */
static void sorted_copy(const uint32_t *us, size_t n, uint32_t *s)
{
    memcpy(s, us, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_u32);
}

/* Frame statistics: wall-clock time of each presented frame (what the screen sees,
 * including time lost to other processes) and the main thread's CPU time for it
 * (the wall's own work, immune to a busy machine). */
static void print_stats(const char *label, const uint32_t *us, const uint32_t *cpu_us, size_t n,
                        const struct render_stats *rs)
{
    if (n == 0) {
        printf("%s 0\n", label);
        return;
    }
    uint32_t *s = malloc(n * sizeof(*s)), *c = malloc(n * sizeof(*c));
    if (s == NULL || c == NULL) {
        free(s);
        free(c);
        return;
    }
    sorted_copy(us, n, s);
    sorted_copy(cpu_us, n, c);
    size_t p99 = (size_t)((double)n * 0.99) < n ? (size_t)((double)n * 0.99) : n - 1;
    printf("%s %zu frame_ms_median %.3f frame_ms_p99 %.3f frame_ms_max %.3f "
           "frame_cpu_ms_median %.3f frame_cpu_ms_p99 %.3f tiles_painted %llu "
           "layouts %llu rects_uploaded %llu\n",
           label, n, s[n / 2] / 1000.0, s[p99] / 1000.0, s[n - 1] / 1000.0, c[n / 2] / 1000.0,
           c[p99] / 1000.0, (unsigned long long)rs->tiles_painted,
           (unsigned long long)rs->layouts, (unsigned long long)rs->rects_uploaded);
    free(s);
    free(c);
}

static void print_counters(struct model *m, uint64_t connected_ms)
{
    model_lock(m);
    uint64_t burst = m->retained_seen && connected_ms && m->last_retained_ms >= connected_ms
                         ? m->last_retained_ms - connected_ms : 0;
    printf("applied %llu retained %llu last_retained_after_connect_ms %llu vms %u hosts %u "
           "malformed %llu",
           (unsigned long long)m->applied, (unsigned long long)m->retained_seen,
           (unsigned long long)burst, m->n_vms, m->n_hosts,
           (unsigned long long)model_bad_total(m));
    for (int i = 0; i < MODEL_BAD_COUNT; i++)
        printf(" %s %llu", model_bad_name((enum model_bad)i), (unsigned long long)m->bad[i]);
    printf(" dropped_hosts %llu dropped_vms %llu\n", (unsigned long long)m->dropped_hosts,
           (unsigned long long)m->dropped_vms);
    model_unlock(m);
    fflush(stdout);
}

/* Operator mode: a second session, a pure publisher at QoS 1 (PROTOCOL.md: commands
 * are QoS 1), so that the reading session keeps QoS 0 for fast retained bursts. */
struct wall_op {
    struct kg_mqtt *mq;
    uint64_t seq;           /* commands handed to the session, also their id */
    uint64_t failed;
};

/* Sends preset p to the selected VM's load generator; the outcome goes to the
 * status line and the log. Returns 0 or a KG_* code. */
static int op_send(struct wall_op *op, struct screen *scr, struct model *m, const char *prefix,
                   enum operator_preset p)
{
    char vm[KG_NAME_MAX + 1], host[KG_NAME_MAX + 1], group[KG_NAME_MAX + 1], msg[600];
    char topic[KG_TOPIC_MAX], json[512], site[KG_PREFIX_MAX + 1];
    size_t vlen = 0, jlen = 0, glen = 0;
    int rc = KG_EINVAL;
    if (!selection_get(&scr->view, m, vm, sizeof(vm), &vlen, host, sizeof(host), group,
                       sizeof(group), &glen)) {
        snprintf(msg, sizeof(msg), "not sent: no VM selected");
    } else if (strlen(vm) != vlen) {
        snprintf(msg, sizeof(msg), "not sent: the VM's name holds a NUL byte");
    } else if ((rc = kg_topic_prefix_fill(site, sizeof(site), prefix, group, glen)) < 0) {
        /* the command goes to the VM's site: its prefix, "+" filled in */
        snprintf(msg, sizeof(msg), "not sent: no command prefix for its site: %s",
                 kg_strerror(rc));
    } else if ((rc = operator_command(p, op->seq + 1, site, vm, topic, sizeof(topic), json,
                                      sizeof(json), &jlen)) != 0) {
        snprintf(msg, sizeof(msg), "not sent: %s", kg_strerror(rc));
    } else if (!kg_mqtt_is_connected(op->mq)) {
        /* a command queued now could start a load minutes later: refuse instead */
        rc = KG_ESTATE;
        snprintf(msg, sizeof(msg), "not sent: not connected to the broker");
    } else if ((rc = kg_mqtt_publish(op->mq, topic, json, jlen, false)) != 0) {
        snprintf(msg, sizeof(msg), "not sent to %.100s: %s", topic, kg_strerror(rc));
    } else {
        op->seq++;
        model_lock(m);
        int ls = model_load_status(m, vm, vlen);
        model_unlock(m);
        snprintf(msg, sizeof(msg), "sent %s (id wall-%llu) to %.200s%s", operator_preset_label(p),
                 (unsigned long long)op->seq, topic,
                 ls < 0 ? "; no load generator has reported from it yet"
                 : ls == KG_LOADST_OFFLINE ? "; its load generator is offline" : "");
    }
    if (rc != 0)
        op->failed++;
    view_set_operator_message(&scr->view, msg);
    if (rc == 0)
        kg_info("operator: %s", msg);
    else
        kg_warn("operator: %s", msg);
    return rc;
}

/* Frame times of presented frames, for --stats. */
struct wall_times {
    uint32_t *us, *cpu_us;      /* owned */
    size_t n, cap;
};

static void times_add(struct wall_times *t, uint32_t us, uint32_t cpu_us)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 1024;
        uint32_t *nf = realloc(t->us, ncap * sizeof(*nf));
        if (nf != NULL)
            t->us = nf;
        uint32_t *nc = realloc(t->cpu_us, ncap * sizeof(*nc));
        if (nc != NULL)
            t->cpu_us = nc;
        if (nf != NULL && nc != NULL)
            t->cap = ncap;
    }
    if (t->n < t->cap) {
        t->cpu_us[t->n] = cpu_us;
        t->us[t->n++] = us;
    }
}

/* What the run loop keeps between its steps. */
struct wall_loop {
    const struct wall_config *c;
    struct feed *feed;
    struct model *m;
    struct screen *scr;
    struct wall_op *op;
    struct wall_times times;
    uint64_t start_ms, last_tick, frames, inputs, tick_values_gen;
    uint32_t tick_vms;          /* the model's VMs at the last tick (tick_ms) */
    size_t settled_frames;      /* --stats: frames timed before the burst settled */
    bool shot;                  /* --screenshot: save a picture and exit */
    bool send_pending;          /* --operator-send: not sent yet */
    bool tip_pending;           /* --tooltip: not pointed at yet */
    bool burst_logged;          /* the retained state has arrived (settled once) */
    bool windowless;            /* no window, no input: sleep in feed_wait */
    int send_status;
    int64_t trace_argb;         /* --trace-tile: colour last reported, -1 none */
};

/* The second line of the SIGUSR1 report: what is on screen, so that tests can
 * wait for a state instead of sleeping ("pending 0" once everything received and
 * every input handled has been drawn). */
static void print_view(struct wall_loop *l, bool model_ahead)
{
    struct screen *scr = l->scr;
    const struct view *v = &scr->view;
    struct render_view rv;
    bool pending = screen_pending(scr, l->m, &rv);
    struct render_stats rs;
    render_get_stats(scr->render, &rs);
    char vm[KG_NAME_MAX + 1], host[KG_NAME_MAX + 1], group[KG_NAME_MAX + 1];
    char sel[3 * KG_NAME_ESC_MAX + 3] = "-";
    size_t vlen, glen;
    if (selection_get(v, l->m, vm, sizeof(vm), &vlen, host, sizeof(host), group, sizeof(group),
                      &glen)) {
        char gn[KG_NAME_ESC_MAX + 1] = "", hn[KG_NAME_ESC_MAX + 1], vn[KG_NAME_ESC_MAX + 1];
        if (glen > 0)
            model_printable(group, glen, gn, sizeof(gn));
        model_printable(host, strlen(host), hn, sizeof(hn));
        model_printable(vm, vlen, vn, sizeof(vn));
        snprintf(sel, sizeof(sel), "%s%s%s/%s", gn, glen > 0 ? "/" : "", hn, vn);
    }
    printf("view inputs %llu frames %llu settled %d pending %d metric %s rotating %d alerts_only %d "
           "sort %s paused %d help %d "
           "tooltip %d zoomed %d fullscreen %d size %dx%d output %dx%d operator %d sent %llu "
           "failed %llu selected %s\n",
           (unsigned long long)l->inputs, (unsigned long long)rs.frames_presented,
           l->burst_logged ? 1 : 0, (pending || model_ahead || !l->burst_logged) ? 1 : 0,
           view_show_key(view_showing(v)), v->rotating ? 1 : 0, v->alerts_only ? 1 : 0,
           v->sort == LAYOUT_SORT_NAME ? "name" : "load",
           v->paused ? 1 : 0, v->help ? 1 : 0, rv.tooltip ? 1 : 0, v->zoomed ? 1 : 0,
           rv.fullscreen ? 1 : 0, rv.win_w, rv.win_h, rv.out_w, rv.out_h,
           v->operator_mode ? 1 : 0, (unsigned long long)l->op->seq,
           (unsigned long long)l->op->failed, sel);
    fflush(stdout);
}

/* --trace-tile: after a presented frame, one stdout line whenever the VM's tile
 * shows another colour than last time (next to its centre, as presented), stamped
 * with the realtime clock so that scripts can compare it with when they sent a
 * command; "none" when the VM has no tile (yet, or any more). */
static void trace_tile(struct wall_loop *l, const char *vm)
{
    uint32_t argb = 0;
    model_lock(l->m);
    bool found = render_tile_colour(l->scr->render, l->m, &l->scr->grid, vm, strlen(vm), &argb);
    model_unlock(l->m);
    int64_t now = found ? (int64_t)(argb & 0xFFFFFFu) : -2;
    if (now == l->trace_argb)
        return;
    l->trace_argb = now;
    if (now < 0)
        printf("trace-tile %s none real_ms %lld\n", vm, (long long)kg_clock_real_ms());
    else
        printf("trace-tile %s colour %06llX real_ms %lld\n", vm, (long long)now,
               (long long)kg_clock_real_ms());
    fflush(stdout);
}

/* The grid as last drawn, into --dump-layout's file. 0 or KG_EIO. */
static int dump_layout(struct wall_loop *l)
{
    model_lock(l->m);
    int rc = render_dump_layout(l->scr->render, l->m, &l->scr->grid, &l->scr->agg, l->c->dump_layout);
    model_unlock(l->m);
    return rc;
}

/* SIGUSR1: the counters, what is on screen, and a running wall's layout on demand
 * (what a test compares with the broker's retained state). */
static void report_step(struct wall_loop *l)
{
    const struct wall_config *c = l->c;
    print_counters(l->m, atomic_load(&l->feed->connected_ms));
    model_lock(l->m);
    bool ahead = l->m->values_gen != l->tick_values_gen;
    model_unlock(l->m);
    print_view(l, ahead);
    if (!l->shot && c->dump_layout[0] && dump_layout(l) != 0)
        kg_warn("cannot write %s", c->dump_layout);
}

/* Handles the queued keys and clicks. True when the wall is to quit. */
static bool input_step(struct wall_loop *l)
{
    bool quit = false;
    struct input_event ev;
    while (render_poll(l->scr->render, &ev)) {
        if (ev.type != INPUT_EV_NONE)
            l->inputs++;
        int preset = 0;
        switch (input_apply(&ev, &l->scr->view, &l->scr->grid, l->m, &preset)) {
        case INPUT_QUIT:
            quit = true;
            break;
        case INPUT_FULLSCREEN:
            render_toggle_fullscreen(l->scr->render);
            break;
        case INPUT_METRIC:
            l->last_tick = 0; /* hottest list by the new metric */
            break;
        case INPUT_SEND:
            /* without operator mode there is no command session: nothing can be sent */
            if (l->op->mq != NULL)
                op_send(l->op, l->scr, l->m, l->c->client.prefix, (enum operator_preset)preset);
            break;
        default:
            break;
        }
    }
    return quit;
}

/* Has the retained state arrived? Quiet for a moment after the burst
 * (feed_settled). Logs the burst once. */
static bool settle_step(struct wall_loop *l, uint64_t now)
{
    struct model *m = l->m;
    bool settled = feed_settled(l->feed, now, SETTLE_MS, EMPTY_SETTLE_MS);
    if (settled && !l->burst_logged) {
        l->burst_logged = true;
        l->settled_frames = l->times.n;
        uint64_t cms = atomic_load(&l->feed->connected_ms);
        model_lock(m);
        kg_info("retained state: %llu messages applied, last %llu ms after connecting",
                (unsigned long long)m->retained_seen,
                (unsigned long long)(m->retained_seen && m->last_retained_ms > cms
                                     ? m->last_retained_ms - cms : 0));
        model_unlock(m);
    }
    return settled;
}

/* --operator-send, once settled: select the VM as a click would, send, and let
 * the screenshot show the status line. */
static void send_once(struct wall_loop *l, uint64_t now)
{
    const struct wall_config *c = l->c;
    l->send_pending = false;
    screen_frame(l->scr, l->m, now, true, NULL); /* lay out, so that the VM has a tile */
    const char *colon = strchr(c->operator_send, ':');
    enum operator_preset p = OPERATOR_STOP;
    operator_preset_parse(c->operator_send, (size_t)(colon - c->operator_send), &p);
    kg_mqtt_wait_connected(l->op->mq, 5000); /* op_send refuses without a connection */
    if (!selection_name(&l->scr->view, &l->scr->grid, l->m, colon + 1, strlen(colon + 1))) {
        char msg[300];
        snprintf(msg, sizeof(msg), "not sent: no VM named %.200s on the wall", colon + 1);
        view_set_operator_message(&l->scr->view, msg);
        kg_error("operator: %s", msg);
        l->send_status = WALL_EXIT_RUNTIME;
    } else if (op_send(l->op, l->scr, l->m, c->client.prefix, p) != 0) {
        l->send_status = WALL_EXIT_RUNTIME;
    }
}

/* --tooltip HOST/VM, once settled: lay out, then point at the VM's tile as a
 * mouse would, so that the screenshot shows its tooltip. */
static void tooltip_once(struct wall_loop *l, uint64_t now)
{
    const char *arg = l->c->tooltip, *slash = strchr(arg, '/');
    l->tip_pending = false;
    screen_frame(l->scr, l->m, now, true, NULL); /* lay out, so that the VM has a tile */
    if (slash == NULL || slash == arg || slash[1] == '\0' ||
        !screen_point_at(l->scr, l->m, arg, (size_t)(slash - arg), slash + 1, strlen(slash + 1))) {
        kg_error("tooltip: no tile for %s (expected HOST/VM of a VM on the wall)", arg);
        l->send_status = WALL_EXIT_RUNTIME;
    }
}

/* One frame, timed for --stats and followed by --trace-tile when presented. */
static int frame_step(struct wall_loop *l, uint64_t now, bool take)
{
    const struct wall_config *c = l->c;
    uint64_t t0 = kg_clock_mono_ns(), c0 = c->stats ? thread_cpu_ns() : 0;
    struct render_stats before, after;
    render_get_stats(l->scr->render, &before);
    int rc = screen_frame(l->scr, l->m, now, take, take ? c->screenshot : NULL);
    render_get_stats(l->scr->render, &after);
    bool presented = after.frames_presented > before.frames_presented;
    if (c->stats && presented)
        times_add(&l->times, (uint32_t)((kg_clock_mono_ns() - t0) / 1000),
                  (uint32_t)((thread_cpu_ns() - c0) / 1000));
    if (c->trace_tile[0] && presented)
        trace_tile(l, c->trace_tile);
    l->frames++;
    return rc;
}

/* --screenshot taken (rc: the frame's): the exit status, and the layout dump. */
static int screenshot_exit(struct wall_loop *l, int rc, bool timed_out)
{
    const struct wall_config *c = l->c;
    int status = WALL_EXIT_OK;
    if (rc != 0) {
        kg_error("cannot write the screenshot %s", c->screenshot);
        status = WALL_EXIT_RUNTIME;
    } else {
        kg_info("screenshot saved to %s", c->screenshot);
        if (timed_out) {
            kg_error("gave up waiting for the retained state from %s", c->client.broker);
            status = WALL_EXIT_TIMEOUT;
        }
    }
    if (c->dump_layout[0] && dump_layout(l) != 0) {
        kg_error("cannot write %s", c->dump_layout);
        status = WALL_EXIT_RUNTIME;
    }
    return status;
}

/* How often model_tick runs: TICK_MS, or TICK_SLOW_MS for a region's grid (as
 * large at the last tick). */
static uint64_t tick_ms(const struct wall_loop *l)
{
    return l->tick_vms > TICK_SLOW_VMS ? TICK_SLOW_MS : TICK_MS;
}

/* Until the next frame may begin, FRAME_MS after this one began (now). With a
 * window SDL waits for input or the time. Without one nothing can come from SDL:
 * the loop sleeps until the model changes, the next tick is due or WAIT_MAX_MS;
 * until the retained state has settled, and for a screenshot (--frames counts
 * these turns), it looks every FRAME_MS as with a window. */
static void wait_step(struct wall_loop *l, uint64_t now)
{
    uint64_t spent = kg_clock_mono_ms() - now;
    if (!l->windowless) {
        render_wait(l->scr->render, spent >= FRAME_MS ? 1 : (int)(FRAME_MS - spent));
        return;
    }
    uint64_t next = now + FRAME_MS, until = now + WAIT_MAX_MS;
    if (l->last_tick + tick_ms(l) < until)
        until = l->last_tick + tick_ms(l);
    if (l->shot || !l->burst_logged || until < next)
        until = next;
    feed_wait(l->feed, spent >= FRAME_MS ? now + spent + 1 : next, until);
}

/* The main loop: report, input, settle, operator send, tick, frame, wait; until
 * quit, *stop or a screenshot. Returns the exit status so far. */
static int run_loop(struct wall_loop *l, volatile sig_atomic_t *stop,
                    volatile sig_atomic_t *report)
{
    const struct wall_config *c = l->c;
    for (;;) {
        if (stop != NULL && *stop)
            return WALL_EXIT_OK;
        if (report != NULL && *report) {
            *report = 0;
            report_step(l);
        }
        if (input_step(l))
            return WALL_EXIT_OK;
        uint64_t now = kg_clock_mono_ms();
        view_set_connected(&l->scr->view, feed_connected(l->feed));
        bool settled = settle_step(l, now);
        bool take = false, timed_out = false;
        if (l->shot) {
            take = c->frames > 0 ? l->frames + 1 >= (uint64_t)c->frames : settled;
            if (!take && now - l->start_ms >= c->timeout_ms)
                take = timed_out = true;
        }
        if (l->send_pending && settled)
            send_once(l, now);
        if (view_rotate(&l->scr->view, now))
            l->last_tick = 0; /* hottest list by the new metric */
        if (l->tip_pending && settled)
            tooltip_once(l, now);
        if (take || l->last_tick == 0 || now - l->last_tick >= tick_ms(l)) {
            model_lock(l->m);
            model_tick(l->m, now, l->scr->view.metric);
            l->tick_values_gen = l->m->values_gen;
            l->tick_vms = l->m->n_vms;
            model_unlock(l->m);
            l->last_tick = now;
        }
        int rc = frame_step(l, now, take);
        if (take)
            return screenshot_exit(l, rc, timed_out);
        wait_step(l, now);
    }
}

/* The wall's feed (QoS 0, read only) and, in operator mode, a second session for
 * commands (QoS 1, its own client id: two sessions with one id would throw each
 * other off). Returns WALL_EXIT_OK or the exit status of the failure (logged);
 * what was opened is left for close_sessions. */
static int open_sessions(const struct wall_config *c, struct feed *feed, struct model *m,
                         struct wall_op *op)
{
    char err[256];
    /* model_apply (decode, then store under the model's lock) on the session's own
     * thread, beside Paho reading the next packets: a burst then takes the longer
     * of the two, not their sum. */
    if (feed_open(feed, &c->client, m, WALL_DELIVER_BYTES, err, sizeof(err)) != 0) {
        kg_error("broker %s: %s", c->client.broker, err);
        return WALL_EXIT_USAGE;
    }
    if (c->operator_mode) {
        char cid[256], hn[64] = "wall";
        if (c->client.client_id[0])
            snprintf(cid, sizeof(cid), "%.200s-cmd", c->client.client_id);
        else {
            gethostname(hn, sizeof(hn) - 1);
            hn[sizeof(hn) - 1] = '\0';
            snprintf(cid, sizeof(cid), "kvmgrid-wall-cmd-%.60s-%ld", hn, (long)getpid());
        }
        struct kg_mqtt_options oo;
        kg_client_mqtt_options(&c->client, &oo);
        oo.client_id = cid;
        oo.qos = 1;
        oo.max_buffered = 64;
        if (kg_mqtt_create(&oo, &op->mq, err, sizeof(err)) != 0 || kg_mqtt_start(op->mq) != 0) {
            kg_error("operator session to %s: %s", c->client.broker, err);
            return WALL_EXIT_RUNTIME;
        }
        kg_info("operator mode: F5..F8 send load commands as %s", c->client.username);
    }
    if (feed_start(feed, c->client.prefix) != 0) {
        kg_error("cannot subscribe to %s/#", c->client.prefix);
        return WALL_EXIT_RUNTIME;
    }
    return WALL_EXIT_OK;
}

/* Stops both sessions; commands handed over must reach the broker before the
 * wall goes. Returns status, or WALL_EXIT_RUNTIME when they did not. */
static int close_sessions(const struct wall_config *c, struct feed *feed, struct wall_op *op,
                          int status)
{
    if (op->mq != NULL) {
        if (op->seq > 0 && kg_mqtt_flush(op->mq, 5000) != 0) {
            kg_error("operator: commands not acknowledged by %s before exit", c->client.broker);
            if (status == WALL_EXIT_OK)
                status = WALL_EXIT_RUNTIME;
        }
        kg_mqtt_stop(op->mq, NULL, NULL, 1000);
        kg_mqtt_free(op->mq);
    }
    feed_close(feed); /* no more callbacks into the model after this */
    return status;
}

int wall_run(const struct wall_config *c, volatile sig_atomic_t *stop,
             volatile sig_atomic_t *report)
{
    int w = 0, h = 0, status = WALL_EXIT_OK;
    char err[256];
    struct feed feed;
    struct model *m = NULL;
    struct screen scr;
    struct wall_op op = {NULL, 0, 0};
    struct wall_loop l;

    memset(&scr, 0, sizeof(scr));
    memset(&l, 0, sizeof(l));
    wall_config_size(c, &w, &h);
    memset(&feed, 0, sizeof(feed)); /* feed_close accepts it unopened */
    if (feed_model_create(&c->feed, c->client.prefix, &m) != 0) {
        kg_error("cannot create the grid model");
        return WALL_EXIT_RUNTIME;
    }
    /* the clock model_apply is given: the trends start now */
    if (model_set_history(m, c->history_ms, c->history_step_ms, kg_clock_mono_ms()) != 0) {
        kg_error("cannot keep %llu ms of history in steps of %llu ms",
                 (unsigned long long)c->history_ms, (unsigned long long)c->history_step_ms);
        model_free(m);
        return WALL_EXIT_RUNTIME;
    }

    model_set_history_max_vms(m, (uint32_t)c->history_max_vms);
    struct render_options ro = {w, h, c->fullscreen, c->font[0] ? c->font : NULL, "kvmgrid-wall",
                                c->client.prefix, c->client.broker};
    if (screen_open(&scr, &ro, (enum view_show)c->metric, (enum layout_sort_by)c->sort,
                    c->operator_mode, err, sizeof(err)) != 0) {
        kg_error("%s", err);
        status = WALL_EXIT_RUNTIME;
        goto out;
    }
    view_set_rotation(&scr.view, c->rotate_ms);
    view_set_alerts_only(&scr.view, c->alerts_only);
    view_set_tiles(&scr.view, (enum layout_tiles)c->tiles, (int)c->host_tiles_below_px);
    /* a screenshot needs no window; anything else drawn without one is lost */
    if (c->screenshot[0] == '\0' && render_no_display(scr.render, err, sizeof(err))) {
        kg_error("%s", err);
        status = WALL_EXIT_RUNTIME;
        goto out;
    }

    if ((status = open_sessions(c, &feed, m, &op)) != WALL_EXIT_OK)
        goto out;

    l = (struct wall_loop){.c = c, .feed = &feed, .m = m, .scr = &scr, .op = &op,
                           .start_ms = kg_clock_mono_ms(), .shot = c->screenshot[0] != '\0',
                           .send_pending = c->operator_send[0] != '\0',
                           .tip_pending = c->tooltip[0] != '\0',
                           .send_status = WALL_EXIT_OK, .trace_argb = -1,
                           .windowless = render_windowless(scr.render)};
    status = run_loop(&l, stop, report);
    if (c->stats) {
        struct render_stats rs;
        render_get_stats(scr.render, &rs);
        print_stats("frames", l.times.us, l.times.cpu_us, l.times.n, &rs);
        /* the steady state: the frames after the retained burst (its layouts and
         * full repaints are the first line's tail); the render counts are all */
        size_t k = l.settled_frames < l.times.n ? l.settled_frames : l.times.n;
        print_stats("settled_frames", l.times.us + k, l.times.cpu_us + k, l.times.n - k, &rs);
        print_counters(m, atomic_load(&feed.connected_ms));
    }
    if (l.send_pending && status == WALL_EXIT_OK) {
        kg_error("operator: %s not sent: the retained state had not arrived", c->operator_send);
        l.send_status = WALL_EXIT_RUNTIME;
    }
    if (status == WALL_EXIT_OK)
        status = l.send_status;
out:
    status = close_sessions(c, &feed, &op, status);
    screen_close(&scr);
    model_free(m);
    free(l.times.us);
    free(l.times.cpu_us);
    return status;
}
