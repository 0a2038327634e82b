# SPDX-License-Identifier: MIT
"""The stats thread: EADDRNOTAVAIL, TIME_WAIT, the series and the live line."""
import json
import math
import os
import subprocess
import tempfile

from pxtest import (PORTEX, WAIT_LISTEN, Serve, books, can_run, check, finish, in_new_netns,
                    isolate, reuse_bound, run)


def series_ticks(name, doc, interval_s):
    # One row per whole interval, then the closing row at the end of the run.
    rows = doc["series"]
    ts = [r["t"] for r in rows]
    check(len(rows) >= 2 and ts == sorted(ts) and len(rows) - 1 <= math.floor(ts[-1] / interval_s)
          and ts[-1] >= doc["summary"]["duration_s"] - 0.01,
          f"{name}: a row per {interval_s} s tick and a closing row ({len(rows)} rows, t = {ts})")


def port_range_exhaustion():
    # 100 ports, 1000/s, client closes first: the ports run out within 0.1 s.
    srv = Serve()
    rc, doc, err = run("--port-range", "40000-40099", "-r", "1000", "-d", "3s", "-q", srv.url)
    rc2, again, _ = run("-k", "-n", "10", "-c", "1", "-q", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    books("100 ports at 1000/s", doc, 3000)
    check(s["time_wait_at_start"] == 0, f"a fresh target: no TIME_WAIT at start ({s['time_wait_at_start']})")
    e = s["errors"].get("EADDRNOTAVAIL", 0)
    check(s["failed"] == e, f"every failure is EADDRNOTAVAIL ({s['errors']})")
    # Each of the 100 ports ends its last connection in TIME_WAIT (60 s), and nothing
    # else in this namespace points at the target.
    check(again["summary"]["time_wait_at_start"] == 100,
          f"the next run sees the first run's 100 TIME_WAIT at start ({again['summary']['time_wait_at_start']})")
    check(counts["accepted"] == s["connections_opened"] + 1 and
          counts["requests"] == s["ok"] + again["summary"]["ok"],
          f"serve accepted every connection, answered every ok ({counts}, {s['connections_opened']} + 1)")
    # 3000 starts for at most 100 ports per reuse delay: the ports must run out.
    check(e > 0, f"100 ports at 1000/s: EADDRNOTAVAIL > 0 ({e})")
    check(s["first_eaddrnotavail_s"] is not None and
          0 <= s["first_eaddrnotavail_s"] <= doc["series"][-1]["t"],
          f"first EADDRNOTAVAIL within the run ({s['first_eaddrnotavail_s']})")
    check(s["time_wait_peak"] == 100, f"TIME_WAIT peak is the 100 ports ({s['time_wait_peak']})")
    check(s["usable_ports"] == 100, f"usable_ports is 100 ({s['usable_ports']})")
    # EADDRNOTAVAIL comes only once all 100 ports are taken, and with no other failure each
    # taken port carried an ok request; host loopback has tcp_tw_reuse=2 (a TIME_WAIT port
    # is reused after tcp_tw_reuse_delay, 1 s by default), which bounds it from above.
    delay = doc["environment"]["sysctl"].get("net.ipv4.tcp_tw_reuse_delay", 1000) / 1000
    most = reuse_bound(100, doc, delay)
    check(s["usable_ports"] <= s["ok"] <= most,
          f"ok between the ports and a port per reuse delay: 100 <= {s['ok']} <= {most}")
    check(s["connections_opened"] == s["ok"],
          f"each connection opened carried one ok request ({s['connections_opened']}, {s['ok']})")
    check("ports ran out" in s["diagnosis"], "diagnosis says the ports ran out")
    check("fin_timeout" not in s["ceiling_formula"] and "recycle" not in s["diagnosis"],
          "no myths in the formula or diagnosis")
    rows = doc["series"]
    series_ticks("100 ports at 1000/s", doc, 1.0)
    check(all(r["time_wait"] >= 0 for r in rows), "every row has a TIME_WAIT count")
    env = doc["environment"]
    check("net.ipv4.tcp_tw_reuse" in env["sysctl"] and env["nofile"]["hard"] > 0,
          "environment holds sysctls and limits")
    delay = os.path.exists("/proc/sys/net/ipv4/tcp_tw_reuse_delay")
    check(("net.ipv4.tcp_tw_reuse_delay" in env["sysctl"]) == delay,
          "tcp_tw_reuse_delay listed exactly where the kernel has it")


def keepalive_no_exhaustion():
    srv = Serve()
    rc, doc, err = run("-k", "--port-range", "40000-40099", "-r", "1000", "-d", "3s", "-q", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    books("keep-alive over 100 ports", doc, 3000)
    # At most -c 64 connections for 100 ports: no port can run out, nothing can fail.
    check(s["failed"] == 0 and s["errors"] == {},
          f"keep-alive over 100 ports: no failure, no EADDRNOTAVAIL ({s['errors']})")
    check(0 < s["connections_opened"] <= 64 and counts["accepted"] == s["connections_opened"],
          f"at most -c 64 connections, each accepted ({s['connections_opened']}, {counts['accepted']})")
    check(counts["requests"] == s["ok"], f"serve answered every request ({counts['requests']}, {s['ok']})")
    check(s["first_eaddrnotavail_s"] is None, "first_eaddrnotavail_s is null")


def live_line_and_quiet():
    srv = Serve()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "live.json")
        p = subprocess.run([PORTEX, "run", "-d", "2s", "-c", "4", "--interval", "500ms",
                            "--json", out, srv.url], capture_output=True, text=True, timeout=60)
        doc = json.load(open(out))
    q = subprocess.run([PORTEX, "run", "-d", "1s", "-c", "4", "-q", srv.url],
                       capture_output=True, text=True, timeout=60)
    srv.stop()
    lines = [l for l in p.stderr.splitlines() if "TIME_WAIT" in l and "new" in l]
    # Each tick prints the live line and adds a row; the closing row has no live line.
    check(len(lines) >= 1 and len(lines) == len(doc["series"]) - 1,
          f"a live line per 500 ms tick on stderr ({len(lines)} lines, {len(doc['series'])} rows)")
    series_ticks("-d 2s --interval 500ms", doc, 0.5)
    books("-d 2s --interval 500ms", doc)
    check("EADDRNOTAVAIL" in lines[0] and "in flight" in lines[0], "live line names its fields")
    check("in flight" not in p.stdout, "no live line on stdout")
    check(q.stderr.strip() == "", f"-q: nothing on stderr ({q.stderr.strip()[:80]!r})")


def csv_matches_json():
    srv = Serve()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "series.csv")
        rc, doc, err = run("-d", "2s", "-c", "4", "-q", "--csv", out, srv.url)
        lines = open(out).read().strip().splitlines()
    srv.stop()
    check(lines[0].startswith("t,started,ok,failed,eaddrnotavail"), "CSV header line")
    ok = sum(int(l.split(",")[2]) for l in lines[1:])
    check(len(lines) - 1 == len(doc["series"]) and ok == doc["summary"]["ok"],
          f"CSV rows add up to the summary ({ok} vs {doc['summary']['ok']})")


