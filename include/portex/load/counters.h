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
 * X(name, https, meaning), every one a uint64_t count. https 1: a counter that
 * only an https run moves; those are written as a group after the others, and
 * only when one of them is not 0, and read back when the group's first key is
 * there, so that http results keep their shape.
 */
#define PX_TOTALS(X)                                                                               \
    X(started, 0, "attempts begun (requests = ok + failed once all ended)")                        \
    X(ok, 0, "2xx and 3xx")                                                                        \
    X(failed, 0, "every other ending, = sum of cause[]")                                           \
    X(connections_opened, 0, "connections established")                                            \
    X(missed_starts, 0, "open model: no free slot at the scheduled time")                          \
    X(tls_full, 1, "https: completed full TLS handshakes")                                         \
    X(tls_resumed, 1, "https: completed handshakes that resumed a session")

#endif
