/* SPDX-License-Identifier: MIT */
/*
 * The wall's model: VMs and hosts created, updated and removed from payloads made
 * by libkvmgrid's own encoders; offline hosts keep their VMs; staleness after N
 * intervals; malformed, oversized and foreign input counted; the dirty list
 * deduplicated; 100k VMs in compact memory; a concurrent writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "grid_fixture.h"
#include "model.h"

static char payload[KG_PAYLOAD_MAX];

static void pub_vm(struct model *m, const char *host, const char *vm, double cpu,
                   enum kg_vm_state st, uint64_t now)
{
    struct kg_vm v;
    kg_vm_init(&v);
    v.ts_ms = 1764400000000 + (int64_t)now;
    snprintf(v.host, sizeof(v.host), "%s", host);
    snprintf(v.name, sizeof(v.name), "%s", vm);
    v.state = st;
    v.cpu_pct = cpu;
    v.mem_used_pct = 40;
    v.disk_rd_bytes_per_s = 1000;
    v.disk_wr_bytes_per_s = 500;
    v.vcpus = 2;
    int len = kg_vm_encode(&v, payload, sizeof(payload));
    assert_true(len > 0);
    char topic[KG_TOPIC_MAX];
    int tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_VM, host, vm);
    assert_true(tl > 0);
    model_apply(m, topic, (size_t)tl, payload, (size_t)len, true, now);
}

static void pub_raw(struct model *m, const char *topic, const char *p, uint64_t now)
{
    model_apply(m, topic, strlen(topic), p, strlen(p), false, now);
}

static void pub_host(struct model *m, const char *host, double interval_s, uint64_t now)
{
    struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 1764400000000 + (int64_t)now;
    snprintf(h.name, sizeof(h.name), "%s", host);
    snprintf(h.agent_version, sizeof(h.agent_version), "0.1.0");
    snprintf(h.collect_path, sizeof(h.collect_path), "bulk");
    h.interval_s = interval_s;
    h.libvirt_ok = true;
    h.cpu_pct = 33;
    h.cpus = 8;
    int len = kg_host_encode(&h, payload, sizeof(payload));
    assert_true(len > 0);
    char topic[KG_TOPIC_MAX];
    int tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_METRICS, host, NULL);
    model_apply(m, topic, (size_t)tl, payload, (size_t)len, true, now);
}

static struct model *mk(void)
{
    struct model *m = NULL;
    assert_int_equal(model_create("kvmgrid", 3, 5.0, &m), 0);
    return m;
}

static void create_update_remove(void **state)
{
    (void)state;
    struct model *m = mk();
    pub_vm(m, "hv1", "web1", 12.5, KG_VM_RUNNING, 1000);
    model_lock(m);
    assert_int_equal(m->n_hosts, 1);
    assert_int_equal(m->n_vms, 1);
    int32_t h = model_find_host(m, "hv1", 3);
    assert_int_equal(h, 0);
    int32_t v = model_find_vm(m, 0, "web1", 4);
    assert_true(v >= 0);
    assert_true(fabsf(m->vms[v].fig[MODEL_FIG_CPU_PCT] - 12.5f) < 1e-3f);
    assert_true(fabs(model_vm_value(&m->vms[v], COLOUR_METRIC_DISK) - 1500.0) < 1e-3);
    assert_true(fabs(model_vm_value(&m->vms[v], COLOUR_METRIC_MEM) - 40.0) < 1e-3);
    assert_true(isnan(model_vm_value(&m->vms[v], COLOUR_METRIC_NET)));
    uint64_t sgen = m->structure_gen;
    const uint32_t *list;
    assert_int_equal(model_take_dirty(m, &list, NULL), 1);
    assert_int_equal(list[0], (uint32_t)v);
    model_unlock(m);

    /* three updates of the same VM: one dirty entry, no structure change */
    for (int i = 0; i < 3; i++)
        pub_vm(m, "hv1", "web1", 80 + i, KG_VM_PAUSED, 2000 + (uint64_t)i);
    model_lock(m);
    assert_int_equal(m->structure_gen, sgen);
    assert_int_equal(model_take_dirty(m, &list, NULL), 1);
    assert_int_equal(m->vms[v].state, KG_VM_PAUSED);
    assert_true(fabsf(m->vms[v].fig[MODEL_FIG_CPU_PCT] - 82.0f) < 1e-3f);
    assert_int_equal(m->applied, 4);
    model_unlock(m);

    /* second VM, then an empty payload removes the first */
    pub_vm(m, "hv1", "db", 5, KG_VM_SHUTOFF, 3000);
    char topic[KG_TOPIC_MAX];
    int tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_VM, "hv1", "web1");
    model_apply(m, topic, (size_t)tl, "", 0, false, 3100);
    model_lock(m);
    assert_int_equal(m->n_vms, 1);
    assert_int_equal(m->removed, 1);
    assert_int_equal(model_find_vm(m, 0, "web1", 4), -1);
    assert_true(model_find_vm(m, 0, "db", 2) >= 0);
    assert_int_equal(m->hosts[0].n_vms, 1);
    model_unlock(m);
    /* the freed slot is reused */
    pub_vm(m, "hv1", "web2", 1, KG_VM_RUNNING, 3200);
    model_lock(m);
    assert_int_equal(m->n_vm_slots, 2);
    model_unlock(m);
    /* removing the last VMs of a host with no status and no metrics removes the host */
    tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_VM, "hv1", "db");
    model_apply(m, topic, (size_t)tl, "", 0, true, 3300);
    tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_VM, "hv1", "web2");
    model_apply(m, topic, (size_t)tl, "", 0, true, 3300);
    model_lock(m);
    assert_int_equal(m->n_vms, 0);
    assert_int_equal(m->n_hosts, 0);
    model_unlock(m);
    /* removing something unknown is harmless */
    model_apply(m, topic, (size_t)tl, "", 0, true, 3400);
    model_free(m);
}

