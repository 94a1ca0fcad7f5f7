/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid-top's table over a model fed with payloads made by libkvmgrid's
 * encoders: sorting on every column (rows without the figure last, in either
 * direction; ties by name), the host filter (substring, glob, either case) and
 * alerts only, the MARKS column, the JSON line, and the text lines: columns
 * aligned with wide and escaped names, cut to any width down to 0 and 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "grid_fixture.h"
#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/text.h"
#include "kvmgrid/topic.h"
#include "model.h"
#include "top_table.h"

#define NOW 100000u

static struct model *m;
static struct top_table t;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(model_create("kvmgrid", 3, 5.0, &m), 0);
    struct alerts_rules r;
    alerts_rules_default(&r);
    r.r[ALERTS_CPU].for_ms = 0; /* at once: no waiting in a unit test */
    model_set_alert_rules(m, &r);
    memset(&t, 0, sizeof(t));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    top_table_free(&t);
    model_free(m);
    return 0;
}

/* v's retained payload on the topic of its escaped host and name (the
 * fixture's apply escapes the VM's name only). */
static void apply(const struct kg_vm *v)
{
    static char payload[KG_PAYLOAD_MAX];
    int len = kg_vm_encode(v, payload, sizeof(payload));
    assert_true(len > 0);
    char topic[KG_TOPIC_MAX];
    int tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_VM, v->host, v->name);
    assert_true(tl > 0);
    uint64_t before = m->applied;
    model_apply(m, topic, (size_t)tl, payload, (size_t)len, true, NOW);
    assert_int_equal(m->applied, before + 1);
}

/* A running VM with CPU, memory, disk read and network rx as given (NAN: none). */
static void vm(const char *host, const char *name, double cpu, double mem, double disk,
               double net)
{
    struct kg_vm v;
    fixture_vm_init(&v, host, name);
    v.cpu_pct = cpu;
    v.mem_used_pct = mem;
    v.mem_used_kib = KG_NA;
    v.disk_rd_bytes_per_s = disk;
    v.disk_wr_bytes_per_s = KG_NA;
    v.net_rx_bytes_per_s = net;
    v.net_tx_bytes_per_s = KG_NA;
    v.steal_pct = isnan(cpu) ? KG_NA : cpu / 10;
    apply(&v);
}

static void status(const char *host, const char *what)
{
    char topic[KG_TOPIC_MAX];
    int n = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_STATUS, host, NULL);
    assert_true(n > 0);
    model_apply(m, topic, (size_t)n, what, strlen(what), true, NOW);
}

/* Takes and sorts; the rows' VM names joined by spaces. */
static const char *order(enum top_sort by, bool reverse, const struct top_filter *f)
{
    static char out[512];
    model_lock(m);
    model_tick(m, NOW, COLOUR_METRIC_CPU);
    assert_int_equal(top_table_take(&t, m, f, 1764400000000 + 5000), 0);
    model_unlock(m);
    top_table_sort(&t, by, reverse);
    out[0] = '\0';
    for (size_t i = 0; i < t.n; i++) {
        strcat(out, i ? " " : "");
        strcat(out, top_row_vm(&t, &t.rows[i]));
    }
    return out;
}

static void four(void)
{
    vm("h1", "a", 50, 20, 1e6, 300);
    vm("h1", "b", 10, KG_NA, 5e3, KG_NA);
    vm("h2", "c", KG_NA, 90, KG_NA, 1e9);
    vm("h2", "d", 90, 60, 2e9, 20);
}

static void test_sort_figures(void **state)
{
    (void)state;
    four();
    assert_string_equal(order(TOP_SORT_CPU, false, NULL), "d a b c");
    assert_string_equal(order(TOP_SORT_CPU, true, NULL), "b a d c");
    assert_string_equal(order(TOP_SORT_MEM, false, NULL), "c d a b");
    assert_string_equal(order(TOP_SORT_MEM, true, NULL), "a d c b");
    assert_string_equal(order(TOP_SORT_DISK, false, NULL), "d a b c");
    assert_string_equal(order(TOP_SORT_DISK, true, NULL), "b a d c");
    assert_string_equal(order(TOP_SORT_NET, false, NULL), "c a d b");
    assert_string_equal(order(TOP_SORT_NET, true, NULL), "d a c b");
    assert_string_equal(order(TOP_SORT_STEAL, false, NULL), "d a b c");
    assert_string_equal(order(TOP_SORT_STEAL, true, NULL), "b a d c");
}

