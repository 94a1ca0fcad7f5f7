/* SPDX-License-Identifier: MIT */
/*
 * The topic scheme (docs/PROTOCOL.md), in one place:
 *
 *   <prefix>/<host>/status        "online" | "offline"  retained; the agent's will is "offline"
 *   <prefix>/<host>/metrics       host JSON             retained
 *   <prefix>/<host>/vm/<vm>       VM JSON               retained; empty retained = VM removed
 *   <prefix>/<host>/summary       host summary JSON     retained; empty retained = no summary
 *   <prefix>/<node>/load/cmd      load command JSON
 *   <prefix>/<node>/load/state    load state JSON       retained; will marks it offline
 *   <prefix>/$bridge/state        "1" | "0"             retained; at a region's centre,
 *                                                       <site>/<prefix>: its bridge link
 *
 * <host>, <vm> and <node> are single topic levels, escaped reversibly: bytes that
 * are safe and readable stay as they are (letters, digits, "-_.:@~,=", and valid
 * non-control UTF-8 sequences beyond ASCII); every other byte — '/', '+', '#', '%',
 * NUL, space, control characters (C0, DEL, C1), quotes, invalid UTF-8 — becomes
 * %XX (uppercase hex). A leading '$' is escaped too. Escaping is a bijection
 * between byte strings of 1..KG_NAME_MAX bytes and canonical escaped levels: the
 * unescaper rejects anything the escaper would not produce (lowercase hex, an
 * escaped byte that needs no escaping, a raw byte that should be escaped).
 * Precisely: a multi-byte UTF-8 character stays literal when it is shortest-form,
 * not a surrogate, at most U+10FFFF, not a C1 control (U+0080..U+009F) and not a
 * Unicode noncharacter (U+FDD0..U+FDEF, U+xxFFFE/U+xxFFFF; mosquitto refuses
 * those in topics); otherwise each of its bytes becomes %XX. So "web-01",
 * "db_2.prod" and "münchen" are unchanged, "a/b c" becomes "a%2Fb%20c".
 *
 * The prefix is given by the operator: one or more levels ("kvmgrid",
 * "site1/kvmgrid"), valid UTF-8, no '+', '#', NUL, no empty level, not starting
 * with '$', at most KG_PREFIX_MAX bytes; also no control characters (C0, DEL,
 * C1) and no Unicode noncharacters, which brokers refuse.
 *
 * A reader (the wall, kvmgrid-top) may be given a prefix with one level that is
 * the wildcard "+" ("+/kvmgrid" at a central broker where each site's bridge
 * puts its agents' topics under "<site>/kvmgrid"): it reads every site, and a
 * topic's value at that level is its group (escaped like a name). Publishers'
 * prefixes never have one.
 * Pure module: no allocation, never logs. Thread-safe.
 */
#ifndef KVMGRID_TOPIC_H
#define KVMGRID_TOPIC_H
#include <stdbool.h>
#include <stddef.h>

#define KG_PREFIX_DEFAULT "kvmgrid"
#define KG_PREFIX_MAX 128           /* bytes */
#define KG_NAME_MAX 255             /* raw bytes of a host/VM/node name */
#define KG_NAME_ESC_MAX (3 * KG_NAME_MAX) /* escaped level, without NUL */
/* Longest topic this scheme builds, including the terminating NUL. */
#define KG_TOPIC_MAX (KG_PREFIX_MAX + 2 * KG_NAME_ESC_MAX + 16)

#define KG_STATUS_ONLINE "online"
#define KG_STATUS_OFFLINE "offline"

enum kg_topic_kind {
    KG_TOPIC_STATUS = 1, /* <prefix>/<host>/status */
    KG_TOPIC_METRICS,    /* <prefix>/<host>/metrics */
    KG_TOPIC_VM,         /* <prefix>/<host>/vm/<vm> */
    KG_TOPIC_LOAD_CMD,   /* <prefix>/<node>/load/cmd */
    KG_TOPIC_LOAD_STATE, /* <prefix>/<node>/load/state */
    KG_TOPIC_SUMMARY,    /* <prefix>/<host>/summary */
    KG_TOPIC_LINK,       /* <prefix>/$bridge/state: a site's bridge link (parse and
                            filter only; Mosquitto publishes it, no name) */
};

