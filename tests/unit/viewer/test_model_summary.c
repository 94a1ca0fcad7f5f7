/* SPDX-License-Identifier: MIT */
/*
 * The model from hosts' summaries (MODEL_SOURCE_SUMMARIES): the host's figures
 * and each row's, NaN for what a row lacks, the same values for the tiles as
 * from the VM topics, VMs removed by absence unless rows were left out, a host
 * mismatch or a bad summary counted and nothing of it applied, the other
 * source's topics ignored. Summaries made by libkvmgrid's own encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"
#include "grid_fixture.h"
#include "model.h"

static char payload[KG_SUMMARY_MAX];

static struct model *mk(enum model_source src)
{
    struct model *m = NULL;
    assert_int_equal(model_create("kvmgrid", 3, 5.0, &m), 0);
    model_set_source(m, src);
    return m;
}

static void vm_fill(struct kg_vm *v, const char *host, const char *name, double cpu)
{
    fixture_vm_init(v, host, name);
    v->cpu_pct = cpu;
    v->mem_used_pct = 40;
    v->steal_pct = 1.5;
    v->disk_rd_bytes_per_s = 1000;
    v->disk_wr_bytes_per_s = 500;
    v->disk_rd_lat_ms = 60;
    v->disk_wr_lat_ms = 2;
    v->net_rx_bytes_per_s = 300; /* tx not available */
}

static void host_fill(struct kg_host *h, const char *name)
{
    kg_host_init(h);
    h->ts_ms = 1764400000000;
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->interval_s = 5;
    h->libvirt_ok = true;
    h->cpu_pct = 33;
    h->cpus = 8;
}

static void apply(struct model *m, const char *topic_host, const char *p, size_t len,
                  uint64_t now)
{
    char topic[KG_TOPIC_MAX];
    int tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_SUMMARY, topic_host, NULL);
    assert_true(tl > 0);
    model_apply(m, topic, (size_t)tl, p, len, true, now);
}

/* A summary of host (named payload_host inside) with VMs names[0..n), omitted
 * rows declared on top. */
static size_t summary(const char *payload_host, const char *const *names, unsigned n,
                      unsigned omitted)
{
    struct kg_host h;
    host_fill(&h, payload_host);
    struct kg_summary_writer w;
    assert_int_equal(kg_summary_begin(&w, payload, sizeof(payload), &h), 0);
    for (unsigned i = 0; i < n; i++) {
        struct kg_vm v;
        vm_fill(&v, payload_host, names[i], 10.0 + i);
        assert_int_equal(kg_summary_add(&w, &v), 0);
    }
    w.omitted += omitted;
    int len = kg_summary_end(&w);
    assert_true(len > 0);
    return (size_t)len;
}

static void pub_summary(struct model *m, const char *host, const char *const *names, unsigned n,
                        unsigned omitted, uint64_t now)
{
    size_t len = summary(host, names, n, omitted);
    apply(m, host, payload, len, now);
}

static int32_t find(const struct model *m, const char *host, const char *vm)
{
    int32_t h = model_find_host(m, host, strlen(host));
    return h < 0 ? -1 : model_find_vm(m, (uint32_t)h, vm, strlen(vm));
}

