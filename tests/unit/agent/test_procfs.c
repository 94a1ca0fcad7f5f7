/* SPDX-License-Identifier: MIT */
/* The /proc readers against fixture trees (tests/fixtures/agent/proc/{a,b,bad}). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "near.h"

#include "kvmgrid/error.h"
#include "procfs.h"
#include "rates.h"

#define PROC KG_FIXTURES "/agent/proc"

static void test_stat(void **state)
{
    (void)state;
    struct sample_proc s = {0};
    assert_int_equal(procfs_read_stat(PROC "/a", &s), 0);
    assert_true(s.have_cpu);
    assert_int_equal(s.cpus, 2);
    assert_int_equal(s.cpu_total_ticks, 10000);
    assert_int_equal(s.cpu_idle_ticks, 8400);
    /* guest time is inside user time already and is not counted twice */
    assert_int_equal(procfs_read_stat(PROC "/b", &s), 0);
    assert_int_equal(s.cpu_total_ticks, 11200);
}

static void test_meminfo(void **state)
{
    (void)state;
    struct sample_proc s = {0};
    assert_int_equal(procfs_read_meminfo(PROC "/a", &s), 0);
    assert_int_equal(s.mem_total_kib, 16384000);
    assert_int_equal(s.mem_avail_kib, 8192000);
    /* no MemAvailable (old kernel): free + buffers + cached */
    assert_int_equal(procfs_read_meminfo(PROC "/b", &s), 0);
    assert_int_equal(s.mem_avail_kib, 2048000);
}

static void test_loadavg(void **state)
{
    (void)state;
    struct sample_proc s = {0};
    assert_int_equal(procfs_read_loadavg(PROC "/a", &s), 0);
    assert_true(s.have_load);
    assert_near(s.load1, 0.5, 1e-9);
    assert_near(s.load5, 1.25, 1e-9);
    assert_near(s.load15, 2.0, 1e-9);
}

static void test_diskstats_whole_disks_only(void **state)
{
    (void)state;
    struct sample_proc s = {0};
    assert_int_equal(procfs_read_diskstats(PROC "/a", &s), 0);
    /* vda + nvme0n1 + sda; not loop0, vda1, nvme0n1p1, dm-0, sda1 */
    assert_int_equal(s.disk_rd_bytes, (20000u + 1000u + 80u) * 512u);
    assert_int_equal(s.disk_wr_bytes, (40000u + 3000u + 160u) * 512u);
}

static void test_whole_disk_names(void **state)
{
    (void)state;
    const char *whole[] = {"sda", "vdb", "hdc", "xvda", "nvme0n1", "nvme10n2", "mmcblk0", "sdaa"};
    const char *not_whole[] = {"sda1", "vdb12", "xvda3", "nvme0n1p1", "mmcblk0p2", "dm-3",
                               "md0", "loop7", "ram0", "zram0", "sr0", "fd0", "nbd0", ""};
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++)
        assert_true(procfs_is_whole_disk(whole[i]));
    for (size_t i = 0; i < sizeof not_whole / sizeof *not_whole; i++)
        assert_false(procfs_is_whole_disk(not_whole[i]));
    assert_false(procfs_is_whole_disk(NULL));
}

static void test_netdev_skips_lo(void **state)
{
    (void)state;
    struct sample_proc s = {0};
    assert_int_equal(procfs_read_netdev(PROC "/a", &s), 0);
    assert_int_equal(s.net_rx_bytes, 1300000);
    assert_int_equal(s.net_tx_bytes, 700000);
}

static void test_bad_and_missing(void **state)
{
    (void)state;
    struct sample_proc s = {0};
    assert_int_equal(procfs_read_stat(PROC "/bad", &s), KG_EPARSE);
    assert_false(s.have_cpu);
    assert_int_equal(procfs_read_meminfo(PROC "/bad", &s), KG_EPARSE);
    assert_int_equal(procfs_read_loadavg(PROC "/bad", &s), KG_EPARSE);
    assert_int_equal(procfs_read_diskstats(PROC "/bad", &s), KG_EPARSE);
    assert_int_equal(procfs_read_netdev(PROC "/bad", &s), KG_EPARSE);
    assert_false(s.have_mem || s.have_load || s.have_disk || s.have_net);
    assert_int_equal(procfs_read_stat(PROC "/nonexistent", &s), KG_ENOENT);
    assert_int_equal(procfs_read_all(PROC "/nonexistent", &s), KG_ENOENT);
}

static void test_host_rates(void **state)
{
    (void)state;
    struct sample_proc a, b;
    assert_int_equal(procfs_read_all(PROC "/a", &a), 0);
    assert_int_equal(procfs_read_all(PROC "/b", &b), 0);
    struct sample_node node = {.have_info = true, .cpus = 2, .mem_total_kib = 1,
                               .vms_running = 3, .vms_defined = 5};
    struct kg_host h;
    /* first sample: gauges, no rates */
    rates_host(NULL, &a, 0, &node, &h);
    assert_true(kg_na(h.cpu_pct));
    assert_true(kg_na(h.disk_rd_bytes_per_s));
    assert_near(h.mem_total_kib, 16384000, 0.5);
    assert_near(h.mem_used_pct, 50.0, 1e-9);
    assert_near(h.load15, 2.0, 1e-9);
    assert_near(h.vms_running, 3, 0);
    assert_near(h.vms_defined, 5, 0);
    /* two seconds later */
    rates_host(&a, &b, 2000000000ull, &node, &h);
    assert_near(h.cpu_pct, 800.0 / 1200.0 * 100.0, 1e-9);
    assert_near(h.disk_rd_bytes_per_s, 10000.0 * 512 / 2, 1e-6);
    assert_near(h.disk_wr_bytes_per_s, 20000.0 * 512 / 2, 1e-6);
    assert_near(h.net_rx_bytes_per_s, 500000, 1e-6);
    assert_near(h.net_tx_bytes_per_s, 100000, 1e-6);
    assert_near(h.cpus, 2, 0);
    /* counters going backwards (b then a): no rate, not a negative spike */
    rates_host(&b, &a, 2000000000ull, &node, &h);
    assert_true(kg_na(h.cpu_pct));
    assert_true(kg_na(h.disk_rd_bytes_per_s));
    assert_true(kg_na(h.net_rx_bytes_per_s));
    /* no /proc at all (remote libvirt): only the node's figures */
    rates_host(NULL, NULL, 0, &node, &h);
    assert_near(h.mem_total_kib, 1, 0);
    assert_true(kg_na(h.load1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat),
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_loadavg),
        cmocka_unit_test(test_diskstats_whole_disks_only),
        cmocka_unit_test(test_whole_disk_names),
        cmocka_unit_test(test_netdev_skips_lo),
        cmocka_unit_test(test_bad_and_missing),
        cmocka_unit_test(test_host_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
