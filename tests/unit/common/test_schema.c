/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the metric schema codecs (common/src/schema*.c): round trips of
 * the four payload kinds, the examples in docs/PROTOCOL.md, and a battery of bad
 * input (truncation at every byte, wrong types, bad numbers, deep nesting,
 * invalid UTF-8, oversize, missing fields, newer schema, long names, too many
 * devices). Every bad input must give an error code and a message, never a
 * crash: CI runs this under ASan + UBSan. Payloads are passed in exact-size heap
 * copies so that a read past the length is caught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"

enum kind { K_VM, K_HOST, K_CMD, K_STATE };
static const char *const kind_names[] = {"vm", "host", "load-cmd", "load-state"};

static char g_buf[KG_PAYLOAD_MAX + 1];

/* ---- helpers --------------------------------------------------------------- */

/* Decodes json[0..len) from an exact-size heap copy with the decoder of kind k. */
static int decode_as(enum kind k, const char *json, size_t len, char *errmsg, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, json, len);
    int rc;
    switch (k) {
    case K_VM: {
        struct kg_vm *vm = malloc(sizeof(*vm));
        assert_non_null(vm);
        rc = kg_vm_decode(copy, len, vm, errmsg, errlen);
        free(vm);
        break;
    }
    case K_HOST: {
        struct kg_host h;
        rc = kg_host_decode(copy, len, &h, errmsg, errlen);
        break;
    }
    case K_CMD: {
        struct kg_load_cmd c;
        rc = kg_load_cmd_decode(copy, len, &c, errmsg, errlen);
        break;
    }
    default: {
        struct kg_load_state s;
        rc = kg_load_state_decode(copy, len, &s, errmsg, errlen);
        break;
    }
    }
    free(copy);
    return rc;
}

/* Asserts that the payload is rejected with a code and a message. */
static void expect_bad_len(enum kind k, const char *json, size_t len)
{
    char err[KG_ERRMSG_MAX];
    memset(err, 0, sizeof(err));
    int rc = decode_as(k, json, len, err, sizeof(err));
    if (rc >= 0 || err[0] == '\0')
        print_error("accepted or no message (%s, rc %d): %.*s\n", kind_names[k], rc,
                    (int)(len > 300 ? 300 : len), json);
    assert_true(rc == KG_EPARSE || rc == KG_ETOOBIG || rc == KG_ERANGE || rc == KG_EINVAL);
    assert_true(err[0] != '\0');
}

static void expect_bad(enum kind k, const char *json)
{
    expect_bad_len(k, json, strlen(json));
}

static void expect_good(enum kind k, const char *json)
{
    char err[KG_ERRMSG_MAX] = "";
    int rc = decode_as(k, json, strlen(json), err, sizeof(err));
    if (rc != 0)
        print_error("rejected (%s): %s\n  %s\n", kind_names[k], err, json);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
}

static bool near(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    double tol = b >= 1e6 ? 0.5 : 0.0005;
    return fabs(a - b) <= tol;
}

#define ASSERT_NEAR(a, b)                                                              \
    do {                                                                               \
        if (!near((a), (b)))                                                           \
            fail_msg("%s: %.17g != %.17g", #a, (double)(a), (double)(b));              \
    } while (0)

/* ---- fixtures --------------------------------------------------------------- */

static void fill_vm(struct kg_vm *vm, unsigned disks, unsigned nets)
{
    kg_vm_init(vm);
    vm->ts_ms = INT64_C(1764412800123);
    strcpy(vm->host, "hv-01.example.org");
    strcpy(vm->name, "web+01 #blue \"quoted\" \\ caf\xc3\xa9");
    strcpy(vm->uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    vm->state = KG_VM_RUNNING;
    vm->vcpus = 4;
    vm->cpu_pct = 37.125;
    vm->cpu_host_pct = 4.641;
    vm->steal_pct = 0.5;
    vm->mem_max_kib = 4194304;
    vm->mem_cur_kib = 2097152;
    vm->mem_used_kib = 1048000;
    vm->mem_used_pct = 49.97;
    vm->mem_rss_kib = 2150400;
    vm->disk_rd_bytes_per_s = 1048576;
    vm->disk_wr_bytes_per_s = 20971520;
    vm->disk_rd_iops = 12.5;
    vm->disk_wr_iops = 320.25;
    vm->disk_rd_lat_ms = 0.412;
    vm->disk_wr_lat_ms = 2.75;
    vm->net_rx_bytes_per_s = 125000.5;
    vm->net_tx_bytes_per_s = 64000;
    vm->net_rx_pkts_per_s = 95.2;
    vm->net_tx_pkts_per_s = 60.8;
    vm->net_errs_per_s = 0;
    vm->net_drop_per_s = 0.2;
    vm->n_disks = disks;
    for (unsigned i = 0; i < disks; i++) {
        struct kg_disk *d = &vm->disks[i];
        snprintf(d->name, sizeof(d->name), "vd%c", 'a' + i);
        d->rd_bytes_per_s = 1000.0 * i;
        d->wr_bytes_per_s = 2000.5 + i;
        d->rd_iops = 1.25 * i;
        d->wr_iops = 3.5;
        d->rd_lat_ms = 0.125;
        d->wr_lat_ms = 1.5;
        d->rd_bytes = 18446744073709549568.0;  /* largest double below 2^64 */
        d->wr_bytes = 123456789012.0 + i;
    }
    vm->n_nets = nets;
    for (unsigned i = 0; i < nets; i++) {
        struct kg_net *n = &vm->nets[i];
        snprintf(n->name, sizeof(n->name), "vnet%u", i);
        n->rx_bytes_per_s = 125000.5;
        n->tx_bytes_per_s = 64000;
        n->rx_pkts_per_s = 95.2;
        n->tx_pkts_per_s = 60.8;
        n->rx_errs_per_s = 0;
        n->tx_errs_per_s = 0.001;
        n->rx_drop_per_s = 0.2;
        n->tx_drop_per_s = 0;
        n->rx_bytes = 9876543210.0;
        n->tx_bytes = 1234567890.0 + i;
    }
}

static void assert_vm_equal(const struct kg_vm *a, const struct kg_vm *b)
{
    assert_true(a->ts_ms == b->ts_ms);
    assert_string_equal(a->host, b->host);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->uuid, b->uuid);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->stale, b->stale);
    ASSERT_NEAR(a->age_s, b->age_s);
    ASSERT_NEAR(a->vcpus, b->vcpus);
    ASSERT_NEAR(a->cpu_pct, b->cpu_pct);
    ASSERT_NEAR(a->cpu_host_pct, b->cpu_host_pct);
    ASSERT_NEAR(a->steal_pct, b->steal_pct);
    ASSERT_NEAR(a->mem_max_kib, b->mem_max_kib);
    ASSERT_NEAR(a->mem_cur_kib, b->mem_cur_kib);
    ASSERT_NEAR(a->mem_used_kib, b->mem_used_kib);
    ASSERT_NEAR(a->mem_used_pct, b->mem_used_pct);
    ASSERT_NEAR(a->mem_rss_kib, b->mem_rss_kib);
    ASSERT_NEAR(a->disk_rd_bytes_per_s, b->disk_rd_bytes_per_s);
    ASSERT_NEAR(a->disk_wr_bytes_per_s, b->disk_wr_bytes_per_s);
    ASSERT_NEAR(a->disk_rd_iops, b->disk_rd_iops);
    ASSERT_NEAR(a->disk_wr_iops, b->disk_wr_iops);
    ASSERT_NEAR(a->disk_rd_lat_ms, b->disk_rd_lat_ms);
    ASSERT_NEAR(a->disk_wr_lat_ms, b->disk_wr_lat_ms);
    ASSERT_NEAR(a->net_rx_bytes_per_s, b->net_rx_bytes_per_s);
    ASSERT_NEAR(a->net_tx_bytes_per_s, b->net_tx_bytes_per_s);
    ASSERT_NEAR(a->net_rx_pkts_per_s, b->net_rx_pkts_per_s);
    ASSERT_NEAR(a->net_tx_pkts_per_s, b->net_tx_pkts_per_s);
    ASSERT_NEAR(a->net_errs_per_s, b->net_errs_per_s);
    ASSERT_NEAR(a->net_drop_per_s, b->net_drop_per_s);
    assert_int_equal(a->n_disks, b->n_disks);
    for (unsigned i = 0; i < a->n_disks; i++) {
        const struct kg_disk *x = &a->disks[i], *y = &b->disks[i];
        assert_string_equal(x->name, y->name);
        ASSERT_NEAR(x->rd_bytes_per_s, y->rd_bytes_per_s);
        ASSERT_NEAR(x->wr_bytes_per_s, y->wr_bytes_per_s);
        ASSERT_NEAR(x->rd_iops, y->rd_iops);
        ASSERT_NEAR(x->wr_iops, y->wr_iops);
        ASSERT_NEAR(x->rd_lat_ms, y->rd_lat_ms);
        ASSERT_NEAR(x->wr_lat_ms, y->wr_lat_ms);
        ASSERT_NEAR(x->rd_bytes, y->rd_bytes);
        ASSERT_NEAR(x->wr_bytes, y->wr_bytes);
    }
    assert_int_equal(a->n_nets, b->n_nets);
    for (unsigned i = 0; i < a->n_nets; i++) {
        const struct kg_net *x = &a->nets[i], *y = &b->nets[i];
        assert_string_equal(x->name, y->name);
        ASSERT_NEAR(x->rx_bytes_per_s, y->rx_bytes_per_s);
        ASSERT_NEAR(x->tx_bytes_per_s, y->tx_bytes_per_s);
        ASSERT_NEAR(x->rx_pkts_per_s, y->rx_pkts_per_s);
        ASSERT_NEAR(x->tx_pkts_per_s, y->tx_pkts_per_s);
        ASSERT_NEAR(x->rx_errs_per_s, y->rx_errs_per_s);
        ASSERT_NEAR(x->tx_errs_per_s, y->tx_errs_per_s);
        ASSERT_NEAR(x->rx_drop_per_s, y->rx_drop_per_s);
        ASSERT_NEAR(x->tx_drop_per_s, y->tx_drop_per_s);
        ASSERT_NEAR(x->rx_bytes, y->rx_bytes);
        ASSERT_NEAR(x->tx_bytes, y->tx_bytes);
    }
}

