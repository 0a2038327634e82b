# SPDX-License-Identifier: MIT
"""portex run against portex serve on loopback: counts, models, close modes, errors."""
import re
import signal
import socket
import subprocess
import time

from pxtest import (PORTEX, RawServer, Serve, books, check, finish, free_port, portex, run,
                    skip_part, spawn)


def short_mode_one_connection_per_request():
    srv = Serve(threads=2)
    rc, doc, err = run("-n", "3000", "-c", "16", "-t", "2", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    check(rc == 0, "short run exits 0")
    books("-n 3000 short", doc)
    check(s["requests"] == 3000 and s["ok"] == 3000, f"-n 3000 gives 3000 ok (got {s['ok']})")
    check(s["connections_opened"] == 3000, f"one connection per request ({s['connections_opened']})")
    check(counts["accepted"] == 3000, f"server accepted 3000 ({counts['accepted']})")
    check(counts["requests"] == 3000, f"server answered 3000 ({counts['requests']})")
    check(doc["config"]["mode"] == "short" and doc["config"]["close"] == "client",
          "config says short, client closes")
    lat = s["latency_us"]["total"]
    check(lat["count"] == 3000 and 0 < lat["p50"] <= lat["p99"] <= lat["max"],
          f"latency percentiles ordered ({lat['p50']} <= {lat['p99']} <= {lat['max']})")


def keepalive_reuses_connections():
    srv = Serve(threads=2)
    rc, doc, _ = run("-k", "-c", "8", "-t", "2", "-d", "2s", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    books("-k -c 8 -d 2s", doc)
    check(s["connections_opened"] == 8, f"-k -c 8 opens 8 connections ({s['connections_opened']})")
    check(counts["accepted"] == 8, f"server accepted 8 ({counts['accepted']})")
    # More requests than connections is reuse; how many more is the bench's business.
    check(s["ok"] > 8 and s["failed"] == 0,
          f"8 connections carry more than 8 requests, none fails ({s['ok']}, {s['failed']})")
    check(counts["requests"] == s["requests"],
          f"server answered every request ({counts['requests']}, {s['requests']})")
    check(doc["config"]["mode"] == "keepalive", "config says keepalive")


def exact_count_with_n():
    srv = Serve()
    rc, doc, _ = run("-n", "5000", "-c", "32", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    books("-n 5000", doc)
    check(s["requests"] == 5000 and s["ok"] == 5000,
          f"-n 5000 gives exactly 5000, all ok ({s['requests']}, {s['ok']})")
    check(counts["accepted"] == s["connections_opened"] == 5000 and counts["requests"] == 5000,
          f"serve accepted and answered 5000 ({counts}, {s['connections_opened']} opened)")


def open_model_rate():
    srv = Serve()
    rc, doc, _ = run("-r", "500", "-d", "3s", "-c", "64", srv.url)
    counts = srv.stop()
    s = doc["summary"]
    # The timetable has exactly 500 x 3 = 1500 starts in the window, however busy the machine:
    # each is a request or, with all 64 slots in flight, a missed start.
    books("-r 500 -d 3s", doc, 1500)
    check(s["failed"] == 0 and s["ok"] > 0, f"against serve nothing fails ({s['ok']} ok, {s['errors']})")
    check(counts["accepted"] == s["connections_opened"] == s["requests"] and
          counts["requests"] == s["ok"],
          f"one connection per request, each accepted and answered ({counts}, {s['connections_opened']})")
    check(doc["config"]["rate_per_s"] == 500, "config rate_per_s is 500")


def open_model_missed_starts():
    srv = Serve()
    rc, doc, _ = run("-r", "20000", "-d", "1s", "-c", "1", "-t", "1", srv.url)
    srv.stop()
    s = doc["summary"]
    check(s["missed_starts"] > 0, f"-c 1 at 20000/s counts missed starts ({s['missed_starts']})")
    books("-r 20000 -d 1s -c 1", doc, 20000)


def close_server_and_rst():
    for mode in ("server", "rst"):
        srv = Serve()
        rc, doc, _ = run("-n", "500", "-c", "8", "--close", mode, srv.url)
        counts = srv.stop()
        s = doc["summary"]
        books(f"--close {mode}", doc)
        check(s["ok"] == 500 and counts["accepted"] == 500,
              f"--close {mode}: 500 ok over 500 connections ({s['ok']}, {counts['accepted']})")


def refused_port():
    port = free_port()
    rc, doc, _ = run("-n", "200", "-c", "4", f"http://127.0.0.1:{port}/")
    s = doc["summary"]
    books("closed port", doc)
    check(s["errors"] == {"ECONNREFUSED": 200}, f"closed port: only ECONNREFUSED, 200 ({s['errors']})")
    check(s["ok"] == 0 and s["failed"] == 200, "closed port: 0 ok, 200 failed")


def garbage_server():
    def garbage(c):
        try:
            c.recv(4096)
            c.sendall(b"SSH-2.0-not-http\r\n\r\n")
            time.sleep(0.5)
            c.close()
        except OSError:
            pass
    srv = RawServer(garbage)
    rc, doc, _ = run("-n", "50", "-c", "5", srv.url)
    srv.stop()
    s = doc["summary"]
    books("garbage answers", doc)
    check(s["errors"] == {"parse_error": 50}, f"garbage answers: 50 parse errors ({s['errors']})")


def silent_server():
    def silent(c):
        time.sleep(5)
    srv = RawServer(silent)
    rc, doc, _ = run("-n", "10", "-c", "5", "--timeout", "300ms", srv.url)
    srv.stop()
    s = doc["summary"]
    books("silent server", doc)
    check(s["errors"] == {"request_timeout": 10}, f"silent server: 10 request timeouts ({s['errors']})")


def closing_server():
    def close_at_once(c):
        c.recv(4096)
        c.close()
    srv = RawServer(close_at_once)
    rc, doc, _ = run("-n", "40", "-c", "4", srv.url)
    srv.stop()
    s = doc["summary"]
    books("closing server", doc)
    bad = {k: v for k, v in s["errors"].items() if k not in ("closed_before_response", "ECONNRESET")}
    check(s["failed"] == 40 and not bad, f"server closing before answering: 40 closes ({s['errors']})")


def http_status_classes():
    def answer_503(c):
        c.recv(4096)
        c.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")
        time.sleep(0.2)
        c.close()
    srv = RawServer(answer_503)
    rc, doc, _ = run("-n", "30", "-c", "3", srv.url)
    srv.stop()
    s = doc["summary"]
    books("503 answers", doc)
    check(s["http_status"]["5xx"] == 30 and s["failed"] == 30 and s["errors"] == {},
          f"503 answers count as 5xx failures ({s['http_status']}, {s['errors']})")


def sigint_still_reports():
    srv = Serve()
    p = spawn([PORTEX, "run", "-d", "30s", "-c", "4", srv.url, "--json", "-"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=15)
    srv.stop()
    import json
    doc = json.loads(out)
    check(time.time() - t0 < 5, "SIGINT ends the run within 5 s")
    check(doc["summary"]["ok"] > 0 and doc["summary"]["duration_s"] < 5,
          f"SIGINT: summary of what was done ({doc['summary']['ok']} ok)")


def bad_input():
    cases = [
        (["run"], "missing URL"),
        (["run", "gopher://127.0.0.1/"], "expected http:// or https://"),
        (["run", "http://127.0.0.1:0/"], "1-65535"),
        (["run", "http://127.0.0.1:70000/"], "'70000'"),
        (["run", "-c", "0", "http://127.0.0.1/"], "'0'"),
        (["run", "-r", "0", "http://127.0.0.1/"], "'0'"),
        (["run", "-d", "-1s", "http://127.0.0.1/"], "'-1s'"),
        (["run", "-H", "nocolon", "http://127.0.0.1/"], "'nocolon'"),
        (["run", "--body", "@/no/such/file", "http://127.0.0.1/"], "/no/such/file"),
        (["run", "--frobnicate", "http://127.0.0.1/"], "--frobnicate"),
        (["serve", "--listen", "bogus"], "'bogus'"),
        (["nosuchcommand"], "nosuchcommand"),
    ]
    for args, needle in cases:
        p = portex(*args)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and needle in p.stderr,
              f"{' '.join(args)}: exit 2, one line naming {needle} (rc {p.returncode}: {p.stderr.strip()})")
    p = portex("run", "-n", "1", "http://no-such-host.invalid/")
    check(p.returncode == 1 and "cannot resolve" in p.stderr,
          f"unresolvable host: exit 1 ({p.returncode}: {p.stderr.strip()})")
    for cmd in ("run", "serve"):
        p = portex(cmd, "--help")
        check(p.returncode == 0 and "usage: portex " + cmd in p.stdout, f"{cmd} --help")


def nofile_limit_lowers_c():
    srv = Serve()
    p = subprocess.run(["bash", "-c", 'ulimit -n 100 && exec "$0" run -q -c 500 -t 2 -n 300 --json - "$1"',
                        PORTEX, srv.url], capture_output=True, text=True, timeout=60)
    srv.stop()
    import json
    doc = json.loads(p.stdout)
    m = re.search(r"running with -c (\d+)", p.stderr)
    n = int(m.group(1)) if m else None
    # Besides its connections portex holds about a dozen fds (test_nofile.py counts them).
    check("-c 500 does not fit the open-files limit" in p.stderr and n is not None and 80 <= n < 100,
          f"fd limit 100: says -c 500 does not fit and lowers it ({p.stderr.strip()})")
    check(doc["config"]["connections"] == n and doc["summary"]["ok"] == 300,
          f"fd limit 100: runs with -c {n}, 300 ok ({doc['config']['connections']}, {doc['summary']['ok']})")


def ipv6_target():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError as e:
        skip_part("the IPv6 target case", f"cannot bind ::1: {e}")
        return
    p = spawn([PORTEX, "serve", "--listen", "[::1]:0", "-t", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    port = int(line.rsplit(":", 1)[1].split()[0])
    rc, doc, _ = run("-n", "100", "-c", "4", f"http://[::1]:{port}/")
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=10)
    check(doc["summary"]["ok"] == 100, f"IPv6 target: 100 ok ({doc['summary']['ok']})")


if __name__ == "__main__":
    short_mode_one_connection_per_request()
    keepalive_reuses_connections()
    exact_count_with_n()
    open_model_rate()
    open_model_missed_starts()
    close_server_and_rst()
    refused_port()
    garbage_server()
    silent_server()
    closing_server()
    http_status_classes()
    sigint_still_reports()
    bad_input()
    nofile_limit_lowers_c()
    ipv6_target()
    finish()
