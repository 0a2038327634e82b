# SPDX-License-Identifier: MIT
"""portex --metrics scraped by a real Prometheus (Debian's package) every second, in a network
namespace of this test's own whose port range is 100 ports, so that EADDRNOTAVAIL happens:
after the run, Prometheus's HTTP API gives portex_requests_total,
portex_failures_total{cause="EADDRNOTAVAIL"} and portex_latency_seconds_count{phase="total"}
equal to the run's JSON; its quantiles land in the le interval of portex's own percentiles;
every query of the Grafana dashboard answers. promtool checks deploy's config and a 0.0.4
scrape of portex."""
import json
import math
import os
import shutil
import subprocess
import time

from metricslib import EDGES_US, Live, scrape, tmpfile
from promlib import Prometheus
from pxtest import Serve, check, finish, free_port, isolate, skip

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEPLOY_CONFIG = os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "portex-dashboard.json")
RANGE = "40000 40099"


def small_range():
    """In the test's own namespace: 100 ephemeral ports (else --port-range does it)."""
    if os.environ.get("PXTEST_ISOLATED") != "1":
        return ["--port-range", RANGE.replace(" ", "-")]
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write(RANGE)
    return []


def promtool_config():
    p = subprocess.run(["promtool", "check", "config", DEPLOY_CONFIG], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0 and "SUCCESS" in p.stdout,
          f"promtool check config passes on deploy/prometheus/prometheus.yml "
          f"({(p.stdout + p.stderr).strip()[:200]})")


def promtool_metrics(url):
    """A 0.0.4 scrape of a finished run passes promtool's parser and linter."""
    live = Live("run", "-n", "300", "-c", "4", "-q", "--metrics", "127.0.0.1:0",
                "--metrics-linger", "30s", url)
    check(live.url is not None, f"the run says where its metrics are ({live.stderr().strip()})")
    live.wait_for("serving the final")
    _, ctype, body = scrape(live.url, accept="text/plain;version=0.0.4")
    live.end(timeout=30)
    lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                          text=True, timeout=60)
    check(ctype.startswith("text/plain; version=0.0.4") and lint.returncode == 0 and
          lint.stdout.strip() == "" and lint.stderr.strip() == "",
          f"promtool check metrics passes on a 0.0.4 scrape (rc {lint.returncode}: "
          f"{(lint.stdout + lint.stderr).strip()[:300]})")


def interval(us):
    """The le interval holding a value of whole us (values under an edge count under it)."""
    return next((k for k, e in enumerate(EDGES_US) if us < e), len(EDGES_US))


def prom_interval(seconds):
    """The le interval Prometheus's answer lies in: (edge k-1, edge k]."""
    us = seconds * 1e6
    return next((k for k, e in enumerate(EDGES_US) if us <= e + 1e-6), len(EDGES_US))


def dashboard_queries(prom, at):
    """Every query of the dashboard, its variables set as Grafana would (All, no shard)."""
    with open(DASHBOARD) as f:
        d = json.load(f)
    exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
    bad = []
    for e in exprs:
        q = e.replace("$mode", ".*").replace("$shard", "").replace("$__rate_interval", "4s")
        r = prom.query(q, at)
        finite = [s for s in (r or []) if math.isfinite(float(s["value"][1]))]
        if not finite and "ceiling" not in q:
            bad.append(f"{q} -> {r}")
    check(exprs and not bad, f"each of the dashboard's {len(exprs)} queries answers ({bad[:2]})")


def against_prometheus(prom, target, url):
    """The run, then Prometheus's view of it beside the JSON."""
    out = tmpfile("run.json")
    live = Live("run", "--metrics", target, *small_range(), "-r", "1000", "-d", "3s", "-q",
                "--json", out, url)
    live.wait_for("serving the final", timeout=120)
    t0 = time.monotonic()
    rc, _, _ = live.end(timeout=60)
    took = time.monotonic() - t0
    check(rc == 0, f"the run exits 0 ({rc}: {live.stderr().strip()[-300:]})")
    check(took < 4, f"Prometheus's scrape took the final values before the 5 s linger ran out "
          f"(after {took:.1f} s)")
    with open(out) as f:
        doc = json.load(f)
    s = doc["summary"]
    ea = s["errors"].get("EADDRNOTAVAIL", 0)
    check(ea > 0, f"100 ports: the run had EADDRNOTAVAIL ({ea})")
    for expr, want in (("portex_requests_total", s["requests"]),
                       ('portex_failures_total{cause="EADDRNOTAVAIL"}', ea),
                       ('portex_latency_seconds_count{phase="total"}',
                        s["latency_us"]["total"]["count"]),
                       ("portex_ok_total", s["ok"])):
        got = prom.until_equal(expr, float(want))
        check(got == want, f"Prometheus: {expr} = {got}, the JSON says {want}")
    last = doc["result"]["t0_unix_ns"] / 1e9 + doc["series"][-1]["t"]
    for q in ("50", "90", "99"):
        x = prom.scalar(f'histogram_quantile(0.{q}, portex_latency_seconds_bucket'
                        f'{{phase="total"}})')
        mine = s["latency_us"]["total"][f"p{q}"]
        check(x is not None and prom_interval(x) == interval(mine),
              f"p{q}: Prometheus {x and round(x * 1e6)} us and portex {mine} us lie in one le "
              f"interval ({x and prom_interval(x)}, {interval(mine)})")
    dashboard_queries(prom, last)


def main():
    missing = [t for t in ("prometheus", "promtool") if shutil.which(t) is None]
    if missing:
        skip(f"{', '.join(missing)} not installed (scripts/setup.sh installs Debian's prometheus)")
    isolate()
    promtool_config()
    # In a namespace of our own the ports are ours to name, outside the 100 of the run.
    isolated = os.environ.get("PXTEST_ISOLATED") == "1"
    metrics_port, prom_port = (19473, 19090) if isolated else (free_port(), free_port())
    srv = Serve()
    target = f"127.0.0.1:{metrics_port}"
    prom = Prometheus(f"127.0.0.1:{prom_port}", [target])
    try:
        # First, while the namespace's ports are free: bind(port 0) needs one too.
        promtool_metrics(srv.url)
        check(prom.wait_targets(1), "Prometheus lists the portex target before the run starts")
        against_prometheus(prom, target, srv.url)
    finally:
        rc = prom.stop()
        srv.stop()
    check(rc == 0, f"Prometheus stopped by SIGTERM to its PID exits 0 ({rc})")
    finish()


if __name__ == "__main__":
    main()
