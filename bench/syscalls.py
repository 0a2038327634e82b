# SPDX-License-Identifier: MIT
"""System calls and client CPU per short request (server closes first).

Client side only, against one nginx on loopback: portex run --close server,
wrk and h2load with 'Connection: close'. Part 1 counts system calls with
strace -f -c and divides by the requests done (epoll_wait shown, left out of
the total: how often a loop sleeps depends on timing, not on the protocol).
Part 2 measures client CPU (user+sys from wait4) per request without strace,
tools alternating, medians. Usage: syscalls.py PORTEX [--requests N] ...
"""
import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import tempfile
import time

from benchlib import remove, start_nginx, start_portex_serve

ap = argparse.ArgumentParser()
ap.add_argument("portex")
ap.add_argument("--requests", type=int, default=20000, help="requests per strace run")
ap.add_argument("--cpu-requests", type=int, default=100000, help="requests per CPU run")
ap.add_argument("--conns", default="1,8", help="connection counts for the strace runs")
ap.add_argument("--cpu-conns", type=int, default=8)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--server", choices=("nginx", "portex"), default="nginx")
ap.add_argument("--label", default="", help="name of this build in the output")
ap.add_argument("--also-portex", default="",
                help="extra portex run options for one more CPU row, e.g. '--interval 10s'")
ap.add_argument("--out", default="", help="append a markdown section to this file")
args = ap.parse_args()
PORTEX = os.path.abspath(args.portex)
N = args.requests
IGNORED = ("epoll_wait", "epoll_pwait", "epoll_pwait2")


def nginx():
    """nginx with one worker: the bench measures the client's calls per request."""
    port, d, stop = start_nginx(workers=1)
    return port, lambda: (stop(), remove(d))


def start_portex():
    return start_portex_serve(PORTEX, 1)


# Each tool: (name, argv builder (url, conns, n, seconds), request counter).
def portex_cmd(url, c, n, _s):
    return [PORTEX, "run", "-q", "-t", "1", "-c", str(c), "-n", str(n), "--close", "server",
            "--json", "-", url]


def portex_count(out):
    doc = json.loads(out[out.index("{"):out.rindex("}") + 1])
    s = doc["summary"]
    if s["failed"]:
        raise RuntimeError(f"portex: {s['failed']} failed: {s['errors']}")
    return s["ok"]


def wrk_cmd(url, c, _n, secs):
    # wrk has no request count: it runs for the time portex needed for n.
    return ["wrk", "-t", "1", "-c", str(c), "-d", f"{secs}s", "-H", "Connection: close", url]


def wrk_count(out):
    return int(re.search(r"(\d+) requests in", out).group(1))


def h2load_cmd(url, c, n, _s):
    return ["h2load", "--h1", "-t", "1", "-c", str(c), "-n", str(n), "-H", "Connection: close",
            url]


def h2load_count(out):
    return int(re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded",
                         out).group(1))


TOOLS = [("portex", portex_cmd, portex_count), ("wrk", wrk_cmd, wrk_count),
         ("h2load", h2load_cmd, h2load_count)]


def strace_counts(path):
    """name -> calls from a `strace -c -U name,calls` summary."""
    counts = {}
    for line in open(path):
        f = line.split()
        if len(f) == 2 and f[1].isdigit() and f[0] != "total":
            counts[f[0]] = int(f[1])
    return counts


def run_tool(fn, count, url, c, n, secs, wrap=()):
    cmd = list(wrap) + fn(url, c, n, secs)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise RuntimeError(f"{cmd[0]} exited {status}: {out[-500:]}")
    return count(out), wall, (ru.ru_utime, ru.ru_stime)


