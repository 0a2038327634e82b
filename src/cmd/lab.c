/* SPDX-License-Identifier: MIT */
/*
 * portex lab. Per mode: fork a server child and a client child, each of which
 * unshares a network namespace; the parent joins them with a veth pair made
 * over rtnetlink (IFLA_NET_NS_PID puts each end straight into its namespace),
 * each child sets its own sysctls and addresses, the server child serves and
 * the client child runs the engine and sends its result back over a pipe.
 * When the children exit the namespaces and the veth go with them. The
 * parent waits on the pipes with a signalfd beside them (cmd/child.c): a
 * SIGINT or SIGTERM is passed on to the clients, whose runs stop and report.
 */
#include "portex/cmd/lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "portex/base/stop.h"
#include "portex/base/url.h"
#include "portex/cmd/child.h"
#include "portex/cmd/cli.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"
#include "portex/kernel/sock.h"
#include "portex/load/combine.h"
#include "portex/load/result.h"
#include "portex/load/result_decode.h"
#include "portex/load/run.h"
#include "portex/load/server.h"
#include "portex/report/lab_report.h"
#include "portex/report/mode_report.h"
#include "portex/report/run_report.h"

#define CLIENT_IF "portex-c"
#define SERVER_IF "portex-s"
#define CLIENT_IP "198.18.0.1"
#define SERVER_IP "198.18.0.2"
#define PORT_LO   40000u
#define HOST_IP   31u /* client host i of a hosts mode: 198.18.0.(31 + i) */
#define MAX_HOSTS 8u
_Static_assert(MAX_HOSTS <= PX_CHILD_FORWARD_MAX, "every client host is told of a stop");

/* Client hosts (namespaces) sharing one run, merged as portex merge does. */
static unsigned mode_hosts(const struct px_mode *m)
{
    return m->hosts > 1 ? m->hosts : 1;
}

/* ---- children ------------------------------------------------------------ */

static int set_sysctl(const char *name, int64_t v)
{
    return px_sysctl_write_int(PX_PROC, name, v);
}

/* Common start of a child: die with the parent, own namespace, tell the parent. */
static void child_enter(int up_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNET) < 0)
        px_child_fail(up_fd, "unshare(CLONE_NEWNET)", errno);
    px_child_send(up_fd, 'R');
}

