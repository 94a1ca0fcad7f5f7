/* SPDX-License-Identifier: MIT */
/* Rate math: first sample, counters going backwards, non-running domains, stale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "near.h"

#include "rates.h"

#define SEC 1000000000ull

/* Samples borrow their name and devices: mk() gives each one a slot of a ring
 * big enough for every sample a test keeps alive at once. */
#define SLOTS 32
static struct slot {
    char name[64];
    struct sample_disk disks[KG_DEV_MAX];
    struct sample_net nets[KG_DEV_MAX];
} slots[SLOTS];
static unsigned next_slot;

static void mk(struct sample_dom *s, const char *uuid, enum kg_vm_state st, uint64_t t)
{
    struct slot *sl = &slots[next_slot++ % SLOTS];
    memset(sl, 0, sizeof *sl);
    sample_dom_init(s);
    s->disks = sl->disks;
    s->nets = sl->nets;
    snprintf(s->uuid, sizeof s->uuid, "%s", uuid);
    snprintf(sl->name, sizeof sl->name, "vm-%s", uuid);
    s->name = sl->name;
    s->state = st;
    s->have_vcpus = true;
    s->vcpus = 2;
    s->have_cpu = true;
    s->cpu_time_ns = t;
    s->have_mem_max = s->have_mem_cur = true;
    s->mem_max_kib = 2048;
    s->mem_cur_kib = 1024;
    s->n_disks = 2;
    snprintf(s->disks[0].name, sizeof s->disks[0].name, "vda");
    snprintf(s->disks[1].name, sizeof s->disks[1].name, "vdb");
    for (int i = 0; i < 2; i++) {
        s->disks[i].have_bytes = s->disks[i].have_reqs = s->disks[i].have_times = true;
        s->disks[i].rd_bytes = t / 1000; /* 1e6 B/s when t moves 1e9/s */
        s->disks[i].wr_bytes = t / 2000;
        s->disks[i].rd_reqs = t / 1000000;  /* 1000 req/s */
        s->disks[i].wr_reqs = t / 2000000;
        s->disks[i].rd_times_ns = t * 2; /* 2e9 ns/s over 1000 req/s = 2 ms */
        s->disks[i].wr_times_ns = t;
    }
    s->n_nets = 1;
    snprintf(s->nets[0].name, sizeof s->nets[0].name, "vnet0");
    s->nets[0].have = true;
    s->nets[0].rx_bytes = t / 100;
    s->nets[0].tx_bytes = t / 200;
    s->nets[0].rx_pkts = t / 100000;
    s->nets[0].tx_errs = t / 1000000000;
}

static void test_first_sample_no_rates(void **state)
{
    (void)state;
    struct sample_dom a;
    mk(&a, "u1", KG_VM_RUNNING, 10 * SEC);
    struct kg_vm vm;
    rates_vm(NULL, &a, 0, 4, &vm);
    assert_string_equal(vm.name, "vm-u1");
    assert_int_equal(vm.state, KG_VM_RUNNING);
    assert_near(vm.vcpus, 2, 0);
    assert_near(vm.mem_max_kib, 2048, 0);
    assert_true(kg_na(vm.cpu_pct));
    assert_true(kg_na(vm.cpu_host_pct));
    assert_true(kg_na(vm.disk_rd_bytes_per_s));
    assert_true(kg_na(vm.disks[0].rd_bytes_per_s));
    assert_near(vm.disks[0].rd_bytes, 10e6, 0.5);
    assert_true(kg_na(vm.net_rx_bytes_per_s));
    assert_int_equal(vm.n_disks, 2);
    assert_int_equal(vm.n_nets, 1);
}

