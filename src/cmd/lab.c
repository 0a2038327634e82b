/* SPDX-License-Identifier: MIT */
/*
 * portex lab. Per mode: fork a server child and a client child (and, for the
 * topologies, a middle child: a source NAT or nginx), each of which unshares a
 * network namespace; the parent joins them with veth pairs made over
 * rtnetlink (IFLA_NET_NS_PID puts each end straight into its namespace), each
 * child sets its own sysctls and addresses, the server child serves and the
 * client child runs the engine and sends its result back over a pipe, while
 * the parent watches every namespace (cmd/lab_kids.c, cmd/lab_proc.c). When
 * the children exit the namespaces and the veth go with them. The parent
 * waits on the pipes with a signalfd beside them (cmd/child.c): a SIGINT or
 * SIGTERM is passed on to the clients, whose runs stop and report.
 */
#include "portex/cmd/lab.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/cmd/child.h"
#include "portex/cmd/cli.h"
#include "portex/cmd/lab_kids.h"
#include "portex/cmd/lab_nginx.h"
#include "portex/cmd/lab_proc.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/middle.h"
#include "portex/load/result.h"
#include "portex/report/lab_report.h"
#include "portex/report/mode_report.h"

#define TOPOLOGY_TOLERANCE 0.05 /* the new modes: matches within 5% (two-targets too) */

/* Without root: a user namespace that owns everything the lab creates. */
static int become_lab_root(char *err, size_t errlen)
{
    if (geteuid() == 0)
        return 0;
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        snprintf(err, errlen,
                 "needs root, or unprivileged user namespaces (unshare: %s); run it with sudo",
                 strerror(errno));
        return -1;
    }
    char map[64];
    FILE *f;
    if ((f = fopen("/proc/self/setgroups", "w")) != NULL) {
        fputs("deny", f);
        fclose(f);
    }
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    if ((f = fopen("/proc/self/uid_map", "w")) == NULL || fputs(map, f) < 0 || fclose(f) != 0)
        goto bad;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    if ((f = fopen("/proc/self/gid_map", "w")) == NULL || fputs(map, f) < 0 || fclose(f) != 0)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "needs root: cannot map ids in a user namespace (%s)", strerror(errno));
    return -1;
}

/* The middle as the reports name it. */
static struct px_middle_settings middle_settings(const struct px_lab_config *cfg,
                                                 const struct px_mode *m)
{
    return (struct px_middle_settings){
        .kind = m->middle,
        .nat_ports = m->middle == PX_MIDDLE_NAT ? cfg->nat_ports : 0,
        .nat_addrs = m->middle == PX_MIDDLE_NAT ? (m->nat_addrs > 1 ? m->nat_addrs : 1) : 0,
        .nat_flags = m->nat_flags,
        .proxy_ports = m->middle == PX_MIDDLE_PROXY ? cfg->proxy_ports : 0,
        .proxy_reuse = m->proxy_reuse,
        .reuse_delay_ms = px_lab_proxy_reuse_delay(cfg, m),
        .upstream_http11 = m->upstream_http11,
        .upstream_keepalive = m->upstream_keepalive,
    };
}

/* The prediction beside what ran: the port ceiling, or the middle's rule (kernel/middle.h). */
static void predict(const struct px_lab_config *cfg, const struct px_mode *m,
                    struct px_mode_result *res)
{
    const struct px_run *run = res->run;
    double d = (double)cfg->duration_ms / 1000.0;
    res->middle = middle_settings(cfg, m);
    if (m->rule == PX_RULE_NONE) {
        res->predicted_ok = px_ceiling_expected_ok(&run->ex.ceiling, d, run->load->rate_per_s);
        if (m->target_ports > 1)
            res->tolerance = TOPOLOGY_TOLERANCE;
        return;
    }
    struct px_middle_in in = {
        .rule = m->rule,
        .set = res->middle,
        .duration_s = d,
        .rate_per_s = run->load->rate_per_s,
        .requests = run->totals.started,
        .ok = run->totals.ok,
        .failed = run->totals.failed,
        .status_5xx = run->totals.status[5],
        .connections = run->totals.connections_opened,
        .slots = run->load->connections,
        .fig = &res->fig,
    };
    px_middle_judge(&in, &res->judgement);
    res->judged = 1;
    res->predicted_ok = strcmp(res->judgement.figure, "ok") == 0 ? res->judgement.predicted : NAN;
}

