/* SPDX-License-Identifier: MIT */
/*
 * The topic scheme of docs/PROTOCOL.md: building and parsing
 * <prefix>/<name>/{status,metrics,vm/<vm>,load/cmd,load/state}, the subscription
 * filters, and the reversible escaping of one name level (topic.h states the exact
 * alphabet). The unescaper checks canonical form by escaping its result again and
 * comparing, so that the escaper is a bijection by construction rather than by a
 * second list of rules. Pure: no allocation, no logging, no global state.
 */
#include "kvmgrid/topic.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "utf8.h"

static const char hex_upper[] = "0123456789ABCDEF";

/* Code points MQTT brokers refuse or that are invisible trouble in a topic: C1
 * controls and Unicode noncharacters (mosquitto rejects both). */
static bool cp_is_unsafe(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
           (cp & 0xFFFEu) == 0xFFFEu;
}

static bool ascii_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-_.:@~,=", c) != NULL);
}

/* Length of the safe literal run starting at s[0..n): 1 for a safe ASCII byte, 2..4
 * for a safe multi-byte UTF-8 character, 0 when s[0] must be escaped. */
static size_t safe_token(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len;

    if (s[0] < 0x80)
        return ascii_safe(s[0]) ? 1 : 0;
    len = kg_utf8_decode(s, n, &cp);
    if (len == 0 || cp_is_unsafe(cp))
        return 0;
    return len;
}

int kg_topic_escape(const char *name, size_t len, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t o = 0;

    if (!name || len == 0 || len > KG_NAME_MAX)
        return KG_EINVAL;
    if (!out)
        return KG_ETOOBIG;
    for (size_t i = 0; i < len;) {
        size_t t = safe_token(s + i, len - i);
        if (t > 0) {
            if (o + t >= size)
                return KG_ETOOBIG;
            memcpy(out + o, s + i, t);
            o += t;
            i += t;
        } else {
            if (o + 3 >= size)
                return KG_ETOOBIG;
            out[o++] = '%';
            out[o++] = hex_upper[s[i] >> 4];
            out[o++] = hex_upper[s[i] & 0x0F];
            i++;
        }
    }
    out[o] = '\0';
    return (int)o;
}

int kg_topic_unescape(const char *level, size_t len, char *out, size_t size, size_t *out_len)
{
    unsigned char raw[KG_NAME_ESC_MAX];
    char again[KG_NAME_ESC_MAX + 1];
    size_t n = 0;

    if (!level || len == 0 || len > KG_NAME_ESC_MAX)
        return KG_EPARSE;
    for (size_t i = 0; i < len;) {
        if (level[i] == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return KG_EPARSE; /* truncated %X */
            hi = kg_hex_value((unsigned char)level[i + 1], true); /* lowercase is not canonical */
            lo = kg_hex_value((unsigned char)level[i + 2], true);
            if (hi < 0 || lo < 0)
                return KG_EPARSE;
            raw[n++] = (unsigned char)(hi << 4 | lo);
            i += 3;
        } else {
            /* Any raw byte is taken as is here; the re-escape below rejects raw
             * bytes that should have been escaped. */
            raw[n++] = (unsigned char)level[i++];
        }
    }
    if (n > KG_NAME_MAX)
        return KG_EPARSE;
    int r = kg_topic_escape((const char *)raw, n, again, sizeof again);
    if (r < 0 || (size_t)r != len || memcmp(again, level, len) != 0)
        return KG_EPARSE;
    if (!out || size < n + 1)
        return KG_ETOOBIG;
    memcpy(out, raw, n);
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return 0;
}

static void set_err(char *errmsg, size_t errlen, const char *msg)
{
    if (errmsg && errlen > 0)
        snprintf(errmsg, errlen, "%s", msg);
}

/* The "+" level of a valid prefix, or NULL. */
static const char *wild_level(const char *prefix)
{
    for (const char *p = prefix; *p; p++)
        if (*p == '+' && (p == prefix || p[-1] == '/'))
            return p;
    return NULL;
}

static int finish(int r, size_t size);

