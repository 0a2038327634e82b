/* SPDX-License-Identifier: MIT */
/* Client-side sockets of a dump summed per channel, against the ports connect() can pick. */
#include "portex/kernel/channels.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/url.h"
#include "portex/kernel/ceiling.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"

/* TIME_WAIT lasts TCP_TIMEWAIT_LEN, and idiag_expires counts down from it
 * (KERNEL-FACTS.md, TIME_WAIT): 60000 - expires is how long a socket has been in it. */
#define TIME_WAIT_MS 60000u
/* Past this many channels a dump's other destinations are not kept (about 30 MB). */
#define MAX_CHANNELS 65536u

/* TCP states of the kernel's numbering that <netinet/tcp.h> names differently or not at all. */
#define TCP_STATE_NEW_SYN_RECV 12 /* a request socket: always a listener's */

struct px_channels {
    struct px_channel_rules rules;
    struct sockaddr_storage dest; /* ss_family AF_UNSPEC: every destination */
    char reserved[256];           /* ip_local_reserved_ports, as the kernel wrote it */
    struct px_bound_ports ports;  /* listening: this tick's listeners; bound: the sockets
                                   * bound by bind() alone at the last bound dump */
    uint32_t by_local[65536];     /* this tick's connected sockets by local port */
    uint32_t by_peer[65536];      /* and by peer port */
    uint32_t usable, bound_in_range, reserved_in_range;
    uint64_t ticks;        /* px_channels_sum calls */
    size_t client_sockets; /* client-side records of the last tick */
    struct px_channel **v; /* every channel, in the order first seen */
    size_t n, cap;
    uint32_t *index; /* open addressing: 1 + position in v; 0 empty */
    size_t index_cap;
};

/* ---- keys ---------------------------------------------------------------- */

static int is_v4_mapped(const uint32_t a[4])
{
    return a[0] == 0 && a[1] == 0 && a[2] == htonl(0xffff);
}

/*
 * The channel of a record. A v4-mapped IPv6 socket (::ffff:127.0.0.1) connects
 * through tcp_v4_connect and takes its port from the IPv4 budget: it is folded
 * into the IPv4 channel.
 */
static void key_of(const struct px_diag_sock *sk, struct px_channel_key *k)
{
    memset(k, 0, sizeof(*k));
    k->family = sk->family;
    k->dport = sk->dport;
    if (sk->family == AF_INET6 && is_v4_mapped(sk->dst)) {
        k->family = AF_INET;
        k->dst[0] = sk->dst[3];
        k->src[0] = is_v4_mapped(sk->src) ? sk->src[3] : 0;
    } else if (sk->family == AF_INET) {
        k->src[0] = sk->src[0];
        k->dst[0] = sk->dst[0];
    } else {
        memcpy(k->src, sk->src, sizeof(k->src));
        memcpy(k->dst, sk->dst, sizeof(k->dst));
    }
}

/* The key's destination as a socket address. */
static void key_dest(const struct px_channel_key *k, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (k->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(k->dport);
        in->sin_addr.s_addr = k->dst[0];
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(k->dport);
        memcpy(&in6->sin6_addr, k->dst, sizeof(k->dst));
    }
}

static uint64_t key_hash(const struct px_channel_key *k)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)k->family ^ ((uint64_t)k->dport << 8);
    for (int i = 0; i < 4; i++) {
        h = (h ^ k->src[i]) * 1099511628211ull;
        h = (h ^ k->dst[i]) * 1099511628211ull;
    }
    return h ^ (h >> 31);
}

static int key_equal(const struct px_channel_key *a, const struct px_channel_key *b)
{
    return a->family == b->family && a->dport == b->dport &&
           memcmp(a->src, b->src, sizeof(a->src)) == 0 &&
           memcmp(a->dst, b->dst, sizeof(a->dst)) == 0;
}

void px_channel_source(const struct px_channel_key *k, char *out, size_t outlen)
{
    if (inet_ntop(k->family, k->src, out, (socklen_t)outlen) == NULL)
        snprintf(out, outlen, "?");
}

