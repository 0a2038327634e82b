/* SPDX-License-Identifier: MIT */
/* The one place that sets every command's defaults and names the config enums. */
#include "portex/base/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/base/url.h"

static unsigned online_cpus(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 ? (unsigned)cpus : 1;
}

void px_config_defaults(struct px_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->threads = online_cpus();
    cfg->connections = 64;
    cfg->duration_ms = 10000;
    cfg->close = PX_CLOSE_CLIENT;
    cfg->connect_timeout_ms = 3000;
    cfg->timeout_ms = 10000;
    cfg->interval_ms = 1000;
    cfg->method = "GET";
    cfg->row_hists = 1;
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

int px_close_parse(const char *s, enum px_close *out)
{
    static const enum px_close all[] = {PX_CLOSE_CLIENT, PX_CLOSE_SERVER, PX_CLOSE_RST};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(s, px_close_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
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

void px_server_config_defaults(struct px_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->threads = online_cpus();
    cfg->body_bytes = 13;
    char err[128];
    px_addr_parse("127.0.0.1:8080", &cfg->addr, &cfg->addr_len, err, sizeof(err));
}

void px_lab_config_defaults(struct px_lab_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ports = 1000;
    cfg->rate_per_s = 2000;
    cfg->duration_ms = 10000;
    cfg->connections = 64;
}

void px_compare_config_defaults(struct px_compare_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    px_config_defaults(&cfg->base);
    cfg->drain_max_ms = 65000; /* TIME_WAIT is 60 s; a little margin */
}

void px_ramp_config_defaults(struct px_ramp_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    px_config_defaults(&cfg->base);
    cfg->step_ms = 5000;
}

void px_doctor_config_defaults(struct px_doctor_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connections = 64;
    cfg->connect_timeout_ms = 3000;
}

const char *px_tls_resume_name(int resume)
{
    return resume ? "ticket" : "off";
}
