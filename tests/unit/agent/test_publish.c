/* SPDX-License-Identifier: MIT */
/* Publishing against a fake transport: retained topics with escaped names,
 * removal of vanished VMs, rename moving topics, deadband with forced republish,
 * failed sends caught up without replaying old samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "near.h"
#include "kvmgrid/error.h"
#include "publish.h"

#define MAXMSG 64
struct sink {
    int n;
    char topic[MAXMSG][KG_TOPIC_MAX];
    char payload[MAXMSG][KG_PAYLOAD_MAX];
    size_t len[MAXMSG];
    bool retain[MAXMSG];
    int qos[MAXMSG];
    bool down;      /* refuse everything, like a disconnected session */
};

static int sink_send(void *ctx, const char *topic, const void *payload, size_t len, bool retain,
                     int qos)
{
    struct sink *s = ctx;
    if (s->down)
        return KG_ENOTCONN;
    assert_true(s->n < MAXMSG);
    snprintf(s->topic[s->n], KG_TOPIC_MAX, "%s", topic);
    memcpy(s->payload[s->n], payload, len);
    s->payload[s->n][len] = '\0';
    s->len[s->n] = len;
    s->retain[s->n] = retain;
    s->qos[s->n] = qos;
    s->n++;
    return 0;
}

static int find_topic(const struct sink *s, const char *topic)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->topic[i], topic))
            return i;
    return -1;
}

static void mkvm(struct kg_vm *vm, const char *uuid, const char *name, double cpu)
{
    kg_vm_init(vm);
    vm->ts_ms = 1764458534000;
    snprintf(vm->host, sizeof vm->host, "hv1");
    snprintf(vm->uuid, sizeof vm->uuid, "%s", uuid);
    snprintf(vm->name, sizeof vm->name, "%s", name);
    vm->state = KG_VM_RUNNING;
    vm->vcpus = 2;
    vm->cpu_pct = cpu;
}

static struct publish *mk(struct sink *s, double deadband, unsigned max_skip)
{
    struct publish_options o = {.prefix = "kvmgrid", .host = "hv1",
                                .deadband_pct = deadband, .max_skip = max_skip, .metrics_qos = 1,
                                .send = sink_send, .send_ctx = s};
    struct publish *p = NULL;
    assert_int_equal(publish_create(&o, &p), 0);
    return p;
}

/* Topics found retained at a connect: those no VM owns get an empty retained
 * message (QoS 1), those of known VMs (escaped names included) are left alone. */
static void test_sweep_left_overs(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish *p = mk(&s, 0, 1);
    size_t removed = 99;
    assert_int_equal(publish_sweep(p, NULL, 0, &removed), 0); /* nothing known, nothing found */
    assert_int_equal(removed, 0);
    struct kg_vm vms[2];
    mkvm(&vms[0], "u1", "web+1", 10);
    mkvm(&vms[1], "u2", "db", 20);
    assert_int_equal(publish_vms(p, vms, 2, false), 0);
    s.n = 0;
    static char t0[] = "kvmgrid/hv1/vm/old", t1[] = "kvmgrid/hv1/vm/web%2B1",
                t2[] = "kvmgrid/hv1/vm/db", t3[] = "kvmgrid/hv1/vm/web+1";
    char *found[] = {t0, t1, t2, t3};
    assert_int_equal(publish_sweep(p, found, 4, &removed), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.topic[0], "kvmgrid/hv1/vm/old");
    assert_string_equal(s.topic[1], "kvmgrid/hv1/vm/web+1"); /* not the escaped name */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s.len[i], 0);
        assert_true(s.retain[i]);
        assert_int_equal(s.qos[i], 1);
    }
    struct publish_stats st;
    publish_get_stats(p, &st);
    assert_int_equal(st.removed, 2);
    assert_int_equal(publish_count(p), 2); /* the known VMs stay published */
    s.down = true; /* a refused send is reported, the rest still tried */
    assert_int_equal(publish_sweep(p, found, 1, &removed), KG_ENOTCONN);
    assert_int_equal(removed, 0);
    publish_free(p);
}

