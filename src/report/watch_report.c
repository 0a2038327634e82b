/* SPDX-License-Identifier: MIT */
/* portex watch's live table, plain lines, summary and JSON, from the watch as it stands. */
#include "portex/report/watch_report.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "portex/kernel/channels.h"
#include "portex/kernel/owners.h"
#include "portex/kernel/sysctls.h"
#include "portex/load/hist.h"
#include "portex/load/procs.h"
#include "portex/load/result_encode.h"
#include "portex/load/watch.h"
#include "portex/report/exposition.h"
#include "portex/report/json.h"

#define FRAME_PROCS   5  /* processes in the live frame */
#define TEXT_CHANNELS 50 /* channels in the summary */
#define TEXT_PROCS    20
#define LINE_CHANNELS 20 /* channel lines per tick when piped */
#define LINE_PROCS    20
#define RECENT_FAIL_S 60.0 /* a failure this recent is named in the verdict */

/* Where lines go: the live frame's buffer (cut to the screen) or a stream. */
struct sink {
    FILE *f;          /* NULL: the buffer */
    char *buf;        /* the frame */
    size_t len, used; /* its size and what is written */
    unsigned rows, cols, line;
};

__attribute__((format(printf, 2, 3))) static void put(struct sink *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    n = n < 0 ? 0 : n >= (int)sizeof(line) ? (int)sizeof(line) - 1 : n;
    if (s->f != NULL) {
        fprintf(s->f, "%.*s\n", n, line);
        return;
    }
    if (s->line + 1 >= s->rows)
        return; /* the last row stays empty: writing it could scroll the screen */
    if ((unsigned)n > s->cols)
        n = (int)s->cols;
    if (s->used + (size_t)n + 8 < s->len) {
        memcpy(s->buf + s->used, line, (size_t)n);
        s->used += (size_t)n;
        memcpy(s->buf + s->used, "\033[K\n", 4);
        s->used += 4;
    }
    s->line++;
}

/* ---- words and numbers ------------------------------------------------------ */

static const char *channel_name(const struct px_channel *c, char *out, size_t len)
{
    char src[64], dst[80];
    px_channel_source(&c->key, src, sizeof(src));
    px_channel_destination(&c->key, dst, sizeof(dst));
    snprintf(out, len, "%s -> %s", src, dst);
    return out;
}

