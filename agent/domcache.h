/* SPDX-License-Identifier: MIT */
/*
 * The collector's memory of each domain between samples, by UUID: the names of
 * its disks and interfaces from the domain XML (what the per-domain block and
 * interface calls take; the XML is read when a domain is first seen or was
 * redefined, never every cycle), and whether its balloon stats period was set on
 * its current QEMU process. Also the UUID text of a libvirt domain, the key.
 *
 * Part of the collector: includes libvirt, included only by collect.c and
 * events.c. One thread (the sampling thread) uses a struct domcache; does not log
 * but at debug level.
 */
#ifndef AGENT_DOMCACHE_H
#define AGENT_DOMCACHE_H
#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>

#include "sample.h"

struct domcache_dev {
    char name[KG_DEV_NAME_MAX]; /* shown name: target dev */
    char key[KG_DEV_NAME_MAX];  /* what the per-domain call takes: target dev or MAC */
};

struct domcache_entry {
    char uuid[KG_UUID_LEN + 1]; /* first: uuid_index.h */
    bool seen;                  /* in the current listing (domcache_sync) */
    bool have_xml;              /* disks and nets read from the XML; false: read it again */
    bool balloon_set;           /* balloon_period set on the process with dom_id */
    unsigned dom_id;
    unsigned n_disks, n_nets;
    struct domcache_dev *disks; /* n_disks, then n_nets in the same allocation */
    struct domcache_dev *nets;
};

/* Zero-initialised is empty. */
struct domcache {
    struct domcache_entry *e;   /* e[0..n) sorted by uuid */
    size_t n, cap;
};

/* The UUID of dom as text into out. virDomainGetUUIDString formats it with
 * g_snprintf, 16 "%02x" conversions (~7,500 instructions, as much as a whole
 * per-domain stats call on the test driver); this does it in ~100. 0, or -1
 * when libvirt has no UUID for it. */
int domcache_uuid(virDomainPtr dom, char out[KG_UUID_LEN + 1]);

/* Makes the cache hold an entry for exactly the n domains listed (doms[i], the
 * sample of domp[i], gives the UUID and the name for messages): entries of
 * domains gone are dropped, new ones added. With read_xml, the device names of
 * every entry without them are read from its domain's XML (a domain whose XML
 * cannot be read has none this cycle and is tried again the next). Returns 0 or
 * KG_ENOMEM (the cache is then unchanged but for the seen marks). */
int domcache_sync(struct domcache *dc, virDomainPtr *domp, const struct sample_dom *doms,
                  size_t n, bool read_xml);

/* The entry of uuid, or NULL. Valid until the next domcache_sync. */
struct domcache_entry *domcache_find(struct domcache *dc, const char *uuid);

/* The domain was redefined (it may have new devices): its XML is read again at
 * the next domcache_sync. No-op when unknown. */
void domcache_redefined(struct domcache *dc, const char *uuid);

/* Frees the entries; dc is empty afterwards. */
void domcache_clear(struct domcache *dc);

#endif
