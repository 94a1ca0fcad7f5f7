/* SPDX-License-Identifier: MIT */
/*
 * Disk load: writes and/or reads blocks at a rate (or as fast as the rate cap
 * allows) to one file in the configured directory, so that the bytes reach the
 * device and the hypervisor sees them: fdatasync after every written block, or
 * O_DIRECT with aligned buffers; reads drop the file's cached pages first
 * (POSIX_FADV_DONTNEED) or use O_DIRECT, so that they come from the device.
 *
 * The file name is generated ("kvmgrid-load-<pid>-<n>.tmp"), never taken from a
 * command; it is opened relative to the directory with O_CREAT|O_EXCL|
 * O_NOFOLLOW, so a symlink planted in the directory cannot redirect the writes.
 * Writes wrap around inside the file, whose size is bounded by the caps. The
 * file is removed when the load stops; disk_sweep_stale() removes files left by
 * a process that died without stopping (SIGKILL).
 */
#ifndef LOADGEN_DISK_H
#define LOADGEN_DISK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmgrid/schema.h"

struct disk_load;

/* Creates the file in dir (borrowed), sized file_bytes (a multiple of the block),
 * prefills it for reads, and starts the I/O thread. rate_mb_per_s: the rate per
 * direction (MB = 10^6 B), or 0 for no throttle. Returns 0 and *out (free with
 * disk_load_free), or KG_EINVAL, KG_ENOMEM, KG_EIO (cannot open/size/write the
 * file: errmsg says why; nothing is left behind). */
int disk_load_start(const struct kg_load_spec *spec, const char *dir, uint64_t file_bytes,
                    double rate_mb_per_s, struct disk_load **out, char *errmsg, size_t errlen);
/* Bytes written / read by the load so far (prefill excluded). Thread-safe. */
uint64_t disk_load_written_bytes(const struct disk_load *d);
uint64_t disk_load_read_bytes(const struct disk_load *d);
/* Full path of the file, for logs and tests. */
const char *disk_load_path(const struct disk_load *d);
/* Non-zero when the I/O thread stopped on an error (e.g. ENOSPC). */
int disk_load_error(const struct disk_load *d);
/* Stops the thread, closes and removes the file. Idempotent. */
void disk_load_stop(struct disk_load *d);
void disk_load_free(struct disk_load *d);

/* Removes "kvmgrid-load-<pid>-<n>.tmp" files in dir whose pid is no longer
 * alive. Returns the number removed (>= 0) or KG_EIO. */
int disk_sweep_stale(const char *dir);

#endif
