/* SPDX-License-Identifier: MIT */
/*
 * The lab's processes inside their namespaces. Each starts the same way: it
 * dies with the lab (PR_SET_PDEATHSIG), unshares a network namespace, and
 * says 'R'; after the parent joined the namespaces with veth pairs and said
 * 'G', it sets up its side and says 'L' (server, middle) or waits for a
 * second 'G' and runs (client). Every sysctl is written inside the process's
 * own namespace, never the host's.
 */
#include "portex/cmd/lab_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "portex/base/stop.h"
#include "portex/base/url.h"
#include "portex/cmd/child.h"
#include "portex/cmd/lab_nginx.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"
#include "portex/kernel/nft.h"
#include "portex/kernel/sock.h"
#include "portex/load/result.h"
#include "portex/load/run.h"
#include "portex/load/server.h"
#include "portex/report/run_report.h"

/* Two namespaces: one /24 on one veth pair. */
#define PAIR_CLIENT_IP "198.18.0.1"
#define PAIR_SERVER_IP "198.18.0.2"
#define HOST_IP        31u /* client host i of a hosts mode: 198.18.0.(31 + i) */
#define SOURCE_IP      10u /* extra source address i of a sources mode: 198.18.0.(10 + i) */
/* Three: client 198.18.1.1 -> middle 198.18.1.254 | 198.18.2.254 (.253) -> server 198.18.2.1 */
#define MID_CLIENT_IP "198.18.1.1"
#define MID_GW_IP     "198.18.1.254" /* the middle toward the client: gateway and proxy */
#define MID_OUT_IP    "198.18.2.254" /* the middle toward the server: the NAT's address */
#define MID_OUT2_IP   "198.18.2.253" /* the NAT's second address */
#define MID_SERVER_IP "198.18.2.1"
#define SERVER_PORT   80u

void px_lab_topo(const struct px_mode *m, struct px_lab_topo *t)
{
    if (m->middle == PX_MIDDLE_NONE) {
        *t = (struct px_lab_topo){.client_ip = PAIR_CLIENT_IP,
                                  .server_ip = PAIR_SERVER_IP,
                                  .target_ip = PAIR_SERVER_IP,
                                  .path = "over veth"};
        return;
    }
    *t = (struct px_lab_topo){.client_ip = MID_CLIENT_IP,
                              .server_ip = MID_SERVER_IP,
                              .target_ip = m->middle == PX_MIDDLE_PROXY ? MID_GW_IP : MID_SERVER_IP,
                              .path = m->middle == PX_MIDDLE_PROXY ? "through nginx at " MID_GW_IP
                                                                   : "through a source NAT"};
}

unsigned px_lab_hosts(const struct px_mode *m)
{
    unsigned n = m->hosts > 1 ? m->hosts : 1;
    return n < PX_LAB_MAX_HOSTS ? n : PX_LAB_MAX_HOSTS;
}

unsigned px_lab_connections(const struct px_lab_config *lab, const struct px_mode *m)
{
    if (m->connections_per_nat)
        return m->connections_per_nat * lab->nat_ports * (m->nat_addrs > 1 ? m->nat_addrs : 1);
    return m->connections ? m->connections : lab->connections;
}

unsigned px_lab_proxy_reuse_delay(const struct px_lab_config *lab, const struct px_mode *m)
{
    if (!m->proxy_reuse || access(PX_PROC "/sys/net/ipv4/tcp_tw_reuse_delay", F_OK) != 0)
        return 0;
    return lab->reuse_delay_ms > 0 ? (unsigned)lab->reuse_delay_ms : m->proxy_reuse_delay_ms;
}

