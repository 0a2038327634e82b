/* SPDX-License-Identifier: MIT */
/* portex doctor: read the settings, flag the traps, probe the target, predict ceilings. */
#include "portex/cmd/doctor.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/base/clock.h"
#include "portex/base/outcome.h"
#include "portex/cmd/cli.h"
#include "portex/kernel/guard.h"
#include "portex/kernel/netlink.h"
#include "portex/kernel/nft.h"
#include "portex/load/http.h"
#include "portex/load/tls.h"
#include "portex/load/result.h"
#include "portex/load/transport.h"
#include "portex/load/transports.h"

/* Waits for fd to be ready for `events` until deadline. 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline_us)
{
    for (;;) {
        uint64_t now = px_clock_us();
        if (now >= deadline_us)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)((deadline_us - now + 999) / 1000));
        if (rc < 0 && errno == EINTR)
            continue;
        return rc < 0 ? -1 : rc;
    }
}

/* A connected non-blocking socket to addr, or -1 with out->error set. */
static int probe_connect(const struct sockaddr *addr, socklen_t len, uint64_t deadline,
                         struct px_probe *out)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        out->connect_errno = errno;
        snprintf(out->error, sizeof(out->error), "socket: %s", strerror(errno));
        return -1;
    }
    int rc = connect(fd, addr, len);
    if (rc < 0 && errno == EINPROGRESS) {
        int ready = wait_fd(fd, POLLOUT, deadline);
        int err = 0;
        socklen_t elen = sizeof(err);
        if (ready <= 0)
            err = ready == 0 ? ETIMEDOUT : errno;
        else
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        rc = err ? -1 : 0;
        errno = err;
    }
    if (rc < 0) {
        out->connect_errno = errno;
        snprintf(out->error, sizeof(out->error), "cannot connect: %s (%s)", strerror(errno),
                 strerrorname_np(errno) ? strerrorname_np(errno) : "?");
        close(fd);
        return -1;
    }
    return fd;
}

static void probe_tcp_info(int fd, struct px_probe *out)
{
    struct tcp_info ti;
    socklen_t tlen = sizeof(ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0) {
        out->timestamps = (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) != 0;
        out->window_scaling = (ti.tcpi_options & TCPI_OPT_WSCALE) != 0;
        out->sack = (ti.tcpi_options & TCPI_OPT_SACK) != 0;
        out->rtt_us = ti.tcpi_rtt;
    }
}

/* After WANT_READ/WANT_WRITE: 1 once the socket is ready, 0 at the deadline. */
static int io_wait(const struct px_conn *c, enum px_io r, uint64_t deadline)
{
    return wait_fd(c->fd, r == PX_IO_WANT_WRITE ? POLLOUT : POLLIN, deadline) > 0;
}

/* GET path over the transport; the status, 0 when none came. With TLS the
 * read also takes in the session tickets a TLS 1.3 server sends. */
static int probe_get(struct px_conn *c, const struct px_transport *t, const char *host_header,
                     const char *path, uint64_t deadline)
{
    char *req;
    size_t req_len, off = 0, n = 0;
    struct px_http_request_spec spec = {
        .method = "GET", .host = host_header, .path = path, .close = 1};
    if (px_http_request_build(&spec, &req, &req_len) < 0)
        return 0;
    enum px_io r = PX_IO_DONE;
    while (off < req_len && (r = t->write(c, req + off, req_len - off, &n)) != PX_IO_ERROR) {
        if (r == PX_IO_DONE)
            off += n;
        else if (!io_wait(c, r, deadline))
            break;
    }
    free(req);
    struct px_http_resp resp;
    px_http_resp_init(&resp, 0);
    char buf[4096];
    while (off == req_len && resp.status == 0) {
        r = t->read(c, buf, sizeof(buf), &n);
        size_t used;
        if (r == PX_IO_DONE && px_http_resp_feed(&resp, buf, n, &used) == PX_HTTP_ERROR)
            break;
        if (r == PX_IO_EOF || r == PX_IO_ERROR || (r != PX_IO_DONE && !io_wait(c, r, deadline)))
            break;
    }
    return resp.status;
}

