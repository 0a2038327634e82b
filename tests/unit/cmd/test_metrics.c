/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of --metrics as commands use it: loads kept per label set, the
 * timestamps, the tick hook, the final values and the linger, the lab's
 * detached serving process. Like h2o's unit tests this file includes
 * metrics.c to reach its statics; scrapes go over loopback HTTP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../src/cmd/metrics.c"

#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "portex/load/engine.h"
#include "portex/load/load.h"

/* --metrics 127.0.0.1:0 with this linger. */
static struct px_metrics_config config(uint64_t linger_ms)
{
    struct px_metrics_config cfg;
    char err[128];
    px_metrics_config_defaults(&cfg);
    assert_int_equal(px_addr_parse("127.0.0.1:0", &cfg.addr, &cfg.addr_len, err, sizeof(err)), 0);
    cfg.linger_ms = linger_ms;
    return cfg;
}

/* The port it serves on: from the endpoint, or (detached) from the process that has it. */
static int port_of(const struct px_metrics *m, const struct px_metrics_config *cfg)
{
    (void)cfg;
    struct sockaddr_storage ss;
    px_endpoint_address(m->ep, &ss);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* GET /metrics over HTTP/1.0 (0.0.4, or OpenMetrics when om): the body, malloc'd. */
static char *scrape(int port, int om)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char req[160];
    int n = snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\n%s\r\n",
                     om ? "Accept: application/openmetrics-text\r\n" : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    char *body = strstr(buf, "\r\n\r\n");
    assert_non_null(body);
    memmove(buf, body + 4, strlen(body + 4) + 1);
    return buf;
}

/* A finished run of `ok` requests, on 127.0.0.1:8080 (or shard k/n when n > 0). */
static struct px_run *finished(uint64_t ok, unsigned k, unsigned n)
{
    static struct px_load load;
    px_load_defaults(&load);
    char err[128];
    px_addr_parse("127.0.0.1:8080", &load.target, &load.target_len, err, sizeof(err));
    load.shard = k;
    load.shards = n;
    struct px_run *run = px_run_new(&load);
    assert_non_null(run);
    run->totals.started = run->totals.ok = ok;
    for (uint64_t i = 0; i < ok; i++)
        px_hist_record(&run->lat.total, 100 + i);
    run->ex.ceiling.per_s = INFINITY;
    return run;
}

static void open__nothing_without_metrics(void **state)
{
    (void)state;
    struct px_metrics_config cfg;
    px_metrics_config_defaults(&cfg);
    struct px_metrics *m = (struct px_metrics *)&cfg; /* must be overwritten */

    enum px_exit rc = px_metrics_open(&m, "run", &cfg, 0);

    assert_int_equal(rc, PX_EXIT_OK);
    assert_null(m);
    assert_int_equal(cfg.linger_ms, 5000);
    px_metrics_begin(m, "x", NULL);
    px_metrics_set_run(m, NULL);
    px_metrics_finish(m);
    px_metrics_free(m);
}

static void open__a_busy_port_fails(void **state)
{
    (void)state;
    struct px_metrics_config cfg = config(0);
    struct px_metrics *first, *second = NULL;
    assert_int_equal(px_metrics_open(&first, "run", &cfg, 0), PX_EXIT_OK);
    struct sockaddr_storage bound;
    px_endpoint_address(first->ep, &bound);
    cfg.addr = bound;

    enum px_exit rc = px_metrics_open(&second, "run", &cfg, 0);

    assert_int_equal(rc, PX_EXIT_FAILED);
    assert_null(second);
    px_metrics_free(first);
}

static void set_metrics_addr__numbers_only(void **state)
{
    (void)state;
    struct px_metrics_config cfg;
    px_metrics_config_defaults(&cfg);
    char err[256] = "";

    int name = set_addr(&px_metrics_opts[0], &cfg, "localhost:9100", err, sizeof(err));
    int v6 = set_addr(&px_metrics_opts[0], &cfg, "[::1]:0", err + 200, 56);
    int linger0 = set_linger(&px_metrics_opts[1], &cfg, "0", err + 200, 56);

    assert_int_equal(name, PX_CLI_USAGE);
    assert_string_equal(err, "invalid --metrics 'localhost:9100': expected IP:PORT or [IPv6]:PORT "
                             "with a numeric address (port 0: any free port)");
    assert_int_equal(v6, PX_CLI_OK);
    assert_int_equal(cfg.addr.ss_family, AF_INET6);
    assert_int_equal(linger0, PX_CLI_OK);
    assert_int_equal(cfg.linger_ms, 0);
}

