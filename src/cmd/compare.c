/* SPDX-License-Identifier: MIT */
/*
 * portex compare. Modes run one after the other in this namespace. An earlier
 * mode's TIME_WAIT sockets (or an earlier run's: they last 60 s) would eat a
 * mode's ports, so each mode gets ports of its own: with --port-range the next
 * window of the same size inside ip_local_port_range whose ports hold at most
 * 5% TIME_WAIT toward the target (sock_diag, looked at before each mode), or
 * with several --source addresses fresh addresses. Only when its ports still
 * hold more does it wait for them to expire (unless --no-drain, and then the
 * mode's note says so). A mode that needs tcp_tw_reuse changed sets it
 * through a guard and puts it back right after.
 */
#include "portex/cmd/compare.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portex/base/clock.h"
#include "portex/base/stop.h"
#include "portex/base/url.h"
#include "portex/cmd/cli.h"
#include "portex/cmd/loadopts.h"
#include "portex/cmd/mode.h"
#include "portex/kernel/guard.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"
#include "portex/load/result.h"
#include "portex/load/run.h"
#include "portex/report/compare_report.h"
#include "portex/report/hlog.h"
#include "portex/report/mode_report.h"

/* Points the control mode's copy of the config at the server's Unix socket. 0 or -1. */
static int use_control(const struct px_compare_config *cfg, struct px_load *run, char *err,
                       size_t errlen)
{
    run->port_lo = run->port_hi = 0;
    run->nsources = 0;
    run->naddrs = 0; /* the URL's addresses are not this mode's target */
    return px_unix_addr(cfg->control_unix, &run->target, &run->target_len, err, errlen);
}

/*
 * The ports a mode uses toward the target: a port window (its --port-range
 * window, or the namespace's whole range) on each of its source addresses
 * (none given: whatever address the route picks).
 */
struct port_set {
    unsigned lo, hi;
    const struct sockaddr_storage *src;
    size_t nsrc;
};

static struct port_set port_set_of(const struct px_load *load, const struct px_env *env)
{
    struct port_set set = {.lo = load->port_lo ? load->port_lo : env->port_lo,
                           .hi = load->port_lo ? load->port_hi : env->port_hi,
                           .src = load->sources,
                           .nsrc = load->nsources};
    return set;
}

static uint64_t set_ports(const struct port_set *set)
{
    return (uint64_t)(set->hi - set->lo + 1) * (set->nsrc > 1 ? set->nsrc : 1);
}

/* Over 5% of its ports in TIME_WAIT: not clean. A few left by closing idle keep-alive
 * connections are not worth a minute's wait. */
static int set_dirty(const struct port_set *set, int64_t tw)
{
    return tw >= 0 && (uint64_t)tw > set_ports(set) / 20;
}

/* What one sock_diag dump counts: TIME_WAIT toward dst holding a port of set. */
struct tw_scan {
    const struct sockaddr *dst;
    const struct port_set *set;
    int64_t count;
};

static void tw_scan_cb(const struct px_diag_sock *sk, void *arg)
{
    struct tw_scan *s = arg;
    if (sk->state == TCP_TIME_WAIT && px_diag_sock_toward(sk, s->dst) && sk->sport >= s->set->lo &&
        sk->sport <= s->set->hi && px_diag_sock_from(sk, s->set->src, s->set->nsrc))
        s->count++;
}

/* TIME_WAIT sockets toward dst that hold ports of set; -1 when sock_diag cannot tell
 * (no socket, or a Unix-socket target, which has no ports). */
static int64_t tw_in_set(int diag, const struct sockaddr *dst, const struct port_set *set)
{
    if (diag < 0 || (dst->sa_family != AF_INET && dst->sa_family != AF_INET6))
        return -1;
    struct tw_scan s = {.dst = dst, .set = set, .count = 0};
    if (px_diag_dump(diag, dst->sa_family, PX_DIAG_STATE(TCP_TIME_WAIT), tw_scan_cb, &s) < 0)
        return -1;
    return s.count;
}

/* What compare keeps from mode to mode to give each ports of its own. */
struct ports_state {
    struct px_env env;
    int diag;             /* sock_diag socket; -1: TIME_WAIT cannot be looked at */
    unsigned next_window; /* the next --port-range window to try */
    sigset_t stop_set;
};