void px_channel_destination(const struct px_channel_key *k, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    key_dest(k, &ss);
    px_sockaddr_str((const struct sockaddr *)&ss, out, outlen);
}

/* ---- the table ----------------------------------------------------------- */

/* The slot of key in the index: its channel's, or the empty one where it goes. */
static size_t index_slot(const struct px_channels *t, const struct px_channel_key *k)
{
    size_t mask = t->index_cap - 1, j = key_hash(k) & mask;
    while (t->index[j] != 0 && !key_equal(&t->v[t->index[j] - 1]->key, k))
        j = (j + 1) & mask;
    return j;
}

/* Doubles the index (kept at most half full). 0 or -1. */
static int index_grow(struct px_channels *t)
{
    size_t cap = t->index_cap ? t->index_cap * 2 : 256;
    uint32_t *old = t->index;
    t->index = calloc(cap, sizeof(*t->index));
    if (t->index == NULL) {
        t->index = old;
        return -1;
    }
    free(old);
    t->index_cap = cap;
    for (size_t i = 0; i < t->n; i++)
        t->index[index_slot(t, &t->v[i]->key)] = (uint32_t)(i + 1);
    return 0;
}

/* Hold time and reuse of one channel, from the rules (kernel/ceiling.c). */
static void channel_apply_rules(struct px_channel *c, const struct px_channel_rules *r,
                                uint32_t usable)
{
    struct px_ceiling_in in = {
        .ports = usable,
        .close = PX_CLOSE_CLIENT,
        .tw_reuse = r->tw_reuse,
        .loopback = c->loopback,
        .reuse_delay_ms = r->reuse_delay_ms,
        .kernel_major = r->kernel_major,
        .kernel_minor = r->kernel_minor,
        /* Whether the server gave timestamps is not in a dump: off here rules reuse out. */
        .timestamps = r->timestamps == 0 ? PX_TS_NO : PX_TS_UNKNOWN,
        .connections = 1,
    };
    struct px_ceiling out;
    px_ceiling_predict(&in, &out);
    c->reuse_applies = out.reuse_applies;
    c->hold_ms = out.hold_s > 0 ? (uint32_t)(out.hold_s * 1000.0 + 0.5) : TIME_WAIT_MS;
}

/* The channel of key, added when new. NULL when out of memory or past MAX_CHANNELS. */
static struct px_channel *channel_get(struct px_channels *t, const struct px_channel_key *k)
{
    if (t->index_cap == 0 && index_grow(t) < 0)
        return NULL;
    size_t j = index_slot(t, k);
    if (t->index[j] != 0)
        return t->v[t->index[j] - 1];
    if (t->n >= MAX_CHANNELS)
        return NULL;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct px_channel **v = realloc(t->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    struct px_channel *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->key = *k;
    c->first_full_s = -1;
    c->exhausted_in_s = -1;
    struct sockaddr_storage ss;
    key_dest(k, &ss);
    c->loopback = px_is_loopback(&ss);
    channel_apply_rules(c, &t->rules, t->usable);
    t->v[t->n++] = c;
    t->index[j] = (uint32_t)t->n;
    if (t->n * 2 > t->index_cap)
        index_grow(t); /* a failure leaves it fuller, still working */
    return c;
}

/* Usable ports from the range, the reserved list and the ports bound inside the range
 * (counted as run and doctor count them, kernel/netlink.h). */
static void compute_usable(struct px_channels *t)
{
    unsigned lo = t->rules.port_lo, hi = t->rules.port_hi;
    if (hi < lo || lo == 0 || hi > 65535) {
        t->usable = t->bound_in_range = t->reserved_in_range = 0;
        return;
    }
    t->reserved_in_range = px_reserved_in_range(t->reserved, lo, hi);
    t->bound_in_range = (uint32_t)px_bound_ports_count(&t->ports, lo, hi, t->reserved, NULL);
    uint32_t total = hi - lo + 1;
    uint32_t gone = t->reserved_in_range + t->bound_in_range;
    t->usable = gone < total ? total - gone : 0;
}

struct px_channels *px_channels_new(const struct px_channel_rules *rules,
                                    const struct sockaddr *dest)
{
    struct px_channels *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    if (dest != NULL) {
        /* The same folding as the records': a v4-mapped destination is IPv4. */
        struct px_diag_sock sk = {.family = dest->sa_family};
        if (dest->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)dest;
            sk.dport = ntohs(in->sin_port);
            sk.dst[0] = in->sin_addr.s_addr;
        } else {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)dest;
            sk.dport = ntohs(in6->sin6_port);
            memcpy(sk.dst, &in6->sin6_addr, sizeof(sk.dst));
        }
        struct px_channel_key k;
        key_of(&sk, &k);
        key_dest(&k, &t->dest);
    }
    px_channels_set_rules(t, rules);
    return t;
}

