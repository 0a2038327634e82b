/* SPDX-License-Identifier: MIT */
/*
 * What --metrics costs the stats thread per tick, for one load: the three
 * latency histograms put on the le edges and the exposition rendered in both
 * formats (what cmd/metrics.c does every tick), timed over many rounds.
 * Usage: bench_expo [ROUNDS]; prints microseconds per tick and bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/clock.h"
#include "portex/load/hist.h"
#include "portex/report/exposition.h"

/* Latencies over the whole range of portex's buckets, so every edge has counts. */
static void fill(struct px_hist *h, unsigned seed)
{
    px_hist_init(h);
    for (unsigned i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        px_hist_record(h, 20 + (seed >> 8) % (1u << (4 + i % 20)));
    }
}

static size_t render(const struct px_expo_load *l, enum px_expo_format fmt, uint64_t ts_ms)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return 0;
    px_expo_write_loads(f, fmt, l, 1, ts_ms);
    px_expo_end(f, fmt);
    fclose(f);
    free(buf);
    return len;
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
    static struct px_hist h[PX_EXPO_PHASES];
    for (unsigned p = 0; p < PX_EXPO_PHASES; p++)
        fill(&h[p], 7 + p);
    static struct px_expo_load l;
    snprintf(l.labels.mode, sizeof(l.labels.mode), "short");
    snprintf(l.labels.target, sizeof(l.labels.target), "127.0.0.1:8080");
    l.at.totals.started = l.at.totals.ok = 123456789;
    l.at.time_wait = 28000;
    l.at.usable_ports = 28232;
    l.at.ceiling_per_s = 470.5;
    size_t om = 0, prom = 0;
    uint64_t t0 = px_clock_us();
    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned p = 0; p < PX_EXPO_PHASES; p++)
            px_expo_hist_of(&l.at.lat[p], &h[p]);
        om = render(&l, PX_EXPO_OPENMETRICS, 1796514986717 + r);
        prom = render(&l, PX_EXPO_PROMETHEUS, 1796514986717 + r);
    }
    double us = (double)(px_clock_us() - t0) / rounds;
    printf("{\"tick_us\": %.1f, \"openmetrics_bytes\": %zu, \"prometheus_bytes\": %zu, "
           "\"rounds\": %u}\n",
           us, om, prom, rounds);
    return 0;
}
