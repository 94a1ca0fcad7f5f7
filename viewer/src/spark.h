/* SPDX-License-Identifier: MIT */
/*
 * Sparkline geometry: a history series (history.h's bytes, oldest first: a
 * colour-scale position 0..HISTORY_TOP, or HISTORY_NONE) turned into one
 * vertical run of pixel rows per column of a w x h box, so that the drawing
 * side only fills rectangles. n steps are resampled into w columns keeping
 * peaks: a column covering several steps stands at the largest of them (a 5 s
 * spike stays visible in a 30 px sparkline of 15 minutes), a column inside one
 * step repeats it. A column's run spans the steps it covers and reaches to the
 * previous column's level, so the line is unbroken; a column with no known step
 * is a gap, and the line starts again after it.
 * Also the words of the trends' notice ("4 min").
 * Not here: reading the history (history.c) or any pixel (trends.c).
 * Pure module: no SDL, no logging, no state. Thread-safe.
 */
#ifndef KG_WALL_SPARK_H
#define KG_WALL_SPARK_H
#include <stddef.h>
#include <stdint.h>

#define SPARK_GAP (-1) /* spark_col.level of a column with no known step */

/* One column of a sparkline: rows counted from the box's top (0) to h - 1 at
 * its bottom (the scale's 0). */
struct spark_col {
    int16_t level;   /* row of the column's peak, SPARK_GAP: nothing known */
    int16_t top;     /* first and last row of its run, top <= level <= bottom */
    int16_t bottom;
};

/* The row of scale position v (0..HISTORY_TOP; larger is clamped) in a box h
 * rows high (h >= 1): HISTORY_TOP is row 0, 0 is row h - 1. */
int spark_row(unsigned v, int h);

/* Resamples steps[0..n) (oldest first) into out[0..w): column c covers the steps
 * from c * n / w up to (c + 1) * n / w (at least one). w >= 1, h >= 1; n 0 or
 * every step HISTORY_NONE gives only gaps. Returns how many columns have data. */
size_t spark_columns(const uint8_t *steps, size_t n, int w, int h, struct spark_col *out);

/* The newest known step of steps[0..n), or HISTORY_NONE. */
unsigned spark_last(const uint8_t *steps, size_t n);

/* A span of time as people say it, rounded down: "40 s" below 2 min, "15 min"
 * below 2 h, "3 h" above. Returns buf. */
char *spark_span(uint64_t ms, char *buf, size_t size);

#endif
