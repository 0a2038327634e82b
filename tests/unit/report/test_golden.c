/* SPDX-License-Identifier: MIT */
/*
 * Golden outputs: real result documents (tests/golden/run_*.json, written by
 * `portex run --json`) are read back and every report is written from them
 * again. The run document must come out byte for byte as it went in; the
 * text, CSV, SVG and the live metrics' exposition byte for byte as recorded;
 * the JSON of lab/compare modes,
 * ramp and doctor must parse to the recorded values. A reshape of the code
 * that changes any output fails here.
 *
 * PX_GOLDEN_RECORD=1 rewrites the recorded files (only for a deliberate
 * change of an output, in the commit that makes it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeproc.h"
#include "portex/load/load.h"
#include "portex/cmd/doctor.h"
#include "portex/cmd/mode.h"
#include "portex/kernel/netlink.h"
#include "portex/load/combine.h"
#include "portex/load/knee.h"
#include "portex/load/result.h"
#include "portex/report/exposition.h"
#include "portex/report/lab_report.h"
#include "portex/report/ramp_report.h"
#include "portex/report/run_report.h"
#include "portex/load/result_decode.h"
#include "portex/report/svg.h"
#include "portex/report/topo_report.h"

#ifndef PX_GOLDEN_DIR
#error "PX_GOLDEN_DIR names tests/golden"
#endif

static const char *const run_docs[] = {"run_http", "run_https"};
#define NRUNS (sizeof(run_docs) / sizeof(run_docs[0]))

static struct px_run *runs[NRUNS];

/* A shallow copy of src with a load of its own (its series stays src's). */
static struct px_run *borrow(const struct px_run *src, const struct px_load *load)
{
    struct px_run *r = px_run_new(load);
    assert_non_null(r);
    struct px_load *own = r->load;
    *r = *src;
    r->load = own;
    return r;
}

static void unborrow(struct px_run *r)
{
    memset(&r->series, 0, sizeof(r->series));
    px_run_free(r);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void golden_path(char *out, size_t outlen, const char *name)
{
    snprintf(out, outlen, "%s/%s", PX_GOLDEN_DIR, name);
}

static int recording(void)
{
    const char *r = getenv("PX_GOLDEN_RECORD");
    return r != NULL && strcmp(r, "1") == 0;
}

/* What a writer produced, captured in memory. */
struct capture {
    char *buf;
    size_t len;
    FILE *f;
};

static FILE *capture_begin(struct capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    return c->f;
}

static void capture_end(struct capture *c)
{
    assert_int_equal(fclose(c->f), 0);
}

/* Byte for byte against tests/golden/name (or records it). */
static void expect_bytes(struct capture *c, const char *name)
{
    char path[512];
    golden_path(path, sizeof(path), name);
    if (recording()) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(c->buf, 1, c->len, f);
        fclose(f);
    }
    size_t len;
    char *want = slurp(path, &len);
    if (want == NULL)
        fail_msg("missing %s (record it with PX_GOLDEN_RECORD=1)", path);
    if (len != c->len || memcmp(want, c->buf, len) != 0) {
        size_t i = 0;
        while (i < len && i < c->len && want[i] == c->buf[i])
            i++;
        fail_msg("%s differs at byte %zu (got %zu bytes, want %zu): ...%.60s", name, i, c->len, len,
                 c->buf + (i > 20 ? i - 20 : 0));
    }
    free(want);
    free(c->buf);
}

/* The same JSON values as tests/golden/name (or records it). */
static void expect_json(struct capture *c, const char *name)
{
    char path[512];
    golden_path(path, sizeof(path), name);
    if (recording()) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(c->buf, 1, c->len, f);
        fclose(f);
    }
    json_error_t je;
    json_t *got = json_loadb(c->buf, c->len, 0, &je);
    if (got == NULL)
        fail_msg("%s: output is not JSON: %s", name, je.text);
    json_t *want = json_load_file(path, 0, &je);
    if (want == NULL)
        fail_msg("cannot read %s: %s", path, je.text);
    if (!json_equal(got, want))
        fail_msg("%s: the JSON values differ from the recorded ones", name);
    json_decref(got);
    json_decref(want);
    free(c->buf);
}

