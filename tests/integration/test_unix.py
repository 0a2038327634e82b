# SPDX-License-Identifier: MIT
"""Unix-socket targets: serve on TCP and a Unix socket, run over the socket uses no port."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile

from pxtest import PORTEX, can_run, check, finish, in_new_netns, portex, run, spawn


class UnixServe:
    """`portex serve` on 127.0.0.1:0 and (or only) a Unix socket."""

    def __init__(self, path, tcp=True):
        listen = ["--listen", "127.0.0.1:0"] if tcp else []
        self.proc = spawn([PORTEX, "serve", *listen, "--listen", f"unix:{path}",
                                      "-t", "2"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.line = self.proc.stderr.readline()
        m = re.search(r"listening on ([\d.]+):(\d+) and unix:", self.line)
        self.port = int(m.group(2)) if m else None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=20)
        check(self.proc.returncode == 0, f"serve exits 0 on SIGTERM (got {self.proc.returncode})")
        return json.loads(out.strip().splitlines()[-1])


def run_over_unix_uses_no_port(d):
    path = os.path.join(d, "px.sock")
    srv = UnixServe(path)
    check(srv.port is not None, f"serve listens on TCP and the Unix socket ({srv.line.strip()})")
    rc, doc, err = run("-n", "2000", "-c", "16", "-t", "2", f"unix:{path}:/x")
    # Short connections at a high rate: nothing to exhaust.
    rc2, doc2, _ = run("-r", "3000", "-d", "1s", "-c", "64", "--unix", path,
                       f"http://127.0.0.1:{srv.port}/")
    counts = srv.stop()
    s = doc["summary"]
    check(rc == 0, "run unix:... exits 0" + ("" if rc == 0 else f" ({err.strip()[-300:]})"))
    check(s["requests"] == 2000 and s["ok"] == 2000, f"2000 ok over the Unix socket ({s['ok']})")
    check(s["connections_opened"] == 2000, f"2000 connections ({s['connections_opened']})")
    check(s["errors"] == {}, f"no error of any cause, EADDRNOTAVAIL included ({s['errors']})")
    check(s["time_wait_peak"] == 0 and all(r["time_wait"] == 0 for r in doc["series"]),
          f"no TIME_WAIT toward the target (peak {s['time_wait_peak']})")
    check(s["ports_involved"] is False and s["usable_ports"] == 0, "JSON: ports_involved false")
    check(s["predicted_ceiling_per_s"] is None and "not port-bound" in s["ceiling_formula"],
          f"prediction: {s['ceiling_formula']}")
    s2 = doc2["summary"]
    check(rc2 == 0 and s2["requests"] > 0 and s2["failed"] == 0 and s2["errors"] == {},
          f"--unix at 3000/s: {s2['requests']} requests, {s2['failed']} failed")
    check("EADDRNOTAVAIL" not in s2["errors"], "no EADDRNOTAVAIL at 3000 short connections/s")
    check(counts["accepted"] == 2000 + s2["connections_opened"],
          f"server accepted every connection ({counts['accepted']})")
    check(not os.path.exists(path), "serve removes its socket file at exit")
    rc3, doc3, _ = run("-n", "10", "-q", f"unix:{path}")
    check(rc3 == 0 and doc3["summary"]["errors"] == {"ENOENT": 10},
          f"a missing socket is counted by cause ({doc3['summary']['errors']})")


def text_report_says_no_ports(d):
    path = os.path.join(d, "only.sock")
    srv = UnixServe(path, tcp=False)
    check(f"listening on unix:{path}" in srv.line, f"serve --listen unix: only ({srv.line.strip()})")
    p = portex("run", "-n", "200", "-q", f"unix:{path}")
    bad = portex("run", "-n", "10", "--port-range", "40000-40100", f"unix:{path}")
    doc = portex("doctor", "--json", "-", f"unix:{path}")
    counts = srv.stop()
    dj = json.loads(doc.stdout)
    check(doc.returncode == 0 and dj["target"]["reached"] and dj["target"]["http_status"] == 200,
          "doctor reaches the Unix socket and gets 200")
    check(len(dj["ceilings"]) == 1 and dj["ceilings"][0]["per_s"] is None
          and "not port-bound" in dj["ceilings"][0]["formula"],
          f"doctor: one ceiling, not port-bound ({dj['ceilings']})")
    check(dj["target"]["address"] == f"unix:{path}", f"doctor names the socket ({dj['target']})")
    check(p.returncode == 0 and "no ports involved" in p.stdout, "text report: no ports involved")
    check("ports and TIME_WAIT" not in p.stdout, "no port/TIME_WAIT section")
    check(bad.returncode == 2 and "Unix-socket target" in bad.stderr,
          f"--port-range with a Unix socket is a usage error ({bad.stderr.strip()})")
    check(counts["accepted"] == 201, f"server accepted 200 + doctor's probe ({counts['accepted']})")


def stale_socket_replaced_other_files_kept(d):
    path = os.path.join(d, "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()  # a socket file nobody listens on: left by a killed server
    srv = UnixServe(path, tcp=False)
    check("listening on unix:" in srv.line, f"a stale socket file is replaced ({srv.line.strip()})")
    busy = UnixServe(path, tcp=False)
    busy.proc.wait(timeout=10)
    check(busy.proc.returncode == 1 and "already listens" in busy.line,
          f"a live socket is not taken over ({busy.line.strip()})")
    srv.stop()
    regular = os.path.join(d, "file.txt")
    with open(regular, "w") as f:
        f.write("keep me\n")
    other = UnixServe(regular, tcp=False)
    other.proc.wait(timeout=10)
    check(other.proc.returncode == 1 and "not a socket" in other.line,
          f"a regular file is refused ({other.line.strip()})")
    check(open(regular).read() == "keep me\n", "and left untouched")


def compare_control_mode(d):
    path = os.path.join(d, "cmp.sock")
    srv = UnixServe(path)
    p = portex("compare", "-n", "500", "-c", "8", "-t", "2", "-q", "--no-drain", "--modes",
               "short", "--control", f"unix:{path}", "--json", "-", f"http://127.0.0.1:{srv.port}/")
    counts = srv.stop()
    check(p.returncode == 0,
          "compare --control exits 0" + ("" if p.returncode == 0 else f" ({p.stderr[-300:]})"))
    modes = {m["name"]: m for m in json.loads(p.stdout)["modes"]}
    check(list(modes) == ["short", "unix-control"], f"modes short then unix-control ({list(modes)})")
    c = modes["unix-control"]["summary"]
    check(c["ok"] == 500 and c["connections_opened"] == 500 and c["errors"] == {},
          f"unix-control: 500 ok over 500 connections ({c['ok']}, {c['connections_opened']})")
    check(c["ports_involved"] is False and c["time_wait_peak"] == 0,
          "unix-control: no ports, no TIME_WAIT")
    check(modes["short"]["summary"]["ports_involved"] is True, "short: ports involved")
    check(counts["accepted"] == 1000, f"server accepted 500 + 500 ({counts['accepted']})")
    bad = portex("compare", "-n", "10", "--control", "/no/prefix.sock", "http://127.0.0.1:1/")
    check(bad.returncode == 2 and "unix:PATH" in bad.stderr,
          f"--control without unix: is a usage error ({bad.stderr.strip()})")


def ports_run_out_but_not_over_unix(d):
    """In a fresh namespace with 50 ports: TCP hits EADDRNOTAVAIL, the Unix socket does not."""
    if not can_run("ports run out but not over a Unix socket", root=True, tools=("unshare",)):
        return
    path = os.path.join(d, "ns.sock")
    script = f"""
