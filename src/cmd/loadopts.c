/* SPDX-License-Identifier: MIT */
/*
 * The load's options (run, compare, ramp): the setters of values that only a
 * load has (headers, body, sources, ports, shards, TLS), their tables, the URL
 * operand with the checks between options, and the checks against this host
 * before the load.
 */
#include "portex/cmd/loadopts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "portex/base/parse.h"
#include "portex/base/url.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/sock.h"
#include "portex/load/engine.h"
#include "portex/load/load.h"
#include "portex/report/addresses.h"
#include "portex/load/stats.h"
#include "portex/load/tls.h"

#define PX_BODY_MAX (64 << 20) /* largest --body @FILE */

/* ---- setters of the load's values --------------------------------------- */

static int set_close(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                     size_t errlen)
{
    if (px_close_parse(arg, PX_CLI_FIELD(obj, d, enum px_close)) == 0)
        return PX_CLI_OK;
    return px_cli_bad_value(d, arg, "expected client, server or rst", err, errlen);
}

static int set_tls_version(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                           size_t errlen)
{
    if (px_tls_parse_version(arg, PX_CLI_FIELD(obj, d, int)) == 0)
        return PX_CLI_OK;
    return px_cli_bad_value(d, arg, "expected 1.2 or 1.3", err, errlen);
}

static int set_tls_resume(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                          size_t errlen)
{
    if (px_tls_parse_resume(arg, PX_CLI_FIELD(obj, d, int)) == 0)
        return PX_CLI_OK;
    return px_cli_bad_value(d, arg, "expected off or ticket", err, errlen);
}

static int set_method(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                      size_t errlen)
{
    size_t len = strlen(arg);
    int ok = len > 0 && len <= 20;
    for (const char *p = arg; ok && *p; p++)
        ok = isupper((unsigned char)*p) != 0;
    if (!ok)
        return px_cli_bad_value(d, arg, "expected an upper-case method such as GET or POST", err,
                                errlen);
    *PX_CLI_FIELD(obj, d, const char *) = arg;
    return PX_CLI_OK;
}

static int set_header(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                      size_t errlen)
{
    struct px_load *cfg = obj;
    if (px_parse_header(arg) < 0)
        return px_cli_bad_value(d, arg, "expected 'Name: value' on one line", err, errlen);
    if (cfg->nheaders >= PX_MAX_HEADERS)
        return px_cli_usage_error(err, errlen, "too many -H at '%s': %s", arg,
                                  "at most 64 headers");
    cfg->headers[cfg->nheaders++] = arg;
    return PX_CLI_OK;
}

static int read_body_file(const char *path, struct px_load *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read body file '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int too_big = 0;
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len < cap)
            break;
        /* A bound, so that @/dev/zero or a huge file is refused, not read forever. */
        if (cap >= PX_BODY_MAX) {
            too_big = 1;
            break;
        }
        char *grown = realloc(buf, cap * 2);
        if (grown == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f) || buf == NULL;
    fclose(f);
    if (bad || too_big) {
        free(buf);
        if (too_big)
            snprintf(err, errlen, "body file '%s' is larger than %d MiB: expected a smaller file",
                     path, PX_BODY_MAX >> 20);
        else
            snprintf(err, errlen, "cannot read body file '%s'", path);
        return -1;
    }
    cfg->body = buf;
    cfg->body_len = len;
    return 0;
}

