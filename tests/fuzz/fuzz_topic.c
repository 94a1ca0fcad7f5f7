/* SPDX-License-Identifier: MIT */
/*
 * Fuzz entry point for the topic scheme (common/src/topic.c). The input is
 * "<prefix>\n<topic>" (without a newline: the topic under the default prefix;
 * a prefix that kg_topic_prefix_valid refuses is replaced by the default).
 * Beyond "no crash, no UB" it checks the bijection topic.h promises:
 *  - kg_topic_unescape of the whole topic (as one level): whatever it accepts
 *    escapes back to exactly the same bytes;
 *  - kg_topic_escape of the raw topic bytes: the output is one safe topic level
 *    (no '/', '+', '#', NUL, no leading '$', valid UTF-8) that unescapes to the
 *    same bytes;
 *  - kg_topic_parse: only documented return codes; a topic it accepts is rebuilt
 *    byte for byte from the parsed kind and names (by kg_topic_build when the
 *    names hold no NUL byte, by escaping them otherwise), and the matching
 *    subscription filter matches it.
 * Built as a libFuzzer target (clang, KVMGRID_FUZZ=ON) or linked with fuzz_main.c
 * as a corpus regression test.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *topic, size_t len)
{
    if (!ok) {
        fprintf(stderr, "fuzz_topic: %s: '%.*s'\n", what, (int)len, topic);
        abort();
    }
}

/* Is s[0..n) valid UTF-8 (shortest form, no surrogates, <= U+10FFFF)? */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* Does an MQTT filter match topic[0..len)? ('+' one level, '#' the rest.) */
static bool filter_matches(const char *f, const char *t, size_t len)
{
    const char *end = t + len;
    for (;;) {
        if (f[0] == '#' && f[1] == '\0')
            return true;
        const char *fs = strchr(f, '/');
        size_t fl = fs ? (size_t)(fs - f) : strlen(f);
        const char *ts = memchr(t, '/', (size_t)(end - t));
        size_t tl = ts ? (size_t)(ts - t) : (size_t)(end - t);
        if (!(fl == 1 && f[0] == '+') && (fl != tl || memcmp(f, t, tl) != 0))
            return false;
        if (!fs || !ts)
            return !fs && !ts;
        f = fs + 1;
        t = ts + 1;
    }
}

static void fuzz_level(const char *s, size_t len)
{
    char raw[KG_NAME_MAX + 1];
    char esc[KG_NAME_ESC_MAX + 1];
    size_t n = 12345;

    /* Unescape: accepted means canonical, so escaping gives the input back. */
    int r = kg_topic_unescape(s, len, raw, sizeof raw, &n);
    check(r == 0 || r == KG_EPARSE, "unescape: undocumented code", s, len);
    if (r == 0) {
        check(n >= 1 && n <= KG_NAME_MAX && raw[n] == '\0', "unescape: bad length", s, len);
        int e = kg_topic_escape(raw, n, esc, sizeof esc);
        check(e >= 0 && (size_t)e == len && memcmp(esc, s, len) == 0,
              "unescape accepted a level that does not escape back to itself", s, len);
    }

    /* Escape: one safe level that unescapes to the same bytes. */
    r = kg_topic_escape(s, len, esc, sizeof esc);
    if (len == 0 || len > KG_NAME_MAX) {
        check(r == KG_EINVAL, "escape: bad length not refused", s, len);
        return;
    }
    check(r > 0 && (size_t)r <= KG_NAME_ESC_MAX && esc[r] == '\0', "escape failed", s, len);
    size_t el = (size_t)r;
    check(memchr(esc, '/', el) == NULL && memchr(esc, '+', el) == NULL &&
              memchr(esc, '#', el) == NULL && memchr(esc, '\0', el) == NULL && esc[0] != '$',
          "escape: output is not one safe level", esc, el);
    check(utf8_valid((const unsigned char *)esc, el), "escape: output not UTF-8", esc, el);
    n = 0;
    r = kg_topic_unescape(esc, el, raw, sizeof raw, &n);
    check(r == 0 && n == len && memcmp(raw, s, len) == 0, "escape does not unescape back",
          esc, el);
    /* A buffer one byte short is refused, not overrun. */
    r = kg_topic_unescape(esc, el, raw, n, NULL);
    check(r == KG_ETOOBIG, "unescape: short buffer not refused", esc, el);
    r = kg_topic_escape(s, len, esc, el);
    check(r == KG_ETOOBIG, "escape: short buffer not refused", s, len);
}

