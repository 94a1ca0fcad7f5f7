/* SPDX-License-Identifier: MIT */
/*
 * The wall's model with trends and alerts, through model_apply with payloads
 * made by libkvmgrid's encoders: what model_tick counts (VMs in alert, per
 * kind, per host), the worst list's order, a vanished VM's alert gone and its
 * slot clean for the next, stale and offline, the rules given, and the VM and
 * host histories filled from the same figures the tiles are coloured by.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "grid_fixture.h"
#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "model.h"

#define BIT(k) (1u << (k))

struct figs {
    double cpu, mem, steal, rd_lat, wr_lat;
    bool agent_stale;
};

static void pub(struct model *m, const char *host, const char *name, struct figs f, uint64_t now)
{
    struct kg_vm v;
    fixture_vm_init(&v, host, name);
    v.ts_ms += (int64_t)now;
    v.vcpus = 2;
    v.cpu_pct = f.cpu;
    v.mem_used_pct = f.mem;
    v.steal_pct = f.steal;
    v.disk_rd_lat_ms = f.rd_lat;
    v.disk_wr_lat_ms = f.wr_lat;
    v.disk_rd_bytes_per_s = 1000;
    v.disk_wr_bytes_per_s = 500;
    v.stale = f.agent_stale;
    fixture_vm_apply(m, &v, now);
}

/* CPU and memory %, the rest quiet. */
static void vm(struct model *m, const char *host, const char *name, double cpu, double mem,
               uint64_t now)
{
    pub(m, host, name, (struct figs){cpu, mem, 0, 1, 1, false}, now);
}

static void gone(struct model *m, const char *host, const char *name, uint64_t now)
{
    char topic[KG_TOPIC_MAX];
    int tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_VM, host, name);
    model_apply(m, topic, (size_t)tl, "", 0, true, now);
}

static void status(struct model *m, const char *host, const char *st, uint64_t now)
{
    char topic[KG_TOPIC_MAX];
    int tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_STATUS, host, NULL);
    model_apply(m, topic, (size_t)tl, st, strlen(st), true, now);
}

static struct model *mk(void)
{
    struct model *m = NULL;
    assert_int_equal(model_create("kvmgrid", 3, 5.0, &m), 0); /* stale after 15 s */
    return m;
}

/* Lock held. */
static int32_t slot(const struct model *m, const char *host, const char *name)
{
    int32_t h = model_find_host(m, host, strlen(host));
    assert_true(h >= 0);
    int32_t v = model_find_vm(m, (uint32_t)h, name, strlen(name));
    assert_true(v >= 0);
    return v;
}

static void tick(struct model *m, uint64_t now)
{
    model_lock(m);
    model_tick(m, now, COLOUR_METRIC_CPU);
    model_unlock(m);
}

/* m->worst as names, "a b c" (lock held). */
static const char *worst(const struct model *m)
{
    static char s[200];
    s[0] = '\0';
    for (int i = 0; i < MODEL_WORST && m->worst[i] >= 0; i++)
        snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%s", i ? " " : "",
                 m->vms[m->worst[i]].name);
    return s;
}

static bool dirty_has(struct model *m, int32_t v)
{
    const uint32_t *list;
    uint32_t n = model_take_dirty(m, &list, NULL);
    bool found = false;
    for (uint32_t i = 0; i < n; i++)
        found |= list[i] == (uint32_t)v;
    return found;
}