/* "now", "<1s", "33s", "4m05s", "2h10m", "-" (not filling). */
static const char *when_text(double s, char *out, size_t len)
{
    if (s < 0)
        snprintf(out, len, "-");
    else if (s == 0)
        snprintf(out, len, "now");
    else if (s < 1)
        snprintf(out, len, "<1s");
    else if (s < 600)
        snprintf(out, len, "%.0fs", s);
    else if (s < 36000)
        snprintf(out, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(out, len, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    return out;
}

static const char *owner_text(const struct px_watch *w, const struct px_channel *c, char *out,
                              size_t len)
{
    if (c->owner[0] <= 0) {
        snprintf(out, len, "-");
        return out;
    }
    int more = 0;
    while (more + 1 < PX_CHANNEL_OWNERS && c->owner[more + 1] > 0)
        more++;
    snprintf(out, len, "%s[%d]%s", px_watch_comm(w, c->owner[0]), c->owner[0], more ? " +" : "");
    if (more)
        snprintf(out + strlen(out), len - strlen(out), "%d", more);
    return out;
}

/* FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK, CLOSING: closing, still holding a port. */
static uint32_t closing(const struct px_channel *c)
{
    return c->state[TCP_FIN_WAIT1] + c->state[TCP_FIN_WAIT2] + c->state[TCP_CLOSE_WAIT] +
           c->state[TCP_LAST_ACK] + c->state[TCP_CLOSING];
}

static double percent(uint32_t part, uint32_t whole)
{
    return whole ? 100.0 * part / whole : 100.0;
}

/* A comm for key=value lines: quoted when it holds a blank, a quote or '='. */
static const char *comm_kv(const char *comm, char *out, size_t len)
{
    if (strpbrk(comm, " \t\"=") == NULL && comm[0] != '\0') {
        snprintf(out, len, "%s", comm);
        return out;
    }
    size_t k = 0;
    out[k++] = '"';
    for (const char *p = comm; *p && k + 3 < len; p++)
        out[k++] = *p == '"' ? '\'' : *p;
    out[k++] = '"';
    out[k] = '\0';
    return out;
}

/* ---- the verdict --------------------------------------------------------------- */

/* The failing process named in a verdict: "python3[28078]". */
static void proc_name(const struct px_proc *p, char *out, size_t len)
{
    snprintf(out, len, "%s[%u]", p->comm, p->pid);
}

/* Of the fullest channels, the one that runs out soonest; NULL when none fills. A
 * channel less full but filling faster runs out first. */
static const struct px_channel *soonest(const struct px_watch *w)
{
    const struct px_channel *c[256], *best = NULL;
    size_t n = px_channels_sorted(w->channels, c, sizeof(c) / sizeof(c[0]), 1);
    for (size_t i = 0; i < n; i++)
        if (c[i]->exhausted_in_s > 0 &&
            (best == NULL || c[i]->exhausted_in_s < best->exhausted_in_s))
            best = c[i];
    return best;
}

/* The one line the person on call reads first. */
static void verdict(const struct px_watch *w, char *out, size_t len)
{
    const struct px_channel *c[1], *soon;
    int have = px_channels_sorted(w->channels, c, 1, 1) == 1;
    uint32_t usable = px_channels_usable(w->channels);
    uint64_t failing = px_procs_eaddr_last(w->procs);
    const struct px_proc *last = px_procs_last_failing(w->procs);
    char name[160], who[48] = "", eta[16];
    if (last)
        proc_name(last, who, sizeof(who));
    if (have && c[0]->in_use >= usable)
        snprintf(out, len, "EXHAUSTED: %s has all %" PRIu32 " usable ports in use",
                 channel_name(c[0], name, sizeof(name)), usable);
    else if (failing > 0)
        snprintf(out, len, "FAILING: %" PRIu64 " EADDRNOTAVAIL in the last tick, the last from %s",
                 failing, who);
    else if ((soon = soonest(w)) != NULL)
        snprintf(out, len, "filling: %s full in %s at %.0f new/s",
                 channel_name(soon, name, sizeof(name)),
                 when_text(soon->exhausted_in_s, eta, sizeof(eta)), soon->new_per_s);
    else if (have)
        snprintf(out, len, "ok: fullest channel %.0f%% of %" PRIu32 " usable ports",
                 percent(c[0]->in_use, usable), usable);
    else
        snprintf(out, len, "ok: no client-side TCP socket");
    size_t n = strlen(out);
    if (have && c[0]->in_use >= usable && failing > 0)
        snprintf(out + n, len - n, "; %" PRIu64 " EADDRNOTAVAIL in the last tick, the last from %s",
                 failing, who);
    else if (failing == 0 && last &&
             (double)(w->last.now_ns - last->last_fail_ns) / 1e9 < RECENT_FAIL_S)
        snprintf(out + n, len - n, "; last EADDRNOTAVAIL %.0f s ago from %s",
                 (double)(w->last.now_ns - last->last_fail_ns) / 1e9, who);
}

/* ---- the table's parts ----------------------------------------------------------- */

static void rules_line(struct sink *s, const struct px_watch *w)
{
    const struct px_env *e = &w->env;
    char delay[48] = "";
    if (e->tw_reuse_delay_ms >= 0)
        snprintf(delay, sizeof(delay), " (delay %lld ms)", (long long)e->tw_reuse_delay_ms);
    put(s,
        "ports %u-%u: %" PRIu32 " usable (%" PRIu32 " reserved, %" PRIu32 " bound in range)  "
        "tcp_tw_reuse %lld%s  tcp_timestamps %lld  tcp_max_tw_buckets %lld",
        e->port_lo, e->port_hi, px_channels_usable(w->channels), px_channels_reserved(w->channels),
        px_channels_bound(w->channels), (long long)e->tw_reuse, delay, (long long)e->timestamps,
        (long long)e->max_tw_buckets);
}

static void counters_line(struct sink *s, const char *what, const struct px_tcpext *x, int have)
{
    if (!have) {
        put(s, "TcpExt %s: not readable", what);
        return;
    }
    put(s,
        "TcpExt %s: TIME_WAIT entered %" PRIu64 "  TWRecycled %" PRIu64
        "  TCPTimeWaitOverflow %" PRIu64 "  TCPSynRetrans %" PRIu64,
        what, x->tw, x->tw_recycled, x->tw_overflow, x->syn_retrans);
}

static void channel_head(struct sink *s, int with_peak)
{
    put(s, "%-44s %6s %13s %6s %6s %9s %6s %7s %7s %5s%s  %s", "CHANNEL (source -> destination)",
        "FULL", "IN_USE/USABLE", "ESTAB", "SYN_S", "TIME_WAIT", "CLOSNG", "NEW/s", "FULL_IN",
        "HOLD", with_peak ? "   PEAK" : "", "OWNER");
}

static void channel_row(struct sink *s, const struct px_watch *w, const struct px_channel *c,
                        int with_peak)
{
    uint32_t usable = px_channels_usable(w->channels);
    char name[160], used[32], eta[16], owner[64], peak[16] = "";
    snprintf(used, sizeof(used), "%" PRIu32 "/%" PRIu32, c->in_use, usable);
    if (with_peak)
        snprintf(peak, sizeof(peak), " %6" PRIu32, c->peak.in_use);
    put(s,
        "%-44.44s %5.1f%% %13s %6" PRIu32 " %6" PRIu32 " %9" PRIu32 " %6" PRIu32
        " %7.0f %7s %4" PRIu32 "s%s  %s",
        channel_name(c, name, sizeof(name)), percent(c->in_use, usable), used,
        c->state[TCP_ESTABLISHED], c->state[TCP_SYN_SENT], c->state[TCP_TIME_WAIT], closing(c),
        c->new_per_s, when_text(c->exhausted_in_s, eta, sizeof(eta)), c->hold_ms / 1000u, peak,
        owner_text(w, c, owner, sizeof(owner)));
}

static void proc_head(struct sink *s)
{
    put(s, "%-8s %-16s %13s %9s %9s  %s", "PID", "COMMAND", "EADDRNOTAVAIL", "LAST_TICK",
        "CONNECTS", "connect() in the kernel, us p50/p99/max");
}

static void proc_row(struct sink *s, const struct px_proc *p)
{
    char times[64] = "-";
    if (p->connect != NULL && p->calls > 0)
        snprintf(times, sizeof(times), "%" PRIu64 "/%" PRIu64 "/%" PRIu64,
                 px_hist_percentile(p->connect, 50), px_hist_percentile(p->connect, 99),
                 p->connect->max_us);
    put(s, "%-8u %-16s %13" PRIu64 " %9" PRIu64 " %9" PRIu64 "  %s", p->pid, p->comm,
        p->eaddrnotavail, p->eaddr_last, p->calls, times);
}

/* Processes, most failures first; max rows. Or the line saying why there are none. */
static void procs_part(struct sink *s, const struct px_watch *w, size_t max)
{
    if (w->trace == NULL) {
        put(s, "no processes: tracing is off (%s)", w->trace_why);
        return;
    }
    const struct px_proc *p[TEXT_PROCS];
    size_t n = px_procs_sorted(w->procs, p, max < TEXT_PROCS ? max : TEXT_PROCS);
    if (n == 0) {
        put(s, "no process has called connect() since the watch began");
        return;
    }
    proc_head(s);
    for (size_t i = 0; i < n; i++)
        proc_row(s, p[i]);
}

static void cost_line(struct sink *s, const struct px_watch *w)
{
    struct px_owners_stats os;
    px_owners_stats(w->owners, &os);
    double cpu = w->duration_s > 0 ? 100.0 * w->cpu_s / w->duration_s : 0;
    char lost[48] = "";
    if (w->trace_lost)
        snprintf(lost, sizeof(lost), ", %" PRIu64 " trace events LOST", w->trace_lost);
    put(s,
        "watch itself: dump %.1f ms (%zu sockets), tick %.1f ms (CPU %.1f ms), %.1f%% of a core; "
        "owner scans %" PRIu64 " full (last %.0f ms), %" PRIu64 " per process%s",
        w->last.dump_ms, w->last.sockets, w->last.tick_ms, w->last.tick_cpu_ms, cpu, os.full_scans,
        (double)os.last_full_us / 1e3, os.pid_scans, lost);
}

/* ---- the live frame, the lines, the summary ---------------------------------------- */

size_t px_watch_report_frame(char *buf, size_t len, const struct px_watch *w, unsigned rows,
                             unsigned cols)
{
    struct sink s = {.buf = buf, .len = len, .rows = rows, .cols = cols};
    memcpy(buf, "\033[H", 3);
    s.used = 3;
    char v[400];
    verdict(w, v, sizeof(v));
    put(&s, "portex watch  tick %" PRIu64 " (every %.3gs)  %s", w->last.n,
        (double)w->cfg.interval_ms / 1000.0, v);
    rules_line(&s, w);
    counters_line(&s, "in the last tick", &w->last.ext, w->have_ext);
    put(&s, "%s", "");
    procs_part(&s, w, FRAME_PROCS);
    put(&s, "%s", "");
    /* The channels take the rows left, less the cost line at the bottom. */
    unsigned left = rows > s.line + 4 ? rows - s.line - 4 : 0;
    const struct px_channel *c[256];
    size_t n = px_channels_sorted(w->channels, c, left < 256 ? left : 256, 1);
    channel_head(&s, 0);
    for (size_t i = 0; i < n; i++)
        channel_row(&s, w, c[i], 0);
    if (n == 0)
        put(&s, "(no client-side TCP socket in this namespace)");
    put(&s, "%s", "");
    cost_line(&s, w);
    if (s.used + 4 < len) {
        memcpy(buf + s.used, "\033[J", 3);
        s.used += 3;
    }
    buf[s.used] = '\0';
    return s.used;
}

void px_watch_report_lines(FILE *f, const struct px_watch *w)
{
    const struct px_channel *c[LINE_CHANNELS];
    size_t n = px_channels_sorted(w->channels, c, LINE_CHANNELS, 1);
    uint32_t usable = px_channels_usable(w->channels);
    const struct px_tcpext *x = &w->last.ext;
    fprintf(f,
            "tick=%" PRIu64 " t=%.3f sockets=%zu client_sockets=%zu channels=%zu usable=%" PRIu32
            " bound=%" PRIu32 " fullest_in_use=%" PRIu32 " eaddrnotavail=%" PRIu64
            " tw_entered=%" PRIu64 " tw_recycled=%" PRIu64 " tw_overflow=%" PRIu64
            " syn_retrans=%" PRIu64 " dump_ms=%.2f tick_ms=%.2f tick_cpu_ms=%.2f tracing=%s\n",
            w->last.n, w->last.t_s, w->last.sockets, px_channels_client_sockets(w->channels), n,
            usable, px_channels_bound(w->channels), n ? c[0]->in_use : 0,
            px_procs_eaddr_last(w->procs), x->tw, x->tw_recycled, x->tw_overflow, x->syn_retrans,
            w->last.dump_ms, w->last.tick_ms, w->last.tick_cpu_ms, w->trace ? "on" : "off");
    for (size_t i = 0; i < n; i++) {
        char src[64], dst[80], eta[32] = "none", comm[40];
        px_channel_source(&c[i]->key, src, sizeof(src));
        px_channel_destination(&c[i]->key, dst, sizeof(dst));
        if (c[i]->exhausted_in_s >= 0)
            snprintf(eta, sizeof(eta), "%.1f", c[i]->exhausted_in_s);
        fprintf(f,
                "channel tick=%" PRIu64 " source=%s destination=%s usable=%" PRIu32
                " in_use=%" PRIu32 " established=%" PRIu32 " syn_sent=%" PRIu32
                " time_wait=%" PRIu32 " closing=%" PRIu32 " new_per_s=%.1f exhausted_in_s=%s"
                " hold_s=%g owner_pid=%d owner=%s\n",
                w->last.n, src, dst, usable, c[i]->in_use, c[i]->state[TCP_ESTABLISHED],
                c[i]->state[TCP_SYN_SENT], c[i]->state[TCP_TIME_WAIT], closing(c[i]),
                c[i]->new_per_s, eta, c[i]->hold_ms / 1000.0, c[i]->owner[0],
                c[i]->owner[0] > 0 ? comm_kv(px_watch_comm(w, c[i]->owner[0]), comm, sizeof(comm))
                                   : "-");
    }
    const struct px_proc *p[LINE_PROCS];
    size_t np = w->trace ? px_procs_sorted(w->procs, p, LINE_PROCS) : 0;
    for (size_t i = 0; i < np; i++) {
        if (p[i]->eaddr_last == 0)
            continue;
        char comm[40];
        fprintf(f,
                "process tick=%" PRIu64 " pid=%u comm=%s eaddrnotavail=%" PRIu64
                " last_tick=%" PRIu64 " connect_calls=%" PRIu64 "\n",
                w->last.n, p[i]->pid, comm_kv(p[i]->comm, comm, sizeof(comm)), p[i]->eaddrnotavail,
                p[i]->eaddr_last, p[i]->calls);
    }
    fflush(f);
}

void px_watch_report_text(FILE *f, const struct px_watch *w)
{
    struct sink s = {.f = f};
    char v[400];
    verdict(w, v, sizeof(v));
    put(&s, "portex watch: %" PRIu64 " ticks over %.1f s (every %.3gs)%s", w->ticks, w->duration_s,
        (double)w->cfg.interval_ms / 1000.0, w->interrupted ? ", ended by a signal" : "");
    put(&s, "at the end: %s", v);
    rules_line(&s, w);
    struct px_tcpext over = {
        .tw = w->ext_now.tw - w->ext_start.tw,
        .tw_recycled = w->ext_now.tw_recycled - w->ext_start.tw_recycled,
        .tw_overflow = w->ext_now.tw_overflow - w->ext_start.tw_overflow,
        .syn_retrans = w->ext_now.syn_retrans - w->ext_start.syn_retrans,
    };
    counters_line(&s, "over the watch", &over, w->have_ext);
    put(&s, "%s", "");
    const struct px_channel *c[TEXT_CHANNELS];
    size_t n = px_channels_sorted(w->channels, c, TEXT_CHANNELS, 0);
    put(&s, "channels, fullest first (at the end; PEAK: most in use at once):");
    channel_head(&s, 1);
    for (size_t i = 0; i < n; i++)
        channel_row(&s, w, c[i], 1);
    if (px_channels_count(w->channels) > n)
        put(&s, "(%zu more channels in --json)", px_channels_count(w->channels) - n);
    put(&s, "%s", "");
    put(&s, "processes (every process's connect(), system-wide):");
    procs_part(&s, w, TEXT_PROCS);
    put(&s, "%s", "");
    cost_line(&s, w);
}

void px_watch_report_tracing(FILE *f, const struct px_watch *w)
{
    if (w->trace == NULL)
        fprintf(f,
                "portex watch: tracing off (no EADDRNOTAVAIL per process, no connect() times): "
                "%s\n",
                w->trace_why);
}

/* ---- JSON -------------------------------------------------------------------------- */

static json_t *json_seconds(double s)
{
    return s < 0 ? json_null() : px_json_real10(s);
}

static json_t *json_channel(const struct px_watch *w, const struct px_channel *c)
{
    char src[64], dst[80];
    px_channel_source(&c->key, src, sizeof(src));
    px_channel_destination(&c->key, dst, sizeof(dst));
    json_t *o = json_object();
    px_jset(o, "source", json_string(src));
    px_jset(o, "destination", json_string(dst));
    px_jset(o, "usable_ports", px_ju64(px_channels_usable(w->channels)));
    px_jset(o, "peak",
            json_pack("{s:o,s:o,s:o,s:o}", "time_wait", px_ju64(c->peak.time_wait), "established",
                      px_ju64(c->peak.established), "syn_sent", px_ju64(c->peak.syn_sent), "in_use",
                      px_ju64(c->peak.in_use)));
    px_jset(o, "new_per_s", px_json_real10(c->new_per_s));
    px_jset(o, "exhausted_in_s", json_seconds(c->exhausted_in_s));
    json_t *now = json_object();
    px_jset(now, "in_use", px_ju64(c->in_use));
    px_jset(now, "time_wait", px_ju64(c->state[TCP_TIME_WAIT]));
    px_jset(now, "established", px_ju64(c->state[TCP_ESTABLISHED]));
    px_jset(now, "syn_sent", px_ju64(c->state[TCP_SYN_SENT]));
    px_jset(now, "closing", px_ju64(closing(c)));
    px_jset(o, "now", now);
    px_jset(o, "new_total", px_ju64(c->new_total));
    px_jset(o, "first_full_s", json_seconds(c->first_full_s));
    px_jset(o, "hold_s", px_json_real10(c->hold_ms / 1000.0));
    px_jset(o, "reuse_applies", json_boolean(c->reuse_applies));
    json_t *owners = json_array();
    for (int k = 0; k < PX_CHANNEL_OWNERS && c->owner[k] > 0; k++)
        json_array_append_new(owners, json_pack("{s:i,s:s}", "pid", c->owner[k], "comm",
                                                px_watch_comm(w, c->owner[k])));
    px_jset(o, "owners", owners);
    return o;
}

static json_t *json_process(const struct px_proc *p)
{
    json_t *o = json_object();
    px_jset(o, "pid", px_ju64(p->pid));
    px_jset(o, "comm", json_string(p->comm));
    px_jset(o, "eaddrnotavail", px_ju64(p->eaddrnotavail));
    px_jset(o, "connect_calls", px_ju64(p->calls));
    json_t *t = NULL;
    if (p->connect != NULL && p->calls > 0)
        t = json_pack("{s:o,s:o,s:o}", "p50", px_ju64(px_hist_percentile(p->connect, 50)), "p99",
                      px_ju64(px_hist_percentile(p->connect, 99)), "max",
                      px_ju64(p->connect->max_us));
    px_jset(o, "connect_call_us", t);
    return o;
}

static json_t *json_channels(const struct px_watch *w)
{
    json_t *a = json_array();
    size_t count = px_channels_count(w->channels);
    const struct px_channel **c = malloc((count ? count : 1) * sizeof(*c));
    size_t n = c ? px_channels_sorted(w->channels, c, count, 0) : 0;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_channel(w, c[i]));
    free((void *)c);
    return a;
}

static json_t *json_processes(const struct px_watch *w)
{
    json_t *a = json_array();
    const struct px_proc *p[PX_PROCS_MAX + 1];
    size_t n = px_procs_sorted(w->procs, p, PX_PROCS_MAX + 1);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_process(p[i]));
    return a;
}

