/* SPDX-License-Identifier: MIT */
/* Unit tests for log.c: level names and filtering, line format (plain and journal),
 * one line per message, and kg_complain/kg_complain_release with a fake clock. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "log_private.h"

#define SEC 1000000000ull

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

static struct {
    int count;
    enum kg_log_level level;
    char line[4096];
} cap;

static void sink(enum kg_log_level level, const char *line, void *arg)
{
    (void)arg;
    cap.count++;
    cap.level = level;
    snprintf(cap.line, sizeof cap.line, "%s", line);
}

static int setup(void **state)
{
    (void)state;
    memset(&cap, 0, sizeof cap);
    fake_now = 1000 * SEC;
    kg_log__set_sink(sink, NULL);
    kg_log__set_clock(fake_clock);
    kg_log_init("tlog");
    kg_log_set_level(KG_LOG_DEBUG);
    kg_log_set_journal(false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kg_log__set_sink(NULL, NULL);
    kg_log__set_clock(NULL);
    return 0;
}

/* The message part, after "<level>: ". */
static const char *msg_of(const char *line)
{
    const char *p = strstr(line, ": ");
    return p ? p + 2 : "";
}

static void test_level_parse(void **state)
{
    (void)state;
    enum kg_log_level l;
    assert_int_equal(kg_log_level_parse("error", &l), 0);
    assert_int_equal(l, KG_LOG_ERROR);
    assert_int_equal(kg_log_level_parse("WARN", &l), 0);
    assert_int_equal(l, KG_LOG_WARN);
    assert_int_equal(kg_log_level_parse("Info", &l), 0);
    assert_int_equal(l, KG_LOG_INFO);
    assert_int_equal(kg_log_level_parse("debug", &l), 0);
    assert_int_equal(l, KG_LOG_DEBUG);
    assert_int_equal(kg_log_level_parse("verbose", &l), KG_EINVAL);
    assert_int_equal(kg_log_level_parse("", &l), KG_EINVAL);
    assert_int_equal(kg_log_level_parse(NULL, &l), KG_EINVAL);
    assert_int_equal(kg_log_level_parse("info", NULL), KG_EINVAL);
}

static void test_level_filter(void **state)
{
    (void)state;
    kg_log_set_level(KG_LOG_WARN);
    assert_int_equal(kg_log_get_level(), KG_LOG_WARN);
    kg_info("hidden %d", 1);
    kg_debug("hidden %d", 2);
    assert_int_equal(cap.count, 0);
    kg_warn("shown %d", 3);
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.level, KG_LOG_WARN);
    assert_string_equal(msg_of(cap.line), "shown 3");
    kg_error("shown %s", "too");
    assert_int_equal(cap.count, 2);
    kg_log_set_level(KG_LOG_ERROR);
    kg_warn("hidden");
    assert_int_equal(cap.count, 2);
}

static void test_plain_format(void **state)
{
    (void)state;
    char want[128];
    kg_info("hello %s", "world");
    assert_int_equal(cap.count, 1);
    /* "2026-11-29T23:22:14.123Z tlog[pid] info: hello world" */
    assert_true(strlen(cap.line) > 25);
    assert_int_equal(cap.line[4], '-');
    assert_int_equal(cap.line[10], 'T');
    assert_int_equal(cap.line[23], 'Z');
    assert_int_equal(cap.line[24], ' ');
    snprintf(want, sizeof want, "tlog[%ld] info: hello world", (long)getpid());
    assert_string_equal(cap.line + 25, want);
}

static void test_journal_format(void **state)
{
    (void)state;
    char want[128];
    kg_log_set_journal(true);
    kg_error("bad %d", 7);
    snprintf(want, sizeof want, "<3>tlog[%ld] error: bad 7", (long)getpid());
    assert_string_equal(cap.line, want);
    kg_warn("w");
    assert_memory_equal(cap.line, "<4>", 3);
    kg_info("i");
    assert_memory_equal(cap.line, "<6>", 3);
    kg_debug("d");
    assert_memory_equal(cap.line, "<7>", 3);
}

