/* SPDX-License-Identifier: MIT */
/* portex run: one load run against a URL; its options, its flow and its reports. */
#include "portex/cmd/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portex/cmd/cli.h"
#include "portex/cmd/loadopts.h"
#include "portex/cmd/metrics.h"
#include "portex/load/result.h"
#include "portex/load/run.h"
#include "portex/report/hlog.h"
#include "portex/report/run_report.h"
#include "portex/report/svg.h"

/* ---- options ------------------------------------------------------------ */

#define RUNC(field) offsetof(struct px_run_config, field)
static const struct px_cli_group run_groups[] = {
    {.opts = px_loadopts_load, .off = RUNC(load)},   {.opts = px_cli_output_opts, .off = RUNC(out)},
    {.opts = px_loadopts_close, .off = RUNC(load)},  {.opts = px_loadopts_shard, .off = RUNC(load)},
    {.opts = px_cli_hlog_opts, .off = RUNC(out)},    {.opts = px_loadopts_tls, .off = RUNC(load)},
    {.opts = px_metrics_opts, .off = RUNC(metrics)},
    {.opts = px_loadopts_h2, .off = RUNC(load)},
};

static const char run_usage[] =
    "usage: portex run [options] URL\n"
    "\n"
    "Drive an HTTP server with short connections (one per request) or keep-alive,\n"
    "and tell exactly why requests fail (EADDRNOTAVAIL = no free local port).\n"
    "A name's addresses are probed in order (each within --connect-timeout); the run\n"
    "goes to the first that answers, or to the first when none does.\n"
    "\n"
    "  -c, --connections N     in-flight connections (closed model) or cap (open); 64\n"
    "  -r, --rate R            open model: R new requests per second on a fixed timetable\n"
    "  -d, --duration D        run time: 500ms, 10s, 2m; default 10s\n"
    "  -n, --requests N        exactly N requests, then stop\n"
    "  -t, --threads N         worker threads; default: online CPUs\n"
    "  -k, --keepalive         persistent connections (HTTP/1.1, or HTTP/2 with --http2)\n"
    "      --no-retry          with -k: never resend a request whose kept-alive connection\n"
    "                          closed before any response byte (by default GET, HEAD, PUT,\n"
    "                          DELETE, OPTIONS and TRACE are resent once, counted in retries)\n"
    "      --requests-per-conn N  with -k: N requests per connection, then it closes\n"
    "                          as --close says (client, server or rst)\n"
    "      --http2             HTTP/2 through nghttp2: h2 by ALPN with https://, h2c by\n"
    "                          prior knowledge with http://; without -k one stream per\n"
    "                          connection (preface, SETTINGS, GOAWAY each time)\n"
    "      --streams N         with --http2 -k: requests at once on each connection\n"
    "                          (h2load's -m), so -c C carries up to C x N; 1\n"
    "      --close WHO         short mode: client (default; client holds TIME_WAIT),\n"
    "                          server (Connection: close, server closes first),\n"
    "                          rst (SO_LINGER 0: RST, no TIME_WAIT)\n"
    "  -m, --method M          request method; GET\n"
    "  -H, --header 'N: v'     extra request header (repeatable)\n"
    "      --body S|@FILE      request body\n"
    "      --connect-timeout D connect timeout; 3s\n"
    "      --timeout D         whole-request timeout; 10s\n"
    "      --port-range LO-HI  per-socket local port range (IP_LOCAL_PORT_RANGE, 6.3+)\n"
    "      --source IP[,IP..]  source addresses, round robin (also A-B for IPv4)\n"
    "  -4, --ipv4              only the URL's IPv4 addresses\n"
    "  -6, --ipv6              only the URL's IPv6 addresses\n"
    "      --interval D        stats tick (series row, live line); 1s, at least 100ms\n"
    "  -q, --quiet             no live line on stderr\n"
    "      --json FILE         JSON result ('-' for stdout)\n"
    "      --csv FILE          the time series as CSV ('-' for stdout)\n"
    "      --svg FILE          chart of ok/s, EADDRNOTAVAIL/s and TIME_WAIT over time\n"
    "https:// URLs (TLS: SNI from the host, ALPN http/1.1 or h2, the system CA store):\n"
    "      --insecure          do not verify the server's certificate\n"
    "      --cacert FILE       trust the CA certificates (PEM) in FILE instead\n"
    "      --tls-version V     1.2 or 1.3 only; default: what both ends agree\n"
    "      --tls-resume R      off (default: every connection a full handshake) or\n"
    "                          ticket (each thread offers the last session it got)\n"
    "      --shard K/N         this host's share of one run over N hosts (K from 0): open\n"
    "                          model starts K, K+N, ... of the timetable; closed model\n"
    "                          -c and -n split; merge the results with portex merge\n"
    "      --start-at WHEN     start at a wall-clock time: unix seconds (1767225600.5)\n"
    "                          or RFC 3339 (2026-01-01T00:00:00Z); waits, Ctrl-C cancels\n"
    "      --hlog FILE         HdrHistogram interval log: per --interval, total latency and\n"
    "                          Tag=connect, Tag=ttfb lines (values in us; '-' for stdout)\n"
    "      --unix PATH         connect to this Unix socket (no ports: the control run);\n"
    "                          the URL gives Host and path. Or URL "
    "unix:PATH[:/path]\n" PX_METRICS_USAGE "  -h, --help              this text\n";

