# SPDX-License-Identifier: MIT
"""portex run --http2 against h2load, on loopback: nginx with http2 on TLS, and portex serve
(h2c by prior knowledge). Tools alternate in the same run, medians of N runs.

Scenarios:
- keep-alive: portex --http2 -k -c 64 --streams 10 -d S; h2load -c 64 -m 10 -D S.
  nginx has keepalive_requests 1000000: h2load stops a connection at its first GOAWAY.
- short connections: SHORT requests, one stream per connection. h2load has no closed-loop
  "one request per connection" mode; its nearest is one client per connection,
  -c SHORT -n SHORT -m 1 (every connection opened at once, over its 2 threads). portex runs
  --http2 -c 64 -n SHORT (64 connections at a time). Both: SHORT connections, SHORT requests;
  req/s = requests / the tool's own elapsed time.
- memory per open stream: portex's peak RSS (wait4) with --streams 100 minus --streams 1,
  -c 64 -k against portex serve, over the 64 x 99 extra streams in flight.
Writes the "HTTP/2" section of bench/RESULTS.md.
Usage: h2.py PORTEX [--seconds S] [--reps N] [--short N]
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

from benchlib import remove, run_timed, start_nginx, start_portex_serve, write_section

ap = argparse.ArgumentParser()
ap.add_argument("portex")
ap.add_argument("--seconds", type=int, default=4)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--short", type=int, default=4000)
ap.add_argument("--out", default="bench/RESULTS.md")
args = ap.parse_args()
PORTEX = os.path.abspath(args.portex)
D = args.seconds
C = 64
M = 10


def timed(cmd):
    """(stdout, CPU s user+sys) of cmd; killed after the run's time and a minute."""
    return run_timed(cmd, D + 60)


def make_cert(d):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{d}/key.pem", "-out",
                    f"{d}/cert.pem", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-days", "2"], check=True,
                   capture_output=True)


def nginx_h2():
    tls = ("access_log off;\n  ssl_protocols TLSv1.3;\n  ssl_certificate {dir}/cert.pem;\n"
           "  ssl_certificate_key {dir}/key.pem;")
    port, d, stop = start_nginx(workers=1, listen_opts="ssl http2", prepare=make_cert,
                                http_lines=tls)
    return f"https://127.0.0.1:{port}/", lambda: (stop(), remove(d))


def serve_h2c():
    port, stop = start_portex_serve(PORTEX, 1)
    return f"http://127.0.0.1:{port}/", stop


def portex(url, *extra):
    tls = ["--insecure"] if url.startswith("https:") else []
    out, cpu = timed([PORTEX, "run", "--http2", "-t", "2", "-q", *tls, *extra, "--json", "-",
                         url])
    s = json.loads(out[out.index("{"):out.rindex("}") + 1])["summary"]
    if s["failed"]:
        raise RuntimeError(f"portex: {s['failed']} failed {s['errors']}")
    return s["ok"] / s["duration_s"], s["ok"], cpu


def h2load(url, *extra):
    out, cpu = timed(["h2load", "-t", "2", *extra, url])
    n = int(re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", out).group(1))
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    secs = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
    return n / secs, n, cpu


TARGETS = {"nginx 1.22, TLS, http2": nginx_h2, "portex serve, h2c": serve_h2c}
SCENARIOS = {
    f"keep-alive, -c {C}, {M} streams": [
        (f"portex --http2 -k -c {C} --streams {M}",
         lambda u: portex(u, "-k", "-c", str(C), "--streams", str(M), "-d", f"{D}s")),
        (f"h2load -c {C} -m {M}", lambda u: h2load(u, "-c", str(C), "-m", str(M), "-D", str(D))),
    ],
    f"short connections, {args.short} x 1 stream": [
        (f"portex --http2 -c {C} -n {args.short}",
         lambda u: portex(u, "-c", str(C), "-n", str(args.short))),
        (f"h2load -c {args.short} -n {args.short} -m 1",
         lambda u: h2load(u, "-c", str(args.short), "-n", str(args.short), "-m", "1")),
    ],
}

signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(143)))
results = {}
for rep in range(args.reps):
    for target, start in TARGETS.items():
        for scen, tools in SCENARIOS.items():
            for tool, fn in tools:
                url, stop = start()
                try:
                    rps, n, cpu = fn(url)
                except Exception as e:  # a tool that fails is reported, not hidden
                    print(f"{target} / {scen} / {tool}: failed: {e}")
                    rps, n, cpu = 0.0, 0, float("nan")
                finally:
                    stop()
                cpu_k = cpu / n * 1e6 if n else float("nan")
                results.setdefault((target, scen, tool), []).append((rps, cpu_k))
                print(f"{target:24} {scen:34} {tool:36} {rps:9.0f} req/s  {cpu_k:.1f} us cpu/req",
                      flush=True)
                time.sleep(1)


