/* SPDX-License-Identifier: MIT */
/*
 * The lab's processes, each in a network namespace of its own: the server
 * (portex serve's loops), the client (the engine, its result sent back as
 * data), and in the topology modes a middle between them (a source NAT
 * through nftables, or nginx as a reverse proxy). What each does in there,
 * and where every namespace sits on 198.18.0.0/15.
 */
#ifndef PORTEX_CMD_LAB_PROC_H
#define PORTEX_CMD_LAB_PROC_H

#include <sys/types.h>

#include "portex/cmd/lab_config.h"

/* Interfaces: the client's and the server's end, and the middle's two. */
#define PX_LAB_CLIENT_IF   "portex-c"
#define PX_LAB_SERVER_IF   "portex-s"
#define PX_LAB_MIDDLE_C_IF "portex-m0" /* toward the client */
#define PX_LAB_MIDDLE_S_IF "portex-m1" /* toward the server */
#define PX_LAB_MAX_HOSTS   8u          /* client namespaces of one mode */
#define PX_LAB_PORT_LO     40000u      /* first port of a range the lab sets */

/* Where one mode's namespaces are. */
struct px_lab_topo {
    const char *client_ip; /* the client's address (the first host's) */
    const char *server_ip; /* portex serve's */
    const char *target_ip; /* what the client connects to: the server, or the proxy */
    const char *path;      /* the way between them, in words */
};

/* Live metrics of a mode (--metrics): where its clients' values go, and the mode's label. */
struct px_lab_live {
    struct px_metrics *metrics; /* opened detached (px_metrics_open); NULL without --metrics */
    const char *label;          /* the mode's label there (px_mode_label) */
};

/* What one lab process is told. */
struct px_lab_proc {
    const struct px_lab_config *lab;
    const struct px_mode *mode;
    unsigned host;                  /* client: which of the mode's client hosts */
    pid_t parent;                   /* the lab's pid: a child whose parent changed has lost it */
    const char *nginx;              /* middle of a proxy mode: the nginx binary */
    const struct px_lab_live *live; /* client: where its ticks go (a shard's own labels) */
    int down_fd;                    /* from the parent */
    int up_fd;                      /* to the parent */
};

/* The addresses of m's namespaces. */
void px_lab_topo(const struct px_mode *m, struct px_lab_topo *t);
/* Client hosts (namespaces) sharding m's run, merged as portex merge does. */
unsigned px_lab_hosts(const struct px_mode *m);
/* The in-flight cap of m's client under the lab's settings. */
unsigned px_lab_connections(const struct px_lab_config *lab, const struct px_mode *m);
/*
 * The proxy's tcp_tw_reuse_delay in ms: --reuse-delay, else the mode's; 0 when
 * this kernel has no such sysctl (4.19-6.13 reuse after the next whole second).
 */
unsigned px_lab_proxy_reuse_delay(const struct px_lab_config *lab, const struct px_mode *m);
/* The load m's client runs (one host's, before --shard). */
void px_lab_client_load(const struct px_lab_config *lab, const struct px_mode *m,
                        struct px_load *cfg);

/* In a forked child: the server, until its SIGTERM. */
__attribute__((noreturn)) void px_lab_server_main(const struct px_lab_proc *p);
/* In a forked child: the client's run; its result goes up the pipe. */
__attribute__((noreturn)) void px_lab_client_main(const struct px_lab_proc *p);
/* In a forked child: the middle (NAT or proxy), until its SIGTERM. */
__attribute__((noreturn)) void px_lab_middle_main(const struct px_lab_proc *p);

#endif
