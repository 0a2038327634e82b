/* SPDX-License-Identifier: MIT */
/*
 * Every command's settings, filled by the cli and read by the commands, the
 * engine and the reports; config.c sets their defaults, in one place.
 */
#ifndef PORTEX_CONFIG_H
#define PORTEX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "portex/base/url.h"

#define PX_MAX_HEADERS 64
#define PX_MAX_SOURCES 256
#define PX_MAX_MODES   16 /* modes in one lab or compare */

enum px_close {
    PX_CLOSE_CLIENT, /* client sends FIN first and holds TIME_WAIT */
    PX_CLOSE_SERVER, /* "Connection: close", wait for the server's FIN */
    PX_CLOSE_RST,    /* SO_LINGER {1, 0}: RST, no TIME_WAIT */
};

struct px_config {
    char url_text[PX_URL_PATH_MAX + PX_URL_HOST_MAX + 16];
    struct px_url url;
    struct sockaddr_storage target; /* resolved once at start */
    socklen_t target_len;

    unsigned threads;     /* worker threads, each with its own event_base */
    unsigned connections; /* closed model: slots; open model: in-flight cap */
    double rate_per_s;    /* open model when > 0 */
    uint64_t duration_ms; /* 0 with requests > 0 */
    uint64_t requests;    /* -n: exact count, 0 = by duration */
    int keepalive;        /* -k */
    enum px_close close;  /* short mode only */
    /* -k --requests-per-conn N: N requests per connection, then --close applies; 0 = no limit */
    unsigned requests_per_conn;
    uint64_t connect_timeout_ms;
    uint64_t timeout_ms;  /* whole request, from its (intended) start */
    uint64_t interval_ms; /* stats tick */
    int quiet;            /* -q: no live line */
    int row_hists;        /* keep each series row's interval histogram (about 8 kB a row),
                           * for --json and merges; off, memory stays flat however long */

    const char *method;
    const char *headers[PX_MAX_HEADERS];
    size_t nheaders;
    char *body; /* malloc'd, may be NULL */
    size_t body_len;

    uint16_t port_lo, port_hi;                       /* --port-range, 0 = namespace range */
    struct sockaddr_storage sources[PX_MAX_SOURCES]; /* --source, port 0 */
    size_t nsources;

    /* https:// only: see portex/load/tls.h */
    int tls_insecure;       /* --insecure: no certificate verification */
    const char *tls_cacert; /* --cacert FILE, NULL: the system store */
    int tls_version;        /* --tls-version: 0 (both ends agree), 12 or 13 */
    int tls_resume;         /* --tls-resume: 0 off, 1 ticket (enum px_tls_resume) */

    const char *json_path; /* "-" = stdout */
    const char *csv_path;
    const char *svg_path;

    unsigned shard, shards; /* --shard K/N: this host's share of one run; shards 0 = alone */
    int64_t start_at_ns;    /* --start-at: wall-clock start in unix ns; 0 = at once */
    const char *hlog_path;  /* --hlog: HdrHistogram interval log, "-" = stdout */
    const char *unix_path;  /* --unix: connect to this socket; the URL gives Host and path */
};

/* `portex serve`: the built-in HTTP/1.1 target. */
struct px_server_config {
    struct sockaddr_storage addr; /* listen address; port 0 picks a free one */
    socklen_t addr_len;
    unsigned threads;  /* loops, each with its own listener */
    size_t body_bytes; /* size of the fixed response body */
    /* HTTPS (--tls): the files go to px_tls_server_new (load/tls.h), whose
     * context the caller puts in `tls` and frees after px_server_free. */
    int tls_enabled;       /* --tls */
    const char *tls_cert;  /* --cert FILE, NULL: self-signed ECDSA P-256 made at start */
    const char *tls_key;   /* --key FILE */
    const char *tls_write; /* --write-cert FILE */
    struct px_tls *tls;    /* NULL: plain HTTP */