/* TcpExt over the watch, by the kernel's names; null when /proc/net/netstat was unreadable. */
static json_t *json_counters(const struct px_watch *w)
{
    if (!w->have_ext)
        return NULL;
    const struct px_tcpext *a = &w->ext_start, *b = &w->ext_now;
    return json_pack("{s:o,s:o,s:o,s:o}", "TCPTimeWaitOverflow",
                     px_ju64(b->tw_overflow - a->tw_overflow), "TWRecycled",
                     px_ju64(b->tw_recycled - a->tw_recycled), "TCPSynRetrans",
                     px_ju64(b->syn_retrans - a->syn_retrans), "TW", px_ju64(b->tw - a->tw));
}

static json_t *json_namespace(const struct px_watch *w)
{
    const struct px_env *e = &w->env;
    json_t *o = json_object();
    px_jset(o, "port_range", json_pack("[i,i]", (int)e->port_lo, (int)e->port_hi));
    px_jset(o, "reserved_in_range", px_ju64(px_channels_reserved(w->channels)));
    px_jset(o, "bound_in_range", px_ju64(px_channels_bound(w->channels)));
    px_jset(o, "usable_ports", px_ju64(px_channels_usable(w->channels)));
    for (size_t i = 0; i < PX_SYSCTL_COUNT; i++) {
        const struct px_sysctl *s = &px_sysctls[i];
        if (!(s->users & PX_SYSCTL_WATCH) || s->kind != PX_SYSCTL_INT)
            continue;
        char key[64];
        snprintf(key, sizeof(key), "%s%s%s", s->label, s->unit && *s->unit ? "_" : "",
                 s->unit ? s->unit : "");
        int64_t v = px_sysctls_get_int(e, s);
        px_jset(o, key, v < 0 && s->absent ? NULL : json_integer(v));
    }
    return o;
}

