/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the host summary codec (kg_summary_* in common/src/schema*.c):
 * the exact bytes of a summary, rounding, sums and maxima, null cells, rows
 * mapped by column name (reordered, unknown, missing, repeated columns), rows
 * handed out only once the whole payload is valid, rows left out at the size
 * limit and counted, the largest host the limit is meant for (2000 VMs with
 * 255-byte names), and bad input truncated at every byte. Payloads are decoded
 * from exact-size heap copies so that a read past the length is caught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"

#define ROWS_MAX 2048

struct rows {
    unsigned n;
    struct kg_summary_vm v[ROWS_MAX];
    int stop_at; /* return KG_ESTATE at this row; -1 never */
};

static int on_row(void *ctx, unsigned i, const struct kg_summary_vm *vm)
{
    struct rows *r = ctx;
    assert_int_equal(i, r->n);
    if ((int)i == r->stop_at)
        return KG_ESTATE;
    assert_true(r->n < ROWS_MAX);
    r->v[r->n++] = *vm;
    return 0;
}

static struct rows g_rows;
static struct kg_summary g_sum;

/* Decodes json[0..len) from an exact-size heap copy into g_sum and g_rows. */
static int decode(const char *json, size_t len, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, json, len);
    memset(&g_rows, 0, sizeof g_rows);
    g_rows.stop_at = -1;
    int rc = kg_summary_decode(copy, len, &g_sum, on_row, &g_rows, err, errlen);
    free(copy);
    return rc;
}

static void expect_bad(const char *json, const char *msg_part)
{
    char err[KG_ERRMSG_MAX] = "";
    int rc = decode(json, strlen(json), err, sizeof err);
    if (rc >= 0 || err[0] == '\0' || (msg_part && !strstr(err, msg_part)))
        fail_msg("accepted or wrong message (rc %d, \"%s\", expected \"%s\"): %s", rc, err,
                 msg_part ? msg_part : "", json);
    assert_int_equal(g_rows.n, 0); /* no row of a bad summary is handed out */
    assert_int_equal(g_sum.n_vms, 0);
    assert_string_equal(g_sum.host.name, "");
}

static void host_of(struct kg_host *h)
{
    kg_host_init(h);
    h->ts_ms = 1764412800000;
    strcpy(h->name, "hv-01");
    strcpy(h->agent_version, "0.1.0");
    h->interval_s = 5;
    strcpy(h->collect_path, "bulk");
    h->cpus = 32;
    h->cpu_pct = 41.5;
    h->mem_total_kib = 263842908;
    h->mem_used_kib = 131921454;
    h->mem_used_pct = 50;
    h->load1 = 13.02;
    h->vms_running = 2;
    h->vms_defined = 3;
}

static void vm_of(struct kg_vm *vm, const char *name)
{
    kg_vm_init(vm);
    vm->ts_ms = 1764412800123;
    strcpy(vm->host, "hv-01");
    snprintf(vm->name, sizeof vm->name, "%s", name);
    vm->state = KG_VM_RUNNING;
    vm->cpu_pct = 37.125;
    vm->mem_used_pct = 49.97;
    vm->disk_rd_bytes_per_s = 1048576;
    vm->disk_wr_bytes_per_s = 20971520.4;
    vm->net_rx_bytes_per_s = 125000.5;
    vm->net_tx_bytes_per_s = 64000;
    vm->steal_pct = 0.5;
    vm->disk_rd_lat_ms = 0.412;
    vm->disk_wr_lat_ms = 2.756;
}

static char g_buf[KG_SUMMARY_MAX + 1];

/* Three VMs: running, shut off (no figures), stale with only some figures. */
static int encode_three(char *buf, size_t size, struct kg_summary_writer *w)
{
    struct kg_host h;
    host_of(&h);
    static struct kg_vm vm;
    int rc = kg_summary_begin(w, buf, size, &h);
    if (rc)
        return rc;
    vm_of(&vm, "web-01");
    kg_summary_add(w, &vm);
    kg_vm_init(&vm);
    strcpy(vm.name, "build/ci-7");
    vm.state = KG_VM_SHUTOFF;
    kg_summary_add(w, &vm);
    vm_of(&vm, "db \"2\"");
    vm.stale = true;
    vm.mem_used_pct = KG_NA;
    vm.disk_rd_bytes_per_s = KG_NA;  /* the other alone is the sum */
    vm.net_rx_bytes_per_s = vm.net_tx_bytes_per_s = KG_NA;
    vm.disk_wr_lat_ms = KG_NA;       /* the other alone is the maximum */
    vm.cpu_pct = 100.3;              /* clamped */
    kg_summary_add(w, &vm);
    return kg_summary_end(w);
}

