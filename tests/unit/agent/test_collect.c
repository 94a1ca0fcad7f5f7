/* SPDX-License-Identifier: MIT */
/* The collector against libvirt's test driver: the fixture node
 * (tests/fixtures/agent/node.xml) through the per-domain fallback, counters moving
 * at the driver's known rates, and lifecycle events on test:///default (shared
 * within one process, so this test can change domains behind the collector). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "near.h"

#include <libvirt/libvirt.h>

#include "collect.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "rates.h"

#define NODE_URI "test://" KG_FIXTURES "/agent/node.xml"

static const struct sample_dom *by_name(const struct sample_dom *d, size_t n,
                                        const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(d[i].name, name))
            return &d[i];
    fail_msg("domain %s not sampled", name);
    return NULL;
}

static void test_open_bad_uri(void **state)
{
    (void)state;
    struct collect *c = NULL;
    char err[256] = "";
    struct collect_options o = {.uri = "test:///nonexistent/node.xml", .read_only = true};
    assert_int_equal(collect_open(&o, &c, err, sizeof err), KG_ENOTCONN);
    assert_null(c);
    assert_true(strlen(err) > 0);
    collect_close(NULL);
}

static void test_fixture_domains(void **state)
{
    (void)state;
    struct collect *c = NULL;
    char err[256] = "";
    struct collect_options o = {.uri = NODE_URI, .read_only = true};
    assert_int_equal(collect_open(&o, &c, err, sizeof err), 0);
    /* the test driver's bulk call gives only "state": every group falls back */
    assert_string_equal(collect_path(c), "fallback");
    assert_true(collect_alive(c));

    struct sample_dom *d;
    size_t n;
    struct sample_node node;
    assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), 0);
    assert_int_equal(n, 7);
    assert_int_equal(node.vms_defined, 7);
    assert_int_equal(node.vms_running, 4);
    assert_true(node.have_info);
    assert_true(node.cpus > 0);

    const struct sample_dom *web = by_name(d, n, "web+1");
    assert_string_equal(web->uuid, "00000001-0000-4000-8000-000000000001");
    assert_int_equal(web->state, KG_VM_RUNNING);
    assert_true(web->have_cpu);
    assert_true(web->have_vcpus);
    assert_int_equal(web->vcpus, 2);
    assert_int_equal(web->mem_max_kib, 1048576);
    assert_true(web->have_mem_avail && web->have_mem_usable);
    assert_int_equal(web->n_disks, 2);
    assert_string_equal(web->disks[0].name, "vda");
    assert_string_equal(web->disks[1].name, "vdb");
    assert_true(web->disks[0].have_bytes && web->disks[0].have_reqs);
    assert_int_equal(web->n_nets, 2);
    assert_true(web->nets[0].have);
    assert_false(web->incomplete);

    const struct sample_dom *paused = by_name(d, n, "100% cpu");
    assert_int_equal(paused->state, KG_VM_PAUSED);
    assert_false(paused->have_cpu);
    const struct sample_dom *off = by_name(d, n, "say \"hi\"");
    assert_int_equal(off->state, KG_VM_SHUTOFF);
    assert_false(off->have_cpu);
    /* no device stats for a shut-off domain: none listed */
    assert_int_equal(off->n_disks, 0);
    assert_null(off->disks);
    assert_int_equal(off->n_nets, 0);
    assert_null(off->nets);
    assert_int_equal(off->mem_max_kib, 1048576);
    by_name(d, n, "back\\slash");
    by_name(d, n, "it's $x");
    const struct sample_dom *intl = by_name(d, n, "grüße-虚拟机");
    assert_int_equal(intl->n_disks, 3);
    collect_close(c);
}

/* The progress callback: counts domains, remembers the last one, and stops the
 * sample at the domain named in stop_at. */
struct progress_log {
    unsigned calls, ends;
    char last[KG_NAME_MAX + 1];
    const char *stop_at;
};

static bool progress_cb(void *ctx, const char *uuid, const char *name)
{
    struct progress_log *p = ctx;
    if (!uuid) {
        assert_null(name);
        p->ends++;
        return true;
    }
    assert_int_equal(strlen(uuid), KG_UUID_LEN);
    p->calls++;
    snprintf(p->last, sizeof p->last, "%s", name);
    return !p->stop_at || strcmp(name, p->stop_at) != 0;
}

/* Skipped domains come back incomplete and without per-domain figures; the
 * progress callback sees every other domain before its calls and can stop the
 * sample. */
