# SPDX-License-Identifier: MIT
"""portex against its peers on loopback, alternating tools, medians of 3 runs.

Reports requests/s and client CPU seconds per 1000 requests (user+sys of the
client process, from wait4). Usage: peers.py PORTEX [--seconds S] [--reps N]
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import time

from benchlib import remove, run_timed, start_nginx, start_portex_serve, write_section

ap = argparse.ArgumentParser()
ap.add_argument("portex")
ap.add_argument("--seconds", type=int, default=5)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--out", default="bench/RESULTS.md")
args = ap.parse_args()
PORTEX = os.path.abspath(args.portex)
D = args.seconds
C = 64


def nginx():
    port, d, stop = start_nginx(workers=2)
    return port, lambda: (stop(), remove(d))


def start_portex():
    return start_portex_serve(PORTEX, 2)


def timed(cmd):
    return run_timed(cmd, D + 20)


def portex_run(url, *extra):
    out, cpu = timed([PORTEX, "run", "-c", str(C), "-t", "2", "-d", f"{D}s", "-q", *extra,
                      "--json", "-", url])
    doc = json.loads(out[out.index("{"):out.rindex("}") + 1])
    return doc["summary"]["ok"] / doc["summary"]["duration_s"], doc["summary"]["ok"], cpu


def wrk(url, *extra):
    out, cpu = timed(["wrk", "-c", str(C), "-t", "2", "-d", f"{D}s", *extra, url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, n, cpu


def h2load(url, *extra, count=None):
    # h2load's -D (duration) never ends when the server closes every connection;
    # a request count (-n) sized to about D seconds does.
    span = ["-n", str(count)] if count else ["-D", str(D)]
    out, cpu = timed(["h2load", "--h1", "-c", str(C), "-t", "2", *span, *extra, url])
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    n = int(re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", out).group(1))
    return float(m.group(1)), n, cpu


def ab(url, *extra):
    out, cpu = timed(["ab", "-q", "-c", str(C), "-t", str(D), "-n", "10000000", *extra, url])
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    return rps, n, cpu


SCENARIOS = {
    "keep-alive": [
        ("portex -k", lambda u: portex_run(u, "-k")),
        ("wrk", lambda u: wrk(u)),
        ("h2load", lambda u: h2load(u)),
        ("ab -k", lambda u: ab(u, "-k")),
    ],
    "short, server closes": [
        ("portex --close server", lambda u: portex_run(u, "--close", "server")),
        ("wrk (Connection: close)", lambda u: wrk(u, "-H", "Connection: close")),
        ("h2load (Connection: close)",
         lambda u: h2load(u, "-H", "Connection: close", count=25000 * D)),
        ("ab", lambda u: ab(u)),
    ],
    "short, client closes": [
        ("portex --close client", lambda u: portex_run(u)),
    ],
}

results = {}
for server_name, start in (("nginx", nginx), ("portex serve", start_portex)):
    for scen, tools in SCENARIOS.items():
        for rep in range(args.reps):
            for tool, fn in tools:
                port, stop = start()
                url = f"http://127.0.0.1:{port}/"
                try:
                    rps, n, cpu = fn(url)
                except Exception as e:  # a peer that fails is reported, not hidden
                    print(f"{server_name} / {scen} / {tool}: failed: {e}")
                    rps, n, cpu = 0.0, 0, 0.0
                finally:
                    stop()
                cpu_k = cpu / n * 1000 if n else float("nan")
                results.setdefault((server_name, scen, tool), []).append((rps, cpu_k))
                print(f"{server_name:12} {scen:22} {tool:28} {rps:10.0f} req/s  "
                      f"{cpu_k:.4f} cpu-s/1k", flush=True)
                # Client-closes runs leave TIME_WAIT on loopback: let it not
                # spill into the next tool's run on the same port range.
                time.sleep(1 if "client" not in scen else 2)

lines = ["# portex against its peers", "",
         f"Measured by `bench/peers.sh` on {time.strftime('%Y-%m-%d')}: {platform.node()}, "
         f"{os.cpu_count()} CPUs, Linux {platform.release()}. Loopback, {C} connections, "
         f"{D} s per run, tools alternating, median of {args.reps} runs. Client and server "
         "share the same cores, so every figure includes the server's CPU contention. "
         "CPU is user+sys seconds of the client process per 1000 requests.", ""]
for server_name in ("nginx", "portex serve"):
    lines += [f"## Against {server_name}", "",
              "| scenario | tool | req/s (median) | ratio to best peer | client CPU s / 1k req | CPU ratio to wrk |",
              "|---|---|---:|---:|---:|---:|"]
    for scen, tools in SCENARIOS.items():
        med = {t: (statistics.median(r for r, _ in results[(server_name, scen, t)]),
                   statistics.median(c for _, c in results[(server_name, scen, t)]))
               for t, _ in tools}
        peers = [v[0] for t, v in med.items() if not t.startswith("portex")]
        best = max(peers) if peers else None
        wrk_cpu = next((v[1] for t, v in med.items() if t.startswith("wrk")), None)
        for t, (rps, cpu) in med.items():
            ratio = f"{rps / best:.2f}x" if best else "-"
            cr = f"{cpu / wrk_cpu:.2f}x" if wrk_cpu else "-"
            lines.append(f"| {scen} | {t} | {rps:,.0f} | {ratio} | {cpu:.4f} | {cr} |")
    lines.append("")
# Server comparison: the same client against both servers.
lines += ["## portex serve against nginx (same client, same run)", "",
          "| scenario | client | nginx req/s | portex serve req/s | ratio |", "|---|---|---:|---:|---:|"]
for scen, tools in SCENARIOS.items():
    for t, _ in tools:
        a = statistics.median(r for r, _ in results[("nginx", scen, t)])
        b = statistics.median(r for r, _ in results[("portex serve", scen, t)])
        lines.append(f"| {scen} | {t} | {a:,.0f} | {b:,.0f} | {b / a:.2f}x |" if a else
                     f"| {scen} | {t} | - | {b:,.0f} | - |")
lines.append("")
write_section(args.out, "peers.py", "\n".join(lines))
print(f"wrote {args.out}")