/* A mode that ended keeps its values beside the next one's: no counter goes back. */
static void set_run__each_mode_keeps_its_values(void **state)
{
    (void)state;
    struct px_metrics_config cfg = config(0);
    struct px_metrics *m;
    assert_int_equal(px_metrics_open(&m, "compare", &cfg, 0), PX_EXIT_OK);
    struct px_run *a = finished(500, 0, 0), *b = finished(20, 0, 0);

    px_metrics_begin(m, "short", a->load);
    px_metrics_set_run(m, a);
    px_metrics_begin(m, "short#2", b->load);
    px_metrics_set_run(m, b);
    char *text = scrape(port_of(m, &cfg), 0);

    assert_non_null(strstr(text, "portex_ok_total{mode=\"short\",target=\"127.0.0.1:8080\"} 500 "));
    assert_non_null(
        strstr(text, "portex_ok_total{mode=\"short#2\",target=\"127.0.0.1:8080\"} 20 "));
    assert_non_null(strstr(text, "mode=\"short\",target=\"127.0.0.1:8080\",phase=\"total\"} 500 "));
    assert_int_equal(m->nloads, 2);
    free(text);
    px_run_free(a);
    px_run_free(b);
    px_metrics_free(m);
}

/* Every publish is stamped later than the one before, whatever the clock says. */
static void stamp__always_later_than_the_last(void **state)
{
    (void)state;
    struct px_metrics m = {.ts_ms = 0};

    stamp(&m, 5000);
    uint64_t first = m.ts_ms;
    stamp(&m, 5000); /* the same millisecond */
    uint64_t same = m.ts_ms;
    stamp(&m, 4000); /* a clock that stepped back */
    uint64_t back = m.ts_ms;
    stamp(&m, 9000);

    assert_int_equal(first, 5000);
    assert_int_equal(same, 5001);
    assert_int_equal(back, 5002);
    assert_int_equal(m.ts_ms, 9000);
}

/* The tick hook calls the tick it replaced first, then publishes the tick's values
 * stamped with the tick's wall-clock time, under the labels begun. */
static int hlog_calls;
static void other_tick(void *arg, const struct px_stats_interval *iv)
{
    (void)iv;
    hlog_calls += *(int *)arg;
}

static void hook__chains_and_publishes_the_tick(void **state)
{
    (void)state;
    struct px_metrics_config cfg = config(0);
    struct px_metrics *m;
    assert_int_equal(px_metrics_open(&m, "run", &cfg, 0), PX_EXIT_OK);
    struct px_run *run = finished(0, 1, 4);
    int one = 1;
    struct px_stats_opts opts = {.tick = other_tick, .tick_arg = &one};
    static struct px_engine_snapshot snap;
    snap.totals.started = 9;
    snap.totals.ok = 7;
    struct px_series_row row = {.t = 1.5, .in_flight = 2, .time_wait = 33};
    struct px_stats_interval iv = {.epoch_s = 1796514985.0, .row = &row, .snap = &snap};

    px_metrics_begin(m, "short", run->load);
    px_metrics_hook(m, &opts, run);
    opts.tick(opts.tick_arg, &iv);
    char *text = scrape(port_of(m, &cfg), 1);

    assert_int_equal(hlog_calls, 1);
    assert_non_null(strstr(text, "portex_requests_total{mode=\"short\",shard=\"1/4\",target="
                                 "\"127.0.0.1:8080\"} 7 1796514986.500\n"));
    assert_non_null(strstr(text, "portex_in_flight{mode=\"short\",shard=\"1/4\",target="
                                 "\"127.0.0.1:8080\"} 2 1796514986.500\n"));
    assert_non_null(strstr(text, "portex_time_wait{mode=\"short\",shard=\"1/4\",target="
                                 "\"127.0.0.1:8080\"} 33 "));
    free(text);
    px_run_free(run);
    px_metrics_free(m);
}

/* A scraper on its own thread: one GET after delay_ms. */
struct scraper {
    int port, delay_ms;
    char *text;
};

static void *scrape_later(void *arg)
{
    struct scraper *s = arg;
    usleep((useconds_t)s->delay_ms * 1000);
    s->text = scrape(s->port, 1);
    return NULL;
}

static uint64_t ms_of(void (*fn)(struct px_metrics *), struct px_metrics *m)
{
    uint64_t t0 = px_clock_us();
    fn(m);
    return (px_clock_us() - t0) / 1000;
}

/* The linger ends once a scrape took the final values, long before its end. */
static void finish__a_scrape_of_the_final_values_ends_the_linger(void **state)
{
    (void)state;
    struct px_metrics_config cfg = config(20000);
    struct px_metrics *m;
    assert_int_equal(px_metrics_open(&m, "run", &cfg, 0), PX_EXIT_OK);
    struct px_run *run = finished(42, 0, 0);
    px_metrics_begin(m, "short", run->load);
    px_metrics_set_run(m, run);
    struct scraper s = {.port = port_of(m, &cfg), .delay_ms = 200};
    pthread_t t;
    pthread_create(&t, NULL, scrape_later, &s);

    uint64_t ms = ms_of(px_metrics_finish, m);
    pthread_join(t, NULL);

    assert_true(ms >= 150 && ms < 10000);
    assert_non_null(
        strstr(s.text, "portex_ok_total{mode=\"short\",target=\"127.0.0.1:8080\"} 42 "));
    free(s.text);
    px_run_free(run);
    px_metrics_free(m);
}