static void figures_and_na(void **state)
{
    (void)state;
    struct model *m = mk(MODEL_SOURCE_SUMMARIES);
    const char *names[] = {"a", "b"};
    pub_summary(m, "hv1", names, 2, 0, 1000);
    assert_int_equal(model_bad_total(m), 0);
    assert_int_equal(m->applied, 1);
    int32_t h = model_find_host(m, "hv1", 3);
    assert_true(h >= 0);
    const struct model_host *hp = &m->hosts[h];
    assert_true(hp->has_metrics);
    assert_true(hp->cpu_pct == 33.0f && hp->cpus == 8.0f && hp->interval_s == 5.0f);
    assert_int_equal(hp->n_vms, 2);
    int32_t v = find(m, "hv1", "b");
    assert_true(v >= 0);
    const struct model_vm *vp = &m->vms[v];
    assert_int_equal(vp->state, KG_VM_RUNNING);
    assert_int_equal(vp->ts_ms, 1764400000000);
    assert_true(vp->fig[MODEL_FIG_CPU_PCT] == 11.0f);
    assert_true(vp->fig[MODEL_FIG_MEM_USED_PCT] == 40.0f);
    assert_true(vp->fig[MODEL_FIG_STEAL_PCT] == 1.5f);
    assert_true(vp->fig[MODEL_FIG_DISK_BPS] == 1500.0f);
    assert_true(vp->fig[MODEL_FIG_NET_BPS] == 300.0f); /* rx only: the one available */
    assert_true(vp->fig[MODEL_FIG_DISK_LAT_MS] == 60.0f);
    /* what a row does not carry: not 0, not available */
    static const enum model_fig absent[] = {
        MODEL_FIG_CPU_HOST_PCT, MODEL_FIG_VCPUS, MODEL_FIG_MEM_USED_KIB,
        MODEL_FIG_DISK_RD_BPS, MODEL_FIG_DISK_WR_BPS, MODEL_FIG_DISK_RD_IOPS,
        MODEL_FIG_DISK_RD_LAT_MS, MODEL_FIG_NET_RX_BPS, MODEL_FIG_NET_TX_PPS, MODEL_FIG_AGE_S};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
        assert_true(isnan(vp->fig[absent[i]]));
    assert_true(model_vm_value(vp, COLOUR_METRIC_DISK) == 1500.0);
    assert_true(model_vm_value(vp, COLOUR_METRIC_NET) == 300.0);
    model_free(m);
}

/* The tiles read the same values from either source (the figures above are
 * exact in the summary's rounding). */
static void same_values_as_vm_topics(void **state)
{
    (void)state;
    struct model *ms = mk(MODEL_SOURCE_SUMMARIES), *mv = mk(MODEL_SOURCE_VMS);
    const char *names[] = {"a"};
    pub_summary(ms, "hv1", names, 1, 0, 1000);
    struct kg_vm v;
    vm_fill(&v, "hv1", "a", 10.0);
    fixture_vm_apply(mv, &v, 1000);
    const struct model_vm *a = &ms->vms[find(ms, "hv1", "a")];
    const struct model_vm *b = &mv->vms[find(mv, "hv1", "a")];
    for (int k = 0; k < COLOUR_METRIC_COUNT; k++)
        assert_true(model_vm_value(a, (enum colour_metric)k) ==
                    model_vm_value(b, (enum colour_metric)k));
    assert_true(a->fig[MODEL_FIG_DISK_LAT_MS] == b->fig[MODEL_FIG_DISK_LAT_MS]);
    /* ... and the DISK_LAT alert (over 50 ms by default) sees it from both */
    assert_true(model_vm_alerts(ms, (uint32_t)find(ms, "hv1", "a"))->since_ms[ALERTS_DISK_LAT] ==
                model_vm_alerts(mv, (uint32_t)find(mv, "hv1", "a"))->since_ms[ALERTS_DISK_LAT]);
    model_free(ms);
    model_free(mv);
}

static void removed_by_absence(void **state)
{
    (void)state;
    struct model *m = mk(MODEL_SOURCE_SUMMARIES);
    const char *three[] = {"a", "b", "c"}, *two[] = {"a", "c"};
    pub_summary(m, "hv1", three, 3, 0, 1000);
    const char *other[] = {"x"};
    pub_summary(m, "hv2", other, 1, 0, 1000);
    assert_int_equal(m->n_vms, 4);
    pub_summary(m, "hv1", two, 2, 0, 6000);
    assert_int_equal(m->n_vms, 3);
    assert_true(find(m, "hv1", "b") < 0);
    assert_true(find(m, "hv1", "a") >= 0 && find(m, "hv1", "c") >= 0);
    assert_true(find(m, "hv2", "x") >= 0); /* another host's VMs are its summary's */
    assert_int_equal(m->removed, 1);
    /* no marks left behind: the next summary removes by its own list */
    for (uint32_t i = 0; i < m->n_vm_slots; i++)
        assert_int_equal(m->vms[i].flags & MODEL_VM_LISTED, 0);
    /* a host without VMs keeps its figures and no tiles */
    pub_summary(m, "hv1", NULL, 0, 0, 7000);
    int32_t h = model_find_host(m, "hv1", 3);
    assert_true(h >= 0);
    assert_int_equal(m->hosts[h].n_vms, 0);
    assert_true(m->hosts[h].has_metrics);
    model_free(m);
}