static void counted_by_tick(void **state)
{
    (void)state;
    struct model *m = mk();
    /* defaults: CPU over 90 for 60 s, memory over 95 at once */
    vm(m, "hv1", "a", 95, 40, 1000);
    vm(m, "hv1", "b", 10, 99, 1000);
    vm(m, "hv2", "c", 10, 40, 1000);
    tick(m, 1000);
    model_lock(m);
    assert_int_equal(m->counts.vms_alert, 1);
    assert_int_equal(m->counts.alert_kinds[ALERTS_MEM], 1);
    assert_int_equal(m->counts.alert_kinds[ALERTS_CPU], 0);
    assert_int_equal(m->hosts[model_find_host(m, "hv1", 3)].n_alert, 1);
    assert_int_equal(m->hosts[model_find_host(m, "hv2", 3)].n_alert, 0);
    assert_string_equal(worst(m), "b");
    assert_true(model_vm_in_alert(m, (uint32_t)slot(m, "hv1", "b")));
    assert_false(model_vm_in_alert(m, (uint32_t)slot(m, "hv1", "a")));
    assert_int_equal(model_vm_alerts(m, (uint32_t)slot(m, "hv1", "a"))->since_ms[ALERTS_CPU], 1000);
    /* the VMs whose alert state holds something are flagged: the tick reads those */
    assert_true(m->vms[slot(m, "hv1", "a")].flags & MODEL_VM_ALERTS); /* pending */
    assert_true(m->vms[slot(m, "hv1", "b")].flags & MODEL_VM_ALERTS); /* active */
    assert_false(m->vms[slot(m, "hv2", "c")].flags & MODEL_VM_ALERTS);
    /* a slot out of range has no alerts */
    assert_int_equal(model_vm_alerts(m, 100000)->active, 0);
    assert_false(model_vm_in_alert(m, 100000));
    model_unlock(m);
    /* a stays over for a minute, fresh every 10 s */
    for (uint64_t t = 11000; t <= 61000; t += 10000) {
        vm(m, "hv1", "a", 95, 40, t);
        vm(m, "hv1", "b", 10, 99, t);
        vm(m, "hv2", "c", 10, 40, t);
        if (t < 61000)
            tick(m, t);
    }
    model_lock(m);
    assert_int_equal(m->counts.vms_alert, 1);
    int32_t a = slot(m, "hv1", "a");
    const uint32_t *list;
    model_take_dirty(m, &list, NULL);
    model_tick(m, 61000, COLOUR_METRIC_CPU);
    /* promoted by the tick, which marks its tile dirty (and only its) */
    const uint32_t *l2;
    assert_int_equal(model_take_dirty(m, &l2, NULL), 1);
    assert_int_equal(l2[0], (uint32_t)a);
    assert_int_equal(m->counts.vms_alert, 2);
    assert_int_equal(m->counts.alert_kinds[ALERTS_CPU], 1);
    assert_int_equal(m->counts.alert_kinds[ALERTS_MEM], 1);
    assert_int_equal(m->hosts[model_find_host(m, "hv1", 3)].n_alert, 2);
    assert_string_equal(worst(m), "a b"); /* both since 1000: by name */
    assert_false(dirty_has(m, a));
    model_unlock(m);
    /* b's memory goes down to clear: out, and its tile repaints */
    vm(m, "hv1", "b", 10, 90, 62000);
    model_lock(m);
    assert_false(model_vm_in_alert(m, (uint32_t)slot(m, "hv1", "b")));
    assert_false(m->vms[slot(m, "hv1", "b")].flags & MODEL_VM_ALERTS);
    assert_true(dirty_has(m, slot(m, "hv1", "b")));
    model_tick(m, 62000, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_alert, 1);
    assert_int_equal(m->counts.alert_kinds[ALERTS_MEM], 0);
    assert_string_equal(worst(m), "a");
    model_unlock(m);
    model_free(m);
}

/* Seven VMs over at once (memory), first seen at different times. */
static struct model *seven(void)
{
    struct model *m = mk();
    static const struct {
        const char *name;
        uint64_t t;
    } first[] = {{"v3", 1000}, {"v5", 2000}, {"v1", 2000}, {"v0", 3000},
                 {"v6", 4000}, {"v2", 5000}, {"v4", 6000}};
    for (size_t i = 0; i < 7; i++)
        vm(m, "hv1", first[i].name, 10, 99, first[i].t);
    return m;
}

static void worst_order(void **state)
{
    (void)state;
    struct model *m = seven();
    tick(m, 7000);
    model_lock(m);
    assert_int_equal(m->counts.vms_alert, 7);
    assert_int_equal(m->hosts[0].n_alert, 7);
    /* longest in alert first, ties by name, MODEL_WORST of them */
    assert_string_equal(worst(m), "v3 v1 v5 v0 v6");
    model_unlock(m);
    vm(m, "hv1", "v3", 10, 40, 7500);
    tick(m, 8000);
    model_lock(m);
    assert_string_equal(worst(m), "v1 v5 v0 v6 v2");
    assert_int_equal(m->counts.vms_alert, 6);
    model_unlock(m);
    model_free(m);
}

