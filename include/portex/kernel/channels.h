/* SPDX-License-Identifier: MIT */
/*
 * The port budget of a namespace, per channel: the client-side TCP sockets of
 * one sock_diag dump summed per (source address, destination address and
 * port), the ports connect() can still pick, and how long until a channel has
 * them all in use at the rate it takes them. Bookkeeping over dump records
 * only (no I/O), so tests feed it records.
 */
#ifndef PORTEX_CHANNELS_H
#define PORTEX_CHANNELS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct px_bound_ports;
struct px_diag_sock;

#define PX_TCP_STATES        14 /* the kernel's numbering, 1 (ESTABLISHED) to 13 */
#define PX_CHANNEL_OWNERS    4  /* owners (pids) kept per channel, the latest first */
#define PX_CHANNEL_FREE_BINS 60 /* held TIME_WAIT ports by when they come free */

/* What makes the channels' rules: the namespace's sysctls and kernel. */
struct px_channel_rules {
    unsigned port_lo, port_hi; /* net.ipv4.ip_local_port_range */
    const char *reserved;      /* net.ipv4.ip_local_reserved_ports ("" or NULL: none) */
    int64_t tw_reuse;          /* net.ipv4.tcp_tw_reuse */
    int64_t reuse_delay_ms;    /* net.ipv4.tcp_tw_reuse_delay; -1 before 6.14 */
    int64_t timestamps;        /* net.ipv4.tcp_timestamps: 0 means reuse cannot apply */
    int kernel_major, kernel_minor;
};

/* The client side of one destination from one source address. */
struct px_channel_key {
    int family;              /* AF_INET (v4-mapped IPv6 folded in) or AF_INET6 */
    uint16_t dport;          /* host byte order */
    uint32_t src[4], dst[4]; /* network byte order; IPv4 in [0], the rest 0 */
};

/* The most a channel had at once over the watch. */
struct px_channel_peak {
    uint32_t time_wait, established, syn_sent, in_use;
};

struct px_channel {
    struct px_channel_key key;
    int loopback;      /* destination on loopback (tcp_tw_reuse=2 applies there only) */
    int reuse_applies; /* tcp_tw_reuse lets connect() take this channel's TIME_WAIT ports */
    uint32_t hold_ms;  /* how long a closed port stays taken: 60 s of TIME_WAIT, or
                        * the reuse delay when reuse applies (kernel/ceiling.c) */
    /* This tick. */
    uint32_t state[PX_TCP_STATES]; /* sockets by TCP state */
    uint32_t live;                 /* every state but TIME_WAIT */
    uint32_t held_tw;              /* TIME_WAIT sockets whose port connect() cannot take yet */
    uint32_t in_use;               /* live + held_tw: the ports this channel holds */
    uint32_t entered_tw;           /* TIME_WAIT sockets younger than the tick */
    uint32_t frees[PX_CHANNEL_FREE_BINS]; /* held_tw by when each comes free: bin k ends
                                           * at (k + 1) x hold_ms / PX_CHANNEL_FREE_BINS */
    double new_per_s;                     /* ports taken per second over the tick: TIME_WAIT entered
                                           * plus the growth of live sockets (never below 0) */
    double exhausted_in_s;                /* until every usable port is in use at new_per_s; 0 once
                                           * they are; -1 while it is not filling */
    /* Over the watch. */
    uint32_t prev_live;  /* live at the previous tick */
    int present;         /* has sockets this tick */
    uint64_t ticks;      /* ticks with sockets */
    uint64_t new_total;  /* sum of the ticks' new ports */
    double first_full_s; /* watch time when it first had every usable port; -1 never */
    struct px_channel_peak peak;
    int owner[PX_CHANNEL_OWNERS]; /* pids of live sockets' owners, latest first; 0 ends */
};

struct px_channels;

/*
 * A table of channels under rules; dest (NULL: every destination) keeps only the
 * channels toward that address and port. NULL when out of memory.
 */
struct px_channels *px_channels_new(const struct px_channel_rules *rules,
                                    const struct sockaddr *dest);
void px_channels_free(struct px_channels *t);
/* New rules (the sysctls changed): the usable ports and every channel's hold. */
void px_channels_set_rules(struct px_channels *t, const struct px_channel_rules *rules);
/* The ports bound by bind() alone, from px_diag_bound_ports (its listeners are not used:
 * every tick's dump has them fresh): they leave the usable ports until the next call. */
void px_channels_set_bound(struct px_channels *t, const struct px_bound_ports *b);
/*
 * One tick: the records of a dump of every state (PX_DIAG_STATES_ALL), taken
 * elapsed_ms after the previous one, at watch time now_s. Sums the client side
 * per channel and predicts each channel's time to exhaustion. 0, or -1 when
 * out of memory (the tick is incomplete).
 */
int px_channels_sum(struct px_channels *t, const struct px_diag_sock *socks, size_t n,
                    uint32_t elapsed_ms, double now_s);
/* The channel of a record of the last px_channels_sum, NULL when it is not client side. */
struct px_channel *px_channels_of(const struct px_channels *t, const struct px_diag_sock *sk);
/* Records pid as an owner of the channel's live sockets. */
void px_channel_add_owner(struct px_channel *c, int pid);

/* Ports connect() can pick: the range, minus reserved ports, minus ports bound inside it. */
uint32_t px_channels_usable(const struct px_channels *t);
/* Ports inside the range taken by listeners and bound sockets. */
uint32_t px_channels_bound(const struct px_channels *t);
/* Reserved ports inside the range. */
uint32_t px_channels_reserved(const struct px_channels *t);
/* Records of the last tick that were client side. */
size_t px_channels_client_sockets(const struct px_channels *t);
/*
 * Every channel seen, fullest first (in use now, then time to exhaustion, then
 * peak): up to max pointers into out. present_only: only those with sockets now.
 * The number written.
 */
size_t px_channels_sorted(const struct px_channels *t, const struct px_channel **out, size_t max,
                          int present_only);
/* How many channels were seen. */
size_t px_channels_count(const struct px_channels *t);

/*
 * Seconds until a channel holding in_use of usable ports has them all in use,
 * taking rate_per_s new ports a second while its held TIME_WAIT ports come
 * free as frees says: 0 when they already are, -1 when it never gets there
 * (the rate times the hold fits in the budget). Pure: exposed for tests.
 */
double px_channel_exhausted_in_s(const struct px_channel *c, uint32_t usable, double rate_per_s);
/* "127.0.0.1" or "::1": the source address. */
void px_channel_source(const struct px_channel_key *k, char *out, size_t outlen);
/* "127.0.0.1:8080" or "[::1]:8080": the destination. */
void px_channel_destination(const struct px_channel_key *k, char *out, size_t outlen);

#endif
