/* SPDX-License-Identifier: MIT */
/*
 * The wall's run loop. The MQTT session's callbacks (Paho's threads) only hand
 * messages to model_apply; the main thread ticks the model twice a second, lets
 * the renderer draw what changed, and sleeps in SDL's event wait between frames.
 * No SDL here: the renderer turns input into render_event values.
 */
#include "wall.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "colour.h"
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

#define TICK_MS 500
#define FRAME_MS 16
#define SETTLE_MS 1000       /* no retained message for this long: the burst is in */
#define EMPTY_SETTLE_MS 1500 /* connected, nothing retained at all for this long */

struct wall_ctx {
    struct model *model;
    atomic_int connected;
    atomic_uint_fast64_t connected_ms;
};

static void on_message(void *ctx, const char *topic, size_t topic_len, const void *payload,
                       size_t len, bool retained)
{
    struct wall_ctx *w = ctx;
    model_apply(w->model, topic, topic_len, payload, len, retained, kg_clock_mono_ms());
}

static void on_connect(void *ctx, bool reconnect)
{
    struct wall_ctx *w = ctx;
    uint64_t now = kg_clock_mono_ms();
    model_sync_begin(w->model, now);
    atomic_store(&w->connected_ms, now);
    atomic_store(&w->connected, 1);
    kg_info("%s to the broker", reconnect ? "reconnected" : "connected");
}

/* Every retained message of this connect has arrived: VMs the broker no longer
 * holds (removed while the wall was away, or lost by a broker restart) go. */
static void on_synced(void *ctx)
{
    struct wall_ctx *w = ctx;
    uint32_t gone = model_sync_end(w->model);
    if (gone)
        kg_info("removed %u VMs the broker no longer holds (gone while disconnected)", gone);
}