start = nginx if args.server == "nginx" else start_portex
port, stop = start()
url = f"http://127.0.0.1:{port}/"
per_req = {}   # (tool, c) -> {syscall: calls per request}
done = {}      # (tool, c) -> requests
try:
    for c in [int(x) for x in args.conns.split(",")]:
        secs = 1
        for tool, fn, count in TOOLS:
            with tempfile.NamedTemporaryFile(prefix="portex-strace-", delete=False) as tf:
                trace = tf.name
            wrap = ["strace", "-f", "-c", "-U", "name,calls", "-o", trace]
            n, wall, _ = run_tool(fn, count, url, c, N, secs, wrap)
            if tool == "portex":
                secs = max(1, math.ceil(wall))
            calls = strace_counts(trace)
            os.unlink(trace)
            per_req[(tool, c)] = {k: v / n for k, v in calls.items()}
            done[(tool, c)] = n
            tot = sum(v for k, v in calls.items() if k not in IGNORED) / n
            print(f"strace {tool:7} -c {c}: {n:7,} requests, {tot:6.2f} syscalls/request "
                  f"(epoll_wait apart)", flush=True)
            time.sleep(1)

    cpu_tools = list(TOOLS)
    if args.also_portex:
        extra = args.also_portex.split()
        cpu_tools.append((f"portex {args.also_portex}",
                          lambda u, c, n, s: portex_cmd(u, c, n, s)[:-1] + extra + [u],
                          portex_count))
    cpu = {}  # tool -> [(user, sys) us per request]
    for rep in range(args.reps):
        secs = 1
        for tool, fn, count in cpu_tools:
            n, wall, (us, sy) = run_tool(fn, count, url, args.cpu_conns, args.cpu_requests, secs)
            if tool == "portex":
                secs = max(1, round(wall))
            cpu.setdefault(tool, []).append((us / n * 1e6, sy / n * 1e6))
            print(f"cpu {tool:7} rep {rep + 1}: {n:7,} requests in {wall:5.2f} s, "
                  f"{(us + sy) / n * 1e6:6.2f} us CPU/request (user {us / n * 1e6:.2f})",
                  flush=True)
            time.sleep(1)
finally:
    stop()

keys = list(per_req)
names = sorted({k for v in per_req.values() for k in v},
               key=lambda k: -max(per_req[t].get(k, 0) for t in keys))
shown = [k for k in names if k not in IGNORED and max(per_req[t].get(k, 0) for t in keys) >= 0.01]
label = f" ({args.label})" if args.label else ""
lines = [f"### System calls per request{label}", "",
         f"`bench/syscalls.sh` on {time.strftime('%Y-%m-%d %H:%M')} UTC, {platform.node()}, "
         f"{os.cpu_count()} CPUs, Linux {platform.release()}; against {args.server} on loopback, "
         f"server closes first, 1 client thread, strace -f -c on the client, "
         f"{N:,} requests (wrk: run for the time portex took, divided by its own count). "
         "Syscalls under 0.01 per request are summed in 'other'; epoll_wait is shown but not "
         "in the total.", "",
         "| syscall | " + " | ".join(f"{t} -c {c}" for t, c in keys) + " |",
         "|---|" + "---:|" * len(keys)]
for k in shown:
    lines.append(f"| {k} | " + " | ".join(f"{per_req[t].get(k, 0):.2f}" for t in keys) + " |")
other = {t: sum(v for k, v in per_req[t].items() if k not in shown and k not in IGNORED)
         for t in keys}
lines.append("| other | " + " | ".join(f"{other[t]:.2f}" for t in keys) + " |")
lines.append("| **total** | " + " | ".join(
    f"**{sum(v for k, v in per_req[t].items() if k not in IGNORED):.2f}**" for t in keys) + " |")
lines.append("| epoll_wait (apart) | " + " | ".join(
    f"{sum(per_req[t].get(k, 0) for k in IGNORED):.2f}" for t in keys) + " |")
lines.append("| requests | " + " | ".join(f"{done[t]:,}" for t in keys) + " |")
med = {t: statistics.median(u + s for u, s in v) for t, v in cpu.items()}
lines += ["", f"Client CPU per request{label}, no strace: -c {args.cpu_conns}, "
          f"{args.cpu_requests:,} requests (wrk: the time portex took), tools alternating, "
          f"median of {args.reps}.", "",
          "| tool | CPU us / request (median) | user | sys | runs (user+sys) | ratio to wrk |",
          "|---|---:|---:|---:|---|---:|"]
for t, v in med.items():
    runs = ", ".join(f"{u + s:.2f}" for u, s in cpu[t])
    us = statistics.median(u for u, _ in cpu[t])
    sy = statistics.median(s for _, s in cpu[t])
    lines.append(f"| {t} | {v:.2f} | {us:.2f} | {sy:.2f} | {runs} | {v / med['wrk']:.2f}x |")
text = "\n".join(lines) + "\n"
print()
print(text)
if args.out:
    with open(args.out, "a") as f:
        f.write("\n" + text)
    print(f"appended to {args.out}")
