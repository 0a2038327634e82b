# SPDX-License-Identifier: MIT
"""portex over TLS against wrk and h2load, nginx with TLS on loopback.

nginx: self-signed ECDSA P-256 certificate, TLS 1.3 only, session tickets on
(its default; off in the full-handshake scenario, as wrk and h2load resume
whenever the server lets them). Scenarios: short connections with full handshakes (the server
closes: Connection: close), short with resumption (portex --tls-resume ticket;
the peers as they are, their resumed share read from nginx's
$ssl_session_reused), keep-alive over TLS. Tools alternate, medians of N runs.
Client CPU is user+sys of the client process (wait4), per handshake and per
1000 requests. Writes the "TLS" section of bench/RESULTS.md.
Usage: tls.py PORTEX [--seconds S] [--reps N]
"""
import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import time

from benchlib import remove, run_timed, start_nginx, write_section

ap = argparse.ArgumentParser()
ap.add_argument("portex")
ap.add_argument("--seconds", type=int, default=5)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--out", default="bench/RESULTS.md")
args = ap.parse_args()
PORTEX = os.path.abspath(args.portex)
D = args.seconds
C = 64


def make_cert(d):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{d}/key.pem", "-out",
                    f"{d}/cert.pem", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2"],
                   check=True, capture_output=True)


def tls_nginx(log, tickets):
    """nginx with TLS; returns (port, stop) where stop() gives (reused, total) handshakes."""
    # One log line per request: "r" when the connection's session was resumed.
    # Buffered: a write per 256 KiB, the same cost for every tool.
    logline = ("log_format tls '$connection $connection_requests $ssl_session_reused';\n"
               "  access_log {dir}/access.log tls buffer=256k;" if log else "access_log off;")
    tls = (f"ssl_protocols TLSv1.3;\n  ssl_session_tickets {'on' if tickets else 'off'};\n"
           "  ssl_certificate {dir}/cert.pem;\n  ssl_certificate_key {dir}/key.pem;")
    port, d, stop_nginx = start_nginx(workers=2, listen_opts="ssl", prepare=make_cert,
                                      http_lines=logline + "\n  " + tls)

    def stop():
        stop_nginx()
        reused = total = 0
        if log and os.path.exists(f"{d}/access.log"):
            for line in open(f"{d}/access.log"):
                f = line.split()
                if len(f) == 3 and f[1] == "1":  # the connection's first request
                    total += 1
                    reused += f[2] == "r"
        remove(d)
        return reused, total
    return port, stop


def timed(cmd):
    return run_timed(cmd, D + 30)


def portex_run(url, *extra):
    out, cpu = timed([PORTEX, "run", "-c", str(C), "-t", "2", "-d", f"{D}s", "-q", "--insecure",
                      *extra, "--json", "-", url])
    s = json.loads(out[out.index("{"):out.rindex("}") + 1])["summary"]
    return s["ok"] / s["duration_s"], s["ok"], cpu