/* True when sources a and b are the same IP address. */
static int same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* "A-B" (IPv4 range) or "IP[,IP...]" into cfg->sources. */
static int parse_sources(const char *arg, struct px_load *cfg, char *err, size_t errlen)
{
    char buf[4096];
    if (strlen(arg) >= sizeof(buf))
        return px_cli_usage_error(err, errlen, "--source '%.40s...' is too long: %s", arg,
                                  "at most 4095 characters");
    strcpy(buf, arg);
    char *dash = strchr(buf, '-');
    if (dash != NULL && strchr(buf, ',') == NULL && strchr(buf, ':') == NULL) {
        *dash = '\0';
        struct sockaddr_storage a, b;
        if (px_ip_parse(buf, &a) < 0 || px_ip_parse(dash + 1, &b) < 0 || a.ss_family != AF_INET ||
            b.ss_family != AF_INET)
            return px_cli_usage_error(err, errlen, "invalid --source range '%s': %s", arg,
                                      "expected IPv4 A-B, e.g. 127.0.0.2-127.0.0.5");
        uint32_t lo = ntohl(((struct sockaddr_in *)&a)->sin_addr.s_addr);
        uint32_t hi = ntohl(((struct sockaddr_in *)&b)->sin_addr.s_addr);
        if (lo > hi || hi - lo >= PX_MAX_SOURCES)
            return px_cli_usage_error(err, errlen, "invalid --source range '%s': %s", arg,
                                      "expected A <= B and at most 256 addresses");
        /* Counted, not compared: a range ending at 255.255.255.255 must not wrap. */
        uint32_t count = hi - lo + 1;
        for (uint32_t k = 0; k < count; k++) {
            struct sockaddr_in *in = (struct sockaddr_in *)&cfg->sources[cfg->nsources++];
            memset(in, 0, sizeof(cfg->sources[0]));
            in->sin_family = AF_INET;
            in->sin_addr.s_addr = htonl(lo + k);
        }
        return 0;
    }
    /* strtok_r would skip an empty entry silently. */
    size_t n = strlen(buf);
    if (n == 0 || buf[0] == ',' || buf[n - 1] == ',' || strstr(buf, ",,") != NULL)
        return px_cli_usage_error(err, errlen, "invalid --source '%s': %s", arg,
                                  "expected IP[,IP...] or A-B, no empty entry");
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (cfg->nsources >= PX_MAX_SOURCES)
            return px_cli_usage_error(err, errlen, "--source '%s' names too many addresses: %s",
                                      arg, "at most 256");
        if (px_ip_parse(tok, &cfg->sources[cfg->nsources]) < 0)
            return px_cli_usage_error(err, errlen, "invalid --source address '%s': %s", tok,
                                      "expected a numeric IPv4 or IPv6 address");
        /* A repeated address adds no port: counted twice, it doubled the ceiling. */
        for (size_t i = 0; i < cfg->nsources; i++)
            if (same_ip(&cfg->sources[i], &cfg->sources[cfg->nsources]))
                return px_cli_usage_error(err, errlen,
                                          "invalid --source '%s': %s is given twice (%s)", arg, tok,
                                          "a repeated address adds no port");
        cfg->nsources++;
    }
    if (cfg->nsources == 0)
        return px_cli_usage_error(err, errlen, "invalid --source '%s': %s", arg,
                                  "expected IP[,IP...] or A-B");
    return 0;
}

static int set_body(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                    size_t errlen)
{
    (void)d;
    struct px_load *cfg = obj;
    free(cfg->body);
    cfg->body = NULL;
    cfg->body_len = 0;
    if (arg[0] == '@')
        return read_body_file(arg + 1, cfg, err, errlen) < 0 ? PX_CLI_USAGE : PX_CLI_OK;
    cfg->body = strdup(arg);
    if (cfg->body == NULL)
        return px_cli_usage_error(err, errlen, "out of memory for --body");
    cfg->body_len = strlen(arg);
    return PX_CLI_OK;
}

static int set_port_range(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                          size_t errlen)
{
    struct px_load *cfg = obj;
    if (px_parse_port_range(arg, &cfg->port_lo, &cfg->port_hi) == 0)
        return PX_CLI_OK;
    return px_cli_bad_value(d, arg, "expected LO-HI with 1 <= LO <= HI <= 65535", err, errlen);
}

static int set_shard(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                     size_t errlen)
{
    struct px_load *cfg = obj;
    if (px_parse_shard(arg, &cfg->shard, &cfg->shards) == 0)
        return PX_CLI_OK;
    return px_cli_bad_value(d, arg, "expected K/N with 0 <= K < N, such as 0/4", err, errlen);
}

static int set_start_at(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                        size_t errlen)
{
    struct px_load *cfg = obj;
    if (px_parse_wallclock(arg, &cfg->start_at_ns) == 0)
        return PX_CLI_OK;
    return px_cli_bad_value(
        d, arg, "expected unix seconds (1767225600.5) or RFC 3339 (2026-01-01T00:00:00Z)", err,
        errlen);
}

static int set_source(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                      size_t errlen)
{
    (void)d;
    struct px_load *cfg = obj;
    cfg->nsources = 0;
    return parse_sources(arg, cfg, err, errlen) < 0 ? PX_CLI_USAGE : PX_CLI_OK;
}

/* ---- the tables --------------------------------------------------------- */

#define CFG(field) offsetof(struct px_load, field)

