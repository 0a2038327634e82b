/* SPDX-License-Identifier: MIT */
/*
 * nftables through libnftables: the source NAT ruleset of the lab's middle
 * namespace as text, loaded into the caller's own network namespace, and the
 * read-only question doctor asks of the host (does it NAT at all?).
 */
#ifndef PORTEX_KERNEL_NFT_H
#define PORTEX_KERNEL_NFT_H

#include <stddef.h>
#include <stdint.h>

/* A source NAT on the way out of one interface, for TCP. */
struct px_nft_snat {
    const char *oifname;       /* the interface toward the destination */
    uint16_t port_lo, port_hi; /* the NAT's source ports, inclusive */
    const char *addrs[2];      /* 1: masquerade (the interface's primary address);
                                * 2: snat alternating per new flow (numgen) */
    size_t naddrs;
    const char *flags; /* nft's spelling: "fully-random", "random", "persistent"; NULL none */
};

/*
 * The ruleset of s (table ip portex, one postrouting nat chain) into out.
 * Two addresses go through `numgen inc mod 2 map`: nft's own `snat to A-B`
 * picks the address from a hash of the source and destination addresses, so
 * one client talking to one server would only ever get one of them
 * (KERNEL-FACTS.md, Behind a NAT). Its length, or -1 when out is too small.
 */
int px_nft_snat_rules(const struct px_nft_snat *s, char *out, size_t outlen);
/*
 * Loads rules into the caller's network namespace. The libnftables context is
 * made here, after any unshare(): its netlink socket belongs to the namespace
 * current when it is made. 0, or -1 with nft's whole message in err.
 */
int px_nft_load(const char *rules, char *err, size_t errlen);
/*
 * Whether this namespace's nftables ruleset has a nat chain: 1 yes, 0 no, -1
 * unknown (listing needs CAP_NET_ADMIN). Reads only.
 */
int px_nft_has_nat(void);
/* Whether /<proc>/net/ip_tables_names lists the legacy iptables nat table: 1, 0 (or no file). */
int px_nft_legacy_nat(const char *proc);

#endif
