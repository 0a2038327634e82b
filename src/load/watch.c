/* SPDX-License-Identifier: MIT */
/* portex watch's measurement: the tick (dump, channels, owners, counters) and the loop. */
#include "portex/load/watch.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "portex/base/clock.h"
#include "portex/base/stop.h"
#include "portex/kernel/channels.h"
#include "portex/kernel/netlink.h"
#include "portex/kernel/owners.h"
#include "portex/kernel/trace.h"
#include "portex/load/procs.h"

#define MAX_UNKNOWN 65536 /* live sockets without a known owner, looked at per tick */
#define MAX_HOT     64    /* pids read first when an owner is unknown */
/* At most one drain per 10 ms: otherwise a failure storm wakes the loop once per
 * failure (3.9% of a core in the spike of issue 20). */
#define DRAIN_GAP_US  10000
#define MAX_TRACE_FDS 1024
#define NAME_SLOTS    1024 /* owners' names, direct-mapped by pid */

/* A growable array of dump records, reused from tick to tick. */
struct socks {
    struct px_diag_sock *v;
    size_t n, cap;
    int failed; /* out of memory during the dump */
};

/* The name of an owner, read from /proc once (again every PX_WATCH_SLOW_EVERY ticks). */
struct owner_name {
    int pid;
    char comm[16];
};

struct watch_io {
    int diag_fd;
    struct owner_name names[NAME_SLOTS];
    struct socks all;
    struct px_bound_ports ports;    /* listeners and bound-only sockets, every tenth tick */
    uint32_t *unknown;              /* this tick's live sockets without an owner */
    struct px_channel **unknown_ch; /* and their channels */
    size_t nunknown;
    uint64_t start_us, last_tick_us; /* monotonic */
    double cpu0_s;                   /* CPU time at the start */
};

static void push_cb(const struct px_diag_sock *sk, void *arg)
{
    struct socks *s = arg;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        struct px_diag_sock *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            s->failed = 1;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *sk;
}

/* One dump into s. 0, or -1 with err. */
static int dump(int fd, uint32_t states, struct socks *s, char *err, size_t errlen)
{
    s->n = 0;
    s->failed = 0;
    if (px_diag_dump(fd, AF_UNSPEC, states, push_cb, s) < 0) {
        snprintf(err, errlen, "sock_diag dump of the TCP sockets failed: %s", strerror(errno));
        return -1;
    }
    if (s->failed) {
        snprintf(err, errlen, "out of memory for %zu sockets", s->n);
        return -1;
    }
    return 0;
}

/* This thread's CPU time, user and system, in us. */
static uint64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double cpu_now_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the namespace's rules ------------------------------------------------ */

static void rules_of(const struct px_env *env, struct px_channel_rules *r)
{
    *r = (struct px_channel_rules){
        .port_lo = env->port_lo,
        .port_hi = env->port_hi,
        .reserved = env->reserved_ports,
        .tw_reuse = env->tw_reuse,
        .reuse_delay_ms = env->tw_reuse_delay_ms,
        .timestamps = env->timestamps,
        .kernel_major = env->kernel_major,
        .kernel_minor = env->kernel_minor,
    };
}

/* The sysctls and the ports bound without listening: the first tick and every tenth. */
static int read_slow(struct px_watch *w, char *err, size_t errlen)
{
    struct watch_io *io = w->io;
    px_env_read(w->cfg.proc, &w->env);
    struct px_channel_rules r;
    rules_of(&w->env, &r);
    px_channels_set_rules(w->channels, &r);
    if (px_diag_bound_ports(io->diag_fd, &io->ports) < 0) {
        snprintf(err, errlen, "sock_diag dump of the bound ports failed: %s", strerror(errno));
        return -1;
    }
    px_channels_set_bound(w->channels, &io->ports);
    return 0;
}

/* ---- owners ---------------------------------------------------------------- */