/* One connection over transport t (worker w): the TCP facts on the first, the
 * handshake, and GET on the first. 0, or -1 (out->error or tls_error set). */
static int probe_once(const struct sockaddr *addr, socklen_t len, const struct px_transport *t,
                      void *w, const char *host_header, const char *path, uint64_t deadline,
                      struct px_probe *out)
{
    int first = !out->reached;
    int fd = probe_connect(addr, len, deadline, out);
    if (fd < 0)
        return -1;
    if (first) {
        out->reached = 1;
        probe_tcp_info(fd, out);
    }
    struct px_conn c = {.fd = fd};
    enum px_io r = t->attach(&c, w) == 0 ? PX_IO_WANT_WRITE : PX_IO_ERROR;
    while (r != PX_IO_ERROR && (r = t->handshake(&c)) != PX_IO_DONE && r != PX_IO_ERROR)
        if (!io_wait(&c, r, deadline))
            break;
    if (r == PX_IO_DONE) {
        out->tls_resumed = c.resumed;
        /* An HTTP answer is a bonus: the TCP facts above are what doctor is for. */
        if (first)
            out->http_status = probe_get(&c, t, host_header, path, deadline);
    } else if (r != PX_IO_ERROR) {
        snprintf(out->tls_error, sizeof(out->tls_error), "TLS handshake timed out");
    } else {
        out->tls_cause = c.cause;
    }
    t->detach(&c, r == PX_IO_DONE);
    close(fd);
    return r == PX_IO_DONE ? 0 : -1;
}

/* A TLS failure in words, with OpenSSL's first reason for its cause. */
static void tls_failure(struct px_probe *out, const struct px_tls_summary *sum)
{
    if (out->tls_error[0] || out->tls_cause == 0)
        return;
    int c = out->tls_cause;
    const char *why = c >= PX_CAUSE_TLS_HANDSHAKE && c <= PX_CAUSE_TLS_EOF &&
                              sum->reason[c - PX_CAUSE_TLS_HANDSHAKE][0]
                          ? sum->reason[c - PX_CAUSE_TLS_HANDSHAKE]
                          : NULL;
    snprintf(out->tls_error, sizeof(out->tls_error), "TLS handshake failed: %s%s%s%s",
             px_cause_name(c), why ? " (" : "", why ? why : "", why ? ")" : "");
}

int px_doctor_probe(const struct sockaddr *addr, socklen_t len, const struct px_url *url,
                    uint64_t timeout_ms, struct px_probe *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(&out->addr, addr, len);
    out->tls = url->tls;
    uint64_t deadline = px_clock_us() + timeout_ms * 1000u;
    char host[PX_URL_HOST_MAX + 16], err[256];
    px_url_host_header(url, host, sizeof(host));
    /* Doctor reports what the server does, not whether this host trusts it; a
     * second TLS connection offers the session the first one got. */
    static struct px_load load;
    px_load_defaults(&load);
    load.url = *url;
    load.tls_insecure = 1;
    load.tls_resume = PX_TLS_RESUME_TICKET;
    const struct px_transport *t = px_transports_pick(url->tls);
    void *ctx = NULL, *w = NULL;
    int rc = -1;
    if (t->ctx_new(&ctx, &load, err, sizeof(err)) < 0 || t->worker_new(&w, ctx) < 0) {
        snprintf(out->tls_error, sizeof(out->tls_error), "%s", ctx ? "out of memory" : err);
    } else if (probe_once(addr, len, t, w, host, url->path, deadline, out) == 0) {
        rc = 0;
        if (url->tls)
            probe_once(addr, len, t, w, host, url->path, deadline, out);
    }
    struct px_tls_summary sum;
    memset(&sum, 0, sizeof(sum));
    if (w)
        t->summarize(w, &sum);
    snprintf(out->tls_version, sizeof(out->tls_version), "%s", sum.version);
    tls_failure(out, &sum);
    t->worker_free(w);
    t->ctx_free(ctx);
    return rc;
}

