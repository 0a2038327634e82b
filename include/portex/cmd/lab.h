/* SPDX-License-Identifier: MIT */
/*
 * portex lab: each mode in a fresh pair of network namespaces (client and
 * server, joined by a veth pair on 198.18.0.0/15), sysctls set per side, the
 * built-in server on one end and the engine on the other. The namespaces are
 * anonymous and held by child processes, so the kernel removes them, veth
 * included, when those exit, even after SIGKILL. The host is never written.
 */
#ifndef PORTEX_LAB_H
#define PORTEX_LAB_H

#include <stddef.h>
#include <stdint.h>

#include "portex/load/result.h"

#define PX_LAB_MAX_MODES 8

/* What one mode sets, on top of fresh-namespace defaults. */
struct px_lab_mode {
    const char *name;
    const char *what; /* the settings in words, for the table */
    int keepalive;
    enum px_close close;
    int client_reuse;      /* net.ipv4.tcp_tw_reuse in the client namespace; -1 = leave */
    int server_timestamps; /* net.ipv4.tcp_timestamps in the server namespace */
    int reuse_delay_ms;    /* tcp_tw_reuse_delay in the client namespace, 0 = default */
    unsigned sources;      /* client addresses used with --source, 0 = one */
};

struct px_lab_config {
    unsigned ports; /* client port range size */
    double rate_per_s;
    uint64_t duration_ms; /* per mode */
    unsigned connections; /* in-flight cap */
    int reuse_delay_ms;   /* --reuse-delay for the reuse modes, 0 = kernel default */
    const struct px_lab_mode *modes[PX_LAB_MAX_MODES];
    size_t nmodes;
    const char *json_path, *svg_path, *csv_path;
    int quiet;
};

/* One mode's outcome. */
struct px_lab_result {
    const struct px_lab_mode *mode;
    int ran; /* 0: skipped (reason in note) or interrupted before */
    char note[160];
    struct px_config cfg; /* the run's config, as the client used it */
    struct px_run run;
    double predicted_ok;
    const char *isolation; /* compare: "port-window", "source", "drain", "none",
                              "as-given" (first mode); NULL in lab */
    double waited_s;       /* compare: time spent waiting for TIME_WAIT before this mode */
};

/* A comma-separated list of names from table into out. 0, or -1 with err naming the choices. */
int px_mode_list_parse(const char *list, const struct px_lab_mode *table, size_t ntable,
                       const struct px_lab_mode **out, size_t *nout, char *err, size_t errlen);
/* "noreuse,reuse,..." into cfg->modes ("all" for every mode). 0, or -1 with err. */
int px_lab_parse_modes(const char *list, struct px_lab_config *cfg, char *err, size_t errlen);
/* Clears res for mode. 1 when the mode should run; 0 (noted "not run") when interrupted. */
int px_lab_result_start(struct px_lab_result *res, const struct px_lab_mode *mode, int stopped);
/* Defaults: 1000 ports, 2000/s, 10 s, the four default modes. */
void px_lab_defaults(struct px_lab_config *cfg);
/*
 * Runs every mode; results[i] for cfg->modes[i]. 0 when all ran, 1 when
 * interrupted (what ran is filled), -1 with err when the lab cannot start.
 */
int px_lab_run(const struct px_lab_config *cfg, struct px_lab_result *results, char *err,
               size_t errlen);
/* The table: one row per mode, predicted beside measured. */
void px_lab_report_table(FILE *f, const struct px_lab_result *results, size_t n);
/* Table and plain sentences for a person. */
void px_lab_report_text(FILE *f, const struct px_lab_config *cfg,
                        const struct px_lab_result *results);
/* {"command": "lab", "modes": [...]} */
void px_lab_report_json(FILE *f, const char *command, const struct px_lab_result *results,
                        size_t n);

#endif