/* Owners of this tick's live client sockets; the unknown ones listed in io. */
static void owners_pass(struct px_watch *w)
{
    struct watch_io *io = w->io;
    io->nunknown = 0;
    for (size_t i = 0; i < io->all.n; i++) {
        const struct px_diag_sock *sk = &io->all.v[i];
        if (sk->inode == 0 || sk->state == TCP_TIME_WAIT || sk->state == TCP_LISTEN)
            continue;
        struct px_channel *c = px_channels_of(w->channels, sk);
        if (c == NULL)
            continue;
        int pid = px_owners_pid(w->owners, sk->inode);
        if (pid > 0) {
            px_channel_add_owner(c, pid);
        } else if (io->nunknown < MAX_UNKNOWN) {
            io->unknown[io->nunknown] = sk->inode;
            io->unknown_ch[io->nunknown++] = c;
        }
    }
}

/* Looks for the owners still unknown (kernel/owners.h says how sparingly). */
static void owners_resolve(struct px_watch *w, uint64_t now_us)
{
    struct watch_io *io = w->io;
    int hot[MAX_HOT];
    size_t nhot = px_procs_hot(w->procs, hot, MAX_HOT);
    for (size_t i = 0; i < io->nunknown && nhot < MAX_HOT; i++)
        for (int k = 0; k < PX_CHANNEL_OWNERS && io->unknown_ch[i]->owner[k] && nhot < MAX_HOT; k++)
            hot[nhot++] = io->unknown_ch[i]->owner[k];
    if (!px_owners_resolve(w->owners, io->unknown, io->nunknown, hot, nhot, now_us))
        return;
    for (size_t i = 0; i < io->nunknown; i++)
        px_channel_add_owner(io->unknown_ch[i], px_owners_pid(w->owners, io->unknown[i]));
}

/* The names of the present channels' owners, for the reports. */
static void name_owners(struct px_watch *w)
{
    struct watch_io *io = w->io;
    if (w->ticks % PX_WATCH_SLOW_EVERY == 1)
        memset(io->names, 0, sizeof(io->names)); /* pids are reused: read them again */
    const struct px_channel *c[256];
    size_t n = px_channels_sorted(w->channels, c, 256, 1);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < PX_CHANNEL_OWNERS && c[i]->owner[k] > 0; k++) {
            struct owner_name *nm = &io->names[c[i]->owner[k] % NAME_SLOTS];
            if (nm->pid == c[i]->owner[k])
                continue;
            nm->pid = c[i]->owner[k];
            if (px_owners_comm(w->cfg.proc, nm->pid, nm->comm, sizeof(nm->comm)) < 0)
                snprintf(nm->comm, sizeof(nm->comm), "?");
        }
}

const char *px_watch_comm(const struct px_watch *w, int pid)
{
    const struct owner_name *nm = &w->io->names[pid % NAME_SLOTS];
    return pid > 0 && nm->pid == pid ? nm->comm : "?";
}

/* ---- one tick ------------------------------------------------------------- */

/* TcpExt over the tick into w->last.ext, and since the start into w->ext_now. */
static void read_counters(struct px_watch *w)
{
    struct px_tcpext now;
    if (!w->have_ext || px_tcpext_read(w->cfg.proc, &now) < 0)
        return;
    struct px_tcpext *d = &w->last.ext;
    d->tw = now.tw - w->ext_now.tw;
    d->tw_recycled = now.tw_recycled - w->ext_now.tw_recycled;
    d->tw_overflow = now.tw_overflow - w->ext_now.tw_overflow;
    d->abort_on_data = now.abort_on_data - w->ext_now.abort_on_data;
    d->syn_retrans = now.syn_retrans - w->ext_now.syn_retrans;
    w->ext_now = now;
}