static uint32_t ip4(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

static int set_sysctl(const char *name, int64_t v)
{
    return px_sysctl_write_int(PX_PROC, name, v);
}

/* This namespace's ephemeral range: PX_LAB_PORT_LO and n ports. */
static int set_port_range(unsigned n)
{
    char range[32];
    snprintf(range, sizeof(range), "%u %u", PX_LAB_PORT_LO, PX_LAB_PORT_LO + n - 1);
    FILE *f = fopen(PX_PROC "/sys/net/ipv4/ip_local_port_range", "w");
    if (f == NULL || fputs(range, f) < 0)
        return f ? (fclose(f), -1) : -1;
    return fclose(f) == 0 ? 0 : -1;
}

/* Address and link up, or the child fails naming what. */
static void if_up(const struct px_lab_proc *p, const char *ifname, const char *ip, const char *what)
{
    int rc = px_rtnl_addr_add4(ifname, ip4(ip), 24);
    if (rc == 0)
        rc = px_rtnl_link_up(ifname);
    if (rc < 0)
        px_child_fail(p->up_fd, what, -rc);
}

/* Common start: die with the lab, a namespace of its own, 'R', then wait for 'G'. */
static void enter(const struct px_lab_proc *p, int flags)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != p->parent) /* the lab died before the line above */
        _exit(3);
    if (unshare(flags) < 0)
        px_child_fail(p->up_fd, "unshare(CLONE_NEWNET)", errno);
    px_child_send(p->up_fd, 'R');
    if (px_child_read_byte(p->down_fd) != 'G')
        _exit(3);
}

/* Until the parent's SIGTERM (blocked since main(), as in every process of portex). */
static void wait_stop(void)
{
    sigset_t stop_set;
    px_stop_set(&stop_set);
    while (!px_stop_wait(&stop_set, NULL))
        ;
}

/* ---- server --------------------------------------------------------------- */

static void server_net(const struct px_lab_proc *p)
{
    const struct px_mode *m = p->mode;
    if (m->middle != PX_MIDDLE_NONE) {
        if_up(p, PX_LAB_SERVER_IF, MID_SERVER_IP, "server veth");
    } else if (px_lab_hosts(m) <= 1) {
        if_up(p, PX_LAB_SERVER_IF, PAIR_SERVER_IP, "server veth");
    }
    /* Several client hosts: one veth each, the server address on every one
     * with the client as its point-to-point peer (the route back). */
    for (unsigned i = 0; px_lab_hosts(m) > 1 && i < px_lab_hosts(m); i++) {
        char ifname[24], peer[32];
        snprintf(ifname, sizeof(ifname), PX_LAB_SERVER_IF "%u", i);
        snprintf(peer, sizeof(peer), "198.18.0.%u", HOST_IP + i);
        int rc = px_rtnl_addr_add4_peer(ifname, ip4(PAIR_SERVER_IP), ip4(peer));
        if (rc == 0)
            rc = px_rtnl_link_up(ifname);
        if (rc < 0)
            px_child_fail(p->up_fd, "server veth", -rc);
    }
    if (set_sysctl("net.ipv4.tcp_timestamps", m->server_timestamps) < 0)
        px_child_fail(p->up_fd, "server tcp_timestamps", errno);
}

void px_lab_server_main(const struct px_lab_proc *p)
{
    enter(p, CLONE_NEWNET);
    server_net(p);
    struct px_lab_topo t;
    px_lab_topo(p->mode, &t);
    /* With target ports, one server per port (80, 81, ...). */
    struct px_server *srv[8] = {NULL};
    unsigned n = p->mode->target_ports > 1 ? p->mode->target_ports : 1;
    for (unsigned i = 0; i < n && i < 8; i++) {
        struct px_server_config sc = {
            .threads = 1, .body_bytes = 13, .delay_us = (uint64_t)p->mode->server_delay_ms * 1000};
        char err[256], where[64];
        snprintf(where, sizeof(where), "%s:%u", t.server_ip, SERVER_PORT + i);
        px_addr_parse(where, &sc.addr, &sc.addr_len, err, sizeof(err));
        srv[i] = px_server_new(&sc, err, sizeof(err));
        if (srv[i] == NULL || px_server_start(srv[i], err, sizeof(err)) < 0)
            px_child_fail(p->up_fd, "server listen", errno);
    }
    px_child_send(p->up_fd, 'L');
    wait_stop();
    for (unsigned i = 0; i < n && i < 8; i++)
        px_server_free(srv[i]);
    _exit(0);
}