static int load_runs(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRUNS; i++) {
        char path[512], name[64], err[256];
        snprintf(name, sizeof(name), "%s.json", run_docs[i]);
        golden_path(path, sizeof(path), name);
        if ((runs[i] = px_result_decode_file(path, err, sizeof(err))) == NULL) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
    }
    return 0;
}

static int free_runs(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRUNS; i++)
        px_run_free(runs[i]);
    return 0;
}

static void run_document__round_trips_byte_for_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRUNS; i++) {
        struct capture c;
        char name[64];
        px_report_json(capture_begin(&c), runs[i]);
        capture_end(&c);
        snprintf(name, sizeof(name), "%s.json", run_docs[i]);
        /* Never recorded: the input itself is what must come out. */
        char path[512];
        golden_path(path, sizeof(path), name);
        size_t len;
        char *want = slurp(path, &len);
        assert_non_null(want);
        assert_int_equal(c.len, len);
        assert_memory_equal(c.buf, want, len);
        free(want);
        free(c.buf);
    }
}

static void run_text_csv_svg__as_recorded(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRUNS; i++) {
        struct capture c;
        char name[64];
        px_report_text(capture_begin(&c), runs[i]);
        capture_end(&c);
        snprintf(name, sizeof(name), "%s.txt", run_docs[i]);
        expect_bytes(&c, name);

        px_report_csv(capture_begin(&c), &runs[i]->series);
        capture_end(&c);
        snprintf(name, sizeof(name), "%s.csv", run_docs[i]);
        expect_bytes(&c, name);

        const struct px_run *one[1] = {runs[i]};
        const char *names[1] = {runs[i]->load->url_text};
        px_svg_write(capture_begin(&c), "golden", one, names, 1);
        capture_end(&c);
        snprintf(name, sizeof(name), "%s.svg", run_docs[i]);
        expect_bytes(&c, name);
    }
}

/* The exposition of both runs as two loads of one command, and of serve, in both formats. */
static void exposition__as_recorded(void **state)
{
    (void)state;
    static struct px_expo_load loads[NRUNS];
    const char *modes[NRUNS] = {"short", "https"};
    for (size_t i = 0; i < NRUNS; i++) {
        px_expo_labels_of(&loads[i].labels, modes[i], runs[i]->load);
        px_expo_sample_run(&loads[i].at, runs[i]);
    }
    const struct px_expo_serve serve = {.accepted = 3000, .requests = 3000, .accept_errors = 0};
    const enum px_expo_format fmts[2] = {PX_EXPO_OPENMETRICS, PX_EXPO_PROMETHEUS};
    const char *names[2] = {"metrics.om", "metrics.prom"};
    for (int k = 0; k < 2; k++) {
        struct capture c;
        FILE *f = capture_begin(&c);
        px_expo_write_loads(f, fmts[k], loads, NRUNS, 1795707503507);
        px_expo_write_serve(f, fmts[k], &serve, 1795707503507);
        px_expo_end(f, fmts[k]);
        capture_end(&c);
        expect_bytes(&c, names[k]);
    }
}

/* Keys a newer portex added to the run document, by the object that holds them: a
 * document written before them must still read, merge and write. */
static const char *const added_keys[][2] = {
    {"config", "family"},
    {"config", "resolved"},
    {"summary", "bound_ports"},
    {"result.exhaustion", "bound_ports"},
    {"result.exhaustion", "bound_listening"},
    {"summary.latency_us", "connect_call"},
    {"result.latency", "connect_call"},
    {"config", "protocol"},
    {"config", "streams"},
    {"summary", "protocol"},
};

/* The object at a dotted path ("result.exhaustion") inside doc, NULL when absent. */
static json_t *member_at(json_t *doc, const char *path)
{
    char copy[64], *save = NULL;
    snprintf(copy, sizeof(copy), "%s", path);
    json_t *o = doc;
    for (char *k = strtok_r(copy, ".", &save); o != NULL && k; k = strtok_r(NULL, ".", &save))
        o = json_object_get(o, k);
    return o;
}