/* One mode into res: 0 when it ran (or was skipped), -1 with err when it failed. */
static int lab_mode(const struct px_lab_config *cfg, const struct px_mode *m, const char *nginx,
                    int have_delay, const struct px_lab_live *live, struct px_child_waits *waits,
                    struct px_mode_result *res, char *err, size_t errlen)
{
    if (!have_delay && (m->reuse_delay_ms || cfg->reuse_delay_ms)) {
        snprintf(res->note, sizeof(res->note),
                 "skipped: this kernel has no tcp_tw_reuse_delay (6.14+)");
        return 0;
    }
    if (cfg->out.json == NULL || strcmp(cfg->out.json, "-") != 0)
        if (!cfg->out.quiet)
            fprintf(stderr, "portex lab: mode %s (%s) for %.1f s...\n", m->name, m->what,
                    (double)cfg->duration_ms / 1000.0);
    if (px_lab_kids_run(cfg, m, nginx, live, waits, res, err, errlen) < 0)
        return -1;
    res->ran = 1;
    predict(cfg, m, res);
    return 0;
}

/* nginx for the proxy modes, found before any mode runs. 0, or -1 with one line in err. */
static int find_nginx(const struct px_lab_config *cfg, char *nginx, size_t len, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < cfg->nmodes; i++)
        if (cfg->modes[i]->middle == PX_MIDDLE_PROXY && px_nginx_find(nginx, len) < 0) {
            snprintf(err, errlen,
                     "mode %s needs nginx, which is not on PATH nor in /usr/sbin: "
                     "apt-get install nginx",
                     cfg->modes[i]->name);
            return -1;
        }
    return 0;
}

enum px_exit px_lab_run(const struct px_lab_config *cfg, struct px_metrics *metrics,
                        struct px_mode_result *results, char *err, size_t errlen)
{
    char nginx[512] = "";
    if (find_nginx(cfg, nginx, sizeof(nginx), err, errlen) < 0 || become_lab_root(err, errlen) < 0)
        return PX_EXIT_FAILED;
    /* SIGINT and SIGTERM are blocked since main(): they arrive here through a
     * signalfd beside the children's pipes, and the children inherit the block. */
    struct px_child_waits waits;
    if (px_child_waits_open(&waits) < 0) {
        snprintf(err, errlen, "cannot open a signalfd for SIGINT and SIGTERM: %s", strerror(errno));
        return PX_EXIT_FAILED;
    }
    int have_delay = access(PX_PROC "/sys/net/ipv4/tcp_tw_reuse_delay", F_OK) == 0;
    enum px_exit status = PX_EXIT_OK;
    for (size_t i = 0; i < cfg->nmodes; i++) {
        struct px_mode_result *res = &results[i];
        if (!px_mode_result_start(res, cfg->modes[i], px_child_stopped(&waits))) {
            status = PX_EXIT_INTERRUPTED;
            continue;
        }
        char label[64];
        px_mode_label(cfg->modes, i, label, sizeof(label));
        const struct px_lab_live live = {.metrics = metrics, .label = label};
        if (lab_mode(cfg, cfg->modes[i], nginx, have_delay, &live, &waits, res, err, errlen) < 0) {
            if (px_child_stopped(&waits)) {
                snprintf(res->note, sizeof(res->note), "interrupted");
                status = PX_EXIT_INTERRUPTED;
                continue;
            }
            status = PX_EXIT_FAILED;
            break;
        }
        if (px_child_stopped(&waits))
            status = PX_EXIT_INTERRUPTED;
    }
    px_child_waits_close(&waits);
    return status;
}

void px_lab_config_defaults(struct px_lab_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    px_metrics_config_defaults(&cfg->metrics);
    cfg->ports = 1000;
    cfg->proxy_ports = 100;
    cfg->nat_ports = 100;
    cfg->rate_per_s = 2000;
    cfg->duration_ms = 3000;
    cfg->connections = 64;
}

/* ---- options ------------------------------------------------------------ */

static int set_modes(const struct px_cli_opt *d, void *obj, const char *arg, char *err,
                     size_t errlen)
{
    (void)d;
    struct px_lab_config *cfg = obj;
    return px_mode_list_parse(arg, px_lab_modes, px_lab_nmodes, 1, cfg->modes, &cfg->nmodes, err,
                              errlen) < 0
               ? PX_CLI_USAGE
               : PX_CLI_OK;
}

