/* SPDX-License-Identifier: MIT */
/*
 * portex watch: its options, and its flow: the watch (load/watch.h) ticks
 * until stopped while this file draws the live table on a terminal (the
 * alternate screen, put back on every way out) or writes plain lines, then the
 * reports.
 */
#include "portex/cmd/watch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "portex/base/url.h"
#include "portex/cmd/cli.h"
#include "portex/report/watch_report.h"

/* ---- options ------------------------------------------------------------ */

/* --dest IP:PORT: an address and a port from 1 to 65535. */
static int set_dest(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen)
{
    struct sockaddr_storage *ss = PX_CLI_FIELD(obj, opt, struct sockaddr_storage);
    socklen_t len;
    char msg[160];
    if (px_addr_parse(arg, ss, &len, msg, sizeof(msg)) < 0 ||
        (ss->ss_family == AF_INET ? ((struct sockaddr_in *)ss)->sin_port
                                  : ((struct sockaddr_in6 *)ss)->sin6_port) == 0) {
        ss->ss_family = AF_UNSPEC;
        return px_cli_bad_value(opt, arg,
                                "expected IP:PORT with a port from 1 to 65535, such as "
                                "10.0.0.5:443 or [2001:db8::1]:443",
                                err, errlen);
    }
    return PX_CLI_OK;
}

#define WATCH(field) offsetof(struct px_watch_cmd_config, field)
static const struct px_cli_opt watch_opts[] = {
    {.name = "interval", .set = px_cli_set_duration, .off = WATCH(watch.interval_ms), .lo = 100},
    {.name = "duration",
     .letter = 'd',
     .set = px_cli_set_duration,
     .off = WATCH(watch.duration_ms),
     .lo = 1},
    {.name = "count", .set = px_cli_set_u64, .off = WATCH(watch.count), .lo = 1, .hi = 1000000000},
    {.name = "dest", .set = set_dest, .off = WATCH(watch.dest)},
    {.name = "json", .set = px_cli_set_path, .off = WATCH(out.json)},
    {.name = "quiet", .letter = 'q', .flag = 1, .set = px_cli_set_flag, .off = WATCH(out.quiet)},
    {.name = NULL},
};

static const struct px_cli_group watch_groups[] = {
    {.opts = watch_opts, .off = 0},
    {.opts = px_metrics_opts, .off = WATCH(metrics)},
};

static const char watch_usage[] =
    "usage: portex watch [--interval D] [-d D | --count N] [--dest IP:PORT] [--json FILE|-] [-q]\n"
    "                    [--metrics ADDR [--metrics-linger D]]\n"
    "\n"
    "The port budget of this host (its network namespace), read-only. Every tick, one\n"
    "sock_diag dump of every TCP socket, summed per channel (source address, destination\n"
    "address and port) against the ports connect() can pick (the range, minus reserved\n"
    "ports, minus ports bound inside it): ports in use, new connections per second, and\n"
    "the time until a channel has them all at that rate under its TIME_WAIT rules; the\n"
    "owners of live sockets. As root (CAP_PERFMON): every process's EADDRNOTAVAIL and the\n"
    "time its connect() calls take inside the kernel, system-wide, from the tracepoint\n"
    "syscalls:sys_exit_connect; without it, one line says so and the rest goes on.\n"
    "On a terminal a live table, fullest channel first; piped, key=value lines per tick.\n"
    "Runs until Ctrl-C (exit 0) unless -d or --count (a signal before then: exit 130).\n"
    "\n"
    "      --interval D        time between ticks; 1s (at least 100ms)\n"
    "  -d, --duration D        stop after D: a tick at once, then every interval\n"
    "      --count N           stop after N ticks\n"
    "      --dest IP:PORT      only the channels toward this destination ([IPv6]:PORT)\n"
    "      --json FILE         one document at the end ('-' for stdout): channels,\n"
    "                          processes, counters, ticks, tracing\n"
    "  -q, --quiet             no live table or lines; the summary at the end "
    "only\n" PX_METRICS_USAGE "  -h, --help              this text\n";

