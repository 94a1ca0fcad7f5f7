/* SPDX-License-Identifier: MIT */
/*
 * Disk I/O at a rate (see disk.h). The rate is a schedule, not a sleep per
 * block: block k of a direction is due at start + k x block / rate, so that a
 * slow fsync is made up by the next blocks instead of lowering the rate. The
 * buffer is filled with pseudo-random bytes so that neither compression nor
 * zero detection shrinks what reaches the device.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include "disk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "kvmgrid/clock.h"
#include "kvmgrid/error.h"
#include "stopper.h"

#define NAME_PREFIX "kvmgrid-load-"
#define NAME_SUFFIX ".tmp"

struct disk_load {
    struct stopper stop;
    int dirfd, fd;
    char name[64];
    char path[600];
    bool direct;
    enum kg_disk_mode mode;
    size_t block;
    uint64_t file_bytes;
    double rate_bytes_per_s;          /* 0: no throttle */
    unsigned char *buf;
    pthread_t thread;
    bool started, stopped;
    _Atomic uint64_t written, read;
    atomic_int error;                 /* errno of a failed I/O, 0 if none */
};

static atomic_uint name_counter;

static void fill_random(unsigned char *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed | 1u;
    for (size_t i = 0; i + 8 <= len; i += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17; /* xorshift64 */
        memcpy(buf + i, &x, 8);
    }
}

