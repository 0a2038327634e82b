/* SPDX-License-Identifier: MIT */
/* Socket inodes to pids from /proc/PID/fd, kept between ticks and scanned sparingly. */
#include "portex/kernel/owners.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/base/clock.h"

#define PID_SCAN_GAP_US  1000000u /* at least this between two rounds of pid scans */
#define FULL_SCAN_GAP_US 5000000u /* and between two full scans */
#define SCAN_COST_FACTOR 100u     /* a scan waits this many times its own duration */

/* One socket of the map: open addressing on the inode, 0 marks an empty slot. */
struct owner_slot {
    uint32_t inode;
    int pid;
};

/* A set of inodes (the last tick's unknown ones), the same open addressing. */
struct inode_set {
    uint32_t *v;
    size_t n, cap;
};

struct px_owners {
    char proc[256];
    struct owner_slot *map;
    size_t n, cap;
    struct inode_set prev_unknown;
    int scanned; /* a full scan was made */
    uint64_t next_pid_scan_us, next_full_scan_us;
    struct px_owners_stats stats;
};

static size_t slot_of(uint32_t inode, size_t cap)
{
    uint64_t h = (uint64_t)inode * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* ---- the map -------------------------------------------------------------- */

static int map_grow(struct px_owners *o)
{
    size_t cap = o->cap ? o->cap * 2 : 1024;
    struct owner_slot *v = calloc(cap, sizeof(*v));
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < o->cap; i++) {
        if (o->map[i].inode == 0)
            continue;
        size_t j = slot_of(o->map[i].inode, cap);
        while (v[j].inode != 0)
            j = (j + 1) & (cap - 1);
        v[j] = o->map[i];
    }
    free(o->map);
    o->map = v;
    o->cap = cap;
    return 0;
}

static void map_put(struct px_owners *o, uint32_t inode, int pid)
{
    if ((o->n + 1) * 2 > o->cap && map_grow(o) < 0)
        return;
    size_t j = slot_of(inode, o->cap);
    while (o->map[j].inode != 0 && o->map[j].inode != inode)
        j = (j + 1) & (o->cap - 1);
    o->n += o->map[j].inode == 0;
    o->map[j].inode = inode;
    o->map[j].pid = pid;
}

int px_owners_pid(const struct px_owners *o, uint32_t inode)
{
    if (o->cap == 0 || inode == 0)
        return 0;
    for (size_t j = slot_of(inode, o->cap); o->map[j].inode != 0; j = (j + 1) & (o->cap - 1))
        if (o->map[j].inode == inode)
            return o->map[j].pid;
    return 0;
}

/* ---- inode sets ----------------------------------------------------------- */

static void set_clear(struct inode_set *s)
{
    if (s->v)
        memset(s->v, 0, s->cap * sizeof(*s->v));
    s->n = 0;
}

static int set_has(const struct inode_set *s, uint32_t inode)
{
    if (s->cap == 0)
        return 0;
    for (size_t j = slot_of(inode, s->cap); s->v[j] != 0; j = (j + 1) & (s->cap - 1))
        if (s->v[j] == inode)
            return 1;
    return 0;
}

/* Makes s an empty set with room for n inodes. 0 or -1. */
static int set_reset(struct inode_set *s, size_t n)
{
    size_t cap = 64;
    while (cap < n * 2)
        cap *= 2;
    if (cap > s->cap) {
        uint32_t *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    set_clear(s);
    return 0;
}

static void set_add(struct inode_set *s, uint32_t inode)
{
    size_t j = slot_of(inode, s->cap);
    while (s->v[j] != 0 && s->v[j] != inode)
        j = (j + 1) & (s->cap - 1);
    s->n += s->v[j] == 0;
    s->v[j] = inode;
}

/* ---- scans ---------------------------------------------------------------- */

/* The inode of a "socket:[123]" link; 0 for anything else. */
static uint32_t socket_inode(const char *link, ssize_t len)
{
    if (len < 10 || memcmp(link, "socket:[", 8) != 0 || link[len - 1] != ']')
        return 0;
    return (uint32_t)strtoul(link + 8, NULL, 10);
}

/* Adds the sockets among the fds of the process whose fd directory is dirfd (closed here). */
static size_t scan_fd_dir(struct px_owners *o, int dirfd, int pid)
{
    DIR *d = fdopendir(dirfd);
    if (d == NULL) {
        close(dirfd);
        return 0;
    }
    size_t found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char link[64];
        ssize_t len = readlinkat(dirfd, e->d_name, link, sizeof(link) - 1);
        uint32_t inode = len > 0 ? socket_inode(link, len) : 0;
        if (inode == 0)
            continue;
        map_put(o, inode, pid);
        found++;
    }
    closedir(d);
    return found;
}

