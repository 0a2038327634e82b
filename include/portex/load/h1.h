/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 framing for the engine, over http.c: the run's request bytes (built
 * once), and per response the parser and the keep-alive decision.
 */
#ifndef PORTEX_LOAD_H1_H
#define PORTEX_LOAD_H1_H

#include "portex/load/framing.h"

/* HTTP/1.1: one request at a time per connection. */
extern const struct px_framing px_framing_h1;

#endif
