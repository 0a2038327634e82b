/* SPDX-License-Identifier: MIT */
/* Summing per-worker totals, and the prediction a finished run is compared with. */
#include "portex/load/result.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "portex/base/atomic.h"
#include "portex/kernel/kernel.h"

void px_totals_add(struct px_totals *dst, const struct px_totals *src)
{
#define PX_TOTALS_ADD(name, https, meaning) dst->name += PX_LOAD(src->name);
    PX_TOTALS(PX_TOTALS_ADD)
#undef PX_TOTALS_ADD
    for (int i = 0; i < 6; i++)
        dst->status[i] += PX_LOAD(src->status[i]);
    for (int i = 0; i < PX_CAUSE_COUNT; i++)
        dst->cause[i] += PX_LOAD(src->cause[i]);
}

uint64_t px_totals_in_flight(const struct px_totals *t)
{
    uint64_t ended = t->ok + t->failed;
    return t->started > ended ? t->started - ended : 0;
}

uint64_t px_totals_errno(const struct px_totals *t, int err)
{
    return t->cause[px_cause_from_errno(err)];
}

struct px_run *px_run_new(const struct px_load *load)
{
    struct px_run *run = calloc(1, sizeof(*run));
    if (run == NULL)
        return NULL;
    run->load = malloc(sizeof(*run->load));
    if (run->load == NULL) {
        free(run);
        return NULL;
    }
    memcpy(run->load, load, sizeof(*load));
    if (run->load->unix_path) /* --unix: the URL keeps its own copy of the path */
        run->load->unix_path = run->load->url.unix_path;
    run->ex.time_wait_peak = -1;
    run->ex.bound_ports = run->ex.bound_listening = run->ex.open_ports = -1;
    return run;
}

void px_run_free(struct px_run *run)
{
    if (run == NULL)
        return;
    px_series_free(&run->series);
    free(run->load);
    free(run);
}

void px_exhaustion_predict(struct px_exhaustion *ex, const struct px_load *cfg,
                           const struct px_env *env, double lifetime_s)
{
    ex->usable_ports = px_usable_ports(env->port_lo, env->port_hi, cfg->port_lo, cfg->port_hi,
                                       env->reserved_ports, &ex->port_lo, &ex->port_hi);
    /* connect() skips a port bound by anyone (KERNEL-FACTS.md, "More that connect() does"),
     * and one whose 4-tuple toward the target an open connection has. */
    uint64_t held = (ex->bound_ports > 0 ? (uint64_t)ex->bound_ports : 0) +
                    (ex->open_ports > 0 ? (uint64_t)ex->open_ports : 0);
    ex->usable_ports = held < ex->usable_ports ? ex->usable_ports - held : 0;
    ex->loopback = px_is_loopback(&cfg->target);
    struct px_ceiling_in in = {
        .ports = ex->usable_ports,
        .sources = (unsigned)cfg->nsources,
        .destinations = cfg->target_ports,
        .bind_first = cfg->bind_first,
        .keepalive = cfg->keepalive,
        .close = cfg->close,
        .tw_reuse = env->tw_reuse,
        .loopback = ex->loopback,
        .reuse_delay_ms = env->tw_reuse_delay_ms,
        .kernel_major = env->kernel_major,
        .kernel_minor = env->kernel_minor,
        .timestamps = (enum px_ts)ex->timestamps,
        .connections = cfg->connections,
        .streams = px_load_conn_streams(cfg),
        .lifetime_s = lifetime_s,
        .requests_per_conn = cfg->keepalive ? cfg->requests_per_conn : 0,
        .unix_socket = cfg->target.ss_family == AF_UNIX,
    };
    px_ceiling_predict(&in, &ex->ceiling);
    if (in.unix_socket)
        ex->usable_ports = 0;
}

void px_run_predict(struct px_run *run)
{
    px_exhaustion_predict(&run->ex, run->load, &run->env, px_hist_mean(&run->lat.total) / 1e6);
}
