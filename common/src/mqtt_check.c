/* SPDX-License-Identifier: MIT */
/*
 * The checks of the MQTT session that need no connection: topic names and
 * subscription filters as a broker checks them (a broker drops the connection
 * of a client that sends an invalid one), broker URIs, and the option checks of
 * kg_mqtt_options_check. Pure: no Paho, no allocation, no logging.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvmgrid/error.h"
#include "kvmgrid/mqtt.h"
#include "mqtt_private.h"
#include "utf8.h"

void kg_mqtt__set_err(char *errmsg, size_t errlen, const char *fmt, ...)
{
    if (!errmsg || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errlen, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------- topic checking */

/* Decodes one UTF-8 sequence at s[i] (len bytes total) the way mosquitto's
 * mosquitto_validate_utf8 does: no NUL, no overlong forms, no surrogates, nothing
 * above U+10FFFF, no non-characters, no C0/C1 control characters (the broker
 * refuses them in topics and drops the connection). Returns the sequence length,
 * or 0 when invalid. */
static size_t utf8_next(const unsigned char *s, size_t len, size_t i)
{
    uint32_t cp;
    size_t n = kg_utf8_decode(s + i, len - i, &cp);
    if (n == 0 || cp == 0)
        return 0;
    if (cp >= 0xFDD0 && cp <= 0xFDEF)
        return 0;
    if ((cp & 0xFFFFu) == 0xFFFEu || (cp & 0xFFFFu) == 0xFFFFu)
        return 0;
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F))
        return 0;
    return n;
}