int px_watch_tick(struct px_watch *w, char *err, size_t errlen)
{
    struct watch_io *io = w->io;
    px_watch_drain(w, 0);
    uint64_t t0 = px_clock_us(), c0 = thread_cpu_us();
    if (w->ticks == 0) {
        io->start_us = t0;
        io->last_tick_us = t0 - w->cfg.interval_ms * 1000u;
    }
    if (w->ticks % PX_WATCH_SLOW_EVERY == 0 && read_slow(w, err, errlen) < 0)
        return -1;
    if (dump(io->diag_fd, PX_DIAG_STATES_ALL, &io->all, err, errlen) < 0)
        return -1;
    uint64_t t1 = px_clock_us();
    struct px_watch_tick *k = &w->last;
    k->n = ++w->ticks;
    k->t_s = (double)(t0 - io->start_us) / 1e6;
    k->elapsed_s = (double)(t0 - io->last_tick_us) / 1e6;
    k->sockets = io->all.n;
    k->dump_ms = (double)(t1 - t0) / 1e3;
    k->now_ns = t0 * 1000u;
    io->last_tick_us = t0;
    w->duration_s = k->t_s;
    if (px_channels_sum(w->channels, io->all.v, io->all.n, (uint32_t)(k->elapsed_s * 1e3 + 0.5),
                        k->t_s) < 0) {
        snprintf(err, errlen, "out of memory for the channels");
        return -1;
    }
    owners_pass(w);
    owners_resolve(w, t0);
    name_owners(w);
    read_counters(w);
    px_procs_end_tick(w->procs);
    uint64_t t2 = px_clock_us(), c2 = thread_cpu_us();
    k->tick_ms = (double)(t2 - t0) / 1e3;
    k->tick_cpu_ms = (double)(c2 - c0) / 1e3;
    px_hist_record(&w->tick_cpu_us, c2 - c0);
    px_hist_record(&w->dump_us, t1 - t0);
    px_hist_record(&w->tick_us, t2 - t0);
    w->cpu_s = cpu_now_s() - io->cpu0_s;
    return 0;
}

void px_watch_drain(struct px_watch *w, int all)
{
    if (w->trace == NULL)
        return;
    px_trace_drain(w->trace, all, px_procs_event, w->procs);
    w->trace_lost = px_trace_lost(w->trace);
}

/* ---- life ----------------------------------------------------------------- */