static const struct px_cli_spec run_spec = {
    .name = "run", .usage = run_usage, .groups = run_groups, .ngroups = PX_NELEMS(run_groups)};

int px_run_parse(int argc, char **argv, struct px_run_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    memset(cfg, 0, sizeof(*cfg));
    px_load_defaults(&cfg->load);
    px_metrics_config_defaults(&cfg->metrics);
    int rc = px_cli_parse(&run_spec, argc, argv, cfg, &args, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    rc = px_loadopts_finish(&args, argc, argv, &cfg->load, &cfg->out, err, errlen);
    /* --shard: this host's share of -c and -n, once both are known. */
    if (rc == PX_CLI_OK && px_load_apply_shard(&cfg->load, err, errlen) < 0)
        return PX_CLI_USAGE;
    return rc;
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config, the live metrics, and the run once it ran. */
struct run_state {
    struct px_run_config cfg;
    struct px_metrics *metrics; /* --metrics; NULL without */
    struct px_run *run;
};

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_run_parse(argc, argv, &((struct run_state *)state)->cfg, err, errlen);
}

static const struct px_outputs *cmd_outputs(const void *state)
{
    return &((const struct run_state *)state)->cfg.out;
}

static enum px_exit cmd_prepare(void *state)
{
    struct run_state *s = state;
    /* First: the endpoint's fds are open when the load's fd reserve is counted. */
    enum px_exit rc = px_metrics_open(&s->metrics, "run", &s->cfg.metrics, 0);
    s->cfg.out.scrapers = px_metrics_scraper_fds(s->metrics);
    return rc != PX_EXIT_OK ? rc : px_loadopts_prepare("run", &s->cfg.load, &s->cfg.out);
}

/* --start-at: say when the run starts, since it waits silently otherwise. */
static void announce_start(const struct px_load *cfg)
{
    if (cfg->start_at_ns == 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double left =
        (double)(cfg->start_at_ns - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec)) / 1e9;
    time_t at = (time_t)(cfg->start_at_ns / 1000000000);
    struct tm tm;
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&at, &tm));
    char shard[32] = "";
    if (cfg->shards)
        snprintf(shard, sizeof(shard), "shard %u/%u ", cfg->shard, cfg->shards);
    if (left > 0)
        fprintf(stderr, "portex run: %swaiting %.1f s for --start-at %s (Ctrl-C cancels)\n", shard,
                left, when);
    else
        fprintf(stderr, "portex run: %s--start-at %s passed %.1f s ago: starting now\n", shard,
                when, -left);
}

static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    struct run_state *s = state;
    const struct px_outputs *o = &s->cfg.out;
    announce_start(&s->cfg.load);
    /* Per-row histograms exist for the JSON result (and merges of it); without
     * --json a long run keeps flat memory. */
    struct px_stats_opts opts = {.live = o->quiet ? NULL : stderr,
                                 .tick = hlog ? px_hlog_tick : NULL,
                                 .tick_arg = hlog,
                                 .row_hists = o->json != NULL};
    *status = PX_EXIT_FAILED;
    s->run = px_run_new(&s->cfg.load);
    if (s->run == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    px_metrics_begin(s->metrics, px_load_mode_name(&s->cfg.load), &s->cfg.load);
    px_metrics_hook(s->metrics, &opts, s->run);
    if (px_run_execute(s->run, &opts, err, errlen) < 0) {
        /* Stopped by a signal before the load (the --start-at wait): 130, as any stop. */
        if (s->run->interrupted)
            *status = PX_EXIT_INTERRUPTED;
        return -1;
    }
    *status = s->run->interrupted ? PX_EXIT_INTERRUPTED : PX_EXIT_OK;
    return 0;
}

static void text_cb(FILE *f, const void *state)
{
    px_report_text(f, ((const struct run_state *)state)->run);
}

static void json_cb(FILE *f, const void *state)
{
    px_report_json(f, ((const struct run_state *)state)->run);
}

static void csv_cb(FILE *f, const void *state)
{
    px_report_csv(f, &((const struct run_state *)state)->run->series);
}

static void svg_cb(FILE *f, const void *state)
{
    const struct px_run *runs[1] = {((const struct run_state *)state)->run};
    const char *names[1] = {runs[0]->load->url_text};
    px_svg_write(f, "portex run: ok/s, EADDRNOTAVAIL/s and TIME_WAIT", runs, names, 1);
}

static void after_reports(void *state)
{
    px_metrics_finish(((struct run_state *)state)->metrics);
}

static void cmd_free(void *state)
{
    struct run_state *s = state;
    px_metrics_free(s->metrics);
    px_run_free(s->run);
    px_load_release(&s->cfg.load);
}

static const struct px_report run_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
    {.output = PX_OUTPUT_JSON, .write = json_cb},
    {.output = PX_OUTPUT_CSV, .write = csv_cb},
    {.output = PX_OUTPUT_SVG, .write = svg_cb},
};

const struct px_command px_run_command = {
    .name = "run",
    .operands = "URL",
    .summary = "one load run; short connections unless -k",
    .waits_for_stop = 1,
    .state_size = sizeof(struct run_state),
    .parse = cmd_parse,
    .outputs = cmd_outputs,
    .prepare = cmd_prepare,
    .run = cmd_run,
    .reports = run_reports,
    .nreports = PX_NELEMS(run_reports),
    .after_reports = after_reports,
    .free = cmd_free,
};
