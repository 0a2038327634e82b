/* SPDX-License-Identifier: MIT */
/* getopt_long into configs, then validation. Every refusal names the value. */
#include "portex/cmd/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/cmd/compare.h"
#include "portex/base/config.h"
#include "portex/cmd/doctor.h"
#include "portex/cmd/lab.h"
#include "portex/base/parse.h"
#include "portex/load/server.h"

enum {
    OPT_BODY = 256,
    OPT_TIMEOUT,
    OPT_CONNECT_TIMEOUT,
    OPT_CLOSE,
    OPT_JSON,
    OPT_PORT_RANGE,
    OPT_SOURCE,
    OPT_LISTEN,
    OPT_BODY_BYTES,
    OPT_CSV,
    OPT_INTERVAL,
    OPT_PORTS,
    OPT_MODES,
    OPT_REUSE_DELAY,
    OPT_SVG,
    OPT_ALLOW_SYSCTL,
    OPT_NO_DRAIN,
    OPT_TLS,
    OPT_CERT,
    OPT_KEY,
    OPT_WRITE_CERT,
    OPT_INSECURE,
    OPT_CACERT,
    OPT_TLS_VERSION,
    OPT_TLS_RESUME,
};

static const char run_usage[] =
    "usage: portex run [options] URL\n"
    "\n"
    "Drive an HTTP server with short connections (one per request) or keep-alive,\n"
    "and tell exactly why requests fail (EADDRNOTAVAIL = no free local port).\n"
    "\n"
    "  -c, --connections N     in-flight connections (closed model) or cap (open); 64\n"
    "  -r, --rate R            open model: R new requests per second on a fixed timetable\n"
    "  -d, --duration D        run time: 500ms, 10s, 2m; default 10s\n"
    "  -n, --requests N        exactly N requests, then stop\n"
    "  -t, --threads N         worker threads; default: online CPUs\n"
    "  -k, --keepalive         persistent HTTP/1.1 connections\n"
    "      --close WHO         short mode: client (default; client holds TIME_WAIT),\n"
    "                          server (Connection: close, server closes first),\n"
    "                          rst (SO_LINGER 0: RST, no TIME_WAIT)\n"
    "  -m, --method M          request method; GET\n"
    "  -H, --header 'N: v'     extra request header (repeatable)\n"
    "      --body S|@FILE      request body\n"
    "      --connect-timeout D connect timeout; 3s\n"
    "      --timeout D         whole-request timeout; 10s\n"
    "      --port-range LO-HI  per-socket local port range (IP_LOCAL_PORT_RANGE, 6.3+)\n"
    "      --source IP[,IP..]  source addresses, round robin (also A-B for IPv4)\n"
    "      --interval D        stats tick (series row, live line); 1s, at least 100ms\n"
    "  -q, --quiet             no live line on stderr\n"
    "      --json FILE         JSON result ('-' for stdout)\n"
    "      --csv FILE          the time series as CSV ('-' for stdout)\n"
    "      --svg FILE          chart of ok/s, EADDRNOTAVAIL/s and TIME_WAIT over time\n"
    "https:// URLs (TLS: SNI from the host, ALPN http/1.1, the system CA store):\n"
    "      --insecure          do not verify the server's certificate\n"
    "      --cacert FILE       trust the CA certificates (PEM) in FILE instead\n"
    "      --tls-version V     1.2 or 1.3 only; default: what both ends agree\n"
    "      --tls-resume R      off (default: every connection a full handshake) or\n"
    "                          ticket (each thread offers the last session it got)\n"
    "  -h, --help              this text\n";

