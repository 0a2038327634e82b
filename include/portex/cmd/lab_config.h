/* SPDX-License-Identifier: MIT */
/* What `portex lab` was asked: its settings, read by the command and by each of its processes. */
#ifndef PORTEX_CMD_LAB_CONFIG_H
#define PORTEX_CMD_LAB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "portex/cmd/command.h"
#include "portex/cmd/metrics.h"
#include "portex/cmd/mode.h"

/* `portex lab`: each mode in fresh network namespaces. */
struct px_lab_config {
    unsigned ports;       /* client port range size */
    unsigned proxy_ports; /* the proxy's range in the proxy modes: --ports, or 100 */
    unsigned nat_ports;   /* the NAT modes' source ports per NAT address */
    double rate_per_s;
    uint64_t duration_ms; /* per mode */
    unsigned connections; /* in-flight cap */
    int reuse_delay_ms;   /* --reuse-delay for the reuse modes, 0 = kernel default */
    const struct px_mode *modes[PX_MAX_MODES];
    size_t nmodes;
    struct px_outputs out;
    struct px_metrics_config metrics; /* --metrics, --metrics-linger */
};

#endif