static void omitted_rows_keep_vms(void **state)
{
    (void)state;
    struct model *m = mk(MODEL_SOURCE_SUMMARIES);
    const char *three[] = {"a", "b", "c"}, *one[] = {"a"};
    pub_summary(m, "hv1", three, 3, 0, 1000);
    pub_summary(m, "hv1", one, 1, 2, 6000); /* two rows left out: b and c unknown */
    assert_int_equal(model_bad_total(m), 0);
    assert_int_equal(m->n_vms, 3);
    int32_t h = model_find_host(m, "hv1", 3);
    assert_true(m->hosts[h].incomplete);
    /* b was not updated: it turns stale on the usual clock, it is not removed */
    model_lock(m);
    model_tick(m, 6000 + 16000, COLOUR_METRIC_CPU);
    assert_true(m->vms[find(m, "hv1", "b")].flags & MODEL_VM_STALE);
    model_unlock(m);
    for (uint32_t i = 0; i < m->n_vm_slots; i++)
        assert_int_equal(m->vms[i].flags & MODEL_VM_LISTED, 0);
    /* complete again: the absent ones go */
    pub_summary(m, "hv1", one, 1, 0, 30000);
    assert_false(m->hosts[h].incomplete);
    assert_int_equal(m->n_vms, 1);
    model_free(m);
}

static void host_mismatch_rejected(void **state)
{
    (void)state;
    struct model *m = mk(MODEL_SOURCE_SUMMARIES);
    const char *names[] = {"a"};
    size_t len = summary("hv-other", names, 1, 0);
    apply(m, "hv1", payload, len, 1000);
    assert_int_equal(m->bad[MODEL_BAD_SUMMARY], 1);
    assert_non_null(strstr(m->last_bad, "in the topic"));
    assert_int_equal(m->n_hosts, 0);
    assert_int_equal(m->n_vms, 0);
    assert_int_equal(m->applied, 0);
    /* nor does it touch what the host's own summaries put there */
    pub_summary(m, "hv1", names, 1, 0, 2000);
    const char *none[] = {"z"};
    len = summary("hv-other", none, 1, 0);
    apply(m, "hv1", payload, len, 3000);
    assert_int_equal(m->bad[MODEL_BAD_SUMMARY], 2);
    assert_true(find(m, "hv1", "a") >= 0);
    assert_true(find(m, "hv1", "z") < 0);
    model_free(m);
}

