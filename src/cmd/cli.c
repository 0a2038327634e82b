/* SPDX-License-Identifier: MIT */
/*
 * getopt_long into configs, then validation. Every command is one table of
 * options (long name, short letter, the setter that parses the value into a
 * field, its bounds); one loop runs them all, with one tail for a missing
 * value, an unknown option and --help. Every refusal names the value and
 * says what was expected. Defaults come from config.c.
 */
#include "portex/cmd/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/base/parse.h"
#include "portex/cmd/compare.h"
#include "portex/cmd/doctor.h"
#include "portex/cmd/lab.h"
#include "portex/cmd/merge.h"
#include "portex/cmd/mode.h"
#include "portex/cmd/ramp.h"
#include "portex/cmd/run.h"
#include "portex/cmd/serve.h"
#include "portex/load/knee.h"
#include "portex/load/load.h"

/* Keys of options without a short letter. */
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
    OPT_INSECURE,
    OPT_CACERT,
    OPT_TLS_VERSION,
    OPT_TLS_RESUME,
    OPT_TLS,
    OPT_CERT,
    OPT_KEY,
    OPT_WRITE_CERT,
    OPT_SHARD,
    OPT_START_AT,
    OPT_REQUESTS_PER_CONN,
    OPT_FROM,
    OPT_TO,
    OPT_STEP,
    OPT_STEP_DURATION,
    OPT_MAX_P99,
    OPT_NO_STOP,
    OPT_HLOG,
    OPT_UNIX,
    OPT_CONTROL,
    OPT_KEY_MAX = 512, /* keys stay below this (the `seen` set) */
};

struct optdef;
typedef int px_opt_set(const struct optdef *d, void *obj, const char *arg, char *err,
                       size_t errlen);

/* One option: its names, how its value is parsed, and where it goes. */
struct optdef {
    const char *name;   /* long name, without "--" */
    int key;            /* short letter, or an OPT_ key */
    int has_arg;        /* no_argument or required_argument */
    px_opt_set *set;    /* parses arg into obj + off */
    size_t off;         /* the field written */
    uint64_t lo, hi;    /* bounds: counts [lo, hi], durations at least lo ms */
    const char *expect; /* what a bad value should look like, when not the bounds */
};

/* Options whose fields live in one struct, at obj_off inside the command's config. */
struct optgroup {
    const struct optdef *defs;
    size_t n;
    size_t obj_off;
};

struct cmdspec {
    const char *name; /* "run" */
    const char *usage;
    const struct optgroup *groups;
    size_t ngroups;
};

__attribute__((format(printf, 3, 4))) static int usage_error(char *err, size_t errlen,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return PX_CLI_USAGE;
}

/* "-c" or "--timeout": how the user wrote it, for messages. */
static const char *opt_display(const struct optdef *d, char *buf, size_t len)
{
    if (d->key < 256)
        snprintf(buf, len, "-%c", d->key);
    else
        snprintf(buf, len, "--%s", d->name);
    return buf;
}

#define PX_BODY_MAX (64 << 20) /* largest --body @FILE */

#define FIELD(obj, d, type) ((type *)((char *)(obj) + (d)->off))

/* ---- setters: one per kind of value ------------------------------------- */

static int bad_value(const struct optdef *d, const char *arg, const char *expect, char *err,
                     size_t errlen)
{
    char name[40];
    return usage_error(err, errlen, "invalid %s '%s': %s", opt_display(d, name, sizeof(name)), arg,
                       expect);
}

static int parse_count(const struct optdef *d, const char *arg, uint64_t *v, char *err,
                       size_t errlen)
{
    if (px_parse_u64(arg, d->lo, d->hi, v) == 0)
        return PX_CLI_OK;
    if (d->expect)
        return bad_value(d, arg, d->expect, err, errlen);
    char name[40];
    return usage_error(err, errlen, "invalid %s '%s': expected a whole number from %llu to %llu",
                       opt_display(d, name, sizeof(name)), arg, (unsigned long long)d->lo,
                       (unsigned long long)d->hi);
}

static int set_unsigned(const struct optdef *d, void *obj, const char *arg, char *err,
                        size_t errlen)
{
    uint64_t v;
    if (parse_count(d, arg, &v, err, errlen) < 0)
        return PX_CLI_USAGE;
    *FIELD(obj, d, unsigned) = (unsigned)v;
    return PX_CLI_OK;
}

static int set_u64(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    return parse_count(d, arg, FIELD(obj, d, uint64_t), err, errlen);
}

static int set_size(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    uint64_t v;
    if (parse_count(d, arg, &v, err, errlen) < 0)
        return PX_CLI_USAGE;
    *FIELD(obj, d, size_t) = (size_t)v;
    return PX_CLI_OK;
}

static int set_int(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    uint64_t v;
    if (parse_count(d, arg, &v, err, errlen) < 0)
        return PX_CLI_USAGE;
    *FIELD(obj, d, int) = (int)v;
    return PX_CLI_OK;
}

static int set_duration(const struct optdef *d, void *obj, const char *arg, char *err,
                        size_t errlen)
{
    uint64_t ms;
    if (px_parse_duration_ms(arg, &ms) == 0 && ms >= d->lo) {
        *FIELD(obj, d, uint64_t) = ms;
        return PX_CLI_OK;
    }
    char expect[96];
    snprintf(expect, sizeof(expect),
             "expected a duration from %llu ms to 277777h, such as 500ms, 10s or 2m",
             (unsigned long long)d->lo);
    return bad_value(d, arg, expect, err, errlen);
}