#define LAB(field) offsetof(struct px_lab_config, field)
static const struct px_cli_opt lab_opts[] = {
    {.name = "ports", .set = px_cli_set_unsigned, .off = LAB(ports), .lo = 10, .hi = 25000},
    {.name = "nat-ports", .set = px_cli_set_unsigned, .off = LAB(nat_ports), .lo = 10, .hi = 500},
    {.name = "rate", .letter = 'r', .set = px_cli_set_rate, .off = LAB(rate_per_s)},
    {.name = "duration",
     .letter = 'd',
     .set = px_cli_set_duration,
     .off = LAB(duration_ms),
     .lo = 1},
    {.name = "connections",
     .letter = 'c',
     .set = px_cli_set_unsigned,
     .off = LAB(connections),
     .lo = 1,
     .hi = 100000},
    {.name = "modes", .set = set_modes},
    {.name = "reuse-delay",
     .set = px_cli_set_int,
     .off = LAB(reuse_delay_ms),
     .lo = 1,
     .hi = 60000},
    {.name = NULL},
};

static const struct px_cli_group lab_groups[] = {
    {.opts = lab_opts, .off = 0},
    {.opts = px_cli_output_opts, .off = LAB(out)},
    {.opts = px_metrics_opts, .off = LAB(metrics)},
};

static const char lab_usage[] =
    "usage: portex lab [options]\n"
    "\n"
    "Reproduce ephemeral port exhaustion in fresh network namespaces (client and\n"
    "server joined by a veth pair on 198.18.0.0/15), one pair per mode, and put\n"
    "the measured ceilings beside the predicted ones. The nat and proxy modes put\n"
    "a third namespace between them: a source NAT (nftables) or nginx. The host is\n"
    "never changed. Needs root, or unprivileged user namespaces; nginx for the\n"
    "proxy modes.\n"
    "\n"
    "      --ports N           client port range size; 1000 (in the proxy modes\n"
    "                          the proxy's range; 100 unless given)\n"
    "      --nat-ports N       source ports per NAT address in the nat modes, 10 to\n"
    "                          500; 100 (nat-keepalive opens 2 x N connections)\n"
    "  -r, --rate R            new requests per second; 2000\n"
    "  -d, --duration D        per mode; 3s\n"
    "  -c, --connections N     in-flight cap; 64 (nat and proxy modes: their own)\n"
    "      --modes LIST        noreuse,reuse,reuse-server-nots,keepalive (default),\n"
    "                          server-close, rst, sources4, delay100, hosts4,\n"
    "                          reuse-conn10, noreuse-conn10 (10 requests each),\n"
    "                          nat, nat-server-close, nat-keepalive, nat-2addr,\n"
    "                          nat-random-fully (through a source NAT), proxy,\n"
    "                          proxy-http11, proxy-keepalive, proxy-reuse (nginx),\n"
    "                          two-targets, two-targets-bind, h2 (HTTP/2 h2c, 10\n"
    "                          streams per connection), or all\n"
    "      --reuse-delay MS    tcp_tw_reuse_delay for the reuse modes (6.14+)\n"
    "      --json FILE         JSON ('-' for stdout)\n"
    "      --svg FILE          chart, one panel per mode\n"
    "      --csv FILE          every mode's series as CSV\n"
    "  -q, --quiet             no progress on stderr\n" PX_METRICS_USAGE
    "  -h, --help              this text\n";

static const struct px_cli_spec lab_spec = {
    .name = "lab", .usage = lab_usage, .groups = lab_groups, .ngroups = PX_NELEMS(lab_groups)};

int px_lab_parse(int argc, char **argv, struct px_lab_config *cfg, char *err, size_t errlen)
{
    struct px_cli_args args;
    px_lab_config_defaults(cfg);
    cfg->ports = 0; /* given or not: the proxy modes' default differs */
    int rc = px_cli_parse(&lab_spec, argc, argv, cfg, &args, err, errlen);
    /* A proxy's every upstream connection costs a connect through it: 100 ports show
     * its waves at the lab's rates, where 1000 would need more than a small machine. */
    cfg->proxy_ports = cfg->ports ? cfg->ports : 100;
    if (cfg->ports == 0)
        cfg->ports = 1000;
    if (rc == PX_CLI_OK)
        rc = px_cli_one_stdout(&cfg->out, err, errlen);
    if (rc == PX_CLI_OK && cfg->nmodes == 0)
        cfg->nmodes = px_mode_defaults(px_lab_modes, px_lab_nmodes, 0, cfg->modes);
    return rc != PX_CLI_OK ? rc : px_cli_no_operands(&args, argc, argv, err, errlen);
}