static void fill_host(struct kg_host *h)
{
    kg_host_init(h);
    h->ts_ms = INT64_C(1764412800000);
    strcpy(h->name, "hv-01.example.org");
    strcpy(h->agent_version, "0.1.0");
    h->interval_s = 5;
    h->libvirt_ok = false;
    strcpy(h->libvirt_error, "Failed to connect socket to '/var/run/libvirt/libvirt-sock'");
    strcpy(h->collect_path, "mixed");
    h->cpus = 32;
    h->cpu_pct = 41.5;
    h->mem_total_kib = 263842908;
    h->mem_used_kib = 131921454;
    h->mem_used_pct = 50;
    h->load1 = 13.02;
    h->load5 = 12.5;
    h->load15 = 11.98;
    h->disk_rd_bytes_per_s = 5242880;
    h->disk_wr_bytes_per_s = 73400320;
    h->net_rx_bytes_per_s = 1250000;
    h->net_tx_bytes_per_s = 980000.125;
    h->vms_running = 48;
    h->vms_defined = 52;
}

static void assert_host_equal(const struct kg_host *a, const struct kg_host *b)
{
    assert_true(a->ts_ms == b->ts_ms);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->agent_version, b->agent_version);
    ASSERT_NEAR(a->interval_s, b->interval_s);
    assert_int_equal(a->libvirt_ok, b->libvirt_ok);
    assert_string_equal(a->libvirt_error, b->libvirt_error);
    assert_string_equal(a->collect_path, b->collect_path);
    ASSERT_NEAR(a->cpus, b->cpus);
    ASSERT_NEAR(a->cpu_pct, b->cpu_pct);
    ASSERT_NEAR(a->mem_total_kib, b->mem_total_kib);
    ASSERT_NEAR(a->mem_used_kib, b->mem_used_kib);
    ASSERT_NEAR(a->mem_used_pct, b->mem_used_pct);
    ASSERT_NEAR(a->load1, b->load1);
    ASSERT_NEAR(a->load5, b->load5);
    ASSERT_NEAR(a->load15, b->load15);
    ASSERT_NEAR(a->disk_rd_bytes_per_s, b->disk_rd_bytes_per_s);
    ASSERT_NEAR(a->disk_wr_bytes_per_s, b->disk_wr_bytes_per_s);
    ASSERT_NEAR(a->net_rx_bytes_per_s, b->net_rx_bytes_per_s);
    ASSERT_NEAR(a->net_tx_bytes_per_s, b->net_tx_bytes_per_s);
    ASSERT_NEAR(a->vms_running, b->vms_running);
    ASSERT_NEAR(a->vms_defined, b->vms_defined);
}

static void fill_spec(struct kg_load_spec *s, enum kg_load_kind k, bool full)
{
    kg_load_spec_init(s);
    s->kind = k;
    if (k == KG_LOAD_CPU || full) {
        s->pct = 60;
        if (full) {
            s->workers = 2;
            s->ramp_to_pct = 100;
        }
    }
    if (k == KG_LOAD_MEM || full) {
        s->mib = 512;
        if (full)
            s->dirty_mib_per_s = 16.5;
    }
    if (k == KG_LOAD_DISK && full) {
        s->disk_mode = KG_DISK_RW;
        s->mb_per_s = 20;
        s->block_kib = 1024;
        s->direct = true;
    }
    if (full)
        s->duration_s = 120;
}

static void assert_spec_equal(const struct kg_load_spec *a, const struct kg_load_spec *b)
{
    assert_int_equal(a->kind, b->kind);
    ASSERT_NEAR(a->duration_s, b->duration_s);
    ASSERT_NEAR(a->workers, b->workers);
    ASSERT_NEAR(a->pct, b->pct);
    ASSERT_NEAR(a->ramp_to_pct, b->ramp_to_pct);
    ASSERT_NEAR(a->mib, b->mib);
    ASSERT_NEAR(a->dirty_mib_per_s, b->dirty_mib_per_s);
    if (a->kind == KG_LOAD_DISK) {
        assert_int_equal(a->disk_mode, b->disk_mode);
        assert_int_equal(a->direct, b->direct);
    }
    ASSERT_NEAR(a->mb_per_s, b->mb_per_s);
    ASSERT_NEAR(a->block_kib, b->block_kib);
}

static void fill_state(struct kg_load_state *s, enum kg_load_status st, bool full)
{
    kg_load_state_init(s);
    s->ts_ms = INT64_C(1764412805000);
    strcpy(s->node, "guest-03");
    s->status = st;
    if (st == KG_LOADST_RUNNING) {
        strcpy(s->id, "op-42");
        fill_spec(&s->spec, KG_LOAD_CPU, full);
        s->elapsed_s = 12.5;
        s->progress_pct = 10.417;
        s->cpu_pct = 59.8;
        if (full) {
            strcpy(s->scenario, "mixed");
            s->step = 2;
            s->steps = 3;
            s->mem_resident_mib = 512.25;
            s->disk_wr_mb_per_s = 19.9;
            s->disk_rd_mb_per_s = 0;
        }
    }
    if (full) {
        strcpy(s->last_reject_id, "op-41");
        strcpy(s->last_reject, "mib 65536 over the cap of 4096");
    }
}

static void assert_state_equal(const struct kg_load_state *a, const struct kg_load_state *b)
{
    assert_true(a->ts_ms == b->ts_ms);
    assert_string_equal(a->node, b->node);
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->scenario, b->scenario);
    assert_int_equal(a->step, b->step);
    assert_int_equal(a->steps, b->steps);
    assert_spec_equal(&a->spec, &b->spec);
    ASSERT_NEAR(a->elapsed_s, b->elapsed_s);
    ASSERT_NEAR(a->progress_pct, b->progress_pct);
    ASSERT_NEAR(a->cpu_pct, b->cpu_pct);
    ASSERT_NEAR(a->mem_resident_mib, b->mem_resident_mib);
    ASSERT_NEAR(a->disk_wr_mb_per_s, b->disk_wr_mb_per_s);
    ASSERT_NEAR(a->disk_rd_mb_per_s, b->disk_rd_mb_per_s);
    assert_string_equal(a->last_reject_id, b->last_reject_id);
    assert_string_equal(a->last_reject, b->last_reject);
}

/* Valid payloads of every kind, for the bad-input tests to mutate. */
static int encode_sample(enum kind k, int variant, char *buf, size_t size)
{
    switch (k) {
    case K_VM: {
        struct kg_vm *vm = malloc(sizeof(*vm));
        assert_non_null(vm);
        fill_vm(vm, variant ? 2 : 0, variant ? 1 : 0);
        int n = kg_vm_encode(vm, buf, size);
        free(vm);
        return n;
    }
    case K_HOST: {
        struct kg_host h;
        fill_host(&h);
        return kg_host_encode(&h, buf, size);
    }
    case K_CMD: {
        struct kg_load_cmd c;
        kg_load_cmd_init(&c);
        c.verb = KG_LOAD_START;
        strcpy(c.id, "op-7");
        fill_spec(&c.spec, variant ? KG_LOAD_DISK : KG_LOAD_CPU, true);
        return kg_load_cmd_encode(&c, buf, size);
    }
    default: {
        struct kg_load_state s;
        fill_state(&s, KG_LOADST_RUNNING, true);
        if (variant)
            fill_spec(&s.spec, KG_LOAD_DISK, true);
        return kg_load_state_encode(&s, buf, size);
    }
    }
}

