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
    uint64_t tw;            /* TW: sockets put in TIME_WAIT (counted as its timer is armed,
                             * __inet_twsk_schedule; FIN_WAIT2 orphans too) */
    uint64_t tw_recycled;   /* TWRecycled: TIME_WAIT ports reused by connect() */
    uint64_t tw_overflow;   /* TCPTimeWaitOverflow: TIME_WAIT not kept (tcp_max_tw_buckets) */
    uint64_t abort_on_data; /* TCPAbortOnData: RST closes with unread data or linger 0 */
    uint64_t syn_retrans;   /* TCPSynRetrans: SYNs sent again (a NAT dropping them shows here) */
};

/* Parses /<proc>/net/netstat. 0 or -1. */
int px_tcpext_read(const char *proc, struct px_tcpext *out);
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
