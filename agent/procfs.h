/* SPDX-License-Identifier: MIT */
/*
 * /proc readers for the host figures: /proc/stat (CPU ticks), /proc/meminfo,
 * /proc/loadavg, /proc/diskstats (whole disks only) and /proc/net/dev (all but lo).
 * Each takes the proc root as a path ("/proc" in production, a fixture directory
 * in tests) and hands the open file to its parser, which takes any stream (the
 * fuzzer's are fmemopen buffers). Pure module: reads files, never logs, keeps no
 * state. Thread-safe.
 */
#ifndef AGENT_PROCFS_H
#define AGENT_PROCFS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sample.h"

/* Each reader fills its part of *out and sets its have_* flag. Returns 0,
 * KG_ENOENT/KG_EIO (file missing or unreadable) or KG_EPARSE (unexpected format);
 * on error the have_* flag stays false. proc_root is borrowed. */
int procfs_read_stat(const char *proc_root, struct sample_proc *out);
int procfs_read_meminfo(const char *proc_root, struct sample_proc *out);
int procfs_read_loadavg(const char *proc_root, struct sample_proc *out);
int procfs_read_diskstats(const char *proc_root, struct sample_proc *out);
int procfs_read_netdev(const char *proc_root, struct sample_proc *out);

/* The readers' parsers: f (borrowed, read as far as the parser needs, not closed)
 * holds text in the format of /proc/stat, /proc/meminfo, /proc/loadavg,
 * /proc/diskstats or /proc/net/dev. Each fills *out as its reader does and
 * returns 0 or KG_EPARSE. */
int procfs_parse_stat(FILE *f, struct sample_proc *out);
int procfs_parse_meminfo(FILE *f, struct sample_proc *out);
int procfs_parse_loadavg(FILE *f, struct sample_proc *out);
int procfs_parse_diskstats(FILE *f, struct sample_proc *out);
int procfs_parse_netdev(FILE *f, struct sample_proc *out);

/* Zeroes *out and runs every reader; returns the first error, if any (the readers
 * that worked have filled their part anyway). */
int procfs_read_all(const char *proc_root, struct sample_proc *out);

/* True when a /proc/diskstats device name is a whole disk worth counting: not a
 * partition (sda1, vda2, nvme0n1p1, mmcblk0p1), nor a stacked or virtual device
 * (dm-*, md*, loop*, ram*, zram*, sr*, fd*) whose I/O is counted again below it. */
bool procfs_is_whole_disk(const char *name);

#endif