static void test_encode_exact(void **state)
{
    (void)state;
    struct kg_summary_writer w;
    int n = encode_three(g_buf, sizeof g_buf, &w);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(g_buf));
    assert_string_equal(
        g_buf,
        "{\"schema\":1,\"ts\":1764412800000,\"host\":\"hv-01\",\"agent_version\":\"0.1.0\","
        "\"interval_s\":5,\"libvirt_ok\":true,\"collect_path\":\"bulk\",\"cpus\":32,"
        "\"cpu_pct\":41.5,\"mem_total_kib\":263842908,\"mem_used_kib\":131921454,"
        "\"mem_used_pct\":50,\"load1\":13.02,\"vms_running\":2,\"vms_defined\":3,"
        "\"cols\":[\"name\",\"state\",\"stale\",\"cpu_pct\",\"mem_used_pct\","
        "\"disk_bytes_per_s\",\"net_bytes_per_s\",\"steal_pct\",\"disk_lat_ms\"],"
        "\"vms\":[[\"web-01\",\"running\",false,37.1,50,22020096,189001,0.5,2.76],"
        "[\"build/ci-7\",\"shutoff\",false,null,null,null,null,null,null],"
        "[\"db \\\"2\\\"\",\"running\",true,100,null,20971520,null,0.5,0.41]]}");
    assert_int_equal(w.n_vms, 3);
    assert_int_equal(w.omitted, 0);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct kg_summary_writer w;
    int n = encode_three(g_buf, sizeof g_buf, &w);
    char err[KG_ERRMSG_MAX];
    assert_int_equal(decode(g_buf, (size_t)n, err, sizeof err), 0);
    assert_string_equal(g_sum.host.name, "hv-01");
    assert_true(g_sum.host.ts_ms == 1764412800000);
    assert_true(g_sum.host.libvirt_ok);
    assert_true(g_sum.host.cpu_pct == 41.5);
    assert_true(kg_na(g_sum.host.load5));
    assert_int_equal(g_sum.n_vms, 3);
    assert_int_equal(g_sum.vms_omitted, 0);
    assert_int_equal(g_rows.n, 3);
    const struct kg_summary_vm *a = &g_rows.v[0], *b = &g_rows.v[1], *c = &g_rows.v[2];
    assert_string_equal(a->name, "web-01");
    assert_int_equal(a->state, KG_VM_RUNNING);
    assert_false(a->stale);
    assert_true(a->cpu_pct == 37.1 && a->mem_used_pct == 50 && a->steal_pct == 0.5);
    assert_true(a->disk_bytes_per_s == 22020096 && a->net_bytes_per_s == 189001);
    assert_true(a->disk_lat_ms == 2.76);
    assert_string_equal(b->name, "build/ci-7");
    assert_int_equal(b->state, KG_VM_SHUTOFF);
    assert_true(kg_na(b->cpu_pct) && kg_na(b->mem_used_pct) && kg_na(b->disk_bytes_per_s) &&
                kg_na(b->net_bytes_per_s) && kg_na(b->steal_pct) && kg_na(b->disk_lat_ms));
    assert_string_equal(c->name, "db \"2\"");
    assert_true(c->stale);
    assert_true(c->cpu_pct == 100 && kg_na(c->mem_used_pct));
    assert_true(c->disk_lat_ms == 0.41);
    /* the decoder without a callback only checks */
    assert_int_equal(kg_summary_decode(g_buf, (size_t)n, &g_sum, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(g_sum.n_vms, 3);
}

/* The rounding the protocol documents, and figures out of range as null. */
static void test_rounding(void **state)
{
    (void)state;
    static const struct {
        double cpu, bytes, lat;
        const char *cells;
    } cases[] = {
        {0, 0, 0, "0,null,0,0,null,0"},
        {0.04, 0.4, 0.004, "0,null,0,0,null,0"},
        {0.05, 0.5, 0.005, "0.1,null,1,1,null,0.01"},
        {99.96, 1e6 + 0.5, 1234567.891, "100,null,1000001,1000001,null,1234568"},
        {-1, -1, -1, "0,null,null,null,null,null"},
        {KG_NA, 18446744073709549568.0, 12.3, "null,null,18446744073709549568,18446744073709549568,null,12.3"},
    };
    struct kg_host h;
    host_of(&h);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kg_summary_writer w;
        assert_int_equal(kg_summary_begin(&w, g_buf, sizeof g_buf, &h), 0);
        struct kg_summary_vm r = {.name = "v", .state = KG_VM_RUNNING};
        r.cpu_pct = cases[i].cpu;
        r.mem_used_pct = r.steal_pct = KG_NA;
        r.disk_bytes_per_s = r.net_bytes_per_s = cases[i].bytes;
        r.disk_lat_ms = cases[i].lat;
        assert_int_equal(kg_summary_add_row(&w, &r), 0);
        int n = kg_summary_end(&w);
        assert_true(n > 0);
        char want[200];
        snprintf(want, sizeof want, "[[\"v\",\"running\",false,%s]]}", cases[i].cells);
        if (strcmp(g_buf + n - strlen(want), want) != 0)
            fail_msg("case %zu: %s, want ...%s", i, g_buf, want);
        char err[KG_ERRMSG_MAX];
        if (decode(g_buf, (size_t)n, err, sizeof err) != 0)
            fail_msg("case %zu: own output rejected: %s", i, err);
    }
}

