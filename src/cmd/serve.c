/* SPDX-License-Identifier: MIT */
/* portex serve: the built-in HTTP target until SIGINT or SIGTERM; its options and its flow. */
#include "portex/cmd/serve.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "portex/base/stop.h"
#include "portex/base/url.h"
#include "portex/cmd/cli.h"
#include "portex/kernel/sock.h"
#include "portex/load/result_encode.h"
#include "portex/load/tls.h"
#include "portex/report/exposition.h"
#include "portex/report/json.h"

/* ---- options ------------------------------------------------------------ */

/* IP:PORT or unix:PATH; once each. While parsing, unix_only is -1 once an
 * IP:PORT was given (px_serve_parse settles it). */
static int set_listen(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                      size_t errlen)
{
    struct px_server_config *cfg = &((struct px_serve_config *)obj)->server;
    if (strncmp(arg, "unix:", 5) == 0) {
        if (cfg->unix_only == 0)
            cfg->unix_only = 1;
        return px_cli_unix_path(d, arg, cfg->unix_path, sizeof(cfg->unix_path), err, errlen);
    }
    cfg->unix_only = -1;
    return px_addr_parse(arg, &cfg->addr, &cfg->addr_len, err, errlen) < 0 ? PX_CLI_USAGE
                                                                           : PX_CLI_OK;
}

#define SRV(field) offsetof(struct px_serve_config, field)
static const struct px_cli_opt serve_opts[] = {
    {.name = "listen", .set = set_listen},
    {.name = "threads",
     .letter = 't',
     .set = px_cli_set_unsigned,
     .off = SRV(server.threads),
     .lo = 1,
     .hi = 1024},
    {.name = "body-bytes", .set = px_cli_set_size, .off = SRV(server.body_bytes), .hi = 64u << 20},
    {.name = "delay", .set = px_cli_set_duration, .off = SRV(delay_ms)},
    {.name = "tls", .flag = 1, .set = px_cli_set_flag, .off = SRV(tls)},
    {.name = "cert", .set = px_cli_set_path, .off = SRV(cert)},
    {.name = "key", .set = px_cli_set_path, .off = SRV(key)},
    {.name = "write-cert", .set = px_cli_set_path, .off = SRV(write_cert)},
    {.name = NULL},
};

static const struct px_cli_group serve_groups[] = {
    {.opts = serve_opts, .off = 0},
    {.opts = px_metrics_opts, .off = SRV(metrics)},
};

static const char serve_usage[] =
    "usage: portex serve [options]\n"
    "\n"
    "The built-in HTTP/1.1 and HTTP/2 target: keep-alive honoured; on Connection:\n"
    "close or HTTP/1.0 the server answers and closes first. HTTP/2 through nghttp2:\n"
    "h2c by prior knowledge on the plain port (the client's first bytes are the\n"
    "preface), h2 by ALPN with --tls; up to 1000 streams per connection, each\n"
    "answered as HTTP/1.1 is and counted in requests. It raises its open-files limit\n"
    "to the hard one; when accept() fails (EMFILE at that limit) it pauses accepting\n"
    "(10 ms to 1 s), serves the connections it has, and says so at most once a\n"
    "second. On SIGINT/SIGTERM it prints {\"accepted\": N, \"requests\": M,\n"
    "\"accept_errors\": K} on stdout and exits 0.\n"
    "\n"
    "      --listen IP:PORT    listen address; 127.0.0.1:8080 (port 0: any free port)\n"
    "      --listen unix:PATH  a Unix socket: give --listen twice for TCP and a socket\n"
    "  -t, --threads N         event loops, each with a SO_REUSEPORT listener; online CPUs\n"
    "      --body-bytes N      response body size; 13\n"
    "      --delay D           service time: each response waits D after its request\n"
    "                          (e.g. 100ms); none by default\n"
    "      --tls               HTTPS: self-signed ECDSA P-256 certificate made at start\n"
    "                          (localhost, 127.0.0.1, ::1), session tickets on\n"
    "      --cert FILE         PEM certificate (chain) to serve instead; with --key FILE\n"
    "      --key FILE          PEM private key matching --cert\n"
    "      --write-cert FILE   write the served certificate as PEM (for run "
    "--cacert)\n" PX_METRICS_USAGE "  -h, --help              this text\n";

