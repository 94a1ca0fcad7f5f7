/* SPDX-License-Identifier: MIT */
/*
 * The wall's run loop. The MQTT session's callbacks (Paho's threads) only hand
 * messages to model_apply; the main thread ticks the model twice a second, lets
 * the renderer draw what changed, and sleeps in SDL's event wait between frames.
 * No SDL here: the renderer turns input into render_event values.
 */
#include "wall.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "colour.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "kvmgrid/mqtt.h"
#include "layout.h"
#include "model.h"
#include "render.h"

#define TICK_MS 500
#define FRAME_MS 16
#define SETTLE_MS 1000       /* no retained message for this long: the burst is in */
#define EMPTY_SETTLE_MS 1500 /* connected, nothing retained at all for this long */

static const char *const metric_choices[] = {"cpu", "mem", "disk", "net", "steal", NULL};
static const char *const sort_choices[] = {"name", "load", NULL};

#define OFF(f) offsetof(struct wall_config, f)
#define SZ(f) sizeof(((struct wall_config *)0)->f)
const struct kg_config_key wall_config_keys[] = {
    {"broker", KG_CFG_STRING, OFF(broker), SZ(broker), 0, 0, NULL, "broker URI, tcp://HOST:PORT or ssl://HOST:PORT"},
    {"prefix", KG_CFG_STRING, OFF(prefix), SZ(prefix), 0, 0, NULL, "topic prefix (default kvmgrid)"},
    {"username", KG_CFG_STRING, OFF(username), SZ(username), 0, 0, NULL, "MQTT user name (read-only wall role)"},
    {"password", KG_CFG_STRING, OFF(password), SZ(password), 0, 0, NULL, "MQTT password"},
    {"ca_file", KG_CFG_STRING, OFF(ca_file), SZ(ca_file), 0, 0, NULL, "CA bundle for ssl:// brokers"},
    {"client_id", KG_CFG_STRING, OFF(client_id), SZ(client_id), 0, 0, NULL, "MQTT client id (default: generated)"},
    {"metric", KG_CFG_ENUM, OFF(metric), 0, 0, 0, metric_choices, "metric to colour by: cpu, mem, disk, net, steal"},
    {"sort", KG_CFG_ENUM, OFF(sort), 0, 0, 0, sort_choices, "host order: name or load"},
    {"stale_intervals", KG_CFG_INT, OFF(stale_intervals), 0, 1, 1000, NULL, "missed agent intervals before stale (default 3)"},
    {"interval", KG_CFG_DURATION_MS, OFF(interval_ms), 0, 100, 86400000, NULL, "agent interval assumed until a host reports it (default 5s)"},
    {"font", KG_CFG_STRING, OFF(font), SZ(font), 0, 0, NULL, "TTF font file (default DejaVu Sans)"},
    {"fullscreen", KG_CFG_BOOL, OFF(fullscreen), 0, 0, 0, NULL, "start in full screen"},
    {"size", KG_CFG_STRING, OFF(size), SZ(size), 0, 0, NULL, "window size WxH (default 1280x720)"},
    {"log_level", KG_CFG_STRING, OFF(log_level), SZ(log_level), 0, 0, NULL, "error, warn, info, debug"},
    {"screenshot", KG_CFG_STRING, OFF(screenshot), SZ(screenshot), 0, 0, NULL, "save a PNG once the retained state arrived (or after --frames) and exit"},
    {"frames", KG_CFG_INT, OFF(frames), 0, 0, 1000000, NULL, "with --screenshot: after this many frames instead"},
    {"timeout", KG_CFG_DURATION_MS, OFF(timeout_ms), 0, 100, 3600000, NULL, "with --screenshot: give up waiting after this (default 20s, exit 3)"},
    {"dump_layout", KG_CFG_STRING, OFF(dump_layout), SZ(dump_layout), 0, 0, NULL, "with --screenshot: write the tile layout as text"},
    {"stats", KG_CFG_BOOL, OFF(stats), 0, 0, 0, NULL, "print frame-time statistics at exit"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL},
};

void wall_config_defaults(struct wall_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->broker, sizeof(c->broker), "tcp://127.0.0.1:1883");
    snprintf(c->prefix, sizeof(c->prefix), "%s", KG_PREFIX_DEFAULT);
    c->stale_intervals = 3;
    c->interval_ms = 5000;
    c->timeout_ms = 20000;
    snprintf(c->size, sizeof(c->size), "1280x720");
    snprintf(c->log_level, sizeof(c->log_level), "info");
}

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X'))
        return KG_EINVAL;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end != '\0' || a < 64 || b < 64 || a > 16384 || b > 16384)
        return KG_EINVAL;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

