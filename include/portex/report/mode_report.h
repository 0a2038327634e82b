/* SPDX-License-Identifier: MIT */
/*
 * One mode of a lab or compare as its reports see it (name, settings in
 * words, the run it made, the prediction), and the reports of several modes:
 * the table, JSON, SVG and CSV.
 */
#ifndef PORTEX_MODE_REPORT_H
#define PORTEX_MODE_REPORT_H

#include <stddef.h>
#include <stdio.h>

#define PX_MAX_MODES 16 /* modes in one lab or compare */

struct px_run;

/* One mode's outcome. */
struct px_mode_result {
    const char *name;      /* the mode's name ("noreuse") */
    const char *what;      /* its settings in words, for the table */
    int server_timestamps; /* lab: the server's net.ipv4.tcp_timestamps; -1: left as it is */
    int ran;               /* 0: skipped (reason in note) or interrupted before */
    char note[160];
    struct px_run *run; /* what ran, with the load it ran (owned by whoever filled it); NULL
                         * when it did not run */
    double predicted_ok;
    const char *isolation; /* compare: "port-window", "source", "drain", "none",
                              "as-given" (first mode); NULL in lab */
    double waited_s;       /* compare: time spent waiting for TIME_WAIT before this mode */
    /* compare: what was found in the ports before this mode (windows passed over for their
     * TIME_WAIT, or TIME_WAIT it had to wait for or, with --no-drain, ran with); "" none */
    char isolation_note[256];
};

/* The table: one row per mode, predicted beside measured. */
void px_mode_report_table(FILE *f, const struct px_mode_result *res, size_t n);
/* {"command": ..., "modes": [...]} */
void px_mode_report_json(FILE *f, const char *command, const struct px_mode_result *res, size_t n);
/* One chart panel per mode that ran. */
void px_mode_report_svg(FILE *f, const char *command, const struct px_mode_result *res, size_t n);
/* Every mode's series as CSV, each after a "# mode NAME" line. */
void px_mode_report_csv(FILE *f, const struct px_mode_result *res, size_t n);

#endif
