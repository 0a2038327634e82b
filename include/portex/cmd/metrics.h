/* SPDX-License-Identifier: MIT */
/*
 * --metrics ADDR and --metrics-linger D, shared by run, serve, compare, lab
 * and ramp: the /metrics endpoint bound before the work, every stats tick
 * published with its values and timestamp under the labels of its load (a
 * mode, a ramp step, a shard), and at the end the final values served until
 * a scrape took them, the linger ran out, or a stop signal came. Every
 * function takes NULL (no --metrics) and does nothing then.
 */
#ifndef PORTEX_CMD_METRICS_H
#define PORTEX_CMD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "portex/cmd/cli.h"
#include "portex/cmd/command.h"

struct px_expo_serve;
struct px_load;
struct px_run;
struct px_stats_opts;
struct px_metrics;

/* --metrics and --metrics-linger of one command. */
struct px_metrics_config {
    struct sockaddr_storage addr; /* --metrics IP:PORT (port 0: any free one) */
    socklen_t addr_len;           /* 0: no --metrics */
    uint64_t linger_ms;           /* --metrics-linger: the final values wait for a scrape; 5 s */
};

/* The two options in a command's --help. */
#define PX_METRICS_USAGE                                                                           \
    "      --metrics ADDR      live metrics for Prometheus at http://ADDR/metrics (IP:PORT;\n"     \
    "                          port 0 picks one and says which): OpenMetrics or text 0.0.4\n"      \
    "      --metrics-linger D  the final values stay served until scraped, at most D; 5s\n"

/* --metrics, --metrics-linger into a struct px_metrics_config. */
extern const struct px_cli_opt px_metrics_opts[];
/* No endpoint, a linger of 5 s. */
void px_metrics_config_defaults(struct px_metrics_config *cfg);

/*
 * Before the work: binds --metrics (nothing without it: *out stays NULL) and
 * says where on stderr. detach: serve from a process of its own, forked now,
 * so that this one keeps no thread and may fork (lab's namespaces). PX_EXIT_OK,
 * or PX_EXIT_FAILED with "portex CMD: cannot listen on ADDR: reason" printed.
 */
enum px_exit px_metrics_open(struct px_metrics **out, const char *cmd,
                             const struct px_metrics_config *cfg, int detach);
/* The fds m's scrapers may hold at once (PX_ENDPOINT_MAX_CONNS; 0 for NULL): a
 * load's fd reserve counts them beside the endpoint's own, open already. */
unsigned px_metrics_scraper_fds(const struct px_metrics *m);
/* The values of the runs that follow go under these labels: mode, and the shard and target of load.
 */
void px_metrics_begin(struct px_metrics *m, const char *mode, const struct px_load *load);
/*
 * Makes every tick of the run opts is for publish its values too (after the
 * tick opts already had, if any). run: that run, whose load and environment
 * give the ports and ceiling.
 */
void px_metrics_hook(struct px_metrics *m, struct px_stats_opts *opts, const struct px_run *run);
/* A finished run's values under the current labels (lab: a client's result read back). */
void px_metrics_set_run(struct px_metrics *m, const struct px_run *run);
/* portex serve's counts now. */
void px_metrics_serve(struct px_metrics *m, const struct px_expo_serve *counts);
/*
 * A command's own families (watch: the ports of each channel), written by
 * write with px_expo_family and px_expo_line in the format asked, every
 * sample stamped ts_ms; fmt is an enum px_expo_format.
 */
typedef void px_metrics_write_cb(FILE *f, int fmt, uint64_t ts_ms, const void *arg);
/*
 * Publishes them, beside any load's or serve's, stamped ts_ms (the tick's
 * wall-clock time in ms; 0: now; never earlier than the last publish):
 * write(arg) is called on this thread for both formats, and again by
 * px_metrics_finish under a later stamp (what arg points to may have moved
 * since, and Prometheus drops a new value under a timestamp it has), so what
 * arg points to must stay until then. Not with a detached px_metrics.
 *
 * watch (#20) wires in with this alone: px_metrics_opts in its groups,
 * px_metrics_open in prepare, this after each tick (from on_tick),
 * px_metrics_finish after the reports and px_metrics_free.
 */
void px_metrics_publish_own(struct px_metrics *m, px_metrics_write_cb *write, const void *arg,
                            uint64_t ts_ms);
/*
 * After the reports: the values published last become the final ones, served
 * until a scrape took them whole, --metrics-linger ran out, or SIGINT or
 * SIGTERM came (at once). Then nothing is served any more.
 */
void px_metrics_finish(struct px_metrics *m);
/* Frees (the endpoint closed, the serving process ended). */
void px_metrics_free(struct px_metrics *m);

#endif