/* ---- the command -------------------------------------------------------- */

/* The command's state: the config and one result per mode. */
struct lab_state {
    struct px_lab_config cfg;
    struct px_metrics *metrics; /* --metrics (served by a process of its own); NULL without */
    struct px_mode_result res[PX_MAX_MODES];
    enum px_exit status; /* of the run: PX_EXIT_INTERRUPTED adds a line to the text */
};

static int cmd_parse(void *state, int argc, char **argv, char *err, size_t errlen)
{
    return px_lab_parse(argc, argv, &((struct lab_state *)state)->cfg, err, errlen);
}

static const struct px_outputs *cmd_outputs(const void *state)
{
    return &((const struct lab_state *)state)->cfg.out;
}

/* Detached: the lab forks its namespaces' processes and must hold no thread then. */
static enum px_exit cmd_prepare(void *state)
{
    struct lab_state *s = state;
    return px_metrics_open(&s->metrics, "lab", &s->cfg.metrics, 1);
}

static int cmd_run(void *state, struct px_hlog *hlog, enum px_exit *status, char *err,
                   size_t errlen)
{
    (void)hlog;
    struct lab_state *s = state;
    s->status = px_lab_run(&s->cfg, s->metrics, s->res, err, errlen);
    *status = s->status;
    return s->status == PX_EXIT_OK || s->status == PX_EXIT_INTERRUPTED ? 0 : -1;
}

/* The text report (report/lab_report.h) with this lab's settings and addresses. */
static void text_cb(FILE *f, const void *state)
{
    const struct lab_state *s = state;
    struct px_lab_topo pair;
    px_lab_topo(&px_lab_modes[0], &pair);
    struct px_lab_report lab = {.ports = s->cfg.ports,
                                .rate_per_s = s->cfg.rate_per_s,
                                .duration_s = (double)s->cfg.duration_ms / 1000.0,
                                .client_ip = pair.client_ip,
                                .server_ip = pair.server_ip};
    px_lab_report_text(f, &lab, s->res, s->cfg.nmodes);
    if (s->status == PX_EXIT_INTERRUPTED)
        px_mode_note_interrupted(f);
}

static void json_cb(FILE *f, const void *state)
{
    const struct lab_state *s = state;
    px_mode_report_json(f, "lab", s->res, s->cfg.nmodes);
}

static void svg_cb(FILE *f, const void *state)
{
    const struct lab_state *s = state;
    px_mode_report_svg(f, "lab", s->res, s->cfg.nmodes);
}

static void csv_cb(FILE *f, const void *state)
{
    const struct lab_state *s = state;
    px_mode_report_csv(f, s->res, s->cfg.nmodes);
}

static void after_reports(void *state)
{
    px_metrics_finish(((struct lab_state *)state)->metrics);
}

static void cmd_free(void *state)
{
    struct lab_state *s = state;
    px_metrics_free(s->metrics);
    px_mode_results_free(s->res, s->cfg.nmodes);
}

static const struct px_report lab_reports[] = {
    {.output = PX_OUTPUT_TEXT, .write = text_cb},
    {.output = PX_OUTPUT_JSON, .write = json_cb},
    {.output = PX_OUTPUT_SVG, .write = svg_cb},
    {.output = PX_OUTPUT_CSV, .write = csv_cb},
};

const struct px_command px_lab_command = {
    .name = "lab",
    .operands = "",
    .summary = "reproduce port exhaustion in fresh network namespaces",
    .waits_for_stop = 1,
    .state_size = sizeof(struct lab_state),
    .parse = cmd_parse,
    .outputs = cmd_outputs,
    .prepare = cmd_prepare,
    .run = cmd_run,
    .reports = lab_reports,
    .nreports = PX_NELEMS(lab_reports),
    .after_reports = after_reports,
    .free = cmd_free,
};