static json_t *json_ms(const struct px_hist *h)
{
    return json_pack("{s:o,s:o}", "p50", px_json_real10(px_hist_percentile(h, 50) / 1e3), "max",
                     px_json_real10(h->count ? h->max_us / 1e3 : 0));
}

static json_t *json_cost(const struct px_watch *w)
{
    struct px_owners_stats os;
    px_owners_stats(w->owners, &os);
    json_t *o = json_object();
    px_jset(o, "dump_ms", json_ms(&w->dump_us));
    px_jset(o, "tick_ms", json_ms(&w->tick_us));
    px_jset(o, "tick_cpu_ms", json_ms(&w->tick_cpu_us));
    px_jset(o, "sockets_last_tick", px_ju64(w->last.sockets));
    px_jset(o, "cpu_s", px_json_real10(w->cpu_s));
    px_jset(o, "cpu_percent",
            px_json_real10(w->duration_s > 0 ? 100.0 * w->cpu_s / w->duration_s : 0));
    px_jset(o, "owner_scans",
            json_pack("{s:o,s:o}", "full", px_ju64(os.full_scans), "per_process",
                      px_ju64(os.pid_scans)));
    return o;
}

void px_watch_report_json(FILE *f, const struct px_watch *w)
{
    json_t *doc = json_object();
    px_jset(doc, "command", json_string("watch"));
    px_jset(doc, "kernel", json_string(w->env.kernel));
    px_jset(doc, "interval_s", px_json_real10(w->cfg.interval_ms / 1000.0));
    px_jset(doc, "ticks", px_ju64(w->ticks));
    px_jset(doc, "duration_s", px_json_real10(w->duration_s));
    px_jset(doc, "interrupted", json_boolean(w->interrupted));
    px_jset(doc, "namespace", json_namespace(w));
    px_jset(doc, "channels", json_channels(w));
    px_jset(doc, "processes", json_processes(w));
    px_jset(doc, "counters", json_counters(w));
    json_t *tr = json_object();
    px_jset(tr, "on", json_boolean(w->trace != NULL));
    px_jset(tr, "why", w->trace ? NULL : json_string(w->trace_why));
    px_jset(tr, "lost", px_ju64(w->trace_lost));
    px_jset(doc, "tracing", tr);
    px_jset(doc, "cost", json_cost(w));
    px_json_print_tree(f, doc);
    json_decref(doc);
}

