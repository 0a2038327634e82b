/* SPDX-License-Identifier: MIT */
/* The load's defaults, its share under --shard, and the names of its enums. */
#include "portex/load/load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void px_load_defaults(struct px_load *load)
{
    memset(load, 0, sizeof(*load));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    load->threads = cpus > 0 ? (unsigned)cpus : 1;
    load->connections = 64;
    load->duration_ms = 10000;
    load->close = PX_CLOSE_CLIENT;
    load->connect_timeout_ms = 3000;
    load->timeout_ms = 10000;
    load->interval_ms = 1000;
    load->method = "GET";
    load->streams = 1;
}

void px_load_release(struct px_load *load)
{
    free(load->body);
    load->body = NULL;
}

static uint64_t share(uint64_t total, unsigned k, unsigned n)
{
    return total / n + (k < total % n);
}

int px_load_apply_shard(struct px_load *load, char *err, size_t errlen)
{
    if (load->shards == 0)
        return 0;
    /* The open model's -c is each host's own in-flight cap: not split. */
    if (load->rate_per_s <= 0) {
        if (load->connections < load->shards) {
            snprintf(err, errlen,
                     "-c %u is fewer than the %u shards of --shard %u/%u: expected "
                     "-c >= %u",
                     load->connections, load->shards, load->shard, load->shards, load->shards);
            return -1;
        }
        load->connections = (unsigned)share(load->connections, load->shard, load->shards);
    }
    if (load->requests) {
        if (load->requests < load->shards) {
            snprintf(err, errlen,
                     "-n %llu is fewer than the %u shards of --shard %u/%u: "
                     "expected -n >= %u",
                     (unsigned long long)load->requests, load->shards, load->shard, load->shards,
                     load->shards);
            return -1;
        }
        load->requests = share(load->requests, load->shard, load->shards);
    }
    return 0;
}

const char *px_load_protocol(const struct px_load *load)
{
    return load->http2 ? "h2" : "http/1.1";
}

unsigned px_load_conn_streams(const struct px_load *load)
{
    return load->http2 && load->keepalive && load->streams > 0 ? load->streams : 1;
}

const char *px_load_mode_name(const struct px_load *load)
{
    return load->keepalive ? "keepalive" : "short";
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