static void test_skip_and_progress(void **state)
{
    (void)state;
    struct progress_log pl = {0};
    struct collect *c = NULL;
    char err[256] = "";
    struct collect_options o = {.uri = NODE_URI, .read_only = true,
                                .progress = progress_cb, .progress_ctx = &pl};
    assert_int_equal(collect_open(&o, &c, err, sizeof err), 0);
    const char skip[1][KG_UUID_LEN + 1] = {"00000001-0000-4000-8000-000000000001"};
    collect_skip(c, skip, 1);
    struct sample_dom *d;
    size_t n;
    struct sample_node node;
    assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), 0);
    assert_int_equal(n, 7);
    assert_int_equal(node.vms_running, 4); /* the skipped one still counts */
    const struct sample_dom *web = by_name(d, n, "web+1");
    assert_true(web->incomplete);
    assert_int_equal(web->state, KG_VM_RUNNING); /* from the listing */
    assert_false(web->have_cpu);
    assert_int_equal(web->n_disks, 0);
    const struct sample_dom *db = by_name(d, n, "db#2");
    assert_false(db->incomplete);
    assert_true(db->have_cpu);
    assert_int_equal(pl.calls, 6); /* every domain but the skipped one */
    assert_int_equal(pl.ends, 1);

    /* no skip: all 7; a false answer stops the sample */
    collect_skip(c, NULL, 0);
    pl = (struct progress_log){.stop_at = "db#2"};
    assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), KG_ESTATE);
    assert_string_equal(pl.last, "db#2");
    assert_int_equal(pl.ends, 0);
    pl = (struct progress_log){0};
    assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), 0);
    assert_int_equal(pl.calls, 7);
    assert_false(by_name(d, n, "web+1")->incomplete);
    assert_false(collect_reports_rss(c)); /* no bulk balloon on the test driver */
    collect_close(c);
}

static void test_counters_move_at_known_rates(void **state)
{
    (void)state;
    struct collect *c = NULL;
    char err[256] = "";
    struct collect_options o = {.uri = NODE_URI, .read_only = true};
    assert_int_equal(collect_open(&o, &c, err, sizeof err), 0);
    struct rates *r;
    assert_int_equal(rates_create(&r), 0);
    struct sample_dom *d;
    size_t n;
    struct sample_node node;
    struct kg_vm vms[16];
    assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), 0);
    assert_int_equal(rates_update(r, d, n, kg_clock_mono_ns(), 0, 4), 0);
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), 0);
    assert_int_equal(rates_update(r, d, n, kg_clock_mono_ns(), 0, 4), 0);
    assert_true(n <= 16);
    assert_int_equal(rates_count(r), n);
    for (size_t i = 0; i < n; i++) {
        kg_vm_init(&vms[i]);
        rates_get(r, i, "h", &vms[i]);
    }
    for (size_t i = 0; i < n; i++) {
        const struct kg_vm *vm = &vms[i];
        if (!strcmp(vm->name, "web+1")) {
            /* cpuTime is wall-clock ns: 1e9 ns/s over 2 vCPUs = 50 %, 25 % of 4 CPUs */
            assert_near(vm->cpu_pct, 50.0, 5.0);
            assert_near(vm->cpu_host_pct, 25.0, 2.5);
            /* +50 kB/s read, +25 kB/s write per disk */
            assert_near(vm->disks[0].rd_bytes_per_s, 50000, 5000);
            assert_near(vm->disks[0].wr_bytes_per_s, 25000, 2500);
            assert_near(vm->disk_rd_bytes_per_s, 100000, 10000);
            assert_near(vm->disk_wr_bytes_per_s, 50000, 5000);
            assert_true(vm->disk_rd_iops > 0);
            assert_false(kg_na(vm->net_rx_bytes_per_s));
            assert_true(vm->net_rx_bytes_per_s > 0);
            assert_near(vm->mem_used_pct, 50.0, 0.01);
        } else if (vm->state != KG_VM_RUNNING) {
            assert_true(kg_na(vm->cpu_pct));
            assert_true(kg_na(vm->disk_rd_bytes_per_s));
        }
    }
    rates_free(r);
    collect_close(c);
}

static const char *const new_dom_xml =
    "<domain type='test'><name>ev test one</name>"
    "<uuid>aaaaaaaa-0000-4000-8000-00000000000a</uuid>"
    "<memory>65536</memory><os><type>hvm</type></os></domain>";