    /* --listen unix:PATH ("" for none); unix_only: no TCP listener then. */
    char unix_path[PX_URL_UNIX_MAX];
    int unix_only;
};

struct px_mode; /* cmd/mode.h: one row of a lab or compare table */
struct px_tls;  /* load/tls.h: a TLS context */

/* `portex lab`: each mode in fresh network namespaces. */
struct px_lab_config {
    unsigned ports; /* client port range size */
    double rate_per_s;
    uint64_t duration_ms; /* per mode */
    unsigned connections; /* in-flight cap */
    int reuse_delay_ms;   /* --reuse-delay for the reuse modes, 0 = kernel default */
    const struct px_mode *modes[PX_MAX_MODES];
    size_t nmodes;
    const char *json_path, *svg_path, *csv_path;
    int quiet;
};

/* `portex compare`: the same load under several modes against a real server. */
struct px_compare_config {
    struct px_config base; /* the load and the outputs; keepalive/close set per mode */
    const struct px_mode *modes[PX_MAX_MODES];
    size_t nmodes;
    int modes_given;       /* --modes was used */
    int allow_sysctl;      /* may set net.ipv4.tcp_tw_reuse (root), restored after */
    int no_drain;          /* do not wait for TIME_WAIT between modes */
    uint64_t drain_max_ms; /* longest wait for TIME_WAIT to drain */

    /* --control unix:PATH: the server's Unix socket for the unix-control mode; "" none. */
    char control_unix[PX_URL_UNIX_MAX];
};

/* `portex ramp`: run's load, one open-model run per step from --from to --to. */
struct px_ramp_config {
    struct px_config base; /* the load and outputs; rate and duration set per step */
    double from_per_s, to_per_s, step_per_s;
    uint64_t step_ms;    /* --step-duration */
    uint64_t max_p99_ms; /* --max-p99; 0 = no latency bound */
    int no_stop;         /* run every step, even after two failed */
};

/* `portex doctor`. */
struct px_doctor_config {
    int has_target;
    char url_text[PX_URL_PATH_MAX + PX_URL_HOST_MAX + 16];
    struct px_url url;
    unsigned connections; /* concurrency the user wants (-c) */
    uint64_t connect_timeout_ms;
    const char *json_path;
};

/* Defaults of `portex run` (and of compare's load). */
void px_config_defaults(struct px_config *cfg);
/* Defaults of `portex serve`: 127.0.0.1:8080, one loop per CPU, a 13-byte body. */
void px_server_config_defaults(struct px_server_config *cfg);
/* Defaults of `portex lab`: 1000 ports, 2000/s, 10 s, 64 in flight (modes: cmd/mode.c). */
void px_lab_config_defaults(struct px_lab_config *cfg);
/* Defaults of `portex compare`: run's load, a drain of at most 65 s. */
void px_compare_config_defaults(struct px_compare_config *cfg);
/* Defaults of `portex ramp`: run's load, 5 s steps. */
void px_ramp_config_defaults(struct px_ramp_config *cfg);
/* Defaults of `portex doctor`: -c 64, a 3 s connect timeout. */
void px_doctor_config_defaults(struct px_doctor_config *cfg);
/* Frees what the config owns (the body). */
void px_config_release(struct px_config *cfg);
/*
 * Takes this host's share of a run split by --shard K/N: in the closed model
 * -c, and -n in both models, are split with the remainders to the lowest
 * indexes. 0, or -1 with a one-line reason (a share would be 0) in err.
 */
int px_config_apply_shard(struct px_config *cfg, char *err, size_t errlen);
/* "short" or "keepalive". */
const char *px_config_mode_name(const struct px_config *cfg);
/* "client", "server" or "rst". */
const char *px_close_name(enum px_close c);
/* "off" or "ticket". */
const char *px_tls_resume_name(int resume);
/* "client", "server" or "rst" into *out. 0, or -1 for anything else. */
int px_close_parse(const char *s, enum px_close *out);

#endif