/* The prefix rules; wild: one level may be the wildcard "+" (a reader's). */
static bool prefix_check(const char *prefix, bool wild, char *errmsg, size_t errlen)
{
    if (!prefix || !*prefix) {
        set_err(errmsg, errlen, "prefix is empty");
        return false;
    }
    size_t len = strlen(prefix);
    if (len > KG_PREFIX_MAX) {
        set_err(errmsg, errlen, "prefix is longer than 128 bytes");
        return false;
    }
    if (prefix[0] == '$') {
        set_err(errmsg, errlen, "prefix must not start with '$' (reserved for the broker)");
        return false;
    }
    if (prefix[0] == '/' || prefix[len - 1] == '/' || strstr(prefix, "//")) {
        set_err(errmsg, errlen, "prefix has an empty level (leading, trailing or double '/')");
        return false;
    }
    const unsigned char *s = (const unsigned char *)prefix;
    unsigned plus = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        bool whole = (i == 0 || s[i - 1] == '/') && (i + 1 == len || s[i + 1] == '/');
        if (c == '+' && wild && whole && plus++ == 0) {
            i++;
            continue;
        }
        if (c == '+' && wild) {
            set_err(errmsg, errlen, whole ? "prefix has more than one '+' level"
                                          : "'+' must be a whole level of the prefix");
            return false;
        }
        if (c == '+' || c == '#') {
            set_err(errmsg, errlen, wild ? "prefix must not contain the wildcard '#'"
                                         : "prefix must not contain the wildcards '+' or '#'");
            return false;
        }
        if (c < 0x20 || c == 0x7F) {
            set_err(errmsg, errlen, "prefix must not contain control characters");
            return false;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t t = kg_utf8_decode(s + i, len - i, &cp);
        if (t == 0) {
            set_err(errmsg, errlen, "prefix is not valid UTF-8");
            return false;
        }
        if (cp_is_unsafe(cp)) {
            set_err(errmsg, errlen,
                    "prefix must not contain control characters or Unicode noncharacters");
            return false;
        }
        i += t;
    }
    return true;
}

bool kg_topic_prefix_valid(const char *prefix, char *errmsg, size_t errlen)
{
    return prefix_check(prefix, false, errmsg, errlen);
}

bool kg_topic_prefix_filter_valid(const char *prefix, char *errmsg, size_t errlen)
{
    return prefix_check(prefix, true, errmsg, errlen);
}

int kg_topic_prefix_fill(char *out, size_t size, const char *prefix, const char *group,
                         size_t group_len)
{
    if (!kg_topic_prefix_filter_valid(prefix, NULL, 0))
        return KG_EINVAL;
    const char *plus = wild_level(prefix);
    char eg[KG_NAME_ESC_MAX + 1];
    if (plus && (!group || kg_topic_escape(group, group_len, eg, sizeof eg) < 0))
        return KG_EINVAL;
    if (!out || size == 0)
        return KG_ETOOBIG;
    if (!plus)
        return finish(snprintf(out, size, "%s", prefix), size);
    int r = snprintf(out, size, "%.*s%s%s", (int)(plus - prefix), prefix, eg, plus + 1);
    if (r > KG_PREFIX_MAX && (size_t)r < size)
        return KG_EINVAL; /* a concrete prefix has the publisher's limit */
    return finish(r, size);
}

static const char *kind_suffix(enum kg_topic_kind kind)
{
    switch (kind) {
    case KG_TOPIC_STATUS: return "status";
    case KG_TOPIC_METRICS: return "metrics";
    case KG_TOPIC_VM: return "vm";
    case KG_TOPIC_LOAD_CMD: return "load/cmd";
    case KG_TOPIC_LOAD_STATE: return "load/state";
    case KG_TOPIC_SUMMARY: return "summary";
    case KG_TOPIC_LINK: return "$bridge/state";
    }
    return NULL;
}

/* snprintf into out; returns the length, KG_ETOOBIG when it did not fit. */
static int finish(int r, size_t size)
{
    if (r < 0)
        return KG_EINVAL;
    if ((size_t)r >= size)
        return KG_ETOOBIG;
    return r;
}

int kg_topic_build(char *out, size_t size, const char *prefix, enum kg_topic_kind kind,
                   const char *name, const char *vm)
{
    char ename[KG_NAME_ESC_MAX + 1];
    char evm[KG_NAME_ESC_MAX + 1];
    const char *suffix = kind_suffix(kind);

    if (!suffix || !name || kind == KG_TOPIC_LINK || !kg_topic_prefix_valid(prefix, NULL, 0))
        return KG_EINVAL;
    if ((kind == KG_TOPIC_VM) != (vm != NULL))
        return KG_EINVAL;
    if (kg_topic_escape(name, strlen(name), ename, sizeof ename) < 0)
        return KG_EINVAL;
    if (!out || size == 0)
        return KG_ETOOBIG;
    if (kind == KG_TOPIC_VM) {
        if (kg_topic_escape(vm, strlen(vm), evm, sizeof evm) < 0)
            return KG_EINVAL;
        return finish(snprintf(out, size, "%s/%s/vm/%s", prefix, ename, evm), size);
    }
    return finish(snprintf(out, size, "%s/%s/%s", prefix, ename, suffix), size);
}

int kg_topic_filter_all(char *out, size_t size, const char *prefix)
{
    if (!kg_topic_prefix_filter_valid(prefix, NULL, 0))
        return KG_EINVAL;
    if (!out || size == 0)
        return KG_ETOOBIG;
    return finish(snprintf(out, size, "%s/#", prefix), size);
}