static int set_rate(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    if (px_parse_rate(arg, FIELD(obj, d, double)) == 0)
        return PX_CLI_OK;
    return bad_value(d, arg, "expected requests per second from 0.001 to 100M, e.g. 2000 or 1.5k",
                     err, errlen);
}

static int set_flag(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    (void)arg;
    (void)err;
    (void)errlen;
    *FIELD(obj, d, int) = 1;
    return PX_CLI_OK;
}

static int set_path(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *FIELD(obj, d, const char *) = arg;
    return PX_CLI_OK;
}

static int set_close(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    if (px_close_parse(arg, FIELD(obj, d, enum px_close)) == 0)
        return PX_CLI_OK;
    return bad_value(d, arg, "expected client, server or rst", err, errlen);
}

static int set_tls_version(const struct optdef *d, void *obj, const char *arg, char *err,
                           size_t errlen)
{
    if (px_parse_tls_version(arg, FIELD(obj, d, int)) == 0)
        return PX_CLI_OK;
    return bad_value(d, arg, "expected 1.2 or 1.3", err, errlen);
}

static int set_tls_resume(const struct optdef *d, void *obj, const char *arg, char *err,
                          size_t errlen)
{
    if (px_parse_tls_resume(arg, FIELD(obj, d, int)) == 0)
        return PX_CLI_OK;
    return bad_value(d, arg, "expected off or ticket", err, errlen);
}

static int set_method(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    size_t len = strlen(arg);
    int ok = len > 0 && len <= 20;
    for (const char *p = arg; ok && *p; p++)
        ok = isupper((unsigned char)*p) != 0;
    if (!ok)
        return bad_value(d, arg, "expected an upper-case method such as GET or POST", err, errlen);
    *FIELD(obj, d, const char *) = arg;
    return PX_CLI_OK;
}

static int set_header(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    struct px_load *cfg = obj;
    if (px_parse_header(arg) < 0)
        return bad_value(d, arg, "expected 'Name: value' on one line", err, errlen);
    if (cfg->nheaders >= PX_MAX_HEADERS)
        return usage_error(err, errlen, "too many -H at '%s': %s", arg, "at most 64 headers");
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
    /* strtok_r would skip an empty entry silently. */
    size_t n = strlen(buf);
    if (n == 0 || buf[0] == ',' || buf[n - 1] == ',' || strstr(buf, ",,") != NULL)
        return usage_error(err, errlen, "invalid --source '%s': %s", arg,
                           "expected IP[,IP...] or A-B, no empty entry");
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (cfg->nsources >= PX_MAX_SOURCES)
            return usage_error(err, errlen, "--source '%s' names too many addresses: %s", arg,
                               "at most 256");
        if (px_ip_parse(tok, &cfg->sources[cfg->nsources]) < 0)
            return usage_error(err, errlen, "invalid --source address '%s': %s", tok,
                               "expected a numeric IPv4 or IPv6 address");
        /* A repeated address adds no port: counted twice, it doubled the ceiling. */
        for (size_t i = 0; i < cfg->nsources; i++)
            if (same_ip(&cfg->sources[i], &cfg->sources[cfg->nsources]))
                return usage_error(err, errlen, "invalid --source '%s': %s is given twice (%s)",
                                   arg, tok, "a repeated address adds no port");
        cfg->nsources++;
    }
    if (cfg->nsources == 0)
        return usage_error(err, errlen, "invalid --source '%s': %s", arg,
                           "expected IP[,IP...] or A-B");
    return 0;
}

static int set_body(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
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
        return usage_error(err, errlen, "out of memory for --body");
    cfg->body_len = strlen(arg);
    return PX_CLI_OK;
}

static int set_port_range(const struct optdef *d, void *obj, const char *arg, char *err,
                          size_t errlen)
{
    struct px_load *cfg = obj;
    if (px_parse_port_range(arg, &cfg->port_lo, &cfg->port_hi) == 0)
        return PX_CLI_OK;
    return bad_value(d, arg, "expected LO-HI with 1 <= LO <= HI <= 65535", err, errlen);
}

static int set_shard(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    struct px_load *cfg = obj;
    if (px_parse_shard(arg, &cfg->shard, &cfg->shards) == 0)
        return PX_CLI_OK;
    return bad_value(d, arg, "expected K/N with 0 <= K < N, such as 0/4", err, errlen);
}

static int set_start_at(const struct optdef *d, void *obj, const char *arg, char *err,
                        size_t errlen)
{
    struct px_load *cfg = obj;
    if (px_parse_wallclock(arg, &cfg->start_at_ns) == 0)
        return PX_CLI_OK;
    return bad_value(d, arg,
                     "expected unix seconds (1767225600.5) or RFC 3339 (2026-01-01T00:00:00Z)", err,
                     errlen);
}

static int set_source(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    (void)d;
    struct px_load *cfg = obj;
    cfg->nsources = 0;
    return parse_sources(arg, cfg, err, errlen) < 0 ? PX_CLI_USAGE : PX_CLI_OK;
}

/* unix:PATH (1-107 bytes) into out; PX_CLI_OK or a usage error naming the option. */
static int unix_arg(const struct optdef *d, const char *arg, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    if (strncmp(arg, "unix:", 5) != 0 || arg[5] == '\0' || strlen(arg + 5) >= outlen)
        return bad_value(d, arg, "expected unix:PATH, PATH 1-107 bytes", err, errlen);
    strcpy(out, arg + 5);
    return PX_CLI_OK;
}

/* IP:PORT or unix:PATH; once each. While parsing, unix_only is -1 once an
 * IP:PORT was given (px_cli_parse_serve settles it). */