static void bad_summary_counted_not_applied(void **state)
{
    (void)state;
    struct model *m = mk(MODEL_SOURCE_SUMMARIES);
    const char *names[] = {"a", "b"};
    pub_summary(m, "hv1", names, 2, 0, 1000);
    float cpu = m->vms[find(m, "hv1", "a")].fig[MODEL_FIG_CPU_PCT];
    /* a valid first row, then a bad cell in the second: nothing applied, nothing
     * removed (b is not "absent" from a summary that did not decode) */
    const char *names2[] = {"a", "c"};
    size_t len = summary("hv1", names2, 2, 0);
    payload[len] = '\0';
    char *row = strstr(payload, "[\"c\"");
    assert_non_null(row);
    char *cell = strstr(row, "11");
    assert_non_null(cell);
    cell[0] = '-'; /* cpu_pct -1: outside 0..100 */
    apply(m, "hv1", payload, len, 6000);
    assert_int_equal(m->bad[MODEL_BAD_SUMMARY], 1);
    assert_non_null(strstr(m->last_bad, "vms[1]"));
    assert_int_equal(m->n_vms, 2);
    assert_true(find(m, "hv1", "b") >= 0 && find(m, "hv1", "c") < 0);
    assert_true(m->vms[find(m, "hv1", "a")].fig[MODEL_FIG_CPU_PCT] == cpu);
    assert_int_equal(m->vms[find(m, "hv1", "a")].seen_ms, 1000);
    /* truncated, and oversized */
    apply(m, "hv1", payload, len / 2, 7000);
    assert_int_equal(m->bad[MODEL_BAD_SUMMARY], 2);
    apply(m, "hv1", payload, KG_SUMMARY_MAX + 1, 7000);
    assert_int_equal(m->bad[MODEL_BAD_OVERSIZED], 1);
    assert_int_equal(m->n_vms, 2);
    assert_string_equal(model_bad_name(MODEL_BAD_SUMMARY), "summary");
    model_free(m);
}

/* An empty retained summary: the host's figures go, its VMs stay (stale in time). */
static void empty_summary_keeps_vms(void **state)
{
    (void)state;
    struct model *m = mk(MODEL_SOURCE_SUMMARIES);
    const char *names[] = {"a"};
    pub_summary(m, "hv1", names, 1, 0, 1000);
    apply(m, "hv1", "", 0, 2000);
    assert_int_equal(model_bad_total(m), 0);
    int32_t h = model_find_host(m, "hv1", 3);
    assert_true(h >= 0);
    assert_false(m->hosts[h].has_metrics);
    assert_int_equal(m->n_vms, 1);
    model_lock(m);
    model_tick(m, 1000 + 16000, COLOUR_METRIC_CPU);
    assert_true(m->vms[find(m, "hv1", "a")].flags & MODEL_VM_STALE);
    model_unlock(m);
    model_free(m);
}

/* Each source ignores the other's topics. */
static void other_source_ignored(void **state)
{
    (void)state;
    struct model *mv = mk(MODEL_SOURCE_VMS), *ms = mk(MODEL_SOURCE_SUMMARIES);
    const char *names[] = {"a"};
    size_t len = summary("hv1", names, 1, 0);
    apply(mv, "hv1", payload, len, 1000);
    assert_int_equal(mv->n_vms, 0);
    assert_int_equal(mv->ignored, 1);
    struct kg_vm v;
    vm_fill(&v, "hv1", "a", 10.0);
    fixture_vm_apply(ms, &v, 1000);
    assert_int_equal(ms->n_vms, 0);
    assert_int_equal(ms->ignored, 1);
    assert_int_equal(model_bad_total(ms) + model_bad_total(mv), 0);
    assert_string_equal(model_source_name(MODEL_SOURCE_SUMMARIES), "summaries");
    model_free(mv);
    model_free(ms);
}

/* The caps hold for rows as for VM topics: a row over max_vms is dropped and
 * counted, the others applied. */
static void caps_per_row(void **state)
{
    (void)state;
    struct model *m = mk(MODEL_SOURCE_SUMMARIES);
    model_set_caps(m, 10, 2);
    const char *names[] = {"a", "b", "c"};
    pub_summary(m, "hv1", names, 3, 0, 1000);
    assert_int_equal(m->n_vms, 2);
    assert_int_equal(m->dropped_vms, 1);
    assert_int_equal(model_bad_total(m), 0);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(figures_and_na),
        cmocka_unit_test(same_values_as_vm_topics),
        cmocka_unit_test(removed_by_absence),
        cmocka_unit_test(omitted_rows_keep_vms),
        cmocka_unit_test(host_mismatch_rejected),
        cmocka_unit_test(bad_summary_counted_not_applied),
        cmocka_unit_test(empty_summary_keeps_vms),
        cmocka_unit_test(other_source_ignored),
        cmocka_unit_test(caps_per_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
