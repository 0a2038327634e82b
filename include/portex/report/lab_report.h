/* SPDX-License-Identifier: MIT */
/* portex lab's text report. */
#ifndef PORTEX_LAB_REPORT_H
#define PORTEX_LAB_REPORT_H

#include <stddef.h>
#include <stdio.h>

struct px_mode_result;

/* The lab's settings as its report names them. */
struct px_lab_report {
    unsigned ports;        /* client port range size */
    double rate_per_s;     /* offered new requests per second */
    double duration_s;     /* per mode */
    const char *client_ip; /* the client's address on the veth */
    const char *server_ip;
};

/* The table of the n modes, then a sentence on each mode that ran. */
void px_lab_report_text(FILE *f, const struct px_lab_report *lab,
                        const struct px_mode_result *results, size_t n);
/* One mode's sentence (nothing when it did not run): what it measured and the kernel rule
 * behind it, or why the run does not show what the mode is for. */
void px_lab_report_story(FILE *f, const struct px_mode_result *res);

#endif