/* A reconnect: the VMs the broker sends again stay, the ones it no longer holds
 * (removed while the wall was away) go, an offline host's VMs stay while the
 * broker still holds them, a host the broker forgot keeps its VMs, and a removed
 * VM leaves no dangling slot in the hottest list; without a sync in progress
 * nothing is swept. */
static void sync_removes_what_the_broker_lost(void **state)
{
    (void)state;
    struct model *m = mk();
    assert_int_equal(model_sync_end(m), 0); /* no sync begun */
    model_sync_begin(m, 100);
    pub_vm(m, "hv1", "a", 1, KG_VM_RUNNING, 100);
    pub_vm(m, "hv1", "b", 1, KG_VM_RUNNING, 110);
    pub_vm(m, "hv1", "c", 1, KG_VM_RUNNING, 120);
    pub_vm(m, "hv2", "x", 1, KG_VM_RUNNING, 130);
    pub_raw(m, "kvmgrid/hv2/status", "offline", 140);
    assert_int_equal(model_sync_end(m), 0); /* first connect: everything is new */
    /* away from 200 to 1000; the broker now holds a, c and x only */
    model_sync_begin(m, 1000);
    pub_vm(m, "hv1", "c", 2, KG_VM_PAUSED, 1000); /* the same ms as the connect */
    pub_vm(m, "hv1", "a", 2, KG_VM_RUNNING, 1010);
    pub_vm(m, "hv2", "x", 2, KG_VM_RUNNING, 1020);
    assert_int_equal(model_sync_end(m), 1);
    assert_int_equal(model_sync_end(m), 0); /* once per sync */
    model_lock(m);
    assert_int_equal(m->n_vms, 3);
    assert_int_equal(model_find_vm(m, 0, "b", 1), -1);
    assert_true(model_find_vm(m, 0, "a", 1) >= 0);
    assert_true(model_find_vm(m, 0, "c", 1) >= 0);
    assert_int_equal(m->hosts[0].n_vms, 2);
    assert_int_equal(m->removed, 1);
    model_unlock(m);
    /* the broker lost everything (a restart without persistence): nothing goes,
     * the agents send it again */
    model_sync_begin(m, 2000);
    assert_int_equal(model_sync_end(m), 0);
    /* the broker knows hv1 (its status) but none of its VMs: they go, even the
     * hottest one, which the next model_tick would name (no dangling slot);
     * hv2, of which it said nothing, keeps x */
    model_lock(m);
    model_tick(m, 2500, COLOUR_METRIC_CPU);
    assert_true(m->hottest[0] >= 0);
    model_unlock(m);
    model_sync_begin(m, 3000);
    pub_raw(m, "kvmgrid/hv1/status", "online", 3000);
    assert_int_equal(model_sync_end(m), 2);
    model_lock(m);
    assert_int_equal(m->n_vms, 1);
    assert_int_equal(m->hosts[0].n_vms, 0);
    assert_true(model_find_vm(m, 1, "x", 1) >= 0);
    for (int i = 0; i < MODEL_HOTTEST; i++)
        assert_true(m->hottest[i] < 0 || (m->vms[m->hottest[i]].flags & MODEL_VM_LIVE));
    model_unlock(m);
    model_free(m);
}