#define HEAD "{\"schema\":1,\"ts\":1,\"host\":\"hv\","
#define COLS "\"cols\":[\"name\",\"state\",\"stale\",\"cpu_pct\"],"

static void test_columns_by_name(void **state)
{
    (void)state;
    char err[KG_ERRMSG_MAX];
    /* reordered, with a column this decoder does not know (any JSON value) */
    const char *j = HEAD "\"vms\":[[{\"x\":[1]},12.5,\"a\",true,\"paused\"],"
                         "[null,null,\"b\",false,\"running\"]],"
                         "\"cols\":[\"future\",\"cpu_pct\",\"name\",\"stale\",\"state\"]}";
    assert_int_equal(decode(j, strlen(j), err, sizeof err), 0);
    assert_int_equal(g_rows.n, 2);
    assert_string_equal(g_rows.v[0].name, "a");
    assert_true(g_rows.v[0].cpu_pct == 12.5 && g_rows.v[0].stale);
    assert_int_equal(g_rows.v[0].state, KG_VM_PAUSED);
    assert_true(kg_na(g_rows.v[1].cpu_pct) && kg_na(g_rows.v[1].disk_lat_ms));
    /* only the required columns, no rows */
    j = HEAD "\"cols\":[\"name\",\"state\",\"stale\"],\"vms\":[]}";
    assert_int_equal(decode(j, strlen(j), err, sizeof err), 0);
    assert_int_equal(g_sum.n_vms, 0);

    expect_bad(HEAD "\"cols\":[\"name\",\"state\"],\"vms\":[]}",
               "required column \"stale\" missing");
    expect_bad(HEAD "\"cols\":[\"name\",\"state\",\"stale\",\"name\"],\"vms\":[]}",
               "field \"cols[3]\": column \"name\" appears twice");
    expect_bad(HEAD "\"cols\":[\"name\",\"state\",\"stale\",\"x\",\"x\"],\"vms\":[]}",
               "appears twice");
    expect_bad(HEAD "\"cols\":[\"name\",\"state\",\"stale\",\"\"],\"vms\":[]}", "cols[3]");
    expect_bad(HEAD "\"cols\":[\"name\",\"state\",\"stale\",1],\"vms\":[]}",
               "field \"cols[3]\": expected a string, got a number");
    expect_bad(HEAD "\"cols\":\"name\",\"vms\":[]}", "field \"cols\": expected an array");
    expect_bad(HEAD "\"vms\":[]}", "missing required field \"cols\"");
    expect_bad(HEAD COLS "\"x\":1}", "missing required field \"vms\"");
    expect_bad(HEAD COLS "\"vms\":{}}", "field \"vms\": expected an array");
    expect_bad(HEAD COLS "\"vms\":[],\"vms\":[]}", "field \"vms\" appears twice");
    expect_bad(HEAD COLS "\"cols\":[\"name\",\"state\",\"stale\"],\"vms\":[]}",
               "field \"cols\" appears twice");
    char many[1024] = HEAD "\"cols\":[\"name\",\"state\",\"stale\"";
    for (int i = 0; i < KG_SUMMARY_COLS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), ",\"c%d\"", i);
    strcat(many, "],\"vms\":[]}");
    expect_bad(many, "more than 32 columns");
}

