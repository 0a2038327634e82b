/* SPDX-License-Identifier: MIT */
/*
 * portex compare. Modes run one after the other in this namespace. Between
 * modes it waits for this run's TIME_WAIT sockets toward the target to expire
 * (they would eat the next mode's ports), unless --no-drain. A mode that needs
 * tcp_tw_reuse changed sets it through a guard and puts it back right after.
 */
#include "portex/cmd/compare.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portex/base/clock.h"
#include "portex/cmd/mode.h"
#include "portex/kernel/guard.h"
#include "portex/kernel/netlink.h"
#include "portex/out/report.h"
#include "portex/load/run.h"
#include "portex/base/url.h"

/*
 * Waits (signals still count) while this run's TIME_WAIT sockets toward the
 * target would hold more than 5% of the next mode's ports: a few left by
 * closing idle keep-alive connections are not worth a minute. 1 when a signal
 * came, 0 otherwise.
 */
static int drain(const struct px_compare_config *cfg, uint64_t usable_ports,
                 const sigset_t *stop_set)
{
    int fd = px_diag_open();
    if (fd < 0)
        return 0;
    uint64_t allowed = usable_ports / 20;
    uint64_t until = px_clock_us() + cfg->drain_max_ms * 1000u;
    int interrupted = 0, shown = 0, tty = isatty(STDERR_FILENO);
    char target[80];
    px_sockaddr_str((const struct sockaddr *)&cfg->base.target, target, sizeof(target));
    for (unsigned tick = 0;; tick++) {
        struct px_tw_count tw;
        if (px_diag_count_tw(fd, (const struct sockaddr *)&cfg->base.target, &tw) < 0 ||
            tw.toward <= allowed)
            break;
        uint64_t now = px_clock_us();
        if (now >= until)
            break;
        /* TIME_WAIT lasts 60 s: the count falls as the oldest expire. */
        if (!cfg->base.quiet && (tty || tick % 10 == 0)) {
            fprintf(stderr,
                    "%sportex compare: %llu TIME_WAIT sockets toward %s hold ports; "
                    "waiting for them to expire (at most %.0f s more)%s",
                    tty ? "\r" : "", (unsigned long long)tw.toward, target,
                    (double)(until - now) / 1e6, tty ? "\033[K" : "\n");
            shown = tty;
        }
        const struct timespec sec = {.tv_sec = 1, .tv_nsec = 0};
        int sig = sigtimedwait(stop_set, NULL, &sec);
        if (sig == SIGINT || sig == SIGTERM) {
            interrupted = 1;
            break;
        }
    }
    if (shown)
        fputc('\n', stderr);
    close(fd);
    return interrupted;
}

int px_compare_run(const struct px_compare_config *cfg, struct px_mode_result *results, char *err,
                   size_t errlen)
{
    int needs_sysctl = 0;
    for (size_t i = 0; i < cfg->nmodes; i++)
        needs_sysctl |= cfg->modes[i]->client_reuse >= 0;
    if (needs_sysctl && !cfg->allow_sysctl) {
        snprintf(err, errlen,
                 "modes short-noreuse and short-reuse change net.ipv4.tcp_tw_reuse: "
                 "add --allow-sysctl (root; the value is restored afterwards)");
        return -2;
    }
    if (needs_sysctl && geteuid() != 0) {
        snprintf(err, errlen, "--allow-sysctl needs root to set net.ipv4.tcp_tw_reuse");
        return -1;
    }
    /* Blocked for the whole comparison: a signal is either taken by the run's
     * own wait or by ours, never lost, and never kills us with a sysctl changed. */
    sigset_t stop_set, old_set;
    px_block_stop_signals(&stop_set, &old_set);
    int interrupted = 0, rc = 0;
    for (size_t i = 0; i < cfg->nmodes; i++) {
        struct px_mode_result *res = &results[i];
        if (!px_mode_result_start(res, cfg->modes[i], interrupted))
            continue;
        if (i > 0 && !cfg->no_drain && results[i - 1].ran &&
            drain(cfg, results[i - 1].run.ex.usable_ports, &stop_set)) {
            interrupted = 1;
            snprintf(res->note, sizeof(res->note), "not run: interrupted");
            continue;
        }
        struct px_guard guard = {0};
        if (res->mode->client_reuse >= 0 &&
            px_guard_set(&guard, "net.ipv4.tcp_tw_reuse", res->mode->client_reuse, err, errlen) <
                0) {
            rc = -1;
            break;
        }
        res->cfg = cfg->base;
        res->cfg.keepalive = res->mode->keepalive;
        res->cfg.close = res->mode->close;
        if (!cfg->base.quiet)
            fprintf(stderr, "portex compare: mode %s (%s)\n", res->mode->name, res->mode->what);
        int r = px_run_execute(&res->cfg, &res->run, err, errlen);
        px_guard_restore(&guard);
        if (r < 0) {
            rc = -1;
            break;
        }
        res->ran = 1;
        res->run.cfg = &res->cfg;
        res->predicted_ok =
            px_ceiling_expected_ok(&res->run.ex.ceiling, res->run.duration_s,
                                   cfg->base.rate_per_s > 0 ? cfg->base.rate_per_s : 0);
        if (res->run.interrupted)
            interrupted = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    if (rc < 0)
        return rc;
    return interrupted ? 1 : 0;
}

void px_compare_report_text(FILE *f, const struct px_compare_config *cfg,
                            const struct px_mode_result *results)
{
    const struct px_config *b = &cfg->base;
    fprintf(f, "portex compare %s: ", b->url_text);
    if (b->rate_per_s > 0)
        fprintf(f, "%.0f new requests/s (at most %u in flight)", b->rate_per_s, b->connections);
    else
        fprintf(f, "%u connections, closed model", b->connections);
    if (b->duration_ms)
        fprintf(f, ", %.1f s per mode\n\n", (double)b->duration_ms / 1000.0);
    else
        fprintf(f, ", %llu requests per mode\n\n", (unsigned long long)b->requests);
    px_mode_report_table(f, results, cfg->nmodes);
    fputc('\n', f);
    for (size_t i = 0; i < cfg->nmodes; i++) {
        if (!results[i].ran)
            continue;
        char diag[1024];
        px_diagnose(&results[i].run, diag, sizeof(diag));
        fprintf(f, "%s: %s\n", results[i].mode->name, diag);
    }
}