void px_channels_free(struct px_channels *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    free(t->index);
    free(t);
}

void px_channels_set_rules(struct px_channels *t, const struct px_channel_rules *rules)
{
    t->rules = *rules;
    snprintf(t->reserved, sizeof(t->reserved), "%s", rules->reserved ? rules->reserved : "");
    t->rules.reserved = t->reserved;
    compute_usable(t);
    for (size_t i = 0; i < t->n; i++)
        channel_apply_rules(t->v[i], &t->rules, t->usable);
}

void px_channels_set_bound(struct px_channels *t, const struct px_bound_ports *b)
{
    memcpy(t->ports.bound, b->bound, sizeof(t->ports.bound));
    compute_usable(t);
}

/* ---- one tick ------------------------------------------------------------ */

static int port_listening(const struct px_channels *t, unsigned port)
{
    return (t->ports.listening[port / 8] >> (port % 8)) & 1;
}

/* A state that a connected socket has (neither listening, bound only, nor a request). */
static int connected_state(int state)
{
    return state > 0 && state < PX_TCP_STATES && state != TCP_LISTEN && state != TCP_CLOSE &&
           state != TCP_SYN_RECV && state != TCP_STATE_NEW_SYN_RECV;
}

/*
 * Client side or not. A listener's local port never comes out of connect()
 * (__inet_hash_connect skips ports with a bind bucket), so a socket on a
 * listening port is a server's. Once its listener is gone (a server that
 * closed first leaves TIME_WAIT behind), a local port outside the range with a
 * peer inside is a server's, the other way round a client's. When both ends
 * are in the range (a server on port 0) or both outside, the side whose port
 * more sockets share is the server's: a client's port serves one connection
 * per destination, a server's port all of them.
 */
static int client_side(const struct px_channels *t, const struct px_diag_sock *sk)
{
    if (!connected_state(sk->state) || port_listening(t, sk->sport))
        return 0;
    unsigned lo = t->rules.port_lo, hi = t->rules.port_hi;
    int local_in = sk->sport >= lo && sk->sport <= hi;
    int peer_in = sk->dport >= lo && sk->dport <= hi;
    if (local_in != peer_in)
        return local_in;
    return t->by_local[sk->sport] <= t->by_peer[sk->dport];
}

static int toward_dest(const struct px_channels *t, const struct px_channel_key *k)
{
    if (t->dest.ss_family == AF_UNSPEC)
        return 1;
    struct sockaddr_storage ss;
    key_dest(k, &ss);
    return memcmp(&ss, &t->dest, sizeof(ss)) == 0;
}

struct px_channel *px_channels_of(const struct px_channels *t, const struct px_diag_sock *sk)
{
    if (!client_side(t, sk) || t->index_cap == 0)
        return NULL;
    struct px_channel_key k;
    key_of(sk, &k);
    size_t j = index_slot(t, &k);
    return t->index[j] ? t->v[t->index[j] - 1] : NULL;
}