static void vanished_vm(void **state)
{
    (void)state;
    struct model *m = seven();
    tick(m, 7000);
    model_lock(m);
    int32_t v1 = slot(m, "hv1", "v1");
    model_unlock(m);
    gone(m, "hv1", "v1", 7100);
    model_lock(m);
    /* gone from the list at once (it names slots until the next tick) ... */
    assert_string_equal(worst(m), "v3 v5 v0 v6");
    model_tick(m, 7200, COLOUR_METRIC_CPU);
    /* ... and from the counts at the tick */
    assert_int_equal(m->counts.vms_alert, 6);
    assert_int_equal(m->counts.alert_kinds[ALERTS_MEM], 6);
    assert_int_equal(m->hosts[0].n_alert, 6);
    assert_string_equal(worst(m), "v3 v5 v0 v6 v2");
    model_unlock(m);
    /* a new VM in the freed slot starts clean, counted from its own sample */
    vm(m, "hv1", "new", 95, 40, 8000);
    model_lock(m);
    assert_int_equal(slot(m, "hv1", "new"), v1);
    const struct alerts_vm *a = model_vm_alerts(m, (uint32_t)v1);
    assert_int_equal(a->active, 0);
    assert_int_equal(a->since_ms[ALERTS_MEM], 0);
    assert_int_equal(a->since_ms[ALERTS_CPU], 8000);
    model_tick(m, 8000, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_alert, 6);
    model_unlock(m);
    model_free(m);
}

static void stale_and_offline(void **state)
{
    (void)state;
    struct model *m = mk();
    vm(m, "hv1", "a", 95, 40, 1000); /* CPU pending from 1000 */
    status(m, "hv1", "offline", 2000);
    tick(m, 2000);
    model_lock(m);
    int32_t a = slot(m, "hv1", "a");
    assert_int_equal(m->counts.vms_alert, 1);
    assert_int_equal(m->counts.alert_kinds[ALERTS_OFFLINE], 1);
    assert_int_equal(alerts_vm_first(model_vm_alerts(m, (uint32_t)a)), ALERTS_OFFLINE);
    model_unlock(m);
    status(m, "hv1", "online", 3000);
    tick(m, 3000);
    model_lock(m);
    assert_int_equal(m->counts.vms_alert, 0);
    /* no sample for 16 s: stale (3 intervals of 5 s) */
    model_tick(m, 17000, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_stale, 1);
    assert_int_equal(m->counts.alert_kinds[ALERTS_STALE], 1);
    assert_int_equal(model_vm_alerts(m, (uint32_t)a)->since_ms[ALERTS_STALE], 17000);
    assert_true(m->vms[a].flags & MODEL_VM_ALERTS);
    /* CPU's minute runs out while stale: not promoted */
    model_tick(m, 70000, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.alert_kinds[ALERTS_CPU], 0);
    assert_int_equal(m->counts.vms_alert, 1);
    model_unlock(m);
    /* fresh again, still over: stale ends, CPU in alert since its first sample */
    vm(m, "hv1", "a", 95, 40, 70000);
    tick(m, 70000);
    model_lock(m);
    assert_int_equal(m->counts.alert_kinds[ALERTS_STALE], 0);
    assert_int_equal(m->counts.alert_kinds[ALERTS_CPU], 1);
    assert_int_equal(alerts_vm_since(model_vm_alerts(m, (uint32_t)a)), 1000);
    model_unlock(m);
    /* the agent says the VM is stale: the stale kind too */
    pub(m, "hv1", "a", (struct figs){95, 40, 0, 1, 1, true}, 71000);
    tick(m, 71000);
    model_lock(m);
    assert_int_equal(m->counts.alert_kinds[ALERTS_STALE], 1);
    assert_int_equal(alerts_vm_first(model_vm_alerts(m, (uint32_t)a)), ALERTS_STALE);
    model_unlock(m);
    model_free(m);
}