/*
 * Waits (signals still count) while TIME_WAIT toward the target holds more
 * than 5% of the ports of set, at most cfg->drain_max_ms. 1 when a signal
 * came, 0 otherwise.
 */
static int drain(const struct px_compare_config *cfg, struct ports_state *ps,
                 const struct port_set *set)
{
    const struct sockaddr *dst = (const struct sockaddr *)&cfg->base.target;
    uint64_t until = px_clock_us() + cfg->drain_max_ms * 1000u;
    int interrupted = 0, shown = 0, tty = isatty(STDERR_FILENO);
    char target[80];
    px_sockaddr_str(dst, target, sizeof(target));
    for (unsigned tick = 0;; tick++) {
        int64_t tw = tw_in_set(ps->diag, dst, set);
        uint64_t now = px_clock_us();
        if (!set_dirty(set, tw) || now >= until)
            break;
        /* TIME_WAIT lasts 60 s: the count falls as the oldest expire. */
        if (!cfg->out.quiet && (tty || tick % 10 == 0)) {
            fprintf(stderr,
                    "%sportex compare: %lld TIME_WAIT sockets toward %s hold ports; "
                    "waiting for them to expire (at most %.0f s more)%s",
                    tty ? "\r" : "", (long long)tw, target, (double)(until - now) / 1e6,
                    tty ? "\033[K" : "\n");
            shown = tty;
        }
        const struct timespec sec = {.tv_sec = 1, .tv_nsec = 0};
        if (px_stop_wait(&ps->stop_set, &sec)) {
            interrupted = 1;
            break;
        }
    }
    if (shown)
        fputc('\n', stderr);
    return interrupted;
}

int px_compare_port_window(unsigned lo, unsigned hi, unsigned ns_lo, unsigned ns_hi, unsigned k,
                           unsigned *out_lo, unsigned *out_hi)
{
    if (lo > hi || lo < ns_lo || hi > ns_hi)
        return -1;
    unsigned w = hi - lo + 1;
    unsigned up = (ns_hi - lo + 1) / w; /* windows from lo upward, lo's own included */
    unsigned down = (lo - ns_lo) / w;   /* windows wholly below lo */
    if (k < up) {
        *out_lo = lo + k * w;
    } else if (k - up < down) {
        *out_lo = lo - (k - up + 1) * w;
    } else {
        return -1;
    }
    *out_hi = *out_lo + w - 1;
    return 0;
}

/*
 * The next --port-range window whose ports hold at most 5% TIME_WAIT toward
 * the target (an earlier mode's or run's), into load; the windows passed over
 * are named in res->isolation_note. 0 when none is left.
 */
static int clean_window(const struct px_compare_config *cfg, struct ports_state *ps,
                        struct px_mode_result *res, struct px_load *load)
{
    const struct px_load *b = &cfg->base;
    const struct sockaddr *dst = (const struct sockaddr *)&b->target;
    unsigned lo, hi, skipped = 0, first_lo = 0, first_hi = 0;
    int found = 0;
    for (; !found && px_compare_port_window(b->port_lo, b->port_hi, ps->env.port_lo,
                                            ps->env.port_hi, ps->next_window, &lo, &hi) == 0;
         ps->next_window++) {
        struct port_set set = port_set_of(load, &ps->env);
        set.lo = lo;
        set.hi = hi;
        found = !set_dirty(&set, tw_in_set(ps->diag, dst, &set));
        if (!found && skipped++ == 0) {
            first_lo = lo;
            first_hi = hi;
        }
    }
    if (!found)
        return 0;
    if (skipped)
        snprintf(res->isolation_note, sizeof(res->isolation_note),
                 "passed over %u window%s (the first %u-%u) with over 5%% of %s ports in "
                 "TIME_WAIT toward the target, left by an earlier run",
                 skipped, skipped > 1 ? "s" : "", first_lo, first_hi,
                 skipped > 1 ? "their" : "its");
    load->port_lo = (uint16_t)lo;
    load->port_hi = (uint16_t)hi;
    res->isolation = "port-window";
    return 1;
}

