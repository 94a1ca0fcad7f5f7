/* SPDX-License-Identifier: MIT */
/*
 * A test shim, loaded with LD_PRELOAD into kvmgrid-agent: virDomainBlockStats
 * hangs for the domain named $KG_HANG_DOMAIN ("*": every domain) for as long as
 * the file $KG_HANG_FILE exists, as the call does against a QEMU whose storage
 * or monitor hangs. Every other call goes to libvirt (its test driver) as usual.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

typedef int (*block_stats_fn)(virDomainPtr, const char *, virDomainBlockStatsPtr, size_t);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static block_stats_fn real_block_stats;

static void find_real(void)
{
    void *p = dlsym(RTLD_NEXT, "virDomainBlockStats");
    memcpy(&real_block_stats, &p, sizeof p); /* object to function pointer, without a cast */
}

int virDomainBlockStats(virDomainPtr dom, const char *disk, virDomainBlockStatsPtr stats,
                        size_t size)
{
    pthread_once(&once, find_real);
    const char *want = getenv("KG_HANG_DOMAIN");
    const char *file = getenv("KG_HANG_FILE");
    const char *name = virDomainGetName(dom);
    if (want && file && name && (!strcmp(want, "*") || !strcmp(name, want))) {
        const struct timespec tick = {0, 20 * 1000 * 1000};
        while (access(file, F_OK) == 0)
            nanosleep(&tick, NULL);
    }
    return real_block_stats ? real_block_stats(dom, disk, stats, size) : -1;
}