/* Journal mode is detected from JOURNAL_STREAM only when it names stderr itself:
 * a process whose stderr went elsewhere inherits the variable from its service. */
static void test_journal_detection(void **state)
{
    (void)state;
    struct stat st;
    char js[64];
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);

    unsetenv("JOURNAL_STREAM");
    kg_log__detect_journal();
    kg_info("x");
    assert_int_not_equal(cap.line[0], '<');

    /* Set, but another stream's device and inode: plain lines with timestamps. */
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + 1);
    assert_int_equal(setenv("JOURNAL_STREAM", js, 1), 0);
    kg_log__detect_journal();
    kg_info("x");
    assert_int_not_equal(cap.line[0], '<');

    static const char *const junk[] = { "", "1", "1:", ":1", "a:b", "1:2x", "1:2:3" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        assert_int_equal(setenv("JOURNAL_STREAM", junk[i], 1), 0);
        kg_log__detect_journal();
        kg_info("x");
        assert_int_not_equal(cap.line[0], '<');
    }

    /* stderr's own device and inode: journal lines. */
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    assert_int_equal(setenv("JOURNAL_STREAM", js, 1), 0);
    kg_log__detect_journal();
    kg_info("x");
    assert_memory_equal(cap.line, "<6>", 3);

    /* An explicit choice wins over detection. */
    kg_log_set_journal(false);
    kg_info("x");
    assert_int_not_equal(cap.line[0], '<');
    unsetenv("JOURNAL_STREAM");
}

static void test_one_line_and_truncation(void **state)
{
    (void)state;
    kg_info("a\nb\rc");
    assert_string_equal(msg_of(cap.line), "a b c");
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kg_info("%s", big);
    assert_int_equal(cap.count, 2);
    assert_int_equal(strlen(cap.line), 2047);
}

/* Threads logging at once: every line whole, none lost, and one kg_complain
 * shared by all of them counts every failure once (the log's lock guards it). */
#define T_THREADS 4
#define T_LINES 500
static struct kg_complain shared_complain = KG_COMPLAIN_INIT;
static int bad_lines;

static void thread_sink(enum kg_log_level level, const char *line, void *arg)
{
    (void)level;
    (void)arg;
    unsigned t, i;
    char tail;
    cap.count++; /* called under the log's lock */
    if (strcmp(msg_of(line), "failing") != 0 &&
        sscanf(msg_of(line), "thread %u line %u%c", &t, &i, &tail) != 2)
        bad_lines++;
}

static void *log_thread(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < T_LINES; i++) {
        kg_info("thread %u line %u", t, i);
        kg_complain(&shared_complain, KG_LOG_WARN, "failing");
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[T_THREADS];
    kg_log__set_sink(thread_sink, NULL);
    for (unsigned t = 0; t < T_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, log_thread, (void *)(uintptr_t)t), 0);
    for (unsigned t = 0; t < T_THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    /* The fake clock stands still: one complaint line, the rest counted. */
    assert_int_equal(cap.count, T_THREADS * T_LINES + 1);
    assert_int_equal(bad_lines, 0);
    assert_int_equal(shared_complain.suppressed, T_THREADS * T_LINES - 1);
}

