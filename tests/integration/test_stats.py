# SPDX-License-Identifier: MIT
"""The stats thread: EADDRNOTAVAIL, TIME_WAIT, the series and the live line."""
import json
import os
import shutil
import subprocess

from pxtest import PORTEX, Serve, check, finish, run


def series_sums(doc):
    rows = doc["series"]
    return {k: sum(r[k] for r in rows) for k in ("started", "ok", "failed", "eaddrnotavail")}


def port_range_exhaustion():
    # 100 ports, 1000/s, client closes first: the ports run out within 0.1 s.
    srv = Serve()
    rc, doc, err = run("--port-range", "40000-40099", "-r", "1000", "-d", "3s", "-q", srv.url)
    rc2, again, _ = run("-k", "-n", "10", "-c", "1", "-q", srv.url)
    srv.stop()
    s = doc["summary"]
    check(s["time_wait_at_start"] == 0, f"a fresh target: no TIME_WAIT at start ({s['time_wait_at_start']})")
    check(90 <= again["summary"]["time_wait_at_start"] <= 110,
          f"the next run sees the first run's TIME_WAIT at start ({again['summary']['time_wait_at_start']})")
    e = s["errors"].get("EADDRNOTAVAIL", 0)
    check(e > 0, f"100 ports at 1000/s: EADDRNOTAVAIL > 0 ({e})")
    check(s["first_eaddrnotavail_s"] is not None and s["first_eaddrnotavail_s"] < 0.5,
          f"first EADDRNOTAVAIL before 0.5 s ({s['first_eaddrnotavail_s']})")
    check(90 <= s["time_wait_peak"] <= 110, f"TIME_WAIT peak within [90, 110] ({s['time_wait_peak']})")
    check(s["usable_ports"] == 100, f"usable_ports is 100 ({s['usable_ports']})")
    bound = s["usable_ports"] + s["predicted_ceiling_per_s"] * s["duration_s"]
    check(s["usable_ports"] <= s["ok"] <= bound * 1.05,
          f"ok within the predicted bound: 100 <= {s['ok']} <= {bound:.0f}")
    check("ports ran out" in s["diagnosis"], "diagnosis says the ports ran out")
    check("fin_timeout" not in s["ceiling_formula"] and "recycle" not in s["diagnosis"],
          "no myths in the formula or diagnosis")
    rows = doc["series"]
    check(3 <= len(rows) <= 4, f"3 s at 1 s ticks: 3 rows +/- 1 ({len(rows)})")
    sums = series_sums(doc)
    check(sums["ok"] == s["ok"] and sums["failed"] == s["failed"] and sums["eaddrnotavail"] == e,
          f"series sums equal the summary ({sums} vs ok {s['ok']} failed {s['failed']})")
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
    srv.stop()
    s = doc["summary"]
    check(s["errors"].get("EADDRNOTAVAIL", 0) == 0 and s["ok"] >= 2900,
          f"keep-alive over 100 ports: no EADDRNOTAVAIL, {s['ok']} ok")
    check(s["first_eaddrnotavail_s"] is None, "first_eaddrnotavail_s is null")


def live_line_and_quiet():
    srv = Serve()
    p = subprocess.run([PORTEX, "run", "-d", "2s", "-c", "4", "--interval", "500ms", srv.url],
                       capture_output=True, text=True, timeout=60)
    q = subprocess.run([PORTEX, "run", "-d", "1s", "-c", "4", "-q", srv.url],
                       capture_output=True, text=True, timeout=60)
    srv.stop()
    lines = [l for l in p.stderr.splitlines() if "TIME_WAIT" in l and "new" in l]
    check(3 <= len(lines) <= 5, f"live line every 500 ms on stderr ({len(lines)} lines)")
    check("EADDRNOTAVAIL" in lines[0] and "in flight" in lines[0], "live line names its fields")
    check("in flight" not in p.stdout, "no live line on stdout")
    check(q.stderr.strip() == "", f"-q: nothing on stderr ({q.stderr.strip()[:80]!r})")


def csv_matches_json():
    srv = Serve()
    out = "/tmp/portex-test-series.csv"
    rc, doc, err = run("-d", "2s", "-c", "4", "-q", "--csv", out, srv.url)
    srv.stop()
    lines = open(out).read().strip().splitlines()
    os.unlink(out)
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
    check(s["ok"] == 100 and s["errors"] == {},
          f"2 sources x 50 ports carry 100 short requests ({s['ok']} ok, {s['errors']})")


NETNS_SCRIPT = r"""
set -e
ip link set lo up
echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
echo "40000 40199" > /proc/sys/net/ipv4/ip_local_port_range
"$1" serve --listen 127.0.0.1:8080 -t 1 2>/dev/null >/dev/null &
srv=$!
sleep 0.3
"$1" run -r 1000 -d 3s -q http://127.0.0.1:8080/ --json -
kill -TERM $srv
wait $srv || true
"""


def netns_no_reuse():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("note: not root, the namespace case (tcp_tw_reuse=0, 200 ports) is not run")
        return
    host_reuse = open("/proc/sys/net/ipv4/tcp_tw_reuse").read()
    p = subprocess.run(["unshare", "--net", "bash", "-c", NETNS_SCRIPT, "x", PORTEX],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"namespace run exits 0 ({p.stderr.strip()[:200]})")
    doc = json.loads(p.stdout)
    s = doc["summary"]
    check(198 <= s["ok"] <= 202, f"netns, tcp_tw_reuse=0, 200 ports: ok = 200 +/- 2 ({s['ok']})")
    check(doc["environment"]["sysctl"]["net.ipv4.tcp_tw_reuse"] == 0, "the run saw reuse 0")
    check(abs(s["predicted_ceiling_per_s"] - 200 / 60) < 0.1,
          f"predicted 200 / 60 s ({s['predicted_ceiling_per_s']})")
    check(open("/proc/sys/net/ipv4/tcp_tw_reuse").read() == host_reuse, "host tcp_tw_reuse untouched")


if __name__ == "__main__":
    port_range_exhaustion()
    keepalive_no_exhaustion()
    live_line_and_quiet()
    csv_matches_json()
    bad_source_and_range()
    sources_multiply_budget()
    netns_no_reuse()
    finish()