__attribute__((format(printf, 2, 3))) static void flag(struct px_doctor *d, const char *fmt, ...)
{
    if (d->nflags >= PX_DOCTOR_MAX_FLAGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->flags[d->nflags++], sizeof(d->flags[0]), fmt, ap);
    va_end(ap);
}

static void add_ceiling(struct px_doctor *d, const char *name, const struct px_ceiling_in *in)
{
    struct px_doctor_ceiling *c = &d->ceilings[d->nceilings++];
    snprintf(c->config, sizeof(c->config), "%s", name);
    px_ceiling_predict(in, &c->c);
}

/* The traps: settings that make exhaustion come sooner, hide it, or make a remedy void. */
static void find_traps(const struct px_doctor_config *cfg, struct px_doctor *d, int resolved,
                       int loopback, int unix_target)
{
    const struct px_env *env = &d->env;
    const struct px_probe *p = &d->probe;
    if (env->tw_reuse == 2 && resolved && !loopback && !unix_target)
        flag(d, "tcp_tw_reuse=2 applies to loopback only: toward this target it acts as 0, "
                "so TIME_WAIT ports wait the full 60 s");
    if (env->tw_reuse == 1 && cfg->has_target && p->reached && !p->timestamps && !unix_target)
        flag(d, "tcp_tw_reuse=1 cannot help against this server: it negotiated no TCP "
                "timestamps (the original incident); turn tcp_timestamps on at the server");
    if (env->port_lo % 2 == env->port_hi % 2)
        flag(d,
             "ip_local_port_range %u-%u: both ends have the same parity; the kernel "
             "documentation asks for different parity (connect() takes one parity first, "
             "bind() the other)",
             env->port_lo, env->port_hi);
    if (env->max_tw_buckets >= 0 && (uint64_t)env->max_tw_buckets < d->usable_ports)
        flag(d,
             "tcp_max_tw_buckets=%lld is below the %llu usable ports: past it new TIME_WAIT "
             "sockets are dropped at once (TCPTimeWaitOverflow), hiding exhaustion and the "
             "protection TIME_WAIT gives",
             (long long)env->max_tw_buckets, (unsigned long long)d->usable_ports);
    if (d->have_ext && d->ext.tw_overflow > 0)
        flag(d,
             "TCPTimeWaitOverflow is %llu: tcp_max_tw_buckets (%lld) was reached and that many "
             "sockets skipped TIME_WAIT; their ports came free at once, so port exhaustion may "
             "be hidden here (portex watch shows the counter per tick)",
             (unsigned long long)d->ext.tw_overflow, (long long)env->max_tw_buckets);
    if (env->nofile_soft != (uint64_t)-1 && env->nofile_soft < (uint64_t)cfg->connections + 64)
        flag(d,
             "open-files limit %llu (hard %llu) is below the wanted concurrency %u plus "
             "room: raise 'ulimit -n'",
             (unsigned long long)env->nofile_soft, (unsigned long long)env->nofile_hard,
             cfg->connections);
    if (env->timestamps == 0)
        flag(d, "tcp_timestamps=0 here: connections from this host carry no timestamps, so "
                "tcp_tw_reuse cannot reuse their ports");
    if (env->fin_timeout >= 0 && env->fin_timeout != 60)
        flag(d,
             "tcp_fin_timeout=%lld: this is the FIN_WAIT_2 timeout of orphaned sockets; it "
             "does not shorten TIME_WAIT (60 s, fixed in the kernel)",
             (long long)env->fin_timeout);
    char stale[400];
    if (px_guard_find_stale(stale, sizeof(stale)))
        flag(d, "%s", stale);
}

