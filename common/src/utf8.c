/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 decoding and hex digits for libkvmgrid's parsers (see utf8.h), and the
 * visible form of names for displays and their width in terminal columns
 * (kvmgrid/text.h).
 */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include "utf8.h"

#include <string.h>
#include <wchar.h>

#include "kvmgrid/text.h"

size_t kg_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    uint32_t v;
    size_t len;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07u;
    } else {
        return 0; /* a continuation byte, an overlong lead (C0, C1) or F5..FF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) || v > 0x10FFFF ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

int kg_hex_value(unsigned char c, bool upper_only)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (!upper_only && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t kg_text_visible(const char *s, size_t len, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    if (size == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t k = kg_utf8_decode(p + i, len - i, &cp);
        bool control = k > 0 && (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F));
        if (k > 0 && !control) {
            if (n + k >= size)
                break;
            memcpy(out + n, p + i, k);
            n += k;
            i += k;
            continue;
        }
        /* a control character (all its bytes) or one byte that is not UTF-8 */
        size_t bytes = k > 0 ? k : 1;
        if (n + 4 * bytes >= size)
            break;
        for (size_t b = 0; b < bytes; b++, i++) {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[p[i] >> 4];
            out[n++] = hex[p[i] & 0x0F];
        }
    }
    out[n] = '\0';
    return n;
}

size_t kg_utf8_clean(const char *s, size_t n, char *out, size_t size)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = kg_utf8_decode(u + i, n - i, &cp);
        const char *src = k ? s + i : "\xEF\xBF\xBD"; /* U+FFFD */
        size_t outk = k ? k : 3;
        if (outk >= size - len)
            break;
        memcpy(out + len, src, outk);
        len += outk;
        i += k ? k : 1;
    }
    out[len] = '\0';
    return len;
}

size_t kg_text_fit(const char *s, size_t len, size_t cols, size_t *used)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, w = 0;
    while (i < len) {
        uint32_t cp = 0;
        size_t k = kg_utf8_decode(p + i, len - i, &cp);
        int cw = 1;
        if (k == 0)
            k = 1;
        else if (cp >= 0x80 && (cw = wcwidth((wchar_t)cp)) < 0)
            cw = 1; /* unknown to wcwidth (or not a UTF-8 locale): one column */
        if ((size_t)cw > cols - w)
            break;
        w += (size_t)cw;
        i += k;
    }
    if (used != NULL)
        *used = w;
    return i;
}
