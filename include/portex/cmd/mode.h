/* SPDX-License-Identifier: MIT */
/*
 * Modes: the named settings that lab and compare run one after the other
 * (keep-alive, server closes, tcp_tw_reuse 0/1, ...), their tables, the
 * --modes list parser; the per-mode result and its reports are in
 * report/mode_report.h.
 */
#ifndef PORTEX_CMD_MODE_H
#define PORTEX_CMD_MODE_H

#include <stddef.h>
#include <stdio.h>

#include "portex/kernel/middle.h"
#include "portex/load/load.h"
#include "portex/report/mode_report.h"

/* What one mode sets, on top of the command's load. */
struct px_mode {
    const char *name;
    const char *what; /* the settings in words, for the table */
    int is_default;   /* in the command's default list */
    int keepalive;
    enum px_close close;
    int client_reuse;      /* net.ipv4.tcp_tw_reuse on the client side; -1 = leave */
    int server_timestamps; /* lab: net.ipv4.tcp_timestamps of the server; -1 = leave */
    int reuse_delay_ms;    /* lab: tcp_tw_reuse_delay of the client, 0 = default */
    unsigned sources;      /* lab: client addresses used with --source, 0 = one */
    unsigned hosts;        /* lab: client hosts (namespaces) sharding one run, merged; 0 = one */
    /* keep-alive with N requests per connection, then the close above; 0 = no limit */
    unsigned requests_per_conn;
    int http2;        /* HTTP/2 (h2c, or h2 by ALPN over https://), with keepalive: */
    unsigned streams; /* requests at once per connection */

    /* lab: a middle namespace between client and server (kernel/middle.h) */
    enum px_middle middle;
    enum px_middle_rule rule;      /* how the mode is judged; PX_RULE_NONE: the port ceiling */
    unsigned nat_addrs;            /* NAT: 2 alternates two addresses per new flow */
    const char *nat_flags;         /* NAT: nft's flags ("fully-random"), NULL none */
    int upstream_http11;           /* proxy: HTTP/1.1 upstream, Connection "" */
    unsigned upstream_keepalive;   /* proxy: idle upstream connections nginx keeps */
    int proxy_reuse;               /* proxy: the middle's tcp_tw_reuse */
    unsigned proxy_reuse_delay_ms; /* proxy: its tcp_tw_reuse_delay unless --reuse-delay (6.14+) */
    /* lab: the load of a mode that differs from the lab's */
    unsigned connections;         /* -c of this mode; 0: the lab's -c */
    unsigned connections_per_nat; /* -c = this x NAT ports x NAT addresses; 0: not so */
    int closed_model;             /* no -r: every slot starts at once and stays busy */
    unsigned server_delay_ms;     /* serve --delay: a service time per request */
    unsigned target_ports;        /* the server listens on this many ports, the client spreads */
    int bind_first;               /* the client binds (addr, 0) before connect() */
};

/* The modes of `portex lab` and of `portex compare`. */
extern const struct px_mode px_lab_modes[];
extern const size_t px_lab_nmodes;
extern const struct px_mode px_compare_modes[];
extern const size_t px_compare_nmodes;
/* compare --control unix:PATH: the short load over the server's Unix socket. */
extern const struct px_mode px_compare_control_mode;

/*
 * A comma-separated list of names from table into out ("all" for the whole
 * table when allow_all). 0, or -1 with err naming the choices.
 */
int px_mode_list_parse(const char *list, const struct px_mode *table, size_t ntable, int allow_all,
                       const struct px_mode **out, size_t *nout, char *err, size_t errlen);
/*
 * The default list of table into out: the rows marked is_default, and with
 * allow_sysctl the rows that set tcp_tw_reuse. Returns the count.
 */
size_t px_mode_defaults(const struct px_mode *table, size_t ntable, int allow_sysctl,
                        const struct px_mode **out);

/*
 * The label of modes[i] in live metrics: its name, or "name#k" for the k-th
 * time the name comes in the list (--modes short,short), so that each run of a
 * mode has counters of its own that never go back.
 */
void px_mode_label(const struct px_mode *const *modes, size_t i, char *out, size_t outlen);
/* Clears res for mode. 1 when the mode should run; 0 (noted "not run") when interrupted. */
int px_mode_result_start(struct px_mode_result *res, const struct px_mode *mode, int stopped);
/* Frees what the results own (their runs). */
void px_mode_results_free(struct px_mode_result *res, size_t n);
/* The last line of a lab or compare text report that a signal cut short. */
void px_mode_note_interrupted(FILE *f);

#endif