static void test_bad_options(void **state)
{
    (void)state;
    struct sink s = {0};
    struct publish *p = NULL;
    struct publish_options o = {.prefix = "a/+", .host = "h", .send = sink_send, .send_ctx = &s};
    assert_int_equal(publish_create(&o, &p), KG_EINVAL);
    o.prefix = "kvmgrid";
    o.host = "";
    assert_int_equal(publish_create(&o, &p), KG_EINVAL);
    assert_null(p);
    publish_free(NULL);
}

static void test_status_host_and_escaped_vms(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish *p = mk(&s, 0, 1);
    assert_int_equal(publish_status(p, true), 0);
    assert_string_equal(s.topic[0], "kvmgrid/hv1/status");
    assert_string_equal(s.payload[0], "online");
    assert_true(s.retain[0]);
    struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 1764458534000;
    snprintf(h.name, sizeof h.name, "hv1");
    h.libvirt_ok = true;
    assert_int_equal(publish_host(p, &h), 0);
    assert_string_equal(s.topic[1], "kvmgrid/hv1/metrics");
    struct kg_vm vms[3];
    mkvm(&vms[0], "u1", "web+1", 10);
    mkvm(&vms[1], "u2", "100% cpu", 20);
    mkvm(&vms[2], "u3", "db#2 x/y", 30);
    assert_int_equal(publish_vms(p, vms, 3, false), 0);
    assert_int_equal(s.n, 5);
    assert_true(find_topic(&s, "kvmgrid/hv1/vm/web%2B1") >= 0);
    assert_true(find_topic(&s, "kvmgrid/hv1/vm/100%25%20cpu") >= 0);
    assert_true(find_topic(&s, "kvmgrid/hv1/vm/db%232%20x%2Fy") >= 0);
    int i = find_topic(&s, "kvmgrid/hv1/vm/web%2B1");
    struct kg_vm back;
    char err[KG_ERRMSG_MAX];
    assert_int_equal(kg_vm_decode(s.payload[i], s.len[i], &back, err, sizeof err), 0);
    assert_string_equal(back.name, "web+1");
    assert_near(back.cpu_pct, 10, 1e-6);
    assert_int_equal(publish_count(p), 3);
    assert_int_equal(publish_status(p, false), 0);
    assert_string_equal(s.payload[5], "offline");
    publish_free(p);
}

static void test_vanished_and_removed(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish *p = mk(&s, 0, 1);
    struct kg_vm vms[3];
    mkvm(&vms[0], "u1", "a", 1);
    mkvm(&vms[1], "u2", "b", 1);
    mkvm(&vms[2], "u3", "c", 1);
    assert_int_equal(publish_vms(p, vms, 3, false), 0);
    s.n = 0;
    /* b vanished between cycles */
    vms[1] = vms[2];
    assert_int_equal(publish_vms(p, vms, 2, false), 0);
    int i = find_topic(&s, "kvmgrid/hv1/vm/b");
    assert_true(i >= 0);
    assert_int_equal(s.len[i], 0);
    assert_true(s.retain[i]);
    assert_int_equal(publish_count(p), 2);
    /* c undefined: removed at once */
    s.n = 0;
    assert_int_equal(publish_remove(p, "u3"), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.topic[0], "kvmgrid/hv1/vm/c");
    assert_int_equal(s.len[0], 0);
    assert_int_equal(publish_remove(p, "nope"), 0);
    assert_int_equal(publish_count(p), 1);
    struct publish_stats st;
    publish_get_stats(p, &st);
    assert_int_equal(st.removed, 2);
    publish_free(p);
}

/* VMs in any order, coming and going: each cycle finds every known VM again
 * (a VM not found would be taken for a new one and sent despite the deadband),
 * and the byte count uses each message's topic. */