/* ---- client --------------------------------------------------------------- */

/* Its address(es), the veth up, a route through a middle, and the mode's sysctls. */
static void client_net(const struct px_lab_proc *p)
{
    const struct px_mode *m = p->mode;
    const struct px_lab_config *lab = p->lab;
    char ip[32] = PAIR_CLIENT_IP;
    if (m->middle != PX_MIDDLE_NONE)
        snprintf(ip, sizeof(ip), MID_CLIENT_IP);
    else if (px_lab_hosts(m) > 1)
        snprintf(ip, sizeof(ip), "198.18.0.%u", HOST_IP + p->host);
    int rc = px_rtnl_addr_add4(PX_LAB_CLIENT_IF, ip4(ip), 24);
    for (unsigned i = 1; rc == 0 && i < m->sources; i++) {
        char extra[32];
        snprintf(extra, sizeof(extra), "198.18.0.%u", SOURCE_IP + i);
        rc = px_rtnl_addr_add4(PX_LAB_CLIENT_IF, ip4(extra), 24);
    }
    if (rc == 0)
        rc = px_rtnl_link_up(PX_LAB_CLIENT_IF);
    /* Behind a middle the server's subnet is reached through it. */
    if (rc == 0 && m->middle != PX_MIDDLE_NONE)
        rc = px_rtnl_route_add4(0, 0, ip4(MID_GW_IP));
    if (rc < 0)
        px_child_fail(p->up_fd, "client network", -rc);
    /* Behind a middle, --ports belongs to the proxy and the NAT has its own: the
     * client keeps its namespace's default range, which never runs out here. */
    if (m->middle == PX_MIDDLE_NONE && set_port_range(lab->ports) < 0)
        px_child_fail(p->up_fd, "client ip_local_port_range", errno);
    if (m->client_reuse >= 0 && set_sysctl("net.ipv4.tcp_tw_reuse", m->client_reuse) < 0)
        px_child_fail(p->up_fd, "client tcp_tw_reuse", errno);
    int delay = m->reuse_delay_ms     ? m->reuse_delay_ms
                : m->client_reuse > 0 ? lab->reuse_delay_ms
                                      : 0;
    if (delay && set_sysctl("net.ipv4.tcp_tw_reuse_delay", delay) < 0)
        px_child_fail(p->up_fd, "client tcp_tw_reuse_delay", errno);
}

/* The client's source addresses: a sources mode's, or its own for a bind() first. */
static void client_sources(const struct px_mode *m, struct px_load *cfg)
{
    if (m->bind_first) {
        px_ip_parse(PAIR_CLIENT_IP, &cfg->sources[cfg->nsources++]);
        return;
    }
    for (unsigned i = 0; m->sources > 1 && i < m->sources; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "198.18.0.%u", i ? SOURCE_IP + i : 1);
        px_ip_parse(ip, &cfg->sources[cfg->nsources++]);
    }
}

