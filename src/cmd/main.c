/* SPDX-License-Identifier: MIT */
/* portex entry point: dispatches commands and owns exit codes (0 ok, 1 runtime, 2 usage). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portex/base/stop.h"
#include "portex/cmd/cli.h"
#include "portex/cmd/compare.h"
#include "portex/load/load.h"
#include "portex/cmd/doctor.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/sock.h"
#include "portex/load/engine.h"
#include "portex/cmd/lab.h"
#include "portex/cmd/merge.h"
#include "portex/cmd/mode.h"
#include "portex/cmd/ramp.h"
#include "portex/cmd/run.h"
#include "portex/cmd/serve.h"
#include "portex/report/compare_report.h"
#include "portex/report/doctor_report.h"
#include "portex/report/mode_report.h"
#include "portex/load/knee.h"
#include "portex/report/hlog.h"
#include "portex/report/outfile.h"
#include "portex/report/ramp_report.h"
#include "portex/report/run_report.h"
#include "portex/load/result.h"
#include "portex/load/run.h"
#include "portex/load/server.h"
#include "portex/load/tls.h"
#include "portex/report/svg.h"
#include "portex/base/url.h"


static const char main_usage[] =
    "usage: portex COMMAND [options]\n"
    "\n"
    "A short-connection HTTP load generator that shows ephemeral port exhaustion.\n"
    "\n"
    "  run URL        one load run; short connections unless -k\n"
    "  serve          the built-in HTTP target\n"
    "  compare URL    the same load under several modes against a real server\n"
    "  lab            reproduce port exhaustion in fresh network namespaces\n"
    "  doctor [URL]   sysctls, limits, traps, predicted ceilings; probes the target\n"
    "  merge FILE...  one exact report from several hosts' results (run --shard K/N)\n"
    "  ramp URL       steps the rate up and finds the knee\n"
    "\n"
    "portex COMMAND --help for the options of each command.\n";

/* Where the text for a person goes: stderr when a machine report takes stdout. */
static FILE *text_stream(const char *json, const char *csv, const char *svg)
{
    const char *outs[] = {json, csv, svg};
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
        if (outs[i] && strcmp(outs[i], "-") == 0)
            return stderr;
    return stdout;
}

/* The machine outputs of one command (--json, --csv, --svg), opened before its load. */
struct outputs {
    struct px_outfile json, csv, svg;
};

/* Nothing will be written: closes them, removing the files this run created. */
static void discard_outputs(struct outputs *o)
{
    px_outfile_discard(&o->json);
    px_outfile_discard(&o->csv);
    px_outfile_discard(&o->svg);
}