static void offline_keeps_vms(void **state)
{
    (void)state;
    struct model *m = mk();
    pub_raw(m, "kvmgrid/hv1/status", "online", 10);
    pub_vm(m, "hv1", "a", 10, KG_VM_RUNNING, 10);
    pub_vm(m, "hv1", "b", 20, KG_VM_RUNNING, 10);
    pub_vm(m, "hv2", "c", 30, KG_VM_RUNNING, 10);
    model_lock(m);
    model_tick(m, 20, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.hosts, 2);
    assert_int_equal(m->counts.hosts_online, 1);
    assert_int_equal(m->counts.hosts_unknown, 1);
    assert_int_equal(m->counts.vms_online, 3);
    assert_int_equal(m->hottest[0], model_find_vm(m, 1, "c", 1));
    assert_int_equal(m->hottest[2], model_find_vm(m, 0, "a", 1));
    uint64_t sgen = m->structure_gen;
    model_unlock(m);
    pub_raw(m, "kvmgrid/hv1/status", "offline", 30);
    model_lock(m);
    assert_true(m->structure_gen > sgen);
    assert_int_equal(m->hosts[0].status, MODEL_HOST_OFFLINE);
    assert_int_equal(m->n_vms, 3);
    model_tick(m, 40, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.hosts_offline, 1);
    assert_int_equal(m->counts.vms_offline, 2);
    assert_int_equal(m->counts.vms_online, 1);
    assert_int_equal(m->hottest[0], model_find_vm(m, 1, "c", 1));
    assert_int_equal(m->hottest[1], -1);
    model_unlock(m);
    pub_raw(m, "kvmgrid/hv1/status", "online", 50);
    model_lock(m);
    model_tick(m, 60, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.hosts_online, 1);
    assert_int_equal(m->counts.vms_offline, 0);
    model_unlock(m);
    model_free(m);
}

static void staleness(void **state)
{
    (void)state;
    struct model *m = mk(); /* 3 intervals, default 5 s */
    pub_host(m, "hv1", 2.0, 0); /* this host samples every 2 s: stale after 6 s */
    pub_vm(m, "hv1", "a", 10, KG_VM_RUNNING, 0);
    pub_vm(m, "hv2", "b", 10, KG_VM_RUNNING, 0); /* unknown interval: 15 s */
    const uint32_t *list;
    model_lock(m);
    model_take_dirty(m, &list, NULL);
    model_tick(m, 5000, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_stale, 0);
    assert_int_equal(m->counts.hosts_stale, 0);
    assert_int_equal(model_take_dirty(m, &list, NULL), 0);
    model_tick(m, 6001, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_stale, 1);
    assert_int_equal(m->counts.hosts_stale, 1);
    int32_t a = model_find_vm(m, 0, "a", 1);
    assert_true(m->vms[a].flags & MODEL_VM_STALE);
    assert_int_equal(model_take_dirty(m, &list, NULL), 1); /* repaint it with its pattern */
    assert_int_equal(list[0], (uint32_t)a);
    model_tick(m, 15001, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_stale, 2);
    model_unlock(m);
    pub_vm(m, "hv1", "a", 10, KG_VM_RUNNING, 16000);
    pub_host(m, "hv1", 2.0, 16000);
    model_lock(m);
    model_tick(m, 16001, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_stale, 1);
    assert_int_equal(m->counts.hosts_stale, 0);
    assert_false(m->vms[a].flags & MODEL_VM_STALE);
    model_unlock(m);
    /* the agent's own stale flag counts too */
    struct kg_vm v;
    kg_vm_init(&v);
    v.ts_ms = 1764400000000;
    strcpy(v.host, "hv1");
    strcpy(v.name, "a");
    v.state = KG_VM_RUNNING;
    v.stale = true;
    v.age_s = 12;
    int len = kg_vm_encode(&v, payload, sizeof(payload));
    model_apply(m, "kvmgrid/hv1/vm/a", 16, payload, (size_t)len, false, 16500);
    model_lock(m);
    model_tick(m, 16600, COLOUR_METRIC_CPU);
    assert_true(m->vms[a].flags & MODEL_VM_AGENT_STALE);
    assert_int_equal(m->counts.vms_stale, 2);
    model_unlock(m);
    model_free(m);
}