/* The ceilings toward the target (or any one destination), one per configuration. */
static void predict_ceilings(const struct px_doctor_config *cfg, struct px_doctor *d, int loopback,
                             int unix_target)
{
    const struct px_env *env = &d->env;
    const struct px_probe *p = &d->probe;
    struct px_ceiling_in in = {
        .ports = d->usable_ports,
        .close = PX_CLOSE_CLIENT,
        .tw_reuse = env->tw_reuse,
        .loopback = loopback,
        .reuse_delay_ms = env->tw_reuse_delay_ms,
        .kernel_major = env->kernel_major,
        .kernel_minor = env->kernel_minor,
        .timestamps = !cfg->has_target || !p->reached ? PX_TS_UNKNOWN
                      : p->timestamps                 ? PX_TS_YES
                                                      : PX_TS_NO,
        .connections = cfg->connections,
        .lifetime_s = p->reached ? p->rtt_us / 1e6 : 0,
        .unix_socket = unix_target,
    };
    if (unix_target) {
        add_ceiling(d, "any mode, Unix socket", &in);
        return;
    }
    add_ceiling(d, "short, client closes (now)", &in);
    struct px_ceiling_in v = in;
    v.tw_reuse = 0;
    add_ceiling(d, "short, tcp_tw_reuse=0", &v);
    v.tw_reuse = 1;
    add_ceiling(d, "short, tcp_tw_reuse=1", &v);
    /* Without TIME_WAIT on the client, the request time bounds these, and one
     * probe's RTT is no measure of it: they are shown as not port-bound. */
    v = in;
    v.lifetime_s = 0;
    v.keepalive = 1;
    add_ceiling(d, "keep-alive", &v);
    v.keepalive = 0;
    v.close = PX_CLOSE_SERVER;
    add_ceiling(d, "server closes first", &v);
    v.close = PX_CLOSE_RST;
    add_ceiling(d, "RST close", &v);
    v = in;
    v.sources = 4;
    add_ceiling(d, "short, 4 source addresses", &v);
}

/* Usable ports: the namespace range minus reserved ports and the ports bound in it. */
static void count_ports(struct px_doctor *d, const struct px_bound_ports *bound)
{
    const struct px_env *env = &d->env;
    d->usable_ports =
        px_usable_ports(env->port_lo, env->port_hi, 0, 0, env->reserved_ports, NULL, NULL);
    d->bound_ports = d->bound_listening = -1;
    if (bound == NULL)
        return;
    uint64_t listening;
    uint64_t n =
        px_bound_ports_count(bound, env->port_lo, env->port_hi, env->reserved_ports, &listening);
    d->bound_ports = (int64_t)n;
    d->bound_listening = (int64_t)listening;
    d->usable_ports = n < d->usable_ports ? d->usable_ports - n : 0;
}