static const char compare_usage[] =
    "usage: portex compare [options] URL\n"
    "\n"
    "The same load against a real server under several modes, one table: keepalive,\n"
    "server-close, rst, short (current settings); with --allow-sysctl (root) also\n"
    "short-noreuse and short-reuse (net.ipv4.tcp_tw_reuse 0 and 1, restored after\n"
    "each mode and on SIGINT/SIGTERM). Between modes it waits while this run's\n"
    "TIME_WAIT sockets toward the target hold over 5% of the ports, unless --no-drain.\n"
    "\n"
    "  load options as for portex run: -c -r -d -n -t -m -H --body --timeout\n"
    "  --connect-timeout --port-range --source --interval -q\n"
    "  https: --insecure --cacert --tls-version --tls-resume\n"
    "      --modes LIST        keepalive,server-close,rst,short,short-noreuse,short-reuse\n"
    "      --allow-sysctl      let the reuse modes set net.ipv4.tcp_tw_reuse (root)\n"
    "      --no-drain          do not wait for TIME_WAIT between modes\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "      --svg FILE          chart, one panel per mode\n"
    "      --csv FILE          every mode's series as CSV\n"
    "  -h, --help              this text\n";

static const char serve_usage[] =
    "usage: portex serve [options]\n"
    "\n"
    "The built-in HTTP/1.1 target: keep-alive honoured; on Connection: close or\n"
    "HTTP/1.0 the server answers and closes first. On SIGINT/SIGTERM it prints\n"
    "{\"accepted\": N, \"requests\": M} on stdout and exits 0.\n"
    "\n"
    "      --listen IP:PORT    listen address; 127.0.0.1:8080 (port 0: any free port)\n"
    "  -t, --threads N         event loops, each with a SO_REUSEPORT listener; online CPUs\n"
    "      --body-bytes N      response body size; 13\n"
    "      --tls               HTTPS: self-signed ECDSA P-256 certificate made at start\n"
    "                          (localhost, 127.0.0.1, ::1), session tickets on\n"
    "      --cert FILE         PEM certificate (chain) to serve instead; with --key FILE\n"
    "      --key FILE          PEM private key matching --cert\n"
    "      --write-cert FILE   write the served certificate as PEM (for run --cacert)\n"
    "  -h, --help              this text\n";

__attribute__((format(printf, 3, 4))) static int usage_error(char *err, size_t errlen,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return PX_CLI_USAGE;
}

/* -r for run and lab. */
static int opt_rate(const char *arg, double *out, char *err, size_t errlen)
{
    if (px_parse_rate(arg, out) < 0)
        return usage_error(err, errlen, "invalid -r '%s': %s", arg,
                           "expected requests per second > 0, e.g. 2000 or 1.5k");
    return PX_CLI_OK;
}

/* A duration option (-d, --timeout, ...), > 0, at least min_ms. */
static int opt_duration(const char *name, const char *arg, uint64_t min_ms, uint64_t *out,
                        char *err, size_t errlen)
{
    if (px_parse_duration_ms(arg, out) < 0 || *out < min_ms)
        return usage_error(err, errlen,
                           "invalid %s '%s': expected a duration of at least %llu ms "
                           "such as 500ms, 10s or 2m",
                           name, arg, (unsigned long long)min_ms);
    return PX_CLI_OK;
}

/* Whole-number options with a range. */
static int opt_count(const char *name, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out,
                     char *err, size_t errlen)
{
    if (px_parse_u64(arg, lo, hi, out) < 0)
        return usage_error(err, errlen,
                           "invalid %s '%s': expected a whole number from %llu to %llu", name, arg,
                           (unsigned long long)lo, (unsigned long long)hi);
    return PX_CLI_OK;
}

static int unknown_option(char **argv, char *err, size_t errlen, const char *cmd)
{
    if (optopt != 0)
        snprintf(err, errlen, "unknown option '-%c' (see portex %s --help)", optopt, cmd);
    else
        snprintf(err, errlen, "unknown option '%s' (see portex %s --help)", argv[optind - 1], cmd);
    return PX_CLI_USAGE;
}

static int read_body_file(const char *path, struct px_config *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read body file '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len < cap)
            break;
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
    if (bad) {
        free(buf);
        snprintf(err, errlen, "cannot read body file '%s'", path);
        return -1;
    }
    cfg->body = buf;
    cfg->body_len = len;
    return 0;
}