int wall_config_check(const struct wall_config *c, char *errmsg, size_t errlen)
{
    int w, h;
    if (parse_size(c->size, &w, &h) != 0) {
        snprintf(errmsg, errlen, "size: expected WxH between 64x64 and 16384x16384, got \"%s\"", c->size);
        return KG_EINVAL;
    }
    char why[128] = "";
    if (!kg_topic_prefix_valid(c->prefix, why, sizeof(why))) {
        snprintf(errmsg, errlen, "prefix: %s", why);
        return KG_EINVAL;
    }
    enum kg_log_level lvl;
    if (kg_log_level_parse(c->log_level, &lvl) != 0) {
        snprintf(errmsg, errlen, "log_level: expected error, warn, info or debug");
        return KG_EINVAL;
    }
    if (c->broker[0] == '\0') {
        snprintf(errmsg, errlen, "broker: empty");
        return KG_EINVAL;
    }
    return 0;
}

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
    atomic_store(&w->connected_ms, kg_clock_mono_ms());
    atomic_store(&w->connected, 1);
    kg_info("%s to the broker", reconnect ? "reconnected" : "connected");
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

static void print_stats(const uint32_t *us, size_t n, const struct render_stats *rs)
{
    if (n == 0) {
        printf("frames 0\n");
        return;
    }
    uint32_t *s = malloc(n * sizeof(*s));
    if (s == NULL)
        return;
    memcpy(s, us, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_u32);
    printf("frames %zu frame_ms_median %.3f frame_ms_p99 %.3f frame_ms_max %.3f tiles_painted %llu "
           "layouts %llu rects_uploaded %llu\n",
           n, s[n / 2] / 1000.0, s[(size_t)((double)n * 0.99) < n ? (size_t)((double)n * 0.99) : n - 1] / 1000.0,
           s[n - 1] / 1000.0, (unsigned long long)rs->tiles_painted,
           (unsigned long long)rs->layouts, (unsigned long long)rs->rects_uploaded);
    free(s);
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
    printf("\n");
    model_unlock(m);
    fflush(stdout);
}

/* The second line of the SIGUSR1 report: what is on screen, so that tests can
 * wait for a state instead of sleeping ("pending 0" once everything received and
 * every input handled has been drawn). */