/* ---- round trips ----------------------------------------------------------- */

static void test_vm_roundtrip_full(void **state)
{
    (void)state;
    static struct kg_vm a, b;
    unsigned shapes[][2] = {{2, 1}, {0, 0}, {KG_DEV_MAX, KG_DEV_MAX}};
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        fill_vm(&a, shapes[s][0], shapes[s][1]);
        int n = kg_vm_encode(&a, g_buf, sizeof(g_buf));
        assert_true(n > 0);
        assert_int_equal((size_t)n, strlen(g_buf));
        assert_true(n <= KG_PAYLOAD_MAX);
        char err[KG_ERRMSG_MAX];
        assert_int_equal(kg_vm_decode(g_buf, (size_t)n, &b, err, sizeof(err)), 0);
        assert_vm_equal(&a, &b);
    }
    /* stale with its age, and every state name */
    fill_vm(&a, 1, 1);
    a.stale = true;
    a.age_s = 42.5;
    for (int st = 0; st < KG_VM_STATE_COUNT; st++) {
        a.state = (enum kg_vm_state)st;
        int n = kg_vm_encode(&a, g_buf, sizeof(g_buf));
        assert_true(n > 0);
        assert_non_null(strstr(g_buf, "\"stale\":true"));
        assert_int_equal(kg_vm_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
        assert_vm_equal(&a, &b);
    }
}

