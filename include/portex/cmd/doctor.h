/* SPDX-License-Identifier: MIT */
/*
 * portex doctor: this namespace's port budget and TIME_WAIT settings, what is
 * a trap among them, and for a target, whether it negotiates TCP timestamps
 * (without them tcp_tw_reuse cannot help) and the predicted ceilings.
 */
#ifndef PORTEX_DOCTOR_H
#define PORTEX_DOCTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "portex/base/url.h"
#include "portex/cmd/command.h"
#include "portex/report/doctor_report.h"

struct px_bound_ports;

/* `portex doctor`. */
struct px_doctor_config {
    int has_target;
    char url_text[PX_URL_PATH_MAX + PX_URL_HOST_MAX + 16];
    struct px_url url;
    int family;           /* -4 AF_INET, -6 AF_INET6; AF_UNSPEC: both */
    unsigned connections; /* concurrency the user wants (-c) */
    uint64_t connect_timeout_ms;
    struct px_outputs out; /* --json only */
};

/* Defaults: -c 64, a 3 s connect timeout. */
void px_doctor_config_defaults(struct px_doctor_config *cfg);
/*
 * One connection to addr (the target of url): TCP_INFO, then GET url's path.
 * For https a TLS handshake without verification (doctor describes, it does not
 * judge trust) and a second connection offering the first's session ticket.
 * 0, or -1 with the reason in out (TCP facts still filled when reached).
 */
int px_doctor_probe(const struct sockaddr *addr, socklen_t len, const struct px_url *url,
                    uint64_t timeout_ms, struct px_probe *out);
/*
 * Fills d from the proc tree and the bound ports of this namespace (a sock_diag
 * dump; NULL: unknown), and the probe, already in d->probe and d->addrs when
 * has_target.
 */
void px_doctor_examine(const char *proc, const struct px_doctor_config *cfg,
                       const struct px_bound_ports *bound, struct px_doctor *d);

/* `portex doctor` arguments into cfg: a PX_CLI_ status. */
int px_doctor_parse(int argc, char **argv, struct px_doctor_config *cfg, char *err, size_t errlen);

/* The command's row in main.c's table. */
extern const struct px_command px_doctor_command;

#endif