void px_lab_client_load(const struct px_lab_config *lab, const struct px_mode *m,
                        struct px_load *cfg)
{
    struct px_lab_topo t;
    px_lab_topo(m, &t);
    px_load_defaults(cfg);
    snprintf(cfg->url_text, sizeof(cfg->url_text), "http://%s/", t.target_ip);
    char err[256];
    px_url_parse(cfg->url_text, &cfg->url, err, sizeof(err));
    if (px_url_resolve_all(&cfg->url, AF_UNSPEC, cfg->addrs, 1, err, sizeof(err)) == 1)
        cfg->naddrs = 1; /* a numeric address: nothing to probe */
    cfg->target = cfg->addrs[0].ss;
    cfg->target_len = cfg->addrs[0].len;
    cfg->threads = 1;
    cfg->connections = px_lab_connections(lab, m);
    cfg->rate_per_s = m->closed_model ? 0 : lab->rate_per_s;
    cfg->duration_ms = lab->duration_ms;
    cfg->keepalive = m->keepalive;
    cfg->close = m->close;
    cfg->requests_per_conn = m->requests_per_conn;
    cfg->http2 = m->http2;
    cfg->streams = m->streams ? m->streams : 1;
    cfg->target_ports = m->target_ports;
    cfg->bind_first = m->bind_first;
    /* About 20 rows per mode: the chart should show the moment ports run out. */
    cfg->interval_ms = lab->duration_ms / 20;
    if (cfg->interval_ms < 100)
        cfg->interval_ms = 100;
    if (cfg->interval_ms > 1000)
        cfg->interval_ms = 1000;
    /* Short timeouts: a lab mode lasts seconds, and the veth drops nothing. Through a
     * NAT a dropped SYN is the sign, and a connect timeout of exactly the first SYN
     * retransmit (1 s) would race it: 1.5 s lets each one show as TCPSynRetrans. */
    cfg->connect_timeout_ms = m->middle == PX_MIDDLE_NAT ? 1500 : 1000;
    cfg->timeout_ms = m->middle == PX_MIDDLE_NAT ? 2500 : 2000;
    client_sources(m, cfg);
}

/* The result crosses the pipe as data with no pointers: the mergeable result
 * format (README.md, Result format), decoded by the parent. */
static void send_result(const struct px_lab_proc *p, const struct px_run *run)
{
    json_t *doc = px_report_json_doc(run, "run");
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (text == NULL)
        px_child_fail(p->up_fd, "client result", ENOMEM);
    uint64_t len = strlen(text);
    px_child_send(p->up_fd, 'D');
    if (px_child_write_all(p->up_fd, &len, sizeof(len)) < 0 ||
        px_child_write_all(p->up_fd, text, len) < 0)
        _exit(3);
}

void px_lab_client_main(const struct px_lab_proc *p)
{
    enter(p, CLONE_NEWNET);
    client_net(p);
    unsigned hosts = px_lab_hosts(p->mode);
    int64_t start_at = 0;
    if (px_child_read_byte(p->down_fd) != 'G' || /* the server listens */
        (hosts > 1 && px_child_read_all(p->down_fd, &start_at, sizeof(start_at)) < 0))
        _exit(3);
    static struct px_load load;
    px_lab_client_load(p->lab, p->mode, &load);
    char err[256];
    if (hosts > 1) { /* shard `host` of one run, as `portex run --shard` */
        load.shard = p->host;
        load.shards = hosts;
        load.start_at_ns = start_at;
        if (px_load_apply_shard(&load, err, sizeof(err)) < 0)
            px_child_fail(p->up_fd, err, EINVAL);
    }
    uint64_t soft, hard;
    px_sock_raise_nofile(&soft, &hard);
    /* SIGINT from the parent stops the run early; it still reports. */
    struct px_run *run = px_run_new(&load);
    struct px_stats_opts opts = {.row_hists = 1}; /* quiet: the parent prints progress */
    /* Each tick to the lab's metrics process (a shard's own labels under hosts). */
    px_metrics_begin(p->live->metrics, p->live->label, &load);
    px_metrics_hook(p->live->metrics, &opts, run);
    if (run == NULL || px_run_execute(run, &opts, err, sizeof(err)) < 0)
        px_child_fail(p->up_fd, run ? err : "client run", run ? EIO : ENOMEM);
    send_result(p, run);
    /* The namespace lives on until the parent has read its counters (/proc/PID/net
     * of a process that exited reads nothing): it says 'Q', or goes. */
    px_child_read_byte(p->down_fd);
    _exit(0);
}

/* ---- middle --------------------------------------------------------------- */