/* The MQTT thread stamps a message with its own clock reading, which can be newer
 * than the main thread's now: that is age 0, not a wrapped-around huge age. */
static void applied_after_now(void **state)
{
    (void)state;
    struct model *m = mk();
    pub_host(m, "hv1", 2.0, 10000);
    pub_vm(m, "hv1", "a", 10, KG_VM_RUNNING, 10000);
    model_lock(m);
    model_tick(m, 9990, COLOUR_METRIC_CPU); /* now read just before the message landed */
    assert_int_equal(m->counts.vms_stale, 0);
    assert_int_equal(m->counts.hosts_stale, 0);
    assert_false(m->vms[model_find_vm(m, 0, "a", 1)].flags & MODEL_VM_STALE);
    model_unlock(m);
    model_free(m);
}

static void malformed_counted(void **state)
{
    (void)state;
    struct model *m = mk();
    pub_raw(m, "kvmgrid/hv1/vm/a", "{not json", 1);
    pub_raw(m, "kvmgrid/hv1/vm/a", "{\"schema\":1}", 1);
    pub_raw(m, "kvmgrid/hv1/vm/a", "[]", 1);
    pub_raw(m, "kvmgrid/hv1/metrics", "{\"schema\":\"x\"}", 1);
    pub_raw(m, "kvmgrid/hv1/status", "maybe", 1);
    pub_raw(m, "kvmgrid/hv1/status", "online\n", 1);
    pub_raw(m, "kvmgrid/n1/load/state", "{}", 1);
    pub_raw(m, "kvmgrid/h%2x/vm/a", "{}", 1);      /* not canonically escaped */
    pub_raw(m, "kvmgrid/n1/load/cmd", "{}", 1);    /* not for the wall: ignored */
    pub_raw(m, "other/hv1/vm/a", "{}", 1);         /* not under the prefix */
    pub_raw(m, "kvmgrid/hv1/something", "{}", 1);
    char *big = malloc(KG_PAYLOAD_MAX + 100);
    memset(big, ' ', KG_PAYLOAD_MAX + 99);
    big[KG_PAYLOAD_MAX + 99] = '\0';
    pub_raw(m, "kvmgrid/hv1/vm/a", big, 1);
    pub_raw(m, "kvmgrid/hv1/summary", big, 1);  /* for readers without VM topics: ignored */
    free(big);
    /* binary garbage with NULs, as payload and in a topic */
    static const char bin[] = {'{', 0, '"', (char)0xff, (char)0xfe, '}'};
    model_apply(m, "kvmgrid/hv1/vm/a", 16, bin, sizeof(bin), false, 1);
    static const char btopic[] = {'k', 'v', 'm', 'g', 'r', 'i', 'd', '/', (char)0xff, '/', 'v', 'm', '/', 'a'};
    model_apply(m, btopic, sizeof(btopic), "{}", 2, false, 1);
    model_lock(m);
    assert_int_equal(m->bad[MODEL_BAD_VM], 4);
    assert_int_equal(m->bad[MODEL_BAD_HOST], 1);
    assert_int_equal(m->bad[MODEL_BAD_STATUS], 2);
    assert_int_equal(m->bad[MODEL_BAD_LOAD], 1);
    assert_int_equal(m->bad[MODEL_BAD_TOPIC], 2);
    assert_int_equal(m->bad[MODEL_BAD_OVERSIZED], 1);
    assert_int_equal(model_bad_total(m), 11);
    assert_int_equal(m->ignored, 4);
    assert_int_equal(m->applied, 0);
    assert_int_equal(m->n_vms, 0);
    assert_int_equal(m->n_hosts, 0);
    assert_true(strlen(m->last_bad) > 0);
    for (const char *p = m->last_bad; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7F);
    model_unlock(m);
    model_free(m);
}

