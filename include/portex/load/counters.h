/* SPDX-License-Identifier: MIT */
/*
 * The counters of a run, listed once. The struct (struct px_totals in
 * result.h), the sum of workers and of merged hosts (px_totals_add), and the
 * result format's writer and reader (result_encode.c, result_decode.c) all expand this list, so
 * a new counter is one line here. The order is the key order of the result
 * document's "totals" (the golden test holds it).
 */
#ifndef PORTEX_LOAD_COUNTERS_H
#define PORTEX_LOAD_COUNTERS_H

/*
 * X(name, kind, meaning), every one a uint64_t count. kind says how the result
 * format writes and reads it. PX_COUNTER_BASE: always written, and a document
 * without it is refused. PX_COUNTER_HTTPS: only an https run moves it; these
 * are written as a group after the others, only when one of them is not 0, and
 * read back when the group's first key is there, so that http results keep
 * their shape. PX_COUNTER_ADDED: added after format 1, always written; a
 * document from before it reads 0, so that older results still read and merge.
 */
#define PX_COUNTER_BASE  0
#define PX_COUNTER_HTTPS 1
#define PX_COUNTER_ADDED 2

#define PX_TOTALS(X)                                                                               \
    X(started, PX_COUNTER_BASE, "attempts begun (requests = ok + failed once all ended)")          \
    X(ok, PX_COUNTER_BASE, "2xx and 3xx")                                                          \
    X(failed, PX_COUNTER_BASE, "every other ending, = sum of cause[]")                             \
    X(connections_opened, PX_COUNTER_BASE, "connections established")                              \
    X(missed_starts, PX_COUNTER_BASE, "open model: no free slot at the scheduled time")            \
    X(retries, PX_COUNTER_ADDED, "resent once: the kept-alive connection closed, no byte back")    \
    X(tls_full, PX_COUNTER_HTTPS, "https: completed full TLS handshakes")                          \
    X(tls_resumed, PX_COUNTER_HTTPS, "https: completed handshakes that resumed a session")

#endif
