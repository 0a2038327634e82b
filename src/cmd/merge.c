/* SPDX-License-Identifier: MIT */
/*
 * portex merge: reads hosts' result documents, checks that they are shards of
 * one run, merges them exactly (load/combine) and prints run's reports with
 * "N hosts" in the header, plus each host's own figures.
 */
#include "portex/cmd/merge.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/cmd/cli.h"
#include "portex/load/combine.h"
#include "portex/load/load.h"
#include "portex/load/result.h"
#include "portex/load/result_decode.h"
#include "portex/report/json.h"
#include "portex/report/run_report.h"
#include "portex/report/svg.h"

/* The files read, and their merge. */
struct merged {
    size_t n;
    const char *const *names;
    const struct px_run **parts; /* each file's run (owned) */
    struct px_run *run;          /* their merge */
};

static void merged_free(struct merged *m)
{
    for (size_t i = 0; m->parts && i < m->n; i++)
        px_run_free((struct px_run *)m->parts[i]);
    px_run_free(m->run);
    free(m->parts);
}

/* Reads, checks and merges the files. PX_EXIT_OK, or the exit code with err:
 * PX_EXIT_FAILED (a file cannot be read, out of memory), PX_EXIT_USAGE (not mergeable). */
static enum px_exit load(struct merged *m, char *err, size_t errlen)
{
    char msg[512];
    m->parts = calloc(m->n, sizeof(*m->parts));
    if (m->parts == NULL) {
        snprintf(err, errlen, "out of memory");
        return PX_EXIT_FAILED;
    }
    for (size_t i = 0; i < m->n; i++) {
        errno = 0;
        if ((m->parts[i] = px_result_decode_file(m->names[i], msg, sizeof(msg))) == NULL) {
            snprintf(err, errlen, "%s", msg);
            return strncmp(msg, "cannot read", 11) == 0 ? PX_EXIT_FAILED : PX_EXIT_USAGE;
        }
    }
    if (px_combine_check(m->parts, m->names, m->n, msg, sizeof(msg)) < 0) {
        snprintf(err, errlen, "cannot merge: %s", msg);
        return PX_EXIT_USAGE;
    }
    if ((m->run = px_combine_runs(m->parts, m->n)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return PX_EXIT_FAILED;
    }
    return PX_EXIT_OK;
}

static void per_host_text(FILE *f, const struct merged *m)
{
    fprintf(f, "\nper host     %-16s %10s %10s %14s %10s %10s\n", "host", "ok", "failed",
            "EADDRNOTAVAIL", "TIME_WAIT", "ceiling/s");
    for (size_t i = 0; i < m->n; i++) {
        const struct px_run *r = m->parts[i];
        char shard[24], tw[24];
        snprintf(shard, sizeof(shard), "%u/%u", r->load->shard, r->load->shards);
        snprintf(tw, sizeof(tw), "%" PRId64, r->ex.time_wait_peak);
        fprintf(f, "  %-10s %-16.16s %10" PRIu64 " %10" PRIu64 " %14" PRIu64 " %10s %10.1f\n",
                r->load->shards ? shard : "-", r->host, r->totals.ok, r->totals.failed,
                px_totals_errno(&r->totals, EADDRNOTAVAIL), r->ex.time_wait_peak >= 0 ? tw : "?",
                r->ex.ceiling.per_s);
    }
}

static json_t *per_host_json(const struct merged *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n; i++) {
        const struct px_run *r = m->parts[i];
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(m->names[i]));
        json_object_set_new(o, "shard",
                            r->load->shards ? json_integer(r->load->shard) : json_null());
        json_object_set_new(o, "host", json_string(r->host));
        json_object_set_new(o, "t0_unix_ns", json_integer(r->t0_unix_ns));
        json_object_set_new(o, "summary", px_report_summary_json(r));
        json_array_append_new(a, o);
    }
    return a;
}

static void write_json(FILE *f, const struct merged *m)
{
    json_t *doc = px_report_json_doc(m->run, "merge");
    json_object_set_new(doc, "hosts", json_integer((json_int_t)m->n));
    json_object_set_new(doc, "per_host", per_host_json(m));
    px_json_print_tree(f, doc);
    json_decref(doc);
}

static void write_svg(FILE *f, const struct merged *m)
{
    const struct px_run *runs[17];
    const char *names[17];
    char label[16][96];
    size_t n = 0;
    runs[n] = m->run;
    names[n++] = "merged";
    for (size_t i = 0; i < m->n && n < 17; i++, n++) {
        snprintf(label[n - 1], sizeof(label[0]), "%.63s (shard %u/%u)", m->parts[i]->host,
                 m->parts[i]->load->shard, m->parts[i]->load->shards);
        runs[n] = m->parts[i];
        names[n] = label[n - 1];
    }
    px_svg_write(f, "portex merge: ok/s, EADDRNOTAVAIL/s and TIME_WAIT", runs, names, n);
}

