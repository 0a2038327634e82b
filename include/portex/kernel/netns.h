/* SPDX-License-Identifier: MIT */
/*
 * Another network namespace measured from outside, through the pid of a
 * process that lives in it: a socket opened inside it (setns there and back),
 * its TIME_WAIT sockets sampled for a peak, and its TcpExt, Tcp and conntrack
 * counters as deltas over a run, read through /proc/PID/net (which follows
 * PID's namespace). The lab watches its client, middle and server this way.
 */
#ifndef PORTEX_KERNEL_NETNS_H
#define PORTEX_KERNEL_NETNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "portex/kernel/kernel.h"

#define PX_NETNS_WATCH_MAX 8 /* namespaces summed into one watch (the lab's client hosts) */

/* What one namespace (or a group summed) did over a run. */
struct px_netns_figures {
    int64_t time_wait_peak; /* IPv4 TIME_WAIT sockets, highest sample; -1 unknown */
    struct px_tcpext ext;   /* TcpExt deltas */
    struct px_tcp_snmp tcp; /* Tcp deltas */
    int have_conntrack;     /* the namespace has conntrack statistics */
    struct px_conntrack ct; /* entries: at the end; insert_failed, drop: deltas */
    uint64_t ct_peak;       /* entries, highest sample (new flows not yet placed count too) */
};

/* A group of namespaces watched as one (usually a group of one). */
struct px_netns_watch {
    size_t n;
    pid_t pid[PX_NETNS_WATCH_MAX];
    int diag_fd[PX_NETNS_WATCH_MAX]; /* sock_diag socket opened inside, -1 none */
    struct px_tcpext ext0[PX_NETNS_WATCH_MAX];
    struct px_tcp_snmp tcp0[PX_NETNS_WATCH_MAX];
    struct px_conntrack ct0[PX_NETNS_WATCH_MAX];
    struct px_netns_figures fig;
};

/*
 * A socket created inside the network namespace of pid: this thread enters it
 * (setns), creates the socket and comes back, so the fd keeps talking to that
 * namespace. Needs CAP_SYS_ADMIN over it. The fd, or -1 with errno.
 */
int px_netns_socket(pid_t pid, int family, int type, int protocol);

/*
 * Starts watching the namespaces of pids[0..n): a sock_diag socket in each,
 * the counters now as the baseline, the peaks at 0. 0, or -1 with errno when
 * a namespace cannot be entered (the watch is then empty).
 */
int px_netns_watch_start(struct px_netns_watch *w, const pid_t *pids, size_t n);
/* One sample: TIME_WAIT sockets and conntrack entries, summed over the group, into the peaks. */
void px_netns_watch_sample(struct px_netns_watch *w);
/* A last sample, the counters' deltas into w->fig, and the sockets closed. */
void px_netns_watch_end(struct px_netns_watch *w);
/* Closes the sockets without reading (a mode that failed). */
void px_netns_watch_close(struct px_netns_watch *w);

/* Active closes in the figures: entries into TIME_WAIT, short-lived ones and overflows. */
uint64_t px_netns_closed_first(const struct px_netns_figures *f);

#endif
