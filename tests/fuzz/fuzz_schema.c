/* SPDX-License-Identifier: MIT */
/*
 * Fuzz entry point for the four payload decoders (common/src/schema_decode.c). Every
 * input goes through every decoder; beyond "no crash, no leak, no UB" it checks
 * the codec's promises: a rejection always comes with a message, and whatever a
 * decoder accepts re-encodes to a payload that decodes again and re-encodes to
 * the same bytes. Built as a libFuzzer target (clang, KVMGRID_FUZZ=ON) or linked
 * with fuzz_main.c as a corpus regression test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_schema: %s: %s\n", what, detail);
        abort();
    }
}

static char e1[KG_PAYLOAD_MAX], e2[KG_PAYLOAD_MAX];  /* as callers size them */

/* One kind: decode, and on success encode / decode / encode again. */
#define ROUND(TYPE, DECODE, ENCODE, NAME)                                                \
    do {                                                                                 \
        static TYPE a, b;                                                                \
        char err[KG_ERRMSG_MAX] = "";                                                    \
        int rc = DECODE(json, size, &a, err, sizeof(err));                               \
        if (rc < 0) {                                                                    \
            check(err[0] != '\0', NAME ": error without a message", "");                 \
            break;                                                                       \
        }                                                                                \
        int n1 = ENCODE(&a, e1, sizeof(e1));                                             \
        check(n1 > 0 && n1 < KG_PAYLOAD_MAX, NAME ": accepted but not re-encodable", ""); \
        rc = DECODE(e1, (size_t)n1, &b, err, sizeof(err));                               \
        check(rc == 0, NAME ": own output rejected", err);                               \
        int n2 = ENCODE(&b, e2, sizeof(e2));                                             \
        check(n2 == n1 && memcmp(e1, e2, (size_t)n1) == 0, NAME ": re-encoding differs", e1); \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    ROUND(struct kg_vm, kg_vm_decode, kg_vm_encode, "vm");
    ROUND(struct kg_host, kg_host_decode, kg_host_encode, "host");
    ROUND(struct kg_load_cmd, kg_load_cmd_decode, kg_load_cmd_encode, "load-cmd");
    ROUND(struct kg_load_state, kg_load_state_decode, kg_load_state_encode, "load-state");
    return 0;
}
