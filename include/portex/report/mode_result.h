/* SPDX-License-Identifier: MIT */
/*
 * One mode of a lab or compare as its reports see it: name, settings in
 * words, the run it made, the prediction, and in the lab what each namespace
 * measured and the rule of its middle.
 */
#ifndef PORTEX_MODE_RESULT_H
#define PORTEX_MODE_RESULT_H

#include "portex/kernel/middle.h"

#define PX_MAX_MODES 32 /* modes in one lab or compare */

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
    double tolerance; /* verdict on predicted_ok: "matches" within this share (0: 15%) */
    /* lab: what sat between client and server, what every namespace measured, and,
     * for a mode through a middle, the rule it was judged by (then `judged`) */
    struct px_middle_settings middle;
    struct px_middle_figures fig;
    int judged;
    struct px_judgement judgement;
};

#endif
