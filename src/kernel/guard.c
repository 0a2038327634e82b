/* SPDX-License-Identifier: MIT */
/* Changing a sysctl for a run, restoring it, and noticing when a run could not. */
#include "portex/kernel/guard.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portex/kernel/kernel.h"

#define MARKER_DIR "/run/portex"

/* The network namespace's inode: sysctls under /proc/sys/net are per namespace. */
static unsigned long netns_id(void)
{
    struct stat st;
    return stat("/proc/self/ns/net", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

int px_guard_set(struct px_guard *g, const char *name, int64_t value, char *err, size_t errlen)
{
    memset(g, 0, sizeof(*g));
    snprintf(g->name, sizeof(g->name), "%s", name);
    if (px_sysctl_int(PX_PROC, name, &g->original) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", name, strerror(errno));
        return -1;
    }
    mkdir(MARKER_DIR, 0755);
    snprintf(g->marker, sizeof(g->marker), MARKER_DIR "/%lu-%s.guard", netns_id(), name);
    FILE *f = fopen(g->marker, "w");
    if (f != NULL) {
        fprintf(f, "%s %lld %d\n", name, (long long)g->original, (int)getpid());
        fclose(f);
    } else {
        g->marker[0] = '\0';
    }
    if (px_sysctl_write_int(PX_PROC, name, value) < 0) {
        snprintf(err, errlen, "cannot set %s=%lld: %s", name, (long long)value, strerror(errno));
        if (g->marker[0])
            unlink(g->marker);
        return -1;
    }
    g->active = 1;
    return 0;
}

void px_guard_restore(struct px_guard *g)
{
    if (!g->active)
        return;
    px_sysctl_write_int(PX_PROC, g->name, g->original);
    if (g->marker[0])
        unlink(g->marker);
    g->active = 0;
}

int px_guard_find_stale(char *msg, size_t msglen)
{
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%lu-", netns_id());
    DIR *d = opendir(MARKER_DIR);
    if (d == NULL)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[512], name[64];
        long long original;
        int pid;
        snprintf(path, sizeof(path), MARKER_DIR "/%s", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        int n = fscanf(f, "%63s %lld %d", name, &original, &pid);
        fclose(f);
        if (n != 3 || (kill(pid, 0) == 0 || errno == EPERM))
            continue; /* still running: its own guard will restore */
        int64_t now = -1;
        px_sysctl_int(PX_PROC, name, &now);
        snprintf(msg, msglen,
                 "a portex run (pid %d) changed %s and ended without restoring it: it was %lld "
                 "before, it is %lld now (marker %s)",
                 pid, name, original, (long long)now, path);
        found = 1;
    }
    closedir(d);
    return found;
}
