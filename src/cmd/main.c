/* SPDX-License-Identifier: MIT */
/* portex entry point: dispatches commands and owns exit codes (0 ok, 1 runtime, 2 usage). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/cmd/cli.h"
#include "portex/cmd/compare.h"
#include "portex/base/config.h"
#include "portex/cmd/doctor.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/sock.h"
#include "portex/load/engine.h"
#include "portex/cmd/lab.h"
#include "portex/cmd/mode.h"
#include "portex/out/report.h"
#include "portex/load/result.h"
#include "portex/load/run.h"
#include "portex/load/server.h"
#include "portex/load/tls.h"
#include "portex/out/svg.h"
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

/* Writes one report to FILE ("-" = stdout) through cb. 0, or -1 with a message printed. */
static int write_report(const char *cmd, const char *path, void (*cb)(FILE *, const void *),
                        const void *arg)
{
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "portex %s: cannot write '%s': %s\n", cmd, path, strerror(errno));
        return -1;
    }
    cb(f, arg);
    int rc = to_stdout ? fflush(f) : fclose(f);
    if (rc != 0) {
        fprintf(stderr, "portex %s: cannot write '%s': %s\n", cmd, path, strerror(errno));
        return -1;
    }
    return 0;
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
    const char *names[1] = {((const struct px_run *)run)->cfg->url_text};
    px_svg_write(f, "portex run: ok/s, EADDRNOTAVAIL/s and TIME_WAIT", runs, names, 1);
}

/* Resolves the URL, checks sockets and fds, for run and compare. 0, or the exit code. */
static int prepare_load(const char *cmd, struct px_config *cfg)
{
    char err[512];
    if (px_url_resolve(&cfg->url, &cfg->target, &cfg->target_len, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        return 1;
    }
    if (px_sock_preflight(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        return 2;
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

static int cmd_run(int argc, char **argv)
{
    static struct px_config cfg;
    char err[512];
    int rc = px_cli_parse_run(argc, argv, &cfg, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex run: %s\n", err);
        px_config_release(&cfg);
        return 2;
    }
    rc = prepare_load("run", &cfg);
    if (rc != 0) {
        px_config_release(&cfg);
        return rc;
    }

    static struct px_run run;
    if (px_run_execute(&cfg, &run, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex run: %s\n", err);
        px_config_release(&cfg);
        return 1;
    }
    px_report_text(text_stream(cfg.json_path, cfg.csv_path, cfg.svg_path), &run);
    rc = 0;
    if (cfg.json_path && write_report("run", cfg.json_path, json_cb, &run) < 0)
        rc = 1;
    if (cfg.csv_path && write_report("run", cfg.csv_path, csv_cb, &run) < 0)
        rc = 1;
    if (cfg.svg_path && write_report("run", cfg.svg_path, svg_cb, &run) < 0)
        rc = 1;
    px_series_free(&run.series);
    px_config_release(&cfg);
    return rc;
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
static int write_modes(const struct modes_ref *m, const char *json, const char *svg,
                       const char *csv)
{
    int rc = 0;
    if (json && write_report(m->command, json, modes_json_cb, m) < 0)
        rc = 1;
    if (svg && write_report(m->command, svg, modes_svg_cb, m) < 0)
        rc = 1;
    if (csv && write_report(m->command, csv, modes_csv_cb, m) < 0)
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
    rc = px_lab_run(&cfg, res, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "portex lab: %s\n", err);
        return 1;
    }
    px_lab_report_text(text_stream(cfg.json_path, cfg.csv_path, cfg.svg_path), &cfg, res);
    struct modes_ref m = {"lab", res, cfg.nmodes};
    int out = write_modes(&m, cfg.json_path, cfg.svg_path, cfg.csv_path);
    /* Interrupted: what finished was reported; say so in the exit code. */
    return rc == 1 ? 130 : out;
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
        px_config_release(&cfg.base);
        return 2;
    }
    rc = prepare_load("compare", &cfg.base);
    if (rc == 0) {
        rc = px_compare_run(&cfg, res, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "portex compare: %s\n", err);
            rc = rc == -2 ? 2 : 1;
        } else {
            const struct px_config *b = &cfg.base;
            px_compare_report_text(text_stream(b->json_path, b->csv_path, b->svg_path), &cfg, res);
            struct modes_ref m = {"compare", res, cfg.nmodes};
            int out = write_modes(&m, b->json_path, b->svg_path, b->csv_path);
            rc = rc == 1 ? 130 : out;
        }
    }
    px_config_release(&cfg.base);
    return rc;
}

struct doctor_ref {
    const struct px_doctor_config *cfg;
    const struct px_doctor *d;
};

static void doctor_json_cb(FILE *f, const void *arg)
{
    const struct doctor_ref *r = arg;
    px_doctor_report_json(f, r->cfg, r->d);
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
    px_doctor_report_text(text_stream(cfg.json_path, NULL, NULL), &cfg, &d);
    struct doctor_ref ref = {&cfg, &d};
    if (cfg.json_path && write_report("doctor", cfg.json_path, doctor_json_cb, &ref) < 0)
        return 1;
    return unreachable ? 1 : 0;
}

static int cmd_serve(int argc, char **argv)
{
    struct px_server_config cfg;
    char err[512];
    int rc = px_cli_parse_serve(argc, argv, &cfg, err, sizeof(err));
    if (rc == PX_CLI_HELP)
        return 0;
    if (rc != PX_CLI_OK) {
        fprintf(stderr, "portex serve: %s\n", err);
        return 2;
    }
    struct px_tls_server_opts tls_opts = {
        .cert_file = cfg.tls_cert, .key_file = cfg.tls_key, .write_cert = cfg.tls_write};
    if (cfg.tls_enabled && (cfg.tls = px_tls_server_new(&tls_opts, err, sizeof(err))) == NULL) {
        fprintf(stderr, "portex serve: %s\n", err);
        return 1;
    }
    sigset_t stop_set;
    px_block_stop_signals(&stop_set, NULL);

    struct px_server *srv = px_server_new(&cfg, err, sizeof(err));
    if (srv == NULL || px_server_start(srv, err, sizeof(err)) < 0) {
        char where[80];
        px_sockaddr_str((struct sockaddr *)&cfg.addr, where, sizeof(where));
        fprintf(stderr, "portex serve: %s on %s\n", err, where);
        px_server_free(srv);
        px_tls_free(cfg.tls);
        return 1;
    }
    struct sockaddr_storage bound;
    px_server_address(srv, &bound);
    char where[80];
    px_sockaddr_str((struct sockaddr *)&bound, where, sizeof(where));
    fprintf(stderr, "portex serve: listening on %s%s (%u threads)\n", where,
            cfg.tls ? " with TLS" : "", cfg.threads);

    int sig;
    sigwait(&stop_set, &sig);
    px_server_stop(srv);
    uint64_t accepted, requests;
    px_server_counts(srv, &accepted, &requests);
    printf("{\"accepted\": %llu, \"requests\": %llu}\n", (unsigned long long)accepted,
           (unsigned long long)requests);
    fflush(stdout);
    px_server_free(srv);
    px_tls_free(cfg.tls);
    return 0;
}

int main(int argc, char **argv)
{
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
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("portex %s\n", PORTEX_VERSION);
        return 0;
    }
    fprintf(stderr,
            "portex: unknown command '%s': expected run, serve, compare, lab or doctor (see portex "
            "--help)\n",
            cmd);
    return 2;
}