static void test_complain_rate(void **state)
{
    (void)state;
    struct kg_complain c = KG_COMPLAIN_INIT;

    kg_complain(&c, KG_LOG_WARN, "broker down: %s", "refused");
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.level, KG_LOG_WARN);
    assert_string_equal(msg_of(cap.line), "broker down: refused");
    assert_true(c.active);
    assert_int_equal(c.interval_ns, KG_COMPLAIN_FIRST_NS);

    /* within the quiet interval: counted, not logged */
    for (int i = 0; i < 5; i++) {
        fake_now += SEC;
        kg_complain(&c, KG_LOG_WARN, "broker down");
    }
    assert_int_equal(cap.count, 1);
    assert_int_equal(c.suppressed, 5);

    fake_now += 5 * SEC; /* 10 s after the first line */
    kg_complain(&c, KG_LOG_WARN, "broker down");
    assert_int_equal(cap.count, 2);
    assert_string_equal(msg_of(cap.line), "broker down (5 more since last report)");
    assert_int_equal(c.suppressed, 0);
    assert_int_equal(c.interval_ns, 2 * KG_COMPLAIN_FIRST_NS);

    /* 19 s later: still quiet; at 20 s: logged, no suffix needed when nothing suppressed */
    fake_now += 19 * SEC;
    kg_complain(&c, KG_LOG_WARN, "x");
    assert_int_equal(cap.count, 2);
    fake_now += 1 * SEC;
    kg_complain(&c, KG_LOG_WARN, "x");
    assert_int_equal(cap.count, 3);
    assert_string_equal(msg_of(cap.line), "x (1 more since last report)");
    fake_now += 100 * SEC; /* interval is 40 s now */
    kg_complain(&c, KG_LOG_WARN, "y");
    assert_int_equal(cap.count, 4);
    assert_string_equal(msg_of(cap.line), "y");

    /* The interval doubles but never exceeds 1 h. */
    uint64_t prev = c.interval_ns;
    for (int i = 0; i < 40; i++) {
        fake_now += c.interval_ns;
        kg_complain(&c, KG_LOG_WARN, "z");
        assert_true(c.interval_ns >= prev);
        assert_true(c.interval_ns <= KG_COMPLAIN_MAX_NS);
        prev = c.interval_ns;
    }
    assert_int_equal(c.interval_ns, KG_COMPLAIN_MAX_NS);
    int before = cap.count;
    fake_now += KG_COMPLAIN_MAX_NS - SEC;
    kg_complain(&c, KG_LOG_WARN, "z");
    assert_int_equal(cap.count, before);
    fake_now += SEC;
    kg_complain(&c, KG_LOG_WARN, "z");
    assert_int_equal(cap.count, before + 1);
}

static void test_complain_release(void **state)
{
    (void)state;
    struct kg_complain c = KG_COMPLAIN_INIT;

    /* release without a failure: silent */
    kg_complain_release(&c, "recovered");
    assert_int_equal(cap.count, 0);

    kg_complain(&c, KG_LOG_ERROR, "libvirt gone");
    kg_complain(&c, KG_LOG_ERROR, "libvirt gone");
    assert_int_equal(cap.count, 1);
    kg_complain_release(&c, "libvirt back after %d tries", 2);
    assert_int_equal(cap.count, 2);
    assert_int_equal(cap.level, KG_LOG_INFO);
    assert_string_equal(msg_of(cap.line), "libvirt back after 2 tries");
    assert_false(c.active);
    assert_int_equal(c.suppressed, 0);
    kg_complain_release(&c, "again");
    assert_int_equal(cap.count, 2);

    /* the next failure is logged at once, as a first one */
    fake_now += SEC;
    kg_complain(&c, KG_LOG_ERROR, "libvirt gone");
    assert_int_equal(cap.count, 3);
    assert_string_equal(msg_of(cap.line), "libvirt gone");
    kg_complain_release(NULL, "ignored");
    kg_complain(NULL, KG_LOG_ERROR, "ignored");
    assert_int_equal(cap.count, 3);
}

static void test_complain_filtered_level(void **state)
{
    (void)state;
    struct kg_complain c = KG_COMPLAIN_INIT;
    kg_log_set_level(KG_LOG_ERROR);
    kg_complain(&c, KG_LOG_WARN, "quiet");
    assert_int_equal(cap.count, 0);
    assert_true(c.active); /* state still tracked */
    kg_complain_release(&c, "ok"); /* INFO is filtered too */
    assert_int_equal(cap.count, 0);
    assert_false(c.active);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_level_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_detection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_line_and_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complain_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complain_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complain_filtered_level, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