/* The source NAT: forwarding on, the ruleset through libnftables, made here (after
 * unshare) so that it lands in this namespace only. */
static void middle_nat(const struct px_lab_proc *p)
{
    const struct px_mode *m = p->mode;
    if (set_sysctl("net.ipv4.ip_forward", 1) < 0)
        px_child_fail(p->up_fd, "middle ip_forward", errno);
    struct px_nft_snat s = {.oifname = PX_LAB_MIDDLE_S_IF,
                            .port_lo = PX_LAB_PORT_LO,
                            .port_hi = (uint16_t)(PX_LAB_PORT_LO + p->lab->nat_ports - 1),
                            .addrs = {MID_OUT2_IP, MID_OUT_IP},
                            .naddrs = m->nat_addrs > 1 ? 2 : 1,
                            .flags = m->nat_flags};
    char rules[1024], err[PX_CHILD_MSG_MAX];
    if (px_nft_snat_rules(&s, rules, sizeof(rules)) < 0 || px_nft_load(rules, err, sizeof(err)) < 0)
        px_child_fail_text(p->up_fd, err);
}

/* nginx with the proxy's port range and reuse; its pid, or the child fails. */
static pid_t middle_proxy(const struct px_lab_proc *p)
{
    const struct px_mode *m = p->mode;
    if (set_port_range(p->lab->proxy_ports) < 0)
        px_child_fail(p->up_fd, "middle ip_local_port_range", errno);
    if (set_sysctl("net.ipv4.tcp_tw_reuse", m->proxy_reuse) < 0)
        px_child_fail(p->up_fd, "middle tcp_tw_reuse", errno);
    unsigned delay = px_lab_proxy_reuse_delay(p->lab, m);
    if (delay && set_sysctl("net.ipv4.tcp_tw_reuse_delay", delay) < 0)
        px_child_fail(p->up_fd, "middle tcp_tw_reuse_delay", errno);
    uint64_t soft, hard;
    px_sock_raise_nofile(&soft, &hard); /* nginx inherits it */
    char err[PX_CHILD_MSG_MAX], up[32];
    snprintf(up, sizeof(up), MID_SERVER_IP ":%u", SERVER_PORT);
    struct px_nginx_conf c = {.dir = PX_NGINX_DIR,
                              .listen = MID_GW_IP ":80",
                              .upstream = up,
                              .http11 = m->upstream_http11,
                              .keepalive = m->upstream_keepalive};
    if (px_nginx_private_tmp(err, sizeof(err)) < 0)
        px_child_fail_text(p->up_fd, err);
    pid_t pid = px_nginx_start(p->nginx, &c, err, sizeof(err));
    if (pid < 0)
        px_child_fail_text(p->up_fd, err);
    return pid;
}

void px_lab_middle_main(const struct px_lab_proc *p)
{
    enter(p, CLONE_NEWNET);
    int rc = px_rtnl_link_up("lo");
    if (rc < 0)
        px_child_fail(p->up_fd, "middle lo", -rc);
    if_up(p, PX_LAB_MIDDLE_C_IF, MID_GW_IP, "middle veth (client side)");
    /* The NAT's first address is the interface's primary (what masquerade takes);
     * a second one must be there too, or nobody answers ARP for it. */
    if_up(p, PX_LAB_MIDDLE_S_IF, MID_OUT_IP, "middle veth (server side)");
    if (p->mode->nat_addrs > 1 &&
        (rc = px_rtnl_addr_add4(PX_LAB_MIDDLE_S_IF, ip4(MID_OUT2_IP), 24)) < 0)
        px_child_fail(p->up_fd, "middle second NAT address", -rc);
    pid_t nginx = -1;
    if (p->mode->middle == PX_MIDDLE_NAT)
        middle_nat(p);
    else
        nginx = middle_proxy(p);
    px_child_send(p->up_fd, 'L');
    wait_stop();
    px_nginx_stop(nginx);
    _exit(0);
}