/*
 * Mode i's own ports: a clean --port-range window, or its share of several
 * --source addresses. Sets them in load, and res->isolation; 0 when neither is
 * possible (the caller then looks at the TIME_WAIT in the ports it has).
 */
static int isolate(const struct px_compare_config *cfg, size_t i, struct ports_state *ps,
                   struct px_mode_result *res, struct px_load *load)
{
    const struct px_load *b = &cfg->base;
    if (b->port_lo != 0 && clean_window(cfg, ps, res, load))
        return 1;
    size_t share = b->nsources / (cfg->nmodes ? cfg->nmodes : 1);
    if (b->nsources > 1 && share > 0) {
        memmove(load->sources, &b->sources[i * share], share * sizeof(b->sources[0]));
        load->nsources = share;
        res->isolation = "source";
        return 1;
    }
    return 0;
}

/* What every mode's ticks go to besides its series: --hlog and --metrics. */
struct ticks_to {
    struct px_hlog *hlog;
    struct px_metrics *metrics;
};

/* One mode's run of load into res->run; with --hlog its ticks go to the log,
 * tagged with the mode's name, with --metrics to the live metrics under the
 * mode's label (label). 0, or -1 with err. */
static int run_mode(const struct px_compare_config *cfg, struct px_mode_result *res,
                    const struct px_load *load, const struct ticks_to *to, const char *label,
                    char *err, size_t errlen)
{
    struct px_hlog_tagged tagged = {.log = to->hlog, .tag = res->name};
    struct px_stats_opts opts = {.live = cfg->out.quiet ? NULL : stderr,
                                 .tick = to->hlog ? px_hlog_tick_tagged : NULL,
                                 .tick_arg = &tagged,
                                 .row_hists = cfg->out.json != NULL};
    res->run = px_run_new(load);
    if (res->run == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    px_metrics_begin(to->metrics, label, load);
    px_metrics_hook(to->metrics, &opts, res->run);
    if (px_run_execute(res->run, &opts, err, errlen) == 0)
        return 0;
    px_run_free(res->run);
    res->run = NULL;
    return -1;
}

/* Modes that set tcp_tw_reuse need the flag (else a usage error) and root. */
static enum px_exit check_sysctl_modes(const struct px_compare_config *cfg, char *err,
                                       size_t errlen)
{
    int needs_sysctl = 0;
    for (size_t i = 0; i < cfg->nmodes; i++)
        needs_sysctl |= cfg->modes[i]->client_reuse >= 0;
    if (needs_sysctl && !cfg->allow_sysctl) {
        snprintf(err, errlen,
                 "modes short-noreuse and short-reuse change net.ipv4.tcp_tw_reuse: "
                 "add --allow-sysctl (root; the value is restored afterwards)");
        return PX_EXIT_USAGE;
    }
    if (needs_sysctl && geteuid() != 0) {
        snprintf(err, errlen, "--allow-sysctl needs root to set net.ipv4.tcp_tw_reuse");
        return PX_EXIT_FAILED;
    }
    return PX_EXIT_OK;
}

/* Why mode i's ports could not be clean, for its note. */
static const char *why_not_clean(const struct px_compare_config *cfg, const struct px_load *load)
{
    if (cfg->base.port_lo != 0)
        return "no window of its size left with at most 5% in TIME_WAIT";
    if (load->nsources > 0)
        return "its source addresses, with no --port-range to move to another window";
    return "the whole port range: no --port-range to move to another window";
}

/*
 * Gives mode i ports of its own (a clean window or source addresses). When the
 * ports it has still hold over 5% TIME_WAIT toward the target (an earlier
 * mode's or run's), waits for it to expire, or with --no-drain says why it did
 * not. 1 when a signal came during the wait.
 */
static int clear_ports(const struct px_compare_config *cfg, size_t i, struct ports_state *ps,
                       struct px_mode_result *res, struct px_load *load)
{
    res->isolation = i == 0 ? "as-given" : "none";
    /* The Unix-socket control mode uses no port: nothing to isolate or wait for. */
    if (cfg->modes[i] == &px_compare_control_mode)
        return 0;
    /* A clean window passes the look below; source addresses cannot move, and may not be. */
    isolate(cfg, i, ps, res, load);
    const struct sockaddr *dst = (const struct sockaddr *)&cfg->base.target;
    struct port_set set = port_set_of(load, &ps->env);
    int64_t tw = tw_in_set(ps->diag, dst, &set);
    if (!set_dirty(&set, tw))
        return 0;
    snprintf(res->isolation_note, sizeof(res->isolation_note),
             "%lld of its %llu ports were in TIME_WAIT toward the target (%s)%s", (long long)tw,
             (unsigned long long)set_ports(&set), why_not_clean(cfg, load),
             cfg->no_drain ? "; --no-drain: ran without waiting" : "");
    if (cfg->no_drain)
        return 0;
    uint64_t t0 = px_clock_us();
    int stopped = drain(cfg, ps, &set);
    res->waited_s = (double)(px_clock_us() - t0) / 1e6;
    res->isolation = "drain";
    return stopped;
}

/* Mode i's run with its sysctl guarded. 0, or -1 with err. */
static int run_one(const struct px_compare_config *cfg, size_t i, struct px_mode_result *res,
                   struct px_load *load, const struct ticks_to *to, char *err, size_t errlen)
{
    const struct px_mode *mode = cfg->modes[i];
    char label[64];
    px_mode_label(cfg->modes, i, label, sizeof(label));
    struct px_guard guard = {0};
    if (mode->client_reuse >= 0 &&
        px_guard_set(&guard, "net.ipv4.tcp_tw_reuse", mode->client_reuse, err, errlen) < 0)
        return -1;
    load->keepalive = mode->keepalive;
    load->close = mode->close;
    load->requests_per_conn = mode->requests_per_conn;
    load->http2 = mode->http2;
    load->streams = mode->streams ? mode->streams : 1;
    int r = 0;
    if (mode == &px_compare_control_mode)
        r = use_control(cfg, load, err, errlen);
    if (r == 0 && !cfg->out.quiet) {
        fprintf(stderr, "portex compare: mode %s (%s); ", mode->name, mode->what);
        px_compare_report_isolation(stderr, res, load);
    }
    if (r == 0)
        r = run_mode(cfg, res, load, to, label, err, errlen);
    px_guard_restore(&guard);
    if (r < 0)
        return -1;
    res->ran = 1;
    res->predicted_ok = px_ceiling_expected_ok(&res->run->ex.ceiling, res->run->duration_s,
                                               cfg->base.rate_per_s > 0 ? cfg->base.rate_per_s : 0);
    /* -n asks for exactly that many: no more can succeed, whatever the ports allow. */
    if (cfg->base.requests > 0 && res->predicted_ok > (double)cfg->base.requests)
        res->predicted_ok = (double)cfg->base.requests;
    return 0;
}

enum px_exit px_compare_run(const struct px_compare_config *cfg, struct px_hlog *hlog,
                            struct px_metrics *metrics, struct px_mode_result *results, char *err,
                            size_t errlen)
{
    const struct ticks_to to = {.hlog = hlog, .metrics = metrics};
    enum px_exit status = check_sysctl_modes(cfg, err, errlen);
    if (status != PX_EXIT_OK)
        return status;
    /* Blocked since main(): a signal is taken either by the run's own wait or
     * by ours, never lost, and never kills us with a sysctl changed. */
    static struct ports_state ps;
    memset(&ps, 0, sizeof(ps));
    px_stop_set(&ps.stop_set);
    int interrupted = 0, rc = 0;
    px_env_read(PX_PROC, &ps.env);
    ps.diag = px_diag_open();
    for (size_t i = 0; i < cfg->nmodes && rc == 0; i++) {
        struct px_mode_result *res = &results[i];
        if (!px_mode_result_start(res, cfg->modes[i], interrupted))
            continue;
        /* The mode's own load: the base, its ports, its settings. */
        static struct px_load load;
        load = cfg->base;
        if (clear_ports(cfg, i, &ps, res, &load)) {
            interrupted = 1;
            snprintf(res->note, sizeof(res->note), "not run: interrupted");
            continue;
        }
        rc = run_one(cfg, i, res, &load, &to, err, errlen);
        if (rc == 0 && res->run->interrupted)
            interrupted = 1;
    }
    if (px_stop_pending(&ps.stop_set))
        interrupted = 1;
    if (ps.diag >= 0)
        close(ps.diag);
    if (rc < 0)
        return PX_EXIT_FAILED;
    return interrupted ? PX_EXIT_INTERRUPTED : PX_EXIT_OK;
}

void px_compare_config_defaults(struct px_compare_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    px_load_defaults(&cfg->base);
    px_metrics_config_defaults(&cfg->metrics);
    cfg->drain_max_ms = 65000; /* TIME_WAIT is 60 s; a little margin */
}

/* ---- options ------------------------------------------------------------ */

static int set_control(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                       size_t errlen)
{
    struct px_compare_config *cfg = obj;
    return px_cli_unix_path(d, arg, cfg->control_unix, sizeof(cfg->control_unix), err, errlen);
}

static int set_modes(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
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
static int set_per_mode(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                        size_t errlen)
{
    (void)obj;
    (void)arg;
    char name[40];
    return px_cli_usage_error(err, errlen, "option '%s' %s", px_cli_opt_name(d, name, sizeof(name)),
                              "is set by each compare mode: choose modes with --modes");
}

#define CMP(field) offsetof(struct px_compare_config, field)
static const struct px_cli_opt compare_opts[] = {
    {.name = "modes", .set = set_modes},
    {.name = "allow-sysctl", .flag = 1, .set = px_cli_set_flag, .off = CMP(allow_sysctl)},
    {.name = "no-drain", .flag = 1, .set = px_cli_set_flag, .off = CMP(no_drain)},
    {.name = "control", .set = set_control},
    {.name = "keepalive", .letter = 'k', .flag = 1, .set = set_per_mode},
    {.name = "close", .set = set_per_mode},
    {.name = NULL},
};

static const struct px_cli_group compare_groups[] = {
    {.opts = px_loadopts_load, .off = CMP(base)}, {.opts = px_cli_output_opts, .off = CMP(out)},
    {.opts = px_cli_hlog_opts, .off = CMP(out)},  {.opts = compare_opts, .off = 0},
    {.opts = px_loadopts_tls, .off = CMP(base)},  {.opts = px_metrics_opts, .off = CMP(metrics)},
};

static const char compare_usage[] =
    "usage: portex compare [options] URL\n"
    "\n"
    "The same load against a real server under several modes, one table: keepalive,\n"
    "server-close, rst, short (current settings); with --allow-sysctl (root) also\n"
    "short-noreuse and short-reuse (net.ipv4.tcp_tw_reuse 0 and 1, restored after\n"
    "each mode and on SIGINT/SIGTERM). Each mode gets ports of its own: with\n"
    "--port-range the next window of the same size with at most 5% of its ports in\n"
    "TIME_WAIT toward the target (an earlier run's too), or with several --source\n"
    "addresses a share of them; when its ports still hold more, it waits for them\n"
    "to expire (unless --no-drain, and then says so).\n"
    "\n"
    "  load options as for portex run: -c -r -d -n -t -m -H --body --timeout\n"
    "  --connect-timeout --port-range --source --interval -q --unix -4 -6 --no-retry\n"
    "  https: --insecure --cacert --tls-version --tls-resume\n"
    "      --modes LIST        keepalive,server-close,rst,short,short-noreuse,short-reuse,\n"
    "                          conn10, reuse-conn10 (10 requests per connection),\n"
    "                          h2 (HTTP/2, 10 streams per connection: h2c, or h2 by ALPN)\n"
    "      --allow-sysctl      let the reuse modes set net.ipv4.tcp_tw_reuse (root)\n"
    "      --no-drain          do not wait for TIME_WAIT in a mode's ports\n"
    "      --control unix:PATH add mode unix-control: short connections over the server's\n"
    "                          Unix socket (serve --listen twice), where no port is used\n"
    "      --hlog FILE         HdrHistogram interval log, lines tagged MODE, MODE.connect,\n"
    "                          MODE.ttfb (values in us)\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "      --svg FILE          chart, one panel per mode\n"
    "      --csv FILE          every mode's series as CSV\n" PX_METRICS_USAGE
    "                          (label mode: each mode's name)\n"
    "  -h, --help              this text\n";

static const struct px_cli_spec compare_spec = {.name = "compare",
                                                .usage = compare_usage,
                                                .groups = compare_groups,
                                                .ngroups = PX_NELEMS(compare_groups)};

int px_compare_parse(int argc, char **argv, struct px_compare_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    px_compare_config_defaults(cfg);
    int rc = px_cli_parse(&compare_spec, argc, argv, cfg, &args, err, errlen);
    if (rc != PX_CLI_OK)
        return rc;
    rc = px_loadopts_finish(&args, argc, argv, &cfg->base, &cfg->out, err, errlen);
    if (rc == PX_CLI_OK && !cfg->modes_given)
        cfg->nmodes =
            px_mode_defaults(px_compare_modes, px_compare_nmodes, cfg->allow_sysctl, cfg->modes);
    if (rc == PX_CLI_OK && cfg->control_unix[0] && cfg->nmodes < PX_MAX_MODES)
        cfg->modes[cfg->nmodes++] = &px_compare_control_mode;
    return rc;
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config, the live metrics and one result per mode. */
struct compare_state {
    struct px_compare_config cfg;
    struct px_metrics *metrics; /* --metrics; NULL without */
    struct px_mode_result res[PX_MAX_MODES];
    enum px_exit status; /* of the run: PX_EXIT_INTERRUPTED adds a line to the text */
};

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_compare_parse(argc, argv, &((struct compare_state *)state)->cfg, err, errlen);
}

static const struct px_outputs *cmd_outputs(const void *state)
{
    return &((const struct compare_state *)state)->cfg.out;
}

static enum px_exit cmd_prepare(void *state)
{
    struct compare_state *s = state;
    /* First: the endpoint's fds are open when the load's fd reserve is counted. */
    enum px_exit rc = px_metrics_open(&s->metrics, "compare", &s->cfg.metrics, 0);
    s->cfg.out.scrapers = px_metrics_scraper_fds(s->metrics);
    return rc != PX_EXIT_OK ? rc : px_loadopts_prepare("compare", &s->cfg.base, &s->cfg.out);
}

static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    struct compare_state *s = state;
    s->status = px_compare_run(&s->cfg, hlog, s->metrics, s->res, err, errlen);
    *status = s->status;
    return s->status == PX_EXIT_OK || s->status == PX_EXIT_INTERRUPTED ? 0 : -1;
}

static void text_cb(FILE *f, const void *state)
{
    const struct compare_state *s = state;
    px_compare_report_text(f, &s->cfg.base, s->res, s->cfg.nmodes);
    if (s->status == PX_EXIT_INTERRUPTED)
        px_mode_note_interrupted(f);
}

static void json_cb(FILE *f, const void *state)
{
    const struct compare_state *s = state;
    px_mode_report_json(f, "compare", s->res, s->cfg.nmodes);
}

static void svg_cb(FILE *f, const void *state)
{
    const struct compare_state *s = state;
    px_mode_report_svg(f, "compare", s->res, s->cfg.nmodes);
}

static void csv_cb(FILE *f, const void *state)
{
    const struct compare_state *s = state;
    px_mode_report_csv(f, s->res, s->cfg.nmodes);
}

static void after_reports(void *state)
{
    px_metrics_finish(((struct compare_state *)state)->metrics);
}

static void cmd_free(void *state)
{
    struct compare_state *s = state;
    px_metrics_free(s->metrics);
    px_mode_results_free(s->res, s->cfg.nmodes);
    px_load_release(&s->cfg.base);
}

static const struct px_report compare_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
    {.output = PX_OUTPUT_JSON, .write = json_cb},
    {.output = PX_OUTPUT_SVG, .write = svg_cb},
    {.output = PX_OUTPUT_CSV, .write = csv_cb},
};

const struct px_command px_compare_command = {
    .name = "compare",
    .operands = "URL",
    .summary = "the same load under several modes against a real server",
    .waits_for_stop = 1,
    .state_size = sizeof(struct compare_state),
    .parse = cmd_parse,
    .outputs = cmd_outputs,
    .prepare = cmd_prepare,
    .run = cmd_run,
    .reports = compare_reports,
    .nreports = PX_NELEMS(compare_reports),
    .after_reports = after_reports,
    .free = cmd_free,
};
