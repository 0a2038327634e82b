/* SPDX-License-Identifier: MIT */
/* portex compare's text: the modes' table, how each mode's ports were isolated, and why. */
#include "portex/report/compare_report.h"

#include <string.h>
#include <sys/socket.h>

#include "portex/base/url.h"
#include "portex/load/result.h"
#include "portex/report/mode_report.h"
#include "portex/report/run_report.h"

/* One line per mode on how its ports were kept clear of TIME_WAIT left by earlier modes or
 * runs, and what was found there. */
void px_compare_report_isolation(FILE *f, const struct px_mode_result *res, const struct px_load *c)
{
    char a[64];
    if (res->isolation == NULL)
        return;
    fprintf(f, "%s: ", res->name);
    if (c->target.ss_family == AF_UNIX) {
        fprintf(f, "no ports (a Unix socket), nothing to keep clear");
    } else if (strcmp(res->isolation, "port-window") == 0) {
        fprintf(f, "ports %u-%u, a window of its own (no wait)", c->port_lo, c->port_hi);
    } else if (strcmp(res->isolation, "source") == 0) {
        px_sockaddr_ip((const struct sockaddr *)&c->sources[0], a, sizeof(a));
        fprintf(f, "source %s%s, %zu address%s of its own (no wait)", a,
                c->nsources > 1 ? " and on" : "", c->nsources, c->nsources > 1 ? "es" : "");
    } else if (strcmp(res->isolation, "as-given") == 0) {
        fprintf(f, "the ports as configured (first mode)");
    } else if (strcmp(res->isolation, "drain") == 0) {
        if (c->port_lo)
            fprintf(f, "ports %u-%u: ", c->port_lo, c->port_hi);
        fprintf(f, "waited %.1f s for TIME_WAIT toward the target to expire", res->waited_s);
    } else {
        fprintf(f, "same ports as the mode before, no wait%s",
                res->isolation_note[0] ? "" : " (little or no TIME_WAIT left)");
    }
    if (res->isolation_note[0])
        fprintf(f, "; %s", res->isolation_note);
    fputc('\n', f);
}

void px_compare_report_text(FILE *f, const struct px_load *b, const struct px_mode_result *results,
                            size_t n)
{
    fprintf(f, "portex compare %s: ", b->url_text);
    if (b->rate_per_s > 0)
        fprintf(f, "%.10g new requests/s (at most %u in flight)", b->rate_per_s, b->connections);
    else
        fprintf(f, "%u connections, closed model", b->connections);
    if (b->duration_ms)
        fprintf(f, ", %.1f s per mode\n\n", (double)b->duration_ms / 1000.0);
    else
        fprintf(f, ", %llu requests per mode\n\n", (unsigned long long)b->requests);
    px_mode_report_table(f, results, n);
    fprintf(f, "\nports of each mode\n");
    for (size_t i = 0; i < n; i++)
        if (results[i].ran) {
            fputs("  ", f);
            px_compare_report_isolation(f, &results[i], results[i].run->load);
        }
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        if (!results[i].ran)
            continue;
        char diag[1024];
        px_diagnose(results[i].run, diag, sizeof(diag));
        fprintf(f, "%s: %s\n", results[i].name, diag);
    }
}