static int set_listen(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    struct px_server_config *cfg = &((struct px_serve_config *)obj)->server;
    if (strncmp(arg, "unix:", 5) == 0) {
        if (cfg->unix_only == 0)
            cfg->unix_only = 1;
        return unix_arg(d, arg, cfg->unix_path, sizeof(cfg->unix_path), err, errlen);
    }
    cfg->unix_only = -1;
    return px_addr_parse(arg, &cfg->addr, &cfg->addr_len, err, errlen) < 0 ? PX_CLI_USAGE
                                                                           : PX_CLI_OK;
}

static int set_control(const struct optdef *d, void *obj, const char *arg, char *err, size_t errlen)
{
    struct px_compare_config *cfg = obj;
    return unix_arg(d, arg, cfg->control_unix, sizeof(cfg->control_unix), err, errlen);
}

static int set_lab_modes(const struct optdef *d, void *obj, const char *arg, char *err,
                         size_t errlen)
{
    (void)d;
    struct px_lab_config *cfg = obj;
    return px_mode_list_parse(arg, px_lab_modes, px_lab_nmodes, 1, cfg->modes, &cfg->nmodes, err,
                              errlen) < 0
               ? PX_CLI_USAGE
               : PX_CLI_OK;
}

static int set_compare_modes(const struct optdef *d, void *obj, const char *arg, char *err,
                             size_t errlen)
{
    (void)d;
    struct px_compare_config *cfg = obj;
    if (px_mode_list_parse(arg, px_compare_modes, px_compare_nmodes, 0, cfg->modes, &cfg->nmodes,
                           err, errlen) < 0)
        return PX_CLI_USAGE;
    cfg->modes_given = 1;
    return PX_CLI_OK;
}

/* compare sets keep-alive and the close policy per mode. */
static int set_per_mode(const struct optdef *d, void *obj, const char *arg, char *err,
                        size_t errlen)
{
    (void)obj;
    (void)arg;
    char name[40];
    return usage_error(err, errlen, "option '%s' %s", opt_display(d, name, sizeof(name)),
                       "is set by each compare mode: choose modes with --modes");
}

/* ---- the tables --------------------------------------------------------- */

#define CFG(field) offsetof(struct px_load, field)

/* The load: run, compare (and ramp) share it. */
static const struct optdef load_opts[] = {
    {"connections", 'c', required_argument, set_unsigned, CFG(connections), 1, 1000000, NULL},
    {"rate", 'r', required_argument, set_rate, CFG(rate_per_s), 0, 0, NULL},
    {"duration", 'd', required_argument, set_duration, CFG(duration_ms), 1, 0, NULL},
    {"requests", 'n', required_argument, set_u64, CFG(requests), 1, UINT64_MAX / 2,
     "expected a whole number of requests >= 1"},
    {"threads", 't', required_argument, set_unsigned, CFG(threads), 1, 1024, NULL},
    {"method", 'm', required_argument, set_method, CFG(method), 0, 0, NULL},
    {"header", 'H', required_argument, set_header, 0, 0, 0, NULL},
    {"body", OPT_BODY, required_argument, set_body, 0, 0, 0, NULL},
    {"timeout", OPT_TIMEOUT, required_argument, set_duration, CFG(timeout_ms), 1, 0, NULL},
    {"connect-timeout", OPT_CONNECT_TIMEOUT, required_argument, set_duration,
     CFG(connect_timeout_ms), 1, 0, NULL},
    {"port-range", OPT_PORT_RANGE, required_argument, set_port_range, 0, 0, 0, NULL},
    {"source", OPT_SOURCE, required_argument, set_source, 0, 0, 0, NULL},
    {"interval", OPT_INTERVAL, required_argument, set_duration, CFG(interval_ms), 100, 0, NULL},
    {"unix", OPT_UNIX, required_argument, set_path, CFG(unix_path), 0, 0, NULL},
};

#define OUT(field) offsetof(struct px_outputs, field)

/* The outputs of run, compare and ramp (lab, doctor and merge take some of them). */
static const struct optdef out_opts[] = {
    {"quiet", 'q', no_argument, set_flag, OUT(quiet), 0, 0, NULL},
    {"json", OPT_JSON, required_argument, set_path, OUT(json), 0, 0, NULL},
    {"csv", OPT_CSV, required_argument, set_path, OUT(csv), 0, 0, NULL},
    {"svg", OPT_SVG, required_argument, set_path, OUT(svg), 0, 0, NULL},
};

/* run and compare: one HdrHistogram log line per tick. */
static const struct optdef hlog_opts[] = {
    {"hlog", OPT_HLOG, required_argument, set_path, OUT(hlog), 0, 0, NULL},
};

/* One host's share of a run over several (run only: compare's modes are one host's). */
static const struct optdef shard_opts[] = {
    {"shard", OPT_SHARD, required_argument, set_shard, 0, 0, 0, NULL},
    {"start-at", OPT_START_AT, required_argument, set_start_at, 0, 0, 0, NULL},
};

/* merge: the machine outputs, no live line. */
static const struct optdef merge_opts[] = {
    {"json", OPT_JSON, required_argument, set_path, OUT(json), 0, 0, NULL},
    {"csv", OPT_CSV, required_argument, set_path, OUT(csv), 0, 0, NULL},
    {"svg", OPT_SVG, required_argument, set_path, OUT(svg), 0, 0, NULL},
};