const struct px_cli_opt px_loadopts_load[] = {
    {.name = "connections",
     .letter = 'c',
     .set = px_cli_set_unsigned,
     .off = CFG(connections),
     .lo = 1,
     .hi = 1000000},
    {.name = "rate", .letter = 'r', .set = px_cli_set_rate, .off = CFG(rate_per_s)},
    {.name = "duration",
     .letter = 'd',
     .set = px_cli_set_duration,
     .off = CFG(duration_ms),
     .lo = 1},
    {.name = "requests",
     .letter = 'n',
     .set = px_cli_set_u64,
     .off = CFG(requests),
     .lo = 1,
     .hi = UINT64_MAX / 2,
     .expect = "expected a whole number of requests >= 1"},
    {.name = "threads",
     .letter = 't',
     .set = px_cli_set_unsigned,
     .off = CFG(threads),
     .lo = 1,
     .hi = 1024},
    {.name = "method", .letter = 'm', .set = set_method, .off = CFG(method)},
    {.name = "header", .letter = 'H', .set = set_header},
    {.name = "body", .set = set_body},
    {.name = "timeout", .set = px_cli_set_duration, .off = CFG(timeout_ms), .lo = 1},
    {.name = "connect-timeout",
     .set = px_cli_set_duration,
     .off = CFG(connect_timeout_ms),
     .lo = 1},
    {.name = "port-range", .set = set_port_range},
    {.name = "source", .set = set_source},
    {.name = "interval", .set = px_cli_set_duration, .off = CFG(interval_ms), .lo = 100},
    {.name = "no-retry", .flag = 1, .set = px_cli_set_flag, .off = CFG(no_retry)},
    {.name = "unix", .set = px_cli_set_path, .off = CFG(unix_path)},
    {.name = "ipv4", .letter = '4', .flag = 1, .set = px_cli_set_family, .off = CFG(family)},
    {.name = "ipv6", .letter = '6', .flag = 1, .set = px_cli_set_family, .off = CFG(family)},
    {.name = NULL},
};

const struct px_cli_opt px_loadopts_close[] = {
    {.name = "keepalive", .letter = 'k', .flag = 1, .set = px_cli_set_flag, .off = CFG(keepalive)},
    {.name = "close", .set = set_close, .off = CFG(close)},
    {.name = "requests-per-conn",
     .set = px_cli_set_unsigned,
     .off = CFG(requests_per_conn),
     .lo = 1,
     .hi = 1000000},
    {.name = NULL},
};

const struct px_cli_opt px_loadopts_h2[] = {
    {.name = "http2", .flag = 1, .set = px_cli_set_flag, .off = CFG(http2)},
    {.name = "streams", .set = px_cli_set_unsigned, .off = CFG(streams), .lo = 1, .hi = 1000},
    {.name = NULL},
};

const struct px_cli_opt px_loadopts_tls[] = {
    {.name = "insecure", .flag = 1, .set = px_cli_set_flag, .off = CFG(tls_insecure)},
    {.name = "cacert", .set = px_cli_set_path, .off = CFG(tls_cacert)},
    {.name = "tls-version", .set = set_tls_version, .off = CFG(tls_version)},
    {.name = "tls-resume", .set = set_tls_resume, .off = CFG(tls_resume)},
    {.name = NULL},
};

const struct px_cli_opt px_loadopts_shard[] = {
    {.name = "shard", .set = set_shard},
    {.name = "start-at", .set = set_start_at},
    {.name = NULL},
};

/* ---- after the options, before the load --------------------------------- */

int px_loadopts_finish(const struct px_cli_args *args, int argc, char **argv, struct px_load *cfg,
                       const struct px_outputs *out, char *err, size_t errlen)
{
    int url = args->operand;
    if (url >= argc)
        return px_cli_usage_error(err, errlen, "missing URL: expected portex %s [options] %s",
                                  args->spec->name, "http://host[:port][/path]");
    if (url + 1 < argc)
        return px_cli_usage_error(err, errlen, "unexpected argument '%s': %s", argv[url + 1],
                                  "give one URL");
    if (px_cli_url(argv[url], cfg->url_text, sizeof(cfg->url_text), &cfg->url, err, errlen) < 0)
        return PX_CLI_USAGE;
    if (cfg->unix_path && px_url_set_unix(&cfg->url, cfg->unix_path, err, errlen) < 0)
        return PX_CLI_USAGE;
    if (px_cli_one_stdout(out, err, errlen) != PX_CLI_OK)
        return PX_CLI_USAGE;
    /* -n alone: run until the count, not for the default duration. */
    if (cfg->requests && !px_cli_given(args, "duration"))
        cfg->duration_ms = 0;
    if (cfg->requests_per_conn && !cfg->keepalive)
        return px_cli_usage_error(err, errlen, "--requests-per-conn %u %s", cfg->requests_per_conn,
                                  "needs -k: it counts requests on a kept-alive connection");
    if (cfg->keepalive && px_cli_given(args, "close") && cfg->close != PX_CLOSE_SERVER &&
        !cfg->requests_per_conn)
        return px_cli_usage_error(
            err, errlen, "--close %s %s", px_close_name(cfg->close),
            "applies to short connections (or -k --requests-per-conn N) only");
    if (px_cli_given(args, "streams") && !cfg->http2)
        return px_cli_usage_error(err, errlen, "--streams %u %s", cfg->streams,
                                  "needs --http2: HTTP/1.1 carries one request at a time");
    if (cfg->streams > 1 && !cfg->keepalive)
        return px_cli_usage_error(err, errlen, "--streams %u %s", cfg->streams,
                                  "needs -k: a short connection carries one request");
    if (!cfg->url.tls && (px_cli_given(args, "insecure") || px_cli_given(args, "cacert") ||
                          px_cli_given(args, "tls-version") || px_cli_given(args, "tls-resume")))
        return px_cli_usage_error(err, errlen,
                                  "--insecure, --cacert, --tls-version and --tls-resume %s",
                                  "apply to https:// URLs only");
    return PX_CLI_OK;
}