static const struct px_cli_spec watch_spec = {.name = "watch",
                                              .usage = watch_usage,
                                              .groups = watch_groups,
                                              .ngroups = PX_NELEMS(watch_groups)};

int px_watch_parse(int argc, char **argv, struct px_watch_cmd_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    memset(cfg, 0, sizeof(*cfg));
    cfg->watch.interval_ms = 1000;
    cfg->watch.trace = 1;
    cfg->watch.proc = "/proc";
    px_metrics_config_defaults(&cfg->metrics);
    int rc = px_cli_parse(&watch_spec, argc, argv, cfg, &args, err, errlen);
    if (rc == PX_CLI_OK)
        rc = px_cli_no_operands(&args, argc, argv, err, errlen);
    if (rc == PX_CLI_OK && px_cli_given(&args, "duration") && px_cli_given(&args, "count"))
        rc = px_cli_usage_error(err, errlen, "-d and --count both say when to stop: give one");
    return rc;
}

/* ---- the terminal --------------------------------------------------------- */

/* The terminal showing the live table in its alternate screen; -1 when none. File-static
 * so that an exit from anywhere, or a crash, can still put the screen back. */
static int screen_fd = -1;

/* 0, or -1 when the terminal is gone. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void screen_leave(void)
{
    if (screen_fd < 0)
        return;
    write_all(screen_fd, PX_WATCH_SCREEN_LEAVE, strlen(PX_WATCH_SCREEN_LEAVE));
    screen_fd = -1;
}

/* A crash: the screen back, then the signal's own action (SA_RESETHAND). */
static void crash_cb(int sig)
{
    screen_leave();
    raise(sig);
}