static void run_document__older_without_added_keys_reads_and_merges(void **state)
{
    (void)state;
    char path[512], err[256];
    golden_path(path, sizeof(path), "run_http.json");
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    assert_non_null(doc);
    for (size_t i = 0; i < sizeof(added_keys) / sizeof(added_keys[0]); i++)
        assert_int_equal(json_object_del(member_at(doc, added_keys[i][0]), added_keys[i][1]), 0);
    struct px_run *old = px_result_decode(doc, err, sizeof(err));
    json_decref(doc);
    if (old == NULL)
        fail_msg("an older document no longer reads: %s", err);
    assert_int_equal(old->load->naddrs, 0);
    assert_int_equal(old->load->family, AF_UNSPEC);
    assert_int_equal(old->ex.bound_ports, -1);
    assert_int_equal(old->ex.bound_listening, -1);
    const struct px_run *two[2] = {old, runs[0]};
    struct px_run *merged = px_combine_runs(two, 2);
    assert_non_null(merged);
    assert_int_equal(merged->totals.ok, 2 * runs[0]->totals.ok);
    struct capture c;
    px_report_json(capture_begin(&c), merged);
    capture_end(&c);
    assert_non_null(strstr(c.buf, "\"hosts\": 2"));
    free(c.buf);
    px_run_free(merged);
    px_run_free(old);
}

/* Two modes made from the two runs, as lab and compare hold them. */
static void make_modes(struct px_mode_result *res, const struct px_mode *a, const struct px_mode *b,
                       int compare)
{
    const struct px_mode *modes[2] = {a, b};
    for (size_t i = 0; i < 2; i++) {
        px_mode_result_start(&res[i], modes[i], 0);
        res[i].ran = 1;
        res[i].run = runs[i]; /* borrowed: never freed through res */
        res[i].predicted_ok = 550.0 + (double)i;
        if (compare) {
            res[i].isolation = i == 0 ? "as-given" : "drain";
            res[i].waited_s = 1.5 * (double)i;
        }
    }
}

static void mode_reports__as_recorded(void **state)
{
    (void)state;
    static struct px_mode_result res[3];
    struct capture c;

    make_modes(res, &px_lab_modes[0], &px_lab_modes[3], 0);
    px_mode_result_start(&res[2], &px_lab_modes[1], 1); /* a mode an interrupt skipped */
    px_mode_report_json(capture_begin(&c), "lab", res, 3);
    capture_end(&c);
    expect_json(&c, "lab.json");
    px_mode_report_table(capture_begin(&c), res, 3);
    capture_end(&c);
    expect_bytes(&c, "lab_table.txt");

    make_modes(res, &px_compare_modes[3], &px_compare_modes[0], 1);
    px_mode_report_json(capture_begin(&c), "compare", res, 2);
    capture_end(&c);
    expect_json(&c, "compare.json");
    px_mode_report_csv(capture_begin(&c), res, 2);
    capture_end(&c);
    expect_bytes(&c, "compare.csv");
}

/* A mode through a NAT with what each namespace measured, judged by its rule. */
static void topo_reports__as_recorded(void **state)
{
    (void)state;
    static struct px_mode_result res[1];
    const struct px_mode *m = NULL;
    for (size_t i = 0; i < px_lab_nmodes; i++)
        if (strcmp(px_lab_modes[i].name, "nat-keepalive") == 0)
            m = &px_lab_modes[i];
    assert_non_null(m);
    px_mode_result_start(&res[0], m, 0);
    res[0].ran = 1;
    res[0].run = runs[0];
    res[0].middle =
        (struct px_middle_settings){.kind = PX_MIDDLE_NAT, .nat_ports = 100, .nat_addrs = 1};
    struct px_middle_figures *f = &res[0].fig;
    f->measured = f->has_middle = 1;
    f->upstream_eaddrnotavail = -1;
    f->client = (struct px_netns_figures){.time_wait_peak = 100, .ext.syn_retrans = 200};
    f->middle = (struct px_netns_figures){.have_conntrack = 1,
                                          .ct = {.entries = 100, .insert_failed = 400, .drop = 400},
                                          .ct_peak = 101};
    f->server = (struct px_netns_figures){.tcp.passive_opens = 100};
    struct px_middle_in in = {.rule = m->rule,
                              .set = res[0].middle,
                              .duration_s = 3,
                              .requests = 2900,
                              .ok = 2700,
                              .failed = 200,
                              .connections = 100,
                              .slots = 200,
                              .fig = f};
    px_middle_judge(&in, &res[0].judgement);
    res[0].judged = 1;
    res[0].predicted_ok = NAN;
    struct capture c;
    px_mode_report_json(capture_begin(&c), "lab", res, 1);
    capture_end(&c);
    expect_json(&c, "lab_topo.json");
    FILE *out = capture_begin(&c);
    px_topo_report_table(out, res, 1);
    px_lab_report_story(out, &res[0]);
    capture_end(&c);
    expect_bytes(&c, "lab_topo.txt");
}