static void test_bad_rows(void **state)
{
    (void)state;
    /* the error names the row and the column; no row is handed out, even the
     * good ones before the bad one */
    expect_bad(HEAD COLS "\"vms\":[[\"a\",\"running\",false,1],[\"b\",\"running\",false,-1]]}",
               "field \"vms[1].cpu_pct\": -1 is outside 0..100");
    expect_bad(HEAD COLS "\"vms\":[[\"a\",\"running\",false,1],[\"b\",\"running\",false]]}",
               "field \"vms[1]\": 3 cells for 4 columns");
    expect_bad(HEAD COLS "\"vms\":[[\"a\",\"running\",false,1,2]]}",
               "field \"vms[0]\": more cells than the 4 columns");
    expect_bad(HEAD COLS "\"vms\":[{\"name\":\"a\"}]}", "field \"vms[0]\": expected an array");
    expect_bad(HEAD COLS "\"vms\":[[null,\"running\",false,1]]}",
               "field \"vms[0].name\": expected a string, got null");
    expect_bad(HEAD COLS "\"vms\":[[\"a\",null,false,1]]}", "field \"vms[0].state\"");
    expect_bad(HEAD COLS "\"vms\":[[\"a\",\"running\",null,1]]}",
               "field \"vms[0].stale\": expected true or false, got null");
    expect_bad(HEAD COLS "\"vms\":[[\"\",\"running\",false,1]]}", "field \"vms[0].name\": empty");
    expect_bad(HEAD COLS "\"vms\":[[\"a\",\"sleeping\",false,1]]}",
               "field \"vms[0].state\": unknown value \"sleeping\"");
    expect_bad(HEAD COLS "\"vms\":[[\"a\",\"running\",false,\"1\"]]}",
               "field \"vms[0].cpu_pct\": expected a number, got a string");
    expect_bad(HEAD COLS "\"vms\":[[\"a\",\"running\",0,1]]}", "field \"vms[0].stale\"");
    expect_bad(HEAD COLS "\"vms\":[[\"a\",\"running\",false,1e999]]}", "vms[0].cpu_pct");
    char name[300];
    memset(name, 'n', 256);
    name[256] = '\0';
    char j[600];
    snprintf(j, sizeof j, HEAD COLS "\"vms\":[[\"%s\",\"running\",false,1]]}", name);
    expect_bad(j, "field \"vms[0].name\": longer than 255 bytes");
    /* the header as strict as a host payload's */
    expect_bad("{\"schema\":2,\"ts\":1,\"host\":\"hv\"," COLS "\"vms\":[]}", "newer");
    expect_bad("{\"schema\":1,\"host\":\"hv\"," COLS "\"vms\":[]}", "missing required field \"ts\"");
    expect_bad("{\"schema\":1,\"ts\":1," COLS "\"vms\":[]}", "missing required field \"host\"");
    expect_bad(HEAD "\"cpu_pct\":null," COLS "\"vms\":[]}",
               "field \"cpu_pct\": expected a number, got null");
    expect_bad(HEAD "\"vms_omitted\":1.5," COLS "\"vms\":[]}", "vms_omitted");
    expect_bad(HEAD COLS "\"vms\":[]} x", "trailing data");
    expect_bad(HEAD COLS "\"vms\":[[[[[[[[[1]]]]]]]]]}", "nesting deeper than 8");
}

/* A callback's non-zero value stops the walk and is returned. */
static void test_callback_stops(void **state)
{
    (void)state;
    struct kg_summary_writer w;
    int n = encode_three(g_buf, sizeof g_buf, &w);
    memset(&g_rows, 0, sizeof g_rows);
    g_rows.stop_at = 1;
    char err[KG_ERRMSG_MAX];
    assert_int_equal(kg_summary_decode(g_buf, (size_t)n, &g_sum, on_row, &g_rows, err, sizeof err),
                     KG_ESTATE);
    assert_int_equal(g_rows.n, 1);
}