/* One number from a file of proc (/<proc>/sys/...), -1 when it is missing. */
static int64_t proc_int(const char *proc, const char *name)
{
    char path[256];
    long long v = -1;
    snprintf(path, sizeof(path), "%s/%s", proc, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%lld", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

/* Behind a source NAT ports run out elsewhere, and nothing says EADDRNOTAVAIL. */
static void find_nat(const char *proc, struct px_doctor *d)
{
    if (px_nft_legacy_nat(proc) == 1)
        d->nat_rules = 1;
    d->ct_count = proc_int(proc, "sys/net/netfilter/nf_conntrack_count");
    d->ct_max = proc_int(proc, "sys/net/netfilter/nf_conntrack_max");
    if (d->nat_rules == 1 || d->ct_count > 0)
        flag(d,
             "this namespace %s (conntrack %lld of %lld entries): through a source NAT the "
             "ceiling is NAT ports x addresses concurrent connections per destination, seen "
             "as SYN retransmits and connect timeouts, never EADDRNOTAVAIL (conntrack -S: "
             "insert_failed, drop); portex lab --modes nat-keepalive shows it",
             d->nat_rules == 1 ? "has NAT rules" : "tracks connections", (long long)d->ct_count,
             (long long)d->ct_max);
}

void px_doctor_examine(const char *proc, const struct px_doctor_config *cfg,
                       const struct px_bound_ports *bound, struct px_doctor *d)
{
    d->has_target = cfg->has_target;
    snprintf(d->url_text, sizeof(d->url_text), "%s", cfg->url_text);
    d->url = cfg->url;
    d->family = cfg->family;
    px_env_read(proc, &d->env);
    count_ports(d, bound);
    d->tw_all = px_sockstat_tw(proc);
    d->tw_target = -1;
    d->have_ext = px_tcpext_read(proc, &d->ext) == 0;
    const struct px_probe *p = &d->probe;
    int loopback = cfg->has_target && px_is_loopback(&p->addr);
    /* A Unix-socket target: no port, no TCP, so no trap and no ceiling of those applies. */
    int unix_target = cfg->has_target && cfg->url.unix_path[0];
    /* A name that did not resolve has no address to count toward or judge. */
    int resolved = cfg->has_target && p->addr.ss_family != AF_UNSPEC;
    if (resolved)
        d->tw_target = px_diag_time_wait_toward((const struct sockaddr *)&p->addr);
    find_traps(cfg, d, resolved, loopback, unix_target);
    find_nat(proc, d);
    predict_ceilings(cfg, d, loopback, unix_target);
}

void px_doctor_config_defaults(struct px_doctor_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connections = 64;
    cfg->connect_timeout_ms = 3000;
}

/* ---- options ------------------------------------------------------------ */

#define DOC(field) offsetof(struct px_doctor_config, field)
static const struct px_cli_opt doctor_opts[] = {
    {.name = "connections",
     .letter = 'c',
     .set = px_cli_set_unsigned,
     .off = DOC(connections),
     .lo = 1,
     .hi = 1000000},
    {.name = "connect-timeout",
     .set = px_cli_set_duration,
     .off = DOC(connect_timeout_ms),
     .lo = 1},
    {.name = "json", .set = px_cli_set_path, .off = DOC(out.json)},
    {.name = "ipv4", .letter = '4', .flag = 1, .set = px_cli_set_family, .off = DOC(family)},
    {.name = "ipv6", .letter = '6', .flag = 1, .set = px_cli_set_family, .off = DOC(family)},
    {.name = NULL},
};

static const struct px_cli_group doctor_groups[] = {{.opts = doctor_opts, .off = 0}};

static const char doctor_usage[] =
    "usage: portex doctor [options] [URL]\n"
    "\n"
    "This namespace's port budget and TIME_WAIT settings, the traps among them,\n"
    "and with a URL: one connection's TCP_INFO (were timestamps negotiated?) and\n"
    "the predicted short-connection ceilings toward that server. A name's addresses\n"
    "are tried in order until one answers, as portex run does.\n"
    "Exit 0 when everything was read, 1 when the target cannot be reached.\n"
    "\n"
    "  -c, --connections N     concurrency you plan, checked against the fd limit; 64\n"
    "      --connect-timeout D connect timeout of the probe; 3s\n"
    "  -4, --ipv4              only the URL's IPv4 addresses\n"
    "  -6, --ipv6              only the URL's IPv6 addresses\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "  -h, --help              this text\n";

static const struct px_cli_spec doctor_spec = {.name = "doctor",
                                               .usage = doctor_usage,
                                               .groups = doctor_groups,
                                               .ngroups = PX_NELEMS(doctor_groups)};

int px_doctor_parse(int argc, char **argv, struct px_doctor_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    px_doctor_config_defaults(cfg);
    int rc = px_cli_parse(&doctor_spec, argc, argv, cfg, &args, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    if (args.operand + 1 < argc)
        return px_cli_usage_error(err, errlen, "unexpected argument '%s': %s",
                                  argv[args.operand + 1], "give at most one URL");
    if (args.operand == argc)
        return PX_CLI_OK;
    cfg->has_target = 1;
    rc = px_cli_url(argv[args.operand], cfg->url_text, sizeof(cfg->url_text), &cfg->url, err,
                    errlen);
    if (rc == PX_CLI_OK && cfg->family && cfg->url.unix_path[0])
        return px_cli_usage_error(err, errlen, "-4/-6 do not apply to a Unix-socket target");
    return rc;
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config and what was found. */
struct doctor_state {
    struct px_doctor_config cfg;
    struct px_doctor d;
};

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_doctor_parse(argc, argv, &((struct doctor_state *)state)->cfg, err, errlen);
}

static const struct px_outputs *cmd_outputs(const void *state)
{
    return &((const struct doctor_state *)state)->cfg.out;
}

/*
 * Probes the target, when there is one, the way run picks its address: each
 * address of the name in order until one is reached. d->probe tells of that one,
 * or of the first when none is. 0, or -1 when it cannot be reached.
 */
static int probe(const struct px_doctor_config *cfg, struct px_doctor *d)
{
    char err[512];
    int n =
        px_url_resolve_all(&cfg->url, cfg->family, d->addrs, PX_URL_ADDRS_MAX, err, sizeof(err));
    if (n < 0) {
        snprintf(d->probe.error, sizeof(d->probe.error), "%s", err);
        return -1;
    }
    d->naddrs = (size_t)n;
    struct px_probe one;
    int rc = -1;
    for (size_t i = 0; i < d->naddrs; i++) {
        struct px_url_addr *a = &d->addrs[i];
        rc = px_doctor_probe((struct sockaddr *)&a->ss, a->len, &cfg->url, cfg->connect_timeout_ms,
                             &one);
        a->probe = one.reached ? PX_ADDR_ANSWERED : one.connect_errno;
        if (i == 0 || one.reached)
            d->probe = one;
        if (one.reached)
            return rc;
    }
    return -1;
}

/* Always something to report: an unreachable target is in the report and exits 1. */
static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    (void)hlog;
    (void)err;
    (void)errlen;
    struct doctor_state *s = state;
    int unreachable = s->cfg.has_target && probe(&s->cfg, &s->d) < 0;
    /* The ports this namespace's sockets hold, for the usable ports (16 kB: static). */
    static struct px_bound_ports bound;
    int fd = px_diag_open();
    int have = fd >= 0 && px_diag_bound_ports(fd, &bound) == 0;
    if (fd >= 0)
        close(fd);
    s->d.nat_rules = px_nft_has_nat(); /* read-only: lists this namespace's ruleset */
    px_doctor_examine(PX_PROC, &s->cfg, have ? &bound : NULL, &s->d);
    *status = unreachable ? PX_EXIT_FAILED : PX_EXIT_OK;
    return 0;
}

static void text_cb(FILE *f, const void *state)
{
    px_doctor_report_text(f, &((const struct doctor_state *)state)->d);
}

static void json_cb(FILE *f, const void *state)
{
    px_doctor_report_json(f, &((const struct doctor_state *)state)->d);
}

static const struct px_report doctor_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
    {.output = PX_OUTPUT_JSON, .write = json_cb},
};

const struct px_command px_doctor_command = {
    .name = "doctor",
    .operands = "[URL]",
    .summary = "sysctls, limits, traps, predicted ceilings; probes the target",
    .waits_for_stop = 0, /* nothing to put back: a Ctrl-C ends it at once */
    .state_size = sizeof(struct doctor_state),
    .parse = cmd_parse,
    .outputs = cmd_outputs,
    .run = cmd_run,
    .reports = doctor_reports,
    .nreports = PX_NELEMS(doctor_reports),
};