static void test_rates_over_measured_time(void **state)
{
    (void)state;
    struct sample_dom a, b;
    mk(&a, "u1", KG_VM_RUNNING, 10 * SEC);
    mk(&b, "u1", KG_VM_RUNNING, 12 * SEC); /* +2 s of CPU */
    struct kg_vm vm;
    /* the cycle ran late: 4 s elapsed, not the configured interval */
    rates_vm(&a, &b, 4 * SEC, 4, &vm);
    assert_near(vm.cpu_pct, 25.0, 1e-9);       /* 0.5 s/s over 2 vCPUs */
    assert_near(vm.cpu_host_pct, 12.5, 1e-9);  /* over 4 host CPUs */
    assert_near(vm.disks[0].rd_bytes_per_s, 2e9 / 1000 / 4, 1e-6);
    assert_near(vm.disk_rd_bytes_per_s, 2 * 2e9 / 1000 / 4, 1e-6);
    assert_near(vm.disk_wr_bytes_per_s, 2 * 2e9 / 2000 / 4, 1e-6);
    assert_near(vm.disk_rd_iops, 2 * 2000.0 / 4, 1e-6);
    assert_near(vm.disks[0].rd_lat_ms, 2.0, 1e-9);
    assert_near(vm.disk_rd_lat_ms, 2.0, 1e-9);
    assert_near(vm.disk_wr_lat_ms, 2.0, 1e-9);
    assert_near(vm.net_rx_bytes_per_s, 2e9 / 100 / 4, 1e-6);
    assert_near(vm.net_tx_bytes_per_s, 2e9 / 200 / 4, 1e-6);
    assert_near(vm.net_rx_pkts_per_s, 2e9 / 100000 / 4, 1e-6);
    assert_near(vm.net_errs_per_s, 0.5, 1e-9);
    assert_near(vm.net_drop_per_s, 0, 0);
    assert_true(kg_na(vm.steal_pct)); /* not reported */
    assert_true(kg_na(vm.mem_used_pct)); /* guest did not report */
}

static void test_counter_backwards_gives_na(void **state)
{
    (void)state;
    struct sample_dom a, b;
    mk(&a, "u1", KG_VM_RUNNING, 100 * SEC);
    mk(&b, "u1", KG_VM_RUNNING, 3 * SEC); /* restarted between samples */
    struct kg_vm vm;
    rates_vm(&a, &b, 5 * SEC, 4, &vm);
    assert_true(kg_na(vm.cpu_pct));
    assert_true(kg_na(vm.disk_rd_bytes_per_s));
    assert_true(kg_na(vm.disk_rd_iops));
    assert_true(kg_na(vm.disk_rd_lat_ms));
    assert_true(kg_na(vm.net_rx_bytes_per_s));
    /* only one interface counter reset: that one is NA, the other moves on */
    mk(&b, "u1", KG_VM_RUNNING, 101 * SEC);
    b.nets[0].tx_bytes = 0;
    rates_vm(&a, &b, 1 * SEC, 4, &vm);
    assert_true(kg_na(vm.nets[0].tx_bytes_per_s));
    assert_near(vm.nets[0].rx_bytes_per_s, 1e7, 1e-6);
}

static void test_not_running_no_cpu(void **state)
{
    (void)state;
    struct sample_dom a, b;
    struct kg_vm vm;
    mk(&a, "u1", KG_VM_PAUSED, 10 * SEC);
    mk(&b, "u1", KG_VM_PAUSED, 10 * SEC);
    rates_vm(&a, &b, SEC, 4, &vm);
    assert_true(kg_na(vm.cpu_pct));
    assert_int_equal(vm.state, KG_VM_PAUSED);
    /* shut off -> running: the shut-off sample's cpu.time is not the guest's */
    mk(&a, "u1", KG_VM_SHUTOFF, 500 * SEC);
    mk(&b, "u1", KG_VM_RUNNING, 501 * SEC);
    rates_vm(&a, &b, SEC, 4, &vm);
    assert_true(kg_na(vm.cpu_pct));
    assert_true(kg_na(vm.disk_rd_bytes_per_s));
    /* running -> shut off */
    rates_vm(&b, &a, SEC, 4, &vm);
    assert_true(kg_na(vm.cpu_pct));
}

static void test_zero_elapsed_and_no_requests(void **state)
{
    (void)state;
    struct sample_dom a, b;
    struct kg_vm vm;
    mk(&a, "u1", KG_VM_RUNNING, 10 * SEC);
    mk(&b, "u1", KG_VM_RUNNING, 10 * SEC);
    rates_vm(&a, &b, 0, 4, &vm);
    assert_true(kg_na(vm.cpu_pct));
    rates_vm(&a, &b, SEC, 4, &vm);
    assert_near(vm.cpu_pct, 0, 0);
    assert_near(vm.disk_rd_iops, 0, 0);
    assert_true(kg_na(vm.disk_rd_lat_ms)); /* no request: no latency, not 0 ms */
}