static void test_sort_names_state_age(void **state)
{
    (void)state;
    vm("hv10", "vm2", 1, 1, 1, 1);
    vm("hv2", "vm10", 1, 1, 1, 1);
    vm("hv2", "vm9", 1, 1, 1, 1);
    /* natural order: hv2 before hv10, vm9 before vm10 */
    assert_string_equal(order(TOP_SORT_NAME, false, NULL), "vm9 vm10 vm2");
    assert_string_equal(order(TOP_SORT_NAME, true, NULL), "vm2 vm10 vm9");
    /* equal figures: ties go by host, then VM */
    assert_string_equal(order(TOP_SORT_CPU, false, NULL), "vm9 vm10 vm2");
    assert_string_equal(order(TOP_SORT_CPU, true, NULL), "vm9 vm10 vm2");

    struct kg_vm v;
    fixture_vm_init(&v, "hv2", "vm9");
    v.state = KG_VM_PAUSED;
    v.ts_ms -= 60000; /* a minute older */
    apply(&v);
    fixture_vm_init(&v, "hv10", "vm2");
    v.state = KG_VM_SHUTOFF;
    v.cpu_pct = v.mem_used_pct = KG_NA;
    apply(&v);
    /* by state name: paused, running, shutoff */
    assert_string_equal(order(TOP_SORT_STATE, false, NULL), "vm9 vm10 vm2");
    assert_string_equal(order(TOP_SORT_STATE, true, NULL), "vm2 vm10 vm9");
    /* oldest first */
    assert_string_equal(order(TOP_SORT_AGE, false, NULL), "vm9 vm10 vm2");
    assert_true(t.rows[0].age_s > t.rows[1].age_s);
    assert_true(fabs(t.rows[1].age_s - 5.0) < 0.001);
    assert_string_equal(order(TOP_SORT_AGE, true, NULL), "vm10 vm2 vm9");
}

static void test_filter_match(void **state)
{
    (void)state;
    assert_true(top_filter_match("", "anything"));
    assert_true(top_filter_match(NULL, "anything"));
    assert_true(top_filter_match("web", "prod-web-01"));
    assert_true(top_filter_match("WEB", "prod-web-01"));
    assert_false(top_filter_match("db", "prod-web-01"));
    assert_true(top_filter_match("prod-*-01", "prod-web-01"));
    assert_false(top_filter_match("web*", "prod-web-01")); /* a glob matches whole names */
    assert_true(top_filter_match("hv?", "HV3"));
    assert_true(top_filter_match("hv[12]", "hv2"));
    assert_false(top_filter_match("hv[12]", "hv3"));
    assert_true(top_filter_match("café", "Le café 2"));
    assert_true(top_filter_match("\\x01", "bad\\x01name")); /* as displayed */
}

static void test_filter_take(void **state)
{
    (void)state;
    four();
    vm("web1", "w", 95, 10, 1, 1); /* CPU alert at once (the test's rules) */
    struct top_filter f = {"h", false};
    assert_string_equal(order(TOP_SORT_NAME, false, &f), "a b c d");
    assert_int_equal(t.counts.shown, 4);
    assert_int_equal(t.counts.vms, 5);
    assert_int_equal(t.counts.hosts, 3);
    f.host = "H2";
    assert_string_equal(order(TOP_SORT_NAME, false, &f), "c d");
    f.host = "*1";
    assert_string_equal(order(TOP_SORT_NAME, false, &f), "a b w");
    f.host = "nothing";
    assert_string_equal(order(TOP_SORT_NAME, false, &f), "");
    f.host = NULL;
    f.alerts_only = true;
    assert_string_equal(order(TOP_SORT_NAME, false, &f), "w");
    assert_int_equal(t.counts.vms_alert, 1);
    f.host = "h";
    assert_string_equal(order(TOP_SORT_NAME, false, &f), "");
}

static const char *marks_of(const char *name)
{
    static char buf[64];
    for (size_t i = 0; i < t.n; i++)
        if (strcmp(top_row_vm(&t, &t.rows[i]), name) == 0)
            return top_row_marks(&t.rows[i], buf, sizeof(buf));
    fail_msg("no row %s", name);
    return NULL;
}