/* One client-side record into its channel. */
static void channel_add(struct px_channel *c, const struct px_diag_sock *sk, uint32_t elapsed_ms)
{
    c->present = 1;
    c->state[sk->state]++;
    if (sk->state != TCP_TIME_WAIT) {
        c->live++;
        return;
    }
    uint32_t left = sk->expires_ms < TIME_WAIT_MS ? sk->expires_ms : TIME_WAIT_MS;
    uint32_t age = TIME_WAIT_MS - left;
    c->entered_tw += age < elapsed_ms;
    if (age >= c->hold_ms)
        return; /* reuse applies and its delay has passed: connect() may take the port */
    c->held_tw++;
    uint32_t remain = c->hold_ms - age;
    c->frees[(uint64_t)(remain - 1) * PX_CHANNEL_FREE_BINS / c->hold_ms]++;
}

static void channel_clear_tick(struct px_channel *c)
{
    memset(c->state, 0, sizeof(c->state));
    memset(c->frees, 0, sizeof(c->frees));
    c->live = c->held_tw = c->in_use = c->entered_tw = 0;
    c->present = 0;
}

static void raise_to(uint32_t *peak, uint32_t v)
{
    if (v > *peak)
        *peak = v;
}

/* After the records: the tick's rate, peaks and prediction. first: the watch's first tick. */
static void channel_finish(struct px_channel *c, uint32_t usable, double elapsed_s, int first,
                           double now_s)
{
    c->in_use = c->live + c->held_tw;
    /* Ports taken in the tick: those now in TIME_WAIT that entered it during the tick,
     * plus the growth of live ones (on the first tick the live ones came earlier). */
    double taken = (double)c->entered_tw + (first ? 0.0 : (double)c->live - c->prev_live);
    if (taken < 0)
        taken = 0;
    c->new_per_s = elapsed_s > 0 ? taken / elapsed_s : 0;
    c->new_total += (uint64_t)taken;
    c->prev_live = c->live;
    c->exhausted_in_s = px_channel_exhausted_in_s(c, usable, c->new_per_s);
    if (!c->present)
        return;
    c->ticks++;
    raise_to(&c->peak.time_wait, c->state[TCP_TIME_WAIT]);
    raise_to(&c->peak.established, c->state[TCP_ESTABLISHED]);
    raise_to(&c->peak.syn_sent, c->state[TCP_SYN_SENT]);
    raise_to(&c->peak.in_use, c->in_use);
    if (c->in_use >= usable && c->first_full_s < 0)
        c->first_full_s = now_s;
}

int px_channels_sum(struct px_channels *t, const struct px_diag_sock *socks, size_t n,
                    uint32_t elapsed_ms, double now_s)
{
    int rc = 0;
    memset(t->ports.listening, 0, sizeof(t->ports.listening));
    memset(t->by_local, 0, sizeof(t->by_local));
    memset(t->by_peer, 0, sizeof(t->by_peer));
    for (size_t i = 0; i < n; i++) {
        if (socks[i].state == TCP_LISTEN) {
            t->ports.listening[socks[i].sport / 8] |= (uint8_t)(1u << (socks[i].sport % 8));
        } else if (connected_state(socks[i].state)) {
            t->by_local[socks[i].sport]++;
            t->by_peer[socks[i].dport]++;
        }
    }
    compute_usable(t);
    for (size_t i = 0; i < t->n; i++)
        channel_clear_tick(t->v[i]);
    t->client_sockets = 0;
    for (size_t i = 0; i < n; i++) {
        if (!client_side(t, &socks[i]))
            continue;
        struct px_channel_key k;
        key_of(&socks[i], &k);
        if (!toward_dest(t, &k))
            continue;
        struct px_channel *c = channel_get(t, &k);
        if (c == NULL) {
            rc = -1;
            continue;
        }
        t->client_sockets++;
        channel_add(c, &socks[i], elapsed_ms ? elapsed_ms : 1);
    }
    t->ticks++;
    for (size_t i = 0; i < t->n; i++)
        channel_finish(t->v[i], t->usable, elapsed_ms / 1000.0, t->ticks == 1, now_s);
    return rc;
}

