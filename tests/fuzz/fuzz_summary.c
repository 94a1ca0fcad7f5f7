/* SPDX-License-Identifier: MIT */
/*
 * Fuzz entry point for the host summary decoder (kg_summary_decode in
 * common/src/schema_decode.c) and its encoder. Beyond "no crash, no leak, no
 * UB" it checks the codec's promises: a rejection comes with a message and
 * hands out no row; an accepted summary hands out exactly n_vms rows, in order,
 * each with a name and a known state; and it re-encodes (rows, host and the
 * rows left out) to a summary that decodes to the same rows and re-encodes to
 * the same bytes. The decoder reads the bytes itself (no tree), so cJSON is
 * its reference: what it accepts cJSON parses too, to an object whose "vms"
 * rows hold, cell by cell, what the decoder handed out. Built as a libFuzzer
 * target (clang, KVMGRID_FUZZ=ON) or linked with fuzz_main.c as a corpus
 * regression test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kvmgrid/error.h"
#include "kvmgrid/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_summary: %s: %s\n", what, detail);
        abort();
    }
}

#define ROWS_MAX 4096

struct rows {
    unsigned n;
    bool overflow;
    struct kg_summary_vm v[ROWS_MAX];
};

static int collect(void *ctx, unsigned i, const struct kg_summary_vm *vm)
{
    struct rows *r = ctx;
    check(r->overflow || i == r->n, "rows out of order", vm->name);
    check(vm->name[0] != '\0', "a row without a name", "");
    check(vm->state < KG_VM_STATE_COUNT, "a row with an unknown state", vm->name);
    if (r->n == ROWS_MAX) {
        r->overflow = true;
        return 0;
    }
    r->v[r->n++] = *vm;
    return 0;
}

/* Same row, with NaN equal to NaN. */
static bool same_num(double a, double b)
{
    return (kg_na(a) && kg_na(b)) || a == b;
}

static bool same_row(const struct kg_summary_vm *a, const struct kg_summary_vm *b)
{
    return strcmp(a->name, b->name) == 0 && a->state == b->state && a->stale == b->stale &&
           same_num(a->cpu_pct, b->cpu_pct) && same_num(a->mem_used_pct, b->mem_used_pct) &&
           same_num(a->disk_bytes_per_s, b->disk_bytes_per_s) &&
           same_num(a->net_bytes_per_s, b->net_bytes_per_s) &&
           same_num(a->steal_pct, b->steal_pct) && same_num(a->disk_lat_ms, b->disk_lat_ms);
}

/* The figure columns and where a row keeps them. */
static const struct {
    const char *col;
    size_t off;
} figs[] = {
    {"cpu_pct", offsetof(struct kg_summary_vm, cpu_pct)},
    {"mem_used_pct", offsetof(struct kg_summary_vm, mem_used_pct)},
    {"disk_bytes_per_s", offsetof(struct kg_summary_vm, disk_bytes_per_s)},
    {"net_bytes_per_s", offsetof(struct kg_summary_vm, net_bytes_per_s)},
    {"steal_pct", offsetof(struct kg_summary_vm, steal_pct)},
    {"disk_lat_ms", offsetof(struct kg_summary_vm, disk_lat_ms)},
};
#define N_FIGS (sizeof figs / sizeof figs[0])

/* The rows as cJSON reads the same bytes: each cell of a known column equal to
 * what the decoder handed out (null: not available). */
