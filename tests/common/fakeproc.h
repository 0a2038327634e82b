/* SPDX-License-Identifier: MIT */
/* A fake /proc tree in a temporary directory, for the kernel readers. */
#ifndef PORTEX_TEST_FAKEPROC_H
#define PORTEX_TEST_FAKEPROC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Creates dir/rel (with parent directories) holding text. */
static inline void fakeproc_write(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

/* A fresh directory under /tmp; the caller removes it with fakeproc_remove. */
static inline char *fakeproc_new(void)
{
    char *dir = strdup("/tmp/portex-fakeproc-XXXXXX");
    return mkdtemp(dir);
}

static inline void fakeproc_remove(char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(dir);
}

#endif
