/* SPDX-License-Identifier: MIT */
/*
 * Sparkline geometry (see spark.h).
 */
#include "spark.h"

#include <stdio.h>

#include "history.h"

int spark_row(unsigned v, int h)
{
    if (v > HISTORY_TOP)
        v = HISTORY_TOP;
    /* rounded to the nearest row: the scale's ends land on the box's edges */
    return (h - 1) - (int)((v * (unsigned)(h - 1) + HISTORY_TOP / 2) / HISTORY_TOP);
}

size_t spark_columns(const uint8_t *steps, size_t n, int w, int h, struct spark_col *out)
{
    size_t with_data = 0;
    int prev = SPARK_GAP;
    for (int c = 0; c < w; c++) {
        struct spark_col *col = &out[c];
        col->level = col->top = col->bottom = SPARK_GAP;
        if (n == 0) {
            prev = SPARK_GAP;
            continue;
        }
        size_t s0 = (size_t)c * n / (size_t)w, s1 = ((size_t)c + 1) * n / (size_t)w;
        if (s1 <= s0)
            s1 = s0 + 1; /* more columns than steps: each repeats its step */
        int hi = -1, lo = 256;
        for (size_t s = s0; s < s1; s++) {
            if (steps[s] == HISTORY_NONE)
                continue;
            if (steps[s] > hi)
                hi = steps[s];
            if (steps[s] < lo)
                lo = steps[s];
        }
        if (hi < 0) {
            prev = SPARK_GAP;
            continue;
        }
        int level = spark_row((unsigned)hi, h), low = spark_row((unsigned)lo, h);
        int top = level, bottom = low;
        if (prev != SPARK_GAP) { /* reach the previous column: an unbroken line */
            if (prev < top)
                top = prev;
            if (prev > bottom)
                bottom = prev;
        }
        col->level = (int16_t)level;
        col->top = (int16_t)top;
        col->bottom = (int16_t)bottom;
        prev = level;
        with_data++;
    }
    return with_data;
}

unsigned spark_last(const uint8_t *steps, size_t n)
{
    while (n > 0)
        if (steps[--n] != HISTORY_NONE)
            return steps[n];
    return HISTORY_NONE;
}

char *spark_span(uint64_t ms, char *buf, size_t size)
{
    uint64_t s = ms / 1000;
    if (s < 120)
        snprintf(buf, size, "%llu s", (unsigned long long)s);
    else if (s < 7200)
        snprintf(buf, size, "%llu min", (unsigned long long)(s / 60));
    else
        snprintf(buf, size, "%llu h", (unsigned long long)(s / 3600));
    return buf;
}
