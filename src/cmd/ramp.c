/* SPDX-License-Identifier: MIT */
/* portex ramp: its options, then one engine run per step at that step's rate. */
#include "portex/cmd/ramp.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portex/base/config.h"
#include "portex/base/parse.h"
#include "portex/cmd/cli.h"
#include "portex/load/knee.h"
#include "portex/load/run.h"

static const char ramp_usage[] =
    "usage: portex ramp --from R0 --to R1 --step S [options] URL\n"
    "\n"
    "Step the offered rate (open model) from R0 to R1 by S, one run of\n"
    "--step-duration per step, and find the knee: the highest step where\n"
    "ok/s >= 99% of the offered rate, no request failed, and p99 is under\n"
    "--max-p99 when given. Stops after two failing steps unless --no-stop.\n"
    "\n"
    "      --from R            first step's rate, new requests per second\n"
    "      --to R              last step's rate (inclusive)\n"
    "      --step S            rate added per step\n"
    "      --step-duration D   length of each step; 5s\n"
    "      --max-p99 D         a step whose total p99 is over D fails (e.g. 50ms)\n"
    "      --no-stop           run every step, even after two failed\n"
    "  load options as for portex run, except -r, -d and -n: -c -t -k --close -m -H\n"
    "  --body --timeout --connect-timeout --port-range --source --interval -q\n"
    "      --json FILE         every step's summary and the knee ('-' for stdout)\n"
    "      --svg FILE          chart: offered vs ok/s and p99 per step, the knee marked\n"
    "      --csv FILE          every step's series as CSV\n"
    "  -h, --help              this text\n";

enum ramp_opt { RAMP_FROM, RAMP_TO, RAMP_STEP, RAMP_STEP_DURATION, RAMP_MAX_P99, RAMP_NO_STOP };

static const struct {
    const char *name;
    enum ramp_opt opt;
    int has_value;
} ramp_opts[] = {
    {.name = "--from", .opt = RAMP_FROM, .has_value = 1},
    {.name = "--to", .opt = RAMP_TO, .has_value = 1},
    {.name = "--step", .opt = RAMP_STEP, .has_value = 1},
    {.name = "--step-duration", .opt = RAMP_STEP_DURATION, .has_value = 1},
    {.name = "--max-p99", .opt = RAMP_MAX_P99, .has_value = 1},
    {.name = "--no-stop", .opt = RAMP_NO_STOP, .has_value = 0},
};
#define NRAMP_OPTS (sizeof(ramp_opts) / sizeof(ramp_opts[0]))

/* run's options that the ramp sets itself. */
static int refused(const char *arg)
{
    static const char *const names[] = {"--rate", "--duration", "--requests"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);
        if (strncmp(arg, names[i], n) == 0 && (arg[n] == '\0' || arg[n] == '='))
            return 1;
    }
    return arg[0] == '-' && arg[1] != '-' && arg[1] != '\0' && strchr("rdn", arg[1]) != NULL;
}

static int set_rate(const char *name, const char *v, double *out, char *err, size_t errlen)
{
    if (px_parse_rate(v, out) < 0) {
        snprintf(err, errlen, "invalid %s '%s': expected requests per second > 0, e.g. 200 or 1.5k",
                 name, v);
        return PX_CLI_USAGE;
    }
    return PX_CLI_OK;
}

static int set_duration(const char *name, const char *v, uint64_t min_ms, uint64_t *out, char *err,
                        size_t errlen)
{
    if (px_parse_duration_ms(v, out) < 0 || *out < min_ms) {
        snprintf(
            err, errlen,
            "invalid %s '%s': expected a duration of at least %llu ms such as 500ms, 10s or 2m",
            name, v, (unsigned long long)min_ms);
        return PX_CLI_USAGE;
    }
    return PX_CLI_OK;
}

static int set_option(enum ramp_opt opt, const char *name, const char *v, struct px_ramp *ramp,
                      char *err, size_t errlen)
{
    switch (opt) {
    case RAMP_FROM:
        return set_rate(name, v, &ramp->from_per_s, err, errlen);
    case RAMP_TO:
        return set_rate(name, v, &ramp->to_per_s, err, errlen);
    case RAMP_STEP:
        return set_rate(name, v, &ramp->step_per_s, err, errlen);
    case RAMP_STEP_DURATION:
        return set_duration(name, v, 100, &ramp->step_ms, err, errlen);
    case RAMP_MAX_P99: {
        uint64_t ms;
        int rc = set_duration(name, v, 1, &ms, err, errlen);
        ramp->max_p99_us = ms * 1000u;
        return rc;
    }
    case RAMP_NO_STOP:
        ramp->no_stop = 1;
        return PX_CLI_OK;
    }
    return PX_CLI_OK;
}

#define TOOK_ARG 2 /* take_arg consumed a ramp option (PX_CLI_HELP is 1) */

/* One argv entry: a ramp option (consumed, with its value: TOOK_ARG), or kept for the run
 * parser (0); PX_CLI_HELP or PX_CLI_USAGE. */