/* https:// targets: run and compare. */
static const struct optdef tls_opts[] = {
    {"insecure", OPT_INSECURE, no_argument, set_flag, CFG(tls_insecure), 0, 0, NULL},
    {"cacert", OPT_CACERT, required_argument, set_path, CFG(tls_cacert), 0, 0, NULL},
    {"tls-version", OPT_TLS_VERSION, required_argument, set_tls_version, CFG(tls_version), 0, 0,
     NULL},
    {"tls-resume", OPT_TLS_RESUME, required_argument, set_tls_resume, CFG(tls_resume), 0, 0, NULL},
};

/* How one connection ends: run sets it; compare's modes do. */
static const struct optdef close_opts[] = {
    {"keepalive", 'k', no_argument, set_flag, CFG(keepalive), 0, 0, NULL},
    {"close", OPT_CLOSE, required_argument, set_close, CFG(close), 0, 0, NULL},
    {"requests-per-conn", OPT_REQUESTS_PER_CONN, required_argument, set_unsigned,
     CFG(requests_per_conn), 1, 1000000, NULL},
};

static const struct optdef compare_opts[] = {
    {"modes", OPT_MODES, required_argument, set_compare_modes, 0, 0, 0, NULL},
    {"allow-sysctl", OPT_ALLOW_SYSCTL, no_argument, set_flag,
     offsetof(struct px_compare_config, allow_sysctl), 0, 0, NULL},
    {"no-drain", OPT_NO_DRAIN, no_argument, set_flag, offsetof(struct px_compare_config, no_drain),
     0, 0, NULL},
    {"control", OPT_CONTROL, required_argument, set_control, 0, 0, 0, NULL},
    {"keepalive", 'k', no_argument, set_per_mode, 0, 0, 0, NULL},
    {"close", OPT_CLOSE, required_argument, set_per_mode, 0, 0, 0, NULL},
};

#define RAMP(field) offsetof(struct px_ramp_config, field)
static const struct optdef ramp_opts[] = {
    {"from", OPT_FROM, required_argument, set_rate, RAMP(from_per_s), 0, 0, NULL},
    {"to", OPT_TO, required_argument, set_rate, RAMP(to_per_s), 0, 0, NULL},
    {"step", OPT_STEP, required_argument, set_rate, RAMP(step_per_s), 0, 0, NULL},
    {"step-duration", OPT_STEP_DURATION, required_argument, set_duration, RAMP(step_ms), 100, 0,
     NULL},
    {"max-p99", OPT_MAX_P99, required_argument, set_duration, RAMP(max_p99_ms), 1, 0, NULL},
    {"no-stop", OPT_NO_STOP, no_argument, set_flag, RAMP(no_stop), 0, 0, NULL},
};

#define SRV(field) offsetof(struct px_serve_config, field)
static const struct optdef serve_opts[] = {
    {"listen", OPT_LISTEN, required_argument, set_listen, 0, 0, 0, NULL},
    {"threads", 't', required_argument, set_unsigned, SRV(server.threads), 1, 1024, NULL},
    {"body-bytes", OPT_BODY_BYTES, required_argument, set_size, SRV(server.body_bytes), 0,
     64u << 20, NULL},
    {"tls", OPT_TLS, no_argument, set_flag, SRV(tls), 0, 0, NULL},
    {"cert", OPT_CERT, required_argument, set_path, SRV(cert), 0, 0, NULL},
    {"key", OPT_KEY, required_argument, set_path, SRV(key), 0, 0, NULL},
    {"write-cert", OPT_WRITE_CERT, required_argument, set_path, SRV(write_cert), 0, 0, NULL},
};

#define LAB(field) offsetof(struct px_lab_config, field)
static const struct optdef lab_opts[] = {
    {"ports", OPT_PORTS, required_argument, set_unsigned, LAB(ports), 10, 25000, NULL},
    {"rate", 'r', required_argument, set_rate, LAB(rate_per_s), 0, 0, NULL},
    {"duration", 'd', required_argument, set_duration, LAB(duration_ms), 1, 0, NULL},
    {"connections", 'c', required_argument, set_unsigned, LAB(connections), 1, 100000, NULL},
    {"modes", OPT_MODES, required_argument, set_lab_modes, 0, 0, 0, NULL},
    {"reuse-delay", OPT_REUSE_DELAY, required_argument, set_int, LAB(reuse_delay_ms), 1, 60000,
     NULL},
};

#define DOC(field) offsetof(struct px_doctor_config, field)
static const struct optdef doctor_opts[] = {
    {"connections", 'c', required_argument, set_unsigned, DOC(connections), 1, 1000000, NULL},
    {"connect-timeout", OPT_CONNECT_TIMEOUT, required_argument, set_duration,
     DOC(connect_timeout_ms), 1, 0, NULL},
    {"json", OPT_JSON, required_argument, set_path, DOC(out.json), 0, 0, NULL},
};

#define GROUP(defs, off)                                                                           \
    {                                                                                              \
        defs, sizeof(defs) / sizeof(defs[0]), off                                                  \
    }

#define RUNC(field) offsetof(struct px_run_config, field)
#define CMP(field)  offsetof(struct px_compare_config, field)
static const struct optgroup run_groups[] = {
    GROUP(load_opts, RUNC(load)),  GROUP(out_opts, RUNC(out)),  GROUP(close_opts, RUNC(load)),
    GROUP(shard_opts, RUNC(load)), GROUP(hlog_opts, RUNC(out)), GROUP(tls_opts, RUNC(load))};
static const struct optgroup merge_groups[] = {
    GROUP(merge_opts, offsetof(struct px_merge_config, out))};