static const struct px_cli_spec serve_spec = {.name = "serve",
                                              .usage = serve_usage,
                                              .groups = serve_groups,
                                              .ngroups = PX_NELEMS(serve_groups)};

/* --cert/--key/--write-cert need --tls; --cert and --key go together. */
static int check_tls(const struct px_serve_config *cfg, char *err, size_t errlen)
{
    if (!cfg->tls && (cfg->cert || cfg->key || cfg->write_cert))
        return px_cli_usage_error(err, errlen, "%s needs --tls",
                                  cfg->cert  ? "--cert"
                                  : cfg->key ? "--key"
                                             : "--write-cert");
    if (!cfg->cert != !cfg->key)
        return px_cli_usage_error(err, errlen,
                                  "%s needs its pair: give both --cert FILE and --key FILE",
                                  cfg->cert ? "--cert" : "--key");
    return PX_CLI_OK;
}

int px_serve_parse(int argc, char **argv, struct px_serve_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    memset(cfg, 0, sizeof(*cfg));
    px_server_config_defaults(&cfg->server);
    px_metrics_config_defaults(&cfg->metrics);
    int rc = px_cli_parse(&serve_spec, argc, argv, cfg, &args, err, errlen);
    cfg->server.delay_us = cfg->delay_ms * 1000;
    if (cfg->server.unix_only < 0)
        cfg->server.unix_only = 0;
    if (rc == PX_CLI_OK)
        rc = px_cli_no_operands(&args, argc, argv, err, errlen);
    return rc != PX_CLI_OK ? rc : check_tls(cfg, err, errlen);
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config, the server, the live metrics, and the counts once stopped. */
struct serve_state {
    struct px_serve_config cfg;
    struct px_server *srv;
    struct px_metrics *metrics; /* --metrics; NULL without */
    struct px_expo_serve counts;
};

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_serve_parse(argc, argv, &((struct serve_state *)state)->cfg, err, errlen);
}

static enum px_exit cmd_prepare(void *state)
{
    struct serve_state *s = state;
    return px_metrics_open(&s->metrics, "serve", &s->cfg.metrics, 0);
}

/* Where it listens, on stderr: the tests and scripts wait for this line. */
static void say_listening(const struct px_server *srv, const struct px_server_config *cfg)
{
    struct sockaddr_storage bound;
    px_server_address(srv, &bound);
    char where[80];
    px_sockaddr_str((struct sockaddr *)&bound, where, sizeof(where));
    const char *tls = cfg->tls ? " with TLS" : "";
    if (cfg->unix_only)
        fprintf(stderr, "portex serve: listening on unix:%s%s (%u threads)\n", cfg->unix_path, tls,
                cfg->threads);
    else if (cfg->unix_path[0])
        fprintf(stderr, "portex serve: listening on %s and unix:%s%s (%u threads)\n", where,
                cfg->unix_path, tls, cfg->threads);
    else
        fprintf(stderr, "portex serve: listening on %s%s (%u threads)\n", where, tls, cfg->threads);
}

/*
 * Below this many open files a load test's connections may well outnumber the
 * server's descriptors (Debian's default soft limit is 1024): worth a line. Above
 * it, saying so on every start would be noise; accept errors are reported anyway.
 */
#define NOFILE_ENOUGH 16384

/*
 * After the open-files limit was raised to the hard one (raise_errno: why
 * not), says so when it is still low: connections beyond it wait unaccepted.
 */
static void say_nofile(uint64_t soft, uint64_t hard, int raise_errno)
{
    if (raise_errno)
        fprintf(stderr,
                "portex serve: cannot raise the open-files limit from %llu to its hard limit "
                "%llu (%s)\n",
                (unsigned long long)soft, (unsigned long long)hard, strerror(raise_errno));
    else if (soft < NOFILE_ENOUGH)
        fprintf(stderr,
                "portex serve: open-files limit %llu, which is also the hard limit: fewer than "
                "%llu connections at once, the rest wait unaccepted; raise 'ulimit -Hn' for "
                "more\n",
                (unsigned long long)soft, (unsigned long long)soft);
}

/*
 * What to do about accept()'s errno err: EMFILE is the open-files limit,
 * ENFILE the system's, ENOBUFS and ENOMEM kernel memory.
 */