static void test_balloon_and_steal(void **state)
{
    (void)state;
    struct sample_dom a, b;
    struct kg_vm vm;
    mk(&a, "u1", KG_VM_RUNNING, 10 * SEC);
    mk(&b, "u1", KG_VM_RUNNING, 11 * SEC);
    a.have_vcpu_delay = b.have_vcpu_delay = true;
    a.vcpu_delay_ns = 0;
    b.vcpu_delay_ns = SEC / 10; /* 0.1 s over 2 vCPUs in 1 s */
    b.have_mem_avail = b.have_mem_usable = b.have_mem_rss = true;
    b.mem_avail_kib = 1000;
    b.mem_usable_kib = 250;
    b.mem_rss_kib = 1500;
    rates_vm(&a, &b, SEC, 4, &vm);
    assert_near(vm.steal_pct, 5.0, 1e-9);
    assert_near(vm.mem_used_kib, 750, 0);
    assert_near(vm.mem_used_pct, 75.0, 1e-9);
    assert_near(vm.mem_rss_kib, 1500, 0);
    /* usable above available (inconsistent guest report): no figure */
    b.mem_usable_kib = 2000;
    rates_vm(&a, &b, SEC, 4, &vm);
    assert_true(kg_na(vm.mem_used_pct));
}

/* rates_update, then every VM read back with rates_get into out[]. */
static int upd(struct rates *r, const struct sample_dom *s, size_t n, uint64_t mono,
               int64_t real, struct kg_vm *out)
{
    int rc = rates_update(r, s, n, mono, real, 4);
    if (rc)
        return rc;
    assert_int_equal(rates_count(r), n);
    for (size_t i = 0; i < n; i++) {
        kg_vm_init(&out[i]);
        rates_get(r, i, "h1", &out[i]);
        assert_string_equal(out[i].uuid, s[i].uuid);
        assert_string_equal(out[i].name, s[i].name);
    }
    return 0;
}

static void test_tracker_and_stale(void **state)
{
    (void)state;
    struct rates *r;
    assert_int_equal(rates_create(&r), 0);
    struct sample_dom s[3];
    struct kg_vm out[3];
    mk(&s[0], "b", KG_VM_RUNNING, 10 * SEC);
    mk(&s[1], "a", KG_VM_RUNNING, 20 * SEC);
    assert_int_equal(upd(r, s, 2, 100 * SEC, 1000, out), 0);
    assert_true(kg_na(out[0].cpu_pct));
    assert_string_equal(out[0].host, "h1");
    assert_int_equal(out[0].ts_ms, 1000);

    mk(&s[0], "a", KG_VM_RUNNING, 21 * SEC); /* order changes: matched by UUID */
    mk(&s[1], "b", KG_VM_RUNNING, 11 * SEC);
    mk(&s[2], "c", KG_VM_RUNNING, 1 * SEC);
    assert_int_equal(upd(r, s, 3, 102 * SEC, 3000, out), 0);
    assert_near(out[0].cpu_pct, 25.0, 1e-9);
    assert_near(out[1].cpu_pct, 25.0, 1e-9);
    assert_true(kg_na(out[2].cpu_pct)); /* new domain: first sample */
    assert_false(out[0].stale);

    /* "a" does not come back in time: its last figures, stale, with their age */
    mk(&s[0], "a", KG_VM_RUNNING, 0);
    s[0].have_cpu = false;
    s[0].incomplete = true;
    mk(&s[1], "b", KG_VM_RUNNING, 12 * SEC);
    assert_int_equal(upd(r, s, 2, 105 * SEC, 6000, out), 0);
    assert_true(out[0].stale);
    assert_near(out[0].age_s, 3.0, 1e-9);
    assert_near(out[0].cpu_pct, 25.0, 1e-9);
    assert_int_equal(out[0].ts_ms, 6000);
    assert_false(out[1].stale);
    assert_near(out[1].cpu_pct, 1.0 / 3.0 / 2 * 100, 1e-9);

    /* back: the rate spans the whole gap since its last complete sample */
    mk(&s[0], "a", KG_VM_RUNNING, 27 * SEC);
    assert_int_equal(upd(r, s, 1, 108 * SEC, 9000, out), 0);
    assert_false(out[0].stale);
    assert_near(out[0].cpu_pct, 6.0 / 6.0 / 2 * 100, 1e-9);

    /* "b" was forgotten when absent; coming back it is a first sample again */
    mk(&s[0], "b", KG_VM_RUNNING, 13 * SEC);
    assert_int_equal(upd(r, s, 1, 109 * SEC, 9500, out), 0);
    assert_true(kg_na(out[0].cpu_pct));

    /* stale before any complete sample: NA figures, still named and stale */
    mk(&s[0], "new", KG_VM_RUNNING, 0);
    s[0].incomplete = true;
    assert_int_equal(upd(r, s, 1, 110 * SEC, 9600, out), 0);
    assert_true(out[0].stale);
    assert_string_equal(out[0].name, "vm-new");
    assert_true(kg_na(out[0].cpu_pct));

    rates_forget(r, "new");
    rates_forget(r, "unknown");
    assert_int_equal(upd(r, s, 0, 111 * SEC, 9700, out), 0);
    rates_free(r);
    rates_free(NULL);
}