static void check_against_cjson(const char *json, size_t size, const struct rows *r)
{
    cJSON *root = cJSON_ParseWithLength(json, size);
    check(cJSON_IsObject(root), "accepted, but cJSON does not parse it to an object", "");
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(root, "cols");
    const cJSON *vms = cJSON_GetObjectItemCaseSensitive(root, "vms");
    check(cJSON_IsArray(cols) && cJSON_IsArray(vms), "accepted without cols or vms arrays", "");
    check(cJSON_GetArraySize(vms) == (int)r->n, "row count differs from cJSON's", "");
    unsigned i = 0;
    for (const cJSON *row = vms->child; row; row = row->next, i++) {
        const struct kg_summary_vm *v = &r->v[i];
        const cJSON *cell = row->child;
        for (const cJSON *c = cols->child; c; c = c->next, cell = cell ? cell->next : NULL) {
            check(cell != NULL, "a row shorter than cols in cJSON's reading", v->name);
            const char *k = c->valuestring;
            double want = KG_NA, got;
            if (strcmp(k, "name") == 0) {
                check(cJSON_IsString(cell) && strcmp(cell->valuestring, v->name) == 0,
                      "name differs from cJSON's", v->name);
                continue;
            } else if (strcmp(k, "state") == 0) {
                check(cJSON_IsString(cell) &&
                          strcmp(cell->valuestring, kg_vm_state_name(v->state)) == 0,
                      "state differs from cJSON's", v->name);
                continue;
            } else if (strcmp(k, "stale") == 0) {
                check(cJSON_IsBool(cell) && cJSON_IsTrue(cell) == v->stale,
                      "stale differs from cJSON's", v->name);
                continue;
            }
            size_t f = 0;
            while (f < N_FIGS && strcmp(figs[f].col, k) != 0)
                f++;
            if (f == N_FIGS)
                continue; /* a column the decoder does not know */
            memcpy(&got, (const char *)v + figs[f].off, sizeof got);
            if (cJSON_IsNumber(cell))
                want = cell->valuedouble;
            else
                check(cJSON_IsNull(cell), "a figure that is neither a number nor null", k);
            check(same_num(want, got), "a figure differs from cJSON's", k);
        }
        check(cell == NULL, "a row longer than cols in cJSON's reading", v->name);
    }
    cJSON_Delete(root);
}

static char e1[KG_SUMMARY_MAX + 1], e2[KG_SUMMARY_MAX + 1];

/* Decodes into *s, the rows into *r. */
static int decode(const char *json, size_t size, struct kg_summary *s, struct rows *r, char *err,
                  size_t errlen)
{
    r->n = 0;
    r->overflow = false;
    return kg_summary_decode(json, size, s, collect, r, err, errlen);
}
static struct rows r0, r1, r2;

static int encode(const struct kg_summary *s, const struct rows *r, char *buf)
{
    struct kg_summary_writer w;
    int rc = kg_summary_begin(&w, buf, KG_SUMMARY_MAX + 1, &s->host);
    check(rc == 0, "accepted host does not begin a summary", s->host.name);
    for (unsigned i = 0; i < r->n; i++)
        check(kg_summary_add_row(&w, &r->v[i]) == 0, "accepted row not re-encodable",
              r->v[i].name);
    w.omitted += s->vms_omitted;
    return kg_summary_end(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    static struct kg_summary s0, s1, s2;
    char err[KG_ERRMSG_MAX] = "";
    int rc = decode(json, size, &s0, &r0, err, sizeof err);
    if (rc < 0) {
        check(err[0] != '\0', "error without a message", "");
        check(r0.n == 0 && !r0.overflow, "rows handed out for a rejected summary", err);
        check(s0.n_vms == 0 && s0.host.name[0] == '\0', "output left half-filled", err);
        return 0;
    }
    check(rc == 0, "unexpected return value", "");
    check(r0.overflow || s0.n_vms == r0.n, "n_vms differs from the rows handed out", "");
    if (r0.overflow)
        return 0;
    check_against_cjson(json, size, &r0);
    int n1 = encode(&s0, &r0, e1);
    check(n1 > 0, "accepted but not re-encodable", "");
    rc = decode(e1, (size_t)n1, &s1, &r1, err, sizeof err);
    check(rc == 0, "own output rejected", err);
    check(s1.vms_omitted == s0.vms_omitted, "vms_omitted changed", e1);
    check(r1.n == r0.n, "row count changed", e1);
    int n2 = encode(&s1, &r1, e2);
    check(n2 == n1 && memcmp(e1, e2, (size_t)n1) == 0, "re-encoding differs", e1);
    rc = decode(e2, (size_t)n2, &s2, &r2, err, sizeof err);
    check(rc == 0 && r2.n == r1.n, "second decode differs", err);
    for (unsigned i = 0; i < r1.n; i++)
        check(same_row(&r1.v[i], &r2.v[i]), "row changed through encode/decode", r1.v[i].name);
    return 0;
}