/* No scraper: the linger runs out; a stop signal ends it at once. */
static void finish__linger_runs_out_or_a_stop_ends_it(void **state)
{
    (void)state;
    struct px_metrics_config cfg = config(300);
    struct px_metrics *m;
    sigset_t stop_set, old;
    px_stop_block(&stop_set, &old);
    assert_int_equal(px_metrics_open(&m, "run", &cfg, 0), PX_EXIT_OK);

    uint64_t out = ms_of(px_metrics_finish, m);
    m->linger_ms = 20000;
    kill(getpid(), SIGINT); /* blocked: pending until the linger takes it */
    uint64_t stopped = ms_of(px_metrics_finish, m);
    int still_pending = px_stop_pending(&stop_set);

    assert_true(out >= 290 && out < 5000);
    assert_true(stopped < 5000);
    assert_false(still_pending);
    px_metrics_free(m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* watch's hook: a command's own families beside the rest, re-rendered at the end. */
static void own_families(FILE *f, int fmt, uint64_t ts_ms, const void *arg)
{
    char v[24];
    snprintf(v, sizeof(v), "%d", *(const int *)arg);
    struct px_expo_label label = {"channel", "a"};
    px_expo_family(f, (enum px_expo_format)fmt, "portex_channel_ports", "gauge", NULL, "Ports.");
    px_expo_line(f, (enum px_expo_format)fmt, "portex_channel_ports", &label, 1, v, ts_ms);
}

static void publish_own__a_commands_own_families(void **state)
{
    (void)state;
    struct px_metrics_config cfg = config(0);
    struct px_metrics *m;
    assert_int_equal(px_metrics_open(&m, "watch", &cfg, 0), PX_EXIT_OK);
    int ports = 7;

    px_metrics_publish_own(m, own_families, &ports, 1795707503507);
    char *text = scrape(port_of(m, &cfg), 1);
    ports = 8;
    px_metrics_finish(m);
    char *final = scrape(port_of(m, &cfg), 1);

    assert_non_null(strstr(text, "# TYPE portex_channel_ports gauge\n"));
    assert_non_null(strstr(text, "portex_channel_ports{channel=\"a\"} 7 1795707503.507\n"));
    /* A value that moved since the last tick: a later stamp, or Prometheus drops it. */
    assert_non_null(strstr(final, "portex_channel_ports{channel=\"a\"} 8 "));
    assert_null(strstr(final, "} 8 1795707503.507\n"));
    assert_string_equal(final + strlen(final) - 6, "# EOF\n");
    free(text);
    free(final);
    px_metrics_free(m);
}

/* The lab's way: a serving process, values as messages, the final one taken there. */
static void open__detached_serves_from_its_own_process(void **state)
{
    (void)state;
    struct px_metrics_config cfg = config(20000);
    struct px_endpoint *probe = px_endpoint_open(&cfg.addr, cfg.addr_len, NULL, 0);
    assert_non_null(probe); /* a free port, known before the fork */
    px_endpoint_address(probe, &cfg.addr);
    px_endpoint_free(probe);
    int port = ntohs(((struct sockaddr_in *)&cfg.addr)->sin_port);
    struct px_metrics *m;
    assert_int_equal(px_metrics_open(&m, "lab", &cfg, 1), PX_EXIT_OK);
    assert_null(m->ep);
    struct px_run *run = finished(300, 2, 4);

    px_metrics_begin(m, "hosts4", run->load);
    px_metrics_set_run(m, run);
    struct scraper s = {.port = port, .delay_ms = 200};
    pthread_t t;
    pthread_create(&t, NULL, scrape_later, &s);
    uint64_t ms = ms_of(px_metrics_finish, m);
    pthread_join(t, NULL);
    pid_t pid = m->serving.pid;
    px_metrics_free(m);

    assert_true(ms < 10000);
    assert_non_null(strstr(s.text, "portex_ok_total{mode=\"hosts4\",shard=\"2/4\",target="
                                   "\"127.0.0.1:8080\"} 300 "));
    assert_int_equal(kill(pid, 0), -1); /* reaped */
    free(s.text);
    px_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open__nothing_without_metrics),
        cmocka_unit_test(open__a_busy_port_fails),
        cmocka_unit_test(set_metrics_addr__numbers_only),
        cmocka_unit_test(set_run__each_mode_keeps_its_values),
        cmocka_unit_test(stamp__always_later_than_the_last),
        cmocka_unit_test(hook__chains_and_publishes_the_tick),
        cmocka_unit_test(finish__a_scrape_of_the_final_values_ends_the_linger),
        cmocka_unit_test(finish__linger_runs_out_or_a_stop_ends_it),
        cmocka_unit_test(publish_own__a_commands_own_families),
        cmocka_unit_test(open__detached_serves_from_its_own_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
