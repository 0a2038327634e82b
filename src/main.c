/* SPDX-License-Identifier: MIT */
/* portex entry point: dispatches commands and owns exit codes (0 ok, 1 runtime, 2 usage). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/cli.h"
#include "portex/config.h"
#include "portex/engine.h"
#include "portex/lab.h"
#include "portex/report.h"
#include "portex/result.h"
#include "portex/run.h"
#include "portex/server.h"
#include "portex/svg.h"
#include "portex/url.h"

static const char main_usage[] =
    "usage: portex COMMAND [options]\n"
    "\n"
    "A short-connection HTTP load generator that shows ephemeral port exhaustion.\n"
    "\n"
    "  run URL        one load run; short connections unless -k\n"
    "  serve          the built-in HTTP target\n"
    "  lab            reproduce port exhaustion in fresh network namespaces\n"
    "\n"
    "portex COMMAND --help for the options of each command.\n";

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
    if (px_url_resolve(&cfg.url, &cfg.target, &cfg.target_len, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex run: %s\n", err);
        px_config_release(&cfg);
        return 1;
    }
    if (px_engine_preflight(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex run: %s\n", err);
        px_config_release(&cfg);
        return 2;
    }
    uint64_t soft, hard;
    unsigned fit = px_engine_fit_nofile(cfg.connections, &soft, &hard);
    if (fit < cfg.connections) {
        fprintf(stderr,
                "portex run: -c %u does not fit the open-files limit (soft %llu, hard %llu); "
                "running with -c %u (raise 'ulimit -n' for more)\n",
                cfg.connections, (unsigned long long)soft, (unsigned long long)hard, fit);
        cfg.connections = fit;
    }
    if (cfg.threads > cfg.connections)
        cfg.threads = cfg.connections;

    static struct px_run run;
    if (px_run_execute(&cfg, &run, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex run: %s\n", err);
        px_config_release(&cfg);
        return 1;
    }
    int machine_stdout = (cfg.json_path && strcmp(cfg.json_path, "-") == 0) ||
                         (cfg.csv_path && strcmp(cfg.csv_path, "-") == 0);
    px_report_text(machine_stdout ? stderr : stdout, &run);
    rc = 0;
    if (cfg.json_path && write_report("run", cfg.json_path, json_cb, &run) < 0)
        rc = 1;
    if (cfg.csv_path && write_report("run", cfg.csv_path, csv_cb, &run) < 0)
        rc = 1;
    px_series_free(&run.series);
    px_config_release(&cfg);
    return rc;
}

static void lab_json_cb(FILE *f, const void *arg)
{
    const struct px_lab_config *cfg = ((const void *const *)arg)[0];
    const struct px_lab_result *res = ((const void *const *)arg)[1];
    px_lab_report_json(f, "lab", res, cfg->nmodes);
}

static void lab_svg_cb(FILE *f, const void *arg)
{
    const struct px_lab_config *cfg = ((const void *const *)arg)[0];
    const struct px_lab_result *res = ((const void *const *)arg)[1];
    const struct px_run *runs[PX_LAB_MAX_MODES];
    const char *names[PX_LAB_MAX_MODES];
    size_t n = 0;
    for (size_t i = 0; i < cfg->nmodes; i++) {
        if (!res[i].ran)
            continue;
        runs[n] = &res[i].run;
        names[n++] = res[i].mode->name;
    }
    px_svg_write(f, "portex lab: ok/s, EADDRNOTAVAIL/s and TIME_WAIT per mode", runs, names, n);
}

static void lab_csv_cb(FILE *f, const void *arg)
{
    const struct px_lab_config *cfg = ((const void *const *)arg)[0];
    const struct px_lab_result *res = ((const void *const *)arg)[1];
    for (size_t i = 0; i < cfg->nmodes; i++) {
        if (!res[i].ran)
            continue;
        fprintf(f, "# mode %s\n", res[i].mode->name);
        px_report_csv(f, &res[i].run.series);
    }
}

static int cmd_lab(int argc, char **argv)
{
    static struct px_lab_config cfg;
    static struct px_lab_result res[PX_LAB_MAX_MODES];
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
    int json_stdout = cfg.json_path && strcmp(cfg.json_path, "-") == 0;
    px_lab_report_text(json_stdout ? stderr : stdout, &cfg, res);
    const void *arg[2] = {&cfg, res};
    int out = 0;
    if (cfg.json_path && write_report("lab", cfg.json_path, lab_json_cb, arg) < 0)
        out = 1;
    if (cfg.svg_path && write_report("lab", cfg.svg_path, lab_svg_cb, arg) < 0)
        out = 1;
    if (cfg.csv_path && write_report("lab", cfg.csv_path, lab_csv_cb, arg) < 0)
        out = 1;
    for (size_t i = 0; i < cfg.nmodes; i++)
        px_series_free(&res[i].run.series);
    /* Interrupted: what finished was reported; say so in the exit code. */
    return rc == 1 ? 130 : out;
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
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);

    struct px_server *srv = px_server_new(&cfg, err, sizeof(err));
    if (srv == NULL || px_server_start(srv, err, sizeof(err)) < 0) {
        char where[80];
        px_sockaddr_str((struct sockaddr *)&cfg.addr, where, sizeof(where));
        fprintf(stderr, "portex serve: %s on %s\n", err, where);
        px_server_free(srv);
        return 1;
    }
    struct sockaddr_storage bound;
    px_server_address(srv, &bound);
    char where[80];
    px_sockaddr_str((struct sockaddr *)&bound, where, sizeof(where));
    fprintf(stderr, "portex serve: listening on %s (%u threads)\n", where, cfg.threads);

    int sig;
    sigwait(&stop_set, &sig);
    px_server_stop(srv);
    uint64_t accepted, requests;
    px_server_counts(srv, &accepted, &requests);
    printf("{\"accepted\": %llu, \"requests\": %llu}\n", (unsigned long long)accepted,
           (unsigned long long)requests);
    fflush(stdout);
    px_server_free(srv);
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
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("portex %s\n", PORTEX_VERSION);
        return 0;
    }
    fprintf(stderr, "portex: unknown command '%s': expected run, serve or lab (see portex --help)\n",
            cmd);
    return 2;
}