def bad_source_and_range():
    p = subprocess.run([PORTEX, "run", "--source", "192.0.2.77", "-n", "1", "http://127.0.0.1:9/"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "192.0.2.77" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
          f"non-local --source: exit 2 naming it ({p.returncode}: {p.stderr.strip()})")
    p = subprocess.run([PORTEX, "run", "--port-range", "5-4", "-n", "1", "http://127.0.0.1:9/"],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "'5-4'" in p.stderr, "bad --port-range: exit 2 naming it")


def sources_multiply_budget():
    srv = Serve()
    rc, doc, err = run("--port-range", "40000-40049", "--source", "127.0.0.2-127.0.0.3",
                       "-n", "100", "-c", "8", "-q", srv.url)
    srv.stop()
    s = doc["summary"]
    books("2 sources x 50 ports", doc)
    check(s["ok"] == 100 and s["errors"] == {},
          f"2 sources x 50 ports carry 100 short requests ({s['ok']} ok, {s['errors']})")


NETNS_SCRIPT = WAIT_LISTEN + r"""
set -e
ip link set lo up
echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
echo "40000 40199" > /proc/sys/net/ipv4/ip_local_port_range
"$1" serve --listen 127.0.0.1:8080 -t 1 2>/dev/null >/dev/null &
srv=$!
trap 'kill -TERM $srv 2>/dev/null' EXIT
wait_listen 8080
"$1" run -r 1000 -d 3s -q http://127.0.0.1:8080/ --json -
"""


def netns_no_reuse():
    if not can_run("the namespace case (tcp_tw_reuse=0, 200 ports)", root=True,
                   tools=("unshare", "ip", "ss")):
        return
    host_reuse = open("/proc/sys/net/ipv4/tcp_tw_reuse").read()
    p = in_new_netns(NETNS_SCRIPT, PORTEX, timeout=60)
    check(p.returncode == 0, f"namespace run exits 0 ({p.stderr.strip()[:200]})")
    doc = json.loads(p.stdout)
    s = doc["summary"]
    books("netns, tcp_tw_reuse=0, 200 ports", doc, 3000)
    # A fresh namespace, 200 ports, no reuse: each port carries exactly one connection.
    check(s["ok"] == 200 and s["connections_opened"] == 200 and
          s["failed"] == s["errors"].get("EADDRNOTAVAIL", 0),
          f"netns, tcp_tw_reuse=0, 200 ports: exactly 200 ok, the rest EADDRNOTAVAIL "
          f"({s['ok']}, {s['connections_opened']} opened, {s['errors']})")
    check(doc["environment"]["sysctl"]["net.ipv4.tcp_tw_reuse"] == 0, "the run saw reuse 0")
    check(abs(s["predicted_ceiling_per_s"] - 200 / 60) < 0.1,
          f"predicted 200 / 60 s ({s['predicted_ceiling_per_s']})")
    check(open("/proc/sys/net/ipv4/tcp_tw_reuse").read() == host_reuse, "host tcp_tw_reuse untouched")


if __name__ == "__main__":
    isolate()
    port_range_exhaustion()
    keepalive_no_exhaustion()
    live_line_and_quiet()
    csv_matches_json()
    bad_source_and_range()
    sources_multiply_budget()
    netns_no_reuse()
    finish()
