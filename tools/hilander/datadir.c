/* hilander - where `hilander demo` finds the bundled Omniglot features (see datadir.h). */
#define _POSIX_C_SOURCE 200809L
#include "datadir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The data directory relative to the installed executable's directory
 * (CMake derives it from the install layout). */
#ifndef CLI_DATA_REL
#define CLI_DATA_REL "../share/hilander/omniglot"
#endif

static int has_data(const char *dir)
{
    static const char *const files[] = {"train_features.npy", "train_labels.npy", "test_features.npy",
                                        "test_labels.npy"};
    char p[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int len = snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (len < 0 || (size_t)len >= sizeof p || access(p, R_OK) != 0)
            return 0;
    }
    return 1;
}

/* <directory of this executable>/CLI_DATA_REL into @p out; @return 0 or -1. */
static int exe_relative(char *out, size_t cap)
{
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    int n = snprintf(out, cap, "%s/%s", exe, CLI_DATA_REL);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int cli_find_data_dir(char *out, size_t cap)
{
    char rel[4096];
    const char *env = getenv(CLI_DATA_ENV);
    const char *cands[3] = {env && env[0] ? env : NULL, exe_relative(rel, sizeof rel) == 0 ? rel : NULL,
                            "./data/omniglot"};
    for (int i = 0; i < 3; i++) {
        if (cands[i] && has_data(cands[i])) {
            int n = snprintf(out, cap, "%s", cands[i]);
            return n < 0 || (size_t)n >= cap ? -1 : 0;
        }
    }
    snprintf(out, cap, "%s%s%s%s and ./data/omniglot", env && env[0] ? "$" CLI_DATA_ENV " = " : "",
             env && env[0] ? env : "", env && env[0] ? ", " : "",
             cands[1] ? cands[1] : "<directory of hilander>/" CLI_DATA_REL);
    return -1;
}
