/* SPDX-License-Identifier: MIT */
/*
 * Which transport a connection uses: the one module that knows every table
 * (plain in transport.c, TLS in tls.c), so that the engine and the server
 * only ever hold a `const struct px_transport *`.
 */
#ifndef PORTEX_LOAD_TRANSPORTS_H
#define PORTEX_LOAD_TRANSPORTS_H

#include "portex/load/transport.h"

/* The transport of a scheme: TLS when tls (https://, or a server given a TLS
 * context), plain for http:// and Unix sockets. */
const struct px_transport *px_transports_pick(int tls);

#endif