static const struct optgroup compare_groups[] = {
    GROUP(load_opts, CMP(base)), GROUP(out_opts, CMP(out)), GROUP(hlog_opts, CMP(out)),
    GROUP(compare_opts, 0), GROUP(tls_opts, CMP(base))};
static const struct optgroup ramp_groups[] = {
    GROUP(load_opts, RAMP(base)), GROUP(out_opts, RAMP(out)), GROUP(close_opts, RAMP(base)),
    GROUP(ramp_opts, 0), GROUP(tls_opts, RAMP(base))};
static const struct optgroup serve_groups[] = {GROUP(serve_opts, 0)};
static const struct optgroup lab_groups[] = {GROUP(lab_opts, 0), GROUP(out_opts, LAB(out))};
static const struct optgroup doctor_groups[] = {GROUP(doctor_opts, 0)};

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
    "      --requests-per-conn N  with -k: N requests per connection, then it closes\n"
    "                          as --close says (client, server or rst)\n"
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
    "      --shard K/N         this host's share of one run over N hosts (K from 0): open\n"
    "                          model starts K, K+N, ... of the timetable; closed model\n"
    "                          -c and -n split; merge the results with portex merge\n"
    "      --start-at WHEN     start at a wall-clock time: unix seconds (1767225600.5)\n"
    "                          or RFC 3339 (2026-01-01T00:00:00Z); waits, Ctrl-C cancels\n"
    "      --hlog FILE         HdrHistogram interval log: per --interval, total latency and\n"
    "                          Tag=connect, Tag=ttfb lines (values in us; '-' for stdout)\n"
    "      --unix PATH         connect to this Unix socket (no ports: the control run);\n"
    "                          the URL gives Host and path. Or URL unix:PATH[:/path]\n"
    "  -h, --help              this text\n";

static const char merge_usage[] =
    "usage: portex merge FILE... [--json OUT] [--csv OUT] [--svg OUT]\n"
    "\n"
    "Merges the results of one run split over hosts (portex run --shard K/N --json FILE):\n"
    "counters, causes and status classes added, latency histograms added bucket by bucket\n"
    "(percentiles recomputed, exact), series rows aligned on the wall clock, TIME_WAIT and\n"
    "predicted ceilings summed. Files must share the URL, the mode and N, with different K.\n"
    "\n"
    "      --json FILE         merged result as JSON ('-' for stdout): run's keys, command\n"
    "                          \"merge\", hosts, per_host\n"
    "      --csv FILE          merged series as CSV ('-' for stdout)\n"
    "      --svg FILE          chart: the merged panel, then one per host\n"
    "  -h, --help              this text\n";

static const char compare_usage[] =
    "usage: portex compare [options] URL\n"
    "\n"
    "The same load against a real server under several modes, one table: keepalive,\n"
    "server-close, rst, short (current settings); with --allow-sysctl (root) also\n"
    "short-noreuse and short-reuse (net.ipv4.tcp_tw_reuse 0 and 1, restored after\n"
    "each mode and on SIGINT/SIGTERM). Each mode gets ports of its own: with\n"
    "--port-range a fresh window of the same size, or with several --source\n"
    "addresses a share of them; only when neither is possible does it wait while\n"
    "TIME_WAIT toward the target holds over 5% of the ports (unless --no-drain).\n"
    "\n"
    "  load options as for portex run: -c -r -d -n -t -m -H --body --timeout\n"
    "  --connect-timeout --port-range --source --interval -q --unix\n"
    "  https: --insecure --cacert --tls-version --tls-resume\n"
    "      --modes LIST        keepalive,server-close,rst,short,short-noreuse,short-reuse,\n"
    "                          conn10, reuse-conn10 (10 requests per connection)\n"
    "      --allow-sysctl      let the reuse modes set net.ipv4.tcp_tw_reuse (root)\n"
    "      --no-drain          do not wait for TIME_WAIT between modes\n"
    "      --control unix:PATH add mode unix-control: short connections over the server's\n"
    "                          Unix socket (serve --listen twice), where no port is used\n"
    "      --hlog FILE         HdrHistogram interval log, lines tagged MODE, MODE.connect,\n"
    "                          MODE.ttfb (values in us)\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "      --svg FILE          chart, one panel per mode\n"
    "      --csv FILE          every mode's series as CSV\n"
    "  -h, --help              this text\n";

static const char ramp_usage[] =
    "usage: portex ramp --from R0 --to R1 --step S [options] URL\n"
    "\n"
    "Step the offered rate (open model) from R0 to R1 by S, one run of\n"
    "--step-duration per step, and find the knee: the highest step where\n"
    "ok/s >= 99% of the offered rate, no request failed, and p99 is under\n"
    "--max-p99 when given. Stops after two failing steps unless --no-stop.\n"
    "Steps above the predicted port ceiling are called port-bound.\n"
    "\n"
    "      --from R            first step's rate, new requests per second\n"
    "      --to R              last step's rate (inclusive)\n"
    "      --step S            rate added per step\n"
    "      --step-duration D   length of each step; 5s\n"
    "      --max-p99 D         a step whose total p99 is over D fails (e.g. 50ms)\n"
    "      --no-stop           run every step, even after two failed\n"
    "  load options as for portex run, except -r, -d and -n: -c -t -k\n"
    "  --requests-per-conn --close -m -H --body --timeout --connect-timeout\n"
    "  --port-range --source --interval -q --unix, and for https:// URLs --insecure\n"
    "  --cacert --tls-version --tls-resume\n"
    "      --json FILE         every step's summary and the knee ('-' for stdout)\n"
    "      --svg FILE          chart: offered vs ok/s and p99 per step, the knee marked\n"
    "      --csv FILE          every step's series as CSV\n"
    "  -h, --help              this text\n";

