/* SPDX-License-Identifier: MIT */
/* The pure rooms' test grid (see grid_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "grid_fixture.h"
#include "kvmgrid/schema.h"
#include "kvmgrid/topic.h"

static char payload[KG_PAYLOAD_MAX];

void fixture_vm_apply(struct model *m, const struct kg_vm *v, uint64_t now_ms)
{
    int len = kg_vm_encode(v, payload, sizeof(payload));
    assert_true(len > 0);
    char esc[KG_NAME_ESC_MAX + 1], topic[KG_TOPIC_MAX];
    assert_true(kg_topic_escape(v->name, strlen(v->name), esc, sizeof(esc)) > 0);
    snprintf(topic, sizeof(topic), "kvmgrid/%s/vm/%s", v->host, esc);
    model_apply(m, topic, strlen(topic), payload, (size_t)len, true, now_ms);
}

void fixture_host_apply(struct model *m, const struct kg_host *h, uint64_t now_ms)
{
    int len = kg_host_encode(h, payload, sizeof(payload));
    assert_true(len > 0);
    char topic[KG_TOPIC_MAX];
    int tl = kg_topic_build(topic, sizeof(topic), "kvmgrid", KG_TOPIC_METRICS, h->name, NULL);
    assert_true(tl > 0);
    model_apply(m, topic, (size_t)tl, payload, (size_t)len, true, now_ms);
}

void fixture_vm_init(struct kg_vm *v, const char *host, const char *name)
{
    kg_vm_init(v);
    v->ts_ms = 1764400000000;
    snprintf(v->host, sizeof(v->host), "%s", host);
    snprintf(v->name, sizeof(v->name), "%s", name);
    v->state = KG_VM_RUNNING;
    v->cpu_pct = 50;
    v->vcpus = 4;
}

void fixture_vm(struct model *m, const char *host, const char *name)
{
    struct kg_vm v;
    fixture_vm_init(&v, host, name);
    fixture_vm_apply(m, &v, 1000);
}

void fixture_layout(struct layout_grid *g, struct model *m)
{
    model_lock(m);
    assert_int_equal(layout_grid_order(g, m, LAYOUT_SORT_NAME, NULL, 0, NULL, 0, 1000, NULL), 0);
    model_unlock(m);
    struct layout_params p = {{0, 0, 640, 400}, 0, 6, 0};
    assert_int_equal(layout_grid_place(g, &p), 0);
}

void fixture_grid(struct model **m, struct layout_grid *g)
{
    assert_int_equal(model_create("kvmgrid", 3, 3600, m), 0);
    /* added out of order: the layout sorts them */
    const char *a[] = {"a3", "a0", "a6", "a1", "a2", "a5", "a4"};
    for (size_t i = 0; i < 7; i++)
        fixture_vm(*m, "h1", a[i]);
    model_apply(*m, "kvmgrid/h2/status", 17, "online", 6, true, 1000);
    fixture_vm(*m, "h3", "c2");
    fixture_vm(*m, "h3", "c0");
    fixture_vm(*m, "h3", "c1");
    memset(g, 0, sizeof(*g));
    fixture_layout(g, *m);
}

void fixture_tile_centre(const struct layout_grid *g, struct model *m, const char *host,
                         const char *vm, int *x, int *y)
{
    model_lock(m);
    int32_t h = model_find_host(m, host, strlen(host));
    assert_true(h >= 0);
    int32_t v = model_find_vm(m, (uint32_t)h, vm, strlen(vm));
    assert_true(v >= 0 && m->vms[v].pos >= 0);
    int32_t b = g->host_block[h];
    assert_true(b >= 0);
    struct layout_rect t = layout_tile_rect(&g->lr, &g->blocks[b], (uint32_t)m->vms[v].pos);
    model_unlock(m);
    *x = t.x + t.w / 2;
    *y = t.y + t.h / 2;
}

int grid_fixture_setup(void **state)
{
    static struct grid_fixture f;
    fixture_grid(&f.m, &f.g);
    view_init(&f.v, VIEW_SHOW_CPU, LAYOUT_SORT_NAME, true);
    *state = &f;
    return 0;
}

int grid_fixture_teardown(void **state)
{
    struct grid_fixture *f = *state;
    layout_grid_free(&f->g);
    model_free(f->m);
    return 0;
}
