/* SPDX-License-Identifier: MIT */
/*
 * The one UTF-8 decoder and hex-digit reader of libkvmgrid (private to common/):
 * the JSON codecs (schema.c), topic escaping (topic.c) and the MQTT session's
 * topic and credential checks (mqtt.c) decode with it and add their own rules
 * on top (which code points each refuses). Pure functions; no allocation.
 */
#ifndef KG_COMMON_UTF8_H
#define KG_COMMON_UTF8_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid, shortest-form UTF-8 sequence at s[0..n) (n > 0),
 * with its code point in *cp; 0 when it is not one: a stray continuation byte,
 * a truncated sequence, an overlong form, a surrogate, or a code point above
 * U+10FFFF. An ASCII byte, NUL included, is a sequence of 1. */
size_t kg_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* The value of the hex digit c, or -1. upper_only: a-f are not digits (the
 * canonical form of kvmgrid's topic escaping). */
int kg_hex_value(unsigned char c, bool upper_only);

/* Copies s[0..n) into out (size > 0 bytes, NUL-terminated) with every byte
 * that does not begin a valid sequence (kg_utf8_decode) replaced by U+FFFD,
 * cut on a character boundary when out is too small. Returns the length. */
size_t kg_utf8_clean(const char *s, size_t n, char *out, size_t size);

#endif