static void test_marks(void **state)
{
    (void)state;
    vm("h1", "calm", 10, 10, 1, 1);
    vm("h1", "hot", 95, 97, 1, 1);
    vm("h2", "gone", 10, 10, 1, 1);
    status("h2", "offline");
    struct kg_vm v;
    fixture_vm_init(&v, "h1", "old");
    v.stale = true; /* the agent says so */
    v.age_s = 30;
    apply(&v);
    order(TOP_SORT_NAME, false, NULL);
    assert_string_equal(marks_of("calm"), "");
    assert_string_equal(marks_of("hot"), "! CPU MEM");
    assert_string_equal(marks_of("gone"), "! OFFLINE");
    assert_string_equal(marks_of("old"), "! STALE");
    assert_int_equal(t.counts.vms_alert, 3);
    assert_int_equal(t.counts.hosts_offline, 1);

    /* without the stale and offline rules they are marks, not alerts */
    struct alerts_rules r;
    alerts_rules_default(&r);
    r.r[ALERTS_CPU].for_ms = 0;
    r.stale = r.offline = false;
    model_set_alert_rules(m, &r);
    order(TOP_SORT_NAME, false, NULL);
    assert_string_equal(marks_of("gone"), "offline");
    assert_string_equal(marks_of("old"), "stale");
    assert_string_equal(marks_of("hot"), "! CPU MEM");

    /* too small a buffer: cut, NUL-terminated */
    char small[4];
    for (size_t i = 0; i < t.n; i++)
        if (strcmp(top_row_vm(&t, &t.rows[i]), "hot") == 0)
            assert_string_equal(top_row_marks(&t.rows[i], small, sizeof(small)), "! C");
}

/* The terminal column at which the first occurrence of what starts in line. */
static size_t column_of(const char *line, const char *what)
{
    const char *p = strstr(line, what);
    assert_non_null(p);
    size_t cols = 0;
    kg_text_fit(line, (size_t)(p - line), SIZE_MAX, &cols);
    return cols;
}

static size_t columns(const char *s)
{
    size_t cols = 0;
    kg_text_fit(s, strlen(s), SIZE_MAX, &cols);
    return cols;
}

static void test_lines_wide_names(void **state)
{
    (void)state;
    assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
    vm("café", "中文vm", 42.5, 10, 12345, KG_NA);
    vm("h", "x", 100, 100, 999e6, 0);
    vm("web/02 #a", "bad\001\377", KG_NA, KG_NA, KG_NA, KG_NA);
    order(TOP_SORT_NAME, false, NULL);
    struct top_layout lo;
    top_table_layout(&t, 0, &lo);
    char head[512], line[3][512];
    assert_int_equal(t.n, 3);
    top_table_heading(&lo, head, sizeof(head));
    for (int i = 0; i < 3; i++)
        top_table_line(&t, &t.rows[i], &lo, line[i], sizeof(line[i]));
    /* rows by name: café, h, web/02 #a; names as displays show them */
    assert_non_null(strstr(line[0], "café"));
    assert_non_null(strstr(line[0], "中文vm"));
    assert_non_null(strstr(line[2], "web/02 #a"));
    assert_non_null(strstr(line[2], "bad\\x01\\xFF"));
    /* the widest name sets each column: "web/02 #a" is 9, "bad\x01\xFF" 11 */
    assert_int_equal(lo.w[TOP_COL_HOST], 9);
    assert_int_equal(lo.w[TOP_COL_VM], 11);
    /* every row's state starts where the heading's STATE does, in terminal columns
     * (中 and 文 take two each) */
    size_t col = column_of(head, "STATE");
    assert_int_equal(col, 9 + 1 + 11 + 1);
    assert_int_equal(column_of(line[0], "running"), col);
    assert_int_equal(column_of(line[1], "running"), col);
    assert_int_equal(column_of(line[2], "running"), col);
    /* figures right-aligned under their heading's end, "-" for none */
    size_t cpu_end = column_of(head, "CPU%") + 4;
    assert_int_equal(column_of(line[0], "42.5") + 4, cpu_end);
    assert_int_equal(column_of(line[1], "100.0") + 5, cpu_end);
    assert_int_equal(column_of(line[2], "-") + 1, cpu_end);
    assert_non_null(strstr(line[0], "12.3 kB/s"));
    assert_non_null(strstr(line[1], "999 MB/s"));
    /* no trailing blanks; plain lines are not cut */
    for (int i = 0; i < 3; i++)
        assert_true(line[i][strlen(line[i]) - 1] != ' ');
}