/* Opens every output asked for, so a bad path fails before any load. 0, or -1 printed. */
static int open_outputs(const char *cmd, struct outputs *o, const char *json, const char *csv,
                        const char *svg)
{
    char err[512];
    memset(o, 0, sizeof(*o));
    if (px_outfile_open(&o->json, json, err, sizeof(err)) < 0 ||
        px_outfile_open(&o->csv, csv, err, sizeof(err)) < 0 ||
        px_outfile_open(&o->svg, svg, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        discard_outputs(o);
        return -1;
    }
    return 0;
}

/* Closes one output after its last write. 0, or -1 with the reason printed. */
static int close_output(const char *cmd, struct px_outfile *o)
{
    char err[512];
    if (px_outfile_close(o, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        return -1;
    }
    return 0;
}

/* The last line of a lab or compare text report that a signal cut short. */
static void say_interrupted(FILE *f)
{
    fputs("interrupted by a signal: the mode that was running reports what ran until then, "
          "later modes did not run\n",
          f);
}

/* The text report's stream: on stdout it is an output checked like a file. */
static FILE *text_begin(struct px_outfile *o, FILE *stream)
{
    char err[8];
    px_outfile_open(o, stream == stdout ? "-" : NULL, err, sizeof(err));
    return stream == stdout ? px_outfile_begin(o) : stream;
}

/* Writes one report into an opened output through cb. 0 (also when not asked
 * for), or -1 with a message printed. */
static int write_report(const char *cmd, struct px_outfile *o, void (*cb)(FILE *, const void *),
                        const void *arg)
{
    if (o->f == NULL)
        return 0;
    cb(px_outfile_begin(o), arg);
    return close_output(cmd, o);
}

static void json_cb(FILE *f, const void *run)
{
    px_report_json(f, run);
}

static void csv_cb(FILE *f, const void *run)
{
    px_report_csv(f, &((const struct px_run *)run)->series);
}

static void svg_cb(FILE *f, const void *run)
{
    const struct px_run *runs[1] = {run};
    const char *names[1] = {((const struct px_run *)run)->load->url_text};
    px_svg_write(f, "portex run: ok/s, EADDRNOTAVAIL/s and TIME_WAIT", runs, names, 1);
}

/* Resolves the URL, checks sockets and fds, for run and compare. 0, or the exit code. */
static int prepare_load(const char *cmd, struct px_load *cfg)
{
    char err[512];
    if (px_url_resolve(&cfg->url, &cfg->target, &cfg->target_len, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        return 1;
    }
    if (cfg->target.ss_family == AF_UNIX && (cfg->port_lo || cfg->nsources)) {
        fprintf(stderr, "portex %s: --%s does not apply to a Unix-socket target (no ports)\n", cmd,
                cfg->port_lo ? "port-range" : "source");
        return 2;
    }
    if (px_sock_preflight(cfg->target.ss_family, cfg->port_lo, cfg->port_hi, cfg->sources,
                          cfg->nsources, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        return 2;
    }
    /* A bound outside the namespace range is ignored by the kernel: say so. */
    unsigned ns_lo, ns_hi, lo, hi;
    if (cfg->port_lo && px_port_range(PX_PROC, &ns_lo, &ns_hi) == 0 &&
        (cfg->port_lo < ns_lo || cfg->port_hi > ns_hi)) {
        px_usable_ports(ns_lo, ns_hi, cfg->port_lo, cfg->port_hi, "", &lo, &hi);
        fprintf(stderr,
                "portex %s: --port-range %u-%u is not inside ip_local_port_range %u-%u: "
                "the kernel uses %u-%u\n",
                cmd, cfg->port_lo, cfg->port_hi, ns_lo, ns_hi, lo, hi);
    }
    uint64_t soft, hard;
    unsigned fit = px_sock_fit_nofile(cfg->connections, &soft, &hard);
    if (fit < cfg->connections) {
        fprintf(stderr,
                "portex %s: -c %u does not fit the open-files limit (soft %llu, hard %llu); "
                "running with -c %u (raise 'ulimit -n' for more)\n",
                cmd, cfg->connections, (unsigned long long)soft, (unsigned long long)hard, fit);
        cfg->connections = fit;
    }
    if (cfg->threads > cfg->connections)
        cfg->threads = cfg->connections;
    return 0;
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

static int cmd_run(int argc, char **argv)
{
    static struct px_run_config cfg;
    struct px_load *load = &cfg.load;
    const struct px_outputs *o = &cfg.out;
    char err[512];
    int rc = px_cli_parse_run(argc, argv, &cfg, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex run: %s\n", err);
        px_load_release(load);
        return 2;
    }
    rc = prepare_load("run", load);
    struct outputs out;
    if (rc == 0 && open_outputs("run", &out, o->json, o->csv, o->svg) < 0)
        rc = 1;
    if (rc != 0) {
        px_load_release(load);
        return rc;
    }

    /* Opened before the load, so that a bad path costs nothing. */
    struct px_hlog *hlog = NULL;
    if (o->hlog && (hlog = px_hlog_open(o->hlog, err, sizeof(err))) == NULL) {
        fprintf(stderr, "portex run: %s\n", err);
        discard_outputs(&out);
        px_load_release(load);
        return 1;
    }
    announce_start(load);
    struct px_run *run = px_run_new(load);
    /* Per-row histograms exist for the JSON result (and merges of it); without
     * --json a long run keeps flat memory. */
    struct px_stats_opts opts = {.live = o->quiet ? NULL : stderr,
                                 .tick = hlog ? px_hlog_tick : NULL,
                                 .tick_arg = hlog,
                                 .row_hists = o->json != NULL};
    if (run == NULL || px_run_execute(run, &opts, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex run: %s\n", run ? err : "out of memory");
        px_hlog_discard(hlog);
        discard_outputs(&out);
        /* Stopped by a signal before the load (the --start-at wait): 130, as any stop. */
        rc = run && run->interrupted ? PX_EXIT_INTERRUPTED : 1;
        px_run_free(run);
        px_load_release(load);
        return rc;
    }
    int failed = px_hlog_close(hlog) < 0;
    if (failed)
        fprintf(stderr, "portex run: cannot write --hlog '%s'\n", o->hlog);
    int hlog_stdout = o->hlog && strcmp(o->hlog, "-") == 0;
    struct px_outfile text;
    px_report_text(text_begin(&text, hlog_stdout ? stderr : text_stream(o->json, o->csv, o->svg)),
                   run);
    failed |= close_output("run", &text) < 0;
    failed |= write_report("run", &out.json, json_cb, run) < 0;
    failed |= write_report("run", &out.csv, csv_cb, run) < 0;
    failed |= write_report("run", &out.svg, svg_cb, run) < 0;
    int interrupted = run->interrupted;
    px_run_free(run);
    px_load_release(load);
    /* One exit code for a stopped run, compare or lab; an output error outranks it. */
    return failed ? 1 : interrupted ? PX_EXIT_INTERRUPTED : 0;
}

/* Results of several modes (lab or compare), for the report writers. */
struct modes_ref {
    const char *command;
    const struct px_mode_result *res;
    size_t n;
};

static void modes_json_cb(FILE *f, const void *arg)
{
    const struct modes_ref *m = arg;
    px_mode_report_json(f, m->command, m->res, m->n);
}

static void modes_svg_cb(FILE *f, const void *arg)
{
    const struct modes_ref *m = arg;
    px_mode_report_svg(f, m->command, m->res, m->n);
}

static void modes_csv_cb(FILE *f, const void *arg)
{
    const struct modes_ref *m = arg;
    px_mode_report_csv(f, m->res, m->n);
}

/* Writes the JSON, SVG and CSV a lab or compare asked for. 0, or 1 if one failed. */
static int write_modes(const struct modes_ref *m, struct outputs *out)
{
    int rc = 0;
    if (write_report(m->command, &out->json, modes_json_cb, m) < 0)
        rc = 1;
    if (write_report(m->command, &out->svg, modes_svg_cb, m) < 0)
        rc = 1;
    if (write_report(m->command, &out->csv, modes_csv_cb, m) < 0)
        rc = 1;
    px_mode_results_free((struct px_mode_result *)m->res, m->n);
    return rc;
}

static int cmd_lab(int argc, char **argv)
{
    static struct px_lab_config cfg;
    static struct px_mode_result res[PX_MAX_MODES];
    char err[512];
    int rc = px_cli_parse_lab(argc, argv, &cfg, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex lab: %s\n", err);
        return 2;
    }
    struct outputs outs;
    if (open_outputs("lab", &outs, cfg.out.json, cfg.out.csv, cfg.out.svg) < 0)
        return 1;
    rc = px_lab_run(&cfg, res, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "portex lab: %s\n", err);
        discard_outputs(&outs);
        return 1;
    }
    struct px_outfile text;
    FILE *tf = text_begin(&text, text_stream(cfg.out.json, cfg.out.csv, cfg.out.svg));
    px_lab_report(tf, &cfg, res);
    if (rc == 1)
        say_interrupted(tf);
    int failed = close_output("lab", &text) < 0;
    struct modes_ref m = {"lab", res, cfg.nmodes};
    failed |= write_modes(&m, &outs) != 0;
    /* Interrupted: what finished was reported; say so in the exit code. */
    return failed ? 1 : rc == 1 ? PX_EXIT_INTERRUPTED : 0;
}

static int cmd_compare(int argc, char **argv)
{
    static struct px_compare_config cfg;
    static struct px_mode_result res[PX_MAX_MODES];
    char err[512];
    int rc = px_cli_parse_compare(argc, argv, &cfg, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex compare: %s\n", err);
        px_load_release(&cfg.base);
        return 2;
    }
    rc = prepare_load("compare", &cfg.base);
    const struct px_outputs *b = &cfg.out;
    struct outputs outs;
    if (rc == 0 && open_outputs("compare", &outs, b->json, b->csv, b->svg) < 0)
        rc = 1;
    /* Opened before the load, so that a bad path costs nothing. */
    struct px_hlog *hlog = NULL;
    if (rc == 0 && b->hlog && (hlog = px_hlog_open(b->hlog, err, sizeof(err))) == NULL) {
        fprintf(stderr, "portex compare: %s\n", err);
        discard_outputs(&outs);
        rc = 1;
    }
    if (rc == 0) {
        rc = px_compare_run(&cfg, hlog, res, err, sizeof(err));
        int failed = 0;
        if (rc < 0) {
            fprintf(stderr, "portex compare: %s\n", err);
            px_hlog_discard(hlog); /* nothing ran: no file left behind, like the others */
            discard_outputs(&outs);
            rc = rc == -2 ? 2 : 1;
        } else {
            failed = px_hlog_close(hlog) < 0;
            if (failed)
                fprintf(stderr, "portex compare: cannot write --hlog '%s'\n", b->hlog);
            int hlog_stdout = b->hlog && strcmp(b->hlog, "-") == 0;
            struct px_outfile text;
            FILE *tf =
                text_begin(&text, hlog_stdout ? stderr : text_stream(b->json, b->csv, b->svg));
            px_compare_report_text(tf, &cfg.base, res, cfg.nmodes);
            if (rc == 1)
                say_interrupted(tf);
            failed |= close_output("compare", &text) < 0;
            struct modes_ref m = {"compare", res, cfg.nmodes};
            failed |= write_modes(&m, &outs) != 0;
            rc = failed ? 1 : rc == 1 ? PX_EXIT_INTERRUPTED : 0;
        }
    }
    px_load_release(&cfg.base);
    return rc;
}

struct ramp_ref {
    const char *url;
    const struct px_ramp *ramp;
};

static void ramp_json_cb(FILE *f, const void *arg)
{
    const struct ramp_ref *r = arg;
    px_ramp_report_json(f, r->url, r->ramp);
}

static void ramp_svg_cb(FILE *f, const void *arg)
{
    const struct ramp_ref *r = arg;
    px_ramp_report_svg(f, r->url, r->ramp);
}

static void ramp_csv_cb(FILE *f, const void *arg)
{
    px_ramp_report_csv(f, ((const struct ramp_ref *)arg)->ramp);
}

static int cmd_ramp(int argc, char **argv)
{
    static struct px_ramp_config cfg;
    static struct px_ramp ramp;
    char err[512];
    int rc = px_cli_parse_ramp(argc, argv, &cfg, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex ramp: %s\n", err);
        px_load_release(&cfg.base);
        return 2;
    }
    struct px_load *b = &cfg.base;
    const struct px_outputs *o = &cfg.out;
    rc = prepare_load("ramp", b);
    struct outputs out;
    if (rc == 0 && open_outputs("ramp", &out, o->json, o->csv, o->svg) < 0)
        rc = 1;
    if (rc != 0) {
        px_load_release(b);
        return rc;
    }
    int ran = px_ramp_run(&cfg, &ramp, err, sizeof(err));
    int failed = 0;
    if (ran < 0) {
        fprintf(stderr, "portex ramp: %s\n", err);
        discard_outputs(&out);
        failed = 1;
    } else {
        struct px_outfile text;
        px_ramp_report_text(text_begin(&text, text_stream(o->json, o->csv, o->svg)), b->url_text,
                            &ramp);
        failed |= close_output("ramp", &text) < 0;
        struct ramp_ref ref = {b->url_text, &ramp};
        failed |= write_report("ramp", &out.json, ramp_json_cb, &ref) < 0;
        failed |= write_report("ramp", &out.csv, ramp_csv_cb, &ref) < 0;
        failed |= write_report("ramp", &out.svg, ramp_svg_cb, &ref) < 0;
    }
    px_knee_ramp_free(&ramp);
    px_load_release(b);
    /* Interrupted: what ran was reported; an output error outranks it. */
    return failed ? 1 : ran == 1 ? PX_EXIT_INTERRUPTED : 0;
}

static void doctor_json_cb(FILE *f, const void *arg)
{
    px_doctor_report_json(f, arg);
}

static int cmd_doctor(int argc, char **argv)
{
    static struct px_doctor_config cfg;
    static struct px_doctor d;
    char err[512];
    int rc = px_cli_parse_doctor(argc, argv, &cfg, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex doctor: %s\n", err);
        return 2;
    }
    memset(&d, 0, sizeof(d));
    struct outputs outs;
    if (open_outputs("doctor", &outs, cfg.out.json, NULL, NULL) < 0)
        return 1;
    int unreachable = 0;
    if (cfg.has_target) {
        struct sockaddr_storage ss;
        socklen_t len;
        char host[PX_URL_HOST_MAX + 16];
        px_url_host_header(&cfg.url, host, sizeof(host));
        if (px_url_resolve(&cfg.url, &ss, &len, err, sizeof(err)) < 0) {
            snprintf(d.probe.error, sizeof(d.probe.error), "%s", err);
            unreachable = 1;
        } else if (cfg.url.tls &&
                   px_doctor_probe_tls((struct sockaddr *)&ss, len, cfg.url.host, host,
                                       cfg.url.path, cfg.connect_timeout_ms, &d.probe) < 0) {
            unreachable = 1;
        } else if (!cfg.url.tls && px_doctor_probe((struct sockaddr *)&ss, len, host, cfg.url.path,
                                                   cfg.connect_timeout_ms, &d.probe) < 0) {
            unreachable = 1;
        }
    }
    px_doctor_examine(PX_PROC, &cfg, &d);
    struct px_outfile text;
    px_doctor_report_text(text_begin(&text, text_stream(cfg.out.json, NULL, NULL)), &d);
    int failed = close_output("doctor", &text) < 0;
    failed |= write_report("doctor", &outs.json, doctor_json_cb, &d) < 0;
    return failed || unreachable ? 1 : 0;
}

static int cmd_merge(int argc, char **argv)
{
    struct px_merge_config cfg;
    char err[512];
    int rc = px_cli_parse_merge(argc, argv, &cfg, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex merge: %s\n", err);
        return 2;
    }
    return px_merge_main(&cfg);
}

static int cmd_serve(int argc, char **argv)
{
    struct px_serve_config opts;
    struct px_server_config *srvcfg = &opts.server;
    char err[512];
    int rc = px_cli_parse_serve(argc, argv, &opts, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex serve: %s\n", err);
        return 2;
    }
    struct px_tls_server_opts tls_opts = {
        .cert_file = opts.cert, .key_file = opts.key, .write_cert = opts.write_cert};
    if (opts.tls && (srvcfg->tls = px_tls_server_new(&tls_opts, err, sizeof(err))) == NULL) {
        fprintf(stderr, "portex serve: %s\n", err);
        return 1;
    }
    sigset_t stop_set;
    px_stop_block(&stop_set, NULL);

    struct px_server *srv = px_server_new(srvcfg, err, sizeof(err));
    if (srv == NULL || px_server_start(srv, err, sizeof(err)) < 0) {
        char where[80];
        px_sockaddr_str((struct sockaddr *)&srvcfg->addr, where, sizeof(where));
        if (srvcfg->unix_path[0] && strstr(err, srvcfg->unix_path)) /* names its Unix socket */
            fprintf(stderr, "portex serve: %s\n", err);
        else
            fprintf(stderr, "portex serve: %s on %s\n", err, where);
        px_server_free(srv);
        px_tls_free(srvcfg->tls);
        return 1;
    }
    struct sockaddr_storage bound;
    px_server_address(srv, &bound);
    char where[80];
    px_sockaddr_str((struct sockaddr *)&bound, where, sizeof(where));
    const char *tls = srvcfg->tls ? " with TLS" : "";
    if (srvcfg->unix_only)
        fprintf(stderr, "portex serve: listening on unix:%s%s (%u threads)\n", srvcfg->unix_path, tls,
                srvcfg->threads);
    else if (srvcfg->unix_path[0])
        fprintf(stderr, "portex serve: listening on %s and unix:%s%s (%u threads)\n", where,
                srvcfg->unix_path, tls, srvcfg->threads);
    else
        fprintf(stderr, "portex serve: listening on %s%s (%u threads)\n", where, tls, srvcfg->threads);

    int sig;
    sigwait(&stop_set, &sig);
    px_server_stop(srv);
    uint64_t accepted, requests;
    px_server_counts(srv, &accepted, &requests);
    struct px_outfile out;
    fprintf(text_begin(&out, stdout), "{\"accepted\": %llu, \"requests\": %llu}\n",
            (unsigned long long)accepted, (unsigned long long)requests);
    px_server_free(srv);
    px_tls_free(srvcfg->tls);
    return close_output("serve", &out) < 0 ? 1 : 0;
}

/*
 * Started with fd 0, 1 or 2 closed, the first file opened would take that
 * number, and the text report on "stdout" would land in --json's file. Hold
 * each with /dev/null opened read-only: writes to it still fail (EBADF).
 */
static void hold_std_fds(void)
{
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0)
            return;
        if (fd > 2) {
            close(fd);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    hold_std_fds();
    /* A closed peer must give EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(main_usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "lab") == 0)
        return cmd_lab(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "doctor") == 0)
        return cmd_doctor(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "ramp") == 0)
        return cmd_ramp(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("portex %s\n", PORTEX_VERSION);
        return 0;
    }
    fprintf(stderr,
            "portex: unknown command '%s': expected run, serve, compare, lab, doctor, merge or "
            "ramp (see "
            "portex --help)\n",
            cmd);
    return 2;
}
