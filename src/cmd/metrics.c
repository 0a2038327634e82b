/* SPDX-License-Identifier: MIT */
/*
 * --metrics: which values are served, under which labels, and until when.
 * The process that serves keeps one load per set of labels with its last
 * tick's values (a finished mode keeps its final ones, so no counter goes
 * back when the next mode starts at 0) and renders all of them, in both
 * formats, with one timestamp per publish that is always later than the last.
 *
 * Usually that is this process: the endpoint's thread serves, the stats
 * thread publishes each tick. The lab forks its namespaces' children from a
 * process that must hold no thread (a fork copies only the calling thread,
 * and whatever lock another held stays held in the child), so there the
 * endpoint runs in a serving process forked before anything else, and every
 * value reaches it as a message down a pipe: a lab client's ticks (dropped
 * when the pipe is full: the next tick carries the same counters, and the
 * lab sends each client's final values from its result) and the lab's own.
 */
#include "portex/cmd/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "portex/base/clock.h"
#include "portex/base/parse.h"
#include "portex/base/stop.h"
#include "portex/base/url.h"
#include "portex/cmd/child.h"
#include "portex/load/endpoint.h"
#include "portex/load/result.h"
#include "portex/load/stats.h"
#include "portex/report/exposition.h"

/* ---- options ------------------------------------------------------------ */

#define DEFAULT_LINGER_MS 5000

static int set_addr(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen)
{
    struct px_metrics_config *cfg = obj;
    char why[128];
    /* A number only: a name would make evhttp resolve it, blocking, on every bind. */
    if (px_addr_parse(arg, &cfg->addr, &cfg->addr_len, why, sizeof(why)) == 0)
        return PX_CLI_OK;
    return px_cli_bad_value(opt, arg,
                            "expected IP:PORT or [IPv6]:PORT with a numeric address "
                            "(port 0: any free port)",
                            err, errlen);
}

/* A duration, or 0: do not wait for a scrape of the final values. */
static int set_linger(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                      size_t errlen)
{
    uint64_t ms = 0;
    if (strcmp(arg, "0") != 0 && px_parse_duration_ms(arg, &ms) < 0)
        return px_cli_bad_value(opt, arg, "expected 0 or a duration such as 500ms, 5s or 1m", err,
                                errlen);
    *PX_CLI_FIELD(obj, opt, uint64_t) = ms;
    return PX_CLI_OK;
}

#define MET(field) offsetof(struct px_metrics_config, field)
const struct px_cli_opt px_metrics_opts[] = {
    {.name = "metrics", .set = set_addr},
    {.name = "metrics-linger", .set = set_linger, .off = MET(linger_ms)},
    {.name = NULL},
};

void px_metrics_config_defaults(struct px_metrics_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->linger_ms = DEFAULT_LINGER_MS;
}

/* ---- what is served ------------------------------------------------------ */

enum msg_kind {
    MSG_LOAD,  /* one load's values at a tick */
    MSG_FINAL, /* the values published last are the final ones */
};

/* One publish's worth, as the serving process gets it. At most PIPE_BUF bytes:
 * several lab clients write to one pipe, and a write of at most PIPE_BUF is
 * never interleaved with another, and when non-blocking is all or nothing. */
struct metrics_msg {
    uint32_t kind; /* enum msg_kind */
    uint64_t ts_ms;
    struct px_expo_labels labels;
    struct px_expo_sample at;
};
_Static_assert(sizeof(struct metrics_msg) <= PIPE_BUF, "a message fits one atomic pipe write");

struct px_metrics {
    char cmd[16];
    uint64_t linger_ms;
    /* Where values go: the endpoint in this process, or the serving process. */
    struct px_endpoint *ep;  /* NULL when detached */
    struct px_child serving; /* detached: its pid and pipes; pid -1 otherwise */

    /* What is served: the serving process's own. */
    struct px_expo_load *loads;
    size_t nloads, cap;
    struct px_expo_serve serve;
    int serving_counts;       /* portex serve's counts are part of it */
    px_metrics_write_cb *own; /* a command's own families; NULL: none */
    const void *own_arg;
    uint64_t ts_ms; /* the last publish's timestamp */