struct px_watch *px_watch_new(const struct px_watch_config *cfg, char *err, size_t errlen)
{
    struct px_watch *w = calloc(1, sizeof(*w));
    struct watch_io *io = calloc(1, sizeof(*io));
    if (w == NULL || io == NULL) {
        free(w);
        free(io);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    w->io = io;
    io->diag_fd = -1;
    io->cpu0_s = cpu_now_s();
    px_hist_init(&w->dump_us);
    px_hist_init(&w->tick_us);
    px_hist_init(&w->tick_cpu_us);
    /* The tracer first: it forks its tracefs helper, best done with one thread. */
    if (cfg->trace)
        w->trace = px_trace_open(w->trace_why, sizeof(w->trace_why));
    else
        snprintf(w->trace_why, sizeof(w->trace_why), "not asked for");
    px_env_read(cfg->proc, &w->env);
    struct px_channel_rules r;
    rules_of(&w->env, &r);
    const struct sockaddr *dest =
        cfg->dest.ss_family == AF_UNSPEC ? NULL : (const struct sockaddr *)&cfg->dest;
    w->channels = px_channels_new(&r, dest);
    w->owners = px_owners_new(cfg->proc);
    w->procs = px_procs_new(cfg->proc);
    io->unknown = malloc(MAX_UNKNOWN * sizeof(*io->unknown));
    io->unknown_ch = malloc(MAX_UNKNOWN * sizeof(*io->unknown_ch));
    if (!w->channels || !w->owners || !w->procs || !io->unknown || !io->unknown_ch) {
        snprintf(err, errlen, "out of memory");
        px_watch_free(w);
        return NULL;
    }
    io->diag_fd = px_diag_open();
    if (io->diag_fd < 0) {
        snprintf(err, errlen, "cannot open a sock_diag socket: %s", strerror(errno));
        px_watch_free(w);
        return NULL;
    }
    w->have_ext = px_tcpext_read(cfg->proc, &w->ext_start) == 0;
    w->ext_now = w->ext_start;
    return w;
}

void px_watch_free(struct px_watch *w)
{
    if (w == NULL)
        return;
    px_trace_close(w->trace);
    px_channels_free(w->channels);
    px_owners_free(w->owners);
    px_procs_free(w->procs);
    if (w->io != NULL) {
        if (w->io->diag_fd >= 0)
            close(w->io->diag_fd);
        free(w->io->all.v);
        free(w->io->unknown);
        free(w->io->unknown_ch);
        free(w->io);
    }
    free(w);
}

/* ---- the loop ------------------------------------------------------------- */

/* The signals that end a watch, and those the caller wants to hear of, in one fd. */
static int signal_fd(const sigset_t *extra, sigset_t *stop)
{
    px_stop_set(stop);
    sigaddset(stop, SIGHUP);
    sigset_t all = *stop;
    for (int s = 1; extra != NULL && s < NSIG; s++)
        if (sigismember(extra, s) == 1)
            sigaddset(&all, s);
    return signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Signals that came: 1 when one of them ends the watch. */
static int take_signals(int sfd, const sigset_t *stop, px_watch_signal_cb on_signal, void *arg)
{
    struct signalfd_siginfo si;
    int end = 0;
    while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (sigismember(stop, (int)si.ssi_signo) == 1)
            end = 1;
        else if (on_signal != NULL)
            on_signal(arg, (int)si.ssi_signo);
    }
    return end;
}

/* Whether the last tick was the last one asked for. */
static int watch_done(const struct px_watch *w)
{
    return (w->cfg.count && w->ticks >= w->cfg.count) ||
           (w->cfg.duration_ms && w->last.t_s * 1000.0 + 0.5 >= (double)w->cfg.duration_ms);
}

/* Waits until next_us: for signals, and for the tracer's rings when a drain is allowed. */
static int wait_until(struct px_watch *w, int sfd, const sigset_t *stop, uint64_t next_us,
                      px_watch_signal_cb on_signal, void *arg)
{
    struct pollfd pf[1 + MAX_TRACE_FDS];
    int fds[MAX_TRACE_FDS];
    size_t ntrace = w->trace ? px_trace_fds(w->trace, fds, MAX_TRACE_FDS) : 0;
    uint64_t drain_ok_us = 0;
    for (;;) {
        uint64_t now = px_clock_us();
        if (now >= next_us)
            return 0;
        size_t n = 0;
        pf[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
        for (size_t i = 0; now >= drain_ok_us && i < ntrace; i++)
            pf[n++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        /* Back to the rings when the gap is over, or on to the tick. */
        uint64_t until = n == 1 && drain_ok_us < next_us ? drain_ok_us : next_us;
        int ms = (int)(((until > now ? until - now : 0) + 999) / 1000);
        if (poll(pf, (nfds_t)n, ms) < 0 && errno != EINTR)
            return -1;
        if ((pf[0].revents & POLLIN) && take_signals(sfd, stop, on_signal, arg))
            return 1;
        for (size_t i = 1; i < n; i++)
            if (pf[i].revents & POLLIN) {
                px_watch_drain(w, 0);
                drain_ok_us = px_clock_us() + DRAIN_GAP_US;
                break;
            }
    }
}

int px_watch_run(struct px_watch *w, const sigset_t *extra, px_watch_signal_cb on_signal,
                 px_watch_tick_cb on_tick, void *arg, char *err, size_t errlen)
{
    sigset_t stop;
    int sfd = signal_fd(extra, &stop);
    if (sfd < 0) {
        snprintf(err, errlen, "signalfd: %s", strerror(errno));
        return -1;
    }
    int rc = 0;
    uint64_t step = w->cfg.interval_ms * 1000u, next = px_clock_us();
    for (;;) {
        if (wait_until(w, sfd, &stop, next, on_signal, arg) != 0) {
            w->interrupted = 1;
            break;
        }
        if (px_watch_tick(w, err, errlen) < 0) {
            rc = -1;
            break;
        }
        if ((on_tick != NULL && on_tick(arg, w) != 0) || watch_done(w))
            break;
        /* The next tick on the timetable; ticks a slow one overran are skipped. */
        uint64_t now = px_clock_us();
        do
            next += step;
        while (next <= now);
    }
    px_watch_drain(w, 1);
    close(sfd);
    return rc;
}