static void test_vm_roundtrip_sparse(void **state)
{
    (void)state;
    static struct kg_vm a, b;
    kg_vm_init(&a);
    a.ts_ms = 1;
    strcpy(a.host, "h");
    strcpy(a.name, "v");
    a.state = KG_VM_SHUTOFF;
    int n = kg_vm_encode(&a, g_buf, sizeof(g_buf));
    assert_true(n > 0);
    assert_string_equal(g_buf, "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\","
                               "\"state\":\"shutoff\",\"stale\":false}");
    assert_int_equal(kg_vm_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_vm_equal(&a, &b);
    assert_true(kg_na(b.cpu_pct) && kg_na(b.mem_used_pct) && kg_na(b.disks[0].rd_iops));

    /* a disk with only its name and one figure */
    a.n_disks = 1;
    strcpy(a.disks[0].name, "sda");
    a.disks[0].wr_bytes = 7;
    n = kg_vm_encode(&a, g_buf, sizeof(g_buf));
    assert_non_null(strstr(g_buf, "\"disks\":[{\"name\":\"sda\",\"wr_bytes\":7}]"));
    assert_int_equal(kg_vm_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_vm_equal(&a, &b);
}

static void test_host_roundtrip(void **state)
{
    (void)state;
    struct kg_host a, b;
    fill_host(&a);
    int n = kg_host_encode(&a, g_buf, sizeof(g_buf));
    assert_true(n > 0);
    assert_int_equal(kg_host_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_host_equal(&a, &b);

    kg_host_init(&a);
    a.ts_ms = 5;
    strcpy(a.name, "x");
    n = kg_host_encode(&a, g_buf, sizeof(g_buf));
    assert_string_equal(g_buf, "{\"schema\":1,\"ts\":5,\"name\":\"x\",\"libvirt_ok\":true}");
    assert_int_equal(kg_host_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_host_equal(&a, &b);
    /* libvirt_ok absent means true */
    const char *j = "{\"schema\":1,\"ts\":5,\"name\":\"x\"}";
    assert_int_equal(kg_host_decode(j, strlen(j), &b, NULL, 0), 0);
    assert_true(b.libvirt_ok);
}

static void test_load_cmd_roundtrip(void **state)
{
    (void)state;
    struct kg_load_cmd a, b;
    for (int k = KG_LOAD_CPU; k <= KG_LOAD_DISK; k++) {
        for (int full = 0; full < 2; full++) {
            kg_load_cmd_init(&a);
            a.verb = KG_LOAD_START;
            if (full)
                strcpy(a.id, "op-1");
            fill_spec(&a.spec, (enum kg_load_kind)k, full);
            int n = kg_load_cmd_encode(&a, g_buf, sizeof(g_buf));
            assert_true(n > 0);
            char err[KG_ERRMSG_MAX];
            int rc = kg_load_cmd_decode(g_buf, (size_t)n, &b, err, sizeof(err));
            if (rc)
                fail_msg("%s: %s", g_buf, err);
            assert_int_equal(b.verb, KG_LOAD_START);
            assert_string_equal(a.id, b.id);
            assert_spec_equal(&a.spec, &b.spec);
        }
    }
    kg_load_cmd_init(&a);
    a.verb = KG_LOAD_SCENARIO;
    strcpy(a.scenario, "cpu-ramp_v2.1");
    int n = kg_load_cmd_encode(&a, g_buf, sizeof(g_buf));
    assert_string_equal(g_buf, "{\"schema\":1,\"cmd\":\"scenario\",\"scenario\":\"cpu-ramp_v2.1\"}");
    assert_int_equal(kg_load_cmd_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_int_equal(b.verb, KG_LOAD_SCENARIO);
    assert_string_equal(b.scenario, "cpu-ramp_v2.1");

    for (int v = KG_LOAD_STOP; v <= KG_LOAD_STATUS; v++) {
        kg_load_cmd_init(&a);
        a.verb = (enum kg_load_verb)v;
        strcpy(a.scenario, "ignored");  /* belongs to the scenario verb only */
        n = kg_load_cmd_encode(&a, g_buf, sizeof(g_buf));
        assert_true(n > 0);
        assert_null(strstr(g_buf, "scenario"));
        assert_int_equal(kg_load_cmd_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
        assert_int_equal(b.verb, v);
    }
    /* stop ignores load fields, even nonsense ones */
    const char *j = "{\"schema\":1,\"cmd\":\"stop\",\"kind\":\"warp\",\"pct\":\"x\"}";
    assert_int_equal(kg_load_cmd_decode(j, strlen(j), &b, NULL, 0), 0);
    assert_int_equal(b.verb, KG_LOAD_STOP);
}

static void test_load_state_roundtrip(void **state)
{
    (void)state;
    struct kg_load_state a, b;
    enum kg_load_status sts[] = {KG_LOADST_IDLE, KG_LOADST_RUNNING, KG_LOADST_OFFLINE};
    for (size_t i = 0; i < 3; i++) {
        for (int full = 0; full < 2; full++) {
            fill_state(&a, sts[i], full);
            int n = kg_load_state_encode(&a, g_buf, sizeof(g_buf));
            assert_true(n > 0);
            char err[KG_ERRMSG_MAX];
            int rc = kg_load_state_decode(g_buf, (size_t)n, &b, err, sizeof(err));
            if (rc)
                fail_msg("%s: %s", g_buf, err);
            assert_state_equal(&a, &b);
        }
    }
    fill_state(&a, KG_LOADST_RUNNING, true);
    fill_spec(&a.spec, KG_LOAD_DISK, true);
    int n = kg_load_state_encode(&a, g_buf, sizeof(g_buf));
    assert_true(n > 0);
    assert_int_equal(kg_load_state_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_state_equal(&a, &b);

    /* the will: the smallest state there is */
    kg_load_state_init(&a);
    a.ts_ms = 9;
    strcpy(a.node, "n");
    a.status = KG_LOADST_OFFLINE;
    kg_load_state_encode(&a, g_buf, sizeof(g_buf));
    assert_string_equal(g_buf, "{\"schema\":1,\"ts\":9,\"node\":\"n\",\"status\":\"offline\"}");
}

/* encode(decode(encode(x))) is byte-identical to encode(x). */
static void test_reencode_stable(void **state)
{
    (void)state;
    static char first[KG_PAYLOAD_MAX + 1];
    static struct kg_vm vm;
    for (int k = K_VM; k <= K_STATE; k++) {
        for (int variant = 0; variant < 2; variant++) {
            int n = encode_sample((enum kind)k, variant, first, sizeof(first));
            assert_true(n > 0);
            int m = -1;
            switch (k) {
            case K_VM:
                assert_int_equal(kg_vm_decode(first, (size_t)n, &vm, NULL, 0), 0);
                m = kg_vm_encode(&vm, g_buf, sizeof(g_buf));
                break;
            case K_HOST: {
                struct kg_host h;
                assert_int_equal(kg_host_decode(first, (size_t)n, &h, NULL, 0), 0);
                m = kg_host_encode(&h, g_buf, sizeof(g_buf));
                break;
            }
            case K_CMD: {
                struct kg_load_cmd c;
                assert_int_equal(kg_load_cmd_decode(first, (size_t)n, &c, NULL, 0), 0);
                m = kg_load_cmd_encode(&c, g_buf, sizeof(g_buf));
                break;
            }
            default: {
                struct kg_load_state s;
                assert_int_equal(kg_load_state_decode(first, (size_t)n, &s, NULL, 0), 0);
                m = kg_load_state_encode(&s, g_buf, sizeof(g_buf));
                break;
            }
            }
            assert_int_equal(m, n);
            assert_string_equal(g_buf, first);
        }
    }
}

/* ---- encoder details -------------------------------------------------------- */

static void test_encode_numbers(void **state)
{
    (void)state;
    struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 0;
    strcpy(h.name, "n");
    h.cpu_pct = 100.4;           /* clamped */
    h.mem_used_pct = -0.2;       /* clamped */
    h.load1 = 0.0004;            /* rounds to 0 */
    h.load5 = 2.0005;            /* up to 3 decimals */
    h.load15 = 1.10;
    h.disk_rd_bytes_per_s = 1234567.89;  /* integer from 1e6 up */
    h.disk_wr_bytes_per_s = -5;  /* negative: not available */
    h.net_rx_bytes_per_s = INFINITY;
    h.mem_total_kib = 1048575.6; /* whole */
    h.cpus = 7.6;                /* integer */
    h.vms_running = 1e300;       /* out of range: not available */
    int n = kg_host_encode(&h, g_buf, sizeof(g_buf));
    assert_true(n > 0);
    assert_string_equal(g_buf,
                        "{\"schema\":1,\"ts\":0,\"name\":\"n\",\"libvirt_ok\":true,\"cpus\":8,"
                        "\"cpu_pct\":100,\"mem_total_kib\":1048576,\"mem_used_pct\":0,"
                        "\"load1\":0,\"load5\":2.001,\"load15\":1.1,"
                        "\"disk_rd_bytes_per_s\":1234568}");
    struct kg_host b;
    assert_int_equal(kg_host_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_true(kg_na(b.disk_wr_bytes_per_s) && kg_na(b.net_rx_bytes_per_s) &&
                kg_na(b.vms_running));

    /* timestamps: negative and beyond year 9999 are invalid */
    h.ts_ms = -1;
    assert_int_equal(kg_host_encode(&h, g_buf, sizeof(g_buf)), KG_EINVAL);
    h.ts_ms = INT64_C(253402300800000);
    assert_int_equal(kg_host_encode(&h, g_buf, sizeof(g_buf)), KG_EINVAL);
}

/* The encoder's digits at every length and rounding edge, against printf's. */
static void test_encode_digits(void **state)
{
    (void)state;
    struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 0;
    strcpy(h.name, "n");
    char want[64];
    double p = 1;
    for (int k = 0; k <= 19; k++, p *= 10) {
        const double whole[] = {p - 1, p, p + 1, 2 * p, 9 * p};
        for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
            double v = whole[i];
            if (v < 0 || v > 18446744073709549568.0)
                continue;
            h.mem_total_kib = v; /* a counter: written whole */
            assert_true(kg_host_encode(&h, g_buf, sizeof(g_buf)) > 0);
            snprintf(want, sizeof(want), "\"mem_total_kib\":%.0f}", floor(v + 0.5));
            assert_non_null(strstr(g_buf, want)); /* the last member */
        }
    }
    h.mem_total_kib = 18446744073709549568.0;
    assert_true(kg_host_encode(&h, g_buf, sizeof(g_buf)) > 0);
    assert_non_null(strstr(g_buf, "\"mem_total_kib\":18446744073709549568}"));
    /* rates: up to 3 decimals, trailing zeros dropped, integers from 1e6 up */
    const struct {
        double v;
        const char *text;
    } rates[] = {
        {0, "0"},         {0.05, "0.05"},     {0.007, "0.007"},   {0.1, "0.1"},
        {1.0004, "1"},    {1.0005, "1.001"},  {9.99951, "10"},    {12.25, "12.25"},
        {99.999, "99.999"}, {100000.048, "100000.048"}, {999999.9994, "999999.999"},
        {999999.9996, "1000000"}, {1e6, "1000000"}, {1234567.5, "1234568"},
    };
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        h.load1 = rates[i].v;
        assert_true(kg_host_encode(&h, g_buf, sizeof(g_buf)) > 0);
        snprintf(want, sizeof(want), "\"load1\":%s", rates[i].text);
        const char *at = strstr(g_buf, want);
        assert_non_null(at);
        assert_true(at[strlen(want)] == ',' || at[strlen(want)] == '}');
    }
}

static void test_encode_strings(void **state)
{
    (void)state;
    struct kg_host h;
    kg_host_init(&h);
    h.ts_ms = 1;
    strcpy(h.name, "a\"b\\c\n\t\x01\x7f/\xff\xc3\xa9");
    int n = kg_host_encode(&h, g_buf, sizeof(g_buf));
    assert_true(n > 0);
    assert_non_null(strstr(g_buf, "\"name\":\"a\\\"b\\\\c\\n\\t\\u0001\x7f/\xef\xbf\xbd\xc3\xa9\""));
    struct kg_host b;
    assert_int_equal(kg_host_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_string_equal(b.name, "a\"b\\c\n\t\x01\x7f/\xef\xbf\xbd\xc3\xa9");

    /* empty name */
    h.name[0] = '\0';
    assert_int_equal(kg_host_encode(&h, g_buf, sizeof(g_buf)), KG_EINVAL);
    /* 255 invalid bytes become 765 bytes of U+FFFD: the name no longer fits */
    memset(h.name, 0xff, KG_NAME_MAX);
    h.name[KG_NAME_MAX] = '\0';
    assert_int_equal(kg_host_encode(&h, g_buf, sizeof(g_buf)), KG_EINVAL);
    /* 255 plain bytes fit */
    memset(h.name, 'x', KG_NAME_MAX);
    n = kg_host_encode(&h, g_buf, sizeof(g_buf));
    assert_true(n > 0);
    assert_int_equal(kg_host_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_int_equal(strlen(b.name), KG_NAME_MAX);

    /* informational strings are cut to fit on a character boundary */
    strcpy(h.name, "h");
    memset(h.libvirt_error, 0, sizeof(h.libvirt_error));
    for (size_t i = 0; i + 2 < sizeof(h.libvirt_error); i += 2)
        memcpy(h.libvirt_error + i, "\xc3\xa9", 2);
    h.libvirt_error[sizeof(h.libvirt_error) - 2] = '\xff';  /* 3 bytes once replaced */
    n = kg_host_encode(&h, g_buf, sizeof(g_buf));
    assert_true(n > 0);
    assert_int_equal(kg_host_decode(g_buf, (size_t)n, &b, NULL, 0), 0);
    assert_int_equal(strlen(b.libvirt_error), 126);

    /* uuid: written only when well-formed */
    static struct kg_vm vm;
    fill_vm(&vm, 0, 0);
    strcpy(vm.uuid, "not-a-uuid");
    kg_vm_encode(&vm, g_buf, sizeof(g_buf));
    assert_null(strstr(g_buf, "uuid"));
}

static void test_encode_buffer_sizes(void **state)
{
    (void)state;
    static char small[KG_PAYLOAD_MAX + 1];
    for (int k = K_VM; k <= K_STATE; k++) {
        int n = encode_sample((enum kind)k, 1, g_buf, sizeof(g_buf));
        assert_true(n > 0);
        for (size_t size = 0; size <= (size_t)n; size++) {
            memset(small, 'Z', sizeof(small));
            assert_int_equal(encode_sample((enum kind)k, 1, small, size), KG_ETOOBIG);
            assert_true(size == 0 || small[0] == '\0');
            assert_true(small[size] == 'Z');  /* nothing written past size */
        }
        assert_int_equal(encode_sample((enum kind)k, 1, small, (size_t)n + 1), n);
        assert_string_equal(small, g_buf);
    }
    assert_int_equal(kg_vm_encode(NULL, g_buf, sizeof(g_buf)), KG_EINVAL);
    assert_int_equal(kg_host_encode(NULL, g_buf, sizeof(g_buf)), KG_EINVAL);
    struct kg_host h;
    fill_host(&h);
    assert_int_equal(kg_host_encode(&h, NULL, 10), KG_EINVAL);
}

/* Even pathological devices never push a VM payload over KG_PAYLOAD_MAX. */
static void test_encode_vm_worst_case(void **state)
{
    (void)state;
    static struct kg_vm a, b;
    fill_vm(&a, KG_DEV_MAX, KG_DEV_MAX);
    memset(a.host, 0x01, KG_NAME_MAX);  /* 6 bytes each once escaped */
    a.host[KG_NAME_MAX] = '\0';
    memset(a.name, '"', KG_NAME_MAX);
    a.name[KG_NAME_MAX] = '\0';
    for (unsigned i = 0; i < KG_DEV_MAX; i++) {
        memset(a.disks[i].name, 0x02, KG_DEV_NAME_MAX - 1);
        a.disks[i].name[KG_DEV_NAME_MAX - 1] = '\0';
        memset(a.nets[i].name, 0x03, KG_DEV_NAME_MAX - 1);
        a.nets[i].name[KG_DEV_NAME_MAX - 1] = '\0';
        double *figs[] = {&a.disks[i].rd_bytes_per_s, &a.disks[i].wr_bytes_per_s,
                          &a.disks[i].rd_iops, &a.disks[i].wr_iops, &a.disks[i].rd_lat_ms,
                          &a.disks[i].wr_lat_ms, &a.disks[i].rd_bytes, &a.disks[i].wr_bytes,
                          &a.nets[i].rx_bytes_per_s, &a.nets[i].tx_bytes_per_s,
                          &a.nets[i].rx_pkts_per_s, &a.nets[i].tx_pkts_per_s,
                          &a.nets[i].rx_errs_per_s, &a.nets[i].tx_errs_per_s,
                          &a.nets[i].rx_drop_per_s, &a.nets[i].tx_drop_per_s,
                          &a.nets[i].rx_bytes, &a.nets[i].tx_bytes};
        for (size_t f = 0; f < sizeof(figs) / sizeof(figs[0]); f++)
            *figs[f] = 1.7e19;
    }
    /* callers size their buffers KG_PAYLOAD_MAX exactly */
    static char exact[KG_PAYLOAD_MAX];
    int n = kg_vm_encode(&a, exact, sizeof(exact));
    assert_true(n > 0 && n < KG_PAYLOAD_MAX);
    n = kg_vm_encode(&a, g_buf, sizeof(g_buf));
    assert_true(n > 0 && n < KG_PAYLOAD_MAX);
    assert_string_equal(exact, g_buf);
    char err[KG_ERRMSG_MAX];
    assert_int_equal(kg_vm_decode(g_buf, (size_t)n, &b, err, sizeof(err)), 0);
    assert_string_equal(a.host, b.host);
    assert_string_equal(a.name, b.name);
    ASSERT_NEAR(a.cpu_pct, b.cpu_pct);
    /* the devices were dropped, the sums stay */
    assert_int_equal(b.n_disks, 0);
    assert_int_equal(b.n_nets, 0);
    ASSERT_NEAR(a.disk_wr_bytes_per_s, b.disk_wr_bytes_per_s);

    a.n_disks = KG_DEV_MAX + 1;
    assert_int_equal(kg_vm_encode(&a, g_buf, sizeof(g_buf)), KG_EINVAL);
}

static void test_encode_cmd_invalid(void **state)
{
    (void)state;
    struct kg_load_cmd c;
    kg_load_cmd_init(&c);
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_EINVAL); /* no verb */
    c.verb = KG_LOAD_START;
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_EINVAL); /* no kind */
    c.spec.kind = KG_LOAD_CPU;
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_EINVAL); /* no pct */
    c.spec.pct = 101;
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_ERANGE);
    c.spec.pct = 50;
    c.spec.workers = 0;
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_ERANGE);
    c.spec.workers = NAN;
    c.spec.duration_s = INFINITY;
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_ERANGE);
    c.spec.duration_s = NAN;
    assert_true(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)) > 0);
    c.spec.kind = KG_LOAD_MEM;
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_EINVAL); /* no mib */
    c.spec.mib = 1e9;
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_ERANGE);

    kg_load_cmd_init(&c);
    c.verb = KG_LOAD_SCENARIO;
    assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_EINVAL);
    const char *bad_names[] = {"../etc/passwd", ".hidden", "a/b", "sp ace", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        strcpy(c.scenario, bad_names[i]);
        assert_false(kg_scenario_name_valid(bad_names[i]));
        assert_int_equal(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)), KG_EINVAL);
    }
    memset(c.scenario, 'a', 63);
    c.scenario[63] = '\0';
    assert_true(kg_scenario_name_valid(c.scenario));
    assert_true(kg_load_cmd_encode(&c, g_buf, sizeof(g_buf)) > 0);
}

