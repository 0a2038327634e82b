/* SPDX-License-Identifier: MIT */
/*
 * portex lab. Per mode: fork a server child and a client child, each of which
 * unshares a network namespace; the parent joins them with a veth pair made
 * over rtnetlink (IFLA_NET_NS_PID puts each end straight into its namespace),
 * each child sets its own sysctls and addresses, the server child serves and
 * the client child runs the engine and sends its result back over a pipe.
 * When the children exit the namespaces and the veth go with them.
 */
#include "portex/cmd/lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "portex/base/stop.h"
#include "portex/load/combine.h"
#include "portex/load/engine.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/sock.h"
#include "portex/kernel/netlink.h"
#include "portex/load/result.h"
#include "portex/report/lab_report.h"
#include "portex/report/run_report.h"
#include "portex/load/result_codec.h"
#include "portex/load/run.h"
#include "portex/load/server.h"
#include "portex/base/url.h"

#define CLIENT_IF "portex-c"
#define SERVER_IF "portex-s"
#define CLIENT_IP "198.18.0.1"
#define SERVER_IP "198.18.0.2"
#define PORT_LO   40000u
#define HOST_IP   31u /* client host i of a hosts mode: 198.18.0.(31 + i) */
#define MAX_HOSTS 8u

/* Client hosts (namespaces) sharing one run, merged as portex merge does. */
static unsigned mode_hosts(const struct px_mode *m)
{
    return m->hosts > 1 ? m->hosts : 1;
}

/* ---- children ------------------------------------------------------------ */

static void die_child(int fd, const char *what, int err)
{
    char msg[200];
    int n = snprintf(msg, sizeof(msg), "E%s: %s", what, strerror(err));
    if (write(fd, msg, (size_t)n + 1) < 0)
        _exit(3);
    _exit(3);
}

static int read_byte(int fd)
{
    char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? c : -1;
}

static void write_byte(int fd, char c)
{
    if (write(fd, &c, 1) != 1)
        _exit(3);
}

static int set_sysctl(const char *name, int64_t v)
{
    return px_sysctl_write_int(PX_PROC, name, v);
}

/* Common start of a child: die with the parent, own namespace, tell the parent. */
static void child_enter(int up_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNET) < 0)
        die_child(up_fd, "unshare(CLONE_NEWNET)", errno);
    write_byte(up_fd, 'R');
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
    if (read_byte(down_fd) != 'G')
        _exit(3);
    int rc;
    if (mode_hosts(m) <= 1 && ((rc = px_rtnl_addr_add4(SERVER_IF, ip4(SERVER_IP), 24)) < 0 ||
                               (rc = px_rtnl_link_up(SERVER_IF)) < 0))
        die_child(up_fd, "server veth", -rc);
    /* Several client hosts: one veth each, the server address on every one
     * with the client as its point-to-point peer (the route back). */
    for (unsigned i = 0; mode_hosts(m) > 1 && i < mode_hosts(m) && i < MAX_HOSTS; i++) {
        char ifname[24], peer[32];
        snprintf(ifname, sizeof(ifname), "portex-s%u", i);
        snprintf(peer, sizeof(peer), "198.18.0.%u", HOST_IP + i);
        if ((rc = px_rtnl_addr_add4_peer(ifname, ip4(SERVER_IP), ip4(peer))) < 0 ||
            (rc = px_rtnl_link_up(ifname)) < 0)
            die_child(up_fd, "server veth", -rc);
    }
    if (set_sysctl("net.ipv4.tcp_timestamps", m->server_timestamps) < 0)
        die_child(up_fd, "server tcp_timestamps", errno);
    sigset_t set;
    px_stop_block(&set, NULL);
    struct px_server_config sc = {.threads = 1, .body_bytes = 13};
    char err[256];
    px_addr_parse(SERVER_IP ":80", &sc.addr, &sc.addr_len, err, sizeof(err));
    struct px_server *srv = px_server_new(&sc, err, sizeof(err));
    if (srv == NULL || px_server_start(srv, err, sizeof(err)) < 0)
        die_child(up_fd, "server listen", errno);
    write_byte(up_fd, 'L');
    int sig;
    sigwait(&set, &sig);
    px_server_free(srv);
    _exit(0);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
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
        die_child(up_fd, "client address", -rc);
    char extra[32];
    for (unsigned i = 1; i < m->sources; i++) {
        snprintf(extra, sizeof(extra), "198.18.0.%u", 10 + i);
        if ((rc = px_rtnl_addr_add4(CLIENT_IF, ip4(extra), 24)) < 0)
            die_child(up_fd, "client source address", -rc);
    }
    if ((rc = px_rtnl_link_up(CLIENT_IF)) < 0)
        die_child(up_fd, "client veth up", -rc);
    char range[32];
    snprintf(range, sizeof(range), "%u %u", PORT_LO, PORT_LO + lab->ports - 1);
    FILE *f = fopen(PX_PROC "/sys/net/ipv4/ip_local_port_range", "w");
    if (f == NULL || fputs(range, f) < 0 || fclose(f) != 0)
        die_child(up_fd, "client ip_local_port_range", errno);
    if (set_sysctl("net.ipv4.tcp_tw_reuse", m->client_reuse) < 0)
        die_child(up_fd, "client tcp_tw_reuse", errno);
    int delay = m->reuse_delay_ms ? m->reuse_delay_ms : m->client_reuse ? lab->reuse_delay_ms : 0;
    if (delay && set_sysctl("net.ipv4.tcp_tw_reuse_delay", delay) < 0)
        die_child(up_fd, "client tcp_tw_reuse_delay", errno);
}

