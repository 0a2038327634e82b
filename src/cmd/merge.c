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

#include "portex/load/load.h"
#include "portex/load/combine.h"
#include "portex/load/result.h"
#include "portex/report/json.h"
#include "portex/report/outfile.h"
#include "portex/report/run_report.h"
#include "portex/load/result_codec.h"
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

/* 0, or the exit code with the message printed. */
static int load(struct merged *m)
{
    char err[512];
    m->parts = calloc(m->n, sizeof(*m->parts));
    if (m->parts == NULL) {
        fprintf(stderr, "portex merge: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < m->n; i++) {
        errno = 0;
        if ((m->parts[i] = px_result_codec_load_file(m->names[i], err, sizeof(err))) == NULL) {
            fprintf(stderr, "portex merge: %s\n", err);
            return strncmp(err, "cannot read", 11) == 0 ? 1 : 2;
        }
    }
    if (px_combine_check(m->parts, m->names, m->n, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex merge: cannot merge: %s\n", err);
        return 2;
    }
    if ((m->run = px_combine_runs(m->parts, m->n)) == NULL) {
        fprintf(stderr, "portex merge: out of memory\n");
        return 1;
    }
    return 0;
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
        json_object_set_new(o, "shard", r->load->shards ? json_integer(r->load->shard) : json_null());
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

/* The outputs, checked to the last byte (px_outfile); the text on stdout too. */
struct outputs {
    struct px_outfile json, csv, svg, text;
};

static int outputs_open(const struct px_merge_config *cfg, struct outputs *o)
{
    char err[512];
    memset(o, 0, sizeof(*o));
    if (px_outfile_open(&o->json, cfg->out.json, err, sizeof(err)) < 0 ||
        px_outfile_open(&o->csv, cfg->out.csv, err, sizeof(err)) < 0 ||
        px_outfile_open(&o->svg, cfg->out.svg, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex merge: %s\n", err);
        px_outfile_discard(&o->json);
        px_outfile_discard(&o->csv);
        return -1;
    }
    int to_stdout = (cfg->out.json && strcmp(cfg->out.json, "-") == 0) ||
                    (cfg->out.csv && strcmp(cfg->out.csv, "-") == 0) ||
                    (cfg->out.svg && strcmp(cfg->out.svg, "-") == 0);
    /* The text for a person goes to stderr when a machine output takes stdout. */
    px_outfile_open(&o->text, to_stdout ? NULL : "-", err, sizeof(err));
    return 0;
}

static int finish(struct px_outfile *o)
{
    char err[512];
    if (px_outfile_close(o, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex merge: %s\n", err);
        return -1;
    }
    return 0;
}

static int write_outputs(struct outputs *o, const struct merged *m)
{
    FILE *text = o->text.f ? px_outfile_begin(&o->text) : stderr;
    px_report_text(text, m->run);
    per_host_text(text, m);
    int rc = finish(&o->text);
    if (o->json.f)
        write_json(px_outfile_begin(&o->json), m);
    rc |= finish(&o->json);
    if (o->csv.f)
        px_report_csv(px_outfile_begin(&o->csv), &m->run->series);
    rc |= finish(&o->csv);
    if (o->svg.f)
        write_svg(px_outfile_begin(&o->svg), m);
    rc |= finish(&o->svg);
    return rc;
}

int px_merge_main(const struct px_merge_config *cfg)
{
    struct merged m;
    memset(&m, 0, sizeof(m));
    m.n = cfg->nfiles;
    m.names = cfg->files;
    struct outputs o;
    if (outputs_open(cfg, &o) < 0)
        return 1;
    int rc = load(&m);
    if (rc == 0) {
        rc = write_outputs(&o, &m) < 0 ? 1 : 0;
    } else {
        px_outfile_discard(&o.json);
        px_outfile_discard(&o.csv);
        px_outfile_discard(&o.svg);
        px_outfile_discard(&o.text);
    }
    merged_free(&m);
    return rc;
}
