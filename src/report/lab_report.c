/* SPDX-License-Identifier: MIT */
/* portex lab's text: the modes' table and one plain sentence per mode that tells its story. */
#include "portex/report/lab_report.h"

#include <errno.h>
#include <string.h>

#include "portex/load/result.h"
#include "portex/report/mode_report.h"
#include "portex/report/topo_report.h"

void px_lab_report_text(FILE *f, const struct px_lab_report *lab,
                        const struct px_mode_result *results, size_t n)
{
    fprintf(f,
            "portex lab: %u client ports, %.10g new requests/s for %.1f s per mode, "
            "client %s -> server %s over veth\n\n",
            lab->ports, lab->rate_per_s, lab->duration_s, lab->client_ip, lab->server_ip);
    px_mode_report_table(f, results, n);
    px_topo_report_table(f, results, n);
    fprintf(f, "\n");
    const struct px_mode_result *no = NULL, *reuse = NULL, *nots = NULL, *ka = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct px_mode_result *r = &results[i];
        if (!r->ran)
            continue;
        if (strcmp(r->name, "noreuse") == 0)
            no = r;
        else if (strcmp(r->name, "reuse") == 0)
            reuse = r;
        else if (strcmp(r->name, "reuse-server-nots") == 0)
            nots = r;
        else if (strcmp(r->name, "keepalive") == 0)
            ka = r;
    }
    /* A low -r or short -d never fills the ports: say so, not that they ran out. */
    if (no && !no->run->ex.seen)
        fprintf(f,
                "Without reuse the client's %u ports never ran out: %llu requests fit in them "
                "(exhaustion needs over %u new connections within 60 s: raise -r or -d).\n",
                lab->ports, (unsigned long long)no->run->totals.ok, lab->ports);
    else if (no)
        fprintf(f,
                "Without reuse the client's %u ports ran out after %llu requests and stayed "
                "out: each sits in TIME_WAIT for 60 s (fixed in the kernel; tcp_fin_timeout "
                "does not change it).\n",
                lab->ports, (unsigned long long)no->run->totals.ok);
    if (reuse)
        fprintf(f,
                "tcp_tw_reuse=1 let connect() take a TIME_WAIT port again after %.0f ms, "
                "so the ceiling rose to about %.0f/s (measured %.1f ok/s).\n",
                reuse->run->ex.ceiling.hold_s * 1e3, reuse->run->ex.ceiling.per_s,
                reuse->run->duration_s > 0 ? (double)reuse->run->totals.ok / reuse->run->duration_s
                                           : 0.0);
    if (nots)
        fprintf(f,
                "With the server's tcp_timestamps off, the same tcp_tw_reuse=1 did nothing "
                "(%llu ok): reuse needs timestamps negotiated by both ends. This is the "
                "original incident.\n",
                (unsigned long long)nots->run->totals.ok);
    if (ka)
        fprintf(f,
                "Keep-alive never needed a new port: %llu requests over %llu connections, "
                "%llu EADDRNOTAVAIL.\n",
                (unsigned long long)ka->run->totals.ok,
                (unsigned long long)ka->run->totals.connections_opened,
                (unsigned long long)px_totals_errno(&ka->run->totals, EADDRNOTAVAIL));
    for (size_t i = 0; i < n; i++) /* the topology modes: one sentence each, by name */
        px_topo_report_sentence(f, &results[i]);
}