static void test_lines_tiny_widths(void **state)
{
    (void)state;
    assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
    vm("一二三四五六七八九十一二三四五六七八九十", "中文中文中文中文中文中文中文中文中文中文中文中文", 42, 10, 1,
       1);
    vm("h", "x", 1, 1, 1, 1);
    order(TOP_SORT_NAME, false, NULL);
    static const int widths[] = {1, 2, 3, 5, 20, 40, 79, 80, 120, 300};
    for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
        int w = widths[k];
        struct top_layout lo;
        top_table_layout(&t, w, &lo);
        assert_true(lo.w[TOP_COL_HOST] >= 4 && lo.w[TOP_COL_VM] >= 4);
        char buf[1024];
        top_table_heading(&lo, buf, sizeof(buf));
        assert_true(columns(buf) <= (size_t)w);
        for (size_t i = 0; i < t.n; i++) {
            top_table_line(&t, &t.rows[i], &lo, buf, sizeof(buf));
            assert_true(columns(buf) <= (size_t)w);
            /* one column is too narrow for a wide character: nothing, not half */
            assert_true(strlen(buf) > 0 || w < 2);
        }
        if (w >= 80) {
            /* the names give way so that every column fits, down to 4 each */
            assert_true(lo.x[TOP_COL_MARKS] + 5 <= w);
        }
        if (w >= 300) {
            /* the names are cut to their bounds, the figures all shown */
            assert_int_equal(lo.w[TOP_COL_HOST], 32);
            assert_int_equal(lo.w[TOP_COL_VM], 40);
            top_table_line(&t, &t.rows[1], &lo, buf, sizeof(buf)); /* after "h" */
            assert_non_null(strstr(buf, "42.0"));
        }
    }
    struct top_layout lo;
    /* a buffer too small for the line: cut, NUL-terminated, never a half character */
    char small[8];
    top_table_layout(&t, 0, &lo);
    top_table_line(&t, &t.rows[1], &lo, small, sizeof(small)); /* the long one sorts after h */
    assert_true(strlen(small) < sizeof(small));
    assert_int_equal(kg_text_fit(small, strlen(small), SIZE_MAX, NULL), strlen(small));
    assert_int_equal(top_table_line(&t, &t.rows[0], &lo, small, 0), 0);
}

static void test_json(void **state)
{
    (void)state;
    vm("h1", "hot", 95, 97, 1000, KG_NA);
    vm("h/2", "bad\001", 10, KG_NA, KG_NA, KG_NA);
    status("h/2", "offline");
    order(TOP_SORT_NAME, false, NULL);
    assert_int_equal(t.n, 2);
    char buf[KG_PAYLOAD_MAX];
    int n = top_table_json(&t, &t.rows[0], buf, sizeof(buf)); /* "h/2" sorts first */
    assert_true(n > 0);
    assert_null(strchr(buf, '\n'));
    assert_non_null(strstr(buf, "\"host\":\"h/2\",\"name\":\"bad\\u0001\""));
    assert_non_null(strstr(buf, "\"offline\":true,\"alerts\":[\"OFFLINE\"]}"));
    assert_null(strstr(buf, "mem_used_pct"));
    assert_non_null(strstr(buf, "\"age_s\":5,"));
    n = top_table_json(&t, &t.rows[1], buf, sizeof(buf));
    assert_true(n > 0);
    assert_non_null(strstr(buf, "\"cpu_pct\":95,"));
    assert_non_null(strstr(buf, "\"mem_used_pct\":97,"));
    assert_non_null(strstr(buf, "\"disk_rd_bytes_per_s\":1000,"));
    assert_non_null(strstr(buf, "\"stale\":false,"));
    assert_non_null(strstr(buf, "\"offline\":false,\"alerts\":[\"CPU\",\"MEM\"]}"));
    /* decodes as a VM payload: the wire's field names */
    struct kg_vm v;
    char why[KG_ERRMSG_MAX];
    assert_int_equal(kg_vm_decode(buf, (size_t)n, &v, why, sizeof(why)), 0);
    assert_string_equal(v.name, "hot");
    assert_int_equal(top_table_json(&t, &t.rows[1], buf, 10), KG_ETOOBIG);
}

static void test_empty(void **state)
{
    (void)state;
    assert_string_equal(order(TOP_SORT_CPU, false, NULL), "");
    struct top_layout lo;
    top_table_layout(&t, 0, &lo);
    char buf[256];
    top_table_heading(&lo, buf, sizeof(buf));
    assert_string_equal(buf, "HOST VM   STATE         CPU%   MEM%       DISK        NET STEAL%"
                             "     AGE MARKS");
    assert_string_equal(top_sort_key(TOP_SORT_STEAL), "steal");
    assert_int_equal(top_sort_col(TOP_SORT_NAME), TOP_COL_HOST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sort_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sort_names_state_age, setup, teardown),
        cmocka_unit_test(test_filter_match),
        cmocka_unit_test_setup_teardown(test_filter_take, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_wide_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_tiny_widths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
