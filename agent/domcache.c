/* SPDX-License-Identifier: MIT */
/*
 * The collector's per-domain cache (domcache.h): device names from the domain
 * XML, kept sorted by UUID, and the UUID formatter that keys it.
 */
#include "domcache.h"

#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvmgrid/error.h"
#include "kvmgrid/log.h"
#include "uuid_index.h"

_Static_assert(offsetof(struct domcache_entry, uuid) == 0, "uuid_index.h: the UUID comes first");

int domcache_uuid(virDomainPtr dom, char out[KG_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[VIR_UUID_BUFLEN];
    if (virDomainGetUUID(dom, raw) < 0)
        return -1;
    char *o = out;
    for (int i = 0; i < VIR_UUID_BUFLEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[raw[i] >> 4];
        *o++ = hex[raw[i] & 15];
    }
    *o = '\0';
    return 0;
}

/* ---- domain XML: device names ------------------------------------------- */

/* Finds attr='value' or attr="value" in [p, end) and copies the value. */
static bool xml_attr(const char *p, const char *end, const char *tag, const char *attr,
                     char *out, size_t size)
{
    const char *t = p;
    size_t tl = strlen(tag);
    while ((t = strstr(t, tag)) && t < end) {
        const char *te = strchr(t, '>');
        if (!te || te > end)
            return false;
        char pat[32];
        snprintf(pat, sizeof pat, " %s=", attr);
        const char *a = strstr(t + tl - 1, pat); /* the tag ends in a space */
        if (a && a < te) {
            a += strlen(pat);
            char q = *a++;
            const char *ae = strchr(a, q);
            if ((q != '\'' && q != '"') || !ae || ae > te)
                return false;
            size_t n = (size_t)(ae - a);
            if (n >= size)
                return false;
            memcpy(out, a, n);
            out[n] = '\0';
            return true;
        }
        t = te;
    }
    return false;
}

/* Reads <disk> target devs and <interface> target devs / MACs. libvirt writes
 * its own XML, so a plain scan of the elements is enough. The names are kept in
 * one allocation of exactly the devices found. */
static void parse_devices(const char *xml, struct domcache_entry *di)
{
    struct domcache_dev disks[KG_DEV_MAX], nets[KG_DEV_MAX];
    unsigned nd = 0, nn = 0;
    const char *p = xml;
    while ((p = strstr(p, "<disk ")) && nd < KG_DEV_MAX) {
        const char *end = strstr(p, "</disk>");
        if (!end)
            break;
        struct domcache_dev *d = &disks[nd];
        if (xml_attr(p, end, "<target ", "dev", d->name, sizeof d->name)) {
            memcpy(d->key, d->name, sizeof d->key);
            nd++;
        }
        p = end;
    }
    p = xml;
    while ((p = strstr(p, "<interface ")) && nn < KG_DEV_MAX) {
        const char *end = strstr(p, "</interface>");
        if (!end)
            break;
        struct domcache_dev *d = &nets[nn];
        char mac[KG_DEV_NAME_MAX] = "";
        bool have_mac = xml_attr(p, end, "<mac ", "address", mac, sizeof mac);
        bool have_dev = xml_attr(p, end, "<target ", "dev", d->name, sizeof d->name);
        if (have_dev || have_mac) {
            if (!have_dev)
                memcpy(d->name, mac, sizeof d->name);
            /* a target dev is what the guest has now; the MAC works when it has none */
            memcpy(d->key, have_dev ? d->name : mac, sizeof d->key);
            nn++;
        }
        p = end;
    }
    free(di->disks);
    di->disks = di->nets = NULL;
    di->n_disks = di->n_nets = 0;
    if (nd + nn == 0)
        return;
    struct domcache_dev *all = malloc((nd + nn) * sizeof *all);
    if (!all)
        return; /* no device figures for this domain this time; XML read again next cycle */
    memcpy(all, disks, nd * sizeof *all);
    memcpy(all + nd, nets, nn * sizeof *all);
    di->disks = all;
    di->nets = all + nd;
    di->n_disks = nd;
    di->n_nets = nn;
}

struct domcache_entry *domcache_find(struct domcache *dc, const char *uuid)
{
    size_t i = uuid_index_find(dc->e, dc->n, sizeof *dc->e, uuid);
    return i == UUID_INDEX_NONE ? NULL : &dc->e[i];
}

int domcache_sync(struct domcache *dc, virDomainPtr *domp, const struct sample_dom *doms,
                  size_t n, bool read_xml)
{
    size_t n_new = 0;
    for (size_t i = 0; i < dc->n; i++)
        dc->e[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        struct domcache_entry *di = domcache_find(dc, doms[i].uuid);
        if (di)
            di->seen = true;
        else
            n_new++;
    }
    size_t total = dc->n;
    if (n_new) {
        if (total + n_new > dc->cap) {
            size_t cap = total + n_new + 16;
            struct domcache_entry *ni = realloc(dc->e, cap * sizeof *ni);
            if (!ni)
                return KG_ENOMEM;
            dc->e = ni;
            dc->cap = cap;
        }
        size_t sorted = dc->n;
        for (size_t i = 0; i < n; i++) {
            if (uuid_index_find(dc->e, sorted, sizeof *dc->e, doms[i].uuid) != UUID_INDEX_NONE)
                continue;
            struct domcache_entry *di = &dc->e[total++];
            memset(di, 0, sizeof *di);
            memcpy(di->uuid, doms[i].uuid, sizeof di->uuid);
            di->seen = true;
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < total; i++) {
        if (dc->e[i].seen)
            dc->e[w++] = dc->e[i];
        else
            free(dc->e[i].disks);
    }
    dc->n = w;
    uuid_index_sort(dc->e, dc->n, sizeof *dc->e);
    if (!read_xml)
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct domcache_entry *di = domcache_find(dc, doms[i].uuid);
        if (!di || di->have_xml)
            continue;
        char *xml = virDomainGetXMLDesc(domp[i], 0);
        if (!xml) {
            kg_debug("libvirt: XML of %s: %s", doms[i].name, virGetLastErrorMessage());
            continue;
        }
        parse_devices(xml, di);
        free(xml);
        di->have_xml = true;
    }
    return 0;
}

void domcache_redefined(struct domcache *dc, const char *uuid)
{
    struct domcache_entry *di = domcache_find(dc, uuid);
    if (di)
        di->have_xml = false;
}

void domcache_clear(struct domcache *dc)
{
    for (size_t i = 0; i < dc->n; i++)
        free(dc->e[i].disks);
    free(dc->e);
    memset(dc, 0, sizeof *dc);
}
