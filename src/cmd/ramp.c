/* SPDX-License-Identifier: MIT */
/* portex ramp: one engine run per step at that step's rate, until two steps fail; its options. */
#include "portex/cmd/ramp.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "portex/base/stop.h"
#include "portex/cmd/cli.h"
#include "portex/cmd/loadopts.h"
#include "portex/load/knee.h"
#include "portex/load/load.h"
#include "portex/load/result.h"
#include "portex/load/run.h"
#include "portex/report/ramp_report.h"

/* The ramp's settings, kept with its results for the reports. */
static void ramp_begin(const struct px_ramp_config *cfg, struct px_ramp *ramp)
{
    ramp->from_per_s = cfg->from_per_s;
    ramp->to_per_s = cfg->to_per_s;
    ramp->step_per_s = cfg->step_per_s;
    ramp->step_ms = cfg->step_ms;
    ramp->max_p99_us = cfg->max_p99_ms * 1000u;
    ramp->no_stop = cfg->no_stop;
    ramp->nplanned = px_knee_step_count(cfg->from_per_s, cfg->to_per_s, cfg->step_per_s);
    if (ramp->nplanned > PX_RAMP_MAX_STEPS)
        ramp->nplanned = PX_RAMP_MAX_STEPS;
    ramp->nsteps = 0;
    ramp->knee = -1;
    ramp->stopped_early = 0;
    ramp->interrupted = 0;
}

