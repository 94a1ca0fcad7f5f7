/* SPDX-License-Identifier: MIT */
/*
 * The loads themselves at small sizes, measured from outside the code under
 * test where possible (/proc/self/statm, stat(2), the thread CPU clocks):
 * memory becomes resident and is released, disk files exist only while the
 * load runs and carry about the requested bytes, CPU time follows the duty
 * cycle. Bounds are loose on purpose: the machine is shared; these check
 * behaviour, bench/loadgen measures accuracy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps.h"
#include "cpu.h"
#include "disk.h"
#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "mem.h"
#include "runner.h"
#include "scenario.h"

static double rss_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lu %lu", &size, &res), 2);
    fclose(f);
    return (double)res * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static void sleep_ms(unsigned ms) { kg_clock_sleep_ns((uint64_t)ms * 1000000u, NULL); }

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_mem_resident_then_released(void **state)
{
    (void)state;
    struct kg_load_spec s;
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_MEM;
    s.mib = 64;
    s.duration_s = 10;
    s.dirty_mib_per_s = 0;
    double before = rss_mib();
    struct mem_load *m = NULL;
    assert_int_equal(mem_load_start(&s, &m), 0);
    for (int i = 0; i < 100 && !mem_load_filled(m); i++)
        sleep_ms(50);
    assert_true(mem_load_filled(m));
    double during = rss_mib();
    uint64_t resident = mem_load_resident_bytes(m);
    print_message("mem: rss %.1f -> %.1f MiB, mapping resident %.2f MiB\n", before, during,
                  (double)resident / 1048576.0);
    assert_true(resident == 64u * 1024 * 1024);          /* every page touched */
    /* The process grew by the load. The upper bound leaves room for what else the
     * process allocates meanwhile: little, except under AddressSanitizer, whose
     * allocator and quarantine grow by megabytes on their own. */
#if defined(__SANITIZE_ADDRESS__)
    const double slack_mib = 24;
#else
    const double slack_mib = 6;
#endif
    assert_true(during - before > 64 * 0.95 && during - before < 64 + slack_mib);
    mem_load_stop(m);
    double after = rss_mib();
    assert_true(during - after > 64 * 0.95);
    mem_load_free(m);
    mem_load_free(NULL);
}

static void test_mem_redirty(void **state)
{
    (void)state;
    struct kg_load_spec s;
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_MEM;
    s.mib = 8;
    s.duration_s = 10;
    s.dirty_mib_per_s = 20;
    struct mem_load *m = NULL;
    assert_int_equal(mem_load_start(&s, &m), 0);
    uint64_t t0 = kg_clock_mono_ns();
    sleep_ms(1000);
    double secs = (double)(kg_clock_mono_ns() - t0) / 1e9;
    double mib = (double)mem_load_dirtied_bytes(m) / 1048576.0;
    print_message("mem: re-dirtied %.1f MiB in %.2f s (asked 20 MiB/s)\n", mib, secs);
    assert_true(mib > 20 * secs * 0.5 && mib < 20 * secs * 1.2);
    mem_load_free(m);
}

static char tmpdir[256];

static int make_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/var/tmp/kg-test-loads.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