static bool utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_next(s, len, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool kg_mqtt_topic_valid(const char *topic, size_t len)
{
    if (!topic || len == 0 || len > KG_MQTT_MAX_TOPIC_BYTES)
        return false;
    /* Checked for every message: printable ASCII, what topics nearly always are,
     * takes one comparison per byte; anything else goes through utf8_next. */
    const unsigned char *s = (const unsigned char *)topic;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7F) {
            if (c == '+' || c == '#')
                return false;
            i++;
            continue;
        }
        size_t n = utf8_next(s, len, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool kg_mqtt_filter_valid(const char *filter, size_t len)
{
    if (!filter || len == 0 || len > KG_MQTT_MAX_TOPIC_BYTES)
        return false;
    if (!utf8_valid(filter, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || filter[i - 1] == '/';
        bool level_end = i + 1 == len || filter[i + 1] == '/';
        if (filter[i] == '+' && !(level_start && level_end))
            return false;
        if (filter[i] == '#' && !(level_start && i + 1 == len))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------- validation */

/* Checks "tcp://host[:port]" / "ssl://host[:port]" (host may be "[v6]"). */
static int parse_uri(const char *uri, bool *tls, char *errmsg, size_t errlen)
{
    const char *rest;
    if (!uri || !*uri) {
        kg_mqtt__set_err(errmsg, errlen,
                         "no broker URI given (expected tcp://HOST:PORT or ssl://HOST:PORT)");
        return KG_EINVAL;
    }
    if (strncmp(uri, "tcp://", 6) == 0) {
        *tls = false;
        rest = uri + 6;
    } else if (strncmp(uri, "ssl://", 6) == 0) {
        *tls = true;
        rest = uri + 6;
    } else {
        kg_mqtt__set_err(errmsg, errlen, "broker URI \"%.200s\" must start with tcp:// or ssl://",
                         uri);
        return KG_EINVAL;
    }
    const char *host_end;
    if (*rest == '[') {
        host_end = strchr(rest, ']');
        if (!host_end || host_end == rest + 1) {
            kg_mqtt__set_err(errmsg, errlen, "broker URI \"%.200s\": malformed [IPv6] host", uri);
            return KG_EINVAL;
        }
        host_end++;
    } else {
        host_end = rest + strcspn(rest, ":/");
        if (host_end == rest) {
            kg_mqtt__set_err(errmsg, errlen, "broker URI \"%.200s\" has no host", uri);
            return KG_EINVAL;
        }
    }
    for (const char *p = rest; p < host_end; p++) {
        if (*p <= ' ' || *p == '@' || *p == '?' || *p == '#' || (unsigned char)*p >= 0x7F) {
            kg_mqtt__set_err(errmsg, errlen, "broker URI \"%.200s\": invalid character in host",
                             uri);
            return KG_EINVAL;
        }
    }
    if (*host_end == '\0')
        return 0; /* Paho's default port: 1883, or 8883 for ssl:// */
    if (*host_end != ':') {
        kg_mqtt__set_err(errmsg, errlen,
                         "broker URI \"%.200s\": unexpected \"%.50s\" after the host", uri,
                         host_end);
        return KG_EINVAL;
    }
    const char *port = host_end + 1;
    if (*port == '\0') {
        kg_mqtt__set_err(errmsg, errlen, "broker URI \"%.200s\": empty port", uri);
        return KG_EINVAL;
    }
    long value = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9' || value > 65535) {
            kg_mqtt__set_err(errmsg, errlen, "broker URI \"%.200s\": port must be a number 1-65535",
                             uri);
            return KG_EINVAL;
        }
        value = value * 10 + (*p - '0');
    }
    if (value < 1 || value > 65535) {
        kg_mqtt__set_err(errmsg, errlen, "broker URI \"%.200s\": port must be a number 1-65535",
                         uri);
        return KG_EINVAL;
    }
    return 0;
}

static int check_readable(const char *what, const char *path, char *errmsg, size_t errlen)
{
    if (!path)
        return 0;
    if (!*path) {
        kg_mqtt__set_err(errmsg, errlen, "%s is empty", what);
        return KG_EINVAL;
    }
    if (access(path, R_OK) != 0) {
        kg_mqtt__set_err(errmsg, errlen, "%s \"%.200s\": %s", what, path, strerror(errno));
        return KG_EINVAL;
    }
    return 0;
}

int kg_mqtt_options_check(const struct kg_mqtt_options *opt, char *errmsg, size_t errlen)
{
    bool tls = false;
    int rc;
    if (!opt) {
        kg_mqtt__set_err(errmsg, errlen, "no MQTT options given");
        return KG_EINVAL;
    }
    if ((rc = parse_uri(opt->uri, &tls, errmsg, errlen)) != 0)
        return rc;
    if (opt->client_id) {
        size_t n = strlen(opt->client_id);
        if (n == 0 || n > KG_MQTT_MAX_TOPIC_BYTES || !utf8_valid(opt->client_id, n)) {
            kg_mqtt__set_err(errmsg, errlen, "client id must be 1-65535 bytes of printable UTF-8");
            return KG_EINVAL;
        }
    }
    if (opt->username && (!*opt->username || !utf8_valid(opt->username, strlen(opt->username)))) {
        kg_mqtt__set_err(errmsg, errlen, "user name must be non-empty printable UTF-8");
        return KG_EINVAL;
    }
    if (opt->password && !opt->username) {
        kg_mqtt__set_err(errmsg, errlen, "a password needs a user name (MQTT 3.1.1)");
        return KG_EINVAL;
    }
    if (!tls && (opt->ca_file || opt->cert_file || opt->key_file || opt->tls_insecure)) {
        kg_mqtt__set_err(errmsg, errlen,
                         "TLS options (CA file, certificate, key, insecure) need an ssl:// URI, "
                         "not \"%.200s\"",
                         opt->uri);
        return KG_EINVAL;
    }
    if ((rc = check_readable("CA file", opt->ca_file, errmsg, errlen)) != 0 ||
        (rc = check_readable("certificate file", opt->cert_file, errmsg, errlen)) != 0 ||
        (rc = check_readable("key file", opt->key_file, errmsg, errlen)) != 0)
        return rc;
    if (opt->key_file && !opt->cert_file) {
        kg_mqtt__set_err(errmsg, errlen, "a key file needs a certificate file");
        return KG_EINVAL;
    }
    if (opt->keepalive_s < 0 || opt->keepalive_s > 65535) {
        kg_mqtt__set_err(errmsg, errlen, "keepalive %d s out of range 0-65535", opt->keepalive_s);
        return KG_EINVAL;
    }
    if (opt->qos != 0 && opt->qos != 1) {
        kg_mqtt__set_err(errmsg, errlen, "QoS %d not supported (use 0 or 1)", opt->qos);
        return KG_EINVAL;
    }
    if (opt->protocol != 0 && opt->protocol != 4 && opt->protocol != 5) {
        kg_mqtt__set_err(errmsg, errlen,
                         "MQTT protocol level %d not supported (4: MQTT 3.1.1, 5: MQTT 5)",
                         opt->protocol);
        return KG_EINVAL;
    }
    if (opt->retain_as_published && opt->protocol != 5) {
        kg_mqtt__set_err(errmsg, errlen,
                         "retain-as-published subscriptions need MQTT 5 (protocol 5)");
        return KG_EINVAL;
    }
    if (opt->will_topic && !kg_mqtt_topic_valid(opt->will_topic, strlen(opt->will_topic))) {
        kg_mqtt__set_err(errmsg, errlen, "will topic \"%.200s\" is not a valid topic name",
                         opt->will_topic);
        return KG_EINVAL;
    }
    if (!opt->will_topic && opt->will_payload) {
        kg_mqtt__set_err(errmsg, errlen, "a will payload needs a will topic");
        return KG_EINVAL;
    }
    uint32_t lo = opt->reconnect_min_ms ? opt->reconnect_min_ms : KG_MQTT_DEFAULT_RECONNECT_MIN_MS;
    uint32_t hi = opt->reconnect_max_ms ? opt->reconnect_max_ms : KG_MQTT_DEFAULT_RECONNECT_MAX_MS;
    if (lo > hi) {
        kg_mqtt__set_err(errmsg, errlen, "reconnect minimum %u ms is above the maximum %u ms",
                         (unsigned)lo, (unsigned)hi);
        return KG_EINVAL;
    }
    if (hi > 3600u * 1000u) {
        kg_mqtt__set_err(errmsg, errlen, "reconnect maximum %u ms is above one hour", (unsigned)hi);
        return KG_EINVAL;
    }
    if (opt->max_buffered < 0) {
        kg_mqtt__set_err(errmsg, errlen, "max_buffered %d is negative", opt->max_buffered);
        return KG_EINVAL;
    }
    if (opt->deliver_bytes > KG_MQTT_MAX_DELIVER_BYTES) {
        kg_mqtt__set_err(errmsg, errlen, "deliver_bytes %zu is above %u", opt->deliver_bytes,
                         KG_MQTT_MAX_DELIVER_BYTES);
        return KG_EINVAL;
    }
    return 0;
}