/* Writes one whole block at off, resuming after short writes and EINTR: 0 or errno. */
static int pwrite_block(const struct disk_load *d, uint64_t off)
{
    size_t done = 0;
    while (done < d->block) {
        ssize_t n = pwrite(d->fd, d->buf + done, d->block - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        done += (size_t)n;
    }
    return 0;
}

static int write_block(struct disk_load *d, uint64_t off)
{
    int rc = pwrite_block(d, off);
    if (rc)
        return rc;
    if (!d->direct && fdatasync(d->fd) != 0)
        return errno;
    return 0;
}

static int read_block(struct disk_load *d, uint64_t off)
{
    if (!d->direct)
        posix_fadvise(d->fd, (off_t)off, (off_t)d->block, POSIX_FADV_DONTNEED);
    size_t done = 0;
    while (done < d->block) {
        ssize_t n = pread(d->fd, d->buf + done, d->block - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return 0;
}

static void *disk_main(void *arg)
{
    struct disk_load *d = arg;
    uint64_t t0 = kg_clock_mono_ns();
    uint64_t blocks = d->file_bytes / d->block, k = 0;
    bool do_w = d->mode != KG_DISK_READ, do_r = d->mode != KG_DISK_WRITE;

    while (!stopper_requested(&d->stop)) {
        uint64_t off = (k % blocks) * d->block;
        int err = 0;
        if (do_w) {
            err = write_block(d, off);
            if (!err)
                atomic_fetch_add(&d->written, d->block);
        }
        if (!err && do_r) {
            /* in rw mode read a different block than the one just written */
            uint64_t roff = do_w ? ((k + blocks / 2) % blocks) * d->block : off;
            err = read_block(d, roff);
            if (!err)
                atomic_fetch_add(&d->read, d->block);
        }
        if (err) {
            atomic_store(&d->error, err);
            break;
        }
        k++;
        if (d->rate_bytes_per_s > 0.0) {
            uint64_t due = t0 + (uint64_t)((double)(k * d->block) / d->rate_bytes_per_s * 1e9);
            if (stopper_sleep_until(&d->stop, due))
                break;
        }
    }
    return NULL;
}

static void close_and_remove(struct disk_load *d)
{
    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    if (d->dirfd >= 0) {
        if (d->name[0])
            unlinkat(d->dirfd, d->name, 0);
        close(d->dirfd);
        d->dirfd = -1;
    }
}

static int prefill(struct disk_load *d)
{
    for (uint64_t off = 0; off < d->file_bytes; off += d->block) {
        if (stopper_requested(&d->stop))
            return 0;
        int rc = pwrite_block(d, off);
        if (rc)
            return rc;
    }
    if (fdatasync(d->fd) != 0)
        return errno;
    posix_fadvise(d->fd, 0, 0, POSIX_FADV_DONTNEED);
    return 0;
}

int disk_load_start(const struct kg_load_spec *spec, const char *dir, uint64_t file_bytes,
                    double rate_mb_per_s, struct disk_load **out, char *errmsg, size_t errlen)
{
    if (!spec || !dir || !out || spec->kind != KG_LOAD_DISK || !(spec->block_kib >= 1.0) ||
        spec->block_kib > 1048576.0 || !(rate_mb_per_s >= 0.0)) {
        snprintf(errmsg, errlen, "invalid disk load");
        return KG_EINVAL;
    }
    size_t block = (size_t)spec->block_kib * 1024u;
    if (file_bytes < block || file_bytes % block) {
        snprintf(errmsg, errlen, "file size %llu is not a whole number of blocks",
                 (unsigned long long)file_bytes);
        return KG_EINVAL;
    }
    struct disk_load *d = calloc(1, sizeof *d);
    if (!d)
        return KG_ENOMEM;
    d->fd = d->dirfd = -1;
    if (stopper_init(&d->stop) != KG_OK) {
        free(d);
        return KG_ENOMEM;
    }
    d->direct = spec->direct;
    d->mode = spec->disk_mode;
    d->block = block;
    d->file_bytes = file_bytes;
    d->rate_bytes_per_s = rate_mb_per_s * 1e6;
    atomic_init(&d->written, 0);
    atomic_init(&d->read, 0);
    atomic_init(&d->error, 0);
    int rc = KG_EIO;

    if (posix_memalign((void **)&d->buf, 4096, block) != 0) {
        d->buf = NULL;
        rc = KG_ENOMEM;
        goto fail;
    }
    fill_random(d->buf, block, kg_clock_mono_ns());
    d->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->dirfd < 0) {
        snprintf(errmsg, errlen, "disk_dir %s: %s", dir, strerror(errno));
        goto fail;
    }
    struct statvfs vfs;
    if (fstatvfs(d->dirfd, &vfs) == 0 &&
        (uint64_t)vfs.f_bavail * vfs.f_frsize < file_bytes + 16u * 1024 * 1024) {
        snprintf(errmsg, errlen, "disk_dir %s: not enough free space for %llu bytes", dir,
                 (unsigned long long)file_bytes);
        goto fail;
    }
    snprintf(d->name, sizeof d->name, NAME_PREFIX "%ld-%u" NAME_SUFFIX, (long)getpid(),
             atomic_fetch_add(&name_counter, 1u));
    snprintf(d->path, sizeof d->path, "%s/%s", dir, d->name);
    int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    d->fd = openat(d->dirfd, d->name, flags | (d->direct ? O_DIRECT : 0), 0600);
    if (d->fd < 0) {
        int e = errno;
        d->name[0] = '\0'; /* not ours: never unlink it */
        snprintf(errmsg, errlen, "%s: %s%s", d->path, strerror(e),
                 e == EINVAL && d->direct ? " (O_DIRECT not supported here)" : "");
        goto fail;
    }
    /* no readahead: it would read more than asked from the device, and the
     * dropped pages would be read again (measured: 32 MB/s for 20 asked) */
    if (!d->direct)
        posix_fadvise(d->fd, 0, 0, POSIX_FADV_RANDOM);
    int e = 0;
    if (d->mode != KG_DISK_WRITE)
        e = prefill(d);
    else if (ftruncate(d->fd, (off_t)file_bytes) != 0)
        e = errno;
    if (e) {
        snprintf(errmsg, errlen, "%s: %s", d->path, strerror(e));
        goto fail;
    }
    if (pthread_create(&d->thread, NULL, disk_main, d) != 0) {
        snprintf(errmsg, errlen, "cannot start the disk thread");
        goto fail;
    }
    d->started = true;
    *out = d;
    return KG_OK;
fail:
    close_and_remove(d);
    free(d->buf);
    stopper_destroy(&d->stop);
    free(d);
    return rc;
}

uint64_t disk_load_written_bytes(const struct disk_load *d) { return atomic_load(&d->written); }
uint64_t disk_load_read_bytes(const struct disk_load *d) { return atomic_load(&d->read); }
const char *disk_load_path(const struct disk_load *d) { return d->path; }
int disk_load_error(const struct disk_load *d) { return atomic_load(&d->error); }

void disk_load_stop(struct disk_load *d)
{
    if (!d || d->stopped)
        return;
    stopper_request(&d->stop);
    if (d->started)
        pthread_join(d->thread, NULL);
    close_and_remove(d);
    d->stopped = true;
}

void disk_load_free(struct disk_load *d)
{
    if (!d)
        return;
    disk_load_stop(d);
    free(d->buf);
    stopper_destroy(&d->stop);
    free(d);
}

int disk_sweep_stale(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return KG_EIO;
    DIR *dp = fdopendir(dfd);
    if (!dp) {
        close(dfd);
        return KG_EIO;
    }
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        long pid;
        unsigned n;
        char tail[8];
        if (sscanf(de->d_name, NAME_PREFIX "%ld-%u%7s", &pid, &n, tail) != 3 ||
            strcmp(tail, NAME_SUFFIX) != 0 || pid <= 0)
            continue;
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno == EPERM)
            continue; /* alive (or not ours to judge) */
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            unlinkat(dfd, de->d_name, 0) == 0)
            removed++;
    }
    closedir(dp);
    return removed;
}