static void test_known_vms_in_any_order(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish *p = mk(&s, 50, 100);
    struct kg_vm vms[4];
    mkvm(&vms[0], "u3", "c", 10);
    mkvm(&vms[1], "u1", "a", 10);
    mkvm(&vms[2], "u2", "b", 10);
    assert_int_equal(publish_vms(p, vms, 3, false), 0);
    assert_int_equal(s.n, 3);
    struct publish_stats st;
    publish_get_stats(p, &st);
    assert_int_equal(st.bytes, 3 * strlen("kvmgrid/hv1/vm/a") + s.len[0] + s.len[1] + s.len[2]);
    /* same figures in another order: all skipped */
    struct kg_vm t = vms[0];
    vms[0] = vms[2];
    vms[2] = t;
    assert_int_equal(publish_vms(p, vms, 3, false), 0);
    assert_int_equal(s.n, 3);
    /* c gone (its topic removed), a new VM "0" ahead of all in UUID order */
    mkvm(&vms[0], "u0", "0", 10);
    mkvm(&vms[1], "u2", "b", 10);
    mkvm(&vms[2], "u1", "a", 10);
    assert_int_equal(publish_vms(p, vms, 3, false), 0);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.topic[3], "kvmgrid/hv1/vm/0");
    assert_string_equal(s.topic[4], "kvmgrid/hv1/vm/c");
    assert_int_equal(s.len[4], 0);
    /* b gone: removal only; the others are found again, before and after */
    mkvm(&vms[0], "u1", "a", 10);
    mkvm(&vms[1], "u0", "0", 10);
    assert_int_equal(publish_vms(p, vms, 2, false), 0);
    assert_int_equal(s.n, 6);
    assert_string_equal(s.topic[5], "kvmgrid/hv1/vm/b");
    assert_int_equal(publish_vms(p, vms, 2, false), 0);
    assert_int_equal(s.n, 6);
    assert_int_equal(publish_count(p), 2);
    publish_free(p);
}

static void test_rename_moves_topic(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish *p = mk(&s, 50, 100);
    struct kg_vm vm;
    mkvm(&vm, "u1", "old name", 10);
    assert_int_equal(publish_vms(p, &vm, 1, false), 0);
    s.n = 0;
    mkvm(&vm, "u1", "new name", 10); /* same figures: the deadband must not hide it */
    assert_int_equal(publish_vms(p, &vm, 1, false), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.topic[0], "kvmgrid/hv1/vm/old%20name");
    assert_int_equal(s.len[0], 0);
    assert_string_equal(s.topic[1], "kvmgrid/hv1/vm/new%20name");
    assert_true(s.len[1] > 0);
    publish_free(p);
}