/*
 * Resolves the URL and picks the address the load goes to: the first that answers
 * a probe, else the first (px_sock_pick); a line on stderr when an address was
 * passed over or none answered. 0, or -1 when the name does not resolve (said).
 */
static int pick_target(const char *cmd, struct px_load *cfg)
{
    char err[512];
    /* --source addresses fix the family: the other one cannot be reached from them. */
    int family =
        cfg->family == AF_UNSPEC && cfg->nsources ? cfg->sources[0].ss_family : cfg->family;
    int n = px_url_resolve_all(&cfg->url, family, cfg->addrs, PX_URL_ADDRS_MAX, err, sizeof(err));
    /* None of the sources' family: resolve as asked, and the preflight names --source. */
    if (n < 0 && family != cfg->family)
        n = px_url_resolve_all(&cfg->url, cfg->family, cfg->addrs, PX_URL_ADDRS_MAX, err,
                               sizeof(err));
    if (n < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        return -1;
    }
    cfg->naddrs = (size_t)n;
    size_t i = px_sock_pick(cfg->addrs, cfg->naddrs, cfg->connect_timeout_ms);
    cfg->target = cfg->addrs[i].ss;
    cfg->target_len = cfg->addrs[i].len;
    if (n > 1 && (i > 0 || cfg->addrs[i].probe != PX_ADDR_ANSWERED)) {
        char words[1024];
        px_addrs_target_words(words, sizeof(words), &cfg->url, cfg->family, &cfg->target,
                              cfg->addrs, cfg->naddrs);
        fprintf(stderr, "portex %s: to %s\n", cmd, words);
    }
    return 0;
}

/* Output files still to open (each an fd for the whole run; "-" is stdout). */
static unsigned output_files(const struct px_outputs *out)
{
    const char *paths[] = {out->json, out->csv, out->svg, out->hlog};
    unsigned n = 0;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        n += paths[i] != NULL && strcmp(paths[i], "-") != 0;
    return n;
}

/* An event loop's fds (epoll, the signal socketpair, the notify eventfd; the open
 * model's timerfd too), as measured with libevent 2.1: what measuring one needs free. */
#define LOOP_FDS_CLOSED 4
#define LOOP_FDS_OPEN   5

/* Not even one connection fits beside what the run holds: said, with the limit it needs. */
static void say_no_room(const char *cmd, uint64_t soft, uint64_t hard,
                        const struct px_fd_reserve *r, unsigned files, unsigned scrapers)
{
    char metrics[48] = "";
    if (scrapers)
        snprintf(metrics, sizeof(metrics), ", %u for --metrics scrapers", scrapers);
    fprintf(stderr,
            "portex %s: the open-files limit (soft %llu, hard %llu) leaves no fd for a "
            "connection: portex holds %u fds open now and needs %u output file%s%s, %u for the "
            "stats thread (sock_diag socket, /proc reads) and %u for an event loop; raise "
            "'ulimit -n' to at least %u\n",
            cmd, (unsigned long long)soft, (unsigned long long)hard, r->open_now, files,
            files == 1 ? "" : "s", metrics, px_stats_fds(), r->per_thread,
            r->open_now + r->later + r->per_thread + 1);
}