static void screen_enter(int fd)
{
    static int registered;
    if (!registered) {
        atexit(screen_leave);
        struct sigaction sa = {.sa_handler = crash_cb, .sa_flags = SA_RESETHAND};
        const int crashes[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
        for (size_t i = 0; i < PX_NELEMS(crashes); i++)
            sigaction(crashes[i], &sa, NULL);
        registered = 1;
    }
    write_all(fd, PX_WATCH_SCREEN_ENTER, strlen(PX_WATCH_SCREEN_ENTER));
    screen_fd = fd;
}

/* The live table is for a person at a terminal that understands it. */
static int wants_live(const struct px_outputs *out, FILE *stream)
{
    const char *term = getenv("TERM");
    return !out->quiet && isatty(fileno(stream)) && term != NULL && term[0] != '\0' &&
           strcmp(term, "dumb") != 0;
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config, the watch, and how its ticks are shown. */
struct watch_state {
    struct px_watch_cmd_config cfg;
    struct px_watch *w;
    FILE *stream;        /* the live table or lines: stdout, or stderr when --json - */
    int live;            /* the live table, else lines (unless -q) */
    unsigned rows, cols; /* the terminal's size */
    char *frame;         /* the frame being drawn */
    size_t frame_len;
    struct px_metrics *metrics; /* --metrics; NULL without */
};

static void read_size(struct watch_state *s)
{
    struct winsize ws;
    s->rows = 24;
    s->cols = 80;
    if (ioctl(fileno(s->stream), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        s->rows = ws.ws_row;
        s->cols = ws.ws_col;
    }
}

/* The last tick's frame, in one write: no flicker, no scroll. 0, or -1 when the
 * terminal is gone. */
static int draw(struct watch_state *s)
{
    if (s->w->ticks == 0 || screen_fd < 0)
        return 0;
    size_t need = (size_t)s->rows * (s->cols + 8) + 64;
    if (need > s->frame_len) {
        char *f = realloc(s->frame, need);
        if (f == NULL)
            return 0;
        s->frame = f;
        s->frame_len = need;
    }
    size_t n = px_watch_report_frame(s->frame, s->frame_len, s->w, s->rows, s->cols);
    return write_all(screen_fd, s->frame, n);
}

/* The tick shown; a reader that went away (`portex watch | head`, a closed
 * terminal) ends the watch instead of ticking on unread. */
static int tick_cb(void *arg, const struct px_watch *w)
{
    struct watch_state *s = arg;
    px_metrics_publish_own(s->metrics, px_watch_report_metrics, w, 0);
    if (s->live)
        return draw(s);
    if (s->cfg.out.quiet)
        return 0;
    px_watch_report_lines(s->stream, w);
    return fflush(s->stream) != 0 || ferror(s->stream) ? -1 : 0;
}

/* A resize redraws; Ctrl-Z gives the terminal back while stopped. */
static void signal_cb(void *arg, int sig)
{
    struct watch_state *s = arg;
    if (!s->live)
        return;
    int fd = fileno(s->stream);
    if (sig == SIGTSTP) {
        screen_leave();
        raise(SIGSTOP);
        screen_enter(fd);
    } else if (sig == SIGWINCH) {
        write_all(fd, "\033[2J", 4);
    }
    read_size(s);
    draw(s);
}

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_watch_parse(argc, argv, &((struct watch_state *)state)->cfg, err, errlen);
}

static const struct px_outputs *cmd_outputs(const void *state)
{
    return &((const struct watch_state *)state)->cfg.out;
}

/* Ticks until the end asked for or a stop signal, the table or lines shown meanwhile. */
static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    (void)hlog;
    struct watch_state *s = state;
    const struct px_outputs *out = &s->cfg.out;
    *status = PX_EXIT_FAILED;
    s->w = px_watch_new(&s->cfg.watch, err, errlen);
    if (s->w == NULL)
        return -1;
    px_watch_report_tracing(stderr, s->w);
    s->stream = out->json && strcmp(out->json, "-") == 0 ? stderr : stdout;
    s->live = wants_live(out, s->stream);
    /* SIGHUP ends a watch like SIGINT; the others come through signal_cb. */
    sigset_t extra, blocked, old;
    sigemptyset(&extra);
    sigaddset(&extra, SIGWINCH);
    sigaddset(&extra, SIGTSTP);
    sigaddset(&extra, SIGCONT);
    blocked = extra;
    sigaddset(&blocked, SIGHUP);
    sigprocmask(SIG_BLOCK, &blocked, &old);
    if (s->live) {
        read_size(s);
        screen_enter(fileno(s->stream));
    }
    int rc = px_watch_run(s->w, &extra, signal_cb, tick_cb, s, err, errlen);
    screen_leave();
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (rc < 0 && s->w->ticks == 0)
        return -1;
    if (rc < 0)
        fprintf(stderr, "portex watch: %s\n", err);
    const struct px_watch_config *c = &s->cfg.watch;
    *status = rc < 0                                              ? PX_EXIT_FAILED
              : s->w->interrupted && (c->count || c->duration_ms) ? PX_EXIT_INTERRUPTED
                                                                  : PX_EXIT_OK;
    return 0;
}

static void text_cb(FILE *f, const void *state)
{
    px_watch_report_text(f, ((const struct watch_state *)state)->w);
}

static void json_cb(FILE *f, const void *state)
{
    px_watch_report_json(f, ((const struct watch_state *)state)->w);
}

static enum px_exit cmd_prepare(void *state)
{
    struct watch_state *s = state;
    return px_metrics_open(&s->metrics, "watch", &s->cfg.metrics, 0);
}

static void cmd_after_reports(void *state)
{
    px_metrics_finish(((struct watch_state *)state)->metrics);
}

static void cmd_free(void *state)
{
    struct watch_state *s = state;
    px_metrics_free(s->metrics);
    px_watch_free(s->w);
    free(s->frame);
}

static const struct px_report watch_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
    {.output = PX_OUTPUT_JSON, .write = json_cb},
};

const struct px_command px_watch_command = {
    .name = "watch",
    .operands = "",
    .summary = "the port budget of a live host, every process, per destination",
    .waits_for_stop = 1,
    .state_size = sizeof(struct watch_state),
    .parse = cmd_parse,
    .outputs = cmd_outputs,
    .prepare = cmd_prepare,
    .run = cmd_run,
    .after_reports = cmd_after_reports,
    .reports = watch_reports,
    .nreports = PX_NELEMS(watch_reports),
    .free = cmd_free,
};
