/* SPDX-License-Identifier: MIT */
/* The one place that sets every command's defaults and names the config enums. */
#include "portex/base/config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void px_config_defaults(struct px_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cpus > 0 ? (unsigned)cpus : 1;
    cfg->connections = 64;
    cfg->duration_ms = 10000;
    cfg->close = PX_CLOSE_CLIENT;
    cfg->connect_timeout_ms = 3000;
    cfg->timeout_ms = 10000;
    cfg->interval_ms = 1000;
    cfg->method = "GET";
}

void px_config_release(struct px_config *cfg)
{
    free(cfg->body);
    cfg->body = NULL;
}

const char *px_config_mode_name(const struct px_config *cfg)
{
    return cfg->keepalive ? "keepalive" : "short";
}

const char *px_close_name(enum px_close c)
{
    switch (c) {
    case PX_CLOSE_SERVER:
        return "server";
    case PX_CLOSE_RST:
        return "rst";
    default:
        return "client";
    }
}

const char *px_tls_resume_name(int resume)
{
    return resume ? "ticket" : "off";
}