static void on_lost(void *ctx, const char *cause)
{
    struct wall_ctx *w = ctx;
    atomic_store(&w->connected, 0);
    kg_warn("connection lost: %s", cause ? cause : "unknown cause");
}

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
static void print_stats(const uint32_t *us, const uint32_t *cpu_us, size_t n,
                        const struct render_stats *rs)
{
    if (n == 0) {
        printf("frames 0\n");
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
    printf("frames %zu frame_ms_median %.3f frame_ms_p99 %.3f frame_ms_max %.3f "
           "frame_cpu_ms_median %.3f frame_cpu_ms_p99 %.3f tiles_painted %llu "
           "layouts %llu rects_uploaded %llu\n",
           n, s[n / 2] / 1000.0, s[p99] / 1000.0, s[n - 1] / 1000.0, c[n / 2] / 1000.0,
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
static int op_send(struct wall_op *op, struct render *r, struct model *m, const char *prefix,
                   enum operator_preset p)
{
    char vm[KG_NAME_MAX + 1], host[KG_NAME_MAX + 1], msg[600];
    char topic[KG_TOPIC_MAX], json[512];
    size_t vlen = 0, jlen = 0;
    int rc = KG_EINVAL;
    if (!render_selected(r, m, vm, sizeof(vm), &vlen, host, sizeof(host))) {
        snprintf(msg, sizeof(msg), "not sent: no VM selected");
    } else if (strlen(vm) != vlen) {
        snprintf(msg, sizeof(msg), "not sent: the VM's name holds a NUL byte");
    } else if ((rc = operator_command(p, op->seq + 1, prefix, vm, topic, sizeof(topic), json,
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
    render_set_operator_message(r, msg);
    if (rc == 0)
        kg_info("operator: %s", msg);
    else
        kg_warn("operator: %s", msg);
    return rc;
}

/* The second line of the SIGUSR1 report: what is on screen, so that tests can
 * wait for a state instead of sleeping ("pending 0" once everything received and
 * every input handled has been drawn). */
static void print_view(struct render *r, struct model *m, uint64_t inputs, bool settled,
                       bool model_ahead, const struct wall_op *op)
{
    struct render_view v;
    render_get_view(r, m, &v);
    struct render_stats rs;
    render_get_stats(r, &rs);
    char vm[KG_NAME_MAX + 1], host[KG_NAME_MAX + 1], sel[2 * KG_NAME_ESC_MAX + 2] = "-";
    size_t vlen;
    if (render_selected(r, m, vm, sizeof(vm), &vlen, host, sizeof(host))) {
        char hn[KG_NAME_ESC_MAX + 1], vn[KG_NAME_ESC_MAX + 1];
        model_printable(host, strlen(host), hn, sizeof(hn));
        model_printable(vm, vlen, vn, sizeof(vn));
        snprintf(sel, sizeof(sel), "%s/%s", hn, vn);
    }
    printf("view inputs %llu frames %llu settled %d pending %d metric %s sort %s paused %d help %d "
           "tooltip %d zoomed %d fullscreen %d size %dx%d output %dx%d operator %d sent %llu "
           "failed %llu selected %s\n",
           (unsigned long long)inputs, (unsigned long long)rs.frames_presented, settled ? 1 : 0,
           (v.pending || model_ahead || !settled) ? 1 : 0,
           colour_metric_key(render_get_metric(r)),
           render_get_sort(r) == LAYOUT_SORT_NAME ? "name" : "load", v.paused ? 1 : 0,
           v.help ? 1 : 0, v.tooltip ? 1 : 0, v.zoomed ? 1 : 0, v.fullscreen ? 1 : 0, v.win_w,
           v.win_h, v.out_w, v.out_h, v.operator ? 1 : 0, (unsigned long long)op->seq,
           (unsigned long long)op->failed, sel);
    fflush(stdout);
}

/* --trace-tile: after a presented frame, one stdout line whenever the VM's tile
 * shows another colour than last time (its centre pixel, as presented), stamped
 * with the realtime clock so that scripts can compare it with when they sent a
 * command; "none" when the VM has no tile (yet, or any more). */
static void trace_tile(struct render *r, struct model *m, const char *vm, int64_t *last)
{
    uint32_t argb = 0;
    int64_t now = render_tile_colour(r, m, vm, strlen(vm), &argb) ? (int64_t)(argb & 0xFFFFFFu) : -2;
    if (now == *last)
        return;
    *last = now;
    if (now < 0)
        printf("trace-tile %s none real_ms %lld\n", vm, (long long)kg_clock_real_ms());
    else
        printf("trace-tile %s colour %06llX real_ms %lld\n", vm, (long long)now,
               (long long)kg_clock_real_ms());
    fflush(stdout);
}

int wall_run(const struct wall_config *c, volatile sig_atomic_t *stop,
             volatile sig_atomic_t *report)
{
    int w = 0, h = 0, status = WALL_EXIT_OK;
    char err[256];
    struct wall_ctx ctx;
    struct model *m = NULL;
    struct render *r = NULL;
    struct kg_mqtt *mq = NULL;
    struct wall_op op = {NULL, 0, 0};
    uint32_t *frame_us = NULL, *frame_cpu_us = NULL;
    size_t n_frames = 0, cap_frames = 0;

    wall_config_size(c, &w, &h);
    memset(&ctx, 0, sizeof(ctx));
    atomic_init(&ctx.connected, 0);
    atomic_init(&ctx.connected_ms, 0);
    if (model_create(c->client.prefix, (uint32_t)c->stale_intervals, (double)c->interval_ms / 1000.0, &m) != 0) {
        kg_error("cannot create the grid model");
        return WALL_EXIT_RUNTIME;
    }
    model_set_caps(m, (uint32_t)c->max_hosts, (uint32_t)c->max_vms);
    ctx.model = m;

    struct render_options ro = {w, h, c->fullscreen, c->font[0] ? c->font : NULL, "kvmgrid-wall",
                                c->client.prefix, c->client.broker};
    if (render_create(&ro, &r, err, sizeof(err)) != 0) {
        kg_error("%s", err);
        status = WALL_EXIT_RUNTIME;
        goto out;
    }
    /* a screenshot needs no window; anything else drawn without one is lost */
    if (c->screenshot[0] == '\0' && render_no_display(r, err, sizeof(err))) {
        kg_error("%s", err);
        status = WALL_EXIT_RUNTIME;
        goto out;
    }
    render_set_operator(r, c->operator_mode);
    render_set_metric(r, (enum colour_metric)c->metric);
    render_set_sort(r, (enum layout_sort_by)c->sort);

    struct kg_mqtt_options mo;
    kg_client_mqtt_options(&c->client, &mo);
    mo.qos = 0; /* the wall only reads; QoS 0 keeps a retained burst fast */
    mo.on_message = on_message;
    mo.on_connect = on_connect;
    mo.on_synced = on_synced;
    mo.on_lost = on_lost;
    mo.ctx = &ctx;
    char filter[KG_TOPIC_MAX];
    if (kg_mqtt_create(&mo, &mq, err, sizeof(err)) != 0) {
        kg_error("broker %s: %s", c->client.broker, err);
        status = WALL_EXIT_USAGE;
        goto out;
    }
    if (c->operator_mode) {
        /* A client id of its own: two sessions with one id would throw each other off. */
        char cid[256], hn[64] = "wall";
        if (c->client.client_id[0])
            snprintf(cid, sizeof(cid), "%.200s-cmd", c->client.client_id);
        else {
            gethostname(hn, sizeof(hn) - 1);
            hn[sizeof(hn) - 1] = '\0';
            snprintf(cid, sizeof(cid), "kvmgrid-wall-cmd-%.60s-%ld", hn, (long)getpid());
        }
        struct kg_mqtt_options oo = mo;
        oo.client_id = cid;
        oo.qos = 1;
        oo.max_buffered = 64;
        oo.on_message = NULL;
        oo.on_connect = NULL;
        oo.on_synced = NULL;
        oo.on_lost = NULL;
        oo.ctx = NULL;
        if (kg_mqtt_create(&oo, &op.mq, err, sizeof(err)) != 0 || kg_mqtt_start(op.mq) != 0) {
            kg_error("operator session to %s: %s", c->client.broker, err);
            status = WALL_EXIT_RUNTIME;
            goto out;
        }
        kg_info("operator mode: F5..F8 send load commands as %s", c->client.username);
    }
    if (kg_topic_filter_all(filter, sizeof(filter), c->client.prefix) < 0 ||
        kg_mqtt_subscribe(mq, filter) != 0 || kg_mqtt_start(mq) != 0) {
        kg_error("cannot subscribe to %s/#", c->client.prefix);
        status = WALL_EXIT_RUNTIME;
        goto out;
    }

    const bool shot = c->screenshot[0] != '\0';
    const uint64_t start_ms = kg_clock_mono_ms();
    uint64_t last_tick = 0, frames = 0, inputs = 0, tick_values_gen = 0;
    bool send_pending = c->operator_send[0] != '\0';
    int send_status = WALL_EXIT_OK;
    bool burst_logged = false;
    int64_t trace_argb = -1; /* --trace-tile: colour last reported, -1 none */
    for (;;) {
        if (stop != NULL && *stop)
            break;
        if (report != NULL && *report) {
            *report = 0;
            print_counters(m, atomic_load(&ctx.connected_ms));
            model_lock(m);
            bool ahead = m->values_gen != tick_values_gen;
            model_unlock(m);
            print_view(r, m, inputs, burst_logged, ahead, &op);
            /* a running wall's layout on demand: what a test compares with
             * the broker's retained state */
            if (!shot && c->dump_layout[0] && render_dump_layout(r, m, c->dump_layout) != 0)
                kg_warn("cannot write %s", c->dump_layout);
        }
        bool quit = false;
        struct render_event ev;
        while (render_poll(r, &ev)) {
            if (ev.type != RENDER_EV_NONE)
                inputs++;
            if (ev.type == RENDER_EV_QUIT) {
                quit = true;
            } else if (ev.type == RENDER_EV_CLICK) {
                if (c->operator_mode)
                    render_select_at(r, m, ev.x, ev.y); /* operators zoom with Enter */
                else
                    render_zoom_at(r, m, ev.x, ev.y);
            } else if (ev.type == RENDER_EV_KEY) {
                switch (ev.key) {
                case RENDER_KEY_QUIT: quit = true; break;
                case RENDER_KEY_METRIC_1: case RENDER_KEY_METRIC_2: case RENDER_KEY_METRIC_3:
                case RENDER_KEY_METRIC_4: case RENDER_KEY_METRIC_5:
                    render_set_metric(r, (enum colour_metric)(ev.key - RENDER_KEY_METRIC_1));
                    last_tick = 0; /* hottest list by the new metric */
                    break;
                case RENDER_KEY_METRIC_NEXT:
                    render_set_metric(r, (enum colour_metric)((render_get_metric(r) + 1) % COLOUR_METRIC_COUNT));
                    last_tick = 0;
                    break;
                case RENDER_KEY_SORT:
                    render_set_sort(r, render_get_sort(r) == LAYOUT_SORT_NAME ? LAYOUT_SORT_LOAD : LAYOUT_SORT_NAME);
                    break;
                case RENDER_KEY_FULLSCREEN: render_toggle_fullscreen(r); break;
                case RENDER_KEY_ZOOM:
                    if (!render_zoom_at(r, m, ev.x, ev.y))
                        render_zoom_at(r, m, -1, -1);
                    break;
                case RENDER_KEY_BACK:
                    if (render_zoomed(r))
                        render_zoom_out(r);
                    else
                        render_clear_selection(r);
                    break;
                case RENDER_KEY_LEFT: case RENDER_KEY_RIGHT: case RENDER_KEY_UP: case RENDER_KEY_DOWN:
                    if (c->operator_mode)
                        render_select_move(r, m, ev.key == RENDER_KEY_LEFT ? -1 : ev.key == RENDER_KEY_RIGHT,
                                           ev.key == RENDER_KEY_UP ? -1 : ev.key == RENDER_KEY_DOWN);
                    break;
                case RENDER_KEY_OP_1: case RENDER_KEY_OP_2: case RENDER_KEY_OP_3: case RENDER_KEY_OP_4:
                    /* without operator mode there is no command session: nothing can be sent */
                    if (op.mq != NULL)
                        op_send(&op, r, m, c->client.prefix, (enum operator_preset)(ev.key - RENDER_KEY_OP_1));
                    break;
                case RENDER_KEY_PAUSE: render_set_paused(r, !render_get_paused(r)); break;
                case RENDER_KEY_HELP: render_toggle_help(r); break;
                default: break;
                }
            }
        }
        if (quit)
            break;
        uint64_t now = kg_clock_mono_ms();
        bool connected = atomic_load(&ctx.connected) != 0;
        render_set_connected(r, connected);

        /* Has the retained state arrived? Quiet for a moment after the burst.
         * last_retained_ms and connected_ms come from the MQTT threads' own clock
         * readings and may be newer than now: such a difference is 0, not a huge
         * unsigned number (that wrap-around once called bursts complete after a
         * few thousand of 100,000 messages). */
        bool settled = false;
        model_lock(m);
        uint64_t cms = atomic_load(&ctx.connected_ms);
        if (connected && cms > 0) {
            if (m->retained_seen > 0)
                settled = now > m->last_retained_ms && now - m->last_retained_ms >= SETTLE_MS;
            else
                settled = now > cms && now - cms >= EMPTY_SETTLE_MS;
        }
        if (settled && !burst_logged) {
            burst_logged = true;
            kg_info("retained state: %llu messages applied, last %llu ms after connecting",
                    (unsigned long long)m->retained_seen,
                    (unsigned long long)(m->retained_seen ? m->last_retained_ms - cms : 0));
        }
        bool take = false, timed_out = false;
        if (shot) {
            if (c->frames > 0)
                take = frames + 1 >= (uint64_t)c->frames;
            else
                take = settled;
            if (!take && now - start_ms >= c->timeout_ms)
                take = timed_out = true;
        }
        if (send_pending && settled) {
            /* --operator-send: select the VM as a click would, send, and let the
             * screenshot show the status line */
            send_pending = false;
            model_unlock(m);
            render_frame(r, m, now, true, NULL); /* lay out, so that the VM has a tile */
            const char *colon = strchr(c->operator_send, ':');
            enum operator_preset p = OPERATOR_STOP;
            operator_preset_parse(c->operator_send, (size_t)(colon - c->operator_send), &p);
            kg_mqtt_wait_connected(op.mq, 5000); /* op_send refuses without a connection */
            if (!render_select_name(r, m, colon + 1, strlen(colon + 1))) {
                char msg[300];
                snprintf(msg, sizeof(msg), "not sent: no VM named %.200s on the wall", colon + 1);
                render_set_operator_message(r, msg);
                kg_error("operator: %s", msg);
                send_status = WALL_EXIT_RUNTIME;
            } else if (op_send(&op, r, m, c->client.prefix, p) != 0) {
                send_status = WALL_EXIT_RUNTIME;
            }
            model_lock(m);
        }
        if (take || last_tick == 0 || now - last_tick >= TICK_MS) {
            model_tick(m, now, render_get_metric(r));
            tick_values_gen = m->values_gen;
            last_tick = now;
        }
        model_unlock(m);
        uint64_t t0 = kg_clock_mono_ns(), c0 = c->stats ? thread_cpu_ns() : 0;
        struct render_stats before;
        render_get_stats(r, &before);
        int rc = render_frame(r, m, now, take, take ? c->screenshot : NULL);
        struct render_stats after;
        render_get_stats(r, &after);
        if (c->stats && after.frames_presented > before.frames_presented) {
            if (n_frames == cap_frames) {
                size_t ncap = cap_frames ? cap_frames * 2 : 1024;
                uint32_t *nf = realloc(frame_us, ncap * sizeof(*nf));
                if (nf != NULL)
                    frame_us = nf;
                uint32_t *nc = realloc(frame_cpu_us, ncap * sizeof(*nc));
                if (nc != NULL)
                    frame_cpu_us = nc;
                if (nf != NULL && nc != NULL)
                    cap_frames = ncap;
            }
            if (n_frames < cap_frames) {
                frame_cpu_us[n_frames] = (uint32_t)((thread_cpu_ns() - c0) / 1000);
                frame_us[n_frames++] = (uint32_t)((kg_clock_mono_ns() - t0) / 1000);
            }
        }
        if (c->trace_tile[0] && after.frames_presented > before.frames_presented)
            trace_tile(r, m, c->trace_tile, &trace_argb);
        frames++;
        if (take) {
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
            if (c->dump_layout[0] && render_dump_layout(r, m, c->dump_layout) != 0) {
                kg_error("cannot write %s", c->dump_layout);
                status = WALL_EXIT_RUNTIME;
            }
            break;
        }
        uint64_t spent = kg_clock_mono_ms() - now;
        render_wait(r, spent >= FRAME_MS ? 1 : (int)(FRAME_MS - spent));
    }
    if (c->stats) {
        struct render_stats rs;
        render_get_stats(r, &rs);
        print_stats(frame_us, frame_cpu_us, n_frames, &rs);
        print_counters(m, atomic_load(&ctx.connected_ms));
    }
    if (send_pending && status == WALL_EXIT_OK) {
        kg_error("operator: %s not sent: the retained state had not arrived", c->operator_send);
        send_status = WALL_EXIT_RUNTIME;
    }
    if (status == WALL_EXIT_OK)
        status = send_status;
out:
    if (op.mq != NULL) {
        /* commands handed over must reach the broker before we go */
        if (op.seq > 0 && kg_mqtt_flush(op.mq, 5000) != 0) {
            kg_error("operator: commands not acknowledged by %s before exit", c->client.broker);
            if (status == WALL_EXIT_OK)
                status = WALL_EXIT_RUNTIME;
        }
        kg_mqtt_stop(op.mq, NULL, NULL, 1000);
        kg_mqtt_free(op.mq);
    }
    if (mq != NULL) {
        kg_mqtt_stop(mq, NULL, NULL, 1000);
        kg_mqtt_free(mq); /* no more callbacks into the model after this */
    }
    render_free(r);
    model_free(m);
    free(frame_us);
    free(frame_cpu_us);
    return status;
}