    /* The load running now, in the process that runs it. */
    struct px_expo_labels labels;
    const struct px_run *run;
    px_stats_tick_cb next; /* the tick opts had before px_metrics_hook */
    void *next_arg;
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The load with these labels, added when new; NULL when out of memory. */
static struct px_expo_load *load_of(struct px_metrics *m, const struct px_expo_labels *labels)
{
    for (size_t i = 0; i < m->nloads; i++)
        if (memcmp(&m->loads[i].labels, labels, sizeof(*labels)) == 0)
            return &m->loads[i];
    if (m->nloads == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 8;
        struct px_expo_load *more = realloc(m->loads, cap * sizeof(*more));
        if (more == NULL)
            return NULL;
        m->loads = more;
        m->cap = cap;
    }
    struct px_expo_load *l = &m->loads[m->nloads++];
    memset(l, 0, sizeof(*l));
    l->labels = *labels;
    return l;
}

/* Everything served, in one format, into a new buffer. NULL when out of memory. */
static char *render(const struct px_metrics *m, enum px_expo_format fmt, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        return NULL;
    px_expo_write_loads(f, fmt, m->loads, m->nloads, m->ts_ms);
    if (m->serving_counts)
        px_expo_write_serve(f, fmt, &m->serve, m->ts_ms);
    if (m->own)
        m->own(f, fmt, m->ts_ms, m->own_arg);
    px_expo_end(f, fmt);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void publish(struct px_metrics *m, int final)
{
    size_t om_len = 0, prom_len = 0;
    char *om = render(m, PX_EXPO_OPENMETRICS, &om_len);
    char *prom = render(m, PX_EXPO_PROMETHEUS, &prom_len);
    if (om && prom) /* else the last publish stays served */
        px_endpoint_publish(m->ep, om, om_len, prom, prom_len, final);
    free(om);
    free(prom);
}

/*
 * One timestamp for the next publish, later than the last: Prometheus drops a
 * new value under a timestamp it already has without a word. A finished
 * load's values are stamped anew with every publish, so none grows old.
 */
static void stamp(struct px_metrics *m, uint64_t ts_ms)
{
    m->ts_ms = ts_ms > m->ts_ms ? ts_ms : m->ts_ms + 1;
}

/* A message, in the process that serves. */
static void apply(struct px_metrics *m, const struct metrics_msg *msg)
{
    if (msg->kind == MSG_FINAL) {
        /* The loads' values and timestamp, now the final ones; a command's own
         * families are rendered anew, so they get a stamp of their own. */
        if (m->own)
            stamp(m, wall_ms());
        publish(m, 1);
        return;
    }
    struct px_expo_load *l = load_of(m, &msg->labels);
    if (l == NULL)
        return;
    l->at = msg->at;
    stamp(m, msg->ts_ms);
    publish(m, 0);
}

/* Writes all of msg to a pipe that is non-blocking for the lab's clients. 0 or -1. */
static int write_waiting(int fd, const struct metrics_msg *msg)
{
    for (;;) {
        ssize_t w = write(fd, msg, sizeof(*msg));
        if (w == (ssize_t)sizeof(*msg))
            return 0;
        if (w >= 0 || (errno != EAGAIN && errno != EINTR))
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 1000);
    }
}

/* A message to whoever serves; may_drop: not worth waiting for (a tick). */
static void deliver(struct px_metrics *m, const struct metrics_msg *msg, int may_drop)
{
    if (m->ep != NULL)
        apply(m, msg);
    else if (may_drop) /* all or nothing (PIPE_BUF); a full pipe drops this tick */
        (void)!write(m->serving.down[1], msg, sizeof(*msg));
    else
        write_waiting(m->serving.down[1], msg);
}

/* ---- the serving process (lab) -------------------------------------------- */

/* In the forked serving process: serves until the pipe ends (the lab closed it). */
__attribute__((noreturn)) static void serving_main(struct px_metrics *m)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char err[256];
    int up = m->serving.up[1], down = m->serving.down[0];
    if (px_endpoint_start(m->ep, err, sizeof(err)) < 0)
        _exit(3);
    px_child_send(up, 'S');
    struct metrics_msg msg;
    int told = 0;
    for (;;) {
        struct pollfd p[2] = {{.fd = down, .events = POLLIN},
                              {.fd = px_endpoint_taken_fd(m->ep), .events = told ? 0 : POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if ((p[1].revents & POLLIN) && !told) {
            px_child_send(up, 'T'); /* the final values were taken */
            told = 1;
        }
        if (p[0].revents && px_child_read_all(down, &msg, sizeof(msg)) < 0)
            break;
        if (p[0].revents)
            apply(m, &msg);
        if (p[0].revents && msg.kind == MSG_FINAL)
            px_child_send(up, 'F'); /* the final values are served from now on */
    }
    px_endpoint_free(m->ep);
    _exit(0);
}

/* Forks the serving process, which takes the endpoint. 0, or -1 with err. */
static int detach(struct px_metrics *m, char *err, size_t errlen)
{
    if (px_child_spawn(&m->serving) < 0) {
        snprintf(err, errlen, "cannot fork the metrics process: %s", strerror(errno));
        return -1;
    }
    if (m->serving.pid == 0)
        serving_main(m);
    px_endpoint_free(m->ep); /* this process's copy: the socket is the child's now */
    m->ep = NULL;
    int fl = fcntl(m->serving.down[1], F_GETFL);
    fcntl(m->serving.down[1], F_SETFL, fl | O_NONBLOCK); /* for the lab's clients, see deliver */
    if (px_child_read_byte(m->serving.up[0]) != 'S') {
        snprintf(err, errlen, "the metrics process did not start");
        return -1;
    }
    return 0;
}

/* ---- the face ------------------------------------------------------------- */

enum px_exit px_metrics_open(struct px_metrics **out, const char *cmd,
                             const struct px_metrics_config *cfg, int detached)
{
    *out = NULL;
    if (cfg->addr_len == 0)
        return PX_EXIT_OK;
    struct px_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        fprintf(stderr, "portex %s: out of memory\n", cmd);
        return PX_EXIT_FAILED;
    }
    snprintf(m->cmd, sizeof(m->cmd), "%s", cmd);
    m->linger_ms = cfg->linger_ms;
    m->serving = (struct px_child){.pid = -1, .down = {-1, -1}, .up = {-1, -1}};
    char err[256];
    struct sockaddr_storage bound;
    m->ep = px_endpoint_open(&cfg->addr, cfg->addr_len, err, sizeof(err));
    if (m->ep != NULL)
        px_endpoint_address(m->ep, &bound);
    if (m->ep == NULL ||
        (detached ? detach(m, err, sizeof(err)) : px_endpoint_start(m->ep, err, sizeof(err))) < 0) {
        fprintf(stderr, "portex %s: --metrics: %s\n", cmd, err);
        px_metrics_free(m);
        return PX_EXIT_FAILED;
    }
    char where[80];
    px_sockaddr_str((const struct sockaddr *)&bound, where, sizeof(where));
    fprintf(stderr, "portex %s: metrics on http://%s/metrics\n", cmd, where);
    *out = m;
    return PX_EXIT_OK;
}

unsigned px_metrics_scraper_fds(const struct px_metrics *m)
{
    return m != NULL && m->ep != NULL ? PX_ENDPOINT_MAX_CONNS : 0;
}

void px_metrics_begin(struct px_metrics *m, const char *mode, const struct px_load *load)
{
    if (m != NULL)
        px_expo_labels_of(&m->labels, mode, load);
}

/* On the stats thread (and once more from px_stats_finish): the tick's values, stamped
 * with the tick's wall-clock time. */
static void tick_cb(void *arg, const struct px_stats_interval *iv)
{
    struct px_metrics *m = arg;
    if (m->next)
        m->next(m->next_arg, iv);
    struct metrics_msg msg = {.kind = MSG_LOAD, .labels = m->labels};
    msg.ts_ms = (uint64_t)((iv->epoch_s + iv->row->t) * 1000.0);
    px_expo_sample_tick(&msg.at, iv, m->run);
    deliver(m, &msg, 1);
}

void px_metrics_hook(struct px_metrics *m, struct px_stats_opts *opts, const struct px_run *run)
{
    if (m == NULL)
        return;
    m->next = opts->tick;
    m->next_arg = opts->tick_arg;
    m->run = run;
    opts->tick = tick_cb;
    opts->tick_arg = m;
}

void px_metrics_set_run(struct px_metrics *m, const struct px_run *run)
{
    if (m == NULL)
        return;
    struct metrics_msg msg = {.kind = MSG_LOAD, .ts_ms = wall_ms(), .labels = m->labels};
    px_expo_sample_run(&msg.at, run);
    deliver(m, &msg, 0);
}

void px_metrics_serve(struct px_metrics *m, const struct px_expo_serve *counts)
{
    if (m == NULL || m->ep == NULL)
        return;
    m->serve = *counts;
    m->serving_counts = 1;
    stamp(m, wall_ms());
    publish(m, 0);
}

void px_metrics_publish_own(struct px_metrics *m, px_metrics_write_cb *write, const void *arg,
                            uint64_t ts_ms)
{
    if (m == NULL || m->ep == NULL)
        return;
    m->own = write;
    m->own_arg = arg;
    stamp(m, ts_ms ? ts_ms : wall_ms());
    publish(m, 0);
}

/* Until the final values were taken (fd readable), the linger ran out, or a stop signal. */
static void linger(const struct px_metrics *m, int taken_fd)
{
    sigset_t stop_set;
    px_stop_set(&stop_set);
    int stop_fd = px_stop_fd(&stop_set);
    uint64_t until = px_clock_us() + m->linger_ms * 1000u;
    for (uint64_t now = px_clock_us(); now < until; now = px_clock_us()) {
        struct pollfd p[2] = {{.fd = taken_fd, .events = POLLIN},
                              {.fd = stop_fd, .events = POLLIN}};
        int n = poll(p, stop_fd >= 0 ? 2 : 1, (int)((until - now + 999) / 1000));
        if (n < 0 && errno == EINTR)
            continue;
        if (n != 0 && stop_fd >= 0 && (p[1].revents & POLLIN))
            px_stop_pending(&stop_set); /* a stop ends the wait at once */
        if (n != 0)
            break;
    }
    if (stop_fd >= 0)
        close(stop_fd);
}

void px_metrics_finish(struct px_metrics *m)
{
    if (m == NULL)
        return;
    const struct metrics_msg final = {.kind = MSG_FINAL};
    deliver(m, &final, 0);
    /* Detached: the serving process works through the messages before it in
     * the pipe first; the line below must not come before the values do. */
    struct pollfd ack = {.fd = m->serving.up[0], .events = POLLIN};
    if (m->ep == NULL && poll(&ack, 1, 10000) == 1 && px_child_read_byte(m->serving.up[0]) != 'F')
        return; /* the serving process is gone */
    if (m->linger_ms == 0)
        return;
    fprintf(stderr,
            "portex %s: serving the final metrics until a scrape takes them "
            "(at most %.1f s; Ctrl-C ends it now)\n",
            m->cmd, (double)m->linger_ms / 1000.0);
    linger(m, m->ep ? px_endpoint_taken_fd(m->ep) : m->serving.up[0]);
}

void px_metrics_free(struct px_metrics *m)
{
    if (m == NULL)
        return;
    px_endpoint_free(m->ep);
    if (m->serving.pid > 0) {
        close(m->serving.down[1]); /* the serving process ends at the end of its pipe */
        m->serving.down[1] = -1;
        px_child_end(&m->serving, 0);
    }
    free(m->loads);
    free(m);
}