static void test_disk_write_file_lifecycle(void **state)
{
    (void)state;
    struct kg_load_spec s;
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_DISK;
    s.disk_mode = KG_DISK_WRITE;
    s.block_kib = 256;
    s.mb_per_s = 8;
    s.duration_s = 10;
    struct disk_load *d = NULL;
    char err[200] = "";
    uint64_t t0 = kg_clock_mono_ns();
    int rc = disk_load_start(&s, tmpdir, 4u * 1024 * 1024, 8, &d, err, sizeof err);
    if (rc)
        fail_msg("disk_load_start: %s", err);
    struct stat st;
    assert_int_equal(lstat(disk_load_path(d), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_non_null(strstr(disk_load_path(d), tmpdir));
    sleep_ms(1500);
    double secs = (double)(kg_clock_mono_ns() - t0) / 1e9;
    double mb = (double)disk_load_written_bytes(d) / 1e6;
    print_message("disk: wrote %.2f MB in %.2f s (asked 8 MB/s)\n", mb, secs);
    assert_true(mb > 8 * secs * 0.6 && mb < 8 * secs * 1.2 + 0.3);
    assert_true(lstat(disk_load_path(d), &st) == 0 && (uint64_t)st.st_size <= 4u * 1024 * 1024);
    char path[600];
    snprintf(path, sizeof path, "%s", disk_load_path(d));
    disk_load_stop(d);
    assert_int_equal(lstat(path, &st), -1);            /* removed on stop */
    assert_int_equal(count_files(tmpdir), 0);
    disk_load_free(d);
}

static void test_disk_read_and_rw(void **state)
{
    (void)state;
    struct kg_load_spec s;
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_DISK;
    s.block_kib = 64;
    s.duration_s = 10;
    for (int mode = KG_DISK_READ; mode <= KG_DISK_RW; mode++) {
        s.disk_mode = (enum kg_disk_mode)mode;
        struct disk_load *d = NULL;
        char err[200] = "";
        int rc = disk_load_start(&s, tmpdir, 1024u * 1024, 4, &d, err, sizeof err);
        if (rc)
            fail_msg("disk_load_start: %s", err);
        sleep_ms(600);
        assert_true(disk_load_read_bytes(d) > 0);
        if (mode == KG_DISK_RW)
            assert_true(disk_load_written_bytes(d) > 0);
        else
            assert_int_equal(disk_load_written_bytes(d), 0);
        disk_load_free(d);
        assert_int_equal(count_files(tmpdir), 0);
    }
}

static void test_disk_refuses_bad_dir_and_leaves_nothing(void **state)
{
    (void)state;
    struct kg_load_spec s;
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_DISK;
    s.block_kib = 64;
    s.duration_s = 1;
    struct disk_load *d = NULL;
    char err[200] = "";
    assert_int_equal(disk_load_start(&s, "/nonexistent-kg-dir", 65536, 1, &d, err, sizeof err), KG_EIO);
    assert_null(d);
    assert_non_null(strstr(err, "/nonexistent-kg-dir"));
    /* a size that is not whole blocks */
    assert_int_equal(disk_load_start(&s, tmpdir, 65537, 1, &d, err, sizeof err), KG_EINVAL);
    assert_int_equal(count_files(tmpdir), 0);
}

static void test_disk_sweep_stale(void **state)
{
    (void)state;
    char paths[3][400];
    /* pid 2147483632 is above any pid_max: never alive */
    snprintf(paths[0], sizeof paths[0], "%s/kvmgrid-load-2147483632-0.tmp", tmpdir);
    snprintf(paths[1], sizeof paths[1], "%s/kvmgrid-load-%ld-77.tmp", tmpdir, (long)getpid());
    snprintf(paths[2], sizeof paths[2], "%s/other-file.tmp", tmpdir);
    for (int i = 0; i < 3; i++) {
        int fd = open(paths[i], O_CREAT | O_WRONLY | O_EXCL, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
    assert_int_equal(disk_sweep_stale(tmpdir), 1);
    struct stat st;
    assert_int_equal(lstat(paths[0], &st), -1);       /* dead owner: removed */
    assert_int_equal(lstat(paths[1], &st), 0);        /* alive owner: kept */
    assert_int_equal(lstat(paths[2], &st), 0);        /* not ours: kept */
    unlink(paths[1]);
    unlink(paths[2]);
    assert_int_equal(disk_sweep_stale("/nonexistent-kg-dir"), KG_EIO);
}

static void test_cpu_time_follows_duty(void **state)
{
    (void)state;
    const double pcts[] = {0, 20, 60};
    for (size_t i = 0; i < 3; i++) {
        struct kg_load_spec s;
        kg_load_spec_init(&s);
        s.kind = KG_LOAD_CPU;
        s.workers = 1;
        s.pct = pcts[i];
        s.duration_s = 10;
        struct cpu_load *c = NULL;
        uint64_t t0 = kg_clock_mono_ns();
        assert_int_equal(cpu_load_start(&s, &c), 0);
        sleep_ms(1000);
        cpu_load_stop(c);
        double wall = (double)(kg_clock_mono_ns() - t0) / 1e9;
        double used = (double)cpu_load_cpu_ns(c) / 1e9;
        print_message("cpu: %.0f %% asked, %.1f %% used over %.2f s\n", pcts[i], used / wall * 100, wall);
        cpu_load_free(c);
        /* loose: on a busy machine a worker may get less than it asks for, never more */
        double got = used / wall * 100;
        if (!(got > pcts[i] * 0.5 - 2 && got < pcts[i] + 10))
            fail_msg("cpu: asked %.0f %%, used %.1f %%", pcts[i], got);
    }
}

static void test_cpu_ramp_target(void **state)
{
    (void)state;
    struct kg_load_spec s;
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_CPU;
    s.workers = 1;
    s.pct = 0;
    s.ramp_to_pct = 40;
    s.duration_s = 2;
    struct cpu_load *c = NULL;
    assert_int_equal(cpu_load_start(&s, &c), 0);
    assert_true(cpu_load_target_pct(c) < 5);
    sleep_ms(1000);
    double mid = cpu_load_target_pct(c);
    assert_true(mid > 10 && mid < 30);
    sleep_ms(1200);
    assert_true(cpu_load_target_pct(c) == 40.0);
    cpu_load_free(c);
}

static struct caps runner_caps(void)
{
    struct caps c;
    caps_defaults(&c, 2);
    snprintf(c.disk_dir, sizeof c.disk_dir, "%s", tmpdir);
    c.max_disk_bytes = 8u * 1024 * 1024;
    return c;
}

static void test_runner_stop_ends_all_at_once(void **state)
{
    (void)state;
    struct caps c = runner_caps();
    const char *text = "{\"steps\":[{\"duration_s\":60,\"loads\":["
                       "{\"kind\":\"cpu\",\"workers\":1,\"pct\":20},"
                       "{\"kind\":\"mem\",\"mib\":16},"
                       "{\"kind\":\"disk\",\"mb_per_s\":2,\"block_kib\":64}]}]}";
    struct scenario *plan = NULL;
    char err[300] = "";
    assert_int_equal(scenario_parse(text, strlen(text), "t", &plan, err, sizeof err), 0);
    assert_int_equal(scenario_apply_caps(plan, &c, err, sizeof err), 0);
    struct runner *r = NULL;
    assert_int_equal(runner_create(&c, &r), 0);
    assert_int_equal(runner_start(r, plan, "id-1", "t", err, sizeof err), 0);
    assert_int_equal(count_files(tmpdir), 1);
    sleep_ms(1400);
    struct kg_load_state st;
    kg_load_state_init(&st);
    runner_fill_state(r, &st);
    assert_int_equal(st.status, KG_LOADST_RUNNING);
    assert_string_equal(st.id, "id-1");
    assert_string_equal(st.scenario, "t");
    assert_int_equal(st.step, 1);
    assert_int_equal(st.steps, 1);
    assert_int_equal(st.spec.kind, KG_LOAD_CPU);
    assert_false(kg_na(st.cpu_pct));
    assert_false(kg_na(st.mem_resident_mib));
    assert_false(kg_na(st.disk_wr_mb_per_s));
    assert_true(kg_na(st.disk_rd_mb_per_s));
    print_message("runner: cpu %.1f %%, mem %.1f MiB, wr %.2f MB/s, progress %.1f %%\n", st.cpu_pct,
                  st.mem_resident_mib, st.disk_wr_mb_per_s, st.progress_pct);
    assert_true(st.mem_resident_mib > 15.0 && st.mem_resident_mib < 17.0);
    uint64_t t0 = kg_clock_mono_ns();
    runner_stop(r);
    double stop_s = (double)(kg_clock_mono_ns() - t0) / 1e9;
    print_message("runner: stop took %.3f s\n", stop_s);
    assert_true(stop_s < 1.0);
    assert_false(runner_running(r));
    assert_int_equal(count_files(tmpdir), 0);
    runner_fill_state(r, &st);
    assert_int_equal(st.status, KG_LOADST_IDLE);
    assert_int_equal(st.spec.kind, KG_LOAD_NONE);
    struct runner_totals t;
    runner_totals(r, &t);
    assert_false(t.completed);
    runner_free(r);
}

static void test_runner_sequence_completes(void **state)
{
    (void)state;
    struct caps c = runner_caps();
    const char *text = "{\"steps\":[{\"loads\":[{\"kind\":\"cpu\",\"workers\":1,\"pct\":10,\"duration_s\":0.3}]},"
                       "{\"duration_s\":0.2},"
                       "{\"loads\":[{\"kind\":\"mem\",\"mib\":4,\"duration_s\":0.3}]}]}";
    struct scenario *plan = NULL;
    char err[300] = "";
    assert_int_equal(scenario_parse(text, strlen(text), "t", &plan, err, sizeof err), 0);
    assert_int_equal(scenario_apply_caps(plan, &c, err, sizeof err), 0);
    struct runner *r = NULL;
    assert_int_equal(runner_create(&c, &r), 0);
    uint64_t g0 = runner_generation(r);
    uint64_t t0 = kg_clock_mono_ns();
    assert_int_equal(runner_start(r, plan, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(runner_wait(r, 5000), 0);
    double secs = (double)(kg_clock_mono_ns() - t0) / 1e9;
    assert_true(secs > 0.75 && secs < 2.0);
    struct runner_totals t;
    runner_totals(r, &t);
    assert_true(t.completed);
    assert_string_equal(t.error, "");
    assert_true(t.mem_requested_mib == 4.0);
    assert_true(runner_generation(r) >= g0 + 2);
    runner_free(r);
}

static void test_runner_start_failure_reports(void **state)
{
    (void)state;
    struct caps c = runner_caps();
    snprintf(c.disk_dir, sizeof c.disk_dir, "%s", "/nonexistent-kg-dir");
    struct kg_load_spec s;
    kg_load_spec_init(&s);
    s.kind = KG_LOAD_DISK;
    s.duration_s = 5;
    char err[300] = "";
    assert_int_equal(caps_resolve_load(&c, &s, &s, err, sizeof err), 0);
    struct scenario *plan = NULL;
    assert_int_equal(scenario_from_load(&s, "", &plan), 0);
    assert_int_equal(scenario_apply_caps(plan, &c, err, sizeof err), 0);
    struct runner *r = NULL;
    assert_int_equal(runner_create(&c, &r), 0);
    assert_int_equal(runner_start(r, plan, "x", NULL, err, sizeof err), KG_EIO);
    assert_non_null(strstr(err, "/nonexistent-kg-dir"));
    assert_false(runner_running(r));
    runner_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_resident_then_released),
        cmocka_unit_test(test_mem_redirty),
        cmocka_unit_test(test_disk_write_file_lifecycle),
        cmocka_unit_test(test_disk_read_and_rw),
        cmocka_unit_test(test_disk_refuses_bad_dir_and_leaves_nothing),
        cmocka_unit_test(test_disk_sweep_stale),
        cmocka_unit_test(test_cpu_time_follows_duty),
        cmocka_unit_test(test_cpu_ramp_target),
        cmocka_unit_test(test_runner_stop_ends_all_at_once),
        cmocka_unit_test(test_runner_sequence_completes),
        cmocka_unit_test(test_runner_start_failure_reports),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