void px_channel_add_owner(struct px_channel *c, int pid)
{
    if (pid <= 0 || c->owner[0] == pid)
        return;
    int k = 0;
    while (k < PX_CHANNEL_OWNERS - 1 && c->owner[k] != pid && c->owner[k] != 0)
        k++;
    memmove(&c->owner[1], &c->owner[0], (size_t)k * sizeof(c->owner[0]));
    c->owner[0] = pid;
}

/* ---- predictions and views ------------------------------------------------ */

double px_channel_exhausted_in_s(const struct px_channel *c, uint32_t usable, double rate_per_s)
{
    if (c->in_use >= usable)
        return 0;
    if (!(rate_per_s > 0))
        return -1;
    /* In use at t: now + rate x t - the held ports freed by t. Within the hold no
     * new port comes free yet; past it the count settles at live + rate x hold,
     * so if the budget is not reached within the hold it never is. Each bin's
     * ports are taken to come free at the end of the bin: never later than true. */
    double bin_s = (double)c->hold_ms / 1000.0 / PX_CHANNEL_FREE_BINS;
    double need = (double)usable - c->in_use, freed = 0;
    for (int k = 0; k < PX_CHANNEL_FREE_BINS; k++) {
        double t = (need + freed) / rate_per_s;
        if (t <= (k + 1) * bin_s)
            return t;
        freed += c->frees[k];
    }
    return -1;
}

uint32_t px_channels_usable(const struct px_channels *t)
{
    return t->usable;
}

uint32_t px_channels_bound(const struct px_channels *t)
{
    return t->bound_in_range;
}

uint32_t px_channels_reserved(const struct px_channels *t)
{
    return t->reserved_in_range;
}

size_t px_channels_client_sockets(const struct px_channels *t)
{
    return t->client_sockets;
}

size_t px_channels_count(const struct px_channels *t)
{
    return t->n;
}

/* Fullest first: in use now, the sooner exhausted, the more sockets, the higher peak;
 * then by key. */
static int cmp_fullest(const void *pa, const void *pb)
{
    const struct px_channel *a = *(const struct px_channel *const *)pa;
    const struct px_channel *b = *(const struct px_channel *const *)pb;
    if (a->in_use != b->in_use)
        return a->in_use > b->in_use ? -1 : 1;
    double ea = a->exhausted_in_s < 0 ? 1e300 : a->exhausted_in_s;
    double eb = b->exhausted_in_s < 0 ? 1e300 : b->exhausted_in_s;
    if (ea != eb)
        return ea < eb ? -1 : 1;
    uint32_t sa = a->live + a->state[TCP_TIME_WAIT], sb = b->live + b->state[TCP_TIME_WAIT];
    if (sa != sb)
        return sa > sb ? -1 : 1;
    if (a->peak.in_use != b->peak.in_use)
        return a->peak.in_use > b->peak.in_use ? -1 : 1;
    if (a->key.family != b->key.family)
        return a->key.family < b->key.family ? -1 : 1;
    int d = memcmp(a->key.dst, b->key.dst, sizeof(a->key.dst));
    if (d == 0)
        d = a->key.dport == b->key.dport ? 0 : a->key.dport < b->key.dport ? -1 : 1;
    return d ? d : memcmp(a->key.src, b->key.src, sizeof(a->key.src));
}

size_t px_channels_sorted(const struct px_channels *t, const struct px_channel **out, size_t max,
                          int present_only)
{
    const struct px_channel **all = malloc((t->n ? t->n : 1) * sizeof(*all));
    if (all == NULL)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        if (!present_only || t->v[i]->present)
            all[k++] = t->v[i];
    qsort(all, k, sizeof(*all), cmp_fullest);
    size_t n = k < max ? k : max;
    memcpy(out, all, n * sizeof(*out));
    free(all);
    return n;
}