static uint32_t ip4(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

static void server_child(const struct px_mode *m, int down_fd, int up_fd)
{
    child_enter(up_fd);
    if (px_child_read_byte(down_fd) != 'G')
        _exit(3);
    int rc;
    if (mode_hosts(m) <= 1 && ((rc = px_rtnl_addr_add4(SERVER_IF, ip4(SERVER_IP), 24)) < 0 ||
                               (rc = px_rtnl_link_up(SERVER_IF)) < 0))
        px_child_fail(up_fd, "server veth", -rc);
    /* Several client hosts: one veth each, the server address on every one
     * with the client as its point-to-point peer (the route back). */
    for (unsigned i = 0; mode_hosts(m) > 1 && i < mode_hosts(m) && i < MAX_HOSTS; i++) {
        char ifname[24], peer[32];
        snprintf(ifname, sizeof(ifname), "portex-s%u", i);
        snprintf(peer, sizeof(peer), "198.18.0.%u", HOST_IP + i);
        if ((rc = px_rtnl_addr_add4_peer(ifname, ip4(SERVER_IP), ip4(peer))) < 0 ||
            (rc = px_rtnl_link_up(ifname)) < 0)
            px_child_fail(up_fd, "server veth", -rc);
    }
    if (set_sysctl("net.ipv4.tcp_timestamps", m->server_timestamps) < 0)
        px_child_fail(up_fd, "server tcp_timestamps", errno);
    struct px_server_config sc = {.threads = 1, .body_bytes = 13};
    char err[256];
    px_addr_parse(SERVER_IP ":80", &sc.addr, &sc.addr_len, err, sizeof(err));
    struct px_server *srv = px_server_new(&sc, err, sizeof(err));
    if (srv == NULL || px_server_start(srv, err, sizeof(err)) < 0)
        px_child_fail(up_fd, "server listen", errno);
    px_child_send(up_fd, 'L');
    /* Until the parent's SIGTERM (blocked since main(), as in every process of portex). */
    sigset_t stop_set;
    px_stop_set(&stop_set);
    while (!px_stop_wait(&stop_set, NULL))
        ;
    px_server_free(srv);
    _exit(0);
}

/* The client namespace's network: its address(es), the veth up, and the sysctls of the mode. */
static void client_net(const struct px_lab_config *lab, const struct px_mode *m, unsigned host,
                       int up_fd)
{
    int rc;
    char ip[32] = CLIENT_IP;
    if (mode_hosts(m) > 1)
        snprintf(ip, sizeof(ip), "198.18.0.%u", HOST_IP + host);
    if ((rc = px_rtnl_addr_add4(CLIENT_IF, ip4(ip), 24)) < 0)
        px_child_fail(up_fd, "client address", -rc);
    char extra[32];
    for (unsigned i = 1; i < m->sources; i++) {
        snprintf(extra, sizeof(extra), "198.18.0.%u", 10 + i);
        if ((rc = px_rtnl_addr_add4(CLIENT_IF, ip4(extra), 24)) < 0)
            px_child_fail(up_fd, "client source address", -rc);
    }
    if ((rc = px_rtnl_link_up(CLIENT_IF)) < 0)
        px_child_fail(up_fd, "client veth up", -rc);
    char range[32];
    snprintf(range, sizeof(range), "%u %u", PORT_LO, PORT_LO + lab->ports - 1);
    FILE *f = fopen(PX_PROC "/sys/net/ipv4/ip_local_port_range", "w");
    if (f == NULL || fputs(range, f) < 0 || fclose(f) != 0)
        px_child_fail(up_fd, "client ip_local_port_range", errno);
    if (set_sysctl("net.ipv4.tcp_tw_reuse", m->client_reuse) < 0)
        px_child_fail(up_fd, "client tcp_tw_reuse", errno);
    int delay = m->reuse_delay_ms ? m->reuse_delay_ms : m->client_reuse ? lab->reuse_delay_ms : 0;
    if (delay && set_sysctl("net.ipv4.tcp_tw_reuse_delay", delay) < 0)
        px_child_fail(up_fd, "client tcp_tw_reuse_delay", errno);
}

/* The load of one mode, as the client runs it against the server's namespace. */
static void client_config(const struct px_lab_config *lab, const struct px_mode *m,
                          struct px_load *cfg)
{
    px_load_defaults(cfg);
    snprintf(cfg->url_text, sizeof(cfg->url_text), "http://" SERVER_IP "/");
    char err[256];
    px_url_parse(cfg->url_text, &cfg->url, err, sizeof(err));
    if (px_url_resolve_all(&cfg->url, AF_UNSPEC, cfg->addrs, 1, err, sizeof(err)) == 1)
        cfg->naddrs = 1; /* a numeric address: nothing to probe */
    cfg->target = cfg->addrs[0].ss;
    cfg->target_len = cfg->addrs[0].len;
    cfg->threads = 1;
    cfg->connections = lab->connections;
    cfg->rate_per_s = lab->rate_per_s;
    cfg->duration_ms = lab->duration_ms;
    cfg->keepalive = m->keepalive;
    cfg->close = m->close;
    cfg->requests_per_conn = m->requests_per_conn;
    cfg->http2 = m->http2;
    cfg->streams = m->streams ? m->streams : 1;
    /* About 20 rows per mode: the chart should show the moment ports run out. */
    cfg->interval_ms = lab->duration_ms / 20;
    if (cfg->interval_ms < 100)
        cfg->interval_ms = 100;
    if (cfg->interval_ms > 1000)
        cfg->interval_ms = 1000;
    /* Short timeouts: a lab mode lasts seconds, and the veth drops nothing. */
    cfg->connect_timeout_ms = 1000;
    cfg->timeout_ms = 2000;
    if (m->sources > 1) {
        char extra[32];
        px_ip_parse(CLIENT_IP, &cfg->sources[cfg->nsources++]);
        for (unsigned i = 1; i < m->sources; i++) {
            snprintf(extra, sizeof(extra), "198.18.0.%u", 10 + i);
            px_ip_parse(extra, &cfg->sources[cfg->nsources++]);
        }
    }
}

static void client_child(const struct px_lab_config *lab, const struct px_mode *m, unsigned host,
                         int down_fd, int up_fd)
{
    child_enter(up_fd);
    if (px_child_read_byte(down_fd) != 'G')
        _exit(3);
    client_net(lab, m, host, up_fd);
    int64_t start_at = 0;
    if (px_child_read_byte(down_fd) != 'G' || /* the server listens */
        (mode_hosts(m) > 1 && px_child_read_all(down_fd, &start_at, sizeof(start_at)) < 0))
        _exit(3);

    static struct px_load load;
    struct px_load *cfg = &load;
    client_config(lab, m, cfg);
    char err[256];
    if (mode_hosts(m) > 1) { /* shard `host` of one run, as `portex run --shard` */
        cfg->shard = host;
        cfg->shards = mode_hosts(m);
        cfg->start_at_ns = start_at;
        if (px_load_apply_shard(cfg, err, sizeof(err)) < 0)
            px_child_fail(up_fd, err, EINVAL);
    }
    uint64_t soft, hard;
    px_sock_raise_nofile(&soft, &hard);
    /* SIGINT from the parent stops the run early; it still reports. */
    struct px_run *run = px_run_new(cfg);
    struct px_stats_opts opts = {.row_hists = 1}; /* quiet: the parent prints progress */
    if (run == NULL || px_run_execute(run, &opts, err, sizeof(err)) < 0)
        px_child_fail(up_fd, run ? err : "client run", run ? EIO : ENOMEM);
    /* The result crosses the pipe as data with no pointers: the mergeable
     * result format (README.md, Result format), decoded by the parent. */
    json_t *doc = px_report_json_doc(run, "run");
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (text == NULL)
        px_child_fail(up_fd, "client result", ENOMEM);
    uint64_t len = strlen(text);
    px_child_send(up_fd, 'D');
    if (px_child_write_all(up_fd, &len, sizeof(len)) < 0 ||
        px_child_write_all(up_fd, text, len) < 0)
        _exit(3);
    _exit(0);
}

/* ---- parent ------------------------------------------------------------- */

/* The client's result (a length, then the result document) into a new *run. */
static int read_result(struct px_child_waits *w, int fd, struct px_run **run, char *err,
                       size_t errlen)
{
    uint64_t len = 0;
    char *text = NULL;
    int rc = -1;
    if (px_child_read(w, fd, &len, sizeof(len)) < 0 || len > ((uint64_t)1 << 32) ||
        (text = malloc(len + 1)) == NULL || px_child_read(w, fd, text, len) < 0) {
        snprintf(err, errlen, "client result lost");
        goto out;
    }
    char msg[200];
    if ((*run = px_result_decode_text(text, len, msg, sizeof(msg))) == NULL) {
        snprintf(err, errlen, "client result unreadable: %s", msg);
        goto out;
    }
    rc = 0;
out:
    free(text);
    return rc;
}

/* The lab's processes for one mode: a server and one client per host. */
struct kids {
    unsigned n;
    struct px_child server, client[MAX_HOSTS];
    struct px_child_waits *waits; /* the parent's, which passes a stop on to the clients */
};

/* In a newly forked child: the parent's signalfd is not its own. */
static void child_start(struct kids *k)
{
    px_child_waits_close(k->waits);
}

static int kids_spawn(const struct px_lab_config *lab, const struct px_mode *m, struct kids *k,
                      char *err, size_t errlen)
{
    if (px_child_spawn(&k->server) == 0) {
        child_start(k);
        server_child(m, k->server.down[0], k->server.up[1]);
    }
    for (unsigned i = 0; i < k->n && k->server.pid > 0; i++) {
        struct px_child *c = &k->client[i];
        if (px_child_spawn(c) == 0) {
            child_start(k);
            client_child(lab, m, i, c->down[0], c->up[1]);
        }
        if (c->pid < 0)
            break;
        k->waits->forward[i] = c->pid;
    }
    for (unsigned i = 0; i < k->n; i++)
        if (k->server.pid < 0 || k->client[i].pid < 0) {
            snprintf(err, errlen, "cannot fork the lab's processes: %s", strerror(errno));
            return -1;
        }
    if (px_child_expect(k->waits, k->server.up[0], 'R', err, errlen, "server namespace") < 0)
        return -1;
    for (unsigned i = 0; i < k->n; i++) {
        if (px_child_expect(k->waits, k->client[i].up[0], 'R', err, errlen, "client namespace") < 0)
            return -1;
        char peer[24] = SERVER_IF;
        if (k->n > 1)
            snprintf(peer, sizeof(peer), "portex-s%u", i);
        int nl = px_rtnl_veth_create(CLIENT_IF, k->client[i].pid, peer, k->server.pid);
        if (nl < 0) {
            snprintf(err, errlen, "cannot create the veth pair: %s", strerror(-nl));
            return -1;
        }
    }
    return 0;
}

/* A child's pipe broke before it was told to go: it ended early. -1 with err. */
static int gone(char *err, size_t errlen)
{
    snprintf(err, errlen, "a lab process ended early (%s)", strerror(errno));
    return -1;
}

/* Sets up, then starts every client; hosts share one wall-clock start. */
static int kids_go(struct kids *k, char *err, size_t errlen)
{
    char go = 'G';
    if (write(k->server.down[1], &go, 1) != 1)
        return gone(err, errlen);
    for (unsigned i = 0; i < k->n; i++)
        if (write(k->client[i].down[1], &go, 1) != 1)
            return gone(err, errlen);
    if (px_child_expect(k->waits, k->server.up[0], 'L', err, errlen, "server") < 0)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t at = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + 200000000;
    for (unsigned i = 0; i < k->n; i++)
        if (write(k->client[i].down[1], &go, 1) != 1 ||
            (k->n > 1 && px_child_write_all(k->client[i].down[1], &at, sizeof(at)) < 0))
            return gone(err, errlen);
    return 0;
}

/* One client's result into *run. 0, or -1 with err. */
static int kid_result(struct kids *k, unsigned i, struct px_run **run, char *err, size_t errlen)
{
    int fd = k->client[i].up[0];
    if (px_child_expect(k->waits, fd, 'D', err, errlen, "client") < 0)
        return -1;
    return read_result(k->waits, fd, run, err, errlen);
}

/* Several hosts: their results merged as `portex merge` does. */
static int kids_merge(struct kids *k, struct px_mode_result *res, char *err, size_t errlen)
{
    struct px_run *runs[MAX_HOSTS] = {NULL};
    const struct px_run *parts[MAX_HOSTS];
    const char *names[MAX_HOSTS] = {"host 0", "host 1", "host 2", "host 3",
                                    "host 4", "host 5", "host 6", "host 7"};
    int rc = -1;
    for (unsigned i = 0; i < k->n; i++) {
        if (kid_result(k, i, &runs[i], err, errlen) < 0)
            goto out;
        parts[i] = runs[i];
    }
    if (px_combine_check(parts, names, k->n, err, errlen) < 0)
        goto out;
    if ((res->run = px_combine_runs(parts, k->n)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    for (unsigned i = 0; i < k->n; i++)
        px_run_free(runs[i]);
    return rc;
}

static void kids_end(struct kids *k, int failed)
{
    for (unsigned i = 0; i < PX_CHILD_FORWARD_MAX; i++)
        k->waits->forward[i] = 0;
    for (unsigned i = 0; i < k->n; i++)
        px_child_end(&k->client[i], failed ? SIGKILL : 0);
    px_child_end(&k->server, SIGTERM);
}

static int run_mode(const struct px_lab_config *lab, const struct px_mode *m,
                    struct px_child_waits *waits, struct px_mode_result *res, char *err,
                    size_t errlen)
{
    struct kids k;
    memset(&k, -1, sizeof(k)); /* every pid and fd -1 */
    k.waits = waits;
    k.n = mode_hosts(m);
    if (k.n > MAX_HOSTS)
        k.n = MAX_HOSTS;
    int rc = -1;
    if (kids_spawn(lab, m, &k, err, errlen) < 0 || kids_go(&k, err, errlen) < 0)
        goto out;
    if (k.n > 1)
        rc = kids_merge(&k, res, err, errlen);
    else
        rc = kid_result(&k, 0, &res->run, err, errlen);
out:
    kids_end(&k, rc < 0);
    return rc;
}

/* Without root: a user namespace that owns everything the lab creates. */
static int become_lab_root(char *err, size_t errlen)
{
    if (geteuid() == 0)
        return 0;
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        snprintf(err, errlen,
                 "needs root, or unprivileged user namespaces (unshare: %s); run it with sudo",
                 strerror(errno));
        return -1;
    }
    char map[64];
    FILE *f;
    if ((f = fopen("/proc/self/setgroups", "w")) != NULL) {
        fputs("deny", f);
        fclose(f);
    }
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    if ((f = fopen("/proc/self/uid_map", "w")) == NULL || fputs(map, f) < 0 || fclose(f) != 0)
        goto bad;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    if ((f = fopen("/proc/self/gid_map", "w")) == NULL || fputs(map, f) < 0 || fclose(f) != 0)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "needs root: cannot map ids in a user namespace (%s)", strerror(errno));
    return -1;
}

/* One mode into res: 0 when it ran (or was skipped), -1 with err when it failed. */
static int lab_mode(const struct px_lab_config *cfg, const struct px_mode *m, int have_delay,
                    struct px_child_waits *waits, struct px_mode_result *res, char *err,
                    size_t errlen)
{
    if (!have_delay && (m->reuse_delay_ms || cfg->reuse_delay_ms)) {
        snprintf(res->note, sizeof(res->note),
                 "skipped: this kernel has no tcp_tw_reuse_delay (6.14+)");
        return 0;
    }
    if (cfg->out.json == NULL || strcmp(cfg->out.json, "-") != 0)
        if (!cfg->out.quiet)
            fprintf(stderr, "portex lab: mode %s (%s) for %.1f s...\n", m->name, m->what,
                    (double)cfg->duration_ms / 1000.0);
    if (run_mode(cfg, m, waits, res, err, errlen) < 0)
        return -1;
    res->ran = 1;
    res->predicted_ok = px_ceiling_expected_ok(&res->run->ex.ceiling,
                                               (double)cfg->duration_ms / 1000.0, cfg->rate_per_s);
    return 0;
}

enum px_exit px_lab_run(const struct px_lab_config *cfg, struct px_mode_result *results, char *err,
                        size_t errlen)
{
    if (become_lab_root(err, errlen) < 0)
        return PX_EXIT_FAILED;
    /* SIGINT and SIGTERM are blocked since main(): they arrive here through a
     * signalfd beside the children's pipes, and the children inherit the block. */
    struct px_child_waits waits;
    if (px_child_waits_open(&waits) < 0) {
        snprintf(err, errlen, "cannot open a signalfd for SIGINT and SIGTERM: %s", strerror(errno));
        return PX_EXIT_FAILED;
    }
    int have_delay = access(PX_PROC "/sys/net/ipv4/tcp_tw_reuse_delay", F_OK) == 0;
    enum px_exit status = PX_EXIT_OK;
    for (size_t i = 0; i < cfg->nmodes; i++) {
        struct px_mode_result *res = &results[i];
        if (!px_mode_result_start(res, cfg->modes[i], px_child_stopped(&waits))) {
            status = PX_EXIT_INTERRUPTED;
            continue;
        }
        if (lab_mode(cfg, cfg->modes[i], have_delay, &waits, res, err, errlen) < 0) {
            if (px_child_stopped(&waits)) {
                snprintf(res->note, sizeof(res->note), "interrupted");
                status = PX_EXIT_INTERRUPTED;
                continue;
            }
            status = PX_EXIT_FAILED;
            break;
        }
        if (px_child_stopped(&waits))
            status = PX_EXIT_INTERRUPTED;
    }
    px_child_waits_close(&waits);
    return status;
}

void px_lab_config_defaults(struct px_lab_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ports = 1000;
    cfg->rate_per_s = 2000;
    cfg->duration_ms = 10000;
    cfg->connections = 64;
}

/* ---- options ------------------------------------------------------------ */

static int set_modes(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                     size_t errlen)
{
    (void)d;
    struct px_lab_config *cfg = obj;
    return px_mode_list_parse(arg, px_lab_modes, px_lab_nmodes, 1, cfg->modes, &cfg->nmodes, err,
                              errlen) < 0
               ? PX_CLI_USAGE
               : PX_CLI_OK;
}

#define LAB(field) offsetof(struct px_lab_config, field)
static const struct px_cli_opt lab_opts[] = {
    {.name = "ports", .set = px_cli_set_unsigned, .off = LAB(ports), .lo = 10, .hi = 25000},
    {.name = "rate", .letter = 'r', .set = px_cli_set_rate, .off = LAB(rate_per_s)},
    {.name = "duration",
     .letter = 'd',
     .set = px_cli_set_duration,
     .off = LAB(duration_ms),
     .lo = 1},
    {.name = "connections",
     .letter = 'c',
     .set = px_cli_set_unsigned,
     .off = LAB(connections),
     .lo = 1,
     .hi = 100000},
    {.name = "modes", .set = set_modes},
    {.name = "reuse-delay",
     .set = px_cli_set_int,
     .off = LAB(reuse_delay_ms),
     .lo = 1,
     .hi = 60000},
    {.name = NULL},
};

static const struct px_cli_group lab_groups[] = {
    {.opts = lab_opts, .off = 0},
    {.opts = px_cli_output_opts, .off = LAB(out)},
};

static const char lab_usage[] =
    "usage: portex lab [options]\n"
    "\n"
    "Reproduce ephemeral port exhaustion in fresh network namespaces (client and\n"
    "server joined by a veth pair on 198.18.0.0/15), one pair per mode, and put\n"
    "the measured ceilings beside the predicted ones. The host is never changed.\n"
    "Needs root, or unprivileged user namespaces.\n"
    "\n"
    "      --ports N           client port range size; 1000\n"
    "  -r, --rate R            new requests per second; 2000\n"
    "  -d, --duration D        per mode; 10s\n"
    "  -c, --connections N     in-flight cap; 64\n"
    "      --modes LIST        noreuse,reuse,reuse-server-nots,keepalive (default),\n"
    "                          server-close, rst, sources4, delay100, hosts4,\n"
    "                          reuse-conn10, noreuse-conn10 (10 requests per\n"
    "                          connection), h2 (HTTP/2 h2c, 10 streams per\n"
    "                          connection), or all\n"
    "      --reuse-delay MS    tcp_tw_reuse_delay for the reuse modes (6.14+)\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "      --svg FILE          chart, one panel per mode\n"
    "      --csv FILE          every mode's series as CSV\n"
    "  -q, --quiet             no progress on stderr\n"
    "  -h, --help              this text\n";

static const struct px_cli_spec lab_spec = {
    .name = "lab", .usage = lab_usage, .groups = lab_groups, .ngroups = PX_NELEMS(lab_groups)};

int px_lab_parse(int argc, char **argv, struct px_lab_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    px_lab_config_defaults(cfg);
    int rc = px_cli_parse(&lab_spec, argc, argv, cfg, &args, err, errlen);
    if (rc == PX_CLI_OK)
        rc = px_cli_one_stdout(&cfg->out, err, errlen);
    if (rc == PX_CLI_OK && cfg->nmodes == 0)
        cfg->nmodes = px_mode_defaults(px_lab_modes, px_lab_nmodes, 0, cfg->modes);
    return rc != PX_CLI_OK ? rc : px_cli_no_operands(&args, argc, argv, err, errlen);
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config and one result per mode. */
struct lab_state {
    struct px_lab_config cfg;
    struct px_mode_result res[PX_MAX_MODES];
    enum px_exit status; /* of the run: PX_EXIT_INTERRUPTED adds a line to the text */
};

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_lab_parse(argc, argv, &((struct lab_state *)state)->cfg, err, errlen);
}

static const struct px_outputs *cmd_outputs(const void *state)
{
    return &((const struct lab_state *)state)->cfg.out;
}

static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    (void)hlog;
    struct lab_state *s = state;
    s->status = px_lab_run(&s->cfg, s->res, err, errlen);
    *status = s->status;
    return s->status == PX_EXIT_OK || s->status == PX_EXIT_INTERRUPTED ? 0 : -1;
}

