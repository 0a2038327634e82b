/* SPDX-License-Identifier: MIT */
/* The choice between the transports portex has. */
#include "portex/load/transports.h"

#include "portex/load/tls.h"

const struct px_transport *px_transports_pick(int tls)
{
    return tls ? &px_transport_tls : &px_transport_plain;
}
