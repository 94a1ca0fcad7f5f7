/* SPDX-License-Identifier: MIT */
/*
 * Requests to checked plans (see plan.h). Single loads go through the same
 * scenario_apply_caps as scenario files, so a load is judged by one set of
 * rules whichever way it arrives.
 */
#include "plan.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "kvmgrid/error.h"

int plan_from_scenario(const char *path_or_name, const struct caps *caps,
                       const char *scenario_dir, struct scenario **out, char *errmsg,
                       size_t errlen)
{
    char path[PATH_MAX];
    const char *file = path_or_name;
    size_t len = strlen(path_or_name);
    *out = NULL;
    if (!strchr(path_or_name, '/') && !(len > 5 && strcmp(path_or_name + len - 5, ".json") == 0)) {
        int rc = catalog_find(scenario_dir, path_or_name, path, sizeof path);
        if (rc == KG_EINVAL) {
            snprintf(errmsg, errlen, "invalid scenario name \"%.64s\"", path_or_name);
            return rc;
        }
        if (rc) {
            snprintf(errmsg, errlen, "no shipped scenario named \"%.64s\"", path_or_name);
            return KG_ENOENT;
        }
        file = path;
    }
    struct scenario *s = NULL;
    int rc = scenario_load_file(file, &s, errmsg, errlen);
    if (rc)
        return rc;
    if (!s->name[0]) {
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        size_t bl = strlen(base);
        if (bl > 5 && strcmp(base + bl - 5, ".json") == 0)
            bl -= 5;
        snprintf(s->name, sizeof s->name, "%.*s", (int)(bl < SCENARIO_NAME_MAX - 1 ? bl : SCENARIO_NAME_MAX - 1), base);
    }
    rc = scenario_apply_caps(s, caps, errmsg, errlen);
    if (rc) {
        scenario_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int plan_from_cmd(const struct kg_load_cmd *cmd, const struct caps *caps,
                  const char *scenario_dir, struct scenario **out, char *errmsg, size_t errlen)
{
    *out = NULL;
    if (cmd->verb == KG_LOAD_SCENARIO) {
        if (!scenario_name_valid(cmd->scenario)) {
            snprintf(errmsg, errlen, "invalid scenario name \"%.64s\"", cmd->scenario);
            return KG_EINVAL;
        }
        return plan_from_scenario(cmd->scenario, caps, scenario_dir, out, errmsg, errlen);
    }
    if (cmd->verb != KG_LOAD_START) {
        snprintf(errmsg, errlen, "not a start or scenario command");
        return KG_EINVAL;
    }
    struct scenario *s = NULL;
    if (scenario_from_load(&cmd->spec, "", &s))
        return KG_ENOMEM;
    char why[200];
    int rc = scenario_apply_caps(s, caps, why, sizeof why);
    if (rc) {
        /* drop the "command:line: steps[0].loads[0]: " location: there is one load */
        const char *p = strstr(why, "loads[0]: ");
        const char *q = strstr(why, "steps[0]: ");
        snprintf(errmsg, errlen, "%s", p ? p + 10 : q ? q + 10 : why);
        scenario_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
