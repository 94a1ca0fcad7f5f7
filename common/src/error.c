/* SPDX-License-Identifier: MIT */
/*
 * kg_strerror(): names for the KG_* error codes of error.h. A table lookup and
 * nothing else; it never allocates and never touches errno.
 */
#include "kvmgrid/error.h"

const char *kg_strerror(int code)
{
    switch (code) {
    case KG_OK: return "success";
    case KG_EINVAL: return "invalid argument";
    case KG_ENOMEM: return "out of memory";
    case KG_ERANGE: return "value out of range";
    case KG_EPARSE: return "malformed input";
    case KG_ETOOBIG: return "too big";
    case KG_EIO: return "I/O error";
    case KG_ENOENT: return "not found";
    case KG_ENOTCONN: return "not connected";
    case KG_ETIMEDOUT: return "timed out";
    case KG_EAGAIN: return "temporarily unavailable";
    case KG_EUNSUPPORTED: return "not supported";
    case KG_EPERM: return "not permitted";
    case KG_ESTATE: return "wrong state";
    default: return "unknown error";
    }
}