/* ---- live metrics ----------------------------------------------------------- */

#define WATCH_METRIC_CHANNELS 64 /* the fullest channels with sockets now */

void px_watch_report_metrics(FILE *f, int fmt_, uint64_t ts_ms, const void *arg)
{
    const struct px_watch *w = arg;
    enum px_expo_format fmt = (enum px_expo_format)fmt_;
    char v[32];
    px_expo_family(f, fmt, "portex_watch_usable_ports", "gauge", NULL,
                   "Ports connect() can pick: the range minus reserved and bound ports.");
    snprintf(v, sizeof(v), "%" PRIu32, px_channels_usable(w->channels));
    px_expo_line(f, fmt, "portex_watch_usable_ports", NULL, 0, v, ts_ms);
    const struct px_channel *c[WATCH_METRIC_CHANNELS];
    size_t n = px_channels_sorted(w->channels, c, WATCH_METRIC_CHANNELS, 1);
    static const struct {
        const char *name, *help;
    } fams[] = {
        {"portex_watch_channel_ports_in_use",
         "Ports a channel holds: live and TIME_WAIT it cannot reuse yet."},
        {"portex_watch_channel_time_wait", "TIME_WAIT sockets of a channel."},
        {"portex_watch_channel_exhausted_in_seconds",
         "Until a channel holds every usable port at its rate; 0 full, -1 not filling."},
    };
    for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
        px_expo_family(f, fmt, fams[k].name, "gauge", NULL, fams[k].help);
        for (size_t i = 0; i < n; i++) {
            char src[64], dst[80];
            px_channel_source(&c[i]->key, src, sizeof(src));
            px_channel_destination(&c[i]->key, dst, sizeof(dst));
            const struct px_expo_label labels[2] = {{"source", src}, {"destination", dst}};
            if (k == 0)
                snprintf(v, sizeof(v), "%" PRIu32, c[i]->in_use);
            else if (k == 1)
                snprintf(v, sizeof(v), "%" PRIu32, c[i]->state[TCP_TIME_WAIT]);
            else
                snprintf(v, sizeof(v), "%.3f", c[i]->exhausted_in_s);
            px_expo_line(f, fmt, fams[k].name, labels, 2, v, ts_ms);
        }
    }
}
