/* SPDX-License-Identifier: MIT */
/* The one place that sets every command's defaults and names the config enums. */
#include "portex/base/config.h"

#include <stdio.h>
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

static uint64_t share(uint64_t total, unsigned k, unsigned n)
{
    return total / n + (k < total % n);
}

int px_config_apply_shard(struct px_config *cfg, char *err, size_t errlen)
{
    if (cfg->shards == 0)
        return 0;
    /* The open model's -c is each host's own in-flight cap: not split. */
    if (cfg->rate_per_s <= 0) {
        if (cfg->connections < cfg->shards) {
            snprintf(err, errlen,
                     "-c %u is fewer than the %u shards of --shard %u/%u: expected "
                     "-c >= %u",
                     cfg->connections, cfg->shards, cfg->shard, cfg->shards, cfg->shards);
            return -1;
        }
        cfg->connections = (unsigned)share(cfg->connections, cfg->shard, cfg->shards);
    }
    if (cfg->requests) {
        if (cfg->requests < cfg->shards) {
            snprintf(err, errlen,
                     "-n %llu is fewer than the %u shards of --shard %u/%u: "
                     "expected -n >= %u",
                     (unsigned long long)cfg->requests, cfg->shards, cfg->shard, cfg->shards,
                     cfg->shards);
            return -1;
        }
        cfg->requests = share(cfg->requests, cfg->shard, cfg->shards);
    }
    return 0;
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