size_t px_owners_scan_pid(struct px_owners *o, int pid)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/%d/fd", o->proc, pid);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* Gone, or another user's process that we may not read. */
    return fd < 0 ? 0 : scan_fd_dir(o, fd, pid);
}

size_t px_owners_scan_all(struct px_owners *o)
{
    if (o->map)
        memset(o->map, 0, o->cap * sizeof(*o->map));
    o->n = 0;
    DIR *d = opendir(o->proc);
    if (d == NULL)
        return 0;
    size_t procs = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char rel[300];
        snprintf(rel, sizeof(rel), "%s/fd", e->d_name);
        int fd = openat(dirfd(d), rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        scan_fd_dir(o, fd, atoi(e->d_name));
        procs++;
    }
    closedir(d);
    o->scanned = 1;
    return procs;
}

/* How many of the n inodes are not in the map and were unknown last tick too. */
static size_t count_stuck(const struct px_owners *o, const uint32_t *unknown, size_t n)
{
    size_t stuck = 0;
    for (size_t i = 0; i < n; i++)
        stuck += px_owners_pid(o, unknown[i]) == 0 && set_has(&o->prev_unknown, unknown[i]);
    return stuck;
}

static uint64_t gap_after(uint64_t took_us, uint64_t floor_us)
{
    uint64_t g = took_us * SCAN_COST_FACTOR;
    return g > floor_us ? g : floor_us;
}

/* The hot pids' fds, once per gap. 1 when it ran. */
static int scan_hot(struct px_owners *o, const int *hot, size_t nhot, uint64_t now_us)
{
    if (nhot == 0 || now_us < o->next_pid_scan_us)
        return 0;
    uint64_t t0 = px_clock_us();
    for (size_t i = 0; i < nhot; i++)
        if (hot[i] > 0) {
            px_owners_scan_pid(o, hot[i]);
            o->stats.pid_scans++;
        }
    uint64_t took = px_clock_us() - t0;
    o->stats.scan_us += took;
    o->next_pid_scan_us = now_us + gap_after(took, PID_SCAN_GAP_US);
    return 1;
}

static void scan_full(struct px_owners *o, uint64_t now_us)
{
    uint64_t t0 = px_clock_us();
    px_owners_scan_all(o);
    uint64_t took = px_clock_us() - t0;
    o->stats.full_scans++;
    o->stats.last_full_us = took;
    o->stats.scan_us += took;
    o->next_full_scan_us = now_us + gap_after(took, FULL_SCAN_GAP_US);
}

int px_owners_resolve(struct px_owners *o, const uint32_t *unknown, size_t n, const int *hot,
                      size_t nhot, uint64_t now_us)
{
    int changed = 0;
    if (n > 0 && !o->scanned) {
        scan_full(o, now_us);
        changed = 1;
    } else if (count_stuck(o, unknown, n) > 0) {
        changed = scan_hot(o, hot, nhot, now_us);
        if (count_stuck(o, unknown, n) > 0 && now_us >= o->next_full_scan_us) {
            scan_full(o, now_us);
            changed = 1;
        }
    }
    /* This tick's unknown ones, for the next tick. */
    if (set_reset(&o->prev_unknown, n) == 0)
        for (size_t i = 0; i < n; i++)
            if (px_owners_pid(o, unknown[i]) == 0)
                set_add(&o->prev_unknown, unknown[i]);
    return changed;
}

struct px_owners *px_owners_new(const char *proc)
{
    struct px_owners *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return NULL;
    snprintf(o->proc, sizeof(o->proc), "%s", proc);
    return o;
}

void px_owners_free(struct px_owners *o)
{
    if (o == NULL)
        return;
    free(o->map);
    free(o->prev_unknown.v);
    free(o);
}

void px_owners_stats(const struct px_owners *o, struct px_owners_stats *out)
{
    *out = o->stats;
}

int px_owners_comm(const char *proc, int pid, char *out, size_t outlen)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/%d/comm", proc, pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, out, outlen - 1);
    close(fd);
    if (n <= 0)
        return -1;
    if (out[n - 1] == '\n')
        n--;
    out[n] = '\0';
    return 0;
}