def wrk(url, *extra):
    out, cpu = timed(["wrk", "-c", str(C), "-t", "2", "-d", f"{D}s", *extra, url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, n, cpu


RATE_HINT = {}


def h2load(url, scen, *extra, count=False):
    # With Connection: close, -D never ends (peers.py): a count sized to about
    # D seconds at the rate portex reached in the same scenario.
    span = ["-n", str(max(1000, int(RATE_HINT.get(scen, 2000) * D)))] if count else ["-D", str(D)]
    out, cpu = timed(["h2load", "--h1", "-c", str(C), "-t", "2", *span, *extra, url])
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    n = int(re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", out).group(1))
    return float(m.group(1)), n, cpu


CLOSE = ("-H", "Connection: close")
SHORT_FULL = "short, full handshakes"
SCENARIOS = {
    "short, full handshakes": [
        ("portex --close server", lambda u: portex_run(u, "--close", "server")),
        ("wrk (Connection: close)", lambda u: wrk(u, *CLOSE)),
        ("h2load (Connection: close)",
         lambda u: h2load(u, "short, full handshakes", *CLOSE, count=True)),
    ],
    "short, resumption": [
        ("portex --close server --tls-resume ticket",
         lambda u: portex_run(u, "--close", "server", "--tls-resume", "ticket")),
        ("wrk (Connection: close)", lambda u: wrk(u, *CLOSE)),
        ("h2load (Connection: close)",
         lambda u: h2load(u, "short, resumption", *CLOSE, count=True)),
    ],
    "keep-alive": [
        ("portex -k", lambda u: portex_run(u, "-k")),
        ("wrk", lambda u: wrk(u)),
        ("h2load", lambda u: h2load(u, "keep-alive")),
    ],
}

# SIGTERM ends the run through the finally below, so that no nginx is left.
signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(143)))
results = {}
for rep in range(args.reps):
    for scen, tools in SCENARIOS.items():
        for tool, fn in tools:
            # Full handshakes: tickets off at the server (wrk and h2load resume
            # whenever the server lets them, and nginx keeps no session cache).
            port, stop = tls_nginx(log=scen != "keep-alive", tickets=scen != SHORT_FULL)
            url = f"https://127.0.0.1:{port}/"
            try:
                rps, n, cpu = fn(url)
            except Exception as e:  # a peer that fails is reported, not hidden
                print(f"{scen} / {tool}: failed: {e}")
                rps, n, cpu = 0.0, 0, 0.0
            finally:
                reused, hs = stop()
            if tool.startswith("portex") and rps > 0:
                RATE_HINT[scen] = rps
            # Handshakes: one per request in the short scenarios, C for keep-alive.
            handshakes = n if scen != "keep-alive" else C
            cpu_hs = cpu / handshakes * 1000 if handshakes and n else float("nan")
            cpu_k = cpu / n * 1000 if n else float("nan")
            share = reused / hs if hs else float("nan")
            results.setdefault((scen, tool), []).append((rps, cpu_hs, cpu_k, share))
            print(f"{scen:24} {tool:42} {rps:9.0f} req/s  {cpu_hs:.3f} cpu-ms/handshake  "
                  f"{cpu_k:.4f} cpu-s/1k  resumed {share:.0%}", flush=True)
            time.sleep(2)


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


lines = ["# TLS", "",
         f"Measured by `bench/tls.sh` on {time.strftime('%Y-%m-%d')}: {platform.node()}, "
         f"{os.cpu_count()} CPUs, Linux {platform.release()}, "
         f"{subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.strip()}. "
         f"nginx with TLS 1.3, a self-signed ECDSA P-256 certificate, session tickets on "
         f"(off for full handshakes: wrk and h2load resume whenever allowed), "
         f"2 workers; loopback, {C} connections, 2 client threads, {D} s per run, tools "
         f"alternating, median of {args.reps} runs. Client and server share the same 2 cores. "
         "Client CPU is user+sys of the client process; 'resumed' is nginx's "
         "$ssl_session_reused over the connections it served.", "",
         "| scenario | tool | req/s (median) | ratio to best peer | client CPU ms / handshake "
         "| client CPU s / 1k req | CPU ratio to wrk | resumed |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
for scen, tools in SCENARIOS.items():
    m = {t: tuple(med(v[i] for v in results[(scen, t)]) for i in range(4)) for t, _ in tools}
    best = max((v[0] for t, v in m.items() if not t.startswith("portex")), default=0)
    wrk_cpu = next((v[2] for t, v in m.items() if t.startswith("wrk")), None)
    for t, (rps, cpu_hs, cpu_k, share) in m.items():
        ratio = f"{rps / best:.2f}x" if best else "-"
        cr = f"{cpu_k / wrk_cpu:.2f}x" if wrk_cpu else "-"
        sh = f"{share:.0%}" if share == share else "-"
        hs = f"{cpu_hs:.3f}" if scen != "keep-alive" else "-"  # C handshakes in all
        lines.append(f"| {scen} | {t} | {rps:,.0f} | {ratio} | {hs} | {cpu_k:.4f} | {cr} | {sh} |")
write_section(args.out, "tls.py", "\n".join(lines))
print(f"wrote the TLS section of {args.out}")
