/* SPDX-License-Identifier: MIT */
/*
 * The wall's colour mapping: viridis (CC0, by Stéfan van der Walt, Nathaniel Smith
 * and Eric Firing for matplotlib) quantised to 8 bits per channel, a fixed linear
 * scale for percentages and a log scale for rates. Not a general colour library:
 * one map, the five metrics the wall shows.
 */
#include "colour.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kvmgrid/error.h"

#define RATE_MAX_BYTES_PER_S 1e9

/* viridis, 256 entries, RGB rounded from the published CC0 definition data. */
static const uint32_t viridis_rgb[256] = {
    0x440154, 0x440256, 0x450457, 0x450559, 0x46075A, 0x46085C, 0x460A5D, 0x460B5E,
    0x470D60, 0x470E61, 0x471063, 0x471164, 0x471365, 0x481467, 0x481668, 0x481769,
    0x48186A, 0x481A6C, 0x481B6D, 0x481C6E, 0x481D6F, 0x481F70, 0x482071, 0x482173,
    0x482374, 0x482475, 0x482576, 0x482677, 0x482878, 0x482979, 0x472A7A, 0x472C7A,
    0x472D7B, 0x472E7C, 0x472F7D, 0x46307E, 0x46327E, 0x46337F, 0x463480, 0x453581,
    0x453781, 0x453882, 0x443983, 0x443A83, 0x443B84, 0x433D84, 0x433E85, 0x423F85,
    0x424086, 0x424186, 0x414287, 0x414487, 0x404588, 0x404688, 0x3F4788, 0x3F4889,
    0x3E4989, 0x3E4A89, 0x3E4C8A, 0x3D4D8A, 0x3D4E8A, 0x3C4F8A, 0x3C508B, 0x3B518B,
    0x3B528B, 0x3A538B, 0x3A548C, 0x39558C, 0x39568C, 0x38588C, 0x38598C, 0x375A8C,
    0x375B8D, 0x365C8D, 0x365D8D, 0x355E8D, 0x355F8D, 0x34608D, 0x34618D, 0x33628D,
    0x33638D, 0x32648E, 0x32658E, 0x31668E, 0x31678E, 0x31688E, 0x30698E, 0x306A8E,
    0x2F6B8E, 0x2F6C8E, 0x2E6D8E, 0x2E6E8E, 0x2E6F8E, 0x2D708E, 0x2D718E, 0x2C718E,
    0x2C728E, 0x2C738E, 0x2B748E, 0x2B758E, 0x2A768E, 0x2A778E, 0x2A788E, 0x29798E,
    0x297A8E, 0x297B8E, 0x287C8E, 0x287D8E, 0x277E8E, 0x277F8E, 0x27808E, 0x26818E,
    0x26828E, 0x26828E, 0x25838E, 0x25848E, 0x25858E, 0x24868E, 0x24878E, 0x23888E,
    0x23898E, 0x238A8D, 0x228B8D, 0x228C8D, 0x228D8D, 0x218E8D, 0x218F8D, 0x21908D,
    0x21918C, 0x20928C, 0x20928C, 0x20938C, 0x1F948C, 0x1F958B, 0x1F968B, 0x1F978B,
    0x1F988B, 0x1F998A, 0x1F9A8A, 0x1E9B8A, 0x1E9C89, 0x1E9D89, 0x1F9E89, 0x1F9F88,
    0x1FA088, 0x1FA188, 0x1FA187, 0x1FA287, 0x20A386, 0x20A486, 0x21A585, 0x21A685,
    0x22A785, 0x22A884, 0x23A983, 0x24AA83, 0x25AB82, 0x25AC82, 0x26AD81, 0x27AD81,
    0x28AE80, 0x29AF7F, 0x2AB07F, 0x2CB17E, 0x2DB27D, 0x2EB37C, 0x2FB47C, 0x31B57B,
    0x32B67A, 0x34B679, 0x35B779, 0x37B878, 0x38B977, 0x3ABA76, 0x3BBB75, 0x3DBC74,
    0x3FBC73, 0x40BD72, 0x42BE71, 0x44BF70, 0x46C06F, 0x48C16E, 0x4AC16D, 0x4CC26C,
    0x4EC36B, 0x50C46A, 0x52C569, 0x54C568, 0x56C667, 0x58C765, 0x5AC864, 0x5CC863,
    0x5EC962, 0x60CA60, 0x63CB5F, 0x65CB5E, 0x67CC5C, 0x69CD5B, 0x6CCD5A, 0x6ECE58,
    0x70CF57, 0x73D056, 0x75D054, 0x77D153, 0x7AD151, 0x7CD250, 0x7FD34E, 0x81D34D,
    0x84D44B, 0x86D549, 0x89D548, 0x8BD646, 0x8ED645, 0x90D743, 0x93D741, 0x95D840,
    0x98D83E, 0x9BD93C, 0x9DD93B, 0xA0DA39, 0xA2DA37, 0xA5DB36, 0xA8DB34, 0xAADC32,
    0xADDC30, 0xB0DD2F, 0xB2DD2D, 0xB5DE2B, 0xB8DE29, 0xBADE28, 0xBDDF26, 0xC0DF25,
    0xC2DF23, 0xC5E021, 0xC8E020, 0xCAE11F, 0xCDE11D, 0xD0E11C, 0xD2E21B, 0xD5E21A,
    0xD8E219, 0xDAE319, 0xDDE318, 0xDFE318, 0xE2E418, 0xE5E419, 0xE7E419, 0xEAE51A,
    0xECE51B, 0xEFE51C, 0xF1E51D, 0xF4E61E, 0xF6E620, 0xF8E621, 0xFBE723, 0xFDE725,
};