/* The load of one mode, as the client runs it against the server's namespace. */
static void client_config(const struct px_lab_config *lab, const struct px_mode *m,
                          struct px_load *cfg)
{
    px_load_defaults(cfg);
    snprintf(cfg->url_text, sizeof(cfg->url_text), "http://" SERVER_IP "/");
    char err[256];
    px_url_parse(cfg->url_text, &cfg->url, err, sizeof(err));
    px_url_resolve(&cfg->url, &cfg->target, &cfg->target_len, err, sizeof(err));
    cfg->threads = 1;
    cfg->connections = lab->connections;
    cfg->rate_per_s = lab->rate_per_s;
    cfg->duration_ms = lab->duration_ms;
    cfg->keepalive = m->keepalive;
    cfg->close = m->close;
    cfg->requests_per_conn = m->requests_per_conn;
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
    if (read_byte(down_fd) != 'G')
        _exit(3);
    client_net(lab, m, host, up_fd);
    int64_t start_at = 0;
    if (read_byte(down_fd) != 'G' || /* the server listens */
        (mode_hosts(m) > 1 && read_all(down_fd, &start_at, sizeof(start_at)) < 0))
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
            die_child(up_fd, err, EINVAL);
    }
    uint64_t soft, hard;
    px_sock_fit_nofile(cfg->connections, &soft, &hard);
    /* SIGINT from the parent stops the run early; it still reports. */
    struct px_run *run = px_run_new(cfg);
    struct px_stats_opts opts = {.row_hists = 1}; /* quiet: the parent prints progress */
    if (run == NULL || px_run_execute(run, &opts, err, sizeof(err)) < 0)
        die_child(up_fd, run ? err : "client run", run ? EIO : ENOMEM);
    /* The result crosses the pipe as data with no pointers: the mergeable
     * result format (README.md, Result format), decoded by the parent. */
    json_t *doc = px_report_json_doc(run, "run");
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (text == NULL)
        die_child(up_fd, "client result", ENOMEM);
    uint64_t len = strlen(text);
    write_byte(up_fd, 'D');
    if (write_all(up_fd, &len, sizeof(len)) < 0 || write_all(up_fd, text, len) < 0)
        _exit(3);
    _exit(0);
}

/* ---- parent ------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;
static volatile pid_t client_pids[MAX_HOSTS];

static void on_stop_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    for (unsigned i = 0; i < MAX_HOSTS; i++)
        if (client_pids[i] > 0)
            kill(client_pids[i], SIGINT);
}

/* Reads a child's status byte; on 'E' copies its message into err. */
static int expect(int fd, char want, char *err, size_t errlen, const char *who)
{
    char buf[200];
    int c = read_byte(fd);
    if (c == want)
        return 0;
    if (c == 'E') {
        size_t n = 0;
        int ch;
        while (n + 1 < sizeof(buf) && (ch = read_byte(fd)) > 0)
            buf[n++] = (char)ch;
        buf[n] = '\0';
        snprintf(err, errlen, "%s: %s", who, buf);
    } else {
        snprintf(err, errlen, "%s ended early", who);
    }
    return -1;
}

