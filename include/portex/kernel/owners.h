/* SPDX-License-Identifier: MIT */
/*
 * Who owns a socket: its inode, as a dump gives it, found among the links of
 * /proc/PID/fd ("socket:[INODE]"), as `ss -p` does. A full scan costs about
 * 5 us per open fd, so the map is kept between ticks and scanned again only
 * for sockets that stay unknown, at a rate that keeps the scans near 1% of a
 * core (the spike of issue 20 measured 250 ms for 50,000 fds).
 */
#ifndef PORTEX_OWNERS_H
#define PORTEX_OWNERS_H

#include <stddef.h>
#include <stdint.h>

struct px_owners;

/* What the scans cost so far. */
struct px_owners_stats {
    uint64_t full_scans;   /* every process read */
    uint64_t pid_scans;    /* one process read again */
    uint64_t last_full_us; /* the last full scan's duration */
    uint64_t scan_us;      /* all scans together */
};

/* An empty map that reads under proc ("/proc", or a fake tree in tests). NULL: no memory. */
struct px_owners *px_owners_new(const char *proc);
void px_owners_free(struct px_owners *o);
/* The pid whose fd holds the socket with this inode; 0 when not known. */
int px_owners_pid(const struct px_owners *o, uint32_t inode);
/* Reads every process's fds again, replacing the map. The processes read. */
size_t px_owners_scan_all(struct px_owners *o);
/* Reads one process's fds into the map (nothing is removed). Its sockets found. */
size_t px_owners_scan_pid(struct px_owners *o, int pid);
/*
 * One tick's unknown inodes (live sockets without an owner in the map). Those
 * unknown in two ticks in a row are looked for (a short connection caught by
 * one dump is gone by the next): first in the hot pids (the owners of their
 * channels, the callers of connect()), then, if some stay unknown, in every
 * process; each kind of scan waits at least 100 times its last duration (1 s
 * for a pid scan, 5 s for a full one) before the next. The first call with any
 * unknown inode scans everything at once. now_us: the monotonic clock. 1 when
 * the map changed.
 */
int px_owners_resolve(struct px_owners *o, const uint32_t *unknown, size_t n, const int *hot,
                      size_t nhot, uint64_t now_us);
void px_owners_stats(const struct px_owners *o, struct px_owners_stats *out);

/* /<proc>/PID/comm (at most 15 bytes and a NUL). 0, or -1 when the process is gone. */
int px_owners_comm(const char *proc, int pid, char *out, size_t outlen);

#endif