/* A VM payload whose host is not its topic's host is counted and dropped, even
 * when the named host exists; the same payload under its own host applies.
 * Escaped topic levels compare unescaped. */
static void vm_host_must_match_topic(void **state)
{
    (void)state;
    struct model *m = mk();
    pub_vm(m, "hv-01", "web/02 #db", 10, KG_VM_RUNNING, 1);
    struct kg_vm v;
    kg_vm_init(&v);
    v.ts_ms = 1764400000000;
    snprintf(v.host, sizeof(v.host), "hv-02");
    snprintf(v.name, sizeof(v.name), "web/02 #db");
    v.state = KG_VM_RUNNING;
    int len = kg_vm_encode(&v, payload, sizeof(payload));
    assert_true(len > 0);
    pub_raw(m, "kvmgrid/hv-01/vm/web%2F02%20%23db", payload, 2);
    snprintf(v.host, sizeof(v.host), "hv-01x");
    len = kg_vm_encode(&v, payload, sizeof(payload));
    pub_raw(m, "kvmgrid/hv-01/vm/web%2F02%20%23db", payload, 3); /* a longer name */
    snprintf(v.host, sizeof(v.host), "hv");
    len = kg_vm_encode(&v, payload, sizeof(payload));
    pub_raw(m, "kvmgrid/hv-01/vm/web%2F02%20%23db", payload, 4); /* a prefix of it */
    model_lock(m);
    assert_int_equal(m->bad[MODEL_BAD_VM], 3);
    assert_non_null(strstr(m->last_bad, "host \"hv\" in the payload but \"hv-01\" in the topic"));
    assert_int_equal(m->n_hosts, 1);
    assert_int_equal(m->n_vms, 1);
    assert_int_equal(m->applied, 1);
    model_unlock(m);
    pub_vm(m, "hv%2F1 x", "a", 10, KG_VM_RUNNING, 5); /* an escaped host level */
    model_lock(m);
    assert_int_equal(m->bad[MODEL_BAD_VM], 3);
    assert_int_equal(m->n_hosts, 2);
    model_unlock(m);
    model_free(m);
}

/* Over its caps the model drops messages that would add a host or a VM, counts
 * them, and keeps updating what it holds; a removal makes room again. */
static void caps_drop_and_count(void **state)
{
    (void)state;
    struct model *m = mk();
    assert_int_equal(m->max_hosts, MODEL_DEFAULT_MAX_HOSTS);
    assert_int_equal(m->max_vms, MODEL_DEFAULT_MAX_VMS);
    assert_true(MODEL_DEFAULT_MAX_VMS >= 1000000u);
    model_set_caps(m, 2, 3);
    pub_vm(m, "hv1", "a", 10, KG_VM_RUNNING, 1);
    pub_vm(m, "hv1", "b", 10, KG_VM_RUNNING, 1);
    pub_vm(m, "hv2", "c", 10, KG_VM_RUNNING, 1);
    pub_vm(m, "hv2", "d", 10, KG_VM_RUNNING, 1);   /* 4th VM: dropped */
    pub_vm(m, "hv3", "e", 10, KG_VM_RUNNING, 1);   /* 3rd host: dropped */
    pub_raw(m, "kvmgrid/hv4/status", "online", 1); /* 3rd host: dropped */
    pub_vm(m, "hv1", "a", 55, KG_VM_RUNNING, 2);   /* held ones still update */
    model_lock(m);
    assert_int_equal(m->n_hosts, 2);
    assert_int_equal(m->n_vms, 3);
    assert_int_equal(m->dropped_vms, 1);
    assert_int_equal(m->dropped_hosts, 2);
    assert_int_equal(model_dropped_total(m), 3);
    assert_int_equal(model_bad_total(m), 0);
    assert_int_equal(m->applied, 4);
    int32_t h = model_find_host(m, "hv1", 3);
    assert_true(h >= 0);
    int32_t v = model_find_vm(m, (uint32_t)h, "a", 1);
    assert_true(v >= 0);
    assert_true(m->vms[v].fig[MODEL_FIG_CPU_PCT] == 55.0f);
    model_unlock(m);
    pub_raw(m, "kvmgrid/hv1/vm/b", "", 3);        /* removed: room for one */
    pub_vm(m, "hv2", "d", 10, KG_VM_RUNNING, 3);
    pub_vm(m, "hv2", "x", 10, KG_VM_RUNNING, 3);   /* full again: dropped */
    model_lock(m);
    assert_int_equal(m->n_vms, 3);
    assert_int_equal(m->dropped_vms, 2);
    model_unlock(m);
    model_free(m);
}