/* Waits up to 5 s for an event of type t for the uuid. */
static bool wait_event(struct collect *c, enum collect_event_type t, const char *uuid)
{
    uint64_t deadline = kg_clock_mono_ms() + 5000;
    struct collect_event ev;
    while (kg_clock_mono_ms() < deadline) {
        while (collect_next_event(c, &ev))
            if (ev.type == t && !strcmp(ev.uuid, uuid))
                return true;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void test_lifecycle_events(void **state)
{
    (void)state;
    struct collect *c = NULL;
    char err[256] = "";
    struct collect_options o = {.uri = "test:///default", .read_only = true};
    assert_int_equal(collect_open(&o, &c, err, sizeof err), 0);
    virConnectPtr conn = virConnectOpen("test:///default");
    assert_non_null(conn);
    const char *uuid = "aaaaaaaa-0000-4000-8000-00000000000a";

    /* every group on per-domain calls and events working: the second sample
     * reuses the first one's listing, and must read the same */
    struct sample_dom *d;
    size_t n, n0;
    struct sample_node node;
    assert_int_equal(collect_sample(c, &d, &n0, &node, err, sizeof err), 0);
    assert_true(n0 >= 1);
    char first_uuid[KG_UUID_LEN + 1];
    snprintf(first_uuid, sizeof first_uuid, "%s", d[0].uuid);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), 0);
        assert_int_equal(n, n0);
        assert_string_equal(d[0].uuid, first_uuid);
        const struct sample_dom *t = by_name(d, n, "test");
        assert_int_equal(t->state, KG_VM_RUNNING);
        assert_true(t->have_cpu);
    }

    virDomainPtr dom = virDomainDefineXML(conn, new_dom_xml);
    assert_non_null(dom);
    assert_true(wait_event(c, COLLECT_EV_DEFINED, uuid));
    assert_int_equal(virDomainCreate(dom), 0);
    assert_true(wait_event(c, COLLECT_EV_STARTED, uuid));

    /* the events made the collector list the domains again */
    assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), 0);
    assert_int_equal(n, n0 + 1);
    const struct sample_dom *s = by_name(d, n, "ev test one");
    assert_int_equal(s->state, KG_VM_RUNNING);

    assert_int_equal(virDomainSuspend(dom), 0);
    assert_true(wait_event(c, COLLECT_EV_SUSPENDED, uuid));
    assert_int_equal(virDomainResume(dom), 0);
    assert_true(wait_event(c, COLLECT_EV_RESUMED, uuid));
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_true(wait_event(c, COLLECT_EV_STOPPED, uuid));
    assert_int_equal(virDomainUndefine(dom), 0);
    assert_true(wait_event(c, COLLECT_EV_UNDEFINED, uuid));
    virDomainFree(dom);

    for (int k = 0; k < 2; k++) { /* a listing, then its reuse */
        assert_int_equal(collect_sample(c, &d, &n, &node, err, sizeof err), 0);
        assert_int_equal(n, n0);
        for (size_t i = 0; i < n; i++)
            assert_string_not_equal(d[i].uuid, uuid);
    }
    virConnectClose(conn);
    collect_close(c);
}

static void tp_ull(virTypedParameterPtr p, const char *field, unsigned long long v)
{
    memset(p, 0, sizeof *p);
    snprintf(p->field, sizeof p->field, "%s", field);
    p->type = VIR_TYPED_PARAM_ULLONG;
    p->value.ul = v;
}

static void tp_int(virTypedParameterPtr p, const char *field, int v)
{
    memset(p, 0, sizeof *p);
    snprintf(p->field, sizeof p->field, "%s", field);
    p->type = VIR_TYPED_PARAM_INT;
    p->value.i = v;
}

static void tp_str(virTypedParameterPtr p, const char *field, char *v)
{
    memset(p, 0, sizeof *p);
    snprintf(p->field, sizeof p->field, "%s", field);
    p->type = VIR_TYPED_PARAM_STRING;
    p->value.s = v;
}

