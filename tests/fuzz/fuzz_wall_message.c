/* SPDX-License-Identifier: MIT */
/*
 * Fuzz entry point for the wall's message path (viewer/src/model.c): topics and
 * payloads as the MQTT session hands them over, into the grid model. The input
 * is one or more messages separated by the byte 0x1E; in each, the topic runs
 * to the first newline and the payload is the rest (no newline: an empty
 * payload, i.e. a removal). The model has small caps (4 hosts, 16 VMs) so that
 * drops are reached too. Beyond "no crash, no leak, no UB" it checks what the
 * model promises after every message: at most the caps, each host's VM list
 * and the live VM slots agree, every VM names a host that exists, and every
 * message is counted exactly once (applied, removed, ignored, malformed or
 * dropped), and the hottest list names live VMs only. A record that is the
 * single byte 0x1D is a reconnect (model_sync_begin), 0x1C the end of the
 * broker's retained state (model_sync_end), so that VMs also leave by a sync.
 * Built as a libFuzzer target (clang, KVMGRID_FUZZ=ON) or linked with fuzz_main.c
 * as a corpus regression test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_wall_message: %s\n", what);
        abort();
    }
}

static void check_model(struct model *m, uint64_t messages)
{
    model_lock(m);
    check(m->n_hosts <= m->max_hosts, "more hosts than max_hosts");
    check(m->n_vms <= m->max_vms, "more VMs than max_vms");
    uint32_t listed = 0;
    for (uint32_t h = 0; h < m->n_hosts; h++) {
        for (uint32_t i = 0; i < m->hosts[h].n_vms; i++) {
            uint32_t v = m->hosts[h].vms[i];
            check(v < m->n_vm_slots, "a host lists a VM slot past the end");
            check(m->vms[v].flags & MODEL_VM_LIVE, "a host lists a free VM slot");
            check(m->vms[v].host == h, "a VM's host index disagrees with its host's list");
        }
        listed += m->hosts[h].n_vms;
    }
    check(listed == m->n_vms, "the hosts' VM lists do not add up to n_vms");
    for (int i = 0; i < MODEL_HOTTEST; i++)
        check(m->hottest[i] < 0 || ((uint32_t)m->hottest[i] < m->n_vm_slots &&
                                    (m->vms[m->hottest[i]].flags & MODEL_VM_LIVE)),
              "the hottest list names a free VM slot");
    uint64_t counted = m->applied + m->ignored + model_bad_total(m) + model_dropped_total(m);
    /* a removal of a VM counts as applied as well as removed */
    check(counted == messages, "a message was not counted exactly once");
    model_unlock(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct model *m = NULL;
    if (model_create("kvmgrid", 3, 5.0, &m) != 0)
        return 0;
    model_set_caps(m, 4, 16);
    uint64_t now = 1000, messages = 0;
    size_t pos = 0;
    while (pos <= size) {
        const uint8_t *rec = data + pos;
        const uint8_t *end = memchr(rec, 0x1E, size - pos);
        size_t n = end ? (size_t)(end - rec) : size - pos;
        const uint8_t *nl = memchr(rec, '\n', n);
        size_t tlen = nl ? (size_t)(nl - rec) : n;
        /* exact-size heap copies: the sanitizers see a read past either end */
        char *topic = malloc(tlen + 1);
        size_t plen = nl ? n - tlen - 1 : 0;
        char *payload = malloc(plen ? plen : 1);
        if (!topic || !payload) {
            free(topic);
            free(payload);
            break;
        }
        memcpy(topic, rec, tlen);
        topic[tlen] = '\0';
        if (plen)
            memcpy(payload, nl + 1, plen);
        if (!nl && tlen == 1 && (topic[0] == 0x1D || topic[0] == 0x1C)) {
            /* 0x1D: a reconnect (the last one's sync ends, a new one begins);
             * 0x1C: the broker says its retained state is all there */
            model_sync_end(m);
            if (topic[0] == 0x1D)
                model_sync_begin(m, now);
        } else {
            model_apply(m, topic, tlen, payload, plen, (messages & 1) != 0, now);
            messages++;
        }
        free(topic);
        free(payload);
        now += 700;
        if (messages % 3 == 0) { /* the view's twice-a-second recount, now and then */
            model_lock(m);
            model_tick(m, now, COLOUR_METRIC_CPU);
            model_unlock(m);
        }
        check_model(m, messages);
        if (!end)
            break;
        pos += n + 1;
    }
    model_lock(m);
    model_tick(m, now + 3600 * 1000, COLOUR_METRIC_CPU);
    model_unlock(m);
    model_free(m);
    return 0;
}