static void fuzz_parse(const char *prefix, const char *topic, size_t len)
{
    static struct kg_topic_parsed p;
    static char back[KG_TOPIC_MAX], filter[KG_TOPIC_MAX];
    char ename[KG_NAME_ESC_MAX + 1], evm[KG_NAME_ESC_MAX + 1];

    int r = kg_topic_parse(prefix, topic, len, &p);
    check(r == 0 || r == KG_ENOENT || r == KG_EPARSE, "parse: undocumented code", topic, len);
    if (r != 0)
        return;
    check(p.kind >= KG_TOPIC_STATUS && p.kind <= KG_TOPIC_SUMMARY, "parse: bad kind", topic,
          len);
    check(p.name_len >= 1 && p.name_len <= KG_NAME_MAX && p.name[p.name_len] == '\0',
          "parse: bad name", topic, len);
    if (p.kind == KG_TOPIC_VM)
        check(p.vm_len >= 1 && p.vm_len <= KG_NAME_MAX && p.vm[p.vm_len] == '\0',
              "parse: bad vm", topic, len);
    else
        check(p.vm_len == 0 && p.vm[0] == '\0', "parse: vm set for another kind", topic, len);

    /* Rebuild from the parts by escaping (names may hold NUL bytes). */
    int en = kg_topic_escape(p.name, p.name_len, ename, sizeof ename);
    check(en > 0, "parse: name does not escape", topic, len);
    static const char *const suffix[] = { "", "status", "metrics", "vm", "load/cmd",
                                          "load/state", "summary" };
    int bn;
    if (p.kind == KG_TOPIC_VM) {
        check(kg_topic_escape(p.vm, p.vm_len, evm, sizeof evm) > 0, "parse: vm does not escape",
              topic, len);
        bn = snprintf(back, sizeof back, "%s/%s/vm/%s", prefix, ename, evm);
    } else {
        bn = snprintf(back, sizeof back, "%s/%s/%s", prefix, ename, suffix[p.kind]);
    }
    check(bn > 0 && (size_t)bn == len && memcmp(back, topic, len) == 0,
          "parse: parts do not rebuild the topic", topic, len);

    /* kg_topic_build takes C strings: it must give the same bytes when it can. */
    if (strlen(p.name) == p.name_len && strlen(p.vm) == p.vm_len) {
        bn = kg_topic_build(back, sizeof back, prefix, p.kind, p.name,
                            p.kind == KG_TOPIC_VM ? p.vm : NULL);
        check(bn > 0 && (size_t)bn == len && memcmp(back, topic, len) == 0,
              "kg_topic_build differs from the parsed topic", topic, len);
        check(kg_topic_build(back, (size_t)bn, prefix, p.kind, p.name,
                             p.kind == KG_TOPIC_VM ? p.vm : NULL) == KG_ETOOBIG,
              "kg_topic_build: short buffer not refused", topic, len);
    }

    int fn = kg_topic_filter_kind(filter, sizeof filter, prefix, p.kind);
    check(fn > 0 && filter_matches(filter, topic, len), "kind filter does not match", topic,
          len);
    fn = kg_topic_filter_all(filter, sizeof filter, prefix);
    check(fn > 0 && filter_matches(filter, topic, len), "'#' filter does not match", topic, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char prefix[KG_PREFIX_MAX + 2];
    const char *topic = in;
    size_t len = size;

    strcpy(prefix, KG_PREFIX_DEFAULT);
    const char *nl = memchr(in, '\n', size);
    if (nl) {
        size_t pl = (size_t)(nl - in);
        topic = nl + 1;
        len = size - pl - 1;
        if (pl <= KG_PREFIX_MAX && !memchr(in, '\0', pl)) {
            char cand[KG_PREFIX_MAX + 1];
            memcpy(cand, in, pl);
            cand[pl] = '\0';
            char why[128] = "";
            if (kg_topic_prefix_valid(cand, why, sizeof why)) {
                check(utf8_valid((const unsigned char *)cand, pl) && !strpbrk(cand, "+#") &&
                          cand[0] != '$',
                      "prefix_valid accepted a bad prefix", cand, pl);
                strcpy(prefix, cand);
            } else {
                check(why[0] != '\0', "prefix refused without a reason", cand, pl);
            }
        }
    }
    fuzz_level(topic, len);
    fuzz_parse(prefix, topic, len);
    return 0;
}