static void test_enum_names(void **state)
{
    (void)state;
    const char *states[] = {"nostate", "running", "blocked", "paused", "shutdown", "shutoff",
                            "crashed", "pmsuspended"};
    for (int i = 0; i < KG_VM_STATE_COUNT; i++) {
        assert_string_equal(kg_vm_state_name((enum kg_vm_state)i), states[i]);
        enum kg_vm_state s;
        assert_int_equal(kg_vm_state_parse(states[i], strlen(states[i]), &s), 0);
        assert_int_equal(s, i);
    }
    enum kg_vm_state s;
    assert_int_equal(kg_vm_state_parse("runnin", 6, &s), KG_EINVAL);
    assert_int_equal(kg_vm_state_parse("running", 6, &s), KG_EINVAL);
    assert_int_equal(kg_vm_state_parse(NULL, 0, &s), KG_EINVAL);
    assert_string_equal(kg_vm_state_name(KG_VM_STATE_COUNT), "unknown");
    assert_string_equal(kg_load_kind_name(KG_LOAD_DISK), "disk");
    enum kg_load_kind k;
    assert_int_equal(kg_load_kind_parse("mem", 3, &k), 0);
    assert_int_equal(k, KG_LOAD_MEM);
    assert_string_equal(kg_load_verb_name(KG_LOAD_SCENARIO), "scenario");
    assert_string_equal(kg_disk_mode_name(KG_DISK_RW), "rw");
    assert_string_equal(kg_load_status_name(KG_LOADST_OFFLINE), "offline");
    assert_string_equal(kg_load_status_name((enum kg_load_status)7), "unknown");
}

/* ---- docs/PROTOCOL.md examples ---------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *data = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            data = realloc(data, cap);
            assert_non_null(data);
        }
        size_t got = fread(data + n, 1, 4096, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

/* Every ```json block in docs/PROTOCOL.md follows a line "<!-- example: KIND -->"
 * (vm, host, load-cmd, load-state, summary) and decodes with that kind's decoder; a
 * Home Assistant discovery config (ha-config) is test_ha's to check. */
#define HA_CONFIG (-3)
#define SUMMARY (-4)
static int decode_summary(const char *json, size_t len, char *errmsg, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, json, len);
    struct kg_summary *s = malloc(sizeof *s);
    assert_non_null(s);
    int rc = kg_summary_decode(copy, len, s, NULL, NULL, errmsg, errlen);
    free(s);
    free(copy);
    return rc;
}

static void test_protocol_examples(void **state)
{
    (void)state;
    size_t len;
    char *doc = read_file(KG_SOURCE_DIR "/docs/PROTOCOL.md", &len);
    int marker = -1;
    unsigned counts[4] = {0}, blocks = 0, summaries = 0;
    char *line = doc;
    static char block[KG_PAYLOAD_MAX + 1];
    while (line && *line) {
        char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        char *next = eol ? eol + 1 : NULL;
        const char *mk = "<!-- example: ";
        if (ll > strlen(mk) && strncmp(line, mk, strlen(mk)) == 0) {
            marker = -2;
            for (int k = 0; k < 4; k++) {
                size_t kl = strlen(kind_names[k]);
                if (strncmp(line + strlen(mk), kind_names[k], kl) == 0 &&
                    strncmp(line + strlen(mk) + kl, " -->", 4) == 0)
                    marker = k;
            }
            if (marker == -2 && strncmp(line, "<!-- example: ha-config -->", ll) == 0)
                marker = HA_CONFIG; /* Home Assistant discovery: test_ha compares it */
            if (marker == -2 && strncmp(line, "<!-- example: summary -->", ll) == 0)
                marker = SUMMARY;
            if (marker == -2)
                fail_msg("unknown example marker: %.*s", (int)ll, line);
        } else if (ll >= 7 && strncmp(line, "```json", 7) == 0) {
            blocks++;
            if (marker < 0 && marker != HA_CONFIG && marker != SUMMARY)
                fail_msg("```json block %u has no <!-- example: KIND --> line before it", blocks);
            size_t bl = 0;
            line = next;
            while (line && strncmp(line, "```", 3) != 0) {
                eol = strchr(line, '\n');
                ll = eol ? (size_t)(eol - line + 1) : strlen(line);
                assert_true(bl + ll < sizeof(block));
                memcpy(block + bl, line, ll);
                bl += ll;
                line = eol ? eol + 1 : NULL;
            }
            if (!line)
                fail_msg("unterminated ```json block %u", blocks);
            block[bl] = '\0';
            if (marker == HA_CONFIG) {
                marker = -1;
                eol = strchr(line, '\n');
                line = eol ? eol + 1 : NULL;
                continue;
            }
            char err[KG_ERRMSG_MAX] = "";
            if (marker == SUMMARY) {
                if (decode_summary(block, bl, err, sizeof err) != 0)
                    fail_msg("PROTOCOL.md example %u (summary) does not decode: %s\n%s", blocks,
                             err, block);
                summaries++;
                marker = -1;
                eol = strchr(line, '\n');
                line = eol ? eol + 1 : NULL;
                continue;
            }
            int rc = decode_as((enum kind)marker, block, bl, err, sizeof(err));
            if (rc != 0)
                fail_msg("PROTOCOL.md example %u (%s) does not decode: %s\n%s", blocks,
                         kind_names[marker], err, block);
            counts[marker]++;
            marker = -1;
            eol = strchr(line, '\n');
            next = eol ? eol + 1 : NULL;
        }
        line = next;
    }
    free(doc);
    /* host; VM full and stale; start cpu/mem/disk, scenario, stop, status;
     * idle, running, rejection, offline will */
    assert_true(counts[K_HOST] >= 1);
    assert_true(counts[K_VM] >= 2);
    assert_true(counts[K_CMD] >= 6);
    assert_true(counts[K_STATE] >= 4);
    assert_true(summaries >= 1);
}