static void rules_given(void **state)
{
    (void)state;
    struct model *m = mk();
    struct alerts_rules r;
    alerts_rules_default(&r);
    char why[200];
    assert_int_equal(alerts_rule_parse("off", &r.r[ALERTS_CPU], why, sizeof(why)), 0);
    assert_int_equal(alerts_rule_parse("50", &r.r[ALERTS_MEM], why, sizeof(why)), 0);
    r.stale = false;
    model_set_alert_rules(m, &r);
    vm(m, "hv1", "a", 100, 60, 1000);
    tick(m, 100000); /* stale by then, but that is off */
    model_lock(m);
    assert_int_equal(m->counts.vms_alert, 1);
    assert_int_equal(m->counts.alert_kinds[ALERTS_MEM], 1);
    assert_int_equal(m->counts.alert_kinds[ALERTS_CPU], 0);
    assert_int_equal(m->counts.alert_kinds[ALERTS_STALE], 0);
    model_unlock(m);
    /* disk latency: the larger of read and write; steal */
    pub(m, "hv1", "d", (struct figs){1, 1, 0, 10, 60, false}, 100000);
    pub(m, "hv1", "w", (struct figs){1, 1, 0, NAN, 55, false}, 100000);
    pub(m, "hv1", "s", (struct figs){1, 1, 11, 1, 1, false}, 100000);
    pub(m, "hv1", "q", (struct figs){1, 1, 1, 50, 40, false}, 100000);
    tick(m, 100000);
    model_lock(m);
    assert_int_equal(m->counts.alert_kinds[ALERTS_DISK_LAT], 2);
    assert_int_equal(m->counts.alert_kinds[ALERTS_STEAL], 1);
    assert_true(model_vm_alerts(m, (uint32_t)slot(m, "hv1", "w"))->active == BIT(ALERTS_DISK_LAT));
    assert_false(model_vm_in_alert(m, (uint32_t)slot(m, "hv1", "q")));
    model_unlock(m);
    model_free(m);
}

static uint8_t byte(double pos)
{
    return (uint8_t)(pos * HISTORY_TOP + 0.5);
}