/* ---- options ------------------------------------------------------------ */

#define OUT(field) offsetof(struct px_merge_config, out.field)

/* The machine outputs, no live line. */
static const struct px_cli_opt merge_opts[] = {
    {.name = "json", .set = px_cli_set_path, .off = OUT(json)},
    {.name = "csv", .set = px_cli_set_path, .off = OUT(csv)},
    {.name = "svg", .set = px_cli_set_path, .off = OUT(svg)},
    {.name = NULL},
};

static const struct px_cli_group merge_groups[] = {{.opts = merge_opts, .off = 0}};

static const char merge_usage[] =
    "usage: portex merge FILE... [--json OUT] [--csv OUT] [--svg OUT]\n"
    "\n"
    "Merges the results of one run split over hosts (portex run --shard K/N --json FILE):\n"
    "counters, causes and status classes added, latency histograms added bucket by bucket\n"
    "(percentiles recomputed, exact), series rows aligned on the wall clock, TIME_WAIT and\n"
    "predicted ceilings summed. Files must share the URL, the mode and N, with different K.\n"
    "\n"
    "      --json FILE         merged result as JSON ('-' for stdout): run's keys, command\n"
    "                          \"merge\", hosts, per_host\n"
    "      --csv FILE          merged series as CSV ('-' for stdout)\n"
    "      --svg FILE          chart: the merged panel, then one per host\n"
    "  -h, --help              this text\n";

static const struct px_cli_spec merge_spec = {.name = "merge",
                                              .usage = merge_usage,
                                              .groups = merge_groups,
                                              .ngroups = PX_NELEMS(merge_groups)};

int px_merge_parse(int argc, char **argv, struct px_merge_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    memset(cfg, 0, sizeof(*cfg));
    int rc = px_cli_parse(&merge_spec, argc, argv, cfg, &args, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    if (args.operand >= argc)
        return px_cli_usage_error(err, errlen, "no FILE given: expected one or more results of %s",
                                  "'portex run --json'");
    cfg->files = (const char **)(argv + args.operand);
    cfg->nfiles = (size_t)(argc - args.operand);
    return px_cli_one_stdout(&cfg->out, err, errlen);
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config, the files read and their merge. */
struct merge_state {
    struct px_merge_config cfg;
    struct merged m;
};

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_merge_parse(argc, argv, &((struct merge_state *)state)->cfg, err, errlen);
}

static const struct px_outputs *cmd_outputs(const void *state)
{
    return &((const struct merge_state *)state)->cfg.out;
}

static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    (void)hlog;
    struct merge_state *s = state;
    s->m.n = s->cfg.nfiles;
    s->m.names = s->cfg.files;
    *status = load(&s->m, err, errlen);
    return *status == PX_EXIT_OK ? 0 : -1;
}

static void text_cb(FILE *f, const void *state)
{
    const struct merged *m = &((const struct merge_state *)state)->m;
    px_report_text(f, m->run);
    per_host_text(f, m);
}

static void json_cb(FILE *f, const void *state)
{
    write_json(f, &((const struct merge_state *)state)->m);
}

static void csv_cb(FILE *f, const void *state)
{
    px_report_csv(f, &((const struct merge_state *)state)->m.run->series);
}

static void svg_cb(FILE *f, const void *state)
{
    write_svg(f, &((const struct merge_state *)state)->m);
}

static void cmd_free(void *state)
{
    merged_free(&((struct merge_state *)state)->m);
}

static const struct px_report merge_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
    {.output = PX_OUTPUT_JSON, .write = json_cb},
    {.output = PX_OUTPUT_CSV, .write = csv_cb},
    {.output = PX_OUTPUT_SVG, .write = svg_cb},
};

const struct px_command px_merge_command = {
    .name = "merge",
    .operands = "FILE...",
    .summary = "one exact report from several hosts' results (run --shard K/N)",
    .waits_for_stop = 0, /* reads files and writes reports: a Ctrl-C ends it at once */
    .state_size = sizeof(struct merge_state),
    .parse = cmd_parse,
    .outputs = cmd_outputs,
    .run = cmd_run,
    .reports = merge_reports,
    .nreports = PX_NELEMS(merge_reports),
    .free = cmd_free,
};
