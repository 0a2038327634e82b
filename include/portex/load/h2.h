/* SPDX-License-Identifier: MIT */
/*
 * HTTP/2 framing for the engine, over nghttp2 (the library the field uses; no
 * frame is written by hand): the run's request as a header list built once,
 * and per connection a client session driven through nghttp2's mem_recv and
 * mem_send, so that every system call stays with the connection (mux.c).
 * Each exchange ends exactly once, with its status or a cause by name.
 */
#ifndef PORTEX_LOAD_H2_H
#define PORTEX_LOAD_H2_H

#include "portex/load/framing.h"

#define PX_H2_HEADER_MAX 65536 /* response header bytes per stream before it is reset */

/* HTTP/2 (h2 by ALPN over TLS, h2c by prior knowledge): several streams per connection. */
extern const struct px_framing px_framing_h2;

#endif
