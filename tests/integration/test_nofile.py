# SPDX-License-Identifier: MIT
"""The open-files limit: -c is lowered to the connections that fit beside what portex itself
holds (counted, not a fixed reserve), every one of them is used, and none fails with EMFILE.

Run under `prlimit --nofile=64:64` (soft and hard, so the run cannot raise it), as root and as
an unprivileged user (uid 65534), against `portex serve`."""
import json
import os
import re
import socket
import subprocess
import tempfile
import time

from metricslib import Live
from pxtest import PORTEX, RawServer, Serve, books, can_run, check, finish, skip_part, spawn

LIMIT = 64


def as_user():
    """The argv prefix that drops to uid 65534 (as root), or none (already a user)."""
    if os.geteuid() == 0:
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], "as uid 65534"
    return [], f"as uid {os.geteuid()}"


def limited_run(who, *args):
    """portex run under a 64-fd limit; (exit code, JSON or None, stderr)."""
    p = spawn([*who, "prlimit", f"--nofile={LIMIT}:{LIMIT}", PORTEX, "run", "-q", *args,
               "--json", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=120)
    doc = json.loads(out) if p.returncode == 0 and out.strip() else None
    return p.returncode, doc, err


def lowered_to(err):
    """The -c the message says the run uses, or None."""
    m = re.search(r"running with -c (\d+)", err)
    return int(m.group(1)) if m else None


def message(err):
    """portex's own line about the limit (the rest of stderr is the text report)."""
    return next((line for line in err.splitlines() if "open-files limit" in line), err[-300:])


def ran(name, rc, doc, err):
    good = rc == 0 and doc is not None
    check(good, f"{name}: run exits 0 under a {LIMIT}-fd limit ({rc})"
          + ("" if good else f": {err.strip()[-300:]}"))
    return good


def slow_keepalive(c):
    """Answers each request on a connection 100 ms late, and keeps the connection."""
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                data = c.recv(4096)
                if not data:
                    return
                buf += data
            buf = buf.split(b"\r\n\r\n", 1)[1]
            time.sleep(0.1)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        pass
    finally:
        c.close()


def keepalive_uses_every_connection_that_fits(who, name):
    """-k -n 2000 -c 500: each slot opens one connection and keeps it to the end, so the run
    holds as many sockets at once as -c says: all of them must open (no EMFILE)."""
    srv = Serve(threads=2)
    rc, doc, err = limited_run(who, "-c", "500", "-t", "2", "-k", "-n", "2000", srv.url)
    counts = srv.stop()
    if not ran(name, rc, doc, err):
        return
    n, s = lowered_to(err), doc["summary"]
    books(name, doc)
    # portex itself holds about a dozen: stdio, two event loops, the stats thread's netlink.
    check(n is not None and 48 <= n <= LIMIT - 3,
          f"{name}: -c lowered to what fits beside portex's own fds, about 50, not 1 ({n}: "
          f"{message(err)!r})")
    check(doc["config"]["connections"] == n, f"{name}: the run used the -c it named "
          f"({doc['config']['connections']} vs {n})")
    check(s["connections_opened"] == n and counts["accepted"] == n,
          f"{name}: every one of the {n} connections opened and was kept "
          f"({s['connections_opened']} opened, server accepted {counts['accepted']})")
    check(s["ok"] == 2000 and s["failed"] == 0 and not s["errors"],
          f"{name}: 2000 ok, no EMFILE or any other error ({s['ok']}, {s['errors']})")
    words = ("does not fit the open-files limit", f"soft {LIMIT}", "open now",
             "event loop", "sock_diag")
    check(all(w in err for w in words),
          f"{name}: the message says what fit and what the other fds are ({message(err)!r})")


def open_model_and_output_files(who, name, tmp):
    """The open model (a timerfd more per event loop) with two output files opened before
    the load, against a server that answers 100 ms late: 1000 starts/s keep every slot
    busy, so every connection that fits is open at once; none fails with EMFILE."""
    srv = RawServer(slow_keepalive)
    csv_path = os.path.join(tmp, "run.csv")
    svg_path = os.path.join(tmp, "run.svg")
    rc, doc, err = limited_run(who, "-c", "500", "-t", "2", "-k", "-r", "1000", "-d", "1s",
                               "--timeout", "5s", "--csv", csv_path, "--svg", svg_path, srv.url)
    srv.stop()
    if not ran(name, rc, doc, err):
        return
    n, s = lowered_to(err), doc["summary"]
    books(name, doc, 1000)
    check(n is not None and doc["config"]["connections"] == n and "2 output files" in err,
          f"{name}: -c lowered, the two output files counted ({n}: {message(err)!r})")
    check(n is not None and 44 <= n <= LIMIT - 5 and s["connections_opened"] == n,
          f"{name}: all {n} connections open at once, about 45 ({s['connections_opened']})")
    check(s["failed"] == 0 and s["ok"] == s["requests"] and s["missed_starts"] > 0,
          f"{name}: every request ok, no EMFILE, the rest missed starts ({s['ok']} ok, "
          f"{s['errors']}, {s['missed_starts']} missed)")
    # An fd short here fails no request: the stats thread's reads would say -1 instead.
    check(all(r["time_wait"] >= 0 and r["time_wait_all"] >= 0 for r in doc["series"]),
          f"{name}: the stats thread's sock_diag and /proc reads all succeeded at the limit")
    check(os.path.getsize(csv_path) > 0 and os.path.getsize(svg_path) > 0,
          f"{name}: both output files written")


def metrics_scrapers_counted(who, name):
    """--metrics: the endpoint's fds are open before the reserve is counted and its scrapers'
    16 are reserved, so 20 idle scraper connections held through the run (16 accepted, the
    rest left in the backlog) take no fd a connection of the load needed."""
    srv = RawServer(slow_keepalive)
    live = Live("run", "-q", "-c", "500", "-t", "2", "-k", "-r", "1000", "-d", "2s",
                "--timeout", "5s", "--metrics", "127.0.0.1:0", "--metrics-linger", "0",
                "--json", "-", srv.url, wrap=[*who, "prlimit", f"--nofile={LIMIT}:{LIMIT}"])
    port = int(live.url.split(":")[2].split("/")[0]) if live.url else 0
    idle = []
    for _ in range(20 if port else 0):
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        idle.append(c)
    rc, out, _ = live.end(timeout=120)
    for c in idle:
        c.close()
    srv.stop()
    err = live.stderr()
    doc = json.loads(out) if rc == 0 and out.strip() else None
    if not ran(name, rc, doc, err):
        return
    n, s = lowered_to(err), doc["summary"]
    check(n is not None and "16 for --metrics scrapers" in err,
          f"{name}: the message counts the scrapers' fds ({message(err)!r})")
    check(s["connections_opened"] == n and s["failed"] == 0 and s["ok"] == s["requests"],
          f"{name}: all {n} connections opened beside 20 idle scrapers, no EMFILE "
          f"({s['connections_opened']} opened, {s['errors']})")
    check(all(r["time_wait"] >= 0 for r in doc["series"]),
          f"{name}: the stats thread's sock_diag reads all succeeded")


def a_limit_that_fits_no_connection(who, name):
    """-c 500 under 8 and 4 fds: not one connection fits beside what portex holds (about a
    dozen), so the run is refused with the limit it needs, exit 1, before any connection.
    It used to run with -c 1 anyway: every request failed with EMFILE, or the stats thread
    lost its sock_diag socket; under 4 fds libevent exited the process from inside."""
    srv = Serve(threads=1)
    for limit in (8, 4):
        p = spawn([*who, "prlimit", f"--nofile={limit}:{limit}", PORTEX, "run", "-q", "-c", "500",
                   "-n", "20", "--json", "-", srv.url], stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(timeout=60)
        need = re.search(r"raise 'ulimit -n' to at least (\d+)$", err.strip())
        check(p.returncode == 1 and out == "" and err.count("\n") == 1 and need and
              f"the open-files limit (soft {limit}, hard {limit}) leaves no fd for a connection"
              in err, f"{name}, {limit} fds: refused in one line with the limit it needs, exit 1 "
              f"({p.returncode}, {err.strip()!r}, stdout {out[:80]!r})")
        if need:
            p = spawn([*who, "prlimit", f"--nofile={need.group(1)}:{need.group(1)}", PORTEX,
                       "run", "-q", "-c", "500", "-n", "20", "--json", "-", srv.url],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = p.communicate(timeout=60)
            check(p.returncode == 0 and "running with -c 1 -t 1" in err,
                  f"{name}: under the {need.group(1)} it names, one connection runs "
                  f"({p.returncode}, {message(err)!r})")
    counts = srv.stop()
    check(counts["accepted"] == 40,
          f"{name}: only the two runs that fit reached the server, 20 each ({counts['accepted']})")


def main():
    if not can_run("the 64-fd limit", tools=("prlimit",)):
        finish()
    runs = [([], f"as uid {os.geteuid()}" + (" (root)" if os.geteuid() == 0 else ""))]
    who, name = as_user()
    if not who:
        skip_part("the 64-fd limit as root", "needs root; CI runs as root")
    elif can_run("the 64-fd limit as uid 65534", tools=("setpriv",)):
        runs.append((who, name))
    for who, name in runs:
        a_limit_that_fits_no_connection(who, name)
        keepalive_uses_every_connection_that_fits(who, f"-k {name}")
        with tempfile.TemporaryDirectory(prefix="px-nofile-") as tmp:
            os.chmod(tmp, 0o777)  # this test's own directory: uid 65534 writes its files here
            open_model_and_output_files(who, f"-r {name}", tmp)
        metrics_scrapers_counted(who, f"--metrics {name}")
    finish()


if __name__ == "__main__":
    main()