static const char serve_usage[] =
    "usage: portex serve [options]\n"
    "\n"
    "The built-in HTTP/1.1 target: keep-alive honoured; on Connection: close or\n"
    "HTTP/1.0 the server answers and closes first. On SIGINT/SIGTERM it prints\n"
    "{\"accepted\": N, \"requests\": M} on stdout and exits 0.\n"
    "\n"
    "      --listen IP:PORT    listen address; 127.0.0.1:8080 (port 0: any free port)\n"
    "      --listen unix:PATH  a Unix socket: give --listen twice for TCP and a socket\n"
    "  -t, --threads N         event loops, each with a SO_REUSEPORT listener; online CPUs\n"
    "      --body-bytes N      response body size; 13\n"
    "      --tls               HTTPS: self-signed ECDSA P-256 certificate made at start\n"
    "                          (localhost, 127.0.0.1, ::1), session tickets on\n"
    "      --cert FILE         PEM certificate (chain) to serve instead; with --key FILE\n"
    "      --key FILE          PEM private key matching --cert\n"
    "      --write-cert FILE   write the served certificate as PEM (for run --cacert)\n"
    "  -h, --help              this text\n";

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
    "                          connection), or all\n"
    "      --reuse-delay MS    tcp_tw_reuse_delay for the reuse modes (6.14+)\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "      --svg FILE          chart, one panel per mode\n"
    "      --csv FILE          every mode's series as CSV\n"
    "  -q, --quiet             no progress on stderr\n"
    "  -h, --help              this text\n";

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

#define SPEC(cmd, groups)                                                                          \
    {                                                                                              \
#cmd, cmd##_usage, groups, sizeof(groups) / sizeof(groups[0])                              \
    }
static const struct cmdspec run_spec = SPEC(run, run_groups);
static const struct cmdspec compare_spec = SPEC(compare, compare_groups);
static const struct cmdspec serve_spec = SPEC(serve, serve_groups);
static const struct cmdspec ramp_spec = SPEC(ramp, ramp_groups);
static const struct cmdspec lab_spec = SPEC(lab, lab_groups);
static const struct cmdspec doctor_spec = SPEC(doctor, doctor_groups);
static const struct cmdspec merge_spec = SPEC(merge, merge_groups);

/* ---- the one getopt loop ------------------------------------------------ */

#define MAX_OPTS 64

/* getopt_long's tables from a command's groups. Returns the option count. */
static size_t build_getopt(const struct cmdspec *spec, struct option *longs, char *shorts,
                           size_t shorts_len)
{
    size_t n = 0, k = 0;
    shorts[k++] = ':'; /* report a missing value as ':' */
    for (size_t g = 0; g < spec->ngroups; g++) {
        for (size_t i = 0; i < spec->groups[g].n && n + 2 < MAX_OPTS; i++) {
            const struct optdef *d = &spec->groups[g].defs[i];
            longs[n++] = (struct option){d->name, d->has_arg, NULL, d->key};
            if (d->key < 256 && k + 3 < shorts_len) {
                shorts[k++] = (char)d->key;
                if (d->has_arg == required_argument)
                    shorts[k++] = ':';
            }
        }
    }
    longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n] = (struct option){NULL, 0, NULL, 0};
    if (k + 2 < shorts_len)
        shorts[k++] = 'h';
    shorts[k] = '\0';
    return n;
}

static int unknown_option(char **argv, char *err, size_t errlen, const char *cmd)
{
    if (optopt != 0)
        return usage_error(err, errlen, "unknown option '-%c' (see portex %s --help)", optopt, cmd);
    return usage_error(err, errlen, "unknown option '%s' (see portex %s --help)", argv[optind - 1],
                       cmd);
}

/* Applies option `key` with `arg` to cfg, through the group that defines it. */
static int apply(const struct cmdspec *spec, int key, const char *arg, void *cfg, char *err,
                 size_t errlen)
{
    for (size_t g = 0; g < spec->ngroups; g++)
        for (size_t i = 0; i < spec->groups[g].n; i++)
            if (spec->groups[g].defs[i].key == key)
                return spec->groups[g].defs[i].set(&spec->groups[g].defs[i],
                                                   (char *)cfg + spec->groups[g].obj_off, arg, err,
                                                   errlen);
    return usage_error(err, errlen, "internal: option %d has no setter", key);
}

/*
 * Runs getopt over argv for one command. seen[key] is set for every option
 * given. PX_CLI_OK with optind at the first operand, PX_CLI_HELP, or PX_CLI_USAGE.
 */
static int parse_options(const struct cmdspec *spec, int argc, char **argv, void *cfg,
                         unsigned char *seen, char *err, size_t errlen)
{
    struct option longs[MAX_OPTS];
    char shorts[2 * MAX_OPTS + 4];
    build_getopt(spec, longs, shorts, sizeof(shorts));
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, shorts, longs, NULL);
        if (c == -1)
            return PX_CLI_OK;
        if (c == 'h') {
            fputs(spec->usage, stdout);
            return PX_CLI_HELP;
        }
        if (c == ':')
            return usage_error(err, errlen, "option '%s' needs a value (see portex %s --help)",
                               argv[optind - 1], spec->name);
        if (c == '?')
            return unknown_option(argv, err, errlen, spec->name);
        if (c > 0 && c < OPT_KEY_MAX)
            seen[c] = 1;
        int rc = apply(spec, c, optarg, cfg, err, errlen);
        if (rc != PX_CLI_OK)
            return rc;
    }
}