/* One step's run into *out, its ticks to the live metrics as mode step-RATE/s. 0 or -1 with err. */
static int run_step(const struct px_load *step, const struct px_stats_opts *stats_opts,
                    struct px_metrics *metrics, struct px_run **out, char *err, size_t errlen)
{
    struct px_stats_opts opts = *stats_opts;
    struct px_run *run = px_run_new(step);
    if (run == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char label[48];
    snprintf(label, sizeof(label), "step-%.10g/s", step->rate_per_s);
    px_metrics_begin(metrics, label, step);
    px_metrics_hook(metrics, &opts, run);
    if (px_run_execute(run, &opts, err, errlen) < 0) {
        px_run_free(run);
        return -1;
    }
    *out = run;
    return 0;
}

enum px_exit px_ramp_run(const struct px_ramp_config *cfg, struct px_ramp *ramp,
                         struct px_metrics *metrics, char *err, size_t errlen)
{
    const struct px_load *base = &cfg->base;
    ramp_begin(cfg, ramp);
    /* Blocked since main(), so that a signal between two steps is not lost
     * and does not kill the process before the report. */
    sigset_t stop_set;
    px_stop_set(&stop_set);
    int rc = 0;
    /* Per-row histograms exist for the JSON result; without --json memory stays flat. */
    struct px_stats_opts opts = {.live = cfg->out.quiet ? NULL : stderr,
                                 .row_hists = cfg->out.json != NULL};
    double step_s = (double)ramp->step_ms / 1000.0;
    for (size_t i = 0; i < ramp->nplanned; i++) {
        if (px_stop_pending(&stop_set)) {
            ramp->interrupted = 1;
            break;
        }
        struct px_load step = *base;
        step.rate_per_s = px_knee_step_rate(ramp->from_per_s, ramp->step_per_s, i);
        step.duration_ms = ramp->step_ms;
        step.requests = 0;
        if (!cfg->out.quiet)
            fprintf(stderr, "portex ramp: step %zu/%zu: %.10g new requests/s for %.1f s\n", i + 1,
                    ramp->nplanned, step.rate_per_s, step_s);
        struct px_run *run = NULL;
        if (run_step(&step, &opts, metrics, &run, err, errlen) < 0) {
            rc = -1;
            break;
        }
        ramp->runs[i] = run;
        ramp->nsteps = i + 1;
        px_knee_step_from_run(run, step.rate_per_s, step_s, &ramp->figs[i]);
        if (run->interrupted) {
            ramp->interrupted = 1;
            break;
        }
        if (!ramp->no_stop && i + 1 < ramp->nplanned &&
            px_knee_failed_count(ramp->figs, ramp->nsteps, ramp->max_p99_us) >= 2) {
            ramp->stopped_early = 1;
            break;
        }
    }
    ramp->knee = px_knee_find(ramp->figs, ramp->nsteps, ramp->max_p99_us);
    if (px_stop_pending(&stop_set))
        ramp->interrupted = 1;
    if (rc < 0)
        return PX_EXIT_FAILED;
    return ramp->interrupted ? PX_EXIT_INTERRUPTED : PX_EXIT_OK;
}

void px_ramp_config_defaults(struct px_ramp_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    px_load_defaults(&cfg->base);
    px_metrics_config_defaults(&cfg->metrics);
    cfg->step_ms = 5000;
}

/* ---- options ------------------------------------------------------------ */

#define RAMP(field) offsetof(struct px_ramp_config, field)
static const struct px_cli_opt ramp_opts[] = {
    {.name = "from", .set = px_cli_set_rate, .off = RAMP(from_per_s)},
    {.name = "to", .set = px_cli_set_rate, .off = RAMP(to_per_s)},
    {.name = "step", .set = px_cli_set_rate, .off = RAMP(step_per_s)},
    {.name = "step-duration", .set = px_cli_set_duration, .off = RAMP(step_ms), .lo = 100},
    {.name = "max-p99", .set = px_cli_set_duration, .off = RAMP(max_p99_ms), .lo = 1},
    {.name = "no-stop", .flag = 1, .set = px_cli_set_flag, .off = RAMP(no_stop)},
    {.name = NULL},
};

static const struct px_cli_group ramp_groups[] = {
    {.opts = px_loadopts_load, .off = RAMP(base)},  {.opts = px_cli_output_opts, .off = RAMP(out)},
    {.opts = px_loadopts_close, .off = RAMP(base)}, {.opts = ramp_opts, .off = 0},
    {.opts = px_loadopts_tls, .off = RAMP(base)},   {.opts = px_metrics_opts, .off = RAMP(metrics)},
    {.opts = px_loadopts_h2, .off = RAMP(base)},
};

static const char ramp_usage[] =
    "usage: portex ramp --from R0 --to R1 --step S [options] URL\n"
    "\n"
    "Step the offered rate (open model) from R0 to R1 by S, one run of\n"
    "--step-duration per step, and find the knee: the highest step where\n"
    "ok/s >= 99% of the offered rate, no request failed, and p99 is under\n"
    "--max-p99 when given. Stops after two failing steps unless --no-stop.\n"
    "Steps above the predicted port ceiling are called port-bound.\n"
    "\n"
    "      --from R            first step's rate, new requests per second\n"
    "      --to R              last step's rate (inclusive)\n"
    "      --step S            rate added per step\n"
    "      --step-duration D   length of each step; 5s\n"
    "      --max-p99 D         a step whose total p99 is over D fails (e.g. 50ms)\n"
    "      --no-stop           run every step, even after two failed\n"
    "  load options as for portex run, except -r, -d and -n: -c -t -k\n"
    "  --requests-per-conn --close -m -H --body --timeout --connect-timeout\n"
    "  --port-range --source --interval -q --unix -4 -6 --no-retry --http2 --streams,\n"
    "  and for https:// URLs\n"
    "  --insecure --cacert --tls-version --tls-resume\n"
    "      --json FILE         every step's summary and the knee ('-' for stdout)\n"
    "      --svg FILE          chart: offered vs ok/s and p99 per step, the knee marked\n"
    "      --csv FILE          every step's series as CSV\n" PX_METRICS_USAGE
    "                          (label mode: step-RATE/s, one per step)\n"
    "  -h, --help              this text\n";

static const struct px_cli_spec ramp_spec = {
    .name = "ramp", .usage = ramp_usage, .groups = ramp_groups, .ngroups = PX_NELEMS(ramp_groups)};

/* The ramp's steps: all three rates given, in order, within PX_RAMP_MAX_STEPS. */
static int check_steps(const struct px_cli_args *args, struct px_ramp_config *cfg, char *err,
                       size_t errlen)
{
    int r = px_cli_given(args, "rate"), d = px_cli_given(args, "duration");
    if (r || d || px_cli_given(args, "requests"))
        return px_cli_usage_error(err, errlen, "option '-%c' is set by the ramp: %s",
                                  r   ? 'r'
                                  : d ? 'd'
                                      : 'n',
                                  "use --from, --to, --step and --step-duration");
    int from = px_cli_given(args, "from"), to = px_cli_given(args, "to");
    if (!from || !to || !px_cli_given(args, "step"))
        return px_cli_usage_error(err, errlen, "missing %s: expected --from R0 --to R1 --step S",
                                  !from ? "--from"
                                  : !to ? "--to"
                                        : "--step");
    if (cfg->to_per_s < cfg->from_per_s)
        return px_cli_usage_error(err, errlen, "invalid --to %g: expected at least --from (%g)",
                                  cfg->to_per_s, cfg->from_per_s);
    size_t n = px_knee_step_count(cfg->from_per_s, cfg->to_per_s, cfg->step_per_s);
    if (n > PX_RAMP_MAX_STEPS)
        return px_cli_usage_error(err, errlen, "--from %g --to %g --step %g makes %zu steps: %s %d",
                                  cfg->from_per_s, cfg->to_per_s, cfg->step_per_s, n,
                                  "expected at most", PX_RAMP_MAX_STEPS);
    cfg->base.duration_ms = cfg->step_ms;
    return PX_CLI_OK;
}

int px_ramp_parse(int argc, char **argv, struct px_ramp_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    px_ramp_config_defaults(cfg);
    int rc = px_cli_parse(&ramp_spec, argc, argv, cfg, &args, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    rc = check_steps(&args, cfg, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    return px_loadopts_finish(&args, argc, argv, &cfg->base, &cfg->out, err, errlen);
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config, the live metrics and the steps that ran. */
struct ramp_state {
    struct px_ramp_config cfg;
    struct px_metrics *metrics; /* --metrics; NULL without */
    struct px_ramp ramp;
};

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_ramp_parse(argc, argv, &((struct ramp_state *)state)->cfg, err, errlen);
}

static const struct px_outputs *cmd_outputs(const void *state)
{
    return &((const struct ramp_state *)state)->cfg.out;
}

static enum px_exit cmd_prepare(void *state)
{
    struct ramp_state *s = state;
    /* First: the endpoint's fds are open when the load's fd reserve is counted. */
    enum px_exit rc = px_metrics_open(&s->metrics, "ramp", &s->cfg.metrics, 0);
    s->cfg.out.scrapers = px_metrics_scraper_fds(s->metrics);
    if (rc != PX_EXIT_OK)
        return rc;
    /* Every step runs the open model: its event loops' timerfds count too. */
    s->cfg.base.rate_per_s = s->cfg.from_per_s;
    rc = px_loadopts_prepare("ramp", &s->cfg.base, &s->cfg.out);
    s->cfg.base.rate_per_s = 0;
    return rc;
}

static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    (void)hlog;
    struct ramp_state *s = state;
    *status = px_ramp_run(&s->cfg, &s->ramp, s->metrics, err, errlen);
    return *status == PX_EXIT_OK || *status == PX_EXIT_INTERRUPTED ? 0 : -1;
}

static void text_cb(FILE *f, const void *state)
{
    const struct ramp_state *s = state;
    px_ramp_report_text(f, s->cfg.base.url_text, &s->ramp);
}

static void json_cb(FILE *f, const void *state)
{
    const struct ramp_state *s = state;
    px_ramp_report_json(f, s->cfg.base.url_text, &s->ramp);
}

static void csv_cb(FILE *f, const void *state)
{
    px_ramp_report_csv(f, &((const struct ramp_state *)state)->ramp);
}

static void svg_cb(FILE *f, const void *state)
{
    const struct ramp_state *s = state;
    px_ramp_report_svg(f, s->cfg.base.url_text, &s->ramp);
}

static void after_reports(void *state)
{
    px_metrics_finish(((struct ramp_state *)state)->metrics);
}

static void cmd_free(void *state)
{
    struct ramp_state *s = state;
    px_metrics_free(s->metrics);
    px_knee_ramp_free(&s->ramp);
    px_load_release(&s->cfg.base);
}

static const struct px_report ramp_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
    {.output = PX_OUTPUT_JSON, .write = json_cb},
    {.output = PX_OUTPUT_CSV, .write = csv_cb},
    {.output = PX_OUTPUT_SVG, .write = svg_cb},
};

const struct px_command px_ramp_command = {
    .name = "ramp",
    .operands = "URL",
    .summary = "steps the rate up and finds the knee",
    .waits_for_stop = 1,
    .state_size = sizeof(struct ramp_state),
    .parse = cmd_parse,
    .outputs = cmd_outputs,
    .prepare = cmd_prepare,
    .run = cmd_run,
    .reports = ramp_reports,
    .nreports = PX_NELEMS(ramp_reports),
    .after_reports = after_reports,
    .free = cmd_free,
};