/* ---- bad input -------------------------------------------------------------- */

static void test_truncated_every_byte(void **state)
{
    (void)state;
    static char full[KG_PAYLOAD_MAX + 1];
    for (int k = K_VM; k <= K_STATE; k++) {
        for (int variant = 0; variant < 2; variant++) {
            int n = encode_sample((enum kind)k, variant, full, sizeof(full));
            assert_true(n > 0);
            for (size_t cut = 0; cut < (size_t)n; cut++)
                expect_bad_len((enum kind)k, full, cut);
        }
    }
}

enum jkind { J_NUM, J_STR, J_BOOL, J_NULL, J_ARR, J_OBJ };

static enum jkind jkind_of(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return J_NUM;
    if (cJSON_IsString(v))
        return J_STR;
    if (cJSON_IsBool(v))
        return J_BOOL;
    if (cJSON_IsNull(v))
        return J_NULL;
    if (cJSON_IsArray(v))
        return J_ARR;
    return J_OBJ;
}

static cJSON *make_of(enum jkind j)
{
    switch (j) {
    case J_NUM: return cJSON_CreateNumber(1);
    case J_STR: return cJSON_CreateString("x");
    case J_BOOL: return cJSON_CreateTrue();
    case J_NULL: return cJSON_CreateNull();
    case J_ARR: return cJSON_CreateArray();
    default: return cJSON_CreateObject();
    }
}

/* Replaces node by repl under parent, keeping the member's key (cJSON's
 * ReplaceItemViaPointer alone would leave the replacement without a key). */
static void replace_node(cJSON *parent, cJSON *node, cJSON *repl)
{
    assert_non_null(repl);
    if (cJSON_IsObject(parent))
        assert_true(cJSON_ReplaceItemInObjectCaseSensitive(parent, node->string, repl));
    else
        assert_true(cJSON_ReplaceItemViaPointer(parent, node, repl));
}

/* The idx-th node below the root in depth-first order, with its parent. */
static cJSON *nth_node(cJSON *parent, int *idx, cJSON **out_parent)
{
    for (cJSON *c = parent->child; c; c = c->next) {
        if ((*idx)-- == 0) {
            *out_parent = parent;
            return c;
        }
        cJSON *r = nth_node(c, idx, out_parent);
        if (r)
            return r;
    }
    return NULL;
}

/* Every node of every sample payload replaced by a value of each other JSON type:
 * every field is type-checked, in objects nested in arrays too. */
static void test_wrong_types(void **state)
{
    (void)state;
    static char base[KG_PAYLOAD_MAX + 1];
    unsigned tried = 0;
    for (int k = K_VM; k <= K_STATE; k++) {
        int n = encode_sample((enum kind)k, 1, base, sizeof(base));
        assert_true(n > 0);
        for (int idx = 0;; idx++) {
            bool found = false;
            for (int j = J_NUM; j <= J_OBJ; j++) {
                cJSON *root = cJSON_Parse(base);
                assert_non_null(root);
                cJSON *parent = NULL;
                int i = idx;
                cJSON *node = nth_node(root, &i, &parent);
                if (!node) {
                    cJSON_Delete(root);
                    break;
                }
                found = true;
                if (jkind_of(node) == (enum jkind)j) {
                    cJSON_Delete(root);
                    continue;
                }
                replace_node(parent, node, make_of((enum jkind)j));
                char *text = cJSON_PrintUnformatted(root);
                assert_non_null(text);
                expect_bad((enum kind)k, text);
                tried++;
                free(text);
                cJSON_Delete(root);
            }
            if (!found)
                break;
        }
    }
    assert_true(tried > 300);
}

/* Every number of every sample payload replaced by bad number text. */
static void test_bad_numbers(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "1e999", "-1e999", "-1", "-0.001",
        "1e300", "18446744073709551616", "1e20", "0x10", "1.", ".5", "+1", "01", "1e", "1e+",
        "--1", "1.2.3", "12345678901234567890123456789012345678901234567890",
    };
    static char base[KG_PAYLOAD_MAX + 1];
    static char text2[KG_PAYLOAD_MAX + 64];
    unsigned tried = 0;
    for (int k = K_VM; k <= K_STATE; k++) {
        int n = encode_sample((enum kind)k, 1, base, sizeof(base));
        assert_true(n > 0);
        for (int idx = 0;; idx++) {
            cJSON *root = cJSON_Parse(base);
            cJSON *parent = NULL;
            int i = idx;
            cJSON *node = nth_node(root, &i, &parent);
            if (!node) {
                cJSON_Delete(root);
                break;
            }
            if (cJSON_IsNumber(node)) {
                replace_node(parent, node, cJSON_CreateString("@@NUM@@"));
                char *text = cJSON_PrintUnformatted(root);
                char *at = strstr(text, "\"@@NUM@@\"");
                assert_non_null(at);
                for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
                    snprintf(text2, sizeof(text2), "%.*s%s%s", (int)(at - text), text, bad[b],
                             at + strlen("\"@@NUM@@\""));
                    expect_bad((enum kind)k, text2);
                    tried++;
                }
                free(text);
            }
            cJSON_Delete(root);
        }
    }
    assert_true(tried > 500);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    static char text[4096];
    /* 1000 levels inside an unknown field */
    size_t n = (size_t)snprintf(text, sizeof(text), "{\"schema\":1,\"x\":");
    for (int i = 0; i < 1000; i++)
        text[n++] = '[';
    for (int i = 0; i < 1000; i++)
        text[n++] = ']';
    text[n++] = '}';
    text[n] = '\0';
    for (int k = K_VM; k <= K_STATE; k++)
        expect_bad((enum kind)k, text);
    /* 1000 open brackets only, objects, and mixed */
    memset(text, '[', 1000);
    expect_bad_len(K_VM, text, 1000);
    n = 0;
    for (int i = 0; i < 500; i++)
        n += (size_t)sprintf(text + n, "{\"a\":");
    expect_bad_len(K_HOST, text, n);

    /* exactly KG_JSON_DEPTH_MAX levels (root + 7) are fine; one more is not */
    const char *ok = "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"x\":[[[[[[[1]]]]]]]}";
    expect_good(K_HOST, ok);
    const char *deep = "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"x\":[[[[[[[[1]]]]]]]]}";
    expect_bad(K_HOST, deep);
    const char *deep2 = "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"x\":{\"a\":{\"a\":{\"a\":{\"a\":"
                        "{\"a\":{\"a\":{\"a\":{}}}}}}}}}";
    expect_bad(K_HOST, deep2);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const char *const seqs[] = {
        "\xff", "\xfe", "\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\xf0\x9f\x99",
        "\xc3", "\xe2\x28\xa1",
    };
    char text[256];
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        /* in a name */
        snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"name\":\"ab%scd\"}", seqs[i]);
        expect_bad(K_HOST, text);
        /* in an unknown field's value, in a key, and outside strings */
        snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"z\":\"%s\"}", seqs[i]);
        expect_bad(K_HOST, text);
        snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"%s\":1}", seqs[i]);
        expect_bad(K_HOST, text);
        snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"name\":\"h\"%s}", seqs[i]);
        expect_bad(K_HOST, text);
        snprintf(text, sizeof(text), "%s{\"schema\":1,\"ts\":1,\"name\":\"h\"}", seqs[i]);
        expect_bad(K_HOST, text);
    }
    /* surrogates and NUL by escape */
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"\\ud800\"}");
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"\\udc00x\"}");
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"\\ud800\\u0041\"}");
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"a\\u0000b\"}");
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"\\u12\"}");
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"\\x41\"}");
    /* raw control character and raw NUL */
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"a\tb\"}");
    expect_bad_len(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"a\0b\"}", 33);
    expect_bad_len(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"ab\"}\0", 32);
    /* valid UTF-8 and escapes are fine */
    expect_good(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"h\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82\"}");
    expect_good(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"\\ud83d\\ude42 \\u00e9 \\/\"}");
}