int kg_topic_filter_kind(char *out, size_t size, const char *prefix, enum kg_topic_kind kind)
{
    const char *suffix = kind_suffix(kind);

    if (!suffix || !kg_topic_prefix_filter_valid(prefix, NULL, 0))
        return KG_EINVAL;
    if (!out || size == 0)
        return KG_ETOOBIG;
    if (kind == KG_TOPIC_VM)
        return finish(snprintf(out, size, "%s/+/vm/+", prefix), size);
    if (kind == KG_TOPIC_LINK)
        return finish(snprintf(out, size, "%s/%s", prefix, suffix), size);
    return finish(snprintf(out, size, "%s/+/%s", prefix, suffix), size);
}

/* Does level [s, s+n) equal the NUL-terminated word w? */
static bool level_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

int kg_topic_parse(const char *prefix, const char *topic, size_t len,
                   struct kg_topic_parsed *out)
{
    const char *lv[4];
    size_t lvlen[4];
    size_t nlv = 0;

    if (!out)
        return KG_EINVAL;
    /* Zeroed up front and again on a bad name: an error never leaves a kind or
     * half a name behind for a caller that forgets to check the result. */
    memset(out, 0, sizeof *out);
    if (!kg_topic_prefix_filter_valid(prefix, NULL, 0))
        return KG_EINVAL;
    if (!topic)
        return KG_ENOENT;
    const char *end = topic + len;
    const char *p = topic, *glv = NULL;
    size_t glen = 0;
    const char *plus = wild_level(prefix);
    if (plus) {
        /* the levels before "+", the group's level, then the rest of the prefix */
        size_t before = (size_t)(plus - prefix);
        if (len < before || memcmp(topic, prefix, before) != 0)
            return KG_ENOENT;
        glv = topic + before;
        const char *slash = memchr(glv, '/', (size_t)(end - glv));
        if (!slash)
            return KG_ENOENT;
        glen = (size_t)(slash - glv);
        p = slash;
        prefix = plus + 1; /* "" or "/rest" */
    }
    size_t plen = strlen(prefix);
    if ((size_t)(end - p) <= plen + 1 || memcmp(p, prefix, plen) != 0 || p[plen] != '/')
        return KG_ENOENT;

    /* Split what follows the prefix into at most 4 levels; more means not ours. */
    p += plen + 1;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (nlv == 4)
            return KG_ENOENT;
        lv[nlv] = p;
        lvlen[nlv] = slash ? (size_t)(slash - p) : (size_t)(end - p);
        nlv++;
        if (!slash)
            break;
        p = slash + 1;
    }

    enum kg_topic_kind kind;
    if (nlv == 2 && level_is(lv[0], lvlen[0], "$bridge") && level_is(lv[1], lvlen[1], "state")) {
        /* no name: an escaped name never starts with '$' */
        out->kind = KG_TOPIC_LINK;
        if (glv && kg_topic_unescape(glv, glen, out->group, sizeof out->group,
                                     &out->group_len) < 0) {
            memset(out, 0, sizeof *out);
            return KG_EPARSE;
        }
        return 0;
    }
    if (nlv == 2 && level_is(lv[1], lvlen[1], "status"))
        kind = KG_TOPIC_STATUS;
    else if (nlv == 2 && level_is(lv[1], lvlen[1], "metrics"))
        kind = KG_TOPIC_METRICS;
    else if (nlv == 2 && level_is(lv[1], lvlen[1], "summary"))
        kind = KG_TOPIC_SUMMARY;
    else if (nlv == 3 && level_is(lv[1], lvlen[1], "vm"))
        kind = KG_TOPIC_VM;
    else if (nlv == 3 && level_is(lv[1], lvlen[1], "load") && level_is(lv[2], lvlen[2], "cmd"))
        kind = KG_TOPIC_LOAD_CMD;
    else if (nlv == 3 && level_is(lv[1], lvlen[1], "load") &&
             level_is(lv[2], lvlen[2], "state"))
        kind = KG_TOPIC_LOAD_STATE;
    else
        return KG_ENOENT;

    if (kg_topic_unescape(lv[0], lvlen[0], out->name, sizeof out->name, &out->name_len) < 0 ||
        (kind == KG_TOPIC_VM &&
         kg_topic_unescape(lv[2], lvlen[2], out->vm, sizeof out->vm, &out->vm_len) < 0) ||
        (glv && kg_topic_unescape(glv, glen, out->group, sizeof out->group, &out->group_len) < 0)) {
        memset(out, 0, sizeof *out);
        return KG_EPARSE;
    }
    out->kind = kind;
    return 0;
}
