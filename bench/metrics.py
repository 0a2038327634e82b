# SPDX-License-Identifier: MIT
"""portex run with and without --metrics, alternating, each with the same load against
portex serve on loopback; with it, a scraper takes /metrics every second (as Prometheus does,
asking for OpenMetrics on one kept-alive connection). Throughput is the run's own requests/s
(its JSON); the ratio is the median with over the median without.

    python3 bench/metrics.py PORTEX [--pairs N] [--seconds S]
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import threading
import time

from benchlib import start_portex_serve, write_section

ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
          "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
SCENARIOS = [("keep-alive", ["-k"]), ("short, server closes", ["--close", "server"])]


class Scraper:
    """GET /metrics once a second on one connection, until stopped; counts good scrapes."""

    def __init__(self, port):
        self.port, self.done, self.ok = port, threading.Event(), 0
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        while not self.done.wait(1.0):
            try:
                conn.request("GET", "/metrics", headers={"Accept": ACCEPT})
                r = conn.getresponse()
                body = r.read()
                self.ok += r.status == 200 and body.endswith(b"# EOF\n")
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)

    def stop(self):
        self.done.set()
        self.thread.join()
        return self.ok


def thread_cpu_s(pid, name):
    """CPU time of the process's thread called name (schedstat: ns on a CPU), 0 if none."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() != name:
                    continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def one_run(portex, url, extra, seconds, metrics):
    """(requests/s, client CPU s per 1000 requests, scrapes served or None, CPU s of the
    metrics thread or None, ticks) of one run. With --metrics the run lingers until the
    scraper takes its final values: the thread's CPU is read in between."""
    out = tempfile.mktemp(prefix="pxbench", suffix=".json")
    cmd = [portex, "run", "-c", "64", "-t", "1", "-d", f"{seconds}s", "-q", "--json", out,
           *extra]
    if metrics:
        cmd += ["--metrics", "127.0.0.1:0", "--metrics-linger", "30s"]
    p = subprocess.Popen([*cmd, url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    scraper, thread_cpu = None, None
    if metrics:
        port = int(re.search(r"127\.0\.0\.1:(\d+)/metrics", p.stderr.readline()).group(1))
        scraper = Scraper(port)
        for line in p.stderr:
            if "serving the final" in line:
                thread_cpu = thread_cpu_s(p.pid, "px-metrics")
                break
    p.stderr.read()
    _, _, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    scrapes = scraper.stop() if scraper else None
    with open(out) as f:
        doc = json.load(f)
    s = doc["summary"]
    os.unlink(out)
    cpu = ru.ru_utime + ru.ru_stime
    return (s["requests_per_s"], 1000 * cpu / max(1, s["requests"]), scrapes, thread_cpu,
            len(doc["series"]), cpu)


def scenario(portex, url, extra, pairs, seconds):
    """pairs x (without, with), in ABBA order so that a drift of the machine's load cancels;
    each pair's ratio is taken on its own, then the median of those."""
    runs = {False: [], True: []}
    ratios, cpu_ratios, scrapes = [], [], []
    for i in range(pairs):
        order = (False, True) if i % 2 == 0 else (True, False)
        got = {}
        for metrics in order:
            got[metrics] = one_run(portex, url, extra, seconds, metrics)
            runs[metrics].append(got[metrics])
        ratios.append(got[True][0] / got[False][0])
        cpu_ratios.append(got[True][1] / got[False][1])
        scrapes.append(got[True][2])
    return runs, ratios, cpu_ratios, scrapes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portex")
    ap.add_argument("--pairs", type=int, default=15)
    ap.add_argument("--seconds", type=int, default=3)
    a = ap.parse_args()
    portex = os.path.abspath(a.portex)
    # The stats thread's work per tick for --metrics, measured apart (bench_expo.c).
    expo = json.loads(subprocess.run([os.path.join(os.path.dirname(portex), "bench",
                                                   "bench_expo")], capture_output=True,
                                     text=True, check=True).stdout)
    a.tick_us = expo["tick_us"]
    a.expo_bytes = expo["openmetrics_bytes"]
    port, stop = start_portex_serve(portex, 1)
    rows = []
    try:
        for name, extra in SCENARIOS:
            res = scenario(portex, f"http://127.0.0.1:{port}/", extra, a.pairs, a.seconds)
            rows.append((name, *res))
            print(name, [round(r, 3) for r in res[1]], flush=True)
    finally:
        stop()
    report(rows, a)


def quartiles(xs):
    q = statistics.quantiles(xs, n=4)
    return f"{q[0]:.3f}-{q[2]:.3f}"


def metrics_share(run, tick_us):
    """The share of the client's CPU that --metrics took in a run with it: the metrics
    thread's time, and each tick's rendering on the stats thread."""
    return (run[3] + run[4] * tick_us / 1e6) / run[5]


def report(rows, a):
    host = f"{platform.node()}, {os.cpu_count()} CPUs, Linux {platform.release()}"
    load = os.getloadavg()[0]
    lines = [
        "# The cost of --metrics",
        "",
        f"Measured by `bench/metrics.sh` on {datetime.date.today()}: {host}, load average "
        f"{load:.1f} at the end. Loopback, `portex run -c 64 -t 1 -d {a.seconds}s` against "
        f"`portex serve -t 1`, {a.pairs} pairs of runs per scenario, one without and one with "
        "`--metrics` (then a scraper takes /metrics every second as Prometheus does), in "
        "ABBA order; each pair's ratio on its own, then their median and quartiles. The "
        "client's CPU per request (user + sys of the portex process, rusage) is the steadier "
        "figure: throughput moves with whatever else the shared 2 cores run.",
        "",
        "",
        "Where other sessions load the machine the throughput ratio wanders by more than the "
        "2% it is meant to show; what --metrics itself costs is then read from its own CPU "
        "time, which contention does not change: the metrics thread's (schedstat of the "
        "thread `px-metrics`, read while the run lingers for its last scrape) and the "
        f"stats thread's rendering at each tick, {a.tick_us:.0f} us for one load in both "
        f"formats ({a.expo_bytes:,} bytes of OpenMetrics; `bench_expo`), as a share of the "
        "client's whole CPU time in that run.",
        "",
        "| scenario | req/s without (median) | req/s with (median) | throughput ratio, "
        "median of pairs (quartiles) | client CPU ms / 1k req without | with | CPU ratio, "
        "median of pairs (quartiles) | scrapes per run | --metrics share of the client's "
        "CPU, median (max) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs, ratios, cpu_ratios, scrapes in rows:
        w, m = runs[False], runs[True]
        lines.append(
            f"| {name} | {statistics.median(r[0] for r in w):,.0f} | "
            f"{statistics.median(r[0] for r in m):,.0f} | {statistics.median(ratios):.3f} "
            f"({quartiles(ratios)}) | {statistics.median(r[1] for r in w) * 1000:.2f} | "
            f"{statistics.median(r[1] for r in m) * 1000:.2f} | "
            f"{statistics.median(cpu_ratios):.3f} ({quartiles(cpu_ratios)}) | "
            f"{min(scrapes)}-{max(scrapes)} | "
            f"{100 * statistics.median(metrics_share(r, a.tick_us) for r in m):.3f}% "
            f"({100 * max(metrics_share(r, a.tick_us) for r in m):.3f}%) |")
    lines.append("")
    for name, runs, ratios, _, _ in rows:
        lines.append(f"- {name}, req/s of each pair (without / with): " + ", ".join(
            f"{a_[0]:,.0f}/{b[0]:,.0f}" for a_, b in zip(runs[False], runs[True])))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
    write_section(path, "metrics.py", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
