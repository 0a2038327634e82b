/* SPDX-License-Identifier: MIT */
/* portex serve: the built-in HTTP target until SIGINT or SIGTERM. */
#ifndef PORTEX_CMD_SERVE_H
#define PORTEX_CMD_SERVE_H

#include <stddef.h>

#include "portex/cmd/command.h"
#include "portex/cmd/metrics.h"
#include "portex/load/server.h"

/* `portex serve`: the server and where its TLS certificate comes from. */
struct px_serve_config {
    struct px_server_config server;
    int tls;                /* --tls */
    const char *cert;       /* --cert FILE, NULL: self-signed ECDSA P-256 made at start */
    const char *key;        /* --key FILE */
    const char *write_cert; /* --write-cert FILE */
    uint64_t delay_ms;      /* --delay: service time per request */
    struct px_metrics_config metrics;
};

/* `portex serve` arguments into cfg: a PX_CLI_ status. */
int px_serve_parse(int argc, char **argv, struct px_serve_config *cfg, char *err, size_t errlen);

/* The command's row in main.c's table. */
extern const struct px_command px_serve_command;

#endif
