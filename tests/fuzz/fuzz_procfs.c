/* SPDX-License-Identifier: MIT */
/*
 * Fuzz entry point for the agent's /proc parsers (agent/procfs.c). The input is
 * up to five files separated by the byte 0x1E, in this order: stat, meminfo,
 * loadavg, diskstats, net/dev (the fifth runs to the end of the input, 0x1E
 * bytes and all; a file left out is parsed as empty). Each goes to its parser
 * through fmemopen, from an exact-size heap copy so that sanitizers see a read
 * past its end. Beyond "no crash, no leak, no UB" it checks what procfs.h
 * promises: the result is 0 or KG_EPARSE; a parser writes only its own part of
 * the sample and, on error, nothing at all; on success it sets its have_* flag
 * and its figures make sense (idle ticks within the total, available memory
 * within the total, load averages finite and not negative).
 * Built as a libFuzzer target (clang, KVMGRID_FUZZ=ON) or linked with fuzz_main.c
 * as a corpus regression test.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP 0x1E

static void check(int ok, const char *file, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_procfs: %s: %s\n", file, what);
        abort();
    }
}

/* Each parser with the bytes of the sample that are its own: from its have_*
 * flag to the next parser's. */
static const struct parser {
    const char *file;
    int (*parse)(FILE *, struct sample_proc *);
    size_t from, to;
} parsers[] = {
    { "stat", procfs_parse_stat, offsetof(struct sample_proc, have_cpu),
      offsetof(struct sample_proc, have_mem) },
    { "meminfo", procfs_parse_meminfo, offsetof(struct sample_proc, have_mem),
      offsetof(struct sample_proc, have_load) },
    { "loadavg", procfs_parse_loadavg, offsetof(struct sample_proc, have_load),
      offsetof(struct sample_proc, have_disk) },
    { "diskstats", procfs_parse_diskstats, offsetof(struct sample_proc, have_disk),
      offsetof(struct sample_proc, have_net) },
    { "net/dev", procfs_parse_netdev, offsetof(struct sample_proc, have_net),
      sizeof(struct sample_proc) },
};
#define N_PARSERS (sizeof parsers / sizeof *parsers)

/* A sample no parser would write: every byte 0xA5 but the flags, which must
 * hold a valid bool. */
static void canary(struct sample_proc *s)
{
    memset(s, 0xA5, sizeof *s);
    s->have_cpu = s->have_mem = s->have_load = s->have_disk = s->have_net = false;
}

static bool have(const struct sample_proc *s, size_t i)
{
    const bool flags[] = { s->have_cpu, s->have_mem, s->have_load, s->have_disk, s->have_net };
    return flags[i];
}

static void check_figures(const struct sample_proc *s, size_t i)
{
    const char *file = parsers[i].file;
    switch (i) {
    case 0:
        check(s->cpu_idle_ticks <= s->cpu_total_ticks, file, "idle ticks over the total");
        break;
    case 1:
        check(s->mem_avail_kib <= s->mem_total_kib, file, "available memory over the total");
        break;
    case 2:
        check(isfinite(s->load1) && isfinite(s->load5) && isfinite(s->load15), file,
              "a load average that is not finite");
        check(s->load1 >= 0 && s->load5 >= 0 && s->load15 >= 0, file,
              "a negative load average");
        break;
    default:
        break;
    }
}

static void run(size_t i, const uint8_t *text, size_t len)
{
    const struct parser *p = &parsers[i];
    /* exact size (1 for an empty file, which fmemopen reads as 0 bytes) */
    uint8_t *copy = malloc(len ? len : 1);
    check(copy != NULL, p->file, "out of memory");
    if (len)
        memcpy(copy, text, len);
    FILE *f = fmemopen(copy, len, "r");
    check(f != NULL, p->file, "fmemopen failed");

    struct sample_proc before, s;
    canary(&before);
    memcpy(&s, &before, sizeof s); /* padding too: compared byte for byte below */
    int rc = p->parse(f, &s);
    fclose(f);
    free(copy);

    check(rc == 0 || rc == KG_EPARSE, p->file, "undocumented return code");
    const unsigned char *a = (const unsigned char *)&before, *b = (const unsigned char *)&s;
    if (rc != 0) {
        check(memcmp(a, b, sizeof s) == 0, p->file, "the sample changed on an error");
        return;
    }
    check(memcmp(a, b, p->from) == 0 && memcmp(a + p->to, b + p->to, sizeof s - p->to) == 0,
          p->file, "wrote outside its own part of the sample");
    for (size_t j = 0; j < N_PARSERS; j++)
        check(have(&s, j) == (j == i), p->file, "have_* flags wrong after success");
    check_figures(&s, i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t start = 0;
    for (size_t i = 0; i < N_PARSERS; i++) {
        size_t end = size;
        if (i + 1 < N_PARSERS && start < size) {
            const uint8_t *sep = memchr(data + start, SEP, size - start);
            if (sep)
                end = (size_t)(sep - data);
        }
        if (start > size)
            start = end = size;
        run(i, data + start, end - start);
        start = end + 1;
    }
    return 0;
}
