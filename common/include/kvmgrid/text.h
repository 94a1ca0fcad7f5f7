/* SPDX-License-Identifier: MIT */
/*
 * Names as people wrote them, safe to put on a screen or a terminal: what a
 * display shows of a host, VM or node name (PROTOCOL.md: displays show the
 * payload's name, not its topic escaping), and how many terminal columns it
 * takes. Pure; no allocation.
 */
#ifndef KVMGRID_TEXT_H
#define KVMGRID_TEXT_H
#include <stddef.h>

/* Copies the len bytes at s into out (size bytes, NUL-terminated when size > 0)
 * as they are: any valid UTF-8, '/', '#', '%', '+', spaces, quotes and
 * backslashes included. Only what a screen or terminal would not show as
 * itself is made visible, as \xNN per byte: control characters (U+0000-U+001F,
 * U+007F, U+0080-U+009F) and bytes that are not valid UTF-8. Never cuts a
 * character or an \xNN in two; a name that does not fit ends early. Returns the
 * length written (without the NUL). */
size_t kg_text_visible(const char *s, size_t len, char *out, size_t size);

/* Terminal columns: the longest start of the UTF-8 text s[0..len) (as
 * kg_text_visible writes it) that fits in cols columns, never cutting a
 * character. Each character takes wcwidth(3) columns (2 for East Asian wide
 * ones, 0 for combining marks: LC_CTYPE must be a UTF-8 locale for that), 1
 * when wcwidth does not know it; a byte that is not UTF-8 takes 1. Returns the
 * bytes of that start; *used (may be NULL) gets its columns. With cols
 * SIZE_MAX: the whole text and its width. */
size_t kg_text_fit(const char *s, size_t len, size_t cols, size_t *used);

#endif