/* Escapes name[0..len) into out (size bytes, NUL-terminated). Returns the escaped
 * length (>0), KG_EINVAL when len is 0 or above KG_NAME_MAX, or KG_ETOOBIG when
 * out is too small (KG_NAME_ESC_MAX + 1 always suffices). */
int kg_topic_escape(const char *name, size_t len, char *out, size_t size);

/* Unescapes one level[0..len) into out (size bytes; NUL appended after the *out_len
 * raw bytes, which may themselves contain NUL). Returns 0, KG_EPARSE when the level
 * is not canonical escaper output (including an empty level and one that decodes
 * to more than KG_NAME_MAX bytes), or KG_ETOOBIG (out too small; KG_NAME_MAX + 1
 * always suffices). out_len may be NULL. */
int kg_topic_unescape(const char *level, size_t len, char *out, size_t size, size_t *out_len);

/* True when prefix is acceptable (see above); errmsg (may be NULL) says why not. */
bool kg_topic_prefix_valid(const char *prefix, char *errmsg, size_t errlen);
/* The same for a reader's prefix: one level may be "+". */
bool kg_topic_prefix_filter_valid(const char *prefix, char *errmsg, size_t errlen);
/* The concrete prefix of a group: prefix's "+" level replaced by group[0..len)
 * escaped (prefix copied when it has none; group ignored then). Returns the
 * length, KG_EINVAL (prefix not a valid reader's prefix, a bad group, or a
 * result longer than KG_PREFIX_MAX) or KG_ETOOBIG (out too small). */
int kg_topic_prefix_fill(char *out, size_t size, const char *prefix, const char *group,
                         size_t group_len);

/* Builds a topic. name and vm are raw NUL-terminated names (vm only for
 * KG_TOPIC_VM, else NULL); not KG_TOPIC_LINK. Returns the topic length, or KG_EINVAL (bad kind,
 * prefix or name: NULL, empty, longer than KG_NAME_MAX; also a vm given for
 * another kind or missing for KG_TOPIC_VM) or KG_ETOOBIG (out too small;
 * KG_TOPIC_MAX suffices). */
int kg_topic_build(char *out, size_t size, const char *prefix, enum kg_topic_kind kind,
                   const char *name, const char *vm);

/* The subscription filter for everything under the prefix (a reader's prefix
 * allowed): "<prefix>/#".
 * And for one kind on every host: "<prefix>/+/status" etc. (KG_TOPIC_VM gives
 * "<prefix>/+/vm/+", KG_TOPIC_LINK "<prefix>/$bridge/state"). Returns length or KG_EINVAL/KG_ETOOBIG. */
int kg_topic_filter_all(char *out, size_t size, const char *prefix);
int kg_topic_filter_kind(char *out, size_t size, const char *prefix, enum kg_topic_kind kind);

/* A topic taken apart. Names are unescaped raw bytes, NUL-terminated, with their
 * lengths (a name may contain NUL bytes). */
struct kg_topic_parsed {
    enum kg_topic_kind kind;
    char name[KG_NAME_MAX + 1]; /* host or node */
    size_t name_len;
    char vm[KG_NAME_MAX + 1];   /* KG_TOPIC_VM only, else "" */
    size_t vm_len;
    char group[KG_NAME_MAX + 1]; /* the prefix's "+" level, else "" */
    size_t group_len;
};

/* Parses topic[0..len) under prefix (a reader's prefix allowed: the "+" level's
 * value, unescaped, is the group). Returns 0, KG_ENOENT when it is not under
 * the prefix or not one of the kinds above (a topic to ignore), or KG_EPARSE when
 * it looks like ours but a name level is not canonically escaped (or is empty, as
 * in "kvmgrid//status"); KG_EINVAL when prefix is invalid or out is NULL.
 * The shape is decided by the levels after the name: a host named "load" or "vm"
 * is no ambiguity. On any error *out (when not NULL) is left zeroed, never half
 * parsed. */
int kg_topic_parse(const char *prefix, const char *topic, size_t len,
                   struct kg_topic_parsed *out);

#endif