static const char *const metric_keys[COLOUR_METRIC_COUNT] = {"cpu", "mem", "disk", "net", "steal"};
static const char *const metric_labels[COLOUR_METRIC_COUNT] = {
    "CPU %", "memory %", "disk bytes/s", "network bytes/s", "steal %"};

const char *colour_metric_key(enum colour_metric m)
{
    return (unsigned)m < COLOUR_METRIC_COUNT ? metric_keys[m] : "?";
}

const char *colour_metric_label(enum colour_metric m)
{
    return (unsigned)m < COLOUR_METRIC_COUNT ? metric_labels[m] : "?";
}

int colour_metric_parse(const char *s, enum colour_metric *out)
{
    if (s == NULL)
        return KG_EINVAL;
    for (int i = 0; i < COLOUR_METRIC_COUNT; i++) {
        if (strcasecmp(s, metric_keys[i]) == 0 || (s[0] == '1' + i && s[1] == '\0')) {
            *out = (enum colour_metric)i;
            return 0;
        }
    }
    return KG_EINVAL;
}

bool colour_metric_is_rate(enum colour_metric m)
{
    return m == COLOUR_METRIC_DISK || m == COLOUR_METRIC_NET;
}

double colour_metric_max(enum colour_metric m)
{
    return colour_metric_is_rate(m) ? RATE_MAX_BYTES_PER_S : 100.0;
}

double colour_scale_pos(enum colour_metric m, double value)
{
    if (isnan(value))
        return -1.0;
    double t;
    if (colour_metric_is_rate(m)) {
        if (value <= 0.0)
            return 0.0;
        t = log10(1.0 + value) / log10(1.0 + RATE_MAX_BYTES_PER_S);
    } else {
        t = value / 100.0;
    }
    if (t < 0.0)
        t = 0.0;
    if (t > 1.0)
        t = 1.0;
    return t;
}

double colour_scale_value(enum colour_metric m, double pos)
{
    if (pos < 0.0)
        pos = 0.0;
    if (pos > 1.0)
        pos = 1.0;
    if (colour_metric_is_rate(m))
        return pow(10.0, pos * log10(1.0 + RATE_MAX_BYTES_PER_S)) - 1.0;
    return pos * 100.0;
}

int colour_index(enum colour_metric m, double value)
{
    double t = colour_scale_pos(m, value);
    if (t < 0.0)
        return -1;
    return (int)lround(t * 255.0);
}

uint32_t colour_viridis(int i)
{
    if (i < 0)
        i = 0;
    if (i > 255)
        i = 255;
    return 0xFF000000u | viridis_rgb[i];
}

uint32_t colour_of(enum colour_metric m, double value)
{
    int i = colour_index(m, value);
    return i < 0 ? COLOUR_NA : colour_viridis(i);
}

uint32_t colour_dim(uint32_t c, unsigned num)
{
    uint32_t r = ((c >> 16) & 0xFF) * num / 256;
    uint32_t g = ((c >> 8) & 0xFF) * num / 256;
    uint32_t b = (c & 0xFF) * num / 256;
    return (c & 0xFF000000u) | (r << 16) | (g << 8) | b;
}

char *colour_format_number(double v, int decimals, char *buf, size_t size)
{
    if (isnan(v)) {
        snprintf(buf, size, "n/a");
        return buf;
    }
    int n = snprintf(buf, size, "%.*f", decimals > 0 ? decimals : 0, v);
    if (decimals > 0 && n > 0 && (size_t)n < size) {
        /* "4.50" -> "4.5", "4.00" -> "4": a whole number reads as one */
        char *end = buf + n - 1;
        while (*end == '0')
            *end-- = '\0';
        if (*end == '.')
            *end = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, size, "0");
    return buf;
}

char *colour_format_rate(double v, char *buf, size_t size)
{
    static const char *const units[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
    if (isnan(v)) {
        snprintf(buf, size, "n/a");
        return buf;
    }
    unsigned u = 0;
    while (fabs(v) >= 1000.0 && u < 4) {
        v /= 1000.0;
        u++;
    }
    /* three significant digits above 1 kB/s; bytes are whole */
    int decimals = u == 0 ? 0 : fabs(v) < 10.0 ? 2 : fabs(v) < 100.0 ? 1 : 0;
    char num[32];
    colour_format_number(v, decimals, num, sizeof(num));
    snprintf(buf, size, "%s %s", num, units[u]);
    return buf;
}

char *colour_format(enum colour_metric m, double value, char *buf, size_t size)
{
    if (isnan(value)) {
        snprintf(buf, size, "n/a");
    } else if (colour_metric_is_rate(m)) {
        colour_format_rate(value, buf, size);
    } else {
        char num[32];
        colour_format_number(value, 1, num, sizeof(num));
        snprintf(buf, size, "%s %%", num);
    }
    return buf;
}

size_t colour_ticks(enum colour_metric m, double *pos, const char **labels, size_t max)
{
    static const char *const pct[] = {"0", "25", "50", "75", "100 %"};
    static const char *const rate[] = {"0", "10", "1k", "100k", "10M", "1G B/s"};
    size_t n = 0;
    if (colour_metric_is_rate(m)) {
        static const double v[] = {0, 10, 1e3, 1e5, 1e7, 1e9};
        for (size_t i = 0; i < 6 && n < max; i++, n++) {
            pos[n] = colour_scale_pos(m, v[i]);
            labels[n] = rate[i];
        }
    } else {
        for (size_t i = 0; i < 5 && n < max; i++, n++) {
            pos[n] = (double)i / 4.0;
            labels[n] = pct[i];
        }
    }
    return n;
}
