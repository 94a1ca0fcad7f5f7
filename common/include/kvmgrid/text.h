/* SPDX-License-Identifier: MIT */
/*
 * Names as people wrote them, safe to put on a screen or a terminal: what a
 * display shows of a host, VM or node name (PROTOCOL.md: displays show the
 * payload's name, not its topic escaping). Pure; no allocation.
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

#endif