/* The client's result (a length, then the result document) into a new *run. */
static int read_result(int fd, struct px_run **run, char *err, size_t errlen)
{
    uint64_t len = 0;
    char *text = NULL;
    int rc = -1;
    if (read_all(fd, &len, sizeof(len)) < 0 || len > ((uint64_t)1 << 32) ||
        (text = malloc(len + 1)) == NULL || read_all(fd, text, len) < 0) {
        snprintf(err, errlen, "client result lost");
        goto out;
    }
    char msg[200];
    if ((*run = px_result_codec_loads(text, len, msg, sizeof(msg))) == NULL) {
        snprintf(err, errlen, "client result unreadable: %s", msg);
        goto out;
    }
    rc = 0;
out:
    free(text);
    return rc;
}

static pid_t spawn(int *down, int *up)
{
    int d[2], u[2];
    if (pipe2(d, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(u, O_CLOEXEC) < 0) {
        close(d[0]);
        close(d[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(d[1]);
        close(u[0]);
        down[0] = d[0];
        up[1] = u[1];
        return 0;
    }
    close(d[0]);
    close(u[1]);
    down[1] = d[1];
    up[0] = u[0];
    if (pid < 0) {
        close(d[1]);
        close(u[0]);
    }
    return pid;
}

static void reap(pid_t pid, int sig)
{
    if (pid <= 0)
        return;
    if (sig)
        kill(pid, sig);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* The lab's processes for one mode: a server and one client per host. */
struct kids {
    unsigned n;
    pid_t spid, cpid[MAX_HOSTS];
    int sdown[2], sup[2], cdown[MAX_HOSTS][2], cup[MAX_HOSTS][2];
};

static int kids_spawn(const struct px_lab_config *lab, const struct px_mode *m, struct kids *k,
                      char *err, size_t errlen)
{
    k->spid = spawn(k->sdown, k->sup);
    if (k->spid == 0)
        server_child(m, k->sdown[0], k->sup[1]);
    for (unsigned i = 0; i < k->n && k->spid > 0; i++) {
        k->cpid[i] = spawn(k->cdown[i], k->cup[i]);
        if (k->cpid[i] == 0)
            client_child(lab, m, i, k->cdown[i][0], k->cup[i][1]);
        if (k->cpid[i] < 0)
            break;
        client_pids[i] = k->cpid[i];
    }
    for (unsigned i = 0; i < k->n; i++)
        if (k->spid < 0 || k->cpid[i] < 0) {
            snprintf(err, errlen, "cannot fork the lab's processes: %s", strerror(errno));
            return -1;
        }
    if (expect(k->sup[0], 'R', err, errlen, "server namespace") < 0)
        return -1;
    for (unsigned i = 0; i < k->n; i++) {
        if (expect(k->cup[i][0], 'R', err, errlen, "client namespace") < 0)
            return -1;
        char peer[24] = SERVER_IF;
        if (k->n > 1)
            snprintf(peer, sizeof(peer), "portex-s%u", i);
        int nl = px_rtnl_veth_create(CLIENT_IF, k->cpid[i], peer, k->spid);
        if (nl < 0) {
            snprintf(err, errlen, "cannot create the veth pair: %s", strerror(-nl));
            return -1;
        }
    }
    return 0;
}

/* Sets up, then starts every client; hosts share one wall-clock start. */
static int kids_go(struct kids *k, char *err, size_t errlen)
{
    char go = 'G';
    if (write(k->sdown[1], &go, 1) != 1)
        return -1;
    for (unsigned i = 0; i < k->n; i++)
        if (write(k->cdown[i][1], &go, 1) != 1)
            return -1;
    if (expect(k->sup[0], 'L', err, errlen, "server") < 0)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t at = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + 200000000;
    for (unsigned i = 0; i < k->n; i++)
        if (write(k->cdown[i][1], &go, 1) != 1 ||
            (k->n > 1 && write_all(k->cdown[i][1], &at, sizeof(at)) < 0))
            return -1;
    return 0;
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
        if (expect(k->cup[i][0], 'D', err, errlen, "client") < 0 ||
            read_result(k->cup[i][0], &runs[i], err, errlen) < 0)
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

static void close_pair(int *fds)
{
    for (int e = 0; e < 2; e++)
        if (fds[e] >= 0)
            close(fds[e]);
}

static void kids_end(struct kids *k, int failed)
{
    for (unsigned i = 0; i < MAX_HOSTS; i++)
        client_pids[i] = 0;
    for (unsigned i = 0; i < k->n; i++)
        reap(k->cpid[i], failed ? SIGKILL : 0);
    reap(k->spid, SIGTERM);
    close_pair(k->sdown);
    close_pair(k->sup);
    for (unsigned i = 0; i < k->n; i++) {
        close_pair(k->cdown[i]);
        close_pair(k->cup[i]);
    }
}

static int run_mode(const struct px_lab_config *lab, const struct px_mode *m,
                    struct px_mode_result *res, char *err, size_t errlen)
{
    struct kids k;
    memset(&k, -1, sizeof(k)); /* every pid and fd -1 */
    k.n = mode_hosts(m);
    if (k.n > MAX_HOSTS)
        k.n = MAX_HOSTS;
    int rc = -1;
    if (kids_spawn(lab, m, &k, err, errlen) < 0 || kids_go(&k, err, errlen) < 0)
        goto out;
    if (k.n > 1)
        rc = kids_merge(&k, res, err, errlen);
    else if (expect(k.cup[0][0], 'D', err, errlen, "client") == 0)
        rc = read_result(k.cup[0][0], &res->run, err, errlen);
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

int px_lab_run(const struct px_lab_config *cfg, struct px_mode_result *results, char *err,
               size_t errlen)
{
    if (become_lab_root(err, errlen) < 0)
        return -1;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: reads return EINTR */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int have_delay = access(PX_PROC "/sys/net/ipv4/tcp_tw_reuse_delay", F_OK) == 0;
    int rc = 0;
    for (size_t i = 0; i < cfg->nmodes; i++) {
        struct px_mode_result *res = &results[i];
        if (!px_mode_result_start(res, cfg->modes[i], interrupted)) {
            rc = 1;
            continue;
        }
        const struct px_mode *m = cfg->modes[i];
        if (!have_delay && (m->reuse_delay_ms || cfg->reuse_delay_ms)) {
            snprintf(res->note, sizeof(res->note),
                     "skipped: this kernel has no tcp_tw_reuse_delay (6.14+)");
            continue;
        }
        if (cfg->out.json == NULL || strcmp(cfg->out.json, "-") != 0)
            if (!cfg->out.quiet)
                fprintf(stderr, "portex lab: mode %s (%s) for %.1f s...\n", m->name, m->what,
                        (double)cfg->duration_ms / 1000.0);
        if (run_mode(cfg, m, res, err, errlen) < 0) {
            if (interrupted) {
                snprintf(res->note, sizeof(res->note), "interrupted");
                rc = 1;
                continue;
            }
            rc = -1;
            break;
        }
        res->ran = 1;
        res->predicted_ok = px_ceiling_expected_ok(
            &res->run->ex.ceiling, (double)cfg->duration_ms / 1000.0, cfg->rate_per_s);
        if (interrupted)
            rc = 1;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

void px_lab_config_defaults(struct px_lab_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ports = 1000;
    cfg->rate_per_s = 2000;
    cfg->duration_ms = 10000;
    cfg->connections = 64;
}

void px_lab_report(FILE *f, const struct px_lab_config *cfg, const struct px_mode_result *results)
{
    struct px_lab_report lab = {.ports = cfg->ports,
                                .rate_per_s = cfg->rate_per_s,
                                .duration_s = (double)cfg->duration_ms / 1000.0,
                                .client_ip = CLIENT_IP,
                                .server_ip = SERVER_IP};
    px_lab_report_text(f, &lab, results, cfg->nmodes);
}