/* libvirt gave nothing: every VM goes out with its last figures, stale, aged
 * from its own last complete sample; rates_forget drops one from the order. */
static void test_mark_stale_and_forget(void **state)
{
    (void)state;
    struct rates *r;
    assert_int_equal(rates_create(&r), 0);
    struct sample_dom s[3];
    struct kg_vm out[3];
    mk(&s[0], "a", KG_VM_RUNNING, 10 * SEC);
    mk(&s[1], "b", KG_VM_PAUSED, 10 * SEC);
    mk(&s[2], "c", KG_VM_RUNNING, 10 * SEC);
    assert_int_equal(upd(r, s, 3, 100 * SEC, 1000, out), 0);
    mk(&s[0], "a", KG_VM_RUNNING, 12 * SEC);
    mk(&s[1], "b", KG_VM_PAUSED, 10 * SEC);
    mk(&s[2], "c", KG_VM_RUNNING, 12 * SEC);
    assert_int_equal(upd(r, s, 3, 102 * SEC, 3000, out), 0);
    assert_near(out[0].cpu_pct, 50.0, 1e-9);
    rates_mark_stale(r, 107 * SEC, 8000);
    rates_forget(r, "b");
    assert_int_equal(rates_count(r), 2);
    struct kg_vm v;
    kg_vm_init(&v);
    rates_get(r, 0, "h2", &v);
    assert_string_equal(v.uuid, "a");
    assert_string_equal(v.host, "h2");
    assert_true(v.stale);
    assert_near(v.age_s, 5.0, 1e-9);
    assert_int_equal(v.ts_ms, 8000);
    assert_int_equal(v.state, KG_VM_RUNNING);
    assert_near(v.cpu_pct, 50.0, 1e-9); /* the last figures, not NA */
    assert_int_equal(v.n_disks, 2);
    assert_near(v.disks[1].rd_bytes_per_s, 2e9 / 1000 / 2, 1e-6);
    rates_get(r, 1, "h2", &v);
    assert_string_equal(v.uuid, "c");
    assert_true(v.stale);
    /* the next complete sample is fresh again, its rate over the whole gap */
    mk(&s[0], "a", KG_VM_RUNNING, 22 * SEC);
    assert_int_equal(upd(r, s, 1, 112 * SEC, 13000, out), 0);
    assert_false(out[0].stale);
    assert_near(out[0].cpu_pct, 10.0 / 10.0 / 2 * 100, 1e-9);
    rates_free(r);
}

/* Many updates with domains coming, going and changing places: each one's rate
 * is against its own previous sample (the tracker finds entries by the last
 * update's order first, and sorts only when domains were added). */