static void print_view(struct render *r, struct model *m, uint64_t inputs, bool settled,
                       bool model_ahead)
{
    struct render_view v;
    render_get_view(r, m, &v);
    struct render_stats rs;
    render_get_stats(r, &rs);
    printf("view inputs %llu frames %llu settled %d pending %d metric %s sort %s paused %d help %d "
           "tooltip %d zoomed %d fullscreen %d size %dx%d output %dx%d\n",
           (unsigned long long)inputs, (unsigned long long)rs.frames_presented, settled ? 1 : 0,
           (v.pending || model_ahead || !settled) ? 1 : 0,
           colour_metric_key(render_get_metric(r)),
           render_get_sort(r) == LAYOUT_SORT_NAME ? "name" : "load", v.paused ? 1 : 0,
           v.help ? 1 : 0, v.tooltip ? 1 : 0, v.zoomed ? 1 : 0, v.fullscreen ? 1 : 0, v.win_w,
           v.win_h, v.out_w, v.out_h);
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
    uint32_t *frame_us = NULL;
    size_t n_frames = 0, cap_frames = 0;

    if (wall_config_check(c, err, sizeof(err)) != 0) {
        kg_error("%s", err);
        return WALL_EXIT_USAGE;
    }
    parse_size(c->size, &w, &h);
    memset(&ctx, 0, sizeof(ctx));
    atomic_init(&ctx.connected, 0);
    atomic_init(&ctx.connected_ms, 0);
    if (model_create(c->prefix, (uint32_t)c->stale_intervals, (double)c->interval_ms / 1000.0, &m) != 0) {
        kg_error("cannot create the grid model");
        return WALL_EXIT_RUNTIME;
    }
    ctx.model = m;

    struct render_options ro = {w, h, c->fullscreen, c->font[0] ? c->font : NULL, "kvmgrid-wall",
                                c->prefix, c->broker};
    if (render_create(&ro, &r, err, sizeof(err)) != 0) {
        kg_error("%s", err);
        status = WALL_EXIT_RUNTIME;
        goto out;
    }
    render_set_metric(r, (enum colour_metric)c->metric);
    render_set_sort(r, (enum layout_sort_by)c->sort);

    struct kg_mqtt_options mo;
    memset(&mo, 0, sizeof(mo));
    mo.uri = c->broker;
    mo.client_id = c->client_id[0] ? c->client_id : NULL;
    mo.username = c->username[0] ? c->username : NULL;
    mo.password = c->password[0] ? c->password : NULL;
    mo.ca_file = c->ca_file[0] ? c->ca_file : NULL;
    mo.qos = 0; /* the wall only reads; QoS 0 keeps a retained burst fast */
    mo.on_message = on_message;
    mo.on_connect = on_connect;
    mo.on_lost = on_lost;
    mo.ctx = &ctx;
    char filter[KG_TOPIC_MAX];
    if (kg_mqtt_create(&mo, &mq, err, sizeof(err)) != 0) {
        kg_error("broker %s: %s", c->broker, err);
        status = WALL_EXIT_USAGE;
        goto out;
    }
    if (kg_topic_filter_all(filter, sizeof(filter), c->prefix) < 0 ||
        kg_mqtt_subscribe(mq, filter) != 0 || kg_mqtt_start(mq) != 0) {
        kg_error("cannot subscribe to %s/#", c->prefix);
        status = WALL_EXIT_RUNTIME;
        goto out;
    }

    const bool shot = c->screenshot[0] != '\0';
    const uint64_t start_ms = kg_clock_mono_ms();
    uint64_t last_tick = 0, frames = 0, inputs = 0, tick_values_gen = 0;
    bool burst_logged = false;
    for (;;) {
        if (stop != NULL && *stop)
            break;
        if (report != NULL && *report) {
            *report = 0;
            print_counters(m, atomic_load(&ctx.connected_ms));
            model_lock(m);
            bool ahead = m->values_gen != tick_values_gen;
            model_unlock(m);
            print_view(r, m, inputs, burst_logged, ahead);
        }
        bool quit = false;
        struct render_event ev;
        while (render_poll(r, &ev)) {
            if (ev.type != RENDER_EV_NONE)
                inputs++;
            if (ev.type == RENDER_EV_QUIT) {
                quit = true;
            } else if (ev.type == RENDER_EV_CLICK) {
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
                case RENDER_KEY_BACK: render_zoom_out(r); break;
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

        /* Has the retained state arrived? Quiet for a moment after the burst. */
        bool settled = false;
        model_lock(m);
        uint64_t cms = atomic_load(&ctx.connected_ms);
        if (connected && cms > 0) {
            if (m->retained_seen > 0)
                settled = now - m->last_retained_ms >= SETTLE_MS;
            else
                settled = now - cms >= EMPTY_SETTLE_MS;
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
        if (take || last_tick == 0 || now - last_tick >= TICK_MS) {
            model_tick(m, now, render_get_metric(r));
            tick_values_gen = m->values_gen;
            last_tick = now;
        }
        model_unlock(m);
        uint64_t t0 = kg_clock_mono_ns();
        struct render_stats before;
        render_get_stats(r, &before);
        int rc = render_frame(r, m, now, take, take ? c->screenshot : NULL);
        struct render_stats after;
        render_get_stats(r, &after);
        if (c->stats && after.frames_presented > before.frames_presented) {
            if (n_frames == cap_frames) {
                size_t ncap = cap_frames ? cap_frames * 2 : 1024;
                uint32_t *nf = realloc(frame_us, ncap * sizeof(*nf));
                if (nf != NULL) {
                    frame_us = nf;
                    cap_frames = ncap;
                }
            }
            if (n_frames < cap_frames)
                frame_us[n_frames++] = (uint32_t)((kg_clock_mono_ns() - t0) / 1000);
        }
        frames++;
        if (take) {
            if (rc != 0) {
                kg_error("cannot write the screenshot %s", c->screenshot);
                status = WALL_EXIT_RUNTIME;
            } else {
                kg_info("screenshot saved to %s", c->screenshot);
                if (timed_out) {
                    kg_error("gave up waiting for the retained state from %s", c->broker);
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
        print_stats(frame_us, n_frames, &rs);
        print_counters(m, atomic_load(&ctx.connected_ms));
    }
out:
    if (mq != NULL) {
        kg_mqtt_stop(mq, NULL, NULL, 1000);
        kg_mqtt_free(mq); /* no more callbacks into the model after this */
    }
    render_free(r);
    model_free(m);
    free(frame_us);
    return status;
}