/* Rows that do not fit are left out, counted, and the summary still decodes. */
static void test_rows_left_out(void **state)
{
    (void)state;
    struct kg_host h;
    host_of(&h);
    static struct kg_vm vm;
    static char small[1200];
    struct kg_summary_writer w;
    assert_int_equal(kg_summary_begin(&w, small, sizeof small, &h), 0);
    unsigned ok = 0, out = 0;
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "instance-%08x", i);
        vm_of(&vm, name);
        int rc = kg_summary_add(&w, &vm);
        if (rc == 0) {
            ok++;
        } else {
            assert_int_equal(rc, KG_ETOOBIG);
            out++;
        }
    }
    /* an empty name and an unknown state are left out too */
    vm_of(&vm, "");
    assert_int_equal(kg_summary_add(&w, &vm), KG_EINVAL);
    vm_of(&vm, "x");
    vm.state = KG_VM_STATE_COUNT;
    assert_int_equal(kg_summary_add(&w, &vm), KG_EINVAL);
    out += 2;
    assert_true(ok > 5 && out > 5);
    int n = kg_summary_end(&w);
    assert_true(n > 0 && (size_t)n < sizeof small);
    assert_int_equal(kg_summary_add(&w, &vm), KG_ESTATE); /* ended */
    char err[KG_ERRMSG_MAX];
    assert_int_equal(decode(small, (size_t)n, err, sizeof err), 0);
    assert_int_equal(g_sum.n_vms, ok);
    assert_int_equal(g_sum.vms_omitted, out);
    assert_non_null(strstr(small, "]],\"vms_omitted\":"));

    /* a header that does not fit, or a host without a name: no summary */
    assert_int_equal(kg_summary_begin(&w, small, 100, &h), KG_ETOOBIG);
    assert_int_equal(kg_summary_add(&w, &vm), KG_ESTATE);
    assert_int_equal(kg_summary_end(&w), KG_ETOOBIG);
    assert_string_equal(small, "");
    h.name[0] = '\0';
    assert_int_equal(kg_summary_begin(&w, small, sizeof small, &h), KG_EINVAL);
    assert_int_equal(kg_summary_end(&w), KG_EINVAL);
    assert_int_equal(kg_summary_begin(&w, NULL, 10, &h), KG_EINVAL);
}

/* What the limit is for: 2000 VMs with 255-byte names fit, and decode. And a
 * payload over KG_SUMMARY_MAX is refused. */