static void ramp_reports__as_recorded(void **state)
{
    (void)state;
    static struct px_ramp ramp;
    memset(&ramp, 0, sizeof(ramp));
    ramp.from_per_s = 100;
    ramp.to_per_s = 300;
    ramp.step_per_s = 100;
    ramp.step_ms = 2000;
    ramp.nplanned = 3;
    ramp.nsteps = 2;
    for (size_t i = 0; i < 2; i++) {
        ramp.runs[i] = borrow(runs[i], runs[0]->load);
        ramp.runs[i]->load->rate_per_s = 100.0 * (double)(i + 1);
        px_knee_step_from_run(ramp.runs[i], ramp.runs[i]->load->rate_per_s, 2.0, &ramp.figs[i]);
    }
    ramp.knee = px_knee_find(ramp.figs, ramp.nsteps, 0);
    struct capture c;
    px_ramp_report_json(capture_begin(&c), runs[0]->load->url_text, &ramp);
    capture_end(&c);
    expect_json(&c, "ramp.json");
    px_ramp_report_text(capture_begin(&c), runs[0]->load->url_text, &ramp);
    capture_end(&c);
    expect_bytes(&c, "ramp.txt");
    for (size_t i = 0; i < 2; i++)
        unborrow(ramp.runs[i]);
}

/* A namespace as a fake /proc: the defaults of a fresh one, reuse off. */
static void doctor_report__as_recorded(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    assert_non_null(dir);
    fakeproc_write(dir, "sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
    fakeproc_write(dir, "sys/net/ipv4/ip_local_reserved_ports", "\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_tw_reuse", "0\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_tw_reuse_delay", "1000\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_timestamps", "1\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_fin_timeout", "30\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_max_tw_buckets", "4096\n");
    fakeproc_write(dir, "sys/net/core/somaxconn", "4096\n");
    fakeproc_write(dir, "sys/fs/file-max", "100000\n");
    fakeproc_write(dir, "net/sockstat", "TCP: inuse 5 orphan 0 tw 17 alloc 9 mem 1\n");
    fakeproc_write(dir, "sys/net/netfilter/nf_conntrack_count", "3\n");
    fakeproc_write(dir, "sys/net/netfilter/nf_conntrack_max", "262144\n");
    fakeproc_write(dir, "net/netstat",
                   "TcpExt: TW TWRecycled TCPTimeWaitOverflow TCPAbortOnData\n"
                   "TcpExt: 10 2 0 4\n");
    static struct px_doctor_config cfg;
    static struct px_doctor d;
    px_doctor_config_defaults(&cfg);
    memset(&d, 0, sizeof(d));
    /* A listener inside the range (taken from the usable ports) and one outside it. */
    static struct px_bound_ports bound;
    memset(&bound, 0, sizeof(bound));
    bound.listening[40000 / 8] |= 1u << (40000 % 8);
    bound.listening[80 / 8] |= 1u << (80 % 8);
    px_doctor_examine(dir, &cfg, &bound, &d);
    /* What the machine says, not the fake tree: fixed so the record holds anywhere. */
    snprintf(d.env.kernel, sizeof(d.env.kernel), "6.18.44");
    d.env.nofile_soft = d.env.nofile_hard = 1048576;
    d.env.cpus = 2;
    struct capture c;
    px_doctor_report_json(capture_begin(&c), &d);
    capture_end(&c);
    expect_json(&c, "doctor.json");
    px_doctor_report_text(capture_begin(&c), &d);
    capture_end(&c);
    expect_bytes(&c, "doctor.txt");
    fakeproc_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_document__round_trips_byte_for_byte),
        cmocka_unit_test(run_document__older_without_added_keys_reads_and_merges),
        cmocka_unit_test(run_text_csv_svg__as_recorded),
        cmocka_unit_test(exposition__as_recorded),
        cmocka_unit_test(mode_reports__as_recorded),
        cmocka_unit_test(topo_reports__as_recorded),
        cmocka_unit_test(ramp_reports__as_recorded),
        cmocka_unit_test(doctor_report__as_recorded),
    };
    return cmocka_run_group_tests(tests, load_runs, free_runs);
}