static void test_oversized_and_empty(void **state)
{
    (void)state;
    static char text[KG_PAYLOAD_MAX + 2];
    const char *j = "{\"schema\":1,\"ts\":1,\"name\":\"h\"}";
    memset(text, ' ', sizeof(text));
    memcpy(text, j, strlen(j));
    char err[KG_ERRMSG_MAX];
    struct kg_host h;
    assert_int_equal(kg_host_decode(text, KG_PAYLOAD_MAX, &h, err, sizeof(err)), 0);
    for (int k = K_VM; k <= K_STATE; k++) {
        expect_bad_len((enum kind)k, text, KG_PAYLOAD_MAX + 1);
        assert_int_equal(decode_as((enum kind)k, text, KG_PAYLOAD_MAX + 1, err, sizeof(err)),
                         KG_ETOOBIG);
        expect_bad_len((enum kind)k, "", 0);
        expect_bad((enum kind)k, "   ");
        expect_bad((enum kind)k, "\n");
    }
    assert_int_equal(kg_host_decode(NULL, 5, &h, err, sizeof(err)), KG_EINVAL);
    assert_true(err[0] != '\0');
    assert_int_equal(kg_host_decode(j, strlen(j), NULL, err, sizeof(err)), KG_EINVAL);
    /* errmsg may be NULL or tiny */
    assert_int_equal(kg_host_decode("[", 1, &h, NULL, 0), KG_EPARSE);
    char tiny[4] = "zzz";
    assert_int_equal(kg_host_decode("[", 1, &h, tiny, sizeof(tiny)), KG_EPARSE);
    assert_int_equal(strlen(tiny), 3);
}

static void test_not_an_object(void **state)
{
    (void)state;
    static const char *const tops[] = {
        "[]", "[{\"schema\":1}]", "1", "\"x\"", "null", "true", "false", "{", "}", "{}",
        "{\"schema\":1,\"ts\":1,\"name\":\"h\"}x", "{\"schema\":1,\"ts\":1,\"name\":\"h\"}{}",
        "{\"schema\":1,\"ts\":1,\"name\":\"h\",}", "{\"schema\":1 \"ts\":1}", "{'schema':1}",
        "{schema:1}", "{\"schema\":1,\"ts\":1,\"name\":\"h\"]", "{\"schema\":tru}",
        "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"x\":undefined}", "/* c */{}",
    };
    for (int k = K_VM; k <= K_STATE; k++)
        for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
            expect_bad((enum kind)k, tops[i]);
}

/* Removes key (a dotted path: "disks.0.name" style is "disks[0].name") and
 * checks the error names it. */
static void expect_missing(enum kind k, const char *base, const char *obj_key, int arr_idx,
                           const char *key)
{
    cJSON *root = cJSON_Parse(base);
    assert_non_null(root);
    cJSON *obj = root;
    if (obj_key) {
        obj = cJSON_GetObjectItemCaseSensitive(root, obj_key);
        if (arr_idx >= 0)
            obj = cJSON_GetArrayItem(obj, arr_idx);
    }
    assert_non_null(obj);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(obj, key));
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    char *text = cJSON_PrintUnformatted(root);
    char err[KG_ERRMSG_MAX] = "";
    int rc = decode_as(k, text, strlen(text), err, sizeof(err));
    if (rc == 0 || !strstr(err, key))
        fail_msg("missing %s: rc %d, \"%s\" for %s", key, rc, err, text);
    free(text);
    cJSON_Delete(root);
}

static void test_missing_required(void **state)
{
    (void)state;
    static char base[KG_PAYLOAD_MAX + 1];
    encode_sample(K_VM, 1, base, sizeof(base));
    const char *vm_req[] = {"schema", "ts", "host", "name", "state"};
    for (size_t i = 0; i < 5; i++)
        expect_missing(K_VM, base, NULL, -1, vm_req[i]);
    expect_missing(K_VM, base, "disks", 1, "name");
    expect_missing(K_VM, base, "nets", 0, "name");

    encode_sample(K_HOST, 0, base, sizeof(base));
    const char *host_req[] = {"schema", "ts", "name"};
    for (size_t i = 0; i < 3; i++)
        expect_missing(K_HOST, base, NULL, -1, host_req[i]);

    encode_sample(K_CMD, 0, base, sizeof(base));
    expect_missing(K_CMD, base, NULL, -1, "schema");
    expect_missing(K_CMD, base, NULL, -1, "cmd");
    expect_missing(K_CMD, base, NULL, -1, "kind");
    expect_missing(K_CMD, base, NULL, -1, "pct");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"start\",\"kind\":\"mem\",\"duration_s\":5}");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"start\",\"kind\":\"none\",\"pct\":5}");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"scenario\"}");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"scenario\",\"scenario\":\"\"}");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"scenario\",\"scenario\":\"../../etc/x\"}");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"launch\"}");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"Start\",\"kind\":\"cpu\",\"pct\":5}");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"start\",\"kind\":\"gpu\",\"pct\":5}");
    expect_bad(K_CMD, "{\"schema\":1,\"cmd\":\"start\",\"kind\":\"disk\",\"mode\":\"append\"}");
    expect_good(K_CMD, "{\"schema\":1,\"cmd\":\"start\",\"kind\":\"disk\"}");

    encode_sample(K_STATE, 0, base, sizeof(base));
    const char *st_req[] = {"schema", "ts", "node", "status"};
    for (size_t i = 0; i < 4; i++)
        expect_missing(K_STATE, base, NULL, -1, st_req[i]);
    expect_missing(K_STATE, base, "load", -1, "kind");
    expect_bad(K_STATE, "{\"schema\":1,\"ts\":1,\"node\":\"n\",\"status\":\"busy\"}");
    expect_bad(K_STATE, "{\"schema\":1,\"ts\":1,\"node\":\"\",\"status\":\"idle\"}");
    expect_bad(K_VM, "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"zombie\"}");
    expect_bad(K_VM, "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"running\","
                     "\"uuid\":\"6695eb01-f6a4-8304-79aa-97f2502e193\"}");
}

static void test_schema_version(void **state)
{
    (void)state;
#define SCHEMA_FMT "{\"schema\":%s,\"ts\":1,\"name\":\"h\"}"
    const char *bad[] = {"2", "0", "-1", "1.5", "\"1\"", "null", "true", "1e999", "100000000000"};
    char text[128], err[KG_ERRMSG_MAX];
    struct kg_host h;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), SCHEMA_FMT, bad[i]);
        expect_bad(K_HOST, text);
    }
    snprintf(text, sizeof(text), SCHEMA_FMT, "2");
    assert_int_equal(kg_host_decode(text, strlen(text), &h, err, sizeof(err)), KG_ERANGE);
    assert_non_null(strstr(err, "newer"));
    /* a newer payload is refused before its other fields are looked at */
    const char *v2 = "{\"schema\":2,\"ts\":\"2026-11-29\",\"name\":{}}";
    assert_int_equal(kg_host_decode(v2, strlen(v2), &h, err, sizeof(err)), KG_ERANGE);
    snprintf(text, sizeof(text), SCHEMA_FMT, "1.0");
    expect_good(K_HOST, text);
    snprintf(text, sizeof(text), SCHEMA_FMT, "1e0");
    expect_good(K_HOST, text);
    /* unknown fields are ignored, of any type */
    expect_good(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"gpu_pct\":5,\"tags\":[\"a\",{}],"
                        "\"extra\":{\"x\":null},\"Name\":7}");
    /* but a known field twice is an error */
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"cpu_pct\":5,\"cpu_pct\":6}");
    expect_bad(K_HOST, "{\"schema\":1,\"schema\":1,\"ts\":1,\"name\":\"h\"}");
    expect_bad(K_VM, "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"running\","
                     "\"disks\":[],\"disks\":[]}");
}