/* The text report (report/lab_report.h) with this lab's settings and addresses. */
static void text_cb(FILE *f, const void *state)
{
    const struct lab_state *s = state;
    struct px_lab_report lab = {.ports = s->cfg.ports,
                                .rate_per_s = s->cfg.rate_per_s,
                                .duration_s = (double)s->cfg.duration_ms / 1000.0,
                                .client_ip = CLIENT_IP,
                                .server_ip = SERVER_IP};
    px_lab_report_text(f, &lab, s->res, s->cfg.nmodes);
    if (s->status == PX_EXIT_INTERRUPTED)
        px_mode_note_interrupted(f);
}

static void json_cb(FILE *f, const void *state)
{
    const struct lab_state *s = state;
    px_mode_report_json(f, "lab", s->res, s->cfg.nmodes);
}

static void svg_cb(FILE *f, const void *state)
{
    const struct lab_state *s = state;
    px_mode_report_svg(f, "lab", s->res, s->cfg.nmodes);
}

static void csv_cb(FILE *f, const void *state)
{
    const struct lab_state *s = state;
    px_mode_report_csv(f, s->res, s->cfg.nmodes);
}

static void cmd_free(void *state)
{
    struct lab_state *s = state;
    px_mode_results_free(s->res, s->cfg.nmodes);
}

static const struct px_report lab_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
    {.output = PX_OUTPUT_JSON, .write = json_cb},
    {.output = PX_OUTPUT_SVG, .write = svg_cb},
    {.output = PX_OUTPUT_CSV, .write = csv_cb},
};

const struct px_command px_lab_command = {
    .name = "lab",
    .operands = "",
    .summary = "reproduce port exhaustion in fresh network namespaces",
    .waits_for_stop = 1,
    .state_size = sizeof(struct lab_state),
    .parse = cmd_parse,
    .outputs = cmd_outputs,
    .run = cmd_run,
    .reports = lab_reports,
    .nreports = PX_NELEMS(lab_reports),
    .free = cmd_free,
};