static void test_large_host(void **state)
{
    (void)state;
    struct kg_host h;
    host_of(&h);
    static struct kg_vm vm;
    struct kg_summary_writer w;
    assert_int_equal(kg_summary_begin(&w, g_buf, sizeof g_buf, &h), 0);
    for (int i = 0; i < 2000; i++) {
        char name[256];
        memset(name, 'a' + i % 26, 255);
        snprintf(name + 240, 16, "-%014d", i);
        vm_of(&vm, name);
        vm.cpu_pct = 99.95;
        vm.disk_rd_bytes_per_s = 1e12;
        assert_int_equal(kg_summary_add(&w, &vm), 0);
    }
    int n = kg_summary_end(&w);
    assert_true(n > 0 && n <= KG_SUMMARY_MAX);
    char err[KG_ERRMSG_MAX];
    assert_int_equal(decode(g_buf, (size_t)n, err, sizeof err), 0);
    assert_int_equal(g_rows.n, 2000);
    assert_int_equal(strlen(g_rows.v[1999].name), 255);
    print_message("2000 VMs with 255-byte names: %d bytes (%.0f per VM)\n", n, n / 2000.0);

    char *big = malloc(KG_SUMMARY_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', KG_SUMMARY_MAX + 1);
    memcpy(big, "{}", 2);
    int rc = kg_summary_decode(big, KG_SUMMARY_MAX + 1, &g_sum, NULL, NULL, err, sizeof err);
    assert_int_equal(rc, KG_ETOOBIG);
    assert_non_null(strstr(err, "exceeds 1048576"));
    free(big);
}

static void test_truncated_every_byte(void **state)
{
    (void)state;
    struct kg_summary_writer w;
    int n = encode_three(g_buf, sizeof g_buf, &w);
    for (int len = 0; len < n; len++) {
        char err[KG_ERRMSG_MAX] = "";
        int rc = decode(g_buf, (size_t)len, err, sizeof err);
        if (rc >= 0 || err[0] == '\0')
            fail_msg("prefix of %d bytes accepted or no message: %.*s", len, len, g_buf);
        assert_int_equal(g_rows.n, 0);
    }
}

/* The decoder reads the bytes itself (no cJSON tree): the grammar is its own
 * to check, numbers are read as strtod reads them, strings unescaped as JSON
 * says. */
static void test_reader_grammar(void **state)
{
    (void)state;
    static const char *const bad[] = {
        HEAD COLS "\"vms\":[[\"a\",\"running\",false,1}]}",  /* mismatched bracket */
        HEAD COLS "\"vms\":[[\"a\",\"running\",false,1],]}", /* trailing comma */
        HEAD COLS "\"vms\":[[\"a\",\"running\",false,1][\"b\",\"running\",false,1]]}",
        HEAD COLS "\"vms\":[[\"a\" \"running\",false,1]]}",  /* missing comma */
        HEAD COLS "\"vms\":[[\"a\",\"running\",falsey,1]]}",
        HEAD COLS "\"vms\":[[\"a\",\"running\",false,1.]]}",
        HEAD COLS "\"vms\":[[\"a\",\"running\",false,-]]}",
        HEAD COLS "\"vms\":[[\"a\",\"running\",false,nul]]}",
        HEAD COLS "\"vms\":[]",                                 /* unterminated */
        HEAD COLS "\"vms\":[]}}",
        HEAD COLS "\"vms\":[],}",
        HEAD COLS "\"x\" 1,\"vms\":[]}",                        /* missing colon */
        HEAD COLS "\"x\":{\"a\":1,},\"vms\":[]}",
        HEAD COLS "\"x\":{1:2},\"vms\":[]}",
        HEAD COLS "\"x\":[1 2],\"vms\":[]}",
        HEAD COLS "\"vms\":",
        "[]", "\"s\"", "1", " ", "{", "}", "{\"schema\":1,}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_bad(bad[i], NULL);
    expect_bad("[1,2]", "top level is not a JSON object");
    expect_bad("{} {}", "trailing data");

    char err[KG_ERRMSG_MAX];
    /* whitespace anywhere, escapes, surrogate pairs, an empty object in an
     * unknown member */
    const char *j = " { \"schema\" : 1 ,\n\"ts\":1,\"host\":\"h\\/v\",\"x\":{},\"y\":[] ,\r\n"
                    "\"cols\" : [ \"name\" , \"state\" , \"stale\", \"cpu_pct\" ] ,\t\"vms\" : [ "
                    "[ \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\t\" , \"running\" , true , 1E+1 ] ] } ";
    assert_int_equal(decode(j, strlen(j), err, sizeof err), 0);
    assert_string_equal(g_sum.host.name, "h/v");
    assert_string_equal(g_rows.v[0].name, "caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" \t");
    assert_true(g_rows.v[0].cpu_pct == 10);
    /* numbers as strtod reads them, the quick way or not */
    static const char *const nums[] = {"0", "-0", "0.1", "37.1", "99.99", "12.345678901234",
                                       "1234567890123456", "0.30000000000000004", "1e1",
                                       "2.5E-1", "100", "1e2", "99.9999999999999999"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char buf[200];
        snprintf(buf, sizeof buf,
                 HEAD "\"cols\":[\"name\",\"state\",\"stale\",\"disk_lat_ms\"],"
                      "\"vms\":[[\"a\",\"running\",false,%s]]}", nums[i]);
        if (decode(buf, strlen(buf), err, sizeof err) != 0)
            fail_msg("%s: %s", nums[i], err);
        if (g_rows.v[0].disk_lat_ms != strtod(nums[i], NULL))
            fail_msg("%s read as %.17g", nums[i], g_rows.v[0].disk_lat_ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_exact),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_columns_by_name),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_rows_left_out),
        cmocka_unit_test(test_large_host),
        cmocka_unit_test(test_truncated_every_byte),
        cmocka_unit_test(test_reader_grammar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
