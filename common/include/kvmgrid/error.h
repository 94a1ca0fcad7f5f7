/* SPDX-License-Identifier: MIT */
/*
 * kvmgrid error codes. A function that can fail returns int: 0 (KG_OK) or one of
 * the negative KG_E* codes below; kg_strerror() names it. Library errors (libvirt,
 * Paho, SDL, cJSON) are translated to these at the call site, after logging the
 * library's own message once.
 */
#ifndef KVMGRID_ERROR_H
#define KVMGRID_ERROR_H

enum {
    KG_OK = 0,
    KG_EINVAL = -1,       /* invalid argument or value */
    KG_ENOMEM = -2,       /* out of memory */
    KG_ERANGE = -3,       /* a number out of its allowed range */
    KG_EPARSE = -4,       /* malformed input (JSON, config, topic) */
    KG_ETOOBIG = -5,      /* input or output larger than its limit/buffer */
    KG_EIO = -6,          /* I/O error (errno is logged where it happened) */
    KG_ENOENT = -7,       /* no such file, key, topic or object */
    KG_ENOTCONN = -8,     /* not connected (broker, libvirt) */
    KG_ETIMEDOUT = -9,    /* gave up waiting */
    KG_EAGAIN = -10,      /* temporarily unavailable; try again */
    KG_EUNSUPPORTED = -11,/* the peer or driver does not support it */
    KG_EPERM = -12,       /* refused: not allowed (caps, ACL, credentials) */
    KG_ESTATE = -13,      /* called in the wrong state */
};

/* Returns a static, human-readable string for a KG_* code; never NULL. Thread-safe. */
const char *kg_strerror(int code);

#endif