/* "A-B" (IPv4 range) or "IP[,IP...]" into cfg->sources. */
static int parse_sources(const char *arg, struct px_config *cfg, char *err, size_t errlen)
{
    char buf[4096];
    if (strlen(arg) >= sizeof(buf))
        return usage_error(err, errlen, "--source '%.40s...' is too long: %s", arg,
                           "at most 4095 characters");
    strcpy(buf, arg);
    char *dash = strchr(buf, '-');
    if (dash != NULL && strchr(buf, ',') == NULL && strchr(buf, ':') == NULL) {
        *dash = '\0';
        struct sockaddr_storage a, b;
        if (px_ip_parse(buf, &a) < 0 || px_ip_parse(dash + 1, &b) < 0 || a.ss_family != AF_INET ||
            b.ss_family != AF_INET)
            return usage_error(err, errlen, "invalid --source range '%s': %s", arg,
                               "expected IPv4 A-B, e.g. 127.0.0.2-127.0.0.5");
        uint32_t lo = ntohl(((struct sockaddr_in *)&a)->sin_addr.s_addr);
        uint32_t hi = ntohl(((struct sockaddr_in *)&b)->sin_addr.s_addr);
        if (lo > hi || hi - lo >= PX_MAX_SOURCES)
            return usage_error(err, errlen, "invalid --source range '%s': %s", arg,
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
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (cfg->nsources >= PX_MAX_SOURCES)
            return usage_error(err, errlen, "--source '%s' names too many addresses: %s", arg,
                               "at most 256");
        if (px_ip_parse(tok, &cfg->sources[cfg->nsources]) < 0)
            return usage_error(err, errlen, "invalid --source address '%s': %s", tok,
                               "expected a numeric IPv4 or IPv6 address");
        cfg->nsources++;
    }
    if (cfg->nsources == 0)
        return usage_error(err, errlen, "invalid --source '%s': %s", arg,
                           "expected IP[,IP...] or A-B");
    return 0;
}

static int parse_method(const char *m)
{
    if (*m == '\0' || strlen(m) > 20)
        return -1;
    for (const char *p = m; *p; p++)
        if (!isupper((unsigned char)*p))
            return -1;
    return 0;
}

/* The https options of run and compare: 1 taken, 0 not a TLS option, -1 bad value. */
static int tls_option(int c, const char *arg, struct px_config *cfg, char *err, size_t errlen)
{
    switch (c) {
    case OPT_INSECURE:
        cfg->tls_insecure = 1;
        return 1;
    case OPT_CACERT:
        cfg->tls_cacert = arg;
        return 1;
    case OPT_TLS_VERSION:
        if (px_parse_tls_version(arg, &cfg->tls_version) == 0)
            return 1;
        usage_error(err, errlen, "invalid --tls-version '%s': expected 1.2 or 1.3", arg);
        return -1;
    case OPT_TLS_RESUME:
        if (px_parse_tls_resume(arg, &cfg->tls_resume) == 0)
            return 1;
        usage_error(err, errlen, "invalid --tls-resume '%s': expected off or ticket", arg);
        return -1;
    default:
        return 0;
    }
}

/* `run` and `compare` share the load options; cmp is NULL for run. */
static int parse_load(int argc, char **argv, struct px_config *cfg, struct px_compare_config *cmp,
                      char *err, size_t errlen)
{
    const char *cmd = cmp ? "compare" : "run";
    static const struct option opts[] = {
        {"connections", required_argument, NULL, 'c'},
        {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"requests", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},
        {"keepalive", no_argument, NULL, 'k'},
        {"method", required_argument, NULL, 'm'},
        {"header", required_argument, NULL, 'H'},
        {"body", required_argument, NULL, OPT_BODY},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"close", required_argument, NULL, OPT_CLOSE},
        {"port-range", required_argument, NULL, OPT_PORT_RANGE},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"json", required_argument, NULL, OPT_JSON},
        {"csv", required_argument, NULL, OPT_CSV},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"modes", required_argument, NULL, OPT_MODES},
        {"allow-sysctl", no_argument, NULL, OPT_ALLOW_SYSCTL},
        {"no-drain", no_argument, NULL, OPT_NO_DRAIN},
        {"svg", required_argument, NULL, OPT_SVG},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"cacert", required_argument, NULL, OPT_CACERT},
        {"tls-version", required_argument, NULL, OPT_TLS_VERSION},
        {"tls-resume", required_argument, NULL, OPT_TLS_RESUME},
        {NULL, 0, NULL, 0},
    };
    px_config_defaults(cfg);
    int duration_given = 0, close_given = 0, tls_given = 0;
    uint64_t v;
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":c:r:d:n:t:km:H:qh", opts, NULL);
        if (c == -1)
            break;
        if (cmp == NULL && (c == OPT_MODES || c == OPT_ALLOW_SYSCTL || c == OPT_NO_DRAIN))
            return unknown_option(argv, err, errlen, cmd);
        if (cmp != NULL && (c == 'k' || c == OPT_CLOSE))
            return usage_error(err, errlen, "option '%s' %s", argv[optind - 1],
                               "is set by each compare mode: choose modes with --modes");
        int tls_rc = tls_option(c, optarg, cfg, err, errlen);
        if (tls_rc != 0) {
            if (tls_rc < 0)
                return PX_CLI_USAGE;
            tls_given = 1;
            continue;
        }
        switch (c) {
        case 'c':
            if (opt_count("-c", optarg, 1, 1000000, &v, err, errlen) < 0)
                return PX_CLI_USAGE;
            cfg->connections = (unsigned)v;
            break;
        case 'r':
            if (opt_rate(optarg, &cfg->rate_per_s, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case 'd':
            if (opt_duration("-d", optarg, 1, &cfg->duration_ms, err, errlen) < 0)
                return PX_CLI_USAGE;
            duration_given = 1;
            break;
        case 'n':
            if (px_parse_u64(optarg, 1, UINT64_MAX / 2, &cfg->requests) < 0)
                return usage_error(err, errlen, "invalid -n '%s': %s", optarg,
                                   "expected a whole number of requests >= 1");
            break;
        case 't':
            if (opt_count("-t", optarg, 1, 1024, &v, err, errlen) < 0)
                return PX_CLI_USAGE;
            cfg->threads = (unsigned)v;
            break;
        case 'k':
            cfg->keepalive = 1;
            break;
        case 'm':
            if (parse_method(optarg) < 0)
                return usage_error(err, errlen, "invalid -m '%s': %s", optarg,
                                   "expected an upper-case method such as GET or POST");
            cfg->method = optarg;
            break;
        case 'H':
            if (px_parse_header(optarg) < 0)
                return usage_error(err, errlen, "invalid -H '%s': %s", optarg,
                                   "expected 'Name: value' on one line");
            if (cfg->nheaders >= PX_MAX_HEADERS)
                return usage_error(err, errlen, "too many -H at '%s': %s", optarg,
                                   "at most 64 headers");
            cfg->headers[cfg->nheaders++] = optarg;
            break;
        case OPT_BODY:
            free(cfg->body);
            cfg->body = NULL;
            if (optarg[0] == '@') {
                if (read_body_file(optarg + 1, cfg, err, errlen) < 0)
                    return PX_CLI_USAGE;
            } else {
                cfg->body_len = strlen(optarg);
                cfg->body = strdup(optarg);
            }
            break;
        case OPT_TIMEOUT:
            if (opt_duration("--timeout", optarg, 1, &cfg->timeout_ms, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (opt_duration("--connect-timeout", optarg, 1, &cfg->connect_timeout_ms, err,
                             errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case OPT_CLOSE:
            if (strcmp(optarg, "client") == 0)
                cfg->close = PX_CLOSE_CLIENT;
            else if (strcmp(optarg, "server") == 0)
                cfg->close = PX_CLOSE_SERVER;
            else if (strcmp(optarg, "rst") == 0)
                cfg->close = PX_CLOSE_RST;
            else
                return usage_error(err, errlen, "invalid --close '%s': %s", optarg,
                                   "expected client, server or rst");
            close_given = 1;
            break;
        case OPT_PORT_RANGE:
            if (px_parse_port_range(optarg, &cfg->port_lo, &cfg->port_hi) < 0)
                return usage_error(err, errlen, "invalid --port-range '%s': %s", optarg,
                                   "expected LO-HI with 1 <= LO <= HI <= 65535");
            break;
        case OPT_SOURCE:
            cfg->nsources = 0;
            if (parse_sources(optarg, cfg, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case OPT_JSON:
            cfg->json_path = optarg;
            break;
        case OPT_CSV:
            cfg->csv_path = optarg;
            break;
        case OPT_INTERVAL:
            if (opt_duration("--interval", optarg, 100, &cfg->interval_ms, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case 'q':
            cfg->quiet = 1;
            break;
        case OPT_MODES:
            if (px_compare_parse_modes(optarg, cmp, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case OPT_ALLOW_SYSCTL:
            cmp->allow_sysctl = 1;
            break;
        case OPT_NO_DRAIN:
            cmp->no_drain = 1;
            break;
        case OPT_SVG:
            cfg->svg_path = optarg;
            break;
        case 'h':
            fputs(cmp ? compare_usage : run_usage, stdout);
            return PX_CLI_HELP;
        case ':':
            return usage_error(err, errlen, "option '%s' needs a value (see portex %s --help)",
                               argv[optind - 1], cmd);
        default:
            return unknown_option(argv, err, errlen, cmd);
        }
    }
    if (optind >= argc)
        return usage_error(err, errlen, "missing URL: expected portex %s [options] %s", cmd,
                           "http://host[:port][/path]");
    if (optind + 1 < argc)
        return usage_error(err, errlen, "unexpected argument '%s': %s", argv[optind + 1],
                           "give one URL");
    const char *url = argv[optind];
    if (strlen(url) >= sizeof(cfg->url_text))
        return usage_error(err, errlen, "URL '%.60s...' is too long: %s", url,
                           "at most 2300 characters");
    strcpy(cfg->url_text, url);
    if (px_url_parse(url, &cfg->url, err, errlen) < 0)
        return PX_CLI_USAGE;
    if (tls_given && !cfg->url.tls)
        return usage_error(err, errlen, "--insecure, --cacert, --tls-version and --tls-resume %s",
                           "apply to https:// URLs only");
    if (cfg->requests && !duration_given)
        cfg->duration_ms = 0;
    if (cfg->keepalive && close_given && cfg->close != PX_CLOSE_SERVER)
        return usage_error(err, errlen, "--close %s %s", px_close_name(cfg->close),
                           "applies to short connections only: drop -k or --close");
    return PX_CLI_OK;
}

int px_cli_parse_run(int argc, char **argv, struct px_config *cfg, char *err, size_t errlen)
{
    return parse_load(argc, argv, cfg, NULL, err, errlen);
}

int px_cli_parse_compare(int argc, char **argv, struct px_compare_config *cfg, char *err,
                         size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->drain_max_ms = 65000; /* TIME_WAIT is 60 s; a little margin */
    int rc = parse_load(argc, argv, &cfg->base, cfg, err, errlen);
    if (rc == PX_CLI_OK) {
        /* Default per mode: 10 s, or the -d/-n given. */
        px_compare_default_modes(cfg);
    }
    return rc;
}

/* --cert/--key/--write-cert need --tls; --cert and --key go together. */
static int check_serve_tls(const struct px_server_config *cfg, char *err, size_t errlen)
{
    const struct px_tls_server_opts *o = &cfg->tls_opts;
    if (!cfg->tls_enabled && (o->cert_file || o->key_file || o->write_cert))
        return usage_error(err, errlen, "%s %s",
                           o->cert_file  ? "--cert"
                           : o->key_file ? "--key"
                                         : "--write-cert",
                           "needs --tls");
    if (!o->cert_file != !o->key_file)
        return usage_error(err, errlen, "%s %s", o->cert_file ? "--cert" : "--key",
                           "needs its pair: give both --cert FILE and --key FILE");
    return PX_CLI_OK;
}

int px_cli_parse_serve(int argc, char **argv, struct px_server_config *cfg, char *err,
                       size_t errlen)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"threads", required_argument, NULL, 't'},
        {"body-bytes", required_argument, NULL, OPT_BODY_BYTES},
        {"tls", no_argument, NULL, OPT_TLS},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"write-cert", required_argument, NULL, OPT_WRITE_CERT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(cfg, 0, sizeof(*cfg));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cpus > 0 ? (unsigned)cpus : 1;
    cfg->body_bytes = 13;
    px_addr_parse("127.0.0.1:8080", &cfg->addr, &cfg->addr_len, err, errlen);
    uint64_t v;
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":t:h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_LISTEN:
            if (px_addr_parse(optarg, &cfg->addr, &cfg->addr_len, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case 't':
            if (opt_count("-t", optarg, 1, 1024, &v, err, errlen) < 0)
                return PX_CLI_USAGE;
            cfg->threads = (unsigned)v;
            break;
        case OPT_BODY_BYTES:
            if (opt_count("--body-bytes", optarg, 0, 64u << 20, &v, err, errlen) < 0)
                return PX_CLI_USAGE;
            cfg->body_bytes = (size_t)v;
            break;
        case OPT_TLS:
            cfg->tls_enabled = 1;
            break;
        case OPT_CERT:
            cfg->tls_opts.cert_file = optarg;
            break;
        case OPT_KEY:
            cfg->tls_opts.key_file = optarg;
            break;
        case OPT_WRITE_CERT:
            cfg->tls_opts.write_cert = optarg;
            break;
        case 'h':
            fputs(serve_usage, stdout);
            return PX_CLI_HELP;
        case ':':
            return usage_error(err, errlen, "option '%s' %s", argv[optind - 1],
                               "needs a value (see portex serve --help)");
        default:
            return unknown_option(argv, err, errlen, "serve");
        }
    }
    if (optind < argc)
        return usage_error(err, errlen, "unexpected argument '%s' %s", argv[optind],
                           "(portex serve takes options only)");
    return check_serve_tls(cfg, err, errlen);
}

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
    "                          server-close, rst, sources4, delay100, or all\n"
    "      --reuse-delay MS    tcp_tw_reuse_delay for the reuse modes (6.14+)\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "      --svg FILE          chart, one panel per mode\n"
    "      --csv FILE          every mode's series as CSV\n"
    "  -q, --quiet             no progress on stderr\n"
    "  -h, --help              this text\n";

int px_cli_parse_lab(int argc, char **argv, struct px_lab_config *cfg, char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"ports", required_argument, NULL, OPT_PORTS},
        {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"connections", required_argument, NULL, 'c'},
        {"modes", required_argument, NULL, OPT_MODES},
        {"reuse-delay", required_argument, NULL, OPT_REUSE_DELAY},
        {"json", required_argument, NULL, OPT_JSON},
        {"svg", required_argument, NULL, OPT_SVG},
        {"csv", required_argument, NULL, OPT_CSV},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    px_lab_defaults(cfg);
    uint64_t v;
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":r:d:c:qh", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_PORTS:
            if (opt_count("--ports", optarg, 10, 25000, &v, err, errlen) < 0)
                return PX_CLI_USAGE;
            cfg->ports = (unsigned)v;
            break;
        case 'r':
            if (opt_rate(optarg, &cfg->rate_per_s, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case 'd':
            if (opt_duration("-d", optarg, 1, &cfg->duration_ms, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case 'c':
            if (opt_count("-c", optarg, 1, 100000, &v, err, errlen) < 0)
                return PX_CLI_USAGE;
            cfg->connections = (unsigned)v;
            break;
        case OPT_MODES:
            if (px_lab_parse_modes(optarg, cfg, err, errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case OPT_REUSE_DELAY:
            if (opt_count("--reuse-delay", optarg, 1, 60000, &v, err, errlen) < 0)
                return PX_CLI_USAGE;
            cfg->reuse_delay_ms = (int)v;
            break;
        case OPT_JSON:
            cfg->json_path = optarg;
            break;
        case OPT_SVG:
            cfg->svg_path = optarg;
            break;
        case OPT_CSV:
            cfg->csv_path = optarg;
            break;
        case 'q':
            cfg->quiet = 1;
            break;
        case 'h':
            fputs(lab_usage, stdout);
            return PX_CLI_HELP;
        case ':':
            return usage_error(err, errlen, "option '%s' %s", argv[optind - 1],
                               "needs a value (see portex lab --help)");
        default:
            return unknown_option(argv, err, errlen, "lab");
        }
    }
    if (optind < argc)
        return usage_error(err, errlen, "unexpected argument '%s' %s", argv[optind],
                           "(portex lab takes options only)");
    return PX_CLI_OK;
}

static const char doctor_usage[] =
    "usage: portex doctor [options] [URL]\n"
    "\n"
    "This namespace's port budget and TIME_WAIT settings, the traps among them,\n"
    "and with a URL: one connection's TCP_INFO (were timestamps negotiated?) and\n"
    "the predicted short-connection ceilings toward that server.\n"
    "Exit 0 when everything was read, 1 when the target cannot be reached.\n"
    "\n"
    "  -c, --connections N     concurrency you plan, checked against the fd limit; 64\n"
    "      --connect-timeout D connect timeout of the probe; 3s\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "  -h, --help              this text\n";

int px_cli_parse_doctor(int argc, char **argv, struct px_doctor_config *cfg, char *err,
                        size_t errlen)
{
    static const struct option opts[] = {
        {"connections", required_argument, NULL, 'c'},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"json", required_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(cfg, 0, sizeof(*cfg));
    cfg->connections = 64;
    cfg->connect_timeout_ms = 3000;
    uint64_t v;
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":c:h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'c':
            if (opt_count("-c", optarg, 1, 1000000, &v, err, errlen) < 0)
                return PX_CLI_USAGE;
            cfg->connections = (unsigned)v;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (opt_duration("--connect-timeout", optarg, 1, &cfg->connect_timeout_ms, err,
                             errlen) < 0)
                return PX_CLI_USAGE;
            break;
        case OPT_JSON:
            cfg->json_path = optarg;
            break;
        case 'h':
            fputs(doctor_usage, stdout);
            return PX_CLI_HELP;
        case ':':
            return usage_error(err, errlen, "option '%s' %s", argv[optind - 1],
                               "needs a value (see portex doctor --help)");
        default:
            return unknown_option(argv, err, errlen, "doctor");
        }
    }
    if (optind + 1 < argc)
        return usage_error(err, errlen, "unexpected argument '%s': %s", argv[optind + 1],
                           "give at most one URL");
    if (optind < argc) {
        const char *url = argv[optind];
        if (strlen(url) >= sizeof(cfg->url_text))
            return usage_error(err, errlen, "URL '%.60s...' is too long: %s", url,
                               "at most 2300 characters");
        strcpy(cfg->url_text, url);
        if (px_url_parse(url, &cfg->url, err, errlen) < 0)
            return PX_CLI_USAGE;
        cfg->has_target = 1;
    }
    return PX_CLI_OK;
}