static int take_arg(int argc, char **argv, int *i, struct px_ramp *ramp, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    for (size_t k = 0; k < NRAMP_OPTS; k++) {
        size_t n = strlen(ramp_opts[k].name);
        if (strncmp(arg, ramp_opts[k].name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
            continue;
        const char *v = NULL;
        if (ramp_opts[k].has_value && arg[n] == '=')
            v = arg + n + 1;
        else if (ramp_opts[k].has_value && *i + 1 < argc)
            v = argv[++*i];
        if (ramp_opts[k].has_value && v == NULL) {
            snprintf(err, errlen, "option '%s' needs a value (see portex ramp --help)", arg);
            return PX_CLI_USAGE;
        }
        return set_option(ramp_opts[k].opt, ramp_opts[k].name, v, ramp, err, errlen) < 0
                   ? PX_CLI_USAGE
                   : TOOK_ARG;
    }
    if (refused(arg)) {
        snprintf(err, errlen, "option '%s' is set by the ramp: use --from, --to, --step and %s",
                 arg, "--step-duration");
        return PX_CLI_USAGE;
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        fputs(ramp_usage, stdout);
        return PX_CLI_HELP;
    }
    return 0;
}

static int check_steps(struct px_config *base, struct px_ramp *ramp, char *err, size_t errlen)
{
    if (base->rate_per_s > 0 || base->requests > 0) {
        snprintf(err, errlen, "-r and -n are set by the ramp: use --from, --to and --step");
        return PX_CLI_USAGE;
    }
    if (ramp->from_per_s <= 0 || ramp->to_per_s <= 0 || ramp->step_per_s <= 0) {
        snprintf(err, errlen, "missing %s: expected --from R0 --to R1 --step S",
                 ramp->from_per_s <= 0 ? "--from"
                 : ramp->to_per_s <= 0 ? "--to"
                                       : "--step");
        return PX_CLI_USAGE;
    }
    if (ramp->to_per_s < ramp->from_per_s) {
        snprintf(err, errlen, "invalid --to %g: expected at least --from (%g)", ramp->to_per_s,
                 ramp->from_per_s);
        return PX_CLI_USAGE;
    }
    ramp->nplanned = px_knee_step_count(ramp->from_per_s, ramp->to_per_s, ramp->step_per_s);
    if (ramp->nplanned > PX_RAMP_MAX_STEPS) {
        snprintf(err, errlen, "--from %g --to %g --step %g makes %zu steps: expected at most %d",
                 ramp->from_per_s, ramp->to_per_s, ramp->step_per_s, ramp->nplanned,
                 PX_RAMP_MAX_STEPS);
        return PX_CLI_USAGE;
    }
    base->duration_ms = ramp->step_ms;
    return PX_CLI_OK;
}

int px_ramp_parse(int argc, char **argv, struct px_config *base, struct px_ramp *ramp, char *err,
                  size_t errlen)
{
    memset(ramp, 0, sizeof(*ramp));
    ramp->step_ms = 5000;
    ramp->knee = -1;
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    if (rest == NULL) {
        snprintf(err, errlen, "out of memory");
        return PX_CLI_USAGE;
    }
    int nrest = 0, rc = PX_CLI_OK;
    rest[nrest++] = argv[0];
    for (int i = 1; i < argc && rc == PX_CLI_OK; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                rest[nrest++] = argv[i++];
            break;
        }
        int took = take_arg(argc, argv, &i, ramp, err, errlen);
        if (took < 0 || took == PX_CLI_HELP)
            rc = took < 0 ? PX_CLI_USAGE : PX_CLI_HELP;
        else if (took == 0)
            rest[nrest++] = argv[i];
    }
    if (rc == PX_CLI_OK)
        rc = px_cli_parse_run(nrest, rest, base, err, errlen);
    free(rest);
    /* The run parser's help and errors name `run`: the ramp's own were handled above. */
    if (rc == PX_CLI_OK)
        rc = check_steps(base, ramp, err, errlen);
    return rc;
}

/* A SIGINT or SIGTERM that came between steps (they are blocked for the whole ramp). */
static int stop_pending(const sigset_t *stop_set)
{
    const struct timespec zero = {0, 0};
    int sig = sigtimedwait(stop_set, NULL, &zero);
    return sig == SIGINT || sig == SIGTERM;
}

int px_ramp_run(const struct px_config *base, struct px_ramp *ramp, char *err, size_t errlen)
{
    /* Blocked for the whole ramp, so that a signal between two steps is not
     * lost and does not kill the process before the report. */
    sigset_t stop_set, old_set;
    px_block_stop_signals(&stop_set, &old_set);
    int rc = 0;
    double step_s = (double)ramp->step_ms / 1000.0;
    ramp->nsteps = 0;
    for (size_t i = 0; i < ramp->nplanned; i++) {
        if (stop_pending(&stop_set)) {
            ramp->interrupted = 1;
            break;
        }
        struct px_ramp_step *st = &ramp->steps[i];
        st->cfg = *base;
        st->cfg.rate_per_s = px_knee_step_rate(ramp->from_per_s, ramp->step_per_s, i);
        st->cfg.duration_ms = ramp->step_ms;
        st->cfg.requests = 0;
        if (!base->quiet)
            fprintf(stderr, "portex ramp: step %zu/%zu: %.0f new requests/s for %.1f s\n", i + 1,
                    ramp->nplanned, st->cfg.rate_per_s, step_s);
        if (px_run_execute(&st->cfg, &st->run, err, errlen) < 0) {
            rc = -1;
            break;
        }
        st->run.cfg = &st->cfg;
        ramp->nsteps = i + 1;
        px_knee_step_from_run(&st->run, st->cfg.rate_per_s, step_s, &ramp->figs[i]);
        if (st->run.interrupted) {
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
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    if (rc < 0)
        return rc;
    return ramp->interrupted ? 1 : 0;
}