static void test_long_names(void **state)
{
    (void)state;
    static char text[4096], name[1024];
    char err[KG_ERRMSG_MAX];
    struct kg_host h;
    /* host name: 255 bytes fit, 256 do not (counted after unescaping) */
    memset(name, 'a', KG_NAME_MAX);
    name[KG_NAME_MAX] = '\0';
    snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"name\":\"%s\"}", name);
    expect_good(K_HOST, text);
    snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"name\":\"%sb\"}", name);
    expect_bad(K_HOST, text);
    assert_int_equal(kg_host_decode(text, strlen(text), &h, err, sizeof(err)), KG_ETOOBIG);
    assert_non_null(strstr(err, "name"));
    /* 128 x "\u00e9" is 256 bytes once decoded */
    size_t n = 0;
    for (int i = 0; i < 128; i++)
        n += (size_t)sprintf(name + n, "\\u00e9");
    snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"name\":\"%s\"}", name);
    expect_bad(K_HOST, text);
    /* the same for VM host and name, node, device names, ids, errors */
    memset(name, 'a', 300);
    name[300] = '\0';
    snprintf(text, sizeof(text),
             "{\"schema\":1,\"ts\":1,\"host\":\"%s\",\"name\":\"v\",\"state\":\"running\"}", name);
    expect_bad(K_VM, text);
    snprintf(text, sizeof(text),
             "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"%s\",\"state\":\"running\"}", name);
    expect_bad(K_VM, text);
    snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"node\":\"%s\",\"status\":\"idle\"}",
             name);
    expect_bad(K_STATE, text);
    const char *dev31 = "0123456789012345678901234567890";
    snprintf(text, sizeof(text),
             "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"running\","
             "\"disks\":[{\"name\":\"%s\"}],\"nets\":[{\"name\":\"%s\"}]}", dev31, dev31);
    expect_good(K_VM, text);
    snprintf(text, sizeof(text),
             "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"running\","
             "\"disks\":[{\"name\":\"%sX\"}]}", dev31);
    expect_bad(K_VM, text);
    snprintf(text, sizeof(text),
             "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"running\","
             "\"nets\":[{\"name\":\"%sX\"}]}", dev31);
    expect_bad(K_VM, text);
    name[64] = '\0';
    snprintf(text, sizeof(text), "{\"schema\":1,\"cmd\":\"stop\",\"id\":\"%s\"}", name);
    expect_bad(K_CMD, text);
    name[63] = '\0';
    snprintf(text, sizeof(text), "{\"schema\":1,\"cmd\":\"stop\",\"id\":\"%s\"}", name);
    expect_good(K_CMD, text);
    memset(name, 'r', 160);
    name[160] = '\0';
    snprintf(text, sizeof(text),
             "{\"schema\":1,\"ts\":1,\"node\":\"n\",\"status\":\"idle\",\"last_reject\":\"%s\"}",
             name);
    expect_bad(K_STATE, text);
    memset(name, 'v', 16);
    name[16] = '\0';
    snprintf(text, sizeof(text), "{\"schema\":1,\"ts\":1,\"name\":\"h\",\"agent_version\":\"%s\"}",
             name);
    expect_bad(K_HOST, text);
    expect_bad(K_HOST, "{\"schema\":1,\"ts\":1,\"name\":\"\"}");
}

static void test_too_many_devices(void **state)
{
    (void)state;
    static char text[KG_PAYLOAD_MAX];
    char err[KG_ERRMSG_MAX];
    for (int which = 0; which < 2; which++) {
        for (int count = KG_DEV_MAX; count <= KG_DEV_MAX + 1; count++) {
            size_t n = (size_t)snprintf(text, sizeof(text),
                                        "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\","
                                        "\"state\":\"running\",\"%s\":[",
                                        which ? "nets" : "disks");
            for (int i = 0; i < count; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{\"name\":\"d%d\"}",
                                      i ? "," : "", i);
            n += (size_t)snprintf(text + n, sizeof(text) - n, "]}");
            if (count == KG_DEV_MAX) {
                expect_good(K_VM, text);
            } else {
                expect_bad(K_VM, text);
                assert_int_equal(decode_as(K_VM, text, n, err, sizeof(err)), KG_ETOOBIG);
            }
        }
    }
    expect_bad(K_VM, "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"running\","
                     "\"disks\":[1]}");
    expect_bad(K_VM, "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"running\","
                     "\"disks\":[{\"name\":\"a\"},[]]}");
}

/* On error the output is reset, not half-filled. */
static void test_error_resets_output(void **state)
{
    (void)state;
    static struct kg_vm vm;
    static char good[KG_PAYLOAD_MAX + 1];
    int n = encode_sample(K_VM, 1, good, sizeof(good));
    assert_int_equal(kg_vm_decode(good, (size_t)n, &vm, NULL, 0), 0);
    assert_true(vm.n_disks == 2 && vm.name[0]);
    /* valid up to the last field, then a bad one */
    const char *bad = "{\"schema\":1,\"ts\":1,\"host\":\"h\",\"name\":\"v\",\"state\":\"running\","
                      "\"cpu_pct\":5,\"disks\":[{\"name\":\"a\",\"rd_iops\":1},{\"name\":7}]}";
    assert_true(kg_vm_decode(bad, strlen(bad), &vm, NULL, 0) < 0);
    assert_int_equal(vm.n_disks, 0);
    assert_string_equal(vm.name, "");
    assert_string_equal(vm.disks[0].name, "");
    assert_true(kg_na(vm.cpu_pct) && kg_na(vm.disks[0].rd_iops));
}

/* The viewer's JSON line of a VM: the payload's fields without devices, with
 * stale and age_s as judged, offline and the alerts added; one line. */
static void test_vm_seen_encode(void **state)
{
    (void)state;
    static struct kg_vm vm;
    kg_vm_init(&vm);
    vm.ts_ms = 1764400000000;
    snprintf(vm.host, sizeof(vm.host), "h/1");
    snprintf(vm.name, sizeof(vm.name), "a\nb");
    vm.state = KG_VM_RUNNING;
    vm.cpu_pct = 12.5;
    vm.n_disks = 1;
    snprintf(vm.disks[0].name, sizeof(vm.disks[0].name), "vda");
    vm.disks[0].rd_bytes_per_s = 1;
    struct kg_vm_seen seen = {true, true, 42.25, 2, {"OFFLINE", "CPU"}, KG_NA, KG_NA, KG_NA,
                              NULL, 0};
    char buf[KG_PAYLOAD_MAX];
    int n = kg_vm_seen_encode(&vm, &seen, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    assert_null(strchr(buf, '\n'));
    assert_string_equal(buf, "{\"schema\":1,\"ts\":1764400000000,\"host\":\"h/1\","
                             "\"name\":\"a\\nb\",\"state\":\"running\",\"stale\":true,"
                             "\"age_s\":42.25,\"cpu_pct\":12.5,\"offline\":true,"
                             "\"alerts\":[\"OFFLINE\",\"CPU\"]}");
    cJSON *j = cJSON_ParseWithLength(buf, (size_t)n);
    assert_non_null(j);
    cJSON_Delete(j);
    /* the VM's own stale and age do not leak through; no alerts is [] */
    vm.stale = true;
    vm.age_s = 30;
    struct kg_vm_seen calm = {false, false, KG_NA, 0, {NULL}, KG_NA, KG_NA, KG_NA, NULL, 0};
    n = kg_vm_seen_encode(&vm, &calm, buf, sizeof(buf));
    assert_true(n > 0);
    assert_non_null(strstr(buf, "\"stale\":false,"));
    assert_null(strstr(buf, "age_s"));
    assert_non_null(strstr(buf, "\"offline\":false,\"alerts\":[]}"));
    /* the summary's reductions when available (bytes/s whole), and the group */
    struct kg_vm_seen sums = calm;
    sums.disk_bytes_per_s = 1500.4;
    sums.net_bytes_per_s = 0;
    sums.disk_lat_ms = 2.25;
    sums.group = "site 1\"";
    sums.group_len = 7;
    n = kg_vm_seen_encode(&vm, &sums, buf, sizeof(buf));
    assert_true(n > 0);
    assert_non_null(strstr(buf, ",\"disk_bytes_per_s\":1500,\"net_bytes_per_s\":0,"
                                "\"disk_lat_ms\":2.25,\"group\":\"site 1\\\"\",\"offline\""));
    sums.disk_bytes_per_s = -1; /* nothing a figure can be: left out */
    sums.group_len = 0;
    n = kg_vm_seen_encode(&vm, &sums, buf, sizeof(buf));
    assert_null(strstr(buf, "disk_bytes_per_s"));
    assert_null(strstr(buf, "group"));
    /* refusals */
    seen.n_alerts = KG_VM_SEEN_ALERTS_MAX + 1;
    assert_int_equal(kg_vm_seen_encode(&vm, &seen, buf, sizeof(buf)), KG_EINVAL);
    assert_int_equal(kg_vm_seen_encode(&vm, &calm, buf, 20), KG_ETOOBIG);
    assert_string_equal(buf, "");
    vm.name[0] = '\0';
    assert_int_equal(kg_vm_seen_encode(&vm, &calm, buf, sizeof(buf)), KG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_roundtrip_full),
        cmocka_unit_test(test_vm_roundtrip_sparse),
        cmocka_unit_test(test_host_roundtrip),
        cmocka_unit_test(test_load_cmd_roundtrip),
        cmocka_unit_test(test_load_state_roundtrip),
        cmocka_unit_test(test_reencode_stable),
        cmocka_unit_test(test_encode_numbers),
        cmocka_unit_test(test_encode_digits),
        cmocka_unit_test(test_encode_strings),
        cmocka_unit_test(test_encode_buffer_sizes),
        cmocka_unit_test(test_vm_seen_encode),
        cmocka_unit_test(test_encode_vm_worst_case),
        cmocka_unit_test(test_encode_cmd_invalid),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_protocol_examples),
        cmocka_unit_test(test_truncated_every_byte),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_oversized_and_empty),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_schema_version),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_too_many_devices),
        cmocka_unit_test(test_error_resets_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