static void load_generators(void **state)
{
    (void)state;
    struct model *m = mk();
    pub_vm(m, "hv1", "guest1", 10, KG_VM_RUNNING, 1);
    struct kg_load_state ls;
    kg_load_state_init(&ls);
    ls.ts_ms = 1764400000000;
    strcpy(ls.node, "guest1");
    ls.status = KG_LOADST_RUNNING;
    ls.spec.kind = KG_LOAD_CPU;
    ls.spec.pct = 50;
    int len = kg_load_state_encode(&ls, payload, sizeof(payload));
    assert_true(len > 0);
    model_apply(m, "kvmgrid/guest1/load/state", 25, payload, (size_t)len, true, 2);
    model_lock(m);
    assert_int_equal(m->bad[MODEL_BAD_LOAD], 0);
    int32_t v = model_find_vm(m, 0, "guest1", 6);
    assert_true(model_vm_load_running(m, &m->vms[v]));
    model_tick(m, 3, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.loads_running, 1);
    model_unlock(m);
    model_apply(m, "kvmgrid/guest1/load/state", 25, "", 0, true, 4);
    model_lock(m);
    assert_false(model_vm_load_running(m, &m->vms[v]));
    model_unlock(m);
    model_free(m);
}

static void many_vms_compact(void **state)
{
    (void)state;
    assert_true(sizeof(struct model_vm) <= 136);
    struct model *m = mk();
    char host[32], vm[32];
    for (int h = 0; h < 2000; h++) {
        snprintf(host, sizeof(host), "hv%04d", h);
        for (int i = 0; i < 50; i++) {
            snprintf(vm, sizeof(vm), "vm%02d", i);
            pub_vm(m, host, vm, (h + i) % 100, KG_VM_RUNNING, 1);
        }
    }
    model_lock(m);
    assert_int_equal(m->n_vms, 100000);
    assert_int_equal(m->n_hosts, 2000);
    assert_int_equal(model_find_vm(m, (uint32_t)model_find_host(m, "hv1999", 6), "vm49", 4) >= 0, 1);
    const uint32_t *list;
    assert_int_equal(model_take_dirty(m, &list, NULL), 100000);
    model_tick(m, 2, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.vms_online, 100000);
    assert_true(m->vms[m->hottest[0]].fig[MODEL_FIG_CPU_PCT] == 99.0f);
    model_unlock(m);
    model_free(m);
}

struct writer_arg {
    struct model *m;
    int n;
};

static void *writer(void *p)
{
    struct writer_arg *a = p;
    static char pl[KG_PAYLOAD_MAX];
    for (int i = 0; i < a->n; i++) {
        struct kg_vm v;
        kg_vm_init(&v);
        v.ts_ms = 1764400000000;
        strcpy(v.host, "hv1");
        snprintf(v.name, sizeof(v.name), "vm%d", i % 100);
        v.state = KG_VM_RUNNING;
        v.cpu_pct = i % 100;
        int len = kg_vm_encode(&v, pl, sizeof(pl));
        char topic[64];
        snprintf(topic, sizeof(topic), "kvmgrid/hv1/vm/vm%d", i % 100);
        model_apply(a->m, topic, strlen(topic), pl, (size_t)len, false, (uint64_t)i);
    }
    return NULL;
}