static void history_through_apply(void **state)
{
    (void)state;
    struct model *m = mk();
    /* none by default */
    assert_int_equal(m->vm_hist.steps, 0);
    vm(m, "hv0", "x", 50, 40, 100);
    model_lock(m);
    assert_int_equal(history_bytes(&m->vm_hist), 0);
    model_unlock(m);
    assert_int_equal(model_set_history(m, 500, 1000, 0), KG_EINVAL);
    assert_int_equal(model_set_history(m, (uint64_t)(HISTORY_MAX_STEPS + 1) * 1000, 1000, 0),
                     KG_EINVAL);
    /* 10 steps of 1 s from 5000; the VM already there gets a history too */
    assert_int_equal(model_set_history(m, 10000, 1000, 5000), 0);
    model_lock(m);
    assert_true(m->vm_hist.cap_slots >= 1);
    assert_int_equal(m->vm_hist.fill_steps, 3);
    model_unlock(m);
    vm(m, "hv1", "a", 50, 40, 5500);
    vm(m, "hv1", "a", 100, 40, 6500);
    struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 1764400000000;
    snprintf(h.name, sizeof(h.name), "hv1");
    snprintf(h.agent_version, sizeof(h.agent_version), "0.1.0");
    snprintf(h.collect_path, sizeof(h.collect_path), "bulk");
    h.interval_s = 1;
    h.libvirt_ok = true;
    h.cpu_pct = 33;
    h.mem_used_pct = 60;
    h.cpus = 8;
    fixture_host_apply(m, &h, 6500);
    snprintf(h.name, sizeof(h.name), "hv2");
    h.cpu_pct = 70;
    fixture_host_apply(m, &h, 6500);

    model_lock(m);
    int32_t a = slot(m, "hv1", "a");
    uint8_t out[3];
    history_read(&m->vm_hist, (size_t)a, HISTORY_CPU, 6500, out, 3);
    assert_int_equal(out[0], HISTORY_NONE);
    assert_int_equal(out[1], 127);
    assert_int_equal(out[2], HISTORY_TOP);
    /* the same positions as the tiles' colour scales */
    history_read(&m->vm_hist, (size_t)a, HISTORY_MEM, 6500, out, 1);
    assert_int_equal(out[0], byte(colour_scale_pos(COLOUR_METRIC_MEM, 40)));
    history_read(&m->vm_hist, (size_t)a, HISTORY_DISK, 6500, out, 1);
    assert_int_equal(out[0], byte(colour_scale_pos(COLOUR_METRIC_DISK, 1500)));
    history_read(&m->vm_hist, (size_t)a, HISTORY_NET, 6500, out, 1);
    assert_int_equal(out[0], HISTORY_NONE); /* no network figures */
    int32_t h1 = model_find_host(m, "hv1", 3), h2 = model_find_host(m, "hv2", 3);
    history_read(&m->host_hist, (size_t)h1, HISTORY_CPU, 6500, out, 1);
    assert_int_equal(out[0], byte(colour_scale_pos(COLOUR_METRIC_CPU, 33)));
    history_read(&m->host_hist, (size_t)h1, HISTORY_MEM, 6500, out, 1);
    assert_int_equal(out[0], byte(colour_scale_pos(COLOUR_METRIC_MEM, 60)));
    history_read(&m->host_hist, (size_t)h2, HISTORY_CPU, 6500, out, 1);
    assert_int_equal(out[0], byte(colour_scale_pos(COLOUR_METRIC_CPU, 70)));
    history_read(&m->host_hist, (size_t)h1, HISTORY_DISK, 6500, out, 1);
    assert_int_equal(out[0], HISTORY_NONE);
    model_unlock(m);

    /* the VM vanishes: its history with it; the next in its slot starts empty */
    gone(m, "hv1", "a", 7000);
    vm(m, "hv1", "b", 10, 10, 7000);
    model_lock(m);
    assert_int_equal(slot(m, "hv1", "b"), a);
    history_read(&m->vm_hist, (size_t)a, HISTORY_CPU, 7000, out, 3);
    assert_int_equal(out[0], HISTORY_NONE);
    assert_int_equal(out[1], HISTORY_NONE);
    assert_int_equal(out[2], byte(0.1));
    model_unlock(m);

    /* hv0 (only a VM) removed: the last host moves into its index, with its trend */
    gone(m, "hv0", "x", 7000);
    model_lock(m);
    int32_t moved = model_find_host(m, "hv2", 3);
    assert_true(moved != h2);
    history_read(&m->host_hist, (size_t)moved, HISTORY_CPU, 7000, out, 2); /* steps 1, 2 */
    assert_int_equal(out[0], byte(colour_scale_pos(COLOUR_METRIC_CPU, 70)));
    history_read(&m->host_hist, (size_t)h2, HISTORY_CPU, 7000, out, 2);
    assert_int_equal(out[0], HISTORY_NONE);
    model_unlock(m);
    model_free(m);
}

/* Every VM stale at once (the broker gone): all in alert since the same tick;
 * the worst list is the first names, made without sorting them all. */
static void everything_stale(void **state)
{
    (void)state;
    struct model *m = mk();
    assert_int_equal(model_set_history(m, 15 * 60000, 5000, 1000), 0);
    char host[32], name[32];
    for (int h = 0; h < 400; h++) {
        snprintf(host, sizeof(host), "hv%03d", 399 - h);
        for (int i = 0; i < 50; i++) {
            snprintf(name, sizeof(name), "vm%02d-%03d", 49 - i, 399 - h);
            vm(m, host, name, 10, 10, 1000);
        }
    }
    tick(m, 2000);
    model_lock(m);
    assert_int_equal(m->counts.vms_alert, 0);
    model_tick(m, 30000, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_alert, 20000);
    assert_int_equal(m->counts.alert_kinds[ALERTS_STALE], 20000);
    assert_string_equal(worst(m), "vm00-000 vm00-001 vm00-002 vm00-003 vm00-004");
    /* the history holds 20,000 VMs in whole chunks of 4096 slots */
    assert_int_equal(m->vm_hist.cap_slots, 20480);
    assert_int_equal(history_bytes(&m->vm_hist), 20480u * (180 * HISTORY_SERIES + 4));
    model_unlock(m);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counted_by_tick),
        cmocka_unit_test(worst_order),
        cmocka_unit_test(vanished_vm),
        cmocka_unit_test(stale_and_offline),
        cmocka_unit_test(rules_given),
        cmocka_unit_test(history_through_apply),
        cmocka_unit_test(everything_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