static void test_deadband(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish *p = mk(&s, 10, 3);
    struct kg_vm vm;
    mkvm(&vm, "u1", "a", 50);
    assert_int_equal(publish_vms(p, &vm, 1, false), 0);
    assert_int_equal(s.n, 1);
    vm.cpu_pct = 52; /* 4 % move: skipped */
    assert_int_equal(publish_vms(p, &vm, 1, false), 0);
    assert_int_equal(s.n, 1);
    vm.cpu_pct = 53; /* still within 10 % of the last published 50 */
    assert_int_equal(publish_vms(p, &vm, 1, false), 0);
    assert_int_equal(s.n, 1);
    /* third interval: republished anyway (max_skip 3) */
    assert_int_equal(publish_vms(p, &vm, 1, false), 0);
    assert_int_equal(s.n, 2);
    vm.cpu_pct = 60; /* > 10 % move */
    assert_int_equal(publish_vms(p, &vm, 1, false), 0);
    assert_int_equal(s.n, 3);
    vm.state = KG_VM_PAUSED; /* state changes always go out */
    assert_int_equal(publish_vms(p, &vm, 1, false), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(publish_vms(p, &vm, 1, true), 0); /* force */
    assert_int_equal(s.n, 5);
    struct publish_stats st;
    publish_get_stats(p, &st);
    assert_int_equal(st.skipped, 2);
    publish_free(p);
}

static void test_moved_rule(void **state)
{
    (void)state;
    struct kg_vm a, b;
    mkvm(&a, "u", "n", 0.1);
    mkvm(&b, "u", "n", 0.15); /* near zero: measured against the 1 % floor */
    assert_false(publish_moved(&a, &b, 10));
    b.cpu_pct = 0.3;
    assert_true(publish_moved(&a, &b, 10));
    b.cpu_pct = KG_NA; /* a figure appearing or disappearing is a move */
    assert_true(publish_moved(&a, &b, 10));
    b = a;
    b.stale = true;
    assert_true(publish_moved(&a, &b, 10));
    b = a;
    b.disk_rd_bytes_per_s = 500; /* NA -> value */
    assert_true(publish_moved(&a, &b, 10));
    a.disk_rd_bytes_per_s = 1e6;
    b.disk_rd_bytes_per_s = 1.05e6;
    assert_false(publish_moved(&a, &b, 10));
}

static void test_broker_down_then_resync(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish *p = mk(&s, 10, 100);
    struct kg_vm vms[2];
    mkvm(&vms[0], "u1", "a", 10);
    mkvm(&vms[1], "u2", "b", 10);
    assert_int_equal(publish_vms(p, vms, 2, false), 0);
    s.n = 0;
    s.down = true;
    /* while down: b vanishes, a changes three times; nothing can be sent */
    for (int k = 0; k < 3; k++) {
        vms[0].cpu_pct = 20 + 10 * k;
        assert_int_equal(publish_vms(p, vms, 1, false), KG_ENOTCONN);
    }
    assert_int_equal(s.n, 0);
    s.down = false;
    publish_resync(p);
    vms[0].cpu_pct = 41;
    assert_int_equal(publish_vms(p, vms, 1, false), 0);
    /* exactly the current state: a once (latest figures), b removed once */
    assert_int_equal(s.n, 2);
    int i = find_topic(&s, "kvmgrid/hv1/vm/a");
    assert_true(i >= 0);
    assert_non_null(strstr(s.payload[i], "41"));
    i = find_topic(&s, "kvmgrid/hv1/vm/b");
    assert_true(i >= 0);
    assert_int_equal(s.len[i], 0);
    /* resync forces every VM out even within the deadband */
    s.n = 0;
    publish_resync(p);
    assert_int_equal(publish_vms(p, vms, 1, false), 0);
    assert_int_equal(s.n, 1);
    publish_free(p);
}

/* qos 0 for the periodic figures; the status and the removals (sent once, never
 * refreshed) stay QoS 1 whatever the option says. */
static void test_qos_per_message(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish_options o = {.prefix = "kvmgrid", .host = "hv1", .metrics_qos = 0,
                                .send = sink_send, .send_ctx = &s};
    struct publish *p = NULL;
    assert_int_equal(publish_create(&o, &p), 0);
    assert_int_equal(publish_status(p, true), 0);
    struct kg_host h;
    kg_host_init(&h);
    snprintf(h.name, sizeof h.name, "hv1");
    assert_int_equal(publish_host(p, &h), 0);
    struct kg_vm vms[2];
    mkvm(&vms[0], "u1", "a", 1);
    mkvm(&vms[1], "u2", "b", 1);
    assert_int_equal(publish_vms(p, vms, 2, false), 0);
    mkvm(&vms[0], "u1", "a2", 1);                        /* renamed */
    assert_int_equal(publish_vms(p, vms, 1, false), 0); /* b vanished */
    assert_int_equal(publish_remove(p, "u1"), 0);
    assert_int_equal(s.n, 8); /* status, host, a, b; a removed + a2, b removed; a2 removed */
    for (int i = 0; i < s.n; i++) {
        bool removal = s.len[i] == 0;
        bool status = strstr(s.topic[i], "/status") != NULL;
        assert_true(s.retain[i]);
        assert_int_equal(s.qos[i], removal || status ? 1 : 0);
    }
    publish_free(p);
    /* the default (and anything but 0) is QoS 1 for everything */
    memset(&s, 0, sizeof s);
    o.metrics_qos = 7;
    assert_int_equal(publish_create(&o, &p), 0);
    assert_int_equal(publish_vms(p, vms, 1, false), 0);
    assert_int_equal(s.qos[0], 1);
    publish_free(p);
}

/* A cycle with no VMs before any VM was ever seen (libvirt hung at start):
 * nothing to send, nothing to sort (UBSan: qsort of a NULL array). */
static void test_empty_first_cycle(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish *p = mk(&s, 0, 1);
    assert_int_equal(publish_vms(p, NULL, 0, false), 0);
    assert_int_equal(publish_vms(p, NULL, 0, true), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(publish_count(p), 0);
    publish_free(p);
}

/* Rows of a decoded summary, for test_summary. */
struct rows {
    unsigned n;
    struct kg_summary_vm v[4];
};

static int on_row(void *ctx, unsigned i, const struct kg_summary_vm *vm)
{
    struct rows *r = ctx;
    assert_true(i < 4);
    r->v[r->n++] = *vm;
    return 0;
}

/* With summary on, each cycle ends with the host's summary: after the VMs and
 * the removals, at the figures' QoS, with a row for every VM, skipped by the
 * deadband or not; none before the host is known. */
static void test_summary(void **state)
{
    (void)state;
    static struct sink s;
    memset(&s, 0, sizeof s);
    struct publish_options o = {.prefix = "kvmgrid", .host = "hv 1", .deadband_pct = 50,
                                .max_skip = 100, .metrics_qos = 0, .send = sink_send,
                                .send_ctx = &s, .summary = true};
    struct publish *p = NULL;
    assert_int_equal(publish_create(&o, &p), 0);
    struct kg_vm vms[2];
    mkvm(&vms[0], "u1", "a", 10);
    mkvm(&vms[1], "u2", "b", 20);
    assert_int_equal(publish_vms(p, vms, 2, false), 0);
    assert_int_equal(s.n, 2); /* no host yet: no summary */
    struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 1764458534000;
    snprintf(h.name, sizeof h.name, "hv 1");
    h.cpu_pct = 12.5;
    assert_int_equal(publish_host(p, &h), 0);
    s.n = 0;
    mkvm(&vms[0], "u1", "a", 10.01); /* within the deadband: skipped */
    assert_int_equal(publish_vms(p, vms, 1, false), 0); /* b vanished */
    assert_int_equal(s.n, 2);                              /* b removed, summary */
    assert_int_equal(s.len[0], 0);
    assert_string_equal(s.topic[1], "kvmgrid/hv%201/summary");
    assert_true(s.retain[1]);
    assert_int_equal(s.qos[1], 0);
    struct kg_summary sum;
    struct rows r = {0};
    char err[KG_ERRMSG_MAX];
    assert_int_equal(kg_summary_decode(s.payload[1], s.len[1], &sum, on_row, &r, err, sizeof err),
                     0);
    assert_string_equal(sum.host.name, "hv 1");
    assert_true(sum.host.cpu_pct == 12.5);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].name, "a");
    assert_true(r.v[0].cpu_pct == 10); /* the figure of this sample, rounded */
    struct publish_stats st;
    publish_get_stats(p, &st);
    assert_int_equal(st.summaries, 1);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.summary_omitted, 0);
    /* a summary that cannot be sent is an error of the cycle */
    s.down = true;
    assert_int_equal(publish_vms(p, vms, 1, false), KG_ENOTCONN);
    s.down = false;
    /* clearing: an empty retained message at QoS 1 */
    s.n = 0;
    assert_int_equal(publish_summary_clear(p), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.topic[0], "kvmgrid/hv%201/summary");
    assert_int_equal(s.len[0], 0);
    assert_int_equal(s.qos[0], 1);
    publish_free(p);
    /* off: never a summary */
    memset(&s, 0, sizeof s);
    o.summary = false;
    assert_int_equal(publish_create(&o, &p), 0);
    assert_int_equal(publish_host(p, &h), 0);
    assert_int_equal(publish_vms(p, vms, 2, false), 0);
    for (int i = 0; i < s.n; i++)
        assert_null(strstr(s.topic[i], "summary"));
    publish_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_status_host_and_escaped_vms),
        cmocka_unit_test(test_vanished_and_removed),
        cmocka_unit_test(test_known_vms_in_any_order),
        cmocka_unit_test(test_rename_moves_topic),
        cmocka_unit_test(test_deadband),
        cmocka_unit_test(test_moved_rule),
        cmocka_unit_test(test_broker_down_then_resync),
        cmocka_unit_test(test_qos_per_message),
        cmocka_unit_test(test_empty_first_cycle),
        cmocka_unit_test(test_sweep_left_overs),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