set -e
ip link set lo up
sysctl -qw net.ipv4.ip_local_port_range="40000 40049"
sysctl -qw net.ipv4.tcp_tw_reuse=0
{PORTEX} serve --listen 127.0.0.1:18080 --listen unix:{path} -t 1 >/dev/null 2>&1 &
srv=$!
for i in $(seq 50); do [ -S {path} ] && break; sleep 0.1; done
{PORTEX} run -n 400 -c 4 -t 1 -q --json {d}/tcp.json http://127.0.0.1:18080/ >/dev/null
{PORTEX} run -n 400 -c 4 -t 1 -q --json {d}/unix.json unix:{path} >/dev/null
kill $srv; wait $srv || true
"""
    # in_new_netns: serve dies with the script whatever happens (set -e, a timeout, the
    # test killed); a bare `unshare -n bash` left it running in its namespace.
    p = in_new_netns(script, timeout=120)
    check(p.returncode == 0, f"namespace script ran ({p.stderr.strip()[-300:]})")
    tcp = json.load(open(os.path.join(d, "tcp.json")))["summary"]
    uni = json.load(open(os.path.join(d, "unix.json")))["summary"]
    check(tcp["errors"].get("EADDRNOTAVAIL", 0) > 0,
          f"TCP with 50 ports: EADDRNOTAVAIL {tcp['errors'].get('EADDRNOTAVAIL', 0)}")
    check(uni["ok"] == 400 and uni["errors"] == {} and uni["connections_opened"] == 400,
          f"the same load over the Unix socket: {uni['ok']} ok, errors {uni['errors']}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="portex-unix-") as d:
        run_over_unix_uses_no_port(d)
        text_report_says_no_ports(d)
        stale_socket_replaced_other_files_kept(d)
        compare_control_mode(d)
        ports_run_out_but_not_over_unix(d)
    finish()
