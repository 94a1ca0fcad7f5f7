/* SPDX-License-Identifier: MIT */
/*
 * Scenario lookup by name (see catalog.h). Only the directories below are
 * searched and only "<name>.json" with a validated name is opened, so a remote
 * "scenario" command picks among shipped files and nothing else.
 */
#include "catalog.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmgrid/error.h"
#include "scenario.h"

#ifndef KG_SCENARIO_INSTALL_DIR
#define KG_SCENARIO_INSTALL_DIR "/usr/local/share/kvmgrid/scenarios"
#endif

static int search_dirs(const char *dir, char dirs[4][PATH_MAX])
{
    int n = 0;
    if (dir && dir[0])
        snprintf(dirs[n++], PATH_MAX, "%s", dir);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(dirs[n++], PATH_MAX, "%.*s/scenarios", PATH_MAX - 16, exe);
            snprintf(dirs[n++], PATH_MAX, "%.*s/../share/kvmgrid/scenarios", PATH_MAX - 40, exe);
        }
    }
    snprintf(dirs[n++], PATH_MAX, "%s", KG_SCENARIO_INSTALL_DIR);
    return n;
}

int catalog_find(const char *dir, const char *name, char *out, size_t size)
{
    if (!scenario_name_valid(name))
        return KG_EINVAL;
    char dirs[4][PATH_MAX];
    int n = search_dirs(dir, dirs);
    for (int i = 0; i < n; i++) {
        struct stat st;
        int k = snprintf(out, size, "%s/%s.json", dirs[i], name);
        if (k > 0 && (size_t)k < size && stat(out, &st) == 0 && S_ISREG(st.st_mode))
            return 0;
        /* a configured directory is authoritative: no fallback past it */
        if (i == 0 && dir && dir[0])
            break;
    }
    return KG_ENOENT;
}

int catalog_list(const char *dir, void (*fn)(const char *name, const char *path, void *ctx),
                 void *ctx)
{
    char dirs[4][PATH_MAX];
    int n = search_dirs(dir, dirs);
    for (int i = 0; i < n; i++) {
        DIR *dp = opendir(dirs[i]);
        if (!dp)
            continue;
        int count = 0;
        struct dirent *de;
        while ((de = readdir(dp)) != NULL) {
            size_t len = strlen(de->d_name);
            if (len <= 5 || len - 5 >= SCENARIO_NAME_MAX || strcmp(de->d_name + len - 5, ".json") != 0)
                continue;
            char name[SCENARIO_NAME_MAX];
            snprintf(name, sizeof name, "%.*s", (int)(len - 5), de->d_name);
            if (!scenario_name_valid(name))
                continue;
            char path[PATH_MAX + SCENARIO_NAME_MAX + 16];
            snprintf(path, sizeof path, "%.*s/%s.json", PATH_MAX - 8, dirs[i], name);
            fn(name, path, ctx);
            count++;
        }
        closedir(dp);
        return count;
    }
    return KG_ENOENT;
}