static void concurrent_reader(void **state)
{
    (void)state;
    struct model *m = mk();
    struct writer_arg a = {m, 20000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer, &a), 0);
    uint64_t taken = 0;
    for (int i = 0; i < 2000; i++) {
        const uint32_t *list;
        model_lock(m);
        uint32_t n = model_take_dirty(m, &list, NULL);
        assert_true(n <= 100);
        for (uint32_t k = 0; k < n; k++)
            assert_true(m->vms[list[k]].flags & MODEL_VM_LIVE);
        taken += n;
        model_unlock(m);
    }
    pthread_join(t, NULL);
    model_lock(m);
    assert_int_equal(m->n_vms, 100);
    assert_int_equal(m->applied, 20000);
    model_unlock(m);
    assert_true(taken <= 20000);
    model_free(m);
}

/* Under a "+" prefix (a centre's wall) hosts are (site, name): the same name
 * at two sites is two hosts; shown as "site/name"; ordered by site. */
static void groups_from_the_prefix(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(model_create("+/kvmgrid", 3, 5.0, &m), 0);
    struct kg_vm v;
    kg_vm_init(&v);
    v.ts_ms = 1764400000000;
    snprintf(v.host, sizeof(v.host), "hv1");
    snprintf(v.name, sizeof(v.name), "web");
    v.state = KG_VM_RUNNING;
    v.cpu_pct = 10;
    int len = kg_vm_encode(&v, payload, sizeof(payload));
    assert_true(len > 0);
    const char *topics[] = {"paris/kvmgrid/hv1/vm/web", "lyon/kvmgrid/hv1/vm/web",
                            "s%2F2/kvmgrid/hv1/vm/web"};
    for (size_t i = 0; i < 3; i++)
        model_apply(m, topics[i], strlen(topics[i]), payload, (size_t)len, true, 1000);
    pub_raw(m, "paris/kvmgrid/hv1/status", "offline", 1000);
    /* not under the prefix: ignored; a site level not canonically escaped: bad */
    pub_raw(m, "kvmgrid/hv1/status", "online", 1000);
    pub_raw(m, "a%2f/kvmgrid/hv1/status", "online", 1000);
    model_lock(m);
    assert_int_equal(m->n_hosts, 3);
    assert_int_equal(m->n_vms, 3);
    assert_int_equal(m->n_groups, 4); /* none, paris, lyon, s/2 */
    assert_int_equal(m->groups[0].link, MODEL_LINK_UNKNOWN);
    assert_int_equal(m->bad[MODEL_BAD_TOPIC], 1);
    int32_t hp = model_find_host_named(m, "paris", 5, "hv1", 3);
    int32_t hl = model_find_host_named(m, "lyon", 4, "hv1", 3);
    int32_t hs = model_find_host_named(m, "s/2", 3, "hv1", 3);
    assert_true(hp >= 0 && hl >= 0 && hs >= 0 && hp != hl && hl != hs);
    assert_int_equal(model_find_host(m, "hv1", 3), -1); /* group 0 is empty here */
    assert_int_equal(model_find_host_named(m, "rome", 4, "hv1", 3), -1);
    assert_int_equal(m->hosts[hp].status, MODEL_HOST_OFFLINE);
    assert_int_equal(m->hosts[hl].status, MODEL_HOST_UNKNOWN);
    char buf[MODEL_HOST_LABEL_MAX];
    assert_string_equal(model_host_display(m, &m->hosts[hp], buf, sizeof(buf)), "paris/hv1");
    assert_string_equal(model_host_printable(m, &m->hosts[hs], buf, sizeof(buf)), "s%2F2/hv1");
    assert_true(model_find_vm(m, (uint32_t)hl, "web", 3) >= 0);
    model_unlock(m);
    /* a site's bridge link: "0" down, "1" up, empty forgotten, else malformed */
    pub_raw(m, "rome/kvmgrid/$bridge/state", "0", 1000); /* a site with no host yet */
    pub_raw(m, "paris/kvmgrid/$bridge/state", "1", 1000);
    pub_raw(m, "paris/kvmgrid/$bridge/state", "up", 1000);
    model_lock(m);
    model_tick(m, 1000, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.links_down, 1);
    int32_t rome = model_find_group(m, "rome", 4);
    assert_true(rome > 0);
    assert_int_equal(m->groups[rome].link, MODEL_LINK_DOWN);
    assert_int_equal(m->groups[model_find_group(m, "paris", 5)].link, MODEL_LINK_UP);
    assert_int_equal(m->bad[MODEL_BAD_STATUS], 1);
    model_unlock(m);
    pub_raw(m, "rome/kvmgrid/$bridge/state", "1", 1000);
    model_lock(m);
    model_tick(m, 1000, COLOUR_METRIC_CPU);
    assert_int_equal(m->counts.links_down, 0);
    model_unlock(m);
    model_apply(m, "rome/kvmgrid/$bridge/state", 26, "", 0, true, 1000);
    model_lock(m);
    assert_int_equal(m->groups[rome].link, MODEL_LINK_UNKNOWN);
    model_unlock(m);

    /* removal reaches only its own site's VM */
    model_apply(m, "lyon/kvmgrid/hv1/vm/web", 23, "", 0, true, 2000);
    model_lock(m);
    assert_int_equal(m->n_vms, 2);
    assert_int_equal(model_find_host_named(m, "lyon", 4, "hv1", 3), -1); /* nothing left of it */
    hp = model_find_host_named(m, "paris", 5, "hv1", 3);
    assert_true(hp >= 0 && model_find_vm(m, (uint32_t)hp, "web", 3) >= 0);
    model_unlock(m);
    model_free(m);
}

