/* SPDX-License-Identifier: MIT */
/*
 * Reading what the kernel says: sysctls, /proc/net counters, limits. Every
 * reader takes the root it reads under ("/proc" normally), so tests can point
 * it at a fake tree. All values are those of the caller's network namespace.
 * No reader keeps state between calls: the stats thread and doctor may read at once.
 */
#ifndef PORTEX_KERNEL_H
#define PORTEX_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "portex/kernel/sysctls.h" /* struct px_env */

#define PX_PROC "/proc"

/* Reads /<proc>/sys/<name with dots as slashes> as an integer. 0 or -1. */
int px_sysctl_int(const char *proc, const char *name, int64_t *out);
/* Writes an integer sysctl. 0 or -1 (errno set). */
int px_sysctl_write_int(const char *proc, const char *name, int64_t v);
/* Reads a sysctl as text (trailing newline removed). 0 or -1. */
int px_sysctl_str(const char *proc, const char *name, char *out, size_t outlen);
/* net.ipv4.ip_local_port_range. 0 or -1. */
int px_port_range(const char *proc, unsigned *lo, unsigned *hi);
/* How many ports of [lo, hi] the reserved-ports list ("1000-1010,2000") holds. */
unsigned px_reserved_in_range(const char *list, unsigned lo, unsigned hi);
/*
 * Usable ports toward one destination: the namespace range narrowed by a
 * per-socket IP_LOCAL_PORT_RANGE [sk_lo, sk_hi] (0 = none) the way the kernel
 * does it (each bound applies only when inside the namespace range), minus
 * reserved ports. *eff_lo, *eff_hi get the range in force (may be NULL).
 */
unsigned px_usable_ports(unsigned ns_lo, unsigned ns_hi, unsigned sk_lo, unsigned sk_hi,
                         const char *reserved, unsigned *eff_lo, unsigned *eff_hi);

/* TcpExt counters of /proc/net/netstat that tell the TIME_WAIT (and dropped SYN) story. */
struct px_tcpext {
    /* TW: entries into TIME_WAIT (or an orphan's FIN_WAIT2), counted when the timewait
     * socket is first scheduled (__inet_twsk_schedule), not when it ends: with TWKilled
     * and TCPTimeWaitOverflow, the connections this namespace closed first */
    uint64_t tw;
    uint64_t tw_recycled;   /* TWRecycled: TIME_WAIT ports reused by connect() */
    uint64_t tw_killed;     /* TWKilled: the same entries when scheduled for 4 s or less */
    uint64_t tw_overflow;   /* TCPTimeWaitOverflow: TIME_WAIT not kept (tcp_max_tw_buckets) */
    uint64_t abort_on_data; /* TCPAbortOnData: RST closes with unread data or linger 0 */
    uint64_t syn_retrans;   /* TCPSynRetrans: SYNs sent again (a NAT dropping them shows here) */
    uint64_t paws_timewait; /* PAWSTimewait: SYNs refused by a TIME_WAIT socket's timestamp
                             * check (a recycled NAT tuple meeting the server's TIME_WAIT) */
    uint64_t listen_drops;  /* ListenDrops: SYNs a listener dropped (a full queue, a busy host) */
};

/* Tcp counters of /proc/net/snmp. */
struct px_tcp_snmp {
    uint64_t active_opens;  /* ActiveOpens: connect()s that sent a SYN */
    uint64_t passive_opens; /* PassiveOpens: connections accepted from a SYN */
    uint64_t out_rsts;      /* OutRsts: RSTs sent */
};

/* Conntrack of one namespace, from /proc/net/stat/nf_conntrack (the `conntrack -S` figures). */
struct px_conntrack {
    uint64_t entries;       /* entries in the table now (nf_conntrack_count) */
    uint64_t insert_failed; /* new entries that found their tuple taken (summed over CPUs) */
    uint64_t drop;          /* packets dropped for it (summed over CPUs) */
};

/*
 * Parses /<proc>/net/netstat. 0 or -1. With proc "/proc/PID" the counters
 * are those of PID's network namespace (/proc/PID/net follows it).
 */
int px_tcpext_read(const char *proc, struct px_tcpext *out);
/* Parses the Tcp lines of /<proc>/net/snmp. 0 or -1. */
int px_tcp_snmp_read(const char *proc, struct px_tcp_snmp *out);
/*
 * Parses /<proc>/net/stat/nf_conntrack: columns found by their header name,
 * insert_failed and drop summed over the per-CPU rows (hex). 0, or -1 when the
 * file is missing (no conntrack) or has no row.
 */
int px_conntrack_read(const char *proc, struct px_conntrack *out);
/* `tw` of /<proc>/net/sockstat: namespace-wide, includes FIN_WAIT2 of orphans. -1 on error. */
int64_t px_sockstat_tw(const char *proc);

/*
 * File descriptors this process has open now: the entries of /<proc>/self/fd,
 * less the one that reads them; without that directory, the fds below limit
 * that fcntl finds open.
 */
unsigned px_fd_count(const char *proc, uint64_t limit);
/* Kernel release ("6.18.44") and its major/minor numbers. */
void px_kernel_release(char *out, size_t outlen, int *major, int *minor);
/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
int px_is_loopback(const void *sockaddr);

/* Reads every field of px_env under proc: each sysctl of the table, uname, limits. */
void px_env_read(const char *proc, struct px_env *env);

#endif
