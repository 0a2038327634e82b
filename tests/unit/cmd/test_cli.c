/* SPDX-License-Identifier: MIT */
/* Unit tests of `portex run` and `portex serve` argument parsing. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "portex/cmd/cli.h"
#include "portex/cmd/compare.h"
#include "portex/load/load.h"
#include "portex/cmd/doctor.h"
#include "portex/cmd/lab.h"
#include "portex/cmd/merge.h"
#include "portex/cmd/ramp.h"
#include "portex/cmd/run.h"
#include "portex/cmd/serve.h"
#include "portex/load/server.h"

static struct px_run_config run_cfg;
#define cfg (run_cfg.load)
static char err[512];

#define PARSE_RUN(...)                                                                             \
    ({                                                                                             \
        char *argv_[] = {"run", __VA_ARGS__, NULL};                                                \
        px_run_parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, &run_cfg, err,            \
                     sizeof(err));                                                                 \
    })

static void px_run_parse__defaults(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("http://127.0.0.1:8080/"), PX_CLI_OK);
    assert_int_equal(cfg.connections, 64);
    assert_int_equal(cfg.duration_ms, 10000);
    assert_int_equal(cfg.requests, 0);
    assert_false(cfg.keepalive);
    assert_int_equal(cfg.close, PX_CLOSE_CLIENT);
    assert_int_equal(cfg.connect_timeout_ms, 3000);
    assert_int_equal(cfg.timeout_ms, 10000);
    assert_string_equal(cfg.method, "GET");
    assert_int_equal(cfg.url.port, 8080);
}

static void px_run_parse__all_options(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("-c", "8", "-r", "1.5k", "-d", "3s", "-t", "2", "--close", "server",
                               "-H", "X-A: 1", "-m", "POST", "--body", "hi", "--timeout", "2s",
                               "--connect-timeout", "500ms", "--port-range", "40000-40099",
                               "--source", "127.0.0.2-127.0.0.4", "http://[::1]:81/x"),
                     PX_CLI_OK);
    assert_int_equal(cfg.connections, 8);
    assert_true(cfg.rate_per_s == 1500.0);
    assert_int_equal(cfg.duration_ms, 3000);
    assert_int_equal(cfg.threads, 2);
    assert_int_equal(cfg.close, PX_CLOSE_SERVER);
    assert_int_equal(cfg.nheaders, 1);
    assert_string_equal(cfg.method, "POST");
    assert_int_equal(cfg.body_len, 2);
    assert_int_equal(cfg.timeout_ms, 2000);
    assert_int_equal(cfg.connect_timeout_ms, 500);
    assert_int_equal(cfg.port_lo, 40000);
    assert_int_equal(cfg.port_hi, 40099);
    assert_int_equal(cfg.nsources, 3);
    px_load_release(&cfg);
}

static void px_run_parse__source_range_at_the_top_of_the_space(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("--source", "255.255.255.0-255.255.255.255", "http://127.0.0.1/"),
                     PX_CLI_OK);
    assert_int_equal(cfg.nsources, 256);
    const struct sockaddr_in *last = (const struct sockaddr_in *)&cfg.sources[255];
    assert_int_equal(ntohl(last->sin_addr.s_addr), 0xffffffffu);
    assert_int_equal(PARSE_RUN("--source", "255.255.255.255-255.255.255.255", "http://127.0.0.1/"),
                     PX_CLI_OK);
    assert_int_equal(cfg.nsources, 1);
    assert_int_equal(PARSE_RUN("--source", "255.255.254.255-255.255.255.255", "http://127.0.0.1/"),
                     PX_CLI_USAGE);
    assert_non_null(strstr(err, "at most 256"));
}

static void px_run_parse__n_alone_has_no_duration(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("-n", "5000", "http://127.0.0.1/"), PX_CLI_OK);
    assert_int_equal(cfg.requests, 5000);
    assert_int_equal(cfg.duration_ms, 0);
    assert_int_equal(PARSE_RUN("-n", "5", "-d", "1s", "http://127.0.0.1/"), PX_CLI_OK);
    assert_int_equal(cfg.duration_ms, 1000);
}

static void px_run_parse__errors_name_the_value(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("-c", "0", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'0'"));
    assert_int_equal(PARSE_RUN("-r", "-5", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'-5'"));
    assert_int_equal(PARSE_RUN("-d", "0s", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'0s'"));
    assert_int_equal(PARSE_RUN("-H", "broken", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'broken'"));
    assert_int_equal(PARSE_RUN("--close", "maybe", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'maybe'"));
    assert_int_equal(PARSE_RUN("--bogus", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "--bogus"));
    assert_int_equal(PARSE_RUN("-Z", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "-Z"));
    assert_int_equal(PARSE_RUN("gopher://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "expected http:// or https://"));
    assert_int_equal(PARSE_RUN("http://127.0.0.1:99999/"), PX_CLI_USAGE);
    assert_int_equal(PARSE_RUN("--body", "@/nonexistent/file", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "/nonexistent/file"));
    assert_int_equal(PARSE_RUN("--body", "@/dev/zero", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "larger than 64 MiB"));
    assert_int_equal(PARSE_RUN("--source", "1.2.3", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_int_equal(PARSE_RUN("-k", "--close", "rst", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_int_equal(PARSE_RUN("http://127.0.0.1/", "extra"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'extra'"));
    assert_int_equal(PARSE_RUN("-c"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "needs a value"));
}

static void px_run_parse__shard_splits_and_start_at(void **state)
{
    (void)state;
    char *a[] = {"run",
                 "--shard",
                 "1/4",
                 "-c",
                 "10",
                 "-n",
                 "1001",
                 "--start-at",
                 "2026-01-01T00:00:00.5Z",
                 "http://127.0.0.1/",
                 NULL};
    assert_int_equal(px_run_parse(10, a, &run_cfg, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(cfg.shard, 1);
    assert_int_equal(cfg.shards, 4);
    assert_int_equal(cfg.connections, 3); /* 10 = 3 + 3 + 2 + 2 */
    assert_int_equal(cfg.requests, 250);  /* 1001 = 251 + 250 + 250 + 250 */
    assert_true(cfg.start_at_ns == 1767225600LL * 1000000000 + 500000000);
    char *b[] = {"run", "--shard", "4/4", "http://127.0.0.1/", NULL};
    assert_int_equal(px_run_parse(4, b, &run_cfg, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'4/4'"));
    char *c[] = {"run", "--shard", "0/4", "-c", "3", "http://127.0.0.1/", NULL};
    assert_int_equal(px_run_parse(6, c, &run_cfg, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "-c 3 is fewer than the 4 shards"));
    char *d[] = {"run", "--start-at", "soon", "http://127.0.0.1/", NULL};
    assert_int_equal(px_run_parse(4, d, &run_cfg, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'soon'"));
}

static void px_merge_parse__files_and_outputs(void **state)
{
    (void)state;
    struct px_merge_config mc;
    char *a[] = {"merge", "a.json", "--json", "m.json", "b.json", "--csv", "-", NULL};
    assert_int_equal(px_merge_parse(7, a, &mc, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(mc.nfiles, 2);
    assert_string_equal(mc.files[0], "a.json");
    assert_string_equal(mc.files[1], "b.json");
    assert_string_equal(mc.out.json, "m.json");
    assert_string_equal(mc.out.csv, "-");
    char *b[] = {"merge", "--json", "m.json", NULL};
    assert_int_equal(px_merge_parse(3, b, &mc, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "no FILE given"));
}

/* A repeated source adds no port; an empty entry is a typo, not an address. */
static void px_run_parse__refuses_repeated_and_empty_sources(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("--source", "127.0.0.1,127.0.0.1", "http://127.0.0.1/"),
                     PX_CLI_USAGE);
    assert_non_null(strstr(err, "127.0.0.1 is given twice"));
    assert_int_equal(PARSE_RUN("--source", "::1,0:0::1", "http://[::1]/"), PX_CLI_USAGE);
    assert_int_equal(PARSE_RUN("--source", "127.0.0.1,,", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "no empty entry"));
    assert_int_equal(PARSE_RUN("--source", ",127.0.0.1", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_int_equal(PARSE_RUN("--source", "127.0.0.1,127.0.0.2", "http://127.0.0.1/"), PX_CLI_OK);
    assert_int_equal(cfg.nsources, 2);
}

/* Two machine formats on one stdout would parse as neither. */
static void px_run_parse__refuses_two_outputs_on_stdout(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("--json", "-", "--csv", "-", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "--json - and --csv - both want stdout"));
    assert_int_equal(PARSE_RUN("--csv", "-", "--svg", "-", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_int_equal(PARSE_RUN("--json", "-", "--hlog", "-", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "--json - and --hlog - both want stdout"));
    assert_int_equal(PARSE_RUN("--json", "-", "--csv", "x.csv", "http://127.0.0.1/"), PX_CLI_OK);
    assert_int_equal(PARSE_RUN("--json", "o", "--hlog", "o", "http://127.0.0.1/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "--json and --hlog are both 'o'"));
    assert_int_equal(PARSE_RUN("--json", "/dev/null", "--csv", "/dev/null", "http://127.0.0.1/"),
                     PX_CLI_OK);
    struct px_merge_config mc;
    char *m[] = {"merge", "a.json", "--json", "-", "--svg", "-", NULL};
    assert_int_equal(px_merge_parse(6, m, &mc, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "--json - and --svg - both want stdout"));
    static struct px_lab_config lc;
    char *l[] = {"lab", "--csv", "-", "--json", "-", NULL};
    assert_int_equal(px_lab_parse(5, l, &lc, err, sizeof(err)), PX_CLI_USAGE);
}

static void px_run_parse__missing_url(void **state)
{
    (void)state;
    char *argv[] = {"run", "-c", "4", NULL};
    assert_int_equal(px_run_parse(3, argv, &run_cfg, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "missing URL"));
}

static void px_serve_parse__listen_threads_body(void **state)
{
    (void)state;
    struct px_serve_config sc;
    char *argv[] = {"serve", "--listen", "127.0.0.1:0", "-t", "3", "--body-bytes", "100", NULL};
    assert_int_equal(px_serve_parse(7, argv, &sc, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(sc.server.threads, 3);
    assert_int_equal(sc.server.body_bytes, 100);
    char *bad[] = {"serve", "--listen", "nowhere", NULL};
    assert_int_equal(px_serve_parse(3, bad, &sc, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'nowhere'"));
}

static void px_serve_parse__listen_unix_alone_or_beside_tcp(void **state)
{
    (void)state;
    struct px_serve_config sc;
    char *only[] = {"serve", "--listen", "unix:/tmp/a.sock", NULL};
    assert_int_equal(px_serve_parse(3, only, &sc, err, sizeof(err)), PX_CLI_OK);
    assert_string_equal(sc.server.unix_path, "/tmp/a.sock");
    assert_int_equal(sc.server.unix_only, 1);
    char *both[] = {"serve", "--listen", "unix:/tmp/a.sock", "--listen", "127.0.0.1:0", NULL};
    assert_int_equal(px_serve_parse(5, both, &sc, err, sizeof(err)), PX_CLI_OK);
    assert_string_equal(sc.server.unix_path, "/tmp/a.sock");
    assert_int_equal(sc.server.unix_only, 0);
    char *tcp[] = {"serve", "--listen", "127.0.0.1:0", NULL};
    assert_int_equal(px_serve_parse(3, tcp, &sc, err, sizeof(err)), PX_CLI_OK);
    assert_string_equal(sc.server.unix_path, "");
    assert_int_equal(sc.server.unix_only, 0);
    char *bad[] = {"serve", "--listen", "unix:", NULL};
    assert_int_equal(px_serve_parse(3, bad, &sc, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "unix:PATH"));
}

static void px_run_parse__hlog_and_unix(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("--hlog", "x.hlog", "--unix", "/tmp/s.sock", "http://a.test/p"),
                     PX_CLI_OK);
    assert_string_equal(run_cfg.out.hlog, "x.hlog");
    assert_string_equal(cfg.url.unix_path, "/tmp/s.sock");
    assert_string_equal(cfg.url.host, "a.test");
    assert_string_equal(cfg.url.path, "/p");
    assert_int_equal(PARSE_RUN("--hlog", "-", "--json", "-", "http://a.test/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "stdout"));
    assert_int_equal(PARSE_RUN("unix:/tmp/s.sock:/q"), PX_CLI_OK);
    assert_string_equal(cfg.url.unix_path, "/tmp/s.sock");
    assert_string_equal(cfg.url.path, "/q");
}

static void px_compare_parse__control_adds_a_mode(void **state)
{
    (void)state;
    static struct px_compare_config cc;
    char *a[] = {"compare",          "--modes",           "short", "--control",
                 "unix:/tmp/s.sock", "http://127.0.0.1/", NULL};
    assert_int_equal(px_compare_parse(6, a, &cc, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(cc.nmodes, 2);
    assert_string_equal(cc.modes[1]->name, "unix-control");
    assert_string_equal(cc.control_unix, "/tmp/s.sock");
    char *b[] = {"compare", "--control", "/tmp/s.sock", "http://127.0.0.1/", NULL};
    assert_int_equal(px_compare_parse(4, b, &cc, err, sizeof(err)), PX_CLI_USAGE);
    char *c[] = {"compare", "--hlog", "x.hlog", "http://127.0.0.1/", NULL};
    assert_int_equal(px_compare_parse(4, c, &cc, err, sizeof(err)), PX_CLI_OK);
    assert_string_equal(cc.out.hlog, "x.hlog");
}

static void px_compare_parse__modes_and_sysctl(void **state)
{
    (void)state;
    static struct px_compare_config cc;
    char *a[] = {"compare", "-r", "100", "http://127.0.0.1/", NULL};
    assert_int_equal(px_compare_parse(4, a, &cc, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(cc.nmodes, 4);
    assert_string_equal(cc.modes[0]->name, "keepalive");
    assert_string_equal(cc.modes[3]->name, "short");
    char *b[] = {"compare", "--allow-sysctl", "http://127.0.0.1/", NULL};
    assert_int_equal(px_compare_parse(3, b, &cc, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(cc.nmodes, 6);
    assert_int_equal(cc.modes[4]->client_reuse, 0);
    assert_int_equal(cc.modes[5]->client_reuse, 1);
    char *c[] = {"compare", "--modes", "rst,nope", "http://127.0.0.1/", NULL};
    assert_int_equal(px_compare_parse(4, c, &cc, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'nope'"));
    char *d[] = {"compare", "--close", "rst", "http://127.0.0.1/", NULL};
    assert_int_equal(px_compare_parse(4, d, &cc, err, sizeof(err)), PX_CLI_USAGE);
    char *e[] = {"run", "--allow-sysctl", "http://127.0.0.1/", NULL};
    assert_int_equal(px_run_parse(3, e, &run_cfg, err, sizeof(err)), PX_CLI_USAGE);
}

static void px_lab_parse__defaults_and_modes(void **state)
{
    (void)state;
    static struct px_lab_config lc;
    char *a[] = {"lab", NULL};
    assert_int_equal(px_lab_parse(1, a, &lc, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(lc.ports, 1000);
    assert_int_equal(lc.proxy_ports, 100); /* a proxy's range unless --ports is given */
    assert_int_equal(lc.nat_ports, 100);
    assert_true(lc.rate_per_s == 2000.0);
    assert_int_equal(lc.duration_ms, 3000);
    assert_int_equal(lc.nmodes, 4);
    assert_string_equal(lc.modes[2]->name, "reuse-server-nots");
    assert_int_equal(lc.modes[2]->server_timestamps, 0);
    char *b[] = {"lab", "--modes", "all", "--ports", "200", NULL};
    assert_int_equal(px_lab_parse(5, b, &lc, err, sizeof(err)), PX_CLI_OK);
    /* every lab mode: hosts4 and the conn10 modes, the NAT, proxy and two-target ones, h2 */
    assert_int_equal(lc.nmodes, 23);
    assert_int_equal(lc.ports, 200);
    assert_int_equal(lc.proxy_ports, 200);
    char *n[] = {"lab", "--modes", "nat-keepalive,proxy-reuse", "--nat-ports", "50", NULL};
    assert_int_equal(px_lab_parse(5, n, &lc, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(lc.nmodes, 2);
    assert_int_equal(lc.nat_ports, 50);
    assert_int_equal(lc.modes[0]->middle, PX_MIDDLE_NAT);
    assert_int_equal(lc.modes[1]->middle, PX_MIDDLE_PROXY);
    char *m[] = {"lab", "--nat-ports", "5", NULL};
    assert_int_equal(px_lab_parse(3, m, &lc, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'5'"));
    char *c[] = {"lab", "--reuse-delay", "0", NULL};
    assert_int_equal(px_lab_parse(3, c, &lc, err, sizeof(err)), PX_CLI_USAGE);
    assert_non_null(strstr(err, "'0'"));
}

static void px_doctor_parse__optional_url(void **state)
{
    (void)state;
    static struct px_doctor_config dc;
    char *a[] = {"doctor", NULL};
    assert_int_equal(px_doctor_parse(1, a, &dc, err, sizeof(err)), PX_CLI_OK);
    assert_false(dc.has_target);
    char *b[] = {"doctor", "-c", "500", "http://[::1]:81/", NULL};
    assert_int_equal(px_doctor_parse(4, b, &dc, err, sizeof(err)), PX_CLI_OK);
    assert_true(dc.has_target);
    assert_int_equal(dc.connections, 500);
    assert_int_equal(dc.url.port, 81);
    char *c[] = {"doctor", "a", "b", NULL};
    assert_int_equal(px_doctor_parse(3, c, &dc, err, sizeof(err)), PX_CLI_USAGE);
}

/* -4 and -6 pin a family for run (and so compare and ramp) and doctor; both is refused. */
static void px_run_parse__family_pins(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("http://localhost/"), PX_CLI_OK);
    assert_int_equal(cfg.family, AF_UNSPEC);
    assert_int_equal(PARSE_RUN("-4", "http://localhost/"), PX_CLI_OK);
    assert_int_equal(cfg.family, AF_INET);
    assert_int_equal(PARSE_RUN("--ipv6", "http://localhost/"), PX_CLI_OK);
    assert_int_equal(cfg.family, AF_INET6);
    assert_int_equal(PARSE_RUN("-4", "-6", "http://localhost/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "-4 and -6 exclude each other"));
    static struct px_doctor_config dc;
    char *a[] = {"doctor", "-6", "http://localhost/", NULL};
    assert_int_equal(px_doctor_parse(3, a, &dc, err, sizeof(err)), PX_CLI_OK);
    assert_int_equal(dc.family, AF_INET6);
    char *b[] = {"doctor", "-4", "unix:/tmp/x.sock", NULL};
    assert_int_equal(px_doctor_parse(3, b, &dc, err, sizeof(err)), PX_CLI_USAGE);
}

static struct px_ramp_config ramp;

#define PARSE_RAMP(...)                                                                            \
    ({                                                                                             \
        char *argv_[] = {"ramp", __VA_ARGS__, NULL};                                               \
        px_ramp_parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, &ramp, err,              \
                      sizeof(err));                                                                \
    })

static void px_ramp_parse__steps_and_load(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RAMP("--from", "200", "--to", "1k", "--step", "200", "--step-duration",
                                "1s", "--max-p99", "50ms", "-c", "8", "--port-range", "40000-40099",
                                "--no-stop", "http://127.0.0.1:8080/"),
                     PX_CLI_OK);
    assert_true(ramp.from_per_s == 200.0 && ramp.to_per_s == 1000.0 && ramp.step_per_s == 200.0);
    assert_int_equal(ramp.step_ms, 1000);
    assert_int_equal(ramp.base.duration_ms, 1000);
    assert_int_equal(ramp.max_p99_ms, 50);
    assert_true(ramp.no_stop);
    assert_int_equal(ramp.base.connections, 8);
    assert_int_equal(ramp.base.port_lo, 40000);
}

static void px_ramp_parse__refuses_rate_duration_and_missing_steps(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RAMP("--from", "1", "--to", "2", "--step", "1", "-r", "5", "http://a/"),
                     PX_CLI_USAGE);
    assert_non_null(strstr(err, "'-r'"));
    assert_int_equal(PARSE_RAMP("--from", "1", "--to", "2", "--step", "1", "-n", "5", "http://a/"),
                     PX_CLI_USAGE);
    assert_int_equal(PARSE_RAMP("--from", "1", "--step", "1", "http://a/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "--to"));
    assert_int_equal(PARSE_RAMP("--from", "5", "--to", "2", "--step", "1", "http://a/"),
                     PX_CLI_USAGE);
    assert_int_equal(PARSE_RAMP("--from", "1", "--to", "1000", "--step", "1", "http://a/"),
                     PX_CLI_USAGE);
    assert_non_null(strstr(err, "1000 steps"));
}

static void px_run_parse__requests_per_conn_needs_keepalive(void **state)
{
    (void)state;
    assert_int_equal(PARSE_RUN("--requests-per-conn", "10", "http://a/"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "needs -k"));
    assert_int_equal(PARSE_RUN("-k", "--requests-per-conn", "10", "--close", "rst", "http://a/"),
                     PX_CLI_OK);
    assert_int_equal(cfg.requests_per_conn, 10);
    assert_int_equal(cfg.close, PX_CLOSE_RST);
    assert_int_equal(PARSE_RUN("-k", "--close", "rst", "http://a/"), PX_CLI_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_run_parse__defaults),
        cmocka_unit_test(px_run_parse__shard_splits_and_start_at),
        cmocka_unit_test(px_merge_parse__files_and_outputs),
        cmocka_unit_test(px_run_parse__refuses_two_outputs_on_stdout),
        cmocka_unit_test(px_run_parse__refuses_repeated_and_empty_sources),
        cmocka_unit_test(px_run_parse__all_options),
        cmocka_unit_test(px_run_parse__source_range_at_the_top_of_the_space),
        cmocka_unit_test(px_run_parse__n_alone_has_no_duration),
        cmocka_unit_test(px_run_parse__errors_name_the_value),
        cmocka_unit_test(px_run_parse__missing_url),
        cmocka_unit_test(px_serve_parse__listen_threads_body),
        cmocka_unit_test(px_compare_parse__modes_and_sysctl),
        cmocka_unit_test(px_serve_parse__listen_unix_alone_or_beside_tcp),
        cmocka_unit_test(px_run_parse__hlog_and_unix),
        cmocka_unit_test(px_compare_parse__control_adds_a_mode),
        cmocka_unit_test(px_lab_parse__defaults_and_modes),
        cmocka_unit_test(px_doctor_parse__optional_url),
        cmocka_unit_test(px_run_parse__family_pins),
        cmocka_unit_test(px_ramp_parse__steps_and_load),
        cmocka_unit_test(px_ramp_parse__refuses_rate_duration_and_missing_steps),
        cmocka_unit_test(px_run_parse__requests_per_conn_needs_keepalive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
