/* SPDX-License-Identifier: MIT */
/*
 * Metric -> colour for the wall: the metrics a tile can show, their scales, the
 * viridis look-up table and value formatting for legends and tooltips.
 * Percentages use a fixed 0..100 % scale; rates (bytes per second) a log10(1 + v)
 * scale up to a readable maximum (1 GB/s), so that 1 kB/s and 500 MB/s are both
 * visible. Colours are 0xAARRGGBB with alpha 0xFF (SDL_PIXELFORMAT_ARGB8888).
 * Pure module: no SDL, no logging, no state. Thread-safe.
 */
#ifndef KG_WALL_COLOUR_H
#define KG_WALL_COLOUR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum colour_metric {
    COLOUR_METRIC_CPU = 0,  /* cpu_pct: % of the VM's own vCPUs */
    COLOUR_METRIC_MEM,      /* mem_used_pct */
    COLOUR_METRIC_DISK,     /* disk read + write, bytes/s */
    COLOUR_METRIC_NET,      /* network rx + tx, bytes/s */
    COLOUR_METRIC_STEAL,    /* steal_pct */
    COLOUR_METRIC_COUNT
};

/* Colours of things that are not a value. */
#define COLOUR_BACKGROUND 0xFF101014u /* the wall's background */
#define COLOUR_NA         0xFF3A3A3Au /* no figure for this metric (e.g. no rate yet) */
#define COLOUR_STALE_ALT  0xFF000000u /* second colour of the stale checkerboard */
#define COLOUR_OFFLINE    0xFFFF5A36u /* offline host frame and word (with shape, not alone) */
#define COLOUR_TEXT       0xFFE8E8E8u
#define COLOUR_TEXT_DIM   0xFF9A9AA0u
#define COLOUR_MARK       0xFFFFFFFFu /* paused bars, load-running corner */

/* Short key ("cpu", "mem", "disk", "net", "steal") and display name ("CPU %"...). */
const char *colour_metric_key(enum colour_metric m);
const char *colour_metric_label(enum colour_metric m);
/* Parses a key (case-insensitive) or "1".."5". 0 or KG_EINVAL. */
int colour_metric_parse(const char *s, enum colour_metric *out);
/* True for bytes/s metrics (log scale), false for percentages (linear 0..100). */
bool colour_metric_is_rate(enum colour_metric m);
/* Top of the scale: 100 for percentages, 1e9 bytes/s for rates. */
double colour_metric_max(enum colour_metric m);

/* Position of value on the metric's scale, clamped to 0..1; negative for NA (NaN). */
double colour_scale_pos(enum colour_metric m, double value);
/* Inverse of colour_scale_pos for pos in 0..1 (legend ticks). */
double colour_scale_value(enum colour_metric m, double pos);
/* Index 0..255 into the LUT for value, or -1 for NA. Rounds to nearest. */
int colour_index(enum colour_metric m, double value);
/* Viridis entry i (0..255), 0xFFRRGGBB. i is clamped. */
uint32_t colour_viridis(int i);
/* Colour of value (COLOUR_NA for NaN). */
uint32_t colour_of(enum colour_metric m, double value);
/* Scales each channel of c by num/256 (dimming), keeps alpha. */
uint32_t colour_dim(uint32_t c, unsigned num);

/* Numbers on screen: a whole number is written as one ("4", never "4.0"); other
 * values with at most `decimals` decimals, trailing zeros dropped ("42.5", "1.25").
 * NaN gives "n/a". Returns buf. */
char *colour_format_number(double v, int decimals, char *buf, size_t size);
/* Formats a value with its unit: "42 %", "42.5 %", "1.5 MB/s", "n/a" (percentages
 * to one decimal, by colour_format_number's rule). Returns buf. */
char *colour_format(enum colour_metric m, double value, char *buf, size_t size);
/* Formats bytes/s to three significant digits, SI units, by colour_format_number's
 * rule ("999 B/s", "12.3 kB/s", "1.5 MB/s", "1 GB/s"). Returns buf. */
char *colour_format_rate(double bytes_per_s, char *buf, size_t size);

/* Legend ticks: fills up to max positions (0..1) and labels ("0", "25", "1k", "1M"...)
 * and returns how many. labels point to static strings. */
size_t colour_ticks(enum colour_metric m, double *pos, const char **labels, size_t max);

#endif