def peak_rss(streams):
    """Peak RSS in KiB, by GNU time: a child of Python would inherit the forked
    interpreter's high-water mark across exec."""
    url, stop = serve_h2c()
    try:
        out, _ = timed(["/usr/bin/time", "-f", "maxrss %M", PORTEX, "run", "--http2", "-k",
                           "-c", str(C), "--streams", str(streams), "-t", "1", "-d", "2s", "-q",
                           url])
    finally:
        stop()
    return int(re.search(r"maxrss (\d+)", out).group(1))


rss1 = statistics.median(peak_rss(1) for _ in range(3))
rss100 = statistics.median(peak_rss(100) for _ in range(3))
per_stream = (rss100 - rss1) * 1024 / (C * 99)


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


lines = ["# HTTP/2", "",
         f"Measured by `bench/h2.sh` on {time.strftime('%Y-%m-%d')}: {platform.node()}, "
         f"{os.cpu_count()} CPUs, Linux {platform.release()}. Targets on loopback: nginx with "
         "`listen ssl http2`, TLS 1.3, 1 worker, keepalive_requests 1000000; portex serve -t 1 "
         f"(h2c by prior knowledge). Both clients with 2 threads, {D} s per keep-alive run, "
         f"tools alternating, median of {args.reps} runs. Client and server share the same 2 "
         "cores, and the machine is shared with other jobs: single runs vary widely, read the "
         "ratios as the order of things. Client CPU is user+sys of the client process per "
         "request.", "",
         "Short connections: h2load has no closed-loop one-request-per-connection mode. Its "
         f"nearest is `-c {args.short} -n {args.short} -m 1` (a client per connection, all "
         f"opened at once); portex runs `--http2 -c {C} -n {args.short}` ({C} at a time). "
         f"Both make {args.short} connections for {args.short} requests; req/s is requests over "
         "each tool's own elapsed time.", "",
         "| target | scenario | tool | req/s (median) | ratio to h2load | client CPU us / req |",
         "|---|---|---|---:|---:|---:|"]
for target in TARGETS:
    for scen, tools in SCENARIOS.items():
        m = {t: (med(v[0] for v in results[(target, scen, t)]),
                 med(v[1] for v in results[(target, scen, t)])) for t, _ in tools}
        peer = next(v[0] for t, v in m.items() if t.startswith("h2load"))
        for t, (rps, cpu) in m.items():
            ratio = f"{rps / peer:.2f}x" if peer else "-"
            lines.append(f"| {target} | {scen} | {t} | {rps:,.0f} | {ratio} | {cpu:.1f} |")
lines += ["", f"Memory per open stream (portex): peak RSS with `-k -c {C} --streams 100` "
          f"{rss100 / 1024:.1f} MiB, with `--streams 1` {rss1 / 1024:.1f} MiB (medians of 3, "
          f"against portex serve): {per_stream:,.0f} bytes per extra stream in flight "
          "(nghttp2's own share was 224 bytes per open stream in the #22 spike, "
          "26 KB per session)."]
write_section(args.out, "h2.py", "\n".join(lines))
print(f"wrote the HTTP/2 section of {args.out}")