static void bad_create(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(model_create("a/#/b", 3, 5, &m), KG_EINVAL);
    assert_int_equal(model_create("+/+/b", 3, 5, &m), KG_EINVAL);
    assert_int_equal(model_create("a+/b", 3, 5, &m), KG_EINVAL);
    assert_int_equal(model_create("kvmgrid", 0, 5, &m), KG_EINVAL);
    assert_int_equal(model_create("kvmgrid", 3, 0, &m), KG_EINVAL);
    model_free(NULL);
    char buf[64];
    assert_string_equal(model_printable("a/b c", 5, buf, sizeof(buf)), "a%2Fb%20c");
}

/* A VM named with '/', '#', '%', '+', spaces, quotes, a backslash and non-ASCII
 * arrives in its topic escaping; the model keeps the name, the screen shows it
 * as written (only a control character made visible), logs and the layout dump
 * keep the one-word escaping. */
static void names_as_written(void **state)
{
    (void)state;
    struct model *m = NULL;
    assert_int_equal(model_create("kvmgrid", 3, 5, &m), 0);
    const char *name = "web/02 #db +100% \"q\" a\\b caf\xc3\xa9\x1b";
    char esc[KG_NAME_ESC_MAX + 1];
    assert_true(kg_topic_escape(name, strlen(name), esc, sizeof(esc)) > 0);
    fixture_vm(m, "h1", name);
    model_lock(m);
    int32_t vi = model_find_vm(m, 0, name, strlen(name));
    assert_true(vi >= 0);
    char buf[KG_NAME_ESC_MAX + 1];
    assert_string_equal(model_display(m->vms[vi].name, m->vms[vi].name_len, buf, sizeof(buf)),
                        "web/02 #db +100% \"q\" a\\b caf\xc3\xa9\\x1B");
    assert_string_equal(model_printable(m->vms[vi].name, m->vms[vi].name_len, buf, sizeof(buf)),
                        esc);
    model_unlock(m);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_update_remove),
        cmocka_unit_test(offline_keeps_vms),
        cmocka_unit_test(sync_removes_what_the_broker_lost),
        cmocka_unit_test(staleness),
        cmocka_unit_test(applied_after_now),
        cmocka_unit_test(vm_host_must_match_topic),
        cmocka_unit_test(caps_drop_and_count),
        cmocka_unit_test(malformed_counted),
        cmocka_unit_test(load_generators),
        cmocka_unit_test(many_vms_compact),
        cmocka_unit_test(concurrent_reader),
        cmocka_unit_test(bad_create),
        cmocka_unit_test(groups_from_the_prefix),
        cmocka_unit_test(names_as_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