/*
 * Raises the soft open-files limit to the hard one and lowers -c (and -t)
 * to what fits beside the fds the process holds now and will open for the
 * run, each counted: what is open, the outputs, the stats thread's, and each
 * worker thread's event loop (measured). 0, or -1 with the message printed
 * (also when not one connection fits: every request would fail with EMFILE).
 */
static int fit_nofile(const char *cmd, struct px_load *cfg, const struct px_outputs *out)
{
    uint64_t soft, hard;
    px_sock_raise_nofile(&soft, &hard);
    unsigned open_now = px_fd_count(PX_PROC, soft);
    /* Measuring makes a loop, and libevent exits the process when it cannot make its
     * signal socketpair: under that few free fds, what a loop took when measured. */
    int per_thread = soft != RLIM_INFINITY && soft < (uint64_t)open_now + LOOP_FDS_OPEN
                         ? (cfg->rate_per_s > 0 ? LOOP_FDS_OPEN : LOOP_FDS_CLOSED)
                         : px_engine_thread_fds(cfg);
    if (per_thread < 0) {
        fprintf(stderr, "portex %s: cannot make an epoll event loop with edge triggers\n", cmd);
        return -1;
    }
    unsigned files = output_files(out);
    struct px_fd_reserve r = {.open_now = open_now,
                              .later = files + px_stats_fds() + out->scrapers,
                              .per_thread = (unsigned)per_thread};
    unsigned asked = cfg->connections, threads = cfg->threads;
    unsigned fit = px_sock_fit_nofile(soft, &r, asked, &threads);
    if (fit == asked)
        return 0;
    if (fit == 0) {
        say_no_room(cmd, soft, hard, &r, files, out->scrapers);
        return -1;
    }
    unsigned t = threads < fit ? threads : fit; /* the worker threads, one event loop each */
    char lowered_t[32] = "";
    if (threads < cfg->threads && threads < asked)
        snprintf(lowered_t, sizeof(lowered_t), " -t %u", threads);
    char scrapers[48] = "";
    if (out->scrapers)
        snprintf(scrapers, sizeof(scrapers), ", %u for --metrics scrapers", out->scrapers);
    fprintf(stderr,
            "portex %s: -c %u does not fit the open-files limit (soft %llu, hard %llu): "
            "besides its connections portex holds %u fds open now, %u output file%s%s, %u for "
            "the stats thread (sock_diag socket, /proc reads) and %u for each of %u event "
            "loop%s (measured); running with -c %u%s (raise 'ulimit -n' for more)\n",
            cmd, asked, (unsigned long long)soft, (unsigned long long)hard, r.open_now, files,
            files == 1 ? "" : "s", scrapers, px_stats_fds(), r.per_thread, t, t == 1 ? "" : "s",
            fit, lowered_t);
    cfg->connections = fit;
    cfg->threads = threads;
    return 0;
}

enum px_exit px_loadopts_prepare(const char *cmd, struct px_load *cfg, const struct px_outputs *out)
{
    char err[512];
    if (cfg->url.unix_path[0] && (cfg->port_lo || cfg->nsources || cfg->family)) {
        fprintf(stderr, "portex %s: %s does not apply to a Unix-socket target (no ports)\n", cmd,
                cfg->port_lo    ? "--port-range"
                : cfg->nsources ? "--source"
                                : "-4/-6");
        return PX_EXIT_USAGE;
    }
    if (pick_target(cmd, cfg) < 0)
        return PX_EXIT_FAILED;
    if (px_sock_preflight(cfg->target.ss_family, cfg->port_lo, cfg->port_hi, cfg->sources,
                          cfg->nsources, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        return PX_EXIT_USAGE;
    }
    /* A bound outside the namespace range is ignored by the kernel: say so. */
    unsigned ns_lo, ns_hi, lo, hi;
    if (cfg->port_lo && px_port_range(PX_PROC, &ns_lo, &ns_hi) == 0 &&
        (cfg->port_lo < ns_lo || cfg->port_hi > ns_hi)) {
        px_usable_ports(ns_lo, ns_hi, cfg->port_lo, cfg->port_hi, "", &lo, &hi);
        fprintf(stderr,
                "portex %s: --port-range %u-%u is not inside ip_local_port_range %u-%u: "
                "the kernel uses %u-%u\n",
                cmd, cfg->port_lo, cfg->port_hi, ns_lo, ns_hi, lo, hi);
    }
    if (fit_nofile(cmd, cfg, out) < 0)
        return PX_EXIT_FAILED;
    if (cfg->threads > cfg->connections)
        cfg->threads = cfg->connections;
    return PX_EXIT_OK;
}
