/* SPDX-License-Identifier: MIT */
/*
 * The client settings' rules (kvmgrid/client.h): one place that decides what a
 * broker, a credential and a password file must be, for every program.
 */
#include "kvmgrid/client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvmgrid/error.h"

const char *const kg_client_log_levels[] = {"error", "warn", "info", "debug", NULL};

static int read_password(struct kg_client *c, const char *path, char *errmsg, size_t errlen)
{
    FILE *f = fopen(c->password_file, "re");
    if (!f)
        return kg_config_error(path, "password_file", KG_EIO, errmsg, errlen, "%s: %s",
                               c->password_file, strerror(errno));
    char pw[sizeof c->password + 2];
    if (!fgets(pw, sizeof pw, f))
        pw[0] = '\0';
    fclose(f);
    pw[strcspn(pw, "\r\n")] = '\0';
    size_t n = strlen(pw);
    int rc = 0;
    if (n >= sizeof c->password)
        rc = kg_config_error(path, "password_file", KG_ERANGE, errmsg, errlen,
                             "%s: password longer than %zu bytes", c->password_file,
                             sizeof c->password - 1);
    else if (n == 0)
        rc = kg_config_error(path, "password_file", KG_EINVAL, errmsg, errlen,
                             "%s: empty first line", c->password_file);
    else
        memcpy(c->password, pw, n + 1);
    explicit_bzero(pw, sizeof pw);
    return rc;
}

int kg_client_check(struct kg_client *c, const char *path, char *errmsg, size_t errlen)
{
    char why[256] = "";
    if (!(c->reader ? kg_topic_prefix_filter_valid(c->prefix, why, sizeof why)
                    : kg_topic_prefix_valid(c->prefix, why, sizeof why)))
        return kg_config_error(path, "prefix", KG_EINVAL, errmsg, errlen, "%s",
                               why[0] ? why : "invalid");
    if (!c->broker[0])
        return kg_config_error(path, "broker", KG_EINVAL, errmsg, errlen, "empty");
    if (c->password[0] && c->password_file[0])
        return kg_config_error(path, "password_file", KG_EINVAL, errmsg, errlen,
                               "password and password_file are exclusive");
    if (c->password_file[0]) {
        int rc = read_password(c, path, errmsg, errlen);
        if (rc)
            return rc;
    }
    /* The session's own checks, one key added at a time so that the message
     * names the key that broke them. */
    struct kg_mqtt_options all, o;
    kg_client_mqtt_options(c, &all);
    memset(&o, 0, sizeof o);
    static const char *const keys[] = {"broker", "client_id", "username", "password",
                                       "ca_file", "cert_file", "key_file"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        switch (i) {
        case 0: o.uri = all.uri; break;
        case 1: o.client_id = all.client_id; break;
        case 2: o.username = all.username; break;
        case 3: o.password = all.password; break;
        case 4: o.ca_file = all.ca_file; break;
        case 5: o.cert_file = all.cert_file; break;
        default: o.key_file = all.key_file; break;
        }
        if (kg_mqtt_options_check(&o, why, sizeof why) != 0) {
            const char *key = i == 3 && c->password_file[0] ? "password_file" : keys[i];
            return kg_config_error(path, key, KG_EINVAL, errmsg, errlen, "%s", why);
        }
    }
    return 0;
}

static const char *or_null(const char *s)
{
    return s[0] ? s : NULL;
}

void kg_client_mqtt_options(const struct kg_client *c, struct kg_mqtt_options *o)
{
    memset(o, 0, sizeof *o);
    o->uri = c->broker;
    o->client_id = or_null(c->client_id);
    o->username = or_null(c->username);
    o->password = or_null(c->password);
    o->ca_file = or_null(c->ca_file);
    o->cert_file = or_null(c->cert_file);
    o->key_file = or_null(c->key_file);
}

bool kg_client_same_session(const struct kg_client *a, const struct kg_client *b)
{
    return !strcmp(a->broker, b->broker) && !strcmp(a->username, b->username) &&
           !strcmp(a->password, b->password) && !strcmp(a->password_file, b->password_file) &&
           !strcmp(a->ca_file, b->ca_file) && !strcmp(a->cert_file, b->cert_file) &&
           !strcmp(a->key_file, b->key_file) && !strcmp(a->client_id, b->client_id) &&
           !strcmp(a->prefix, b->prefix);
}
