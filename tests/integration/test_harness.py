# SPDX-License-Identifier: MIT
"""The test harness itself: every process a test starts (spawn, subprocess.run, a bare Popen)
dies with the test, on every path."""
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pxtest import PORTEX, can_run, check, finish, spawn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# A test that starts `portex serve`, says its PID, then fails in the way given as argv[2].
CHILD = textwrap.dedent(r"""
    import os, sys, time
    sys.argv = [sys.argv[0], sys.argv[1], *sys.argv[3:]]
    how = os.environ["HOW"]
    import subprocess
    import pxtest
    if how == "bare":  # a plain subprocess.Popen, as subprocess.run makes
        print(subprocess.Popen(["sleep", "60"]).pid, flush=True)
        time.sleep(60)
    if how == "netns":  # a script's background server, as test_stats and test_compare start
        # The script has a /proc of its own PID namespace: the server is found from outside
        # by a mark in its environment, and its PID read from the host's /proc.
        mark = os.environ["PIDFILE"]
        script = ('PX_HARNESS_MARK="$2" "$1" serve --listen 127.0.0.1:8080 -t 1 '
                  '>/dev/null 2>&1 &\nsleep 60\n')
        import threading
        threading.Thread(target=pxtest.in_new_netns, args=(script, sys.argv[1], mark),
                         daemon=True).start()
        want = f"PX_HARNESS_MARK={mark}".encode()
        for _ in range(200):
            found = []
            for d in os.listdir("/proc"):
                try:
                    with open(f"/proc/{d}/environ", "rb") as f:
                        if want in f.read().split(b"\0"):
                            found.append(d)
                except (OSError, ValueError):
                    pass
            if found:
                break
            time.sleep(0.05)
        print(found[0] if found else "none", flush=True)
        time.sleep(60)
    srv = pxtest.Serve()
    print(srv.proc.pid, flush=True)
    if how == "raise":
        raise RuntimeError("a test that raised")
    time.sleep(60)  # killed from outside
""")


def alive(pid):
    """True while pid runs (a zombie is not running: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pid, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def serve_dies_with(how, env=None):
    p = spawn([sys.executable, "-c", CHILD, PORTEX, how], cwd=HERE,
              env=dict(os.environ, HOW=how, **(env or {})), stdout=subprocess.PIPE,
              stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    check(line.isdigit(), f"{how}: the test started portex serve ({line!r})")
    if not line.isdigit():
        return
    pid = int(line)
    if how in ("sigkill", "bare", "netns"):
        p.kill()
    p.wait(timeout=30)
    ok = gone_within(pid, 5)
    check(ok, f"{how}: the test's portex serve (pid {pid}) ended with the test")
    if not ok:
        os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    serve_dies_with("raise")
    serve_dies_with("sigkill")
    serve_dies_with("bare")
    # A server that a namespace script started in the background (in_new_netns) is a
    # grandchild: it survived a SIGKILL of the test and kept the namespace alive.
    if can_run("a namespace script's server", root=True, tools=("unshare",)):
        with tempfile.TemporaryDirectory(prefix="px-harness-") as tmp:
            serve_dies_with("netns", {"PIDFILE": os.path.join(tmp, "pid")})
    finish()