static const char *accept_advice(int err)
{
    switch (err) {
    case EMFILE:
        return "raise 'ulimit -n' (and the hard limit) for more connections at once";
    case ENFILE:
        return "the system's file table is full: raise fs.file-max or close files";
    case ENOBUFS:
    case ENOMEM:
        return "the kernel is short of memory for sockets";
    default:
        return "see accept(2)";
    }
}

/* One line on the accept() failures since the last one (`told` of them before). */
static uint64_t say_accept_errors(const struct px_server *srv, uint64_t told)
{
    uint64_t n;
    int err;
    px_server_accept_errors(srv, &n, &err);
    if (n == told)
        return n;
    fprintf(stderr,
            "portex serve: accept() failed: %s (%llu in the last second, %llu in all); new "
            "connections wait while the open ones are served; %s\n",
            strerror(err), (unsigned long long)(n - told), (unsigned long long)n,
            accept_advice(err));
    return n;
}

/* The server's counts now, into the state and the live metrics. */
static void take_counts(struct serve_state *s)
{
    struct px_expo_serve *c = &s->counts;
    int last_errno;
    px_server_counts(s->srv, &c->accepted, &c->requests);
    px_server_accept_errors(s->srv, &c->accept_errors, &last_errno);
    px_metrics_serve(s->metrics, c);
}

/* Serves until SIGINT or SIGTERM (blocked since main(), taken here). */
static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    (void)hlog;
    struct serve_state *s = state;
    struct px_server_config *srvcfg = &s->cfg.server;
    *status = PX_EXIT_FAILED;
    struct px_tls_server_opts tls_opts = {
        .cert_file = s->cfg.cert, .key_file = s->cfg.key, .write_cert = s->cfg.write_cert};
    if (s->cfg.tls && (srvcfg->tls = px_tls_server_new(&tls_opts, err, errlen)) == NULL)
        return -1;
    /* Raised first, as run does: accept() fails with EMFILE at the soft limit. */
    uint64_t soft, hard;
    int raise_errno = px_sock_raise_nofile(&soft, &hard) < 0 ? errno : 0;
    char msg[512];
    s->srv = px_server_new(srvcfg, msg, sizeof(msg));
    if (s->srv == NULL || px_server_start(s->srv, msg, sizeof(msg)) < 0) {
        char where[80];
        px_sockaddr_str((struct sockaddr *)&srvcfg->addr, where, sizeof(where));
        if (srvcfg->unix_path[0] && strstr(msg, srvcfg->unix_path)) /* names its Unix socket */
            snprintf(err, errlen, "%s", msg);
        else
            snprintf(err, errlen, "%s on %s", msg, where);
        return -1;
    }
    say_listening(s->srv, srvcfg);
    say_nofile(soft, hard, raise_errno);
    /* Wakes once a second: at most one line a second on accept()'s failures. */
    sigset_t stop_set;
    px_stop_set(&stop_set);
    const struct timespec tick = {.tv_sec = 1};
    uint64_t told = 0;
    while (!px_stop_wait(&stop_set, &tick)) {
        told = say_accept_errors(s->srv, told);
        take_counts(s);
    }
    px_server_stop(s->srv);
    take_counts(s);
    *status = PX_EXIT_OK;
    return 0;
}

static void text_cb(FILE *f, const void *state)
{
    const struct px_expo_serve *c = &((const struct serve_state *)state)->counts;
    json_t *line = json_object();
    px_jset(line, "accepted", px_ju64(c->accepted));
    px_jset(line, "requests", px_ju64(c->requests));
    px_jset(line, "accept_errors", px_ju64(c->accept_errors));
    px_json_print_line(f, line);
    json_decref(line);
}

static void after_reports(void *state)
{
    px_metrics_finish(((struct serve_state *)state)->metrics);
}

static void cmd_free(void *state)
{
    struct serve_state *s = state;
    px_metrics_free(s->metrics);
    px_server_free(s->srv);
    px_tls_free(s->cfg.server.tls);
}

static const struct px_report serve_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
};

const struct px_command px_serve_command = {
    .name = "serve",
    .operands = "",
    .summary = "the built-in HTTP target",
    .waits_for_stop = 1,
    .state_size = sizeof(struct serve_state),
    .parse = cmd_parse,
    .prepare = cmd_prepare,
    .run = cmd_run,
    .reports = serve_reports,
    .nreports = PX_NELEMS(serve_reports),
    .after_reports = after_reports,
    .free = cmd_free,
};