/* The bulk path, which the test driver never takes: a record as QEMU gives it. */
static void test_bulk_record(void **state)
{
    (void)state;
    virTypedParameter tp[32];
    int n = 0;
    static char vda[] = "vda", vdb[] = "vdb", vnet[] = "vnet7";
    tp_int(&tp[n++], "state.state", VIR_DOMAIN_RUNNING);
    tp_ull(&tp[n++], "cpu.time", 123456789);
    tp_ull(&tp[n++], "balloon.current", 524288);
    tp_ull(&tp[n++], "balloon.maximum", 1048576);
    tp_ull(&tp[n++], "balloon.available", 500000);
    tp_ull(&tp[n++], "balloon.usable", 300000);
    tp_ull(&tp[n++], "vcpu.current", 2);
    tp_ull(&tp[n++], "vcpu.0.delay", 1000);
    tp_ull(&tp[n++], "vcpu.1.delay", 500);
    tp_ull(&tp[n++], "block.count", 2);
    tp_str(&tp[n++], "block.0.name", vda);
    tp_ull(&tp[n++], "block.0.rd.bytes", 4096);
    tp_ull(&tp[n++], "block.0.rd.reqs", 2);
    tp_ull(&tp[n++], "block.0.rd.times", 10000);
    tp_str(&tp[n++], "block.1.name", vdb);
    tp_ull(&tp[n++], "block.1.wr.bytes", 8192);
    tp_ull(&tp[n++], "block.99.rd.bytes", 1); /* beyond KG_DEV_MAX: not detailed */
    tp_ull(&tp[n++], "net.count", 1);
    tp_str(&tp[n++], "net.0.name", vnet);
    tp_ull(&tp[n++], "net.0.rx.bytes", 777);
    tp_ull(&tp[n++], "net.0.tx.pkts", 3);
    virDomainStatsRecord rec = {.dom = NULL, .params = tp, .nparams = n};
    struct sample_dom s;
    struct sample_disk sd[KG_DEV_MAX];
    struct sample_net sn[KG_DEV_MAX];
    memset(sd, 0xa5, sizeof sd); /* whatever was there: entries in use are cleared */
    memset(sn, 0xa5, sizeof sn);
    collect_record_to_sample(&rec, &s, sd, sn);
    assert_int_equal(s.state, KG_VM_RUNNING);
    assert_false(s.incomplete);
    assert_true(s.have_cpu);
    assert_int_equal(s.cpu_time_ns, 123456789);
    assert_int_equal(s.mem_cur_kib, 524288);
    assert_true(s.have_mem_avail && s.have_mem_usable);
    assert_int_equal(s.vcpus, 2);
    assert_true(s.have_vcpu_delay);
    assert_int_equal(s.vcpu_delay_ns, 1500);
    assert_int_equal(s.n_disks, 2);
    assert_ptr_equal(s.disks, sd);
    assert_string_equal(s.disks[0].name, "vda");
    assert_true(s.disks[0].have_bytes && s.disks[0].have_reqs && s.disks[0].have_times);
    assert_int_equal(s.disks[0].rd_bytes, 4096);
    assert_int_equal(s.disks[0].wr_bytes, 0);
    assert_int_equal(s.disks[0].rd_times_ns, 10000);
    assert_string_equal(s.disks[1].name, "vdb");
    assert_int_equal(s.disks[1].wr_bytes, 8192);
    assert_false(s.disks[1].have_reqs);
    assert_int_equal(s.n_nets, 1);
    assert_string_equal(s.nets[0].name, "vnet7");
    assert_true(s.nets[0].have);
    assert_int_equal(s.nets[0].rx_bytes, 777);
    assert_int_equal(s.nets[0].tx_pkts, 3);
    assert_int_equal(s.nets[0].rx_errs, 0);

    /* running without cpu.time (NOWAIT: its job was busy): incomplete, published
     * stale; a paused one gives no CPU figure at all */
    tp_ull(&tp[1], "cpu.timeX", 1);
    collect_record_to_sample(&rec, &s, sd, sn);
    assert_true(s.incomplete);
    tp_int(&tp[0], "state.state", VIR_DOMAIN_PAUSED);
    tp_ull(&tp[1], "cpu.time", 5);
    collect_record_to_sample(&rec, &s, sd, sn);
    assert_int_equal(s.state, KG_VM_PAUSED);
    assert_false(s.have_cpu);
    assert_false(s.have_vcpu_delay);
    assert_false(s.incomplete);
    /* only the state: no devices */
    rec.nparams = 1;
    collect_record_to_sample(&rec, &s, sd, sn);
    assert_int_equal(s.n_disks, 0);
    assert_null(s.disks);
    assert_null(s.nets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_bad_uri),
        cmocka_unit_test(test_fixture_domains),
        cmocka_unit_test(test_skip_and_progress),
        cmocka_unit_test(test_counters_move_at_known_rates),
        cmocka_unit_test(test_lifecycle_events),
        cmocka_unit_test(test_bulk_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