/* ---- per command: options, then operands and checks -------------------- */

static int parse_url(const char *url, char *text, size_t textlen, struct px_url *out, char *err,
                     size_t errlen)
{
    if (strlen(url) >= textlen)
        return usage_error(err, errlen, "URL '%.60s...' is too long: %s", url,
                           "at most 2300 characters");
    strcpy(text, url);
    return px_url_parse(url, out, err, errlen) < 0 ? PX_CLI_USAGE : PX_CLI_OK;
}

/*
 * No two of --json, --csv, --svg, --hlog (in that order in outs, NULL for
 * none) may be the same file or both '-': the second would overwrite or
 * interleave with the first, and neither would parse. /dev/null may repeat.
 */
static int one_stdout(const char *const outs[4], char *err, size_t errlen)
{
    static const char *const names[4] = {"--json", "--csv", "--svg", "--hlog"};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < i; j++) {
            if (outs[i] == NULL || outs[j] == NULL || strcmp(outs[i], outs[j]) != 0 ||
                strcmp(outs[i], "/dev/null") == 0)
                continue;
            if (strcmp(outs[i], "-") == 0)
                return usage_error(err, errlen, "%s - and %s - both want stdout: %s", names[j],
                                   names[i], "give one of them a file");
            return usage_error(err, errlen, "%s and %s are both '%s': %s", names[j], names[i],
                               outs[i], "give each output its own file");
        }
    return PX_CLI_OK;
}

/* The URL operand and the checks between options of run and compare. */
static int finish_load(const char *cmd, int argc, char **argv, const unsigned char *seen,
                       struct px_load *cfg, const struct px_outputs *out, char *err,
                       size_t errlen)
{
    if (optind >= argc)
        return usage_error(err, errlen, "missing URL: expected portex %s [options] %s", cmd,
                           "http://host[:port][/path]");
    if (optind + 1 < argc)
        return usage_error(err, errlen, "unexpected argument '%s': %s", argv[optind + 1],
                           "give one URL");
    if (parse_url(argv[optind], cfg->url_text, sizeof(cfg->url_text), &cfg->url, err, errlen) < 0)
        return PX_CLI_USAGE;
    if (cfg->unix_path && px_url_set_unix(&cfg->url, cfg->unix_path, err, errlen) < 0)
        return PX_CLI_USAGE;
    const char *outs[] = {out->json, out->csv, out->svg, out->hlog};
    if (one_stdout(outs, err, errlen) != PX_CLI_OK)
        return PX_CLI_USAGE;
    /* -n alone: run until the count, not for the default duration. */
    if (cfg->requests && !seen['d'])
        cfg->duration_ms = 0;
    if (cfg->requests_per_conn && !cfg->keepalive)
        return usage_error(err, errlen, "--requests-per-conn %u %s", cfg->requests_per_conn,
                           "needs -k: it counts requests on a kept-alive connection");
    if (cfg->keepalive && seen[OPT_CLOSE] && cfg->close != PX_CLOSE_SERVER &&
        !cfg->requests_per_conn)
        return usage_error(err, errlen, "--close %s %s", px_close_name(cfg->close),
                           "applies to short connections (or -k --requests-per-conn N) only");
    if (!cfg->url.tls &&
        (seen[OPT_INSECURE] || seen[OPT_CACERT] || seen[OPT_TLS_VERSION] || seen[OPT_TLS_RESUME]))
        return usage_error(err, errlen, "--insecure, --cacert, --tls-version and --tls-resume %s",
                           "apply to https:// URLs only");
    return PX_CLI_OK;
}

/* serve: --cert/--key/--write-cert need --tls; --cert and --key go together. */
static int finish_serve(const struct px_serve_config *cfg, char *err, size_t errlen)
{
    if (!cfg->tls && (cfg->cert || cfg->key || cfg->write_cert))
        return usage_error(err, errlen, "%s needs --tls",
                           cfg->cert  ? "--cert"
                           : cfg->key ? "--key"
                                      : "--write-cert");
    if (!cfg->cert != !cfg->key)
        return usage_error(err, errlen, "%s needs its pair: give both --cert FILE and --key FILE",
                           cfg->cert ? "--cert" : "--key");
    return PX_CLI_OK;
}

/* Commands that take options only. */
static int no_operands(const char *cmd, int argc, char **argv, char *err, size_t errlen)
{
    if (optind < argc)
        return usage_error(err, errlen, "unexpected argument '%s' (portex %s takes options only)",
                           argv[optind], cmd);
    return PX_CLI_OK;
}

