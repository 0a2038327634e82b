# SPDX-License-Identifier: MIT
"""Engine faults: connect errors other than EADDRNOTAVAIL, and rates over the load window."""
import os
import socket
import subprocess
import threading
import time
import json

from pxtest import PORTEX, RawServer, Serve, can_run, check, finish, run


def no_route_is_counted_not_crashed():
    """unshare -n with only lo up: connect() to 198.18.255.1 fails at once with ENETUNREACH.
    The closed model used to restart the slot from inside its own failure until the stack
    overflowed (exit 139)."""
    if not can_run("no-route namespace", root=True, tools=("unshare", "ip")):
        return
    for model in (["-c", "8", "-t", "2", "-d", "2s"], ["-r", "500", "-d", "2s", "-c", "8"],
                  ["-n", "300", "-c", "4"]):
        script = (f"ip link set lo up && exec {PORTEX} run -q {' '.join(model)} "
                  "--json - http://198.18.255.1/")
        p = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 0, f"{model}: exits 0 with no route (got {p.returncode})")
        if p.returncode != 0:
            continue
        s = json.loads(p.stdout)["summary"]
        check(s["ok"] == 0 and s["failed"] == s["requests"] and s["requests"] > 0,
              f"{model}: every attempt failed and was counted ({s['requests']})")
        check(set(s["errors"]) == {"ENETUNREACH"},
              f"{model}: counted by errno name ENETUNREACH ({s['errors']})")
        check(s["connections_opened"] == 0, f"{model}: no connection opened")
        if "-n" in model:
            check(s["requests"] == 300, f"-n 300 gives exactly 300 failures ({s['requests']})")
        if "-r" in model:
            check(s["requests"] + s["missed_starts"] == 1000,
                  f"-r 500 -d 2s: requests + missed == 1000 ({s['requests']}+{s['missed_starts']})")


def stalling_server(conn):
    """Answers every request; every 10th one only after 1.5 s."""
    state = stalling_server.counter
    try:
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = conn.recv(4096)
            if not d:
                return
            buf += d
        with state["lock"]:
            state["n"] += 1
            n = state["n"]
        if n % 10 == 0:
            time.sleep(1.5)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    except OSError:
        pass
    finally:
        conn.close()


stalling_server.counter = {"n": 0, "lock": threading.Lock()}


def rates_over_the_load_window():
    """-r 200 -d 3s against a server that stalls some requests: the drain after the load
    must not dilute the rate (it used to report ~120 req/s for an exact 200/s schedule)."""
    srv = RawServer(stalling_server)
    p = subprocess.run([PORTEX, "run", "-q", "-r", "200", "-d", "3s", "-c", "200",
                        "--close", "server", "--json", "-", srv.url],
                       capture_output=True, text=True, timeout=60)
    srv.stop()
    check(p.returncode == 0, f"run exits 0 ({p.returncode})" + ("" if p.returncode == 0 else p.stderr[-300:]))
    doc = json.loads(p.stdout)
    s = doc["summary"]
    check(s["requests"] + s["missed_starts"] == 600,
          f"exactly 600 starts scheduled in 3 s at 200/s ({s['requests']}+{s['missed_starts']})")
    check(s["requests"] == s["ok"] + s["failed"], "requests = ok + failed")
    check(abs(s["duration_s"] - 3.0) < 0.05, f"duration_s is the 3 s load window ({s['duration_s']})")
    check(s["drain_s"] > 0.5, f"the stalled requests drained after the window ({s['drain_s']})")
    check(abs(s["requests_per_s"] - s["requests"] / s["duration_s"]) < 1e-6,
          f"requests_per_s = requests / duration_s ({s['requests_per_s']})")
    check(abs(s["ok_per_s"] - s["ok"] / s["duration_s"]) < 1e-6, "ok_per_s = ok / duration_s")
    rows = doc["series"]
    check(any(r["drain"] for r in rows), "the series marks the drain rows")
    check(sum(r["started"] for r in rows) == s["requests"], "series rows add up to the requests")
    check(all(not r["drain"] for r in rows if r["t"] <= 3.0), "rows inside the window are not drain")


def n_runs_have_no_drain():
    srv = RawServer(stalling_server)
    p = subprocess.run([PORTEX, "run", "-q", "-n", "50", "-c", "5", "--close", "server",
                        "--json", "-", srv.url], capture_output=True, text=True, timeout=60)
    srv.stop()
    s = json.loads(p.stdout)["summary"]
    check(s["requests"] == 50 and s["ok"] == 50, f"-n 50 gives 50 ok ({s['ok']})")
    check(s["drain_s"] == 0, f"-n: the load window ends at the last completion ({s['drain_s']})")


def low_rate_window_lasts_d():
    """-r 2 -d 1500ms: starts at 0, 0.5 and 1.0 s, none after; the load window is still the
    1.5 s of -d (it used to end at the last start, so requests/s read 3/1.0 = 3.0, not 2.0)."""
    srv = Serve()
    rc, doc, err = run("-q", "-r", "2", "-d", "1500ms", "-c", "4", "-t", "1", srv.url)
    served = srv.stop()
    check(rc == 0 and doc is not None, f"-r 2 -d 1500ms exits 0 ({rc} {err[-200:]})")
    if doc is None:
        return
    s = doc["summary"]
    check(s["requests"] + s["missed_starts"] == 3 and served["requests"] == s["ok"],
          f"3 starts at 2/s in 1.5 s ({s['requests']}+{s['missed_starts']}, served {served})")
    check(abs(s["duration_s"] - 1.5) < 0.05, f"duration_s is the 1.5 s of -d ({s['duration_s']})")
    check(abs(s["requests_per_s"] - 2.0) < 0.1, f"requests_per_s is 2.0 ({s['requests_per_s']})")


if __name__ == "__main__":
    low_rate_window_lasts_d()
    rates_over_the_load_window()
    n_runs_have_no_drain()
    no_route_is_counted_not_crashed()
    finish()