static void test_updates_in_any_order(void **state)
{
    (void)state;
    enum { N = 12, ROUNDS = 300 };
    struct rates *r;
    assert_int_equal(rates_create(&r), 0);
    int pos[N];       /* place in the last update, -1: absent */
    for (int k = 0; k < N; k++)
        pos[k] = -1;
    unsigned long long x = 42;
    for (int round = 1; round <= ROUNDS; round++) {
        /* who is in, mostly in the last order, sometimes shuffled */
        int in[N], m = 0;
        for (int k = 0; k < N; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if ((x >> 33) % 5)
                in[m++] = k;
        }
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        bool shuffle = (x >> 33) % 4 == 0;
        for (int i = 0; i < m; i++) {
            for (int j = i + 1; j < m; j++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                int pi = pos[in[i]] < 0 ? N + in[i] : pos[in[i]];
                int pj = pos[in[j]] < 0 ? N + in[j] : pos[in[j]];
                if (shuffle ? (x >> 33) % 2 : pj < pi) {
                    int t = in[i];
                    in[i] = in[j];
                    in[j] = t;
                }
            }
        }
        struct sample_dom s[N];
        struct kg_vm out[N];
        for (int i = 0; i < m; i++) {
            char uuid[8];
            snprintf(uuid, sizeof uuid, "d%02d", in[i]);
            mk(&s[i], uuid, KG_VM_RUNNING, (uint64_t)round * (uint64_t)(in[i] + 1) * SEC / 4);
        }
        assert_int_equal(upd(r, s, (size_t)m, (100 + (uint64_t)round) * SEC, round, out), 0);
        for (int i = 0; i < m; i++) {
            if (pos[in[i]] < 0)
                assert_true(kg_na(out[i].cpu_pct)); /* new, or back after an absence */
            else
                assert_near(out[i].cpu_pct, 12.5 * (in[i] + 1), 1e-9);
        }
        for (int k = 0; k < N; k++)
            pos[k] = -1;
        for (int i = 0; i < m; i++)
            pos[in[i]] = i;
    }
    rates_free(r);
}

/* A VM whose devices come and go: figures follow the current devices, matched
 * by name; one stored per device, not KG_DEV_MAX. */
static void test_device_count_changes(void **state)
{
    (void)state;
    struct rates *r;
    assert_int_equal(rates_create(&r), 0);
    struct sample_dom s;
    struct kg_vm out;
    mk(&s, "a", KG_VM_RUNNING, 10 * SEC);
    assert_int_equal(upd(r, &s, 1, 100 * SEC, 1, &out), 0);
    mk(&s, "a", KG_VM_RUNNING, 11 * SEC);
    s.n_disks = 1; /* vdb unplugged */
    s.n_nets = 0;
    assert_int_equal(upd(r, &s, 1, 101 * SEC, 2, &out), 0);
    assert_int_equal(out.n_disks, 1);
    assert_int_equal(out.n_nets, 0);
    assert_near(out.disks[0].rd_bytes_per_s, 1e6, 1e-6);
    mk(&s, "a", KG_VM_RUNNING, 12 * SEC);
    s.n_disks = 3; /* two more, one of them new */
    snprintf(s.disks[2].name, sizeof s.disks[2].name, "vdc");
    s.disks[2].have_bytes = true;
    s.disks[2].rd_bytes = 5;
    assert_int_equal(upd(r, &s, 1, 102 * SEC, 3, &out), 0);
    assert_int_equal(out.n_disks, 3);
    assert_near(out.disks[0].rd_bytes_per_s, 1e6, 1e-6);
    assert_true(kg_na(out.disks[1].rd_bytes_per_s)); /* vdb: not in the previous sample */
    assert_true(kg_na(out.disks[2].rd_bytes_per_s)); /* vdc: new */
    assert_near(out.disks[2].rd_bytes, 5, 0);
    assert_int_equal(out.n_nets, 1);
    assert_true(kg_na(out.nets[0].rx_bytes_per_s));
    rates_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_sample_no_rates),
        cmocka_unit_test(test_rates_over_measured_time),
        cmocka_unit_test(test_counter_backwards_gives_na),
        cmocka_unit_test(test_not_running_no_cpu),
        cmocka_unit_test(test_zero_elapsed_and_no_requests),
        cmocka_unit_test(test_balloon_and_steal),
        cmocka_unit_test(test_tracker_and_stale),
        cmocka_unit_test(test_mark_stale_and_forget),
        cmocka_unit_test(test_device_count_changes),
        cmocka_unit_test(test_updates_in_any_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