int px_cli_parse_run(int argc, char **argv, struct px_run_config *cfg, char *err, size_t errlen)
{
    unsigned char seen[OPT_KEY_MAX] = {0};
    memset(cfg, 0, sizeof(*cfg));
    px_load_defaults(&cfg->load);
    int rc = parse_options(&run_spec, argc, argv, cfg, seen, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    rc = finish_load("run", argc, argv, seen, &cfg->load, &cfg->out, err, errlen);
    /* --shard: this host's share of -c and -n, once both are known. */
    if (rc == PX_CLI_OK && px_load_apply_shard(&cfg->load, err, errlen) < 0)
        return PX_CLI_USAGE;
    return rc;
}

int px_cli_parse_compare(int argc, char **argv, struct px_compare_config *cfg, char *err,
                         size_t errlen)
{
    unsigned char seen[OPT_KEY_MAX] = {0};
    px_compare_config_defaults(cfg);
    int rc = parse_options(&compare_spec, argc, argv, cfg, seen, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    rc = finish_load("compare", argc, argv, seen, &cfg->base, &cfg->out, err, errlen);
    if (rc == PX_CLI_OK && !cfg->modes_given)
        cfg->nmodes =
            px_mode_defaults(px_compare_modes, px_compare_nmodes, cfg->allow_sysctl, cfg->modes);
    if (rc == PX_CLI_OK && cfg->control_unix[0] && cfg->nmodes < PX_MAX_MODES)
        cfg->modes[cfg->nmodes++] = &px_compare_control_mode;
    return rc;
}

/* The ramp's steps: all three rates given, in order, within PX_RAMP_MAX_STEPS. */
static int check_ramp(const unsigned char *seen, struct px_ramp_config *cfg, char *err,
                      size_t errlen)
{
    if (seen['r'] || seen['d'] || seen['n'])
        return usage_error(err, errlen, "option '-%c' is set by the ramp: %s",
                           seen['r']   ? 'r'
                           : seen['d'] ? 'd'
                                       : 'n',
                           "use --from, --to, --step and --step-duration");
    if (!seen[OPT_FROM] || !seen[OPT_TO] || !seen[OPT_STEP])
        return usage_error(err, errlen, "missing %s: expected --from R0 --to R1 --step S",
                           !seen[OPT_FROM] ? "--from"
                           : !seen[OPT_TO] ? "--to"
                                           : "--step");
    if (cfg->to_per_s < cfg->from_per_s)
        return usage_error(err, errlen, "invalid --to %g: expected at least --from (%g)",
                           cfg->to_per_s, cfg->from_per_s);
    size_t n = px_knee_step_count(cfg->from_per_s, cfg->to_per_s, cfg->step_per_s);
    if (n > PX_RAMP_MAX_STEPS)
        return usage_error(err, errlen, "--from %g --to %g --step %g makes %zu steps: %s %d",
                           cfg->from_per_s, cfg->to_per_s, cfg->step_per_s, n, "expected at most",
                           PX_RAMP_MAX_STEPS);
    cfg->base.duration_ms = cfg->step_ms;
    return PX_CLI_OK;
}

int px_cli_parse_ramp(int argc, char **argv, struct px_ramp_config *cfg, char *err, size_t errlen)
{
    unsigned char seen[OPT_KEY_MAX] = {0};
    px_ramp_config_defaults(cfg);
    int rc = parse_options(&ramp_spec, argc, argv, cfg, seen, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    rc = check_ramp(seen, cfg, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    return finish_load("ramp", argc, argv, seen, &cfg->base, &cfg->out, err, errlen);
}

int px_cli_parse_serve(int argc, char **argv, struct px_serve_config *cfg, char *err,
                       size_t errlen)
{
    unsigned char seen[OPT_KEY_MAX] = {0};
    memset(cfg, 0, sizeof(*cfg));
    px_server_config_defaults(&cfg->server);
    int rc = parse_options(&serve_spec, argc, argv, cfg, seen, err, errlen);
    if (cfg->server.unix_only < 0)
        cfg->server.unix_only = 0;
    if (rc == PX_CLI_OK)
        rc = no_operands("serve", argc, argv, err, errlen);
    return rc != PX_CLI_OK ? rc : finish_serve(cfg, err, errlen);
}

int px_cli_parse_lab(int argc, char **argv, struct px_lab_config *cfg, char *err, size_t errlen)
{
    unsigned char seen[OPT_KEY_MAX] = {0};
    px_lab_config_defaults(cfg);
    int rc = parse_options(&lab_spec, argc, argv, cfg, seen, err, errlen);
    const char *outs[] = {cfg->out.json, cfg->out.csv, cfg->out.svg, NULL};
    if (rc == PX_CLI_OK)
        rc = one_stdout(outs, err, errlen);
    if (rc == PX_CLI_OK && cfg->nmodes == 0)
        cfg->nmodes = px_mode_defaults(px_lab_modes, px_lab_nmodes, 0, cfg->modes);
    return rc != PX_CLI_OK ? rc : no_operands("lab", argc, argv, err, errlen);
}

int px_cli_parse_doctor(int argc, char **argv, struct px_doctor_config *cfg, char *err,
                        size_t errlen)
{
    unsigned char seen[OPT_KEY_MAX] = {0};
    px_doctor_config_defaults(cfg);
    int rc = parse_options(&doctor_spec, argc, argv, cfg, seen, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    if (optind + 1 < argc)
        return usage_error(err, errlen, "unexpected argument '%s': %s", argv[optind + 1],
                           "give at most one URL");
    if (optind == argc)
        return PX_CLI_OK;
    cfg->has_target = 1;
    return parse_url(argv[optind], cfg->url_text, sizeof(cfg->url_text), &cfg->url, err, errlen);
}

int px_cli_parse_merge(int argc, char **argv, struct px_merge_config *cfg, char *err, size_t errlen)
{
    unsigned char seen[OPT_KEY_MAX] = {0};
    memset(cfg, 0, sizeof(*cfg));
    int rc = parse_options(&merge_spec, argc, argv, cfg, seen, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    if (optind >= argc)
        return usage_error(err, errlen, "no FILE given: expected one or more results of %s",
                           "'portex run --json'");
    cfg->files = (const char **)(argv + optind);
    cfg->nfiles = (size_t)(argc - optind);
    const char *outs[] = {cfg->out.json, cfg->out.csv, cfg->out.svg, NULL};
    return one_stdout(outs, err, errlen);
}
